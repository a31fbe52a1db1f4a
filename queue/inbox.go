package queue

// Inbox design. (For maintainers; the package doc is for users.)
//
// An Inbox is a ring of 2^k slots plus an unbounded overflow slice. The
// ring follows Dmitry Vyukov's bounded MPMC queue specialised to a single
// consumer, except that the consumer hands slots back by advancing one
// word, head, rather than by writing every slot. Position p lives in slot
// p & mask. Every slot carries a publication mark, seq, written only by
// producers:
//
//	seq == p+1        published: position p holds a value for the consumer
//	anything else     not published (never written, or a mark of an
//	                  earlier lap, p-k*cap+1, whose value is gone)
//
// Position p is free for a producer once head > p-cap, that is once the
// consumer has popped position p-cap, the slot's previous occupant.
//
// A producer loads head, then tail (so that head <= tail), and if tail-head
// < cap reserves position p = tail with a compare-and-swap of tail from p to
// p+1; it then writes the value into the slot and publishes it by storing
// seq = p+1. The consumer owns head; it loads the mark of the slot at head,
// and if it equals head+1 it takes the value, zeroes the slot (so the
// garbage collector can free what the value pointed to) and moves on; Drain
// stores head once after a run of values, which saves an atomic store per
// value. Two happens-before edges make the plain accesses to a slot's value
// safe: the producer's store of seq = p+1 before the consumer's load of it
// orders the write of the value before its read; and the consumer's store of
// head > p-cap, loaded by the producer before its reservation, orders the
// consumer's clearing of the slot's previous value before the producer's
// write. A head loaded late only makes the ring look fuller than it is,
// which is safe: Push looks twice before it takes the slow path.
//
// ## Overflow
//
// Push never blocks and never drops a value. When the ring is full a
// producer takes the slow path: under Inbox.mu it sets the overflow flag and
// appends the value to the overflow slice. The flag is the top bit of the
// tail word itself, so "reserve a ring position" and "the flag is clear" are
// one atomic fact: a reservation is a CAS from a tail word whose flag is
// clear, and it fails if the flag was set in between. While the flag is set
// tail does not move and every Push appends to the overflow. Only the
// consumer clears the flag, and it does so under mu, in the same critical
// section in which it takes the whole overflow slice as a batch. The consumer
// takes the overflow only when the flag is set and its head has reached the
// frozen tail position, that is, once every ring position reserved before
// the flag was set has been consumed; and it delivers the whole batch before
// it looks at the ring again.
//
// Growth. With [WithGrowth], the consumer, when it takes an overflow
// batch of at least a quarter of the ring's capacity, installs a larger
// ring (Inbox.ring, an atomic pointer) in the same critical section, before
// it clears the flag. At that moment the ring is empty (head has reached the
// frozen tail) and no position can be reserved (the flag is set), so
// nothing needs moving. Producers use the ring they loaded before their
// reservation only to check for room (an older ring is smaller, which only
// errs towards full), and load the ring again after the reservation CAS to
// write the value: a CAS that succeeds on the cleared tail follows the
// consumer's store of that tail, hence its store of the new ring; a CAS
// that succeeded before the flag was set reserved a position below the
// frozen tail, which the consumer popped from the old ring before growing
// it. So every value is written into the ring the consumer reads it from.
//
// Invariants: (I1) a value is appended to the overflow only under mu and
// only while the flag is set (the appender sets it if needed), so the
// overflow is non-empty only while the flag is set; (I2) only the consumer
// clears the flag, under mu, exactly when it takes the overflow; (I3) while
// the flag is set no ring position is reserved.
//
// Per-producer FIFO. Let one producer push a and then b. There are four
// cases.
//
//   - ring, ring: a's position is smaller than b's (tail only grows), and the
//     consumer pops ring positions in order.
//   - overflow, overflow: both are appended under mu in program order; a batch
//     is delivered in slice order, and batches in the order they were taken.
//   - ring, overflow: a was reserved by a CAS that saw the flag clear; b was
//     appended later with the flag set. So the flag was set (again) after a's
//     reservation, and by (I3) the frozen tail is beyond a's position. The
//     batch containing b is taken only when head has reached that tail, so a
//     has already been popped.
//   - overflow, ring: a was appended with the flag set; b's reservation CAS
//     later saw it clear. By (I2) the consumer cleared it in between, while
//     taking the overflow under mu, and by mutual exclusion that batch
//     already contained a. The consumer delivers the whole batch, a
//     included, before it pops the ring again, so before b.
//
// Values from different producers are ordered only by when their Push
// linearises; the queue promises nothing more.

import (
	"os"
	"sync"
	"unsafe"

	"go.uber.org/atomic"
	"golang.org/x/sys/cpu"
)

// maxCapacity is the largest ring capacity an Inbox has, at first or
// grown: NewInbox and WithGrowth clamp to it. Slot positions are compared
// modulo the range of a uintptr (see slot.seq), which needs capacity <= 1<<30
// on 32-bit platforms.
const maxCapacity = 1 << 30

// overflowFlag is the top bit of Inbox.tail. When set, the ring is closed to
// new reservations and every Push appends to Inbox.overflow. The low 63 bits
// are the tail position, which does not move while the flag is set.
const overflowFlag = uint64(1) << 63

// closedFlag is the second bit of Inbox.tail. Once set (by Close) it is
// never cleared, no position is reserved any more, and every Push fails. A
// Push whose reservation CAS succeeded happened before Close, so its value is
// delivered; that is the whole contract of Close.
const closedFlag = uint64(1) << 62

// flags are the bits of Inbox.tail that are not the position.
const flags = overflowFlag | closedFlag

// slot is one cell of the Inbox ring.
type slot[T any] struct {
	// seq is the slot's publication mark: pos+1 once the producer that
	// reserved position pos has written val (see "Inbox design" at the top of this file).
	// Written only by producers (publish); read only by the consumer. Its
	// atomic store/load pair orders the producer's plain write of val
	// before the consumer's read. (The consumer's release of the slot is
	// ordered by Inbox.head, not by seq.)
	//
	// It is a uintptr rather than a uint64 so that it is naturally aligned
	// inside a []slot[T] on 32-bit platforms; positions are compared modulo
	// 2^(pointer size bits), which is sound because capacity <= 1<<30.
	seq atomic.Uintptr

	// val is written (plain) by the producer that owns the reservation
	// before it stores seq; read and zeroed (plain) by the consumer after it
	// loads seq == pos+1 and before it stores head = pos+1, which is what a
	// producer of position pos+cap loads before it writes val again.
	val T
}

// ring is an Inbox's array of slots: len(slots) is a power of two and mask
// is len(slots)-1. A ring is never resized in place; growing the inbox
// installs a new one.
type ring[T any] struct {
	mask  uint64
	slots []slot[T]
}

// Inbox is a lock-free multi-producer single-consumer FIFO of T.
//
// It is a ring of slots with per-slot publication marks (after Dmitry
// Vyukov's bounded MPMC queue, specialised to one consumer, which releases
// slots by advancing head rather than slot by slot), backed by an unbounded
// overflow slice used only when the ring is full; with [WithGrowth] the
// consumer grows the ring when it overflows. Any goroutine may call
// [Inbox.Push], [Inbox.Close], [Inbox.Len] and [Inbox.Cap]; only the single
// consumer goroutine may call [Inbox.Drain] and [Inbox.Empty]. The protocol,
// and the argument that each producer's values are delivered in the order it
// pushed them, are in the comment at the top of inbox.go.
//
// Memory: the ring (it grows, never shrinks, up to [WithGrowth]'s limit)
// and, while the ring overflows, the overflow slice, which grows with the
// burst. Once the consumer has drained a burst, it keeps an overflow buffer
// of at most max(ring capacity, 1024) values for the next one and drops a
// larger one, so an idle Inbox holds at most about twice its ring.
//
// An Inbox must be created with [NewInbox] and must not be copied.
type Inbox[T any] struct {
	_ cpu.CacheLinePad

	// tail is the next position to reserve (low 62 bits) plus overflowFlag
	// and closedFlag. Producers CAS it to reserve a position (flag clear) or
	// to set the flag (slow path, under mu). The consumer loads it when the
	// ring looks empty, and stores it to clear the flag (under mu; no
	// producer writes tail while the flag is set, so a store cannot lose an
	// update). It is
	// on its own cache line because every producer writes it.
	tail atomic.Uint64

	_ cpu.CacheLinePad

	// head is the next position the consumer will pop. Written only by the
	// consumer, once per run of values Drain takes, after it has read and
	// zeroed their slots; loaded
	// by producers before they reserve a position (position p may be
	// reserved once head > p-cap: the slot's previous value is gone) and by
	// Len. Its store/load pair orders the consumer's zeroing of a slot
	// before the next lap's producer writes it.
	head atomic.Uint64

	// batch is the overflow slice the consumer took from the producers, and
	// next is the index of the next value in it to deliver. Consumer only.
	// Values at indices < next have been zeroed.
	batch []T
	next  int

	_ cpu.CacheLinePad

	// ring is the current array of slots. Set by NewInbox; replaced only by
	// the consumer when it grows the ring (grow, under mu, while the
	// overflow flag is set and the ring is empty); loaded by everyone. It
	// sits on a line of its own that neither tail nor head writes
	// invalidate. See grow for why a producer writes into the ring it
	// loads after its reservation.
	ring atomic.Pointer[ring[T]]

	// maxCap is the largest capacity largerRing may reach (WithGrowth);
	// the ring's own capacity if it may not grow. Set by NewInbox.
	maxCap int

	// bound is TryPush's limit: the ring's initial capacity, which growth
	// (WithGrowth, after Push's overflows) does not raise. Set by NewInbox.
	bound uint64

	// mu guards overflow and the setting/clearing of overflowFlag on the
	// slow path. Producers lock it only when the ring is full or the flag is
	// set; the consumer locks it only to take the overflow.
	mu sync.Mutex

	// overflow holds values pushed while the flag was set, in Push order.
	// Appended by producers, swapped out by the consumer; both under mu.
	overflow []T

	// stamp, if not nil, is called by Push on the value it stores at every
	// ring position p with p&stampMask == stampMask, before publishing it,
	// and on every (stampMask+1)-th overflow value (counted by ovfSeq, under
	// mu): the last of each group, so a long period samples nothing early.
	// Set by NewInbox (WithStamp); read-only afterwards.
	stamp     func(*T)
	stampMask uint64
	ovfSeq    uint64

	// pending is the number of values in overflow plus the undelivered part
	// of batch. Incremented by producers (under mu), decremented by the
	// consumer as it delivers batch values. Read by Len only; orders nothing.
	pending atomic.Int64
}

// mustRing returns r, the Inbox's ring, panicking with a message if there is
// none: the zero Inbox, not made by NewInbox.
func mustRing[T any](r *ring[T]) *ring[T] {
	if r == nil {
		panic("hotloop: queue.Inbox not made by NewInbox; the zero Inbox is not usable")
	}
	return r
}

// keepOverflow is the largest overflow buffer, in values, that the consumer
// keeps for reuse once it has drained it, for a ring of capacity slots:
// as many as the ring holds, and at least 1024.
func keepOverflow(capacity int) int { return max(capacity, 1024) }

// NewInbox returns an empty Inbox whose ring holds capacity values,
// configured by opts. capacity is rounded up to a power of two, at least 2
// and at most 1<<30 (a larger one is clamped: the ring's size only decides
// when Push takes its slower overflow path, never whether it accepts a
// value). The zero Inbox is not usable: make every Inbox with NewInbox
// (Push and Drain on a zero Inbox panic with a message saying so).
//
// It takes O(capacity) time and allocates the ring up front.
func NewInbox[T any](capacity int, opts ...InboxOption[T]) *Inbox[T] {
	n := ringCapacity(capacity)
	q := &Inbox[T]{maxCap: n, bound: uint64(n)}
	r := &ring[T]{mask: uint64(n - 1), slots: make([]slot[T], n)}
	r.faultIn()
	q.ring.Store(r)
	for _, o := range opts {
		if o != nil {
			o(q)
		}
	}
	return q // every seq is 0: no position is published (position p publishes p+1 >= 1)
}

// faultIn writes one slot in each page of r, so that the kernel maps the
// ring's pages now rather than on the producers' first lap: each first
// touch of a page is a page fault, and a fresh Loop's first 4096 posts (a
// page holds about a hundred 40-byte slots) took one about once in a
// hundred, which made the 99th percentile of post-to-callback latency on a
// parked loop 37–43 µs instead of 3–6 µs (docs/BENCHMARKS.md). It stores
// the zero every slot holds already; r must not be shared yet. O(pages).
func (r *ring[T]) faultIn() {
	step := max(1, os.Getpagesize()/int(unsafe.Sizeof(slot[T]{})))
	for i := 0; i < len(r.slots); i += step {
		r.slots[i].seq.Store(0)
	}
}

// ringCapacity is the ring capacity NewInbox makes for a requested
// capacity: a power of two, at least 2 and at most maxCapacity.
func ringCapacity(capacity int) int { return ceilPow2(min(capacity, maxCapacity)) }

// ceilPow2 returns the smallest power of two >= n, and at least 2. n must
// be at most maxCapacity.
func ceilPow2(n int) int {
	c := 2
	for c < n {
		c <<= 1
	}
	return c
}

// An InboxOption configures an Inbox when [NewInbox] makes it. Options
// exist only at construction, so no Push can see an Inbox half configured.
type InboxOption[T any] func(*Inbox[T])

// WithGrowth lets the ring grow, up to factor times its initial capacity
// (rounded up to a power of two, at most 1<<30): when the consumer takes an
// overflow batch of at least a quarter of the ring's capacity, it replaces
// the (then empty) ring with one large enough for twice the ring and that
// batch, so that a producer that keeps outrunning the consumer stops paying
// for the overflow's lock and allocations. The ring never shrinks. A factor
// of 1 or less turns growth off, which is the default. Growing costs the
// consumer O(new capacity) once, in Drain.
func WithGrowth[T any](factor int) InboxOption[T] {
	return func(q *Inbox[T]) {
		c := q.Cap()
		switch {
		case factor <= 1:
			q.maxCap = c
		case factor > maxCapacity/c: // c*factor would exceed the maximum, or overflow an int
			q.maxCap = maxCapacity
		default:
			q.maxCap = ceilPow2(c * factor)
		}
	}
}

// WithStamp makes Push call stamp on one value in every n (n = every,
// rounded up to a power of two), in place, after Push has stored it and
// before the consumer can see it: on the value at every n-th ring position,
// and on every n-th value that takes the overflow. It picks values by the
// position they reserved, so producers share no counter and need no random
// number; the event loop uses it to timestamp a sample of its posts. stamp
// runs on the pushing goroutine and must not touch the inbox; its cost is
// added to the Push that calls it. every == 0 or a nil stamp turns stamping
// off, which is the default.
func WithStamp[T any](every uint64, stamp func(*T)) InboxOption[T] {
	return func(q *Inbox[T]) {
		if every == 0 || stamp == nil {
			q.stamp, q.stampMask = nil, 0
			return
		}
		p := uint64(1)
		for p < every && p < 1<<62 {
			p <<= 1
		}
		q.stamp, q.stampMask = stamp, p-1
	}
}

// Push appends v to the inbox. It may be called from any goroutine,
// including the consumer.
//
// Push reports true when v was accepted, false when the inbox was closed
// (then v is not in the inbox). It never blocks on the consumer and never
// drops an accepted v. While the ring has room it is lock-free and does not
// allocate: O(1) plus retries when other producers win the race for the
// same position. When the ring is full, or values are already waiting in
// the overflow, it appends v to the overflow slice under a mutex: amortised
// O(1), may allocate.
func (q *Inbox[T]) Push(v T) bool {
	full := false
	for {
		h := q.head.Load() // first: head never passes tail, so h <= t below
		t := q.tail.Load()
		if t&closedFlag != 0 {
			return false
		}
		if t&overflowFlag != 0 {
			break // values are queued in the overflow; keep FIFO by joining them
		}
		r := mustRing(q.ring.Load())
		if t-h > r.mask {
			// Position t-cap has not been popped (head <= t-cap): the
			// ring is full. h may be stale, which only errs towards
			// full: look once more before taking the slow path.
			if full {
				return q.pushOverflow(v)
			}
			full = true
			continue
		}
		// Free for position t: try to reserve it. The CAS fails if another
		// producer reserved t or the flag was set meanwhile.
		if q.tail.CompareAndSwap(t, t+1) {
			r = q.ring.Load() // again, after the reservation: see grow
			s := &r.slots[t&r.mask]
			s.val = v
			if q.stamp != nil && t&q.stampMask == q.stampMask {
				q.stamp(&s.val)
			}
			s.seq.Store(uintptr(t + 1)) // publish
			return true
		}
		// t was stale: another producer reserved it. Retry.
	}
	return q.pushOverflow(v)
}

// TryPush appends v to the inbox if it holds fewer values than the ring's
// initial capacity (NewInbox's, which growth does not raise), and never
// takes the overflow: it is the bounded form of Push, for producers that
// would rather wait or give up than let the inbox grow. It reports ok when
// v was accepted; otherwise full reports whether the inbox was at that
// bound (or values were waiting in the overflow, which v must not
// overtake), and !full that the inbox was closed. Safe from any goroutine.
// Lock-free, O(1) plus retries, no allocation.
func (q *Inbox[T]) TryPush(v T) (ok, full bool) {
	for {
		h := q.head.Load() // first: head never passes tail, so h <= t below
		t := q.tail.Load()
		switch {
		case t&closedFlag != 0:
			return false, false
		case t&overflowFlag != 0:
			return false, true // FIFO: values wait in the overflow
		}
		mustRing(q.ring.Load())
		if t-h >= q.bound {
			return false, true // h may be stale: erring towards full, as Push's first look does
		}
		// Reserve and publish as Push does, written out again: one shared
		// helper for the two made Post from one goroutine 11–14 % slower
		// (BenchmarkPost producers=1, benchstat over 10 interleaved runs).
		if q.tail.CompareAndSwap(t, t+1) {
			r := q.ring.Load() // after the reservation: see grow
			s := &r.slots[t&r.mask]
			s.val = v
			if q.stamp != nil && t&q.stampMask == q.stampMask {
				q.stamp(&s.val)
			}
			s.seq.Store(uintptr(t + 1)) // publish
			return true, false
		}
	}
}

// pushOverflow is Push's slow path: it sets the overflow flag (if no one
// else has) and appends v to the overflow, both under mu, which maintains
// invariant I1 of "Inbox design" at the top of this file.
func (q *Inbox[T]) pushOverflow(v T) bool {
	q.mu.Lock()
	for {
		t := q.tail.Load()
		if t&closedFlag != 0 {
			q.mu.Unlock()
			return false
		}
		if t&overflowFlag != 0 || q.tail.CompareAndSwap(t, t|overflowFlag) {
			break
		}
	}
	q.overflow = append(q.overflow, v)
	if q.stamp != nil {
		if q.ovfSeq&q.stampMask == q.stampMask {
			q.stamp(&q.overflow[len(q.overflow)-1])
		}
		q.ovfSeq++
	}
	q.pending.Inc()
	q.mu.Unlock()
	return true
}

// Closed reports whether Close has been called. Safe from any goroutine.
// O(1), one atomic load. Once Closed reports true, a consumer that finds
// [Inbox.Empty] true has taken every value the inbox accepted.
func (q *Inbox[T]) Closed() bool { return q.tail.Load()&closedFlag != 0 }

// Close makes every later Push fail (report false). Values whose Push
// succeeded stay in the inbox for the consumer, and once the consumer sees
// Empty, it has taken all of them: after Close the tail no longer moves, so
// a consumer that calls Drain until Empty reports true, yielding when Drain
// returns 0 (a producer has reserved a position and not yet written it),
// takes every accepted value. It reports whether this call closed the inbox
// (false if it was closed already). Safe from any goroutine. O(1) plus
// retries; takes the overflow mutex, so that no overflow append can slip in
// after it.
func (q *Inbox[T]) Close() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		t := q.tail.Load()
		if t&closedFlag != 0 {
			return false
		}
		if q.tail.CompareAndSwap(t, t|closedFlag) {
			return true
		}
	}
}

// takeOverflow is called by the consumer when nothing is published at head
// h. It takes the overflow as the next batch if it is due and reports
// whether it did (then the batch is not empty). Consumer only.
func (q *Inbox[T]) takeOverflow(h uint64) bool {
	// The overflow may be taken only once head has reached the frozen
	// tail: every ring position reserved before the flag was set has been
	// popped (see "Inbox design" at the top of this file).
	if q.tail.Load()&^closedFlag != h|overflowFlag {
		return false
	}
	// A larger ring, if the overflow shows the ring too small, is made
	// before taking mu (producers go on appending to the overflow
	// meanwhile), with its pages touched, so that neither producers waiting
	// on mu nor the producers' first lap over it pay for that.
	larger := q.largerRing(h, int(q.pending.Load()))
	q.mu.Lock()
	q.batch, q.overflow = q.overflow, q.batch[:0]
	q.next = 0
	closed := q.tail.Load() & closedFlag
	if larger != nil && closed == 0 {
		q.ring.Store(larger) // before the flag is cleared: see largerRing
	}
	q.tail.Store(h | closed) // clear the overflow flag, keep closed; tail has not moved while it was set, and Close takes mu
	q.mu.Unlock()
	return len(q.batch) > 0 // always, while invariant I1 holds
}

// largerRing returns a new ring to replace the current one, given an
// overflow of n values, or nil if the ring is large enough or WithGrowth
// does not allow more: it grows when n is at least a quarter of the
// capacity, to hold twice the ring and the overflow. Its first lap holds
// positions h to h+cap-1; each slot is marked as holding the position one
// lap earlier, so that no mark in it can read as published before a
// producer writes one (a zero mark would, for position 2^k-1 with 2^k the
// range of a uintptr). Consumer only, from
// takeOverflow, which installs the ring under mu, with the overflow flag
// set and head at the frozen tail, so the ring is empty and no position can
// be reserved until the flag is cleared.
//
// A producer may have loaded the old ring, and even the tail value that the
// clearing store will write again (it read tail before the flag was set).
// That is why Push uses the old ring only to check for room (a smaller
// ring only errs towards full) and loads the ring again after its
// reservation CAS: a CAS that succeeds on the cleared tail comes after the
// consumer's store of the cleared tail in the total order of atomics, hence
// after its store of the new ring, so the producer writes into the new
// ring; a CAS that succeeded before the flag was set reserved a position
// below the frozen tail, which the consumer popped from the old ring before
// it could grow it.
func (q *Inbox[T]) largerRing(h uint64, n int) *ring[T] {
	old := len(q.ring.Load().slots)
	if old >= q.maxCap || 4*n < old {
		return nil
	}
	c := old
	for c < 2*(old+n) && c < q.maxCap {
		c <<= 1
	}
	r := &ring[T]{mask: uint64(c - 1), slots: make([]slot[T], c)}
	for p := h; p < h+uint64(c); p++ {
		// This also faults the pages in now, not on the producers' first
		// lap. The ring is not shared yet: the stores order nothing.
		r.slots[p&r.mask].seq.Store(uintptr(p + 1 - uint64(c)))
	}
	return r
}

// Drain removes up to max values from the front of the inbox, in FIFO
// order, calling f on each; it returns how many it removed (0 if max <= 0).
// It is the consumer's only way to take values, and it must be called only by the
// consumer goroutine; f must not call Drain or Empty (it may Push).
//
// f receives a pointer to the value in place, with no copy; the pointer is
// valid only until f returns (the slot is then zeroed, so that the garbage
// collector can free what the value pointed to). Drain stops early when no
// value is published at the front: the inbox is empty, or the next position
// has been reserved by a producer that has not finished writing it (then
// [Inbox.Empty] reports false; yield and call Drain again).
//
// The ring slots are handed back to producers with one atomic store at the
// end of each run of values rather than one per value. O(number removed)
// and allocation-free, except that taking the overflow (once per batch)
// locks the mutex, and growing the ring ([WithGrowth]) allocates the new
// one.
func (q *Inbox[T]) Drain(max int, f func(*T)) int {
	n := 0
	var zero T
	for n < max {
		if q.next < len(q.batch) {
			f(&q.batch[q.next])
			q.popBatch()
			n++
			continue
		}
		h := q.head.Load()
		start := h
		r := mustRing(q.ring.Load())
		for n < max {
			s := &r.slots[h&r.mask]
			if s.seq.Load() != uintptr(h+1) {
				break
			}
			f(&s.val)
			s.val = zero
			h++
			n++
		}
		if h != start {
			q.head.Store(h) // release the slots to the producers of positions up to h-1+cap
			continue
		}
		// Nothing published at head: take the overflow if it is due, and
		// go on with it.
		if !q.takeOverflow(h) {
			break
		}
	}
	return n
}

// popBatch removes the next value of batch, which Drain has handed to its
// f, zeroing it. The caller has checked that one remains; a non-empty
// overflow always goes with the flag set (invariant I1), so a freshly taken
// batch is never empty.
func (q *Inbox[T]) popBatch() {
	var zero T
	q.batch[q.next] = zero
	q.next++
	q.pending.Dec()
	if q.next == len(q.batch) {
		// Keep the buffer to hand back to producers as the next overflow,
		// so sustained overload does not allocate — but only up to the
		// ring's capacity: a buffer a burst grew beyond that is dropped
		// once drained, so an idle inbox holds at most its ring and an
		// overflow buffer as large (the bound in Inbox's doc).
		if cap(q.batch) > keepOverflow(len(q.ring.Load().slots)) {
			q.batch = nil
		} else {
			q.batch = q.batch[:0]
		}
		q.next = 0
	}
}

// Empty reports whether the inbox holds nothing, conservatively. It must be
// called only by the consumer goroutine.
//
// Empty reports false if any Push has reserved a ring position that the
// consumer has not taken (tail != head), even if the value is not yet
// published; if the overflow flag is set; or if values the consumer took
// from the overflow are still undelivered. So once a Push has returned, or
// is far enough along to have touched tail, Empty reports false until that
// value is taken. Empty is one sequentially consistent load of tail, and
// every Push a sequentially consistent read-modify-write or load of it
// (see "Waking a consumer" in the package comment). O(1), one load of
// each of tail and head.
func (q *Inbox[T]) Empty() bool {
	return q.next == len(q.batch) && q.tail.Load()&^closedFlag == q.head.Load()
}

// Len returns the approximate number of values in the inbox: reserved ring
// positions plus overflow values. It may be called from any goroutine; the
// parts are read at slightly different times, so the result is meant for
// statistics only. O(1).
func (q *Inbox[T]) Len() int {
	h := q.head.Load()
	t := q.tail.Load() &^ flags
	n := int64(0)
	if t > h {
		n = int64(t - h)
	}
	return int(n + max(q.pending.Load(), 0))
}

// Cap returns the capacity of the ring: the number of values Push can hold
// without taking the slower overflow path. It is the initial capacity, or
// larger once the ring has grown ([WithGrowth]), and with Len the one way
// to see what memory an inbox holds. Safe from any goroutine. O(1).
func (q *Inbox[T]) Cap() int {
	return len(q.ring.Load().slots)
}
