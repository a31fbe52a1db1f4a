package group

import (
	"context"
	"slices"
	"sync"

	"go.uber.org/atomic"
)

// Draining: the first half of Group.Shutdown.
//
// core.Loop.Shutdown closes a loop's inbox and its Producers' lanes at
// once, so a loop shut down on its own refuses what the other loops send
// it, and a Call whose answer is on its way back loses it. So Shutdown
// first drains the group while its loops still run as usual: the group's
// own entry points (Post, PostKey, PostKeyString) refuse new work
// (core.ErrClosed), and Shutdown waits until no message sent with a Sender
// (Send, TrySend, SendKey, Call's two hops) is waiting to run and none
// follows, nor any callback queued on a loop. Then it shuts every loop
// down (core.Loop.Shutdown), which runs what is left: one-shot timers, and
// work posted to a loop directly after the drain.
//
// Ground rules:
//  1. Three counts per loop tell whether work went on. Each Sender counts
//     the messages it has sent (Sender.sent: added to after every accepted
//     send, from whatever goroutine sends); a send to the Sender's own loop
//     counts too. Each loop counts the posted callbacks it has run (core's
//     Local().Callbacks, exact on the loop), less the drain's own
//     (Sender.drained), and the timer callbacks it has started
//     (Local().TimersFired). They catch work that goes on without a
//     message: a callback that queues its continuation with Local().Post
//     or Local().AfterFunc(0, ...), a post made to the loop directly.
//  2. A wave samples every loop's counts and then flushes every path a
//     message can take: on each loop i (a callback posted to its inbox),
//     it reads i's counts, then posts a marker into each lane i has made
//     (one per target loop) and one to i itself (Local().Post). A lane is
//     first in, first out, and so is a loop's queue of ready callbacks, so
//     when loop j runs i's marker, every message i sent j before the
//     sample has run on j. The wave ends when every marker has run (or
//     could not be posted: the loop is closed).
//  3. Two waves in a row with the same counts end the drain. Loop i sent
//     nothing and ran no callback but the drain's between its two samples;
//     what it sent or queued before the first had run when the first wave
//     ended, before the second began. So when the second wave starts,
//     every message sent has run, nothing is queued, and new work can only
//     come from outside: a timer, or a post made to a loop directly
//     (g.For(key).Post), which the group does not refuse. Such work during
//     the drain keeps the counts moving and the drain going until it
//     stops; what comes of it after the drain meets loops that are
//     shutting down.
//  4. Periodic timers would keep the counts moving for ever, as they would
//     keep a loop alive for ever, so the first wave stops them on every
//     loop (core's Local().StopPeriodic), as core.Loop.Shutdown does when
//     it begins, and a later wave stops them again on a loop that fired
//     timers since the wave before: one made during the drain. Each stop
//     costs O(n log n) for n pending timers on that loop.
//  5. The drain needs the loops running. While Group.Run runs them it
//     drains; otherwise Shutdown runs them itself (runForDrain), until
//     they finish, so a Shutdown that comes before a `go g.Run(...)`
//     has started still drains. One called while a Run whose ctx is done
//     is still returning does not (a gap left open). Loops run one by one
//     (g.Loop(i).Run) are not watched: the drain counts on them running
//     until it ends. It ends, without finishing, when any of
//     the running loops returns (a done ctx, Close, a Goexit) or
//     Shutdown's ctx ends; the loops are then shut down on their own, as
//     they would be without it.

// runState is what the drain knows of Group.Run (rule 5). mu guards it.
type runState struct {
	mu    sync.Mutex
	runs  int           // Group.Run calls in progress
	ended chan struct{} // made by the first Run in progress; closed when one of its loops stops running (runLoops); nil with no Run
	shut  bool          // ended is closed
}

// startRun records a Run starting and returns the channel to close when one
// of its loops returns (loopReturned). Any goroutine.
func (r *runState) startRun() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == 0 {
		r.ended, r.shut = make(chan struct{}), false
	}
	r.runs++
	return r.ended
}

// loopReturned records that a loop of a Run has returned: the drain can no
// longer count on the loops running. Any goroutine.
func (r *runState) loopReturned(ended chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended == ended && !r.shut {
		r.shut = true
		close(ended)
	}
}

// endRun records a Run that has returned. Any goroutine.
func (r *runState) endRun() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs--; r.runs == 0 {
		r.ended = nil
	}
}

// running returns the channel that closes when the group's loops stop
// running, and false if they are not all running now. Any goroutine.
func (r *runState) running() (<-chan struct{}, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended, r.ended != nil && !r.shut
}

// drainRun is a run of the loops that Shutdown started for its drain
// (rule 5); the zero drainRun started nothing.
type drainRun struct {
	stop     context.CancelFunc
	stopped  chan struct{} // closed when runLoops has returned
	panicked bool          // a loop's panic escaped runLoops; written before stopped is closed
	panicVal any
}

// runForDrain runs the loops, each on a goroutine of its own, if Run is not
// running them, so that the drain can (rule 5); they then run until they
// finish or ctx ends. Not on a loop of the group.
func (g *Group) runForDrain(ctx context.Context) *drainRun {
	if _, ok := g.run.running(); ok {
		return &drainRun{}
	}
	ended := g.run.startRun()
	rctx, stop := context.WithCancel(ctx)
	r := &drainRun{stop: stop, stopped: make(chan struct{})}
	go func() {
		defer close(r.stopped)
		defer g.run.endRun()
		defer func() {
			if v := recover(); v != nil { // runLoops raises a loop's panic here
				r.panicked, r.panicVal = true, v
			}
		}()
		g.runLoops(rctx, ended) // the loops' errors are Shutdown's to report, through core's Shutdown
	}()
	return r
}

// wait stops the run (if the loops have not finished, ctx ended: they keep
// their work), waits for it, and raises again on the caller's goroutine a
// panic that escaped a loop. Nothing for the zero drainRun.
func (r *drainRun) wait() {
	if r.stop == nil {
		return
	}
	r.stop()
	<-r.stopped
	if r.panicked {
		panic(r.panicVal)
	}
}

// drain runs waves until two in a row sample the same counts (rule 3), the
// loops stop running, or ctx ends; Shutdown goes on to shut the loops
// down either way. Not on a loop of the group: it waits for the loops.
func (g *Group) drain(ctx context.Context) {
	ended, ok := g.run.running()
	if !ok {
		return // rule 5: nothing runs the loops' callbacks
	}
	prev, ok := g.wave(ctx, ended, true)
	for ok {
		var cur []uint64
		if cur, ok = g.wave(ctx, ended, false); ok && slices.Equal(prev, cur) {
			return
		}
		prev = cur
	}
}

// wave runs one wave (rule 2) and returns the counts it sampled, or false
// if ended is closed or ctx ends first. It also stops the periodic timers
// of every loop in the first wave, and of a loop that fired timers since
// the last (rule 4).
func (g *Group) wave(ctx context.Context, ended <-chan struct{}, first bool) ([]uint64, bool) {
	n := len(g.loops)
	counts := make([]uint64, 3*n) // counts[3i:3i+3] are written on loop i, read after done
	var left atomic.Int64         // wave callbacks and markers not yet run
	done := make(chan struct{})
	ran := func() {
		if left.Dec() == 0 {
			close(done)
		}
	}
	left.Store(int64(n))
	marker := func(j int) func() { // runs on loop j
		return func() {
			g.senders[j].drained++
			ran()
		}
	}
	for i, l := range g.loops {
		s := &g.senders[i]
		if l.Post(func() {
			fired := l.Local().TimersFired()
			if first || fired != s.fired { // rule 4
				l.Local().StopPeriodic()
			}
			s.fired = fired
			counts[3*i] = s.sent.Load()
			counts[3*i+1] = l.Local().Callbacks() - s.drained
			counts[3*i+2] = fired
			var to []int
			for j := range s.lanes {
				if s.lanes[j].Load() != nil {
					to = append(to, j)
				}
			}
			left.Add(int64(len(to)) + 1) // before any marker can run
			if l.Local().Post(marker(i)) != nil {
				ran()
			}
			for _, j := range to {
				if s.lanes[j].Load().Post(marker(j)) != nil {
					ran() // the target is closed: nothing waits there
				}
			}
			s.drained++ // this callback
			ran()
		}) != nil {
			ran() // the loop is closed
		}
	}
	select {
	case <-done:
		return counts, true
	case <-ended:
	case <-ctx.Done():
	}
	return nil, false
}
