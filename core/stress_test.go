package core

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soak is how long TestStressSoak runs: go test ./core -run Soak -soak=5m -v
// (the package must come before -soak, which is a flag of the test binary).
// Zero, the default, skips it.
var soak = flag.Duration("soak", 0, "run TestStressSoak for this long, e.g. -soak=5m (0 skips it)")

// stressConfig is one stress round.
type stressConfig struct {
	seed     uint64
	workers  int  // goroutines posting, scheduling, stopping, resetting
	ops      int  // operations per worker
	cycles   bool // Stop and ctx-ended Runs while the workers work
	shutdown bool // end with Shutdown rather than Close
	inbox    int  // inbox capacity (small values exercise the overflow path)
	store    TimerStore
}

// stressResult is what a round did, and what it found wrong.
type stressResult struct {
	ops, posts, oneShots, periodic, fired, ticks, stopTrue, cancelled, rejected, dos, rearms int64
	violations                                                                               []string
}

func (r *stressResult) add(o stressResult) {
	r.ops += o.ops
	r.posts += o.posts
	r.oneShots += o.oneShots
	r.periodic += o.periodic
	r.fired += o.fired
	r.ticks += o.ticks
	r.stopTrue += o.stopTrue
	r.rearms += o.rearms
	r.cancelled += o.cancelled
	r.rejected += o.rejected
	r.dos += o.dos
	r.violations = append(r.violations, o.violations...)
}

// stressTimer is the test's record of one accepted (or rejected) timer.
// Written by its worker and by the timer's callback: atomics only.
type stressTimer struct {
	t         *Timer
	periodic  bool
	ran       atomic.Int32 // calls of the callback
	stopped   atomic.Bool  // Stop reported true, and no Reset since
	afterStop atomic.Int32 // calls that began while stopped
	rearms    int32        // Resets that reported false: each re-armed the timer, unless the loop was closing; worker only
	// rearmsSeen is rearms, stored before each such Reset, for the callback.
	rearmsSeen atomic.Int32
}

// stressRound runs one round: cfg.workers goroutines hammer a Loop with
// Post, AfterFunc, Every, Timer.Stop, Timer.Reset and Do while it runs
// (and, with cycles, is stopped and restarted), and Close or Shutdown
// lands when a random share of the operations is done. Then it checks that
// nothing was lost, duplicated, reordered or run after a Stop that reported
// true, and that every rejection was ErrClosed.
func stressRound(cfg stressConfig) stressResult {
	var res stressResult
	var mu sync.Mutex
	violate := func(format string, args ...any) {
		mu.Lock()
		if len(res.violations) < 20 {
			res.violations = append(res.violations, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	l := New(WithInboxSize(cfg.inbox), WithBatch(1+int(cfg.seed%300)), WithTimerStore(cfg.store), WithPanicHandler(func(v any) {
		violate("callback panicked: %v", v)
	}))
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5eed))

	// The loop's runner: one Run, or Runs cut short by Stop and by ctx.
	runnerDone := make(chan struct{})
	endCycles := make(chan struct{})
	go func() {
		defer close(runnerDone)
		for i := 0; ; i++ {
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if cfg.cycles && i%2 == 1 {
				ctx, cancel = context.WithTimeout(ctx, time.Duration(50+i%500)*time.Microsecond)
			}
			err := l.Run(ctx)
			cancel()
			switch err {
			case ErrClosed:
				return
			case nil, context.DeadlineExceeded:
			case ErrRunning: // Close or Shutdown is finishing the loop itself
				<-l.Done()
			default:
				violate("Run: %v", err)
				return
			}
		}
	}()
	var stopperDone sync.WaitGroup
	if cfg.cycles {
		stopperDone.Add(1)
		go func() {
			defer stopperDone.Done()
			r := rand.New(rand.NewPCG(cfg.seed, 1))
			for {
				select {
				case <-endCycles:
					return
				case <-time.After(time.Duration(r.IntN(300)) * time.Microsecond):
					l.Pause()
				}
			}
		}()
	}

	// Close or Shutdown at a random moment.
	var opsDone atomic.Int64
	total := int64(cfg.workers * cfg.ops)
	closeAt := total/4 + rng.Int64N(total-total/4+1) // mostly mid-flight, sometimes after the last op
	closerDone := make(chan struct{})
	go func() {
		defer close(closerDone)
		for opsDone.Load() < closeAt {
			time.Sleep(50 * time.Microsecond)
		}
		var err error
		if cfg.shutdown {
			err = l.Shutdown(context.Background())
		} else {
			err = l.Close()
		}
		if err != nil {
			violate("Close/Shutdown: %v", err)
		}
	}()

	// lastPost[w] is the sequence number of worker w's last post to run.
	lastPost := make([]atomic.Int64, cfg.workers)
	var fired, ticks atomic.Int64
	type workerResult struct {
		posts, oneShots, periodic, stopTrue, rejected, dos, rearms int64
		timers                                                     []*stressTimer // accepted, to check at the end
		rejectedTimers                                             []*stressTimer
	}
	results := make([]workerResult, cfg.workers)
	var wg sync.WaitGroup
	for w := range cfg.workers {
		lastPost[w].Store(-1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(cfg.seed, uint64(w)+2))
			wr := &results[w]
			var live []*stressTimer
			post := l.Post
			if w%2 == 1 { // every other worker posts through a Producer of its own
				if pr, err := l.NewProducer(); err == nil {
					defer pr.Close()
					post = pr.Post
				} else if err != ErrClosed {
					violate("worker %d: NewProducer: %v, want nil or ErrClosed", w, err)
				}
			}
			delay := func() time.Duration {
				return time.Duration(r.IntN(400)-50) * time.Microsecond
			}
			checkErr := func(what string, err error) bool { // reports accepted
				if err == nil {
					return true
				}
				if err != ErrClosed {
					violate("worker %d: %s: %v, want nil or ErrClosed", w, what, err)
				}
				wr.rejected++
				return false
			}
			for range cfg.ops {
				opsDone.Add(1)
				switch op := r.IntN(100); {
				case op < 45: // Post (or Producer.Post), checking per-worker FIFO and exactly-once
					k := wr.posts
					err := post(func() {
						if prev := lastPost[w].Swap(k); prev != k-1 {
							violate("worker %d: post %d ran after %d (lost, duplicated or reordered)", w, k, prev)
						}
					})
					if checkErr("Post", err) {
						wr.posts++
					}
				case op < 70, op < 74: // AfterFunc or Every
					st := &stressTimer{periodic: op >= 70}
					fn := func() {
						if st.stopped.Load() {
							st.afterStop.Add(1)
						}
						if st.periodic {
							ticks.Add(1)
							st.ran.Add(1)
							return
						}
						if st.ran.Add(1) > 1+st.rearmsSeen.Load() {
							violate("worker %d: one-shot timer ran more often than it was armed", w)
						}
						fired.Add(1)
					}
					var err error
					if st.periodic {
						st.t, err = l.Every(time.Duration(50+r.IntN(500))*time.Microsecond, fn)
					} else {
						st.t, err = l.AfterFunc(delay(), fn)
					}
					if !checkErr("AfterFunc/Every", err) {
						wr.rejectedTimers = append(wr.rejectedTimers, st)
						continue
					}
					if st.periodic {
						wr.periodic++
					} else {
						wr.oneShots++
					}
					wr.timers = append(wr.timers, st)
					if len(live) < 32 {
						live = append(live, st)
					} else {
						live[r.IntN(len(live))] = st
					}
				case op < 88: // Stop a live timer
					if len(live) == 0 {
						continue
					}
					i := r.IntN(len(live))
					st := live[i]
					if st.t.Stop() {
						if st.stopped.Swap(true) {
							violate("worker %d: Stop reported true twice", w)
						}
						if !st.periodic && st.ran.Load() > st.rearms {
							violate("worker %d: Stop reported true for a timer that had fired since it was last armed", w)
						}
						wr.stopTrue++
						live[i] = live[len(live)-1]
						live = live[:len(live)-1]
					}
				case op < 99: // Reset a live timer
					if len(live) > 0 {
						st := live[r.IntN(len(live))]
						// Before the Reset, in case it re-arms: from then on a
						// call is allowed again.
						st.stopped.Store(false)
						st.rearmsSeen.Store(st.rearms + 1)
						if !st.t.Reset(delay()) {
							st.rearms++
							wr.rearms++
						} else {
							st.rearmsSeen.Store(st.rearms)
						}
					}
				default: // Do: exactly once if nil, never if an error
					ran := 0
					err := l.Do(context.Background(), func() { ran++ })
					if err == nil && ran != 1 || err != nil && ran != 0 {
						violate("worker %d: Do returned %v after running fn %d times", w, err, ran)
					}
					if checkErr("Do", err) {
						wr.dos++
					}
				}
			}
		}()
	}
	wg.Wait()
	<-closerDone
	close(endCycles)
	stopperDone.Wait()
	<-runnerDone

	// The loop has finished: nothing runs any more. Account for everything.
	for w := range results {
		wr := &results[w]
		if got := lastPost[w].Load(); got != wr.posts-1 {
			violate("worker %d: %d posts accepted, last to run was #%d", w, wr.posts, got)
		}
		for _, st := range wr.rejectedTimers {
			if st.ran.Load() != 0 {
				violate("worker %d: a rejected timer ran", w)
			}
		}
		for _, st := range wr.timers {
			if st.stopped.Load() {
				// A one-shot timer makes no call after a Stop that reported
				// true, except one: a call the loop had already claimed (so
				// an earlier arming had ended) when a Reset re-armed the
				// timer, and that began only after the Stop. A periodic one
				// makes at most the call in progress.
				allowed := int32(0)
				if st.periodic || st.rearms > 0 {
					allowed = 1
				}
				if n := st.afterStop.Load(); n > allowed {
					violate("worker %d: %d calls began after Stop reported true (periodic=%v)", w, n, st.periodic)
				}
			}
		}
		res.posts += wr.posts
		res.oneShots += wr.oneShots
		res.periodic += wr.periodic
		res.stopTrue += wr.stopTrue
		res.rearms += wr.rearms
		res.rejected += wr.rejected
		res.dos += wr.dos
	}
	s := l.Stats()
	res.ops = opsDone.Load()
	res.fired = fired.Load()
	res.ticks = ticks.Load()
	res.cancelled = int64(s.TimersCancelled)
	// Every arming of a timer ended exactly one way: a one-shot fired, or
	// it was stopped (Stop true) or cancelled by Close/Shutdown; a periodic
	// one was stopped or cancelled. A timer is armed when it is accepted,
	// and again by each Reset that reported false, except those that Close
	// or Shutdown refused.
	lives := res.oneShots + res.periodic + res.rearms - int64(s.ResetsRefused)
	if lives != res.fired+res.stopTrue+res.cancelled {
		violate("timers: %d one-shot + %d periodic accepted, %d re-armed (%d re-arms refused), but %d fired + %d stopped + %d cancelled",
			res.oneShots, res.periodic, res.rearms-int64(s.ResetsRefused), s.ResetsRefused, res.fired, res.stopTrue, res.cancelled)
	}
	if s.TimersFired != uint64(res.fired+res.ticks) {
		violate("Stats.TimersFired = %d, callbacks counted %d", s.TimersFired, res.fired+res.ticks)
	}
	return res
}

// TestStress is the seeded quick variant that CI runs under -race: rounds
// of up to 64 goroutines, with and without Stop/Run cycles, ending in Close
// or Shutdown at a random moment.
func TestStress(t *testing.T) {
	configs := []stressConfig{
		{workers: 4, ops: 8000, inbox: 4},
		{workers: 64, ops: 400, inbox: 4096},
		{workers: 64, ops: 400, inbox: 16, cycles: true},
		{workers: 8, ops: 4000, inbox: 64, cycles: true},
	}
	seed := uint64(1)
	for _, cfg := range configs {
		for _, shutdown := range []bool{false, true} {
			cfg := cfg
			cfg.shutdown = shutdown
			cfg.seed = seed
			cfg.store = TimerStore(seed % 2) // heap and wheel in turn
			seed++
			t.Run(fmt.Sprintf("workers=%d/cycles=%v/shutdown=%v/store=%v/seed=%d", cfg.workers, cfg.cycles, shutdown, cfg.store, cfg.seed), func(t *testing.T) {
				res := stressRound(cfg)
				for _, v := range res.violations {
					t.Error(v)
				}
				t.Logf("ops %d: posts %d, one-shot timers %d (fired %d), periodic %d (ticks %d), Stop true %d, cancelled %d, rejected %d, Do %d",
					res.ops, res.posts, res.oneShots, res.fired, res.periodic, res.ticks, res.stopTrue, res.cancelled, res.rejected, res.dos)
			})
		}
	}
}

// TestStressSoak repeats stress rounds with fresh seeds and random shapes
// for as long as -soak says, then reports the operations done and anything
// lost. Skipped unless -soak is set.
func TestStressSoak(t *testing.T) {
	if *soak <= 0 {
		t.Skip("set -soak=5m (or any duration) to run")
	}
	deadline := time.Now().Add(*soak)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var total stressResult
	rounds := 0
	for time.Now().Before(deadline) {
		cfg := stressConfig{
			seed:     rng.Uint64(),
			workers:  1 + rng.IntN(64),
			cycles:   rng.IntN(2) == 0,
			shutdown: rng.IntN(2) == 0,
			inbox:    2 << rng.IntN(12),
			store:    TimerStore(rng.IntN(2)),
		}
		cfg.ops = 200000 / cfg.workers
		res := stressRound(cfg)
		for _, v := range res.violations {
			t.Errorf("round %d (%+v): %s", rounds, cfg, v)
		}
		total.add(res)
		rounds++
	}
	t.Logf("soak %v: %d rounds, %d operations: posts %d, one-shot timers %d (fired %d), periodic %d (ticks %d), Stop true %d, cancelled %d, rejected %d, Do %d; violations (lost, duplicated, reordered, wrong results): %d",
		*soak, rounds, total.ops, total.posts, total.oneShots, total.fired, total.periodic, total.ticks,
		total.stopTrue, total.cancelled, total.rejected, total.dos, len(total.violations))
}

// TestStressTimerFiringRaces: timers are stopped or reset from other
// goroutines at about the moment they fire. Stop reports true exactly when
// the callback never runs; every other timer runs exactly once, whatever
// Reset reported.
func TestStressTimerFiringRaces(t *testing.T) {
	l := New()
	stop := start(t, l)
	const goroutines, rounds = 16, 300
	var wg sync.WaitGroup
	var stoppedTrue, mustRun atomic.Int64
	runs := make([]atomic.Int32, goroutines*rounds)
	want := make([]int32, goroutines*rounds) // runs expected: 1, 2 (re-armed after it fired) or 100 (stopped)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 99))
			for i := range rounds {
				id := g*rounds + i
				d := time.Duration(r.IntN(30)) * time.Microsecond
				tm := must(l.AfterFunc(d, func() {
					if runs[id].Add(1) > 2 {
						t.Errorf("timer %d ran more than twice", id)
					}
				}))
				spin := time.Now().Add(time.Duration(r.IntN(30)) * time.Microsecond)
				for time.Now().Before(spin) {
				}
				if r.IntN(2) == 0 {
					if tm.Stop() {
						stoppedTrue.Add(1)
						runs[id].Add(100) // a run after this shows up as 101
						want[id] = 100
						continue
					}
					want[id] = 1
				} else if tm.Reset(time.Duration(r.IntN(20)-5) * time.Microsecond) {
					want[id] = 1 // moved before it fired
				} else {
					want[id] = 2 // it had fired: re-armed
				}
				mustRun.Add(int64(want[id]))
			}
		}()
	}
	wg.Wait()
	// Let every remaining timer fire (the deadlines are microseconds away).
	for {
		ran := int64(0)
		for i := range runs {
			if v := runs[i].Load(); v < 100 {
				ran += int64(v)
			}
		}
		if ran == mustRun.Load() {
			break
		}
		time.Sleep(time.Millisecond)
	}
	do(t, l, func() {})
	stop()
	for id := range runs {
		if v := runs[id].Load(); v != want[id] {
			t.Errorf("timer %d: runs+100*stopped = %d, want %d", id, v, want[id])
		}
	}
	t.Logf("%d timers, %d stopped in time, %d runs", goroutines*rounds, stoppedTrue.Load(), mustRun.Load())
}
