package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPostRunsInOrderPerGoroutine(t *testing.T) {
	l := New(WithInboxSize(8)) // small: exercise the overflow path too
	stop := start(t, l)
	const producers, each = 8, 2000
	var mu sync.Mutex
	last := make([]int, producers)
	for i := range last {
		last[i] = -1
	}
	var bad []string
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := l.Post(func() {
					// Runs on the loop goroutine: no lock needed for last,
					// but bad is read by the test goroutine at the end.
					if last[p] != i-1 {
						mu.Lock()
						bad = append(bad, fmt.Sprintf("producer %d: got %d after %d", p, i, last[p]))
						mu.Unlock()
					}
					last[p] = i
				}); err != nil {
					t.Errorf("Post: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	do(t, l, func() {})
	stop()
	if len(bad) > 0 {
		t.Fatalf("out of order: %v", bad[:min(len(bad), 5)])
	}
	for p, v := range last {
		if v != each-1 {
			t.Errorf("producer %d: last callback %d, want %d", p, v, each-1)
		}
	}
}

func TestLocalPostRunsAfterQueuedCallbacks(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	var got []string
	do(t, l, func() {
		lc := l.Local()
		lc.Post(func() { got = append(got, "a") })
		lc.Post(func() {
			got = append(got, "b")
			lc.Post(func() { got = append(got, "d") })
		})
		lc.Post(func() { got = append(got, "c") })
	})
	do(t, l, func() {}) // d was queued by b, before this Do's callback
	if fmt.Sprint(got) != "[a b c d]" {
		t.Fatalf("order %v, want [a b c d]", got)
	}
}

// TestReadyQueueMixedEntriesKeepOrder: plain posts and sampled posts share
// the ready queue (plain posts in one ring, sampled ones in a second one,
// see readyQueue) and still run in the order they were queued, across the rings' growth, with every sampled post measured.
func TestReadyQueueMixedEntriesKeepOrder(t *testing.T) {
	l := New(WithLagSampling(4))
	stop := start(t, l)
	defer stop()
	const n = 5000
	var got []int
	before := l.Health().PostLag.Count()
	do(t, l, func() {
		lc := l.Local()
		for i := 0; i < n; i++ {
			if err := lc.Post(func() { got = append(got, i) }); err != nil {
				t.Errorf("Local().Post: %v", err)
			}
		}
	})
	do(t, l, func() {}) // queued behind all of the above
	if len(got) != n {
		t.Fatalf("%d callbacks ran, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("callback %d ran in position %d", v, i)
		}
	}
	// Local posts: every 4th is sampled.
	posts := uint64(n)
	if s := l.Health().PostLag.Count() - before; s < posts/4 || s > posts/4+3 {
		t.Errorf("%d posts sampled, want about %d", s, posts/4)
	}
}

func TestNilAndBadArguments(t *testing.T) {
	l := New()
	defer l.Close()
	for name, err := range map[string]error{
		"Post":      l.Post(nil),
		"Do":        l.Do(context.Background(), nil),
		"AfterFunc": second(l.AfterFunc(time.Second, nil)),
		"Every":     second(l.Every(time.Second, nil)),
		"At":        second(l.At(time.Now(), nil)),
	} {
		if !errors.Is(err, ErrNilFunc) {
			t.Errorf("%s(nil): %v, want ErrNilFunc", name, err)
		}
	}
	if _, err := l.Every(0, func() {}); !errors.Is(err, ErrBadPeriod) {
		t.Errorf("Every(0): %v, want ErrBadPeriod", err)
	}
	if _, err := l.Every(-time.Second, func() {}); !errors.Is(err, ErrBadPeriod) {
		t.Errorf("Every(-1s): %v, want ErrBadPeriod", err)
	}
	if _, err := l.At(time.Time{}, func() {}); err == nil {
		t.Errorf("At(zero time): nil error")
	}
}

func second[T any](_ T, err error) error { return err }

func TestRunTwiceConcurrently(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	do(t, l, func() {}) // Run is active now
	if err := l.Run(context.Background()); err != ErrRunning {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
}

// TestStopIsPause: the deprecated Loop.Stop pauses, as it always did; it
// neither cancels timers nor closes the loop.
func TestStopIsPause(t *testing.T) {
	l := New()
	defer l.Close()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	fired := make(chan struct{})
	if _, err := l.AfterFunc(time.Millisecond, func() { close(fired) }); err != nil {
		t.Fatal(err)
	}
	do(t, l, func() { l.Stop() })
	if err := <-errc; err != nil {
		t.Fatalf("Run after Stop: %v, want nil", err)
	}
	if err := l.Post(func() {}); err != nil {
		t.Fatalf("Post after Stop: %v, want it accepted", err)
	}
	go func() { errc <- l.Run(context.Background()) }()
	<-fired // the timer was kept
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != ErrClosed {
		t.Fatalf("Run after Close: %v", err)
	}
}

func TestPauseThenRunAgainKeepsWork(t *testing.T) {
	l := New()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	ran := make(chan int, 10)
	do(t, l, func() {
		l.Pause()
		// Queued in the same iteration: kept for the next Run.
		l.Local().Post(func() { ran <- 1 })
	})
	if err := <-errc; err != nil {
		t.Fatalf("Run after Pause: %v, want nil", err)
	}
	l.Post(func() { ran <- 2 })
	go func() { errc <- l.Run(context.Background()) }()
	if a, b := <-ran, <-ran; a != 1 || b != 2 {
		t.Fatalf("after restart ran %d, %d; want 1, 2", a, b)
	}
	l.Close()
	if err := <-errc; err != ErrClosed {
		t.Fatalf("Run after Close: %v", err)
	}
	if err := l.Run(context.Background()); err != ErrClosed {
		t.Fatalf("Run on closed loop: %v", err)
	}
}

func TestRunReturnsContextError(t *testing.T) {
	l := New()
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	do(t, l, func() {})
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
}

func TestDo(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	x := 0
	do(t, l, func() { x = 42 })
	if x != 42 {
		t.Fatalf("Do did not wait: x = %d", x)
	}
	// From inside a callback: runs inline instead of deadlocking.
	inner := false
	do(t, l, func() {
		if err := l.Do(context.Background(), func() { inner = true }); err != nil {
			t.Errorf("nested Do: %v", err)
		}
		if !inner {
			t.Errorf("nested Do did not run inline")
		}
	})
	// A panicking callback is reported.
	l2 := New(WithPanicHandler(func(any) {}))
	stop2 := start(t, l2)
	defer stop2()
	if err := l2.Do(context.Background(), func() { panic("boom") }); err == nil {
		t.Fatalf("Do of a panicking func: nil error")
	}
}

func TestDoContextEndsBeforeRun(t *testing.T) {
	l := New() // not running: the request waits in the inbox
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	ran := false
	if err := l.Do(ctx, func() { ran = true }); err != context.DeadlineExceeded {
		t.Fatalf("Do: %v, want DeadlineExceeded", err)
	}
	l.Close() // finishes on this goroutine, running accepted posts
	if ran {
		t.Fatalf("fn ran although Do reported the context error")
	}
	if err := l.Do(context.Background(), func() {}); err != ErrClosed {
		t.Fatalf("Do after Close: %v", err)
	}
}

func TestPanicGoesToHandlerAndLoopGoesOn(t *testing.T) {
	var got []any
	l := New(WithPanicHandler(func(v any) { got = append(got, v) }))
	stop := start(t, l)
	defer stop()
	after := false
	l.Post(func() { panic("first") })
	l.Post(func() { after = true })
	tm := must(l.AfterFunc(0, func() { panic("timer") }))
	_ = tm
	do(t, l, func() {})
	do(t, l, func() {})
	if len(got) != 2 || got[0] != "first" || got[1] != "timer" || !after {
		t.Fatalf("handler got %v, after=%v", got, after)
	}
	if s := statsWhen(l, func(s Stats) bool { return s.Panics == 2 }); s.Panics != 2 {
		t.Fatalf("Stats.Panics = %d, want 2", s.Panics)
	}
}

func TestCloseBeforeRunRunsAcceptedCallbacks(t *testing.T) {
	l := New()
	n := 0
	for i := 0; i < 100; i++ {
		if err := l.Post(func() { n++ }); err != nil {
			t.Fatal(err)
		}
	}
	tm := must(l.AfterFunc(time.Hour, func() { t.Error("cancelled timer ran") }))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Fatalf("Close ran %d of 100 accepted callbacks", n)
	}
	if tm.Stop() {
		t.Fatalf("Stop of a timer cancelled by Close reported true")
	}
	if err := l.Post(func() {}); err != ErrClosed {
		t.Fatalf("Post after Close: %v", err)
	}
	if _, err := l.AfterFunc(time.Second, func() {}); err != ErrClosed {
		t.Fatalf("AfterFunc after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if s := l.Stats(); s.TimersCancelled != 1 || s.Callbacks != 100 {
		t.Fatalf("stats %+v", s)
	}
}

// TestCloseLosesNothing: goroutines post callbacks and zero-delay timers as
// fast as they can while Close or Shutdown lands. Every post that returned
// nil ran exactly once, every other one returned ErrClosed; every accepted
// timer either ran or (Close only) was cancelled.
func TestCloseLosesNothing(t *testing.T) {
	for _, shutdown := range []bool{false, true} {
		t.Run(fmt.Sprintf("shutdown=%v", shutdown), func(t *testing.T) {
			l := New(WithInboxSize(64))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {}) // Run owns the loop
			const producers = 4
			// ran* are written on the loop goroutine, accepted* by producer p;
			// all are read after Run and the producers have returned.
			ranPosts, ranTimers := make([]int, producers), make([]int, producers)
			acceptedPosts, acceptedTimers := make([]int, producers), make([]int, producers)
			var wg sync.WaitGroup
			for p := 0; p < producers; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						if i%3 == 0 {
							_, err := l.AfterFunc(0, func() { ranTimers[p]++ })
							if err == ErrClosed {
								return
							}
							acceptedTimers[p]++
						} else {
							if l.Post(func() { ranPosts[p]++ }) == ErrClosed {
								return
							}
							acceptedPosts[p]++
						}
					}
				}()
			}
			time.Sleep(5 * time.Millisecond) // let them get going; correctness does not depend on it
			if shutdown {
				if err := l.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			} else {
				l.Close()
			}
			wg.Wait()
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
			timersRan, timersAccepted := 0, 0
			for p := range ranPosts {
				if ranPosts[p] != acceptedPosts[p] {
					t.Errorf("producer %d: %d posts accepted, %d ran", p, acceptedPosts[p], ranPosts[p])
				}
				timersRan += ranTimers[p]
				timersAccepted += acceptedTimers[p]
			}
			cancelled := int(l.Stats().TimersCancelled)
			if timersRan+cancelled != timersAccepted || (shutdown && cancelled != 0) {
				t.Errorf("timers: %d accepted, %d ran, %d cancelled", timersAccepted, timersRan, cancelled)
			}
		})
	}
}

func TestShutdownWaitsForTimersAndStopsPeriodic(t *testing.T) {
	l := New()
	stop := start(t, l)
	fired := make(chan struct{})
	must(l.AfterFunc(2*time.Millisecond, func() { close(fired) }))
	ticks := 0
	must(l.Every(time.Millisecond, func() { ticks++ }))
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fired:
	default:
		t.Fatal("Shutdown returned before the pending timer fired")
	}
	stop() // Close after Shutdown: nil, Run returned ErrClosed
}

func TestShutdownContextEnds(t *testing.T) {
	l := New()
	stop := start(t, l)
	must(l.AfterFunc(time.Hour, func() {}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := l.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
	stop() // Close cuts it short
}

func TestCloseFromCallback(t *testing.T) {
	l := New()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	ran := false
	gate := make(chan struct{})
	// The gate holds the loop until both posts below are accepted, so the
	// second is certainly accepted before Close runs.
	if err := l.Post(func() { <-gate }); err != nil {
		t.Fatal(err)
	}
	if err := l.Post(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close from callback: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := l.Post(func() { ran = true }); err != nil { // accepted before Close: runs
		t.Fatal(err)
	}
	close(gate)
	if err := <-errc; err != ErrClosed {
		t.Fatalf("Run: %v", err)
	}
	if !ran {
		t.Fatal("callback accepted before Close did not run")
	}
}

func TestLocalOutsideLoopPanics(t *testing.T) {
	l := New()
	defer l.Close()
	defer func() {
		if recover() == nil {
			t.Fatal("Local().Post outside the loop did not panic")
		}
	}()
	l.Local().Post(func() {})
}

func TestDebugCatchesLocalFromOtherGoroutine(t *testing.T) {
	l := New(WithDebug())
	stop := start(t, l)
	defer stop()
	do(t, l, func() {}) // running now
	defer func() {
		if recover() == nil {
			t.Error("WithDebug: Local().Post from another goroutine did not panic")
		}
	}()
	// WithDebug checks the goroutine before any loop-owned field is read, so
	// this misuse is caught without a data race.
	l.Local().Post(func() {})
}

// TestAssertLoopUnderDebug checks that WithDebug catches a Loop-goroutine-
// only function called from another goroutine, and that without it the
// check costs nothing more than a branch (no panic).
func TestAssertLoopUnderDebug(t *testing.T) {
	l := New(WithDebug())
	defer func() {
		v := recover()
		if s, _ := v.(string); !strings.HasPrefix(s, "hotloop: internal error: iterate called off the loop goroutine") {
			t.Fatalf("recovered %v, want the assertLoop panic", v)
		}
	}()
	New().assertLoop("iterate") // no WithDebug: no check
	l.iterate()
}
