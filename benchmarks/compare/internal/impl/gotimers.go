package impl

import (
	"sync"
	"time"
)

// GoTimers is the Go-runtime peer: timers are plain time.AfterFunc, and
// callbacks go through a buffered channel to one goroutine that drains it.
//
// Choices, stated because they shape the figures:
//   - Timer callbacks run where time.AfterFunc runs them, on a goroutine of
//     their own, concurrently with the loop; they are not funnelled back into
//     the loop (that would be the goja design again). This column is
//     therefore the floor set by the Go runtime's timers, not an event loop
//     with serialised callbacks.
//   - Post (from other goroutines) sends on a channel of capacity 4096 and
//     blocks when it is full: back-pressure, never loss.
//   - PostLocal (from a loop callback) appends to a slice owned by the loop
//     goroutine, drained after each callback; a channel cannot be used here
//     because a callback posting more than the channel's capacity to its own
//     channel would deadlock.
//   - Reset and ResetRemote are time.Timer.Reset on the AfterFunc timer,
//     synchronous from any goroutine: the loop plays no part in them.
var GoTimers = Def[*time.Timer]{
	Name: "gotimers",
	Doc:  "Go runtime timers (time.AfterFunc, callback on its own goroutine) + one goroutine draining a chan func() (cap 4096)",
	New:  newGoTimers,
}

type goTimers struct {
	ch    chan func()
	local []func()
	once  sync.Once
	done  chan struct{}
}

func newGoTimers() (Loop[*time.Timer], error) {
	l := &goTimers{ch: make(chan func(), 4096), done: make(chan struct{})}
	go l.run()
	return l, nil
}

func (l *goTimers) run() {
	defer close(l.done)
	for fn := range l.ch {
		fn()
		for i := 0; i < len(l.local); i++ {
			l.local[i]()
			l.local[i] = nil
		}
		l.local = l.local[:0]
	}
}

func (l *goTimers) Post(fn func()) (ok bool) {
	defer func() {
		if recover() != nil { // send on a closed channel: the loop is closed
			ok = false
		}
	}()
	l.ch <- fn
	return true
}

func (l *goTimers) PostLocal(fn func()) bool {
	l.local = append(l.local, fn)
	return true
}

func (l *goTimers) AfterFunc(d time.Duration, fn func()) (*time.Timer, error) {
	return time.AfterFunc(d, fn), nil
}

func (l *goTimers) Stop(t *time.Timer) bool { return t.Stop() }

func (l *goTimers) Reset(t *time.Timer, d time.Duration, _ func()) *time.Timer {
	t.Reset(d)
	return t
}

func (l *goTimers) ResetRemote(t *time.Timer, d time.Duration, _ func()) *time.Timer {
	t.Reset(d)
	return t
}

func (l *goTimers) Wakeups() (uint64, bool) { return 0, false }

func (l *goTimers) Close() error {
	l.once.Do(func() { close(l.ch) })
	<-l.done
	return nil
}
