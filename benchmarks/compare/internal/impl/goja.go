package impl

import (
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/eventloop"
)

// Goja is github.com/dop251/goja_nodejs's event loop, driven through its Go
// API only: RunOnLoop for callbacks (it has no separate fast path for calls
// made on the loop, so PostLocal is RunOnLoop too), SetTimeout and
// ClearTimeout for timers. No JavaScript source is compiled or run, so the
// figures measure the loop, not the JS interpreter.
//
// In that loop every SetTimeout and ClearTimeout is itself queued as an
// auxiliary job and applied when the loop next drains its job list; each
// timer is a time.AfterFunc whose goroutine hands the callback to the loop
// over an unbuffered channel. ClearTimeout is therefore asynchronous and
// Stop reports true.
//
// Its timers have no reset: Reset is ClearTimeout and SetTimeout of the same
// callback, as a JavaScript program pushes back an idle timeout. Both are
// documented as safe from any goroutine (they only queue the job under a
// mutex), so ResetRemote is the same two calls from another goroutine; the
// loop applies them in the order they were queued.
var Goja = Def[GojaTimer]{
	Name: "goja",
	Doc:  "goja_nodejs eventloop via its Go API (RunOnLoop, SetTimeout, ClearTimeout; a reset is ClearTimeout + SetTimeout); no JS executed",
	New:  newGoja,
}

// GojaTimer is the goja adapter's timer handle: goja's Timer and the
// callback it was given, which Reset schedules again. Keeping the callback
// saves wrapping fn anew on every Reset (an allocation goja itself does not
// make when a script passes the same function to setTimeout again).
type GojaTimer struct {
	t  *eventloop.Timer
	fn func(*goja.Runtime)
}

type gojaLoop struct {
	l *eventloop.EventLoop
}

func newGoja() (Loop[GojaTimer], error) {
	l := eventloop.NewEventLoop(eventloop.EnableConsole(false))
	l.Start()
	return &gojaLoop{l: l}, nil
}

func (g *gojaLoop) Post(fn func()) bool {
	return g.l.RunOnLoop(func(*goja.Runtime) { fn() })
}

func (g *gojaLoop) PostLocal(fn func()) bool {
	return g.l.RunOnLoop(func(*goja.Runtime) { fn() })
}

func (g *gojaLoop) AfterFunc(d time.Duration, fn func()) (GojaTimer, error) {
	cb := func(*goja.Runtime) { fn() }
	t := g.l.SetTimeout(cb, d)
	if t == nil {
		return GojaTimer{}, ErrClosed
	}
	return GojaTimer{t: t, fn: cb}, nil
}

func (g *gojaLoop) Stop(t GojaTimer) bool {
	g.l.ClearTimeout(t.t)
	return true
}

func (g *gojaLoop) Reset(t GojaTimer, d time.Duration, _ func()) GojaTimer {
	g.l.ClearTimeout(t.t)
	return GojaTimer{t: g.l.SetTimeout(t.fn, d), fn: t.fn}
}

func (g *gojaLoop) ResetRemote(t GojaTimer, d time.Duration, fn func()) GojaTimer {
	return g.Reset(t, d, fn)
}

func (g *gojaLoop) Wakeups() (uint64, bool) { return 0, false }

func (g *gojaLoop) Close() error {
	g.l.Terminate()
	return nil
}
