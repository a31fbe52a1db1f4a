package core

import (
	"log"
	"runtime/debug"
)

// An Option configures a Loop in New.
type Option func(*config)

type config struct {
	batch        int
	inboxSize    int
	panicHandler func(v any)
	debug        bool
	precise      bool         // WithPrecise: the futex parker on Linux
	spin         int64        // WithSpin: nanoseconds to busy-wait before a deadline; 0 off
	spinAuto     bool         // WithAdaptiveSpin: the margin is learned (spin.go)
	poll         int64        // WithBusyPoll: nanoseconds to poll for work before parking; 0 off
	slack        int64        // WithSlack: deadlines rounded up to a multiple of this; 0 off
	clock        *FakeClock   // WithClock: virtual time; nil for the monotonic clock
	health       healthConfig // lag sampling, slow callbacks (health.go)
	store        TimerStore   // WithTimerStore: the heap (default) or the timing wheel
}

// inboxGrowth is how many times its initial size the inbox may grow to
// (queue.WithGrowth): 4096 messages grow to at most 131072, about 6 MB.
const inboxGrowth = 32

func defaultConfig() config {
	return config{
		batch:        1024,
		inboxSize:    4096,
		panicHandler: logPanic,
		health:       defaultHealthConfig(),
	}
}

// logPanic is the default panic handler: it logs the value and the stack of
// the panicking callback, and the loop goes on.
func logPanic(v any) {
	log.Printf("hotloop: callback panicked: %v\n%s", v, debug.Stack())
}

// WithPanicHandler sets the function that receives the value of a panicking
// callback, like asyncio's exception handler. It runs on the loop goroutine
// inside the deferred recover, so runtime/debug.Stack reports the panicking
// callback's stack. After it returns the loop goes on with the next callback.
// A nil handler restores the default, which logs the value and the stack.
// A panic inside the handler itself is not recovered: it leaves Run (the
// loop is released and can be run again); the timer whose callback
// panicked counts as fired, and a periodic one is stopped.
func WithPanicHandler(h func(v any)) Option {
	return func(c *config) {
		if h == nil {
			h = logPanic
		}
		c.panicHandler = h
	}
}

// WithBatch sets how many callbacks, inbox messages and due timers each
// iteration handles at most before moving on (default 1024), so that
// neither callbacks nor timers starve. Values below 1 are treated as 1.
func WithBatch(n int) Option {
	return func(c *config) {
		if n < 1 {
			n = 1
		}
		c.batch = n
	}
}

// WithInboxSize sets the initial capacity of the lock-free inbox that other
// goroutines post into (default 4096, rounded up to a power of two). When it
// is full, posts still succeed through a slower locked overflow list; when
// the loop takes a large overflow, it grows the inbox (up to 32 times this
// size, never shrinking) so that sustained bursts stay on the lock-free
// path. Once a burst is drained, the loop keeps an overflow buffer no
// larger than the inbox and lets the rest go, so an idle loop holds at most
// about twice the grown inbox (with the default size, 2 × 32 × 4096
// messages of 40 bytes: about 10 MB) whatever the burst. Values below 2 are
// treated as 2, values above 1<<30 as 1<<30 (queue.NewInbox clamps).
func WithInboxSize(n int) Option {
	return func(c *config) {
		c.inboxSize = max(n, 2)
	}
}

// WithDebug makes the loop check, on every call to a method of [Local],
// that the caller is the loop's own goroutine, and panic with a clear
// message otherwise; the loop also checks, once per iteration and per park,
// that it runs on the goroutine that owns it. Each check is a stack walk;
// use it in tests.
// Without it, misuse of Local is caught by the race detector, and always
// when the loop is not running at all.
func WithDebug() Option {
	return func(c *config) { c.debug = true }
}
