package wheel

// inReference is the value of Entry.index while a Reference holds the entry.
// Heap positions are stored as position+1 and are therefore always positive,
// so the value can never be mistaken for a heap position.
const inReference = -1

// Entry is one timer held by a Store. Entries are ordered by (When, Seq):
// earlier When first, equal When in Seq order.
//
// An Entry is an intrusive handle: a store keeps the *Entry it was given, so
// the owner must keep the Entry at a fixed address (allocate it, or embed it
// in a longer-lived struct) and must not copy it while it is in a store. The
// zero Entry is in no store.
type Entry[T any] struct {
	// When is the deadline in monotonic nanoseconds. It is written by the
	// store's owner only while the entry is in no store, or through
	// Store.Update.
	When int64
	// Seq is the scheduling sequence number that breaks ties between equal
	// deadlines. The same writing rule as for When applies.
	Seq uint64
	// Value is the owner's payload; stores never read or write it.
	Value T

	// index records which store holds the entry: 0 when it is in no store
	// (so that the zero Entry is not pending), position+1 while a Heap (or a
	// Wheel's near heap) holds it, inReference while a Reference holds it,
	// and math.MinInt+c while a Wheel files it in cell c of its slot arena
	// (see Wheel). The three encodings never overlap, and each store checks
	// that the position it decodes really holds the entry, so an entry held
	// by another store is never mistaken for one of its own.
	index int
}

// InStore reports whether e is currently held by a store. It is O(1).
func (e *Entry[T]) InStore() bool { return e.index != 0 }

// before reports whether the key (aw, as) orders before the key (bw, bs).
func before(aw int64, as uint64, bw int64, bs uint64) bool {
	return aw < bw || aw == bw && as < bs
}
