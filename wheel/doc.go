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
// [Store] is the small interface the loop programs against. There are three
// implementations:
//
//   - [Heap] is the default store: a 4-ary min-heap, the layout Go's
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
//   - [Wheel] is a hierarchical timing wheel for loops holding 10^5 to 10^7
//     timers, most of them cancelled or reset before they fire (timeouts):
//     Add, Remove and Update are O(1). It is described below.
//
//   - [Reference] is the model store: a red-black tree from
//     github.com/emirpasic/gods keyed by (When, Seq), plus an explicit
//     membership map. It is simple enough to be obviously correct and is
//     what Heap and Wheel are checked against (differential and fuzz tests);
//     it boxes keys and allocates on every insertion, so it is not for the
//     hot path. docs/STORES.md and docs/WHEEL.md compare their costs.
//
// # The wheel
//
// Deadlines are int64 nanoseconds; a Wheel maps each to a tick (the
// deadline, order-preserved into a uint64, divided by 2^16: a tick is
// 65.536 µs) and files it by tick in levels of 64 slots, as the Linux
// kernel's timer wheel, Kafka's and tokio's (tokio/src/runtime/time/wheel)
// do. The wheel keeps a position, the tick of the latest now given to
// PopDue. A timer whose tick is after the position goes into level L,
// where L is the highest 6-bit digit in which its tick differs from the
// position, and into slot number "its tick's digit L" of that level. Each
// level has a 64-bit occupied-slot bitmap, so the earliest occupied slot is
// found with two trailing-zero counts (lowest busy level, lowest set bit),
// with no scanning of empty slots. As the position moves on (PopDue), the
// slots it passes are emptied and their timers refiled relative to the new
// position on a lower level (cascading), until their tick comes.
//
// Unlike those wheels, which fire a whole slot at once and so round
// deadlines to a tick (tokio: 1 ms), a Wheel keeps exact deadlines: a timer
// whose tick has come leaves the wheel for the near heap, a [Heap] of the
// few timers of the current tick, from which PopDue takes them in exact
// (When, Seq) order. So a timer never fires early, equal deadlines fire in
// scheduling order, and [Wheel.Next] returns the exact earliest deadline,
// not a tick, exactly as with Heap: the loop still parks until precisely the
// next deadline and never ticks while idle. Next does not move the wheel's
// clock (it reads the earliest slot's cached minimum), so asking for the
// next deadline of a far-off timer does not push later schedules into the
// near heap.
//
// Geometry, and why:
//
//   - 64 slots per level, so that one uint64 is a level's bitmap.
//   - Eight levels: 64 - 16 = 48 bits of tick in 6-bit digits. Level L's
//     slots are 2^(16+6L) ns wide; level 0 spans 4.2 ms, level 1 268 ms,
//     level 2 17.2 s, level 3 18.3 min, level 4 19.5 h, level 5 52 days,
//     level 6 9.1 years and level 7 the rest of the int64 range. Eight
//     levels cover every int64 deadline, so there is no overflow list, no
//     wrap-around and no maximum delay (tokio's six 1 ms levels stop at about
//     two years).
//   - A 65.536 µs tick. The tick changes no deadline; it trades the number
//     of cascades against the size of the near heap. A timer due d from now
//     is refiled about log64(d / tick) times before it reaches the near heap;
//     the near heap holds the timers of one tick, rate × tick of them. A
//     service with 10^6 timeouts of 10 s schedules 10^5 timers per second:
//     with this tick about 7 share the near heap and a 10 s timeout starts on
//     level 2 (two cascades). A 1 ms tick would save at most one cascade for
//     such timeouts but put about 100 timers in the near heap; a 1 µs tick
//     would add a cascade to every timeout of 4 ms to 4 min.
//
// Storage: a slot's timers are kept in a chain of 32-pointer blocks cut
// from one arena slice shared by every slot, with emptied blocks reused
// through a free list. An Entry records its arena cell in its index field,
// so Remove and Update find it in O(1) and fill the hole with the slot's
// last pointer; and cascading walks pointers that sit side by side (the
// processor fetches many timers at once, where a linked list would take one
// cache miss at a time). The wheel adds no field to Entry; its memory is one
// pointer per filed timer plus up to one partly filled block per slot, the
// arena's growth slack and about 16 KiB of levels.
//
// Costs: Add, Remove and Update are O(1) for a timer filed in a slot, and
// O(log m) in the near heap of m timers. PopDue is O(log m) plus O(1) per
// occupied slot passed and per timer cascaded; a timer cascades at most once
// per level. Next is O(1), except after the earliest slot's cached minimum
// was removed, when that slot is rescanned once: O(k) for its k timers.
//
// # Checking
//
// Heap, Wheel and Reference have an unexported verify method that checks
// their invariants (for the heap: heap order, recorded positions, cached
// keys; for the wheel: every timer filed at the level and slot its key and
// the position call for, arena cells, blocks, bitmaps, counts and cached
// minimums, and the near heap). Tests call it after every operation; setting
// the package constant debug to true makes every mutating method call it too
// (and panic on failure), at O(n) per operation.
package wheel
