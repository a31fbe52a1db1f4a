package core

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestBadInputNilCallbacks: every method that takes a callback rejects nil
// with an error that wraps ErrNilFunc and names the method, from any
// goroutine and from the loop's own.
func TestBadInputNilCallbacks(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	check := func(method string, err error) {
		t.Helper()
		if !errors.Is(err, ErrNilFunc) {
			t.Errorf("%s(nil): %v, want an error wrapping ErrNilFunc", method, err)
			return
		}
		if !strings.Contains(err.Error(), method+":") {
			t.Errorf("%s(nil): error %q does not name the method", method, err)
		}
	}
	check("Post", l.Post(nil))
	check("Do", l.Do(context.Background(), nil))
	check("AfterFunc", second(l.AfterFunc(time.Second, nil)))
	check("AfterFunc", second(l.AfterFunc(0, nil))) // the zero-delay path too
	check("At", second(l.At(time.Now(), nil)))
	check("Every", second(l.Every(time.Second, nil)))
	do(t, l, func() {
		lc := l.Local()
		check("Local().Post", lc.Post(nil))
		check("Local().AfterFunc", second(lc.AfterFunc(time.Second, nil)))
		check("Local().AfterFunc", second(lc.AfterFunc(-1, nil)))
		check("Local().At", second(lc.At(time.Now(), nil)))
		check("Local().Every", second(lc.Every(time.Second, nil)))
	})
	// The loop is intact: work still runs.
	ran := false
	do(t, l, func() { ran = true })
	if !ran {
		t.Fatal("loop stopped working after nil callbacks")
	}
}

// TestBadInputPeriodAndZeroTime: Every rejects a period <= 0 and At rejects
// the zero time.Time, naming the method, on both paths.
func TestBadInputPeriodAndZeroTime(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	fn := func() { t.Error("a rejected timer ran") }
	for _, p := range []time.Duration{0, -1, -time.Hour, math.MinInt64} {
		if _, err := l.Every(p, fn); !errors.Is(err, ErrBadPeriod) || !strings.Contains(err.Error(), "Every:") {
			t.Errorf("Every(%v): %v, want ErrBadPeriod naming Every", p, err)
		}
	}
	if _, err := l.At(time.Time{}, fn); err == nil || !strings.Contains(err.Error(), "At: zero time.Time") {
		t.Errorf("At(zero): %v", err)
	}
	do(t, l, func() {
		lc := l.Local()
		if _, err := lc.Every(0, fn); !errors.Is(err, ErrBadPeriod) || !strings.Contains(err.Error(), "Local().Every:") {
			t.Errorf("Local().Every(0): %v", err)
		}
		if _, err := lc.At(time.Time{}, fn); err == nil || !strings.Contains(err.Error(), "Local().At:") {
			t.Errorf("Local().At(zero): %v", err)
		}
	})
	do(t, l, func() {})
	if s := statsWhen(l, func(s Stats) bool { return s.TimersPending == 0 }); s.TimersPending != 0 {
		t.Fatalf("rejected timers were stored: %d pending", s.TimersPending)
	}
}

// TestBadInputExtremeDurations: delays at the int64 limits neither overflow
// into the past nor corrupt the store. Huge delays stay pending (and can be
// stopped); hugely negative ones run at once; ordinary timers scheduled
// around them fire on time.
func TestBadInputExtremeDurations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		var got []string
		rec := func(s string) func() { return func() { got = append(got, s) } }
		farA := must(l.AfterFunc(math.MaxInt64, rec("farA")))
		farE := must(l.Every(math.MaxInt64, rec("farE")))
		farAt := must(l.At(time.Now().Add(math.MaxInt64), rec("farAt")))
		must(l.AfterFunc(math.MinInt64, rec("negA")))
		must(l.At(time.Unix(0, 0), rec("past")))
		must(l.AfterFunc(time.Millisecond, rec("1ms")))
		var lfar *Timer
		do(t, l, func() {
			lfar = must(l.Local().AfterFunc(math.MaxInt64-1, rec("lfar")))
			must(l.Local().AfterFunc(math.MinInt64, rec("lneg")))
		})
		time.Sleep(time.Hour)
		do(t, l, func() {})
		// The three due-at-once timers run first (zero-delay ones in the
		// ready queue, the past At from the store: their relative order
		// is not promised), then the 1ms timer.
		if len(got) != 4 || got[3] != "1ms" || !sameSet(got[:3], "negA", "past", "lneg") {
			t.Fatalf("fired %v, want negA, past, lneg in any order, then 1ms", got)
		}
		for name, tm := range map[string]*Timer{"farA": farA, "farE": farE, "farAt": farAt, "lfar": lfar} {
			if !tm.Stop() {
				t.Errorf("Stop of pending %s: false", name)
			}
		}
		do(t, l, func() {})
		synctest.Wait()
		if s := l.Stats(); s.TimersPending != 0 {
			t.Fatalf("%d timers pending after stopping them all", s.TimersPending)
		}
	})
}

// TestBadInputResetExtremes: Reset to the int64 limits. Reset(MaxInt64)
// parks a timer forever; Reset(MinInt64) makes it due at once, and a
// periodic timer goes on ticking one period apart from there.
func TestBadInputResetExtremes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		t0 := time.Now()
		var oneShot []time.Duration
		a := must(l.AfterFunc(time.Millisecond, func() { oneShot = append(oneShot, time.Since(t0)) }))
		if !a.Reset(math.MaxInt64) {
			t.Fatal("Reset(MaxInt64) of a pending timer: false")
		}
		time.Sleep(time.Second)
		do(t, l, func() {})
		if len(oneShot) != 0 {
			t.Fatalf("a timer reset to MaxInt64 fired at %v", oneShot)
		}
		if !a.Reset(math.MinInt64) {
			t.Fatal("Reset(MinInt64): false")
		}
		synctest.Wait()
		do(t, l, func() {})
		if len(oneShot) != 1 || oneShot[0] != time.Second {
			t.Fatalf("timer reset to MinInt64 fired at %v, want [1s]", oneShot)
		}

		t1 := time.Now()
		var ticks []time.Duration
		p := must(l.Every(time.Millisecond, func() { ticks = append(ticks, time.Since(t1)) }))
		time.Sleep(500 * time.Microsecond)
		if !p.Reset(math.MinInt64) {
			t.Fatal("Reset(MinInt64) of a periodic timer: false")
		}
		time.Sleep(2*time.Millisecond + 100*time.Microsecond)
		do(t, l, func() {})
		want := []time.Duration{500 * time.Microsecond, 1500 * time.Microsecond, 2500 * time.Microsecond}
		if len(ticks) != len(want) {
			t.Fatalf("periodic timer reset to MinInt64 ticked at %v, want %v", ticks, want)
		}
		for i := range want {
			if ticks[i] != want[i] {
				t.Fatalf("periodic timer reset to MinInt64 ticked at %v, want %v", ticks, want)
			}
		}
		if !p.Stop() {
			t.Fatal("Stop of the periodic timer: false")
		}
	})
}

// TestBadInputResetHandles: Reset of a fired or stopped timer re-arms it
// and reports false (it was not armed), as time.Timer.Reset does; Stop of
// one reports false; the zero Timer's Stop reports false and its Reset
// panics with a message; after Close, Reset no longer re-arms.
func TestBadInputResetHandles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		runs := 0
		fired := must(l.AfterFunc(time.Millisecond, func() { runs++ }))
		stopped := must(l.AfterFunc(time.Millisecond, func() { runs += 100 }))
		if !stopped.Stop() {
			t.Fatal("Stop of pending: false")
		}
		time.Sleep(2 * time.Millisecond)
		do(t, l, func() {})
		if fired.Stop() || stopped.Stop() {
			t.Fatal("Stop of a fired or stopped timer: true")
		}
		if fired.Reset(time.Millisecond) || stopped.Reset(time.Millisecond) {
			t.Fatal("Reset of a fired or stopped timer: true (it was not armed)")
		}
		time.Sleep(2 * time.Millisecond)
		do(t, l, func() {})
		if runs != 102 {
			t.Fatalf("runs = %d, want 102: both timers re-armed by Reset fire once more", runs)
		}
		if (&Timer{}).Stop() || (*Timer)(nil).Stop() {
			t.Fatal("zero or nil Timer: Stop true")
		}
		mustPanicWith(t, "hotloop: Timer.Reset on a Timer not made by", func() { (&Timer{}).Reset(math.MinInt64) })
		cancelled := must(l.AfterFunc(time.Hour, func() { t.Error("cancelled timer ran") }))
		stop()
		if cancelled.Reset(time.Millisecond) || cancelled.Stop() {
			t.Fatal("Reset or Stop of a timer cancelled by Close: true")
		}
		if cancelled.n.Value.load().armed() {
			t.Fatal("Reset after Close re-armed a timer")
		}
	})
}

// TestBadInputNilContextAndOptions: nil contexts mean Background, nil and
// out-of-range options are ignored or clamped as documented.
func TestBadInputNilContextAndOptions(t *testing.T) {
	l := New(nil, WithBatch(-5), WithInboxSize(-1), WithPanicHandler(nil))
	if l.cfg.batch != 1 || l.cfg.inboxSize != 2 || l.cfg.panicHandler == nil {
		t.Fatalf("options not clamped: %+v", l.cfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- l.Run(nil) }() //nolint:staticcheck // nil ctx is the point
	ran := false
	if err := l.Do(nil, func() { ran = true }); err != nil || !ran { //nolint:staticcheck
		t.Fatalf("Do(nil ctx): %v, ran=%v", err, ran)
	}
	if err := l.Shutdown(nil); err != nil { //nolint:staticcheck
		t.Fatalf("Shutdown(nil ctx): %v", err)
	}
	if err := <-errc; err != ErrClosed {
		t.Fatalf("Run(nil ctx): %v", err)
	}
	// A capacity beyond the inbox's maximum is not a panic deep inside
	// New: queue.NewInbox clamps it to 1<<30 (TestNewInboxClamps in package
	// queue). Only the config is checked: allocating it is the caller's
	// business.
	var c config
	WithInboxSize(math.MaxInt)(&c)
	if c.inboxSize != math.MaxInt {
		t.Fatalf("WithInboxSize(MaxInt) = %d, want it passed on for queue.NewInbox to clamp", c.inboxSize)
	}
}

// sameSet reports whether got holds exactly the strings want, in any order.
func sameSet(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]int{}
	for _, s := range got {
		seen[s]++
	}
	for _, s := range want {
		if seen[s]--; seen[s] < 0 {
			return false
		}
	}
	return true
}
