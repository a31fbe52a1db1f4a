package benchmarks

import (
	"runtime"
	"testing"
	"time"

	"github.com/hotloop/hotloop/cache"
	"github.com/hotloop/hotloop/core"
)

// The tests below check that the benchmarks measure what they claim: that
// the locked and cached stores answer the same question the same way, that
// the contended writers leave the stores as they found them and race with
// readers only through the mutex or the atomics, and that a loop fixture
// holds its pending timers.

func TestStoresAgree(t *testing.T) {
	for _, n := range []int{0, 1, 100, 10000} {
		s, c := newLockedStore(n), newCachedStore(n)
		ld, lok := s.sleepFor(now0)
		cd, cok := c.expiry.SleepFor(now0)
		if ld != cd || lok != cok || lok != (n > 0) {
			t.Fatalf("n=%d: locked says (%d, %v), cached (%d, %v)", n, ld, lok, cd, cok)
		}
		if n > 0 && ld < timersMin {
			t.Fatalf("n=%d: a timer is due in %v, before the first deadline", n, time.Duration(ld))
		}
		lw, _ := s.first()
		// The published deadline is lw exactly: lw is not earlier, lw-1 is.
		if lok && (c.expiry.Before(lw) || !c.expiry.Before(lw-1)) {
			t.Fatalf("n=%d: the cached deadline is not the locked first deadline %d", n, lw)
		}
		s.churn(churnWhen)
		c.churn(churnWhen)
		if d, ok := s.sleepFor(now0); d != ld || ok != lok || s.tree.Size() != n {
			t.Fatalf("n=%d: locked churn left (%d, %v) and %d timers", n, d, ok, s.tree.Size())
		}
		if d, ok := c.expiry.SleepFor(now0); d != cd || ok != cok || c.timers.Len() != n {
			t.Fatalf("n=%d: cached churn left (%d, %v) and %d timers", n, d, ok, c.timers.Len())
		}
	}
}

func TestContendedWriters(t *testing.T) {
	for _, w := range writers {
		s, c := newLockedStore(100), newCachedStore(100)
		first, _ := s.sleepFor(now0)
		lw, cw := w.when(), w.when()
		stopL := startWriter(func() { s.churn(lw()) })
		stopC := startWriter(func() { c.churn(cw()) })
		for i := 0; i < 10000; i++ {
			// The first of the 100, or an earlier timer of the writer's.
			if d, ok := s.sleepFor(now0); !ok || d > first || d < churnWhen-now0 {
				t.Fatalf("writer=%s: locked read %d, want %d or earlier", w.name, d, first)
			}
			if d, ok := c.expiry.SleepFor(now0); !ok || d > first || d < churnWhen-now0 {
				t.Fatalf("writer=%s: cached read %d, want %d or earlier", w.name, d, first)
			}
		}
		if stopL() == 0 || stopC() == 0 {
			t.Errorf("writer=%s: a writer made no steps while read 10000 times", w.name)
		}
		if s.tree.Size() != 100 || c.timers.Len() != 100 {
			t.Fatalf("writer=%s: writers left %d and %d timers, want 100", w.name, s.tree.Size(), c.timers.Len())
		}
		if d, _ := c.expiry.SleepFor(now0); d != first {
			t.Fatalf("writer=%s: cached store left %d published, want %d", w.name, d, first)
		}
	}
}

func TestPasses(t *testing.T) {
	for _, n := range []int{0, 100} {
		s := &seedLoop{timers: newLockedStore(n)}
		if got := s.pass(now0); got != seedMaxSleep {
			t.Fatalf("n=%d: seed pass sleeps %d, want the 1 ms cap", n, got)
		}
		c := newCachedStore(n)
		h := newHotPass(c)
		d, timed := h.pass(now0)
		want, wantTimed := c.expiry.SleepFor(now0)
		if d != want || timed != wantTimed || timed != (n > 0) {
			t.Fatalf("n=%d: hotloop pass (%d, %v), want (%d, %v)", n, d, timed, want, wantTimed)
		}
		if n == 0 && c.expiry.HasTimers() {
			t.Fatal("idle pass published timers")
		}
		if n == 0 && c.expiry.Before(cache.None) {
			t.Fatal("idle pass published a deadline")
		}
	}
}

func TestLoopFixture(t *testing.T) {
	for _, st := range opStores {
		f := newLoopFixture(t, st, 500)
		f.flush(t)
		if got := pendingWhenIdle(f.l, 500); got != 500 {
			t.Errorf("store=%v: %d timers pending, want 500", st, got)
		}
		if len(f.handles) != resetTimers {
			t.Errorf("store=%v: %d handles kept, want %d", st, len(f.handles), resetTimers)
		}
		for _, h := range f.handles {
			if !h.Reset(opDelay) {
				t.Errorf("store=%v: Reset of a fixture timer reported false", st)
			}
		}
		f.flush(t)
		f.close()
		if got := f.l.Stats().TimersCancelled; got != 500 {
			t.Errorf("store=%v: Close cancelled %d timers, want 500", st, got)
		}
	}
}

// pendingWhenIdle returns Stats().TimersPending once it reads want, or
// what it reads after 10 s. A busy loop publishes its counters only every
// 64 iterations; an idle one publishes them before it parks, which it does
// soon after the caller's last Do. This waits for that, it times nothing.
func pendingWhenIdle(l *core.Loop, want int) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := l.Stats().TimersPending
		if got == want || time.Now().After(deadline) {
			return got
		}
		runtime.Gosched()
	}
}
