package group

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hotloop/hotloop/core"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startGroup runs g on a goroutine and returns a function that closes it
// and checks that Run returned core.ErrClosed.
func startGroup(t testing.TB, g *Group) (stop func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	for i := range g.Len() { // every loop is owned by Run from here on
		if err := g.Loop(i).Do(context.Background(), func() {}); err != nil {
			t.Fatalf("Do on loop %d: %v", i, err)
		}
	}
	return func() {
		t.Helper()
		if err := g.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-errc; err != core.ErrClosed {
			t.Errorf("Run returned %v, want core.ErrClosed itself", err)
		}
	}
}

func TestNewSizes(t *testing.T) {
	g, err := New(0)
	if err != nil || g.Len() != runtime.GOMAXPROCS(0) {
		t.Fatalf("New(0) = %v loops, %v; want GOMAXPROCS = %d", g.Len(), err, runtime.GOMAXPROCS(0))
	}
	if err := g.Close(); err != nil {
		t.Errorf("Close of a group never run: %v", err)
	}
	for _, n := range []int{-1, MaxLoops + 1} {
		if g, err := New(n); err == nil || g != nil || !strings.HasPrefix(err.Error(), "hotloop: group.New: ") {
			t.Errorf("New(%d) = %v, %v; want a nil group and an error starting %q", n, g, err, "hotloop: group.New: ")
		}
	}
}

// TestPostKeyRunsOnTheKeysLoop: work posted for a key runs on the loop For
// returns, in the order posted; WithDebug makes Local panic anywhere else.
func TestPostKeyRunsOnTheKeysLoop(t *testing.T) {
	g, err := New(4, core.WithDebug())
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	defer stop()
	const keys, per = 64, 50
	seen := make([][]int, keys) // per key: written only by the key's loop
	var wrong atomic.Int64
	var wg sync.WaitGroup
	wg.Add(keys * per)
	for i := range per {
		for k := range uint64(keys) {
			err := g.PostKey(k, func() {
				defer wg.Done()
				if !onLoop(g.For(k)) || onLoop(g.Loop((g.Index(k)+1)%g.Len())) { // on its own loop, and so on no other
					wrong.Add(1)
					return
				}
				seen[k] = append(seen[k], i)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	if wrong.Load() != 0 {
		t.Fatalf("%d callbacks ran on another loop than their key's", wrong.Load())
	}
	for k := range seen {
		for i, v := range seen[k] {
			if v != i {
				t.Fatalf("key %d: posts ran out of order: %v", k, seen[k])
			}
		}
	}
}

// TestPostRoundRobin: n keyless posts go one to each loop.
func TestPostRoundRobin(t *testing.T) {
	g, err := New(3, core.WithDebug())
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	defer stop()
	counts := make([]atomic.Int64, g.Len())
	var wg sync.WaitGroup
	for range 3 * g.Len() {
		wg.Add(1)
		if err := g.Post(func() { defer wg.Done(); counts[loopOf(g)].Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for i := range counts {
		if c := counts[i].Load(); c != 3 {
			t.Errorf("loop %d ran %d keyless posts, want 3", i, c)
		}
	}
}

// onLoop reports whether the caller is a callback on l, for a loop built
// WithDebug: a method of Local panics on any other goroutine. (On l, it
// posts one empty callback.)
func onLoop(l *core.Loop) (ok bool) {
	defer func() { ok = recover() == nil }()
	l.Local().Post(func() {})
	return
}

// loopOf returns the index of the loop whose callback calls it, or -1, on a
// group built WithDebug.
func loopOf(g *Group) int {
	for i := range g.Len() {
		if onLoop(g.Loop(i)) {
			return i
		}
	}
	return -1
}

// TestRunErrors: Run returns each distinct error once: a done ctx's error
// (the loops keep their work, and Run runs them again), ErrRunning for a
// second Run, ErrGoexit with the ctx's error when a callback ended a
// loop's goroutine.
func TestRunErrors(t *testing.T) {
	g, err := New(3)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Run(ctx) }()
	for i := range g.Len() {
		if err := g.Loop(i).Do(context.Background(), func() {}); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Run(context.Background()); err != core.ErrRunning {
		t.Errorf("a second Run: %v, want core.ErrRunning itself", err)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Errorf("Run after cancel: %v, want context.Canceled itself", err)
	}
	ran := make(chan struct{})
	if err := g.PostKey(7, func() { close(ran) }); err != nil { // kept until the next Run
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { errc <- g.Run(ctx) }()
	<-ran
	if err := g.Loop(1).Do(context.Background(), func() {}); err != nil {
		t.Fatal(err)
	}
	exiting := make(chan struct{})
	if err := g.Loop(1).Post(func() { close(exiting); runtime.Goexit() }); err != nil {
		t.Fatal(err)
	}
	<-exiting // loop 1's goroutine is ending: whatever ctx does now
	cancel()
	err = <-errc
	if !errors.Is(err, ErrGoexit) || !errors.Is(err, context.Canceled) {
		t.Errorf("Run after a Goexit: %v, want ErrGoexit and context.Canceled joined", err)
	}
}

// TestShutdownRunsPendingTimersOnEveryLoop: one FakeClock drives every
// loop; Shutdown returns once every loop's one-shot timers have fired.
func TestShutdownRunsPendingTimersOnEveryLoop(t *testing.T) {
	clk := core.NewFakeClock()
	g, err := New(4, core.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	t0 := clk.Now()
	fired := make([]time.Duration, 16) // slot k written by key k's loop only
	for k := range uint64(16) {
		d := time.Duration(k+1) * time.Millisecond
		if _, err := g.For(k).AfterFunc(d, func() { fired[k] = clk.Since(t0) }); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(8 * time.Millisecond)
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	clk.Advance(8 * time.Millisecond)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v, want core.ErrClosed", err)
	}
	for k, at := range fired {
		if want := time.Duration(k+1) * time.Millisecond; at != want {
			t.Errorf("key %d's timer fired at %v, want %v", k, at, want)
		}
	}
	if err := g.PostKey(1, func() {}); err != core.ErrClosed {
		t.Errorf("PostKey after Shutdown: %v, want core.ErrClosed", err)
	}
}

// TestShutdownCtxEnds: a Shutdown whose ctx ends while timers are pending
// on every loop returns the ctx's error once; Close then ends it.
func TestShutdownCtxEnds(t *testing.T) {
	clk := core.NewFakeClock()
	g, err := New(3, core.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	for i := range g.Len() {
		if _, err := g.Loop(i).AfterFunc(time.Hour, func() {}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Shutdown(ctx); err != context.Canceled {
		t.Errorf("Shutdown with a done ctx: %v, want context.Canceled itself", err)
	}
	stop()
}

// TestHealthTotals: the group's Health is the sum of its loops'.
func TestHealthTotals(t *testing.T) {
	g, err := New(3, core.WithLagSampling(1))
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	var wg sync.WaitGroup
	for k := range uint64(30) {
		wg.Add(1)
		if err := g.PostKey(k, wg.Done); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	stop()
	h := g.Health()
	if len(h.Loops) != 3 {
		t.Fatalf("%d loops in Health, want 3", len(h.Loops))
	}
	var callbacks uint64
	for _, lh := range h.Loops {
		callbacks += lh.Callbacks
	}
	if h.Callbacks != callbacks || h.Callbacks < 30 || h.PostLag.Count() < 30 {
		t.Errorf("totals: %d callbacks (loops: %d), %d post lags; want the loops' sum, at least 30 each", h.Callbacks, callbacks, h.PostLag.Count())
	}
}

func TestJoinDistinct(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	for _, c := range []struct {
		in   []error
		want string
	}{
		{nil, "<nil>"},
		{[]error{nil, nil}, "<nil>"},
		{[]error{a, a, nil}, "a"},
		{[]error{a, b, a}, "a\nb"},
	} {
		if got := fmt.Sprint(joinDistinct(c.in)); got != c.want {
			t.Errorf("joinDistinct(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCloseAndShutdownFromACallback: Close or Shutdown called from a
// callback on one of the group's loops — or from callbacks on two loops at
// once — returns nil at once and the whole group finishes; before the fix
// each waited for its own loop and hung (found by a new-user trial).
func TestCloseAndShutdownFromACallback(t *testing.T) {
	for _, how := range []string{"close", "shutdown", "two loops close"} {
		t.Run(how, func(t *testing.T) {
			g, err := New(3)
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- g.Run(context.Background()) }()
			for i := range g.Len() {
				if err := g.Loop(i).Do(context.Background(), func() {}); err != nil {
					t.Fatal(err)
				}
			}
			res := make(chan error, 2)
			call := func() error {
				if how == "shutdown" {
					return g.Shutdown(context.Background())
				}
				return g.Close()
			}
			posts := 1
			if how == "two loops close" {
				posts = 2
			}
			// Both loops are held until both calls are posted: else the
			// first call could close loop 1 before the second is posted.
			gate := make(chan struct{})
			for i := range posts {
				if err := g.Loop(i).Post(func() { <-gate }); err != nil {
					t.Fatal(err)
				}
				if err := g.Loop(i).Post(func() { res <- call() }); err != nil {
					t.Fatal(err)
				}
			}
			close(gate)
			for range posts {
				if err := <-res; err != nil {
					t.Errorf("from a callback: %v, want nil", err)
				}
			}
			if err := <-errc; err != core.ErrClosed {
				t.Errorf("Run: %v, want core.ErrClosed", err)
			}
			for i := range g.Len() {
				<-g.Loop(i).Done() // every loop finished
			}
			if err := g.Close(); err != nil {
				t.Errorf("Close afterwards: %v", err)
			}
		})
	}
}

// TestCurrent: Current names the loop a callback runs on, and nothing off
// the loops.
func TestCurrent(t *testing.T) {
	g, err := New(3)
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	defer stop()
	if i, ok := g.Current(); ok || i != -1 {
		t.Errorf("Current off the loops = %d, %v; want -1, false", i, ok)
	}
	for want := range g.Len() {
		var got int
		var ok bool
		if err := g.Loop(want).Do(context.Background(), func() { got, ok = g.Current() }); err != nil {
			t.Fatal(err)
		}
		if got != want || !ok {
			t.Errorf("Current on loop %d = %d, %v", want, got, ok)
		}
	}
}

// TestKeyIndexPanicsWithoutLoops: KeyIndex(k, n) for n < 1 panics with a
// message that says so, rather than return an index into nothing.
func TestKeyIndexPanicsWithoutLoops(t *testing.T) {
	for _, n := range []int{0, -1} {
		func() {
			defer func() {
				if v, _ := recover().(string); !strings.HasPrefix(v, "hotloop: group.KeyIndex: ") {
					t.Errorf("KeyIndex(1, %d) panicked with %q", n, v)
				}
			}()
			KeyIndex(1, n)
		}()
	}
}

// TestHealthUtilization: the group's Utilization between two snapshots,
// and since creation with a nil prev.
func TestHealthUtilization(t *testing.T) {
	clk := core.NewFakeClock()
	g, err := New(2, core.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	clk.Advance(time.Second) // both idle 1 s
	prev := g.Health()
	if err := g.Loop(0).Post(func() { clk.Advance(time.Second) }); err != nil { // loop 0 busy 1 s, loop 1 idle
		t.Fatal(err)
	}
	clk.Advance(0)
	stop()
	h := g.Health()
	if u := h.Utilization(prev); u < 0.45 || u > 0.55 {
		t.Errorf("Utilization over the busy second = %v, want about 0.5 (one loop of two busy)", u)
	}
	if u := h.Utilization(nil); u < 0.2 || u > 0.3 {
		t.Errorf("Utilization since creation = %v, want about 0.25", u)
	}
}

// TestZeroGroupPanicsClearly: a Group not made by New says so, rather than
// divide by zero or return at once from Run.
func TestZeroGroupPanicsClearly(t *testing.T) {
	var g Group
	for name, f := range map[string]func(){
		"Run":      func() { g.Run(context.Background()) },
		"Close":    func() { g.Close() },
		"Shutdown": func() { g.Shutdown(context.Background()) },
		"Post":     func() { g.Post(func() {}) },
		"Health":   func() { g.Health() },
	} {
		func() {
			defer func() {
				if v, _ := recover().(string); !strings.HasPrefix(v, "hotloop: group: ") {
					t.Errorf("%s on a zero Group panicked with %q", name, v)
				}
			}()
			f()
		}()
	}
}
