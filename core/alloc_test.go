package core

import (
	"runtime"
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
		"Local.AfterFunc+Local.Stop": func(l *Loop) {
			tm, _ := l.Local().AfterFunc(time.Hour, noop)
			l.Local().Stop(tm) // removed and recycled at once
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

// TestZeroAllocsManyTimers: scheduling 10,000 timers from the loop and then
// stopping them all (W6's pattern, at a tenth of its size) allocates
// nothing once the loop has held that many, even across garbage
// collections: every node comes back to the loop's free list, beyond
// maxFree, and the stores keep their capacity.
func TestZeroAllocsManyTimers(t *testing.T) {
	const n = 10_000
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(store.String(), func(t *testing.T) {
			if raceEnabled {
				t.Skip("the race detector makes sync.Pool drop items and adds allocations")
			}
			l := New(WithTimerStore(store))
			stop := start(t, l)
			defer stop()
			ts := make([]Timer, n)
			round := func() {
				lc := l.Local()
				for i := range ts {
					ts[i], _ = lc.AfterFunc(time.Second, noop)
				}
				for _, tm := range ts {
					if !lc.Stop(tm) {
						t.Error("Local().Stop of a pending timer: false")
					}
				}
			}
			var allocs float64
			do(t, l, func() {
				round()
				allocs = testing.AllocsPerRun(5, func() {
					// Two collections empty sync.Pool: the nodes must be on
					// the loop's own free list.
					runtime.GC()
					runtime.GC()
					round()
				})
			})
			if allocs != 0 {
				t.Errorf("%v allocations per %d timers scheduled and stopped, want 0", allocs, n)
			}
		})
	}
}
