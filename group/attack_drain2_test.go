package group

// Second adversarial pass on Shutdown's drain (drain.go), after the fixes
// of attack_drain_test.go. Tests with "Bug" in their names failed against
// the version they attacked; each says why. Three pass since their fixes
// (continuations through Local().AfterFunc(0) counted, a ticker made
// during the drain stopped; core's attack9_test.go has the third,
// StopPeriodic from a tick), and five are skipped, each naming the gap
// left open. No test asserts that anything is fast: a drain that never ends is
// caught by a 10 s ctx (longCtx) reported as an error, a hang by -timeout.

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotloop/hotloop/core"
)

// ---------------------------------------------------------------------------
// (1) The "other work" count.

// BUG (documented gap, rule 1): a job set off by an accepted callback that
// yields with Local().AfterFunc(0, next) — the timer twin of
// TestAttackDrainBugLocalPostYieldIsCutOff — is cut off: timer callbacks
// are not counted (drain.go rule 1), so two waves between slices see
// equal counts, the drain ends, and the job's result (a Send) meets a loop
// shutting down (core.ErrClosed).
func TestAttackDrain2BugAfterFuncYieldIsCutOff(t *testing.T) {
	shutErr, jobErr, n, arrived := yieldingJob(t, func(g *Group, fn func()) error {
		_, err := g.Loop(1).Local().AfterFunc(0, fn)
		return err
	})
	if shutErr != nil {
		t.Errorf("Shutdown: %v", shutErr)
	}
	if jobErr != nil || !arrived {
		t.Errorf("a job yielding with Local().AfterFunc(0, …): %d of %d slices ran, result arrived %v, first error %v", n, 1<<14, arrived, jobErr)
	}
}

// Chains of every continuation that is counted: Local().Post, Do from
// another goroutine answered by a Send, a message whose handler Posts to a
// user's Producer on another loop that then Sends. All set off by work
// accepted before Shutdown; every result arrives.
func TestAttackDrain2MixedContinuations(t *testing.T) {
	const n = 3
	g := mustNew(t, n)
	errc := startAll(t, g, context.Background())
	prods := make([]*core.Producer, n)
	for i := range n {
		p, err := g.Loop(i).NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		prods[i] = p
	}
	var errs firstErr
	var leaves atomic.Int64
	var step func(at, ttl int)
	step = func(at, ttl int) {
		if ttl == 0 {
			leaves.Add(1)
			return
		}
		next := (at + 1) % n
		switch ttl % 3 {
		case 0: // Local().Post, then a Send
			errs.add(g.Loop(at).Local().Post(func() {
				errs.add(g.From(at).Send(next, func() { step(next, ttl-1) }))
			}))
		case 1: // through a user's Producer into the next loop (a post, counted there)
			errs.add(prods[next].Post(func() { step(next, ttl-1) }))
		case 2: // a Send
			errs.add(g.From(at).Send(next, func() { step(next, ttl-1) }))
		}
	}
	ctx, cancel := longCtx()
	defer cancel()
	err := shutdownWhileHeld(t, g, ctx, func(i int) {
		for k := range 4 {
			errs.add(g.Loop(i).Local().Post(func() { step(i, 60+k) }))
		}
	})
	for _, p := range prods {
		p.Close()
	}
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if e, k := errs.get(); e != nil {
		t.Errorf("%d continuations refused; first %v", k, e)
	}
	<-errc
	if l := leaves.Load(); l != int64(n*4) {
		t.Errorf("%d of %d chains reached their end", l, n*4)
	}
}

// BUG (racy: about 1 run in 15 under -race): a PostKeyWait blocked on a
// full inbox when Shutdown is called is accepted when the loop makes room
// (as its doc says), but the drain does not wait for it: the room is made
// by the loop's drain of its inbox, the waves see the loop go quiet while
// the woken waiter's goroutine has not yet pushed, the drain ends, and the
// post, accepted just before core's Shutdown closes the inbox, runs during
// it: its Send to another loop gets core.ErrClosed. Work the group
// accepted (PostKeyWait returned nil) sets off a message that is lost,
// which the Shutdown doc promises against. Fix: count PostKeyWait calls in
// progress (add before the draining check, subtract on return) and let
// the drain end only when none is (drain.go:173), or make PostKeyWait
// return ErrClosed for a wait that ends after Shutdown began (a core
// PostWait variant that re-checks a predicate before it pushes).
func TestAttackDrain2BugPostKeyWaitWokenDuringDrain(t *testing.T) {
	t.Skip("known gap, left open in #15: a PostKeyWait already waiting when Shutdown is called may be accepted after the drain has seen its loop quiet, and what its callback sends is then refused (documented on PostKeyWait)")
	g := mustNew(t, 2, core.WithInboxSize(16))
	errc := startAll(t, g, context.Background())
	key0 := uint64(0)
	for g.Index(key0) != 0 {
		key0++
	}
	release := holdLoop(t, g, 0, func() {})
	for g.Loop(0).TryPost(func() {}) == nil { // fill the inbox
	}
	var sendErr atomic.Value
	arrived := make(chan struct{})
	pw := make(chan error, 1)
	go func() {
		pw <- g.PostKeyWait(context.Background(), key0, func() {
			if err := g.From(0).Send(1, func() { close(arrived) }); err != nil {
				sendErr.Store(err)
			}
		})
	}()
	for !blockedIn("group.(*Group).PostKeyWait") { // the waiter waits before Shutdown
		runtime.Gosched()
	}
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	waitDraining(t, g)
	release()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	<-errc
	err := <-pw
	if err == nil {
		if e := sendErr.Load(); e != nil || !isClosedChan(arrived) {
			t.Errorf("a PostKeyWait called before Shutdown, accepted during it: its Send got %v, arrived %v", e, isClosedChan(arrived))
		}
	} else if err != core.ErrClosed {
		t.Errorf("PostWait: %v", err)
	}
}

// blockedIn reports whether a goroutine's stack holds fn and it waits.
func blockedIn(fn string) bool {
	buf := make([]byte, 1<<20)
	for _, gr := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(gr, fn) && (strings.Contains(gr, "[select") || strings.Contains(gr, "[chan receive")) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// (2) Periodic timers.

// BUG: a periodic timer made during the drain that sends keeps the drain
// going for ever (a period shorter than a wave: 1 us here, any period
// under load). Rule 4 (drain.go) stops periodic timers in the first
// wave only; "one made during the drain runs until the loop shuts down" —
// but the loops shut down only after the drain, and each tick's Send
// moves the sender's count, so two equal waves never come: BUG C of
// attack_drain_test.go again, for a ticker started by a message that work
// accepted before Shutdown set off (a connection's keep-alive started by
// its handshake). Shutdown(context.Background()) never returns; the
// Shutdown doc says "Periodic timers stop when Shutdown is called".
func TestAttackDrain2BugEveryMadeDuringDrainNeverEnds(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	var ticks atomic.Int64
	const hops = 200 // long enough that loop 1's first-wave callback has run
	var hop func(at, k int)
	hop = func(at, k int) {
		if k == hops {
			if _, err := g.Loop(at).Local().Every(time.Microsecond, func() {
				if g.From(at).Send(1-at, func() {}) == nil {
					ticks.Add(1)
				}
			}); err != nil {
				t.Error(err)
			}
			return
		}
		_ = g.From(at).Send(1-at, func() { hop(1-at, k+1) })
	}
	ctx, cancel := longCtx()
	defer cancel()
	err := shutdownWhileHeld(t, g, ctx, func(i int) {
		if i == 0 {
			hop(0, 0)
		}
	})
	if err != nil {
		t.Errorf("Shutdown of a group where a message accepted-work set off starts a sending ticker during the drain: %v after %d ticks (never returns with context.Background())", err, ticks.Load())
	}
	<-errc
}

// Tickers Reset and Stopped by other goroutines while Shutdown runs:
// Shutdown returns, each ticker ends stopped, TimersCancelled counts no
// ticker twice. (The tickers do not send: a re-armed sending ticker is
// outside work, documented.)
func TestAttackDrain2TickersResetConcurrently(t *testing.T) {
	const n = 3
	g := mustNew(t, n)
	errc := startAll(t, g, context.Background())
	var tickers []*core.Timer
	for i := range n {
		on(t, g, i, func() {
			for range 4 {
				tm, err := g.Loop(i).Local().Every(time.Millisecond, func() {})
				if err != nil {
					t.Fatal(err)
				}
				tickers = append(tickers, tm)
			}
		})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w, tm := range tickers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if (w+k)%3 == 0 {
					tm.Stop()
				} else {
					tm.Reset(time.Duration(k%5) * time.Millisecond)
				}
				runtime.Gosched()
			}
		}()
	}
	err := g.Shutdown(context.Background())
	close(stop)
	wg.Wait()
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	<-errc
	for i, tm := range tickers {
		if tm.Stop() {
			t.Errorf("ticker %d armed after Shutdown", i)
		}
		if tm.Reset(time.Millisecond) {
			t.Errorf("ticker %d: Reset after Shutdown reported true", i)
		}
	}
	var total core.Stats
	for i := range n {
		total.Add(g.Loop(i).Stats())
	}
	if total.TimersCancelled > uint64(len(tickers))*1_000_000 {
		t.Errorf("TimersCancelled %d", total.TimersCancelled)
	}
}

// Tickers present at Shutdown are stopped once (in the first wave) and
// counted once in TimersCancelled; Timer.Stop then reports false.
func TestAttackDrain2TickersCountedOnce(t *testing.T) {
	const n = 4
	g := mustNew(t, n)
	errc := startAll(t, g, context.Background())
	var tickers []*core.Timer
	for i := range n {
		on(t, g, i, func() {
			for range 3 {
				tm, err := g.Loop(i).Local().Every(time.Hour, func() {})
				if err != nil {
					t.Fatal(err)
				}
				tickers = append(tickers, tm)
			}
		})
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-errc
	for i, tm := range tickers {
		if tm.Stop() {
			t.Errorf("ticker %d: Stop after Shutdown reported true", i)
		}
	}
	var total core.Stats
	for i := range n {
		total.Add(g.Loop(i).Stats())
	}
	if total.TimersCancelled != uint64(len(tickers)) {
		t.Errorf("TimersCancelled %d, want %d", total.TimersCancelled, len(tickers))
	}
}

// ---------------------------------------------------------------------------
// (3) runForDrain and the run state.

// BUG: Shutdown called after Run's ctx ended but before Run has returned
// (a loop still finishing a callback) skips the drain. The loop that
// returned closed Run's `ended` (runState.shut = true); Run is still in
// progress (runs = 1), so runForDrain's startRun (drain.go:75) hands back
// that same closed channel instead of a fresh one, and drain's running()
// (drain.go:168) reports false at once. The loops are then shut down
// without a drain, and a chain that work accepted before Shutdown sets
// off is refused (core.ErrClosed) — as if Shutdown had been called before
// the feature. Shutdown after Run has returned does drain
// (TestAttackDrain2AfterRunReturnedDrains). Calling Shutdown right after
// cancelling Run's ctx, without waiting for Run, is the usual pattern.
func TestAttackDrain2BugShutdownWhileRunReturning(t *testing.T) {
	t.Skip("known gap, left open in #15: a Shutdown called while a Run whose ctx is done is still returning skips the drain (documented on Shutdown; a fix that waited for that Run hung TestAttackCloseAtEveryMoment under -race)")
	g := mustNew(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	errc := startAll(t, g, ctx)
	const hops = 100
	var errs firstErr
	ran := 0
	var hop func(at int)
	hop = func(at int) {
		if ran++; ran == hops {
			return
		}
		next := 1 - at
		errs.add(g.From(at).Send(next, func() { hop(next) }))
	}
	release := holdLoop(t, g, 0, func() { hop(0) })
	cancel()
	for { // loop 1's Run has returned for the done ctx; loop 0's is held
		if _, ok := g.run.running(); !ok {
			break
		}
		runtime.Gosched()
	}
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	waitDraining(t, g)
	shutdownBegins(g)
	release()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	if e, _ := errs.get(); e != nil || ran != hops {
		t.Errorf("Shutdown right after Run's ctx ended, Run still returning: the drain was skipped: %d of %d hops ran, a send got %v", ran, hops, e)
	}
}

func TestAttackDrain2AfterRunReturnedDrains(t *testing.T) {
	g := mustNew(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	errc := startAll(t, g, ctx)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	var errs firstErr
	ran := 0
	var hop func(at int)
	hop = func(at int) {
		if ran++; ran == 100 {
			return
		}
		errs.add(g.From(at).Send(1-at, func() { hop(1 - at) }))
	}
	if err := g.Loop(0).Post(func() { hop(0) }); err != nil {
		t.Fatal(err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if e, _ := errs.get(); e != nil || ran != 100 {
		t.Errorf("after Run returned: %d of 100 hops, %v", ran, e)
	}
}

// BUG (racy: a few runs in 20 under -race, in the package run): with the
// loops run one by one (g.Loop(i).Run, which the API allows: Loop exposes
// them), whether Shutdown drains is a race. Run is not running them, so
// runForDrain starts runLoops; every l.Run returns core.ErrRunning at
// once, runLoops returns and endRun (drain.go:96) sets ended to nil; if
// drain's running() (drain.go:168) comes after that, the drain is skipped
// and the chain is refused (core.ErrClosed); before it, the drain holds a
// channel no loop will close (TestAttackDrain2BugLoopRunByHandStops…).
// Fix: have runForDrain pass its `ended` to drain rather than drain
// re-reading the run state, and decide up front (all ErrRunning with no
// Group.Run) whether the drain can rely on the loops; or document that
// Shutdown drains only loops run by Group.Run or by itself.
func TestAttackDrain2BugLoopsRunOneByOne(t *testing.T) {
	t.Skip("known gap, left open in #15: with loops run one by one (g.Loop(i).Run), Shutdown may see no Run and skip the drain (documented on Shutdown)")
	g := mustNew(t, 2)
	var wg sync.WaitGroup
	for i := range g.Len() {
		wg.Add(1)
		go func() { defer wg.Done(); _ = g.Loop(i).Run(context.Background()) }()
		on(t, g, i, func() {})
	}
	shutErr, sendErr, ran := chainUnderShutdown(t, g, func() { shutdownBegins(g) })
	wg.Wait()
	if shutErr != nil {
		t.Errorf("Shutdown: %v", shutErr)
	}
	if sendErr != nil || ran != 100 {
		t.Errorf("loops run with core.Loop.Run: the drain was skipped: %d of 100 hops ran, a send got %v", ran, sendErr)
	}
}

// Shutdown with no Run: a callback's panic escaping the panic handler is
// raised again on Shutdown's goroutine, after the loops have finished;
// nothing leaks (goleak in TestMain).
func TestAttackDrain2NoRunPanicRaisedOnShutdown(t *testing.T) {
	g := mustNew(t, 3, core.WithPanicHandler(func(v any) { panic(v) }))
	var chainErrs firstErr
	hopsRan := 0
	var hop func(at int)
	hop = func(at int) {
		if hopsRan++; hopsRan == 50 {
			panic("boom")
		}
		chainErrs.add(g.From(at).Send(1-at, func() { hop(1 - at) }))
	}
	if err := g.Loop(0).Post(func() { hop(0) }); err != nil {
		t.Fatal(err)
	}
	var got any
	func() {
		defer func() { got = recover() }()
		_ = g.Shutdown(context.Background())
	}()
	if got != "boom" {
		t.Errorf("Shutdown raised %v, want boom", got)
	}
	for i := range g.Len() {
		select {
		case <-g.Loop(i).Done():
		default:
			t.Errorf("loop %d not finished after Shutdown raised the panic", i)
		}
	}
}

// Shutdown with no Run: a callback's Goexit ends the drain; Shutdown
// still shuts every loop down and returns nil.
func TestAttackDrain2NoRunGoexit(t *testing.T) {
	g := mustNew(t, 2)
	if err := g.Loop(1).Post(runtime.Goexit); err != nil {
		t.Fatal(err)
	}
	ranAfter := make(chan struct{})
	if err := g.Loop(1).Post(func() { close(ranAfter) }); err != nil {
		t.Fatal(err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if !isClosedChan(ranAfter) {
		t.Error("a callback accepted after the Goexit did not run")
	}
}

// runDuringNoRunDrain starts Shutdown with no Run while loop 0 holds a
// callback that then starts a 100-hop chain; once Shutdown runs loop 0
// (and, if both, loop 1 too) it calls Run, then releases the chain. It
// returns Run's and Shutdown's errors and the chain's outcome.
func runDuringNoRunDrain(t *testing.T, both bool) (runErr, shutErr, sendErr error, ran int) {
	g := mustNew(t, 2)
	entered, entered1, rel := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var errs firstErr
	var hop func(at int)
	hop = func(at int) {
		if ran++; ran == 100 {
			return
		}
		errs.add(g.From(at).Send(1-at, func() { hop(1 - at) }))
	}
	if err := g.Loop(0).Post(func() { close(entered); <-rel; hop(0) }); err != nil {
		t.Fatal(err)
	}
	if err := g.Loop(1).Post(func() { close(entered1) }); err != nil {
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	<-entered // Shutdown runs loop 0
	if both {
		<-entered1 // and loop 1
	}
	runc := make(chan error, 1)
	go func() { runc <- g.Run(context.Background()) }()
	if both {
		runErr = <-runc
	}
	close(rel)
	shutErr = <-shut
	if !both {
		runErr = <-runc
	}
	sendErr, _ = errs.get()
	return runErr, shutErr, sendErr, ran
}

// A Run called once Shutdown runs every loop for its drain returns
// core.ErrRunning (exactly) and does not cut the drain.
func TestAttackDrain2RunDuringNoRunDrain(t *testing.T) {
	for range 5 {
		runErr, shutErr, sendErr, ran := runDuringNoRunDrain(t, true)
		if runErr != core.ErrRunning {
			t.Errorf("Run during Shutdown's own run: %v, want core.ErrRunning", runErr)
		}
		if shutErr != nil || sendErr != nil || ran != 100 {
			t.Errorf("Shutdown %v; %d of 100 hops, %v", shutErr, ran, sendErr)
		}
	}
}

// BUG (doc, minor): "a Run called meanwhile returns core.ErrRunning"
// (Group.Shutdown) holds only once runForDrain's goroutines have taken
// every loop. runForDrain starts runLoops (one goroutine per loop, group.go
// all) and Shutdown goes on; a Run called before one of those goroutines
// has reached l.Run takes that loop (the other gets ErrRunning), shares
// Shutdown's `ended` (startRun, drain.go:75), runs it until Shutdown
// finishes it, and returns ErrRunning joined with ErrClosed only then;
// if that Run's ctx ends during the drain, its loop's return cuts
// Shutdown's drain. Found when a first version of the test above waited
// for Run before releasing the held loop and hung under -race. Fix: say
// so in the doc, or have runForDrain take every loop (e.g. core Acquire)
// before it returns.
func TestAttackDrain2BugRunRacingNoRunDrainTakesALoop(t *testing.T) {
	t.Skip("known gap, left open in #15: a Run racing the Shutdown that runs the loops itself can take a loop first; it then returns ErrRunning joined with ErrClosed once the loops finish, and its ctx can cut the drain short (documented on Shutdown)")
	bad := 0
	var last error
	for range 50 {
		runErr, shutErr, sendErr, ran := runDuringNoRunDrain(t, false)
		if shutErr != nil || sendErr != nil || ran != 100 {
			t.Errorf("Shutdown %v; %d of 100 hops, %v", shutErr, ran, sendErr)
		}
		if runErr != core.ErrRunning {
			bad++
			last = runErr
		}
	}
	if bad > 0 {
		t.Errorf("%d of 50 Runs called while Shutdown ran the loops for its drain did not return core.ErrRunning at once; last: %v", bad, last)
	}
}

// Shutdown with no Run and a ctx that ends during the drain (an endless
// exchange): Shutdown returns ctx's error, stops the loops it ran, leaks
// no goroutine; a later Shutdown (Background) finishes the group once the
// exchange is refused.
func TestAttackDrain2NoRunCtxEndsDuringDrain(t *testing.T) {
	g := mustNew(t, 2)
	stopped := make(chan error, 1)
	var hop func(at int)
	hop = func(at int) {
		if err := g.From(at).Send(1-at, func() { hop(1 - at) }); err != nil {
			stopped <- err
		}
	}
	if err := g.Loop(0).Post(func() { hop(0) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(ctx) }()
	waitDraining(t, g)
	for g.From(0).sent.Load() < 100 { // the exchange runs: Shutdown runs the loops
		runtime.Gosched()
	}
	cancel()
	if err := <-shut; err != context.Canceled {
		t.Errorf("Shutdown: %v, want context.Canceled", err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := <-stopped; err != core.ErrClosed {
		t.Errorf("exchange ended with %v", err)
	}
}

// Two Shutdowns at once with no Run, plus a flood: both return nil, every
// message runs.
func TestAttackDrain2NoRunTwoShutdowns(t *testing.T) {
	g := mustNew(t, 3)
	f := &flood{g: g, fanEvery: 11}
	for i := range g.Len() {
		if err := g.Loop(i).Post(func() {
			for k := range 5 {
				f.send(i, 20, splitmix(uint64(i)<<32|uint64(k)))
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	shut := make(chan error, 2)
	for range 2 {
		go func() { shut <- g.Shutdown(context.Background()) }()
	}
	for range 2 {
		if err := <-shut; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	f.check(t)
}

// Shutdown called from a callback while Shutdown (no Run) runs the loops,
// and from a Call's reply: both return, every message runs.
func TestAttackDrain2ShutdownFromCallbackNoRun(t *testing.T) {
	g := mustNew(t, 2)
	f := &flood{g: g, fanEvery: 7}
	var inner atomic.Int64
	if err := g.Loop(0).Post(func() {
		for k := range 5 {
			f.send(0, 30, splitmix(uint64(k)))
		}
		_ = Call(g.From(0), 1, func() int { return 1 }, func(int) {
			inner.Add(1)
			if err := g.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown from a reply: %v", err)
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	f.check(t)
	if inner.Load() != 1 {
		t.Errorf("the reply ran %d times", inner.Load())
	}
	for i := range g.Len() {
		<-g.Loop(i).Done()
	}
}

// BUG: loops run one by one (g.Loop(i).Run) and one of them stops during
// the drain (its own ctx): nothing tells the drain (no Group.Run, so no
// loopReturned), and runForDrain did not run the loops (ErrRunning), so
// the wave posted to the stopped loop never runs and Shutdown waits until
// its ctx ends: with context.Background() for ever. The doc says the drain
// "is cut short when one of the running loops returns", and that Shutdown
// runs loops nobody runs, as core.Loop.Shutdown does; here it does
// neither. Fix: in runForDrain, when runLoops gets ErrRunning from a loop
// that no Group.Run owns, keep retrying it (or let core tell the drain when
// a loop is released, e.g. a Loop-level "released" notification), or at
// least document that Shutdown drains only loops run by Group.Run.
func TestAttackDrain2BugLoopRunByHandStopsDuringDrain(t *testing.T) {
	t.Skip("known gap, left open in #15: a loop run by hand that stops during the drain is not watched, and Shutdown waits until its ctx ends (documented on Shutdown)")
	g := mustNew(t, 2)
	var wg sync.WaitGroup
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	for i := range g.Len() {
		ctx := context.Background()
		if i == 1 {
			ctx = ctx1
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = g.Loop(i).Run(ctx) }()
		on(t, g, i, func() {})
	}
	release := holdLoop(t, g, 0, func() {})
	ctx, cancel := longCtx()
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(ctx) }()
	waitDraining(t, g)
	cancel1() // loop 1's own Run returns
	release()
	err := <-shut
	wg.Wait()
	if err != nil {
		t.Errorf("Shutdown (10 s ctx) after a loop run with core.Loop.Run stopped during the drain: %v; with context.Background() it never returns", err)
	}
	for i := range g.Len() { // let the loops finish either way
		_ = g.Loop(i).Shutdown(context.Background())
	}
}
