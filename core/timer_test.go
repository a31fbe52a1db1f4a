package core

import (
	"context"
	"math/rand/v2"
	"sort"
	"testing"
	"testing/synctest"
	"time"
)

// firing is one timer callback observed in a test.
type firing struct {
	id  int
	due time.Time
	at  time.Time
}

// TestTimersNeverEarlyAndInDeadlineOrder schedules timers with random and
// repeated delays, from the loop and from another goroutine, on synctest's
// fake clock: each fires at or after its deadline, and they fire in
// deadline order, equal deadlines in the order they were scheduled.
func TestTimersNeverEarlyAndInDeadlineOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		rng := rand.New(rand.NewPCG(1, 2))
		var got []firing
		var want []firing
		schedule := func(id int, d time.Duration, local bool) {
			due := time.Now().Add(d)
			want = append(want, firing{id: id, due: due})
			fn := func() { got = append(got, firing{id: id, due: due, at: time.Now()}) }
			if local {
				must(l.Local().AfterFunc(d, fn))
			} else {
				must(l.AfterFunc(d, fn))
			}
		}
		id := 0
		do(t, l, func() {
			for i := 0; i < 100; i++ {
				schedule(id, time.Duration(rng.IntN(10))*time.Millisecond, true)
				id++
			}
		})
		for i := 0; i < 100; i++ {
			schedule(id, time.Duration(rng.IntN(10))*time.Millisecond+time.Duration(rng.IntN(3))*time.Microsecond, false)
			id++
		}
		time.Sleep(20 * time.Millisecond)
		do(t, l, func() {})
		stop()
		sort.SliceStable(want, func(i, j int) bool { return want[i].due.Before(want[j].due) })
		if len(got) != len(want) {
			t.Fatalf("%d timers fired, want %d", len(got), len(want))
		}
		for i, f := range got {
			if f.at.Before(f.due) {
				t.Errorf("timer %d fired %v early", f.id, f.due.Sub(f.at))
			}
			if f.id != want[i].id {
				t.Fatalf("firing %d: timer %d, want %d (deadline order, ties in scheduling order)", i, f.id, want[i].id)
			}
		}
	})
}

func TestZeroDelayRunsAfterQueuedCallbacks(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	var got []string
	do(t, l, func() {
		lc := l.Local()
		lc.Post(func() { got = append(got, "a") })
		must(lc.AfterFunc(0, func() { got = append(got, "b") }))
		must(lc.AfterFunc(-time.Second, func() { got = append(got, "c") }))
		lc.Post(func() { got = append(got, "d") })
	})
	do(t, l, func() {})
	// The callbacks queued first, then the due timers in deadline order
	// (c's deadline, now, is not earlier than b's).
	if len(got) != 4 || got[0] != "a" || got[1] != "d" || got[2] != "b" || got[3] != "c" {
		t.Fatalf("order %v, want [a d b c]", got)
	}
}

func TestStopReturnValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		ran := 0
		tm := must(l.AfterFunc(time.Second, func() { ran++ }))
		if !tm.Stop() {
			t.Fatal("Stop of a pending timer: false")
		}
		if tm.Stop() {
			t.Fatal("second Stop: true")
		}
		fired := must(l.AfterFunc(time.Millisecond, func() { ran++ }))
		time.Sleep(2 * time.Second)
		do(t, l, func() {})
		if ran != 1 {
			t.Fatalf("ran %d callbacks, want 1 (the stopped one must not run)", ran)
		}
		if fired.Stop() {
			t.Fatal("Stop of a fired timer: true")
		}
		if (&Timer{}).Stop() {
			t.Fatal("zero Timer's Stop reported true")
		}
		synctest.Wait() // the loop has published its counters and parked
		if s := l.Stats(); s.TimersPending != 0 {
			t.Fatalf("TimersPending = %d after Stop, want 0 (removed, not a tombstone)", s.TimersPending)
		}
	})
}

func TestStopPeriodicFromItsCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		n := 0
		var tm *Timer
		stopped := false
		do(t, l, func() {
			tm = must(l.Local().Every(time.Millisecond, func() {
				n++
				if n == 3 {
					stopped = tm.Stop()
				}
			}))
		})
		time.Sleep(10 * time.Millisecond)
		do(t, l, func() {})
		if n != 3 || !stopped {
			t.Fatalf("periodic ran %d times, Stop from its callback = %v; want 3, true", n, stopped)
		}
	})
}

func TestEveryKeepsPhaseAndSkipsMissedTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		start := time.Now()
		var at []time.Duration
		must(l.Every(10*time.Millisecond, func() {
			at = append(at, time.Since(start))
			if len(at) == 2 {
				time.Sleep(25 * time.Millisecond) // fall behind by more than two periods
			}
		}))
		time.Sleep(65 * time.Millisecond)
		do(t, l, func() {})
		want := []time.Duration{10, 20, 50, 60}
		if len(at) != len(want) {
			t.Fatalf("ticks at %v, want %v ms", at, want)
		}
		for i := range want {
			if at[i] != want[i]*time.Millisecond {
				t.Fatalf("ticks at %v, want %v ms", at, want)
			}
		}
	})
}

func TestResetMovesTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		t0 := time.Now()
		var firedAt time.Duration
		tm := must(l.AfterFunc(10*time.Millisecond, func() { firedAt = time.Since(t0) }))
		if !tm.Reset(30 * time.Millisecond) {
			t.Fatal("Reset of a pending timer: false")
		}
		time.Sleep(20 * time.Millisecond)
		do(t, l, func() {})
		if firedAt != 0 {
			t.Fatalf("fired at %v, before its reset deadline", firedAt)
		}
		if !tm.Reset(5 * time.Millisecond) { // earlier than before: wakes the loop
			t.Fatal("second Reset: false")
		}
		time.Sleep(10 * time.Millisecond)
		do(t, l, func() {})
		if firedAt != 25*time.Millisecond {
			t.Fatalf("fired at %v, want 25ms", firedAt)
		}
		if tm.Reset(time.Millisecond) {
			t.Fatal("Reset of a fired timer: true (it was not armed)")
		}
		time.Sleep(5 * time.Millisecond)
		do(t, l, func() {})
		if firedAt != 31*time.Millisecond { // re-armed at 30ms
			t.Fatalf("re-armed timer fired at %v, want 31ms", firedAt)
		}
	})
}

// TestIdleLoopNeverWakes: with no timers the loop parks once and stays
// parked however much time passes: no polling.
func TestIdleLoopNeverWakes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		synctest.Wait()
		before := l.Stats()
		time.Sleep(time.Hour)
		synctest.Wait()
		after := l.Stats()
		if after.Wakeups != before.Wakeups || after.Parks != before.Parks || after.Iterations != before.Iterations {
			t.Fatalf("idle loop woke: before %+v, after %+v", before, after)
		}
	})
}

// TestOneTimerOneWakeup: a loop waiting for one timer wakes exactly once.
func TestOneTimerOneWakeup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		fired := false
		do(t, l, func() { must(l.Local().AfterFunc(100*time.Millisecond, func() { fired = true })) })
		synctest.Wait()
		before := l.Stats()
		time.Sleep(time.Second)
		synctest.Wait()
		after := l.Stats()
		if !fired || after.Wakeups-before.Wakeups != 1 {
			t.Fatalf("fired=%v, wake-ups while waiting: %d, want 1", fired, after.Wakeups-before.Wakeups)
		}
	})
}

// TestLaterTimerDoesNotWakeParkedLoop: a timer scheduled from another
// goroutine with a deadline after the published one leaves the parked loop
// alone; an earlier one wakes it.
func TestLaterTimerDoesNotWakeParkedLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		must(l.AfterFunc(10*time.Millisecond, func() {}))
		synctest.Wait()
		k0 := l.Stats().Kicks
		must(l.AfterFunc(20*time.Millisecond, func() {}))
		synctest.Wait()
		if k := l.Stats().Kicks; k != k0 {
			t.Fatalf("a later timer woke the parked loop (kicks %d -> %d)", k0, k)
		}
		must(l.AfterFunc(5*time.Millisecond, func() {}))
		synctest.Wait()
		if k := l.Stats().Kicks; k != k0+1 {
			t.Fatalf("an earlier timer did not wake the parked loop (kicks %d -> %d)", k0, k)
		}
		time.Sleep(30 * time.Millisecond)
		do(t, l, func() {})
		synctest.Wait()
		if s := l.Stats(); s.TimersFired != 3 {
			t.Fatalf("fired %d, want 3", s.TimersFired)
		}
	})
}

// TestNoLostWakeups posts to a loop that parks between posts, many times;
// a lost wake-up would leave a callback unrun and the test hung.
func TestNoLostWakeups(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	ack := make(chan struct{})
	for i := 0; i < 20000; i++ {
		if err := l.Post(func() { ack <- struct{}{} }); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ack:
		case <-time.After(time.Minute):
			t.Fatalf("round %d: the callback never ran (lost wake-up)", i)
		}
	}
	if s := l.Stats(); s.Parks == 0 {
		t.Logf("the loop never parked; the test did not exercise the park path (%+v)", s)
	}
}

func TestRunStopsOnContextWhileParked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := l.Run(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Run: %v", err)
		}
		l.Close()
	})
}
