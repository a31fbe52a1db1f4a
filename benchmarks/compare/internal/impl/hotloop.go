package impl

import (
	"context"
	"errors"
	"time"

	"github.com/hotloop/hotloop/core"
)

// Hotloop adapts github.com/hotloop/hotloop/core: Post is core.Loop.Post
// (any goroutine), PostLocal is Local().Post (the loop goroutine's fast
// path), AfterFunc is Local().AfterFunc, Stop is Local().Stop (the workloads
// stop timers from inside a loop callback, like AfterFunc) and Wakeups is
// Stats().Wakeups. The loop runs on its own goroutine via Run.
var Hotloop = Def[core.Timer]{
	Name: "hotloop",
	Doc:  "github.com/hotloop/hotloop/core (Local().Post / Local().AfterFunc from the loop, Post from outside)",
	New:  newHotloop,
}

type hotloop struct {
	l      *core.Loop
	cancel context.CancelFunc
	done   chan error
}

func newHotloop() (Loop[core.Timer], error) { return startHotloop() }

func (h *hotloop) Post(fn func()) bool { return h.l.Post(fn) == nil }

func (h *hotloop) PostLocal(fn func()) bool { return h.l.Local().Post(fn) == nil }

func (h *hotloop) AfterFunc(d time.Duration, fn func()) (core.Timer, error) {
	return h.l.Local().AfterFunc(d, fn)
}

func (h *hotloop) Stop(t core.Timer) bool { return h.l.Local().Stop(t) }

func (h *hotloop) Wakeups() (uint64, bool) { return h.l.Stats().Wakeups, true }

func (h *hotloop) Close() error {
	err := h.l.Close()
	h.cancel()
	<-h.done
	if errors.Is(err, core.ErrClosed) {
		return nil
	}
	return err
}
