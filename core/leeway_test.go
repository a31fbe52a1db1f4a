package core

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestLeewaySharesWakeUps: timers that may be up to 1 ms late fire
// together at the end of their 1 ms window, never early and never later
// than their leeway; a timer without leeway among them stays exact.
func TestLeewaySharesWakeUps(t *testing.T) {
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		t.Run(store.String(), func(t *testing.T) {
			clk := NewFakeClock()
			l := New(WithClock(clk), WithTimerStore(store))
			stop := start(t, l)
			defer stop()
			var fired []string
			var at []time.Duration
			base := clk.Now()
			rec := func(name string) func() {
				return func() {
					fired = append(fired, name)
					at = append(at, clk.Now().Sub(base))
				}
			}
			ts := make([]Timer, 4)
			for i, d := range []time.Duration{100, 400, 900, 1100} { // µs
				if err := ts[i].Init(l, rec(string(rune('a'+i)))); err != nil {
					t.Fatal(err)
				}
				if err := ts[i].SetLeeway(time.Millisecond); err != nil {
					t.Fatal(err)
				}
				ts[i].Reset(d * time.Microsecond)
			}
			exact := must(l.AfterFunc(500*time.Microsecond, rec("exact")))
			_ = exact
			for i := 0; i < 25; i++ {
				clk.Advance(100 * time.Microsecond)
			}
			var got []string
			var when []time.Duration
			do(t, l, func() { got, when = slices.Clone(fired), slices.Clone(at) })
			wantNames := []string{"exact", "a", "b", "c", "d"}
			wantAt := []time.Duration{500 * time.Microsecond, time.Millisecond, time.Millisecond, time.Millisecond, 2 * time.Millisecond}
			if !slices.Equal(got, wantNames) || !slices.Equal(when, wantAt) {
				t.Fatalf("fired %v at %v, want %v at %v", got, when, wantNames, wantAt)
			}
		})
	}
}

// TestSetLeewayErrors: SetLeeway is for a timer set up by Init and not yet
// armed, with a leeway >= 0; 0 makes it exact again.
func TestSetLeewayErrors(t *testing.T) {
	l := New()
	var fresh Timer
	if err := fresh.SetLeeway(time.Millisecond); err == nil {
		t.Error("SetLeeway on a Timer not set up: nil error")
	}
	if err := fresh.Init(l, func() {}); err != nil {
		t.Fatal(err)
	}
	if err := fresh.SetLeeway(-time.Millisecond); !errors.Is(err, ErrBadLeeway) {
		t.Errorf("negative leeway: %v, want ErrBadLeeway", err)
	}
	if err := fresh.SetLeeway(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := fresh.SetLeeway(0); err != nil || fresh.n.Value.home != &l.oneShot {
		t.Errorf("SetLeeway(0): %v; want the timer exact again", err)
	}
	fresh.Reset(time.Hour)
	if err := fresh.SetLeeway(time.Millisecond); err == nil {
		t.Error("SetLeeway after the timer was armed: nil error")
	}
	every := must(l.Every(time.Second, func() {}))
	if err := every.SetLeeway(time.Millisecond); err == nil {
		t.Error("SetLeeway on an Every timer: nil error")
	}
	if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
