package core

import "time"

// Local is the loop goroutine's fast path: the same operations as Loop's
// Post, AfterFunc, At and Every, and Timer.Stop, without the inbox.
// Local().Post appends to the loop's ready queue with no lock and no atomic
// read-modify-write (one atomic load checks for Close); Local timers go
// straight into the timer store from a private free list, and Local().Stop
// takes them straight out of it.
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
	if l.cfg.debug && l.runner.Load() != goid() {
		panic("hotloop: Local()." + method + " called from a goroutine other than the loop's; use Loop." + method)
	}
	if !l.inLoop {
		panic("hotloop: Local()." + method + " called while no goroutine runs the loop; use Loop." + method + " from other goroutines")
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
	if stamp := l.postStamp(); stamp == 0 {
		// The common case: a bare func in the ready queue, inlined.
		if !l.ready.fns.TryPushBack(fn) {
			l.ready.fns.PushBack(fn)
		}
	} else {
		l.ready.pushRare(entry{fn: fn, seq: stamp})
	}
	return nil
}

// AfterFunc schedules fn to run once, after at least d; d <= 0 runs it
// after the callbacks already queued. See Loop.AfterFunc. Loop goroutine
// only. O(log n) for n pending timers; no allocation in steady state.
func (lc *Local) AfterFunc(d time.Duration, fn func()) (Timer, error) {
	lc.check("AfterFunc")
	return lc.l.scheduleLocal("Local().AfterFunc", lc.l.deadline(d), 0, TickSkip, d <= 0, fn)
}

// At schedules fn to run once, at or after t. See Loop.At. Loop goroutine
// only. O(log n).
func (lc *Local) At(t time.Time, fn func()) (Timer, error) {
	lc.check("At")
	if t.IsZero() {
		return Timer{}, badArg("Local().At", errZeroTime)
	}
	return lc.l.scheduleLocal("Local().At", lc.l.atDeadline(t), 0, TickSkip, false, fn)
}

// Every schedules fn to run every period, with an optional missed-tick
// policy. See Loop.Every. Loop goroutine only. O(log n).
func (lc *Local) Every(period time.Duration, fn func(), policy ...MissedTick) (Timer, error) {
	lc.check("Every")
	if period <= 0 {
		return Timer{}, badArg("Local().Every", ErrBadPeriod)
	}
	missed, err := missedTick("Local().Every", policy)
	if err != nil {
		return Timer{}, err
	}
	return lc.l.scheduleLocal("Local().Every", lc.l.deadline(period), int64(period), missed, false, fn)
}

// Stop is t.Stop() for the loop goroutine: it prevents the timer from
// firing and reports whether that call prevented a call of its callback,
// exactly as Timer.Stop does, and a stale handle is as safe as there.
// Unlike Timer.Stop, which sends the loop a message (a push into the inbox,
// applied at the loop's next iteration), it takes the timer out of the
// store and recycles its node at once, so stopping many timers costs no
// inbox traffic. (A timer that another goroutine scheduled and the loop has
// not received yet is still stopped with a message.) Loop goroutine only:
// it panics when no goroutine runs the loop, like every Local method. A
// handle of another Loop's timer is stopped through Timer.Stop. O(1)
// amortised with either timer store; no allocation.
func (lc *Local) Stop(t Timer) bool {
	lc.check("Stop")
	n := t.n
	if n == nil {
		return false
	}
	l := lc.l
	p := &n.Value
	if p.loop != l {
		return t.Stop()
	}
	// The same decision as Timer.Stop (see the transition table in
	// timer.go): one CAS on the state word decides the race with other
	// goroutines' Stop and Reset, and with the loop's own fire, for this
	// generation; once it has succeeded, every other handle operation on
	// this generation fails.
	//
	// Where Timer.Stop moves to stStopped and sends opStop, for the loop to
	// remove and recycle the node at its next iteration, we are the loop:
	// we move straight to idle(g+1) and finish the node here. That is safe
	// unless an opAdd message for this generation is still in the inbox:
	// applying it would put the recycled node back into the store. A node
	// in the store has had its opAdd applied; a node scheduled by the loop
	// itself (shared false) never had one. (shared was written before the
	// state word became pending in this generation, so our load of the
	// state orders it before our read; only the loop recycles a node while
	// it runs, so it cannot change under us.) Out of the store, such a node
	// is a zero-delay timer in the ready queue, a periodic timer inside its
	// own callback, or a resetting timer that fire let go; the new
	// generation makes the ready queue (which compares Seq, which reuse
	// zeroes), fire (whose CAS running -> pending compares the whole word)
	// and any opReset or late message (which compare gen) leave the node
	// alone from now on, even once a new timer reuses it.
	var direct bool
	for {
		s := p.state.Load()
		if !stoppable(s, t.gen) {
			return false
		}
		direct = n.InStore() || !p.shared
		next := s&^statusMask | stStopped
		if direct {
			next = (t.gen + 1) << genShift // stIdle
		}
		if p.state.CompareAndSwap(s, next) {
			break
		}
	}
	if direct {
		l.timers.Remove(n)
		l.reuse(n)
		return true
	}
	// A timer scheduled by another goroutine and not yet in the store: its
	// opAdd message may still be ahead in the inbox. Send opStop behind it,
	// as Timer.Stop does.
	if m := (message{op: opStop, n: n, gen: t.gen}); !l.inbox.Push(m) {
		l.pushLate(m)
	}
	return true
}

// scheduleLocal inserts a timer directly. Loop goroutine only.
func (l *Loop) scheduleLocal(method string, when, period int64, missed MissedTick, immediate bool, fn func()) (Timer, error) {
	if fn == nil {
		return Timer{}, badArg(method, ErrNilFunc)
	}
	if l.closing() {
		return Timer{}, ErrClosed
	}
	var n *timerNode
	if k := len(l.free); k > 0 {
		n = l.free[k-1]
		l.free[k-1] = nil
		l.free = l.free[:k-1]
		if k-1 < l.freeLow {
			l.freeLow = k - 1
		}
	} else {
		n = l.pool.Get().(*timerNode)
	}
	p := &n.Value
	gen := p.state.Load() >> genShift
	p.fn = fn
	p.period = period
	p.missed = missed
	p.shared = false
	st := gen<<genShift | stPending
	if period > 0 {
		st |= periodicBit
	}
	p.state.Store(st)
	seq := l.nextSeq()
	if immediate {
		n.When = when
		n.Seq = seq
		l.ready.pushRare(entry{n: n, seq: seq})
	} else {
		l.timers.Update(n, when, seq)
	}
	return Timer{n: n, gen: gen}, nil
}
