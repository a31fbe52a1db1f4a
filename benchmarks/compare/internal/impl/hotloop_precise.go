package impl

import (
	"context"
	"time"

	"github.com/hotloop/hotloop/core"
)

// HotloopPrecise is hotloop with core.WithPrecise(): on Linux the loop's
// goroutine is locked to its thread with 1 ns timer slack and parks in a
// futex wait with a nanosecond timeout.
var HotloopPrecise = Def[*core.Timer]{
	Name: "hotloop-precise",
	Doc:  "hotloop with core.WithPrecise() (futex parker, locked thread, 1 ns timer slack)",
	New:  func() (Loop[*core.Timer], error) { return startHotloop(core.WithPrecise()) },
	// How the loop parks and wakes: timers, posts to a parked loop, groups.
	Changes: parking,

	Workers: HotloopGroup(core.WithPrecise()),
}

// HotloopPoll is HotloopPrecise plus core.WithBusyPoll(50 µs): a loop that
// runs out of work polls for 50 µs before it parks, so a post or a hop
// that arrives within that time finds it awake.
var HotloopPoll = Def[*core.Timer]{
	Name: "hotloop-poll",
	Doc:  "hotloop with core.WithPrecise() and core.WithBusyPoll(50µs) (polls 50 µs for work before each park)",
	New: func() (Loop[*core.Timer], error) {
		return startHotloop(core.WithPrecise(), core.WithBusyPoll(50*time.Microsecond))
	},

	Changes: parking,

	Workers: HotloopGroup(core.WithPrecise(), core.WithBusyPoll(50*time.Microsecond)),
}

// HotloopSpin is HotloopPrecise plus core.WithSpin(200 µs): the loop parks
// until 200 µs before each deadline and busy-waits the rest.
var HotloopSpin = Def[*core.Timer]{
	Name: "hotloop-spin",
	Doc:  "hotloop with core.WithPrecise() and core.WithSpin(200µs) (busy-waits the last 200 µs before each timer)",
	New: func() (Loop[*core.Timer], error) {
		return startHotloop(core.WithPrecise(), core.WithSpin(200*time.Microsecond))
	},
	Changes: parking,
}

// HotloopAutoSpin is HotloopPrecise plus core.WithAdaptiveSpin(): the spin
// margin is learned from the parker's overshoots.
var HotloopAutoSpin = Def[*core.Timer]{
	Name: "hotloop-autospin",
	Doc:  "hotloop with core.WithPrecise() and core.WithAdaptiveSpin() (spin margin learned: the p99 of the parker's overshoots + 2 µs)",
	New: func() (Loop[*core.Timer], error) {
		return startHotloop(core.WithPrecise(), core.WithAdaptiveSpin())
	},
	Changes: parking,
}

// HotloopLeeway is HotloopPrecise with a 1 ms leeway on every timer
// (Timer.SetLeeway): timers whose deadlines fall in one millisecond window
// share one wake-up at its end; AfterFunc makes each timer with Init,
// SetLeeway and Timer.Reset (the deadline counted from the call).
var HotloopLeeway = Def[*core.Timer]{
	Name: "hotloop-leeway",
	Doc:  "hotloop with core.WithPrecise() and a 1 ms leeway on every timer (Timer.SetLeeway: timers in one 1 ms window share a wake-up; exact timers would stay exact)",
	New: func() (Loop[*core.Timer], error) {
		h, err := startHotloop(core.WithPrecise())
		if err != nil {
			return nil, err
		}
		return &hotloopLeeway{h.(*hotloop)}, nil
	},
	Changes: parking,
}

// hotloopLeeway is hotloop whose timers are made with a 1 ms leeway.
type hotloopLeeway struct{ *hotloop }

func (h *hotloopLeeway) AfterFunc(d time.Duration, fn func()) (*core.Timer, error) {
	t := new(core.Timer)
	if err := t.Init(h.l, fn); err != nil {
		return nil, err
	}
	if err := t.SetLeeway(time.Millisecond); err != nil {
		return nil, err
	}
	t.Reset(d)
	return t, nil
}

// parking lists the workloads on which how the loop parks and wakes
// matters: those with timers or with posts to a parked loop, and groups.
// W1 (posts on a running loop), W6 and W8 (timer operations that wake
// nothing) do not park.
var parking = []string{"W1x", "W2", "W3", "W4", "W4b", "W5", "W7", "W9"}

// startHotloop starts a hotloop adapter with the given options.
func startHotloop(opts ...core.Option) (Loop[*core.Timer], error) {
	ctx, cancel := context.WithCancel(context.Background())
	h := &hotloop{l: core.New(opts...), cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- h.l.Run(ctx) }()
	return h, nil
}

// HotloopSlack is hotloop with core.WithSlack(1 ms): timers due within the
// same millisecond window share one wake-up at its end.
var HotloopSlack = Def[*core.Timer]{
	Name: "hotloop-slack",
	Doc:  "hotloop with core.WithSlack(1ms) (deadlines rounded up to whole milliseconds: shared wake-ups)",
	New:  func() (Loop[*core.Timer], error) { return startHotloop(core.WithSlack(time.Millisecond)) },
	// When timers fire: the timer workloads only.
	Changes: []string{"W2", "W3", "W4", "W4b", "W5"},
}

// HotloopWheel is hotloop with core.WithTimerStore(core.StoreWheel): timers
// in the hierarchical timing wheel instead of the 4-ary heap.
var HotloopWheel = Def[*core.Timer]{
	Name: "hotloop-wheel",
	Doc:  "hotloop with core.WithTimerStore(core.StoreWheel) (hierarchical timing wheel with exact deadlines)",
	New:  func() (Loop[*core.Timer], error) { return startHotloop(core.WithTimerStore(core.StoreWheel)) },
	// Where timers are kept: every workload with timers.
	Changes: []string{"W2", "W3", "W4", "W4b", "W5", "W6", "W8"},
}
