package wheel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// opKind is one operation of a differential test. Add is an Update of an
// entry in no store (and nothing for a held one); Peek, Pop and RemoveAll
// are the test helpers peek, pop and removeAll, which take the earliest
// entry without moving a Wheel's clock.
type opKind uint8

const (
	opAdd opKind = iota
	opRemove
	opUpdate
	opPopDue
	opNext
	opPeek
	opPop
	opRemoveAll
)

func (k opKind) String() string {
	return [...]string{"Add", "Remove", "Update", "PopDue", "Next", "Peek", "Pop", "RemoveAll"}[k]
}

// op is one step: kind applied to pool entry i, with when as the new
// deadline (Add, Update) or as now (PopDue).
type op struct {
	kind opKind
	i    int
	when int64
}

func (o op) String() string { return fmt.Sprintf("%v(e%d, %d)", o.kind, o.i, o.when) }

// specialWhens are deadlines at and next to the int64 limits, and around 0.
var specialWhens = [...]int64{math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64 - 1, math.MaxInt64}

// decodeOps turns fuzz bytes into ops, three bytes per op: kind, entry,
// deadline. Deadline bytes map mostly onto a small range so that equal
// deadlines are common, and otherwise onto specialWhens.
func decodeOps(data []byte) []op {
	kinds := [16]opKind{
		opAdd, opAdd, opAdd, opAdd, opRemove, opRemove, opUpdate, opUpdate,
		opUpdate, opPopDue, opPopDue, opPopDue, opNext, opPeek, opPop, opRemoveAll,
	}
	ops := make([]op, 0, len(data)/3)
	for ; len(data) >= 3; data = data[3:] {
		w := int64(data[2]%32) - 16
		if n := int(data[2] >> 5); n < len(specialWhens) && data[2]&31 == 31 {
			w = specialWhens[n]
		}
		ops = append(ops, op{kind: kinds[data[0]%16], i: int(data[1]), when: w})
	}
	return ops
}

// randomOps returns n ops on a pool of size entries, drawn from rng, biased
// towards Add so that the stores fill up to a good fraction of the pool.
func randomOps(rng *rand.Rand, n, size int) []op {
	ops := make([]op, n)
	for j := range ops {
		var w int64
		switch r := rng.IntN(20); {
		case r == 0:
			w = specialWhens[rng.IntN(len(specialWhens))]
		case r < 10:
			w = rng.Int64N(16) // many equal deadlines
		default:
			w = rng.Int64N(1<<40) - 1<<39
		}
		var k opKind
		switch r := rng.IntN(100); {
		case r < 35:
			k = opAdd
		case r < 50:
			k = opRemove
		case r < 70:
			k = opUpdate
		case r < 85:
			k = opPopDue
		case r < 90:
			k = opNext
		case r < 94:
			k = opPeek
		case r < 99:
			k = opPop
		default:
			k = opRemoveAll
		}
		ops[j] = op{kind: k, i: rng.IntN(size), when: w}
	}
	return ops
}

// sameEntry reports whether the heap's entry h and the reference's entry r
// are the same pool entry with the same key (or both nil).
func sameEntry(h, r *Entry[int]) bool {
	if h == nil || r == nil {
		return h == nil && r == nil
	}
	return h.Value == r.Value && h.when == r.when && h.seq == r.seq
}

func describe(e *Entry[int]) string {
	if e == nil {
		return "nil"
	}
	return fmt.Sprintf("e%d(%d, %d)", e.Value, e.when, e.seq)
}

// testStore is what the differential harness drives: a store and its
// invariant check.
type testStore interface {
	store
	verify() error
}

// runDifferential applies ops to the store s (called name in messages) and
// a Reference side by side, each with its own pool of size entries, and
// fails t at the first difference in results or membership, or at the
// first invariant violation. Seq numbers come from a counter, as the loop
// assigns them, so keys are distinct and both stores have exactly one
// correct order: the fire sequences (PopDue, Pop) must be identical. At the
// end it drains both stores and compares the order.
func runDifferential(t testing.TB, name string, h testStore, size int, ops []op) {
	t.Helper()
	r := NewReference[int]()
	hp, rp := make([]Entry[int], size), make([]Entry[int], size)
	for i := range hp {
		hp[i].Value, rp[i].Value = i, i
	}
	var seq uint64
	fail := func(step int, o op, format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d %v: %s", step, o, fmt.Sprintf(format, args...))
	}
	for step, o := range ops {
		o.i %= size
		he, re := &hp[o.i], &rp[o.i]
		switch o.kind {
		case opAdd: // schedule an entry that is in no store; nothing if it is held
			if he.InStore() || re.InStore() {
				break
			}
			seq++
			h.Update(he, o.when, seq)
			r.Update(re, o.when, seq)
		case opRemove:
			if hb, rb := h.Remove(he), r.Remove(re); hb != rb {
				fail(step, o, "%s.Remove = %v, Reference.Remove = %v", name, hb, rb)
			}
		case opUpdate:
			seq++
			h.Update(he, o.when, seq)
			r.Update(re, o.when, seq)
		case opPopDue:
			if hx, rx := h.PopDue(o.when), r.PopDue(o.when); !sameEntry(hx, rx) {
				fail(step, o, "%s.PopDue = %s, Reference.PopDue = %s", name, describe(hx), describe(rx))
			}
		case opNext:
			// Checked after every step below.
		case opPeek:
			if hx, rx := peek(h), peek(r); !sameEntry(hx, rx) {
				fail(step, o, "%s.Peek = %s, Reference.Peek = %s", name, describe(hx), describe(rx))
			}
		case opPop:
			if hx, rx := pop(h), pop(r); !sameEntry(hx, rx) {
				fail(step, o, "%s.Pop = %s, Reference.Pop = %s", name, describe(hx), describe(rx))
			}
		case opRemoveAll:
			removeAll(h)
			removeAll(r)
		}
		if err := h.verify(); err != nil {
			fail(step, o, "%s: %v", name, err)
		}
		if err := r.verify(); err != nil {
			fail(step, o, "Reference: %v", err)
		}
		if h.Len() != r.Len() {
			fail(step, o, "%s.Len = %d, Reference.Len = %d", name, h.Len(), r.Len())
		}
		hw, hok := h.Next()
		rw, rok := r.Next()
		if hw != rw || hok != rok {
			fail(step, o, "%s.Next = %d, %v; Reference.Next = %d, %v", name, hw, hok, rw, rok)
		}
		if he.InStore() != re.InStore() {
			fail(step, o, "%s entry InStore = %v, Reference entry InStore = %v", name, he.InStore(), re.InStore())
		}
	}
	for n := 0; h.Len() > 0 || r.Len() > 0; n++ {
		if hx, rx := h.PopDue(math.MaxInt64), r.PopDue(math.MaxInt64); !sameEntry(hx, rx) {
			t.Fatalf("drain %d: %s = %s, Reference = %s", n, name, describe(hx), describe(rx))
		}
		if err := h.verify(); err != nil {
			t.Fatalf("drain %d: %s: %v", n, name, err)
		}
	}
	for i := range hp {
		if hp[i].InStore() || rp[i].InStore() {
			t.Fatalf("entry %d still InStore after drain", i)
		}
	}
}

func TestHeapAgainstReference(t *testing.T) {
	steps := 3000
	if testing.Short() {
		steps = 500
	}
	for _, size := range []int{1, 2, 5, 17, 64, 300} {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("pool=%d/seed=%d", size, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(size)))
				runDifferential(t, "Heap", new(Heap[int]), size, randomOps(rng, steps, size))
			})
		}
	}
}

// fuzzPool is the number of entries the fuzz target's ops address.
const fuzzPool = 24

// addSeeds gives a fuzz target the shared seed corpus.
func addSeeds(f *testing.F) {
	f.Add([]byte{})
	// Add e0..e3 at equal deadlines, pop them all.
	f.Add([]byte{0, 0, 5, 0, 1, 5, 0, 2, 5, 0, 3, 5, 9, 0, 5, 9, 0, 5, 9, 0, 5, 9, 0, 5, 9, 0, 5})
	// Add twice, Remove twice, Update of a non-held entry, PopDue on empty.
	f.Add([]byte{0, 7, 1, 0, 7, 1, 4, 7, 0, 4, 7, 0, 6, 8, 3, 9, 0, 2, 9, 0, 255})
	// Extreme deadlines (specialWhens via the &31 == 31 encoding).
	f.Add([]byte{0, 1, 31, 0, 2, 63, 0, 3, 223, 0, 4, 191, 12, 0, 0, 9, 0, 95, 14, 0, 0, 9, 0, 223})
	// Updates moving held entries up and down, then RemoveAll.
	f.Add([]byte{0, 0, 10, 0, 1, 20, 0, 2, 30, 6, 2, 1, 6, 0, 30, 13, 0, 0, 15, 0, 0, 0, 1, 2})
	rng := rand.New(rand.NewPCG(42, 42))
	for range 4 {
		b := make([]byte, 300)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		f.Add(b)
	}
}

func FuzzHeapAgainstReference(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		runDifferential(t, "Heap", new(Heap[int]), fuzzPool, decodeOps(data))
	})
}
