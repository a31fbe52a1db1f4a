package core

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestLocalStopReturnValues: Local().Stop reports what Timer.Stop would,
// and takes a filed timer out of the store before it returns; a timer the
// running callback scheduled is filed only when the callback returns, and
// not at all if stopped before then.
func TestLocalStopReturnValues(t *testing.T) {
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(store.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithTimerStore(store))
				stop := start(t, l)
				defer stop()
				ran := 0
				var fired *Timer
				var tm *Timer
				do(t, l, func() {
					lc := l.Local()
					early := must(lc.AfterFunc(time.Second, func() { ran++ }))
					if !lc.Stop(early) {
						t.Error("Local().Stop of a timer scheduled in the same callback: false")
					}
					tm = must(lc.AfterFunc(time.Second, func() { ran++ }))
					if n := l.timers.Len(); n != 0 {
						t.Errorf("store holds %d timers while the scheduling callback runs, want 0", n)
					}
				})
				do(t, l, func() {
					lc := l.Local()
					if n := l.timers.Len(); n != 1 {
						t.Errorf("store holds %d timers after the callback returned, want 1", n)
					}
					if !lc.Stop(tm) {
						t.Error("Local().Stop of a pending timer: false")
					}
					if n := l.timers.Len(); n != 0 {
						t.Errorf("store holds %d timers after Local().Stop, want 0", n)
					}
					if lc.Stop(tm) || tm.Stop() {
						t.Error("second Stop of a stopped timer: true")
					}
					zero := must(lc.AfterFunc(0, func() { ran++ })) // due at once
					if !lc.Stop(zero) {
						t.Error("Local().Stop of a due zero-delay timer: false")
					}
					if lc.Stop(&Timer{}) {
						t.Error("Local().Stop of the zero Timer: true")
					}
					fired = must(lc.AfterFunc(time.Millisecond, func() { ran++ }))
				})
				time.Sleep(2 * time.Second)
				do(t, l, func() {
					if l.Local().Stop(fired) {
						t.Error("Local().Stop of a fired timer: true")
					}
				})
				if ran != 1 {
					t.Fatalf("ran %d callbacks, want 1 (the stopped ones must not run)", ran)
				}
				synctest.Wait() // the loop has published its counters and parked
				if s := l.Stats(); s.TimersPending != 0 {
					t.Fatalf("TimersPending = %d, want 0", s.TimersPending)
				}
			})
		})
	}
}

// TestLocalStopFromItsOwnCallback: a periodic timer stopped from inside its
// callback (true) makes no more calls; a one-shot timer is running then, so
// its Stop reports false, and it is recycled exactly once.
func TestLocalStopFromItsOwnCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		n := 0
		var every, once *Timer
		var stoppedEvery, stoppedOnce bool
		do(t, l, func() {
			lc := l.Local()
			every = must(lc.Every(time.Millisecond, func() {
				n++
				if n == 3 {
					stoppedEvery = lc.Stop(every)
					// The node is recycled: a new timer may take it at once.
					must(lc.AfterFunc(time.Hour, func() {}))
				}
			}))
			once = must(lc.AfterFunc(time.Millisecond, func() { stoppedOnce = lc.Stop(once) }))
		})
		time.Sleep(10 * time.Millisecond)
		do(t, l, func() {})
		if n != 3 || !stoppedEvery || stoppedOnce {
			t.Fatalf("periodic ran %d times, its Local().Stop = %v, one-shot's = %v; want 3, true, false", n, stoppedEvery, stoppedOnce)
		}
		synctest.Wait() // the loop has published its counters and parked
		if s := l.Stats(); s.TimersPending != 1 {
			t.Fatalf("TimersPending = %d, want 1 (the timer scheduled from the callback)", s.TimersPending)
		}
	})
}

// TestLocalStopTimerOfAnotherGoroutine: Local().Stop of timers that other
// goroutines scheduled or reset: one whose opAdd message is still in the
// inbox (it must not be recycled before the loop applies it), one already
// in the store, and one with a Reset message in flight.
func TestLocalStopTimerOfAnotherGoroutine(t *testing.T) {
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(store.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithTimerStore(store))
				stop := start(t, l)
				defer stop()
				var ran atomic.Int32
				count := func() { ran.Add(1) }
				// other runs f on another goroutine and waits for it, while
				// the loop is inside the callback calling other: the messages
				// f sends stay in the inbox until the callback returns.
				other := func(f func()) {
					done := make(chan struct{})
					go func() { f(); close(done) }()
					<-done
				}
				var inStore, resetting *Timer
				do(t, l, func() {
					var inFlight, zero *Timer
					other(func() {
						inFlight = must(l.AfterFunc(time.Millisecond, count))
						zero = must(l.AfterFunc(0, count))
					})
					if !l.Local().Stop(inFlight) || !l.Local().Stop(zero) {
						t.Error("Local().Stop of a timer whose opAdd is in the inbox: false")
					}
					if l.Local().Stop(inFlight) || inFlight.Stop() {
						t.Error("second Stop: true")
					}
				})
				do(t, l, func() {
					// The loop has applied opAdd, then opStop: the node must
					// not be left in the store (nor recycled twice).
					if n := l.timers.Len(); n != 0 {
						t.Errorf("store holds %d timers after the messages were applied, want 0", n)
					}
				})
				other(func() {
					inStore = must(l.AfterFunc(time.Millisecond, count))
					resetting = must(l.AfterFunc(time.Millisecond, count))
				})
				do(t, l, func() {
					if n := l.timers.Len(); n != 2 {
						t.Errorf("store holds %d timers, want 2", n)
					}
					other(func() {
						if !resetting.Reset(2 * time.Millisecond) {
							t.Error("Reset of a pending timer: false")
						}
					})
					if !l.Local().Stop(inStore) || !l.Local().Stop(resetting) {
						t.Error("Local().Stop of a pending timer: false")
					}
					if n := l.timers.Len(); n != 0 {
						t.Errorf("store holds %d timers after Local().Stop, want 0", n)
					}
				})
				time.Sleep(10 * time.Millisecond)
				do(t, l, func() {})
				if n := ran.Load(); n != 0 {
					t.Fatalf("%d stopped timers ran", n)
				}
				synctest.Wait() // the loop has published its counters and parked
				if s := l.Stats(); s.TimersPending != 0 {
					t.Fatalf("TimersPending = %d, want 0", s.TimersPending)
				}
				// The recycled nodes serve new timers correctly.
				do(t, l, func() {
					for range 4 {
						must(l.Local().AfterFunc(time.Millisecond, count))
					}
				})
				for range 4 {
					must(l.AfterFunc(time.Millisecond, count))
				}
				time.Sleep(10 * time.Millisecond)
				do(t, l, func() {})
				if n := ran.Load(); n != 8 {
					t.Fatalf("%d of 8 new timers ran", n)
				}
			})
		})
	}
}

// TestLocalStopTimerOfAnotherLoop: a handle of another loop's timer is
// stopped through that loop.
func TestLocalStopTimerOfAnotherLoop(t *testing.T) {
	a, b := New(), New()
	stopA, stopB := start(t, a), start(t, b)
	defer stopA()
	defer stopB()
	tm := must(b.AfterFunc(time.Hour, func() {}))
	do(t, b, func() {}) // in b's store
	var ok bool
	do(t, a, func() { ok = a.Local().Stop(tm) })
	var held int
	do(t, b, func() { held = b.timers.Len() }) // behind the Stop's message
	if !ok {
		t.Fatal("Local().Stop of another loop's pending timer: false")
	}
	if held != 0 {
		t.Fatalf("the other loop still holds %d timers", held)
	}
}

func TestLocalStopOutsideLoopPanics(t *testing.T) {
	l := New()
	defer l.Close()
	tm := must(l.AfterFunc(time.Hour, func() {}))
	defer func() {
		if recover() == nil {
			t.Fatal("Local().Stop outside the loop did not panic")
		}
	}()
	l.Local().Stop(tm)
}

// TestStressLocalStopRaces: timers scheduled on the loop are stopped by
// the loop (Local().Stop) while other goroutines Stop and Reset the same
// handles, about when they fire. Each timer either runs exactly once and no
// Stop reported true, or never runs and exactly one Stop reported true.
func TestStressLocalStopRaces(t *testing.T) {
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(store.String(), func(t *testing.T) {
			l := New(WithTimerStore(store))
			stop := start(t, l)
			const goroutines, rounds = 8, 200
			n := goroutines * rounds
			runs := make([]atomic.Int32, n)   // callback runs
			stops := make([]atomic.Int32, n)  // Stops that reported true
			rearms := make([]atomic.Int32, n) // Resets that reported false: each armed the timer again
			handles := make([]*Timer, n)
			do(t, l, func() {
				r := rand.New(rand.NewPCG(1, 2))
				for id := range handles {
					d := time.Duration(r.IntN(200)) * time.Microsecond
					handles[id] = must(l.Local().AfterFunc(d, func() { runs[id].Add(1) }))
				}
			})
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(g), 7))
					for i := range rounds {
						id := g*rounds + i
						tm := handles[id]
						// The loop stops it too, from a callback.
						if err := l.Post(func() {
							if l.Local().Stop(tm) {
								stops[id].Add(1)
							}
						}); err != nil {
							t.Error(err)
						}
						spin := time.Now().Add(time.Duration(r.IntN(50)) * time.Microsecond)
						for time.Now().Before(spin) {
						}
						switch r.IntN(3) {
						case 0:
							if tm.Stop() {
								stops[id].Add(1)
							}
						case 1:
							if !tm.Reset(time.Duration(r.IntN(40)-10) * time.Microsecond) {
								rearms[id].Add(1)
							}
						}
					}
				}()
			}
			wg.Wait()
			for {
				done := 0
				for id := range runs {
					if runs[id].Load()+stops[id].Load() >= 1+rearms[id].Load() {
						done++
					}
				}
				if done == n {
					break
				}
				time.Sleep(time.Millisecond)
			}
			do(t, l, func() {})
			stop()
			for id := range runs {
				if r, s, a := runs[id].Load(), stops[id].Load(), rearms[id].Load(); r+s != 1+a {
					t.Errorf("timer %d: ran %d times, %d Stops reported true, re-armed %d times; want each arming to end one way", id, r, s, a)
				}
			}
		})
	}
}
