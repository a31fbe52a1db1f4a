package core

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestTimerStoresFireExactly runs the same schedule on each timer store, on
// synctest's fake clock: timers with delays from a microsecond to two hours
// (every level of the wheel), a third of them stopped and a fifth reset.
// Every live timer must fire exactly at its deadline (the loop parks until
// then, and the fake clock does not move while it works), in (deadline,
// scheduling order) order, and stopped ones never.
func TestTimerStoresFireExactly(t *testing.T) {
	for _, st := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(st.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithTimerStore(st))
				stop := start(t, l)
				type want struct {
					id  int
					due time.Time
					seq int // order of the last schedule or reset
				}
				var wants []want
				var got []firing
				rng := rand.New(rand.NewPCG(3, 4))
				delay := func() time.Duration {
					return time.Duration(rng.Int64N(int64(1) << (10 + rng.IntN(33)))) // up to ~2.4 h
				}
				do(t, l, func() {
					const n = 400
					timers := make([]*Timer, n)
					dues := make([]time.Time, n)
					seqs := make([]int, n)
					now := time.Now()
					for i := range timers {
						d := delay()
						if i%7 == 0 && i > 0 {
							d = dues[i-1].Sub(now) // equal deadlines
						}
						dues[i], seqs[i] = now.Add(d), i
						id := i
						timers[i] = must(l.Local().AfterFunc(d, func() {
							got = append(got, firing{id: id, due: dues[id], at: time.Now()})
						}))
					}
					live := make([]bool, n)
					for i := range timers {
						live[i] = true
						switch {
						case i%3 == 0:
							if !timers[i].Stop() {
								t.Errorf("Stop of pending timer %d = false", i)
							}
							live[i] = false
						case i%5 == 0:
							d := delay()
							if !timers[i].Reset(d) {
								t.Errorf("Reset of pending timer %d = false", i)
							}
							dues[i], seqs[i] = now.Add(d), n+i
						}
					}
					for i := range timers {
						if live[i] {
							wants = append(wants, want{id: i, due: dues[i], seq: seqs[i]})
						}
					}
				})
				time.Sleep(3 * time.Hour)
				synctest.Wait()
				do(t, l, func() {})
				stop()
				sort.Slice(wants, func(i, j int) bool {
					if !wants[i].due.Equal(wants[j].due) {
						return wants[i].due.Before(wants[j].due)
					}
					return wants[i].seq < wants[j].seq
				})
				if len(got) != len(wants) {
					t.Fatalf("%d timers fired, want %d", len(got), len(wants))
				}
				for i, f := range got {
					if f.id != wants[i].id {
						t.Fatalf("firing %d: timer %d, want timer %d", i, f.id, wants[i].id)
					}
					if !f.at.Equal(f.due) {
						t.Fatalf("timer %d fired at %v, deadline %v", f.id, f.at, f.due)
					}
				}
			})
		})
	}
}

func TestWithTimerStoreRejectsUnknown(t *testing.T) {
	defer func() {
		v := recover()
		if s, ok := v.(string); !ok || !strings.Contains(s, "WithTimerStore") || !strings.Contains(s, "TimerStore(9)") {
			t.Fatalf("panic value %v, want a message naming WithTimerStore and TimerStore(9)", v)
		}
	}()
	WithTimerStore(9)
}
