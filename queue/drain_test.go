package queue

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestInboxDrain checks that Drain delivers what pop would, in order, up to
// max, through the ring and the overflow, zeroing what it delivered and
// publishing head, so that Len and Empty are exact afterwards.
func TestInboxDrain(t *testing.T) {
	q := NewInbox[*int](4)
	vals := make([]*int, 11) // 4 in the ring, 7 in the overflow
	for i := range vals {
		vals[i] = new(int)
		*vals[i] = i
		q.Push(vals[i])
	}
	var got []int
	collect := func(p **int) { got = append(got, **p) }
	if n := q.Drain(3, collect); n != 3 || q.Len() != 8 {
		t.Fatalf("Drain(3) = %d, Len = %d; want 3, 8", n, q.Len())
	}
	if n := q.Drain(100, collect); n != 8 || q.Len() != 0 || !q.Empty() {
		t.Fatalf("Drain(100) = %d, Len = %d, Empty = %v; want 8, 0, true", n, q.Len(), q.Empty())
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("Drain delivered %v, want 0..10 in order", got)
		}
	}
	if len(got) != len(vals) {
		t.Fatalf("Drain delivered %d values, want %d", len(got), len(vals))
	}
	for i, s := range q.ring.Load().slots {
		if s.val != nil {
			t.Fatalf("slot %d not zeroed", i)
		}
	}
	if n := q.Drain(5, collect); n != 0 {
		t.Fatalf("Drain on an empty inbox = %d", n)
	}
	// The ring is reusable: its slots were handed back by the head store.
	for i := range 4 {
		q.Push(vals[i])
	}
	if q.tail.Load()&overflowFlag != 0 {
		t.Fatal("the ring overflowed after Drain emptied it")
	}
	if n := q.Drain(10, func(**int) {}); n != 4 {
		t.Fatalf("Drain = %d, want 4", n)
	}
}

// TestInboxDrainStopsAtUnpublished: Drain stops where a producer has reserved
// a position but not yet published it, and resumes there.
func TestInboxDrainStopsAtUnpublished(t *testing.T) {
	q := NewInbox[int](8)
	q.Push(1)
	tl := q.tail.Load()
	if !q.tail.CompareAndSwap(tl, tl+1) { // reserve position 1
		t.Fatal("reserve failed")
	}
	q.Push(3) // position 2, published behind the unpublished one
	var got []int
	if n := q.Drain(10, func(v *int) { got = append(got, *v) }); n != 1 || q.Empty() {
		t.Fatalf("Drain = %d (%v), Empty = %v; want 1, false", n, got, q.Empty())
	}
	r := q.ring.Load()
	s := &r.slots[tl&r.mask]
	s.val = 2
	s.seq.Store(uintptr(tl + 1)) // publish
	if n := q.Drain(10, func(v *int) { got = append(got, *v) }); n != 2 || !q.Empty() {
		t.Fatalf("Drain = %d, Empty = %v; want 2, true", n, q.Empty())
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("got %v, want [1 2 3]", got)
	}
}

// TestInboxStamp: WithStamp marks the last value of every group of n ring
// positions, and every n-th overflow value.
func TestInboxStamp(t *testing.T) {
	type msg struct {
		i       int
		stamped bool
	}
	q := NewInbox(8, WithStamp(3, func(m *msg) { m.stamped = true })) // every 3 is rounded up to 4
	for i := range 20 {                                               // 8 in the ring, 12 in the overflow
		q.Push(msg{i: i})
	}
	var stamped []int
	q.Drain(100, func(m *msg) {
		if m.stamped {
			stamped = append(stamped, m.i)
		}
	})
	// Ring positions 3 and 7; overflow values 3, 7 and 11 (i = 11, 15, 19).
	if fmt.Sprint(stamped) != "[3 7 11 15 19]" {
		t.Fatalf("stamped %v, want [3 7 11 15 19]", stamped)
	}
}

// TestInboxGrow: with WithGrowth, taking a large overflow grows the ring
// (never beyond the limit), and values keep their order across the change.
func TestInboxGrow(t *testing.T) {
	q := NewInbox(4, WithGrowth[int](16)) // up to 64
	next, want := 0, 0
	push := func(n int) {
		for range n {
			q.Push(next)
			next++
		}
	}
	pop := func(n int) {
		for range n {
			v, ok := q.pop()
			if !ok || v != want {
				t.Fatalf("pop = (%d, %v), want (%d, true)", v, ok, want)
			}
			want++
		}
	}
	push(10) // 4 in the ring, 6 in the overflow: 6 >= 4/4, so it grows
	pop(5)   // takes the overflow batch
	if c := q.Cap(); c != 32 {
		t.Fatalf("Cap = %d after a 6-value overflow of a 4-slot ring, want 32 (twice ring+batch, rounded up)", c)
	}
	push(20) // fits in the new ring, behind the batch
	if q.tail.Load()&overflowFlag != 0 {
		t.Fatal("overflowed a ring with room")
	}
	pop(25)
	push(100) // 32 in the ring, 68 overflow
	pop(100)
	if c := q.Cap(); c != 64 {
		t.Fatalf("Cap = %d, want the limit 64", c)
	}
	push(200)
	pop(200)
	if c := q.Cap(); c != 64 {
		t.Fatalf("Cap = %d, grew beyond the limit 64", c)
	}
	if !q.Empty() || q.Len() != 0 {
		t.Fatal("not empty at the end")
	}
	// Without WithGrowth the ring never grows.
	q2 := NewInbox[int](4)
	for i := range 100 {
		q2.Push(i)
	}
	q2.Drain(100, func(*int) {})
	if q2.Cap() != 4 {
		t.Fatalf("Cap = %d without WithGrowth, want 4", q2.Cap())
	}
}

// TestInboxGrowConcurrent has producers push tagged values into a small
// ring that may grow while they push, and the consumer take them with Drain
// and pop in turn; every value must arrive once, each producer's in order.
func TestInboxGrowConcurrent(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, producers := range []int{1, 2, 8} {
		t.Run(fmt.Sprintf("producers=%d", producers), func(t *testing.T) {
			per := n / producers
			q := NewInbox(2, WithGrowth[tagged](1<<11)) // up to 1<<12
			wait := pushTagged(q, producers, per, 64)
			order := inOrder{t, make([]int, producers)}
			got, total := 0, producers*per
			check := func(v *tagged) {
				order.see(*v)
				got++
			}
			deadline := time.Now().Add(time.Minute)
			for round := 0; got < total; round++ {
				k := 0
				if round%2 == 0 {
					k = q.Drain(1+round%97, check)
				} else if v, ok := q.pop(); ok {
					check(&v)
					k = 1
				}
				if k == 0 {
					if time.Now().After(deadline) {
						t.Fatalf("timed out after %d of %d values", got, total)
					}
					runtime.Gosched()
				}
			}
			wait()
			if !q.Empty() || q.Len() != 0 {
				t.Fatal("inbox not empty after all values were received")
			}
			t.Logf("ring grew from 2 to %d", q.Cap())
		})
	}
}
