package core

import (
	"context"
	"runtime"

	"github.com/hotloop/hotloop/cache"
)

// Run runs the loop on the calling goroutine until ctx is done (it returns
// ctx.Err()), Stop is called (nil), or the loop is closed by Close or
// Shutdown (ErrClosed). After Stop or a done ctx, pending callbacks and
// timers are kept and Run may be called again. Only one Run may be active:
// a second concurrent call returns ErrRunning at once, and Run on a closed
// loop, or while Close is finishing it, returns ErrClosed.
func (l *Loop) Run(ctx context.Context) error {
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
	l.clearControl(ctlStop)   // a Stop with no Run in progress does nothing
	defer l.bindThread(ctx)() // WithPrecise: lock the thread, 1 ns slack, ctx kicks
	return l.loop(ctx.Done(), ctx.Err)
}

// acquire makes the caller the loop's owner, if no one is.
func (l *Loop) acquire() bool {
	if !l.running.CompareAndSwap(false, true) {
		return false
	}
	l.runner.Store(goid())
	l.inLoop = true
	l.local.fast = !l.cfg.debug
	l.acquired()
	return true
}

// release gives up ownership, publishing the counters first.
//
// A Close or Shutdown that finds the loop owned sets its control bit, then
// fails to acquire, and waits for the owner to finish the loop. If the
// owner lets go instead (Stop, a done ctx, Shutdown's ctx), it must hand the
// loop over: after storing running=false it loads control, and if Close or
// Shutdown is pending and the loop has not finished, sends a token on
// handoff. Both are sequentially consistent: the waiter's failed acquire
// read running=true, so it precedes our store, and its control bit, set
// before that, is seen by our load.
func (l *Loop) release() {
	l.publishStats()
	l.inLoop = false
	l.local.fast = false
	l.runner.Store(0)
	finished := l.finished
	l.running.Store(false)
	l.released()
	if finished {
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
// Owner only.
func (l *Loop) loop(done <-chan struct{}, cause func() error) error {
	for {
		if c := l.control.Load(); c != 0 {
			switch {
			case c&ctlClose != 0:
				l.finish()
				return ErrClosed
			case c&ctlStop != 0:
				l.clearControl(ctlStop)
				return nil
			case c&ctlShutdown != 0:
				if !l.shutdownSeen {
					l.shutdownSeen = true
					l.drainAll() // the inbox is closed: after this no timer can arrive
					l.stopPeriodic()
				}
				l.handleLate() // Stops and Resets of the timers Shutdown waits for
				if l.ready.Len() == 0 && l.timers.Len() == 0 && l.inbox.Empty() && l.late.n.Load() == 0 {
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
// publish. Owner only.
func (l *Loop) iterate() {
	l.counts.iterations++
	ran := l.counts.callbacks + l.counts.fired
	l.drain(l.cfg.batch)
	l.runReady(l.cfg.batch)
	if l.timers.Len() > 0 {
		l.fireDue(l.cfg.batch)
	}
	if ran != l.counts.callbacks+l.counts.fired {
		l.health.batch.record(int64(l.counts.callbacks + l.counts.fired - ran))
	}
	l.publish()
}

// drain moves up to max messages from the inbox into the ready queue and
// the timer store. Owner only.
func (l *Loop) drain(max int) {
	l.inbox.Drain(max, l.handleFn)
}

// handle applies one message. It must not panic (the inbox's Drain relies
// on it) and it runs no user code. Owner only.
func (l *Loop) handle(m *message) {
	switch m.op {
	case opPost:
		l.ready.push(entry{fn: m.fn, seq: uint64(m.when)}) // when: the post's sampling stamp, or 0
	case opAdd, opAddReady:
		n := m.n
		seq := l.nextSeq()
		if m.op == opAddReady {
			n.When = m.when
			n.Seq = seq
			l.ready.pushRare(entry{n: n, seq: seq})
			return
		}
		l.timers.Update(n, m.when, seq)
	case opStop:
		s := m.n.Value.state.Load()
		if s>>genShift != m.gen || s&statusMask != stStopped {
			return // already recycled, or cancelled by Close
		}
		l.timers.Remove(m.n)
		l.recycle(m.n)
	case opReset:
		n := m.n
		p := &n.Value
		s := p.state.Load()
		if s>>genShift != m.gen {
			return // the timer is done; this Reset reported true but lost the race with a later event
		}
		switch s & statusMask {
		case stResetting, stPending:
			if l.shutdownSeen && s&periodicBit != 0 {
				// Shutdown stops periodic timers; a late Reset does not
				// revive one.
				l.timers.Remove(n)
				l.cancel(n)
				return
			}
			l.timers.Update(n, m.when, l.nextSeq())
			if s&statusMask == stResetting && !p.state.CompareAndSwap(s, s&^statusMask|stPending) {
				// Stopped meanwhile: its Stop message recycles it.
				l.timers.Remove(n)
			}
		case stStopped:
			l.timers.Remove(n)
		}
	}
}

// runReady runs up to max entries of the ready queue. Owner only.
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
// the caller goes on). Owner only.
func (l *Loop) runSome(max int) (n int, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			// The callback's frame is still on the stack: the handler's
			// debug.Stack shows it, as with call.
			l.counts.panics++
			l.counts.callbacks++
			panicked = true
			l.cfg.panicHandler(v)
		}
	}()
	timed := l.cfg.obs.slowHook != nil
	for n < max {
		fn, ok := l.ready.fns.PopFront()
		if !ok {
			return n, false
		}
		n++
		if fn == nil {
			// Not a plain callback: the entry is the next one in rare
			// (see readyQueue).
			e, _ := l.ready.rare.PopFront()
			if e.n != nil {
				// A zero-delay timer: fire it unless it was stopped, reset
				// or recycled since it was queued. (fire recovers its own
				// panics.)
				if e.n.Seq == e.seq && !e.n.InStore() {
					l.fire(e.n, l.now())
				}
				continue
			}
			if e.seq != 0 {
				l.postLag(e.seq) // a sampled post
			}
			fn = e.fn
		}
		if timed {
			l.call(fn) // WithSlowCallback: timed one by one
		} else {
			fn()
		}
		l.counts.callbacks++
	}
	return n, false
}

// fireDue fires up to max timers whose deadline has passed. Owner only.
func (l *Loop) fireDue(max int) {
	now := l.now()
	for i := 0; i < max; i++ {
		n := l.timers.PopDue(now)
		if n == nil {
			return
		}
		l.fire(n, now)
	}
}

// fire calls a due timer's callback if it is still pending, then recycles
// a one-shot timer or reschedules a periodic one. n is not in the store.
// Owner only.
func (l *Loop) fire(n *timerNode, now int64) {
	p := &n.Value
	s := p.state.Load()
	if s&statusMask != stPending || !p.state.CompareAndSwap(s, s&^statusMask|stRunning) {
		// Stopped or resetting: its message finishes the job. Once the
		// inbox is closed, a Reset's message may still be on its way to the
		// late box: keep a resetting timer in the ready queue (retried each
		// iteration) so that Shutdown waits for it and Close cancels it,
		// rather than lose it. (Only the loop leaves stResetting, so the
		// reload cannot miss it.)
		if p.state.Load()&statusMask == stResetting && l.closing() {
			l.ready.pushRare(entry{n: n, seq: n.Seq})
		}
		return
	}
	l.health.timerLag.record(now - n.When)
	l.call(p.fn)
	l.counts.fired++
	if s&periodicBit == 0 {
		l.recycle(n) // running one-shot: no one else may change it
		return
	}
	running := s&^statusMask | stRunning
	if !p.state.CompareAndSwap(running, s) {
		return // stopped or reset from inside fn: its message finishes the job
	}
	// The clock is read again: fn may have run for longer than a period.
	next := nextTick(n.When, p.period, now, l.now(), p.missed)
	if next >= cache.None || next < n.When {
		next = cache.None - 1
	}
	l.timers.Update(n, next, l.nextSeq())
}

// call runs fn, handing a panic to the panic handler. With
// WithSlowCallback it also times fn (observe.go), panicking or not. Owner
// only.
func (l *Loop) call(fn func()) {
	start := int64(-1)
	defer func() {
		if v := recover(); v != nil {
			l.counts.panics++
			l.cfg.panicHandler(v)
		}
		if start >= 0 {
			l.checkSlow(fn, start)
		}
	}()
	if l.cfg.obs.slowHook != nil {
		start = l.now()
	}
	fn()
}

// publish stores the earliest deadline into the expiry cache if it changed,
// and, every statsEvery iterations, the counters (park and release publish
// them too). Owner only.
func (l *Loop) publish() {
	when, ok := l.timers.Next()
	if !ok {
		when = cache.None
	}
	if when != l.pubWhen {
		l.pubWhen = when
		l.expiry.Publish(when, ok)
	}
	if l.sincePub++; l.sincePub >= statsEvery {
		l.publishStats()
	}
}

// drainAll empties the inbox completely, waiting out producers that have
// reserved a slot but not yet filled it. Used when finishing, once the inbox
// is closed and its tail can no longer move. Owner only.
func (l *Loop) drainAll() {
	for !l.inbox.Empty() {
		m, ok := l.inbox.Pop()
		if !ok {
			runtime.Gosched()
			continue
		}
		l.handle(&m)
	}
}
