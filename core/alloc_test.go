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

// armedTimer returns an embedded-style Timer of l, set up with Init.
func armedTimer(t *testing.T, l *Loop) *Timer {
	t.Helper()
	tm := new(Timer)
	if err := tm.Init(l, noop); err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestZeroAllocs(t *testing.T) {
	cases := map[string]func(t *testing.T) func(l *Loop){
		"Local.Post+run": func(*testing.T) func(l *Loop) {
			return func(l *Loop) {
				l.Local().Post(noop)
				l.runReady(1)
			}
		},
		"Post+run": func(*testing.T) func(l *Loop) {
			return func(l *Loop) {
				l.Post(noop)
				l.drain(1)
				l.runReady(1)
			}
		},
		// A Timer kept for the life of a connection: re-armed, pushed
		// back, brought forward, fired and stopped, with no allocation.
		"Reset+Stop": func(t *testing.T) func(l *Loop) {
			var tm *Timer
			return func(l *Loop) {
				if tm == nil {
					tm = armedTimer(t, l)
				}
				tm.Reset(time.Hour)     // re-arm: a message
				l.drain(1)              // filed
				tm.Reset(2 * time.Hour) // later: one CAS
				tm.Reset(time.Minute)   // earlier: a message
				l.drain(1)              // filed again
				tm.Stop()               // a message
				l.drain(1)              // removed
			}
		},
		"Local.Reset+Local.Stop": func(t *testing.T) func(l *Loop) {
			var tm *Timer
			return func(l *Loop) {
				if tm == nil {
					tm = armedTimer(t, l)
				}
				lc := l.Local()
				lc.Reset(tm, time.Hour)
				l.afterCallback()
				lc.Reset(tm, 2*time.Hour)
				lc.Reset(tm, time.Minute)
				l.afterCallback()
				lc.Stop(tm)
			}
		},
		"Local.Reset+fire": func(t *testing.T) func(l *Loop) {
			var tm *Timer
			return func(l *Loop) {
				if tm == nil {
					tm = armedTimer(t, l)
				}
				l.Local().Reset(tm, 0)
				l.fireDue(1)
			}
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			if a := allocsOnLoop(t, mk(t)); a != 0 {
				t.Errorf("%s: %v allocations per operation, want 0", name, a)
			}
		})
	}
}

// TestAfterFuncAllocatesOnlyItsTimer: AfterFunc, At and Every allocate the
// Timer they return and nothing else, from the loop and from outside.
func TestAfterFuncAllocatesOnlyItsTimer(t *testing.T) {
	cases := map[string]func(l *Loop){
		"Local.AfterFunc+Local.Stop": func(l *Loop) {
			tm, _ := l.Local().AfterFunc(time.Hour, noop)
			l.Local().Stop(tm)
		},
		"AfterFunc+Stop": func(l *Loop) {
			tm, _ := l.AfterFunc(time.Hour, noop)
			l.drain(1)
			tm.Stop()
			l.drain(1)
		},
		"Local.AfterFunc+fire": func(l *Loop) {
			l.Local().AfterFunc(0, noop)
			l.fireDue(1)
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if a := allocsOnLoop(t, f); a != 1 {
				t.Errorf("%s: %v allocations per operation, want 1 (the Timer)", name, a)
			}
		})
	}
}

// TestZeroAllocsManyTimers: arming 10,000 embedded timers from the loop and
// then stopping them all (W6's pattern, at a tenth of its size) allocates
// nothing once the store has held that many, even across garbage
// collections: the stores keep their capacity.
func TestZeroAllocsManyTimers(t *testing.T) {
	const n = 10_000
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(store.String(), func(t *testing.T) {
			if raceEnabled {
				t.Skip("the race detector adds allocations")
			}
			l := New(WithTimerStore(store))
			stop := start(t, l)
			defer stop()
			ts := make([]Timer, n)
			for i := range ts {
				if err := ts[i].Init(l, noop); err != nil {
					t.Fatal(err)
				}
			}
			round := func() {
				lc := l.Local()
				for i := range ts {
					lc.Reset(&ts[i], time.Second)
				}
				l.afterCallback() // as when a callback returns: the relative deadlines
				for i := range ts {
					if !lc.Stop(&ts[i]) {
						t.Error("Local().Stop of an armed timer: false")
					}
				}
				l.afterCallback()
			}
			var allocs float64
			do(t, l, func() {
				round()
				allocs = testing.AllocsPerRun(5, func() {
					runtime.GC()
					round()
				})
			})
			if allocs != 0 {
				t.Errorf("%v allocations per %d timers armed and stopped, want 0", allocs, n)
			}
		})
	}
}
