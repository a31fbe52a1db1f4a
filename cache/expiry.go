// Package cache holds the loop's atomic expiry cache: the deadline of the
// earliest pending timer in one atomic word, and a has-timers flag beside it.
//
// This is refinement 3.1.2.1 and 3.1.2.2 of the PyLoop design note that
// hotloop starts from. There, each iteration of the event loop locked the
// timer store and read its first key to compute how long to sleep (80-170 ns
// per iteration), and a loop with no timers polled every millisecond. Here the
// loop goroutine, which alone owns the timer store, publishes the earliest
// deadline into an Expiry whenever it changes. Everyone else reads the
// Expiry and never the store:
//
//   - the loop's sleep computation ([Expiry.SleepFor]) reads one atomic word;
//   - a goroutine that schedules a timer asks [Expiry.Before] whether its
//     deadline is earlier than the published one, and wakes a parked loop
//     only then;
//   - with no timers at all, [Expiry.HasTimers] is false and the loop parks
//     with no deadline: zero wake-ups while idle.
//
// # Protocol
//
// One writer: the goroutine that owns the timer store (the loop) calls
// [Expiry.Publish]. Any goroutine may read. Publish stores the deadline word
// first and the flag second; both are sequentially consistent atomics, so a
// reader that sees the flag set also sees a deadline at least as new as the
// one published with it. A reader may see a stale value while the loop is
// between a store change and its Publish; the loop re-reads its inbox after
// publishing and before it parks, which is what makes a stale read safe (see
// package core's park protocol).
package cache

import (
	"math"

	"go.uber.org/atomic"
)

// None is the deadline published when no timer is pending.
const None int64 = math.MaxInt64

// cacheLine is the size the fields are padded to, so that the loop's other
// hot words do not share a line with the Expiry.
const cacheLine = 64

// debug turns on verify after every Publish.
const debug = false

// Expiry is the published deadline of the earliest pending timer, in
// monotonic nanoseconds on the owner's clock. The zero value is not ready:
// use [New] or call Publish(None) first.
type Expiry struct {
	_ [cacheLine]byte

	// next is the deadline of the earliest pending timer, or None.
	// Written by the owner (Publish); read by anyone.
	next atomic.Int64

	// has reports next != None. Written by the owner after next; read by
	// anyone. It is the cheap question the hot path asks first ("are there
	// timers at all?"), refinement 3.1.2.2.
	has atomic.Bool

	_ [cacheLine - 8 - 4]byte
}

// New returns an Expiry with no timers published.
func New() *Expiry {
	e := new(Expiry)
	e.next.Store(None)
	return e
}

// Publish records that the earliest pending timer is due at when, or that
// none is pending when ok is false. Only the goroutine that owns the timer
// store may call it. O(1), two atomic stores.
func (e *Expiry) Publish(when int64, ok bool) {
	if !ok {
		when = None
	}
	e.next.Store(when)
	e.has.Store(when != None)
	if debug {
		e.verify()
	}
}

// Next returns the published deadline; ok is false when no timer is pending.
// Safe from any goroutine. O(1), one atomic load.
func (e *Expiry) Next() (when int64, ok bool) {
	when = e.next.Load()
	return when, when != None
}

// HasTimers reports whether any timer is pending. Safe from any goroutine.
// O(1), one atomic load.
func (e *Expiry) HasTimers() bool { return e.has.Load() }

// Before reports whether a deadline is earlier than the published one, that
// is whether a parked owner must be woken to honour it. Safe from any
// goroutine. O(1), one atomic load.
func (e *Expiry) Before(when int64) bool { return when < e.next.Load() }

// SleepFor is the sleep computation of the design note
// (calculate_sleep_duration), without its lock: given the current time now it
// returns how long the owner may park, 0 if the earliest timer is already
// due, and ok false when no timer is pending (park until woken). It reads
// only the atomics. O(1).
func (e *Expiry) SleepFor(now int64) (d int64, ok bool) {
	if !e.has.Load() {
		return 0, false
	}
	when := e.next.Load()
	if when == None {
		return 0, false
	}
	if when <= now {
		return 0, true
	}
	return when - now, true
}

// verify panics if the flag and the word disagree. Only meaningful on the
// owner's goroutine, between Publish calls.
func (e *Expiry) verify() {
	if e.has.Load() != (e.next.Load() != None) {
		panic("cache: has-timers flag disagrees with the published deadline")
	}
}
