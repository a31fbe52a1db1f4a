package core

import (
	"testing"
	"time"
)

var noop = func() {}

// allocsOnLoop measures f's allocations on the loop goroutine, after a
// warm-up that lets the ready queue, the inbox and the free list reach their
// working size.
func allocsOnLoop(t *testing.T, f func(l *Loop)) float64 {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items and adds allocations")
	}
	l := New()
	stop := start(t, l)
	defer stop()
	var allocs float64
	do(t, l, func() {
		for i := 0; i < 1000; i++ {
			f(l)
		}
		allocs = testing.AllocsPerRun(10000, func() { f(l) })
	})
	return allocs
}

func TestZeroAllocs(t *testing.T) {
	cases := map[string]func(l *Loop){
		"Local.Post+run": func(l *Loop) {
			l.Local().Post(noop)
			l.runReady(1)
		},
		"Local.AfterFunc+Stop": func(l *Loop) {
			tm, _ := l.Local().AfterFunc(time.Hour, noop)
			tm.Stop()
			l.drain(1) // the loop removes and recycles the node
		},
		"Local.AfterFunc+fire": func(l *Loop) {
			l.Local().AfterFunc(-1, noop)
			l.runReady(1)
		},
		"Reset": func(l *Loop) {
			tm, _ := l.Local().AfterFunc(time.Hour, noop)
			tm.Reset(2 * time.Hour)
			l.drain(1)
			tm.Stop()
			l.drain(1)
		},
		"Post+run": func(l *Loop) {
			l.Post(noop)
			l.drain(1)
			l.runReady(1)
		},
		"AfterFunc+Stop": func(l *Loop) {
			tm, _ := l.AfterFunc(time.Hour, noop)
			l.drain(1)
			tm.Stop()
			l.drain(1)
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if a := allocsOnLoop(t, f); a != 0 {
				t.Errorf("%s: %v allocations per operation, want 0", name, a)
			}
		})
	}
}
