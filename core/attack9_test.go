package core

// Second adversarial pass on group's drain: core's Local().Callbacks and
// Local().StopPeriodic as user code may call them. Tests with "Bug" in
// their names fail; each says why.

import (
	"testing"
	"time"
)

// BUG: Local().StopPeriodic called from a periodic timer's own tick does
// not stop that timer. fire (run.go) pops the timer from the store before
// its tick runs (timers.PopDue), so stopPeriodic (close.go:211), which
// walks only the store, never sees it; after the tick rearmAfterRun files
// it again. The doc (local.go:94) says "stops every periodic timer of the
// loop". A ticker that decides "stop all tickers" (a shutdown tick) keeps
// ticking.
func TestAttack9BugStopPeriodicFromOwnTick(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	ticks, stopped := 0, -1
	var tm *Timer
	do(t, l, func() {
		tm = must(l.Local().Every(time.Millisecond, func() {
			if ticks++; ticks == 2 {
				stopped = l.Local().StopPeriodic()
			}
		}))
	})
	for range 10 {
		clk.Advance(time.Millisecond)
	}
	var got int
	do(t, l, func() { got = ticks })
	if got != 2 || stopped != 1 {
		t.Errorf("a ticker that calls Local().StopPeriodic in its 2nd tick: %d ticks after 10 periods, StopPeriodic returned %d; want 2 ticks, 1 stopped", got, stopped)
	}
	if tm.Stop() {
		t.Errorf("Timer.Stop after StopPeriodic reported true: the ticker was still armed")
	}
}

// A sibling ticker stopped from another ticker's tick stops (it is in the
// store); the caller's own is the BUG above.
func TestAttack9StopPeriodicFromTickStopsOthers(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	a, b := 0, 0
	do(t, l, func() {
		must(l.Local().Every(time.Millisecond, func() { a++ }))
		must(l.Local().Every(time.Second, func() { // never fires here
			b++
		}))
		must(l.Local().AfterFunc(time.Millisecond+time.Microsecond, func() { l.Local().StopPeriodic() }))
	})
	for range 10 {
		clk.Advance(time.Millisecond)
	}
	do(t, l, func() {
		if a != 1 || b != 0 {
			t.Errorf("ticks a=%d b=%d after a one-shot timer's StopPeriodic, want 1 and 0", a, b)
		}
	})
	if s := statsWhen(l, func(s Stats) bool { return s.TimersCancelled >= 2 }); s.TimersCancelled != 2 {
		t.Errorf("TimersCancelled %d, want 2", s.TimersCancelled)
	}
}

// StopPeriodic twice, then Shutdown: a ticker is cancelled (and counted)
// once; Timer.Stop and Reset afterwards report false (Reset re-arms it,
// as documented: it runs again until Shutdown stops it, counted once more).
func TestAttack9StopPeriodicCountsOnceAndReset(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	ticks := 0
	var tm *Timer
	do(t, l, func() { tm = must(l.Local().Every(time.Millisecond, func() { ticks++ })) })
	var n1, n2 int
	do(t, l, func() { n1 = l.Local().StopPeriodic(); n2 = l.Local().StopPeriodic() })
	if n1 != 1 || n2 != 0 {
		t.Errorf("StopPeriodic twice: %d then %d, want 1 then 0", n1, n2)
	}
	if tm.Stop() {
		t.Error("Stop after StopPeriodic: true")
	}
	if tm.Reset(time.Millisecond) {
		t.Error("Reset after StopPeriodic: true (it was stopped)")
	}
	clk.Advance(time.Millisecond)
	clk.Advance(time.Millisecond)
	do(t, l, func() {
		if ticks != 2 {
			t.Errorf("a ticker re-armed by Reset after StopPeriodic ticked %d times in 2 periods, want 2", ticks)
		}
	})
	if s := statsWhen(l, func(s Stats) bool { return s.TimersCancelled >= 1 }); s.TimersCancelled != 1 {
		t.Errorf("TimersCancelled %d, want 1", s.TimersCancelled)
	}
}

// Local().Callbacks counts a panicking post (recovered by the handler)
// and a Do, and not a timer that panics.
func TestAttack9CallbacksCountsPanicsAndDo(t *testing.T) {
	l, clk, stop := startFake(t, WithPanicHandler(func(any) {}))
	defer stop()
	var before, after uint64
	do(t, l, func() { before = l.Local().Callbacks() })
	if err := l.Post(func() { panic("x") }); err != nil {
		t.Fatal(err)
	}
	must(l.AfterFunc(time.Millisecond, func() { panic("y") }))
	clk.Advance(time.Millisecond)
	do(t, l, func() {}) // a Do: counted
	do(t, l, func() { after = l.Local().Callbacks() })
	if after-before != 3 { // the panicking post, the empty Do, the first Do
		t.Errorf("Callbacks moved by %d, want 3", after-before)
	}
}
