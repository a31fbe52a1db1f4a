package wheel

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// How the wheel works.
//
// Deadlines are int64 nanoseconds; a Wheel maps each to a tick (the
// deadline, order-preserved into a uint64, divided by 2^16: a tick is
// 65.536 µs) and files it by tick in levels of 64 slots, as the Linux
// kernel's timer wheel, Kafka's and tokio's (tokio/src/runtime/time/wheel)
// do. The wheel keeps a position, the tick of the latest now given to
// PopDue. A timer whose tick is after the position goes into level L,
// where L is the highest 6-bit digit in which its tick differs from the
// position, and into slot number "its tick's digit L" of that level. Each
// level has a 64-bit occupied-slot bitmap, so the earliest occupied slot is
// found with two trailing-zero counts (lowest busy level, lowest set bit),
// with no scanning of empty slots. As the position moves on (PopDue), the
// slots it passes are emptied and their timers refiled relative to the new
// position on a lower level (cascading), until their tick comes.
//
// Unlike those wheels, which fire a whole slot at once and so round
// deadlines to a tick (tokio: 1 ms), a Wheel keeps exact deadlines: a timer
// whose tick has come leaves the wheel for the near heap, a Heap of the few
// timers of the current tick, from which PopDue takes them in exact (When,
// Seq) order. So a timer never fires early, equal deadlines fire in
// scheduling order, and Next returns the exact earliest deadline, not a
// tick, exactly as with Heap: the loop still parks until precisely the next
// deadline and never ticks while idle. Next does not move the wheel's clock
// (it reads the earliest slot's cached minimum), so asking for the next
// deadline of a far-off timer does not push later schedules into the near
// heap.
//
// Geometry, and why:
//
//   - 64 slots per level, so that one uint64 is a level's bitmap.
//   - Eight levels: 64 - 16 = 48 bits of tick in 6-bit digits. Level L's
//     slots are 2^(16+6L) ns wide; level 0 spans 4.2 ms, level 1 268 ms,
//     level 2 17.2 s, level 3 18.3 min, level 4 19.5 h, level 5 52 days,
//     level 6 9.1 years and level 7 the rest of the int64 range. Eight
//     levels cover every int64 deadline, so there is no overflow list, no
//     wrap-around and no maximum delay (tokio's six 1 ms levels stop at about
//     two years).
//   - A 65.536 µs tick. The tick changes no deadline; it trades the number
//     of cascades against the size of the near heap. A timer due d from now
//     is refiled about log64(d / tick) times before it reaches the near heap;
//     the near heap holds the timers of one tick, rate × tick of them. A
//     service with 10^6 timeouts of 10 s schedules 10^5 timers per second:
//     with this tick about 7 share the near heap and a 10 s timeout starts on
//     level 2 (two cascades). A 1 ms tick would save at most one cascade for
//     such timeouts but put about 100 timers in the near heap; a 1 µs tick
//     would add a cascade to every timeout of 4 ms to 4 min.
//
// Storage: a slot's timers are kept in a chain of 32-pointer blocks cut
// from one arena slice shared by every slot, with emptied blocks reused
// through a free list. An Entry records its arena cell in its index field,
// so Remove and Update find it in O(1) and fill the hole with the slot's
// last pointer; and cascading walks pointers that sit side by side (the
// processor fetches many timers at once, where a linked list would take one
// cache miss at a time). The wheel adds no field to Entry; its memory is one
// pointer per filed timer plus up to one partly filled block per slot, the
// arena's growth slack and about 16 KiB of levels.

// Geometry of the Wheel; the comment above explains the choice.
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

// Slot storage. A slot's entries are kept in a chain of blocks of
// blockSize pointers, carved out of one arena slice shared by all slots, so
// that walking a slot (cascading) reads pointers that sit side by side: the
// processor can fetch many entries at once instead of following a linked
// list one cache miss at a time. Emptied blocks go onto a free list and are
// reused, so the arena only grows when more blocks are in use at once than
// ever before.
const (
	blockBits = 5
	blockSize = 1 << blockBits // 32 pointers: 256 bytes on 64-bit platforms
)

// tickOf maps a deadline to its tick, preserving order: the sign bit is
// flipped so that negative deadlines come first, then the low tickShift bits
// are dropped.
func tickOf(when int64) uint64 { return (uint64(when) ^ 1<<63) >> tickShift }

// Wheel is a timer store for many timers, most of them cancelled or reset
// before they fire (timeouts): a hierarchical timing wheel of entries
// ordered by (When, Seq), with exact deadlines. The wheel only sorts timers
// coarsely by tick (65.536 µs), and those whose tick has come are moved into
// a small exact heap (the near heap) from which they fire in (When, Seq)
// order. Deadlines are meant as nanoseconds: any unit gives the same order,
// but the tick's width, and so the costs, assume nanoseconds.
//
// Complexities: Remove and Update are O(1) for entries filed in the wheel,
// O(log m) for the m entries in the near heap (those within the current
// tick). PopDue is O(log m) plus, when the clock has moved on, O(1) per
// occupied slot passed and per entry cascaded; an entry cascades at most
// once per level in its life. Next is O(1), except after the earliest
// slot's cached minimum was removed, when it rescans that slot once.
//
// The zero Wheel is empty and ready to use; its clock starts at 0 and moves
// only forward, to the latest now given to PopDue. A Wheel must not be
// copied after first use and is not safe for concurrent use. Its arena is
// reused and never shrunk: in steady state no method allocates. Drop the
// Wheel to release that memory.
type Wheel[T any] struct {
	// near holds every entry whose tick is at or before the wheel's
	// position, in exact (When, Seq) order.
	near Heap[T]

	// at is the wheel's position (the tick of the latest now given to
	// PopDue) XOR zeroTick, so that the zero Wheel starts at tickOf(0).
	// Read it with pos.
	at uint64

	// filed counts the entries filed in slots (not in near).
	filed int

	// busy has bit L set while level L has an occupied slot.
	busy uint64

	// cells is the arena: block b is cells[b*blockSize:(b+1)*blockSize].
	// A filed entry in cell c has index math.MinInt+c; unused cells are nil.
	cells []*Entry[T]
	// link[b] is the block after b in its slot's chain, or on the free
	// list, as id+1 (0 ends the chain).
	link []int32
	// owner[b] is level<<slotBits|slot of the slot whose chain holds b.
	owner []uint16
	// free is the first free block, as id+1 (0: none).
	free int32

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

// wslot is one slot: its chain of blocks and, unless the slot is stale, its
// earliest entry and that entry's key, cached so that Next never walks a
// slot.
type wslot[T any] struct {
	top  int32 // the chain's first block, as id+1 (0: the slot is empty); the others are full
	n    int32 // entries in the first block, 1..blockSize while the slot is non-empty
	min  *Entry[T]
	when int64
	seq  uint64
}

// pos returns the wheel's position: the tick up to which time has passed.
func (w *Wheel[T]) pos() uint64 { return w.at ^ zeroTick }

// setPos sets the wheel's position.
func (w *Wheel[T]) setPos(t uint64) { w.at = t ^ zeroTick }

// cellOf returns the arena cell that holds e if e is filed in w. It decodes
// e.index as a cell code, math.MinInt+c, and trusts it only if that cell
// holds e (the index rule in entry.go): any other value (0, a near heap
// position+1, another store's encoding) decodes to a cell outside the
// arena, as the subtraction wraps, or to a cell that does not hold e.
func (w *Wheel[T]) cellOf(e *Entry[T]) (int, bool) {
	c := uint(e.index - math.MinInt)
	if c >= uint(len(w.cells)) || w.cells[c] != e {
		return 0, false
	}
	return int(c), true
}

// Len returns the number of entries in w. It is O(1).
func (w *Wheel[T]) Len() int { return len(w.near.s) + w.filed }

// insert files e, which is in no store, by its tick: in the near heap if
// that tick has come, else in a slot.
func (w *Wheel[T]) insert(e *Entry[T]) {
	if t := tickOf(e.when); t > w.pos() {
		w.file(e, t)
	} else {
		w.near.push(e)
	}
}

// file puts e, whose tick t is after the wheel's position, into its slot:
// the level is the highest 6-bit digit in which t differs from the
// position, the slot is t's digit at that level. O(1), amortised.
func (w *Wheel[T]) file(e *Entry[T], t uint64) {
	lv := (63 - bits.LeadingZeros64(t^w.pos())) / slotBits
	s := int(t>>(uint(lv)*slotBits)) & slotMask
	l := &w.levels[lv]
	sl := &l.slots[s]
	bit := uint64(1) << s
	switch {
	case sl.top == 0:
		l.occupied |= bit
		w.busy |= 1 << lv
		sl.min, sl.when, sl.seq = e, e.when, e.seq
		w.pushBlock(sl, lv<<slotBits|s)
	case l.stale&bit == 0 && before(e.when, e.seq, sl.when, sl.seq):
		sl.min, sl.when, sl.seq = e, e.when, e.seq
		fallthrough
	default:
		if sl.n == blockSize {
			w.pushBlock(sl, lv<<slotBits|s)
		}
	}
	c := int(sl.top-1)<<blockBits + int(sl.n)
	sl.n++
	w.cells[c] = e
	e.index = math.MinInt + c
	w.filed++
}

// pushBlock puts an empty block at the front of sl's chain, taking it from
// the free list or, when that is empty, growing the arena.
func (w *Wheel[T]) pushBlock(sl *wslot[T], code int) {
	var b int32
	if w.free != 0 {
		b = w.free - 1
		w.free = w.link[b]
	} else {
		b = int32(len(w.link))
		w.cells = append(w.cells, make([]*Entry[T], blockSize)...)
		w.link = append(w.link, 0)
		w.owner = append(w.owner, 0)
	}
	w.link[b] = sl.top
	w.owner[b] = uint16(code)
	sl.top, sl.n = b+1, 0
}

// freeBlock returns block b, whose cells are all nil, to the free list.
func (w *Wheel[T]) freeBlock(b int32) {
	w.link[b] = w.free
	w.free = b + 1
}

// unlink removes e, filed in cell c, from its slot: the slot's last entry
// moves into the hole. If e was the slot's cached minimum the slot becomes
// stale; Next rescans it when it needs it. O(1).
func (w *Wheel[T]) unlink(e *Entry[T], c int) {
	code := int(w.owner[c>>blockBits])
	lv, s := code>>slotBits, code&slotMask
	l := &w.levels[lv]
	sl := &l.slots[s]
	top := sl.top - 1
	last := int(top)<<blockBits + int(sl.n) - 1
	if c != last {
		m := w.cells[last]
		w.cells[c] = m
		m.index = math.MinInt + c
	}
	w.cells[last] = nil
	e.index = 0
	w.filed--
	if sl.n--; sl.n == 0 {
		sl.top = w.link[top]
		w.freeBlock(top)
		if sl.top != 0 {
			sl.n = blockSize
		}
	}
	bit := uint64(1) << s
	switch {
	case sl.top == 0:
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

// Remove removes e from w and reports whether w held it: it is how an entry
// is cancelled. It returns false, changing nothing, if e is in no store or
// in another store. It is O(1) for a filed entry and O(log m) for one in
// the near heap.
func (w *Wheel[T]) Remove(e *Entry[T]) bool {
	if c, ok := w.cellOf(e); ok {
		w.unlink(e, c)
	} else if i, ok := w.near.find(e); ok {
		w.near.removeAt(i)
	} else {
		return false
	}
	if debug {
		w.mustVerify()
	}
	return true
}

// Update sets e's key to (when, seq) and refiles e, adding e if it is in no
// store: it is how an entry is scheduled and rescheduled. It panics,
// leaving e unchanged, if e is held by another store. It is O(1) when e is
// filed in a slot before and after (amortised over the growth of the
// arena), and O(log m) when the near heap is involved.
func (w *Wheel[T]) Update(e *Entry[T], when int64, seq uint64) {
	if c, ok := w.cellOf(e); ok {
		w.unlink(e, c)
	} else if i, ok := w.near.find(e); ok {
		if tickOf(when) <= w.pos() { // stays in the near heap: fix it in place
			e.when, e.seq = when, seq
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
	} else if e.index != 0 {
		panic("hotloop: wheel.Wheel.Update: the entry is held by another store")
	}
	e.when, e.seq = when, seq
	w.insert(e)
	if debug {
		w.mustVerify()
	}
}

// Next returns the earliest deadline in w; ok is false if w is empty. It
// is the exact deadline, not a tick: a caller may sleep until then. It is
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
		var m *Entry[T]
		for b, n := sl.top, sl.n; b != 0; b, n = w.link[b-1], blockSize {
			for _, e := range w.cells[int(b-1)<<blockBits:][:n] {
				if m == nil || before(e.when, e.seq, m.when, m.seq) {
					m = e
				}
			}
		}
		sl.min, sl.when, sl.seq = m, m.when, m.seq
		l.stale &^= bit
	}
	return sl
}

// PopDue moves the wheel's clock forward to now if now is later, and
// removes and returns the earliest entry if its When is <= now; it returns
// nil otherwise: call it until it returns nil to take every entry that is
// due, in (When, Seq) order. A now earlier than a previous one is allowed
// and moves nothing. It is O(log m) for the m entries in the near heap, plus the
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
// empties the occupied slots whose range starts at or before t, earliest
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
		b, n := sl.top, sl.n
		*sl = wslot[T]{}
		bit := uint64(1) << s
		l.occupied &^= bit
		l.stale &^= bit
		if l.occupied == 0 {
			w.busy &^= 1 << lv
		}
		w.setPos(start)
		for b != 0 {
			// Read the block's deadlines first, in a loop with no other
			// work, so that the processor has all of these (likely cache
			// missing) loads in flight at once; then refile.
			// file may grow (move) the arena: cells is read only, and
			// cleared through w.cells.
			base := int(b-1) << blockBits
			cells := w.cells[base:][:n]
			var ticks [blockSize]uint64
			for i, e := range cells {
				ticks[i] = tickOf(e.when)
			}
			for i, e := range cells {
				w.cells[base+i] = nil
				w.filed--
				if et := ticks[i]; et <= t {
					e.index = 0
					w.near.push(e)
				} else {
					w.file(e, et)
				}
			}
			next := w.link[b-1]
			w.freeBlock(b - 1)
			b, n = next, blockSize
		}
	}
	w.setPos(t)
}

// verify checks w's invariants and returns the first violation found: the
// near heap's own invariants, and that its entries' ticks have come; for
// every slot, that its occupied bit matches its chain, that every block of
// the chain is owned by the slot and full but the first, that each entry's
// index names its cell and that the entry is filed where its key puts it
// relative to the position (tick after it, level = highest differing
// digit, slot = that digit), and that the cached minimum, unless stale, is
// the slot's minimum; that every other cell is nil and every other block is
// on the free list; and that the counts and the busy-level bits agree. It
// is O(arena) plus O(1) per slot.
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
	nb := len(w.link)
	if len(w.cells) != nb*blockSize || len(w.owner) != nb {
		return fmt.Errorf("arena of %d cells, %d links, %d owners", len(w.cells), nb, len(w.owner))
	}
	seen := make([]bool, nb) // blocks reached through a chain or the free list
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
			if (sl.top != 0) != (l.occupied&bit != 0) {
				return fmt.Errorf("level %d slot %d: occupied bit %v but first block %d", lv, s, l.occupied&bit != 0, sl.top-1)
			}
			if sl.top == 0 {
				if sl.min != nil || sl.n != 0 {
					return fmt.Errorf("level %d slot %d: empty but caches a minimum or a count", lv, s)
				}
				continue
			}
			if sl.n < 1 || sl.n > blockSize {
				return fmt.Errorf("level %d slot %d: first block holds %d entries", lv, s, sl.n)
			}
			busy |= 1 << lv
			code := lv<<slotBits | s
			var m *Entry[T]
			for b, n := sl.top, sl.n; b != 0; b, n = w.link[b-1], blockSize {
				id := int(b - 1)
				if id >= nb || seen[id] {
					return fmt.Errorf("level %d slot %d: chain reaches block %d twice or outside the arena", lv, s, id)
				}
				seen[id] = true
				if int(w.owner[id]) != code {
					return fmt.Errorf("level %d slot %d: block %d owned by %#x", lv, s, id, w.owner[id])
				}
				for i := id << blockBits; i < (id+1)<<blockBits; i++ {
					e := w.cells[i]
					if i >= id<<blockBits+int(n) {
						if e != nil {
							return fmt.Errorf("level %d slot %d: unused cell %d not cleared", lv, s, i)
						}
						continue
					}
					if e == nil {
						return fmt.Errorf("level %d slot %d: cell %d is nil", lv, s, i)
					}
					count++
					if e.index != math.MinInt+i {
						return fmt.Errorf("level %d slot %d: entry (%d, %d) in cell %d has index %#x", lv, s, e.when, e.seq, i, e.index)
					}
					t := tickOf(e.when)
					if t <= p {
						return fmt.Errorf("level %d slot %d: entry (%d, %d) in tick %d, not after the position %d", lv, s, e.when, e.seq, t, p)
					}
					if got := (63 - bits.LeadingZeros64(t^p)) / slotBits; got != lv {
						return fmt.Errorf("level %d slot %d: entry (%d, %d) belongs at level %d", lv, s, e.when, e.seq, got)
					}
					if got := int(t>>(uint(lv)*slotBits)) & slotMask; got != s {
						return fmt.Errorf("level %d slot %d: entry (%d, %d) belongs in slot %d: When written while filed?", lv, s, e.when, e.seq, got)
					}
					if m == nil || before(e.when, e.seq, m.when, m.seq) {
						m = e
					}
				}
			}
			if l.stale&bit != 0 {
				if sl.min != nil {
					return fmt.Errorf("level %d slot %d: stale but caches a minimum", lv, s)
				}
				continue
			}
			if sl.min == nil || sl.when != sl.min.when || sl.seq != sl.min.seq {
				return fmt.Errorf("level %d slot %d: cached minimum does not match its entry", lv, s)
			}
			if c, ok := w.cellOf(sl.min); !ok || int(w.owner[c>>blockBits]) != code {
				return fmt.Errorf("level %d slot %d: cached minimum is not an entry of the slot", lv, s)
			}
			if sl.when != m.when || sl.seq != m.seq {
				return fmt.Errorf("level %d slot %d: cached minimum (%d, %d), but the slot's minimum is (%d, %d)", lv, s, sl.when, sl.seq, m.when, m.seq)
			}
		}
	}
	for b := w.free; b != 0; b = w.link[b-1] {
		id := int(b - 1)
		if id >= nb || seen[id] {
			return fmt.Errorf("free list reaches block %d twice, outside the arena, or in use", id)
		}
		seen[id] = true
		for _, e := range w.cells[id<<blockBits : (id+1)<<blockBits] {
			if e != nil {
				return fmt.Errorf("free block %d holds an entry", id)
			}
		}
	}
	for id, ok := range seen {
		if !ok {
			return fmt.Errorf("block %d is neither in a chain nor free", id)
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
		panic(errors.New("hotloop: wheel.Wheel invariant violated: " + err.Error()))
	}
}
