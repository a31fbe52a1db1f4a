package group

import (
	"context"
	"slices"
	"sync"

	"go.uber.org/atomic"

	"github.com/hotloop/hotloop/core"
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
// follows. Then it shuts every loop down (core.Loop.Shutdown), which runs
// what is left: work accepted in other ways and one-shot timers.
//
// Ground rules:
//  1. Each Sender counts the messages it has sent (Sender.sent: added to
//     after every accepted send, from whatever goroutine sends; read by
//     the drain). A send to the Sender's own loop counts too.
//  2. A wave samples every loop's count and then flushes every path a
//     message can take: on each loop i (a callback posted to its inbox),
//     it reads i's count, then posts a marker into each lane i has made
//     (one per target loop) and one to i itself (Local().Post). A lane is
//     first in, first out, and so is a loop's queue of ready callbacks, so
//     when loop j runs i's marker, every message i sent j before the
//     sample has run on j. The wave ends when every marker has run (or
//     could not be posted: the loop is closed).
//  3. Two waves in a row with the same counts end the drain. Loop i sent
//     nothing between its two samples; what it sent before the first had
//     run when the first wave ended, before the second began. So when the
//     second wave starts, every message sent has run, and a new one can
//     only come from work that is not a message: a timer, or a post made
//     to a loop directly (g.For(key).Post), which the group does not
//     refuse. Work of that kind during the drain keeps the counts moving
//     and the drain going until it stops; what comes of it after the drain
//     meets loops that are shutting down.
//  4. The drain needs the loops running: it runs only while Group.Run runs
//     them, and it ends, without finishing, when any of Run's loops
//     returns (a done ctx, Close, a Goexit) or Shutdown's ctx ends. The
//     loops are then shut down on their own, as they would be without it.

// runState is what the drain knows of Group.Run (rule 4). mu guards it.
type runState struct {
	mu    sync.Mutex
	runs  int           // Group.Run calls in progress
	ended chan struct{} // made by the first Run in progress; closed when any of its loops' Run returns; nil with no Run
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

// drain runs waves until two in a row sample the same counts (rule 3), the
// loops stop running, or ctx ends. It reports whether the group was
// drained. Not on a loop of the group: it waits for the loops.
func (g *Group) drain(ctx context.Context) bool {
	ended, ok := g.run.running()
	if !ok {
		return false // rule 4: nothing runs the loops' callbacks
	}
	prev, ok := g.wave(ctx, ended)
	for ok {
		var cur []uint64
		if cur, ok = g.wave(ctx, ended); ok && slices.Equal(prev, cur) {
			return true
		}
		prev = cur
	}
	return false
}

// wave runs one wave (rule 2) and returns the counts it sampled, or false
// if ended is closed or ctx ends first.
func (g *Group) wave(ctx context.Context, ended <-chan struct{}) ([]uint64, bool) {
	n := len(g.loops)
	counts := make([]uint64, n) // counts[i] is written on loop i, read after done
	var left atomic.Int64       // wave callbacks and markers not yet run
	done := make(chan struct{})
	ran := func() {
		if left.Dec() == 0 {
			close(done)
		}
	}
	left.Store(int64(n))
	for i, l := range g.loops {
		s := &g.senders[i]
		if l.Post(func() {
			counts[i] = s.sent.Load()
			var lanes []*core.Producer
			for j := range s.lanes {
				if p := s.lanes[j].Load(); p != nil {
					lanes = append(lanes, p)
				}
			}
			left.Add(int64(len(lanes)) + 1) // before any marker can run
			if l.Local().Post(ran) != nil {
				ran()
			}
			for _, p := range lanes {
				if p.Post(ran) != nil {
					ran() // the target is closed: nothing waits there
				}
			}
			ran() // this callback
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
