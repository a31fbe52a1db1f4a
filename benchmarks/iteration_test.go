package benchmarks

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hotloop/hotloop/cache"
	"github.com/hotloop/hotloop/internal/seedtree"
	"github.com/hotloop/hotloop/queue"
)

// iterationTimers is how many timers BenchmarkIteration/timers holds.
const iterationTimers = 10000

// seedBatch is the seed's callback batch.
const seedBatch = 128

// seedLoop is the state the seed replica's iteration touches
// (benchmarks/compare/internal/impl/seed.go): callbacks in a slice behind
// one mutex, timers in a lockedStore behind another.
type seedLoop struct {
	closed atomic.Bool

	cbMu sync.Mutex
	cbs  []func()

	timers *lockedStore

	batch   []func() // loop only
	expired []func() // loop only
}

// pass is one iteration of the seed replica's loop, up to the sleep: run up
// to 128 callbacks taken under the callback lock; take every expired timer
// under the timer lock and run it; if no callback waits (callback lock
// again), compute the sleep, capped at 1 ms, from the first key (timer lock
// again). It returns the sleep, or 0 when callbacks wait. With nothing to
// do it takes four locks and walks the tree to its first key twice: O(log n).
func (s *seedLoop) pass(now int64) int64 {
	if s.closed.Load() {
		return 0
	}
	// 1. Up to 128 callbacks.
	s.cbMu.Lock()
	n := min(len(s.cbs), seedBatch)
	s.batch = append(s.batch[:0], s.cbs[:n]...)
	clear(s.cbs[:n])
	s.cbs = s.cbs[n:]
	s.cbMu.Unlock()
	for i, fn := range s.batch {
		fn()
		s.batch[i] = nil
	}
	// 2. Every expired timer.
	t := s.timers
	t.mu.Lock()
	for {
		node := t.tree.Left()
		if node == nil || node.Key.(seedtree.Key).When > now {
			break
		}
		s.expired = append(s.expired, node.Value.(func()))
		t.tree.Remove(node.Key)
	}
	t.mu.Unlock()
	for i, fn := range s.expired {
		fn()
		s.expired[i] = nil
	}
	s.expired = s.expired[:0]
	// 3. Sleep only when no callback waits: min(next expiry - now, 1 ms).
	s.cbMu.Lock()
	hasTasks := len(s.cbs) > 0
	s.cbMu.Unlock()
	if hasTasks {
		return 0
	}
	sleep := seedMaxSleep
	t.mu.Lock()
	if node := t.tree.Left(); node != nil {
		sleep = min(sleep, node.Key.(seedtree.Key).When-now)
	}
	t.mu.Unlock()
	return sleep
}

// hotPass is the state hotloop's iteration touches (core/run.go,
// core/park.go), built from hotloop's own pieces: the control word, the
// lock-free inbox, the ready ring, the loop's private timer store and the
// expiry cache it publishes.
type hotPass struct {
	control atomic.Uint32
	inbox   *queue.Inbox[func()]
	ready   queue.Ring[func()]
	timers  *cachedStore  // the store and the Expiry; this goroutine owns the store
	pubWhen int64         // the deadline last published
	handle  func(*func()) // moves a drained callback to ready
}

// newHotPass returns a hotPass holding c's timers.
func newHotPass(c *cachedStore) *hotPass {
	h := &hotPass{inbox: queue.NewInbox[func()](4096), timers: c}
	h.handle = func(fn *func()) { h.ready.PushBack(*fn) }
	h.pubWhen, _ = c.timers.Next()
	if c.timers.Len() == 0 {
		h.pubWhen = cache.None
	}
	return h
}

// pass is one iteration of hotloop's loop with nothing to do, up to the
// park: load the control word; drain the inbox (Drain finds nothing); run
// the ready queue (PopFront finds nothing); if there are timers, ask the
// store for a due one (none); publish the earliest deadline if it changed
// (it did not); then the park decision: the sleep from the expiry cache,
// and the inbox checked once more. It returns the sleep, and false for "park
// with no deadline". No lock; O(1) for a heap.
func (h *hotPass) pass(now int64) (int64, bool) {
	if h.control.Load() != 0 {
		return 0, true
	}
	h.inbox.Drain(1024, h.handle) // core drains up to WithBatch (default 1024)
	if fn, ok := h.ready.PopFront(); ok {
		fn()
	}
	ts := &h.timers.timers
	if ts.Len() > 0 {
		if n := ts.PopDue(now); n != nil {
			panic("benchmarks: a timer fell due")
		}
	}
	when, ok := ts.Next()
	if !ok {
		when = cache.None
	}
	if when != h.pubWhen {
		h.pubWhen = when
		h.timers.expiry.Publish(when)
	}
	d, timed := h.timers.expiry.SleepFor(now)
	if !h.inbox.Empty() || (timed && d == 0) {
		return 0, true
	}
	return d, timed
}

// BenchmarkIteration measures one pass of the loop's hot path with nothing
// ready, with no timers (idle) and with 10,000 pending ones, none due
// (timers): the seed's iteration (impl=locked: four mutex acquisitions and
// two walks to the tree's first key) against hotloop's (impl=cached: atomic
// loads and the loop's own lock-free store). The park or sleep itself is
// not included. Package core's BenchmarkIdleIteration measures a real
// core.Loop's pass.
func BenchmarkIteration(b *testing.B) {
	for _, st := range []struct {
		name string
		n    int
	}{{"idle", 0}, {"timers", iterationTimers}} {
		b.Run(st.name, func(b *testing.B) {
			b.Run("impl=locked", func(b *testing.B) {
				s := &seedLoop{timers: newLockedStore(st.n)}
				var acc int64
				for b.Loop() {
					acc += s.pass(now0)
				}
				sink = acc
			})
			b.Run("impl=cached", func(b *testing.B) {
				h := newHotPass(newCachedStore(st.n))
				var acc int64
				for b.Loop() {
					d, _ := h.pass(now0)
					acc += d
				}
				sink = acc
			})
		})
	}
}
