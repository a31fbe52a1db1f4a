package core

import (
	"reflect"
	"testing"
	"time"
)

// TestStatsAddEveryField: Stats.Add adds every field, so that a field added
// to Stats later cannot be left out of a group's totals.
func TestStatsAddEveryField(t *testing.T) {
	var s, o Stats
	ov := reflect.ValueOf(&o).Elem()
	for i := range ov.NumField() {
		switch f := ov.Field(i); f.Kind() {
		case reflect.Int:
			f.SetInt(int64(i + 1))
		case reflect.Uint64:
			f.SetUint(uint64(i + 1))
		default:
			t.Fatalf("Stats.%s is a %s: teach this test and Add about it", ov.Type().Field(i).Name, f.Kind())
		}
	}
	s.Add(o)
	s.Add(o)
	sv := reflect.ValueOf(s)
	for i := range sv.NumField() {
		var got int64
		if f := sv.Field(i); f.Kind() == reflect.Int {
			got = f.Int()
		} else {
			got = int64(f.Uint())
		}
		if got != int64(2*(i+1)) {
			t.Errorf("Stats.%s = %d after adding %d twice", sv.Type().Field(i).Name, got, i+1)
		}
	}
}

// TestHealthMergeEveryField: Health.Merge adds every field other than the
// histograms (checked below) and Stats (above).
func TestHealthMergeEveryField(t *testing.T) {
	var h, o Health
	ov := reflect.ValueOf(&o).Elem()
	for i := range ov.NumField() {
		f, name := ov.Field(i), ov.Type().Field(i).Name
		switch {
		case name == "Stats" || f.Type() == reflect.TypeFor[Histogram]():
		case f.Kind() == reflect.Int64: // the durations
			f.SetInt(int64(i + 1))
		case f.Kind() == reflect.Uint64:
			f.SetUint(uint64(i + 1))
		default:
			t.Fatalf("Health.%s is a %s: teach this test and Merge about it", name, f.Kind())
		}
	}
	h.Merge(&o)
	hv := reflect.ValueOf(h)
	for i := range hv.NumField() {
		f, name := hv.Field(i), hv.Type().Field(i).Name
		switch {
		case name == "Stats" || f.Type() == reflect.TypeFor[Histogram]():
		case f.Kind() == reflect.Int64 && f.Int() != int64(i+1), f.Kind() == reflect.Uint64 && f.Uint() != uint64(i+1):
			t.Errorf("Health.%s not added by Merge", name)
		}
	}
}

// TestHealthMergeOfTwoLoops: the merge of two loops' snapshots counts both
// loops' timers and callbacks, keeps the larger maximum, and its quantiles
// and lateness split are those of the values of both. A 30 ms callback on
// b moves the shared clock from 0 to 30 at once: a's timer (10 ms) fires
// 20 ms late, the loop parked (Park); b's (20 ms) 10 ms late, behind the
// callback (Callbacks).
func TestHealthMergeOfTwoLoops(t *testing.T) {
	clk := NewFakeClock()
	a, b := New(WithClock(clk), WithLagSampling(1)), New(WithClock(clk), WithLagSampling(1))
	stopA, stopB := start(t, a), start(t, b)
	must(a.AfterFunc(10*time.Millisecond, func() {}))
	must(b.AfterFunc(20*time.Millisecond, func() {}))
	clk.Advance(0) // both loops parked: a's wait is a park
	if err := b.Post(func() { clk.Advance(30 * time.Millisecond) }); err != nil {
		t.Fatal(err)
	}
	clk.Advance(0)
	clk.Advance(40 * time.Millisecond)
	stopA()
	stopB()
	ha, hb := a.Health(), b.Health()
	var m Health
	m.Merge(ha)
	m.Merge(hb)
	if m.TimersFired != 2 || m.TimerLag.Count() != 2 || m.TimerLag.Max() != int64(20*time.Millisecond) || m.TimerLag.Sum() != int64(30*time.Millisecond) {
		t.Errorf("merged: %d fired, lag count %d, max %v, sum %v; want 2, 2, 20ms, 30ms",
			m.TimersFired, m.TimerLag.Count(), time.Duration(m.TimerLag.Max()), time.Duration(m.TimerLag.Sum()))
	}
	if q, q50 := m.TimerLag.Quantile(1), m.TimerLag.Quantile(0.5); q != int64(20*time.Millisecond) || q50 > int64(11*time.Millisecond) ||
		m.TimerLagPark != 20*time.Millisecond || m.TimerLagCallbacks != 10*time.Millisecond {
		t.Errorf("merged: lag p100 %v, p50 %v, park %v, callbacks %v; want 20ms, 10ms (+ a bucket), 20ms, 10ms",
			time.Duration(q), time.Duration(q50), m.TimerLagPark, m.TimerLagCallbacks)
	}
	if m.PostLag.Count() != ha.PostLag.Count()+hb.PostLag.Count() || m.Busy != ha.Busy+hb.Busy || m.Idle != ha.Idle+hb.Idle {
		t.Errorf("merged post lags %d, busy %v, idle %v: not the sums", m.PostLag.Count(), m.Busy, m.Idle)
	}
}
