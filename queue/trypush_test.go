package queue

import (
	"sync"
	"testing"
)

// TestTryPushBounded: TryPush fills the ring and then reports full without
// taking the overflow; after a pop it has room again; it never overtakes
// values waiting in the overflow; after Close it reports closed.
func TestTryPushBounded(t *testing.T) {
	q := NewInbox[int](4)
	for i := range 4 {
		if ok, full := q.TryPush(i); !ok || full {
			t.Fatalf("TryPush(%d) into a ring with room = %v, %v", i, ok, full)
		}
	}
	if ok, full := q.TryPush(4); ok || !full {
		t.Fatalf("TryPush into a full ring = %v, %v; want false, true", ok, full)
	}
	if q.Len() != 4 {
		t.Fatalf("Len %d after a refused TryPush, want 4", q.Len())
	}
	if v, ok := q.pop(); !ok || v != 0 {
		t.Fatalf("pop = %d, %v", v, ok)
	}
	if ok, _ := q.TryPush(4); !ok {
		t.Fatal("TryPush after a pop refused")
	}
	q.Push(5) // the ring is full: 5 goes to the overflow
	if v, ok := q.pop(); !ok || v != 1 {
		t.Fatalf("pop = %d, %v", v, ok)
	}
	if ok, full := q.TryPush(6); ok || !full {
		t.Fatalf("TryPush while the overflow holds values = %v, %v; want false, true (FIFO)", ok, full)
	}
	for want := 2; want <= 5; want++ {
		if v, ok := q.pop(); !ok || v != want {
			t.Fatalf("pop = %d, %v; want %d", v, ok, want)
		}
	}
	q.Close()
	if ok, full := q.TryPush(7); ok || full {
		t.Fatalf("TryPush after Close = %v, %v; want false, false", ok, full)
	}
}

// TestTryPushConcurrent: producers that TryPush until accepted, against a
// consumer, deliver every value once, in order per producer.
func TestTryPushConcurrent(t *testing.T) {
	q := NewInbox[[2]int](8)
	const producers, per = 4, 5000
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; {
				if ok, full := q.TryPush([2]int{p, i}); ok {
					i++
				} else if !full {
					t.Error("closed")
					return
				}
			}
		}()
	}
	next := make([]int, producers)
	for got := 0; got < producers*per; {
		v, ok := q.pop()
		if !ok {
			continue
		}
		if v[1] != next[v[0]] {
			t.Fatalf("producer %d: got %d, want %d", v[0], v[1], next[v[0]])
		}
		next[v[0]]++
		got++
	}
	wg.Wait()
	if q.Cap() != 8 {
		t.Errorf("Cap %d: TryPush must not grow the ring", q.Cap())
	}
}
