package core

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Adversarial pass on #16 (Loop.Pause).

// A Pause called once Run is in progress (running is true) must make that
// Run return nil. Run clears ctlPause after acquiring the loop, so a Pause
// that lands between acquire and that clear is lost and Run goes on.
func TestAttackPauseWhileRunStartsIsLost(t *testing.T) {
	for _, withClock := range []bool{false, true} {
		lost := 0
		for i := 0; i < 1000 && lost == 0; i++ {
			var l *Loop
			if withClock {
				l = New(WithClock(NewFakeClock()))
			} else {
				l = New()
			}
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			for !l.running.Load() {
			}
			l.Pause() // Run is in progress: running is true
			select {
			case err := <-errc:
				if err != nil {
					t.Fatalf("Run after Pause: %v, want nil", err)
				}
			case <-time.After(20 * time.Second):
				lost++
				t.Errorf("clock=%v iteration %d: Pause called while Run was in progress (running=true) was lost: Run did not return", withClock, i)
			}
			l.Close()
		}
	}
}

// Pause from many goroutines against repeated Runs and posts: every post
// accepted runs exactly once, Run returns nil or (after Close) ErrClosed.
func TestAttackPauseStorm(t *testing.T) {
	l := New()
	var ran atomic.Int64
	var posted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				l.Pause()
				if l.Post(func() { ran.Add(1) }) == nil {
					posted.Add(1)
				}
				runtime.Gosched()
			}
		}()
	}
	// Pause from a timer callback, re-armed.
	var tm *Timer
	tm, err := l.AfterFunc(time.Microsecond, func() { l.Pause(); tm.Reset(time.Microsecond) })
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	runs := 0
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		err := l.Run(ctx)
		cancel()
		if err != nil && err != context.DeadlineExceeded {
			t.Fatalf("Run: %v", err)
		}
		runs++
	}
	close(stop)
	wg.Wait()
	tm.Stop()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Run(context.Background()); err != ErrClosed {
		t.Fatalf("Run after Close: %v", err)
	}
	if ran.Load() != posted.Load() {
		t.Fatalf("ran %d, posted %d", ran.Load(), posted.Load())
	}
	t.Logf("runs %d posts %d", runs, posted.Load())
}
