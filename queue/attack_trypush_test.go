package queue

// Attack tests for Inbox.TryPush (the ring-only push under core's TryPost
// and PostWait), from an adversarial pass on its first version (commit
// 5bc7e61). TestAttackTryPushBoundIsGrownRing showed that the bound
// followed the grown ring (core's TestAttack7BugTryPostBoundGrowsWithPost
// says why that mattered); TryPush is now bounded by the initial capacity,
// and the test pins that.

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestAttackTryPushBoundIsGrownRing: after an overflow batch makes the
// consumer grow the ring (WithGrowth), TryPush still accepts only up to the
// capacity NewInbox was given, not the grown ring's.
func TestAttackTryPushBoundIsGrownRing(t *testing.T) {
	q := NewInbox[int](4, WithGrowth[int](32))
	for i := range 4 + 1 { // one in the overflow: 4*1 >= 4, the ring grows
		q.Push(i)
	}
	for range 5 {
		if _, ok := q.pop(); !ok {
			t.Fatal("pop")
		}
	}
	n := 0
	for {
		ok, full := q.TryPush(n)
		if !ok {
			if !full {
				t.Fatal("closed")
			}
			break
		}
		n++
	}
	if n != 4 || q.Cap() == 4 {
		t.Fatalf("TryPush accepted %d with the ring grown to %d; want 4, NewInbox's capacity", n, q.Cap())
	}
}

// TestAttackTryPushNeverPastRing: TryPush producers alone against a
// consumer: the reserved positions (tail-head) never exceed the ring, the
// overflow is never used, and every value arrives once, in order per
// producer.
func TestAttackTryPushNeverPastRing(t *testing.T) {
	q := NewInbox[[2]int](4, WithGrowth[[2]int](8))
	const producers, per = 4, 20000
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; {
				if ok, _ := q.TryPush([2]int{p, i}); ok {
					i++
				} else {
					runtime.Gosched()
				}
			}
		}()
	}
	next := make([]int, producers)
	for got := 0; got < producers*per; {
		if d := q.tail.Load()&^flags - q.head.Load(); d > uint64(q.Cap()) {
			t.Fatalf("tail-head = %d > capacity %d", d, q.Cap())
		}
		if q.tail.Load()&overflowFlag != 0 || q.pending.Load() != 0 {
			t.Fatal("TryPush used the overflow")
		}
		q.Drain(3, func(v *[2]int) {
			if v[1] != next[v[0]] {
				t.Fatalf("producer %d: got %d, want %d", v[0], v[1], next[v[0]])
			}
			next[v[0]]++
			got++
		})
	}
	wg.Wait()
	if q.Cap() != 4 {
		t.Errorf("capacity %d: TryPush alone grew the ring", q.Cap())
	}
}

// TestAttackTryPushMixedWithPushGrowth: producers mixing Push (which
// overflows and makes the consumer grow the ring) and TryPush (retried
// with Push when refused), with a small ring that grows several times
// while TryPush may hold a tail loaded before the flag was set (the ABA
// the growth comment discusses): every value once, in order per
// producer.
func TestAttackTryPushMixedWithPushGrowth(t *testing.T) {
	for round := range 20 {
		q := NewInbox[[2]int](2, WithGrowth[[2]int](1<<12))
		const producers, per = 4, 5000
		var wg sync.WaitGroup
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					v := [2]int{p, i}
					if (i+p+round)%3 != 0 {
						if ok, _ := q.TryPush(v); ok {
							continue
						}
					}
					q.Push(v)
				}
			}()
		}
		next := make([]int, producers)
		for got := 0; got < producers*per; {
			q.Drain(5, func(v *[2]int) {
				if v[1] != next[v[0]] {
					t.Fatalf("round %d producer %d: got %d, want %d", round, v[0], v[1], next[v[0]])
				}
				next[v[0]]++
				got++
			})
		}
		wg.Wait()
		if !q.Empty() {
			t.Fatal("values left")
		}
	}
}

// TestAttackTryPushCloseRace: TryPush racing Close: every value reported
// accepted is delivered once; none refused is; after Close every TryPush
// reports closed (not full), also with the ring full or the overflow
// flag set.
func TestAttackTryPushCloseRace(t *testing.T) {
	for round := range 200 {
		q := NewInbox[int](4)
		var accepted [4]atomic.Int64
		var wg sync.WaitGroup
		for p := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					ok, full := q.TryPush(p<<32 | i)
					if ok {
						accepted[p].Add(1)
						continue
					}
					if !full {
						return
					}
					runtime.Gosched()
				}
			}()
		}
		var got [4]int64
		for i := 0; i < round%17*3; i++ {
			q.Drain(1, func(v *int) { got[*v>>32]++ })
		}
		if round%2 == 0 {
			q.Push(0) // perhaps into the overflow (counted as producer 0's)
		}
		q.Close()
		wg.Wait()
		for !q.Empty() {
			q.Drain(100, func(v *int) { got[*v>>32]++ })
		}
		extra := int64(0)
		if round%2 == 0 {
			extra = 1 // the Push of 0 counted as producer 0's
		}
		for p := range 4 {
			want := accepted[p].Load()
			if p == 0 {
				want += extra
			}
			if got[p] != want {
				t.Fatalf("round %d producer %d: %d delivered, %d accepted", round, p, got[p], want)
			}
		}
		if ok, full := q.TryPush(1); ok || full {
			t.Fatalf("TryPush after Close: %v, %v", ok, full)
		}
	}
}

// TestAttackTryPushStamp: TryPush stamps the values at the sampled ring
// positions, as Push does.
func TestAttackTryPushStamp(t *testing.T) {
	q := NewInbox[[2]int](8, WithStamp[[2]int](4, func(v *[2]int) { v[1] = 1 }))
	for i := range 8 {
		if ok, _ := q.TryPush([2]int{i, 0}); !ok {
			t.Fatal("refused")
		}
	}
	stamped := 0
	q.Drain(8, func(v *[2]int) {
		if v[1] == 1 {
			stamped++
			if v[0]%4 != 3 {
				t.Errorf("value %d stamped", v[0])
			}
		}
	})
	if stamped != 2 {
		t.Errorf("%d stamped, want 2", stamped)
	}
}

// TestAttackTryPushZeroInbox: TryPush on the zero Inbox panics with the
// zero-Inbox message, as Push does.
func TestAttackTryPushZeroInbox(t *testing.T) {
	defer func() {
		v := recover()
		if s, ok := v.(string); !ok || len(s) < 20 || s[:20] != "hotloop: queue.Inbox" {
			t.Fatalf("panic %v", v)
		}
	}()
	var q Inbox[int]
	q.TryPush(1)
}
