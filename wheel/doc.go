// Package wheel holds hotloop's timer stores: the data structures that keep
// a loop's pending timers ordered by deadline. Package core keeps each
// Loop's timers in one of them; each can also serve on its own as the timer
// list of any program that owns a goroutine's worth of timers.
//
// # Entries
//
// A timer is an [Entry], an intrusive handle owned by the caller: the store
// links the caller's *Entry rather than copying it, so a timer is
// scheduled, rescheduled and cancelled without allocating and without a
// lookup. Entries are ordered by their key (When, Seq): the earlier deadline
// first, and among equal deadlines the lower sequence number first. Give
// every schedule a fresh Seq (a counter) and equal deadlines come out in
// the order in which they were scheduled.
//
// # Using a store on its own
//
// [Heap] and [Wheel] have the same five methods:
//
//   - Update(e, when, seq) schedules e at (when, seq), or moves it there if
//     it is already held;
//   - Remove(e) cancels e and reports whether it was held;
//   - Next() returns the earliest deadline held, an absolute time in the
//     caller's unit: sleep until then;
//   - PopDue(now) removes and returns the earliest entry if it is due at
//     now, else nil: call it until nil to fire what is due, in order;
//   - Len() returns the number of entries held.
//
// The ground rules:
//
//   - A store is not safe for concurrent use, and takes no lock: one
//     goroutine owns it (hotloop's loop goroutine owns its store, and hands
//     other goroutines' timer requests to it), or the caller serialises
//     access.
//   - An Entry stays at a fixed address while it is in a store (allocate
//     it, or embed it in a longer-lived struct) and is not copied. PopDue
//     returns the *Entry: to get back to the struct it is embedded in, keep
//     a pointer to that struct in its Value (an Entry[*conn], say).
//   - The zero Entry is in no store, and an entry is in at most one store
//     at a time ([Entry.InStore]). An entry that PopDue returned or Remove
//     removed is in no store again and may be scheduled again, in any
//     store. Update panics, changing nothing, for an entry that another
//     store holds.
//   - Update sets an entry's key; [Entry.When] and [Entry.Seq] read it.
//     An owner that numbers an entry before filing it may set the sequence
//     number of an entry in no store with [Entry.SetSeq].
//   - The zero Heap and the zero Wheel are empty and ready to use; neither
//     may be copied after first use.
//   - To empty a store, Remove the entries you hold, or drop the store.
//     PopDue(math.MaxInt64) also empties one, but it moves a Wheel's clock
//     to the end of time, after which every Update lands in its near heap
//     (a Wheel then costs what a Heap does): make a new Wheel instead.
//
// The package example shows the whole cycle.
//
// # Heap or Wheel
//
// [Heap] is the default: a 4-ary min-heap, the layout of Go's runtime
// timers. Update, Remove and PopDue are O(log n), Next is O(1); it has the
// least memory and overhead for small n.
//
// [Wheel] is a hierarchical timing wheel with exact deadlines, for stores
// holding 10^5 to 10^7 timers, most of them cancelled or reset before they
// fire (timeouts): Update and Remove are O(1), and PopDue is O(log m) for
// the m timers of the current 65.536 µs tick plus a bounded amount of
// refiling as its clock moves on. It gives exactly the results of a Heap:
// Next returns the exact earliest deadline, never a tick, and timers come
// out in (When, Seq) order. Its deadlines are meant as nanoseconds, and
// its clock follows the latest now given to PopDue. docs/WHEEL.md measures
// the two against each other and Go's runtime timers; docs/STORES.md
// measures the heap.
//
// Neither store allocates once warm: both reuse their memory and never
// shrink; drop a store to release it.
package wheel
