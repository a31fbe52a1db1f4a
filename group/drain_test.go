package group

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hotloop/hotloop/core"
)

// holdLoop posts a callback to loop i that blocks until the returned
// release is called, and returns once it runs. run is called on loop i
// after the release, inside the same callback.
func holdLoop(t *testing.T, g *Group, i int, run func()) (release func()) {
	t.Helper()
	entered, rel := make(chan struct{}), make(chan struct{})
	if err := g.Loop(i).Post(func() {
		close(entered)
		<-rel
		run()
	}); err != nil {
		t.Fatal(err)
	}
	<-entered
	return sync.OnceFunc(func() { close(rel) })
}

// waitDraining returns once the group refuses posts: Shutdown has begun.
func waitDraining(t *testing.T, g *Group) {
	t.Helper()
	for g.Post(func() {}) != core.ErrClosed { // an accepted one runs, harmless
		time.Sleep(10 * time.Microsecond)
	}
	if err := g.PostKey(7, func() { t.Error("a post accepted while draining ran") }); err != core.ErrClosed {
		t.Fatalf("PostKey while draining: %v, want core.ErrClosed", err)
	}
}

// TestShutdownDrainsMessageChains: a callback accepted before Shutdown sets
// off a chain of 100 messages between two loops while Shutdown is under
// way; every message is accepted and runs before the loops finish. Before
// the drain, the first send returned core.ErrClosed: Shutdown closed every
// loop's lanes at once.
func TestShutdownDrainsMessageChains(t *testing.T) {
	g, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	on(t, g, 0, func() {})
	on(t, g, 1, func() {})

	const hops = 100
	ran := 0 // touched by the chain's callbacks only, one at a time
	sendErrs := make(chan error, hops)
	var hop func(at int)
	hop = func(at int) {
		if ran++; ran == hops {
			return
		}
		next := 1 - at
		sendErrs <- g.From(at).Send(next, func() { hop(next) })
	}
	release := holdLoop(t, g, 0, func() { hop(0) })
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	waitDraining(t, g)
	release()
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	close(sendErrs)
	for err := range sendErrs {
		if err != nil {
			t.Fatalf("a send during the drain: %v", err)
		}
	}
	if ran != hops {
		t.Fatalf("%d of %d hops ran", ran, hops)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Fatalf("Run: %v, want core.ErrClosed", err)
	}
}

// TestShutdownDeliversCallAnswers: a Call made while Shutdown is under way
// gets its answer on the caller's loop. Before the drain the Call itself
// was refused (or its answer dropped).
func TestShutdownDeliversCallAnswers(t *testing.T) {
	g, err := New(3)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	for i := range 3 {
		on(t, g, i, func() {})
	}
	answers := make(chan int, 3)
	callErrs := make(chan error, 3)
	var releases []func()
	for i := range 3 {
		to := (i + 1) % 3
		releases = append(releases, holdLoop(t, g, i, func() {
			callErrs <- Call(g.From(i), to, func() int { return to * 10 }, func(v int) { answers <- v })
		}))
	}
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	waitDraining(t, g)
	for _, r := range releases {
		r()
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	sum := 0
	for range 3 {
		if err := <-callErrs; err != nil {
			t.Fatalf("Call during the drain: %v", err)
		}
		sum += <-answers
	}
	if sum != 0+10+20 {
		t.Fatalf("answers sum to %d, want 30", sum)
	}
	<-errc
}

// TestShutdownAfterDrainRefusesTimerSends: what a one-shot timer sends
// after the drain meets loops that are shutting down: the send returns
// core.ErrClosed, and Shutdown still waits for the timer (a FakeClock
// drives it).
func TestShutdownAfterDrainRefusesTimerSends(t *testing.T) {
	clk := core.NewFakeClock()
	g, err := New(2, core.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	sent := make(chan error, 1)
	on(t, g, 0, func() {
		if _, err := g.Loop(0).Local().AfterFunc(time.Second, func() {
			sent <- g.From(0).Send(1, func() { t.Error("ran after the drain") })
		}); err != nil {
			t.Error(err)
		}
	})
	on(t, g, 1, func() {})
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	<-g.Loop(1).Done() // loop 1 has nothing left: it finishes after the drain
	clk.Advance(time.Second)
	if err := <-sent; err != core.ErrClosed {
		t.Fatalf("a timer's send after the drain: %v, want core.ErrClosed", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-errc
}

// TestShutdownDrainCutShortByCtx: a chain that never ends (each message
// sends the next) keeps the drain going; Shutdown returns ctx's error when
// ctx ends, and the loops go on shutting down: the chain's next send is
// refused, and the loops finish.
func TestShutdownDrainCutShortByCtx(t *testing.T) {
	g, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	stopped := make(chan error, 1)
	var hop func(at int)
	hop = func(at int) {
		if err := g.From(at).Send(1-at, func() { hop(1 - at) }); err != nil {
			stopped <- err
		}
	}
	on(t, g, 0, func() { hop(0) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	if err := <-stopped; err != core.ErrClosed {
		t.Fatalf("the chain ended with %v, want core.ErrClosed", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Fatalf("Run: %v, want core.ErrClosed", err)
	}
}

// TestShutdownWithoutRunDrains: with no Run, Shutdown runs the loops
// itself for the drain, and then shuts them down as a loop's Shutdown
// does: a callback accepted before sends to the other loop, and the
// message runs.
func TestShutdownWithoutRunDrains(t *testing.T) {
	g, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan int, 3)
	for i := range 2 {
		if err := g.Loop(i).Post(func() {
			ran <- i
			if i == 0 {
				if err := g.From(0).Send(1, func() { ran <- 2 }); err != nil {
					t.Errorf("Send: %v", err)
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if len(ran) != 3 {
		t.Fatalf("%d of 3 callbacks ran", len(ran))
	}
	if err := g.Run(context.Background()); err != core.ErrClosed {
		t.Fatalf("Run after Shutdown: %v, want core.ErrClosed", err)
	}
}

// TestShutdownDrainFromACallback: Shutdown from a callback returns nil at
// once and drains on its own goroutine; a chain that callback starts still
// arrives.
func TestShutdownDrainFromACallback(t *testing.T) {
	g, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	sent, arrived := make(chan error, 1), make(chan struct{})
	on(t, g, 1, func() {})
	on(t, g, 0, func() {
		if err := g.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown from a callback: %v", err)
		}
		sent <- g.From(0).Send(1, func() { close(arrived) })
	})
	if err := <-sent; err != nil {
		t.Fatalf("Send after Shutdown from a callback: %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Fatalf("Run: %v, want core.ErrClosed", err)
	}
	select {
	case <-arrived:
	default:
		t.Fatal("the message did not run before the loops finished")
	}
}

// TestShutdownRightAfterGoRun: Shutdown called just after `go g.Run(...)`,
// before Run has started the loops, still drains: a callback accepted
// before Shutdown sends 100 messages to another loop, and all are accepted
// and run. Before the fix the drain was skipped whenever Run had not yet
// started (187 of 200 runs in a new user's trial), and the sends returned
// core.ErrClosed.
func TestShutdownRightAfterGoRun(t *testing.T) {
	for range 50 {
		g, err := New(2)
		if err != nil {
			t.Fatal(err)
		}
		runErr := make(chan error, 1)
		go func() { runErr <- g.Run(context.Background()) }()
		refused, ran := 0, 0
		if err := g.PostKey(keyOn(g, 0), func() {
			for range 100 {
				if err := g.From(0).Send(1, func() { ran++ }); err != nil {
					refused++
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		if err := g.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		// Run ran the loops (core.ErrClosed), or Shutdown ran some of
		// them first (core.ErrRunning for those).
		if err := <-runErr; !errors.Is(err, core.ErrClosed) && !errors.Is(err, core.ErrRunning) {
			t.Fatalf("Run: %v, want core.ErrClosed or core.ErrRunning", err)
		}
		if refused != 0 || ran != 100 {
			t.Fatalf("%d sends refused and %d ran, want 0 and 100", refused, ran)
		}
	}
}

// keyOn returns a key that loop i owns.
func keyOn(g *Group, i int) uint64 {
	for k := uint64(0); ; k++ {
		if g.Index(k) == i {
			return k
		}
	}
}

// TestBoundedPostsRefusedWhileDraining: the group's bounded posts, the
// backpressure forms, refuse work from the moment Shutdown is called, as
// PostKey does, so feeders that use them stop feeding a draining group.
// Before, they existed only as g.For(key).PostWait and TryPost, which the
// drain does not refuse (a new user's trial fed a draining group 1.5–2.6
// million posts through them).
func TestBoundedPostsRefusedWhileDraining(t *testing.T) {
	g, err := New(2, core.WithInboxSize(4))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	on(t, g, 0, func() {})
	on(t, g, 1, func() {})
	ran := make(chan string, 4)
	ctx := context.Background()
	for _, post := range []func() error{
		func() error { return g.TryPostKey(1, func() { ran <- "TryPostKey" }) },
		func() error { return g.TryPostKeyString("a", func() { ran <- "TryPostKeyString" }) },
		func() error { return g.PostKeyWait(ctx, 2, func() { ran <- "PostKeyWait" }) },
		func() error { return g.PostKeyStringWait(ctx, "b", func() { ran <- "PostKeyStringWait" }) },
	} {
		if err := post(); err != nil {
			t.Fatalf("before Shutdown: %v", err)
		}
	}
	release := holdLoop(t, g, 0, func() {})
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(ctx) }()
	waitDraining(t, g)
	for name, post := range map[string]func() error{
		"TryPostKey":        func() error { return g.TryPostKey(1, func() { t.Error("ran") }) },
		"TryPostKeyString":  func() error { return g.TryPostKeyString("a", func() { t.Error("ran") }) },
		"PostKeyWait":       func() error { return g.PostKeyWait(ctx, 2, func() { t.Error("ran") }) },
		"PostKeyStringWait": func() error { return g.PostKeyStringWait(ctx, "b", func() { t.Error("ran") }) },
	} {
		if err := post(); err != core.ErrClosed {
			t.Errorf("%s while draining: %v, want core.ErrClosed", name, err)
		}
	}
	release()
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if len(ran) != 4 {
		t.Fatalf("%d of the 4 posts accepted before Shutdown ran", len(ran))
	}
	<-errc
}
