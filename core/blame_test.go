package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// blameJobs are callbacks with names the reports can be checked against.
// Each slow one runs for its duration on the fake clock (Advance from a
// callback moves the clock at once: a callback that runs that long).
type blameJobs struct {
	clk *FakeClock
}

func (j *blameJobs) slowPost()  { j.clk.Advance(30 * time.Millisecond) }
func (j *blameJobs) slowTimer() { j.clk.Advance(5 * time.Millisecond) }
func (j *blameJobs) oneMs()     { j.clk.Advance(time.Millisecond) }
func (j *blameJobs) eightMs()   { j.clk.Advance(8 * time.Millisecond) }
func (j *blameJobs) quick()     {}

// lateLog collects WithLateTimer reports. Loop goroutine only (the hook);
// tests read it through do.
type lateLog struct {
	got []LateTimer
	clk *FakeClock // for slowHook
}

func (g *lateLog) hook(r LateTimer) { g.got = append(g.got, r) }

// slowHook records r and, the first time, runs for 4 ms.
func (g *lateLog) slowHook(r LateTimer) {
	g.got = append(g.got, r)
	if len(g.got) == 1 {
		g.clk.Advance(4 * time.Millisecond)
	}
}

// reports returns a copy of the reports so far, read on the loop.
func (g *lateLog) reports(t *testing.T, l *Loop) []LateTimer {
	t.Helper()
	var out []LateTimer
	do(t, l, func() { out = append(out, g.got...) })
	return out
}

// checkLate compares a report's figures (not its names) with the wanted
// ones, in milliseconds.
func checkLate(t *testing.T, r LateTimer, late, allowed, park, callbacks, backlog float64) {
	t.Helper()
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	if r.Late != ms(late) || r.Allowed != ms(allowed) || r.Park != ms(park) || r.Callbacks != ms(callbacks) || r.Backlog != ms(backlog) {
		t.Errorf("%s: late %v = allowed %v + park %v + callbacks %v + backlog %v; want %vms = %vms + %vms + %vms + %vms",
			r.Name, r.Late, r.Allowed, r.Park, r.Callbacks, r.Backlog, late, allowed, park, callbacks, backlog)
	}
}

// checkSplitSums: Health's four parts add up to TimerLag's sum, once the
// loop has published them (it does before it parks).
func checkSplitSums(t *testing.T, l *Loop) *Health {
	t.Helper()
	waitParked(t, l)
	h := l.Health()
	if got, want := h.TimerLagAllowed+h.TimerLagPark+h.TimerLagCallbacks+h.TimerLagBacklog, time.Duration(h.TimerLag.Sum()); got != want {
		t.Errorf("TimerLagAllowed %v + TimerLagPark %v + TimerLagCallbacks %v + TimerLagBacklog %v = %v, want TimerLag's sum %v",
			h.TimerLagAllowed, h.TimerLagPark, h.TimerLagCallbacks, h.TimerLagBacklog, got, want)
	}
	if h.TimerLagAllowed < 0 || h.TimerLagPark < 0 || h.TimerLagCallbacks < 0 || h.TimerLagBacklog < 0 {
		t.Errorf("a negative part: allowed %v, park %v, callbacks %v, backlog %v", h.TimerLagAllowed, h.TimerLagPark, h.TimerLagCallbacks, h.TimerLagBacklog)
	}
	return h
}

// TestBlameCallbackAtDeadline: a timer due while a post runs for 30 ms is
// 20 ms late, all of it Callbacks, and the post is named as its blocker.
func TestBlameCallbackAtDeadline(t *testing.T) {
	var log lateLog
	l, clk, stop := startFake(t, WithLateTimer(time.Millisecond, log.hook))
	defer stop()
	jobs := &blameJobs{clk}
	must(l.AfterFunc(10*time.Millisecond, jobs.quick))
	if err := l.Post(jobs.slowPost); err != nil { // from 0 to 30 ms: the timer comes due at 10
		t.Fatal(err)
	}
	clk.Advance(0)
	got := log.reports(t, l)
	if len(got) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(got), got)
	}
	r := got[0]
	checkLate(t, r, 20, 0, 0, 20, 0)
	if !strings.HasSuffix(r.Name, ".quick-fm") || !strings.HasSuffix(r.Blocker, ".slowPost-fm") || r.BlockerRan != 30*time.Millisecond {
		t.Errorf("timer %q blocked by %q for %v; want quick blocked by slowPost for 30ms", r.Name, r.Blocker, r.BlockerRan)
	}
	h := checkSplitSums(t, l)
	if h.LateTimers != 1 || h.TimerLagCallbacks != 20*time.Millisecond {
		t.Errorf("Health: LateTimers %d, TimerLagCallbacks %v; want 1, 20ms", h.LateTimers, h.TimerLagCallbacks)
	}
}

// TestBlameTimerBlocksTimer: a timer due at 12 ms while a timer that came
// due at 10 runs for 5 ms is 3 ms late behind that callback, which is
// named; the first timer was on time.
func TestBlameTimerBlocksTimer(t *testing.T) {
	var log lateLog
	l, clk, stop := startFake(t, WithLateTimer(0, log.hook)) // 0: every timer is reported
	defer stop()
	jobs := &blameJobs{clk}
	must(l.AfterFunc(10*time.Millisecond, jobs.slowTimer))
	must(l.AfterFunc(12*time.Millisecond, jobs.quick))
	clk.Advance(12 * time.Millisecond)
	got := log.reports(t, l)
	if len(got) != 2 {
		t.Fatalf("%d reports, want 2: %+v", len(got), got)
	}
	checkLate(t, got[0], 0, 0, 0, 0, 0)
	checkLate(t, got[1], 3, 0, 0, 3, 0)
	if r := got[1]; !strings.HasSuffix(r.Blocker, ".slowTimer-fm") || r.BlockerRan != 5*time.Millisecond {
		t.Errorf("blocked by %q for %v; want slowTimer for 5ms", r.Blocker, r.BlockerRan)
	}
	checkSplitSums(t, l)
}

// TestBlameBacklog: three timers due at 10 ms, each running 1 ms, are
// late 0, 1 and 2 ms, all of it Backlog — whether one look fires them
// all (the lag runs to each callback's start, since the hook times
// callbacks) or WithBatch(1) leaves two for later looks.
func TestBlameBacklog(t *testing.T) {
	for _, batch := range []int{1024, 1} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			var log lateLog
			l, clk, stop := startFake(t, WithBatch(batch), WithLateTimer(0, log.hook))
			defer stop()
			jobs := &blameJobs{clk}
			for range 3 {
				must(l.AfterFunc(10*time.Millisecond, jobs.oneMs))
			}
			clk.Advance(10 * time.Millisecond)
			got := log.reports(t, l)
			if len(got) != 3 {
				t.Fatalf("%d reports, want 3: %+v", len(got), got)
			}
			for i, r := range got {
				checkLate(t, r, float64(i), 0, 0, 0, float64(i))
			}
			if h := checkSplitSums(t, l); h.TimerLagBacklog != 3*time.Millisecond {
				t.Errorf("TimerLagBacklog %v, want 3ms", h.TimerLagBacklog)
			}
		})
	}
}

// TestBlameUntimedBatchLag: without timed callbacks the lag of timers fired
// in one look is the look's (documented on TimerLag); with WithBatch(1)
// each later look sees its own, and the split calls it backlog.
func TestBlameUntimedBatchLag(t *testing.T) {
	for _, c := range []struct {
		batch   int
		backlog time.Duration
	}{{1024, 0}, {1, 3 * time.Millisecond}} {
		t.Run(fmt.Sprint("batch=", c.batch), func(t *testing.T) {
			l, clk, stop := startFake(t, WithBatch(c.batch))
			defer stop()
			jobs := &blameJobs{clk}
			for range 3 {
				must(l.AfterFunc(10*time.Millisecond, jobs.oneMs))
			}
			clk.Advance(10 * time.Millisecond)
			h := checkSplitSums(t, l)
			if h.TimerLagBacklog != c.backlog || h.TimerLagPark != 0 || h.TimerLagCallbacks != 0 || h.LateTimers != 0 {
				t.Errorf("park %v, callbacks %v, backlog %v, reported %d; want 0, 0, %v, 0",
					h.TimerLagPark, h.TimerLagCallbacks, h.TimerLagBacklog, h.LateTimers, c.backlog)
			}
		})
	}
}

// TestBlameNotRunning: a timer that came due while no Run was active is
// late by the time the loop was not run, all of it Park.
func TestBlameNotRunning(t *testing.T) {
	var log lateLog
	clk := NewFakeClock()
	l := New(WithClock(clk), WithLateTimer(time.Millisecond, log.hook))
	jobs := &blameJobs{clk}
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	do(t, l, func() {})
	must(l.AfterFunc(10*time.Millisecond, jobs.quick))
	l.Pause()
	if err := <-errc; err != nil {
		t.Fatalf("Run after Stop: %v", err)
	}
	clk.Advance(25 * time.Millisecond) // no Run: nothing fires
	stop := start(t, l)
	defer stop()
	got := log.reports(t, l)
	if len(got) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(got), got)
	}
	checkLate(t, got[0], 15, 0, 15, 0, 0)
	if got[0].Blocker != "" {
		t.Errorf("blocker %q while no Run was active, want none", got[0].Blocker)
	}
	checkSplitSums(t, l)
}

// TestBlameLeeway: a timer with a 4 ms leeway set for 10 ms fires at the
// end of its window, 12 ms: the 2 ms it allowed are Allowed.
func TestBlameLeeway(t *testing.T) {
	var log lateLog
	l, clk, stop := startFake(t, WithLateTimer(0, log.hook))
	defer stop()
	jobs := &blameJobs{clk}
	var tm Timer
	if err := tm.Init(l, jobs.quick); err != nil {
		t.Fatal(err)
	}
	if err := tm.SetLeeway(4 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tm.Reset(10 * time.Millisecond)
	clk.Advance(12 * time.Millisecond)
	got := log.reports(t, l)
	if len(got) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(got), got)
	}
	checkLate(t, got[0], 2, 2, 0, 0, 0)
	checkSplitSums(t, l)
}

// TestBlameBlockerForgotten: the blocker is named only while it is among
// the last 64 callbacks; behind 100 more it is "", and the figures hold.
func TestBlameBlockerForgotten(t *testing.T) {
	var log lateLog
	l, clk, stop := startFake(t, WithLateTimer(time.Millisecond, log.hook))
	defer stop()
	jobs := &blameJobs{clk}
	must(l.AfterFunc(10*time.Millisecond, jobs.quick))
	do(t, l, func() { // one batch: the slow post, then 100 quick ones, then the look at the timers
		lc := l.Local()
		lc.Post(jobs.slowPost)
		for range 100 {
			lc.Post(jobs.quick)
		}
	})
	clk.Advance(0)
	got := log.reports(t, l)
	if len(got) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(got), got)
	}
	checkLate(t, got[0], 20, 0, 0, 20, 0)
	if got[0].Blocker != "" || got[0].BlockerRan != 0 {
		t.Errorf("blocker %q (%v) 101 callbacks back, want none", got[0].Blocker, got[0].BlockerRan)
	}
}

// TestBlameThresholdAndPeriodic: only timers late by the threshold are
// reported; a periodic timer is reported under its callback's name, and
// keeps ticking.
func TestBlameThresholdAndPeriodic(t *testing.T) {
	var log lateLog
	l, clk, stop := startFake(t, WithLateTimer(2*time.Millisecond, log.hook))
	defer stop()
	jobs := &blameJobs{clk}
	ticks := 0
	must(l.Every(10*time.Millisecond, func() { ticks++ }))
	must(l.AfterFunc(15*time.Millisecond, jobs.quick))
	if err := l.Post(func() { clk.Advance(11 * time.Millisecond) }); err != nil { // the tick at 10 runs 1 ms late: under the threshold
		t.Fatal(err)
	}
	clk.Advance(0)
	if err := l.Post(func() { clk.Advance(7 * time.Millisecond) }); err != nil { // 11 → 18: the timer at 15 is 3 ms late
		t.Fatal(err)
	}
	clk.Advance(0)
	if err := l.Post(func() { clk.Advance(7 * time.Millisecond) }); err != nil { // 18 → 25: the tick at 20 is 5 ms late
		t.Fatal(err)
	}
	clk.Advance(0)
	got := log.reports(t, l)
	if len(got) != 2 {
		t.Fatalf("%d reports, want 2: %+v", len(got), got)
	}
	checkLate(t, got[0], 3, 0, 0, 3, 0)
	checkLate(t, got[1], 5, 0, 0, 5, 0)
	if !strings.HasSuffix(got[0].Name, ".quick-fm") || !strings.Contains(got[1].Name, "TestBlameThresholdAndPeriodic") {
		t.Errorf("reported %q and %q, want quick and the periodic callback", got[0].Name, got[1].Name)
	}
	var n int
	do(t, l, func() { n = ticks })
	if n != 2 {
		t.Errorf("%d ticks, want 2 (at 11 and 25 ms)", n)
	}
	if h := checkSplitSums(t, l); h.LateTimers != 2 {
		t.Errorf("LateTimers %d, want 2", h.LateTimers)
	}
}

// TestBlameHookPanicsAndSchedules: a hook that panics goes to the panic
// handler, the late timer has run all the same, and later timers are still
// reported; a timer the hook schedules through Local is filed and fires.
func TestBlameHookPanicsAndSchedules(t *testing.T) {
	var panics []any
	var l *Loop
	calls, fired := 0, false
	hook := func(r LateTimer) {
		calls++
		switch calls {
		case 1:
			panic(errors.New("hook"))
		case 2:
			l.Local().AfterFunc(time.Millisecond, func() { fired = true }) // fires at 21 ms, and is reported too
		}
	}
	l, clk, stop := startFake(t, WithLateTimer(0, hook), WithPanicHandler(func(v any) { panics = append(panics, v) }))
	defer stop()
	ran := 0
	must(l.AfterFunc(10*time.Millisecond, func() { ran++ }))
	must(l.AfterFunc(20*time.Millisecond, func() { ran++ }))
	clk.Advance(21 * time.Millisecond)
	do(t, l, func() {
		if ran != 2 || calls != 3 || len(panics) != 1 || !fired {
			t.Errorf("timers ran %d, hook called %d, panics %v, hook's timer fired %v; want 2, 3, [hook], true", ran, calls, panics, fired)
		}
	})
}

// TestBlameSplitHelper checks blame.split on hand-made timelines.
func TestBlameSplitHelper(t *testing.T) {
	for _, c := range []struct {
		name                     string
		parkedAt, wokeAt, lookAt int64
		behind                   int64
		w, k, f, slack           int64
		want                     lateParts
	}{
		{"parked through the deadline", 0, 15, 15, -1, 10, 10, 15, 0, lateParts{0, 5, 0, 0}},
		{"woke late, then a callback", 0, 12, 20, -1, 10, 10, 20, 0, lateParts{0, 2, 8, 0}},
		{"busy at the deadline", 0, 5, 30, -1, 10, 10, 30, 0, lateParts{0, 0, 20, 0}},
		{"behind since before the deadline", 0, 5, 30, 8, 10, 10, 32, 0, lateParts{0, 0, 0, 22}},
		{"behind since after the deadline", 0, 5, 30, 25, 10, 10, 30, 0, lateParts{0, 0, 15, 5}},
		{"leeway", 0, 12, 12, -1, 10, 12, 12, 0, lateParts{2, 0, 0, 0}},
		{"leeway, then a callback", 0, 12, 14, -1, 10, 12, 16, 0, lateParts{2, 0, 2, 2}},
		{"slack, woke late", 0, 17, 17, -1, 10, 10, 17, 4, lateParts{2, 5, 0, 0}},
		{"slack, fired before the slack ran out", 0, 5, 11, -1, 10, 10, 11, 4, lateParts{1, 0, 0, 0}},
		{"due before it was filed (a message)", 8, 9, 9, -1, 5, 5, 9, 0, lateParts{0, 1, 3, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := blame{parkedAt: c.parkedAt, wokeAt: c.wokeAt, lookAt: c.lookAt, behindSince: c.behind}
			p, _ := b.split(c.w, c.k, c.f, c.slack)
			if p != c.want {
				t.Errorf("split = %+v, want %+v", p, c.want)
			}
			if p.allowed+p.park+p.callbacks+p.backlog != c.f-c.w || b.sum != p {
				t.Errorf("parts %+v do not add up to the lateness %d, or the sums %+v were not added", p, c.f-c.w, b.sum)
			}
		})
	}
}

// TestBlameBlockerHelper checks blame.blocker on a ring that has wrapped.
func TestBlameBlockerHelper(t *testing.T) {
	var b blame
	if _, ok := b.blocker(0, 100); ok {
		t.Fatal("a blocker found in an empty ring")
	}
	for i := range int64(100) { // runs [10i, 10i+5+i%3): gaps between them
		b.addSpan(10*i, 10*i+5+i%3, uintptr(i))
	}
	for _, c := range []struct {
		from, to int64
		ok       bool
		pc       uintptr
	}{
		{992, 1000, true, 99},  // inside the newest, 99: [990, 995)
		{995, 1000, false, 0},  // after it: nothing ran there
		{960, 1000, true, 98},  // 96 ran 5 ms of it, 97 6, 98 7, 99 5: the longest share
		{362, 370, true, 36},   // the oldest kept, 36: [360, 365)
		{340, 362, true, 36},   // 35 and 34 overlapped too, but are forgotten
		{0, 355, false, 0},     // all forgotten
		{1000, 2000, false, 0}, // after every run
	} {
		s, ok := b.blocker(c.from, c.to)
		if ok != c.ok || (ok && s.pc != c.pc) {
			t.Errorf("blocker(%d, %d) = %+v, %v; want pc %d, %v", c.from, c.to, s, ok, c.pc, c.ok)
		}
	}
}

// TestBlameLongestBlocker: the blocker is the callback that took the
// largest share of the lateness, not the one running at the deadline: a
// post running 0–12 ms posts another that runs 12–20; the timer due at 10
// is 10 ms late, 8 of them behind the second.
func TestBlameLongestBlocker(t *testing.T) {
	var log lateLog
	l, clk, stop := startFake(t, WithLateTimer(time.Millisecond, log.hook))
	defer stop()
	jobs := &blameJobs{clk}
	must(l.AfterFunc(10*time.Millisecond, jobs.quick))
	if err := l.Post(func() {
		clk.Advance(12 * time.Millisecond)
		l.Local().Post(jobs.eightMs)
	}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(0)
	got := log.reports(t, l)
	if len(got) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(got), got)
	}
	checkLate(t, got[0], 10, 0, 0, 10, 0)
	if r := got[0]; !strings.HasSuffix(r.Blocker, ".eightMs-fm") || r.BlockerRan != 8*time.Millisecond {
		t.Errorf("blocked by %q for %v; want eightMs for 8ms", r.Blocker, r.BlockerRan)
	}
}

// TestBlameHookIsABlocker: a hook that runs 4 ms delays the next timer of
// the same look by 4 ms of backlog, and is named as its blocker.
func TestBlameHookIsABlocker(t *testing.T) {
	log := &lateLog{}
	var clk *FakeClock
	l, clk, stop := startFake(t, WithLateTimer(0, log.slowHook))
	defer stop()
	log.clk = clk
	jobs := &blameJobs{clk}
	must(l.AfterFunc(10*time.Millisecond, jobs.quick))
	must(l.AfterFunc(10*time.Millisecond, jobs.quick))
	clk.Advance(10 * time.Millisecond)
	got := log.reports(t, l)
	if len(got) != 2 {
		t.Fatalf("%d reports, want 2: %+v", len(got), got)
	}
	checkLate(t, got[1], 4, 0, 0, 0, 4)
	if r := got[1]; !strings.HasSuffix(r.Blocker, ".slowHook-fm") || r.BlockerRan != 4*time.Millisecond {
		t.Errorf("blocked by %q for %v; want the hook for 4ms", r.Blocker, r.BlockerRan)
	}
}
