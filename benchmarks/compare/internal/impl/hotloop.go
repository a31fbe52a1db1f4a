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
// stop timers from inside a loop callback, like AfterFunc), Reset is
// Local().Reset and ResetRemote is Timer.Reset, and Wakeups is
// Stats().Wakeups. The loop runs on its own goroutine via Run.
//
// A Reset that moves a deadline later, as all of W8's do, is one clock read
// and one compare-and-swap on the timer's state word, from the loop or from
// any goroutine alike: no message, no wake-up, no allocation. The loop
// re-files the timer in its store only when the deadline it was filed at
// comes due, 5 s after it was scheduled, which a W8 repetition (well under
// 5 s for hotloop) does not reach; that deferred work, at most one store
// update per timer per delay however many Resets came in between, is
// therefore not in W8's figures.
var Hotloop = Def[*core.Timer]{
	Name: "hotloop",
	Doc:  "github.com/hotloop/hotloop/core (Local().Post / Local().AfterFunc from the loop, Post from outside; W9: a group.Group, Group.PostKey, a hop is Group.From(i).Send)",
	New:  newHotloop,

	Workers: HotloopGroup(),
}

type hotloop struct {
	l      *core.Loop
	cancel context.CancelFunc
	done   chan error
}

func newHotloop() (Loop[*core.Timer], error) { return startHotloop() }

func (h *hotloop) Post(fn func()) bool { return h.l.Post(fn) == nil }

func (h *hotloop) PostLocal(fn func()) bool { return h.l.Local().Post(fn) == nil }

func (h *hotloop) AfterFunc(d time.Duration, fn func()) (*core.Timer, error) {
	return h.l.Local().AfterFunc(d, fn)
}

func (h *hotloop) Stop(t *core.Timer) bool { return h.l.Local().Stop(t) }

func (h *hotloop) Reset(t *core.Timer, d time.Duration, _ func()) *core.Timer {
	h.l.Local().Reset(t, d)
	return t
}

func (h *hotloop) ResetRemote(t *core.Timer, d time.Duration, _ func()) *core.Timer {
	t.Reset(d)
	return t
}

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
