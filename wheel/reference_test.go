package wheel

import (
	"errors"
	"fmt"

	"github.com/emirpasic/gods/trees/redblacktree"

	"github.com/hotloop/hotloop/internal/seedtree"
)

// inReference is the value of Entry.index while a Reference holds the
// entry: the Reference's own encoding under the index rule (entry.go). It
// finds its entries through its membership map, so one value serves.
const inReference = -1

// Reference is the model store the tests check Heap and Wheel against: a
// red-black tree (github.com/emirpasic/gods) keyed by seedtree.Key, the
// seed design's (expiry, sequence) key, with an explicit map of the entries
// it holds. It is written for obviousness rather than speed and allocates
// on every insertion. It lives in a test file, and is exported only so that
// the package's external tests (the benchmarks) can measure it.
//
// Two held entries may not have the same (When, Seq): the tree would keep
// one of them. The tests give every schedule a fresh Seq, as owners must
// (Heap gives equal keys an unspecified order), and Update panics on a
// duplicate instead of losing an entry. The zero Reference is ready to use,
// as is one from NewReference.
type Reference[T any] struct {
	tree    *redblacktree.Tree         // seedtree.Key -> *Entry[T]
	members map[*Entry[T]]seedtree.Key // the entries held, and their tree keys
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
		r.tree = seedtree.New()
		r.members = make(map[*Entry[T]]seedtree.Key)
	}
}

// Len returns the number of entries in r. It is O(1).
func (r *Reference[T]) Len() int { return len(r.members) }

// Remove removes e from r and reports whether r held it. It returns false
// if e is in no store or in another store. It is O(log n).
func (r *Reference[T]) Remove(e *Entry[T]) bool {
	k, ok := r.members[e]
	if !ok {
		return false
	}
	r.tree.Remove(k)
	delete(r.members, e)
	e.index = 0
	return true
}

// Update sets e's key and refiles e, adding e if it is in no store. It
// panics, leaving e unchanged, if e is held by another store, or if r
// holds another entry with the key (when, seq). It is O(log n).
func (r *Reference[T]) Update(e *Entry[T], when int64, seq uint64) {
	r.init()
	k := seedtree.Key{When: when, Seq: seq}
	var key any = k // boxed once, for Get and Put
	if other, found := r.tree.Get(key); found && other.(*Entry[T]) != e {
		panic(fmt.Sprintf("hotloop: wheel test: Reference.Update: another entry has the key %+v", k))
	}
	if !r.Remove(e) && e.index != 0 {
		panic("hotloop: wheel test: Reference.Update: the entry is held by another store")
	}
	e.when, e.seq = when, seq
	r.tree.Put(key, e)
	r.members[e] = k
	e.index = inReference
}

// Next returns the earliest deadline in r; ok is false if r is empty. It is
// O(log n).
func (r *Reference[T]) Next() (when int64, ok bool) {
	if e := r.peek(); e != nil {
		return e.when, true
	}
	return 0, false
}

// peek returns the earliest entry without removing it, or nil if r is
// empty. It is O(log n).
func (r *Reference[T]) peek() *Entry[T] {
	if len(r.members) == 0 {
		return nil
	}
	return r.tree.Left().Value.(*Entry[T])
}

// PopDue removes and returns the earliest entry if its When is <= now, and
// returns nil otherwise. It is O(log n).
func (r *Reference[T]) PopDue(now int64) *Entry[T] {
	e := r.peek()
	if e == nil || e.when > now {
		return nil
	}
	r.Remove(e)
	return e
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
		k, e := it.Key().(seedtree.Key), it.Value().(*Entry[T])
		if mk, ok := r.members[e]; !ok || mk != k {
			return fmt.Errorf("tree key %+v: entry not in membership map under that key", k)
		}
		if e.index != inReference {
			return fmt.Errorf("tree key %+v: entry index %d, want %d", k, e.index, inReference)
		}
		if e.when != k.When || e.seq != k.Seq {
			return fmt.Errorf("tree key %+v: entry key (%d, %d): key written while in the store", k, e.when, e.seq)
		}
	}
	return nil
}
