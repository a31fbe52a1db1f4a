package core

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// startFake runs a loop on a new FakeClock and returns both and a stop
// function that closes the loop.
func startFake(t *testing.T, opts ...Option) (*Loop, *FakeClock, func()) {
	t.Helper()
	clk := NewFakeClock()
	l := New(append([]Option{WithClock(clk)}, opts...)...)
	return l, clk, start(t, l)
}

func TestFakeClockStandsStillUntilAdvanced(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	t0 := clk.Now()
	fired := false
	must(l.AfterFunc(time.Hour, func() { fired = true }))
	clk.Advance(time.Hour - 1)
	do(t, l, func() {
		if fired {
			t.Error("timer fired 1ns before its deadline")
		}
	})
	clk.Advance(1)
	// Advance returned: the timer has run, with no Do needed to order it.
	do(t, l, func() {
		if !fired {
			t.Error("timer did not fire at its deadline")
		}
	})
	if got := clk.Since(t0); got != time.Hour {
		t.Errorf("clock moved %v, want 1h", got)
	}
}

// TestFakeClockStepsThroughDeadlines schedules random timers, some of which
// schedule more: Advance fires every one due by its target, in deadline
// order, each with the clock reading exactly its deadline, and none beyond.
func TestFakeClockStepsThroughDeadlines(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	t0 := clk.Now()
	rng := rand.New(rand.NewPCG(3, 4))
	type shot struct{ due, at time.Duration }
	var (
		mu  sync.Mutex // the test goroutine reads got after Advance; the loop writes it
		got []shot
	)
	var schedule func(d time.Duration, depth int)
	schedule = func(d time.Duration, depth int) {
		due := clk.Since(t0) + d
		must(l.AfterFunc(d, func() {
			mu.Lock()
			got = append(got, shot{due, clk.Since(t0)})
			mu.Unlock()
			if depth > 0 {
				schedule(time.Duration(rng.IntN(5000))*time.Millisecond, depth-1) // from the loop: still through Loop.AfterFunc
			}
		}))
	}
	var wantDue []time.Duration
	for i := 0; i < 50; i++ {
		d := time.Duration(rng.IntN(10000)) * time.Millisecond
		wantDue = append(wantDue, d)
		schedule(d, 1)
	}
	clk.Advance(10 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(got) < len(wantDue) {
		t.Fatalf("%d timers fired by 10s, want at least the %d first ones", len(got), len(wantDue))
	}
	for i, s := range got {
		if s.at != s.due {
			t.Errorf("timer %d due at %v ran with the clock at %v", i, s.due, s.at)
		}
		if s.due > 10*time.Second {
			t.Errorf("timer due at %v fired during Advance to 10s", s.due)
		}
		if i > 0 && s.due < got[i-1].due {
			t.Errorf("timer due at %v fired after one due at %v", s.due, got[i-1].due)
		}
	}
	pending := l.Stats().TimersPending
	if len(got)+pending != 100 {
		t.Errorf("%d fired + %d pending, want 100 timers in all", len(got), pending)
	}
}

func TestFakeClockAdvanceZeroRunsPosts(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	var mu sync.Mutex
	n := 0
	for i := 0; i < 100; i++ {
		if err := l.Post(func() { mu.Lock(); n++; mu.Unlock() }); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(0)
	mu.Lock()
	defer mu.Unlock()
	if n != 100 {
		t.Errorf("%d posts ran before Advance(0) returned, want 100", n)
	}
}

func TestFakeClockAtUsesVirtualTime(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	var at time.Time
	must(l.At(clk.Now().Add(90*time.Minute), func() { at = clk.Now() }))
	want := clk.Now().Add(90 * time.Minute)
	clk.Advance(2 * time.Hour)
	do(t, l, func() {
		if !at.Equal(want) {
			t.Errorf("At timer ran at %v, want %v", at, want)
		}
	})
}

func TestFakeClockDrivesSeveralLoops(t *testing.T) {
	clk := NewFakeClock()
	var mu sync.Mutex
	var order []string
	var stops []func()
	for _, name := range []string{"a", "b", "c"} {
		l := New(WithClock(clk))
		stops = append(stops, start(t, l))
		d := map[string]time.Duration{"a": 3, "b": 1, "c": 2}[name] * time.Second
		must(l.AfterFunc(d, func() { mu.Lock(); order = append(order, name); mu.Unlock() }))
	}
	clk.Advance(5 * time.Second)
	mu.Lock()
	if got := len(order); got != 3 || order[0] != "b" || order[1] != "c" || order[2] != "a" {
		t.Errorf("loops fired %v, want [b c a]", order)
	}
	mu.Unlock()
	for _, s := range stops {
		s()
	}
}

// TestFakeClockAdvanceFromCallback: on the loop goroutine Advance only moves
// the clock, so the callback "runs" for that long and what falls due
// meanwhile fires late, once the callback returns.
func TestFakeClockAdvanceFromCallback(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	t0 := clk.Now()
	var firedAt time.Duration
	must(l.AfterFunc(time.Second, func() { firedAt = clk.Since(t0) }))
	must(l.AfterFunc(500*time.Millisecond, func() { clk.Advance(2 * time.Second) }))
	clk.Advance(time.Second)
	do(t, l, func() {
		if firedAt != 2500*time.Millisecond {
			t.Errorf("timer due at 1s fired at %v, want 2.5s (after the 2s callback at 0.5s)", firedAt)
		}
	})
	if got := clk.Since(t0); got != 2500*time.Millisecond {
		t.Errorf("clock at %v, want 2.5s: Advance never moves it back", got)
	}
}

// TestFakeClockIgnoresStoppedLoop: a loop whose Run returned is not waited
// for, and its timers wait for the next Run.
func TestFakeClockIgnoresStoppedLoop(t *testing.T) {
	clk := NewFakeClock()
	l := New(WithClock(clk))
	fired := false
	must(l.AfterFunc(time.Second, func() { fired = true }))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	clk.Advance(0) // Run has started and parked
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	clk.Advance(time.Minute) // must not wait for the stopped loop
	if fired {
		t.Fatal("timer fired while no goroutine ran the loop")
	}
	stop := start(t, l)
	clk.Advance(0)
	do(t, l, func() {
		if !fired {
			t.Error("overdue timer did not fire once Run resumed")
		}
	})
	stop()
	clk.Advance(time.Minute) // finished: not waited for
}

// TestFakeClockConcurrentAdvanceAndProducers: goroutines schedule and stop
// timers and post while others advance the clock; every timer due by the
// final time fires exactly once.
func TestFakeClockConcurrentAdvanceAndProducers(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	const producers, each = 4, 200
	var mu sync.Mutex
	fired := make(map[int]int)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(p), 9))
			for i := 0; i < each; i++ {
				id := p*each + i
				must(l.AfterFunc(time.Duration(rng.IntN(1000))*time.Millisecond, func() {
					mu.Lock()
					fired[id]++
					mu.Unlock()
				}))
				l.Post(func() {})
			}
		}()
	}
	for a := 0; a < 2; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				clk.Advance(10 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	clk.Advance(time.Second) // past every deadline
	mu.Lock()
	defer mu.Unlock()
	if len(fired) != producers*each {
		t.Errorf("%d timers fired, want %d", len(fired), producers*each)
	}
	for id, n := range fired {
		if n != 1 {
			t.Errorf("timer %d fired %d times", id, n)
		}
	}
}

func TestFakeClockNegativeAdvanceIsZero(t *testing.T) {
	_, clk, stop := startFake(t)
	defer stop()
	t0 := clk.Now()
	clk.Advance(-time.Hour)
	if !clk.Now().Equal(t0) {
		t.Errorf("Advance(-1h) moved the clock to %v", clk.Since(t0))
	}
}
