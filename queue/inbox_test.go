package queue

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/atomic"
)

func TestNewInboxCapacity(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{-5, 2}, {0, 2}, {1, 2}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {1000, 1024}, {1024, 1024},
	} {
		if got := NewInbox[int](tc.in).Cap(); got != tc.want {
			t.Errorf("NewInbox(%d).Cap() = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestNewInboxClamps: a capacity above 1<<30 is clamped, not a panic, and
// so is a growth factor that would overflow an int. (The ring itself is
// not made: 1<<30 slots are the caller's memory to spend.)
func TestNewInboxClamps(t *testing.T) {
	for _, n := range []int{maxCapacity, maxCapacity + 1, math.MaxInt} {
		if got := ringCapacity(n); got != maxCapacity {
			t.Errorf("ringCapacity(%d) = %d, want %d", n, got, maxCapacity)
		}
	}
	for _, tc := range []struct{ capacity, factor, want int }{
		{4, 0, 4}, {4, 1, 4}, {4, 3, 16}, {4, 16, 64}, {1000, 32, 32768},
		{4, math.MaxInt, maxCapacity}, {1 << 20, 1 << 20, maxCapacity},
	} {
		if got := NewInbox(tc.capacity, WithGrowth[int](tc.factor)).maxCap; got != tc.want {
			t.Errorf("NewInbox(%d, WithGrowth(%d)) may grow to %d, want %d", tc.capacity, tc.factor, got, tc.want)
		}
	}
}

func TestInboxEmptyLenCap(t *testing.T) {
	q := NewInbox[int](4)
	if !q.Empty() || q.Len() != 0 || q.Cap() != 4 {
		t.Fatalf("new inbox: Empty=%v Len=%d Cap=%d", q.Empty(), q.Len(), q.Cap())
	}
	if v, ok := q.pop(); ok || v != 0 {
		t.Fatalf("pop on empty = (%v, %v)", v, ok)
	}
	for i := range 10 { // 4 in the ring, 6 in the overflow
		q.Push(i)
		if q.Empty() || q.Len() != i+1 {
			t.Fatalf("after %d pushes: Empty=%v Len=%d", i+1, q.Empty(), q.Len())
		}
	}
	if q.tail.Load()&overflowFlag == 0 {
		t.Fatal("overflow flag not set after pushing past capacity")
	}
	for i := range 10 {
		v, ok := q.pop()
		if !ok || v != i {
			t.Fatalf("pop = (%v, %v), want (%d, true)", v, ok, i)
		}
		if q.Len() != 9-i || q.Empty() != (i == 9) {
			t.Fatalf("after %d pops: Empty=%v Len=%d", i+1, q.Empty(), q.Len())
		}
	}
	if q.tail.Load()&overflowFlag != 0 {
		t.Fatal("overflow flag still set after draining")
	}
}

// TestInboxEmptyReservedUnpublished simulates a producer that has reserved
// a position but not yet published it: Empty must be false and pop must
// report nothing, and the value must arrive once published.
func TestInboxEmptyReservedUnpublished(t *testing.T) {
	q := NewInbox[int](4)
	tl := q.tail.Load()
	if !q.tail.CompareAndSwap(tl, tl+1) {
		t.Fatal("reserve failed")
	}
	if q.Empty() {
		t.Fatal("Empty() = true with a reserved position")
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop returned a reserved-but-unpublished value")
	}
	r := q.ring.Load()
	s := &r.slots[tl&r.mask]
	s.val = 7
	s.seq.Store(uintptr(tl + 1))
	if v, ok := q.pop(); !ok || v != 7 {
		t.Fatalf("pop = (%v, %v), want (7, true)", v, ok)
	}
	if !q.Empty() {
		t.Fatal("Empty() = false after draining")
	}
}

func TestInboxWrapManyTimes(t *testing.T) {
	q := NewInbox[int](4)
	next, want := 0, 0
	for round := range 20000 {
		for range round%3 + 1 { // at most 3 in flight: never overflows
			q.Push(next)
			next++
		}
		for q.Len() > 0 {
			v, ok := q.pop()
			if !ok || v != want {
				t.Fatalf("round %d: pop = (%v, %v), want (%d, true)", round, v, ok, want)
			}
			want++
		}
	}
	if q.head.Load() != uint64(next) {
		t.Fatalf("head = %d, want %d", q.head.Load(), next)
	}
}

// TestInboxOverflowFIFO pushes bursts far larger than the ring between pops,
// interleaving ring and overflow phases, and checks FIFO order throughout.
func TestInboxOverflowFIFO(t *testing.T) {
	q := NewInbox[int](2)
	next, want := 0, 0
	for round := range 500 {
		for range round%37 + 1 {
			q.Push(next)
			next++
		}
		for range round%29 + 1 {
			v, ok := q.pop()
			if !ok {
				break
			}
			if v != want {
				t.Fatalf("round %d: got %d, want %d", round, v, want)
			}
			want++
		}
	}
	for {
		v, ok := q.pop()
		if !ok {
			break
		}
		if v != want {
			t.Fatalf("drain: got %d, want %d", v, want)
		}
		want++
	}
	if want != next || !q.Empty() {
		t.Fatalf("popped %d of %d, Empty=%v", want, next, q.Empty())
	}
}

func TestInboxPopZeroesSlots(t *testing.T) {
	q := NewInbox[*int](2)
	for range 6 { // 2 in the ring, 4 in the overflow
		q.Push(new(int))
	}
	for range 6 {
		if _, ok := q.pop(); !ok {
			t.Fatal("pop failed")
		}
	}
	for i, s := range q.ring.Load().slots {
		if s.val != nil {
			t.Fatalf("slot %d not zeroed", i)
		}
	}
	for i, p := range q.batch[:cap(q.batch)] {
		if p != nil {
			t.Fatalf("batch[%d] not zeroed", i)
		}
	}
}

func TestInboxAllocs(t *testing.T) {
	q := NewInbox[int](64)
	allocs := testing.AllocsPerRun(1000, func() {
		q.Push(1)
		q.pop()
	})
	if allocs != 0 {
		t.Fatalf("Inbox Push+pop (ring path) allocates %v per run, want 0", allocs)
	}
}

// tagged is a value pushed by a test producer: its index and the sequence
// number of the push.
type tagged struct{ producer, seq int }

// pushTagged starts producers goroutines that each push per tagged values
// into q, calling runtime.Gosched after every yieldEvery pushes so that the
// consumer catches up now and then and values alternate between the ring and
// the overflow. It returns a function that waits for all of them.
func pushTagged(q *Inbox[tagged], producers, per, yieldEvery int) (wait func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range per {
				q.Push(tagged{p, i})
				if i%yieldEvery == yieldEvery-1 {
					runtime.Gosched()
				}
			}
		}()
	}
	close(start) // all start together, to contend
	return wg.Wait
}

// inOrder checks that each producer's values arrive exactly in the order it
// pushed them: next[p] is the sequence number producer p must deliver next.
type inOrder struct {
	t    *testing.T
	next []int
}

// see checks v and advances its producer's expected sequence number.
func (o *inOrder) see(v tagged) {
	o.t.Helper()
	if v.seq != o.next[v.producer] {
		o.t.Fatalf("producer %d: got seq %d, want %d", v.producer, v.seq, o.next[v.producer])
	}
	o.next[v.producer]++
}

// TestInboxConcurrent has P producers push N tagged values each into a tiny
// ring, so the overflow path is taken constantly, and checks that every value
// arrives exactly once and each producer's values arrive in order.
func TestInboxConcurrent(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, producers := range []int{1, 2, 8, 64} {
		for _, capacity := range []int{2, 16} {
			t.Run(fmt.Sprintf("producers=%d/cap=%d", producers, capacity), func(t *testing.T) {
				perProducer := max(n/producers, 100)
				q := NewInbox[tagged](capacity)
				wait := pushTagged(q, producers, perProducer, 8)
				order := inOrder{t, make([]int, producers)}
				total, fromOverflow := producers*perProducer, 0
				deadline := time.Now().Add(time.Minute)
				for got := 0; got < total; {
					v, ok := q.pop()
					if !ok {
						if time.Now().After(deadline) {
							t.Fatalf("timed out after %d of %d values", got, total)
						}
						runtime.Gosched()
						continue
					}
					order.see(v)
					if len(q.batch) > 0 {
						fromOverflow++ // delivered from a batch taken from the overflow
					}
					got++
				}
				wait()
				if _, ok := q.pop(); ok || !q.Empty() || q.Len() != 0 {
					t.Fatal("inbox not empty after all values were received")
				}
				t.Logf("%d of %d values came through the overflow", fromOverflow, total)
				if q.pending.Load() != 0 {
					t.Fatalf("pending = %d after drain", q.pending.Load())
				}
			})
		}
	}
}

// TestInboxParkProtocol runs the loop's park protocol many times: the
// consumer stores parked, then checks Empty, and blocks on a channel only if
// Empty reported true; producers Push, then load parked and send a wake-up.
// A lost wake-up shows up as the consumer blocking while values are queued.
func TestInboxParkProtocol(t *testing.T) {
	rounds := 2000
	if testing.Short() {
		rounds = 200
	}
	const producers, perRound = 4, 3
	q := NewInbox[int](2)
	var parked atomic.Bool
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	step := make([]chan struct{}, producers)
	for p := range producers {
		step[p] = make(chan struct{}, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range step[p] {
				for i := range perRound {
					q.Push(i)
					if parked.Load() {
						select {
						case wake <- struct{}{}:
						default: // a wake-up is already pending
						}
					}
				}
			}
		}()
	}
	defer func() {
		for _, c := range step {
			close(c)
		}
		wg.Wait()
	}()

	parks := 0
	for round := range rounds {
		for _, c := range step {
			c <- struct{}{}
		}
		for got := 0; got < producers*perRound; {
			if _, ok := q.pop(); ok {
				got++
				continue
			}
			if !q.Empty() {
				runtime.Gosched() // reserved but not yet published
				continue
			}
			parked.Store(true)
			if !q.Empty() {
				parked.Store(false)
				continue
			}
			parks++
			select {
			case <-wake:
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: lost wake-up: parked with %d of %d values received, Len=%d",
					round, got, producers*perRound, q.Len())
			}
			parked.Store(false)
		}
	}
	t.Logf("%d rounds, consumer parked %d times", rounds, parks)
}
