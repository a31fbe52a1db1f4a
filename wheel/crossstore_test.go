package wheel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Cross-store misuse with populated stores, so that the numeric encodings
// collide: an entry at heap position i of store A is passed to store B
// whose own position i (or near-heap position i) is occupied, and an entry
// in cell c of wheel A to wheel B whose cell c is occupied. Remove must
// report false and Update must panic, and neither store may change.
func TestCrossStoreCollidingIndexes(t *testing.T) {
	mk := []struct {
		name string
		new  func() store
	}{
		{"heap", func() store { return new(Heap[int]) }},
		{"wheel", func() store { return new(Wheel[int]) }},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, a := range mk {
		for _, b := range mk {
			t.Run(a.name+"->"+b.name, func(t *testing.T) {
				for round := 0; round < 50; round++ {
					sa, sb := a.new(), b.new()
					var ea, eb []*Entry[int]
					// Some entries far off (wheel cells), some near
					// (wheel near heap after a PopDue that moves the clock).
					for i := 0; i < 100; i++ {
						w := int64(rng.IntN(1 << 30))
						if i%3 == 0 {
							w = int64(rng.IntN(1 << 10))
						}
						e := entry(i, w, uint64(i+1))
						add(sa, e)
						ea = append(ea, e)
						f := entry(1000+i, w, uint64(i+1))
						add(sb, f)
						eb = append(eb, f)
					}
					// Move both wheels' clocks a little so the near heaps fill.
					if e := sa.PopDue(1 << 16); e != nil {
						ea = dropEntry(ea, e)
					}
					if e := sb.PopDue(1 << 16); e != nil {
						eb = dropEntry(eb, e)
					}
					verifyStore(t, sa)
					verifyStore(t, sb)
					la, lb := sa.Len(), sb.Len()
					for _, e := range ea {
						w, s, idx := e.When(), e.Seq(), e.index
						if sb.Remove(e) {
							t.Fatalf("%s.Remove took an entry of the %s (index %#x)", b.name, a.name, idx)
						}
						mustPanic(t, "Update of a foreign entry", func() { sb.Update(e, 5, 5) })
						if e.When() != w || e.Seq() != s || e.index != idx {
							t.Fatalf("foreign Update modified the entry")
						}
					}
					verifyStore(t, sa)
					verifyStore(t, sb)
					if sa.Len() != la || sb.Len() != lb {
						t.Fatalf("lengths changed: %d->%d, %d->%d", la, sa.Len(), lb, sb.Len())
					}
					// Both still drain completely, in order.
					for _, s := range []store{sa, sb} {
						last := int64(math.MinInt64)
						for s.Len() > 0 {
							e := s.PopDue(math.MaxInt64)
							if e == nil || e.When() < last {
								t.Fatalf("bad drain")
							}
							last = e.When()
						}
					}
				}
			})
		}
	}
}

func dropEntry(es []*Entry[int], e *Entry[int]) []*Entry[int] {
	for i, x := range es {
		if x == e {
			return append(es[:i], es[i+1:]...)
		}
	}
	return es
}

// An entry moved between stores (removed from one, added to another) in a
// long random sequence, with the Reference as the model of each.
func TestEntriesMigrateBetweenStores(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	stores := []store{new(Heap[int]), new(Wheel[int]), new(Wheel[int]), new(Heap[int])}
	models := []*Reference[int]{NewReference[int](), NewReference[int](), NewReference[int](), NewReference[int]()}
	type loc struct{ s int }
	es := make([]*Entry[int], 300)
	ms := make([]*Entry[int], 300)
	where := make([]int, 300) // -1: none
	for i := range es {
		es[i], ms[i] = new(Entry[int]), new(Entry[int])
		es[i].Value, ms[i].Value = i, i
		where[i] = -1
	}
	seq := uint64(0)
	now := int64(0)
	for step := 0; step < 200000; step++ {
		i := rng.IntN(len(es))
		switch op := rng.IntN(10); {
		case op < 5: // move or add to a random store
			to := rng.IntN(len(stores))
			if where[i] >= 0 && where[i] != to {
				if !stores[where[i]].Remove(es[i]) || !models[where[i]].Remove(ms[i]) {
					t.Fatalf("step %d: remove from home failed", step)
				}
				where[i] = -1
			}
			seq++
			w := now + int64(rng.IntN(1<<(10+rng.IntN(30))))
			stores[to].Update(es[i], w, seq)
			models[to].Update(ms[i], w, seq)
			where[i] = to
		case op < 7: // Remove from a random (maybe wrong) store
			s := rng.IntN(len(stores))
			got := stores[s].Remove(es[i])
			want := models[s].Remove(ms[i])
			if got != want {
				t.Fatalf("step %d: Remove from %d = %v, model %v (entry in %d)", step, s, got, want, where[i])
			}
			if got {
				where[i] = -1
			}
		default: // PopDue on a random store
			s := rng.IntN(len(stores))
			now += int64(rng.IntN(1 << 20))
			for {
				e := stores[s].PopDue(now)
				m := models[s].PopDue(now)
				if (e == nil) != (m == nil) || e != nil && e.Value != m.Value {
					t.Fatalf("step %d: PopDue differs", step)
				}
				if e == nil {
					break
				}
				where[e.Value] = -1
			}
		}
		if step%1000 == 0 {
			for _, s := range stores {
				verifyStore(t, s)
			}
		}
	}
}
