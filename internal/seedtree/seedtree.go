// Package seedtree holds the one timer key and comparator of the seed
// design's timer store: a github.com/emirpasic/gods red-black tree keyed by
// (expiry, sequence). The seed keeps its timers in such an ordered map
// behind a mutex; hotloop's benchmarks replicate that store
// (benchmarks/compare's seed replica and the locked side of package
// benchmarks), and package wheel's tests use the same tree as the model
// that its stores are checked against. They all order keys with Compare.
package seedtree

import "github.com/emirpasic/gods/trees/redblacktree"

// Key is a timer's key in the tree: its expiry and its scheduling sequence
// number. Keys order by When, then by Seq; two timers with equal keys are
// one key to the tree, so every schedule needs a fresh Seq.
type Key struct {
	When int64  // expiry, in nanoseconds on a monotonic clock
	Seq  uint64 // sequence number, breaking ties between equal expiries
}

// Compare is the gods comparator for Key: it returns -1, 0 or +1 as a
// orders before, equal to or after b, by When and then by Seq. Both
// arguments must hold a Key; it panics otherwise. It is O(1).
func Compare(a, b any) int {
	x, y := a.(Key), b.(Key)
	switch {
	case x.When < y.When:
		return -1
	case x.When > y.When:
		return 1
	case x.Seq < y.Seq:
		return -1
	case x.Seq > y.Seq:
		return 1
	}
	return 0
}

// New returns an empty red-black tree ordered by Compare, whose keys must
// be Keys. It is O(1).
func New() *redblacktree.Tree { return redblacktree.NewWith(Compare) }
