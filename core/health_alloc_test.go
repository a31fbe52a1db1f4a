package core

import (
	"testing"
	"time"
)

// TestHealthZeroAllocs: with every post sampled and slow-callback detection
// on, the hot paths still allocate nothing, and neither does a snapshot.
func TestHealthZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items and adds allocations")
	}
	l := New(WithLagSampling(1), WithSlowCallback(time.Nanosecond, func(time.Duration, string) {}))
	stop := start(t, l)
	defer stop()
	var tm Timer
	if err := tm.Init(l, noop); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(){
		"Local.Post+run": func() {
			l.Local().Post(noop)
			l.runReady(1)
		},
		"Local.Reset+fire": func() {
			l.Local().Reset(&tm, 0)
			l.fireDue(1)
		},
		"Post+run": func() {
			l.Post(noop)
			l.drain(1)
			l.runReady(1)
		},
		"iterate": func() {
			l.Local().Post(noop)
			l.iterate()
		},
	}
	for name, f := range cases {
		do(t, l, func() {
			for i := 0; i < 100; i++ {
				f()
			}
			if a := testing.AllocsPerRun(1000, f); a != 0 {
				t.Errorf("%s: %v allocations per operation, want 0", name, a)
			}
		})
	}
}
