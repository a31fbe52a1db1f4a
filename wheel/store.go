package wheel

// Compile-time checks that the stores implement Store.
var (
	_ Store[int] = (*Heap[int])(nil)
	_ Store[int] = (*Reference[int])(nil)
	_ Store[int] = (*Wheel[int])(nil)
)

// Store is what the loop needs from a timer store: an ordered set of
// *Entry[T], keyed by (When, Seq).
//
// Implementations are not safe for concurrent use: the loop goroutine owns
// them. An entry is held by at most one store at a time.
type Store[T any] interface {
	// Len returns the number of entries held.
	Len() int

	// Add inserts e, which must not be in a store; it panics with a clear
	// message if e is already in one (this store or another).
	Add(e *Entry[T])

	// Remove removes e if this store holds it and reports whether it did.
	// It returns false, changing nothing, if e is not in this store
	// (including when e is held by a different store).
	Remove(e *Entry[T]) bool

	// Update sets e.When and e.Seq and restores the store's order. If e is
	// in no store it is added. It panics, without modifying e, if e is held
	// by a different store.
	Update(e *Entry[T], when int64, seq uint64)

	// Next returns the earliest deadline held; ok is false when the store is
	// empty.
	Next() (when int64, ok bool)

	// PopDue removes and returns the earliest entry if its When is <= now,
	// and returns nil otherwise (including when the store is empty).
	PopDue(now int64) *Entry[T]
}
