package queue

import "testing"

func TestRingZeroValue(t *testing.T) {
	var r Ring[int]
	if r.Len() != 0 {
		t.Fatalf("Len = %d, want 0", r.Len())
	}
	if v, ok := r.PopFront(); ok || v != 0 {
		t.Fatalf("PopFront on empty = (%v, %v), want (0, false)", v, ok)
	}
}

func TestRingFIFO(t *testing.T) {
	var r Ring[int]
	for i := range 1000 {
		r.PushBack(i)
	}
	if r.Len() != 1000 {
		t.Fatalf("Len = %d, want 1000", r.Len())
	}
	for i := range 1000 {
		v, ok := r.PopFront()
		if !ok || v != i {
			t.Fatalf("PopFront = (%v, %v), want (%d, true)", v, ok, i)
		}
	}
	if _, ok := r.PopFront(); ok {
		t.Fatal("PopFront on drained ring returned ok")
	}
}

// TestRingGrowAcrossWrap grows the buffer while the live range wraps past
// the end of the buffer, which is the case grow must unwrap.
func TestRingGrowAcrossWrap(t *testing.T) {
	var r Ring[int]
	next, want := 0, 0
	for range minRingSize {
		r.PushBack(next)
		next++
	}
	// Move head to the middle, then refill so the live range wraps.
	for range minRingSize / 2 {
		if v, _ := r.PopFront(); v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
		want++
	}
	for range minRingSize / 2 {
		r.PushBack(next)
		next++
	}
	if r.head == 0 || r.n != len(r.buf) {
		t.Fatalf("setup: head=%d n=%d len=%d, want wrapped and full", r.head, r.n, len(r.buf))
	}
	// This push grows the wrapped buffer; many more grow it again.
	for range 5 * minRingSize {
		r.PushBack(next)
		next++
	}
	if len(r.buf) != 8*minRingSize {
		t.Fatalf("len(buf) = %d, want %d", len(r.buf), 8*minRingSize)
	}
	for r.Len() > 0 {
		v, _ := r.PopFront()
		if v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d values, pushed %d", want, next)
	}
}

func TestRingWrapManyTimes(t *testing.T) {
	var r Ring[int]
	next, want := 0, 0
	for round := range 10000 {
		for range round%7 + 1 {
			r.PushBack(next)
			next++
		}
		for range round%5 + 1 {
			v, ok := r.PopFront()
			if !ok {
				break
			}
			if v != want {
				t.Fatalf("round %d: got %d, want %d", round, v, want)
			}
			want++
		}
	}
	if r.Len() != next-want {
		t.Fatalf("Len = %d, want %d", r.Len(), next-want)
	}
}

func TestRingZeroesVacatedSlots(t *testing.T) {
	var r Ring[*int]
	for range 10 {
		r.PushBack(new(int))
	}
	for range 4 {
		r.PopFront()
	}
	for i, p := range r.buf {
		live := i >= r.head && i < r.head+r.n
		if !live && p != nil {
			t.Fatalf("buf[%d] not zeroed after PopFront", i)
		}
	}
}

func TestRingAllocs(t *testing.T) {
	var r Ring[int]
	for i := range 100 {
		r.PushBack(i)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		r.PushBack(1)
		r.PopFront()
	})
	if allocs != 0 {
		t.Fatalf("Ring PushBack+PopFront allocates %v per run, want 0", allocs)
	}
}

// TestRingTryPushBack: TryPushBack fills the free slots, wrapping, and
// refuses rather than grows when the buffer is full; order is kept.
func TestRingTryPushBack(t *testing.T) {
	var r Ring[int]
	if r.TryPushBack(1) {
		t.Fatal("TryPushBack on a zero Ring (no buffer) returned true")
	}
	next, want := 0, 0
	r.PushBack(next) // allocates minRingSize slots
	next++
	for range minRingSize / 2 { // move head so that the live range wraps
		if !r.TryPushBack(next) {
			t.Fatalf("TryPushBack refused with Len %d of %d", r.Len(), len(r.buf))
		}
		next++
		if v, _ := r.PopFront(); v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
		want++
	}
	for r.Len() < len(r.buf) {
		if !r.TryPushBack(next) {
			t.Fatalf("TryPushBack refused with Len %d of %d", r.Len(), len(r.buf))
		}
		next++
	}
	if r.TryPushBack(next) {
		t.Fatal("TryPushBack on a full Ring returned true")
	}
	if len(r.buf) != minRingSize {
		t.Fatalf("len(buf) = %d, want %d: TryPushBack grew the buffer", len(r.buf), minRingSize)
	}
	r.PushBack(next) // grows
	next++
	for r.Len() > 0 {
		if v, _ := r.PopFront(); v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d values, pushed %d", want, next)
	}
}
