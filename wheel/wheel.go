package wheel

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
)

// Geometry of the Wheel; the package doc explains the choice.
const (
	// tickShift is log2 of the level-0 slot width in nanoseconds: a tick is
	// 2^16 ns = 65.536 µs.
	tickShift = 16
	// slotBits is log2 of the slots per level: 64, so that one uint64 is a
	// level's occupied-slot bitmap.
	slotBits = 6
	numSlots = 1 << slotBits
	slotMask = numSlots - 1
	// numLevels covers every tick of the int64 range: 64-16 = 48 bits of
	// tick in 6-bit digits, one level per digit.
	numLevels = (64 - tickShift + slotBits - 1) / slotBits
	// zeroTick is tickOf(0): where the zero Wheel's position starts.
	zeroTick = uint64(1) << (63 - tickShift)
)

// Wheel codes. While a Wheel's slot holds an entry, the entry's index is
// the wheel code tag | level<<slotBits | slot, where tag is the sign bit
// and the Wheel's id above codeBits. The code is negative, so it is never a
// heap position; its low bits are at most numLevels<<slotBits-1 = 511, so it
// is never inReference (-1); and the id lets a Wheel tell its own entries
// from another Wheel's in O(1).
const (
	codeBits = 10
	codeMask = 1<<codeBits - 1
	// idMask keeps ids clear of the sign bit (53 bits on 64-bit platforms;
	// ids repeat only after that many Wheels have been used).
	idMask = 1<<(bits.UintSize-1-codeBits) - 1
)

// wheelIDs is the last Wheel id handed out. Any goroutine may create a
// Wheel, so it is an atomic counter; it is touched once per Wheel, on first
// use.
var wheelIDs atomic.Uint64

// tickOf maps a deadline to its tick, preserving order: the sign bit is
// flipped so that negative deadlines come first, then the low tickShift bits
// are dropped.
func tickOf(when int64) uint64 { return (uint64(when) ^ 1<<63) >> tickShift }

// Wheel is a hierarchical timing wheel of entries ordered by (When, Seq),
// with exact deadlines: the wheel only sorts timers coarsely by tick, and
// those whose tick has come are moved into a small exact heap (the near
// heap) from which they fire in (When, Seq) order. See the package doc for
// the design and its costs.
//
// Complexities: Add, Remove and Update are O(1) for entries filed in the
// wheel, O(log m) for the m entries in the near heap (those within the
// current tick). PopDue is O(log m) plus, when the clock has moved on, O(1)
// per occupied slot passed and per entry cascaded; each entry cascades at
// most numLevels times in its life. Next is O(1), except after the earliest
// slot's minimum was removed, when it rescans that slot once.
//
// The zero Wheel is empty and ready to use; its clock starts at 0 and moves
// only forward, to the latest now given to PopDue. A Wheel must not be
// copied after first use. In steady state no method allocates.
type Wheel[T any] struct {
	// near holds every entry whose tick is at or before the wheel's
	// position, in exact (When, Seq) order.
	near Heap[T]

	// at is the wheel's position (the tick of the latest now given to
	// PopDue) XOR zeroTick, so that the zero Wheel starts at tick 0's
	// position, tickOf(0). Read it with pos.
	at uint64

	// filed counts the entries filed in slots (not in near).
	filed int

	// tag is the wheel-code prefix (sign bit | id<<codeBits), assigned on
	// first use; 0 before.
	tag int

	// busy has bit L set while level L has an occupied slot.
	busy uint64

	levels [numLevels]level[T]
}

// level is one ring of 64 slots. Slot s of level L holds the entries whose
// tick agrees with the wheel's position on every digit above L and has
// digit L equal to s; because the position's digit L is always below s (see
// advance), a level never wraps and its earliest slot is its lowest set bit.
type level[T any] struct {
	occupied uint64 // bit s set iff slots[s] is non-empty
	stale    uint64 // bit s set iff slots[s].min is unknown (its minimum was removed)
	slots    [numSlots]wslot[T]
}

// wslot is one slot: the head of a doubly-linked list of entries (the most
// recently filed first) and, unless the slot is stale, its earliest entry
// and that entry's key, cached so that Next never walks a list.
type wslot[T any] struct {
	head *Entry[T]
	min  *Entry[T]
	when int64
	seq  uint64
}

// pos returns the wheel's position: the tick up to which time has passed.
func (w *Wheel[T]) pos() uint64 { return w.at ^ zeroTick }

// setPos sets the wheel's position.
func (w *Wheel[T]) setPos(t uint64) { w.at = t ^ zeroTick }

// init assigns w's id on first use.
func (w *Wheel[T]) init() {
	if w.tag == 0 {
		id := wheelIDs.Add(1) & idMask
		w.tag = math.MinInt | int(id)<<codeBits
	}
}

// owns reports whether e is filed in one of w's slots. It is O(1).
func (w *Wheel[T]) owns(e *Entry[T]) bool {
	return w.tag != 0 && e.index < -1 && e.index&^codeMask == w.tag
}

// Len returns the number of entries in w. It is O(1).
func (w *Wheel[T]) Len() int { return len(w.near.s) + w.filed }

// Add inserts e into w. It panics if e is already in a store. It is O(1)
// when e's tick is after the wheel's position, else O(log m) for the m
// entries in the near heap.
func (w *Wheel[T]) Add(e *Entry[T]) {
	if e.index != 0 {
		panic("wheel: Wheel.Add: entry is already in a store")
	}
	w.insert(e)
	if debug {
		w.mustVerify()
	}
}

// insert files e, which is in no store, by its tick: in the near heap if
// that tick has come, else in a slot.
func (w *Wheel[T]) insert(e *Entry[T]) {
	w.init()
	if t := tickOf(e.When); t > w.pos() {
		w.file(e, t)
	} else {
		w.near.push(e)
	}
}

// file links e, whose tick t is after the wheel's position, at the head of
// its slot: the level is the highest 6-bit digit in which t differs from
// the position, the slot is t's digit at that level. O(1).
func (w *Wheel[T]) file(e *Entry[T], t uint64) {
	lv := (63 - bits.LeadingZeros64(t^w.pos())) / slotBits
	s := int(t>>(uint(lv)*slotBits)) & slotMask
	l := &w.levels[lv]
	sl := &l.slots[s]
	bit := uint64(1) << s
	e.index = w.tag | lv<<slotBits | s
	e.prev = nil
	h := sl.head
	e.next = h
	if h == nil {
		l.occupied |= bit
		w.busy |= 1 << lv
		sl.min, sl.when, sl.seq = e, e.When, e.Seq
	} else {
		h.prev = e
		if l.stale&bit == 0 && before(e.When, e.Seq, sl.when, sl.seq) {
			sl.min, sl.when, sl.seq = e, e.When, e.Seq
		}
	}
	sl.head = e
	w.filed++
}

// unlink removes e, filed in one of w's slots, from its list. If e was the
// slot's cached minimum the slot becomes stale; Next rescans it when it
// needs it. O(1).
func (w *Wheel[T]) unlink(e *Entry[T]) {
	c := e.index & codeMask
	lv, s := c>>slotBits, c&slotMask
	l := &w.levels[lv]
	sl := &l.slots[s]
	bit := uint64(1) << s
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		sl.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	e.next, e.prev, e.index = nil, nil, 0
	w.filed--
	switch {
	case sl.head == nil:
		l.occupied &^= bit
		l.stale &^= bit
		sl.min = nil
		if l.occupied == 0 {
			w.busy &^= 1 << lv
		}
	case sl.min == e:
		l.stale |= bit
		sl.min = nil
	}
}

// Remove removes e from w and reports whether w held it. It returns false
// if e is in no store or in another store. It is O(1) for a filed entry and
// O(log m) for one in the near heap.
func (w *Wheel[T]) Remove(e *Entry[T]) bool {
	switch {
	case w.owns(e):
		w.unlink(e)
	case e.index > 0:
		i, ok := w.near.find(e)
		if !ok {
			return false
		}
		w.near.removeAt(i)
	default:
		return false
	}
	if debug {
		w.mustVerify()
	}
	return true
}

// Update sets e.When and e.Seq and refiles e, adding e if it is in no
// store. It panics, leaving e unchanged, if e is held by another store. It
// is O(1) when e is filed in a slot before and after, and O(log m) when the
// near heap is involved.
func (w *Wheel[T]) Update(e *Entry[T], when int64, seq uint64) {
	switch {
	case e.index == 0:
	case w.owns(e):
		w.unlink(e)
	case e.index > 0:
		i, ok := w.near.find(e)
		if !ok {
			panic("wheel: Wheel.Update: entry is held by another store")
		}
		if tickOf(when) <= w.pos() { // stays in the near heap: fix it in place
			e.When, e.Seq = when, seq
			w.near.s[i].when, w.near.s[i].seq = when, seq
			if !w.near.up(i) {
				w.near.down(i)
			}
			if debug {
				w.mustVerify()
			}
			return
		}
		w.near.removeAt(i)
	default:
		panic("wheel: Wheel.Update: entry is held by another store")
	}
	e.When, e.Seq = when, seq
	w.insert(e)
	if debug {
		w.mustVerify()
	}
}

// Next returns the earliest deadline in w; ok is false if w is empty. It
// is the exact deadline, not a tick: the loop may park until then. It is
// O(1), or O(k) for the k entries of the earliest slot when that slot's
// cached minimum was removed since it was last computed.
func (w *Wheel[T]) Next() (when int64, ok bool) {
	if len(w.near.s) > 0 {
		return w.near.s[0].when, true
	}
	if w.busy == 0 {
		return 0, false
	}
	return w.earliest().when, true
}

// earliest returns the slot holding the earliest filed entry, with its
// minimum computed. w must have a filed entry. Every entry in the near heap
// orders before every filed entry (its tick is at or before the position,
// theirs after it), and among filed entries the lowest occupied slot of the
// lowest busy level holds the smallest ticks (see level), so this slot's
// minimum is the earliest filed entry.
func (w *Wheel[T]) earliest() *wslot[T] {
	lv := bits.TrailingZeros64(w.busy)
	l := &w.levels[lv]
	s := bits.TrailingZeros64(l.occupied)
	sl := &l.slots[s]
	if bit := uint64(1) << s; l.stale&bit != 0 {
		m := sl.head
		for e := m.next; e != nil; e = e.next {
			if before(e.When, e.Seq, m.When, m.Seq) {
				m = e
			}
		}
		sl.min, sl.when, sl.seq = m, m.When, m.Seq
		l.stale &^= bit
	}
	return sl
}

// Peek returns the earliest entry without removing it, or nil if w is
// empty. It is O(1), or O(k) like Next.
func (w *Wheel[T]) Peek() *Entry[T] {
	if len(w.near.s) > 0 {
		return w.near.s[0].e
	}
	if w.busy == 0 {
		return nil
	}
	return w.earliest().min
}

// Pop removes and returns the earliest entry, or nil if w is empty. Unlike
// PopDue it does not move the clock. It is O(log m), or O(k) like Next.
func (w *Wheel[T]) Pop() *Entry[T] {
	e := w.Peek()
	if e != nil {
		w.Remove(e)
	}
	return e
}

// PopDue moves the wheel's clock forward to now if now is later, and
// removes and returns the earliest entry if its When is <= now; it returns
// nil otherwise. A now earlier than a previous one is allowed and moves
// nothing. It is O(log m) for the m entries in the near heap, plus the
// clock's advance (see Wheel).
func (w *Wheel[T]) PopDue(now int64) *Entry[T] {
	if t := tickOf(now); t > w.pos() {
		w.advance(t)
	}
	if len(w.near.s) == 0 || w.near.s[0].when > now {
		return nil
	}
	e := w.near.removeAt(0)
	if debug {
		w.mustVerify()
	}
	return e
}

// advance moves the wheel's position forward to t, which is after it. It
// takes the occupied slots whose range starts at or before t, earliest
// first: each entry whose tick is at or before t goes into the near heap,
// and the others are refiled relative to the slot's start, at a lower level
// (cascading). The position then becomes t.
//
// Why refiled entries are filed correctly for the final position, and why a
// level never wraps: an entry at level L has the position's digits above L
// and a digit L above the position's. The loop stops at the first slot that
// starts after t, so every remaining slot starts after t; t lies between
// the old position and that start, so it shares their digits above L and
// its digit L is still below the slot's.
func (w *Wheel[T]) advance(t uint64) {
	for w.busy != 0 {
		lv := bits.TrailingZeros64(w.busy)
		l := &w.levels[lv]
		s := bits.TrailingZeros64(l.occupied)
		shift := uint(lv) * slotBits
		start := w.pos()&^(uint64(1)<<(shift+slotBits)-1) | uint64(s)<<shift
		if start > t {
			break
		}
		sl := &l.slots[s]
		e := sl.head
		sl.head, sl.min = nil, nil
		bit := uint64(1) << s
		l.occupied &^= bit
		l.stale &^= bit
		if l.occupied == 0 {
			w.busy &^= 1 << lv
		}
		w.setPos(start)
		for e != nil {
			next := e.next
			e.next, e.prev, e.index = nil, nil, 0
			w.filed--
			if et := tickOf(e.When); et <= t {
				w.near.push(e)
			} else {
				w.file(e, et)
			}
			e = next
		}
	}
	w.setPos(t)
}

// Clear removes every entry from w, marking each as in no store. The clock
// keeps its position. It is O(n) plus O(1) per level.
func (w *Wheel[T]) Clear() {
	for lv := range w.levels {
		l := &w.levels[lv]
		for b := l.occupied; b != 0; b &= b - 1 {
			sl := &l.slots[bits.TrailingZeros64(b)]
			for e := sl.head; e != nil; {
				next := e.next
				e.next, e.prev, e.index = nil, nil, 0
				e = next
			}
			*sl = wslot[T]{}
		}
		l.occupied, l.stale = 0, 0
	}
	w.busy, w.filed = 0, 0
	w.near.Clear()
}

// verify checks w's invariants and returns the first violation found: the
// near heap's own invariants, and that its entries' ticks have come; for
// every slot, that its occupied bit matches its list, that the list's back
// links are right, that each entry carries this Wheel's code for that level
// and slot and is filed where its key puts it relative to the position
// (tick after it, level = highest differing digit, slot = that digit), and
// that the cached minimum, unless stale, is the list's minimum; and that
// the counts and the busy-level bits agree. It is O(n) plus O(1) per slot.
func (w *Wheel[T]) verify() error {
	if err := w.near.verify(); err != nil {
		return fmt.Errorf("near heap: %w", err)
	}
	p := w.pos()
	for i, sl := range w.near.s {
		if tickOf(sl.when) > p {
			return fmt.Errorf("near heap slot %d: When %d is in tick %d, after the position %d", i, sl.when, tickOf(sl.when), p)
		}
	}
	count := 0
	var busy uint64
	for lv := range w.levels {
		l := &w.levels[lv]
		if l.stale&^l.occupied != 0 {
			return fmt.Errorf("level %d: stale bits %#x on empty slots (occupied %#x)", lv, l.stale, l.occupied)
		}
		for s := range l.slots {
			sl := &l.slots[s]
			bit := uint64(1) << s
			if (sl.head != nil) != (l.occupied&bit != 0) {
				return fmt.Errorf("level %d slot %d: occupied bit %v but head %p", lv, s, l.occupied&bit != 0, sl.head)
			}
			if sl.head == nil {
				if sl.min != nil {
					return fmt.Errorf("level %d slot %d: empty but caches a minimum", lv, s)
				}
				continue
			}
			busy |= 1 << lv
			code := w.tag | lv<<slotBits | s
			var prev, m *Entry[T]
			for e := sl.head; e != nil; e = e.next {
				if count++; count > w.filed {
					return fmt.Errorf("level %d slot %d: more entries in slots than the %d counted (or a cycle)", lv, s, w.filed)
				}
				if e.prev != prev {
					return fmt.Errorf("level %d slot %d: entry (%d, %d) has a wrong back link", lv, s, e.When, e.Seq)
				}
				if e.index != code {
					return fmt.Errorf("level %d slot %d: entry (%d, %d) has index %#x, want %#x", lv, s, e.When, e.Seq, e.index, code)
				}
				t := tickOf(e.When)
				if t <= p {
					return fmt.Errorf("level %d slot %d: entry (%d, %d) in tick %d, not after the position %d", lv, s, e.When, e.Seq, t, p)
				}
				if got := (63 - bits.LeadingZeros64(t^p)) / slotBits; got != lv {
					return fmt.Errorf("level %d slot %d: entry (%d, %d) belongs at level %d", lv, s, e.When, e.Seq, got)
				}
				if got := int(t>>(uint(lv)*slotBits)) & slotMask; got != s {
					return fmt.Errorf("level %d slot %d: entry (%d, %d) belongs in slot %d: When written while filed?", lv, s, e.When, e.Seq, got)
				}
				if m == nil || before(e.When, e.Seq, m.When, m.Seq) {
					m = e
				}
				prev = e
			}
			if l.stale&bit != 0 {
				if sl.min != nil {
					return fmt.Errorf("level %d slot %d: stale but caches a minimum", lv, s)
				}
				continue
			}
			if sl.min == nil || sl.min.index != code || sl.when != sl.min.When || sl.seq != sl.min.Seq {
				return fmt.Errorf("level %d slot %d: cached minimum is not a current entry of the slot", lv, s)
			}
			if sl.when != m.When || sl.seq != m.Seq {
				return fmt.Errorf("level %d slot %d: cached minimum (%d, %d), but the slot's minimum is (%d, %d)", lv, s, sl.when, sl.seq, m.When, m.Seq)
			}
		}
	}
	if count != w.filed {
		return fmt.Errorf("%d entries in slots, %d counted", count, w.filed)
	}
	if busy != w.busy {
		return fmt.Errorf("busy levels %#x, want %#x", w.busy, busy)
	}
	return nil
}

// mustVerify panics if verify finds a violation.
func (w *Wheel[T]) mustVerify() {
	if err := w.verify(); err != nil {
		panic(errors.New("wheel: Wheel invariant violated: " + err.Error()))
	}
}
