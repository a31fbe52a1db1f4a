package wheel

import (
	"fmt"
	"math"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// store is what the tests drive: the methods core calls, which Heap, Wheel
// and the model, Reference, all have.
type store interface {
	Len() int
	Remove(e *Entry[int]) bool
	Update(e *Entry[int], when int64, seq uint64)
	Next() (when int64, ok bool)
	PopDue(now int64) *Entry[int]
}

var (
	_ store = (*Heap[int])(nil)
	_ store = (*Wheel[int])(nil)
	_ store = (*Reference[int])(nil)
)

// add puts e, which must be in no store, into s under the key e already
// has (the tests build entries with their key set).
func add(s store, e *Entry[int]) {
	if e.InStore() {
		panic("hotloop: wheel test: add of an entry that is in a store")
	}
	s.Update(e, e.when, e.seq)
}

// peek returns s's earliest entry without removing it, or nil if s is
// empty.
func peek(s store) *Entry[int] {
	switch s := s.(type) {
	case *Heap[int]:
		if len(s.s) == 0 {
			return nil
		}
		return s.s[0].e
	case *Wheel[int]:
		if len(s.near.s) > 0 {
			return s.near.s[0].e
		}
		if s.busy == 0 {
			return nil
		}
		return s.earliest().min
	case *Reference[int]:
		return s.peek()
	}
	panic(fmt.Sprintf("hotloop: wheel test: peek: unknown store %T", s))
}

// pop removes and returns s's earliest entry, due or not, or nil if s is
// empty. Unlike PopDue it does not move a Wheel's clock.
func pop(s store) *Entry[int] {
	e := peek(s)
	if e != nil {
		s.Remove(e)
	}
	return e
}

// removeAll removes every entry from s, earliest first, without moving a
// Wheel's clock.
func removeAll(s store) {
	for e := peek(s); e != nil; e = peek(s) {
		s.Remove(e)
	}
}

// verifyStore runs s's invariant check and fails t on a violation.
func verifyStore(t testing.TB, s store) {
	t.Helper()
	var err error
	switch s := s.(type) {
	case *Heap[int]:
		err = s.verify()
	case *Reference[int]:
		err = s.verify()
	case *Wheel[int]:
		err = s.verify()
	default:
		t.Fatalf("verifyStore: unknown store %T", s)
	}
	if err != nil {
		t.Fatalf("%T invariant violated: %v", s, err)
	}
}

// mustPanic fails t unless f panics.
func mustPanic(t testing.TB, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if recover() == nil {
			t.Fatalf("%s did not panic", what)
		}
	}()
	f()
}

// stores lists the Store implementations every table test runs against.
var stores = []struct {
	name string
	new  func() store
}{
	{"heap", func() store { return new(Heap[int]) }},
	{"reference", func() store { return NewReference[int]() }},
	{"zero-reference", func() store { return new(Reference[int]) }},
	{"wheel", func() store { return new(Wheel[int]) }},
}

// tester wraps a Store so that every operation is followed by an invariant
// check, and adds assertion helpers.
type tester struct {
	t *testing.T
	s store
}

func (x tester) add(e *Entry[int]) { x.t.Helper(); add(x.s, e); verifyStore(x.t, x.s) }

func (x tester) remove(e *Entry[int], want bool) {
	x.t.Helper()
	if got := x.s.Remove(e); got != want {
		x.t.Fatalf("Remove(%v) = %v, want %v", e.Value, got, want)
	}
	verifyStore(x.t, x.s)
	if e.InStore() && want {
		x.t.Fatalf("entry %v still InStore after Remove", e.Value)
	}
}

func (x tester) update(e *Entry[int], when int64, seq uint64) {
	x.t.Helper()
	x.s.Update(e, when, seq)
	verifyStore(x.t, x.s)
	if e.When() != when || e.Seq() != seq || !e.InStore() {
		x.t.Fatalf("after Update(%v, %d, %d): When=%d Seq=%d InStore=%v", e.Value, when, seq, e.When(), e.Seq(), e.InStore())
	}
}

func (x tester) next(want int64, wantOK bool) {
	x.t.Helper()
	if got, ok := x.s.Next(); got != want || ok != wantOK {
		x.t.Fatalf("Next() = %d, %v; want %d, %v", got, ok, want, wantOK)
	}
}

// popDue pops at now and checks the entry's Value (-1 meaning nil).
func (x tester) popDue(now int64, want int) {
	x.t.Helper()
	e := x.s.PopDue(now)
	verifyStore(x.t, x.s)
	got := -1
	if e != nil {
		got = e.Value
		if e.InStore() {
			x.t.Fatalf("PopDue(%d) returned entry %v still InStore", now, got)
		}
		if e.When() > now {
			x.t.Fatalf("PopDue(%d) returned entry %v with When %d", now, got, e.When())
		}
	}
	if got != want {
		x.t.Fatalf("PopDue(%d) = %d, want %d", now, got, want)
	}
}

func (x tester) len(want int) {
	x.t.Helper()
	if got := x.s.Len(); got != want {
		x.t.Fatalf("Len() = %d, want %d", got, want)
	}
}

// entry returns a new entry with the given key and value.
func entry(value int, when int64, seq uint64) *Entry[int] {
	return &Entry[int]{when: when, seq: seq, Value: value}
}

func TestStoreTable(t *testing.T) {
	cases := []struct {
		name string
		run  func(x tester)
	}{
		{"empty", func(x tester) {
			x.len(0)
			x.next(0, false)
			x.popDue(math.MaxInt64, -1)
			x.popDue(math.MinInt64, -1)
			x.remove(&Entry[int]{}, false)
		}},
		{"zero entry is not in a store", func(x tester) {
			var e Entry[int]
			if e.InStore() {
				x.t.Fatal("zero Entry reports InStore")
			}
			x.remove(&e, false)
			x.add(&e)
			if !e.InStore() {
				x.t.Fatal("added Entry does not report InStore")
			}
			x.next(0, true)
			x.remove(&e, true)
			x.len(0)
		}},
		{"equal deadlines pop in Seq order", func(x tester) {
			for _, seq := range []uint64{5, 3, 9, 1, 7, 0, 8} {
				x.add(entry(int(seq), 10, seq))
			}
			x.popDue(9, -1)
			for _, want := range []int{0, 1, 3, 5, 7, 8, 9} {
				x.popDue(10, want)
			}
			x.popDue(10, -1)
		}},
		{"PopDue respects now", func(x tester) {
			x.add(entry(30, 30, 1))
			x.add(entry(10, 10, 2))
			x.add(entry(20, 20, 3))
			x.next(10, true)
			x.popDue(9, -1)
			x.popDue(10, 10)
			x.popDue(25, 20)
			x.popDue(25, -1)
			x.next(30, true)
			x.len(1)
		}},
		{"negative and extreme deadlines", func(x tester) {
			x.add(entry(1, math.MaxInt64, 1))
			x.add(entry(2, 0, 2))
			x.add(entry(3, -5, 3))
			x.add(entry(4, math.MinInt64, 4))
			x.add(entry(5, math.MaxInt64, 0))
			x.next(math.MinInt64, true)
			x.popDue(-6, 4)
			x.popDue(-6, -1)
			x.popDue(0, 3)
			x.popDue(0, 2)
			x.popDue(math.MaxInt64-1, -1)
			x.next(math.MaxInt64, true)
			x.popDue(math.MaxInt64, 5)
			x.popDue(math.MaxInt64, 1)
			x.next(0, false)
		}},
		{"Update of a non-held entry adds it", func(x tester) {
			e := entry(1, 99, 99)
			x.update(e, 5, 1)
			x.len(1)
			x.next(5, true)
			x.popDue(5, 1)
		}},
		{"Update moves a held entry both ways", func(x tester) {
			a, b, c := entry(1, 10, 1), entry(2, 20, 2), entry(3, 30, 3)
			x.add(a)
			x.add(b)
			x.add(c)
			x.update(c, 5, 4)
			x.next(5, true)
			x.update(c, 40, 5)
			x.next(10, true)
			x.update(a, 20, 6) // equal When with b, later Seq
			x.update(a, 20, 6) // no change
			x.len(3)
			x.popDue(100, 2)
			x.popDue(100, 1)
			x.popDue(100, 3)
		}},
		{"Remove twice", func(x tester) {
			e := entry(1, 1, 1)
			x.add(e)
			x.remove(e, true)
			x.remove(e, false)
			x.len(0)
			x.add(e) // a removed entry can be added again
			x.popDue(1, 1)
			x.remove(e, false) // popped entries are not held either
		}},
		{"Remove from the middle", func(x tester) {
			es := make([]*Entry[int], 40)
			for i := range es {
				es[i] = entry(i, int64((i*17)%40), uint64(i))
				x.add(es[i])
			}
			for i := 0; i < len(es); i += 3 {
				x.remove(es[i], true)
			}
			var last int64 = math.MinInt64
			for x.s.Len() > 0 {
				e := x.s.PopDue(math.MaxInt64)
				verifyStore(x.t, x.s)
				if e.Value%3 == 0 || e.When() < last {
					x.t.Fatalf("popped %v (When %d) after When %d", e.Value, e.When(), last)
				}
				last = e.When()
			}
		}},
		{"entry held by another store", func(x tester) {
			for _, other := range []store{new(Heap[int]), NewReference[int](), new(Wheel[int])} {
				e := entry(1, 7, 7)
				add(other, e)
				x.remove(e, false)
				mustPanic(x.t, "Update of an entry held elsewhere", func() { x.s.Update(e, 1, 1) })
				if e.When() != 7 || e.Seq() != 7 || !e.InStore() {
					x.t.Fatalf("failed Update modified the entry: (%d, %d)", e.When(), e.Seq())
				}
				verifyStore(x.t, other)
				x.len(0)
				if !other.Remove(e) {
					x.t.Fatal("other store lost the entry")
				}
			}
		}},
	}
	for _, st := range stores {
		for _, tc := range cases {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				tc.run(tester{t: t, s: st.new()})
			})
		}
	}
}

func TestHeapVerifyDetectsCorruption(t *testing.T) {
	build := func() (*Heap[int], []*Entry[int]) {
		h := new(Heap[int])
		es := make([]*Entry[int], 20)
		for i := range es {
			es[i] = entry(i, int64(i), uint64(i))
			add(h, es[i])
		}
		if err := h.verify(); err != nil {
			t.Fatal(err)
		}
		return h, es
	}
	corruptions := []struct {
		name string
		f    func(h *Heap[int], es []*Entry[int])
	}{
		{"When written while held", func(h *Heap[int], es []*Entry[int]) { es[5].when = -1 }},
		{"Seq written while held", func(h *Heap[int], es []*Entry[int]) { es[5].seq++ }},
		{"wrong index", func(h *Heap[int], es []*Entry[int]) { es[5].index++ }},
		{"order", func(h *Heap[int], es []*Entry[int]) {
			h.s[0], h.s[1] = h.s[1], h.s[0]
			h.s[0].e.index, h.s[1].e.index = 1, 2
		}},
		{"stale slot", func(h *Heap[int], es []*Entry[int]) { h.s = h.s[:len(h.s)-1] }},
	}
	for _, c := range corruptions {
		h, es := build()
		c.f(h, es)
		if h.verify() == nil {
			t.Errorf("%s: verify found nothing", c.name)
		}
	}
}

func TestReferenceVerifyDetectsCorruption(t *testing.T) {
	r := NewReference[int]()
	e := entry(1, 1, 1)
	add(r, e)
	if err := r.verify(); err != nil {
		t.Fatal(err)
	}
	e.when = 2
	if r.verify() == nil {
		t.Fatal("verify missed a When written while held")
	}
}

// TestEntrySetSeq: an owner may number an entry in no store before filing
// it, and Update(e, when, e.Seq()) files it with that number; SetSeq on an
// entry a store holds panics, whatever the store.
func TestEntrySetSeq(t *testing.T) {
	h, w := new(Heap[int]), new(Wheel[int])
	var a, b, c Entry[int]
	a.SetSeq(7)
	b.SetSeq(3)
	if a.Seq() != 7 || a.InStore() {
		t.Fatalf("after SetSeq(7): Seq %d, InStore %v", a.Seq(), a.InStore())
	}
	h.Update(&a, 10, a.Seq())
	h.Update(&b, 10, b.Seq())
	if e := h.PopDue(10); e != &b {
		t.Fatal("equal deadlines: the entry numbered 3 must come before the one numbered 7")
	}
	w.Update(&c, 10, 1)
	for _, e := range []*Entry[int]{&a, &c} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("SetSeq on an entry a store holds did not panic")
				}
			}()
			e.SetSeq(99)
		}()
	}
}
