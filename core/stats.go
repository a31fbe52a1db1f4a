package core

import "go.uber.org/atomic"

// Stats is a snapshot of a Loop's counters, from [Loop.Stats].
type Stats struct {
	Callbacks       uint64 // callbacks run (posts, not timers), including ones that panicked
	Panics          uint64 // callbacks and timer callbacks that panicked
	TimersFired     uint64 // timer callbacks run
	TimersCancelled uint64 // timers cancelled by Close or Shutdown
	ResetsRefused   uint64 // Resets after Close or Shutdown that did not arm their timer (it was stopped or fired, or the loop had finished)
	TimersPending   int    // timers in the store at the last publication (stopped ones not yet taken out included; timers a running callback made through Local count once it returns)
	Iterations      uint64 // passes of the loop's hot path
	Parks           uint64 // times the loop parked with nothing to do (with WithBusyPoll, a park that the poll ended counts too)
	Wakeups         uint64 // times the loop resumed from a park, for any reason
	Kicks           uint64 // wake-ups sent by other goroutines (posts, earlier timers, Loop.Pause, Close) to a parked loop
	InboxLen        int    // messages waiting in the inbox and the Producers' lanes (approximate)
}

// Add adds o's counters to s, gauges (TimersPending, InboxLen) included:
// the totals of several loops. O(1).
func (s *Stats) Add(o Stats) {
	s.Callbacks += o.Callbacks
	s.Panics += o.Panics
	s.TimersFired += o.TimersFired
	s.TimersCancelled += o.TimersCancelled
	s.ResetsRefused += o.ResetsRefused
	s.TimersPending += o.TimersPending
	s.Iterations += o.Iterations
	s.Parks += o.Parks
	s.Wakeups += o.Wakeups
	s.Kicks += o.Kicks
	s.InboxLen += o.InboxLen
}

// statsCounts are the loop's own counters. Loop goroutine only.
type statsCounts struct {
	callbacks, panics, fired, cancelled, iterations, parks, wakeups uint64
}

// statsAtomics are the counters as last published by the loop, for Stats.
// Written by the loop (publishStats), except kicks and refused, which
// wakers and Resets add to; read by any goroutine.
type statsAtomics struct {
	callbacks, panics, fired, cancelled, iterations, parks, wakeups, kicks, refused atomic.Uint64
	pending                                                                         atomic.Int64
}

// statsEvery is how many iterations of a busy loop share one publication
// of the counters and the histograms' sums: each publication costs several
// atomic stores, as much as a short iteration itself. The loop also
// publishes before each park and when it lets go of the loop.
const statsEvery = 64

// publishStats copies the loop's counters to the atomics Stats reads. It
// stores only what changed, so an idle iteration costs a few compares.
// Loop goroutine only.
func (l *Loop) publishStats() {
	l.sincePub = 0
	c, a := &l.counts, &l.stats
	set := func(dst *atomic.Uint64, v uint64) {
		if dst.Load() != v {
			dst.Store(v)
		}
	}
	set(&a.callbacks, c.callbacks)
	set(&a.panics, c.panics)
	set(&a.fired, c.fired)
	set(&a.cancelled, c.cancelled)
	set(&a.iterations, c.iterations)
	set(&a.parks, c.parks)
	set(&a.wakeups, c.wakeups)
	if p := int64(l.timers.Len()); a.pending.Load() != p {
		a.pending.Store(p)
	}
	l.health.flush() // the histograms' sums and maxima (health.go)
}

// Stats returns the loop's counters as the loop last published them: before
// each park, when Run returns, and every 64 iterations while the loop is
// busy. Safe from any goroutine.
func (l *Loop) Stats() Stats {
	l.mustNew()
	a := &l.stats
	return Stats{
		Callbacks:       a.callbacks.Load(),
		Panics:          a.panics.Load(),
		TimersFired:     a.fired.Load(),
		TimersCancelled: a.cancelled.Load() + l.late.cancelled.Load(),
		ResetsRefused:   a.refused.Load(),
		TimersPending:   int(a.pending.Load()),
		Iterations:      a.iterations.Load(),
		Parks:           a.parks.Load(),
		Wakeups:         a.wakeups.Load(),
		Kicks:           a.kicks.Load(),
		InboxLen:        l.inbox.Len() + l.lanes.len(),
	}
}
