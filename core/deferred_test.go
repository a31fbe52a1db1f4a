package core

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// Timers scheduled through Local are filed when the scheduling callback
// returns (timer.go, rule 6). These tests pin what that must not change:
// the deadline counts from the call, other goroutines' Stop and Reset made
// while the callback still runs win, and Close, a panic or Goexit in the
// same callback neither lose nor revive a timer.

// recorder returns note: note(name) is a callback that appends name to
// fired and the time since t0 to at (on the loop goroutine).
func recorder(t0 time.Time, fired *[]string, at *[]time.Duration) func(string) func() {
	return func(name string) func() {
		return func() {
			*fired = append(*fired, name)
			*at = append(*at, time.Since(t0))
		}
	}
}

// TestLocalTimersFiledWhenTheCallbackReturns: AfterFunc, At and Every made
// through Local are not in the store while their callback runs, are filed
// when it returns, and fire at the deadlines counted from the calls, never
// early; one stopped within the callback never reaches the store.
func TestLocalTimersFiledWhenTheCallbackReturns(t *testing.T) {
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(store.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithTimerStore(store))
				stop := start(t, l)
				defer stop()
				t0 := time.Now()
				var fired []string
				var at []time.Duration
				note := recorder(t0, &fired, &at)
				var every *Timer
				do(t, l, func() {
					lc := l.Local()
					must(lc.AfterFunc(3*time.Second, note("after")))
					time.Sleep(time.Second) // the callback runs on: deadlines count from the calls
					must(lc.At(t0.Add(2*time.Second), note("at")))
					every = must(lc.Every(3*time.Second, note("every"))) // first tick at 4 s
					gone := must(lc.AfterFunc(time.Second, note("stopped")))
					if !lc.Stop(gone) {
						t.Error("Local().Stop of a timer scheduled in the same callback: false")
					}
					if n := l.timers.Len(); n != 0 {
						t.Errorf("store holds %d timers while the callback runs, want 0", n)
					}
				})
				do(t, l, func() {
					if n := l.timers.Len(); n != 3 {
						t.Errorf("store holds %d timers after the callback, want 3", n)
					}
				})
				time.Sleep(5 * time.Second)
				every.Stop()
				synctest.Wait()
				wantFired := []string{"at", "after", "every"}
				wantAt := []time.Duration{2 * time.Second, 3 * time.Second, 4 * time.Second}
				if !slices.Equal(fired, wantFired) || !slices.Equal(at, wantAt) {
					t.Fatalf("fired %v at %v, want %v at %v", fired, at, wantFired, wantAt)
				}
			})
		})
	}
}

// TestLocalTimerChangedByAnotherGoroutineBeforeFiling: another goroutine
// that stops or resets a timer the running callback scheduled, before the
// callback returns, wins: the stopped timer never fires, the reset one fires
// at its new deadline.
func TestLocalTimerChangedByAnotherGoroutineBeforeFiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		t0 := time.Now()
		var fired []string
		var at []time.Duration
		note := recorder(t0, &fired, &at)
		do(t, l, func() {
			lc := l.Local()
			stopped := must(lc.AfterFunc(time.Second, note("stopped")))
			later := must(lc.AfterFunc(time.Second, note("later")))
			earlier := must(lc.AfterFunc(5*time.Second, note("earlier")))
			done := make(chan struct{})
			go func() { // another goroutine, while this callback runs
				defer close(done)
				if !stopped.Stop() {
					t.Error("Timer.Stop of a just-scheduled timer: false")
				}
				if !later.Reset(4 * time.Second) {
					t.Error("Timer.Reset of a just-scheduled timer: false")
				}
				if !earlier.Reset(2 * time.Second) {
					t.Error("Timer.Reset of a just-scheduled timer: false")
				}
			}()
			<-done
		})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		wantFired := []string{"earlier", "later"}
		wantAt := []time.Duration{2 * time.Second, 4 * time.Second}
		if !slices.Equal(fired, wantFired) || !slices.Equal(at, wantAt) {
			t.Fatalf("fired %v at %v, want %v at %v", fired, at, wantFired, wantAt)
		}
		if s := l.Stats(); s.TimersPending != 0 {
			t.Fatalf("TimersPending = %d, want 0", s.TimersPending)
		}
	})
}

// TestLocalTimerThenCloseInTheSameCallback: Close called by the callback
// that scheduled a timer cancels the timer, counted, and it never fires.
func TestLocalTimerThenCloseInTheSameCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		ran := false
		do(t, l, func() {
			must(l.Local().AfterFunc(time.Second, func() { ran = true }))
			go l.Close() // Close from a callback would wait for itself
			synctest.Wait()
		})
		if err := <-errc; err != ErrClosed {
			t.Fatalf("Run: %v, want ErrClosed", err)
		}
		time.Sleep(2 * time.Second)
		if ran {
			t.Fatal("a timer scheduled before Close fired after it")
		}
		if s := l.Stats(); s.TimersCancelled != 1 || s.TimersPending != 0 {
			t.Fatalf("TimersCancelled = %d, TimersPending = %d, want 1 and 0", s.TimersCancelled, s.TimersPending)
		}
	})
}

// TestLocalTimerSurvivesItsCallbacksPanicAndGoexit: a callback that
// schedules a timer and then panics, or ends its goroutine, still leaves
// the timer scheduled: it fires at its deadline (after Goexit, once Run is
// called again).
func TestLocalTimerSurvivesItsCallbacksPanicAndGoexit(t *testing.T) {
	clk := NewFakeClock()
	var panics int
	l := New(WithClock(clk), WithPanicHandler(func(any) { panics++ }))
	go l.Run(context.Background()) // its goroutine ends in Goexit below
	do(t, l, func() {})
	t0 := clk.Now()
	var fired []time.Duration
	note := func() { fired = append(fired, clk.Since(t0)) }
	if err := l.Post(func() {
		must(l.Local().AfterFunc(time.Second, note))
		panic("after scheduling")
	}); err != nil {
		t.Fatal(err)
	}
	if err := l.Post(func() {
		must(l.Local().AfterFunc(2*time.Second, note))
		runtime.Goexit()
	}); err != nil {
		t.Fatal(err)
	}
	for l.running.Load() {
		runtime.Gosched()
	}
	got := rerunAdvanceClose(t, l, clk, 3*time.Second, &fired)
	if want := []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(got, want) || panics != 1 {
		t.Fatalf("fired at %v with %d panics handled, want %v and 1", got, panics, want)
	}
}

// TestLocalResetEqualDelaysFireInCallOrder: timers given the same delay by
// Local().Reset in one callback fire in the order of their last Reset,
// whether each was idle or filed for a later deadline (the Reset moves it
// earlier, out of the store's promise): each one's place among equal
// deadlines is the one its last call reserved. (A timer filed for an
// earlier deadline keeps that filing and is numbered when the loop re-files
// it there: GUARANTEES.md, the note on equal deadlines.)
func TestLocalResetEqualDelaysFireInCallOrder(t *testing.T) {
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(store.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithTimerStore(store))
				stop := start(t, l)
				defer stop()
				var fired []string
				var at []time.Duration
				note := recorder(time.Now(), &fired, &at)
				var a, b, c Timer
				for _, x := range []struct {
					tm   *Timer
					name string
				}{{&a, "a"}, {&b, "b"}, {&c, "c"}} {
					if err := x.tm.Init(l, note(x.name)); err != nil {
						t.Fatal(err)
					}
				}
				c.Reset(time.Hour)  // filed for later than the Resets below
				do(t, l, func() {}) // filed
				do(t, l, func() {
					lc := l.Local()
					lc.Reset(&a, time.Second)
					lc.Reset(&c, time.Second)
					lc.Reset(&b, time.Second)
					lc.Reset(&a, time.Second) // a moves behind c and b
				})
				time.Sleep(2 * time.Second)
				synctest.Wait()
				want := []string{"c", "b", "a"}
				if !slices.Equal(fired, want) {
					t.Fatalf("fired %v, want %v", fired, want)
				}
				for i, x := range at {
					if x < time.Second {
						t.Errorf("%s fired %v after the Resets, before its 1 s deadline", fired[i], x)
					}
				}
			})
		})
	}
}
