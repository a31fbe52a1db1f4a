package core

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestNoLostWakeupsManyProducers races posts from several goroutines
// against the loop going to park, with and without a pending timer (a park
// with a deadline reads the clock; one without does not), and with pauses
// that let the loop catch up and park between bursts. Every post must run,
// in order per producer.
func TestNoLostWakeupsManyProducers(t *testing.T) {
	for _, withTimer := range []bool{false, true} {
		t.Run(fmt.Sprintf("timer=%v", withTimer), func(t *testing.T) {
			l := New()
			stop := start(t, l)
			defer stop()
			if withTimer {
				must(l.AfterFunc(time.Hour, noop))
			}
			const producers, rounds, burst = 4, 300, 5
			next := make([]int, producers) // touched only on the loop
			var ran sync.WaitGroup
			ran.Add(producers * rounds * burst)
			var wg sync.WaitGroup
			for p := range producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := range rounds {
						for b := range burst {
							i := r*burst + b
							if err := l.Post(inOrder(next, p, i, &ran)); err != nil {
								panic(err)
							}
						}
						if r%3 == 0 {
							time.Sleep(time.Duration(r%7) * time.Microsecond) // let the loop park
						} else {
							runtime.Gosched()
						}
					}
				}()
			}
			wg.Wait()
			waitTimeout(t, &ran, time.Minute, "a post never ran (lost wake-up)")
			if s := l.Stats(); s.Parks == 0 {
				t.Logf("the loop never parked (%+v)", s)
			}
		})
	}
}

// waitTimeout waits for wg, failing the test with msg after d.
func waitTimeout(t *testing.T, wg *sync.WaitGroup, d time.Duration, msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal(msg)
	}
}

// TestPanicsWithinOneBatch: callbacks of one ready batch run under one
// deferred recover; a panicking one is counted and handed to the handler,
// and the rest of the batch still runs, in order.
func TestPanicsWithinOneBatch(t *testing.T) {
	var panics []any
	l := New(WithPanicHandler(func(v any) { panics = append(panics, v) }))
	stop := start(t, l)
	defer stop()
	var order []int
	before := l.Stats()
	do(t, l, func() {
		for i := range 10 {
			l.Local().Post(func() {
				order = append(order, i)
				if i == 0 || i == 3 || i == 9 {
					panic(i)
				}
			})
		}
	})
	do(t, l, func() {}) // the batch has run
	do(t, l, func() {
		if fmt.Sprint(order) != "[0 1 2 3 4 5 6 7 8 9]" {
			t.Errorf("ran %v, want 0..9 in order", order)
		}
		if fmt.Sprint(panics) != "[0 3 9]" {
			t.Errorf("panic handler got %v, want [0 3 9]", panics)
		}
	})
	waitParked(t, l)
	s := l.Stats()
	if got := s.Panics - before.Panics; got != 3 {
		t.Errorf("Stats.Panics grew by %d, want 3", got)
	}
	// 10 posts, plus the 4 Do callbacks (including the ones around them).
	if got := s.Callbacks - before.Callbacks; got < 10 {
		t.Errorf("Stats.Callbacks grew by %d, want at least 10 (panicking ones count)", got)
	}
}

// waitParked waits until the loop has parked with nothing to do, so that
// its counters are published.
func waitParked(t *testing.T, l *Loop) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !l.parked.Load() || l.Stats().InboxLen != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the loop never parked")
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// TestInboxGrowsUnderBurst: posts that overflow the inbox while the loop is
// not running all run once, in order per producer; the loop then grows the
// inbox (within its limit), and later bursts of that size stay in the ring.
func TestInboxGrowsUnderBurst(t *testing.T) {
	l := New(WithInboxSize(16))
	const producers, per = 4, 500
	next := make([]int, producers)
	var ran sync.WaitGroup
	post := func() {
		ran.Add(producers * per)
		var wg sync.WaitGroup
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					if err := l.Post(inOrder(next, p, i, &ran)); err != nil {
						panic(err)
					}
				}
			}()
		}
		wg.Wait()
	}
	post() // before Run: 16 in the ring, the rest in the overflow
	stop := start(t, l)
	defer stop()
	waitTimeout(t, &ran, time.Minute, "posts lost")
	c := l.inbox.Cap()
	if c <= 16 || c > 16*inboxGrowth {
		t.Fatalf("inbox capacity %d after a 2000-post burst into 16 slots, want in (16, %d]", c, 16*inboxGrowth)
	}
	for p := range next {
		next[p] = 0
	}
	do(t, l, func() {})
	post() // concurrently with the running loop, into the grown ring
	waitTimeout(t, &ran, time.Minute, "posts lost after growth")
}

// TestPostLagSampledByPosition: posts from other goroutines are stamped for
// the post-lag histogram by inbox position: one in n, with no randomness.
func TestPostLagSampledByPosition(t *testing.T) {
	l, _, stop := startFake(t, WithLagSampling(4))
	defer stop()
	before := l.Health().PostLag.Count()
	for range 400 {
		l.Post(noop)
	}
	do(t, l, func() {})
	// 401 posts through the inbox (with Do's): every 4th position, 100 or
	// 101 of them, whatever the phase the start-up posts left.
	if got := l.Health().PostLag.Count() - before; got < 100 || got > 101 {
		t.Fatalf("%d of 401 posts sampled, want 100 or 101", got)
	}
}

// inOrder returns producer p's i-th callback: it panics unless it runs
// right after the producer's (i-1)-th, counting in next (touched only on
// the loop), and marks itself done in ran.
func inOrder(next []int, p, i int, ran *sync.WaitGroup) func() {
	return func() {
		if next[p] != i {
			panic(fmt.Sprintf("producer %d: callback %d ran, want %d", p, i, next[p]))
		}
		next[p]++
		ran.Done()
	}
}
