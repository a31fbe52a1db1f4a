package group

// Attack tests for package group, from an adversarial pass on its first
// version (with Send and Call not yet written). Tests whose name contains
// "Bug" failed then: each says what was expected, what happened, and why;
// all pass since the fixes that followed. The others pin behaviour that
// holds.
//
// A few scenarios deadlock for good (nothing can unblock them), so they run
// in a child process of this test binary (runChild), inside a
// testing/synctest bubble: when every goroutine of the bubble is durably
// blocked, synctest.Test panics with "deadlock", deterministically and
// without a real-clock timeout, and the parent reports the child's output.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotloop/hotloop/core"
)

const attackChildEnv = "HOTLOOP_GROUP_ATTACK_CHILD"

// inAttackChild reports whether this process is a child started by
// runChild.
func inAttackChild() bool { return os.Getenv(attackChildEnv) == "1" }

// runChild runs the test named name in a child process of this binary and
// returns its combined output and whether it passed.
func runChild(t *testing.T, name string) (string, bool) {
	t.Helper()
	if inAttackChild() {
		t.Skip("already in a child")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1", "-test.timeout=300s")
	cmd.Env = append(os.Environ(), attackChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// trimOutput keeps the head of a child's output: the panic message and the
// first goroutines.
func trimOutput(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "\n[...]"
	}
	return s
}

// startAll starts g.Run on a goroutine and waits until every loop is owned
// by it; it returns Run's result channel.
func startAll(t *testing.T, g *Group, ctx context.Context) <-chan error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- g.Run(ctx) }()
	for i := range g.Len() {
		if err := g.Loop(i).Do(context.Background(), func() {}); err != nil {
			t.Fatalf("Do on loop %d: %v", i, err)
		}
	}
	return errc
}

func mustNew(t *testing.T, n int, opts ...core.Option) *Group {
	t.Helper()
	g, err := New(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func isClosedChan(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// ---------------------------------------------------------------------------
// BUG 1: Group.Close from a callback on one of the group's loops deadlocks.
//
// Documented (Group.Close): "Called from a callback on one of the loops, it
// cannot wait for that loop (see core.Loop.Close), but waits for the
// others." Expected: g.Close() called from a callback on loop 0 returns
// (nil) once loop 1 has finished; loop 0 finishes when the callback returns.
// Actual: it never returns. each() calls loop 0's Close on a NEW goroutine,
// which is not loop 0's goroutine, so core.Loop.Close's onLoop check is
// false and it waits for loop 0 to finish — while loop 0 is blocked in the
// very callback that waits (wg.Wait) for that goroutine. Every loop and the
// group's Run stay blocked forever.
//
// Fix: decide on the caller's goroutine, not on each()'s goroutines. For
// example core exports `func (l *Loop) OnLoop() bool` (the goid check
// onLoop already does), and Group.Close/Shutdown, when the caller is on one
// of the group's loops, start Close/Shutdown on every loop without waiting
// (core.Loop.Close from a callback returns nil at once; do the same for the
// group, which also fixes BUG 2), or at least call f(own loop) on the
// calling goroutine and wait only for the others.
// ---------------------------------------------------------------------------

func TestAttackBugCloseFromCallbackDeadlocks(t *testing.T) {
	out, ok := runChild(t, "TestAttackChildCloseFromCallback")
	if !ok {
		t.Errorf("g.Close() from a callback on loop 0 of 2 deadlocked (want it to return once loop 1 has finished); child:\n%s", trimOutput(out))
	}
}

func TestAttackChildCloseFromCallback(t *testing.T) {
	if !inAttackChild() {
		t.Skip("run by TestAttackBugCloseFromCallbackDeadlocks in a child process")
	}
	synctest.Test(t, func(t *testing.T) {
		g := mustNew(t, 2)
		errc := startAll(t, g, context.Background())
		res := make(chan error, 1)
		if err := g.Loop(0).Post(func() { res <- g.Close() }); err != nil {
			t.Fatal(err)
		}
		if err := <-res; err != nil { // deadlock: synctest panics here
			t.Errorf("Close from a callback: %v, want nil", err)
		}
		if err := <-errc; err != core.ErrClosed {
			t.Errorf("Run: %v, want core.ErrClosed", err)
		}
	})
}

// ---------------------------------------------------------------------------
// BUG 2: two loops that call g.Close() from their callbacks at the same time
// deadlock, even under the documented semantics ("waits for the others"):
// loop 0's callback waits for loop 1 to finish, which waits for loop 1's
// callback, which waits for loop 0. Any "close the group on a fatal error"
// handler running on two loops at once hangs the service.
//
// Expected: both calls return. Fix: from a callback on one of the group's
// loops, Close (and Shutdown) must not wait for any loop, as core.Loop.Close
// from a callback does not; document that the caller then uses Done of each
// loop (or the return of Run) to learn when the group has finished.
// ---------------------------------------------------------------------------

func TestAttackBugMutualCloseFromCallbacksDeadlocks(t *testing.T) {
	out, ok := runChild(t, "TestAttackChildMutualCloseFromCallbacks")
	if !ok {
		t.Errorf("g.Close() from callbacks on loops 0 and 1 at once deadlocked (want both to return); child:\n%s", trimOutput(out))
	}
}

func TestAttackChildMutualCloseFromCallbacks(t *testing.T) {
	if !inAttackChild() {
		t.Skip("run by TestAttackBugMutualCloseFromCallbacksDeadlocks in a child process")
	}
	synctest.Test(t, func(t *testing.T) {
		g := mustNew(t, 2)
		errc := startAll(t, g, context.Background())
		in := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		res := make(chan error, 2)
		for i := range 2 {
			if err := g.Loop(i).Post(func() {
				close(in[i])
				<-in[1-i] // both loops are in a callback now
				res <- g.Close()
			}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := <-res; err != nil { // deadlock: synctest panics here
				t.Errorf("Close from a callback: %v", err)
			}
		}
		if err := <-errc; err != core.ErrClosed {
			t.Errorf("Run: %v, want core.ErrClosed", err)
		}
	})
}

// ---------------------------------------------------------------------------
// BUG 1b / 2b: the same for Shutdown. Here a ctx can unstick it, so the test
// runs in this process, in a synctest bubble: synctest.Wait returns once
// everything is durably blocked, and then we look whether Shutdown returned.
//
// Expected (as core.Loop.Shutdown from a callback): g.Shutdown(ctx) called
// from a callback on loop 0 returns nil without waiting for loop 0 (and,
// for the mutual case, without waiting for a loop that is itself waiting).
// Actual: it blocks until ctx ends, then returns ctx.Err(); with
// context.Background() it blocks forever. Fix: as BUG 1.
// ---------------------------------------------------------------------------

func TestAttackBugShutdownFromCallbackWaitsForItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := mustNew(t, 2)
		errc := startAll(t, g, context.Background())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res := make(chan error, 1)
		if err := g.Loop(0).Post(func() { res <- g.Shutdown(ctx) }); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // loop 1 has finished; loop 0 is in the callback
		select {
		case err := <-res:
			if err != nil {
				t.Errorf("Shutdown from a callback on loop 0: %v, want nil", err)
			}
		default:
			cancel() // unstick it
			t.Errorf("Shutdown from a callback on loop 0 blocks waiting for loop 0 itself (deadlock without a ctx that ends); after cancel it returned %v", <-res)
		}
		if err := <-errc; err != core.ErrClosed {
			t.Errorf("Run: %v, want core.ErrClosed", err)
		}
	})
}

func TestAttackBugMutualShutdownFromCallbacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := mustNew(t, 2)
		errc := startAll(t, g, context.Background())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		in := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		res := make(chan error, 2)
		for i := range 2 {
			if err := g.Loop(i).Post(func() {
				close(in[i])
				<-in[1-i]
				res <- g.Shutdown(ctx)
			}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if len(res) != 2 {
			t.Errorf("Shutdown from callbacks on loops 0 and 1 at once: %d of 2 returned; they wait for each other (deadlock without a ctx that ends)", len(res))
			cancel()
		}
		for range 2 {
			if err := <-res; err != nil {
				t.Logf("Shutdown from a callback: %v", err)
			}
		}
		if err := <-errc; err != core.ErrClosed {
			t.Errorf("Run: %v, want core.ErrClosed", err)
		}
	})
}

// ---------------------------------------------------------------------------
// BUG 3: Close (and Shutdown) of a group that is not running swallows a
// callback's runtime.Goexit and returns nil although a loop has not
// finished.
//
// On a loop that no goroutine runs, core.Loop.Close finishes the loop on
// the calling goroutine; Group.Close does that on each()'s goroutines. A
// callback that calls runtime.Goexit (t.FailNow in a test) ends that
// goroutine: its deferred wg.Done still runs, errs[i] stays nil, and
// Group.Close returns nil. Documented: "returns when all have finished";
// Run reports ErrGoexit for the same event. Actual: nil, the loop's Done is
// not closed and a callback accepted before Close has not run.
//
// Fix: in each(), detect the Goexit as Run does (a `returned` flag in the
// deferred function) and report ErrGoexit for that loop (or call f again:
// the next Close takes up where the last one stopped).
// ---------------------------------------------------------------------------

func TestAttackBugCloseSwallowsGoexit(t *testing.T) {
	for _, op := range []string{"Close", "Shutdown"} {
		t.Run(op, func(t *testing.T) {
			g := mustNew(t, 2)
			var ran atomic.Bool
			if err := g.Loop(0).Post(func() { runtime.Goexit() }); err != nil {
				t.Fatal(err)
			}
			if err := g.Loop(0).Post(func() { ran.Store(true) }); err != nil {
				t.Fatal(err)
			}
			var err error
			if op == "Close" {
				err = g.Close()
			} else {
				err = g.Shutdown(context.Background())
			}
			finished := isClosedChan(g.Loop(0).Done())
			if !errors.Is(err, ErrGoexit) && (!finished || !ran.Load()) {
				t.Errorf("%s of a group not running, a callback on loop 0 calls runtime.Goexit: %s returned %v, loop 0 finished %v, the callback posted after it ran %v; want ErrGoexit reported, or loop 0 finished with every accepted callback run",
					op, op, err, finished, ran.Load())
			}
			if err := g.Close(); err != nil { // the next Close finishes it
				t.Errorf("second Close: %v", err)
			}
			if !isClosedChan(g.Loop(0).Done()) || !ran.Load() {
				t.Errorf("after a second Close: finished %v, ran %v", isClosedChan(g.Loop(0).Done()), ran.Load())
			}
		})
	}
}

// ---------------------------------------------------------------------------
// BUG 4: joinDistinct compares errors with ==, which panics at run time
// ("comparing uncomparable type") when two errors have the same
// uncomparable dynamic type (a slice, a map, or a struct holding one). Such
// errors do reach it: Run and Shutdown return ctx.Err() of the caller's
// context, from every loop. errors.Is guards against exactly this
// (reflectlite Comparable); the group does not.
//
// Expected: Run returns the ctx's error. Actual: Run panics in
// containsErr. Fix: in containsErr, compare only when
// reflect.TypeOf(err).Comparable() (and treat others as distinct, or
// compare them with errors.Is, which is safe).
// ---------------------------------------------------------------------------

type sliceErr []string

func (e sliceErr) Error() string { return "hotloop attack: " + strings.Join(e, ", ") }

// oddCtx is a done context whose Err is an error of an uncomparable type.
type oddCtx struct{ context.Context }

func (oddCtx) Err() error { return sliceErr{"done"} }

func TestAttackBugUncomparableErrorPanics(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := oddCtx{done}
	for _, op := range []string{"Run", "Shutdown"} {
		t.Run(op, func(t *testing.T) {
			g := mustNew(t, 2)
			defer g.Close()
			if op == "Shutdown" { // a pending timer keeps Shutdown waiting, so it returns ctx.Err()
				for i := range g.Len() {
					if _, err := g.Loop(i).AfterFunc(time.Hour, func() {}); err != nil {
						t.Fatal(err)
					}
				}
			}
			var err error
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Errorf("%s with a ctx whose Err is of an uncomparable type panicked: %v; want the error returned", op, v)
					}
				}()
				if op == "Run" {
					err = g.Run(ctx)
				} else {
					err = g.Shutdown(ctx)
				}
			}()
			if err != nil && !strings.Contains(err.Error(), "done") {
				t.Errorf("%s: %v, want the ctx's error", op, err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// BUG 5 (behaviour differs from a single loop, undocumented): a panic that
// escapes the panic handler inside Group.Run crashes the program.
//
// core.Loop.Run documents that such a panic "leaves Run": it propagates to
// Run's caller, who can recover it (the loop is released and can be run
// again). Group.Run runs each loop's Run on a goroutine of its own, with no
// recover, so the panic kills the whole process, and nothing in Group.Run's
// (or GROUP.md's) documentation says so; group.go's comment "it ends the
// program, as on a single loop" is wrong: on a single loop it does not.
// The same holds for Close and Shutdown of a group not running (each()'s
// goroutines finish the loops).
//
// Expected: the caller of g.Run can recover the panic (or: documented).
// Actual: the child process dies with the panic. Fix: recover in Run's
// per-loop goroutine, Stop (or Close) the other loops, and re-panic with
// the value on Run's goroutine after wg.Wait; or document the crash in
// Group.Run, WithPanicHandler and GROUP.md.
// ---------------------------------------------------------------------------

func TestAttackBugPanicEscapingHandlerCrashesProgram(t *testing.T) {
	out, ok := runChild(t, "TestAttackChildPanicEscapingHandler")
	if !ok {
		t.Errorf("a panic escaping the panic handler on loop 0 of a Group ended the process (on a core.Loop it leaves Run and its caller can recover it); child:\n%s", trimOutput(out))
	}
}

func TestAttackChildPanicEscapingHandler(t *testing.T) {
	if !inAttackChild() {
		t.Skip("run by TestAttackBugPanicEscapingHandlerCrashesProgram in a child process")
	}
	// On a single loop the caller of Run recovers it.
	l := core.New(core.WithPanicHandler(func(v any) { panic(v) }))
	if err := l.Post(func() { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("single loop: recovered %v, want boom", v)
			}
		}()
		_ = l.Run(context.Background())
	}()
	l.Close()

	g := mustNew(t, 2, core.WithPanicHandler(func(v any) { panic(v) }))
	recovered := make(chan any, 1)
	go func() {
		defer func() { recovered <- recover() }()
		_ = g.Run(context.Background())
	}()
	for i := range g.Len() {
		if err := g.Loop(i).Do(context.Background(), func() {}); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Loop(0).Post(func() { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	_ = g.Close()
	if v := <-recovered; v != "boom" {
		t.Errorf("group: the caller of Run recovered %v, want boom", v)
	}
}

// ---------------------------------------------------------------------------
// BUG 6 (minor, API hardening): KeyIndex(key, n) for n <= 0 silently returns
// a value outside [0, n) — 0 for n = 0, and for n < 0 an arbitrary int,
// often negative or huge (uint64(n) is then close to 2^64, so the high word
// of h×n is about h). The doc only says "(n >= 1)". Loop(i) out of range
// panics; KeyIndex with a bad n hands back an index that panics later, far
// away, or silently shards onto one place.
//
// Expected: a panic naming the bad n (or a documented result). Fix:
// `if n <= 0 { panic("hotloop: group.KeyIndex: n must be >= 1") }` (one
// predictable branch), or document "n <= 0 returns garbage".
// ---------------------------------------------------------------------------

func TestAttackBugKeyIndexNonPositiveN(t *testing.T) {
	for _, n := range []int{0, -1, -3, math.MinInt} {
		for _, key := range []uint64{1, 42, math.MaxUint64} {
			got, panicked := func() (i int, panicked bool) {
				defer func() { panicked = recover() != nil }()
				return KeyIndex(key, n), false
			}()
			if !panicked {
				t.Errorf("KeyIndex(%d, %d) = %d with no panic; want a panic (no index is in [0, %d))", key, n, got, n)
			}
		}
	}
}

// ===========================================================================
// Passing tests: behaviour that holds.
// ===========================================================================

// Run after Close, Close before Run, and Close while Run is starting: Run
// returns core.ErrClosed itself and never hangs; Close returns nil.
func TestAttackCloseAtEveryMoment(t *testing.T) {
	g := mustNew(t, 3)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Run(context.Background()); err != core.ErrClosed {
		t.Errorf("Run after Close: %v, want core.ErrClosed itself", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after Close: %v", err)
	}
	for i := range 200 {
		g := mustNew(t, 4, core.WithInboxSize(16))
		errc := make(chan error, 1)
		go func() { errc <- g.Run(context.Background()) }()
		if i%2 == 1 {
			runtime.Gosched()
		}
		var err error
		if i%3 == 0 {
			err = g.Shutdown(context.Background())
		} else {
			err = g.Close()
		}
		if err != nil {
			t.Fatalf("iteration %d: Close/Shutdown while Run starts: %v", i, err)
		}
		err = <-errc
		// A Shutdown that takes a loop before Run's goroutine does makes
		// that loop's Run return ErrRunning (core: "as does Run while
		// Shutdown runs the loop itself"): see the minor
		// TestAttackRunDuringShutdownSaysRunning.
		if err != core.ErrClosed && !(i%3 == 0 && (err == core.ErrRunning || errors.Is(err, core.ErrClosed) && errors.Is(err, core.ErrRunning))) {
			t.Fatalf("iteration %d: Run: %v, want core.ErrClosed", i, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Run while Shutdown runs the loops itself: core documents ErrRunning
// ("a second concurrent call returns ErrRunning at once, as does Run while
// Shutdown runs the loop itself"; core's TestRunDuringShutdown
// pins it), and the group passes it on, once. The pass suggested ErrClosed,
// as while Close finishes a loop; core keeps its documented answer, and
// this test pins what a group's caller sees.
// ---------------------------------------------------------------------------

func TestAttackRunDuringShutdownSaysRunning(t *testing.T) {
	clk := core.NewFakeClock()
	g := mustNew(t, 2, core.WithClock(clk))
	for i := range g.Len() {
		if _, err := g.Loop(i).AfterFunc(time.Second, func() {}); err != nil {
			t.Fatal(err)
		}
	}
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	clk.Advance(0) // returns once Shutdown runs both loops itself and they wait for the timers
	if err := g.Run(context.Background()); err != core.ErrRunning {
		t.Errorf("Run while Shutdown finishes the group: %q, want core.ErrRunning once (documented in core)", err)
	}
	clk.Advance(time.Second)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// Many goroutines Close and Shutdown one running group at once: every call
// returns nil, every accepted post runs exactly once.
func TestAttackConcurrentCloseShutdown(t *testing.T) {
	g := mustNew(t, 4)
	errc := startAll(t, g, context.Background())
	var runs atomic.Int64
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range uint64(200) {
				if g.PostKey(k*uint64(w+1), func() { runs.Add(1) }) == nil {
					accepted.Add(1)
				}
			}
		}()
	}
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				err = g.Close()
			} else {
				err = g.Shutdown(context.Background())
			}
			if err != nil {
				t.Errorf("concurrent Close/Shutdown: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v, want core.ErrClosed", err)
	}
	if runs.Load() != accepted.Load() {
		t.Errorf("%d posts accepted, %d ran", accepted.Load(), runs.Load())
	}
	if err := g.PostKey(1, func() {}); err != core.ErrClosed {
		t.Errorf("PostKey after Close: %v", err)
	}
	if err := g.PostKeyString("x", func() {}); err != core.ErrClosed {
		t.Errorf("PostKeyString after Close: %v", err)
	}
	if err := g.Post(func() {}); err != core.ErrClosed {
		t.Errorf("Post after Close: %v", err)
	}
}

// Two Runs started at once: each loop is run by one of them; the other gets
// ErrRunning for it. After Close both return, with ErrClosed and/or
// ErrRunning, each distinct error once.
func TestAttackConcurrentRuns(t *testing.T) {
	for range 50 {
		g := mustNew(t, 4)
		start := make(chan struct{})
		errs := make(chan error, 2)
		for range 2 {
			go func() { <-start; errs <- g.Run(context.Background()) }()
		}
		close(start)
		for i := range g.Len() { // every loop runs, under one Run or the other
			if err := g.Loop(i).Do(context.Background(), func() {}); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		sawClosed := false
		for range 2 {
			err := <-errs
			if errors.Is(err, core.ErrClosed) {
				sawClosed = true
			}
			both := errors.Is(err, core.ErrClosed) && errors.Is(err, core.ErrRunning) && strings.Count(err.Error(), "\n") == 1
			if err != core.ErrClosed && err != core.ErrRunning && !both {
				t.Fatalf("a concurrent Run: %q; want ErrClosed, ErrRunning, or the two joined once each", err)
			}
		}
		if !sawClosed {
			t.Fatal("neither Run returned ErrClosed")
		}
	}
}

// Run's ctx ends while Shutdown waits for timers: Run returns the ctx's
// error, Shutdown takes the loops over and returns nil once the clock has
// fired the timers; a ctx already done makes Run return at once and keep
// the work.
func TestAttackRunCtxEndsWhileShutdownWaits(t *testing.T) {
	clk := core.NewFakeClock()
	g := mustNew(t, 3, core.WithClock(clk))
	done, cancel0 := context.WithCancel(context.Background())
	cancel0()
	var early atomic.Int64
	for k := range uint64(9) {
		if err := g.PostKey(k, func() { early.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Run(done); err != context.Canceled {
		t.Errorf("Run with a done ctx: %v, want context.Canceled itself", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := startAll(t, g, ctx)
	if early.Load() != 9 {
		t.Errorf("%d of 9 posts kept across a Run with a done ctx ran", early.Load())
	}
	var fired atomic.Int64
	for i := range g.Len() {
		if _, err := g.Loop(i).AfterFunc(time.Duration(i+1)*time.Minute, func() { fired.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	clk.Advance(0) // let the loops see the shutdown
	cancel()
	err := <-errc
	if err != context.Canceled && err != core.ErrClosed && !(errors.Is(err, context.Canceled) && errors.Is(err, core.ErrClosed)) {
		t.Errorf("Run whose ctx ended during Shutdown: %v", err)
	}
	clk.Advance(time.Hour)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if fired.Load() != 3 {
		t.Errorf("%d of 3 pending timers fired before Shutdown returned", fired.Load())
	}
}

// Goexit on every loop: Run returns ErrGoexit itself (one distinct error),
// does not hang, and what remains runs at Close.
func TestAttackGoexitEverywhere(t *testing.T) {
	clk := core.NewFakeClock()
	g := mustNew(t, 3, core.WithClock(clk))
	errc := startAll(t, g, context.Background())
	var after atomic.Int64
	for i := range g.Len() {
		if _, err := g.Loop(i).AfterFunc(time.Second, func() { runtime.Goexit() }); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Loop(i).AfterFunc(2*time.Second, func() { after.Add(1) }); err != nil {
			t.Fatal(err)
		}
		if err := g.Loop(i).Post(func() {}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Second)
	if err := <-errc; err != ErrGoexit {
		t.Errorf("Run after a Goexit on every loop: %v, want ErrGoexit itself", err)
	}
	if !strings.HasPrefix(ErrGoexit.Error(), "hotloop: ") {
		t.Errorf("ErrGoexit = %q", ErrGoexit)
	}
	errc = startAll(t, g, context.Background()) // run again: the loops were released
	clk.Advance(time.Second)
	if after.Load() != 3 {
		t.Errorf("%d of 3 later timers fired after a second Run", after.Load())
	}
	if err := g.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("second Run: %v", err)
	}
}

// Close from a callback on a loop of ANOTHER group works: the deadlock of
// BUG 1 is only for the group's own loops.
func TestAttackCloseFromAnotherGroupsCallback(t *testing.T) {
	a, b := mustNew(t, 2), mustNew(t, 2)
	ea, eb := startAll(t, a, context.Background()), startAll(t, b, context.Background())
	if err := a.Loop(0).Do(context.Background(), func() {
		if err := b.Close(); err != nil {
			t.Errorf("b.Close from a's callback: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-eb; err != core.ErrClosed {
		t.Errorf("b.Run: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-ea; err != core.ErrClosed {
		t.Errorf("a.Run: %v", err)
	}
}

// joinDistinct: distinct errors in order of first appearance, each once;
// a single one as is; wrapped errors stay distinct from their target.
func TestAttackJoinDistinct(t *testing.T) {
	a := errors.New("a")
	wa := fmt.Errorf("w: %w", a)
	if err := joinDistinct([]error{nil, a, nil, a}); err != a {
		t.Errorf("one distinct: %v", err)
	}
	err := joinDistinct([]error{wa, a, wa, nil, a})
	if err == nil || err.Error() != "w: a\na" {
		t.Errorf("two distinct: %q", err)
	}
	if err := joinDistinct(nil); err != nil {
		t.Errorf("none: %v", err)
	}
}

// New: bad sizes fail with a "hotloop: " error, n = 1 and n = MaxLoops
// work (every key on loop 0 for n = 1; every index in range for MaxLoops),
// Loop(i) out of range panics.
func TestAttackSizesAndLoopIndex(t *testing.T) {
	for _, n := range []int{-1, math.MinInt, MaxLoops + 1, math.MaxInt} {
		if g, err := New(n); g != nil || err == nil || !strings.HasPrefix(err.Error(), "hotloop: ") {
			t.Errorf("New(%d) = %v, %v", n, g, err)
		}
	}
	g1 := mustNew(t, 1)
	for _, k := range []uint64{0, 1, math.MaxUint64, 1 << 63} {
		if i := g1.Index(k); i != 0 {
			t.Errorf("n=1: Index(%d) = %d", k, i)
		}
	}
	for _, s := range []string{"", "a", strings.Repeat("x", 1<<16), "\xff\xfe", "日本語"} {
		if i := g1.IndexString(s); i != 0 {
			t.Errorf("n=1: IndexString = %d", i)
		}
	}
	if err := g1.Close(); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{-1, 1, math.MaxInt} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Loop(%d) of 1 did not panic", i)
				}
			}()
			g1.Loop(i)
		}()
	}

	g := mustNew(t, MaxLoops, core.WithInboxSize(2))
	if g.Len() != MaxLoops {
		t.Fatalf("Len %d", g.Len())
	}
	errc := startAll(t, g, context.Background())
	hit := make([]int, MaxLoops)
	var ran atomic.Int64
	for k := range uint64(20 * MaxLoops) {
		i := g.Index(k)
		if i < 0 || i >= MaxLoops || g.For(k) != g.Loop(i) {
			t.Fatalf("Index(%d) = %d", k, i)
		}
		hit[i]++
	}
	for _, k := range []uint64{0, math.MaxUint64, math.MaxUint64 - 1, 1 << 63} {
		if i := g.Index(k); i < 0 || i >= MaxLoops {
			t.Errorf("Index(%d) = %d of %d", k, i, MaxLoops)
		}
		if err := g.PostKey(k, func() { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	empty := 0
	for _, c := range hit {
		if c == 0 {
			empty++
		}
	}
	if empty > 0 { // 20 keys per loop on average: P(empty) ≈ e^-20 each
		t.Errorf("%d of %d loops got none of %d sequential keys", empty, MaxLoops, 20*MaxLoops)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
	if ran.Load() != 4 {
		t.Errorf("%d of 4 posts ran", ran.Load())
	}
}

// Index, IndexString, KeyIndex, For and ForString agree; results are the
// same in two groups of the same size; edge strings stay in range; the
// string hash is FNV-1a then mix; nothing allocates.
func TestAttackAffinityAgrees(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 64, 1000, MaxLoops} {
		g := &Group{loops: make([]*core.Loop, n)}
		h := &Group{loops: make([]*core.Loop, n)}
		keys := []uint64{0, 1, 2, 255, 1 << 32, 1<<63 - 1, 1 << 63, math.MaxUint64 - 1, math.MaxUint64}
		for _, k := range keys {
			i := g.Index(k)
			if i < 0 || i >= n || i != KeyIndex(k, n) || i != h.Index(k) {
				t.Errorf("n=%d key %d: Index %d, KeyIndex %d, other group %d", n, k, i, KeyIndex(k, n), h.Index(k))
			}
		}
		strs := []string{"", "\x00", "a", "A", "\xff", "日本語キー", "\xed\xa0\x80", strings.Repeat("k", 1<<20)}
		for _, s := range strs {
			i := g.IndexString(s)
			if i < 0 || i >= n || i != scale(mix(fnv1a(s)), n) || i != h.IndexString(s) {
				t.Errorf("n=%d IndexString(%q...) = %d", n, s[:min(len(s), 8)], i)
			}
		}
	}
	g := &Group{loops: make([]*core.Loop, 13)}
	var sink int
	if a := testing.AllocsPerRun(100, func() {
		sink += g.Index(12345) + g.IndexString("a long-ish string key, non-ASCII: ü") + KeyIndex(99, 13)
	}); a != 0 {
		t.Errorf("%v allocations", a)
	}
	_ = sink
}

// Nil callbacks: an error wrapping core.ErrNilFunc that starts with
// "hotloop: ", on running and closed groups alike (the nil check comes
// first), and the callback is not accepted.
func TestAttackNilCallbacks(t *testing.T) {
	g := mustNew(t, 2)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, core.ErrNilFunc) || !strings.HasPrefix(err.Error(), "hotloop: ") {
			t.Errorf("%s(nil): %v; want an error wrapping core.ErrNilFunc starting with \"hotloop: \"", what, err)
		}
	}
	for range 2 {
		check("Post", g.Post(nil))
		check("PostKey", g.PostKey(3, nil))
		check("PostKeyString", g.PostKeyString("k", nil))
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if s := g.Health(); s.Callbacks != 0 {
		t.Errorf("%d callbacks ran", s.Callbacks)
	}
}

// Round-robin under concurrency: kn posts from many goroutines land k on
// each loop exactly; the counter wrapping past 2^64 keeps indexes in range.
func TestAttackRoundRobinConcurrentAndWrap(t *testing.T) {
	g := mustNew(t, 3, core.WithDebug())
	errc := startAll(t, g, context.Background())
	counts := make([]atomic.Int64, g.Len())
	var wg, posters sync.WaitGroup
	const goroutines, per = 8, 300
	wg.Add(goroutines * per)
	for range goroutines {
		posters.Add(1)
		go func() {
			defer posters.Done()
			for range per {
				if err := g.Post(func() { defer wg.Done(); counts[loopOf(g)].Add(1) }); err != nil {
					t.Error(err)
					wg.Done()
				}
			}
		}()
	}
	posters.Wait()
	wg.Wait()
	for i := range counts {
		if c := counts[i].Load(); c != goroutines*per/3 {
			t.Errorf("loop %d ran %d round-robin posts, want %d", i, c, goroutines*per/3)
		}
	}
	g.next.Store(math.MaxUint64 - 2) // about to wrap
	wg.Add(6)
	for range 6 {
		if err := g.Post(wg.Done); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// Health of a group never run: n empty snapshots, zero totals, Utilization
// 0; and after Close without Run, the callbacks run on Close count.
func TestAttackHealthNeverRun(t *testing.T) {
	g := mustNew(t, 4)
	h := g.Health()
	if len(h.Loops) != 4 || h.Callbacks != 0 || h.Busy != 0 || h.Idle != 0 || h.TimerLag.Count() != 0 || h.Utilization(nil) != 0 || h.TimerLag.Quantile(0.99) != 0 {
		t.Errorf("Health of a group never run: %+v", h.Stats)
	}
	for k := range uint64(10) {
		if err := g.PostKey(k, func() {}); err != nil {
			t.Fatal(err)
		}
	}
	if h := g.Health(); h.InboxLen != 10 {
		t.Errorf("InboxLen total %d, want 10 queued", h.InboxLen)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if h := g.Health(); h.Callbacks != 10 || h.InboxLen != 0 {
		t.Errorf("after Close: %d callbacks, inbox %d; want 10, 0", h.Callbacks, h.InboxLen)
	}
}

// Health totals on a FakeClock with known timer lags: loop i's one timer
// fires lags[i] late (a callback on loop i advances the clock past the
// deadline). The totals' TimerLag has every value: count, sum, max, every
// bucket summed, quantiles those of the union; Busy + Idle is n times the
// virtual time elapsed (every loop ran since t0), so Utilization of the
// totals is the busy share of all the loops' time.
func TestAttackHealthMergeKnownLags(t *testing.T) {
	clk := core.NewFakeClock()
	g := mustNew(t, 4, core.WithClock(clk))
	t0 := clk.Now()
	errc := startAll(t, g, context.Background())
	lags := []time.Duration{0, 3 * time.Microsecond, 40 * time.Millisecond, 2 * time.Second}
	for i, lag := range lags {
		l := g.Loop(i)
		if _, err := l.AfterFunc(time.Millisecond, func() {}); err != nil {
			t.Fatal(err)
		}
		if err := l.Do(context.Background(), func() { clk.Advance(time.Millisecond + lag) }); err != nil {
			t.Fatal(err)
		}
		clk.Advance(0) // loop i fired its timer, lag late
	}
	clk.Advance(time.Minute)
	h := g.Health()
	var sum, mx int64
	for i, lag := range lags {
		lh := h.Loops[i]
		if lh.TimerLag.Count() != 1 || lh.TimerLag.Max() != int64(lag) {
			t.Errorf("loop %d: timer lag count %d max %d, want 1, %d", i, lh.TimerLag.Count(), lh.TimerLag.Max(), int64(lag))
		}
		sum += int64(lag)
		mx = max(mx, int64(lag))
	}
	tl := &h.TimerLag
	if tl.Count() != 4 || tl.Sum() != sum || tl.Max() != mx || h.TimersFired != 4 {
		t.Errorf("totals: count %d sum %d max %d fired %d; want 4, %d, %d, 4", tl.Count(), tl.Sum(), tl.Max(), h.TimersFired, sum, mx)
	}
	if q := tl.Quantile(1); q != mx {
		t.Errorf("Quantile(1) = %d, want max %d", q, mx)
	}
	if q := tl.Quantile(0.25); q != 0 {
		t.Errorf("Quantile(0.25) = %d, want 0 (the smallest lag)", q)
	}
	if q := tl.Quantile(0.5); q < int64(lags[1]) || q > int64(lags[1])*17/16 {
		t.Errorf("Quantile(0.5) = %d, want within 6.25%% above %d", q, int64(lags[1]))
	}
	if q := tl.Quantile(0.75); q < int64(lags[2]) || q > int64(lags[2])*17/16 {
		t.Errorf("Quantile(0.75) = %d, want within 6.25%% above %d", q, int64(lags[2]))
	}
	union := map[int64]uint64{}
	for _, lh := range h.Loops {
		for up, c := range lh.TimerLag.Buckets() {
			union[up] += c
		}
	}
	got := map[int64]uint64{}
	for up, c := range tl.Buckets() {
		got[up] = c
	}
	if fmt.Sprint(union) != fmt.Sprint(got) {
		t.Errorf("merged buckets %v, want the union %v", got, union)
	}
	elapsed := clk.Since(t0)
	if total := h.Busy + h.Idle; total != time.Duration(g.Len())*elapsed {
		t.Errorf("Busy + Idle = %v, want %d × %v (every loop owned since t0 on the fake clock)", total, g.Len(), elapsed)
	}
	var busy time.Duration
	for _, lh := range h.Loops {
		busy += lh.Busy
	}
	if u, want := h.Utilization(nil), float64(busy)/float64(time.Duration(g.Len())*elapsed); math.Abs(u-want) > 1e-12 {
		t.Errorf("Utilization of the totals %v, want %v", u, want)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// Health from many goroutines while every loop is busy (for -race), then
// the totals equal the loops' sums.
func TestAttackHealthWhileRunning(t *testing.T) {
	g := mustNew(t, 3, core.WithLagSampling(1))
	errc := startAll(t, g, context.Background())
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				h := g.Health()
				var cb uint64
				for _, lh := range h.Loops {
					cb += lh.Callbacks
				}
				if cb != h.Callbacks {
					t.Errorf("totals %d callbacks, loops' sum %d", h.Callbacks, cb)
					return
				}
				_ = h.PostLag.Quantile(0.99)
				_ = h.Utilization(nil)
			}
		}()
	}
	var wg sync.WaitGroup
	for k := range uint64(3000) {
		wg.Add(1)
		if err := g.PostKey(k, wg.Done); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
	h := g.Health()
	if h.Callbacks < 3000 || h.PostLag.Count() < 3000 {
		t.Errorf("after Close: %d callbacks, %d post lags; want at least 3000", h.Callbacks, h.PostLag.Count())
	}
}

// One FakeClock, timers on every loop: Advance fires them all in deadline
// order across loops, each reading the clock at its own deadline; Every on
// several loops ticks once per period on each.
func TestAttackFakeClockManyLoops(t *testing.T) {
	clk := core.NewFakeClock()
	g := mustNew(t, 4, core.WithClock(clk))
	errc := startAll(t, g, context.Background())
	t0 := clk.Now()
	var mu sync.Mutex
	var order []time.Duration
	const timers = 40
	for k := range uint64(timers) {
		d := time.Duration(timers-k) * time.Millisecond // scheduled in reverse order
		if _, err := g.For(k).AfterFunc(d, func() {
			mu.Lock()
			order = append(order, clk.Since(t0))
			mu.Unlock()
			if at := clk.Since(t0); at != d {
				t.Errorf("timer for %v fired at %v", d, at)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	ticks := make([]atomic.Int64, g.Len())
	for i := range g.Len() {
		if _, err := g.Loop(i).Every(10*time.Millisecond, func() { ticks[i].Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(100 * time.Millisecond)
	mu.Lock()
	if len(order) != timers {
		t.Errorf("%d of %d timers fired", len(order), timers)
	}
	for i, at := range order {
		if at != time.Duration(i+1)*time.Millisecond {
			t.Errorf("firing %d at %v: not in deadline order across loops: %v", i, at, order)
			break
		}
	}
	mu.Unlock()
	for i := range ticks {
		if n := ticks[i].Load(); n != 10 {
			t.Errorf("loop %d: Every(10ms) ticked %d times in 100ms, want 10", i, n)
		}
	}
	// Shutdown stops the periodic timers and returns with no Advance.
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// Advance from a callback on loop 0 moves the clock for the whole group and
// returns at once; loop 0's own due timer fires when the callback returns;
// loop 1's fires at the next Advance from outside, late by what the
// callback "ran".
func TestAttackFakeClockAdvanceFromCallback(t *testing.T) {
	clk := core.NewFakeClock()
	g := mustNew(t, 2, core.WithClock(clk))
	errc := startAll(t, g, context.Background())
	t0 := clk.Now()
	var at [2]atomic.Int64
	for i := range 2 {
		if _, err := g.Loop(i).AfterFunc(5*time.Millisecond, func() { at[i].Store(int64(clk.Since(t0))) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Loop(0).Do(context.Background(), func() { clk.Advance(10 * time.Millisecond) }); err != nil {
		t.Fatal(err)
	}
	if clk.Since(t0) != 10*time.Millisecond {
		t.Errorf("clock at %v after Advance(10ms) from a callback", clk.Since(t0))
	}
	clk.Advance(0) // every loop idle: loop 0 fired its due timer after the callback, loop 1 was fired by Advance
	if got := time.Duration(at[0].Load()); got != 10*time.Millisecond {
		t.Errorf("loop 0's timer fired at %v, want 10ms (when the callback returned)", got)
	}
	if got := time.Duration(at[1].Load()); got != 10*time.Millisecond {
		t.Errorf("loop 1's timer fired at %v after Advance(0), want 10ms", got)
	}
	h := g.Health()
	if h.TimerLag.Count() != 2 || h.TimerLag.Max() != int64(5*time.Millisecond) {
		t.Errorf("timer lags: %d, max %v; want 2, 5ms", h.TimerLag.Count(), time.Duration(h.TimerLag.Max()))
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// Shutdown while another goroutine advances the clock in steps: every
// pending one-shot timer on every loop fires exactly once at its deadline,
// and Shutdown returns nil; a Shutdown whose ctx ends first returns the
// ctx's error once, and Close then ends the group.
func TestAttackFakeClockShutdownWhileAdvancing(t *testing.T) {
	clk := core.NewFakeClock()
	g := mustNew(t, 4, core.WithClock(clk))
	errc := startAll(t, g, context.Background())
	t0 := clk.Now()
	const timers = 64
	fired := make([]atomic.Int64, timers)
	for k := range timers {
		d := time.Duration(k+1) * time.Millisecond
		if _, err := g.For(uint64(k)).AfterFunc(d, func() {
			if fired[k].Add(1) != 1 || clk.Since(t0) != d {
				t.Errorf("timer %d: fired %d times, at %v", k, fired[k].Load(), clk.Since(t0))
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(context.Background()) }()
	for {
		select {
		case err := <-shut:
			if err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			for k := range fired {
				if fired[k].Load() != 1 {
					t.Errorf("timer %d fired %d times", k, fired[k].Load())
				}
			}
			if err := <-errc; err != core.ErrClosed {
				t.Errorf("Run: %v", err)
			}
			if clk.Since(t0) < timers*time.Millisecond {
				t.Errorf("Shutdown returned at %v, before the last timer's deadline", clk.Since(t0))
			}
			goto second
		default:
			clk.Advance(time.Millisecond)
		}
	}
second:
	g2 := mustNew(t, 3, core.WithClock(clk))
	errc = startAll(t, g2, context.Background())
	for i := range g2.Len() {
		if _, err := g2.Loop(i).AfterFunc(time.Hour, func() {}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	shut2 := make(chan error, 1)
	go func() { shut2 <- g2.Shutdown(ctx) }()
	clk.Advance(time.Minute)
	cancel()
	if err := <-shut2; err != context.Canceled {
		t.Errorf("Shutdown whose ctx ended: %v, want context.Canceled itself", err)
	}
	if err := g2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
	if h := g2.Health(); h.TimersCancelled != 3 {
		t.Errorf("%d timers cancelled by Close, want 3", h.TimersCancelled)
	}
}

// A callback calling Group.Run on its own running group gets ErrRunning
// itself at once (every loop is already running) and does not block.
func TestAttackRunFromCallback(t *testing.T) {
	g := mustNew(t, 2)
	errc := startAll(t, g, context.Background())
	if err := g.Loop(1).Do(context.Background(), func() {
		if err := g.Run(context.Background()); err != core.ErrRunning {
			t.Errorf("Run from a callback: %v, want core.ErrRunning itself", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run: %v", err)
	}
}

// A nil ctx is context.Background() for Run and Shutdown, as in core.
func TestAttackNilCtx(t *testing.T) {
	var nilCtx context.Context
	g := mustNew(t, 2)
	errc := startAll(t, g, nilCtx)
	var ran atomic.Int64
	for k := range uint64(10) {
		if err := g.PostKey(k, func() { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Shutdown(nilCtx); err != nil {
		t.Errorf("Shutdown(nil): %v", err)
	}
	if err := <-errc; err != core.ErrClosed {
		t.Errorf("Run(nil): %v", err)
	}
	if ran.Load() != 10 {
		t.Errorf("%d of 10 posts ran", ran.Load())
	}
}
