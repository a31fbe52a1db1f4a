package queue

import (
	"fmt"
	"sync"

	"go.uber.org/atomic"
	"golang.org/x/sys/cpu"
)

// MaxInboxCapacity is the largest ring capacity [NewInbox] accepts.
const MaxInboxCapacity = 1 << 30

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
	// seq is the slot's sequence number (see the package comment for its
	// states). Written by the producer that reserved the slot (publish,
	// seq = pos+1) and by the consumer (release, seq = pos+cap); read by
	// both. Its atomic store/load pairs order the plain accesses to val.
	//
	// It is a uintptr rather than a uint64 so that it is naturally aligned
	// inside a []slot[T] on 32-bit platforms; positions are compared modulo
	// 2^(pointer size bits), which is sound because capacity <= 1<<30.
	seq atomic.Uintptr

	// val is written (plain) by the producer that owns the reservation
	// before it stores seq; read and zeroed (plain) by the consumer after it
	// loads seq == pos+1 and before it stores seq = pos+cap.
	val T
}

// Inbox is a lock-free multi-producer single-consumer FIFO of T.
//
// It is a bounded ring of slots with per-slot sequence numbers (Dmitry
// Vyukov's bounded MPMC design, specialised to one consumer), backed by an
// unbounded overflow slice used only when the ring is full. Any goroutine may
// call [Inbox.Push], [Inbox.Len] and [Inbox.Cap]; only the single consumer
// goroutine may call [Inbox.Pop] and [Inbox.Empty]. See the package comment
// for the protocol and the argument that each producer's values are popped
// in the order it pushed them.
//
// An Inbox must be created with [NewInbox] and must not be copied.
type Inbox[T any] struct {
	_ cpu.CacheLinePad

	// tail is the next position to reserve (low 63 bits) plus overflowFlag.
	// Producers CAS it to reserve a position (flag clear) or to set the
	// flag (slow path, under mu). The consumer loads it when the ring looks
	// empty, and stores it to clear the flag (under mu; no producer writes
	// tail while the flag is set, so a store cannot lose an update). It is
	// on its own cache line because every producer writes it.
	tail atomic.Uint64

	_ cpu.CacheLinePad

	// head is the next position the consumer will pop. Written only by the
	// consumer; atomic only so that Len may read it from any goroutine.
	// It orders nothing: slot hand-off is ordered by slot.seq.
	head atomic.Uint64

	// batch is the overflow slice the consumer took from the producers, and
	// next is the index of the next value in it to deliver. Consumer only.
	// Values at indices < next have been zeroed.
	batch []T
	next  int

	_ cpu.CacheLinePad

	// mask is len(slots)-1 and slots is the ring. Both are set by NewInbox
	// and read-only afterwards (read by everyone), so they sit on a line of
	// their own that neither tail nor head writes invalidate.
	mask  uint64
	slots []slot[T]

	// mu guards overflow and the setting/clearing of overflowFlag on the
	// slow path. Producers lock it only when the ring is full or the flag is
	// set; the consumer locks it only to take the overflow.
	mu sync.Mutex

	// overflow holds values pushed while the flag was set, in Push order.
	// Appended by producers, swapped out by the consumer; both under mu.
	overflow []T

	// pending is the number of values in overflow plus the undelivered part
	// of batch. Incremented by producers (under mu), decremented by the
	// consumer as it delivers batch values. Read by Len only; orders nothing.
	pending atomic.Int64
}

// NewInbox returns an empty Inbox whose ring holds capacity values.
// capacity is rounded up to a power of two, with a minimum of 2. NewInbox
// panics if capacity exceeds [MaxInboxCapacity].
//
// It takes O(capacity) time and allocates the ring up front.
func NewInbox[T any](capacity int) *Inbox[T] {
	if capacity > MaxInboxCapacity {
		panic(fmt.Sprintf("queue: NewInbox capacity %d exceeds the maximum %d (1<<30)", capacity, MaxInboxCapacity))
	}
	n := 2
	for n < capacity {
		n <<= 1
	}
	q := &Inbox[T]{
		mask:  uint64(n - 1),
		slots: make([]slot[T], n),
	}
	for i := range q.slots {
		q.slots[i].seq.Store(uintptr(i))
	}
	return q
}

// Push appends v to the inbox. It may be called from any goroutine,
// including the consumer.
//
// Push reports true when v was accepted, false when the inbox was closed
// (then v is not in the inbox). It never blocks on the consumer and never
// drops an accepted v. While the ring has
// room it is lock-free and does not allocate: O(1) plus retries when other
// producers win the race for the same position. When the ring is full, or
// values are already waiting in the overflow, it appends v to the overflow
// slice under a mutex: amortised O(1), may allocate.
func (q *Inbox[T]) Push(v T) bool {
	for {
		t := q.tail.Load()
		if t&closedFlag != 0 {
			return false
		}
		if t&overflowFlag != 0 {
			break // values are queued in the overflow; keep FIFO by joining them
		}
		s := &q.slots[t&q.mask]
		dif := int(s.seq.Load() - uintptr(t))
		switch {
		case dif == 0:
			// Free for position t: try to reserve it. The CAS fails if
			// another producer reserved t or the flag was set meanwhile.
			if q.tail.CompareAndSwap(t, t+1) {
				s.val = v
				s.seq.Store(uintptr(t + 1)) // publish
				return true
			}
		case dif < 0:
			// The slot still holds position t-cap: the ring is full.
			return q.pushOverflow(v)
		}
		// dif > 0: t was stale; another producer reserved it. Retry.
	}
	return q.pushOverflow(v)
}

// pushOverflow is Push's slow path: it sets the overflow flag (if no one
// else has) and appends v to the overflow, both under mu, which maintains
// invariant I1 of the package comment.
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
	q.pending.Inc()
	q.mu.Unlock()
	return true
}

// Close makes every later Push fail (report false). Values whose Push
// succeeded stay in the inbox for the consumer, and once the consumer sees
// Empty, it has taken all of them: after Close the tail no longer moves. It
// reports whether this call closed the inbox (false if it was closed
// already). Safe from any goroutine. O(1) plus retries; takes the overflow
// mutex, so that no overflow append can slip in after it.
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

// Closed reports whether Close has been called. Safe from any goroutine.
// O(1).
func (q *Inbox[T]) Closed() bool { return q.tail.Load()&closedFlag != 0 }

// Pop removes and returns the value at the front of the inbox. It must be
// called only by the consumer goroutine.
//
// ok is false when no value is published yet: the inbox is empty, or the
// next position has been reserved by a producer that has not finished
// writing it (then [Inbox.Empty] reports false; yield and retry).
//
// The slot or overflow entry the value came from is zeroed so that the
// garbage collector can free what v points to. O(1) and allocation-free,
// except that taking the overflow (once per batch) locks the mutex.
func (q *Inbox[T]) Pop() (v T, ok bool) {
	if q.next < len(q.batch) {
		return q.popBatch(), true
	}
	h := q.head.Load()
	s := &q.slots[h&q.mask]
	if s.seq.Load() == uintptr(h+1) {
		v = s.val
		var zero T
		s.val = zero
		s.seq.Store(uintptr(h + q.mask + 1)) // release the slot for the next lap
		q.head.Store(h + 1)
		return v, true
	}
	// Nothing published at head. The overflow may be taken only once head
	// has reached the frozen tail: every ring position reserved before the
	// flag was set has been popped (see the package comment).
	if q.tail.Load()&^closedFlag != h|overflowFlag {
		return v, false
	}
	q.mu.Lock()
	q.batch, q.overflow = q.overflow, q.batch[:0]
	q.next = 0
	q.tail.Store(h | q.tail.Load()&closedFlag) // clear the overflow flag, keep closed; tail has not moved while it was set, and Close takes mu
	q.mu.Unlock()
	if len(q.batch) == 0 {
		return v, false // unreachable while invariant I1 holds
	}
	return q.popBatch(), true
}

// popBatch delivers the next value of batch. The caller has checked that one
// remains; a non-empty overflow always goes with the flag set (invariant I1),
// so a freshly taken batch is never empty.
func (q *Inbox[T]) popBatch() T {
	v := q.batch[q.next]
	var zero T
	q.batch[q.next] = zero
	q.next++
	q.pending.Dec()
	if q.next == len(q.batch) {
		// Keep the buffer to hand back to producers as the next overflow,
		// so sustained overload does not allocate; but drop a large buffer
		// that this batch used less than a quarter of, so the memory of a
		// past burst is released once the load falls. (A buffer grown by
		// the last burst stays until the next overflow shows it too big.)
		if cap(q.batch) > 1024 && 4*len(q.batch) < cap(q.batch) {
			q.batch = nil
		} else {
			q.batch = q.batch[:0]
		}
		q.next = 0
	}
	return v
}

// Empty reports whether the inbox holds nothing, conservatively. It must be
// called only by the consumer goroutine.
//
// Empty reports false if any Push has reserved a ring position that the
// consumer has not popped (tail != head), even if the value is not yet
// published; if the overflow flag is set; or if values the consumer took
// from the overflow are still undelivered. So once a Push has returned, or
// is far enough along to have touched tail, Empty reports false until that
// value is popped. With sequentially consistent atomics this is what makes
// the park protocol in the package comment free of lost wake-ups. O(1).
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

// Cap returns the capacity of the ring (the number of values Push can hold
// without taking the slow path). O(1).
func (q *Inbox[T]) Cap() int {
	return len(q.slots)
}
