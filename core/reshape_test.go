package core

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotloop/hotloop/queue"
)

// Tests from the adversarial pass on the #12 re-shape: the seams it moved.

// WithDebug: Close and Shutdown from other goroutines, with and without a
// Run in progress, must not trip assertLoop (finish, iterate, park run on
// whoever acquired the loop).
func TestDebugCloseShutdownOffLoop(t *testing.T) {
	cases := map[string]func(t *testing.T, l *Loop){
		"close-no-run": func(t *testing.T, l *Loop) {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		},
		"shutdown-no-run": func(t *testing.T, l *Loop) {
			if err := l.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		},
		"close-while-run": func(t *testing.T, l *Loop) {
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			done := make(chan error, 1)
			go func() { done <- l.Close() }()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
		},
		"shutdown-while-run": func(t *testing.T, l *Loop) {
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {})
			if err := l.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
		},
		"shutdown-ctx-then-close": func(t *testing.T, l *Loop) {
			// Shutdown whose ctx ends while a timer is pending, then Run
			// takes over, then Close from a third goroutine.
			if _, err := l.AfterFunc(time.Hour, func() {}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if err := l.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Shutdown: %v", err)
			}
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			time.Sleep(5 * time.Millisecond)
			go l.Close()
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			var panics atomic.Int64
			l := New(WithDebug(), WithPanicHandler(func(v any) { panics.Add(1); t.Errorf("panic: %v", v) }))
			for i := 0; i < 100; i++ {
				if err := l.Post(func() {}); err != nil {
					t.Fatal(err)
				}
			}
			f(t, l)
			<-l.Done()
		})
	}
}

// WithDebug + WithClock + Shutdown: Shutdown runs the loop on the calling
// goroutine while a pending one-shot timer is advanced by another.
func TestDebugClockShutdown(t *testing.T) {
	clk := NewFakeClock()
	l := New(WithDebug(), WithClock(clk))
	var fired atomic.Int64
	for i := 1; i <= 5; i++ {
		if _, err := l.AfterFunc(time.Duration(i)*time.Second, func() { fired.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Every(time.Second, func() {}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- l.Shutdown(context.Background()) }()
	for i := 0; i < 10; i++ {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
			if fired.Load() != 5 {
				t.Fatalf("fired %d, want 5", fired.Load())
			}
			return
		default:
		}
		clk.Advance(time.Second)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if fired.Load() != 5 {
		t.Fatalf("fired %d, want 5", fired.Load())
	}
}

// Health on a FakeClock across Stop/Run cycles and a Close from another
// goroutine: Busy and Idle never go down, Busy+Idle never exceeds the
// virtual time elapsed, and Utilization stays in [0, 1].
func TestHealthAcrossRunCycles(t *testing.T) {
	clk := NewFakeClock()
	l := New(WithClock(clk))
	var prev Health
	check := func(where string) {
		t.Helper()
		h := l.Health()
		if h.Busy < prev.Busy || h.Idle < prev.Idle {
			t.Fatalf("%s: went down: busy %v -> %v, idle %v -> %v", where, prev.Busy, h.Busy, prev.Idle, h.Idle)
		}
		if u := h.Utilization(&prev); u < 0 || u > 1 {
			t.Fatalf("%s: utilization %v", where, u)
		}
		if el := clk.Since(clk.start); h.Busy+h.Idle > el {
			t.Fatalf("%s: busy %v + idle %v > elapsed %v", where, h.Busy, h.Idle, el)
		}
		prev = *h
	}
	for cycle := 0; cycle < 5; cycle++ {
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		do(t, l, func() {})
		do(t, l, func() { clk.Advance(100 * time.Millisecond) }) // busy 100 ms
		check("running")
		clk.Advance(time.Second) // idle 1 s
		check("idle")
		l.Pause()
		if err := <-errc; err != nil {
			t.Fatalf("Run: %v", err)
		}
		check("stopped")
		clk.Advance(time.Second) // neither busy nor idle: no Run
		check("stopped+advance")
	}
	h := l.Health()
	if h.Busy != 500*time.Millisecond || h.Idle != 5*time.Second {
		t.Errorf("busy %v idle %v, want 500ms and 5s", h.Busy, h.Idle)
	}
	// Close from another goroutine while Run is parked.
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	do(t, l, func() {})
	clk.Advance(time.Second)
	go l.Close()
	if err := <-errc; err != ErrClosed {
		t.Fatalf("Run: %v", err)
	}
	check("closed")
	h = l.Health()
	if h.Idle != 6*time.Second {
		t.Errorf("idle %v after close, want 6s", h.Idle)
	}
}

// The ready queue: sampled and unsampled Local().Post, Post from other
// goroutines, panicking callbacks, all run exactly once, in order per
// source, and each sampled post is recorded in PostLag.
func TestReadyQueueSampledPanics(t *testing.T) {
	for _, every := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(every), func(t *testing.T) {
			var panics atomic.Int64
			l := New(WithLagSampling(every), WithPanicHandler(func(any) { panics.Add(1) }))
			stop := start(t, l)
			const n = 5000
			var got []int
			var mu sync.Mutex
			rec := func(i int) func() {
				return func() {
					mu.Lock()
					got = append(got, i)
					mu.Unlock()
					if i%7 == 3 {
						panic(i)
					}
				}
			}
			do(t, l, func() {
				for i := 0; i < n; i++ {
					if err := l.Local().Post(rec(i)); err != nil {
						t.Error(err)
					}
				}
			})
			do(t, l, func() {})
			mu.Lock()
			if len(got) != n {
				t.Fatalf("ran %d, want %d", len(got), n)
			}
			for i, v := range got {
				if v != i {
					t.Fatalf("position %d ran %d", i, v)
				}
			}
			mu.Unlock()
			if want := int64((n + 3) / 7); panics.Load() != want {
				t.Errorf("panics %d, want %d", panics.Load(), want)
			}
			h := l.Health()
			if want := uint64(n / every); h.PostLag.Count() < want {
				t.Errorf("PostLag count %d, want >= %d", h.PostLag.Count(), want)
			}
			stop()
		})
	}
}

// Close from inside a callback with sampled posts still queued: finish
// (popAny) runs them all, in order.
func TestCloseWithPendingSampledPosts(t *testing.T) {
	for _, every := range []int{1, 2, 3} {
		l := New(WithLagSampling(every), WithPanicHandler(func(any) {}))
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		var got []int
		do(t, l, func() {
			for i := 0; i < 1000; i++ {
				i := i
				l.Local().Post(func() {
					got = append(got, i)
					if i%5 == 0 {
						panic("x")
					}
				})
			}
			l.Close()
		})
		if err := <-errc; err != ErrClosed {
			t.Fatal(err)
		}
		if len(got) != 1000 {
			t.Fatalf("every %d: ran %d of 1000", every, len(got))
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("every %d: position %d ran %d", every, i, v)
			}
		}
	}
}

// Close with sampled Posts from other goroutines still in the inbox, and
// no Run: Close finishes the loop on its own goroutine.
func TestCloseNoRunSampledPosts(t *testing.T) {
	l := New(WithLagSampling(1), WithInboxSize(4))
	var n atomic.Int64
	for i := 0; i < 100; i++ {
		if err := l.Post(func() { n.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if n.Load() != 100 {
		t.Fatalf("ran %d of 100", n.Load())
	}
}

// drainAll with producers that reserved a slot before Close but publish
// it slowly: the inbox's stamp runs between reservation and publication,
// so a sleeping stamp holds a reserved, unpublished slot. Close must wait
// them out and lose nothing.
func TestDrainAllSlowProducers(t *testing.T) {
	for _, shutdown := range []bool{false, true} {
		l := New()
		var slow atomic.Int64
		l.inbox = queue.NewInbox(4, queue.WithGrowth[message](inboxGrowth),
			queue.WithStamp(1, func(m *message) {
				if slow.Load() != 0 {
					time.Sleep(20 * time.Millisecond)
				}
			}))
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		do(t, l, func() {})
		var ran, accepted atomic.Int64
		slow.Store(1)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if l.Post(func() { ran.Add(1) }) == nil {
						accepted.Add(1)
					}
				}
			}()
		}
		time.Sleep(5 * time.Millisecond)
		if shutdown {
			if err := l.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		} else {
			l.Close()
		}
		if err := <-errc; err != ErrClosed {
			t.Fatal(err)
		}
		wg.Wait()
		if ran.Load() != accepted.Load() {
			t.Fatalf("shutdown=%v: ran %d, accepted %d", shutdown, ran.Load(), accepted.Load())
		}
	}
}

// The futex parker under the race detector: many wake-ups from many
// goroutines with WithPrecise, timers and posts interleaved.
func TestPreciseRace(t *testing.T) {
	l := New(WithPrecise(), WithSpin(0))
	stop := start(t, l)
	var n atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				l.Post(func() { n.Add(1) })
				if i%100 == 0 {
					time.Sleep(50 * time.Microsecond)
					l.AfterFunc(time.Duration(i)*time.Microsecond, func() { n.Add(1) })
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() != 4*2000+4*20 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n.Load() != 4*2000+4*20 {
		t.Fatalf("ran %d", n.Load())
	}
	stop()
	runtime.GC()
}

// WithLagSampling(n <= 0) turns post-lag sampling off for Post (the
// inbox's WithStamp(0, ...)) and Local().Post alike; n = 1 samples every
// post of both kinds.
func TestLagSamplingOffAndAll(t *testing.T) {
	for _, n := range []int{0, -1, 1} {
		l := New(WithLagSampling(n), WithInboxSize(2))
		stop := start(t, l)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100; i++ {
					l.Post(func() {})
				}
			}()
		}
		wg.Wait()
		do(t, l, func() {
			for i := 0; i < 100; i++ {
				l.Local().Post(func() {})
			}
		})
		do(t, l, func() {})
		c := l.Health().PostLag.Count()
		stop()
		want := uint64(0)
		if n == 1 {
			want = 400 + 100 + 3 // the posts, and the Do requests (posts too)
		}
		if n == 1 && c < 500 || n != 1 && c != want {
			t.Errorf("WithLagSampling(%d): PostLag count %d, want %d", n, c, want)
		}
	}
}

// Sampled Post from other goroutines interleaved with sampled and
// unsampled Local().Post, WithSlowCallback (callbacks timed one by one)
// and panics: every callback runs once, per-source order holds.
func TestReadyQueueMixedSources(t *testing.T) {
	for _, slow := range []bool{false, true} {
		opts := []Option{WithLagSampling(2), WithPanicHandler(func(any) {}), WithInboxSize(8)}
		if slow {
			opts = append(opts, WithSlowCallback(time.Hour, func(time.Duration, string) {}))
		}
		l := New(opts...)
		stop := start(t, l)
		const G, N = 4, 2000
		last := make([]int, G+1)
		for i := range last {
			last[i] = -1
		}
		var count atomic.Int64
		var bad atomic.Value
		mk := func(src, i int) func() {
			return func() {
				if last[src] != i-1 {
					bad.Store(fmt.Sprintf("source %d: %d after %d", src, i, last[src]))
				}
				last[src] = i
				count.Add(1)
				if i%11 == 5 {
					panic("boom")
				}
			}
		}
		var wg sync.WaitGroup
		for g := 0; g < G; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < N; i++ {
					if err := l.Post(mk(g, i)); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		local := 0
		for k := 0; k < 20; k++ {
			do(t, l, func() {
				for j := 0; j < 100; j++ {
					l.Local().Post(mk(G, local))
					local++
				}
			})
		}
		wg.Wait()
		do(t, l, func() {})
		stop()
		if v := bad.Load(); v != nil {
			t.Fatal(v)
		}
		if count.Load() != G*N+2000 {
			t.Fatalf("ran %d, want %d", count.Load(), G*N+2000)
		}
	}
}
