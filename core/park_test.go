package core

import (
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotloop/hotloop/cache"
)

func TestCoalesceRoundsUpNeverDown(t *testing.T) {
	cases := []struct{ deadline, slack, want int64 }{
		{0, 1000, 0},
		{1, 1000, 1000},
		{999, 1000, 1000},
		{1000, 1000, 1000},
		{1001, 1000, 2000},
		{12345, 0, 12345},
		{12345, -5, 12345},
		{maxWhen - 2, 1 << 40, maxWhen}, // clamped at the latest deadline
	}
	for _, c := range cases {
		got := coalesce(c.deadline, c.slack)
		if got != c.want {
			t.Errorf("coalesce(%d, %d) = %d, want %d", c.deadline, c.slack, got, c.want)
		}
	}
}

func FuzzCoalesce(f *testing.F) {
	f.Add(int64(1), int64(1000))
	f.Add(int64(maxWhen-7), int64(1<<20))
	f.Add(int64(math.MaxInt64-7), int64(1<<20))
	f.Fuzz(func(t *testing.T, deadline, slack int64) {
		if deadline < 0 || deadline > maxWhen {
			return // the loop's deadlines are in [0, maxWhen]
		}
		got := coalesce(deadline, slack)
		if got < deadline {
			t.Fatalf("coalesce(%d, %d) = %d: earlier than the deadline", deadline, slack, got)
		}
		if got > maxWhen {
			t.Fatalf("coalesce(%d, %d) = %d: beyond maxWhen", deadline, slack, got)
		}
		if slack > 0 && got-deadline >= slack {
			t.Fatalf("coalesce(%d, %d) = %d: later by a whole slack", deadline, slack, got)
		}
		if slack > 0 && got != maxWhen && got%slack != 0 {
			t.Fatalf("coalesce(%d, %d) = %d: not on the slack grid", deadline, slack, got)
		}
	})
}

func TestSpinStart(t *testing.T) {
	cases := []struct{ deadline, spin, want int64 }{
		{1000, 200, 800},
		{200, 200, 0},
		{100, 200, 0},
		{cache.None - 1, 200, cache.None - 201},
	}
	for _, c := range cases {
		if got := spinStart(c.deadline, c.spin); got != c.want {
			t.Errorf("spinStart(%d, %d) = %d, want %d", c.deadline, c.spin, got, c.want)
		}
	}
}

// TestSlackCoalescesWakeupsNeverEarly schedules timers 100 µs apart on
// synctest's fake clock with a 1 ms slack: each fires at or after its
// deadline and no more than a slack late, and ten timers take at most two
// wake-ups per millisecond window instead of one each.
func TestSlackCoalescesWakeupsNeverEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const slack = time.Millisecond
		l := New(WithSlack(slack))
		stop := start(t, l)
		var late []time.Duration
		do(t, l, func() {}) // settle
		synctest.Wait()
		before := l.Stats().Wakeups
		do(t, l, func() {
			for i := 1; i <= 10; i++ {
				d := time.Duration(i) * 100 * time.Microsecond
				due := time.Now().Add(d)
				must(l.Local().AfterFunc(d, func() { late = append(late, time.Since(due)) }))
			}
		})
		time.Sleep(5 * time.Millisecond)
		do(t, l, func() {})
		synctest.Wait()
		wakeups := l.Stats().Wakeups - before
		stop()
		if len(late) != 10 {
			t.Fatalf("%d timers fired, want 10", len(late))
		}
		for i, d := range late {
			if d < 0 {
				t.Errorf("timer %d fired %v early", i, -d)
			}
			if d >= slack {
				t.Errorf("timer %d fired %v late, want < slack %v", i, d, slack)
			}
		}
		// Deadlines 0.1..1.0 ms after a start inside one 1 ms window span
		// at most two windows: at most 2 timer wake-ups, plus the wake-ups
		// of the two Do calls.
		if wakeups > 4 {
			t.Errorf("%d wake-ups for 10 timers within 1 ms with 1 ms slack, want <= 4", wakeups)
		}
	})
}

// TestSpinNeverEarly runs timers with a spin margin on the real clock: each
// fires at or after its deadline on the loop's clock (an ordering
// assertion, not a timing one), and all of them fire.
func TestSpinNeverEarly(t *testing.T) {
	for _, opts := range [][]Option{
		{WithSpin(200 * time.Microsecond)},
		{WithSpin(200 * time.Microsecond), WithPrecise()},
		{WithSpin(time.Second), WithPrecise(), WithSlack(50 * time.Microsecond)},
		{WithAdaptiveSpin()},
		{WithAdaptiveSpin(), WithPrecise()},
	} {
		l := New(opts...)
		stop := start(t, l)
		fired := make(chan int64, 20)
		do(t, l, func() {
			for i := 0; i < 20; i++ {
				d := time.Duration(i%5) * 300 * time.Microsecond
				due := l.deadline(d)
				must(l.Local().AfterFunc(d, func() { fired <- l.now() - due }))
			}
		})
		for i := 0; i < 20; i++ {
			if late := <-fired; late < 0 {
				t.Errorf("timer fired %v early", time.Duration(-late))
			}
		}
		stop()
	}
}

func TestNegativeOptionsMeanOff(t *testing.T) {
	l := New(WithSpin(-time.Second), WithSlack(-time.Second))
	if l.cfg.spin != 0 || l.cfg.slack != 0 {
		t.Fatalf("spin %d, slack %d: want 0, 0", l.cfg.spin, l.cfg.slack)
	}
}
