package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// modelTimer is the model's view of one timer: its state word (pending,
// when) and, while it is in the store, its filed key (filedWhen, seq),
// which a Reset that moves the deadline later leaves alone (timer.go, rule
// 3) until the loop re-files it.
type modelTimer struct {
	id        int
	pending   bool          // armed
	when      time.Duration // the word's deadline, since the loop was made
	filedWhen time.Duration // the store's key, valid while pending
	seq       uint64        // the store's tie-break, as the loop assigns it
	period    time.Duration // > 0 for Every
	leeway    time.Duration // SetLeeway's: the key is when rounded up to a multiple of it
}

// loopModel is a plain, single-threaded model of what a Loop promises:
// posts run at once (the loop is idle between ops), timers fire at their
// deadline in (deadline, scheduling order) order — where a Reset that
// pushed a timer later takes its place among equal deadlines when the loop
// re-files it, at its old deadline — periodic timers tick one period
// apart, Stop reports whether the timer was armed and disarms it, Reset
// reports the same and arms it.
type loopModel struct {
	now    time.Duration
	seq    uint64
	timers []*modelTimer // every timer ever scheduled, by handle index
	log    []string
}

func (m *loopModel) schedule(id int, when, period time.Duration) *modelTimer {
	mt := &modelTimer{id: id, period: period}
	m.timers = append(m.timers, mt)
	m.reset(mt, when)
	return mt
}

// file puts mt in the store at when (rounded up to a multiple of its
// leeway), with the next sequence number.
func (m *loopModel) file(mt *modelTimer, when time.Duration) {
	m.seq++
	mt.filedWhen, mt.seq = time.Duration(coalesce(int64(when), int64(mt.leeway))), m.seq
}

// reset is Reset(when - now) in the model: it reports whether mt was armed.
func (m *loopModel) reset(mt *modelTimer, when time.Duration) bool {
	was := mt.pending
	if !was || when < mt.when {
		m.file(mt, when) // re-armed or moved earlier: filed now
	}
	mt.pending, mt.when = true, when // later: the filed key stays
	return was
}

// stop is Stop in the model.
func (m *loopModel) stop(mt *modelTimer) bool {
	was := mt.pending
	mt.pending = false
	return was
}

// advance runs the loop up to to: in filed order, it re-files timers
// pushed later and fires the due ones, then sets now = to.
func (m *loopModel) advance(to time.Duration) {
	for {
		var next *modelTimer
		for _, mt := range m.timers {
			if mt.pending && mt.filedWhen <= to && (next == nil || mt.filedWhen < next.filedWhen || mt.filedWhen == next.filedWhen && mt.seq < next.seq) {
				next = mt
			}
		}
		if next == nil {
			m.now = to
			return
		}
		m.now = max(m.now, next.filedWhen)
		if next.when > next.filedWhen {
			m.file(next, next.when)
			continue
		}
		m.log = append(m.log, fmt.Sprintf("t%d@%v", next.id, m.now))
		if next.period > 0 {
			next.when += next.period
			m.file(next, next.when)
		} else {
			next.pending = false
		}
	}
}

// clone returns a deep copy of mt, to try an order of concurrent operations.
func (mt *modelTimer) clone() *modelTimer { c := *mt; return &c }

// FuzzLoop drives a whole Loop, on synctest's fake clock, through a
// sequence of operations decoded from the input (two bytes each: Post,
// AfterFunc, Local().AfterFunc, Init+Reset (with bit 4, SetLeeway first),
// Every, At, Stop, Reset, sleep or (bit 3) Loop.Pause and Run again;
// bit 3 of the op byte makes Post Producer.Post, Stop and Reset Local().Stop and Local().Reset
// from the loop goroutine, Every and At Local().Every and Local().At, and
// Local().AfterFunc one followed in the same callback by Local().Reset, or
// with bit 4 Local().Stop; bit 4 of Stop and Reset races a Stop and a
// Reset, or two Resets, of one timer from two goroutines), and compares what ran, when,
// in which order, and what Stop and Reset reported, with loopModel. After each operation synctest.Wait lets the loop
// finish everything due, so the expected interleaving is exact.
func FuzzLoop(f *testing.F) {
	f.Add([]byte{0, 0, 1, 5, 6, 10})
	f.Add([]byte{1, 3, 1, 3, 1, 3, 4, 1, 6, 5, 5, 0, 6, 19})
	f.Add([]byte{3, 1, 6, 7, 5, 2, 6, 7, 4, 0, 6, 3})
	f.Add([]byte{2, 0, 2, 20, 7, 0, 7, 9, 5, 1, 6, 15, 5, 1, 4, 1, 6, 15})
	f.Add([]byte{1, 15, 1, 15, 2, 15, 6, 19, 6, 19, 5, 0, 5, 1, 4, 2, 0, 0})
	f.Add([]byte{2, 4, 1, 4, 3, 2, 12, 0, 6, 3, 12, 2, 2, 20, 12, 3, 6, 19})
	// Reset after fire and after Stop, from both sides; a Local().Reset
	// earlier; Init+Reset; concurrent Stop/Reset and Reset/Reset.
	f.Add([]byte{1, 4, 6, 10, 5, 0x52, 6, 10, 4, 0, 5, 0x30, 6, 19})
	f.Add([]byte{9, 8, 13, 0x63, 6, 2, 13, 0x01, 6, 19, 13, 0x90, 6, 19})
	f.Add([]byte{1, 10, 2, 12, 20, 0x71, 21, 0x5a, 6, 19, 21, 0x27, 20, 0x40, 6, 19})
	f.Add([]byte{3, 2, 1, 9, 21, 0x95, 6, 4, 5, 0xf0, 6, 9, 4, 0, 5, 0x41, 6, 15})
	// Local timers stopped or reset in the callback that scheduled them;
	// Local().Every and Local().At.
	f.Add([]byte{10, 0x35, 26, 0x35, 11, 0x22, 15, 0x04, 10, 0x09, 6, 19, 12, 2, 6, 19})
	// Posts through a Producer among posts and timers.
	f.Add([]byte{8, 0, 0, 0, 8, 0, 1, 3, 8, 0, 6, 5, 8, 0})
	// Pause and Run again, from outside and from a callback, among
	// timers due before and after; the deprecated Stop.
	f.Add([]byte{1, 5, 3, 2, 14, 0, 6, 4, 30, 0, 1, 2, 6, 9, 46, 0, 6, 19})
	// Timers with a leeway (Init, SetLeeway, Reset) among exact ones,
	// reset and stopped.
	f.Add([]byte{25, 0x14, 25, 0x25, 1, 6, 25, 0x37, 6, 3, 5, 0x42, 6, 19, 4, 1, 6, 19})
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
			// Half the inputs also time every callback and report every
			// timer to WithLateTimer, whose reports must add up.
			var reports atomic.Int64
			var badReport atomic.Value
			opts := []Option{WithBatch(64), WithTimerStore(TimerStore(len(data) % 2))}
			blamed := len(data)%4 >= 2
			if blamed {
				opts = append(opts, WithLateTimer(0, func(r LateTimer) {
					reports.Add(1)
					if r.Late < 0 || r.Allowed < 0 || r.Park < 0 || r.Callbacks < 0 || r.Backlog < 0 || r.Allowed+r.Park+r.Callbacks+r.Backlog != r.Late {
						badReport.Store(fmt.Sprintf("%+v", r))
					}
				}))
			}
			l := New(opts...)
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
			var handles []*Timer
			var prod *Producer
			stoppedPeriodic := 0 // by StopPeriodic: counted as cancelled
			for i := 0; i+1 < len(data); i += 2 {
				id, b := i/2, data[i+1]
				d := time.Duration(int(b%16)-3) * time.Millisecond // -3ms .. 12ms
				switch data[i] % 8 {
				case 0:
					post := l.Post
					switch { // the bounded forms: the inbox never fills here (a barrier follows every op), so they accept as Post does
					case data[i]&16 != 0:
						post = l.TryPost
					case data[i]&32 != 0:
						post = func(fn func()) error { return l.PostWait(context.Background(), fn) }
					}
					if data[i]&8 != 0 { // through a Producer (one per run)
						if prod == nil {
							var err error
							if prod, err = l.NewProducer(); err != nil {
								t.Fatal(err)
							}
						}
						post = prod.Post
					}
					if err := post(rec(id, false)); err != nil {
						t.Fatal(err)
					}
					m.log = append(m.log, fmt.Sprintf("p%d@%v", id, m.now))
				case 1, 2:
					var tm *Timer
					if data[i]%8 == 1 && data[i]&8 != 0 {
						// The embedded form: Init, then Reset arms it;
						// with bit 4, a leeway of 1..4 ms first.
						tm = new(Timer)
						if err := tm.Init(l, rec(id, true)); err != nil {
							t.Fatal(err)
						}
						var leeway time.Duration
						if data[i]&16 != 0 {
							leeway = time.Duration(1+b/16%4) * time.Millisecond
							if err := tm.SetLeeway(leeway); err != nil {
								t.Fatal(err)
							}
						}
						if tm.Reset(d) {
							t.Fatal("Reset of a timer fresh from Init: true")
						}
						handles = append(handles, tm)
						mt := &modelTimer{id: id, leeway: leeway}
						m.timers = append(m.timers, mt)
						m.reset(mt, m.now+max(d, 0))
						break
					} else if data[i]%8 == 1 {
						tm = must(l.AfterFunc(d, rec(id, true)))
					} else if data[i]&8 != 0 {
						// Scheduled and, in the same callback, before the
						// loop has filed it, stopped (bit 4) or reset.
						rd := time.Duration(int(b/16)-3) * time.Millisecond
						var ok bool
						if err := l.Do(context.Background(), func() {
							tm = must(l.Local().AfterFunc(d, rec(id, true)))
							if data[i]&16 != 0 {
								ok = l.Local().Stop(tm)
							} else {
								ok = l.Local().Reset(tm, rd)
							}
						}); err != nil {
							t.Fatal(err)
						}
						handles = append(handles, tm)
						if !ok {
							t.Fatalf("op %d: Local Stop or Reset of a timer just scheduled: false", id)
						}
						// Filed when the callback returns: at the Reset's
						// deadline, numbered by the Reset, or not at all.
						if data[i]&16 != 0 {
							m.stop(m.schedule(id, m.now+max(d, 0), 0))
						} else {
							m.schedule(id, m.now+max(rd, 0), 0)
						}
						break
					} else if err := l.Do(context.Background(), func() {
						tm = must(l.Local().AfterFunc(d, rec(id, true)))
					}); err != nil {
						t.Fatal(err)
					}
					handles = append(handles, tm)
					m.schedule(id, m.now+max(d, 0), 0)
				case 3:
					if data[i]&16 != 0 && data[i]&8 != 0 {
						// Local().StopPeriodic, with Local().Callbacks read
						// before and after: the Do that reads it first
						// counts once it has returned, the second not yet.
						var stopped int
						var c0, c1, fired uint64
						if err := l.Do(context.Background(), func() { c0 = l.Local().Callbacks() }); err != nil {
							t.Fatal(err)
						}
						if err := l.Do(context.Background(), func() {
							stopped = l.Local().StopPeriodic()
							c1 = l.Local().Callbacks()
							fired = l.Local().TimersFired()
						}); err != nil {
							t.Fatal(err)
						}
						if c1-c0 != 1 {
							t.Fatalf("op %d: Local().Callbacks moved by %d across one callback", id, c1-c0)
						}
						wantFired := uint64(0)
						for _, e := range m.log {
							if e[0] == 't' {
								wantFired++
							}
						}
						if fired != wantFired {
							t.Fatalf("op %d: Local().TimersFired %d, the model %d", id, fired, wantFired)
						}
						want := 0
						for _, mt := range m.timers {
							if mt.period > 0 && mt.pending {
								m.stop(mt)
								want++
							}
						}
						if stopped != want {
							t.Fatalf("op %d: StopPeriodic stopped %d, the model %d", id, stopped, want)
						}
						stoppedPeriodic += stopped
						break
					}
					p := time.Duration(1+b%5) * time.Millisecond
					if data[i]&8 != 0 {
						var tm *Timer
						if err := l.Do(context.Background(), func() { tm = must(l.Local().Every(p, rec(id, true))) }); err != nil {
							t.Fatal(err)
						}
						handles = append(handles, tm)
					} else {
						handles = append(handles, must(l.Every(p, rec(id, true))))
					}
					m.schedule(id, m.now+p, p)
				case 7:
					if data[i]&8 != 0 {
						var tm *Timer
						if err := l.Do(context.Background(), func() { tm = must(l.Local().At(t0.Add(m.now+d), rec(id, true))) }); err != nil {
							t.Fatal(err)
						}
						handles = append(handles, tm)
					} else {
						handles = append(handles, must(l.At(t0.Add(m.now+d), rec(id, true))))
					}
					m.schedule(id, max(m.now+d, 0), 0)
				case 4, 5:
					if len(handles) == 0 {
						continue
					}
					k := int(b) % len(handles)
					mt := m.timers[k]
					rd := time.Duration(int(b/16)-3) * time.Millisecond
					if data[i]&16 != 0 {
						concurrent(t, l, m, k, handles[k], data[i]%8 == 4, rd, time.Duration(int(b%16)-3)*time.Millisecond, snapshot)
						break
					}
					var ok bool
					local := data[i]&8 != 0 // from the loop goroutine: Local().Stop, Local().Reset
					if data[i]%8 == 4 {
						if local {
							if err := l.Do(context.Background(), func() { ok = l.Local().Stop(handles[k]) }); err != nil {
								t.Fatal(err)
							}
						} else {
							ok = handles[k].Stop()
						}
						if want := m.stop(mt); ok != want {
							t.Fatalf("op %d: Stop of timer %d = %v, model says %v", id, mt.id, ok, want)
						}
					} else {
						if local {
							if err := l.Do(context.Background(), func() { ok = l.Local().Reset(handles[k], rd) }); err != nil {
								t.Fatal(err)
							}
						} else {
							ok = handles[k].Reset(rd)
						}
						if want := m.reset(mt, m.now+max(rd, 0)); ok != want {
							t.Fatalf("op %d: Reset of timer %d = %v, model says %v", id, mt.id, ok, want)
						}
					}
				case 6:
					if data[i]&8 == 0 {
						time.Sleep(time.Duration(b%20) * time.Millisecond)
						break
					}
					// Pause (with bit 32 the deprecated Stop; with bit 16
					// from a callback of the loop's own), then a post while
					// no Run runs the loop, then Run again: the post and
					// every timer wait for it, and nothing is lost.
					pause := l.Pause
					if data[i]&32 != 0 {
						pause = l.Stop
					}
					if data[i]&16 != 0 {
						if err := l.Post(pause); err != nil {
							t.Fatal(err)
						}
					} else {
						// Pause does nothing with no Run in progress: a
						// Do that has run proves that the Run began.
						if err := l.Do(context.Background(), func() {}); err != nil {
							t.Fatal(err)
						}
						pause()
					}
					if err := <-errc; err != nil {
						t.Fatalf("op %d: Run after Pause: %v", id, err)
					}
					if err := l.Post(rec(id, false)); err != nil {
						t.Fatalf("op %d: Post while paused: %v", id, err)
					}
					m.log = append(m.log, fmt.Sprintf("p%d@%v", id, m.now))
					go func() { errc <- l.Run(context.Background()) }()
				}
				// The barrier makes the loop take every message before the
				// next op (a message for a deadline later than the one the
				// loop parks until does not wake it); the model files
				// timers at their ops. A Reset that rides a message not yet
				// taken is numbered with it: docs/GUARANTEES.md.
				// (TestResetEarlierWakesWhileItsMessageWaits covers the
				// wake-up that the barrier would hide.)
				if err := l.Do(context.Background(), func() {}); err != nil {
					t.Fatal(err)
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
			if s := l.Stats(); s.TimersCancelled != uint64(pending+stoppedPeriodic) || s.TimersFired != uint64(fired) {
				t.Fatalf("Stats: cancelled %d, fired %d; model: pending %d + stopped by StopPeriodic %d, fired %d", s.TimersCancelled, s.TimersFired, pending, stoppedPeriodic, fired)
			}
			h := l.Health()
			if sum := h.TimerLagAllowed + h.TimerLagPark + h.TimerLagCallbacks + h.TimerLagBacklog; sum != time.Duration(h.TimerLag.Sum()) ||
				h.TimerLagAllowed < 0 || h.TimerLagPark < 0 || h.TimerLagCallbacks < 0 || h.TimerLagBacklog < 0 {
				t.Fatalf("lateness split %v + %v + %v + %v, want parts >= 0 adding up to TimerLag's sum %v",
					h.TimerLagAllowed, h.TimerLagPark, h.TimerLagCallbacks, h.TimerLagBacklog, time.Duration(h.TimerLag.Sum()))
			}
			if v := badReport.Load(); v != nil {
				t.Fatalf("a late-timer report whose parts do not add up: %v", v)
			}
			if blamed && (reports.Load() != int64(fired) || h.LateTimers != uint64(fired)) {
				t.Fatalf("%d timers reported late (Health: %d), want every one fired: %d", reports.Load(), h.LateTimers, fired)
			}
		})
	})
}

// concurrent races two operations on one timer from two goroutines — a Stop
// and a Reset(d1) when stop is set, else Reset(d1) and Reset(d2) — and
// checks the linearizable rule: what they reported, the timer's state word
// after and the calls made are those of one of the two sequential orders —
// with the loop perhaps firing the timer between them, if the first made it
// due, and with the second perhaps riding the first one's message — whose
// model state it then adopts. Time stands still meanwhile (synctest), so both
// Resets read the same clock.
func concurrent(t *testing.T, l *Loop, m *loopModel, k int, tm *Timer, stop bool, d1, d2 time.Duration, snapshot func() []string) {
	t.Helper()
	type op func(m *loopModel, mt *modelTimer) bool
	reset := func(d time.Duration) op {
		return func(m *loopModel, mt *modelTimer) bool { return m.reset(mt, m.now+max(d, 0)) }
	}
	ops := [2]op{reset(d1), reset(d2)}
	real := [2]func() bool{func() bool { return tm.Reset(d1) }, func() bool { return tm.Reset(d2) }}
	if stop {
		ops[1] = func(m *loopModel, mt *modelTimer) bool { return m.stop(mt) }
		real[1] = tm.Stop
	}
	var got [2]bool
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i] = real[i]()
		}()
	}
	close(start)
	wg.Wait()
	if err := l.Do(context.Background(), func() {}); err != nil {
		t.Fatal(err)
	}
	synctest.Wait() // the loop has applied their messages, and fired what is due
	word := tm.n.Value.load()
	log := snapshot()
	// Where the loop filed the timer tells a lazy second Reset from one that
	// rode the first one's message. Read on the loop goroutine: its store.
	var filedAt time.Duration
	var inStore bool
	if err := l.Do(context.Background(), func() { filedAt, inStore = time.Duration(tm.n.When()), tm.n.InStore() }); err != nil {
		t.Fatal(err)
	}
	var tried []string
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		for _, variant := range []struct{ between, ride bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			between := variant.between
			try := *m
			try.log = slices.Clone(m.log)
			try.timers = make([]*modelTimer, len(m.timers))
			for j, x := range m.timers {
				try.timers[j] = x.clone()
			}
			mt := try.timers[k]
			var want [2]bool
			want[order[0]] = ops[order[0]](&try, mt)
			if between {
				try.advance(m.now) // the loop fired it in between: the first op made it due
			}
			want[order[1]] = ops[order[1]](&try, mt)
			if variant.ride && mt.pending && mt.filedWhen != mt.when {
				// The second op rode the first one's message, which the loop
				// had not taken yet (rule 4 in timer.go), or came while the
				// loop ran the timer's periodic callback (between) and sent
				// its own: the loop files the timer at its final deadline.
				try.file(mt, mt.when)
			}
			try.advance(m.now) // what the loop has done since: a Reset may have made it due
			if want == got && word.armed() == mt.pending && (!mt.pending || time.Duration(word.when()) == mt.when) && slices.Equal(try.log, log) &&
				inStore == mt.pending && (!mt.pending || filedAt == mt.filedWhen) {
				*m = try
				return
			}
			tried = append(tried, fmt.Sprintf("order %v (fired between: %v, rode: %v): reports %v, armed %v when %v filed at %v, calls %v",
				order, between, variant.ride, want, mt.pending, mt.when, mt.filedWhen, try.log[len(m.log):]))
		}
	}
	t.Fatalf("concurrent ops on timer %d (stop=%v, d1=%v, d2=%v): reported %v, word %v, in the store %v at %v, calls %v; no sequential order gives that:\n%s",
		m.timers[k].id, stop, d1, d2, got, word, inStore, filedAt, log[len(m.log):], strings.Join(tried, "\n"))
}
