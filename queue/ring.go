package queue

// minRingSize is the buffer length a Ring allocates on its first PushBack.
const minRingSize = 16

// Ring is a growable FIFO ring buffer for use by one goroutine (the loop's
// ready queue). It has no internal synchronisation. The zero value is an
// empty Ring ready to use.
//
// The buffer length is always zero or a power of two, so positions are
// reduced with a mask. PushBack doubles the buffer when it is full; nothing
// ever shrinks it except dropping the Ring.
type Ring[T any] struct {
	buf  []T // len(buf) is 0 or a power of two; slots outside the live range are zero
	head int // index in buf of the front element; meaningful only when n > 0
	n    int // number of elements
}

// PushBack appends v at the back of r. Amortised O(1): when the buffer is
// full it is doubled (O(n) copy, one allocation); it never shrinks on its own.
func (r *Ring[T]) PushBack(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// TryPushBack appends v at the back of r if the buffer has room, and reports
// whether it did; it never grows the buffer. O(1). Small enough for the
// compiler to inline, which PushBack (with its call to grow) is not: a hot
// caller can write
//
//	if !r.TryPushBack(v) {
//		r.PushBack(v)
//	}
func (r *Ring[T]) TryPushBack(v T) bool {
	n := r.n
	if n == len(r.buf) {
		return false
	}
	r.buf[(r.head+n)&(len(r.buf)-1)] = v
	r.n = n + 1
	return true
}

// grow doubles the buffer (or allocates the first one), unwrapping the
// elements so that the front is at index 0. O(n). Kept out of line so that
// PushBack stays small.
//
//go:noinline
func (r *Ring[T]) grow() {
	size := 2 * len(r.buf)
	if size == 0 {
		size = minRingSize
	}
	buf := make([]T, size)
	// The live range is buf[head:] followed by buf[:head] when it wraps;
	// since the ring is full (n == len) it covers the whole old buffer.
	k := copy(buf, r.buf[r.head:])
	copy(buf[k:], r.buf[:r.head])
	r.buf = buf
	r.head = 0
}

// PopFront removes and returns the front element of r; ok is false if r is
// empty. The vacated slot is zeroed so the garbage collector can free what
// the element points to. O(1).
func (r *Ring[T]) PopFront() (v T, ok bool) {
	if r.n == 0 {
		return v, false
	}
	var zero T
	v = r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v, true
}

// Len returns the number of elements in r. O(1).
func (r *Ring[T]) Len() int {
	return r.n
}
