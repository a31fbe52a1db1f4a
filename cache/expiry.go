// Package cache holds the loop's atomic expiry cache: the deadline of the
// earliest pending timer in one atomic word, and a has-timers flag beside it.
//
// The goroutine that owns the timer store (the loop) publishes the earliest
// deadline into an [Expiry] whenever it changes; everyone else reads the
// Expiry and never the store, so no reader takes a lock:
//
//   - the loop's sleep computation ([Expiry.SleepFor]) reads one atomic word;
//   - a goroutine that schedules a timer asks [Expiry.Before] whether its
//     deadline is earlier than the published one, and wakes a parked loop
//     only then;
//   - with no timers at all, [Expiry.HasTimers] is false and the loop parks
//     with no deadline: zero wake-ups while idle.
//
// # Ordering
//
// One writer: the owner calls [Expiry.Publish]. Any goroutine may read.
// Publish stores the deadline word first and the flag second, both with
// sequentially consistent atomics, and every read is one such load, so a
// reader that sees the flag set also sees a deadline at least as new as the
// one published with it. A reader may see a stale value while the owner is
// between a change to its store and its Publish; the loop's park protocol,
// which makes such a read safe, is stated in core/park.go.
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
	// timers at all?").
	has atomic.Bool

	_ [cacheLine - 8 - 4]byte
}

// New returns an Expiry with no timers published. O(1), one allocation.
func New() *Expiry {
	e := new(Expiry)
	e.next.Store(None)
	return e
}

// Publish records that the earliest pending timer is due at when, or, with
// when == [None], that no timer is pending. Only the goroutine that owns the
// timer store may call it. O(1), two atomic stores.
func (e *Expiry) Publish(when int64) {
	e.next.Store(when)
	e.has.Store(when != None)
	if debug {
		e.verify()
	}
}

// HasTimers reports whether any timer is pending. Safe from any goroutine.
// O(1), one atomic load.
func (e *Expiry) HasTimers() bool { return e.has.Load() }

// Before reports whether a deadline is earlier than the published one, that
// is whether a parked owner must be woken to honour it. Safe from any
// goroutine. O(1), one atomic load.
func (e *Expiry) Before(when int64) bool { return when < e.next.Load() }

// SleepFor returns how long the owner may park, given the current time now:
// the time until the earliest timer, 0 if it is already due, and ok false
// when no timer is pending (park until woken). It reads only the atomics,
// so it needs no lock on the timer store. Safe from any goroutine. O(1), at
// most two atomic loads.
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
		panic("hotloop: cache.Expiry: has-timers flag disagrees with the published deadline")
	}
}
