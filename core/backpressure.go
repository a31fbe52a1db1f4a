package core

import (
	"context"
	"sync"

	"go.uber.org/atomic"
)

// This file is bounded posting's one home: TryPost and PostWait, which
// never let the inbox grow past its capacity, and the protocol by which
// the loop wakes the posters waiting for room.
//
// # Waiting for room
//
// A PostWait that finds the inbox full registers as a waiter (n.Inc, and
// takes the current ch, under mu), tries again, and only then waits on ch.
// The loop, after each drain that took messages (drain: only those free
// slots or clear the overflow) and when the inbox closes, loads n
// and, if a waiter is registered, closes ch (under mu) and clears it, so
// every waiter wakes and tries again. No wake-up is lost: the loop frees
// slots (its store of the inbox's head) before it loads n, and a waiter
// increments n before its second try loads head. Both are sequentially
// consistent, so either the second try sees the room, or the loop's load
// sees the waiter; the waiter took ch and incremented n under mu, so the
// loop's close under mu, after that load, closes the waiter's ch (or ch
// was closed already, which wakes it as well). Close and Shutdown close
// the inbox before they wake, so a woken waiter's next try reports the
// loop closed.

// spaceWaiters are the posters waiting in PostWait for room in the inbox.
type spaceWaiters struct {
	// n is the number of waiters registered. Added to by waiters (PostWait);
	// loaded by the loop after each drain that took messages, so that a
	// loop with no waiter pays one atomic load per such drain, and an idle
	// iteration none.
	n atomic.Int32

	mu sync.Mutex
	ch chan struct{} // guarded by mu: closed by wake to release the waiters; nil when none took it
}

// take registers the caller as a waiter and returns the channel wake will
// close. Any goroutine.
func (w *spaceWaiters) take() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	w.n.Inc() // under mu: a wake after this closes the ch returned
	return w.ch
}

// wake releases every waiter registered, if any. Called by the loop after
// a drain and by Close and Shutdown once the inbox is closed. Any
// goroutine.
func (w *spaceWaiters) wake() {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
	w.mu.Unlock()
}

// TryPost queues fn like Post, but only if the inbox holds fewer posts
// than its capacity (WithInboxSize: the initial one, which Post's bursts
// may grow, do not raise this bound), so the posts waiting for the loop
// are bounded (plus the one batch, WithBatch, the loop may have taken and
// not yet run). It returns ErrFull if the inbox is at the bound,
// ErrClosed once Close or Shutdown was called, and an error wrapping
// ErrNilFunc for a nil fn. Use it where the caller can drop or shed work
// (and from callbacks of other loops, which must not wait); use PostWait to
// wait for room. Safe from any goroutine. Lock-free, no allocation.
func (l *Loop) TryPost(fn func()) error {
	l.mustNew()
	if fn == nil {
		return badArg("TryPost", ErrNilFunc)
	}
	switch ok, full := l.inbox.TryPush(message{op: opPost, fn: fn}); {
	case ok:
		l.wakeIfParked()
		return nil
	case full:
		return ErrFull
	default:
		return ErrClosed
	}
}

// PostWait queues fn like Post, waiting while the inbox is full (TryPost):
// the bounded, blocking form of Post, for producers that must slow down to
// the loop's pace rather than let its inbox grow. It returns nil once fn is
// accepted, ctx.Err() if ctx ends first (fn is not accepted), ErrClosed if
// the loop is closed or shuts down meanwhile, and an error wrapping
// ErrNilFunc for a nil fn. A nil ctx is context.Background(). A PostWait
// on a loop no one runs waits for the next Run (or ctx). Called on the loop's own goroutine, it cannot wait for
// itself and returns ErrFull instead of blocking. Safe from any goroutine;
// no allocation while the inbox has room (a full one costs a read of the
// caller's goroutine id, about a microsecond, once per call).
func (l *Loop) PostWait(ctx context.Context, fn func()) error {
	l.mustNew()
	if fn == nil {
		return badArg("PostWait", ErrNilFunc)
	}
	if ctx == nil {
		ctx = context.Background() // as Run, Do and Shutdown
	}
	m := message{op: opPost, fn: fn}
	checked := false // whether the caller was found not to be the loop (once per call: a stack read)
	for {
		ok, full := l.inbox.TryPush(m)
		if !ok && full {
			if !checked {
				if l.onLoop() {
					return ErrFull // the loop would wait for itself
				}
				checked = true
			}
			ch := l.space.take()
			ok, full = l.inbox.TryPush(m) // again, now that a drain will wake us (see the file comment)
			if !ok && full {
				select {
				case <-ch:
				case <-ctx.Done():
					l.space.n.Dec()
					return ctx.Err()
				}
			}
			l.space.n.Dec()
		}
		switch {
		case ok:
			l.wakeIfParked()
			return nil
		case !full:
			return ErrClosed
		}
	}
}
