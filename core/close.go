package core

import (
	"context"

	"github.com/hotloop/hotloop/cache"
)

// setControl ORs bits into control and wakes the loop.
func (l *Loop) setControl(bits uint32) {
	for {
		c := l.control.Load()
		if c&bits == bits || l.control.CompareAndSwap(c, c|bits) {
			break
		}
	}
	l.wakeIfParked()
}

// clearControl clears bits in control. Loop goroutine only (the bits it
// clears are the loop's to acknowledge).
func (l *Loop) clearControl(bits uint32) {
	for {
		c := l.control.Load()
		if c&bits == 0 || l.control.CompareAndSwap(c, c&^bits) {
			return
		}
	}
}

// Pause makes the Run in progress return nil after its current iteration:
// the loop pauses. It cancels nothing and closes nothing: pending callbacks
// and timers are kept, posts are still accepted (they wait for the next
// Run, Shutdown or Close), and Run may be called again. To end the loop,
// use Shutdown (runs what was accepted and waits for pending timers) or
// Close (runs what was accepted and cancels pending timers). With no Run in
// progress, Pause does nothing. Safe from any goroutine, including from
// inside a callback.
func (l *Loop) Pause() {
	// Pause is for the owner of the moment, and only for it: a Pause left
	// over from an earlier owner must not end the next Run, and a Pause
	// that lands while a Run is starting must not be lost.
	//
	// acquire adds to takes and then swaps running to true; Pause loads
	// running, then takes, and raises pauseFor to what it read before it
	// sets ctlPause. All are sequentially consistent. If Pause saw running
	// true, the owner's add came before that load (running is swapped
	// after it), so the take Pause reads is the owner's or a later
	// attempt's: pauseFor reaches the owner's own take and the owner,
	// which clears ctlPause before it reads pauseFor (pausedNow), honours
	// it whether it sees the bit before or after the raise. An owner that
	// took the loop after Pause read takes has a higher take and ignores
	// the bit. A failed attempt (ErrRunning) counts in takes too; a Pause
	// that reads its count still reaches the owner's take, which is lower.
	if !l.running.Load() {
		return
	}
	take := l.takes.Load()
	for {
		old := l.pauseFor.Load()
		if take <= old || l.pauseFor.CompareAndSwap(old, take) {
			break
		}
	}
	l.setControl(ctlPause)
}

// pausedNow reports whether a Pause is for the current owner: one that
// read takes after the owner's acquire counted its attempt. Loop goroutine
// only, after clearing ctlPause (Pause's protocol).
func (l *Loop) pausedNow() bool {
	return l.pauseFor.Load() >= l.ownTake
}

// Stop pauses the loop, as Pause does.
//
// Deprecated: Use Pause. The name read as if it cancelled, like
// Timer.Stop, or ended the loop; it does neither. To end the loop, use
// Shutdown or Close.
func (l *Loop) Stop() { l.Pause() }

// Close rejects new work, runs every callback accepted before it, cancels
// every pending timer (their Stop then reports false), and returns once the
// loop has finished and Run has returned ErrClosed. Close is idempotent:
// later calls wait for the same finish and return nil.
//
// If no goroutine is running the loop, Close finishes it on the calling
// goroutine, so the accepted callbacks run there. Called from inside a
// callback, Close cannot wait for the loop to finish (it would wait for
// itself): it returns nil at once and the loop finishes when the current
// iteration ends.
func (l *Loop) Close() error {
	l.mustNew()
	l.inbox.Close()
	l.space.wake() // PostWaits: the inbox is closed now
	l.lanes.closeAll()
	l.setControl(ctlClose)
	if l.onLoop() {
		return nil
	}
	for {
		if l.acquire() {
			l.finishOwned()
		}
		select {
		case <-l.done:
			return nil
		case <-l.handoff: // the owner let go without finishing: try again
		}
	}
}

// Shutdown rejects new work and keeps the loop running until every accepted
// callback and every pending one-shot timer has run; periodic timers (Every)
// are stopped, since they would never finish. It returns nil when the loop
// has finished, or ctx.Err() if ctx ends first: the loop then goes on
// shutting down (call Close to cut it short).
//
// Timers accepted before Shutdown can still be stopped or reset while it
// waits for them.
//
// If no goroutine is running the loop, Shutdown runs it on the calling
// goroutine until it finishes or ctx ends (a Pause meanwhile does not end
// it); if Run returns while Shutdown waits, Shutdown takes over the loop. Called from inside a callback,
// it returns nil at once and the loop finishes once the work is done.
func (l *Loop) Shutdown(ctx context.Context) error {
	l.mustNew()
	if ctx == nil {
		ctx = context.Background()
	}
	l.inbox.Close()
	l.space.wake() // PostWaits: the inbox is closed now
	l.lanes.closeAll()
	l.setControl(ctlShutdown)
	if l.onLoop() {
		return nil
	}
	for {
		if l.acquire() {
			if err := l.runShutdown(ctx); err != ErrClosed {
				return err
			}
		}
		select {
		case <-l.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-l.handoff: // the owner let go without finishing: try again
		}
	}
}

// Done returns a channel that is closed when the loop has finished after
// Close or Shutdown.
func (l *Loop) Done() <-chan struct{} {
	l.mustNew()
	return l.done
}

// finish completes Close or Shutdown: it takes every message still in the
// (closed) inbox, runs every accepted callback, cancels every pending timer,
// and marks the loop finished, so that release closes done. Loop goroutine
// only.
//
// If a panic escapes it (the panic handler's own), the next owner's finish
// takes up where it stopped: every step is safe to repeat, and finished is
// set only at the end.
func (l *Loop) finish() {
	l.assertLoop("finish")
	if l.finished {
		return
	}
	for {
		l.drainAll()
		l.handleLate()
		if l.ready.Len() == 0 {
			l.afterCallback() // a Local timer left by user code that escaped its callback
			l.cancelAll()
			if l.closeLate() {
				break
			}
			continue // a late Reset may have put a timer back
		}
		// Callbacks run here may Stop or Reset timers (messages) but
		// cannot add work: the loop is closing.
		for {
			fn, ok := l.ready.popAny()
			if !ok {
				break
			}
			l.call(fn)
			l.counts.callbacks++
		}
	}
	// Every lane is closed and empty now: let them go, from the set and
	// from the busy list (drainAll may have emptied a busy lane through
	// drainLanes, after drainSome's last release).
	clear(l.busy)
	l.busy = l.busy[:0]
	l.lanes.forgetDrained()
	l.publish()
	l.finished = true // release closes done, after the owner has let go
}

// finishOwned is finish for Close, which took the loop: it lets go of the
// loop on every exit path, as Run does, so that a panic escaping finish
// leaves the loop to the next Close or Shutdown instead of wedging it.
// Loop goroutine only.
func (l *Loop) finishOwned() {
	defer l.release()
	l.finish()
}

// runShutdown is the body of Shutdown once it has taken the loop: it runs
// the loop until the shutdown completes (ErrClosed) or ctx ends, and lets
// go of the loop, and of WithPrecise's locked thread, on every exit path.
// Loop goroutine only.
func (l *Loop) runShutdown(ctx context.Context) (err error) {
	defer l.release()
	defer l.bindThread(ctx)()
	err = l.loop(ctx.Done(), ctx.Err)
	for err == nil { // a Pause is for a Run: Shutdown goes on
		err = l.loop(ctx.Done(), ctx.Err)
	}
	return err
}

// cancelAll cancels every timer in the store. Loop goroutine only.
func (l *Loop) cancelAll() {
	for {
		n := l.timers.PopDue(cache.None)
		if n == nil {
			return
		}
		l.cancel(n)
	}
}

// cancel disarms a timer that Close or Shutdown found armed (its Stop then
// reports false), counts it, and reports whether it was armed. Loop
// goroutine only.
func (l *Loop) cancel(n *timerNode) bool {
	_, ok := n.Value.disarm()
	if ok {
		l.counts.cancelled++
	}
	return ok
}

// stopPeriodic cancels every periodic timer, once, when Shutdown begins:
// they would keep the loop alive forever. Stopped timers still in the store
// go too. It returns how many periodic timers it cancelled. O(n log n) for
// n timers in the store. Loop goroutine only.
func (l *Loop) stopPeriodic() int {
	stopped := 0
	if p := l.ticking; p != nil && p.load().running() {
		// Called from a tick (Local().StopPeriodic): that timer is out of
		// the store while its callback runs, and disarmed now it is not
		// re-armed when the callback returns.
		if _, ok := p.disarm(); ok {
			l.counts.cancelled++
			stopped++
		}
	}
	keep := make([]*timerNode, 0, l.timers.Len())
	for {
		n := l.timers.PopDue(cache.None)
		if n == nil {
			break
		}
		if n.Value.periodic() {
			if l.cancel(n) {
				stopped++
			}
			continue
		}
		if n.Value.load().armed() {
			keep = append(keep, n)
		}
	}
	for _, n := range keep {
		l.timers.Update(n, n.When(), n.Seq())
	}
	return stopped
}
