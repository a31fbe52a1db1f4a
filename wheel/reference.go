package wheel

import (
	"errors"
	"fmt"

	"github.com/emirpasic/gods/trees/redblacktree"
)

// refKey is a Reference's tree key: the entry's (When, Seq) and a per-store
// insertion counter, so that two entries with equal (When, Seq) get distinct
// keys (and come out in insertion order) instead of replacing each other.
type refKey struct {
	when int64
	seq  uint64
	tie  uint64
}

// compareRefKeys is the gods comparator for refKey.
func compareRefKeys(a, b any) int {
	x, y := a.(refKey), b.(refKey)
	switch {
	case before(x.when, x.seq, y.when, y.seq):
		return -1
	case before(y.when, y.seq, x.when, x.seq):
		return 1
	case x.tie < y.tie:
		return -1
	case x.tie > y.tie:
		return 1
	}
	return 0
}

// Reference is the model Store: a red-black tree (github.com/emirpasic/gods)
// keyed by (When, Seq), with an explicit map of the entries it holds. It is
// written for obviousness rather than speed, allocates on every insertion,
// and is what tests check Heap against; do not use it on the hot path.
//
// Entries with equal (When, Seq) come out in insertion order. The zero
// Reference is ready to use, as is one from NewReference.
type Reference[T any] struct {
	tree    *redblacktree.Tree   // refKey -> *Entry[T]
	members map[*Entry[T]]refKey // the entries held, and their tree keys
	ties    uint64               // insertions so far; source of refKey.tie
}

// NewReference returns an empty Reference. It is O(1).
func NewReference[T any]() *Reference[T] {
	r := new(Reference[T])
	r.init()
	return r
}

// init allocates r's tree and map on first use.
func (r *Reference[T]) init() {
	if r.tree == nil {
		r.tree = redblacktree.NewWith(compareRefKeys)
		r.members = make(map[*Entry[T]]refKey)
	}
}

// Len returns the number of entries in r. It is O(1).
func (r *Reference[T]) Len() int { return len(r.members) }

// Add inserts e into r. It panics if e is already in a store. It is
// O(log n).
func (r *Reference[T]) Add(e *Entry[T]) {
	if e.index != 0 {
		panic("wheel: Reference.Add: entry is already in a store")
	}
	r.insert(e)
	if debug {
		r.mustVerify()
	}
}

// insert files e, which is in no store, under a fresh key.
func (r *Reference[T]) insert(e *Entry[T]) {
	r.init()
	r.ties++
	k := refKey{when: e.When, seq: e.Seq, tie: r.ties}
	r.tree.Put(k, e)
	r.members[e] = k
	e.index = inReference
}

// Remove removes e from r and reports whether r held it. It returns false
// if e is in no store or in another store. It is O(log n).
func (r *Reference[T]) Remove(e *Entry[T]) bool {
	k, ok := r.members[e]
	if !ok {
		return false
	}
	r.delete(e, k)
	if debug {
		r.mustVerify()
	}
	return true
}

// delete unfiles e, held under key k.
func (r *Reference[T]) delete(e *Entry[T], k refKey) {
	r.tree.Remove(k)
	delete(r.members, e)
	e.index = 0
}

// Update sets e.When and e.Seq and refiles e, adding e if r does not hold
// it. It panics, leaving e unchanged, if e is held by another store. It is
// O(log n).
func (r *Reference[T]) Update(e *Entry[T], when int64, seq uint64) {
	if k, ok := r.members[e]; ok {
		r.delete(e, k)
	} else if e.index != 0 {
		panic("wheel: Reference.Update: entry is held by another store")
	}
	e.When, e.Seq = when, seq
	r.insert(e)
	if debug {
		r.mustVerify()
	}
}

// Next returns the earliest deadline in r; ok is false if r is empty. It is
// O(log n).
func (r *Reference[T]) Next() (when int64, ok bool) {
	if e := r.Peek(); e != nil {
		return e.When, true
	}
	return 0, false
}

// Peek returns the earliest entry without removing it, or nil if r is
// empty. It is O(log n).
func (r *Reference[T]) Peek() *Entry[T] {
	if len(r.members) == 0 {
		return nil
	}
	return r.tree.Left().Value.(*Entry[T])
}

// Pop removes and returns the earliest entry, or nil if r is empty. It is
// O(log n).
func (r *Reference[T]) Pop() *Entry[T] {
	e := r.Peek()
	if e != nil {
		r.Remove(e)
	}
	return e
}

// PopDue removes and returns the earliest entry if its When is <= now, and
// returns nil otherwise. It is O(log n).
func (r *Reference[T]) PopDue(now int64) *Entry[T] {
	e := r.Peek()
	if e == nil || e.When > now {
		return nil
	}
	r.Remove(e)
	return e
}

// Clear removes every entry from r, marking each as in no store. It is O(n).
func (r *Reference[T]) Clear() {
	for e := range r.members {
		e.index = 0
	}
	clear(r.members)
	if r.tree != nil {
		r.tree.Clear()
	}
}

// verify checks that r's tree and membership map describe the same entries,
// that each is marked as held by a Reference, and that each tree key matches
// its entry's (When, Seq). It is O(n).
func (r *Reference[T]) verify() error {
	if r.tree == nil {
		if len(r.members) != 0 {
			return errors.New("members without a tree")
		}
		return nil
	}
	if r.tree.Size() != len(r.members) {
		return fmt.Errorf("tree holds %d entries, membership map %d", r.tree.Size(), len(r.members))
	}
	it := r.tree.Iterator()
	for it.Next() {
		k, e := it.Key().(refKey), it.Value().(*Entry[T])
		if mk, ok := r.members[e]; !ok || mk != k {
			return fmt.Errorf("tree key %+v: entry not in membership map under that key", k)
		}
		if e.index != inReference {
			return fmt.Errorf("tree key %+v: entry index %d, want %d", k, e.index, inReference)
		}
		if e.When != k.when || e.Seq != k.seq {
			return fmt.Errorf("tree key %+v: entry key (%d, %d): When/Seq written while in the store", k, e.When, e.Seq)
		}
	}
	return nil
}

// mustVerify panics if verify finds a violation.
func (r *Reference[T]) mustVerify() {
	if err := r.verify(); err != nil {
		panic(errors.New("wheel: Reference invariant violated: " + err.Error()))
	}
}
