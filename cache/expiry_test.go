package cache

import (
	"fmt"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// published returns the published deadline; ok is false when no timer is
// pending.
func (e *Expiry) published() (when int64, ok bool) {
	when = e.next.Load()
	return when, when != None
}

func TestExpiry(t *testing.T) {
	e := New()
	check := func(wantWhen int64, wantOK bool) {
		t.Helper()
		e.verify()
		if when, ok := e.published(); when != wantWhen || ok != wantOK || e.HasTimers() != wantOK {
			t.Fatalf("published = %d, %v; HasTimers = %v; want %d, %v", when, ok, e.HasTimers(), wantWhen, wantOK)
		}
	}
	check(None, false)
	if !e.Before(1 << 62) {
		t.Fatal("with no timers every deadline must be earlier than the published one")
	}
	if d, ok := e.SleepFor(10); ok || d != 0 {
		t.Fatalf("SleepFor with no timers = %d, %v; want park without deadline", d, ok)
	}
	e.Publish(100)
	check(100, true)
	for _, c := range []struct {
		now, d int64
	}{{0, 100}, {99, 1}, {100, 0}, {250, 0}} {
		if d, ok := e.SleepFor(c.now); !ok || d != c.d {
			t.Errorf("SleepFor(%d) = %d, %v; want %d, true", c.now, d, ok, c.d)
		}
	}
	if e.Before(100) || !e.Before(99) {
		t.Fatal("Before: a deadline equal to the published one needs no wake-up; an earlier one does")
	}
	e.Publish(None)
	check(None, false)
}

// TestExpiryConcurrentReaders: one publisher, many readers; a reader never
// sees a deadline that was never published, and the race detector sees no
// unsynchronised access.
func TestExpiryConcurrentReaders(t *testing.T) {
	e := New()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if when, ok := e.published(); ok && (when < 1000 || when >= 2000) {
					t.Errorf("read a deadline never published: %d", when)
					return
				}
			}
		}()
	}
	for i := int64(0); i < 100000; i++ {
		when := 1000 + i%1000
		if i%3 == 0 {
			when = None
		}
		e.Publish(when)
	}
	close(stop)
	wg.Wait()
}

func ExampleExpiry() {
	e := New() // owned by the loop; read by anyone
	fmt.Println(e.HasTimers())
	e.Publish(5_000_000) // the earliest timer is due at t=5ms
	d, ok := e.SleepFor(2_000_000)
	fmt.Println(d, ok)               // park for 3ms
	fmt.Println(e.Before(4_000_000)) // a poster's 4ms timer must wake the loop
	// Output:
	// false
	// 3000000 true
	// true
}

func BenchmarkSleepFor(b *testing.B) {
	e := New()
	e.Publish(1 << 40)
	var sink int64
	for b.Loop() {
		d, _ := e.SleepFor(12345)
		sink += d
	}
	_ = sink
}
