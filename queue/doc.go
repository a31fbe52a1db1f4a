// Package queue provides the two FIFO queues the hotloop event loop is built
// on: [Inbox], a lock-free multi-producer single-consumer queue through which
// other goroutines post work to the loop, and [Ring], a growable ring buffer
// the loop uses as its own ready queue.
//
// # Using an Inbox
//
// Producers, any number of goroutines, call [Inbox.Push]; it never blocks
// and never drops a value, and reports false only once the inbox is closed.
// One consumer goroutine takes values with [Inbox.Drain], a run at a time,
// in the order their Pushes took effect (each producer's values in the order
// it pushed them). [Inbox.Close] stops new values; a consumer that calls
// Drain until [Inbox.Closed] and [Inbox.Empty] both report true has taken
// every accepted value. Drain may take nothing while Empty reports false:
// a producer is between reserving its place and writing it; yield and
// call Drain again.
//
//	q := queue.NewInbox[job](4096)
//	go func() { q.Push(j); ... }()   // producers
//	for !(q.Closed() && q.Empty()) { // the consumer
//		if q.Drain(256, handle) == 0 {
//			wait() // park until a producer wakes you, or yield
//		}
//	}
//
// # Waking a consumer
//
// Before it returns, every Push makes a sequentially consistent atomic
// read-modify-write or load on the inbox, and [Inbox.Empty] is a
// sequentially consistent load that reports false from then until the value
// is taken. So a consumer that stores a "sleeping" flag and then checks
// Empty, and a producer that pushes and then loads the flag, cannot both
// miss: a consumer can park with no lost wake-up (hotloop's loop does, in
// core/park.go).
//
// # Ring
//
// [Ring] is an ordinary growable circular buffer owned by one goroutine. It
// has no synchronisation at all.
package queue
