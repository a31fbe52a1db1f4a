package queue

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Drain + Gosched until Empty after Close, with producers that reserved a
// position before Close and publish it late (a sleeping stamp runs between
// reservation and publication): terminates, takes every accepted value.
func TestDrainUntilEmptyAfterCloseSlowPublish(t *testing.T) {
	for _, every := range []uint64{1, 2} {
		q := NewInbox(4, WithGrowth[int](8), WithStamp(every, func(*int) { time.Sleep(10 * time.Millisecond) }))
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 40; i++ {
					if q.Push(i) {
						accepted.Add(1)
					}
				}
			}()
		}
		time.Sleep(3 * time.Millisecond)
		q.Close()
		got := 0
		for !q.Empty() {
			if q.Drain(3, func(*int) { got++ }) == 0 {
				runtime.Gosched()
			}
		}
		wg.Wait()
		if int64(got) != accepted.Load() {
			t.Fatalf("every %d: drained %d, accepted %d", every, got, accepted.Load())
		}
		if q.Push(1) {
			t.Fatal("Push after Close accepted")
		}
	}
}

// WithStamp(0, f) is off; WithStamp(1, f) stamps every value, ring and
// overflow alike; nil options are ignored.
func TestWithStampEdges(t *testing.T) {
	var n int
	q := NewInbox(2, WithStamp(0, func(*int) { n++ }), nil)
	for i := 0; i < 10; i++ {
		q.Push(i)
	}
	if n != 0 {
		t.Fatalf("WithStamp(0) stamped %d", n)
	}
	n = 0
	q = NewInbox(2, WithStamp(1, func(v *int) { n++; *v = -*v - 1 }))
	for i := 0; i < 10; i++ {
		q.Push(i)
	}
	if n != 10 {
		t.Fatalf("WithStamp(1) stamped %d of 10", n)
	}
	q.Drain(100, func(v *int) {
		if *v >= 0 {
			t.Fatalf("unstamped value %d", *v)
		}
	})
	// every larger than 2^62 must not loop forever.
	q = NewInbox(2, WithStamp(math.MaxUint64, func(*int) {}))
	q.Push(1)
}

// Capacities: negative, zero, huge; growth factors: negative, huge.
func TestCapacityEdges(t *testing.T) {
	for _, c := range []int{math.MinInt, -1, 0, 1, 2} {
		if got := NewInbox[int](c).Cap(); got != 2 {
			t.Errorf("NewInbox(%d).Cap() = %d, want 2", c, got)
		}
	}
	for _, f := range []int{math.MinInt, -5, 0, 1} {
		q := NewInbox(4, WithGrowth[int](f))
		if q.maxCap != 4 {
			t.Errorf("WithGrowth(%d): maxCap %d, want 4", f, q.maxCap)
		}
	}
	for _, f := range []int{math.MaxInt, 1 << 40, 1 << 29, 3} {
		q := NewInbox(4, WithGrowth[int](f))
		if q.maxCap > maxCapacity || q.maxCap < 4 || q.maxCap&(q.maxCap-1) != 0 {
			t.Errorf("WithGrowth(%d): maxCap %d", f, q.maxCap)
		}
	}
	if got := ringCapacity(math.MaxInt); got != maxCapacity {
		t.Errorf("ringCapacity(MaxInt) = %d", got)
	}
}
