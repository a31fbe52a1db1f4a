// Package wheel holds hotloop's timer stores: the data structures that keep
// a loop's pending timers ordered by deadline.
//
// # Ownership
//
// A hotloop event loop is a single goroutine, and that goroutine alone owns
// its timer store. Nothing in this package is safe for concurrent use and
// nothing in it takes a lock: cross-goroutine timer requests are handed to
// the loop first (by core), and the loop applies them to its store.
//
// # Entries
//
// A timer is represented by an [Entry], an intrusive handle owned by the
// caller: the store links the caller's *Entry rather than copying it, so a
// timer can be added, rescheduled and removed without allocating and without
// a lookup. Entries are ordered by (When, Seq): the earlier deadline first,
// and among equal deadlines the lower scheduling sequence number first. The
// owner gives every schedule a fresh Seq, so the order of equal deadlines is
// the order in which they were scheduled. An Entry records whether it is held
// by a store ([Entry.InStore]); the zero Entry is held by none. While an entry
// is held, its owner changes When and Seq only through [Store.Update], and
// must not copy it.
//
// # Stores
//
// [Store] is the small interface the loop programs against. There are two
// implementations:
//
//   - [Heap] is the production store: a 4-ary min-heap, the layout Go's
//     runtime uses for its timers (src/runtime/time.go). A 4-ary heap is half
//     as deep as a binary heap, so sift-up (Add, and Update towards an earlier
//     deadline) touches half as many levels, and the four children compared
//     by sift-down sit next to each other in memory. As in the runtime, each
//     heap slot caches the entry's key next to the entry pointer, so
//     comparisons never dereference an Entry. Unlike the runtime, which
//     deletes lazily, each Entry tracks its own position in the heap, so
//     Remove and Update are O(log n) removals and fixes in place, with no
//     tombstones left behind. Its backing slice is reused: in steady state
//     Add, Remove, Update and PopDue do not allocate.
//
//   - [Reference] is the model store: a red-black tree from
//     github.com/emirpasic/gods keyed by (When, Seq), plus an explicit
//     membership map. It is simple enough to be obviously correct and is
//     what Heap is checked against (differential and fuzz tests); it boxes
//     keys and allocates on every insertion, so it is not for the hot path.
//     docs/STORES.md compares their costs.
//
// A later version adds a hierarchical timing wheel as a third Store; Entry
// leaves room for its fields.
//
// # Checking
//
// Heap has an unexported verify method that checks the heap invariant, the
// entries' recorded positions and the cached keys. Tests call it after every
// operation; setting the package constant debug to true makes every mutating
// method call it too (and panic on failure), at O(n) per operation.
package wheel
