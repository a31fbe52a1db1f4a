package core

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestHealthOnFakeClock drives a loop through idle time, a slow post, a
// slow timer and a late one on a fake clock, where every figure Health
// reports is exact.
func TestHealthOnFakeClock(t *testing.T) {
	type report struct {
		d    time.Duration
		name string
	}
	var slow []report
	l, clk, stop := startFake(t, WithLagSampling(1), WithSlowCallback(100*time.Millisecond, func(d time.Duration, name string) {
		slow = append(slow, report{d, name})
	}))
	defer stop()

	clk.Advance(10 * time.Second) // idle
	do(t, l, func() {
		lc := l.Local()
		lc.Post(func() { clk.Advance(50 * time.Millisecond) }) // runs 50 ms: below the threshold
		lc.Post(func() {})                                     // waits 50 ms
	})
	clk.Advance(0)                                                                 // the two posts have run: the timers below are due from 10.05 s
	must(l.AfterFunc(time.Second, func() { clk.Advance(300 * time.Millisecond) })) // slow
	must(l.AfterFunc(1100*time.Millisecond, func() {}))                            // 200 ms late
	clk.Advance(2 * time.Second)

	do(t, l, func() {}) // after the hook's last write
	h := *l.Health()
	if h.TimersFired != 2 {
		t.Errorf("TimersFired %d, want 2", h.TimersFired)
	}
	if h.TimerLag.Count() != 2 || h.TimerLag.Max() != int64(200*time.Millisecond) || h.TimerLag.Quantile(0.5) != 0 {
		t.Errorf("TimerLag count %d max %v median %v, want 2, 200ms, 0", h.TimerLag.Count(),
			time.Duration(h.TimerLag.Max()), time.Duration(h.TimerLag.Quantile(0.5)))
	}
	if h.PostLag.Max() != int64(50*time.Millisecond) {
		t.Errorf("PostLag max %v, want 50ms", time.Duration(h.PostLag.Max()))
	}
	if n := h.PostLag.Count(); n < 3 {
		t.Errorf("PostLag counted %d posts, want every post (at least the 3 above)", n)
	}
	if h.Batch.Max() != 3 {
		t.Errorf("largest batch %d, want 3 (the Do callback and its two posts)", h.Batch.Max())
	}
	// Busy: the two callbacks that advanced the clock. Idle: 10 s, then
	// 1 s to the timers, then 0.7 s to the end of the second Advance.
	if h.Busy != 350*time.Millisecond || h.Idle != 11700*time.Millisecond {
		t.Errorf("busy %v idle %v, want 350ms and 11.7s", h.Busy, h.Idle)
	}
	if u, want := h.Utilization(&Health{}), 0.35/12.05; u < want-1e-9 || u > want+1e-9 {
		t.Errorf("utilisation %v, want %v", u, want)
	}
	if h.SlowCallbacks != 1 || len(slow) != 1 {
		t.Fatalf("%d slow callbacks counted, %d reported; want 1", h.SlowCallbacks, len(slow))
	}
	if slow[0].d != 300*time.Millisecond || !strings.Contains(slow[0].name, "TestHealthOnFakeClock.func") {
		t.Errorf("slow callback reported as %v %q, want 300ms and a closure of TestHealthOnFakeClock", slow[0].d, slow[0].name)
	}

	// Utilization between two snapshots: a busy second, then an idle one.
	prev := h
	do(t, l, func() { clk.Advance(time.Second) })
	clk.Advance(time.Second)
	h = *l.Health()
	if u := h.Utilization(&prev); u != 0.5 {
		t.Errorf("utilisation since the previous snapshot %v, want 0.5", u)
	}
	if u := h.Utilization(&h); u != 0 {
		t.Errorf("utilisation over no time %v, want 0", u)
	}
}

func TestLagSamplingRates(t *testing.T) {
	cases := []struct {
		opt  Option
		want uint64 // sampled among 4096 Local posts
	}{
		{nil, 4},                          // default: 1 in 1024
		{WithLagSampling(0), 0},           // off
		{WithLagSampling(-3), 0},          // off
		{WithLagSampling(1), 4096},        // every post
		{WithLagSampling(1000), 4},        // rounded up to 1024
		{WithLagSampling(math.MaxInt), 0}, // capped at 2^31: none in 4096
	}
	for _, c := range cases {
		l, _, stop := startFake(t, c.opt)
		do(t, l, func() {
			for i := 0; i < 4096; i++ {
				l.Local().Post(noop)
			}
		})
		do(t, l, func() {})
		got := l.Health().PostLag.Count()
		// The three posts of start and do from this goroutine are sampled
		// at random: allow for them, except when sampling is off.
		if got < c.want || got > c.want+3 || (c.want == 0 && got != 0) {
			t.Errorf("%d of 4096 posts sampled, want %d", got, c.want)
		}
		stop()
	}
}

func TestSlowCallbackThresholdAndPanics(t *testing.T) {
	var names []string
	l, clk, stop := startFake(t, WithPanicHandler(func(any) {}),
		WithSlowCallback(time.Second, func(d time.Duration, name string) { names = append(names, name) }))
	defer stop()
	l.Post(func() { clk.Advance(999 * time.Millisecond) })
	l.Post(func() { clk.Advance(time.Second); panic("slow and broken") })
	l.Post(noopNamed)
	clk.Advance(0)
	do(t, l, func() {
		if len(names) != 1 {
			t.Fatalf("slow callbacks reported: %v, want only the panicking one", names)
		}
	})
	if h := l.Health(); h.SlowCallbacks != 1 || h.Panics != 1 {
		t.Errorf("SlowCallbacks %d Panics %d, want 1 and 1", h.SlowCallbacks, h.Panics)
	}
	if got := funcName(noopNamed); got != "github.com/hotloop/hotloop/core.noopNamed" {
		t.Errorf("funcName = %q", got)
	}
}

func noopNamed() {}

// TestHealthBusyWithoutFakeClock: with the real clock, Busy and Idle move
// forward and Utilization stays within [0, 1]. No timing is asserted.
func TestHealthBusyWithoutFakeClock(t *testing.T) {
	l := New()
	stop := start(t, l)
	first := l.Health()
	for i := 0; i < 10; i++ {
		do(t, l, func() {})
	}
	second := l.Health()
	stop()
	if second.Busy < first.Busy || second.Idle < first.Idle {
		t.Errorf("busy %v -> %v, idle %v -> %v: went back", first.Busy, second.Busy, first.Idle, second.Idle)
	}
	if u := second.Utilization(first); u < 0 || u > 1 {
		t.Errorf("utilisation %v outside [0, 1]", u)
	}
	if second.Parks == 0 {
		t.Error("no parks counted between Do calls")
	}
}
