package core

import "github.com/hotloop/hotloop/queue"

// readyQueue is the loop's ready queue: callbacks and zero-delay timers, in
// the order they are to run. Owned by the loop goroutine.
//
// The common entry, a callback whose post was not sampled for the post-lag
// histogram, is a bare func() in fns: 8 bytes a slot, so that a burst of
// Local().Post moves a third of the memory that a full entry would. The
// other entry, a sampled post, is a nil in fns, which
// keeps its place in the order, and the entry itself in rare, which is in
// the same order: the k-th nil in fns is the k-th entry of rare. (A nil
// callback never reaches the queue: Post and Local().Post reject it.)
type readyQueue struct {
	fns  queue.Ring[func()] // every entry; nil for one that is in rare
	rare queue.Ring[entry]  // sampled posts, in order
}

// Len returns the number of entries queued. O(1).
func (q *readyQueue) Len() int { return q.fns.Len() }

// push appends e. O(1) amortised.
func (q *readyQueue) push(e entry) {
	if e.seq == 0 {
		q.fns.PushBack(e.fn)
		return
	}
	q.pushRare(e)
}

// pushRare appends e, which is not a plain callback, to rare, and its
// place holder to fns. O(1) amortised.
func (q *readyQueue) pushRare(e entry) {
	q.rare.PushBack(e)
	q.fns.PushBack(nil)
}

// pop removes and returns the front entry; ok is false if the queue is
// empty. O(1).
func (q *readyQueue) pop() (e entry, ok bool) {
	fn, ok := q.fns.PopFront()
	if !ok {
		return e, false
	}
	if fn != nil {
		return entry{fn: fn}, true
	}
	e, _ = q.rare.PopFront()
	return e, true
}
