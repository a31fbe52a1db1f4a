package core

import (
	"testing"
	"time"
)

// TestLocalCallbacksCountsPostsNotTimers: Local().Callbacks is exact on the
// loop: it counts each posted callback once it has returned (the running
// one not yet), and no timer callback.
func TestLocalCallbacksCountsPostsNotTimers(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	var before, after uint64
	do(t, l, func() { before = l.Local().Callbacks() })
	for range 5 {
		if err := l.Post(func() {}); err != nil {
			t.Fatal(err)
		}
	}
	do(t, l, func() {
		must(l.Local().AfterFunc(time.Second, func() {}))
	})
	clk.Advance(time.Second) // the timer callback: not counted
	do(t, l, func() { after = l.Local().Callbacks() })
	// 5 posts and the Do that made the timer, and the first Do itself.
	if got := after - before; got != 7 {
		t.Fatalf("Callbacks moved by %d, want 7", got)
	}
	if s := l.Stats(); s.Callbacks < after {
		t.Fatalf("Stats().Callbacks %d behind Local().Callbacks %d", s.Callbacks, after)
	}
}

// TestLocalStopPeriodic stops every periodic timer and leaves one-shot
// timers armed; a periodic timer made afterwards runs.
func TestLocalStopPeriodic(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	ticks, once, later := 0, 0, 0
	var ticker, oneShot *Timer
	do(t, l, func() {
		ticker = must(l.Local().Every(time.Millisecond, func() { ticks++ }))
		must(l.Local().Every(time.Second, func() { ticks++ }))
		oneShot = must(l.Local().AfterFunc(10*time.Millisecond, func() { once++ }))
	})
	clk.Advance(2 * time.Millisecond)
	var stopped int
	do(t, l, func() { stopped = l.Local().StopPeriodic() })
	if stopped != 2 {
		t.Fatalf("StopPeriodic stopped %d, want 2", stopped)
	}
	do(t, l, func() { must(l.Local().Every(time.Millisecond, func() { later++ })) })
	clk.Advance(20 * time.Millisecond)
	do(t, l, func() {
		if ticks != 2 || once != 1 || later != 20 {
			t.Errorf("ticks %d, one-shot %d, later ticker %d; want 2, 1, 20", ticks, once, later)
		}
	})
	if ticker.Stop() {
		t.Error("Stop of a ticker StopPeriodic stopped reported true")
	}
	if oneShot.Stop() {
		t.Error("the one-shot timer had not fired")
	}
	if s := l.Stats(); s.TimersCancelled != 2 {
		t.Errorf("TimersCancelled %d, want 2", s.TimersCancelled)
	}
}

// TestLocalCountMethodsOffLoopPanic: like every Local method, they panic
// off the loop, naming what to use instead.
func TestLocalCountMethodsOffLoopPanic(t *testing.T) {
	l := New()
	for name, f := range map[string]func(){
		"Callbacks":    func() { l.Local().Callbacks() },
		"StopPeriodic": func() { l.Local().StopPeriodic() },
	} {
		func() {
			defer func() {
				if v := recover(); v == nil {
					t.Errorf("Local().%s off the loop did not panic", name)
				}
			}()
			f()
		}()
	}
}
