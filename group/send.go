package group

import (
	"go.uber.org/atomic"

	"github.com/hotloop/hotloop/core"
)

// Cross-loop messages. A callback on loop i that has work for loop j sends
// it through a lane of its own into j: a core.Producer that loop i made for
// j on its first message there, and that only loop i's callbacks post to.
// So a message from i to j never contends with other goroutines' posts to
// j (no shared inbox tail), and only a message that finds the lane idle
// signals it (a Producer's rule) and may wake j: messages sent while j is
// busy or not yet awake cost no wake-up.
//
// Ground rules:
//  1. From(i) returns loop i's Sender, made by New: one per loop, never
//     copied, so lanes[j] is per ordered pair (i, j).
//  2. A Sender is meant for callbacks on its loop. Used from another
//     goroutine it is still correct — a Producer is safe for concurrent
//     use, and lanes[j] is set once by compare-and-swap — but loses what it
//     is for, and a send to its own loop (Local().Post) is then a misuse
//     that core's WithDebug reports.
//  3. Memory: a lane is made on a pair's first message and holds about
//     24 KB, growing under bursts as a Producer's does; a Group of n loops
//     in which every loop sends to every other holds n(n-1) lanes: 64 loops,
//     4,032 lanes, about 97 MB. Lanes live until the target loop closes.

// A Sender sends work from one loop of a Group to the others. Get it with
// From; use it from callbacks running on that loop.
type Sender struct {
	g     *Group
	i     int
	lanes []atomic.Pointer[core.Producer] // lanes[j]: loop i's lane into loop j, made on first use (rule 3)
	sent  atomic.Uint64                   // messages accepted, added to after each send, read by Shutdown's drain (drain.go)
	// drained counts the drain's own callbacks that have run on loop i
	// (drain.go, rule 1). Loop i's goroutine only.
	drained uint64
	// fired is loop i's Local().TimersFired at the drain's last wave
	// (drain.go, rule 4). Loop i's goroutine only.
	fired uint64
	_     [128 - 8 - 8 - 24 - 8 - 8 - 8]byte // a cache line or two each, so loops counting their sends do not share one
}

// From returns loop i's Sender, for callbacks that run on loop i (0 <= i <
// Len; it panics otherwise, like an index out of range). O(1), no
// allocation: keep it or call From each time.
func (g *Group) From(i int) *Sender { return &g.senders[i] }

// Index returns the index of the Sender's loop. O(1).
func (s *Sender) Index() int { return s.i }

// Send runs fn on loop to. Messages from one loop to another run in the
// order they were sent, exactly once; they are not ordered with posts made
// any other way (PostKey, the target loop's Post) or from other loops. A
// send to the Sender's own loop is its Local().Post. The first message to a
// loop makes the lane (about 24 KB); later ones allocate nothing. It
// returns core.ErrClosed once loop to is closed or shut down, and the
// error of core.Loop.NewProducer or core.Producer.Post otherwise.
func (s *Sender) Send(to int, fn func()) error {
	var err error
	if to == s.i {
		err = s.g.loops[to].Local().Post(fn)
	} else {
		var p *core.Producer
		if p, err = s.lane(to); err == nil {
			err = p.Post(fn)
		}
	}
	if err == nil {
		s.sent.Inc() // after the push: the drain's rule 1
	}
	return err
}

// TrySend is Send bounded: it returns core.ErrFull, and fn does not run,
// when this loop's lane into loop to holds 1,024 messages not yet taken
// (Send's bursts may grow the lane, not this bound): loop to is behind,
// and the caller, a callback that must not wait, decides — drop, retry
// later from a timer, or tell its own client to slow down. A try to the
// Sender's own loop is its Local().Post, which is never full. No
// allocation once the lane exists.
func (s *Sender) TrySend(to int, fn func()) error {
	var err error
	if to == s.i {
		err = s.g.loops[to].Local().Post(fn)
	} else {
		var p *core.Producer
		if p, err = s.lane(to); err == nil {
			err = p.TryPost(fn)
		}
	}
	if err == nil {
		s.sent.Inc() // after the push: the drain's rule 1
	}
	return err
}

// SendKey runs fn on the loop that owns key (Index(key)), as Send does.
func (s *Sender) SendKey(key uint64, fn func()) error { return s.Send(s.g.Index(key), fn) }

// SendKeyString is SendKey for a string key.
func (s *Sender) SendKeyString(key string, fn func()) error {
	return s.Send(s.g.IndexString(key), fn)
}

// lane returns the Sender's lane into loop to, making it on the pair's
// first message (rule 3), or taking the one a concurrent Send made first
// (rule 2). One atomic load once it exists.
func (s *Sender) lane(to int) (*core.Producer, error) {
	if p := s.lanes[to].Load(); p != nil {
		return p, nil
	}
	p, err := s.g.loops[to].NewProducer()
	if err != nil {
		return nil, err
	}
	if !s.lanes[to].CompareAndSwap(nil, p) {
		p.Close() // lost the race: use the winner's
		return s.lanes[to].Load(), nil
	}
	return p, nil
}

// Call runs fn on loop to and then reply(fn's result) on the caller's
// loop, s's: call-and-reply that never blocks a loop — the caller goes on
// after Call returns, and its reply arrives as a callback. Both hops go
// through the lanes, as Send does. If loop to is closed, Call returns its
// error and nothing runs; if the caller's loop closes before the reply can
// be sent back, the reply is dropped (the loop that would run it is gone).
// Group.Shutdown waits for answers on their way (it drains the group
// first); Close does not.
// It allocates the two closures that carry fn, reply and the result.
func Call[T any](s *Sender, to int, fn func() T, reply func(T)) error {
	back := s.g.From(to)
	from := s.i
	return s.Send(to, func() {
		v := fn()
		_ = back.Send(from, func() { reply(v) }) // an error: the caller's loop is closed
	})
}
