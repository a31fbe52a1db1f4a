package core

import (
	"context"
	"fmt"

	"go.uber.org/atomic"
)

// Post queues fn to run on the loop. Safe from any goroutine; callbacks
// posted by one goroutine run in the order it posted them. It returns
// ErrClosed once Close or Shutdown was called (fn will not run), and an
// error wrapping ErrNilFunc for a nil fn. A nil error means fn will run
// exactly once. Posting before Run is allowed: fn runs when the loop starts.
//
// Cost: one compare-and-swap and one atomic store on the inbox, and one
// atomic load; a parked loop is also woken. No allocation while the inbox
// has room; when it is full, Post takes a slower locked path, and the loop
// then grows the inbox (see WithInboxSize). From inside a callback,
// Local().Post is cheaper.
func (l *Loop) Post(fn func()) error {
	l.mustNew()
	if fn == nil {
		return badArg("Post", ErrNilFunc)
	}
	if !l.inbox.Push(message{op: opPost, fn: fn}) {
		return ErrClosed
	}
	l.wakeIfParked()
	return nil
}

// doRequest is one Do call waiting for its callback.
type doRequest struct {
	fn   func()
	done chan struct{} // closed by the loop once fn has returned or panicked

	// state is doWaiting until exactly one of the loop (take) and Do
	// (abandon) moves it on with a compare-and-swap: that CAS decides
	// whether fn runs.
	state    atomic.Int32
	panicked any // written by the loop before done is closed; read by Do after
}

// States of doRequest.state.
const (
	doWaiting   = iota // posted; neither side has decided
	doTaken            // the loop took it: fn runs, and Do waits for done
	doAbandoned        // Do gave up (ctx ended, or the loop finished): fn never runs
)

// take claims r for the loop; false if Do abandoned it first.
func (r *doRequest) take() bool { return r.state.CompareAndSwap(doWaiting, doTaken) }

// abandon claims r for Do; false if the loop took it first, and then fn
// runs (or ran) and Do must wait for done.
func (r *doRequest) abandon() bool { return r.state.CompareAndSwap(doWaiting, doAbandoned) }

// run is the callback Do posts.
func (r *doRequest) run() {
	if !r.take() {
		return // Do gave up; fn never runs
	}
	defer close(r.done)
	defer func() {
		if v := recover(); v != nil {
			r.panicked = v
			panic(v) // on to the loop's panic handler too
		}
	}()
	r.fn()
}

// Do runs fn on the loop and waits until it has run. It returns nil once fn
// returned; an error if fn panicked (the panic also reaches the loop's
// panic handler); ErrClosed if the loop is closing; or ctx.Err() if ctx ended
// first, in which case fn is guaranteed never to run.
//
// Called from inside a callback (on the loop goroutine), Do runs fn inline
// at once and returns, rather than deadlock. A Do issued while no goroutine
// runs the loop waits for Run (or ctx). Do allocates: it is for control,
// not for the hot path.
func (l *Loop) Do(ctx context.Context, fn func()) error {
	l.mustNew()
	if fn == nil {
		return badArg("Do", ErrNilFunc)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if l.onLoop() {
		fn()
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &doRequest{fn: fn, done: make(chan struct{})}
	if err := l.Post(r.run); err != nil {
		return err
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.abandon() {
			return ctx.Err()
		}
		<-r.done // the loop took it: wait for fn to finish
	case <-l.done:
		if r.abandon() {
			return ErrClosed // cannot happen for an accepted post; kept as a guard
		}
		<-r.done
	}
	if r.panicked != nil {
		return fmt.Errorf("hotloop: Do: callback panicked: %v", r.panicked)
	}
	return nil
}
