package core

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"
)

// Attacks on the 48-byte Timer (written against a first version that kept
// a periodic timer's period in memory found by its address, and held
// Local().Reset's sequence number in the store at a placeholder key at
// maxWhen; "placeholder" below refers to that key, which no timer may be
// left at), the 24-byte lane slots and ring.faultIn. No timing
// assertions: FakeClock or synctest only.

var attack3Stores = []TimerStore{StoreHeap, StoreWheel}

// a3Fake starts a loop on a FakeClock with the given store and options.
func a3Fake(t *testing.T, store TimerStore, opts ...Option) (*Loop, *FakeClock, func()) {
	t.Helper()
	clk := NewFakeClock()
	l := New(append([]Option{WithClock(clk), WithTimerStore(store)}, opts...)...)
	return l, clk, start(t, l)
}

// a3Key returns tm's store key and whether it is in the store. Loop
// goroutine only (call it inside do).
func a3Key(tm *Timer) (when int64, seq uint64, in bool) {
	return tm.n.When(), tm.n.Seq(), tm.n.InStore()
}

// a3NoPlaceholder fails if tm sits at Local().Reset's placeholder key
// (maxWhen) while its word's deadline is earlier. Loop goroutine only.
func a3NoPlaceholder(t *testing.T, name string, tm *Timer) {
	t.Helper()
	s := tm.n.Value.load()
	if tm.n.InStore() && tm.n.When() == maxWhen && s.when() != maxWhen {
		t.Errorf("%s: left at the placeholder key (maxWhen, %d) after the callback; word %v", name, tm.n.Seq(), s)
	}
	if s.rel() {
		t.Errorf("%s: a relative word survived its callback: %v", name, s)
	}
	if s.armed() && !s.filed() && !s.running() {
		// Only legal with a message on its way; none is in these tests
		// once the loop is idle.
		t.Errorf("%s: armed, not filed, with no message on its way: %v", name, s)
	}
	if s.filed() && !tm.n.InStore() {
		t.Errorf("%s: filed word %v but not in the store", name, s)
	}
}

type a3Rec struct {
	mu    sync.Mutex
	names []string
	at    []time.Duration
}

func (r *a3Rec) note(clk *FakeClock, t0 time.Time, name string) func() {
	return func() {
		r.mu.Lock()
		r.names = append(r.names, name)
		r.at = append(r.at, clk.Since(t0))
		r.mu.Unlock()
	}
}

func (r *a3Rec) get() ([]string, []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.names), slices.Clone(r.at)
}

// TestAttack3LocalResetLeavesNoPlaceholder: every shape of Local().Reset
// in one callback (idle timer; filed later, moved earlier; filed earlier,
// kept filed; reset then stopped; reset then Timer.Reset; reset then
// Local().Reset(0)) leaves no timer at the placeholder key once the
// callback has returned, fires at the right deadlines in the right order,
// and leaves TimersPending at 0.
func TestAttack3LocalResetLeavesNoPlaceholder(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := a3Fake(t, store)
			defer stop()
			t0 := clk.Now()
			var rec a3Rec
			var a, b, c, d, e, f Timer
			timers := []*Timer{&a, &b, &c, &d, &e, &f}
			names := []string{"a", "b", "c", "d", "e", "f"}
			for i, tm := range timers {
				if err := tm.Init(l, rec.note(clk, t0, names[i])); err != nil {
					t.Fatal(err)
				}
			}
			b.Reset(time.Hour)
			c.Reset(time.Second)
			do(t, l, func() {}) // b and c filed
			do(t, l, func() {
				lc := l.Local()
				lc.Reset(&a, 2*time.Second)
				lc.Reset(&b, 2*time.Second) // earlier than its filing
				lc.Reset(&c, 3*time.Second) // later: stays filed at 1 s
				lc.Reset(&d, 2*time.Second)
				if !d.Stop() {
					t.Error("d.Stop after Local().Reset: false")
				}
				lc.Reset(&e, 2*time.Second)
				if !e.Reset(5 * time.Second) {
					t.Error("e.Reset after Local().Reset: false")
				}
				lc.Reset(&f, 2*time.Second)
				if !lc.Reset(&f, 0) {
					t.Error("Local().Reset(f, 0) after Local().Reset: false")
				}
			})
			do(t, l, func() {
				for i, tm := range timers {
					a3NoPlaceholder(t, names[i], tm)
				}
				if _, _, in := a3Key(&d); in {
					t.Error("d is in the store after Stop")
				}
			})
			clk.Advance(6 * time.Second)
			got, at := rec.get()
			want := []string{"f", "a", "b", "c", "e"}
			wantAt := []time.Duration{0, 2 * time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second}
			if !slices.Equal(got, want) || !slices.Equal(at, wantAt) {
				t.Fatalf("fired %v at %v, want %v at %v", got, at, want, wantAt)
			}
			s := statsWhen(l, func(s Stats) bool { return s.TimersPending == 0 })
			if s.TimersPending != 0 {
				t.Fatalf("TimersPending = %d after every timer fired, want 0", s.TimersPending)
			}
		})
	}
}

// a3Conn is a user struct embedding a Timer, set up with Init and re-armed
// with Local().Reset on every read.
type a3Conn struct {
	id     int
	idle   Timer
	closed int
	closes []time.Duration
}

// TestAttack3EmbeddedTimerLocalResetRepeatedly: 50 connections embed a
// Timer (Init once) and re-arm it with Local().Reset on every read, many
// times per callback and across callbacks, with random delays: each closes
// exactly at its last read + its timeout, never early, never twice; no
// placeholder survives a callback; equal deadlines fire in the order of the
// last Local().Reset.
func TestAttack3EmbeddedTimerLocalResetRepeatedly(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := a3Fake(t, store)
			defer stop()
			t0 := clk.Now()
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 50
			conns := make([]*a3Conn, n)
			var order []int
			for i := range conns {
				c := &a3Conn{id: i}
				if err := c.idle.Init(l, func() {
					c.closed++
					c.closes = append(c.closes, clk.Since(t0))
					order = append(order, c.id)
				}); err != nil {
					t.Fatal(err)
				}
				conns[i] = c
			}
			// Model: deadline of each conn (-1: not armed), and the index
			// of the call that last placed it.
			deadline := make([]time.Duration, n)
			place := make([]int, n)
			for i := range deadline {
				deadline[i] = -1
			}
			calls := 0
			for round := 0; round < 20; round++ {
				now := clk.Since(t0)
				type op struct {
					i int
					d time.Duration
				}
				var ops []op
				for k := 0; k < 40; k++ {
					ops = append(ops, op{rng.IntN(n), time.Duration(1+rng.IntN(3)) * time.Second})
				}
				do(t, l, func() {
					seen := map[int]bool{}
					for _, o := range ops {
						c := conns[o.i]
						wasArmed := deadline[o.i] >= 0 || seen[o.i]
						seen[o.i] = true
						if got := l.Local().Reset(&c.idle, o.d); got != wasArmed {
							t.Errorf("round %d: Local().Reset(conn %d) = %v, want %v", round, o.i, got, wasArmed)
						}
					}
				})
				for _, o := range ops {
					calls++
					deadline[o.i] = now + o.d
					place[o.i] = calls
				}
				do(t, l, func() {
					for _, c := range conns {
						a3NoPlaceholder(t, fmt.Sprint("conn ", c.id), &c.idle)
					}
				})
				// Fire what is due within the next 1.5 s, then go on.
				step := 1500 * time.Millisecond
				end := now + step
				var due []int
				for i := range deadline {
					if deadline[i] >= 0 && deadline[i] <= end {
						due = append(due, i)
					}
				}
				// Timers that stayed filed (a Local().Reset moving them
				// later) are numbered when re-filed: order only by
				// deadline there, and check exact order only among those
				// with a distinct deadline. Deadline is exact.
				sort.SliceStable(due, func(a, b int) bool {
					if deadline[due[a]] != deadline[due[b]] {
						return deadline[due[a]] < deadline[due[b]]
					}
					return place[due[a]] < place[due[b]]
				})
				order = order[:0]
				clk.Advance(step)
				var gotOrder []int
				do(t, l, func() { gotOrder = slices.Clone(order) })
				if len(gotOrder) != len(due) {
					t.Fatalf("round %d: %d closed (%v), want %d (%v)", round, len(gotOrder), gotOrder, len(due), due)
				}
				for k := range due {
					if deadline[gotOrder[k]] != deadline[due[k]] {
						t.Fatalf("round %d: closed %v, want deadline order %v", round, gotOrder, due)
					}
				}
				for _, i := range due {
					c := conns[i]
					if got := c.closes[len(c.closes)-1]; got != deadline[i] {
						t.Fatalf("round %d: conn %d closed at %v, want %v", round, i, got, deadline[i])
					}
					deadline[i] = -1
				}
			}
			clk.Advance(10 * time.Second)
			total := 0
			do(t, l, func() {
				for _, c := range conns {
					total += c.closed
				}
			})
			s := statsWhen(l, func(s Stats) bool { return s.TimersPending == 0 })
			if s.TimersPending != 0 || uint64(total) != s.TimersFired {
				t.Fatalf("TimersPending = %d, TimersFired = %d, closes = %d", s.TimersPending, s.TimersFired, total)
			}
		})
	}
}

// TestAttack3LocalResetEqualDelaysAllIdle: idle embedded timers reset in one
// callback with equal delays, in a scrambled order with repeats, fire in the
// order of their last Local().Reset (each took a placeholder key), on both
// stores, also when the wheel's position is far from 0.
func TestAttack3LocalResetEqualDelaysAllIdle(t *testing.T) {
	for _, store := range attack3Stores {
		for _, far := range []time.Duration{0, 100 * time.Hour} {
			t.Run(fmt.Sprintf("%v/far=%v", store, far), func(t *testing.T) {
				l, clk, stop := a3Fake(t, store)
				defer stop()
				clk.Advance(far)
				var order []int
				tms := make([]Timer, 64)
				for i := range tms {
					if err := tms[i].Init(l, func() { order = append(order, i) }); err != nil {
						t.Fatal(err)
					}
				}
				rng := rand.New(rand.NewPCG(3, 4))
				var calls []int
				for range 200 {
					calls = append(calls, rng.IntN(len(tms)))
				}
				do(t, l, func() {
					for _, i := range calls {
						l.Local().Reset(&tms[i], time.Second)
					}
				})
				last := map[int]int{}
				for k, i := range calls {
					last[i] = k
				}
				var want []int
				for i := range tms {
					if _, ok := last[i]; ok {
						want = append(want, i)
					}
				}
				sort.Slice(want, func(a, b int) bool { return last[want[a]] < last[want[b]] })
				clk.Advance(time.Second)
				var got []int
				do(t, l, func() { got = slices.Clone(order) })
				if !slices.Equal(got, want) {
					t.Fatalf("fired %v, want %v", got, want)
				}
			})
		}
	}
}

// TestAttack3LocalAfterFuncThenLocalResetEqualDeadline: in one callback on
// a FakeClock (the clock does not move), Local().AfterFunc(b, d) and then
// Local().Reset(a, d) give a and b the same deadline. GUARANTEES.md: timers
// the loop schedules itself through Local() are "numbered when the callback
// that made it returns, in the order of the calls", and Local().Reset
// "orders as if made" at the end of the callback: b was scheduled first,
// so b fires first.
func TestAttack3LocalAfterFuncThenLocalResetEqualDeadline(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := a3Fake(t, store)
			defer stop()
			var order []string
			var a Timer
			if err := a.Init(l, func() { order = append(order, "a") }); err != nil {
				t.Fatal(err)
			}
			do(t, l, func() {
				must(l.Local().AfterFunc(time.Second, func() { order = append(order, "b") }))
				l.Local().Reset(&a, time.Second)
			})
			clk.Advance(time.Second)
			var got []string
			do(t, l, func() { got = slices.Clone(order) })
			if want := []string{"b", "a"}; !slices.Equal(got, want) {
				t.Fatalf("fired %v, want %v (call order)", got, want)
			}
		})
	}
}

// TestAttack3EveryLocalResetInItsOwnCallback: a periodic timer that
// Local().Resets itself in its own callback ticks d after that callback
// and a period apart from then; its node is at a real key afterwards; the
// periodic nature survives (periodicOf finds its period).
func TestAttack3EveryLocalResetInItsOwnCallback(t *testing.T) {
	for _, store := range attack3Stores {
		for _, viaLocal := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/local=%v", store, viaLocal), func(t *testing.T) {
				l, clk, stop := a3Fake(t, store)
				defer stop()
				t0 := clk.Now()
				var ticks []time.Duration
				var ev *Timer
				first := true
				ev = must(l.Every(time.Second, func() {
					ticks = append(ticks, clk.Since(t0))
					if first {
						first = false
						var was bool
						if viaLocal {
							was = l.Local().Reset(ev, 5*time.Second)
						} else {
							was = ev.Reset(5 * time.Second)
						}
						if !was {
							t.Error("Reset of a periodic timer in its own callback reported false")
						}
					}
				}))
				clk.Advance(time.Second)
				do(t, l, func() { a3NoPlaceholder(t, "every", ev) })
				clk.Advance(8 * time.Second)
				var got []time.Duration
				do(t, l, func() { got = slices.Clone(ticks) })
				want := []time.Duration{1 * time.Second, 6 * time.Second, 7 * time.Second, 8 * time.Second, 9 * time.Second}
				if !slices.Equal(got, want) {
					t.Fatalf("ticks at %v, want %v", got, want)
				}
				if !ev.Stop() {
					t.Fatal("Stop of a ticking periodic timer: false")
				}
			})
		}
	}
}

// TestAttack3EveryLocalResetFromAnotherCallback: a periodic timer moved by
// Local().Reset from another callback, earlier and later, keeps ticking a
// period apart from its new deadline, on both stores.
func TestAttack3EveryLocalResetFromAnotherCallback(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := a3Fake(t, store)
			defer stop()
			t0 := clk.Now()
			var ticks []time.Duration
			ev := must(l.Every(10*time.Second, func() { ticks = append(ticks, clk.Since(t0)) }))
			clk.Advance(time.Second)
			do(t, l, func() { l.Local().Reset(ev, 2*time.Second) }) // earlier: placeholder, at 3 s
			do(t, l, func() { a3NoPlaceholder(t, "every", ev) })
			clk.Advance(3 * time.Second)                            // t = 4 s: ticked at 3 s
			do(t, l, func() { l.Local().Reset(ev, 4*time.Second) }) // filed at 13 s: moved earlier to 8 s
			clk.Advance(20 * time.Second)
			var got []time.Duration
			do(t, l, func() { got = slices.Clone(ticks) })
			want := []time.Duration{3 * time.Second, 8 * time.Second, 18 * time.Second}
			if !slices.Equal(got, want) {
				t.Fatalf("ticks at %v, want %v", got, want)
			}
			ev.Stop()
		})
	}
}

// TestAttack3ShutdownFromCallbackAfterLocalReset: a callback Local().Resets
// a periodic timer and a one-shot, then calls Shutdown (which returns at
// once): the one-shot fires at its new deadline, the periodic timer never
// fires again and is counted cancelled, the loop finishes.
func TestAttack3ShutdownFromCallbackAfterLocalReset(t *testing.T) {
	for _, store := range attack3Stores {
		for _, order := range []string{"reset-then-shutdown", "shutdown-then-reset"} {
			t.Run(fmt.Sprintf("%v/%s", store, order), func(t *testing.T) {
				clk := NewFakeClock()
				l := New(WithClock(clk), WithTimerStore(store))
				errc := make(chan error, 1)
				go func() { errc <- l.Run(context.Background()) }()
				do(t, l, func() {})
				t0 := clk.Now()
				var rec a3Rec
				ev := must(l.Every(time.Hour, rec.note(clk, t0, "every")))
				var one Timer
				if err := one.Init(l, rec.note(clk, t0, "one")); err != nil {
					t.Fatal(err)
				}
				one.Reset(time.Hour)
				do(t, l, func() {})
				do(t, l, func() {
					lc := l.Local()
					if order == "shutdown-then-reset" {
						if err := l.Shutdown(context.Background()); err != nil {
							t.Errorf("Shutdown from a callback: %v", err)
						}
					}
					if !lc.Reset(ev, time.Second) || !lc.Reset(&one, 2*time.Second) {
						t.Error("Local().Reset of an armed timer reported false")
					}
					if order == "reset-then-shutdown" {
						if err := l.Shutdown(context.Background()); err != nil {
							t.Errorf("Shutdown from a callback: %v", err)
						}
					}
				})
				clk.Advance(3 * time.Second)
				select {
				case err := <-errc:
					if err != ErrClosed {
						t.Fatalf("Run: %v, want ErrClosed", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the loop did not finish after Shutdown from a callback")
				}
				got, at := rec.get()
				if !slices.Equal(got, []string{"one"}) || !slices.Equal(at, []time.Duration{2 * time.Second}) {
					t.Fatalf("fired %v at %v, want [one] at [2s]", got, at)
				}
				s := l.Stats()
				if s.TimersCancelled != 1 || s.TimersPending != 0 {
					t.Fatalf("TimersCancelled = %d, TimersPending = %d, want 1 and 0", s.TimersCancelled, s.TimersPending)
				}
				if ev.Stop() || one.Stop() {
					t.Fatal("a timer is still armed on the finished loop")
				}
			})
		}
	}
}

// TestAttack3ShutdownFromOwnPeriodicCallbackAfterLocalReset: a periodic
// timer's own callback Local().Resets it and calls Shutdown: Shutdown
// completes, the timer is cancelled, not ticked again.
func TestAttack3ShutdownFromOwnPeriodicCallbackAfterLocalReset(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			ticks := 0
			var ev *Timer
			ev = must(l.Every(time.Second, func() {
				ticks++
				l.Local().Reset(ev, 500*time.Millisecond)
				l.Shutdown(context.Background())
			}))
			clk.Advance(time.Second)
			clk.Advance(5 * time.Second)
			select {
			case err := <-errc:
				if err != ErrClosed {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Shutdown from a periodic timer's callback never finished")
			}
			if ticks != 1 {
				t.Fatalf("ticked %d times, want 1", ticks)
			}
			if s := l.Stats(); s.TimersCancelled != 1 || s.TimersPending != 0 {
				t.Fatalf("TimersCancelled = %d, TimersPending = %d", s.TimersCancelled, s.TimersPending)
			}
		})
	}
}

// TestAttack3ShutdownWhileCallbackHoldsPlaceholders: Shutdown is called by
// another goroutine while a callback that Local().Reset a periodic timer
// and a one-shot is still running (their placeholders in the store): the
// periodic timer is cancelled, the one-shot runs, Shutdown returns nil.
func TestAttack3ShutdownWhileCallbackHoldsPlaceholders(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			var rec a3Rec
			t0 := clk.Now()
			ev := must(l.Every(time.Hour, rec.note(clk, t0, "every")))
			var one Timer
			if err := one.Init(l, rec.note(clk, t0, "one")); err != nil {
				t.Fatal(err)
			}
			inside := make(chan struct{})
			if err := l.Post(func() {
				lc := l.Local()
				lc.Reset(ev, time.Second)
				lc.Reset(&one, 2*time.Second)
				close(inside)
				for !l.closing() {
					runtime.Gosched()
				}
			}); err != nil {
				t.Fatal(err)
			}
			<-inside
			shut := make(chan error, 1)
			go func() { shut <- l.Shutdown(context.Background()) }()
			for !l.closing() {
				runtime.Gosched()
			}
			clk.Advance(3 * time.Second)
			select {
			case err := <-shut:
				if err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Shutdown did not return")
			}
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
			got, at := rec.get()
			if !slices.Equal(got, []string{"one"}) || !slices.Equal(at, []time.Duration{2 * time.Second}) {
				t.Fatalf("fired %v at %v, want [one] at [2s]", got, at)
			}
			if s := l.Stats(); s.TimersCancelled != 1 || s.TimersPending != 0 {
				t.Fatalf("TimersCancelled = %d, TimersPending = %d, want 1, 0", s.TimersCancelled, s.TimersPending)
			}
		})
	}
}

// TestAttack3CloseFromCallbackAfterLocalReset: Close from the callback
// that Local().Reset timers (idle, filed, periodic) cancels every one of
// them, counted, none fires, nothing pending.
func TestAttack3CloseFromCallbackAfterLocalReset(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			fired := 0
			var idle, filed Timer
			idle.Init(l, func() { fired++ })
			filed.Init(l, func() { fired++ })
			filed.Reset(time.Hour)
			ev := must(l.Every(time.Hour, func() { fired++ }))
			do(t, l, func() {})
			do(t, l, func() {
				lc := l.Local()
				lc.Reset(&idle, time.Second)
				lc.Reset(&filed, time.Second)
				lc.Reset(ev, time.Second)
				l.Close()
				// After Close: moving armed timers is allowed, arming is not.
				if !lc.Reset(&idle, 2*time.Second) {
					t.Error("Local().Reset of an armed timer after Close: false")
				}
			})
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
			clk.Advance(time.Hour)
			if fired != 0 {
				t.Fatalf("%d timers fired after Close", fired)
			}
			if s := l.Stats(); s.TimersCancelled != 3 || s.TimersPending != 0 {
				t.Fatalf("TimersCancelled = %d, TimersPending = %d, want 3 and 0", s.TimersCancelled, s.TimersPending)
			}
			if idle.Stop() || filed.Stop() || ev.Stop() {
				t.Fatal("a timer is armed on a closed loop")
			}
		})
	}
}

// TestAttack3LocalResetFromPanicHandler: the panic handler Local().Resets
// timers (one-shot and periodic) and, in a variant, calls Shutdown or
// Close: the timers are filed at real keys when the handler returns.
func TestAttack3LocalResetFromPanicHandler(t *testing.T) {
	for _, store := range attack3Stores {
		for _, then := range []string{"", "shutdown", "close"} {
			t.Run(fmt.Sprintf("%v/%s", store, then), func(t *testing.T) {
				clk := NewFakeClock()
				var l *Loop
				var one Timer
				var ev *Timer
				var rec a3Rec
				var t0 time.Time
				l = New(WithClock(clk), WithTimerStore(store), WithPanicHandler(func(any) {
					lc := l.Local()
					lc.Reset(&one, 2*time.Second)
					lc.Reset(ev, time.Second)
					switch then {
					case "shutdown":
						l.Shutdown(context.Background())
					case "close":
						l.Close()
					}
				}))
				errc := make(chan error, 1)
				go func() { errc <- l.Run(context.Background()) }()
				do(t, l, func() {})
				t0 = clk.Now()
				one.Init(l, rec.note(clk, t0, "one"))
				ev = must(l.Every(time.Hour, rec.note(clk, t0, "every")))
				one.Reset(time.Hour) // armed: Close/Shutdown still let it move
				do(t, l, func() {})
				l.Post(func() { panic("boom") })
				if then == "" {
					do(t, l, func() {
						a3NoPlaceholder(t, "one", &one)
						a3NoPlaceholder(t, "every", ev)
					})
				}
				clk.Advance(3 * time.Second)
				got, at := rec.get()
				switch then {
				case "":
					want := []string{"every", "one"}
					wantAt := []time.Duration{time.Second, 2 * time.Second}
					if !slices.Equal(got, want) || !slices.Equal(at, wantAt) {
						t.Fatalf("fired %v at %v, want %v at %v", got, at, want, wantAt)
					}
					ev.Stop()
					l.Close()
				case "shutdown":
					if !slices.Equal(got, []string{"one"}) || !slices.Equal(at, []time.Duration{2 * time.Second}) {
						t.Fatalf("fired %v at %v, want [one] at [2s]", got, at)
					}
				case "close":
					if len(got) != 0 {
						t.Fatalf("fired %v after Close", got)
					}
				}
				select {
				case err := <-errc:
					if err != ErrClosed {
						t.Fatalf("Run: %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the loop did not finish")
				}
				if s := l.Stats(); s.TimersPending != 0 {
					t.Fatalf("TimersPending = %d on the finished loop", s.TimersPending)
				}
			})
		}
	}
}

// TestAttack3LocalResetFromSlowHook: the WithSlowCallback hook Local().Resets
// a timer (and in variants calls Shutdown or Close), after a post and
// after a timer callback: the timer's deadline counts from the hook's
// callback, and no placeholder survives.
func TestAttack3LocalResetFromSlowHook(t *testing.T) {
	for _, store := range attack3Stores {
		for _, then := range []string{"", "shutdown", "close"} {
			t.Run(fmt.Sprintf("%v/%s", store, then), func(t *testing.T) {
				clk := NewFakeClock()
				var l *Loop
				var target Timer
				var rec a3Rec
				armNow := false
				l = New(WithClock(clk), WithTimerStore(store), WithSlowCallback(0, func(time.Duration, string) {
					if !armNow {
						return
					}
					armNow = false
					l.Local().Reset(&target, 2*time.Second)
					switch then {
					case "shutdown":
						l.Shutdown(context.Background())
					case "close":
						l.Close()
					}
				}))
				errc := make(chan error, 1)
				go func() { errc <- l.Run(context.Background()) }()
				do(t, l, func() {})
				t0 := clk.Now()
				target.Init(l, rec.note(clk, t0, "target"))
				target.Reset(time.Hour)
				do(t, l, func() {})
				// A timer callback that runs for 1 s (FakeClock.Advance from
				// the loop), then the hook re-arms target.
				must(l.AfterFunc(time.Second, func() {
					armNow = true
					clk.Advance(time.Second)
				}))
				clk.Advance(time.Second) // fires at 1 s; the callback takes the clock to 2 s
				if then == "" {
					do(t, l, func() { a3NoPlaceholder(t, "target", &target) })
				}
				clk.Advance(5 * time.Second)
				got, at := rec.get()
				switch then {
				case "", "shutdown":
					if !slices.Equal(got, []string{"target"}) || !slices.Equal(at, []time.Duration{4 * time.Second}) {
						t.Fatalf("fired %v at %v, want [target] at [4s]", got, at)
					}
					if then == "" {
						l.Close()
					}
				case "close":
					if len(got) != 0 {
						t.Fatalf("fired %v after Close", got)
					}
				}
				select {
				case err := <-errc:
					if err != ErrClosed {
						t.Fatalf("Run: %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the loop did not finish")
				}
				if s := l.Stats(); s.TimersPending != 0 {
					t.Fatalf("TimersPending = %d on the finished loop", s.TimersPending)
				}
			})
		}
	}
}

// TestAttack3PeriodicPanicEscapesAfterLocalReset: a periodic timer's
// callback Local().Resets itself and panics; the panic handler panics too
// (escapes Run). The Reset wins over callTick's ending of the timer: it is
// still armed at its new deadline, at a real key, and ticks after Run is
// called again.
func TestAttack3PeriodicPanicEscapesAfterLocalReset(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store), WithPanicHandler(func(v any) { panic(v) }))
			escaped := make(chan any, 4)
			ran := make(chan struct{})
			go func() { runCatching(l, escaped); close(ran) }()
			do(t, l, func() {})
			t0 := clk.Now()
			var ticks []time.Duration
			var ev *Timer
			first := true
			ev = must(l.Every(time.Second, func() {
				ticks = append(ticks, clk.Since(t0))
				if first {
					first = false
					l.Local().Reset(ev, 3*time.Second)
					panic("boom")
				}
			}))
			clk.Advance(time.Second)
			select {
			case <-escaped:
			case <-time.After(10 * time.Second):
				t.Fatal("the panic did not escape")
			}
			for !l.running.Load() {
				runtime.Gosched()
			}
			do(t, l, func() { a3NoPlaceholder(t, "every", ev) })
			clk.Advance(5 * time.Second)
			var got []time.Duration
			do(t, l, func() { got = slices.Clone(ticks) })
			want := []time.Duration{time.Second, 4 * time.Second, 5 * time.Second, 6 * time.Second}
			if !slices.Equal(got, want) {
				t.Fatalf("ticks at %v, want %v", got, want)
			}
			if !ev.Stop() {
				t.Fatal("Stop: false; the Local().Reset was lost to the escaped panic")
			}
			l.Close()
			<-ran
		})
	}
}

// TestAttack3GoexitAfterLocalResetOfPeriodic: a callback Local().Resets a
// periodic timer and an embedded one-shot, then Goexits: the loop is
// released with both at real keys; the next Run fires them at the
// deadlines counted from the callback.
func TestAttack3GoexitAfterLocalResetOfPeriodic(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			go l.Run(context.Background())
			do(t, l, func() {})
			t0 := clk.Now()
			var fired []time.Duration
			note := func() { fired = append(fired, clk.Since(t0)) }
			ev := must(l.Every(time.Hour, note))
			var one Timer
			one.Init(l, note)
			l.Post(func() {
				l.Local().Reset(ev, 2*time.Second)
				l.Local().Reset(&one, time.Second)
				runtime.Goexit()
			})
			for l.running.Load() {
				runtime.Gosched()
			}
			// Released: nothing runs the loop; the store is quiescent.
			if w, _, in := a3Key(ev); !in || w == maxWhen {
				t.Errorf("every at key %d (in store %v) after Goexit", w, in)
			}
			if w, _, in := a3Key(&one); !in || w == maxWhen {
				t.Errorf("one at key %d (in store %v) after Goexit", w, in)
			}
			got := rerunAdvanceClose(t, l, clk, 3*time.Second, &fired)
			if want := []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(got, want) {
				t.Fatalf("fired at %v, want %v", got, want)
			}
		})
	}
}

// TestAttack3ProducerPostLagSampled: post-lag sampling still records posts
// made through a Producer (24-byte lane slots), one per post with
// WithLagSampling(1) and one in four with 4, and the callbacks run in
// order with their own functions (the stamp does not clobber fn).
func TestAttack3ProducerPostLagSampled(t *testing.T) {
	for _, c := range []struct{ every, n int }{{1, 512}, {4, 512}, {1, 5000}, {4, 5000}} {
		every, n := c.every, c.n
		t.Run(fmt.Sprintf("every=%d/n=%d", every, n), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithLagSampling(every))
			stop := start(t, l)
			defer stop()
			p, err := l.NewProducer()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			before := l.Health().PostLag.Count()
			var got []int
			release := make(chan struct{})
			l.Post(func() { <-release; clk.Advance(5 * time.Millisecond) }) // hold the loop: the posts queue in the lane, and wait 5 ms there
			for i := range n {
				if err := p.Post(func() { got = append(got, i) }); err != nil {
					t.Fatal(err)
				}
			}
			last := make(chan struct{})
			if err := p.Post(func() { close(last) }); err != nil { // after the n posts: same lane
				t.Fatal(err)
			}
			close(release)
			<-last
			var g []int
			do(t, l, func() { g = slices.Clone(got) })
			if len(g) != n {
				t.Fatalf("%d producer posts ran, want %d", len(g), n)
			}
			for i, v := range g {
				if v != i {
					t.Fatalf("producer posts ran out of order at %d: %d", i, v)
				}
			}
			waitParked(t, l) // the loop publishes Max when it parks (histogram.flush); before that a snapshot shows the bucket's lower bound
			h := l.Health()
			sampled := h.PostLag.Count() - before
			if h.PostLag.Max() != int64(5*time.Millisecond) {
				t.Errorf("PostLag max %v, want 5ms (each producer post waited 5 ms)", time.Duration(h.PostLag.Max()))
			}
			if sampled < uint64(n/every)-1 {
				t.Fatalf("PostLag recorded %d samples for %d producer posts at 1 in %d, want at least %d", sampled, n, every, n/every)
			}
		})
	}
}

// TestAttack3SynctestEmbeddedLocalReset: in a synctest bubble (runtime
// clock, durable park), embedded timers re-armed with Local().Reset across
// callbacks fire exactly once, d after the end of the last callback that
// reset them, on both stores; no placeholder is left; TimersPending ends 0.
func TestAttack3SynctestEmbeddedLocalReset(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithTimerStore(store))
				stop := start(t, l)
				defer stop()
				t0 := time.Now()
				var a, b Timer
				var fired []string
				var at []time.Duration
				note := recorder(t0, &fired, &at)
				a.Init(l, note("a"))
				b.Init(l, note("b"))
				for i := range 5 {
					do(t, l, func() {
						l.Local().Reset(&a, 3*time.Second)
						time.Sleep(100 * time.Millisecond) // the callback runs on
						l.Local().Reset(&b, 3*time.Second)
						if i%2 == 1 {
							b.Stop()
							l.Local().Reset(&b, 3*time.Second)
						}
					})
					do(t, l, func() {
						a3NoPlaceholder(t, "a", &a)
						a3NoPlaceholder(t, "b", &b)
					})
					time.Sleep(time.Second)
				}
				// Last callback ended at 5*0.1 + 4*1 s = 4.5 s: both due at 7.5 s.
				time.Sleep(10 * time.Second)
				synctest.Wait()
				want := []string{"a", "b"}
				wantAt := []time.Duration{7500 * time.Millisecond, 7500 * time.Millisecond}
				if !slices.Equal(fired, want) || !slices.Equal(at, wantAt) {
					t.Fatalf("fired %v at %v, want %v at %v", fired, at, want, wantAt)
				}
				if s := l.Stats(); s.TimersPending != 0 || s.TimersFired != 2 {
					t.Fatalf("TimersPending = %d, TimersFired = %d; want 0 and 2", s.TimersPending, s.TimersFired)
				}
			})
		})
	}
}

// TestAttack3LocalResetAtTheLastDeadline: with the FakeClock stopped at
// maxWhen, Local().Reset gives real deadlines equal to the placeholder's
// key; the timers fire at the next Advance in call order, none is left
// pending, and a periodic timer reset there ends after one tick instead of
// firing forever.
func TestAttack3LocalResetAtTheLastDeadline(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := a3Fake(t, store)
			defer stop()
			clk.Advance(math.MaxInt64)
			var order []string
			var a, b Timer
			a.Init(l, func() { order = append(order, "a") })
			b.Init(l, func() { order = append(order, "b") })
			ticks := 0
			ev := must(l.Every(time.Hour, func() { ticks++ }))
			do(t, l, func() {})
			do(t, l, func() {
				l.Local().Reset(&b, time.Second)
				l.Local().Reset(&a, time.Second)
				l.Local().Reset(ev, time.Second)
			})
			clk.Advance(time.Second)
			var got []string
			var tk int
			do(t, l, func() { got, tk = slices.Clone(order), ticks })
			// ev was due at once when made at the last deadline (one tick,
			// then it ended); the Local().Reset re-armed it: one more.
			if !slices.Equal(got, []string{"b", "a"}) || tk != 2 {
				t.Fatalf("fired %v and %d ticks, want [b a] and 2", got, tk)
			}
			if ev.Stop() {
				t.Error("the periodic timer at the last deadline is still armed")
			}
			s := statsWhen(l, func(s Stats) bool { return s.TimersPending == 0 })
			if s.TimersPending != 0 {
				t.Fatalf("TimersPending = %d", s.TimersPending)
			}
		})
	}
}

// TestAttack3LocalResetMaxDuration: Local().Reset(math.MaxInt64) parks an
// embedded timer for good at maxWhen (its real key equals the
// placeholder's): it is pending, counted, and Local().Stop takes it out.
func TestAttack3LocalResetMaxDuration(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := a3Fake(t, store)
			defer stop()
			fired := false
			var a Timer
			a.Init(l, func() { fired = true })
			do(t, l, func() { l.Local().Reset(&a, math.MaxInt64) })
			clk.Advance(time.Hour)
			if s := statsWhen(l, func(s Stats) bool { return s.TimersPending == 1 }); s.TimersPending != 1 {
				t.Fatalf("TimersPending = %d, want 1", s.TimersPending)
			}
			do(t, l, func() {
				if fired {
					t.Fatal("fired")
				}
				if !l.Local().Stop(&a) {
					t.Fatal("Local().Stop: false")
				}
			})
			if s := statsWhen(l, func(s Stats) bool { return s.TimersPending == 0 }); s.TimersPending != 0 {
				t.Fatalf("TimersPending = %d after Stop, want 0", s.TimersPending)
			}
		})
	}
}

// TestAttack3RiderRacesWithPlaceholder: another goroutine Resets or Stops a
// timer while the callback that Local().Reset it still runs (the other
// goroutine rides on the deferred filing), and vice versa (the callback
// resets a timer whose message from another goroutine is still in the
// inbox): the last one wins, the timer fires at most once, at the right
// deadline, on both stores.
func TestAttack3RiderRacesWithPlaceholder(t *testing.T) {
	type tc struct {
		name   string
		cb     func(l *Loop, tm *Timer)
		want   []time.Duration
		stopOK bool
	}
	other := func(f func()) {
		done := make(chan struct{})
		go func() { f(); close(done) }()
		<-done
	}
	cases := []tc{
		{"local-then-other-reset", func(l *Loop, tm *Timer) {
			l.Local().Reset(tm, 5*time.Second)
			other(func() { tm.Reset(time.Second) })
		}, []time.Duration{time.Second}, false},
		{"local-then-other-stop", func(l *Loop, tm *Timer) {
			l.Local().Reset(tm, 5*time.Second)
			other(func() { tm.Stop() })
		}, nil, false},
		{"other-reset-then-local", func(l *Loop, tm *Timer) {
			other(func() { tm.Reset(time.Second) })
			l.Local().Reset(tm, 5*time.Second)
		}, []time.Duration{5 * time.Second}, false},
		{"other-stop-then-local", func(l *Loop, tm *Timer) {
			other(func() { tm.Reset(time.Second); tm.Stop() })
			l.Local().Reset(tm, 5*time.Second)
		}, []time.Duration{5 * time.Second}, false},
		{"local-other-reset-local", func(l *Loop, tm *Timer) {
			l.Local().Reset(tm, 5*time.Second)
			other(func() { tm.Reset(time.Second) })
			l.Local().Reset(tm, 3*time.Second)
		}, []time.Duration{3 * time.Second}, false},
		{"local-other-stop-local", func(l *Loop, tm *Timer) {
			l.Local().Reset(tm, 5*time.Second)
			other(func() { tm.Stop() })
			l.Local().Reset(tm, 3*time.Second)
		}, []time.Duration{3 * time.Second}, false},
		{"local-zero-local", func(l *Loop, tm *Timer) {
			l.Local().Reset(tm, 5*time.Second)
			l.Local().Reset(tm, 0)
			l.Local().Reset(tm, 3*time.Second)
		}, []time.Duration{3 * time.Second}, false},
		{"local-localstop-otherreset", func(l *Loop, tm *Timer) {
			l.Local().Reset(tm, 5*time.Second)
			l.Local().Stop(tm)
			other(func() { tm.Reset(2 * time.Second) })
		}, []time.Duration{2 * time.Second}, false},
	}
	for _, store := range attack3Stores {
		for _, periodic := range []bool{false, true} {
			for _, c := range cases {
				t.Run(fmt.Sprintf("%v/periodic=%v/%s", store, periodic, c.name), func(t *testing.T) {
					l, clk, stop := a3Fake(t, store)
					defer stop()
					t0 := clk.Now()
					var fired []time.Duration
					note := func() { fired = append(fired, clk.Since(t0)) }
					var tm *Timer
					if periodic {
						tm = must(l.Every(time.Hour, note))
						tm.Stop()
					} else {
						tm = new(Timer)
						tm.Init(l, note)
					}
					do(t, l, func() {})
					do(t, l, func() { c.cb(l, tm) })
					do(t, l, func() {}) // any message taken
					do(t, l, func() { a3NoPlaceholder(t, "tm", tm) })
					clk.Advance(6 * time.Second)
					var got []time.Duration
					do(t, l, func() { got = slices.Clone(fired) })
					if !slices.Equal(got, c.want) {
						t.Fatalf("fired at %v, want %v", got, c.want)
					}
					tm.Stop()
					do(t, l, func() {}) // Stop does not wake the loop: let it take the opStop
					s := statsWhen(l, func(s Stats) bool { return s.TimersPending == 0 })
					if s.TimersPending != 0 {
						t.Fatalf("TimersPending = %d", s.TimersPending)
					}
				})
			}
		}
	}
}

// TestAttack3AccountingRaceLocalResetVsOther: many rounds where a callback
// Local().Resets a timer while another goroutine, unsynchronised,
// Resets or Stops it: every arming ends exactly one way (fired once, or a
// Stop that reported true), the timer ends disarmed and out of the store.
func TestAttack3AccountingRaceLocalResetVsOther(t *testing.T) {
	for _, store := range attack3Stores {
		for _, periodic := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/periodic=%v", store, periodic), func(t *testing.T) {
				l, clk, stop := a3Fake(t, store)
				defer stop()
				var fires int
				var tm *Timer
				if periodic {
					// Periodic: count ticks; only the "end" accounting.
					tm = must(l.Every(time.Hour, func() { fires++ }))
					tm.Stop()
				} else {
					tm = new(Timer)
					tm.Init(l, func() { fires++ })
				}
				armings, stops := 0, 0
				rng := rand.New(rand.NewPCG(7, 8))
				for round := 0; round < 300; round++ {
					kind := rng.IntN(3)
					var wg sync.WaitGroup
					var otherArm, otherStop bool
					wg.Add(1)
					local := false
					if err := l.Post(func() {
						if !l.Local().Reset(tm, time.Second) {
							local = true
						}
						go func() {
							defer wg.Done()
							switch kind {
							case 0:
								otherArm = !tm.Reset(2 * time.Second)
							case 1:
								otherStop = tm.Stop()
							case 2:
								otherArm = !tm.Reset(0)
							}
						}()
						for range rng.IntN(3) {
							runtime.Gosched()
						}
					}); err != nil {
						t.Fatal(err)
					}
					wg.Wait()
					do(t, l, func() {})
					if local {
						armings++
					}
					if otherArm {
						armings++
					}
					if otherStop {
						stops++
					}
					if periodic {
						if tm.Stop() {
							stops++
						}
					} else {
						clk.Advance(3 * time.Second)
					}
					do(t, l, func() {})
				}
				do(t, l, func() {
					if s := tm.n.Value.load(); s.armed() || tm.n.InStore() {
						t.Errorf("timer left armed (%v) or in the store (%v)", s, tm.n.InStore())
					}
				})
				if periodic {
					if armings != stops {
						t.Fatalf("periodic: %d armings, %d stops reporting true", armings, stops)
					}
					return
				}
				if armings != fires+stops {
					t.Fatalf("%d armings, %d fires + %d stops", armings, fires, stops)
				}
			})
		}
	}
}

// TestAttack3EmbeddedTimerNeverPeriodic: a Timer embedded at offset 0 of a
// larger user struct whose next field is a func and a uint64 (the layout of
// periodicTimer) is a one-shot: it fires once per arming, even reset from
// its own callback, and Shutdown waits for it rather than cancelling it.
func TestAttack3EmbeddedTimerNeverPeriodic(t *testing.T) {
	type lookalike struct {
		Timer
		fn   func()
		tick uint64
	}
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			var x lookalike
			x.fn = func() { t.Error("the lookalike's own fn ran") }
			x.tick = tickOf(int64(time.Second), TickBurst)
			n := 0
			if err := x.Init(l, func() {
				n++
				if n == 1 {
					l.Local().Reset(&x.Timer, time.Second)
				}
			}); err != nil {
				t.Fatal(err)
			}
			x.Reset(time.Second)
			clk.Advance(5 * time.Second)
			do(t, l, func() {
				if n != 2 {
					t.Errorf("fired %d times, want 2", n)
				}
			})
			x.Reset(time.Second)
			shut := make(chan error, 1)
			go func() { shut <- l.Shutdown(context.Background()) }()
			for !l.closing() {
				runtime.Gosched()
			}
			clk.Advance(time.Second)
			if err := <-shut; err != nil {
				t.Fatal(err)
			}
			<-errc
			if n != 3 {
				t.Fatalf("fired %d times, want 3 (Shutdown waits for a one-shot)", n)
			}
		})
	}
}

// TestAttack3StopPeriodicKeepsLocalResetOrder: Shutdown's stopPeriodic
// re-files the one-shot timers with their keys; timers Local().Reset to
// equal deadlines still fire in call order after it.
func TestAttack3StopPeriodicKeepsLocalResetOrder(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			var order []int
			tms := make([]Timer, 8)
			for i := range tms {
				tms[i].Init(l, func() { order = append(order, i) })
			}
			ev := must(l.Every(time.Second, func() {}))
			do(t, l, func() {
				for _, i := range []int{5, 2, 7, 0, 3, 6, 1, 4} {
					l.Local().Reset(&tms[i], 2*time.Second)
				}
				l.Shutdown(context.Background())
			})
			clk.Advance(3 * time.Second)
			if err := <-errc; err != ErrClosed {
				t.Fatal(err)
			}
			if want := []int{5, 2, 7, 0, 3, 6, 1, 4}; !slices.Equal(order, want) {
				t.Fatalf("fired %v, want %v", order, want)
			}
			if ev.Stop() {
				t.Fatal("periodic timer survived Shutdown")
			}
		})
	}
}

// TestAttack3InboxFaultInSmallAndOddSizes: NewInbox-based loops of every
// small size (faultIn on rings smaller than a page, of 2 slots) work.
func TestAttack3InboxFaultInSmallAndOddSizes(t *testing.T) {
	for _, size := range []int{0, 1, 2, 3, 100, 103, 4097} {
		l := New(WithInboxSize(size))
		stop := start(t, l)
		n := 0
		for range 3 * max(size, 2) {
			if err := l.Post(func() { n++ }); err != nil {
				t.Fatal(err)
			}
		}
		do(t, l, func() {})
		stop()
		if n != 3*max(size, 2) {
			t.Fatalf("size %d: %d posts ran", size, n)
		}
	}
}

// TestAttack3ModelRandomOps drives embedded one-shot timers and periodic
// timers through random Local().Reset, Local().Stop, Timer.Reset and
// Timer.Stop calls made from callbacks, with random Advances in between,
// on both stores, and checks every return value and every fire time
// against a model (equal-deadline order is not checked: the multiset of
// (time, timer) fires is). At the end, Close cancels exactly the timers the
// model has armed.
func TestAttack3ModelRandomOps(t *testing.T) {
	type fire struct {
		at time.Duration
		id int
	}
	for _, store := range attack3Stores {
		for seed := uint64(0); seed < 12; seed++ {
			t.Run(fmt.Sprintf("%v/seed=%d", store, seed), func(t *testing.T) {
				clk := NewFakeClock()
				l := New(WithClock(clk), WithTimerStore(store))
				errc := make(chan error, 1)
				go func() { errc <- l.Run(context.Background()) }()
				do(t, l, func() {})
				t0 := clk.Now()
				rng := rand.New(rand.NewPCG(seed, 99))
				const oneShots = 5
				periods := []time.Duration{700 * time.Millisecond, 1300 * time.Millisecond}
				n := oneShots + len(periods)
				tms := make([]*Timer, n)
				var got []fire
				for i := 0; i < oneShots; i++ {
					tms[i] = new(Timer)
					tms[i].Init(l, func() { got = append(got, fire{clk.Since(t0), i}) })
				}
				for k, p := range periods {
					i := oneShots + k
					tms[i] = must(l.Every(p, func() { got = append(got, fire{clk.Since(t0), i}) }))
					tms[i].Stop()
				}
				do(t, l, func() {})
				// model
				dl := make([]time.Duration, n) // -1: not armed
				for i := range dl {
					dl[i] = -1
				}
				period := func(i int) time.Duration {
					if i >= oneShots {
						return periods[i-oneShots]
					}
					return 0
				}
				var want []fire
				now := time.Duration(0)
				advanceModel := func(to time.Duration) {
					for {
						// earliest armed deadline <= to
						best := -1
						for i := range dl {
							if dl[i] >= 0 && dl[i] <= to && (best < 0 || dl[i] < dl[best]) {
								best = i
							}
						}
						if best < 0 {
							break
						}
						want = append(want, fire{dl[best], best})
						if p := period(best); p > 0 {
							dl[best] += p
						} else {
							dl[best] = -1
						}
					}
					now = to
				}
				for step := 0; step < 60; step++ {
					type op struct {
						kind, i int
						d       time.Duration
					}
					var ops []op
					for range 1 + rng.IntN(6) {
						d := time.Duration(rng.IntN(31)) * 100 * time.Millisecond
						if rng.IntN(8) == 0 {
							d = -time.Second
						}
						ops = append(ops, op{rng.IntN(4), rng.IntN(n), d})
					}
					var rets []bool
					do(t, l, func() {
						lc := l.Local()
						for _, o := range ops {
							tm := tms[o.i]
							switch o.kind {
							case 0:
								rets = append(rets, lc.Reset(tm, o.d))
							case 1:
								rets = append(rets, lc.Stop(tm))
							case 2:
								rets = append(rets, tm.Reset(o.d))
							case 3:
								rets = append(rets, tm.Stop())
							}
						}
					})
					for k, o := range ops {
						wasArmed := dl[o.i] >= 0
						if rets[k] != wasArmed {
							t.Fatalf("step %d op %d (%d on %d, %v): reported %v, model armed=%v", step, k, o.kind, o.i, o.d, rets[k], wasArmed)
						}
						switch o.kind {
						case 0, 2:
							dl[o.i] = now + max(o.d, 0)
						case 1, 3:
							dl[o.i] = -1
						}
					}
					// Timers made due at once fire right after the callback.
					adv := time.Duration(rng.IntN(21)) * 100 * time.Millisecond
					clk.Advance(adv)
					advanceModel(now + adv)
					var g []fire
					do(t, l, func() {
						g = slices.Clone(got)
						for i, tm := range tms {
							a3NoPlaceholder(t, fmt.Sprint("timer ", i), tm)
						}
					})
					cmp := func(a, b fire) int {
						if a.at != b.at {
							return int(a.at - b.at)
						}
						return a.id - b.id
					}
					gs, ws := slices.Clone(g), slices.Clone(want)
					slices.SortFunc(gs, cmp)
					slices.SortFunc(ws, cmp)
					if !slices.Equal(gs, ws) {
						t.Fatalf("step %d (now %v): fired %v, model %v", step, now, gs, ws)
					}
				}
				armed := 0
				for i := range dl {
					if dl[i] >= 0 {
						armed++
					}
				}
				s0 := l.Stats().TimersCancelled
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				<-errc
				if c := l.Stats().TimersCancelled - s0; int(c) != armed {
					t.Fatalf("Close cancelled %d timers, the model has %d armed", c, armed)
				}
			})
		}
	}
}

// TestAttack3PolicySurvivesLocalReset: the missed-tick policy, now kept in
// periodicTimer.tick and found through periodicOf, gives the documented
// patterns (MissedTick doc: a 10 ms tick whose callback runs until 45 ms)
// both from Every and after the timer was stopped and re-armed with
// Local().Reset, on both stores.
func TestAttack3PolicySurvivesLocalReset(t *testing.T) {
	ms := time.Millisecond
	want := map[MissedTick][]time.Duration{
		TickSkip:  {10 * ms, 50 * ms, 60 * ms, 70 * ms, 80 * ms, 90 * ms, 100 * ms},
		TickBurst: {10 * ms, 45 * ms, 45 * ms, 45 * ms, 50 * ms, 60 * ms, 70 * ms, 80 * ms, 90 * ms, 100 * ms},
		TickDelay: {10 * ms, 45 * ms, 55 * ms, 65 * ms, 75 * ms, 85 * ms, 95 * ms},
	}
	for _, store := range attack3Stores {
		for _, m := range []MissedTick{TickSkip, TickBurst, TickDelay} {
			t.Run(fmt.Sprintf("%v/%v", store, m), func(t *testing.T) {
				l, clk, stop := a3Fake(t, store)
				defer stop()
				t0 := clk.Now()
				var ticks []time.Duration
				base := time.Duration(0)
				slow := true
				ev := must(l.Every(10*ms, func() {
					ticks = append(ticks, clk.Since(t0)-base)
					if slow {
						slow = false
						clk.Advance(35 * ms)
					}
				}, m))
				clk.Advance(100 * ms)
				var got []time.Duration
				do(t, l, func() { got = slices.Clone(ticks) })
				if !slices.Equal(got, want[m]) {
					t.Fatalf("from Every: ticks %v, want %v", got, want[m])
				}
				if !ev.Stop() {
					t.Fatal("Stop: false")
				}
				do(t, l, func() {
					ticks = ticks[:0]
					slow = true
					base = clk.Since(t0)
					if l.Local().Reset(ev, 10*ms) {
						t.Error("Local().Reset of a stopped timer reported true")
					}
				})
				clk.Advance(100 * ms)
				do(t, l, func() { got = slices.Clone(ticks) })
				if !slices.Equal(got, want[m]) {
					t.Fatalf("after Local().Reset: ticks %v, want %v", got, want[m])
				}
				ev.Stop()
			})
		}
	}
}

// TestAttack3LocalEveryThenLocalResetSameCallback: a timer made by
// Local().Every and Local().Reset in the same callback (on the deferred
// list twice, once with a placeholder) is filed once, at the Reset's
// deadline, and ticks from there.
func TestAttack3LocalEveryThenLocalResetSameCallback(t *testing.T) {
	for _, store := range attack3Stores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := a3Fake(t, store)
			defer stop()
			t0 := clk.Now()
			var ticks []time.Duration
			var ev *Timer
			do(t, l, func() {
				ev = must(l.Local().Every(time.Second, func() { ticks = append(ticks, clk.Since(t0)) }))
				if !l.Local().Reset(ev, 3*time.Second) {
					t.Error("Local().Reset of a just-made Every: false")
				}
			})
			do(t, l, func() {
				a3NoPlaceholder(t, "every", ev)
				if l.timers.Len() != 1 {
					t.Errorf("store holds %d, want 1", l.timers.Len())
				}
			})
			clk.Advance(5 * time.Second)
			var got []time.Duration
			do(t, l, func() { got = slices.Clone(ticks) })
			if want := []time.Duration{3 * time.Second, 4 * time.Second, 5 * time.Second}; !slices.Equal(got, want) {
				t.Fatalf("ticks %v, want %v", got, want)
			}
			ev.Stop()
		})
	}
}

// TestAttack3CopiedEveryTimerCallsForeignFunc: a copy of an Every timer
// (documented misuse: "A Timer must not be copied", go vet reports `x = *t`;
// the copy here is made with unsafe to get past vet) must never make the
// loop read memory that is not the timer's. A first version of the 48-byte
// Timer found a periodic timer's callback and period at the memory after
// its Timer: the copy, at the start of a user struct whose next fields are
// a func and a uint64, ran the user's unrelated func. Now the period lives
// in a timerHome the Timer points to, and the copy shares it: it runs the
// timer's own callback.
func TestAttack3CopiedEveryTimerCallsForeignFunc(t *testing.T) {
	type holder struct {
		T Timer
		F func()
		X uint64
	}
	l, clk, stop := a3Fake(t, StoreHeap)
	defer stop()
	own, foreign := 0, 0
	ev := must(l.Every(time.Hour, func() { own++ }))
	ev.Stop()
	do(t, l, func() {}) // the opStop takes it out of the store: index 0
	h := &holder{F: func() { foreign++ }, X: tickOf(int64(time.Second), TickSkip)}
	*(*[unsafe.Sizeof(Timer{})]byte)(unsafe.Pointer(&h.T)) = *(*[unsafe.Sizeof(Timer{})]byte)(unsafe.Pointer(ev)) // h.T = *ev
	h.T.Reset(time.Second)
	clk.Advance(time.Second)
	h.T.Stop()
	do(t, l, func() {
		if foreign != 0 || own != 1 {
			t.Errorf("the copy of an Every timer ran the user's unrelated func %d times and its own callback %d times; want 0 and 1", foreign, own)
		}
	})
}

// TestAttack3PeriodicTickHooksResetAndClose: after a periodic timer's tick,
// the slow-callback hook (or the panic handler, the tick having panicked)
// Local().Resets the timer and then calls Shutdown or Close: the loop
// finishes, the timer is cancelled once, ticks no more, and no timer is
// left pending.
func TestAttack3PeriodicTickHooksResetAndClose(t *testing.T) {
	for _, store := range attack3Stores {
		for _, via := range []string{"slowhook", "panichandler"} {
			for _, then := range []string{"shutdown", "close"} {
				t.Run(fmt.Sprintf("%v/%s/%s", store, via, then), func(t *testing.T) {
					clk := NewFakeClock()
					var l *Loop
					var ev *Timer
					inTick := false
					hook := func() {
						if !inTick {
							return
						}
						inTick = false
						if !l.Local().Reset(ev, 2*time.Second) {
							t.Error("Local().Reset of the ticking timer from the hook: false")
						}
						if then == "shutdown" {
							l.Shutdown(context.Background())
						} else {
							l.Close()
						}
					}
					opts := []Option{WithClock(clk), WithTimerStore(store)}
					if via == "slowhook" {
						opts = append(opts, WithSlowCallback(0, func(time.Duration, string) { hook() }))
					} else {
						opts = append(opts, WithPanicHandler(func(any) { hook() }))
					}
					l = New(opts...)
					errc := make(chan error, 1)
					go func() { errc <- l.Run(context.Background()) }()
					do(t, l, func() {})
					ticks := 0
					ev = must(l.Every(time.Second, func() {
						ticks++
						inTick = true
						if via == "panichandler" {
							panic("tick")
						}
					}))
					clk.Advance(time.Second)
					clk.Advance(5 * time.Second)
					select {
					case err := <-errc:
						if err != ErrClosed {
							t.Fatalf("Run: %v", err)
						}
					case <-time.After(10 * time.Second):
						t.Fatal("the loop did not finish")
					}
					if ticks != 1 {
						t.Fatalf("ticked %d times, want 1", ticks)
					}
					if s := l.Stats(); s.TimersCancelled != 1 || s.TimersPending != 0 {
						t.Fatalf("TimersCancelled = %d, TimersPending = %d; want 1 and 0", s.TimersCancelled, s.TimersPending)
					}
					if ev.Stop() {
						t.Fatal("the periodic timer is armed on the finished loop")
					}
				})
			}
		}
	}
}
