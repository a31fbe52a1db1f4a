package queue

import (
	"sync"
	"testing"
)

func TestInboxClose(t *testing.T) {
	q := NewInbox[int](4)
	for i := 0; i < 10; i++ { // ring and overflow
		if !q.Push(i) {
			t.Fatalf("Push(%d) before Close failed", i)
		}
	}
	if q.Closed() || !q.Close() || q.Close() || !q.Closed() {
		t.Fatal("Close/Closed: wrong reports")
	}
	if q.Push(99) {
		t.Fatal("Push after Close succeeded")
	}
	for i := 0; i < 10; i++ {
		v, ok := q.pop()
		if !ok || v != i {
			t.Fatalf("pop after Close = %d, %v; want %d, true", v, ok, i)
		}
	}
	if !q.Empty() {
		t.Fatal("not Empty after taking every accepted value")
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop returned a value pushed after Close")
	}
}

// TestInboxCloseUnderLoad: producers push until Push fails while Close lands
// at some moment; the consumer, draining until Empty after Close, gets
// exactly the accepted values, each producer's in order.
func TestInboxCloseUnderLoad(t *testing.T) {
	for _, capacity := range []int{2, 64} {
		q := NewInbox[tagged](capacity)
		const producers = 4
		accepted := make([]int, producers)
		var wg sync.WaitGroup
		for p := 0; p < producers; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; q.Push(tagged{p, i}); i++ {
					accepted[p]++
				}
			}()
		}
		got := make([]int, producers)
		take := func() {
			v, ok := q.pop()
			if !ok {
				return
			}
			if v.seq != got[v.producer] {
				t.Fatalf("producer %d: got %d, want %d", v.producer, v.seq, got[v.producer])
			}
			got[v.producer]++
		}
		for i := 0; i < 5000; i++ {
			take()
		}
		q.Close()
		for !q.Empty() {
			take()
		}
		wg.Wait()
		for p := range got {
			if got[p] != accepted[p] {
				t.Fatalf("capacity %d, producer %d: %d accepted, %d delivered", capacity, p, accepted[p], got[p])
			}
		}
	}
}

// TestZeroInboxPanicsWithAMessage (#11, item 8): Push on the zero Inbox
// names NewInbox instead of dereferencing a nil ring.
func TestZeroInboxPanicsWithAMessage(t *testing.T) {
	for name, f := range map[string]func(q *Inbox[int]){
		"Push":  func(q *Inbox[int]) { q.Push(1) },
		"Drain": func(q *Inbox[int]) { q.Drain(1, func(*int) {}) },
	} {
		t.Run(name, func(t *testing.T) {
			var q Inbox[int]
			defer func() {
				if v, ok := recover().(string); !ok || v != "hotloop: queue.Inbox not made by NewInbox; the zero Inbox is not usable" {
					t.Fatalf("panic %v", v)
				}
			}()
			f(&q)
		})
	}
}
