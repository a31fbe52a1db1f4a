package core

import (
	"testing"
	"time"
	"unsafe"
)

// TestStateWordHelpers checks the pure helpers beside the transition table
// in timer.go: rearmed keeps filed only for a deadline no earlier than the
// word's and never for a relative word; needsMessage asks for a message
// exactly when the new word is armed but not filed and none is on its way;
// disarmed keeps the deadline and clears every flag.
func TestStateWordHelpers(t *testing.T) {
	idle := timerState(0)
	filed := armedAt(100, filedBit)
	unfiled := armedAt(100, 0)
	running := armedAt(100, runningBit)
	rel := armedAt(100, relBit|filedBit)
	for _, c := range []struct {
		name      string
		old       timerState
		when      int64
		wantFiled bool
		wantMsg   bool
	}{
		{"idle: re-arm", idle, 50, false, true},
		{"filed, later: lazy", filed, 150, true, false},
		{"filed, same: lazy", filed, 100, true, false},
		{"filed, earlier: message", filed, 50, false, true},
		{"unfiled: rides the message on its way", unfiled, 50, false, false},
		{"unfiled, later: rides it too", unfiled, 150, false, false},
		{"running periodic: message", running, 150, false, true},
		{"relative: fileDeferred is on its way", rel, 150, false, false},
	} {
		new := c.old.rearmed(c.when)
		if !new.armed() || new.when() != c.when || new.running() || new.rel() {
			t.Errorf("%s: rearmed(%d) = %v, want armed for %d, not running or relative", c.name, c.when, new, c.when)
		}
		if new.filed() != c.wantFiled {
			t.Errorf("%s: rearmed(%d) = %v, want filed %v", c.name, c.when, new, c.wantFiled)
		}
		if got := needsMessage(c.old, new); got != c.wantMsg {
			t.Errorf("%s: needsMessage(%v, %v) = %v, want %v", c.name, c.old, new, got, c.wantMsg)
		}
	}
	for _, s := range []timerState{filed, unfiled, running, rel, armedAt(maxWhen, filedBit)} {
		d := s.disarmed()
		if d.armed() || d.filed() || d.running() || d.rel() || d.when() != s.when() {
			t.Errorf("disarmed(%v) = %v, want the deadline and no flags", s, d)
		}
	}
	if got := armedAt(maxWhen, filedBit).when(); got != maxWhen {
		t.Errorf("maxWhen does not survive the word: %d", got)
	}
	if got, want := rel.String(), "when=100|armed|filed|relative"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// TestTimerSize pins a Timer at 48 bytes, the 48-byte allocation class:
// AfterFunc allocates one per timer, and 8 bytes more would move it into
// the 64-byte class (W6 and W2 allocate 10^5 of them at a time).
func TestTimerSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are pinned for 64-bit platforms")
	}
	if s := unsafe.Sizeof(Timer{}); s != 48 {
		t.Errorf("unsafe.Sizeof(Timer{}) = %d, want 48", s)
	}
}

// TestTickOf checks the packing of a periodic timer's period and policy, never 0
// (0 marks a one-shot timer's home).
func TestTickOf(t *testing.T) {
	for _, period := range []int64{1, int64(time.Second), maxWhen} { // Every rejects periods <= 0
		for _, m := range []MissedTick{TickSkip, TickBurst, TickDelay} {
			h := timerHome{tick: tickOf(period, m)}
			if h.tick == 0 || h.period() != period || h.missed() != m {
				t.Errorf("tickOf(%d, %v) = %#x: period %d, missed %v", period, m, h.tick, h.period(), h.missed())
			}
		}
	}
}
