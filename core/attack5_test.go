package core

// Adversarial tests of Timer.SetLeeway (the per-timer leeway of #14).
// Every test runs on a FakeClock or in a testing/synctest bubble: none
// asserts anything about real time.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"
)

var attack5Stores = []TimerStore{StoreHeap, StoreWheel}

// a5Fake starts a loop on a new FakeClock (nanos 0 = the loop's 0) and
// returns it with a function reading the loop clock (ns) and a stopper.
func a5Fake(t *testing.T, store TimerStore, opts ...Option) (*Loop, *FakeClock, func() int64, func()) {
	t.Helper()
	clk := NewFakeClock()
	l := New(append([]Option{WithClock(clk), WithTimerStore(store)}, opts...)...)
	stop := start(t, l)
	return l, clk, func() int64 { return clk.nanos.Load() }, stop
}

// a5Leeway sets up tm on l with fn and leeway d, failing the test on error.
func a5Leeway(t *testing.T, tm *Timer, l *Loop, d time.Duration, fn func()) {
	t.Helper()
	if err := tm.Init(l, fn); err != nil {
		t.Fatal(err)
	}
	if err := tm.SetLeeway(d); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------
// SetLeeway's error cases.

// TestAttack5SetLeewayErrorCases: every documented rejection, with the
// timers armed at non-zero deadlines.
func TestAttack5SetLeewayErrorCases(t *testing.T) {
	l, clk, _, stop := a5Fake(t, StoreHeap)
	defer stop()
	clk.Advance(time.Millisecond) // deadlines below are > 0

	var nilT *Timer
	if err := nilT.SetLeeway(time.Millisecond); err == nil {
		t.Error("nil *Timer: nil error")
	}
	var zero Timer
	if err := zero.SetLeeway(time.Millisecond); err == nil {
		t.Error("zero Timer: nil error")
	}
	var neg Timer
	if err := neg.Init(l, func() {}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{-1, -time.Hour, math.MinInt64} {
		if err := neg.SetLeeway(d); !errors.Is(err, ErrBadLeeway) {
			t.Errorf("SetLeeway(%v): %v, want ErrBadLeeway", d, err)
		}
	}
	var armed Timer
	a5Leeway(t, &armed, l, time.Millisecond, func() {})
	armed.Reset(time.Hour)
	if err := armed.SetLeeway(2 * time.Millisecond); err == nil {
		t.Error("after Reset: nil error")
	}
	armed.Stop()
	if err := armed.SetLeeway(2 * time.Millisecond); err == nil {
		t.Error("after Reset and Stop: nil error")
	}
	var fired Timer
	a5Leeway(t, &fired, l, time.Millisecond, func() {})
	fired.Reset(time.Microsecond)
	clk.Advance(time.Millisecond)
	if err := fired.SetLeeway(2 * time.Millisecond); err == nil {
		t.Error("after it fired: nil error")
	}
	every := must(l.Every(time.Second, func() {}))
	if err := every.SetLeeway(time.Millisecond); err == nil {
		t.Error("Every: nil error")
	}
	every.Stop()
	if err := every.SetLeeway(time.Millisecond); err == nil {
		t.Error("stopped Every: nil error")
	}
	af := must(l.AfterFunc(time.Hour, func() {}))
	if err := af.SetLeeway(time.Millisecond); err == nil {
		t.Error("AfterFunc: nil error")
	}
	at := must(l.At(clk.Now().Add(time.Hour), func() {}))
	if err := at.SetLeeway(time.Millisecond); err == nil {
		t.Error("At: nil error")
	}
	// Exact again: SetLeeway(0) after SetLeeway(d).
	var back Timer
	a5Leeway(t, &back, l, time.Millisecond, func() {})
	if err := back.SetLeeway(0); err != nil || back.n.Value.home != &l.oneShot {
		t.Errorf("SetLeeway(0): %v, home %p", err, back.n.Value.home)
	}
}

// TestAttack5SetLeewayAcceptedOnceArmedAtDeadlineZero: SetLeeway must
// refuse a timer that was armed already ("one armed already", "also every
// timer of AfterFunc and At"). It decides by p.load() != 0, but a timer
// armed for deadline 0 — the loop clock's origin: Reset(d <= 0) or
// AfterFunc(0) before the clock moved (a FakeClock or a synctest bubble),
// or At with a time in the past, on any clock (atDeadline clamps it to 0)
// — has the word 0 again once it has fired or been stopped (disarmed keeps
// only the deadline, 0). SetLeeway then succeeds.
func TestAttack5SetLeewayAcceptedOnceArmedAtDeadlineZero(t *testing.T) {
	for _, store := range attack5Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, _, stop := a5Fake(t, store)
			defer stop()
			check := func(what string, tm *Timer) {
				t.Helper()
				if err := tm.SetLeeway(time.Millisecond); err == nil {
					t.Errorf("%s: SetLeeway returned nil (word %v), want the 'armed already' error", what, tm.n.Value.load())
				}
			}
			// Init, Reset(0), fired.
			var a Timer
			if err := a.Init(l, func() {}); err != nil {
				t.Fatal(err)
			}
			a.Reset(0)
			clk.Advance(0)
			check("Init+Reset(0), fired", &a)
			// Init, Reset(-1), stopped before it fired.
			var b Timer
			if err := b.Init(l, func() {}); err != nil {
				t.Fatal(err)
			}
			do(t, l, func() {
				b.Reset(-1)
				if !l.Local().Stop(&b) {
					t.Error("Local().Stop of an armed timer: false")
				}
			})
			check("Init+Reset(-1), stopped", &b)
			// AfterFunc(0), fired.
			af := must(l.AfterFunc(0, func() {}))
			clk.Advance(0)
			check("AfterFunc(0), fired", af)
			// At in the past, fired: deadline 0 on any clock.
			clk.Advance(time.Second)
			at := must(l.At(clk.Now().Add(-time.Hour), func() {}))
			clk.Advance(0)
			check("At(past), fired", at)
			// From its own callback: the timer that is running.
			var c Timer
			var inCb error = errors.New("not run")
			if err := c.Init(l, func() { inCb = c.SetLeeway(time.Millisecond) }); err != nil {
				t.Fatal(err)
			}
			c.Reset(-time.Hour) // clock at 1 s: deadline 1 s, not 0
			clk.Advance(0)
			var got error
			do(t, l, func() { got = inCb })
			if got == nil {
				t.Error("control (deadline 1 s, in its callback): SetLeeway returned nil")
			}
		})
	}
}

// TestAttack5SetLeewayAtPastRealClock: the same on the runtime clock, with
// no FakeClock: At(a past time) clamps the deadline to 0, so once the At
// timer has fired, SetLeeway accepts it.
func TestAttack5SetLeewayAtPastRealClock(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	done := make(chan struct{})
	at := must(l.At(time.Now().Add(-time.Minute), func() { close(done) }))
	<-done
	do(t, l, func() {})
	if err := at.SetLeeway(time.Millisecond); err == nil {
		t.Errorf("At(past) timer, fired: SetLeeway returned nil, want an error (word %v)", at.n.Value.load())
	}
}

// TestAttack5SetLeewayRacesFire: a timer armed at deadline 0 (a FakeClock
// that has not moved) and fired: its word is disarmed with deadline 0, and
// SetLeeway must still see that it was armed (the loop may read its home
// from then on). First written to call SetLeeway concurrently with the
// Reset, which is a misuse (SetLeeway documents it: not concurrently with
// the timer's other methods); now SetLeeway comes after the fire was seen.
func TestAttack5SetLeewayRacesFire(t *testing.T) {
	for round := 0; round < 20; round++ {
		clk := NewFakeClock()
		l := New(WithClock(clk))
		stop := start(t, l)
		fired := make(chan struct{})
		var tm Timer
		if err := tm.Init(l, func() { close(fired) }); err != nil {
			t.Fatal(err)
		}
		tm.Reset(0) // deadline 0: the clock has not moved
		clk.Advance(0)
		<-fired
		err := tm.SetLeeway(time.Millisecond)
		stop()
		if err == nil {
			t.Fatalf("round %d: SetLeeway accepted on a timer that was armed and fired", round)
		}
	}
}

// ---------------------------------------------------------------------
// Firing times: never early, never more than the leeway late.

// TestAttack5RandomModel drives timers with assorted leeways (0, odd and
// round ones, and math.MaxInt64) through random Reset/Stop from the test
// goroutine and Local().Reset/Local().Stop/Timer.Reset from callbacks, on
// a FakeClock, and checks each firing against a model: a timer fires
// exactly at coalesce(deadline, leeway) (the FakeClock steps to it), only
// while armed, and after every Advance no armed timer's window end has
// passed; every Reset and Stop reports what the model says.
func TestAttack5RandomModel(t *testing.T) {
	leeways := []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 7*time.Millisecond + 13, 250 * time.Microsecond, math.MaxInt64}
	for _, store := range attack5Stores {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%v/seed%d", store, seed), func(t *testing.T) {
				l, clk, now, stop := a5Fake(t, store)
				defer stop()
				rng := rand.New(rand.NewPCG(seed, 99))
				const n = 12
				type mt struct {
					armed  bool
					when   int64
					leeway int64
					fires  int
				}
				var mu sync.Mutex
				model := make([]mt, n)
				ts := make([]Timer, n)
				var errs []string
				draining := false
				fail := func(f string, a ...any) {
					if len(errs) < 10 {
						errs = append(errs, fmt.Sprintf(f, a...))
					}
				}
				key := func(i int) int64 { return coalesce(model[i].when, min(model[i].leeway, maxWhen)) }
				cbRng := rand.New(rand.NewPCG(seed, 7))
				randD := func(r *rand.Rand) time.Duration {
					if r.IntN(8) == 0 {
						return -time.Duration(r.IntN(1000)) // due now
					}
					return time.Duration(r.IntN(9000))*time.Microsecond + time.Duration(r.IntN(1000))
				}
				for i := range ts {
					lw := leeways[i%len(leeways)]
					model[i].leeway = int64(lw)
					err := ts[i].Init(l, func() {
						mu.Lock()
						defer mu.Unlock()
						c := now()
						m := &model[i]
						if !m.armed {
							fail("timer %d fired while stopped, at %d", i, c)
						} else if k := key(i); c != k {
							fail("timer %d (deadline %d, leeway %d) fired at %d, want %d (window end)", i, m.when, m.leeway, c, k)
						}
						m.armed = false
						m.fires++
						// Callback actions (none while draining at maxWhen).
						for k := cbRng.IntN(3); k > 0 && !draining; k-- {
							j := cbRng.IntN(n)
							switch cbRng.IntN(4) {
							case 0, 1:
								d := randD(cbRng)
								was := l.Local().Reset(&ts[j], d)
								if was != model[j].armed {
									fail("Local().Reset(%d) = %v, model %v", j, was, model[j].armed)
								}
								model[j].armed, model[j].when = true, addClamped(c, max(int64(d), 0))
							case 2:
								was := l.Local().Stop(&ts[j])
								if was != model[j].armed {
									fail("Local().Stop(%d) = %v, model %v", j, was, model[j].armed)
								}
								model[j].armed = false
							case 3:
								d := randD(cbRng)
								was := ts[j].Reset(d)
								if was != model[j].armed {
									fail("Reset(%d) from a callback = %v, model %v", j, was, model[j].armed)
								}
								model[j].armed, model[j].when = true, addClamped(c, max(int64(d), 0))
							}
						}
					})
					if err != nil {
						t.Fatal(err)
					}
					if err := ts[i].SetLeeway(lw); err != nil {
						t.Fatal(err)
					}
				}
				for op := 0; op < 250; op++ {
					i := rng.IntN(n)
					switch rng.IntN(6) {
					case 0, 1, 2:
						// Never due at once from here: the loop would fire
						// the timer while this goroutine goes on, and a
						// Reset racing that fire linearizes after it, which
						// this sequential model cannot follow (CI saw
						// "Reset(6) = false, model true" once). Callbacks
						// still reset timers due at once.
						d := max(randD(rng), 1)
						mu.Lock()
						c := now()
						was := ts[i].Reset(d)
						if was != model[i].armed {
							fail("op %d: Reset(%d) = %v, model %v", op, i, was, model[i].armed)
						}
						model[i].armed, model[i].when = true, c+max(int64(d), 0)
						mu.Unlock()
					case 3:
						mu.Lock()
						was := ts[i].Stop()
						if was != model[i].armed {
							fail("op %d: Stop(%d) = %v, model %v", op, i, was, model[i].armed)
						}
						model[i].armed = false
						mu.Unlock()
					default:
						clk.Advance(time.Duration(rng.IntN(4000)) * time.Microsecond)
						do(t, l, func() {})
						clk.Advance(0)
						mu.Lock()
						c := now()
						for j := range model {
							if model[j].armed && key(j) <= c {
								fail("op %d: timer %d (deadline %d, leeway %d) still armed at %d, past its window end %d", op, j, model[j].when, model[j].leeway, c, key(j))
							}
						}
						mu.Unlock()
					}
				}
				// Drain: everything still armed fires by maxWhen.
				mu.Lock()
				draining = true
				mu.Unlock()
				clk.Advance(math.MaxInt64)
				clk.Advance(0)
				mu.Lock()
				for j := range model {
					if model[j].armed {
						fail("end: timer %d (deadline %d, leeway %d) never fired", j, model[j].when, model[j].leeway)
					}
				}
				total := 0
				for j := range model {
					total += model[j].fires
				}
				if total < 40 {
					fail("only %d firings: the model exercised too little", total)
				}
				got := slices.Clone(errs)
				mu.Unlock()
				for _, e := range got {
					t.Error(e)
				}
			})
		}
	}
}

// TestAttack5ResetMoves: one leeway timer (1 ms) moved later within its
// window (lazy path: stays filed, fires at the window end), later past the
// window (re-filed at fire), earlier into an earlier window (message), after
// fire and after Stop; Local().Reset relative to the callback's end,
// including a callback that advances the clock (a slow callback).
func TestAttack5ResetMoves(t *testing.T) {
	ms := int64(time.Millisecond)
	for _, store := range attack5Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, now, stop := a5Fake(t, store)
			defer stop()
			var at []int64
			var tm Timer
			var local func()
			a5Leeway(t, &tm, l, time.Millisecond, func() {
				at = append(at, now())
				if local != nil {
					f := local
					local = nil
					f()
				}
			})
			got := func() []int64 {
				var g []int64
				do(t, l, func() { g = slices.Clone(at); at = at[:0] })
				return g
			}
			expect := func(name string, want ...int64) {
				t.Helper()
				if g := got(); !slices.Equal(g, want) {
					t.Errorf("%s: fired at %v, want %v", name, g, want)
				}
			}
			// Later within the window: 1.2 ms -> 1.9 ms, fires at 2 ms.
			tm.Reset(1200 * time.Microsecond)
			do(t, l, func() {}) // filed: the next Reset takes the lazy path
			tm.Reset(1900 * time.Microsecond)
			clk.Advance(3 * time.Millisecond) // now 3 ms
			expect("later within window", 2*ms)
			// Later past the window: 3.1 -> 5.5, fires at 6.
			tm.Reset(100 * time.Microsecond)
			do(t, l, func() {})
			tm.Reset(2500 * time.Microsecond)
			clk.Advance(4 * time.Millisecond) // now 7
			expect("later past window", 6*ms)
			// Earlier into an earlier window: 7+5.5=12.5 -> 7+0.4=7.4, fires at 8.
			tm.Reset(5500 * time.Microsecond)
			do(t, l, func() {})
			tm.Reset(400 * time.Microsecond)
			clk.Advance(7 * time.Millisecond) // now 14
			expect("earlier", 8*ms)
			// Stop, then Reset: 14.3 -> fires at 15.
			tm.Reset(300 * time.Microsecond)
			tm.Stop()
			tm.Reset(300 * time.Microsecond)
			clk.Advance(2 * time.Millisecond) // now 16
			expect("stop then reset", 15*ms)
			// Exactly on a window end: 17 ms fires at 17.
			tm.Reset(time.Millisecond)
			clk.Advance(2 * time.Millisecond) // now 18
			expect("on a boundary", 17*ms)
			// Local().Reset from its own callback: 18.5 -> fires at 19,
			// re-armed for 19+0.2 = 19.2 -> 20.
			local = func() { l.Local().Reset(&tm, 200*time.Microsecond) }
			tm.Reset(500 * time.Microsecond)
			clk.Advance(3 * time.Millisecond) // now 21
			expect("Local().Reset self", 19*ms, 20*ms)
			// A slow callback: Local().Reset(0.3 ms), then the callback
			// runs for 1.5 ms (Advance from the loop): deadline is the
			// callback's end (21.5+1.5=23) + 0.3 = 23.3 -> 24.
			local = func() {
				l.Local().Reset(&tm, 300*time.Microsecond)
				clk.Advance(1500 * time.Microsecond)
			}
			tm.Reset(500 * time.Microsecond) // 21.5 -> 22
			clk.Advance(5 * time.Millisecond)
			expect("Local().Reset in a slow callback", 22*ms, 24*ms)
			// Local().Stop of a filed leeway timer from another callback.
			tm.Reset(500 * time.Microsecond)
			do(t, l, func() {
				if !l.Local().Stop(&tm) {
					t.Error("Local().Stop: false")
				}
			})
			clk.Advance(3 * time.Millisecond)
			expect("Local().Stop")
		})
	}
}

// TestAttack5EqualWindowOrder: timers of one window fire at its end in the
// order they were scheduled, whatever their deadlines within it; an exact
// timer due before the end fires first, one due exactly at the end takes
// its scheduling place among them; a leeway timer moved later within the
// window keeps its place (it is not re-filed).
func TestAttack5EqualWindowOrder(t *testing.T) {
	for _, store := range attack5Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, now, stop := a5Fake(t, store)
			defer stop()
			var names []string
			var at []int64
			rec := func(s string) func() {
				return func() { names = append(names, s); at = append(at, now()) }
			}
			var a, b, c Timer
			a5Leeway(t, &a, l, time.Millisecond, rec("a"))
			a5Leeway(t, &b, l, time.Millisecond, rec("b"))
			a5Leeway(t, &c, l, time.Millisecond, rec("c"))
			a.Reset(900 * time.Microsecond)
			b.Reset(100 * time.Microsecond)
			must(l.AfterFunc(time.Millisecond, rec("E@1ms")))
			c.Reset(500 * time.Microsecond)
			must(l.AfterFunc(950*time.Microsecond, rec("F@0.95")))
			do(t, l, func() {})
			a.Reset(990 * time.Microsecond) // later within the window: keeps its place
			clk.Advance(2 * time.Millisecond)
			var gn []string
			var ga []int64
			do(t, l, func() { gn, ga = slices.Clone(names), slices.Clone(at) })
			ms := int64(time.Millisecond)
			wantN := []string{"F@0.95", "a", "b", "E@1ms", "c"}
			wantA := []int64{950 * int64(time.Microsecond), ms, ms, ms, ms}
			if !slices.Equal(gn, wantN) || !slices.Equal(ga, wantA) {
				t.Errorf("fired %v at %v, want %v at %v", gn, ga, wantN, wantA)
			}
		})
	}
}

// TestAttack5ExactNotDelayedByLeeway: 2000 leeway timers around an exact
// one, all in its window: the exact one fires at its deadline, before
// them, and each leeway timer at its window end.
func TestAttack5ExactNotDelayedByLeeway(t *testing.T) {
	for _, store := range attack5Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, now, stop := a5Fake(t, store)
			defer stop()
			var exactAt int64 = -1
			bad := 0
			ts := make([]Timer, 2000)
			for i := range ts {
				d := time.Duration(i) * 997 // 0 .. ~2 ms
				a5Leeway(t, &ts[i], l, time.Millisecond, func() {
					if now() != coalesce(int64(d), int64(time.Millisecond)) {
						bad++
					}
				})
				ts[i].Reset(d)
			}
			must(l.AfterFunc(333333, func() { exactAt = now() }))
			clk.Advance(3 * time.Millisecond)
			do(t, l, func() {
				if exactAt != 333333 || bad != 0 {
					t.Errorf("exact timer fired at %d (want 333333); %d leeway timers off their window end", exactAt, bad)
				}
			})
		})
	}
}

// ---------------------------------------------------------------------
// Huge leeways, overflow, Close and Shutdown.

// TestAttack5HugeLeeway: leeways of math.MaxInt64, maxWhen, maxWhen-1 and
// 1<<59 never overflow coalesce and never leave a timer stuck: each fires,
// no earlier than its deadline, at the latest deadline a word holds at
// most; a deadline near maxWhen still fires.
func TestAttack5HugeLeeway(t *testing.T) {
	for _, lw := range []int64{math.MaxInt64, maxWhen, maxWhen - 1, 1 << 59, 1<<59 + 1} {
		for _, w := range []int64{1, int64(time.Millisecond), 1<<59 + 5, maxWhen - 1, maxWhen} {
			k := coalesce(w, min(lw, maxWhen))
			if k < w || k > maxWhen || k-w > min(lw, maxWhen) {
				t.Errorf("coalesce(%d, %d) = %d", w, lw, k)
			}
		}
	}
	for _, store := range attack5Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, now, stop := a5Fake(t, store)
			defer stop()
			var at []int64
			ts := make([]Timer, 4)
			for i, lw := range []time.Duration{math.MaxInt64, time.Duration(maxWhen - 1), 1 << 59, time.Hour} {
				a5Leeway(t, &ts[i], l, lw, func() { at = append(at, now()) })
				ts[i].Reset(time.Millisecond)
			}
			clk.Advance(2 * time.Hour)
			var mid []int64
			do(t, l, func() { mid = slices.Clone(at) })
			if want := []int64{int64(time.Hour)}; !slices.Equal(mid, want) {
				t.Errorf("after 2 h: fired at %v, want %v", mid, want)
			}
			clk.Advance(math.MaxInt64)
			clk.Advance(0)
			var got []int64
			do(t, l, func() { got = slices.Clone(at) })
			want := []int64{int64(time.Hour), 1 << 59, maxWhen - 1, maxWhen} // maxWhen-1 is a multiple of itself
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("fired at %v, want %v", got, want)
			}
			// At maxWhen: a leeway timer reset now is due at once.
			ts[0].Reset(time.Hour)
			clk.Advance(time.Hour)
			do(t, l, func() {})
			clk.Advance(0)
			do(t, l, func() {
				if len(at) != 5 {
					t.Errorf("Reset at maxWhen: fired %d times in all, want 5", len(at))
				}
			})
		})
	}
}

// TestAttack5CloseAndShutdownWithLeeway: Close cancels pending leeway
// timers (Stop then reports false, Reset refuses); Shutdown runs them at
// their window ends and then finishes.
func TestAttack5CloseAndShutdownWithLeeway(t *testing.T) {
	for _, store := range attack5Stores {
		t.Run("close/"+store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			fired := 0
			ts := make([]Timer, 5)
			for i := range ts {
				a5Leeway(t, &ts[i], l, time.Millisecond, func() { fired++ })
				ts[i].Reset(time.Duration(i+1) * 300 * time.Microsecond)
			}
			clk.Advance(500 * time.Microsecond)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			<-errc
			for i := range ts {
				if ts[i].Stop() {
					t.Errorf("timer %d: Stop after Close: true", i)
				}
				if ts[i].Reset(time.Millisecond) {
					t.Errorf("timer %d: Reset after Close: true", i)
				}
			}
			if s := l.Stats(); fired != 0 || s.TimersCancelled != 5 || s.TimersPending != 0 {
				t.Errorf("fired %d, stats %+v; want 0 fired, 5 cancelled", fired, s)
			}
		})
		t.Run("shutdown/"+store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			var at []int64
			ts := make([]Timer, 5)
			for i := range ts {
				a5Leeway(t, &ts[i], l, time.Millisecond, func() { at = append(at, clk.nanos.Load()) })
				ts[i].Reset(time.Duration(i+1) * 300 * time.Microsecond)
			}
			ts[4].Stop()
			sd := make(chan error, 1)
			go func() { sd <- l.Shutdown(context.Background()) }()
			for !l.closing() { // waits for the call, times nothing
				time.Sleep(time.Microsecond)
			}
			clk.Advance(5 * time.Millisecond)
			if err := <-sd; err != nil {
				t.Fatal(err)
			}
			<-errc
			ms := int64(time.Millisecond)
			if want := []int64{ms, ms, ms, 2 * ms}; !slices.Equal(at, want) {
				t.Errorf("Shutdown: fired at %v, want %v", at, want)
			}
		})
	}
}

// ---------------------------------------------------------------------
// Wake-ups: the feature's point is fewer of them.

// TestAttack5KickForTimerInCurrentWindow: the loop is parked until 2 ms
// (an exact timer). Another goroutine arms a leeway timer (1 ms) for
// 1.5 ms: it is filed at 2 ms, no earlier than the loop's wake-up, so the
// loop need not be woken (as for an exact timer armed for 2.5 ms). wakeFor
// compares the word's deadline (1.5 ms), not the key, with the expiry and
// kicks the loop: each leeway timer armed from another goroutine into the
// window the loop already waits for costs a wake-up, the one the leeway
// was meant to save.
func TestAttack5KickForTimerInCurrentWindow(t *testing.T) {
	l, clk, _, stop := a5Fake(t, StoreHeap)
	defer stop()
	must(l.AfterFunc(2*time.Millisecond, func() {}))
	kicks := func(arm func()) uint64 {
		do(t, l, func() {})
		clk.Advance(0) // parked again, until 2 ms
		k0 := l.Stats().Kicks
		arm()
		return l.Stats().Kicks - k0
	}
	var later Timer
	if err := later.Init(l, func() {}); err != nil {
		t.Fatal(err)
	}
	if k := kicks(func() { later.Reset(2500 * time.Microsecond) }); k != 0 {
		t.Fatalf("control: exact timer armed for 2.5 ms kicked the loop %d times", k)
	}
	var earlier Timer
	if err := earlier.Init(l, func() {}); err != nil {
		t.Fatal(err)
	}
	if k := kicks(func() { earlier.Reset(1500 * time.Microsecond) }); k != 1 {
		t.Fatalf("control: exact timer armed for 1.5 ms kicked the loop %d times, want 1", k)
	}
	earlier.Stop()
	const n = 10
	ts := make([]Timer, n)
	total := uint64(0)
	for i := range ts {
		a5Leeway(t, &ts[i], l, time.Millisecond, func() {})
		total += kicks(func() { ts[i].Reset(time.Duration(1100+50*i) * time.Microsecond) }) // all filed at 2 ms
	}
	if total != 0 {
		t.Errorf("%d leeway timers (1 ms) armed for 1.1..1.55 ms, filed at 2 ms, the loop's own wake-up: %d kicks, want 0", n, total)
	}
}

// ---------------------------------------------------------------------
// synctest and other goroutines.

// TestAttack5SynctestGoroutines: in a synctest bubble, eight goroutines
// each arm, push later, pull earlier and stop their leeway timers at their
// own instants (never a window end nor a deadline), and Local().Reset from
// callbacks re-arms some: every firing is exactly at its window end on the
// loop clock, and nothing is left.
func TestAttack5SynctestGoroutines(t *testing.T) {
	for _, store := range attack5Stores {
		t.Run(store.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithTimerStore(store))
				errc := make(chan error, 1)
				go func() { errc <- l.Run(context.Background()) }()
				now := func() int64 { return int64(time.Since(l.base)) }
				const g = 8
				var mu sync.Mutex
				type mt struct {
					armed      bool
					when, lw   int64
					fires, bad int
					again      int
				}
				model := make([]mt, g)
				ts := make([]Timer, g)
				var errs []string
				for i := range ts {
					lw := time.Duration(i%4+1) * time.Millisecond
					model[i].lw = int64(lw)
					a5Leeway(t, &ts[i], l, lw, func() {
						mu.Lock()
						defer mu.Unlock()
						m := &model[i]
						c := now()
						if !m.armed || c != coalesce(m.when, m.lw) {
							errs = append(errs, fmt.Sprintf("timer %d fired at %d; model armed %v deadline %d leeway %d", i, c, m.armed, m.when, m.lw))
						}
						m.armed = false
						m.fires++
						if m.again > 0 {
							m.again--
							d := time.Duration(700+i*11) * time.Microsecond
							l.Local().Reset(&ts[i], d)
							m.armed, m.when = true, c+int64(d)
						}
					})
				}
				var wg sync.WaitGroup
				for i := range ts {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rng := rand.New(rand.NewPCG(uint64(i), 5))
						for k := 0; k < 40; k++ {
							// Sleep to an instant ≡ 17+i ns mod 1 µs.
							time.Sleep(time.Duration(rng.IntN(900)+50) * time.Microsecond)
							c := now()
							time.Sleep(time.Duration((17+int64(i)-c%1000+2000)%1000 + 1000))
							mu.Lock()
							c = now()
							d := time.Duration(rng.IntN(5000))*time.Microsecond + 400 // deadlines ≡ 417+i
							switch rng.IntN(5) {
							case 0:
								ts[i].Stop()
								model[i].armed = false
							default:
								ts[i].Reset(d)
								model[i].armed, model[i].when = true, c+int64(d)
								if rng.IntN(4) == 0 {
									model[i].again = 1
								}
							}
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				time.Sleep(time.Second)
				synctest.Wait()
				mu.Lock()
				for i, m := range model {
					if m.armed {
						errs = append(errs, fmt.Sprintf("timer %d still armed (deadline %d) at %d", i, m.when, now()))
					}
				}
				for _, e := range errs {
					t.Error(e)
				}
				mu.Unlock()
				l.Close()
				<-errc
			})
		})
	}
}

// TestAttack5ConcurrentResetsFireOnce: four goroutines Reset the same
// leeway timers at once (the FakeClock stands still meanwhile), with
// deadlines earlier and later than each other: each timer fires once, at
// the window end of one of the deadlines set (the last one in the CAS
// order), never early.
func TestAttack5ConcurrentResetsFireOnce(t *testing.T) {
	for _, store := range attack5Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, now, stop := a5Fake(t, store)
			defer stop()
			const n, g = 50, 4
			ts := make([]Timer, n)
			var mu sync.Mutex
			fired := make([][]int64, n)
			for i := range ts {
				a5Leeway(t, &ts[i], l, time.Duration(i%3+1)*time.Millisecond, func() {
					mu.Lock()
					fired[i] = append(fired[i], now())
					mu.Unlock()
				})
			}
			for round := 0; round < 5; round++ {
				base := now()
				set := make([][]int64, n)
				var wg sync.WaitGroup
				var smu sync.Mutex
				for w := 0; w < g; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rng := rand.New(rand.NewPCG(uint64(round*10+w), 3))
						for k := 0; k < 3*n; k++ {
							i := rng.IntN(n)
							d := time.Duration(rng.IntN(6000)+1) * time.Microsecond
							smu.Lock()
							set[i] = append(set[i], base+int64(d))
							smu.Unlock()
							ts[i].Reset(d)
						}
					}()
				}
				wg.Wait()
				clk.Advance(20 * time.Millisecond)
				clk.Advance(0)
				mu.Lock()
				for i := range ts {
					lw := int64(i%3+1) * int64(time.Millisecond)
					if len(set[i]) == 0 {
						if len(fired[i]) != 0 {
							t.Errorf("round %d: timer %d not reset, fired %v", round, i, fired[i])
						}
						continue
					}
					if len(fired[i]) != 1 {
						t.Errorf("round %d: timer %d fired %d times (%v), want once", round, i, len(fired[i]), fired[i])
					} else {
						ok := false
						for _, w := range set[i] {
							if fired[i][0] == coalesce(w, lw) {
								ok = true
							}
						}
						if !ok {
							t.Errorf("round %d: timer %d fired at %d, not the window end of any deadline set %v", round, i, fired[i][0], set[i])
						}
					}
					fired[i] = fired[i][:0]
				}
				mu.Unlock()
			}
		})
	}
}

// ---------------------------------------------------------------------
// Misuse: a copied Timer with a leeway.

// TestAttack5CopiedLeewayTimer: a copy (made with unsafe, past vet) of a
// Timer with a leeway, taken before and after it was armed, only ever reads
// the original's timerHome (a whole object of its own): Reset and Stop on
// the copy never crash and it fires at its window end; the original keeps
// working.
func TestAttack5CopiedLeewayTimer(t *testing.T) {
	for _, store := range attack5Stores {
		t.Run(store.String(), func(t *testing.T) {
			type holder struct {
				T Timer
				F func()
				X int64
			}
			l, clk, now, stop := a5Fake(t, store)
			defer stop()
			var at []int64
			foreign := 0
			var orig Timer
			a5Leeway(t, &orig, l, time.Millisecond, func() { at = append(at, now()) })
			cp := func() *holder {
				h := &holder{F: func() { foreign++ }, X: 12345}
				*(*[unsafe.Sizeof(Timer{})]byte)(unsafe.Pointer(&h.T)) = *(*[unsafe.Sizeof(Timer{})]byte)(unsafe.Pointer(&orig))
				return h
			}
			h1 := cp() // before arming
			h1.T.Reset(300 * time.Microsecond)
			orig.Reset(1300 * time.Microsecond)
			do(t, l, func() {})
			clk.Advance(3 * time.Millisecond)
			orig.Stop()
			do(t, l, func() {}) // the opStop takes it out of the store
			h2 := cp()          // after arming and stopping (index 0)
			h2.T.Reset(3100 * time.Microsecond)
			clk.Advance(5 * time.Millisecond)
			h1.T.Stop()
			h2.T.Stop()
			var got []int64
			do(t, l, func() { got = slices.Clone(at) })
			ms := int64(time.Millisecond)
			if want := []int64{ms, 2 * ms, 7 * ms}; !slices.Equal(got, want) || foreign != 0 {
				t.Errorf("fired at %v (foreign %d), want %v, 0", got, foreign, want)
			}
		})
	}
}

// TestAttack5HugeLeewayHoldsShutdown documents a consequence of a huge
// leeway, allowed by the documentation ("up to d after its deadline"): a
// timer due in 1 ms with SetLeeway(math.MaxInt64) is filed at maxWhen
// (about 36 years), and Shutdown, which waits for pending one-shot timers,
// waits for it that long. On a FakeClock: still pending after a virtual
// hour, finished once the clock reaches maxWhen.
func TestAttack5HugeLeewayHoldsShutdown(t *testing.T) {
	clk := NewFakeClock()
	l := New(WithClock(clk))
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	do(t, l, func() {})
	var tm Timer
	fired := false
	a5Leeway(t, &tm, l, math.MaxInt64, func() { fired = true })
	tm.Reset(time.Millisecond)
	sd := make(chan error, 1)
	go func() { sd <- l.Shutdown(context.Background()) }()
	for !l.closing() { // waits for the call, times nothing
		time.Sleep(time.Microsecond)
	}
	clk.Advance(time.Hour)
	select {
	case err := <-sd:
		t.Fatalf("Shutdown returned %v after a virtual hour: the leeway timer did not hold it", err)
	default:
	}
	clk.Advance(math.MaxInt64)
	if err := <-sd; err != nil {
		t.Fatal(err)
	}
	<-errc
	if !fired || clk.nanos.Load() != maxWhen {
		t.Errorf("fired %v at clock %d, want true at maxWhen %d", fired, clk.nanos.Load(), maxWhen)
	}
}
