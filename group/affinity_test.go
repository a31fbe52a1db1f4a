package group

import (
	"fmt"
	"math"
	"testing"

	"github.com/hotloop/hotloop/core"
)

// TestIndexIsFixed: the mapping from a key to a loop is a fixed function of
// the key and the number of loops. These values must never change: a
// change would move every user's keys to other loops between versions.
func TestIndexIsFixed(t *testing.T) {
	g8, g64 := &Group{loops: make([]*core.Loop, 8)}, &Group{loops: make([]*core.Loop, 64)}
	for _, c := range []struct {
		key       uint64
		in8, in64 int
	}{{0, 0, 0}, {1, 2, 21}, {2, 6, 54}, {42, 5, 41}, {1 << 63, 1, 9}} {
		if a, b := g8.Index(c.key), g64.Index(c.key); a != c.in8 || b != c.in64 {
			t.Errorf("Index(%d) = %d of 8, %d of 64; want %d, %d", c.key, a, b, c.in8, c.in64)
		}
	}
	for _, c := range []struct {
		key       string
		in8, in64 int
	}{{"", 7, 61}, {"a", 0, 0}, {"user:1", 1, 12}, {"user:2", 3, 30}} {
		if a, b := g8.IndexString(c.key), g64.IndexString(c.key); a != c.in8 || b != c.in64 {
			t.Errorf("IndexString(%q) = %d of 8, %d of 64; want %d, %d", c.key, a, b, c.in8, c.in64)
		}
	}
}

// TestFNV1a checks fnv1a against the published FNV-1a 64-bit test vectors.
func TestFNV1a(t *testing.T) {
	for s, want := range map[string]uint64{"": 0xcbf29ce484222325, "a": 0xaf63dc4c8601ec8c, "foobar": 0x85944171f73967e8} {
		if got := fnv1a(s); got != want {
			t.Errorf("fnv1a(%q) = %#x, want %#x", s, got, want)
		}
	}
}

// TestIndexSpreadsKeys: sequential ids and similar strings spread over the
// loops as evenly as random keys would: every loop's count of 100,000 keys
// within 5 standard deviations (5 √share) of its share.
func TestIndexSpreadsKeys(t *testing.T) {
	for _, n := range []int{2, 3, 8, 64} {
		g := &Group{loops: make([]*core.Loop, n)}
		const keys = 100_000
		ints, strs := make([]int, n), make([]int, n)
		for k := range uint64(keys) {
			ints[g.Index(k)]++
			strs[g.IndexString(fmt.Sprintf("conn-%d", k))]++
		}
		share := keys / n
		tol := int(5 * math.Sqrt(float64(share)))
		for i := range n {
			for name, c := range map[string]int{"uint64": ints[i], "string": strs[i]} {
				if c < share-tol || c > share+tol {
					t.Errorf("n=%d, %s keys: loop %d got %d of %d keys, want %d ± %d", n, name, i, c, keys, share, tol)
				}
			}
		}
	}
}

// TestPostKeyAllocatesNothing: choosing the loop and posting to it
// allocate nothing, for uint64 and string keys alike.
func TestPostKeyAllocatesNothing(t *testing.T) {
	g, err := New(4)
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	defer stop()
	fn, key := func() {}, "session-1234"
	if a := testing.AllocsPerRun(1000, func() {
		_ = g.PostKey(99, fn)
		_ = g.PostKeyString(key, fn)
		_ = g.Post(fn)
	}); a != 0 {
		t.Errorf("%v allocations per PostKey + PostKeyString + Post, want 0", a)
	}
}

func BenchmarkIndex(b *testing.B) {
	g := &Group{loops: make([]*core.Loop, 8)}
	var sink int
	b.Run("uint64", func(b *testing.B) {
		for k := range uint64(b.N) {
			sink += g.Index(k)
		}
	})
	b.Run("string", func(b *testing.B) {
		for b.Loop() {
			sink += g.IndexString("session-1234")
		}
	})
	_ = sink
}
