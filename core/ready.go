package core

import "github.com/hotloop/hotloop/queue"

// readyQueue is the loop's ready queue: the callbacks to run, in order.
// Loop goroutine only. Every access to its two rings goes through the
// methods below, which keep its invariant.
//
// The common entry, a callback whose post was not sampled for the post-lag
// histogram, is a bare func() in fns: 8 bytes a slot, so that a burst of
// Local().Post moves a third of the memory that a full entry would. The
// other entry, a sampled post, is a nil in fns, which keeps its place in
// the order, and the entry itself, with its stamp, in rare.
//
// Invariant: the k-th nil in fns is the k-th entry of rare; so rare holds
// as many entries as fns holds nils. (A nil callback never reaches the
// queue: Post and Local().Post reject it.)
type readyQueue struct {
	fns  queue.Ring[func()] // every entry; nil for one that is in rare
	rare queue.Ring[entry]  // sampled posts, in order
}

// entry is a sampled post in the ready queue: its callback, and its stamp,
// 1 + the loop clock at the post (health.go: postStamp, stampPost).
type entry struct {
	fn    func()
	stamp uint64
}

// Len returns the number of entries queued. O(1).
func (q *readyQueue) Len() int { return q.fns.Len() }

// push appends fn with its post's stamp: 0 for an unsampled post, else
// 1 + the loop clock at the post. O(1) amortised.
func (q *readyQueue) push(fn func(), stamp uint64) {
	if stamp == 0 {
		q.fns.PushBack(fn)
		return
	}
	q.rare.PushBack(entry{fn: fn, stamp: stamp})
	q.fns.PushBack(nil)
}

// tryPush appends fn, an unsampled post, if the ring has room, and reports
// whether it did; if not, the caller uses push, which grows it. O(1).
// Inlined: Local().Post's fast path is one store into the ring.
func (q *readyQueue) tryPush(fn func()) bool { return q.fns.TryPushBack(fn) }

// pop removes the front entry and returns its callback; ok is false if the
// queue is empty. For a sampled post it returns a nil fn, and the caller
// takes the callback and its stamp from popStamped before anything else
// touches the queue. O(1). Inlined: one load from the ring.
func (q *readyQueue) pop() (fn func(), ok bool) { return q.fns.PopFront() }

// popStamped returns the callback and stamp of the sampled post whose
// place holder pop has just returned. O(1).
func (q *readyQueue) popStamped() (fn func(), stamp uint64) {
	e, ok := q.rare.PopFront()
	if debugReady && !ok {
		panic("hotloop: internal error: the ready queue's invariant is broken (a nil in fns with rare empty)")
	}
	return e.fn, e.stamp
}

// popAny is pop for paths that are not hot (finish): it takes a sampled
// post's callback from rare itself. O(1).
func (q *readyQueue) popAny() (fn func(), ok bool) {
	if fn, ok = q.pop(); fn == nil && ok {
		fn, _ = q.popStamped()
	}
	return fn, ok
}

// debugReady makes the ready queue check its invariant as it goes.
const debugReady = false
