package core

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// The tests of issue #10's bug reports. Each failed before the timer
// rework (the state word with the deadline in it, timer.go) and passes
// after; each runs on both stores.

var bothStores = []TimerStore{StoreHeap, StoreWheel}

// TestResetSequentialLastWins (bug 1): two Resets from one goroutine, the
// second one second later: the second one's deadline wins. Before, the
// first Reset's message, applied while the second was still queued, put
// the timer back at its deadline and the loop fired it there, 1 s early.
func TestResetSequentialLastWins(t *testing.T) {
	for _, store := range bothStores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := startFake(t, WithBatch(1), WithTimerStore(store))
			defer stop()
			t0 := clk.Now()
			var firedAt atomic.Int64
			firedAt.Store(-1)
			x := must(l.AfterFunc(5*time.Second, func() { firedAt.Store(int64(clk.Since(t0))) }))
			clk.Advance(0) // the loop has x in its store
			if !x.Reset(5 * time.Second) {
				t.Fatal("Reset at 0 s: false")
			}
			clk.Advance(time.Second)
			if !x.Reset(5 * time.Second) {
				t.Fatal("Reset at 1 s: false")
			}
			clk.Advance(4 * time.Second)
			if at := firedAt.Load(); at >= 0 {
				t.Fatalf("fired at %v; the last Reset, at 1 s, set 6 s", time.Duration(at))
			}
			clk.Advance(time.Second)
			if at := time.Duration(firedAt.Load()); at != 6*time.Second {
				t.Fatalf("fired at %v, want 6s", at)
			}
		})
	}
}

// TestResetSequentialLastWinsAcrossBatches (bug 1, default options): the
// two Resets of x land in different drain batches because 1,100 other
// timers are reset in between.
func TestResetSequentialLastWinsAcrossBatches(t *testing.T) {
	for _, store := range bothStores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := startFake(t, WithTimerStore(store))
			defer stop()
			fired := false
			x := must(l.AfterFunc(5*time.Second, func() { fired = true }))
			others := make([]func(time.Duration) bool, 1100)
			for i := range others {
				o := must(l.AfterFunc(time.Hour, noop))
				others[i] = o.Reset
			}
			clk.Advance(0)
			x.Reset(5 * time.Second)
			for _, reset := range others {
				reset(time.Hour)
			}
			clk.Advance(time.Second)
			x.Reset(5 * time.Second)
			clk.Advance(4 * time.Second)
			do(t, l, func() {
				if fired {
					t.Error("fired at 5 s; the last Reset, at 1 s, set 6 s")
				}
			})
			clk.Advance(time.Second)
			do(t, l, func() {
				if !fired {
					t.Error("not fired at 6 s")
				}
			})
		})
	}
}

// TestResetZeroThenLater (bug 1): Reset(0) then Reset(time.Hour) from one
// goroutine, on the real clock. The loop may fire a timer between the two
// (the first made it due): then the second reports false, re-arming it.
// What may not happen is a call after the second returned, which set an
// hour. Before, the first Reset's message made the timer due while the
// second one's was still queued, and the loop fired it after both had
// returned true.
func TestResetZeroThenLater(t *testing.T) {
	n := 100_000
	if raceEnabled || testing.Short() {
		n = 20_000
	}
	for _, store := range bothStores {
		t.Run(store.String(), func(t *testing.T) {
			l := New(WithTimerStore(store))
			stop := start(t, l)
			defer stop()
			done := make([]atomic.Bool, n) // the second Reset has returned
			calls := make([]atomic.Int32, n)
			var late atomic.Int64
			resets := make([]func(time.Duration) bool, n)
			for i := range resets {
				tm := must(l.AfterFunc(time.Hour, func() {
					calls[i].Add(1)
					if done[i].Load() {
						late.Add(1)
					}
				}))
				resets[i] = tm.Reset
			}
			between := 0
			for i, reset := range resets {
				reset(0)
				moved := reset(time.Hour)
				done[i].Store(true)
				if !moved {
					between++ // fired in between: the second Reset re-armed it
				} else if calls[i].Load() != 0 {
					t.Errorf("timer %d: fired, yet the Reset after reported it armed", i)
				}
			}
			do(t, l, func() {})
			do(t, l, func() {})
			if f := late.Load(); f != 0 {
				t.Fatalf("%d of %d timers fired after their last Reset had set an hour", f, n)
			}
			t.Logf("%d of %d timers fired between the two Resets (legitimately: the first made them due)", between, n)
		})
	}
}

// sched is one way of scheduling: the Loop's methods from a goroutine
// other than the loop's, or Local's from a callback.
type sched struct {
	at    func(time.Time, func())
	after func(time.Duration, func()) (reset func(time.Duration) bool)
	// wait lets d pass while the loop is busy with what was scheduled so
	// far: nothing may fire meanwhile.
	wait func(time.Duration)
}

// localReset is Local().Reset, in one place.
func localReset(l *Loop, tm *Timer, d time.Duration) bool { return l.Local().Reset(tm, d) }

// orderCases schedule two timers, A then B, A due no later than B: A must
// fire first (bug 2). Before, a timer with a delay <= 0 went to the ready
// queue, which runs before due timers fire, so B overtook A.
var orderCases = []struct {
	name string
	run  func(s sched, now time.Time, rec func(string) func())
}{
	{"At(now-1s) then AfterFunc(0)", func(s sched, now time.Time, rec func(string) func()) {
		s.at(now.Add(-time.Second), rec("A"))
		s.after(0, rec("B"))
	}},
	{"AfterFunc(1ns), 1ms, AfterFunc(0)", func(s sched, now time.Time, rec func(string) func()) {
		s.after(1, rec("A"))
		s.wait(time.Millisecond)
		s.after(0, rec("B"))
	}},
	{"Reset(0) then AfterFunc(0)", func(s sched, now time.Time, rec func(string) func()) {
		reset := s.after(time.Hour, rec("A"))
		reset(0)
		s.after(0, rec("B"))
	}},
}

// TestDueTimersKeepDeadlineOrder (bug 2): for each case, heap and wheel,
// FakeClock and the runtime clock (in a synctest bubble), Loop and Local.
func TestDueTimersKeepDeadlineOrder(t *testing.T) {
	for _, c := range orderCases {
		for _, store := range bothStores {
			for _, fake := range []bool{true, false} {
				for _, local := range []bool{false, true} {
					name := fmt.Sprintf("%s/%v/fake=%v/local=%v", c.name, store, fake, local)
					t.Run(name, func(t *testing.T) {
						if fake {
							clk := NewFakeClock()
							checkOrder(t, New(WithClock(clk), WithTimerStore(store)), local, clk.Now,
								func(d time.Duration) { clk.Advance(d) }, c.run)
							return
						}
						synctest.Test(t, func(t *testing.T) {
							checkOrder(t, New(WithTimerStore(store)), local, time.Now, time.Sleep, c.run)
						})
					})
				}
			}
		}
	}
}

// checkOrder runs one order case on l and checks that A fired before B.
// Local: the case runs inside one callback, and wait advances the clock
// from there (a FakeClock's Advance from the loop models a long callback;
// in a bubble, a sleep on the loop goroutine does the same). Loop: the loop
// is held by a callback blocked on a channel while the case schedules from
// this goroutine; wait then lets time pass with the loop still held.
func checkOrder(t *testing.T, l *Loop, local bool, now func() time.Time, wait func(time.Duration), run func(sched, time.Time, func(string) func())) {
	stop := start(t, l)
	defer stop()
	var mu sync.Mutex
	var got []string
	rec := func(name string) func() {
		return func() { mu.Lock(); got = append(got, name); mu.Unlock() }
	}
	if local {
		do(t, l, func() {
			lc := l.Local()
			run(sched{
				at: func(when time.Time, fn func()) { must(lc.At(when, fn)) },
				after: func(d time.Duration, fn func()) func(time.Duration) bool {
					tm := must(lc.AfterFunc(d, fn))
					return func(d time.Duration) bool { return localReset(l, tm, d) }
				},
				wait: wait,
			}, now(), rec)
		})
	} else {
		release := make(chan struct{})
		held := make(chan struct{})
		if err := l.Post(func() { close(held); <-release }); err != nil {
			t.Fatal(err)
		}
		<-held
		run(sched{
			at: func(when time.Time, fn func()) { must(l.At(when, fn)) },
			after: func(d time.Duration, fn func()) func(time.Duration) bool {
				return must(l.AfterFunc(d, fn)).Reset
			},
			wait: func(d time.Duration) {
				if l.clock != nil {
					l.clock.mu.Lock() // the loop is held: move the clock without waiting for it
					l.clock.nanos.Add(int64(d))
					l.clock.mu.Unlock()
					return
				}
				time.Sleep(d) // a bubble: the loop is durably blocked on release
			},
		}, now(), rec)
		close(release)
	}
	do(t, l, func() {})
	if l.clock != nil {
		l.clock.Advance(0)
	}
	do(t, l, func() {})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, []string{"A", "B"}) {
		t.Fatalf("ran %v, want [A B]: deadline order, then scheduling order", got)
	}
}

// TestTickDelayNeverTooSoon (bug 3): a slow one-shot due at the same
// instant as a TickDelay tick fires just before it in the same batch; the
// gap between the tick and the next must still be at least a period.
// Before, the next deadline came from the clock reading taken once per
// batch, before the slow one-shot ran, so the tick ran again at once.
func TestTickDelayNeverTooSoon(t *testing.T) {
	for _, store := range bothStores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := startFake(t, WithTimerStore(store))
			defer stop()
			t0 := clk.Now()
			const period = 10 * time.Millisecond
			var ticks []time.Duration
			do(t, l, func() {
				lc := l.Local()
				must(lc.AfterFunc(period, func() { clk.Advance(15 * time.Millisecond) })) // runs 15 ms
				must(lc.Every(period, func() { ticks = append(ticks, clk.Since(t0)) }, TickDelay))
			})
			clk.Advance(100 * time.Millisecond)
			var got []time.Duration
			do(t, l, func() { got = slices.Clone(ticks) })
			if len(got) < 3 {
				t.Fatalf("ticks at %v, want several", got)
			}
			for i := 1; i < len(got); i++ {
				if gap := got[i] - got[i-1]; gap < period {
					t.Fatalf("ticks at %v: a gap of %v, shorter than the period", got, gap)
				}
			}
		})
	}
}

// TestPostOrderFromTheLoopGoroutine (bug 4): from a callback, posts
// through one path keep their order: Loop.Post after Loop.Post, and
// Local().Post after Local().Post; and so do zero-delay timers. Mixing the
// two paths is the documented exception (docs/GUARANTEES.md): Loop.Post
// goes through the inbox, which the loop reads after the ready queue that
// Local().Post appends to, so a Local().Post made later can run first.
func TestPostOrderFromTheLoopGoroutine(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	var got []int
	rec := func(i int) func() { return func() { got = append(got, i) } }
	do(t, l, func() {
		for i := range 100 {
			if err := l.Post(rec(i)); err != nil {
				t.Fatal(err)
			}
		}
	})
	do(t, l, func() {})
	do(t, l, func() {
		for i := 100; i < 200; i++ {
			if err := l.Local().Post(rec(i)); err != nil {
				t.Fatal(err)
			}
		}
	})
	do(t, l, func() {
		for i := 200; i < 300; i++ {
			must(l.AfterFunc(0, rec(i)))
		}
	})
	do(t, l, func() {
		for i := 300; i < 400; i++ {
			must(l.Local().AfterFunc(0, rec(i)))
		}
	})
	do(t, l, func() {})
	do(t, l, func() {})
	if len(got) != 400 {
		t.Fatalf("%d callbacks ran, want 400", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("callback %d ran in position %d", v, i)
		}
	}
}

// TestResetEarlierWakesWhileItsMessageWaits: a timer armed from outside
// with a deadline later than the loop's next (so its message does not wake
// the loop) and then Reset earlier before the loop has taken that message
// must still wake the loop: the Reset rides the message, and wakes the
// loop itself if its deadline is now the earliest. Found by the port of
// Go's TestAdjustTimers; before the fix the timer fired 10 minutes late.
func TestResetEarlierWakesWhileItsMessageWaits(t *testing.T) {
	for _, store := range bothStores {
		t.Run(store.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithTimerStore(store))
				stop := start(t, l)
				defer stop()
				must(l.AfterFunc(10*time.Minute, noop))
				synctest.Wait() // parked until 10 min
				t0 := time.Now()
				var firedAt atomic.Int64
				firedAt.Store(-1)
				tm := must(l.AfterFunc(time.Hour, func() { firedAt.Store(int64(time.Since(t0))) })) // later than 10 min: no wake
				tm.Reset(time.Second)
				time.Sleep(2 * time.Second)
				synctest.Wait()
				if at := time.Duration(firedAt.Load()); at != time.Second {
					t.Fatalf("fired at %v after the Reset to 1 s (-1ns: not yet)", at)
				}
			})
		})
	}
}

// TestStopThenRearmKeepsSchedulingOrder: x is stopped (its Stop sends the
// loop a message), y is scheduled, then x is re-armed for y's deadline: y
// was scheduled first and fires first. Before, the loop filed x when it
// applied the older Stop message, ahead of y's. Found by the adversarial
// pass (helper), both stores.
func TestStopThenRearmKeepsSchedulingOrder(t *testing.T) {
	for _, store := range bothStores {
		t.Run(store.String(), func(t *testing.T) {
			l, clk, stop := startFake(t, WithTimerStore(store))
			defer stop()
			var mu sync.Mutex
			var order []string
			rec := func(s string) func() { return func() { mu.Lock(); order = append(order, s); mu.Unlock() } }
			x := must(l.AfterFunc(time.Millisecond, rec("x")))
			clk.Advance(0) // x filed; the loop parks until 1 ms
			if !x.Stop() {
				t.Fatal("Stop of an armed timer: false")
			}
			must(l.AfterFunc(3*time.Millisecond, rec("y")))
			if x.Reset(3 * time.Millisecond) {
				t.Fatal("Reset of a stopped timer: true")
			}
			clk.Advance(5 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(order, []string{"y", "x"}) {
				t.Fatalf("fire order %v, want [y x]: the same deadline, y scheduled first", order)
			}
		})
	}
}

// TestTickDelayLateTickKeepsAPeriod: a TickDelay tick made late by
// another callback (it blocks the loop 6 ms just before the tick) still
// has a full period before the next call. Found by the adversarial pass:
// before, a tick that was merely late kept its phase, a 5 ms gap.
func TestTickDelayLateTickKeepsAPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		t0 := time.Now()
		var mu sync.Mutex
		var calls []time.Duration
		must(l.AfterFunc(9*time.Millisecond, func() { time.Sleep(6 * time.Millisecond) }))
		tk := must(l.Every(10*time.Millisecond, func() {
			mu.Lock()
			calls = append(calls, time.Since(t0))
			mu.Unlock()
		}, TickDelay))
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		tk.Stop()
		mu.Lock()
		defer mu.Unlock()
		want := []time.Duration{15, 25, 35, 45}
		for i := range want {
			want[i] *= time.Millisecond
		}
		if !slices.Equal(calls, want) {
			t.Fatalf("TickDelay calls at %v, want %v", calls, want)
		}
	})
}

// TestResetAfterFinishRefusedWhileArmingInFlight replays an interleaving
// found by the adversarial pass: Reset A arms a stopped timer and is
// descheduled before it sends its message; Close runs to completion; Reset
// B, after Close returned, finds the timer armed with A's message "on its
// way" (rule 4). B must not leave the timer armed forever: it is refused,
// the arming is counted as cancelled, and the timer is not armed.
func TestResetAfterFinishRefusedWhileArmingInFlight(t *testing.T) {
	l := New()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	var tm Timer
	if err := tm.Init(l, func() { t.Error("the timer ran") }); err != nil {
		t.Fatal(err)
	}
	// A: Loop.reset up to and including its CAS.
	if _, _, ok := tm.n.Value.rearm(l.deadline(time.Hour)); !ok {
		t.Fatal("rearm refused before Close")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	<-errc
	if tm.Reset(2 * time.Hour) {
		t.Error("Reset after Close returned reported true")
	}
	s := l.Stats()
	if tm.n.Value.load().armed() || s.TimersCancelled != 1 || s.ResetsRefused != 1 {
		t.Errorf("after the Reset: armed %v, TimersCancelled %d, ResetsRefused %d; want false, 1, 1",
			tm.n.Value.load().armed(), s.TimersCancelled, s.ResetsRefused)
	}
	if tm.Stop() {
		t.Error("Stop after all of it: true, the timer was left armed")
	}
}

// TestLocalTimerMethodsOffTheLoopNameTimer: Local().Stop and Local().Reset
// called while no goroutine runs the loop panic with a message that points
// to Timer.Stop and Timer.Reset (not Loop.Stop, which pauses the loop).
func TestLocalTimerMethodsOffTheLoopNameTimer(t *testing.T) {
	l := New()
	defer l.Close()
	tm := must(l.AfterFunc(time.Hour, noop))
	mustPanicWith(t, "hotloop: Local().Stop called while no goroutine runs the loop; use Timer.Stop", func() { l.Local().Stop(tm) })
	mustPanicWith(t, "hotloop: Local().Reset called while no goroutine runs the loop; use Timer.Reset", func() { l.Local().Reset(tm, time.Second) })
	mustPanicWith(t, "hotloop: Local().Post called while no goroutine runs the loop; use Loop.Post", func() { l.Local().Post(noop) })
}

// TestEveryAtTheLastDeadlineEnds: a periodic timer whose tick lands on
// maxWhen, the latest deadline a state word holds (a FakeClock 36 years
// on), fires once and ends instead of firing forever at the same instant.
func TestEveryAtTheLastDeadlineEnds(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	var calls atomic.Int64
	tm := must(l.Every(time.Duration(1<<62), func() { calls.Add(1) }))
	clk.Advance(time.Duration(1<<62) + time.Hour)
	do(t, l, func() {})
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d calls at the last deadline, want 1", n)
	}
	if tm.Stop() {
		t.Fatal("still armed after its last tick")
	}
}
