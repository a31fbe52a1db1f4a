package core

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
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

// runCatching runs l until it is closed, recovering (and returning) a panic
// that escapes Run, then runs it again, so the loop keeps an owner.
func runCatching(l *Loop, escaped chan<- any) {
	for {
		var err error
		func() {
			defer func() {
				if v := recover(); v != nil {
					escaped <- v
				}
			}()
			err = l.Run(context.Background())
		}()
		if err == ErrClosed {
			return
		}
	}
}

// TestTimerPanicEscapingTheHandlerCountsAsFired (#11, item 6): a timer
// whose callback panics, with a panic handler that panics too, ends as
// fired — Stop reports false, TimersFired counts it — for a one-shot; a
// periodic one ends stopped by that panic, not armed forever with no tick.
// Before, it counted as neither fired nor cancelled.
func TestTimerPanicEscapingTheHandlerCountsAsFired(t *testing.T) {
	for _, periodic := range []bool{false, true} {
		t.Run(fmt.Sprintf("periodic=%v", periodic), func(t *testing.T) {
			l := New(WithPanicHandler(func(v any) { panic(v) }))
			escaped := make(chan any, 4)
			ran := make(chan struct{})
			go func() { runCatching(l, escaped); close(ran) }()
			fn := func() { panic("boom") }
			var tm *Timer
			if periodic {
				tm = must(l.Every(time.Millisecond, fn))
			} else {
				tm = must(l.AfterFunc(time.Millisecond, fn))
			}
			<-escaped
			s := statsWhen(l, func(s Stats) bool { return s.TimersFired == 1 })
			if s.TimersFired != 1 {
				t.Errorf("TimersFired = %d after the escaped panic, want 1", s.TimersFired)
			}
			if tm.Stop() {
				t.Errorf("Stop reported true: the timer was left armed with no tick to come")
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			<-ran
		})
	}
}

// TestSlowHookPanicGoesToTheHandler (#11, item 7): a panic in the
// WithSlowCallback hook goes to the panic handler, for a post and for a
// timer alike, and the loop goes on. Before, the post's was caught as the
// callback's own panic while the timer's escaped Run.
func TestSlowHookPanicGoesToTheHandler(t *testing.T) {
	var handled []any
	l := New(
		WithSlowCallback(time.Nanosecond, func(time.Duration, string) { panic("hook") }),
		WithPanicHandler(func(v any) { handled = append(handled, v) }),
	)
	escaped := make(chan any, 4)
	ran := make(chan struct{})
	go func() { runCatching(l, escaped); close(ran) }()
	done := make(chan struct{})
	if err := l.Post(noop); err != nil {
		t.Fatal(err)
	}
	must(l.AfterFunc(0, noop))
	must(l.AfterFunc(time.Millisecond, func() { close(done) }))
	<-done
	do(t, l, func() {})
	select {
	case v := <-escaped:
		t.Errorf("the hook's panic escaped Run: %v", v)
	default:
	}
	var n int
	do(t, l, func() { n = len(handled) })
	if n < 3 {
		t.Errorf("the panic handler saw %d of the hook's panics, want one per callback (at least 3)", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	<-ran
}

// TestRunDuringShutdown (#11, item 10): what Run does while Shutdown is
// under way, as Run's doc and docs/GUARANTEES.md say. While Shutdown runs
// the loop itself, Run reports ErrRunning (someone runs it); once
// Shutdown's ctx has ended (the loop goes on shutting down, with no owner),
// Run takes the loop and runs it until the shutdown completes, then
// reports ErrClosed; after that, ErrClosed at once.
func TestRunDuringShutdown(t *testing.T) {
	l := New()
	release := make(chan struct{})
	if err := l.Post(func() { <-release }); err != nil {
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() { shut <- l.Shutdown(context.Background()) }() // no Run: Shutdown runs the loop
	for !l.running.Load() {
		runtime.Gosched()
	}
	if err := l.Run(context.Background()); err != ErrRunning {
		t.Errorf("Run while Shutdown runs the loop: %v, want ErrRunning", err)
	}
	close(release)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}

	l = New()
	fired := false
	must(l.AfterFunc(time.Millisecond, func() { fired = true }))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Shutdown gives up at once; the shutdown goes on without an owner
	if err := l.Shutdown(ctx); err != context.Canceled {
		t.Fatalf("Shutdown with an ended ctx: %v", err)
	}
	if err := l.Run(context.Background()); err != ErrClosed {
		t.Errorf("Run after Shutdown's ctx ended: %v, want ErrClosed once the shutdown completed", err)
	}
	if !fired {
		t.Error("Run returned before the pending timer Shutdown waits for had fired")
	}
	if err := l.Run(context.Background()); err != ErrClosed {
		t.Errorf("Run on a finished loop: %v, want ErrClosed", err)
	}
}

// TestZeroValuesSayWhatIsWrong (#11, item 8): a Loop or FakeClock not made
// by its constructor panics with a message naming the constructor, not a
// nil-pointer dereference; with WithDebug, Local() after Close says that no
// goroutine runs the loop.
func TestZeroValuesSayWhatIsWrong(t *testing.T) {
	const loopMsg = "hotloop: Loop not made by New"
	var zero Loop
	for name, f := range map[string]func(){
		"Post":      func() { zero.Post(noop) },
		"AfterFunc": func() { zero.AfterFunc(time.Second, noop) },
		"Every":     func() { zero.Every(time.Second, noop) },
		"At":        func() { zero.At(time.Now(), noop) },
		"Run":       func() { zero.Run(context.Background()) },
		"Close":     func() { zero.Close() },
		"Shutdown":  func() { zero.Shutdown(context.Background()) },
		"Do":        func() { zero.Do(context.Background(), noop) },
		"Done":      func() { zero.Done() },
		"Stats":     func() { zero.Stats() },
		"Health":    func() { zero.Health() },
		"Local":     func() { zero.Local().Post(noop) },
	} {
		t.Run(name, func(t *testing.T) { mustPanicWith(t, loopMsg, f) })
	}
	var tm Timer
	if err := tm.Init(&zero, noop); err == nil || err.Error() != "hotloop: Timer.Init: Loop not made by New" {
		t.Errorf("Timer.Init with the zero Loop: %v", err)
	}
	var zc FakeClock
	mustPanicWith(t, "hotloop: FakeClock not made by NewFakeClock", func() { zc.Advance(time.Second) })
	mustPanicWith(t, "hotloop: FakeClock not made by NewFakeClock", func() { New(WithClock(&zc)) })

	l := New(WithDebug())
	stop := start(t, l)
	stop()
	mustPanicWith(t, "hotloop: Local().Post called while no goroutine runs the loop", func() { l.Local().Post(noop) })
}

// TestFakeClockIgnoresSlack (#11, item 9): Advance fires every timer that
// falls due; WithSlack, which saves real wake-ups by rounding deadlines up,
// has none to save on virtual time. Before, a timer at 100 ms did not fire
// by 200 ms with a 1 s slack.
func TestFakeClockIgnoresSlack(t *testing.T) {
	l, clk, stop := startFake(t, WithSlack(time.Second))
	defer stop()
	fired := false
	must(l.AfterFunc(100*time.Millisecond, func() { fired = true }))
	clk.Advance(200 * time.Millisecond)
	do(t, l, func() {
		if !fired {
			t.Error("Advance past the deadline did not fire the timer")
		}
	})
}

// TestClosingReleasesTheLoopWhenAPanicEscapes (#11, item 4): a panic that
// escapes the panic handler while Close or Shutdown runs the loop itself
// (no Run), recovered by their caller, must not wedge the loop: a second
// Close finishes it, the accepted post after the panicking one runs, Done
// closes, and Run reports ErrClosed. Before, the second Close blocked
// forever. (The deadline only turns a hang into a failure.)
func TestClosingReleasesTheLoopWhenAPanicEscapes(t *testing.T) {
	for _, shutdown := range []bool{false, true} {
		t.Run(fmt.Sprintf("shutdown=%v", shutdown), func(t *testing.T) {
			l := New(WithPanicHandler(func(v any) { panic(v) }))
			ran := false
			if err := l.Post(func() { panic("boom") }); err != nil {
				t.Fatal(err)
			}
			if err := l.Post(func() { ran = true }); err != nil {
				t.Fatal(err)
			}
			escaped := func() (v any) {
				defer func() { v = recover() }()
				if shutdown {
					l.Shutdown(context.Background())
				} else {
					l.Close()
				}
				return nil
			}()
			if escaped == nil {
				t.Fatal("test premise: the handler's panic did not escape")
			}
			closed := make(chan error, 1)
			go func() { closed <- l.Close() }()
			select {
			case err := <-closed:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(time.Minute):
				t.Fatal("the second Close hung: the loop was left owned")
			}
			<-l.Done()
			if !ran {
				t.Error("the post accepted after the panicking one never ran")
			}
			if err := l.Run(context.Background()); err != ErrClosed {
				t.Errorf("Run after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// TestGoexitInACallbackReleasesTheLoop (#11, item 5): runtime.Goexit in a
// callback (what t.FailNow does) ends Run's goroutine without Run
// returning; the loop is released, and the remaining work — here a timer
// the callback had just pushed back with Local().Reset — runs at the next
// Run, at its new deadline, never before: release settles the relative
// deadline the callback left (timer.go, rule 6). Before, the next Run read
// the relative 5 s as an absolute deadline and fired the timer 2 s early.
func TestGoexitInACallbackReleasesTheLoop(t *testing.T) {
	clk := NewFakeClock()
	l := New(WithClock(clk))
	go l.Run(context.Background()) // its goroutine ends in Goexit below
	do(t, l, func() {})
	var fired []time.Duration
	t0 := clk.Now()
	var tm Timer
	if err := tm.Init(l, func() { fired = append(fired, clk.Since(t0)) }); err != nil {
		t.Fatal(err)
	}
	tm.Reset(3 * time.Second)
	clk.Advance(2 * time.Second)
	if err := l.Post(func() {
		l.Local().Reset(&tm, 5*time.Second) // due at 7 s
		runtime.Goexit()
	}); err != nil {
		t.Fatal(err)
	}
	for {
		clk.mu.Lock() // the owner changes under no lock; poll running
		owned := l.running.Load()
		clk.mu.Unlock()
		if !owned {
			break
		}
		runtime.Gosched()
	}
	got := rerunAdvanceClose(t, l, clk, 10*time.Second, &fired)
	if len(got) != 1 || got[0] != 7*time.Second {
		t.Fatalf("fired at %v, want [7s]: the Reset made before Goexit holds", got)
	}
}

// rerunAdvanceClose runs l again on a new goroutine after its first Run's
// goroutine ended in runtime.Goexit, advances clk by d, returns a copy of
// *fired taken on the loop, and closes l, checking that the second Run
// returns ErrClosed.
func rerunAdvanceClose(t *testing.T, l *Loop, clk *FakeClock, d time.Duration, fired *[]time.Duration) []time.Duration {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	for !l.running.Load() { // no callback before the timers: no Do here
		runtime.Gosched()
	}
	clk.Advance(d)
	var got []time.Duration
	do(t, l, func() { got = slices.Clone(*fired) })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != ErrClosed {
		t.Errorf("the second Run: %v, want ErrClosed", err)
	}
	return got
}

// TestInboxMemoryComesBackAfterABurst (#11, item 3): a burst of posts made
// while the loop was held goes through the inbox's overflow; once the loop
// has drained it, the memory comes back to within the documented bound
// (the ring, grown to at most 32 × WithInboxSize slots, plus an overflow
// buffer no larger than the ring). Before, the idle loop kept the whole
// burst's overflow buffer: about 40 MB after 10^6 posts.
func TestInboxMemoryComesBackAfterABurst(t *testing.T) {
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 200_000
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	l := New()
	stop := start(t, l)
	defer stop()
	before := heap()
	release := make(chan struct{})
	if err := l.Post(func() { <-release }); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := l.Post(noop); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	do(t, l, func() {})
	do(t, l, func() {})
	after := heap()
	// The documented bound (WithInboxSize): the ring at its largest (32 ×
	// the default 4096 slots) and an overflow buffer of as many, at 40
	// bytes a slot, with a quarter more for the rest.
	const bound = 2 * 32 * 4096 * 40 * 5 / 4
	if after > before && after-before > bound {
		t.Fatalf("the idle loop holds %d bytes more than before a burst of %d posts, want at most %d", after-before, n, bound)
	}
}

// TestFakeClockStopsAtTheLastDeadline (#11, item 9, second half): the
// documented behaviour of a FakeClock advanced past the latest deadline a
// timer can hold: it stops there, and a timer set for later is due at once.
func TestFakeClockStopsAtTheLastDeadline(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	t0 := clk.Now()
	clk.Advance(math.MaxInt64)
	if got := clk.Since(t0); got != time.Duration(maxWhen) {
		t.Fatalf("the clock moved %v, want it stopped at %v", got, time.Duration(maxWhen))
	}
	fired := false
	must(l.AfterFunc(time.Hour, func() { fired = true }))
	clk.Advance(0)
	do(t, l, func() {
		if !fired {
			t.Error("a timer set past the last deadline did not fire at it")
		}
	})
}
