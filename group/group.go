package group

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"

	"go.uber.org/atomic"

	"github.com/hotloop/hotloop/core"
)

// MaxLoops is the most loops a Group may have. A loop holds its inbox
// (about 160 KB by default) and, while it runs, a goroutine.
const MaxLoops = 1024

// ErrGoexit is among the errors Run returns when a loop's callback ended
// its goroutine with runtime.Goexit (as t.FailNow does in a test): that
// loop's Run never returned, and the loop is released (see core.Loop.Run).
// The group's other loops go on; that loop runs nothing more — its posts
// wait — until the next Run, Shutdown or Close, and Run reports ErrGoexit
// when the others have returned too.
var ErrGoexit = errors.New("hotloop: group: a callback ended a loop's goroutine (runtime.Goexit)")

// A Group is n loops run as one. Its methods are safe from any goroutine,
// and from callbacks on any of its loops.
type Group struct {
	loops   []*core.Loop // fixed by New; each loop is safe for concurrent use
	senders []Sender     // senders[i] is From(i) (send.go); fixed by New

	next atomic.Uint64 // Post's round-robin counter; any goroutine adds to it

	draining atomic.Bool // set by Shutdown, never cleared; the group's posts (Post, PostKey, TryPostKey, PostKeyWait...) read it (drain.go)
	run      runState    // what Shutdown's drain knows of Run (drain.go)
}

// New returns a Group of n loops, each built with opts (core.New), not yet
// running: call Run. n = 0 means runtime.GOMAXPROCS(0). It fails for n < 0
// or n > MaxLoops.
func New(n int, opts ...core.Option) (*Group, error) {
	switch {
	case n < 0 || n > MaxLoops:
		return nil, fmt.Errorf("hotloop: group.New: %d loops, want 0 (GOMAXPROCS) to %d", n, MaxLoops)
	case n == 0:
		n = runtime.GOMAXPROCS(0)
	}
	g := &Group{loops: make([]*core.Loop, n), senders: make([]Sender, n)}
	for i := range g.loops {
		g.loops[i] = core.New(opts...)
		g.senders[i] = Sender{g: g, i: i, lanes: make([]atomic.Pointer[core.Producer], n)}
	}
	return g, nil
}

// Len returns the number of loops. O(1).
func (g *Group) Len() int { return len(g.loops) }

// Loop returns loop i, for 0 <= i < Len; it panics otherwise, like an
// index out of range. O(1).
func (g *Group) Loop(i int) *core.Loop { return g.loops[i] }

// Run runs every loop, each on a goroutine of its own, until ctx is done,
// the group (or a loop) is closed, or the loops are stopped: it returns
// when every loop's Run has returned. It returns nil if every loop's Run
// did; otherwise the loops' errors joined (errors.Join), each distinct
// error once — ctx.Err() after a done ctx, core.ErrClosed after Close or
// Shutdown, core.ErrRunning if a loop was already running, ErrGoexit. Use
// errors.Is to test for one.
//
// As with core.Loop.Run, the loops keep their pending work when Run
// returns for a done ctx, and Run may be called again. A panic that
// escapes a loop's panic handler (WithPanicHandler) stops the other loops
// (as a done ctx does: their work is kept) and is raised again on Run's
// goroutine once they have returned, as a single loop's Run raises it on
// its caller's.
func (g *Group) Run(ctx context.Context) error {
	g.must()
	ended := g.run.startRun()
	defer g.run.endRun()
	return g.runLoops(ctx, ended)
}

// runLoops is Run's body: every loop's Run on a goroutine of its own. A
// loop whose Run returns, for any reason but core.ErrRunning (the loop was
// running already, and still is), tells the drain (drain.go, rule 5).
func (g *Group) runLoops(ctx context.Context, ended chan struct{}) error {
	// A panic stops the other loops by ending their ctx: Pause would miss
	// a loop whose goroutine has not yet reached Run, and that loop would
	// run on until the caller's ctx ends.
	if ctx == nil { // as core.Loop.Run takes it
		ctx = context.Background()
	}
	ctx, stopOthers := context.WithCancel(ctx)
	defer stopOthers()
	return g.all(func(l *core.Loop) (err error) {
		returned := false
		defer func() { // also on a Goexit or a panic
			if !returned || err != core.ErrRunning {
				g.run.loopReturned(ended)
			}
		}()
		err = l.Run(ctx)
		returned = true
		return err
	}, stopOthers)
}

// all calls f on every loop, each on a goroutine of its own, and returns
// the distinct errors joined once every call has returned. A call that
// ended its goroutine (runtime.Goexit in a callback the call ran) counts
// as ErrGoexit. A call that panicked runs onPanic (if not nil) at once,
// and the first panic's value is raised again on the caller's goroutine
// after every call has returned.
func (g *Group) all(f func(*core.Loop) error, onPanic func()) error {
	errs := make([]error, len(g.loops))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked bool
		panicVal any
	)
	wg.Add(len(g.loops))
	for i, l := range g.loops {
		go func() {
			returned := false
			defer func() {
				if !returned {
					if v := recover(); v != nil {
						mu.Lock()
						if !panicked {
							panicked, panicVal = true, v
						}
						mu.Unlock()
						if onPanic != nil {
							onPanic()
						}
					}
					errs[i] = ErrGoexit // or a panic, raised again below
				}
				wg.Done()
			}()
			errs[i] = f(l)
			returned = true
		}()
	}
	wg.Wait()
	if panicked {
		panic(panicVal)
	}
	return joinDistinct(errs)
}

// Close closes every loop (core.Loop.Close) at once and returns when all
// have finished: every callback accepted before runs, every pending timer
// is cancelled. It returns the loops' errors joined, nil if none.
//
// Called from a callback on one of the group's loops, Close cannot wait:
// its own loop cannot finish while the callback runs, and two loops
// closing the group at once would wait for each other. It starts closing
// every loop and returns nil at once, as core.Loop.Close does from a
// callback; the loops finish when their current callbacks return.
func (g *Group) Close() error {
	return g.each(func(l *core.Loop) error { return l.Close() })
}

// Shutdown drains the group and then shuts every loop down
// (core.Loop.Shutdown). It returns nil when every loop has finished, or
// the loops' errors joined (ctx.Err() once if ctx ended first; the loops
// go on shutting down, and Close cuts them short).
//
// Draining: from the moment Shutdown is called, the group's posts (Post,
// PostKey, TryPostKey, PostKeyWait and their String forms) refuse new work
// (core.ErrClosed), while the loops go on
// running as usual; Shutdown waits until no message sent between loops
// (Send, TrySend, SendKey, SendKeyString, both hops of Call) is waiting to
// run and none follows. So a chain of messages, or a Call's answer, that
// work accepted before Shutdown sets off arrives. Then each loop shuts
// down: it refuses new work of any kind and runs until its accepted
// callbacks and pending one-shot timers have run. Periodic timers stop when
// Shutdown is called.
// A message sent after the drain — by a timer that fires then, or by work
// posted to a loop directly (g.For(key).Post, which the group does not
// refuse: stop such feeders first) — meets a loop shutting down, and the
// send returns core.ErrClosed (Call then drops the answer). Work that never
// stops — an exchange in which each message sends the next — keeps the
// drain going until ctx ends: give Shutdown a deadline.
//
// The drain needs the loops running. If Run is not running them (not yet
// started, or never called), Shutdown runs them for the drain, as core.Loop.Shutdown runs
// a loop that nobody runs; a Run called meanwhile returns core.ErrRunning
// (joined with core.ErrClosed if it took a loop first, once the loops
// finish). The drain is cut short when one of the running loops returns
// (a done ctx given to Run, Close, a Goexit) or ctx ends; so a Shutdown
// called while a Run whose ctx is done is returning does not drain (wait
// for Run to return first). Loops run one by
// one (g.Loop(i).Run) are not watched: Shutdown may not drain them, and
// if one stops during the drain, Shutdown waits until ctx ends. Its cost:
// two rounds or more, each a callback on every loop and a marker through
// every lane in use.
//
// Called from a callback on one of the group's loops, Shutdown starts all
// this on a goroutine of its own and returns nil at once, as Close does.
func (g *Group) Shutdown(ctx context.Context) error {
	g.must()
	if ctx == nil {
		ctx = context.Background()
	}
	g.draining.Store(true)
	if _, ok := g.Current(); ok {
		go g.shutdown(ctx)
		return nil
	}
	return g.shutdown(ctx)
}

// shutdown is Shutdown's body: the drain (drain.go), with the loops run for
// it if Run is not running them, then every loop's core Shutdown. Loops it
// runs itself stay running until they finish, so that no Run takes them
// in between. Not on a loop of the group.
func (g *Group) shutdown(ctx context.Context) error {
	r := g.runForDrain(ctx)
	g.drain(ctx)
	err := g.all(func(l *core.Loop) error { return l.Shutdown(ctx) }, nil)
	r.wait()
	return err
}

// each calls f on every loop, each on a goroutine of its own, and joins
// the errors. Called from a callback on loop i (Current), it calls f on
// loop i on the caller's goroutine, where core returns at once, starts
// the others on goroutines of their own that nobody waits for, and
// returns nil: waiting there could deadlock (see Close). Those goroutines
// end when their loops finish.
func (g *Group) each(f func(*core.Loop) error) error {
	g.must()
	if i, ok := g.Current(); ok {
		for j, l := range g.loops {
			if j != i {
				go f(l)
			}
		}
		f(g.loops[i])
		return nil
	}
	return g.all(f, nil)
}

// must panics with a clear message on a Group not made by New.
func (g *Group) must() {
	if len(g.loops) == 0 {
		panic("hotloop: group: use of a Group not made by group.New")
	}
}

// Current returns the index of the loop the caller is running on, and
// true, if the caller is a callback on one of the group's loops (see
// core.Loop.OnLoop); else -1 and false. O(Len) stack-walk comparisons,
// about a microsecond each: use it to choose a path, not per message.
func (g *Group) Current() (int, bool) {
	for i, l := range g.loops {
		if l.OnLoop() {
			return i, true
		}
	}
	return -1, false
}

// joinDistinct returns nil if every error is nil, the error itself if
// there is one distinct error (one ErrClosed for ten loops, not ten), and
// else the distinct errors joined in order of first appearance. Errors are
// the same if they are equal (==); errors of types that cannot be compared
// are all kept.
func joinDistinct(errs []error) error {
	var out []error
	for _, err := range errs {
		if err != nil && !containsErr(out, err) {
			out = append(out, err)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

func containsErr(errs []error, err error) bool {
	if !reflect.TypeOf(err).Comparable() {
		return false // == would panic
	}
	for _, e := range errs {
		if e == err {
			return true
		}
	}
	return false
}
