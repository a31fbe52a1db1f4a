package core

import (
	"sync"

	"go.uber.org/atomic"
)

// lateBox carries the Stop and Reset messages that found the inbox closed.
//
// Close and Shutdown close the inbox so that no new work is accepted, but
// timers accepted before then can still be stopped or reset: during
// Shutdown the loop is still running them, and until Close has finished it
// still holds them. Their messages come here instead, and the loop applies
// them at the top of each Shutdown iteration and in finish.
//
// Producers (Timer.Stop, Timer.Reset) append under mu, store n, then call
// wakeIfParked; the park protocol (park.go) covers n as it covers the
// inbox, so no late message is left behind a parked loop. finish closes the box (under mu)
// once it has taken the last message and cancelled every pending timer;
// after that pushLate reports false and the caller deals with its own timer.
type lateBox struct {
	mu     sync.Mutex
	msgs   []message // guarded by mu
	closed bool      // guarded by mu; set once, by finish

	// n is len(msgs). Stored under mu by producers and the loop; loaded
	// without mu by the loop (park, Shutdown) to skip the lock when empty.
	n atomic.Int32

	// cancelled counts timers that Reset cancelled itself after finding the
	// loop finished (see Timer.Reset); Stats adds it to TimersCancelled.
	// Added to by any goroutine.
	cancelled atomic.Uint64
}

// pushLate queues a Stop or Reset message that the closed inbox refused and
// wakes the loop. It reports false, queueing nothing, once the loop has
// finished. Safe from any goroutine.
func (l *Loop) pushLate(m message) bool {
	b := &l.late
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false
	}
	b.msgs = append(b.msgs, m)
	b.n.Store(int32(len(b.msgs)))
	b.mu.Unlock()
	l.wakeIfParked()
	return true
}

// handleLate applies the queued late messages. Loop goroutine only.
func (l *Loop) handleLate() {
	b := &l.late
	if b.n.Load() == 0 {
		return
	}
	b.mu.Lock()
	msgs := b.msgs
	b.msgs = nil
	b.n.Store(0)
	b.mu.Unlock()
	for i := range msgs {
		l.handle(&msgs[i])
	}
}

// closeLate closes the box if it is empty and reports whether it did.
// Loop goroutine only, from finish.
func (l *Loop) closeLate() bool {
	b := &l.late
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.msgs) > 0 {
		return false
	}
	b.closed = true
	return true
}
