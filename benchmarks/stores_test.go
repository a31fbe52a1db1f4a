package benchmarks

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/emirpasic/gods/trees/redblacktree"

	"github.com/hotloop/hotloop/cache"
	"github.com/hotloop/hotloop/internal/seedtree"
	"github.com/hotloop/hotloop/wheel"
)

// now0 is the time, in nanoseconds on an arbitrary monotonic clock, at which
// the next-expiry and iteration suites ask their question. The clock read
// itself is the same in both designs and is left out.
const now0 int64 = 1 << 40

// The N timers of a store are due between now0+timersMin and
// now0+timersMin+timersSpan, in a pseudo-random order fixed by N.
const (
	timersMin  = int64(time.Hour)
	timersSpan = int64(time.Hour)
)

// churnWhen is the deadline of the head writer's timer: earlier than every
// other, so each insertion and removal changes the earliest deadline.
const churnWhen = now0 + timersMin - 1

// deadlines returns the n deadlines of a store of n timers. O(n).
func deadlines(n int) []int64 {
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	ws := make([]int64, n)
	for i := range ws {
		ws[i] = now0 + timersMin + rng.Int64N(timersSpan)
	}
	return ws
}

// seedMaxSleep is the seed's 1 ms cap on a sleep.
const seedMaxSleep = int64(time.Millisecond)

// lockedStore is the seed's timer store: a gods red-black tree keyed by
// seedtree.Key (expiry, sequence), behind a sync.Mutex that every reader
// and writer takes.
type lockedStore struct {
	mu   sync.Mutex
	tree *redblacktree.Tree // seedtree.Key -> func()
	seq  uint64             // last sequence number given; guarded by mu
}

// newLockedStore returns a lockedStore holding n timers. O(n log n), and two
// allocations per timer (the tree node and the boxed key).
func newLockedStore(n int) *lockedStore {
	s := &lockedStore{tree: seedtree.New()}
	for _, w := range deadlines(n) {
		s.seq++
		s.tree.Put(seedtree.Key{When: w, Seq: s.seq}, noop)
	}
	return s
}

// sleepFor is the seed's calculate_sleep_duration: lock the store, read its
// first key, compute the sleep until it is due (0 if it is). ok is false
// when there are no timers. O(log n): gods finds the first key by walking
// left from the root.
func (s *lockedStore) sleepFor(now int64) (d int64, ok bool) {
	s.mu.Lock()
	node := s.tree.Left()
	if node == nil {
		s.mu.Unlock()
		return 0, false
	}
	when := node.Key.(seedtree.Key).When
	s.mu.Unlock()
	if when <= now {
		return 0, true
	}
	return when - now, true
}

// churn is one step of the contended writer: insert a timer due at when
// under the lock, then remove it under the lock, as the seed's AfterFunc and
// Stop do. O(log n); the insertion allocates.
func (s *lockedStore) churn(when int64) {
	s.mu.Lock()
	s.seq++
	k := seedtree.Key{When: when, Seq: s.seq}
	s.tree.Put(k, noop)
	s.mu.Unlock()
	s.mu.Lock()
	s.tree.Remove(k)
	s.mu.Unlock()
}

// first returns the earliest deadline under the lock, for tests.
func (s *lockedStore) first() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if node := s.tree.Left(); node != nil {
		return node.Key.(seedtree.Key).When, true
	}
	return 0, false
}

// cachedStore is hotloop's arrangement: a timer store owned by one
// goroutine (the writer, standing for the loop), with no lock, and the
// cache.Expiry it publishes its earliest deadline into for everyone else.
type cachedStore struct {
	expiry *cache.Expiry

	// Owner only.
	timers  wheel.Heap[struct{}]
	nodes   []wheel.Entry[struct{}]
	extra   wheel.Entry[struct{}] // the contended writer's timer
	seq     uint64
	pubWhen int64 // the deadline last published, or cache.None
}

// newCachedStore returns a cachedStore holding n timers, published. O(n log
// n), one allocation for all the entries.
func newCachedStore(n int) *cachedStore {
	c := &cachedStore{expiry: cache.New(), nodes: make([]wheel.Entry[struct{}], n), pubWhen: cache.None}
	for i, w := range deadlines(n) {
		c.seq++
		c.timers.Update(&c.nodes[i], w, c.seq)
	}
	c.publish()
	return c
}

// publish stores the earliest deadline into the expiry cache if it changed,
// as hotloop's loop does after each iteration. Owner only. O(1).
func (c *cachedStore) publish() {
	when, ok := c.timers.Next()
	if !ok {
		when = cache.None
	}
	if when != c.pubWhen {
		c.pubWhen = when
		c.expiry.Publish(when)
	}
}

// churn is one step of the contended writer: insert a timer due at when
// and publish, then remove it and publish, as hotloop's loop does when it
// applies an AfterFunc and a Stop. Owner only. O(log n), no allocation.
func (c *cachedStore) churn(when int64) {
	c.seq++
	c.timers.Update(&c.extra, when, c.seq)
	c.publish()
	c.timers.Remove(&c.extra)
	c.publish()
}

// A writer chooses the deadlines of the timers a contended writer inserts
// and removes. Called from the writer's goroutine only.
type writer struct {
	name string
	when func() func() int64 // a fresh generator for each writer goroutine
}

// writers are the contended suites' writers. head inserts a timer earlier
// than every other, so each insertion and each removal changes the earliest
// deadline and the cached side publishes every time: the cache's worst
// case. spread inserts timers due uniformly among the pending ones, as new
// timeouts mostly are, so the earliest deadline changes about twice in N+1
// writes and the cached side seldom publishes.
var writers = []writer{
	{"head", func() func() int64 { return func() int64 { return churnWhen } }},
	{"spread", func() func() int64 {
		rng := rand.New(rand.NewPCG(11, 13))
		return func() int64 { return now0 + timersMin + rng.Int64N(timersSpan) }
	}},
}

// fixtures caches the stores of the next-expiry suites by N, so that the
// sub-benchmarks of one suite, and the uncontended and contended suites,
// share them instead of building them for each run. The locked stores are
// dropped once a suite's impl=locked sub-benchmarks are done (releaseLocked):
// the testing package collects garbage before every benchmark run, and with
// a gods tree of a million nodes alive that takes longer than the runs
// themselves. Rebuilding one costs about a second.
var fixtures struct {
	mu     sync.Mutex
	locked map[int]*lockedStore
	cached map[int]*cachedStore
}

// lockedFixture returns the shared lockedStore of n timers, building it on
// first use.
func lockedFixture(n int) *lockedStore {
	fixtures.mu.Lock()
	defer fixtures.mu.Unlock()
	if s := fixtures.locked[n]; s != nil {
		return s
	}
	if fixtures.locked == nil {
		fixtures.locked = make(map[int]*lockedStore)
	}
	s := newLockedStore(n)
	fixtures.locked[n] = s
	return s
}

// cachedFixture returns the shared cachedStore of n timers, building it on
// first use.
func cachedFixture(n int) *cachedStore {
	fixtures.mu.Lock()
	defer fixtures.mu.Unlock()
	if c := fixtures.cached[n]; c != nil {
		return c
	}
	if fixtures.cached == nil {
		fixtures.cached = make(map[int]*cachedStore)
	}
	c := newCachedStore(n)
	fixtures.cached[n] = c
	return c
}

// releaseLocked drops the shared locked stores.
func releaseLocked() {
	fixtures.mu.Lock()
	defer fixtures.mu.Unlock()
	fixtures.locked = nil
}

// releaseFixtures drops every shared store, so that the garbage collector
// does not scan millions of tree nodes and entries during the suites that
// follow.
func releaseFixtures() {
	fixtures.mu.Lock()
	defer fixtures.mu.Unlock()
	fixtures.locked, fixtures.cached = nil, nil
}

func noop() {}

// itoa formats a non-negative n in decimal.
func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
