package core

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestFaultPanicEveryNth: every 7th posted callback and every 5th timer
// callback panics; the handler sees each panic once, every other callback
// still runs exactly once and in order, and the loop goes on.
func TestFaultPanicEveryNth(t *testing.T) {
	var handled atomic.Int64
	l := New(WithPanicHandler(func(any) { handled.Add(1) }), WithInboxSize(16))
	stop := start(t, l)
	const producers, each = 8, 700
	next := make([]int, producers) // loop goroutine only
	var bad atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := l.Post(func() {
					if next[p] != i {
						bad.Add(1)
					}
					next[p] = i + 1
					if i%7 == 6 {
						panic("post")
					}
				}); err != nil {
					t.Errorf("Post: %v", err)
					return
				}
			}
		}()
	}
	var timersRan atomic.Int64
	const timers = 200
	for i := range timers {
		must(l.AfterFunc(time.Duration(i%3)*time.Microsecond, func() {
			timersRan.Add(1)
			if i%5 == 4 {
				panic("timer")
			}
		}))
	}
	wg.Wait()
	for timersRan.Load() < timers {
		do(t, l, func() {})
		time.Sleep(time.Millisecond) // waiting for real timers; correctness does not depend on it
	}
	do(t, l, func() {})
	stop()
	wantPanics := int64(producers*(each/7) + timers/5)
	if handled.Load() != wantPanics || l.Stats().Panics != uint64(wantPanics) {
		t.Errorf("panics handled %d, Stats.Panics %d, want %d", handled.Load(), l.Stats().Panics, wantPanics)
	}
	if bad.Load() != 0 {
		t.Errorf("%d callbacks out of order or duplicated", bad.Load())
	}
	for p := range next {
		if next[p] != each {
			t.Errorf("producer %d: %d of %d callbacks ran", p, next[p], each)
		}
	}
}

// TestFaultBlockingCallback: a callback blocks the loop for a long time
// while many goroutines post, schedule and Close; nothing is lost and
// nothing deadlocks once it returns.
func TestFaultBlockingCallback(t *testing.T) {
	l := New(WithInboxSize(8))
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	release := make(chan struct{})
	entered := make(chan struct{})
	if err := l.Post(func() { close(entered); <-release }); err != nil {
		t.Fatal(err)
	}
	<-entered
	const producers, each = 16, 500
	var accepted, ran atomic.Int64
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if i%10 == 0 {
					if _, err := l.AfterFunc(0, func() { ran.Add(1) }); err == nil {
						accepted.Add(1)
					}
					continue
				}
				if l.Post(func() { ran.Add(1) }) == nil {
					accepted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	closed := make(chan struct{})
	go func() { l.Close(); close(closed) }() // waits for the blocked callback
	select {
	case <-closed:
		t.Fatal("Close returned while a callback was still running")
	case <-time.After(10 * time.Millisecond): // a smoke check only; the assertion below does not depend on it
	}
	close(release)
	<-closed
	if err := <-errc; err != ErrClosed {
		t.Fatalf("Run: %v", err)
	}
	// Zero-delay timers still queued at Close are cancelled; posts all ran.
	if got, want := ran.Load()+int64(l.Stats().TimersCancelled), accepted.Load(); got != want {
		t.Fatalf("ran+cancelled = %d, accepted = %d", got, want)
	}
}

// TestFaultCallbackFloods: one callback posts thousands more through both
// paths and schedules thousands of timers; every one runs once, Local posts
// in order.
func TestFaultCallbackFloods(t *testing.T) {
	l := New(WithBatch(64))
	stop := start(t, l)
	defer stop()
	const n = 5000
	var localNext, remote, timers int
	done := make(chan struct{})
	do(t, l, func() {
		lc := l.Local()
		for i := range n {
			if err := lc.Post(func() {
				if localNext != i {
					t.Errorf("Local post %d ran after %d", i, localNext-1)
				}
				localNext = i + 1
			}); err != nil {
				t.Errorf("Local().Post: %v", err)
			}
			if err := l.Post(func() { remote++ }); err != nil {
				t.Errorf("Post from the loop: %v", err)
			}
			must(lc.AfterFunc(time.Duration(i%2), func() { timers++ }))
		}
		must(lc.AfterFunc(time.Millisecond, func() { close(done) }))
	})
	<-done
	do(t, l, func() {})
	if localNext != n || remote != n || timers != n {
		t.Fatalf("ran local %d, remote %d, timers %d; want %d each", localNext, remote, timers, n)
	}
}

// TestFaultCallbackControlsItsLoop: callbacks call Stop, Do, Close and
// Shutdown on their own loop. None deadlocks: Stop ends this Run after the
// iteration, Do runs inline, Close and Shutdown return at once and the loop
// finishes after running what was accepted.
func TestFaultCallbackControlsItsLoop(t *testing.T) {
	t.Run("Pause", func(t *testing.T) {
		l := New()
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		kept := false
		must(l.AfterFunc(0, func() {
			l.Pause()
			l.Local().Post(func() { kept = true })
		}))
		if err := <-errc; err != nil {
			t.Fatalf("Run after Stop from a timer callback: %v", err)
		}
		l.Close() // no Run: Close runs the kept callback here
		if !kept {
			t.Fatal("callback queued after Stop was lost")
		}
	})
	t.Run("Do", func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		order := ""
		done := make(chan struct{})
		must(l.AfterFunc(time.Microsecond, func() {
			order += "a"
			if err := l.Do(context.Background(), func() { order += "b" }); err != nil {
				t.Errorf("Do from a timer callback: %v", err)
			}
			order += "c"
			close(done)
		}))
		<-done
		if order != "abc" {
			t.Fatalf("Do from the loop did not run inline: %q", order)
		}
	})
	for _, how := range []string{"Close", "Shutdown"} {
		t.Run(how, func(t *testing.T) {
			l := New()
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			ranAfter, ranTimer, inline := false, false, false
			do(t, l, func() {
				must(l.Local().AfterFunc(time.Microsecond, func() { ranTimer = true }))
				l.Local().Post(func() {
					var err error
					if how == "Close" {
						err = l.Close()
					} else {
						err = l.Shutdown(context.Background())
					}
					if err != nil {
						t.Errorf("%s from a callback: %v", how, err)
					}
					if err := l.Post(func() {}); err != ErrClosed {
						t.Errorf("Post after %s: %v", how, err)
					}
					if err := l.Local().Post(func() {}); err != ErrClosed {
						t.Errorf("Local().Post after %s: %v", how, err)
					}
					// Do on a closing loop, from the loop: still inline.
					if err := l.Do(context.Background(), func() { inline = true }); err != nil {
						t.Errorf("Do after %s from the loop: %v", how, err)
					}
				})
				l.Local().Post(func() { ranAfter = true })
			})
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
			if !ranAfter || !inline {
				t.Fatalf("accepted callback ran=%v, inline Do ran=%v", ranAfter, inline)
			}
			if how == "Shutdown" && !ranTimer {
				t.Fatal("Shutdown from a callback did not wait for the pending timer")
			}
			if l.Close() != nil || l.Close() != nil {
				t.Fatal("Close after finish: non-nil")
			}
		})
	}
}

// TestFaultDoDuringClose: callbacks that run during Close's final pass may
// call Do: it runs inline on the finishing goroutine.
func TestFaultDoDuringClose(t *testing.T) {
	l := New()
	ran := false
	l.Post(func() {
		if err := l.Do(context.Background(), func() { ran = true }); err != nil {
			t.Errorf("Do during Close: %v", err)
		}
	})
	l.Close() // no Run: finishes here, running the callback
	if !ran {
		t.Fatal("Do inside Close's final pass did not run")
	}
}

// TestFaultTimersInThePast: At and AfterFunc with deadlines long gone fire
// at once, from both paths.
func TestFaultTimersInThePast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		time.Sleep(time.Hour)
		n := 0
		must(l.At(time.Now().Add(-30*time.Minute), func() { n++ }))
		must(l.At(time.Now().Add(-48*time.Hour), func() { n++ })) // before the loop existed
		must(l.AfterFunc(-time.Hour, func() { n++ }))
		do(t, l, func() {
			must(l.Local().At(time.Now().Add(-time.Minute), func() { n++ }))
			must(l.Local().AfterFunc(-time.Minute, func() { n++ }))
		})
		synctest.Wait()
		do(t, l, func() {})
		if n != 5 {
			t.Fatalf("%d of 5 past timers fired without time passing", n)
		}
	})
}

// TestFaultLifecycleMisuse: Stop before Run does nothing, Run after Close
// fails, Close and Shutdown twice and concurrently are fine.
func TestFaultLifecycleMisuse(t *testing.T) {
	l := New()
	l.Pause() // no Run: nothing to stop; must not poison the next Run
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	do(t, l, func() {})
	do(t, l, func() {}) // the Run is still going
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				err = l.Close()
			} else {
				err = l.Shutdown(context.Background())
			}
			if err != nil {
				t.Errorf("concurrent Close/Shutdown: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := <-errc; err != ErrClosed {
		t.Fatalf("Run: %v", err)
	}
	if err := l.Run(context.Background()); err != ErrClosed {
		t.Fatalf("Run after Close: %v", err)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after Close: %v", err)
	}
	l.Pause() // after Close: nothing
	if _, err := l.Every(time.Second, func() {}); err != ErrClosed {
		t.Fatalf("Every after Close: %v", err)
	}
	if err := l.Do(context.Background(), func() {}); err != ErrClosed {
		t.Fatalf("Do after Close: %v", err)
	}
}

// TestFaultCloseWhileRunReturns: Run returning (its ctx ends, or Stop)
// while Close or Shutdown is called from another goroutine must not leave
// the closer waiting for a loop that no one runs.
func TestFaultCloseWhileRunReturns(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	for i := range rounds {
		l := New()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- l.Run(ctx) }()
		do(t, l, func() {})
		ran := false
		must(l.AfterFunc(0, func() { ran = true })) // accepted: must run or be cancelled, never hang
		closed := make(chan error, 1)
		if i%2 == 0 {
			go cancel()
		} else {
			go l.Pause()
		}
		if i%4 < 2 {
			go func() { closed <- l.Close() }()
		} else {
			go func() { closed <- l.Shutdown(context.Background()) }()
		}
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("round %d: Close/Shutdown hung after Run returned", i)
		}
		if err := <-errc; err != nil && err != ErrClosed && !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: Run: %v", i, err)
		}
		_ = ran
		cancel()
	}
}

// TestFaultShutdownWithStopAndReset: timers stopped or reset while Shutdown
// is waiting for them. A stopped timer no longer holds Shutdown up; a reset
// one-shot timer still runs, at its new deadline.
func TestFaultShutdownWithStopAndReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		t0 := time.Now()
		stopped := must(l.AfterFunc(time.Hour, func() { t.Error("stopped timer ran") }))
		var resetRanAt time.Duration
		reset := must(l.AfterFunc(2*time.Hour, func() { resetRanAt = time.Since(t0) }))
		shut := make(chan error, 1)
		go func() { shut <- l.Shutdown(context.Background()) }()
		synctest.Wait() // Shutdown has begun: the inbox is closed
		if _, err := l.AfterFunc(time.Second, func() {}); err != ErrClosed {
			t.Fatalf("AfterFunc during Shutdown: %v", err)
		}
		if !stopped.Stop() {
			t.Fatal("Stop during Shutdown: false")
		}
		if !reset.Reset(time.Minute) {
			t.Fatal("Reset during Shutdown: false")
		}
		if err := <-shut; err != nil {
			t.Fatal(err)
		}
		if resetRanAt != time.Minute {
			t.Fatalf("reset timer ran at %v, want 1m", resetRanAt)
		}
		if d := time.Since(t0); d != time.Minute {
			t.Fatalf("Shutdown took %v, want 1m (the stopped timer must not hold it up)", d)
		}
		stop()
	})
}

// TestFaultStopWhileShutdownRunsTheLoop: Shutdown runs the loop itself when
// no Run does; a Stop meanwhile must not make it return nil early.
func TestFaultStopWhileShutdownRunsTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		ran := false
		must(l.AfterFunc(time.Second, func() { ran = true }))
		shut := make(chan error, 1)
		go func() { shut <- l.Shutdown(context.Background()) }()
		synctest.Wait() // Shutdown owns the loop, parked until the timer
		l.Pause()
		if err := <-shut; err != nil {
			t.Fatal(err)
		}
		select {
		case <-l.Done():
		default:
			t.Fatal("Shutdown returned nil but the loop has not finished")
		}
		if !ran {
			t.Fatal("Shutdown returned before the pending timer ran")
		}
	})
}
