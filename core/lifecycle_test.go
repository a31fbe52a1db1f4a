package core

import (
	"testing"
	"time"
)

// Tests of issue #11 (the loop's lifecycle under misuse).

// TestFakeClockWithSpinAdvances (#11, item 1): WithSpin with a FakeClock.
// Before, the loop busy-waited on a clock that only Advance moves, while
// Advance waited for the loop to be idle: Advance never returned. Spinning
// means nothing on virtual time; the loop parks on the clock as without it.
// (The deadline below only turns a hang into a failure; it times nothing.)
func TestFakeClockWithSpinAdvances(t *testing.T) {
	l, clk, stop := startFake(t, WithSpin(time.Millisecond))
	defer stop()
	fired := make(chan struct{})
	must(l.AfterFunc(time.Second, func() { close(fired) }))
	advanced := make(chan struct{})
	go func() {
		clk.Advance(2 * time.Second)
		close(advanced)
	}()
	select {
	case <-advanced:
	case <-time.After(time.Minute):
		t.Fatal("Advance hung: the loop spins on a clock only Advance moves")
	}
	select {
	case <-fired:
	default:
		t.Fatal("Advance returned without firing the timer")
	}
}

// TestFakeClockForgetsClosedLoops (#11, item 2): a FakeClock kept every Loop
// ever attached to it (about 209 KB each); a loop detaches when Close or
// Shutdown finishes it, and the clock goes on driving the others.
func TestFakeClockForgetsClosedLoops(t *testing.T) {
	clk := NewFakeClock()
	for i := range 50 {
		l := New(WithClock(clk))
		stop := start(t, l)
		if i%2 == 0 {
			stop()
			continue
		}
		if err := l.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		stop()
	}
	clk.mu.Lock()
	n := len(clk.loops)
	clk.mu.Unlock()
	if n != 0 {
		t.Fatalf("the clock still holds %d closed loops", n)
	}
	l, stop := New(WithClock(clk)), func() {}
	stop = start(t, l)
	defer stop()
	fired := false
	must(l.AfterFunc(time.Second, func() { fired = true }))
	clk.Advance(time.Second)
	do(t, l, func() {
		if !fired {
			t.Error("a loop attached after the others closed did not fire")
		}
	})
}
