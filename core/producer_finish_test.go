package core

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestAttack2FinishedLoopKeepsNoBusyLane: a loop finished by Close keeps no
// lane, not in its set and not on its busy list. With WithBatch(1) and a
// lane holding two posts when Close finishes the loop, drainAll's
// drainSome takes one (the lane is kept: not empty), drainLanes takes the
// other, and drainAll stops because every lane is empty, without a
// drainSome to let the lane go.
func TestAttack2FinishedLoopKeepsNoBusyLane(t *testing.T) {
	for _, posts := range []int{1, 2, 3, 4} {
		for _, batch := range []int{1, 2, 3} {
			l := New(WithBatch(batch))
			p, err := l.NewProducer()
			if err != nil {
				t.Fatal(err)
			}
			var ran atomic.Int64
			for range posts {
				if err := p.Post(func() { ran.Add(1) }); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil { // no Run: Close finishes the loop here
				t.Fatal(err)
			}
			if ran.Load() != int64(posts) {
				t.Errorf("posts=%d batch=%d: %d ran", posts, batch, ran.Load())
			}
			if n := lanesOf(l); n != 0 {
				t.Errorf("posts=%d batch=%d: lane set holds %d", posts, batch, n)
			}
			if n := len(l.busy); n != 0 { // Close has returned: the loop is finished, no race
				t.Errorf("posts=%d batch=%d: finished loop still holds %d lane(s) on l.busy", posts, batch, n)
			}
			runtime.KeepAlive(p)
		}
	}
}

// TestAttack2FinishedAfterRunKeepsNoBusyLane: the same, with the loop
// running, a burst in the lane, and Close called from outside.
func TestAttack2FinishedAfterRunKeepsNoBusyLane(t *testing.T) {
	for round := range 50 {
		l := New(WithBatch(1 + round%3))
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		p, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		var accepted, ran atomic.Int64
		for range 200 {
			if p.Post(func() { ran.Add(1) }) == nil {
				accepted.Add(1)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != ErrClosed {
			t.Fatalf("Run: %v", err)
		}
		if accepted.Load() != ran.Load() {
			t.Fatalf("round %d: accepted %d ran %d", round, accepted.Load(), ran.Load())
		}
		if n := len(l.busy); n != 0 {
			t.Fatalf("round %d: finished loop still holds %d lane(s) on l.busy", round, n)
		}
		runtime.KeepAlive(p)
	}
}

// TestAttack2ShutdownKeepsNoBusyLane: the same as
// TestAttack2FinishedLoopKeepsNoBusyLane, finished by Shutdown, whose loop
// iterates after its first drainAll and so lets the lane go.
func TestAttack2ShutdownKeepsNoBusyLane(t *testing.T) {
	for _, posts := range []int{1, 2, 3, 4} {
		for _, batch := range []int{1, 2, 3} {
			l := New(WithBatch(batch))
			p, err := l.NewProducer()
			if err != nil {
				t.Fatal(err)
			}
			var ran atomic.Int64
			for range posts {
				if err := p.Post(func() { ran.Add(1) }); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if ran.Load() != int64(posts) || lanesOf(l) != 0 || len(l.busy) != 0 {
				t.Errorf("posts=%d batch=%d: ran %d, %d lanes in the set, %d on l.busy", posts, batch, ran.Load(), lanesOf(l), len(l.busy))
			}
			runtime.KeepAlive(p)
		}
	}
}
