// Package queue provides the two FIFO queues the hotloop event loop is built
// on: [Inbox], a lock-free multi-producer single-consumer queue through which
// other goroutines post work to the loop, and [Ring], a growable ring buffer
// the loop uses as its own ready queue.
//
// # Inbox design
//
// An Inbox is a ring of 2^k slots plus an unbounded overflow slice. The
// ring follows Dmitry Vyukov's bounded MPMC queue specialised to a single
// consumer, except that the consumer hands slots back by advancing one
// word, head, rather than by writing every slot. Position p lives in slot
// p & mask. Every slot carries a publication mark, seq, written only by
// producers:
//
//	seq == p+1        published: position p holds a value for the consumer
//	anything else     not published (never written, or a mark of an
//	                  earlier lap, p-k*cap+1, whose value is gone)
//
// Position p is free for a producer once head > p-cap, that is once the
// consumer has popped position p-cap, the slot's previous occupant.
//
// A producer loads head, then tail (so that head <= tail), and if tail-head
// < cap reserves position p = tail with a compare-and-swap of tail from p to
// p+1; it then writes the value into the slot and publishes it by storing
// seq = p+1. The consumer owns head; it loads the mark of the slot at head,
// and if it equals head+1 it takes the value, zeroes the slot (so the
// garbage collector can free what the value pointed to) and moves on; Drain
// stores head once after a run of values, which saves an atomic store per
// value. Two happens-before edges make the plain accesses to a slot's value
// safe: the producer's store of seq = p+1 before the consumer's load of it
// orders the write of the value before its read; and the consumer's store of
// head > p-cap, loaded by the producer before its reservation, orders the
// consumer's clearing of the slot's previous value before the producer's
// write. A head loaded late only makes the ring look fuller than it is,
// which is safe: Push looks twice before it takes the slow path.
//
// # Overflow
//
// Push never blocks and never drops a value. When the ring is full a
// producer takes the slow path: under Inbox.mu it sets the overflow flag and
// appends the value to the overflow slice. The flag is the top bit of the
// tail word itself, so "reserve a ring position" and "the flag is clear" are
// one atomic fact: a reservation is a CAS from a tail word whose flag is
// clear, and it fails if the flag was set in between. While the flag is set
// tail does not move and every Push appends to the overflow. Only the
// consumer clears the flag, and it does so under mu, in the same critical
// section in which it takes the whole overflow slice as a batch. The consumer
// takes the overflow only when the flag is set and its head has reached the
// frozen tail position, that is, once every ring position reserved before
// the flag was set has been consumed; and it delivers the whole batch before
// it looks at the ring again.
//
// Growth. With [WithGrowth], the consumer, when it takes an overflow
// batch of at least a quarter of the ring's capacity, installs a larger
// ring (Inbox.ring, an atomic pointer) in the same critical section, before
// it clears the flag. At that moment the ring is empty (head has reached the
// frozen tail) and no position can be reserved (the flag is set), so
// nothing needs moving. Producers use the ring they loaded before their
// reservation only to check for room (an older ring is smaller, which only
// errs towards full), and load the ring again after the reservation CAS to
// write the value: a CAS that succeeds on the cleared tail follows the
// consumer's store of that tail, hence its store of the new ring; a CAS
// that succeeded before the flag was set reserved a position below the
// frozen tail, which the consumer popped from the old ring before growing
// it. So every value is written into the ring the consumer reads it from.
//
// Invariants: (I1) a value is appended to the overflow only under mu and
// only while the flag is set (the appender sets it if needed), so the
// overflow is non-empty only while the flag is set; (I2) only the consumer
// clears the flag, under mu, exactly when it takes the overflow; (I3) while
// the flag is set no ring position is reserved.
//
// Per-producer FIFO. Let one producer push a and then b. There are four
// cases.
//
//   - ring, ring: a's position is smaller than b's (tail only grows), and the
//     consumer pops ring positions in order.
//   - overflow, overflow: both are appended under mu in program order; a batch
//     is delivered in slice order, and batches in the order they were taken.
//   - ring, overflow: a was reserved by a CAS that saw the flag clear; b was
//     appended later with the flag set. So the flag was set (again) after a's
//     reservation, and by (I3) the frozen tail is beyond a's position. The
//     batch containing b is taken only when head has reached that tail, so a
//     has already been popped.
//   - overflow, ring: a was appended with the flag set; b's reservation CAS
//     later saw it clear. By (I2) the consumer cleared it in between, while
//     taking the overflow under mu, and by mutual exclusion that batch
//     already contained a. The consumer delivers the whole batch, a
//     included, before it pops the ring again, so before b.
//
// Values from different producers are ordered only by when their Push
// linearises; the queue promises nothing more.
//
// # Waking a consumer
//
// Every Push performs a sequentially consistent read-modify-write or load
// of tail before it returns (the CAS that reserves a position, the CAS that
// sets the overflow flag, or the load that sees the flag set), and
// [Inbox.Empty] is a sequentially consistent load of tail that reports false
// from then until the value is taken, so a consumer that stores a flag then
// checks Empty and a producer that pushes then loads the flag cannot both
// miss. The loop's park protocol is stated in core/park.go.
//
// Empty reports false as soon as a position is reserved, before the value is
// published, so the consumer may briefly see Empty() == false while Drain
// takes nothing; it should yield and retry, as the producer is between its
// reservation and its publication.
//
// # Ring
//
// [Ring] is an ordinary growable circular buffer owned by one goroutine. It
// has no synchronisation at all.
package queue
