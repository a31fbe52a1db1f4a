package seedtree

import (
	"math"
	"testing"
)

func TestCompareOrdersByExpiryThenSequence(t *testing.T) {
	keys := []Key{ // ascending
		{When: math.MinInt64, Seq: 9},
		{When: -1, Seq: 0},
		{When: 5, Seq: 2},
		{When: 5, Seq: 3},
		{When: 6, Seq: 1},
		{When: math.MaxInt64, Seq: math.MaxUint64},
	}
	for i, a := range keys {
		for j, b := range keys {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := Compare(a, b); got != want {
				t.Errorf("Compare(%+v, %+v) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestNewTreeKeepsKeysInOrder(t *testing.T) {
	tr := New()
	tr.Put(Key{When: 5, Seq: 3}, "c")
	tr.Put(Key{When: 6, Seq: 1}, "d")
	tr.Put(Key{When: 5, Seq: 2}, "b")
	tr.Put(Key{When: 1, Seq: 7}, "a")
	var got string
	for it := tr.Iterator(); it.Next(); {
		got += it.Value().(string)
	}
	if got != "abcd" {
		t.Fatalf("in-order values %q, want %q", got, "abcd")
	}
	if k := tr.Left().Key.(Key); k != (Key{When: 1, Seq: 7}) {
		t.Fatalf("first key %+v", k)
	}
}
