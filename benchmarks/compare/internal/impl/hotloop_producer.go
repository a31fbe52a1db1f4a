package impl

import (
	"sync"

	"github.com/hotloop/hotloop/core"
)

// HotloopProducer is hotloop with default options whose goroutines posting
// from outside the loop (W1x's producers, W7's poster) each post through a
// core.Producer instead of Loop.Post: a lane each, so that they do not
// contend on the one inbox. Producers are long-lived, as a service's
// producer goroutines would keep theirs: a released one is kept for the
// next goroutine, so its lane keeps the size it grew to. Everything else is
// hotloop's.
var HotloopProducer = Def[*core.Timer]{
	Name: "hotloop-producer",
	Doc:  "hotloop, with a long-lived core.Producer per goroutine posting from outside (W1x, W7) instead of Loop.Post",
	// W8's remote Resets go through Timer.Reset, not a post.
	Changes: []string{"W1x", "W7"},
	New: func() (Loop[*core.Timer], error) {
		l, err := startHotloop()
		if err != nil {
			return nil, err
		}
		return &hotloopProducer{hotloop: l.(*hotloop)}, nil
	},
}

type hotloopProducer struct {
	*hotloop
	mu   sync.Mutex
	free []*core.Producer
}

// NewPoster gives the calling goroutine a Producer, a kept one if any;
// release keeps it for the next.
func (h *hotloopProducer) NewPoster() (func(func()) bool, func()) {
	h.mu.Lock()
	var p *core.Producer
	if n := len(h.free); n > 0 {
		p, h.free = h.free[n-1], h.free[:n-1]
	}
	h.mu.Unlock()
	if p == nil {
		var err error
		if p, err = h.l.NewProducer(); err != nil {
			return func(func()) bool { return false }, func() {}
		}
	}
	release := func() {
		h.mu.Lock()
		h.free = append(h.free, p)
		h.mu.Unlock()
	}
	return func(fn func()) bool { return p.Post(fn) == nil }, release
}
