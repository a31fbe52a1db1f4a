// Package impl puts every event loop under comparison behind one small
// interface, Loop, so that the workloads in package bench are written once
// and run unchanged against each of them.
//
// One file per implementation:
//
//   - hotloop.go: an adapter for github.com/hotloop/hotloop/core.
//   - gotimers.go: Go runtime timers (time.AfterFunc) with a goroutine
//     draining a channel for callbacks.
//   - goja.go: github.com/dop251/goja_nodejs/eventloop driven through its Go
//     API (RunOnLoop, SetTimeout, ClearTimeout), never through JavaScript
//     source, so the figures measure the loop and not the JS interpreter.
//   - seed.go: a replica of the seed design (one goroutine, a mutex-guarded
//     callback slice, a mutex-guarded gods red-black tree of timers, batches
//     of 128 callbacks, a sleep capped at 1 ms).
//
// Loop is generic in its timer handle type T so that a value handle such as
// SeedTimer or GojaTimer is stored and passed without being boxed into an
// interface: boxing would add an allocation to every schedule and distort W6
// and W8.
package impl

import (
	"errors"
	"time"
)

// ErrClosed is returned by implementations that have no error of their own
// when work is submitted to a loop that has been closed.
var ErrClosed = errors.New("impl: loop closed")

// Loop is one running event loop under test. T is the implementation's timer
// handle.
//
// Callbacks given to Post and PostLocal run one at a time on the loop.
// Timer callbacks run on the loop too, except for gotimers, whose timer
// callbacks run on the Go runtime's timer goroutines (see GoTimers); the
// workloads only touch per-timer slots and atomic counters from timer
// callbacks so that this is safe.
type Loop[T any] interface {
	// Post schedules fn from any goroutine other than the loop's
	// (call_soon_threadsafe). It reports whether fn was accepted.
	Post(fn func()) bool
	// PostLocal schedules fn from inside a loop callback (call_soon); it
	// must not be called from any other goroutine. It reports whether fn
	// was accepted.
	PostLocal(fn func()) bool
	// AfterFunc schedules fn to run once d has elapsed. It is called from
	// inside a loop callback or a timer callback.
	AfterFunc(d time.Duration, fn func()) (T, error)
	// Stop cancels a timer returned by AfterFunc, from inside a loop
	// callback. It reports whether the timer was stopped before firing;
	// implementations that cancel asynchronously report true.
	Stop(t T) bool
	// Reset pushes back a pending timer t, returned by AfterFunc or Reset,
	// so that it fires d from now (W8's idle timeout), from inside a loop
	// callback, and returns the timer's handle from then on: t itself where
	// the implementation re-arms a timer in place (hotloop, gotimers), a new
	// handle where a reset is a cancel and a new schedule (goja, seed). fn
	// is the callback t was scheduled with, which the latter schedule again.
	Reset(t T, d time.Duration, fn func()) T
	// ResetRemote is Reset called from a goroutine other than the loop's,
	// while the loop runs and other goroutines reset other timers of the
	// same loop (W8's remote part). Every in-process implementation can:
	// all of their timer operations are safe from any goroutine.
	ResetRemote(t T, d time.Duration, fn func()) T
	// Wakeups returns how many times the loop has woken from a sleep, and
	// false when the implementation cannot count them.
	Wakeups() (uint64, bool)
	// Close stops the loop and releases what it holds.
	Close() error
}

// Poster is implemented by loops that give each goroutine posting from
// outside a path of its own (hotloop-producer: a core.Producer each). W1x's
// producers and W7's poster each take one where it is offered, and post
// with Loop.Post otherwise.
type Poster interface {
	// NewPoster returns a post function for one goroutine (it reports
	// whether fn was accepted) and a release to call when done with it.
	NewPoster() (post func(fn func()) bool, release func())
}

// Def names an implementation and tells how to start one of its loops.
type Def[T any] struct {
	// Name is the column heading and the "impl" field of the JSON lines.
	Name string
	// Doc is a one-line description printed under the table.
	Doc string
	// New starts a fresh, running loop.
	New func() (Loop[T], error)
	// Workers, if set, starts n workers for W9 (a group of loops built
	// the implementation's way); W9 is skipped for implementations without.
	Workers func(n int) (Workers, error)
	// Changes, for a mode of hotloop, lists the workloads on which it runs
	// differently from plain hotloop; nil means every workload. On the
	// others its figures are hotloop's own, so the comparison's verdict
	// does not credit the mode with them (a difference there is noise).
	Changes []string
}
