package wheel

import (
	"errors"
	"fmt"
)

// debug makes every mutating method of Heap and Wheel check the store's
// invariants after it runs, panicking on the first violation. It costs O(n)
// per operation; tests call the checks directly instead.
//
// Each store has an unexported verify method that checks its invariants
// and returns the first violation: for the heap, heap order, recorded
// positions and cached keys; for the wheel, every timer filed at the level
// and slot its key and the position call for, arena cells, blocks,
// bitmaps, counts and cached minimums, and the near heap. Tests call it
// after every operation.
const debug = false

// arity is the heap's branching factor: the children of slot i are slots
// arity*i+1 through arity*i+arity, and its parent is slot (i-1)/arity.
// Four matches Go's runtime timer heap.
const arity = 4

// slot is one heap position: the entry and a copy of its key. Keeping the key
// next to the pointer (as the runtime's timerWhen does) lets comparisons scan
// the slice without dereferencing entries.
type slot[T any] struct {
	when int64
	seq  uint64
	e    *Entry[T]
}

// Heap is a timer store: a 4-ary min-heap of entries ordered by (When,
// Seq), the layout Go's runtime uses for its timers (src/runtime/time.go).
// A 4-ary heap is half as deep as a binary heap, so sifting up (scheduling,
// or moving a timer earlier) touches half as many levels, and the four
// children compared when sifting down sit next to each other in memory. As
// in the runtime, each heap slot caches the entry's key next to the entry
// pointer, so comparisons never dereference an Entry. Unlike the runtime,
// which deletes lazily, each Entry records its own position, so Remove and
// Update are O(log n) removals and fixes in place, with no tombstones left
// behind.
//
// The zero Heap is empty and ready to use. A Heap must not be copied after
// first use and is not safe for concurrent use. The backing slice is reused
// and never shrunk: a Heap keeps the capacity for the most entries it has
// held at once, and in steady state no method allocates. Drop the Heap to
// release that memory.
//
// Entries with equal (When, Seq) come out in an unspecified order; owners
// give every schedule a distinct Seq.
type Heap[T any] struct {
	s []slot[T]
}

// Len returns the number of entries in h. It is O(1).
func (h *Heap[T]) Len() int { return len(h.s) }

// push appends e and sifts it up; e is known to be in no store.
func (h *Heap[T]) push(e *Entry[T]) {
	i := len(h.s)
	h.s = append(h.s, slot[T]{when: e.when, seq: e.seq, e: e})
	e.index = i + 1
	h.up(i)
}

// Remove removes e from h and reports whether h held it: it is how an entry
// is cancelled. It returns false, changing nothing, if e is in no store or
// in another store. It is O(log n).
func (h *Heap[T]) Remove(e *Entry[T]) bool {
	i, ok := h.find(e)
	if !ok {
		return false
	}
	h.removeAt(i)
	if debug {
		h.mustVerify()
	}
	return true
}

// Update sets e's key to (when, seq) and moves e to its new place, adding e
// if it is in no store: it is how an entry is scheduled and rescheduled. It
// panics, leaving e unchanged, if e is held by another store. It is
// O(log n), amortised over the growth of the backing slice.
func (h *Heap[T]) Update(e *Entry[T], when int64, seq uint64) {
	i, ok := h.find(e)
	if !ok {
		if e.index != 0 {
			panic("hotloop: wheel.Heap.Update: the entry is held by another store")
		}
		e.when, e.seq = when, seq
		h.push(e)
	} else {
		e.when, e.seq = when, seq
		h.s[i].when, h.s[i].seq = when, seq
		if !h.up(i) {
			h.down(i)
		}
	}
	if debug {
		h.mustVerify()
	}
}

// Next returns the earliest deadline in h; ok is false if h is empty. It is
// O(1).
func (h *Heap[T]) Next() (when int64, ok bool) {
	if len(h.s) == 0 {
		return 0, false
	}
	return h.s[0].when, true
}

// PopDue removes and returns the earliest entry if its When is <= now, and
// returns nil otherwise (also when h is empty): call it until it returns
// nil to take every entry that is due, in (When, Seq) order. It is
// O(log n) when it removes an entry and O(1) when it does not.
func (h *Heap[T]) PopDue(now int64) *Entry[T] {
	if len(h.s) == 0 || h.s[0].when > now {
		return nil
	}
	e := h.removeAt(0)
	if debug {
		h.mustVerify()
	}
	return e
}

// find returns e's position if h holds e. It is O(1): e records its
// position+1, and the slot is checked to hold e, so an entry held by
// another store is not mistaken for one of h's (see the index rule in
// entry.go).
func (h *Heap[T]) find(e *Entry[T]) (int, bool) {
	i := e.index - 1
	if i < 0 || i >= len(h.s) || h.s[i].e != e {
		return 0, false
	}
	return i, true
}

// removeAt removes and returns the entry at position i. It moves the last
// slot into the hole and sifts it whichever way restores the order, and
// clears the vacated slot so the backing array does not keep the entry
// alive. It is O(log n).
func (h *Heap[T]) removeAt(i int) *Entry[T] {
	s := h.s
	e := s[i].e
	last := len(s) - 1
	if i != last {
		s[i] = s[last]
		s[i].e.index = i + 1
	}
	s[last] = slot[T]{}
	h.s = s[:last]
	e.index = 0
	if i != last && !h.up(i) {
		h.down(i)
	}
	return e
}

// up moves the slot at position i towards the root until its parent orders
// before it, and reports whether it moved. It is O(log n): one comparison
// per level.
func (h *Heap[T]) up(i int) bool {
	s := h.s
	x := s[i]
	j := i
	for j > 0 {
		p := (j - 1) / arity
		if !before(x.when, x.seq, s[p].when, s[p].seq) {
			break
		}
		s[j] = s[p]
		s[j].e.index = j + 1
		j = p
	}
	if j == i {
		return false
	}
	s[j] = x
	x.e.index = j + 1
	return true
}

// down moves the slot at position i towards the leaves until no child
// orders before it. It is O(log n): up to arity comparisons per level.
func (h *Heap[T]) down(i int) {
	s := h.s
	n := len(s)
	x := s[i]
	j := i
	for {
		c := j*arity + 1
		if c >= n {
			break
		}
		m := c // earliest child
		for k, end := c+1, min(c+arity, n); k < end; k++ {
			if before(s[k].when, s[k].seq, s[m].when, s[m].seq) {
				m = k
			}
		}
		if !before(s[m].when, s[m].seq, x.when, x.seq) {
			break
		}
		s[j] = s[m]
		s[j].e.index = j + 1
		j = m
	}
	if j != i {
		s[j] = x
		x.e.index = j + 1
	}
}

// verify checks h's invariants and returns the first violation found:
// every slot holds an entry whose recorded position is that slot and whose
// key matches the slot's cached key (so the key has not been written behind
// the heap's back); no slot orders before its parent; and the
// unused capacity holds no stale entry pointers. It is O(cap).
func (h *Heap[T]) verify() error {
	for i, sl := range h.s {
		if sl.e == nil {
			return fmt.Errorf("slot %d: nil entry", i)
		}
		if sl.e.index != i+1 {
			return fmt.Errorf("slot %d: entry records index %d, want %d", i, sl.e.index, i+1)
		}
		if sl.when != sl.e.when || sl.seq != sl.e.seq {
			return fmt.Errorf("slot %d: cached key (%d, %d) but entry key (%d, %d): key written while in the heap",
				i, sl.when, sl.seq, sl.e.when, sl.e.seq)
		}
		if i > 0 {
			p := (i - 1) / arity
			if before(sl.when, sl.seq, h.s[p].when, h.s[p].seq) {
				return fmt.Errorf("slot %d (%d, %d) orders before its parent slot %d (%d, %d)",
					i, sl.when, sl.seq, p, h.s[p].when, h.s[p].seq)
			}
		}
	}
	for i, sl := range h.s[len(h.s):cap(h.s)] {
		if sl != (slot[T]{}) {
			return fmt.Errorf("unused slot %d not cleared", len(h.s)+i)
		}
	}
	return nil
}

// mustVerify panics if verify finds a violation.
func (h *Heap[T]) mustVerify() {
	if err := h.verify(); err != nil {
		panic(errors.New("hotloop: wheel.Heap invariant violated: " + err.Error()))
	}
}
