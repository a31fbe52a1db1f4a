package core

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestEveryMissedTickPolicies runs Every(10ms) on a fake clock whose first
// tick runs for 35 ms (it advances the clock from the callback), so the
// ticks due at 20, 30 and 40 ms are missed; each policy's ticks are those of
// the table in MissedTick's doc.
func TestEveryMissedTickPolicies(t *testing.T) {
	cases := []struct {
		policy []MissedTick
		want   []int64 // ms
	}{
		{nil, []int64{10, 50, 60, 70, 80, 90, 100}},
		{[]MissedTick{TickSkip}, []int64{10, 50, 60, 70, 80, 90, 100}},
		{[]MissedTick{TickBurst}, []int64{10, 45, 45, 45, 50, 60, 70, 80, 90, 100}},
		{[]MissedTick{TickDelay}, []int64{10, 45, 55, 65, 75, 85, 95}},
	}
	for _, c := range cases {
		for _, local := range []bool{false, true} {
			name := "default"
			if len(c.policy) > 0 {
				name = c.policy[0].String()
			}
			if local {
				name += "/Local"
			}
			t.Run(name, func(t *testing.T) {
				l, clk, stop := startFake(t)
				defer stop()
				t0 := clk.Now()
				var at []int64
				tick := func() {
					at = append(at, int64(clk.Since(t0)/time.Millisecond))
					if len(at) == 1 {
						clk.Advance(35 * time.Millisecond) // this tick runs until 45 ms
					}
				}
				if local {
					do(t, l, func() { must(l.Local().Every(10*time.Millisecond, tick, c.policy...)) })
				} else {
					must(l.Every(10*time.Millisecond, tick, c.policy...))
				}
				clk.Advance(100 * time.Millisecond)
				do(t, l, func() {
					if !slices.Equal(at, c.want) {
						t.Errorf("ticks at %v ms, want %v", at, c.want)
					}
				})
			})
		}
	}
}

// TestEveryLateLoopPolicies: the loop, not the tick, is late: another
// callback holds it for 35 ms around the first deadline.
func TestEveryLateLoopPolicies(t *testing.T) {
	cases := map[MissedTick][]int64{
		TickSkip:  {40, 50, 60},             // the late tick due at 10; 20, 30 and 40 (due as it returns) are dropped
		TickBurst: {40, 40, 40, 40, 50, 60}, // the ticks due at 10, 20, 30 and 40
		TickDelay: {40, 50, 60},             // fired at 40 against a deadline of 30: restarts from 40
	}
	for policy, want := range cases {
		t.Run(policy.String(), func(t *testing.T) {
			l, clk, stop := startFake(t)
			defer stop()
			t0 := clk.Now()
			var at []int64
			must(l.Every(10*time.Millisecond, func() { at = append(at, int64(clk.Since(t0)/time.Millisecond)) }, policy))
			must(l.AfterFunc(5*time.Millisecond, func() { clk.Advance(35 * time.Millisecond) })) // busy 5..40 ms
			clk.Advance(60 * time.Millisecond)
			do(t, l, func() {
				if !slices.Equal(at, want) {
					t.Errorf("ticks at %v ms, want %v", at, want)
				}
			})
		})
	}
}

func TestEveryBadPolicy(t *testing.T) {
	l, _, stop := startFake(t)
	defer stop()
	for _, p := range [][]MissedTick{{TickSkip, TickBurst}, {MissedTick(7)}} {
		if _, err := l.Every(time.Second, noop, p...); !errors.Is(err, ErrBadPolicy) {
			t.Errorf("Every(%v): error %v, want ErrBadPolicy", p, err)
		}
		do(t, l, func() {
			if _, err := l.Local().Every(time.Second, noop, p...); !errors.Is(err, ErrBadPolicy) {
				t.Errorf("Local().Every(%v): error %v, want ErrBadPolicy", p, err)
			}
		})
	}
	if s := MissedTick(7).String(); s != "MissedTick(7)" {
		t.Errorf("String of an unknown policy: %q", s)
	}
	if s := l.Stats().TimersPending; s != 0 {
		t.Errorf("%d timers pending after rejected Every calls", s)
	}
}

// TestNextTick checks the arithmetic directly, including a tick that ran for
// exactly up to the next deadline and one that overflows.
func TestNextTick(t *testing.T) {
	cases := []struct {
		when, period, start, end int64
		m                        MissedTick
		want                     int64
	}{
		{100, 10, 100, 105, TickSkip, 110},  // on time
		{100, 10, 100, 110, TickSkip, 120},  // end == next deadline: missed
		{100, 10, 100, 110, TickBurst, 110}, // run it now
		{100, 10, 100, 110, TickDelay, 110}, // start+period, due now
		{100, 10, 105, 131, TickSkip, 140},
		{100, 10, 105, 131, TickBurst, 110},
		{100, 10, 105, 131, TickDelay, 115},
		{100, 10, 105, 106, TickDelay, 115},                             // merely late: still a period after it began
		{1<<63 - 5, 10, 1<<63 - 5, 1<<63 - 5, TickSkip, -(1 << 63) + 5}, // overflow: the caller clamps (next < when)
	}
	for _, c := range cases {
		if got := nextTick(c.when, c.period, c.start, c.end, c.m); got != c.want {
			t.Errorf("nextTick(%d, %d, %d, %d, %v) = %d, want %d", c.when, c.period, c.start, c.end, c.m, got, c.want)
		}
	}
}
