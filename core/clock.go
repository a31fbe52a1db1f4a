package core

import (
	"slices"
	"sync"
	"time"

	"go.uber.org/atomic"
)

// FakeClock is virtual time for tests: a Loop created with [WithClock] reads
// the time from it instead of the monotonic clock, and parks on it instead of
// on a runtime timer. Time stands still until the test calls
// [FakeClock.Advance], which fires every timer that falls due, in deadline
// order, each at its own deadline, and returns once the loop has run them
// and everything they queued and is idle again. A test of a 30 s idle
// timeout runs in microseconds:
//
//	clk := core.NewFakeClock()
//	l := core.New(core.WithClock(clk))
//	go l.Run(ctx)
//	l.AfterFunc(30*time.Second, onIdle)
//	clk.Advance(29 * time.Second) // onIdle has not run
//	clk.Advance(time.Second)      // onIdle has run, on the loop goroutine
//
// One FakeClock may drive several Loops; Advance then waits for all of them.
// The zero FakeClock is not ready: use [NewFakeClock]. Its methods are safe
// for concurrent use.
type FakeClock struct {
	start time.Time // the clock's origin; immutable

	// nanos is the time elapsed since start. Written under mu; read
	// anywhere.
	nanos atomic.Int64

	advancing sync.Mutex // serialises Advance calls from different goroutines

	mu    sync.Mutex
	cond  sync.Cond     // on mu: an attached loop blocked, resumed or stopped running
	loops []*fakeParker // guarded by mu
}

// WithClock makes the loop read its time from c and park on c: time then
// moves only when the test calls c.Advance, which fires what falls due and
// waits for the loop to be idle. See [FakeClock]. [WithSpin] and [WithSlack]
// are ignored on a FakeClock. The loop lets go of c when Close or Shutdown has finished it.
// A nil c keeps the monotonic clock.
func WithClock(c *FakeClock) Option {
	return func(cfg *config) { cfg.clock = c }
}

// NewFakeClock returns a FakeClock that reads time.Now() and stands still
// there until advanced.
func NewFakeClock() *FakeClock {
	c := &FakeClock{start: time.Now()}
	c.cond.L = &c.mu
	return c
}

// Now returns the clock's current time: the time of NewFakeClock plus every
// Advance since. Pass times derived from it to [Loop.At]. Safe from any
// goroutine.
func (c *FakeClock) Now() time.Time {
	return c.start.Add(time.Duration(c.nanos.Load()))
}

// Since returns the virtual time elapsed since t, like time.Since.
func (c *FakeClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Advance moves the clock forward by d and runs what falls due. It first
// waits until every attached loop is idle (what was already queued has
// run), then steps through the pending deadlines of every attached loop in
// order, up to now+d: at each step the clock reads exactly that deadline,
// the due timers fire, and Advance waits until every loop has run them and
// the callbacks they queued (timers they schedule within the window fire
// too, in order) and is idle again. Then it sets the clock to now+d (unless
// a callback moved it further, see below) and returns. Advance(0) just
// waits until every attached loop is idle. The clock never goes back.
//
// Advance waits for loops that have been created but never run: start Run
// first (it may still be starting when Advance is called). A loop whose Run
// has returned, or that has finished, is not waited for, and nothing fires
// on it. Calls from different goroutines are serialised.
//
// Called from a callback on an attached loop's goroutine, Advance cannot
// wait for that loop: it moves the clock by d and returns at once. This
// models a callback that runs for d, which makes timers fire late: use it
// to test lag, slow-callback detection and Every's missed-tick policies.
// A d < 0 is treated as 0. The clock stops at about 36 years after
// NewFakeClock, the latest deadline a timer can hold: Advance beyond that
// moves it there, and a timer set for later than that (AfterFunc after
// such an Advance, for one) is due at that instant and fires at the next
// Advance, with no more virtual time elapsed.
func (c *FakeClock) Advance(d time.Duration) {
	c.mustNew()
	if d < 0 {
		d = 0
	}
	if c.calledFromLoop() {
		c.mu.Lock()
		c.nanos.Store(addClamped(c.nanos.Load(), int64(d)))
		c.mu.Unlock()
		return
	}
	c.advancing.Lock()
	defer c.advancing.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.allIdle() { // first let callbacks already queued run: they may move the clock
		c.cond.Wait()
	}
	target := addClamped(c.nanos.Load(), int64(d))
	for {
		for !c.allIdle() {
			c.cond.Wait()
		}
		next, ok := c.earliest()
		if !ok || next > target {
			if target > c.nanos.Load() { // a callback may have moved it further
				c.nanos.Store(target)
			}
			return
		}
		if next > c.nanos.Load() {
			c.nanos.Store(next)
		}
		for _, p := range c.loops {
			if p.blocked && p.timed && p.deadline <= next {
				p.blocked = false
				p.fire <- struct{}{} // never blocks: fire is drained before blocking again
			}
		}
	}
}

// mustNew panics with a message if c was not made by NewFakeClock (the
// zero FakeClock has no condition variable to wait on).
func (c *FakeClock) mustNew() {
	if c.cond.L == nil {
		panic("hotloop: FakeClock not made by NewFakeClock")
	}
}

// calledFromLoop reports whether the caller is the goroutine running one of
// the attached loops.
func (c *FakeClock) calledFromLoop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.loops {
		if p.l.onLoop() {
			return true
		}
	}
	return false
}

// allIdle reports whether no attached loop is running or about to run.
// Caller holds mu.
func (c *FakeClock) allIdle() bool {
	for _, p := range c.loops {
		if !p.idle() {
			return false
		}
	}
	return true
}

// earliest returns the earliest deadline of a blocked loop. Caller holds mu.
func (c *FakeClock) earliest() (int64, bool) {
	var (
		min int64
		ok  bool
	)
	for _, p := range c.loops {
		if p.blocked && p.timed && (!ok || p.deadline < min) {
			min, ok = p.deadline, true
		}
	}
	return min, ok
}

// attach makes c the clock and the parker of l. Called by New.
func (c *FakeClock) attach(l *Loop) {
	c.mustNew()
	p := &fakeParker{
		clk:  c,
		l:    l,
		wake: make(chan struct{}, 1),
		fire: make(chan struct{}, 1),
	}
	c.mu.Lock()
	c.loops = append(c.loops, p)
	c.mu.Unlock()
	l.clock = c
	l.base = c.start
	l.parker = p
}

// detach forgets l, which has finished (release calls it once Close or
// Shutdown has finished l), so that a clock that outlives many loops does
// not keep them reachable, and wakes Advance to look at the loops again.
// Any goroutine.
func (c *FakeClock) detach(l *Loop) {
	c.mu.Lock()
	c.loops = slices.DeleteFunc(c.loops, func(p *fakeParker) bool { return p.l == l })
	c.cond.Broadcast()
	c.mu.Unlock()
}

// changed wakes Advance to look at the loops again: one of them started or
// stopped running. Any goroutine.
func (c *FakeClock) changed(l *Loop) {
	c.mu.Lock()
	for _, p := range c.loops {
		if p.l == l {
			p.ran = true
		}
	}
	c.cond.Broadcast()
	c.mu.Unlock()
}
