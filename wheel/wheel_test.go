package wheel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// satAdd returns a+b, saturating at the int64 limits.
func satAdd(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// clockOps returns n ops on a pool of size entries that model a loop: a
// clock moves forward; timers are scheduled and reset at the clock plus a
// delay whose magnitude is spread log-uniformly from 1 ns to about 2^50 ns
// (13 days), so that every level of the wheel and cascades through all of
// them are exercised; PopDue is called in runs at the current clock (firing
// what is due in order), sometimes at an earlier time (the clock must not
// go back), and the clock advances by log-uniform steps. A few deadlines are
// in the past, equal to the clock, or at the int64 limits.
func clockOps(rng *rand.Rand, n, size int) []op {
	clock := rng.Int64N(1<<40) - 1<<39
	delay := func() int64 {
		switch r := rng.IntN(40); {
		case r == 0:
			return -rng.Int64N(1 << 30) // already due
		case r == 1:
			return 0
		case r < 6:
			return rng.Int64N(1 << 16) // within a tick or two: equal ticks, equal deadlines
		default:
			return rng.Int64N(int64(1) << rng.IntN(51))
		}
	}
	ops := make([]op, 0, n)
	for len(ops) < n {
		i := rng.IntN(size)
		switch r := rng.IntN(100); {
		case r < 2:
			ops = append(ops, op{kind: opAdd, i: i, when: specialWhens[rng.IntN(len(specialWhens))]})
		case r < 40:
			ops = append(ops, op{kind: opAdd, i: i, when: satAdd(clock, delay())})
		case r < 55:
			ops = append(ops, op{kind: opRemove, i: i})
		case r < 72:
			ops = append(ops, op{kind: opUpdate, i: i, when: satAdd(clock, delay())})
		case r < 90: // advance the clock and fire what is due
			clock = satAdd(clock, rng.Int64N(int64(1)<<rng.IntN(48)))
			for k := rng.IntN(8); k >= 0; k-- {
				ops = append(ops, op{kind: opPopDue, when: clock})
			}
		case r < 92:
			ops = append(ops, op{kind: opPopDue, when: satAdd(clock, -rng.Int64N(1<<40))})
		case r < 96:
			ops = append(ops, op{kind: opNext})
		case r < 98:
			ops = append(ops, op{kind: opPeek})
		case r < 99:
			ops = append(ops, op{kind: opPop})
		default:
			ops = append(ops, op{kind: opRemoveAll})
		}
	}
	return ops[:n]
}

// decodeClockOps turns fuzz bytes into clock-driven ops, three bytes per
// op (kind, entry, magnitude): Add and Update schedule at the clock plus
// 2^(m%51) + m ns; PopDue advances the clock by 2^(m%48) ns when m is odd
// and pops at the clock, and otherwise pops at the clock minus m (the past).
func decodeClockOps(data []byte) []op {
	kinds := [16]opKind{
		opAdd, opAdd, opAdd, opAdd, opAdd, opRemove, opRemove, opUpdate,
		opUpdate, opUpdate, opPopDue, opPopDue, opPopDue, opPopDue, opNext, opPeek,
	}
	var clock int64
	ops := make([]op, 0, len(data)/3)
	for ; len(data) >= 3; data = data[3:] {
		k, m := kinds[data[0]%16], int64(data[2])
		o := op{kind: k, i: int(data[1])}
		switch k {
		case opAdd, opUpdate:
			o.when = satAdd(clock, int64(1)<<(m%51)+m)
		case opPopDue:
			if m&1 == 1 {
				clock = satAdd(clock, int64(1)<<(m%48))
				o.when = clock
			} else {
				o.when = clock - m
			}
		}
		ops = append(ops, o)
	}
	return ops
}

func TestWheelAgainstReference(t *testing.T) {
	steps := 4000
	if testing.Short() {
		steps = 600
	}
	for _, size := range []int{1, 2, 5, 17, 64, 300, 2000} {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("clock/pool=%d/seed=%d", size, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(size)))
				runDifferential(t, "Wheel", new(Wheel[int]), size, clockOps(rng, steps, size))
			})
			t.Run(fmt.Sprintf("random/pool=%d/seed=%d", size, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(size)))
				runDifferential(t, "Wheel", new(Wheel[int]), size, randomOps(rng, steps, size))
			})
		}
	}
}

func FuzzWheelAgainstReference(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		runDifferential(t, "Wheel", new(Wheel[int]), fuzzPool, decodeOps(data))
		runDifferential(t, "Wheel", new(Wheel[int]), fuzzPool, decodeClockOps(data))
	})
}

// TestWheelFiresExactlyInOrder schedules timers across every level, then
// walks the clock forward in uneven steps, each time asking Next for the
// deadline (as the loop does before parking) and jumping exactly there: no
// timer may fire early, none may be skipped, equal deadlines fire in
// scheduling order, and Next must name each deadline exactly.
func TestWheelFiresExactlyInOrder(t *testing.T) {
	var w Wheel[int]
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 5000
	es := make([]Entry[int], n)
	for i := range es {
		when := rng.Int64N(int64(1) << rng.IntN(50))
		if i%10 == 0 && i > 0 {
			when = es[i-1].When() // equal deadlines, later Seq
		}
		es[i].Value = i
		w.Update(&es[i], when, uint64(i+1))
	}
	if err := w.verify(); err != nil {
		t.Fatal(err)
	}
	var lastWhen int64 = math.MinInt64
	var lastSeq uint64
	fired := 0
	for w.Len() > 0 {
		next, ok := w.Next()
		if !ok {
			t.Fatal("Next reports empty with entries held")
		}
		if e := w.PopDue(next - 1); e != nil {
			t.Fatalf("PopDue(%d) fired (%d, %d) before Next's deadline", next-1, e.When(), e.Seq())
		}
		for e := w.PopDue(next); e != nil; e = w.PopDue(next) {
			if e.When() > next {
				t.Fatalf("fired (%d, %d) early at %d", e.When(), e.Seq(), next)
			}
			if before(e.When(), e.Seq(), lastWhen, lastSeq) {
				t.Fatalf("fired (%d, %d) after (%d, %d)", e.When(), e.Seq(), lastWhen, lastSeq)
			}
			lastWhen, lastSeq = e.When(), e.Seq()
			fired++
		}
		if err := w.verify(); err != nil {
			t.Fatal(err)
		}
	}
	if fired != n {
		t.Fatalf("fired %d of %d", fired, n)
	}
}

// TestWheelNextDoesNotMoveClock checks that asking for the next deadline
// (and peeking, as the tests do) leaves the clock where PopDue put it, so that timers added
// afterwards with nearer deadlines are still filed in the wheel, not in the
// near heap: a far-off timer must not turn the wheel into a heap.
func TestWheelNextDoesNotMoveClock(t *testing.T) {
	var w Wheel[int]
	far := new(Entry[int])
	w.Update(far, 3600e9, 1) // an hour
	w.PopDue(1e9)
	if got, _ := w.Next(); got != far.When() {
		t.Fatalf("Next = %d, want %d", got, far.When())
	}
	if peek(&w) != far {
		t.Fatal("peek is not the only entry")
	}
	es := make([]Entry[int], 100)
	for i := range es {
		w.Update(&es[i], 2e9+int64(i)*1e7, uint64(i+2))
	}
	if m := w.near.Len(); m != 0 {
		t.Fatalf("%d nearer timers went into the near heap", m)
	}
	if got, _ := w.Next(); got != 2e9 {
		t.Fatalf("Next = %d, want %d", got, int64(2e9))
	}
	if err := w.verify(); err != nil {
		t.Fatal(err)
	}
}

// TestWheelStaleMinimum removes the cached minimum of the earliest slot
// (a far level, not yet cascaded) repeatedly: Next must rescan and stay exact.
func TestWheelStaleMinimum(t *testing.T) {
	var w Wheel[int]
	es := make([]Entry[int], 50)
	for i := range es {
		es[i].Value = i
		w.Update(&es[i], 1e12+int64((i*37)%50)*1e3, uint64(i+1))
	}
	r := NewReference[int]()
	rs := make([]Entry[int], len(es))
	for i := range rs {
		rs[i].Value = i
		r.Update(&rs[i], es[i].When(), es[i].Seq())
	}
	for w.Len() > 0 {
		wn, _ := w.Next()
		rn, _ := r.Next()
		if wn != rn {
			t.Fatalf("Next = %d, want %d", wn, rn)
		}
		e := peek(&w)
		w.Remove(e)
		r.Remove(&rs[e.Value])
		if err := w.verify(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWheelZeroAllocs(t *testing.T) {
	if debug {
		t.Skip("the debug checks allocate")
	}
	const n = 5000
	var w Wheel[int]
	es := make([]Entry[int], n)
	rng := rand.New(rand.NewPCG(1, 2))
	var seq uint64
	var now int64
	for i := range es {
		seq++
		es[i].Value = i
		w.Update(&es[i], rng.Int64N(1e10), seq)
	}
	fire := func() { // fire the earliest timer and schedule it again
		when, _ := w.Next()
		e := w.PopDue(when)
		now = when
		seq++
		w.Update(e, now+rng.Int64N(1e10), seq)
	}
	for range 2 * n { // let the near heap's and the arena's slices reach their working size
		fire()
	}
	var extra Entry[int]
	i := 0
	expectNoAllocs(t, w.verify, []allocCase{
		{"Update(new)+Remove", func() {
			seq++
			w.Update(&extra, now+rng.Int64N(1e10), seq)
			w.Remove(&extra)
		}},
		{"Update", func() {
			seq++
			i = (i + 7919) % n
			w.Update(&es[i], now+rng.Int64N(1e10), seq)
		}},
		{"Next+PopDue+Update", fire},
	})
}

func TestWheelVerifyDetectsCorruption(t *testing.T) {
	build := func() (*Wheel[int], []*Entry[int]) {
		w := new(Wheel[int])
		es := make([]*Entry[int], 40)
		for i := range es {
			es[i] = entry(i, int64(i)*1e8, uint64(i+1))
			add(w, es[i])
		}
		if e := w.PopDue(1e8 - 1); e != es[0] { // es[0] fires; es[1], in the same tick as now, goes into the near heap
			t.Fatalf("PopDue = %v", e)
		}
		if w.near.Len() != 1 {
			t.Fatalf("near heap holds %d entries, want 1", w.near.Len())
		}
		if err := w.verify(); err != nil {
			t.Fatal(err)
		}
		return w, es
	}
	corruptions := []struct {
		name string
		f    func(w *Wheel[int], es []*Entry[int])
	}{
		{"When written while filed", func(w *Wheel[int], es []*Entry[int]) { es[30].when = 1e15 }},
		{"When written while in the near heap", func(w *Wheel[int], es []*Entry[int]) { es[1].when = 1 }},
		{"wrong code", func(w *Wheel[int], es []*Entry[int]) { es[5].index ^= 1 }},
		{"cell not cleared", func(w *Wheel[int], es []*Entry[int]) {
			for lv := range w.levels {
				for s := range w.levels[lv].slots {
					if sl := &w.levels[lv].slots[s]; sl.top != 0 && sl.n < blockSize {
						w.cells[int(sl.top-1)<<blockBits+int(sl.n)] = es[0]
						return
					}
				}
			}
			t.Fatal("no partly filled block")
		}},
		{"block lost", func(w *Wheel[int], es []*Entry[int]) { w.free = 0 }},
		{"count", func(w *Wheel[int], es []*Entry[int]) { w.filed++ }},
		{"occupied bit", func(w *Wheel[int], es []*Entry[int]) { w.levels[numLevels-1].occupied |= 1 }},
		{"busy bit", func(w *Wheel[int], es []*Entry[int]) { w.busy ^= 1 << (numLevels - 1) }},
		{"cached minimum", func(w *Wheel[int], es []*Entry[int]) {
			for lv := range w.levels {
				for s := range w.levels[lv].slots {
					if sl := &w.levels[lv].slots[s]; sl.top != 0 && sl.n >= 2 {
						for _, e := range w.cells[int(sl.top-1)<<blockBits:][:sl.n] {
							if e != sl.min {
								sl.min, sl.when, sl.seq = e, e.when, e.seq
								return
							}
						}
					}
				}
			}
			t.Fatal("no slot holds two entries")
		}},
		{"position moved back", func(w *Wheel[int], es []*Entry[int]) { w.setPos(0) }},
	}
	for _, c := range corruptions {
		w, es := build()
		c.f(w, es)
		if w.verify() == nil {
			t.Errorf("%s: verify found nothing", c.name)
		}
	}
}

// TestWheelTellsItsEntriesApart checks that a Wheel does not mistake an
// entry filed in another Wheel, in the same cell, for one of its own.
func TestWheelTellsItsEntriesApart(t *testing.T) {
	var a, b Wheel[int]
	e := entry(1, 1e12, 1)
	add(&a, e)
	add(&b, entry(2, 1e12, 2)) // the same cell of b's arena
	if b.Remove(e) {
		t.Fatal("Wheel b removed an entry filed in Wheel a")
	}
	mustPanic(t, "Update of an entry filed in another Wheel", func() { b.Update(e, 5, 5) })
	if !a.Remove(e) || a.Len() != 0 {
		t.Fatal("Wheel a lost its entry")
	}
	if err := a.verify(); err != nil {
		t.Fatal(err)
	}
	if err := b.verify(); err != nil {
		t.Fatal(err)
	}
}
