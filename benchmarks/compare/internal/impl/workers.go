package impl

import (
	"context"
	"errors"
	"sync"

	"github.com/hotloop/hotloop/core"
	"github.com/hotloop/hotloop/group"
)

// Workers is n single-threaded workers for W9, each with state no other
// touches: a hotloop group's loops, or goroutines fed by channels. Work
// for one key always goes to the same worker, KeyIndex(key, Len()).
type Workers interface {
	// Len returns the number of workers.
	Len() int
	// PostKey runs fn on key's worker; from any goroutine. It reports
	// whether fn was accepted.
	PostKey(key uint64, fn func()) bool
	// Send runs fn on worker to; called from a callback running on
	// worker from (W9's ping-pong). It reports whether fn was accepted.
	Send(from, to int, fn func()) bool
	// Close stops the workers once the work they accepted has run.
	Close() error
}

// WorkersDef names a Workers implementation and starts one.
type WorkersDef struct {
	Name, Doc string
	New       func(n int) (Workers, error)
}

// HotloopGroup is W9 on a group.Group of n loops built with opts:
// PostKey is the key's loop's PostWait (bounded by its inbox's 4,096
// posts, as goworkers' channels are by theirs), Send is the sending loop's
// Sender (a lane per pair of loops).
func HotloopGroup(opts ...core.Option) func(n int) (Workers, error) {
	return func(n int) (Workers, error) {
		g, err := group.New(n, opts...)
		if err != nil {
			return nil, err
		}
		w := &groupWorkers{g: g, done: make(chan error, 1)}
		go func() { w.done <- g.Run(context.Background()) }()
		return w, nil
	}
}

type groupWorkers struct {
	g    *group.Group
	done chan error
}

func (w *groupWorkers) Len() int { return w.g.Len() }

// PostKey waits while the key's loop is full (PostWait): the bounded form,
// as goworkers' full channel makes its sender wait.
func (w *groupWorkers) PostKey(key uint64, fn func()) bool {
	return w.g.For(key).PostWait(context.Background(), fn) == nil
}
func (w *groupWorkers) Send(from, to int, fn func()) bool { return w.g.From(from).Send(to, fn) == nil }

func (w *groupWorkers) Close() error {
	err := w.g.Shutdown(context.Background())
	if rerr := <-w.done; !errors.Is(rerr, core.ErrClosed) {
		return errors.Join(err, rerr)
	}
	return err
}

// GoWorkers is W9's peer, the idiomatic Go design: one goroutine per
// worker ranging over a buffered channel of func() (capacity 1024; a full
// channel blocks the sender), keyed as the group keys.
var GoWorkers = WorkersDef{
	Name: "goworkers",
	Doc:  "W9's peer: one goroutine per worker ranging over a buffered chan func() (cap 1024), keyed like the group (group.KeyIndex)",
	New:  newGoWorkers,
}

type goWorkers struct {
	chs []chan func()
	wg  sync.WaitGroup
}

func newGoWorkers(n int) (Workers, error) {
	w := &goWorkers{chs: make([]chan func(), n)}
	w.wg.Add(n)
	for i := range w.chs {
		ch := make(chan func(), 1024)
		w.chs[i] = ch
		go func() {
			defer w.wg.Done()
			for fn := range ch {
				fn()
			}
		}()
	}
	return w, nil
}

func (w *goWorkers) Len() int { return len(w.chs) }

func (w *goWorkers) PostKey(key uint64, fn func()) bool {
	w.chs[group.KeyIndex(key, len(w.chs))] <- fn
	return true
}

func (w *goWorkers) Send(_, to int, fn func()) bool { w.chs[to] <- fn; return true }

func (w *goWorkers) Close() error {
	for _, ch := range w.chs {
		close(ch)
	}
	w.wg.Wait()
	return nil
}
