package group

// Attack tests for core.WithBusyPoll in a Group (commit d99ad16): loops
// that poll and answer each other through Send and Call, closed, shut
// down, stopped and cancelled from outside and from their own callbacks
// at any moment. Assertions are ordering, exactly-once, never-early (a
// loop's clock against a deadline it computed) and termination; pollWait
// only turns a hang into a failure that says what hung.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotloop/hotloop/core"
)

// pollConfigs are the option sets of the polling groups.
func pollConfigs() []struct {
	name string
	opts []core.Option
} {
	return []struct {
		name string
		opts []core.Option
	}{
		{"precise+poll50us", []core.Option{core.WithPrecise(), core.WithBusyPoll(50 * time.Microsecond)}},
		{"poll50us", []core.Option{core.WithBusyPoll(50 * time.Microsecond)}},
		{"precise+pollHour", []core.Option{core.WithPrecise(), core.WithBusyPoll(time.Hour)}},
		{"precise+pollMaxInt64+adaptive", []core.Option{core.WithPrecise(), core.WithBusyPoll(math.MaxInt64), core.WithAdaptiveSpin()}},
		{"precise+poll200us+spin+slack", []core.Option{core.WithPrecise(), core.WithBusyPoll(200 * time.Microsecond), core.WithSpin(100 * time.Microsecond), core.WithSlack(300 * time.Microsecond)}},
	}
}

// pollWait waits for ch, failing with what after a minute (a hang
// detector, not a timing assertion).
func pollWait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("hung: %s", what)
	}
	var zero T
	return zero
}

func pollGo(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

// pollStart runs g and waits until every loop is owned by Run.
func pollStart(t *testing.T, g *Group, ctx context.Context) <-chan error {
	t.Helper()
	t.Cleanup(func() { _ = g.Close() }) // a failed test leaves no loop polling behind it
	runErr := pollGo(func() error { return g.Run(ctx) })
	for i := range g.Len() {
		if err := g.Loop(i).Do(context.Background(), func() {}); err != nil {
			t.Fatalf("Do on loop %d: %v", i, err)
		}
	}
	return runErr
}

// TestAttackPollPingPongExactlyOnce: a ball bounced between two polling
// loops with Call (fn on the other loop, reply back) and Send, thousands of
// hops, each hop exactly once and in order; each loop also arms a timer
// from a callback at every tenth hop, which fires never early.
func TestAttackPollPingPongExactlyOnce(t *testing.T) {
	for _, cfg := range pollConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			g, err := New(2, cfg.opts...)
			if err != nil {
				t.Fatal(err)
			}
			runErr := pollStart(t, g, context.Background())
			const hops = 3000
			next := 0 // the next hop expected; hops run one at a time, each sent by the one before
			var bad atomic.Value
			var early atomic.Value
			var timers sync.WaitGroup
			finished := make(chan struct{})
			var bounce func(from, n int)
			bounce = func(from, n int) {
				to := 1 - from
				var err error
				if n%2 == 0 {
					err = Call(g.From(from), to, func() int {
						if next != n {
							bad.CompareAndSwap(nil, fmt.Sprintf("loop %d: hop %d, want %d", to, n, next))
						}
						next++
						return n
					}, func(m int) {
						if m+1 == hops {
							close(finished)
							return
						}
						bounce(from, m+1) // back on from: the next hop goes out again
					})
				} else {
					err = g.From(from).Send(to, func() {
						if next != n {
							bad.CompareAndSwap(nil, fmt.Sprintf("loop %d: hop %d, want %d", to, n, next))
						}
						next++
						if n%10 == 1 {
							l := g.Loop(to)
							d := time.Duration(n%7) * 40 * time.Microsecond
							timers.Add(1)
							due := time.Now().Add(d)
							if _, err := l.Local().At(due, func() {
								defer timers.Done()
								if now := time.Now(); now.Before(due) {
									early.CompareAndSwap(nil, fmt.Sprintf("timer fired %v early", due.Sub(now)))
								}
							}); err != nil {
								timers.Done()
							}
						}
						if n+1 == hops {
							close(finished)
							return
						}
						bounce(to, n+1)
					})
				}
				if err != nil {
					bad.CompareAndSwap(nil, fmt.Sprintf("send %d: %v", n, err))
				}
			}
			if err := g.Loop(0).Post(func() { bounce(0, 0) }); err != nil {
				t.Fatal(err)
			}
			pollWait(t, finished, "the ping-pong")
			tw := make(chan struct{})
			go func() { timers.Wait(); close(tw) }()
			pollWait(t, tw, "the timers")
			if v := bad.Load(); v != nil {
				t.Fatal(v)
			}
			if v := early.Load(); v != nil {
				t.Fatal(v)
			}
			if err := pollWait(t, pollGo(g.Close), "Close"); err != nil {
				t.Fatal(err)
			}
			if err := pollWait(t, runErr, "Run"); !errors.Is(err, core.ErrClosed) {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}

// TestAttackPollStopAtAnyMoment: an endless exchange between two polling
// loops (each side sends on as long as Send succeeds) is ended at a random
// moment by Close or Shutdown from outside, Close or Shutdown from a
// callback, or a cancelled ctx (then Run again, then Close). Every ending
// terminates, and every message whose Send returned nil ran exactly once.
// Shutdown gets a deadline: its drain waits for an exchange that never
// ends until its ctx ends (group.Shutdown's doc).
func TestAttackPollStopAtAnyMoment(t *testing.T) {
	for _, cfg := range pollConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			for round := range 10 {
				g, err := New(2, cfg.opts...)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				runErr := pollStart(t, g, ctx)
				var sent, ran atomic.Int64
				var halt atomic.Bool
				var volley func(from int)
				volley = func(from int) {
					if halt.Load() {
						return
					}
					to := 1 - from
					if g.From(from).Send(to, func() {
						ran.Add(1)
						volley(to)
					}) == nil {
						sent.Add(1)
					}
				}
				for i := range 2 {
					if err := g.Loop(i).Post(func() { volley(i) }); err != nil {
						t.Fatal(err)
					}
				}
				switch r.IntN(4) {
				case 0:
				case 1:
					time.Sleep(20 * time.Microsecond)
				case 2:
					time.Sleep(time.Millisecond)
				case 3:
					time.Sleep(5 * time.Millisecond)
				}
				mode := round % 5
				switch mode {
				case 0: // Close from outside
					if err := pollWait(t, pollGo(g.Close), "Close"); err != nil {
						t.Fatal(err)
					}
				case 1: // Shutdown from outside. The exchange never ends, so
					// Shutdown's drain waits for it until its ctx ends
					// (documented); the loops then shut down, refusing
					// the next send.
					sctx, scancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
					if err := pollWait(t, pollGo(func() error { return g.Shutdown(sctx) }), "Shutdown"); err != nil && !errors.Is(err, context.DeadlineExceeded) {
						t.Fatal(err)
					}
					scancel()
				case 2: // Close from a callback
					if err := g.Loop(round % 2).Post(func() { _ = g.Close() }); err != nil {
						t.Fatal(err)
					}
				case 3: // Shutdown from a callback, with a deadline for the drain (as in case 1)
					sctx, scancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
					defer scancel()
					if err := g.Loop(round % 2).Post(func() { _ = g.Shutdown(sctx) }); err != nil {
						t.Fatal(err)
					}
				case 4: // cancelled ctx, Run again, then Close
					halt.Store(true)
					cancel()
					if err := pollWait(t, runErr, "Run after cancel"); !errors.Is(err, context.Canceled) {
						t.Fatalf("Run after cancel: %v", err)
					}
					runErr = pollStart(t, g, context.Background())
					if err := pollWait(t, pollGo(g.Close), "Close"); err != nil {
						t.Fatal(err)
					}
				}
				if err := pollWait(t, runErr, fmt.Sprintf("Run (mode %d)", mode)); !errors.Is(err, core.ErrClosed) {
					t.Fatalf("Run (mode %d): %v", mode, err)
				}
				cancel()
				for i := range 2 {
					pollWait(t, g.Loop(i).Done(), fmt.Sprintf("loop %d done", i))
				}
				if s, rn := sent.Load(), ran.Load(); s != rn {
					t.Fatalf("mode %d: %d sends accepted, %d ran", mode, s, rn)
				}
			}
		})
	}
}

// TestAttackPollShutdownWaitsForTimers: Shutdown from outside of a group
// whose loops hold timers inside and beyond their poll: every timer fires
// once, never early, and Shutdown ends; Sends after it report ErrClosed.
func TestAttackPollShutdownWaitsForTimers(t *testing.T) {
	for _, cfg := range pollConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			g, err := New(2, cfg.opts...)
			if err != nil {
				t.Fatal(err)
			}
			runErr := pollStart(t, g, context.Background())
			const n = 20
			var fired atomic.Int64
			var early atomic.Value
			for i := range n {
				d := time.Duration(i%5) * 150 * time.Microsecond
				due := time.Now().Add(d)
				if _, err := g.Loop(i%2).At(due, func() {
					fired.Add(1)
					if now := time.Now(); now.Before(due) {
						early.CompareAndSwap(nil, fmt.Sprintf("fired %v early", due.Sub(now)))
					}
				}); err != nil {
					t.Fatal(err)
				}
			}
			if err := pollWait(t, pollGo(func() error { return g.Shutdown(context.Background()) }), "Shutdown"); err != nil {
				t.Fatal(err)
			}
			if err := pollWait(t, runErr, "Run"); !errors.Is(err, core.ErrClosed) {
				t.Fatalf("Run: %v", err)
			}
			if fired.Load() != n {
				t.Fatalf("%d of %d timers fired", fired.Load(), n)
			}
			if v := early.Load(); v != nil {
				t.Fatal(v)
			}
			if err := g.From(0).Send(1, func() {}); !errors.Is(err, core.ErrClosed) {
				t.Fatalf("Send after Shutdown: %v", err)
			}
		})
	}
}

// TestAttackPollHealth: a polling group's merged Health stays sane while
// it ping-pongs: Utilization in [0, 1], Parks == Wakeups once stopped.
func TestAttackPollHealth(t *testing.T) {
	for _, cfg := range pollConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			g, err := New(2, cfg.opts...)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			runErr := pollStart(t, g, ctx)
			prev := g.Health()
			for range 200 {
				on := make(chan struct{})
				if err := Call(g.From(0), 1, func() int { return 1 }, func(int) { close(on) }); err != nil {
					t.Fatal(err)
				}
				pollWait(t, on, "a Call")
			}
			h := g.Health()
			if u := h.Utilization(prev); u < 0 || u > 1 || math.IsNaN(u) {
				t.Errorf("utilization %v", u)
			}
			cancel()
			pollWait(t, runErr, "Run")
			h = g.Health()
			if h.Parks != h.Wakeups {
				t.Errorf("Parks %d != Wakeups %d on a stopped group", h.Parks, h.Wakeups)
			}
			if h.Busy < 0 || h.Idle < 0 {
				t.Errorf("busy %v idle %v", h.Busy, h.Idle)
			}
			if err := pollWait(t, pollGo(g.Close), "Close"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAttackPollMoreLoopsThanCPUs: four polling loops (more than this
// machine's processors) pass a token round a ring with Send, while a
// goroutine stops them (ctx cancelled) and runs them again; every hop
// runs exactly once and in order, and Close ends them. A loop that
// polls holds its processor, so progress here rests on the runtime's
// preemption: slow, never stuck.
func TestAttackPollMoreLoopsThanCPUs(t *testing.T) {
	for _, opts := range [][]core.Option{
		{core.WithPrecise(), core.WithBusyPoll(time.Hour)},
		{core.WithPrecise(), core.WithBusyPoll(100 * time.Microsecond)},
		{core.WithBusyPoll(math.MaxInt64)},
	} {
		g, err := New(4, opts...)
		if err != nil {
			t.Fatal(err)
		}
		const hops = 200
		next := 0 // hops run one at a time, each sent by the one before
		var bad atomic.Value
		finished := make(chan struct{})
		var hop func(at, n int)
		hop = func(at, n int) {
			to := (at + 1) % g.Len()
			if err := g.From(at).Send(to, func() {
				if next != n {
					bad.CompareAndSwap(nil, fmt.Sprintf("hop %d ran as %d", n, next))
				}
				next++
				if n+1 == hops {
					close(finished)
					return
				}
				hop(to, n+1)
			}); err != nil {
				bad.CompareAndSwap(nil, err.Error())
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		runErr := pollStart(t, g, ctx)
		if err := g.Loop(0).Post(func() { hop(0, 0) }); err != nil {
			t.Fatal(err)
		}
		for range 3 { // stop and run again while the ring turns
			time.Sleep(time.Millisecond)
			cancel()
			if err := pollWait(t, runErr, "Run after cancel"); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v", err)
			}
			ctx, cancel = context.WithCancel(context.Background())
			runErr = pollStart(t, g, ctx)
		}
		pollWait(t, finished, "the ring")
		if v := bad.Load(); v != nil {
			t.Fatal(v)
		}
		if err := pollWait(t, pollGo(g.Close), "Close"); err != nil {
			t.Fatal(err)
		}
		if err := pollWait(t, runErr, "Run"); !errors.Is(err, core.ErrClosed) {
			t.Fatalf("Run: %v", err)
		}
		cancel()
	}
}
