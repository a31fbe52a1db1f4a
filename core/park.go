package core

import (
	"math"
	"time"
)

// A parker blocks the loop goroutine and wakes it. The loop runs the park
// protocol of the package doc (the parked flag, the inbox check) and uses
// the parker only for the blocking itself:
//
//   - block is called by the loop goroutine only, after it has stored
//     parked=true and found nothing to do. It returns when a token sent by
//     kick arrives (woken true), when the loop clock reaches deadline if
//     timed, or when done is closed. It must not lose a token sent before
//     it was called.
//   - kick is called by the one waker that won the swap of parked from true
//     to false; it sends the token. There is at most one token outstanding.
//   - take is called by the loop goroutine when it resumed for another
//     reason but lost the swap: a token is owed and take waits for it, so
//     that none is left over to end a later block early.
type parker interface {
	block(deadline int64, timed bool, done <-chan struct{}) (woken bool)
	kick()
	take()
}

// chanParker is the default parker: a channel for tokens and a runtime
// timer for deadlines. It costs no wake-ups while idle, and it works inside
// a testing/synctest bubble when the Loop is created there.
type chanParker struct {
	l     *Loop
	wake  chan struct{} // capacity 1: the token
	timer *time.Timer   // made on first timed block, on the loop goroutine
}

func newChanParker(l *Loop) *chanParker {
	return &chanParker{l: l, wake: make(chan struct{}, 1)}
}

func (p *chanParker) kick() { p.wake <- struct{}{} } // never blocks: one token at most
func (p *chanParker) take() { <-p.wake }

func (p *chanParker) block(deadline int64, timed bool, done <-chan struct{}) bool {
	if !timed {
		select {
		case <-p.wake:
			return true
		case <-done:
			return false
		}
	}
	if p.timer == nil {
		p.timer = time.NewTimer(math.MaxInt64)
		p.timer.Stop()
	}
	d := deadline - p.l.now()
	if d <= 0 {
		return false
	}
	p.timer.Reset(time.Duration(d))
	select {
	case <-p.wake:
		p.timer.Stop()
		return true
	case <-p.timer.C:
		return false
	case <-done:
		p.timer.Stop()
		return false
	}
}

// park blocks until a waker kicks, the published deadline passes, or done
// is closed, following the park protocol of the package doc. Owner only.
//
// Who writes what: parked is stored true here by the loop and swapped back
// to false by unpark (the loop) or by the one waker that wins the swap in
// wakeIfParked; the inbox's tail is advanced by producers (a CAS per push)
// and its head by the loop (Drain); the expiry cache is written by the
// loop (publish). All are sequentially consistent atomics: the loop's store
// of parked precedes its load of tail in Empty, and a producer's CAS on
// tail precedes its load of parked, so one of the two sees the other.
func (l *Loop) park(done <-chan struct{}) {
	if !l.inbox.Empty() {
		// Posted since the drain: go round again. This early look is only
		// a shortcut (it spares the store, the clock read and the swap
		// back); the check after the store below is what the protocol
		// relies on.
		return
	}
	l.parked.Store(true)
	// After the store: anything pushed from now on sees parked=true and
	// wakes us; anything pushed before is visible to Empty.
	var now, d int64
	timed := l.expiry.HasTimers()
	if timed {
		now = l.now()                     // the clock only when a deadline needs it
		d, timed = l.expiry.SleepFor(now) // the design note's sleep computation, lock-free
	}
	c := l.control.Load()
	if !l.inbox.Empty() || l.late.n.Load() != 0 || c&(ctlStop|ctlClose) != 0 || (timed && d == 0) ||
		(c&ctlShutdown != 0 && l.timers.Len() == 0) { // Shutdown is complete: finish at the top of the loop
		l.unpark()
		return
	}
	deadline := now + d
	if timed {
		deadline = coalesce(deadline, l.cfg.slack) // WithSlack: later, never earlier
	}
	l.counts.parks++
	l.publishStats()
	woken := l.block(deadline, timed, done) // timed for Health (observe.go); the parker with WithSpin's busy tail (deadline.go)
	l.counts.wakeups++
	if !woken {
		l.unpark()
	}
	// If woken, the waker already cleared parked.
}

// unpark clears parked. If a waker won the swap first, it owes us a token:
// take it. Owner only.
func (l *Loop) unpark() {
	if !l.parked.CompareAndSwap(true, false) {
		l.parker.take()
	}
}
