package group

// Attack tests for Shutdown's drain (drain.go). Tests whose name contains
// "Bug" failed against the drain as first written; each says what was
// expected, what happened and why (the BUG notes below are the
// adversarial pass's diagnoses, kept as written), and each passes since
// its fix: a Run that gets ErrRunning no longer ends the drain (A), the
// drain counts the posted callbacks each loop runs (B: core's
// Local().Callbacks), and its first wave stops periodic timers (C: core's
// Local().StopPeriodic). The others pin behaviour that holds.
// No test asserts that anything is fast: a hang is caught by the test
// binary's -timeout, or (for the drains that never end) by a ctx far
// longer than any drain, reported as an error.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotloop/hotloop/core"
)

// ---------------------------------------------------------------------------
// Helpers.

// firstErr keeps the first error reported to it, from any goroutine.
type firstErr struct {
	mu  sync.Mutex
	err error
	n   int
}

func (f *firstErr) add(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
	f.n++
}

func (f *firstErr) get() (error, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err, f.n
}

// splitmix is a stateless pseudo-random step, so callbacks on different
// loops need no shared generator.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	return mix(x)
}

// flood sends chains of messages between the loops of g with every kind
// of send (Send, TrySend, SendKey, SendKeyString, Call, self-sends), and
// counts what was accepted and what ran.
type flood struct {
	g                 *Group
	accepted, ran     atomic.Int64 // messages (Call's first hop included)
	calls, replies    atomic.Int64 // Calls accepted, replies run
	errs              firstErr     // any refused send (ErrFull excepted)
	full              atomic.Int64 // TrySend's ErrFull: not a drain matter, counted apart
	noSelf, noTrySend bool
	fanEvery          uint64 // a message fans out to two every fanEvery hops (0: never)
	wrongLoop         atomic.Int64
}

// hop is a message arriving on loop at, with ttl hops to go.
func (f *flood) hop(at int, ttl int, r uint64) {
	f.ran.Add(1)
	if !f.g.loops[at].OnLoop() {
		f.wrongLoop.Add(1)
	}
	if ttl == 0 {
		return
	}
	fan := 1
	if f.fanEvery != 0 && r%f.fanEvery == 0 {
		fan = 2
	}
	for k := range fan {
		r = splitmix(r + uint64(k))
		f.send(at, ttl-1, r)
	}
}

func (f *flood) send(at, ttl int, r uint64) {
	g, s := f.g, f.g.From(at)
	n := g.Len()
	to := int(r % uint64(n))
	if to == at && f.noSelf {
		to = (at + 1) % n
	}
	kinds := 5
	if f.noTrySend {
		kinds = 4
	}
	var err error
	switch kind := (r >> 20) % uint64(kinds); kind {
	case 0:
		err = s.Send(to, func() { f.hop(to, ttl, splitmix(r)) })
	case 1:
		key := r >> 7
		kt := g.Index(key)
		if kt == at && f.noSelf {
			err = s.Send(to, func() { f.hop(to, ttl, splitmix(r)) })
			break
		}
		err = s.SendKey(key, func() { f.hop(kt, ttl, splitmix(r)) })
	case 2:
		key := fmt.Sprint(r >> 9)
		kt := g.IndexString(key)
		if kt == at && f.noSelf {
			err = s.Send(to, func() { f.hop(to, ttl, splitmix(r)) })
			break
		}
		err = s.SendKeyString(key, func() { f.hop(kt, ttl, splitmix(r)) })
	case 3:
		from := at
		err = Call(s, to, func() int {
			f.ran.Add(1)
			return ttl
		}, func(v int) {
			f.replies.Add(1)
			f.ran.Add(-1) // the answer is not a message of its own: hop counts it
			f.hop(from, v, splitmix(r))
		})
		if err == nil {
			f.calls.Add(1)
		}
	case 4:
		err = s.TrySend(to, func() { f.hop(to, ttl, splitmix(r)) })
		if errors.Is(err, core.ErrFull) {
			f.full.Add(1)
			return
		}
	}
	if err != nil {
		f.errs.add(fmt.Errorf("send from loop %d to %d (ttl %d): %w", at, to, ttl, err))
		return
	}
	f.accepted.Add(1)
}

// check reports a refused send, a message that did not run, a Call answer
// lost.
func (f *flood) check(t *testing.T) {
	t.Helper()
	if err, n := f.errs.get(); err != nil {
		t.Errorf("%d sends refused during the drain; first: %v", n, err)
	}
	if a, r := f.accepted.Load(), f.ran.Load(); a != r {
		t.Errorf("%d messages accepted, %d ran", a, r)
	}
	if c, r := f.calls.Load(), f.replies.Load(); c != r {
		t.Errorf("%d Calls accepted, %d answers ran", c, r)
	}
	if w := f.wrongLoop.Load(); w != 0 {
		t.Errorf("%d messages ran on the wrong loop", w)
	}
}

// shutdownWhileHeld holds every loop of g in a callback, starts Shutdown,
// waits until the group refuses posts, and releases the loops: each runs
// start(i) then, inside a callback accepted before Shutdown. It returns
// Shutdown's result.
func shutdownWhileHeld(t *testing.T, g *Group, ctx context.Context, start func(i int)) error {
	t.Helper()
	var releases []func()
	for i := range g.Len() {
		releases = append(releases, holdLoop(t, g, i, func() { start(i) }))
	}
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(ctx) }()
	waitDraining(t, g)
	for _, r := range releases {
		r()
	}
	return <-shut
}

// longCtx is a ctx far longer than any drain of these tests: a drain that
// outlives it never ends.
func longCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// ---------------------------------------------------------------------------
// BUG A: a Run that fails with core.ErrRunning turns the drain off.
//
// Group.Run calls g.run.loopReturned(ended) in a defer around every
// l.Run(ctx) (group.go:85), also when l.Run returns core.ErrRunning at once
// because another Run (or anything else) owns the loop. A second Run while
// the group runs shares the first Run's `ended` (startRun, drain.go:64:
// runs > 0 keeps it), so its loops, all returning ErrRunning, close it:
// from then on running() reports false (drain.go:96) and every Shutdown
// skips the drain although the first Run still runs every loop; called
// during a drain, the failed Run cuts it short. Messages between loops are
// then refused exactly as before the feature.
//
// Fix: only a loop this Run actually ran may end the drain: in Run's f,
// `err := l.Run(ctx); if err != core.ErrRunning { g.run.loopReturned(ended) }`
// (keeping the Goexit/panic path with a `returned` flag), or give each Run
// its own channel and let running() require every loop to be owned by
// a live Run.
// ---------------------------------------------------------------------------

// chainUnderShutdown runs the chain of TestShutdownDrainsMessageChains
// (hops messages between loops 0 and 1, set off by a callback accepted
// before Shutdown), calling during() while the drain waits for loop 0.
// It returns Shutdown's error, the first refused send and the hops run.
func chainUnderShutdown(t *testing.T, g *Group, during func()) (shutErr, sendErr error, ran int) {
	t.Helper()
	const hops = 100
	var errs firstErr
	var hop func(at int)
	hop = func(at int) {
		if ran++; ran == hops {
			return
		}
		next := 1 - at
		errs.add(g.From(at).Send(next, func() { hop(next) }))
	}
	release := holdLoop(t, g, 0, func() { hop(0) })
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	waitDraining(t, g)
	during()
	release()
	shutErr = <-shut
	sendErr, _ = errs.get()
	return shutErr, sendErr, ran
}

// shutdownBegins gives a Shutdown that skipped or cut its drain the time
// to shut loop 1 down (idle, it finishes at once), while loop 0 is held:
// it returns when loop 1 has finished, or after a second if it has not (a
// working drain waits for loop 0, so loop 1 never finishes here). Not a
// timing assertion: only how long the bug is given to show.
func shutdownBegins(g *Group) {
	select {
	case <-g.Loop(1).Done():
	case <-time.After(time.Second):
	}
}

func TestAttackDrainBugSecondRunTurnsDrainOff(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	if err := g.Run(context.Background()); err != core.ErrRunning {
		t.Fatalf("a second Run: %v, want core.ErrRunning", err)
	}
	shutErr, sendErr, ran := chainUnderShutdown(t, g, func() { shutdownBegins(g) })
	if shutErr != nil {
		t.Errorf("Shutdown: %v", shutErr)
	}
	if sendErr != nil || ran != 100 {
		t.Errorf("after a second Run failed with ErrRunning (the first still runs every loop), Shutdown skipped the drain: %d of 100 hops ran, a send got %v", ran, sendErr)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

func TestAttackDrainBugRunDuringDrainCutsIt(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	var runErr error
	shutErr, sendErr, ran := chainUnderShutdown(t, g, func() {
		runErr = g.Run(context.Background()) // returns at once: every loop is Run's
		shutdownBegins(g)
	})
	if runErr != core.ErrRunning {
		t.Errorf("Run during the drain: %v, want core.ErrRunning", runErr)
	}
	if shutErr != nil {
		t.Errorf("Shutdown: %v", shutErr)
	}
	if sendErr != nil || ran != 100 {
		t.Errorf("a Run refused with ErrRunning during the drain cut the drain short: %d of 100 hops ran, a send got %v", ran, sendErr)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// ---------------------------------------------------------------------------
// BUG B (rule 3's argument): a chain that yields with Local().Post between
// two messages escapes the drain.
//
// The idiom for long work on a loop is to do it in slices, each
// Local().Post-ing the next so that the loop's other work goes on, and to
// send the result when done. Here a message from loop 0 to loop 1 (set off
// by work accepted before Shutdown) starts such a job on loop 1, which
// sends its result back to loop 0. Local().Post is not counted
// (send.go:66 and 89 count only a Sender's sends), and a wave's marker to the
// loop itself flushes only what was queued before it: while the job
// yields, loop 1's ready queue always holds its next slice, the wave
// callbacks run between slices, two waves see no new send and the drain
// ends (drain.go:110) with the job half done. Then core's Shutdown refuses
// the job's next Local().Post, or the lane refuses its result: work set
// off by an accepted callback is lost, which the Shutdown doc promises
// against ("a chain of messages ... that work accepted before Shutdown
// sets off arrives"). The same job yielding with From(1).Send(1, next)
// (counted) survives: TestAttackDrainSelfSendYieldSurvives.
//
// Fix: make the drain see every callback, not only sends: e.g. have core
// expose the loop's exact count of callbacks and timer callbacks run (read
// on the loop, in the wave callback), subtract the drain's own callbacks
// (the wave callback and the markers each loop received), and end only
// when two waves saw no other callback run on any loop. At the least,
// say in Shutdown's doc and GROUP.md that continuations must be posted
// with From(i).Send(i, fn), and that Local().Post, Local().AfterFunc and
// direct posts are cut off.
// ---------------------------------------------------------------------------

// yieldingJob runs on loop 1 slices of work, each spinning a microsecond
// and queuing the next with yield, and sends the result to loop 0 after
// the last; it reports the first error and whether the result arrived.
func yieldingJob(t *testing.T, yield func(g *Group, fn func()) error) (shutErr, jobErr error, slicesRun int, arrived bool) {
	t.Helper()
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	const slices = 1 << 14 // 16 ready-queue batches of 1024
	var errs firstErr
	got := make(chan struct{})
	var slice func(k int)
	slice = func(k int) {
		slicesRun++
		for s := time.Now(); time.Since(s) < time.Microsecond; {
		}
		if k == slices {
			errs.add(g.From(1).Send(0, func() { close(got) }))
			return
		}
		errs.add(yield(g, func() { slice(k + 1) }))
	}
	ctx, cancel := longCtx()
	defer cancel()
	shutErr = shutdownWhileHeld(t, g, ctx, func(i int) {
		if i == 0 {
			errs.add(g.From(0).Send(1, func() { slice(1) }))
		}
	})
	<-errc
	jobErr, _ = errs.get()
	return shutErr, jobErr, slicesRun, isClosedChan(got)
}

func TestAttackDrainBugLocalPostYieldIsCutOff(t *testing.T) {
	shutErr, jobErr, n, arrived := yieldingJob(t, func(g *Group, fn func()) error {
		return g.Loop(1).Local().Post(fn)
	})
	if shutErr != nil {
		t.Errorf("Shutdown: %v", shutErr)
	}
	if jobErr != nil || !arrived {
		t.Errorf("a job set off by an accepted callback (through a message) and yielding with Local().Post was cut off: %d of %d slices ran, result arrived %v, first error %v", n, 1<<14, arrived, jobErr)
	}
}

func TestAttackDrainSelfSendYieldSurvives(t *testing.T) {
	shutErr, jobErr, n, arrived := yieldingJob(t, func(g *Group, fn func()) error {
		return g.From(1).Send(1, fn)
	})
	if shutErr != nil {
		t.Errorf("Shutdown: %v", shutErr)
	}
	if jobErr != nil || !arrived || n != 1<<14 {
		t.Errorf("a job yielding with From(1).Send(1, …): %d slices ran, result arrived %v, first error %v", n, arrived, jobErr)
	}
}

// ---------------------------------------------------------------------------
// BUG C (f): a periodic timer that sends keeps the drain going for ever.
//
// core.Loop.Shutdown stops periodic timers first "since they would never
// finish" (core/close.go). The group's drain runs before any loop's
// Shutdown, while every Every still fires; one that sends to another loop
// (a stats flush, a heartbeat) moves its loop's count between any two
// samples when its period is shorter than a wave (a few tens of µs on an
// idle machine; any period under load), so two equal waves never come
// (drain.go:110) and Shutdown(context.Background()) never returns, where
// before the feature (and on a single loop) it returned at once. Rule 3
// ("keeps the drain going until it stops") and the docs are silent on
// periodic timers, which never stop; GROUP.md's shutdown sequence then
// always ends in Close, cancelling one-shot timers and accepted work.
//
// Fix: stop periodic timers when the drain begins (core would need to
// split Shutdown: a first step that closes the inbox and stops periodic
// timers but leaves the lanes open, then closeAll after the drain), or
// count only sends made by callbacks that are themselves messages, or
// bound the drain (e.g. wait only for the messages counted when it
// started and their descendants), and document it.
// ---------------------------------------------------------------------------

func TestAttackDrainBugPeriodicSenderNeverEnds(t *testing.T) {
	const n = 8
	g := mustNew(t, n)
	errc := startAll(t, g, context.Background())
	var ticks atomic.Int64
	for i := range n {
		on(t, g, i, func() {
			// A flush of per-loop stats to the next loop every 5 µs (any
			// period shorter than a wave does it: on this 2-CPU machine 10 µs
			// with 4 loops, 200 µs with 64).
			if _, err := g.Loop(i).Local().Every(5*time.Microsecond, func() {
				if g.From(i).Send((i+1)%n, func() {}) == nil {
					ticks.Add(1)
				}
			}); err != nil {
				t.Error(err)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown of a group whose loops send from periodic timers: %v after %d ticks sent; with context.Background() it never returns (core.Loop.Shutdown stops periodic timers; the drain, before it, waits for them)", err, ticks.Load())
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// ---------------------------------------------------------------------------
// (a) Every kind of send, between loops and to the loop itself, set off by
// callbacks accepted before Shutdown, is accepted and runs; Call answers
// arrive. Several shapes of group.

func runFlood(t *testing.T, n, seeds, ttl int, fanEvery uint64, opts ...core.Option) {
	t.Helper()
	g := mustNew(t, n, opts...)
	errc := startAll(t, g, context.Background())
	f := &flood{g: g, fanEvery: fanEvery}
	err := shutdownWhileHeld(t, g, context.Background(), func(i int) {
		for k := range seeds {
			f.send(i, ttl, splitmix(uint64(i)<<32|uint64(k)))
		}
	})
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	f.check(t)
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

func TestAttackDrainFloodEveryKind(t *testing.T) { runFlood(t, 4, 20, 30, 7) }

func TestAttackDrainFloodOneLoop(t *testing.T) { runFlood(t, 1, 20, 50, 0) }

func TestAttackDrainFlood64Loops(t *testing.T) { runFlood(t, 64, 2, 20, 0) }

func TestAttackDrainFloodBatchOne(t *testing.T) { runFlood(t, 3, 10, 40, 9, core.WithBatch(1)) }

func TestAttackDrainFloodDebug(t *testing.T) { runFlood(t, 3, 10, 30, 0, core.WithDebug()) }

func TestAttackDrainFloodPrecise(t *testing.T) { runFlood(t, 3, 10, 30, 9, core.WithPrecise()) }

func TestAttackDrainFloodBusyPoll(t *testing.T) {
	runFlood(t, 3, 10, 30, 9, core.WithBusyPoll(50*time.Microsecond))
}

func TestAttackDrainFloodFakeClock(t *testing.T) {
	runFlood(t, 4, 10, 30, 9, core.WithClock(core.NewFakeClock()))
}

// Lanes made during the drain: every message goes to a pair of loops not
// used before (first use makes the lane inside a wave's window).
func TestAttackDrainLanesMadeDuringTheDrain(t *testing.T) {
	const n = 12
	g := mustNew(t, n)
	errc := startAll(t, g, context.Background())
	var errs firstErr
	var ran atomic.Int64
	// Loop 0 sends to 1, which sends to 2, ... each message making a new
	// lane; then every loop sends to every loop after it: n(n-1)/2 lanes
	// made while Shutdown drains.
	var visit func(at int)
	visit = func(at int) {
		ran.Add(1)
		if at+1 < n {
			errs.add(g.From(at).Send(at+1, func() { visit(at + 1) }))
		}
		for j := at + 2; j < n; j++ {
			errs.add(g.From(at).Send(j, func() { ran.Add(1) }))
		}
	}
	err := shutdownWhileHeld(t, g, context.Background(), func(i int) {
		if i == 0 {
			visit(0)
		}
	})
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err, k := errs.get(); err != nil {
		t.Errorf("%d sends refused; first %v", k, err)
	}
	if want := int64(n + n*(n-1)/2 - (n - 1)); ran.Load() != want {
		t.Errorf("%d messages ran, want %d", ran.Load(), want)
	}
	<-errc
}

// Sender used from goroutines that are not loops: what they sent before
// Shutdown, and the chains those messages set off, arrive.
func TestAttackDrainSenderFromOtherGoroutines(t *testing.T) {
	g := mustNew(t, 4)
	errc := startAll(t, g, context.Background())
	f := &flood{g: g, noSelf: true, noTrySend: true} // a self-send is Local().Post: loop goroutine only
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 50 {
				f.send(w%4, 10, splitmix(uint64(w)<<32|uint64(k)))
			}
		}()
	}
	wg.Wait()
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	f.check(t)
	<-errc
}

// Chains started just before Shutdown, racing with its first wave (no
// hold): nothing they set off is refused. Racy by design: run with
// -count and -race.
func TestAttackDrainRacingStart(t *testing.T) {
	for round := range 20 {
		g := mustNew(t, 3)
		errc := startAll(t, g, context.Background())
		f := &flood{g: g, fanEvery: 11}
		for i := range g.Len() {
			if err := g.Loop(i).Post(func() {
				for k := range 5 {
					f.send(i, 25, splitmix(uint64(round)<<40|uint64(i)<<32|uint64(k)))
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		f.check(t)
		<-errc
	}
}

// Self-sends only, and a Call to the loop itself.
func TestAttackDrainSelfSendsAndSelfCall(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	var errs firstErr
	var hops atomic.Int64
	answered := make(chan int, 1)
	var self func(k int)
	self = func(k int) {
		hops.Add(1)
		if k == 3000 { // beyond a ready-queue batch
			errs.add(Call(g.From(0), 0, func() int { return k }, func(v int) { answered <- v }))
			return
		}
		errs.add(g.From(0).TrySend(0, func() { self(k + 1) }))
	}
	err := shutdownWhileHeld(t, g, context.Background(), func(i int) {
		if i == 0 {
			self(1)
		}
	})
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err, _ := errs.get(); err != nil {
		t.Errorf("a self-send refused: %v", err)
	}
	select {
	case v := <-answered:
		if v != 3000 {
			t.Errorf("answer %d", v)
		}
	default:
		t.Errorf("the self-Call's answer did not arrive (%d hops)", hops.Load())
	}
	<-errc
}

// A one-shot timer set by a message during the drain, on a FakeClock
// advanced by the test while Shutdown runs: what it sends after the drain
// is refused with core.ErrClosed (documented), Shutdown still returns.
func TestAttackDrainFakeClockTimerDuringDrain(t *testing.T) {
	clk := core.NewFakeClock()
	g := mustNew(t, 2, core.WithClock(clk))
	errc := startAll(t, g, context.Background())
	res := make(chan error, 1)
	shut := make(chan error, 1)
	release := holdLoop(t, g, 0, func() {
		_ = g.From(0).Send(1, func() {
			if _, err := g.Loop(1).Local().AfterFunc(time.Second, func() {
				res <- g.From(1).Send(0, func() {})
			}); err != nil {
				res <- err
			}
		})
	})
	go func() { shut <- g.Shutdown(context.Background()) }()
	waitDraining(t, g)
	release()
	for len(res) == 0 {
		clk.Advance(100 * time.Millisecond)
	}
	if err := <-res; err != nil && err != core.ErrClosed {
		t.Errorf("the timer's send: %v, want nil or core.ErrClosed", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	<-errc
}

// ---------------------------------------------------------------------------
// (b), (e): the drain cut short in every way, Shutdown still returns, with
// the documented error. Each uses a chain that never ends (it would keep
// the drain going for ever), so only the cut can end the drain.

// endless starts on loop 0 a ping-pong between loops 0 and 1 that ends
// only when a send is refused; stopped receives that error.
func endless(t *testing.T, g *Group) (stopped <-chan error) {
	t.Helper()
	c := make(chan error, 1)
	var hop func(at int)
	hop = func(at int) {
		if err := g.From(at).Send(1-at, func() { hop(1 - at) }); err != nil {
			c <- err
		}
	}
	on(t, g, 0, func() { hop(0) })
	return c
}

// shutdownAsync starts Shutdown(Background) and waits until it drains.
func shutdownAsync(t *testing.T, g *Group) <-chan error {
	t.Helper()
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	waitDraining(t, g)
	return shut
}

func TestAttackDrainCutByLoopStop(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	stopped := endless(t, g)
	shut := shutdownAsync(t, g)
	g.Loop(1).Pause()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown after a loop's Stop during the drain: %v, want nil", err)
	}
	if err := <-stopped; err != core.ErrClosed {
		t.Errorf("the chain ended with %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v, want core.ErrClosed", err)
	}
}

func TestAttackDrainCutByStopFromCallback(t *testing.T) {
	g := mustNew(t, 3)
	errc := startAll(t, g, context.Background())
	stopped := endless(t, g)
	shut := shutdownAsync(t, g)
	if err := g.Loop(2).Post(func() { g.Loop(2).Pause() }); err != nil {
		t.Fatal(err) // a direct post: the group does not refuse it
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	<-stopped
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

func TestAttackDrainCutByRunCtx(t *testing.T) {
	g := mustNew(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	errc := startAll(t, g, ctx)
	stopped := endless(t, g)
	shut := shutdownAsync(t, g)
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) && err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown after Run's ctx ended during the drain: %v, want nil (it runs the loops itself)", err)
	}
	<-stopped
}

func TestAttackDrainCutByClose(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	stopped := endless(t, g)
	shut := shutdownAsync(t, g)
	if err := g.Close(); err != nil {
		t.Errorf("Close during the drain: %v", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown cut by Close: %v", err)
	}
	if err := <-stopped; err != core.ErrClosed {
		t.Errorf("chain: %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

func TestAttackDrainCutByCloseFromCallback(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	stopped := endless(t, g)
	shut := shutdownAsync(t, g)
	if err := g.Loop(0).Post(func() {
		if err := g.Close(); err != nil {
			t.Errorf("Close from a callback: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	<-stopped
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

func TestAttackDrainCutByGoexit(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	stopped := endless(t, g)
	shut := shutdownAsync(t, g)
	if err := g.Loop(1).Post(runtime.Goexit); err != nil {
		t.Fatal(err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown after a Goexit during the drain: %v", err)
	}
	<-stopped
	if err := <-errc; !errors.Is(err, ErrGoexit) {
		t.Errorf("Run: %v, want ErrGoexit among its errors", err)
	}
}

func TestAttackDrainCutByEscapingPanic(t *testing.T) {
	g := mustNew(t, 2, core.WithPanicHandler(func(v any) { panic(v) }))
	recovered := make(chan any, 1)
	go func() {
		defer func() { recovered <- recover() }()
		_ = g.Run(context.Background())
	}()
	for i := range g.Len() {
		on(t, g, i, func() {})
	}
	stopped := endless(t, g)
	shut := shutdownAsync(t, g)
	if err := g.Loop(0).Post(func() { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	if v := <-recovered; v != "boom" {
		t.Errorf("Run raised %v, want boom", v)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown after a panic escaped during the drain: %v", err)
	}
	<-stopped
}

func TestAttackDrainCutByShutdownCtx(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	stopped := endless(t, g)
	ctx, cancel := context.WithCancel(context.Background())
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(ctx) }()
	waitDraining(t, g)
	cancel()
	if err := <-shut; err != context.Canceled {
		t.Errorf("Shutdown whose ctx ended during the drain: %v, want context.Canceled itself", err)
	}
	if err := <-stopped; err != core.ErrClosed {
		t.Errorf("chain: %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

func TestAttackDrainDoneCtxAtOnce(t *testing.T) {
	g := mustNew(t, 3)
	errc := startAll(t, g, context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Shutdown(ctx); err != nil && err != context.Canceled {
		t.Errorf("Shutdown with a done ctx: %v", err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// ---------------------------------------------------------------------------
// (b) Shutdown called many ways at once.

func TestAttackDrainShutdownTwiceConcurrently(t *testing.T) {
	g := mustNew(t, 3)
	errc := startAll(t, g, context.Background())
	f := &flood{g: g, fanEvery: 13}
	var releases []func()
	for i := range g.Len() {
		releases = append(releases, holdLoop(t, g, i, func() {
			for k := range 5 {
				f.send(i, 20, splitmix(uint64(i)<<32|uint64(k)))
			}
		}))
	}
	shut := make(chan error, 4)
	for range 4 {
		go func() { shut <- g.Shutdown(context.Background()) }()
	}
	waitDraining(t, g)
	for _, r := range releases {
		r()
	}
	for range 4 {
		if err := <-shut; err != nil {
			t.Errorf("one of 4 concurrent Shutdowns: %v", err)
		}
	}
	f.check(t)
	<-errc
}

func TestAttackDrainShutdownFromTwoCallbacks(t *testing.T) {
	g := mustNew(t, 3)
	errc := startAll(t, g, context.Background())
	f := &flood{g: g, fanEvery: 13}
	in := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	for i := range 2 {
		if err := g.Loop(i).Post(func() {
			close(in[i])
			<-in[1-i]
			if err := g.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown from a callback: %v", err)
			}
			for k := range 5 {
				f.send(i, 20, splitmix(uint64(i)<<32|uint64(k)))
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
	f.check(t)
}

func TestAttackDrainShutdownThenRun(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-errc
	if err := g.Run(context.Background()); err != core.ErrClosed {
		t.Errorf("Run after Shutdown: %v, want core.ErrClosed", err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown again: %v", err)
	}
	if err := g.From(0).Send(1, func() {}); err != core.ErrClosed {
		t.Errorf("Send after Shutdown: %v", err)
	}
}

// Run, stopped by its ctx, then run again: the second Run's drain works
// (a fresh `ended`).
func TestAttackDrainAfterARestartedRun(t *testing.T) {
	g := mustNew(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	errc := startAll(t, g, ctx)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	errc = startAll(t, g, context.Background())
	shutErr, sendErr, ran := chainUnderShutdown(t, g, func() {})
	if shutErr != nil || sendErr != nil || ran != 100 {
		t.Errorf("after a restart: Shutdown %v, send %v, %d of 100 hops", shutErr, sendErr, ran)
	}
	<-errc
}

// A loop held (blocked) in a callback during the drain: Shutdown with a
// ctx returns its error; once the loop is free the group finishes.
func TestAttackDrainBlockedLoopCtx(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	release := holdLoop(t, g, 1, func() {})
	ctx, cancel := context.WithCancel(context.Background())
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(ctx) }()
	waitDraining(t, g)
	cancel()
	if err := <-shut; err != context.Canceled {
		t.Errorf("Shutdown: %v, want context.Canceled", err)
	}
	release()
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// Shutdown with no Run, while other goroutines post directly and send.
func TestAttackDrainNoRunConcurrentSenders(t *testing.T) {
	g := mustNew(t, 3)
	var wg sync.WaitGroup
	var accepted, ran atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 200 {
				from := w % 3
				if g.From(from).Send((from+1+k%2)%3, func() { ran.Add(1) }) == nil { // never to itself: that is Local().Post
					accepted.Add(1)
				}
			}
		}()
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown without Run: %v", err)
	}
	wg.Wait()
	if accepted.Load() != ran.Load() {
		t.Errorf("%d accepted, %d ran", accepted.Load(), ran.Load())
	}
}
