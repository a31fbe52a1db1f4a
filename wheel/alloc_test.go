package wheel

import (
	"math/rand/v2"
	"testing"
)

// TestHeapZeroAllocs checks that a warmed Heap does not allocate in steady
// state: the backing slice is reused and entries are linked, not copied.
func TestHeapZeroAllocs(t *testing.T) {
	const n = 1000
	var h Heap[int]
	es := make([]Entry[int], n)
	rng := rand.New(rand.NewPCG(1, 2))
	var seq uint64
	for i := range es {
		seq++
		es[i].Value = i
		h.Update(&es[i], rng.Int64N(1e9), seq)
	}
	var extra Entry[int]
	h.Update(&extra, 0, 0) // grow the backing slice to n+1 once
	h.Remove(&extra)

	i := 0
	expectNoAllocs(t, h.verify, []allocCase{
		{"Update(new)+Remove", func() {
			seq++
			h.Update(&extra, rng.Int64N(1e9), seq)
			h.Remove(&extra)
		}},
		{"Update", func() {
			seq++
			i = (i + 7919) % n
			h.Update(&es[i], rng.Int64N(1e9), seq)
		}},
		{"PopDue+Update", func() {
			when, _ := h.Next()
			e := h.PopDue(when)
			seq++
			h.Update(e, when+rng.Int64N(1e9), seq)
		}},
	})
}

// allocCase is one operation an allocation test runs.
type allocCase struct {
	name string
	f    func()
}

// expectNoAllocs fails t for each case that allocates, and stops at the
// first invariant violation that verify reports after a case.
func expectNoAllocs(t *testing.T, verify func() error, cases []allocCase) {
	t.Helper()
	for _, c := range cases {
		if got := testing.AllocsPerRun(1000, c.f); got != 0 {
			t.Errorf("%s: %v allocs/op, want 0", c.name, got)
		}
		if err := verify(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
}
