package core

// Attack tests for WithBusyPoll (options_precision.go; the poll in
// (*Loop).wait, park.go), from an adversarial pass on its first version
// (commit d99ad16). Every test asserts ordering, exactly-once, never-early
// (the loop's clock against the deadline) and termination; none asserts
// that anything took less than some time. a8wait turns a hang into a
// failure that says what hung (a minute: a liveness check, not a timing
// one).

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// a8configs are the option sets the attacks run under: short and huge
// polls, negative ones, with and without WithPrecise, combined with
// WithSpin, WithAdaptiveSpin and WithSlack.
func a8configs() []struct {
	name string
	opts []Option
} {
	return []struct {
		name string
		opts []Option
	}{
		{"poll20us", []Option{WithBusyPoll(20 * time.Microsecond)}},
		{"poll20us+precise", []Option{WithBusyPoll(20 * time.Microsecond), WithPrecise()}},
		{"poll300us+precise+spin", []Option{WithBusyPoll(300 * time.Microsecond), WithPrecise(), WithSpin(100 * time.Microsecond)}},
		{"poll300us+adaptive", []Option{WithBusyPoll(300 * time.Microsecond), WithAdaptiveSpin()}},
		{"poll100us+precise+adaptive", []Option{WithBusyPoll(100 * time.Microsecond), WithPrecise(), WithAdaptiveSpin()}},
		{"poll200us+slack1ms", []Option{WithBusyPoll(200 * time.Microsecond), WithSlack(time.Millisecond)}},
		{"poll2ms+precise+slack300us", []Option{WithBusyPoll(2 * time.Millisecond), WithPrecise(), WithSlack(300 * time.Microsecond)}},
		{"pollHour+precise", []Option{WithBusyPoll(time.Hour), WithPrecise()}},
		{"pollMaxInt64", []Option{WithBusyPoll(math.MaxInt64)}},
		{"pollMaxInt64+precise+adaptive+slack", []Option{WithBusyPoll(math.MaxInt64), WithPrecise(), WithAdaptiveSpin(), WithSlack(time.Millisecond)}},
		{"pollNegative+precise", []Option{WithBusyPoll(math.MinInt64), WithPrecise()}},
	}
}

// a8wait waits for ch to deliver or be closed, failing with what (and the
// loop's state) if that takes more than a minute.
func a8wait[T any](t *testing.T, ch <-chan T, what string, l *Loop) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		s := ""
		if l != nil {
			s = a8state(l)
		}
		t.Fatalf("hung: %s %s", what, s)
	}
	var zero T
	return zero
}

// a8state describes what a lost wake-up or a stray token would leave.
func a8state(l *Loop) string {
	return fmt.Sprintf("(parked=%v running=%v control=%#x inbox=%d token=%s)",
		l.parked.Load(), l.running.Load(), l.control.Load(), l.inbox.Len(), a8token(l))
}

// a8token describes the token the parker holds, if any: "none" when the
// parker is at rest.
func a8token(l *Loop) string {
	switch p := l.parker.(type) {
	case *chanParker:
		if len(p.wake) != 0 {
			return "chan token"
		}
	case *futexParker:
		if w := p.word.Load(); w != futexIdle {
			return fmt.Sprintf("futex word %d", w)
		}
		if len(p.wakeC) != 0 {
			return "futex wakeC token"
		}
	case *fakeParker:
		if len(p.wake) != 0 {
			return "fake token"
		}
	}
	return "none"
}

// a8checkRest fails unless l, not running, has parked=false and no token
// in its parker: a token left there would end a later park early, a
// parked=true would let a waker send one nobody takes.
func a8checkRest(t *testing.T, l *Loop, when string) {
	t.Helper()
	if l.running.Load() {
		t.Fatalf("%s: loop still running", when)
	}
	if l.parked.Load() {
		t.Errorf("%s: parked=true on a loop no one runs", when)
	}
	if tok := a8token(l); tok != "none" {
		t.Errorf("%s: token left in the parker: %s", when, tok)
	}
}

// a8pause sleeps for a random short while, or not at all: wake-ups land
// before, during and after the poll.
func a8pause(r *rand.Rand) {
	switch r.IntN(6) {
	case 0:
	case 1:
		runtime.Gosched()
	case 2:
		time.Sleep(5 * time.Microsecond)
	case 3:
		time.Sleep(50 * time.Microsecond)
	case 4:
		time.Sleep(400 * time.Microsecond)
	case 5:
		time.Sleep(3 * time.Millisecond)
	}
}

// TestAttack8PostsExactlyOnceInOrder: four posters at once — Post,
// Producer.Post, TryPost (retrying ErrFull) and PostWait on a small inbox —
// with pauses that land before, inside and after the poll. Every post
// runs exactly once and in its poster's order; Close ends the loop;
// afterwards no token is left in the parker.
func TestAttack8PostsExactlyOnceInOrder(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			l := New(append([]Option{WithInboxSize(8)}, cfg.opts...)...)
			runErr := make(chan error, 1)
			go func() { runErr <- l.Run(context.Background()) }()
			p, err := l.NewProducer()
			if err != nil {
				t.Fatal(err)
			}
			const posters, n = 4, 200
			var next [posters]int // loop goroutine only
			var bad atomic.Value
			var wg sync.WaitGroup
			for k := range posters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(k), 8))
					for i := range n {
						fn := func() {
							if next[k] != i {
								bad.CompareAndSwap(nil, fmt.Sprintf("poster %d: post %d ran as number %d", k, i, next[k]))
							}
							next[k]++
						}
						var err error
						switch k {
						case 0:
							err = l.Post(fn)
						case 1:
							err = p.Post(fn)
						case 2:
							for err = l.TryPost(fn); err == ErrFull; err = l.TryPost(fn) {
								runtime.Gosched()
							}
						case 3:
							err = l.PostWait(context.Background(), fn)
						}
						if err != nil {
							bad.CompareAndSwap(nil, fmt.Sprintf("poster %d: %v", k, err))
							return
						}
						if i%7 == 0 {
							a8pause(r)
						}
					}
				}()
			}
			posted := make(chan struct{})
			go func() { wg.Wait(); close(posted) }()
			a8wait(t, posted, "posters", l)
			got := make(chan [posters]int, 1)
			if err := l.Post(func() { got <- next }); err != nil {
				t.Fatal(err)
			}
			counts := a8wait(t, got, "the last post", l)
			if v := bad.Load(); v != nil {
				t.Fatal(v)
			}
			for k, c := range counts {
				if c != n {
					t.Errorf("poster %d: %d posts ran, want %d", k, c, n)
				}
			}
			closed := make(chan error, 1)
			go func() { closed <- l.Close() }()
			if err := a8wait(t, closed, "Close", l); err != nil {
				t.Fatal(err)
			}
			if err := a8wait(t, runErr, "Run after Close", l); !errors.Is(err, ErrClosed) {
				t.Fatalf("Run: %v, want ErrClosed", err)
			}
			a8checkRest(t, l, "after Close")
		})
	}
}

// TestAttack8TimersNeverEarly: timers due inside the poll, at its edge and
// beyond it, scheduled from the loop (Local), from outside (At, whose
// deadline is known exactly) while the loop polls or spins for a later
// one, and pushed earlier or later by Reset from outside: each fires at
// or after its deadline on the loop's clock, exactly once, and a Stopped
// one never fires.
func TestAttack8TimersNeverEarly(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			l := New(cfg.opts...)
			stop := start(t, l)
			defer stop()
			r := rand.New(rand.NewPCG(1, 2))
			const n = 60
			type fire = a8fire
			fired := make(chan fire, 4*n)
			delays := []time.Duration{0, time.Microsecond, 15 * time.Microsecond, 90 * time.Microsecond,
				250 * time.Microsecond, 700 * time.Microsecond, 2500 * time.Microsecond}
			stopped := map[int]bool{}
			twice := map[int]bool{}
			resetDue := map[int]int64{} // written before the check loop reads it
			want := n / 4 * 3           // cases 0, 1, 2 fire once each
			for i := range n {
				d := delays[r.IntN(len(delays))]
				switch i % 4 {
				case 0: // from the loop
					do(t, l, func() {
						due := l.deadline(d)
						must(l.Local().AfterFunc(d, func() { fired <- fire{i, l.now(), due} }))
					})
				case 1: // from outside, exact deadline
					at := time.Now().Add(d)
					due := l.atDeadline(at)
					must(l.At(at, func() { fired <- fire{i, l.now(), due} }))
				case 2: // Reset from outside, earlier or later: the new deadline is read from the word
					tm := must(l.AfterFunc(3*time.Millisecond, func() { fired <- fire{i, l.now(), -1} }))
					a8pause(r)
					d2 := delays[r.IntN(len(delays))]
					lo := l.deadline(d2) // a lower bound of the new deadline
					if !tm.Reset(d2) {
						want++ // it fired at its first deadline; Reset armed it again
						twice[i] = true
					}
					resetDue[i] = lo
					if s := tm.n.Value.load(); s.armed() {
						resetDue[i] = s.when() // exact, unless it fired already
					}
				case 3: // stopped from outside, never fires
					tm := must(l.AfterFunc(d+200*time.Microsecond, func() { fired <- fire{-1 - i, 0, 0} }))
					a8pause(r)
					if tm.Stop() {
						stopped[i] = true
					}
				}
				a8pause(r)
			}
			for i := range n {
				if i%4 == 3 && !stopped[i] {
					want++ // Stop found it fired
				}
			}
			seen := map[int]int{}
			for got := 0; got < want; got++ {
				f := a8wait(t, fired, fmt.Sprintf("timer %d of %d", got, want), l)
				if f.id < 0 {
					if stopped[-1-f.id] {
						t.Fatalf("timer %d fired after a Stop that reported true", -1-f.id)
					}
					if seen[f.id]++; seen[f.id] > 1 {
						t.Fatalf("stopped timer %d fired twice", -1-f.id)
					}
					continue
				}
				if seen[f.id]++; seen[f.id] > 1 && !(twice[f.id] && seen[f.id] == 2) {
					t.Fatalf("timer %d fired %d times", f.id, seen[f.id])
				}
				if twice[f.id] && seen[f.id] == 1 {
					continue // its first firing, at the first deadline, before Reset
				}
				if f.due == -1 {
					f.due = resetDue[f.id] // 0 if Reset found it fired
				}
				if f.now < f.due {
					t.Errorf("timer %d fired %v early", f.id, time.Duration(f.due-f.now))
				}
			}
			// Drain: nothing more fires (a stopped timer's old deadline passes too).
			do(t, l, func() {})
			time.Sleep(5 * time.Millisecond)
			do(t, l, func() {})
			select {
			case f := <-fired:
				t.Fatalf("unexpected fire %+v", f)
			default:
			}
		})
	}
}

// a8fire is a timer's firing: its id, the loop clock then, its deadline.
type a8fire struct {
	id       int
	now, due int64
}

// TestAttack8ResetEarlierNeverEarly: a timer far beyond the poll is moved,
// from outside, to a deadline inside the loop's poll, and the new deadline
// is read exactly from the timer's word after Reset returns: it fires at
// or after it, never at the old one's expense.
func TestAttack8ResetEarlierNeverEarly(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			l := New(cfg.opts...)
			stop := start(t, l)
			defer stop()
			r := rand.New(rand.NewPCG(3, 4))
			for range 40 {
				fired := make(chan int64, 1)
				tm := must(l.AfterFunc(time.Hour, func() { fired <- l.now() }))
				a8pause(r)
				d := time.Duration(r.IntN(400)) * time.Microsecond
				if !tm.Reset(d) {
					t.Fatal("Reset of an armed timer reported false")
				}
				due := tm.n.Value.load().when() // exact: the word Reset wrote
				now := a8wait(t, fired, "the reset timer", l)
				if now < due {
					t.Fatalf("reset timer fired %v early", time.Duration(due-now))
				}
			}
		})
	}
}

// TestAttack8ControlAtAnyMoment: Close, Shutdown (with timers pending in
// and beyond the poll), Stop then Run again, a cancelled ctx then Run
// again, and a Shutdown whose ctx ends, each at a random moment — before,
// during or after the poll. All end; every accepted post runs exactly
// once; Shutdown runs every one-shot timer, never early; between runs no
// token is left in the parker.
func TestAttack8ControlAtAnyMoment(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			for round := range rounds {
				l := New(cfg.opts...)
				var ran, accepted atomic.Int64
				var early atomic.Value
				runOnce := func(ctx context.Context) <-chan error {
					ch := make(chan error, 1)
					go func() { ch <- l.Run(ctx) }()
					do(t, l, func() {}) // Run owns the loop: a Stop from now on is for it
					return ch
				}
				post := func() {
					if l.Post(func() { ran.Add(1) }) == nil {
						accepted.Add(1)
					}
				}
				timer := func(d time.Duration) {
					at := time.Now().Add(d)
					due := l.atDeadline(at)
					if _, err := l.At(at, func() {
						ran.Add(1)
						if now := l.now(); now < due {
							early.CompareAndSwap(nil, fmt.Sprintf("timer fired %v early", time.Duration(due-now)))
						}
					}); err == nil {
						accepted.Add(1)
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				runErr := runOnce(ctx)
				for range 3 {
					post()
					timer(time.Duration(r.IntN(500)) * time.Microsecond)
					a8pause(r)
				}
				switch round % 5 {
				case 0: // Close
					a8pause(r)
					closed := make(chan error, 1)
					go func() { closed <- l.Close() }()
					a8wait(t, closed, "Close", l)
					if err := a8wait(t, runErr, "Run after Close", l); !errors.Is(err, ErrClosed) {
						t.Fatalf("Run: %v", err)
					}
					cancel()
					// Close cancels timers: count only what ran plus cancelled.
					s := l.Stats()
					if ran.Load()+int64(s.TimersCancelled) != accepted.Load() {
						t.Fatalf("Close: %d ran + %d cancelled, %d accepted", ran.Load(), s.TimersCancelled, accepted.Load())
					}
					a8checkRest(t, l, "after Close")
					continue
				case 1: // Shutdown runs every timer
					a8pause(r)
					sd := make(chan error, 1)
					go func() { sd <- l.Shutdown(context.Background()) }()
					if err := a8wait(t, sd, "Shutdown", l); err != nil {
						t.Fatal(err)
					}
					if err := a8wait(t, runErr, "Run after Shutdown", l); !errors.Is(err, ErrClosed) {
						t.Fatalf("Run: %v", err)
					}
				case 2: // Stop, then Run again, then Shutdown
					for range 3 {
						a8pause(r)
						l.Pause()
						if err := a8wait(t, runErr, "Run after Stop", l); err != nil && !errors.Is(err, ErrRunning) {
							t.Fatalf("Run after Stop: %v", err)
						}
						a8checkRest(t, l, "after Stop")
						post()
						timer(time.Duration(r.IntN(300)) * time.Microsecond)
						runErr = runOnce(ctx)
					}
					if err := a8wait(t, a8do(func() error { return l.Shutdown(context.Background()) }), "Shutdown", l); err != nil {
						t.Fatal(err)
					}
					a8wait(t, runErr, "Run after Shutdown", l)
				case 3: // cancelled ctx, then Run again, then Shutdown
					for range 3 {
						a8pause(r)
						cancel()
						if err := a8wait(t, runErr, "Run after cancel", l); !errors.Is(err, context.Canceled) {
							t.Fatalf("Run after cancel: %v", err)
						}
						a8checkRest(t, l, "after a cancelled ctx")
						post()
						ctx, cancel = context.WithCancel(context.Background())
						runErr = runOnce(ctx)
					}
					if err := a8wait(t, a8do(func() error { return l.Shutdown(context.Background()) }), "Shutdown", l); err != nil {
						t.Fatal(err)
					}
					a8wait(t, runErr, "Run after Shutdown", l)
				case 4: // Run ends with a cancelled ctx; Shutdown runs the loop itself with a ctx that ends; Close
					cancel()
					a8wait(t, runErr, "Run after cancel", l)
					timer(time.Hour) // keeps Shutdown from finishing
					sctx, scancel := context.WithCancel(context.Background())
					sd := a8do(func() error { return l.Shutdown(sctx) })
					a8pause(r)
					scancel()
					if err := a8wait(t, sd, "Shutdown with a cancelled ctx", l); err != nil && !errors.Is(err, context.Canceled) {
						t.Fatalf("Shutdown: %v", err)
					}
					if err := a8wait(t, a8do(l.Close), "Close after Shutdown", l); err != nil {
						t.Fatal(err)
					}
					a8checkRest(t, l, "after Close")
					if v := early.Load(); v != nil {
						t.Fatal(v)
					}
					cancel()
					continue
				}
				cancel()
				if v := early.Load(); v != nil {
					t.Fatal(v)
				}
				if got, want := ran.Load(), accepted.Load(); got != want {
					t.Fatalf("round %d: %d of %d accepted posts and timers ran", round, got, want)
				}
				a8checkRest(t, l, "after Shutdown")
			}
		})
	}
}

// a8do runs f on a goroutine of its own and delivers its error.
func a8do(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

// TestAttack8NoTokenAfterEveryWaker: each kind of waker (Post, TryPost,
// Producer.Post, Producer.TryPost, a timer from outside earlier than the
// published one, Stop) ends a poll, repeatedly, at random moments;
// between runs (after Stop) the parker holds no token and parked is false;
// and a timer beyond the poll after each wake-up never fires early (a
// leftover token would end its park early — harmless for the timer, which
// the clock guards, but visible as a token here).
func TestAttack8NoTokenAfterEveryWaker(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			l := New(cfg.opts...)
			p, err := l.NewProducer()
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(7, 8))
			for round := range 30 {
				runErr := a8do(func() error { return l.Run(context.Background()) })
				done := make(chan int64, 1)
				far := time.Now().Add(time.Duration(500+r.IntN(1500)) * time.Microsecond)
				due := l.atDeadline(far)
				must(l.At(far, func() { done <- l.now() }))
				a8pause(r)
				ran := make(chan struct{}, 1)
				fn := func() { ran <- struct{}{} }
				switch round % 5 {
				case 0:
					err = l.Post(fn)
				case 1:
					err = l.TryPost(fn)
				case 2:
					err = p.Post(fn)
				case 3:
					err = p.TryPost(fn)
				case 4:
					_, err = l.AfterFunc(0, fn) // earlier than the published deadline
				}
				if err != nil {
					t.Fatal(err)
				}
				a8wait(t, ran, "the waker's callback", l)
				if now := a8wait(t, done, "the far timer", l); now < due {
					t.Fatalf("timer fired %v early", time.Duration(due-now))
				}
				a8pause(r)
				l.Pause()
				if err := a8wait(t, runErr, "Run after Stop", l); err != nil {
					t.Fatalf("Run: %v", err)
				}
				a8checkRest(t, l, fmt.Sprintf("round %d after Stop", round))
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			a8checkRest(t, l, "after Close")
		})
	}
}

// TestAttack8LateStopResetDuringShutdown: Shutdown waits for timers in and
// beyond the poll; from outside, while the loop polls or spins for them,
// they are Stopped and Reset (late messages, late.go): the stopped ones
// never fire, the reset ones fire once, never before their new deadline,
// and Shutdown ends.
func TestAttack8LateStopResetDuringShutdown(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(9, 10))
			for range 6 {
				l := New(cfg.opts...)
				runErr := a8do(func() error { return l.Run(context.Background()) })
				do(t, l, func() {}) // Run owns the loop, not Shutdown
				const n = 12
				var timers [n]*Timer
				var firedN [n]atomic.Int32
				var firedAt [n]atomic.Int64
				for i := range n {
					timers[i] = must(l.AfterFunc(time.Duration(200+r.IntN(3000))*time.Microsecond, func() {
						firedN[i].Add(1)
						firedAt[i].Store(l.now())
					}))
				}
				sd := a8do(func() error { return l.Shutdown(context.Background()) })
				for !l.closing() {
					runtime.Gosched() // Shutdown has been called: a Reset from now on must not re-arm a fired timer
				}
				var dues [n]int64
				var stopped [n]bool
				for i := range n {
					a8pause(r)
					if i%2 == 0 {
						stopped[i] = timers[i].Stop()
					} else if timers[i].Reset(time.Duration(r.IntN(500)) * time.Microsecond) {
						dues[i] = timers[i].n.Value.load().when()
					} else {
						dues[i] = -1 // fired already
					}
				}
				if err := a8wait(t, sd, "Shutdown", l); err != nil {
					t.Fatal(err)
				}
				if err := a8wait(t, runErr, "Run", l); !errors.Is(err, ErrClosed) {
					t.Fatalf("Run: %v", err)
				}
				for i := range n {
					c := firedN[i].Load()
					switch {
					case stopped[i] && c != 0:
						t.Errorf("timer %d fired %d times after a successful Stop", i, c)
					case !stopped[i] && c != 1:
						t.Errorf("timer %d fired %d times, want 1", i, c)
					case dues[i] > 0 && firedAt[i].Load() < dues[i]:
						t.Errorf("timer %d fired %v before its reset deadline", i, time.Duration(dues[i]-firedAt[i].Load()))
					}
				}
				a8checkRest(t, l, "after Shutdown")
			}
		})
	}
}

// TestAttack8HealthAccounting: while a loop polls (a long poll, many short
// ones, both parkers), concurrent Health snapshots never go back in time,
// Busy and Idle stay non-negative, Utilization stays in [0, 1]; once the
// loop is stopped, Parks == Wakeups, every Kick is matched by a park or a
// pre-park look, and Callbacks counts every post once.
func TestAttack8HealthAccounting(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			l := New(cfg.opts...)
			runErr := a8do(func() error { return l.Run(context.Background()) })
			stopRead := make(chan struct{})
			readErr := make(chan string, 1)
			go func() {
				prev := l.Health()
				for {
					select {
					case <-stopRead:
						readErr <- ""
						return
					default:
					}
					h := l.Health()
					switch {
					case h.Busy < 0 || h.Idle < 0:
						readErr <- fmt.Sprintf("negative: busy %v idle %v", h.Busy, h.Idle)
						return
					case h.Busy < prev.Busy || h.Idle < prev.Idle:
						readErr <- fmt.Sprintf("went back: busy %v -> %v, idle %v -> %v", prev.Busy, h.Busy, prev.Idle, h.Idle)
						return
					case h.Parks < prev.Parks || h.Wakeups < prev.Wakeups || h.Kicks < prev.Kicks:
						readErr <- "a counter went back"
						return
					}
					if u := h.Utilization(prev); u < 0 || u > 1 || math.IsNaN(u) {
						readErr <- fmt.Sprintf("utilization %v", u)
						return
					}
					prev = h
					time.Sleep(20 * time.Microsecond)
				}
			}()
			r := rand.New(rand.NewPCG(11, 12))
			const n = 300
			for range n {
				if err := l.Post(func() {}); err != nil {
					t.Fatal(err)
				}
				a8pause(r)
			}
			do(t, l, func() {})
			time.Sleep(2 * time.Millisecond) // let it poll, perhaps park
			l.Pause()
			if err := a8wait(t, runErr, "Run after Stop", l); err != nil {
				t.Fatal(err)
			}
			close(stopRead)
			if e := <-readErr; e != "" {
				t.Fatal(e)
			}
			s := l.Stats()
			if s.Parks != s.Wakeups {
				t.Errorf("Parks %d != Wakeups %d on a stopped loop", s.Parks, s.Wakeups)
			}
			if s.Callbacks != n+1 {
				t.Errorf("Callbacks %d, want %d", s.Callbacks, n+1)
			}
			h := l.Health()
			if h.Busy <= 0 && h.Idle <= 0 {
				t.Errorf("no time accounted: busy %v idle %v", h.Busy, h.Idle)
			}
			a8checkRest(t, l, "after Stop")
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAttack8HugeDeadlines: with polls up to math.MaxInt64, timers at the
// far end of the clock (AfterFunc(math.MaxInt64), At far in the future)
// do not make the loop spin for them forever in a way that Close cannot
// end, and posts still run once each.
func TestAttack8HugeDeadlines(t *testing.T) {
	for _, d := range []time.Duration{time.Hour, math.MaxInt64, math.MaxInt64 - 1, -1, math.MinInt64} {
		for _, precise := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/precise=%v", d, precise), func(t *testing.T) {
				opts := []Option{WithBusyPoll(d), WithSlack(time.Millisecond)}
				if precise {
					opts = append(opts, WithPrecise())
				}
				l := New(opts...)
				runErr := a8do(func() error { return l.Run(context.Background()) })
				far := must(l.AfterFunc(math.MaxInt64, func() { t.Error("the far timer fired") }))
				must(l.At(time.Now().Add(100*365*24*time.Hour), func() { t.Error("the 100-year timer fired") }))
				var ran atomic.Int32
				for range 50 {
					if err := l.Post(func() { ran.Add(1) }); err != nil {
						t.Fatal(err)
					}
					time.Sleep(30 * time.Microsecond)
				}
				do(t, l, func() {})
				if ran.Load() != 50 {
					t.Fatalf("%d of 50 posts ran", ran.Load())
				}
				far.Reset(math.MaxInt64 - 1)
				if err := a8wait(t, a8do(l.Close), "Close", l); err != nil {
					t.Fatal(err)
				}
				if err := a8wait(t, runErr, "Run", l); !errors.Is(err, ErrClosed) {
					t.Fatalf("Run: %v", err)
				}
				a8checkRest(t, l, "after Close")
			})
		}
	}
}

// TestAttack8SynctestBubble: in a bubble, with polls up to math.MaxInt64
// (the clock stands still while the loop polls; it must notice and park),
// and WithSpin, WithAdaptiveSpin and WithSlack combined: timers fire
// never early, exactly once, in deadline order; Producer posts run;
// Stop, Run again and a cancelled ctx end Run; Shutdown waits for the
// timers and ends.
func TestAttack8SynctestBubble(t *testing.T) {
	for _, opts := range [][]Option{
		{WithBusyPoll(time.Millisecond)},
		{WithBusyPoll(time.Hour)},
		{WithBusyPoll(math.MaxInt64)},
		{WithBusyPoll(math.MaxInt64), WithSpin(time.Millisecond)},
		{WithBusyPoll(500 * time.Microsecond), WithAdaptiveSpin(), WithSlack(time.Millisecond)},
	} {
		synctest.Test(t, func(t *testing.T) {
			l := New(opts...)
			ctx, cancel := context.WithCancel(context.Background())
			runErr := a8do(func() error { return l.Run(ctx) })
			p, err := l.NewProducer()
			if err != nil {
				t.Fatal(err)
			}
			var order []int
			var earlyMsg string
			delays := []time.Duration{3 * time.Millisecond, 0, 500 * time.Microsecond, 2 * time.Second, 10 * time.Millisecond}
			for i, d := range delays {
				due := l.deadline(d)
				must(l.AfterFunc(d, func() {
					order = append(order, i)
					if now := l.now(); now < due && earlyMsg == "" {
						earlyMsg = fmt.Sprintf("timer %d fired %v early", i, time.Duration(due-now))
					}
				}))
			}
			posts := 0
			for range 10 {
				if err := p.Post(func() { posts++ }); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(20 * time.Millisecond)
			synctest.Wait()
			l.Pause()
			if err := <-runErr; err != nil {
				t.Fatalf("Run after Stop: %v", err)
			}
			a8checkRest(t, l, "after Stop in a bubble")
			runErr = a8do(func() error { return l.Run(ctx) })
			time.Sleep(time.Millisecond)
			cancel()
			if err := <-runErr; !errors.Is(err, context.Canceled) {
				t.Fatalf("Run after cancel: %v", err)
			}
			a8checkRest(t, l, "after cancel in a bubble")
			if err := l.Shutdown(context.Background()); err != nil { // runs the loop itself, waits for the 2 s timer
				t.Fatal(err)
			}
			if earlyMsg != "" {
				t.Error(earlyMsg)
			}
			if want := []int{1, 2, 0, 4, 3}; fmt.Sprint(order) != fmt.Sprint(want) {
				t.Errorf("timers fired in order %v, want %v", order, want)
			}
			if posts != 10 {
				t.Errorf("%d of 10 producer posts ran", posts)
			}
			a8checkRest(t, l, "after Shutdown in a bubble")
		})
	}
}

// TestAttack8FakeClockIgnoresPoll: on a FakeClock a poll (and spin, slack)
// of any size is ignored whatever the order of the options: Advance fires
// timers as they fall due, posts run, Close ends.
func TestAttack8FakeClockIgnoresPoll(t *testing.T) {
	for _, d := range []time.Duration{time.Millisecond, math.MaxInt64} {
		c := NewFakeClock()
		l := New(WithClock(c), WithBusyPoll(d), WithPrecise(), WithAdaptiveSpin(), WithSlack(time.Second))
		if l.cfg.poll != 0 {
			t.Fatalf("poll %d with the FakeClock given first", l.cfg.poll)
		}
		stop := start(t, l)
		var fired []int
		for i, d := range []time.Duration{5 * time.Millisecond, time.Millisecond, time.Hour} {
			must(l.AfterFunc(d, func() { fired = append(fired, i) }))
		}
		for range 3 {
			do(t, l, func() {})
			c.Advance(time.Millisecond)
		}
		c.Advance(5 * time.Millisecond)
		var got []int
		do(t, l, func() { got = append(got, fired...) })
		if fmt.Sprint(got) != "[1 0]" {
			t.Errorf("fired %v, want [1 0]", got)
		}
		stop()
	}
}

// TestAttack8OneProc: with GOMAXPROCS=1 the polling loop holds the only P;
// posts from other goroutines, Do, and Close still get through (the poll
// can only delay them), with and without WithPrecise and its locked
// thread.
func TestAttack8OneProc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, opts := range [][]Option{
		{WithBusyPoll(time.Hour)},
		{WithBusyPoll(time.Hour), WithPrecise()},
		{WithBusyPoll(200 * time.Microsecond), WithPrecise(), WithAdaptiveSpin()},
	} {
		l := New(opts...)
		runErr := a8do(func() error { return l.Run(context.Background()) })
		var ran atomic.Int32
		for range 20 {
			if err := l.Post(func() { ran.Add(1) }); err != nil {
				t.Fatal(err)
			}
			a8wait(t, a8do(func() error { return l.Do(context.Background(), func() {}) }), "Do", l)
		}
		fired := make(chan int64, 1)
		due := l.deadline(300 * time.Microsecond)
		must(l.AfterFunc(300*time.Microsecond, func() { fired <- l.now() }))
		if now := a8wait(t, fired, "timer", l); now < due {
			t.Fatalf("fired %v early", time.Duration(due-now))
		}
		if err := a8wait(t, a8do(l.Close), "Close", l); err != nil {
			t.Fatal(err)
		}
		if err := a8wait(t, runErr, "Run", l); !errors.Is(err, ErrClosed) {
			t.Fatal(err)
		}
		if ran.Load() != 20 {
			t.Fatalf("%d of 20 posts ran", ran.Load())
		}
	}
}

// TestAttack8PostWaitBackpressureWhilePolling: a full one-slot inbox, many
// PostWait waiters and a loop that drains then polls: every waiter gets in
// exactly once, none is left waiting after the loop goes idle, and Close
// releases any still waiting with ErrClosed.
func TestAttack8PostWaitBackpressureWhilePolling(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			l := New(append([]Option{WithInboxSize(1)}, cfg.opts...)...)
			runErr := a8do(func() error { return l.Run(context.Background()) })
			const waiters, each = 8, 50
			var ran atomic.Int64
			var wg sync.WaitGroup
			for k := range waiters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(k), 13))
					for range each {
						if err := l.PostWait(context.Background(), func() { ran.Add(1) }); err != nil {
							t.Errorf("PostWait: %v", err)
							return
						}
						if r.IntN(10) == 0 {
							a8pause(r)
						}
					}
				}()
			}
			all := make(chan struct{})
			go func() { wg.Wait(); close(all) }()
			a8wait(t, all, "PostWait waiters", l)
			do(t, l, func() {})
			if got := ran.Load(); got != waiters*each {
				t.Fatalf("%d of %d ran", got, waiters*each)
			}
			if err := a8wait(t, a8do(l.Close), "Close", l); err != nil {
				t.Fatal(err)
			}
			a8wait(t, runErr, "Run", l)
			a8checkRest(t, l, "after Close")
		})
	}
}

// TestAttack8WaitUnparkRace drives the loop's side of the park protocol
// directly — parked=true, wait (with the poll), unpark if not woken, as
// park does — against a waker (wakeIfParked) and a closing done (followed
// by wakeIfParked, as WithPrecise's ctx hook does) started at random
// moments, thousands of times, with polls so short that their end often
// coincides with the wake-up, waits untimed and timed (inside and beyond
// the poll), for both parkers. After each round: parked is false and the
// parker holds no token (b), and a timed wait never returns before its
// deadline unless woken or done (c). A lost token hangs take (a8wait-free:
// the test timeout).
func TestAttack8WaitUnparkRace(t *testing.T) {
	rounds := 4000
	if testing.Short() || raceEnabled {
		rounds = 800
	}
	for _, opts := range [][]Option{
		{WithBusyPoll(time.Microsecond)},
		{WithBusyPoll(3 * time.Microsecond), WithPrecise()},
		{WithBusyPoll(10 * time.Microsecond), WithPrecise(), WithSpin(5 * time.Microsecond)},
		{WithBusyPoll(2 * time.Microsecond), WithAdaptiveSpin()},
		{WithBusyPoll(math.MaxInt64), WithPrecise()},
	} {
		l := New(opts...)
		r := rand.New(rand.NewPCG(31, 32))
		for round := range rounds {
			done := make(chan struct{})
			timed := round%3 != 0
			var deadline int64
			if timed {
				deadline = l.now() + int64(r.IntN(30))*int64(time.Microsecond)
			}
			waker := r.IntN(4) // 0: none, 1: kick, 2: done, 3: both
			if !timed && waker == 0 {
				waker = 1 // an untimed wait needs an end
			}
			delay := r.IntN(40) // spins before the waker acts
			var wg sync.WaitGroup
			l.parked.Store(true)
			if waker != 0 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range delay * 50 {
						_ = l.parked.Load()
					}
					if waker&2 != 0 {
						close(done)
						l.wakeIfParked() // a ctx cancellation is a waker (bindThread)
					}
					if waker&1 != 0 {
						l.wakeIfParked()
					}
				}()
			}
			woken := l.wait(deadline, timed, done)
			now := l.now()
			if !woken {
				l.unpark()
			}
			wg.Wait()
			if timed && !woken && now < deadline {
				select {
				case <-done:
				default:
					if !l.parked.Load() && waker&1 != 0 {
						break // a kick ended the poll's spin: its token was taken by unpark
					}
					t.Fatalf("round %d: wait returned %v before its deadline, neither woken nor done", round, time.Duration(deadline-now))
				}
			}
			if l.parked.Load() {
				t.Fatalf("round %d: parked left true", round)
			}
			if tok := a8token(l); tok != "none" {
				t.Fatalf("round %d (timed %v, waker %d, woken %v): token left behind: %s", round, timed, waker, woken, tok)
			}
			if waker&2 == 0 {
				close(done)
			}
		}
	}
}

// TestAttack8EveryNeverEarly: periodic timers with periods inside the poll
// (the loop spins from tick to tick) under each policy: every tick fires
// at or after its scheduled time, in order; Shutdown stops them and ends.
func TestAttack8EveryNeverEarly(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			l := New(cfg.opts...)
			runErr := a8do(func() error { return l.Run(context.Background()) })
			do(t, l, func() {})
			type tick struct {
				k   int
				now int64
			}
			ticks := make(chan tick, 3000)
			periods := []time.Duration{30 * time.Microsecond, 70 * time.Microsecond, 400 * time.Microsecond}
			policies := []MissedTick{TickSkip, TickBurst, TickDelay}
			starts := make([]int64, len(periods))
			do(t, l, func() {
				for k, p := range periods {
					starts[k] = l.now()
					must(l.Local().Every(p, func() {
						select {
						case ticks <- tick{k, l.now()}:
						default:
						}
					}, policies[k]))
				}
			})
			time.Sleep(20 * time.Millisecond)
			if err := a8wait(t, a8do(func() error { return l.Shutdown(context.Background()) }), "Shutdown", l); err != nil {
				t.Fatal(err)
			}
			if err := a8wait(t, runErr, "Run", l); !errors.Is(err, ErrClosed) {
				t.Fatalf("Run: %v", err)
			}
			close(ticks)
			count := make([]int64, len(periods))
			last := make([]int64, len(periods))
			for tk := range ticks {
				count[tk.k]++
				// The n-th tick (Skip, Burst) is due no earlier than start + n*period; TickDelay restarts
				// from late ticks, so only the first period is a bound for it.
				min := starts[tk.k] + int64(periods[tk.k])
				if policies[tk.k] != TickDelay {
					min = starts[tk.k] + count[tk.k]*int64(periods[tk.k])
				}
				if policies[tk.k] == TickSkip {
					min = starts[tk.k] + int64(periods[tk.k]) // skipped ticks: only the first is pinned
				}
				if tk.now < min {
					t.Errorf("period %v tick %d fired %v early", periods[tk.k], count[tk.k], time.Duration(min-tk.now))
				}
				if tk.now < last[tk.k] {
					t.Errorf("ticks out of order")
				}
				last[tk.k] = tk.now
			}
			for k, c := range count {
				if c == 0 {
					t.Errorf("period %v never ticked", periods[k])
				}
			}
			a8checkRest(t, l, "after Shutdown")
		})
	}
}

// TestAttack8LateTimerSplitAddsUp: with WithLateTimer reporting every
// timer, a polling loop's lateness split (Allowed + Park + Callbacks +
// Backlog) still adds up to TimerLag's sum, and no part is negative.
func TestAttack8LateTimerSplitAddsUp(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			var bad atomic.Value
			var reports atomic.Int64
			l := New(append([]Option{WithLateTimer(0, func(lt LateTimer) {
				reports.Add(1)
				if lt.Allowed < 0 || lt.Park < 0 || lt.Callbacks < 0 || lt.Backlog < 0 || lt.Late < 0 ||
					lt.Allowed+lt.Park+lt.Callbacks+lt.Backlog != lt.Late {
					bad.CompareAndSwap(nil, fmt.Sprintf("report %+v", lt))
				}
			})}, cfg.opts...)...)
			stop := start(t, l)
			r := rand.New(rand.NewPCG(41, 42))
			const n = 60
			fired := make(chan struct{}, n)
			for range n {
				d := time.Duration(r.IntN(600)) * time.Microsecond
				if _, err := l.AfterFunc(d, func() { fired <- struct{}{} }); err != nil {
					t.Fatal(err)
				}
				a8pause(r)
			}
			for range n {
				a8wait(t, fired, "timers", l)
			}
			do(t, l, func() {})
			stop()
			if v := bad.Load(); v != nil {
				t.Fatal(v)
			}
			h := l.Health()
			if sum := h.TimerLagAllowed + h.TimerLagPark + h.TimerLagCallbacks + h.TimerLagBacklog; int64(sum) != h.TimerLag.Sum() {
				t.Errorf("split %v != TimerLag sum %v", sum, time.Duration(h.TimerLag.Sum()))
			}
			if reports.Load() != n {
				t.Errorf("%d reports, want %d", reports.Load(), n)
			}
		})
	}
}

// TestAttack8ProducerCloseWhilePolling: Producers made, posted through and
// closed from other goroutines while the loop polls: every accepted post
// runs once, in its Producer's order; a closed Producer refuses with
// ErrProducerClosed; WithDebug checks the loop-only paths.
func TestAttack8ProducerCloseWhilePolling(t *testing.T) {
	for _, cfg := range a8configs() {
		t.Run(cfg.name, func(t *testing.T) {
			l := New(append([]Option{WithDebug()}, cfg.opts...)...)
			stop := start(t, l)
			defer stop()
			var wg sync.WaitGroup
			var bad atomic.Value
			for k := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(k), 51))
					for range 20 {
						p, err := l.NewProducer()
						if err != nil {
							bad.CompareAndSwap(nil, err.Error())
							return
						}
						next, n := 0, 1+r.IntN(20)
						ran := make(chan struct{})
						for i := range n {
							if err := p.Post(func() {
								if next != i {
									bad.CompareAndSwap(nil, fmt.Sprintf("post %d ran as %d", i, next))
								}
								if next++; next == n {
									close(ran)
								}
							}); err != nil {
								bad.CompareAndSwap(nil, err.Error())
								return
							}
							if i%5 == 0 {
								a8pause(r)
							}
						}
						p.Close()
						if err := p.Post(func() {}); !errors.Is(err, ErrProducerClosed) {
							bad.CompareAndSwap(nil, fmt.Sprintf("Post after Close: %v", err))
						}
						select {
						case <-ran:
						case <-time.After(time.Minute):
							bad.CompareAndSwap(nil, "hung: a closed Producer's posts never ran")
							return
						}
						a8pause(r)
					}
				}()
			}
			all := make(chan struct{})
			go func() { wg.Wait(); close(all) }()
			a8wait(t, all, "producers", l)
			if v := bad.Load(); v != nil {
				t.Fatal(v)
			}
		})
	}
}
