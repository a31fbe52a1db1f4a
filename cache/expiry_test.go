package cache

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestExpiryPublishAndSleep checks the published deadline, the has-timers
// flag and the sleep computation, including the int64 limits.
func TestExpiryPublishAndSleep(t *testing.T) {
	e := New()
	if _, ok := e.Next(); ok || e.HasTimers() {
		t.Fatal("new Expiry reports a timer")
	}
	if _, ok := e.SleepFor(0); ok {
		t.Fatal("SleepFor with no timers: ok")
	}
	if !e.Before(None - 1) {
		t.Fatal("any deadline is before None")
	}
	e.Publish(100, true)
	if w, ok := e.Next(); !ok || w != 100 || !e.HasTimers() {
		t.Fatalf("Next = %d, %v", w, ok)
	}
	for _, c := range []struct{ now, d int64 }{{0, 100}, {99, 1}, {100, 0}, {1 << 62, 0}} {
		if d, ok := e.SleepFor(c.now); !ok || d != c.d {
			t.Errorf("SleepFor(%d) = %d, %v; want %d", c.now, d, ok, c.d)
		}
	}
	if e.Before(100) || !e.Before(99) {
		t.Fatal("Before is not strict")
	}
	e.Publish(None, true) // None means none, whatever ok says
	if e.HasTimers() {
		t.Fatal("Publish(None) left the flag set")
	}
	e.Publish(5, false)
	if _, ok := e.Next(); ok {
		t.Fatal("Publish(_, false) published a deadline")
	}
	e.verify()
}
