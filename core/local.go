package core

import "time"

// Local is the loop goroutine's fast path: the same operations as Loop's
// Post, AfterFunc, At and Every, and Timer's Stop and Reset, without the
// inbox. Local().Post appends to the loop's ready queue with no lock and no
// atomic read-modify-write (one atomic load checks for Close); Local timers
// need no message: the loop files the timers a callback scheduled when the
// callback returns, all at once (so a timeout scheduled and cancelled within
// one callback never touches the timer store), and Local().Stop takes a
// filed timer out of the store at once. Time bases: Local().AfterFunc,
// At and Every count from the call, as Loop's do; Local().Reset(t, d)
// counts d from the end of the running callback.
//
// Its methods may be called only from the goroutine running the loop, that
// is from inside a callback. Misuse is detected: every method panics when no
// goroutine is running the loop; the race detector reports a call from
// another goroutine while the loop runs; and with WithDebug every call checks
// the caller's goroutine and panics on a mismatch.
type Local struct {
	l *Loop

	// fast is inLoop && !WithDebug: every check passes without a look at
	// the Loop. Written with inLoop by the goroutine that takes or lets go
	// of the loop (acquire, release).
	fast bool
}

// Local returns the loop goroutine's fast path. The pointer is the same for
// the life of the Loop; obtaining it is free and safe anywhere, but its
// methods are for the loop goroutine only.
func (l *Loop) Local() *Local { return &l.local }

// check panics if the caller may not use the fast path. Inlined: one load
// and a branch unless something is wrong or WithDebug is on.
func (lc *Local) check(method string) {
	if !lc.fast {
		lc.checkSlow(method)
	}
}

func (lc *Local) checkSlow(method string) {
	l := lc.l
	if l == nil {
		(&Loop{}).mustNew() // the zero Loop's Local
	}
	other := "Loop." + method // what other goroutines call instead
	switch method {
	case "Stop", "Reset":
		other = "Timer." + method
	case "Callbacks", "TimersFired":
		other = "Loop.Stats()." + method
	case "StopPeriodic":
		other = "Loop.Do with Local().StopPeriodic"
	}
	if !l.inLoop {
		panic("hotloop: Local()." + method + " called while no goroutine runs the loop; use " + other + " from other goroutines")
	}
	if l.cfg.debug && l.runner.Load() != goid() {
		panic("hotloop: Local()." + method + " called from a goroutine other than the loop's; use " + other)
	}
}

// Post queues fn to run on the loop after the callbacks already queued. It
// returns ErrClosed once Close or Shutdown was called, and an error wrapping
// ErrNilFunc for a nil fn. Loop goroutine only. O(1) amortised, no
// allocation once the ready queue has grown to its working size.
func (lc *Local) Post(fn func()) error {
	lc.check("Post")
	if fn == nil {
		return badArg("Local().Post", ErrNilFunc)
	}
	l := lc.l
	if l.closing() {
		return ErrClosed
	}
	if stamp := l.postStamp(); stamp != 0 || !l.ready.tryPush(fn) {
		l.ready.push(fn, stamp) // sampled, or the ring must grow
	}
	return nil
}

// Callbacks returns how many posted callbacks (not timer callbacks) the
// loop has run, exactly: Stats().Callbacks as of now, without the running
// callback. Two readings from callbacks tell whether any other posted
// callback ran between them (package group's Shutdown uses it to see that
// its loops have gone quiet). Loop goroutine only. O(1).
func (lc *Local) Callbacks() uint64 {
	lc.check("Callbacks")
	return lc.l.counts.callbacks
}

// TimersFired returns how many timer callbacks the loop has started,
// exactly: Stats().TimersFired as of now. With Callbacks it tells whether
// the loop ran anything between two readings. Loop goroutine only. O(1).
func (lc *Local) TimersFired() uint64 {
	lc.check("TimersFired")
	return lc.l.counts.fired
}

// StopPeriodic stops every periodic timer of the loop (made by Every), as
// Shutdown does when it begins, and returns how many it stopped (they count
// in Stats().TimersCancelled). One-shot timers are left as they are. A
// periodic timer made afterwards runs as usual. Package group's Shutdown
// calls it when its drain begins, so that tickers do not keep the drain
// going. Loop goroutine only. O(n log n) for n timers pending.
func (lc *Local) StopPeriodic() int {
	lc.check("StopPeriodic")
	return lc.l.stopPeriodic()
}

// AfterFunc schedules fn to run once, after at least d; d <= 0 makes it due
// at once. See Loop.AfterFunc. The deadline is d from now, as with
// Loop.AfterFunc; the loop files the timer in its store when the running
// callback returns, so stopping it before then costs no store operation;
// Stop and Reset from any goroutine work on it at any time, before that
// too. Loop goroutine only. O(log n) for n pending timers with the heap
// (O(1) if stopped within the callback), O(1) with the wheel; it allocates
// the Timer.
func (lc *Local) AfterFunc(d time.Duration, fn func()) (*Timer, error) {
	lc.check("AfterFunc")
	return lc.l.newTimer("Local().AfterFunc", lc.l.deadline(d), 0, TickSkip, true, fn)
}

// At schedules fn to run once, at or after t. See Loop.At. Loop goroutine
// only. O(log n) with the heap, O(1) with the wheel; it allocates the Timer.
func (lc *Local) At(t time.Time, fn func()) (*Timer, error) {
	lc.check("At")
	if t.IsZero() {
		return nil, badArg("Local().At", errZeroTime)
	}
	return lc.l.newTimer("Local().At", lc.l.atDeadline(t), 0, TickSkip, true, fn)
}

// Every schedules fn to run every period, with an optional missed-tick
// policy. See Loop.Every. Loop goroutine only. O(log n) with the heap, O(1)
// with the wheel; it allocates the Timer.
func (lc *Local) Every(period time.Duration, fn func(), policy ...MissedTick) (*Timer, error) {
	lc.check("Every")
	if period <= 0 {
		return nil, badArg("Local().Every", ErrBadPeriod)
	}
	missed, err := missedTick("Local().Every", policy)
	if err != nil {
		return nil, err
	}
	return lc.l.newTimer("Local().Every", lc.l.deadline(period), int64(period), missed, true, fn)
}

// Stop is t.Stop() for the loop goroutine: it stops the timer and reports
// whether it was armed, exactly as Timer.Stop does, but takes the timer out
// of the store at once (or keeps it from being filed, if the running
// callback scheduled it) instead of sending the loop a message, so
// stopping many timers costs no inbox traffic. Loop goroutine only: it
// panics when no goroutine runs the loop, like every Local method. A timer
// of another Loop is stopped through Timer.Stop. O(log n) with the heap,
// O(1) with the wheel; no allocation.
func (lc *Local) Stop(t *Timer) bool {
	lc.check("Stop")
	if t == nil {
		return false
	}
	n := &t.n
	p := &n.Value
	if p.loop() != lc.l {
		return t.Stop() // another loop's, or never set up (false)
	}
	if _, ok := p.disarm(); !ok {
		return false
	}
	// The store is ours: take the timer out now. If it was not filed, a
	// message for it may still be on its way (rule 4 in timer.go); settle
	// will find it disarmed and do nothing.
	lc.l.timers.Remove(n)
	return true
}

// Reset is t.Reset(d) for the loop goroutine: the same semantics and
// report, at a fraction of the cost. It does not read the clock: for d > 0
// the deadline is d after the running callback returns (the loop reads the
// clock once then for all the Local().Resets the callback made), so the
// timer fires late by at most the rest of the callback, never early — and
// it takes its place among other timers as if it had been reset at the end
// of the callback. A d <= 0 makes it due at once, as Timer.Reset does. When
// it re-arms the timer or moves it earlier, the loop files it in the store
// itself, with no message. Loop goroutine only, like every Local
// method; a timer of another Loop is handed to Timer.Reset. It panics,
// as Timer.Reset does, on a Timer that was never set up. No allocation.
func (lc *Local) Reset(t *Timer, d time.Duration) bool {
	lc.check("Reset")
	l := lc.l
	if t.mustLoop("Local().Reset") != l {
		return t.Reset(d)
	}
	n := &t.n
	p := &n.Value
	if d <= 0 {
		// Due at once: now, read here (not clockLo, an earlier reading:
		// a periodic timer's later ticks count from this deadline, and
		// they must come one period after this call).
		old, new, ok := p.rearm(l.readClock())
		if ok && !new.filed() {
			l.settle(n)
		}
		return old.armed()
	}
	rd := min(int64(d), maxWhen)
	// clockLo, a clock reading taken before this call, plus d is the
	// earliest the new deadline can be (rearmRel keeps filed against it).
	old, new, ok := p.rearmRel(rd, addClamped(l.clockLo, rd))
	if !ok {
		return false
	}
	if !new.filed() {
		// Its place among equal deadlines is this call's: out of the
		// store, numbered now, and filed when the callback returns
		// (fileDeferred). A timer that stays filed is numbered when the
		// loop re-files it, as after Timer.Reset.
		l.timers.Remove(n)
		n.SetSeq(l.nextSeq())
	}
	if !old.rel() {
		l.deferred = append(l.deferred, n) // not on the list yet (rule 6)
	}
	return old.armed()
}
