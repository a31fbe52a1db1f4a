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
var Goja = Def[*eventloop.Timer]{
	Name: "goja",
	Doc:  "goja_nodejs eventloop via its Go API (RunOnLoop, SetTimeout, ClearTimeout); no JS executed",
	New:  newGoja,
}

type gojaLoop struct {
	l *eventloop.EventLoop
}

func newGoja() (Loop[*eventloop.Timer], error) {
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

func (g *gojaLoop) AfterFunc(d time.Duration, fn func()) (*eventloop.Timer, error) {
	t := g.l.SetTimeout(func(*goja.Runtime) { fn() }, d)
	if t == nil {
		return nil, ErrClosed
	}
	return t, nil
}

func (g *gojaLoop) Stop(t *eventloop.Timer) bool {
	g.l.ClearTimeout(t)
	return true
}

func (g *gojaLoop) Wakeups() (uint64, bool) { return 0, false }

func (g *gojaLoop) Close() error {
	g.l.Terminate()
	return nil
}
