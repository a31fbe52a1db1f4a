package core

import (
	"math"
	"time"
)

// newParkTimer makes the default parker's timer, stopped. It is made by the
// loop's owner, not by New, so that it belongs to the goroutine's
// testing/synctest bubble if there is one.
func (l *Loop) newParkTimer() {
	l.parkT = time.NewTimer(math.MaxInt64)
	l.parkT.Stop()
}

// park blocks until a waker sends a token, the published deadline passes, or
// done is closed. It follows the park protocol of the package doc. Owner
// only.
func (l *Loop) park(done <-chan struct{}) {
	l.parked.Store(true)
	// After the store: anything pushed from now on sees parked=true and
	// wakes us; anything pushed before is visible to Empty.
	d, timed := l.expiry.SleepFor(l.now())
	c := l.control.Load()
	if !l.inbox.Empty() || c&(ctlStop|ctlClose) != 0 || (timed && d == 0) ||
		(c&ctlShutdown != 0 && l.timers.Len() == 0) { // Shutdown is complete: finish at the top of the loop
		l.unpark()
		return
	}
	l.counts.parks++
	l.publishStats()
	if !timed {
		select {
		case <-l.wake:
			l.counts.wakeups++
			return // the waker cleared parked
		case <-done:
		}
		l.counts.wakeups++
		l.unpark()
		return
	}
	l.parkT.Reset(time.Duration(d))
	select {
	case <-l.wake:
		l.parkT.Stop()
		l.counts.wakeups++
		return
	case <-l.parkT.C:
	case <-done:
		l.parkT.Stop()
	}
	l.counts.wakeups++
	l.unpark()
}

// unpark clears parked. If a waker won the swap first, it owes us a token:
// take it, so that none is left to end a later park early. Owner only.
func (l *Loop) unpark() {
	if !l.parked.CompareAndSwap(true, false) {
		<-l.wake
	}
}
