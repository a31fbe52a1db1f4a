package core

import (
	"fmt"

	"github.com/hotloop/hotloop/wheel"
)

// TimerStore names the data structure that holds a Loop's pending timers;
// choose it with [WithTimerStore]. Both give the same results: timers fire
// at or after their exact deadline, in deadline order, equal deadlines in
// scheduling order, and the loop parks until exactly the next deadline.
// They differ in cost; docs/WHEEL.md has the measurements.
type TimerStore uint8

const (
	// StoreHeap keeps timers in a 4-ary min-heap (wheel.Heap), like Go's
	// runtime: O(log n) schedule, stop and reset, and the least memory and
	// overhead for small n. The default.
	StoreHeap TimerStore = iota
	// StoreWheel keeps timers in a hierarchical timing wheel with an exact
	// near heap (wheel.Wheel): O(1) schedule, stop and reset, for loops that
	// hold 10^5 or more timers, most of them stopped or reset before they
	// fire (timeouts).
	StoreWheel
)

// String returns the store's name, as in "heap" or "wheel".
func (s TimerStore) String() string {
	switch s {
	case StoreHeap:
		return "heap"
	case StoreWheel:
		return "wheel"
	}
	return fmt.Sprintf("TimerStore(%d)", uint8(s))
}

// WithTimerStore selects the data structure for the loop's pending timers
// (default StoreHeap). It panics, naming the value, for a TimerStore that
// is not one of the constants.
func WithTimerStore(s TimerStore) Option {
	if s != StoreHeap && s != StoreWheel {
		panic("hotloop: WithTimerStore: unknown " + s.String())
	}
	return func(c *config) { c.store = s }
}

// timerStore is what the loop calls on its timer store: an ordered set of
// timer nodes keyed by (When, Seq), owned by the loop goroutine. Both of
// package wheel's stores have these methods; see their docs for the costs.
type timerStore interface {
	// Len returns the number of timers held.
	Len() int
	// Remove removes n if the store holds it and reports whether it did.
	Remove(n *timerNode) bool
	// Update sets n's key to (when, seq), adding n if it is in no store.
	Update(n *timerNode, when int64, seq uint64)
	// Next returns the earliest deadline held; ok is false when empty.
	Next() (when int64, ok bool)
	// PopDue removes and returns the earliest timer if its deadline is
	// <= now, and returns nil otherwise.
	PopDue(now int64) *timerNode
}

// Compile-time checks that both stores are timerStores.
var (
	_ timerStore = (*wheel.Heap[timer])(nil)
	_ timerStore = (*wheel.Wheel[timer])(nil)
)

// newTimers returns an empty store of the kind s.
func (s TimerStore) newTimers() timerStore {
	if s == StoreWheel {
		return new(wheel.Wheel[timer])
	}
	return new(wheel.Heap[timer])
}
