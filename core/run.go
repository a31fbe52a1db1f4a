package core

import (
	"context"
	"runtime"

	"github.com/hotloop/hotloop/cache"
)

// Run runs the loop on the calling goroutine until ctx is done (it returns
// ctx.Err()), Pause is called (nil), or the loop is closed by Close or
// Shutdown (ErrClosed). After Pause or a done ctx, pending callbacks and
// timers are kept and Run may be called again. Posts are still accepted
// meanwhile: they wait, with the timers, until the next Run, Shutdown or
// Close runs them (Close runs accepted callbacks and cancels the timers).
// Only one Run may be active:
// a second concurrent call returns ErrRunning at once, as does Run while
// Shutdown runs the loop itself. Run on a closed loop, or while Close is
// finishing it, returns ErrClosed. After a Shutdown whose ctx ended before
// the shutdown completed, Run takes the loop over and runs it until the
// shutdown completes, then returns ErrClosed.
//
// A callback that calls runtime.Goexit (as t.FailNow does in a test) ends
// the calling goroutine inside Run: Run does not return, but the loop is
// released, and what remains runs at the next Run, Shutdown or Close. A
// panic that escapes the panic handler leaves Run the same way.
func (l *Loop) Run(ctx context.Context) error {
	l.mustNew()
	if ctx == nil {
		ctx = context.Background()
	}
	if !l.acquire() {
		if l.isDone() || l.control.Load()&ctlClose != 0 {
			return ErrClosed // Close is finishing the loop (perhaps on its own goroutine)
		}
		return ErrRunning
	}
	defer l.release()
	if l.isDone() {
		return ErrClosed
	}
	defer l.bindThread(ctx)() // WithPrecise: lock the thread, 1 ns slack, ctx kicks
	return l.loop(ctx.Done(), ctx.Err)
}

// acquire makes the caller the loop's owner, if no one is. The attempt
// counts in takes first, whether it succeeds or not (Pause).
func (l *Loop) acquire() bool {
	take := l.takes.Inc()
	if !l.running.CompareAndSwap(false, true) {
		return false
	}
	l.ownTake = take
	l.runner.Store(goid())
	l.inLoop = true
	l.local.fast = !l.cfg.debug
	l.markBusy()
	if c := l.clock; c != nil {
		c.changed(l) // Advance waits for this loop now
	}
	return true
}

// release gives up ownership, publishing the counters first.
//
// A Close or Shutdown that finds the loop owned sets its control bit, then
// fails to acquire, and waits for the owner to finish the loop. If the
// owner lets go instead (Pause, a done ctx, Shutdown's ctx), it must hand the
// loop over: after storing running=false it loads control, and if Close or
// Shutdown is pending and the loop has not finished, sends a token on
// handoff. Both are sequentially consistent: the waiter's failed acquire
// read running=true, so it precedes our store, and its control bit, set
// before that, is seen by our load.
func (l *Loop) release() {
	// A callback that ended its goroutine (runtime.Goexit) or let a panic
	// escape may have left timers to file (Local, rule 6): file them now,
	// so that no relative word outlives its owner; and on a finished loop
	// cancel them, as finish would have, so that none stays armed in a
	// store no one looks at.
	l.afterCallback()
	if l.finished {
		l.cancelAll()
	}
	l.publishStats()
	l.inLoop = false
	l.local.fast = false
	l.runner.Store(0)
	finished := l.finished
	l.markReleased()
	l.running.Store(false)
	if c := l.clock; c != nil {
		c.changed(l) // Advance need not wait for this loop any more
	}
	if finished {
		if l.clock != nil {
			l.clock.detach(l) // a finished loop never runs again: let it go
		}
		l.closeDone.Do(func() { close(l.done) })
	} else if l.closing() {
		select {
		case l.handoff <- struct{}{}:
		default: // a token is already waiting
		}
	}
}

// isDone reports whether Close or Shutdown has completed.
func (l *Loop) isDone() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// loop is the body of Run: iterate until a control bit or done says stop.
// Loop goroutine only.
func (l *Loop) loop(done <-chan struct{}, cause func() error) error {
	for {
		if c := l.control.Load(); c != 0 {
			switch {
			case c&ctlClose != 0:
				l.finish()
				return ErrClosed
			case c&ctlPause != 0:
				l.clearControl(ctlPause)
				if l.pausedNow() {
					return nil
				}
				continue // a Pause for an owner that has let go
			case c&ctlShutdown != 0:
				if !l.shutdownSeen {
					l.shutdownSeen = true
					l.drainAll() // the inbox is closed: after this no timer can arrive
					l.stopPeriodic()
				}
				l.handleLate() // Stops and Resets of the timers Shutdown waits for
				if l.ready.Len() == 0 && l.timers.Len() == 0 && l.inbox.Empty() && l.lanes.empty() && l.late.n.Load() == 0 {
					l.finish()
					return ErrClosed
				}
			}
		}
		if done != nil {
			select {
			case <-done:
				return cause()
			default:
			}
		}
		l.iterate()
		if l.ready.Len() == 0 {
			l.park(done)
		}
	}
}

// iterate is one pass of the hot path: inbox, ready callbacks, due timers,
// publish. Loop goroutine only.
func (l *Loop) iterate() {
	l.assertLoop("iterate")
	l.counts.iterations++
	ran := l.counts.callbacks + l.counts.fired
	l.drain(l.cfg.batch)
	l.runReady(l.cfg.batch)
	if l.timers.Len() > 0 {
		l.fireDue(l.cfg.batch)
	} else {
		l.health.blame.behindSince = -1 // no timer is due: not behind (blame.go)
	}
	if ran != l.counts.callbacks+l.counts.fired {
		l.health.batch.record(int64(l.counts.callbacks + l.counts.fired - ran))
	}
	l.publish()
}

// drain moves up to max messages from the inbox and the Producers' lanes
// into the ready queue and the timer store (drainSome, producer.go). Loop
// goroutine only.
func (l *Loop) drain(max int) {
	var n int
	if !l.lanes.some.Load() {
		n = l.inbox.Drain(max, l.handleFn) // no Producer was ever made: the inbox alone
	} else {
		n = l.drainSome(max)
	}
	if n > 0 {
		l.space.wake() // room for PostWaits (backpressure.go): only a drain that took messages makes any
	}
}

// handle applies one message. It must not panic (the inbox's Drain relies
// on it) and it runs no user code. Loop goroutine only.
func (l *Loop) handle(m *message) {
	switch m.op {
	case opPost:
		l.ready.push(m.fn, m.stamp)
	case opTimer:
		l.settle(m.n)
	case opStop:
		l.dropStopped(m.n)
	}
}

// handleLane applies one post taken from a Producer's lane. Loop goroutine
// only.
func (l *Loop) handleLane(p *lanePost) { l.ready.push(p.fn, p.stamp) }

// runReady runs up to max entries of the ready queue. Loop goroutine only.
func (l *Loop) runReady(max int) {
	for max > 0 {
		n, panicked := l.runSome(max)
		if !panicked {
			return
		}
		max -= n // a callback panicked: go on after it
	}
}

// runSome runs up to max entries of the ready queue under one deferred
// recover, rather than one per callback. It returns how many entries it
// took, counting a panicking callback, and whether a callback panicked (then
// it stopped after that callback, which the panic handler has seen, and
// the caller goes on). Loop goroutine only.
func (l *Loop) runSome(max int) (n int, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			// The callback's frame is still on the stack: the handler's
			// debug.Stack shows it, as with call.
			l.counts.panics++
			l.counts.callbacks++
			panicked = true
			l.cfg.panicHandler(v)
			l.afterCallback() // the callback's Local timers, and the handler's

		}
	}()
	timed := l.cfg.health.timed()
	for n < max {
		fn, ok := l.ready.pop()
		if !ok {
			return n, false
		}
		n++
		if fn == nil {
			var stamp uint64
			fn, stamp = l.ready.popStamped() // a sampled post
			l.postLag(stamp)
		}
		if timed {
			l.call(fn) // WithSlowCallback, WithLateTimer: timed one by one
		} else {
			fn()
			l.afterCallback()
		}
		l.counts.callbacks++
	}
	return n, false
}

// fireDue handles up to max timers whose filed deadline has passed: it
// fires those that are due and re-files those that a Reset pushed later.
// Loop goroutine only.
func (l *Loop) fireDue(max int) {
	now := l.readClock()
	l.health.blame.lookAt = now
	for i := 0; i < max; i++ {
		n := l.timers.PopDue(now)
		if n == nil {
			l.health.blame.endLook(false)
			return
		}
		l.fire(n, now)
		if l.health.blame.reporting {
			l.reportLate() // WithLateTimer (blame.go)
		}
	}
	when, ok := l.timers.Next()
	l.health.blame.endLook(ok && when <= now) // due timers left for the next iteration: a backlog (blame.go)
}

// fire handles n, just taken from the store because its filed deadline
// n.When <= now, according to its state word (see timer.go): a stopped timer
// is dropped; one that a Reset pushed later than n.When is filed again at
// its deadline — even if that too has passed, so that due timers still fire
// in deadline order; a due one fires. After its callback, a one-shot timer
// is done and a periodic one is filed for its next tick unless the callback,
// or another goroutine, stopped or reset it. Loop goroutine only.
func (l *Loop) fire(n *timerNode, now int64) {
	p := &n.Value
	var s, claimed timerState
	for {
		s = p.load()
		switch {
		case !s.armed():
			return // stopped: out of the store now, as its Stop asked
		case !s.filed():
			return // moved earlier or re-armed: its message files it (rule 4)
		case s.when() > n.When():
			l.timers.Update(n, p.key(s.when()), l.nextSeq()) // pushed later: the lazy half of Reset
			return
		}
		var ok bool
		if claimed, ok = p.claimFire(s); ok {
			break
		}
	}
	l.counts.fired++ // before the call: a panic that escapes the panic handler leaves it fired
	if !p.periodic() {
		l.timerLate(s.when(), n.When(), now, p.fn) // TimerLag, its split, WithLateTimer (blame.go)
		l.call(p.fn)                               // disarmed: a Reset from here on, even from fn, re-arms it
		return
	}
	h := p.home
	l.timerLate(s.when(), n.When(), now, h.fn)
	start := now
	if h.missed() == TickDelay {
		start = l.now() // the tick's own start: a callback before it in this batch may have run long
	}
	l.ticking = p // stopPeriodic from inside the tick stops this timer too
	l.callTick(p, claimed)
	// The clock is read again: fn may have run for longer than a period.
	next := nextTick(s.when(), h.period(), start, l.now(), h.missed())
	if next < s.when() || next > maxWhen {
		next = maxWhen // overflowed or beyond the last deadline a word holds
	}
	if next <= s.when() {
		// At maxWhen already (a FakeClock 36 years on): no later tick can
		// be expressed, and re-arming at the same deadline would fire it
		// forever. It ends, unless fn stopped or reset it.
		p.endAfterRun(claimed)
		return
	}
	if p.rearmAfterRun(claimed, next) {
		l.timers.Update(n, next, l.nextSeq())
	}
}

// callTick calls a periodic timer's callback. If a panic escapes the panic
// handler (the one panic the loop does not recover), the timer ends,
// disarmed, rather than stay running with no tick to come — unless fn
// stopped or reset it first. Loop goroutine only.
func (l *Loop) callTick(p *timer, claimed timerState) {
	returned := false
	defer func() {
		if !returned {
			p.endAfterRun(claimed)
		}
	}()
	l.call(p.home.fn)
	returned = true
}

// call runs fn, handing a panic to the panic handler. With WithSlowCallback
// or WithLateTimer it also times fn, panicking or not, for the slow-callback
// check (health.go) and the blame spans (blame.go). Loop goroutine only.
func (l *Loop) call(fn func()) {
	start := int64(-1)
	defer func() {
		v := recover()
		var end int64
		b := &l.health.blame
		if start >= 0 {
			end = l.now()
			b.lastEnd = end
			if l.cfg.health.lateHook != nil {
				b.addSpan(start, end, funcPC(fn)) // before the panic handler, which may not return
			}
		}
		if v != nil {
			l.counts.panics++
			l.cfg.panicHandler(v)
		}
		if start >= 0 {
			slow := l.cfg.health.slow(end - start)
			if slow {
				l.reportSlowRecovered(fn, end-start)
			}
			if v != nil || slow {
				b.lastEnd = l.now() // the handler and the hook ran on the loop too: the next timer waited for them
			}
		}
		// Last: the Local timers of fn (also when it panicked), of the
		// panic handler and of the slow-callback hook, all user code run
		// on the loop goroutine (rule 6).
		l.afterCallback()
	}()
	if l.cfg.health.timed() {
		start = l.now()
	}
	fn()
}

// reportSlowRecovered hands fn, which ran for d, to the slow-callback
// hook, and a panic of the hook to the panic handler as if fn had
// panicked: one rule for posts and timers. Loop goroutine only.
func (l *Loop) reportSlowRecovered(fn func(), d int64) {
	defer func() {
		if v := recover(); v != nil {
			l.counts.panics++
			l.cfg.panicHandler(v)
		}
	}()
	l.reportSlow(fn, d)
}

// publish stores the earliest deadline into the expiry cache if it changed,
// and, every statsEvery iterations, the counters (park and release publish
// them too). Loop goroutine only.
func (l *Loop) publish() {
	when, ok := l.timers.Next()
	if !ok {
		when = cache.None
	}
	if when != l.pubWhen {
		l.pubWhen = when
		l.expiry.Publish(when)
	}
	if l.sincePub++; l.sincePub >= statsEvery {
		l.publishStats()
	}
}

// drainAll empties the inbox and every Producer's lane completely, waiting
// out producers that have reserved a slot but not yet filled it. Used when
// finishing, once the inbox and the lanes are closed and their tails can
// no longer move. Loop goroutine only.
func (l *Loop) drainAll() {
	for !l.inbox.Empty() || !l.lanes.empty() {
		if l.drainSome(l.cfg.batch)+l.drainLanes(l.cfg.batch) == 0 {
			runtime.Gosched()
		}
	}
}
