package wheel

// The index rule. Entry.index is the one field through which a store finds
// an entry it holds without a lookup, and every store follows the same two
// rules for it:
//
//  1. 0 means that the entry is in no store. The zero Entry is in no store,
//     and a store sets index back to 0 whenever it lets go of an entry.
//  2. Any other value is the private encoding of the store that holds the
//     entry, and means nothing to any other store. A store decodes the
//     index as its own and trusts the result only after checking that the
//     place it names really holds this entry (a pointer comparison);
//     otherwise the entry is not its own, whatever the value.
//
// So an entry held by another store, of the same kind or another, is never
// mistaken for one of a store's own, and no store knows, reserves or checks
// any other store's encoding. The encodings in use: a Heap stores
// position+1; a Wheel stores position+1 for an entry in its near heap and
// math.MinInt+c for one filed in cell c of its slot arena.

// Entry is one timer held by a store ([Heap] or [Wheel]). Entries are
// ordered by their key (When, Seq): earlier When first, equal When in Seq
// order.
//
// An Entry is an intrusive handle: a store keeps the *Entry it was given, so
// the owner must keep the Entry at a fixed address (allocate it, or embed it
// in a longer-lived struct) and must not copy it while it is in a store. The
// zero Entry is in no store and has the key (0, 0). The key is set by a
// store's Update (and the sequence number, outside any store, by SetSeq),
// and is read with When and Seq.
type Entry[T any] struct {
	// when is the deadline (in the owner's unit; core uses monotonic
	// nanoseconds), set only by Update.
	when int64
	// seq is the scheduling sequence number that breaks ties between equal
	// deadlines, set by Update or, outside any store, SetSeq.
	seq uint64

	// Value is the owner's payload; stores never read or write it.
	Value T

	// index is the holding store's handle on the entry, or 0: see the
	// index rule above.
	index int
}

// When returns e's deadline, as last set by a store's Update (0 for the
// zero Entry). It is O(1).
func (e *Entry[T]) When() int64 { return e.when }

// Seq returns e's sequence number, as last set by a store's Update (0 for
// the zero Entry). It is O(1).
func (e *Entry[T]) Seq() uint64 { return e.seq }

// SetSeq sets e's sequence number, for an owner that numbers an entry
// before it files it (core numbers a timer at the call that schedules it,
// and files it when the callback making the call returns): e must be in no
// store, and the owner files it later with Update(e, when, e.Seq()). It
// panics on an entry a store holds, whose key only that store may change.
// It is O(1).
func (e *Entry[T]) SetSeq(seq uint64) {
	if e.index != 0 {
		panic("hotloop: wheel.Entry.SetSeq on an entry a store holds")
	}
	e.seq = seq
}

// InStore reports whether e is currently held by a store. It is O(1).
func (e *Entry[T]) InStore() bool { return e.index != 0 }

// before reports whether the key (aw, as) orders before the key (bw, bs).
func before(aw int64, as uint64, bw int64, bs uint64) bool {
	return aw < bw || aw == bw && as < bs
}
