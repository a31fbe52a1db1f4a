package core

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// modelTimer is the model's view of one timer.
type modelTimer struct {
	id      int
	when    time.Duration // deadline, since the loop was made
	seq     uint64        // scheduling order, as the loop assigns it
	period  time.Duration // > 0 for Every
	pending bool
}

// loopModel is a plain, single-threaded model of what a Loop promises:
// posts run at once (the loop is idle between ops), timers fire at their
// deadline in (deadline, scheduling order) order, periodic timers tick one
// period apart, Stop and Reset report true exactly for pending timers.
type loopModel struct {
	now    time.Duration
	seq    uint64
	timers []*modelTimer // every timer ever scheduled, by handle index
	log    []string
}

func (m *loopModel) schedule(id int, when, period time.Duration) *modelTimer {
	m.seq++
	mt := &modelTimer{id: id, when: when, seq: m.seq, period: period, pending: true}
	m.timers = append(m.timers, mt)
	return mt
}

// advance fires, in order, every timer due up to to, and sets now = to.
func (m *loopModel) advance(to time.Duration) {
	for {
		var next *modelTimer
		for _, mt := range m.timers {
			if mt.pending && mt.when <= to && (next == nil || mt.when < next.when || mt.when == next.when && mt.seq < next.seq) {
				next = mt
			}
		}
		if next == nil {
			m.now = to
			return
		}
		m.now = max(m.now, next.when)
		m.log = append(m.log, fmt.Sprintf("t%d@%v", next.id, m.now))
		if next.period > 0 {
			m.seq++
			next.when += next.period
			next.seq = m.seq
		} else {
			next.pending = false
		}
	}
}

// FuzzLoop drives a whole Loop, on synctest's fake clock, through a
// sequence of operations decoded from the input (two bytes each; Stop from
// the loop goroutine, Local().Stop, when the op byte has bit 3 set), and
// compares what ran, when, in which order, and what Stop and Reset
// reported, with loopModel. After each operation synctest.Wait lets the loop
// finish everything due, so the expected interleaving is exact.
func FuzzLoop(f *testing.F) {
	f.Add([]byte{0, 0, 1, 5, 6, 10})
	f.Add([]byte{1, 3, 1, 3, 1, 3, 4, 1, 6, 5, 5, 0, 6, 19})
	f.Add([]byte{3, 1, 6, 7, 5, 2, 6, 7, 4, 0, 6, 3})
	f.Add([]byte{2, 0, 2, 20, 7, 0, 7, 9, 5, 1, 6, 15, 5, 1, 4, 1, 6, 15})
	f.Add([]byte{1, 15, 1, 15, 2, 15, 6, 19, 6, 19, 5, 0, 5, 1, 4, 2, 0, 0})
	f.Add([]byte{2, 4, 1, 4, 3, 2, 12, 0, 6, 3, 12, 2, 2, 20, 12, 3, 6, 19})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 128 {
			data = data[:128]
		}
		synctest.Test(t, func(t *testing.T) {
			// The batch is at least the number of operations, so that the
			// loop, once woken, receives every scheduled timer before it
			// fires any: equal deadlines then fire in call order. (With a
			// smaller batch, timers still waiting in the inbox are ordered
			// after a periodic timer's next tick with the same deadline, which
			// the loop schedules when it fires: see docs/GUARANTEES.md.)
			// The timer store alternates with the input's length, so the
			// corpus covers both.
			l := New(WithBatch(64), WithTimerStore(TimerStore(len(data)%2)))
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			t0 := time.Now()
			// got is appended to by callbacks on the loop goroutine and read
			// by the test after synctest.Wait, which the race detector does
			// not count as synchronisation when the loop woke from a timer.
			var mu sync.Mutex
			var got []string
			snapshot := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }
			rec := func(id int, timer bool) func() {
				return func() {
					prefix := "p"
					if timer {
						prefix = "t"
					}
					mu.Lock()
					got = append(got, fmt.Sprintf("%s%d@%v", prefix, id, time.Since(t0)))
					mu.Unlock()
				}
			}
			m := &loopModel{}
			var handles []Timer
			for i := 0; i+1 < len(data); i += 2 {
				id, b := i/2, data[i+1]
				d := time.Duration(int(b%16)-3) * time.Millisecond // -3ms .. 12ms
				switch data[i] % 8 {
				case 0:
					if err := l.Post(rec(id, false)); err != nil {
						t.Fatal(err)
					}
					m.log = append(m.log, fmt.Sprintf("p%d@%v", id, m.now))
				case 1, 2:
					var tm Timer
					if data[i]%8 == 1 {
						tm = must(l.AfterFunc(d, rec(id, true)))
					} else if err := l.Do(context.Background(), func() {
						tm = must(l.Local().AfterFunc(d, rec(id, true)))
					}); err != nil {
						t.Fatal(err)
					}
					handles = append(handles, tm)
					m.schedule(id, m.now+max(d, 0), 0)
				case 3:
					p := time.Duration(1+b%5) * time.Millisecond
					handles = append(handles, must(l.Every(p, rec(id, true))))
					m.schedule(id, m.now+p, p)
				case 7:
					handles = append(handles, must(l.At(t0.Add(m.now+d), rec(id, true))))
					m.schedule(id, max(m.now+d, 0), 0)
				case 4, 5:
					if len(handles) == 0 {
						continue
					}
					k := int(b) % len(handles)
					mt := m.timers[k]
					var ok bool
					if data[i]%8 == 4 {
						if data[i]&8 != 0 {
							// From the loop goroutine: Local().Stop.
							if err := l.Do(context.Background(), func() { ok = l.Local().Stop(handles[k]) }); err != nil {
								t.Fatal(err)
							}
						} else {
							ok = handles[k].Stop()
						}
						if ok != mt.pending {
							t.Fatalf("op %d: Stop of timer %d = %v, model says %v", id, mt.id, ok, mt.pending)
						}
						mt.pending = false
					} else {
						rd := time.Duration(int(b/16)-3) * time.Millisecond
						ok = handles[k].Reset(rd)
						if ok != mt.pending {
							t.Fatalf("op %d: Reset of timer %d = %v, model says %v", id, mt.id, ok, mt.pending)
						}
						if ok {
							m.seq++
							mt.when, mt.seq = m.now+max(rd, 0), m.seq
						}
					}
				case 6:
					time.Sleep(time.Duration(b%20) * time.Millisecond)
				}
				synctest.Wait()
				m.advance(time.Since(t0))
				if g := snapshot(); !slices.Equal(g, m.log) {
					t.Fatalf("after op %d (%d %d):\n got  %v\n want %v", id, data[i], b, g, m.log)
				}
			}
			pending := 0
			for _, mt := range m.timers {
				if mt.pending {
					pending++
				}
			}
			fired := 0
			for _, s := range snapshot() {
				if s[0] == 't' {
					fired++
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
			if s := l.Stats(); s.TimersCancelled != uint64(pending) || s.TimersFired != uint64(fired) {
				t.Fatalf("Stats: cancelled %d, fired %d; model: pending %d, fired %d", s.TimersCancelled, s.TimersFired, pending, fired)
			}
		})
	})
}
