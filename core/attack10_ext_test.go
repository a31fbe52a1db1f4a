package core_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotloop/hotloop/core"
)

// Public API only: two goroutines call Run; the one that gets ErrRunning
// knows another Run is in progress and calls Pause. That Run must return
// nil. It does not when the Pause lands before Run's clearControl(ctlPause).
func TestAttackPauseAfterErrRunningIsLost(t *testing.T) {
	for i := 0; i < 1000; i++ {
		l := core.New()
		res := make(chan error, 2)
		start := make(chan struct{})
		for range 2 {
			go func() {
				<-start
				err := l.Run(context.Background())
				if errors.Is(err, core.ErrRunning) {
					l.Pause() // the other Run is in progress
				}
				res <- err
			}()
		}
		close(start)
		var errs []error
		for range 2 {
			select {
			case err := <-res:
				errs = append(errs, err)
			case <-time.After(20 * time.Second):
				l.Close()
				t.Fatalf("iteration %d: a Run in progress (the other Run got ErrRunning, then called Pause) did not return; got so far %v", i, errs)
			}
		}
		l.Close()
	}
}

func TestAttackPauseDuringShutdownAndClose(t *testing.T) {
	for _, opts := range [][]core.Option{nil, {core.WithPrecise()}} {
		for iter := 0; iter < 200; iter++ {
			l := core.New(opts...)
			var ran, posted atomic.Int64
			var fired atomic.Int64
			for i := 0; i < 20; i++ {
				if _, err := l.AfterFunc(time.Duration(i)*50*time.Microsecond, func() { fired.Add(1); l.Pause() }); err != nil {
					t.Fatal(err)
				}
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
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
					if l.Post(func() { ran.Add(1); l.Pause() }) == nil {
						posted.Add(1)
					}
				}
			}()
			runErr := make(chan error, 1)
			go func() {
				for {
					err := l.Run(context.Background())
					if err != nil {
						runErr <- err
						return
					}
				}
			}()
			time.Sleep(time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			var err error
			if iter%2 == 0 {
				err = l.Shutdown(ctx)
			} else {
				err = l.Close()
			}
			cancel()
			close(stop)
			wg.Wait()
			if err != nil {
				t.Fatalf("iter %d: Shutdown/Close: %v", iter, err)
			}
			select {
			case e := <-runErr:
				if !errors.Is(e, core.ErrClosed) && !errors.Is(e, core.ErrRunning) {
					t.Fatalf("Run: %v", e)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run goroutine did not end")
			}
			if ran.Load() != posted.Load() {
				t.Fatalf("iter %d: ran %d, posted %d", iter, ran.Load(), posted.Load())
			}
			if iter%2 == 0 && fired.Load() != 20 {
				t.Fatalf("iter %d: Shutdown: %d of 20 timers fired", iter, fired.Load())
			}
		}
	}
}

func TestAttackPauseFakeClock(t *testing.T) {
	clk := core.NewFakeClock()
	l := core.New(core.WithClock(clk))
	n := 0
	tm, _ := l.Every(time.Second, func() { n++; l.Pause() })
	for i := 1; i <= 50; i++ {
		done := make(chan error, 1)
		go func() { done <- l.Run(context.Background()) }()
		clk.Advance(time.Second)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: Run did not return after a Pause from the ticker", i)
		}
		if n != i {
			t.Fatalf("round %d: ticks %d", i, n)
		}
	}
	tm.Stop()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
