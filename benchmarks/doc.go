// Package benchmarks holds hotloop's go test -bench suites that compare the
// seed design's locked path with hotloop's cached path, that measure the
// loop's operations at 1,000 and 1,000,000 pending timers, and that push
// back 100,000 and 1,000,000 idle timeouts (W8). It has no API:
// everything is in its _test.go files, and this file is its documentation.
//
// # Locked versus cached
//
// The PyLoop design note hotloop starts from (the seed design) asked "when
// is the next timer due?" on every iteration of its loop by locking the
// timer store, a BTreeMap behind a mutex, and reading its first key: 80-170
// ns per iteration by its own estimate. Its later refinements proposed
// instead an atomic cache of the earliest expiry, which the loop publishes
// and every reader loads without a lock, and an atomic has-timers flag.
// hotloop is built on both (package cache). Three suites put the two side
// by side in one process, so that a noisy machine affects both alike:
//
//   - BenchmarkNextExpiry/impl=locked/timers=N and
//     BenchmarkNextExpiry/impl=cached/timers=N, N in {0, 1, 100, 10000,
//     1000000}: the question alone. Locked is the seed's
//     calculate_sleep_duration as the seed replica in benchmarks/compare
//     does it: sync.Mutex, then the first key of a github.com/emirpasic/gods
//     red-black tree keyed by (expiry, sequence), then the sleep computed
//     from it; O(log N), as gods walks from the root to the first key.
//     Cached is cache.Expiry.SleepFor: the has-timers flag and the published
//     deadline, atomic loads, O(1). The cached side holds the same N
//     deadlines, in the wheel.Heap whose earliest deadline it publishes. The
//     cached stores are built once per N and shared by both suites; the
//     locked ones are dropped after each suite's locked runs and rebuilt,
//     because the testing package collects garbage before every run, which
//     takes longer than the run while a million-node gods tree is alive.
//
//   - BenchmarkNextExpiryContended/impl=locked/timers=N/writer=W and
//     .../impl=cached/...: the same question while another goroutine keeps
//     inserting and removing a timer. For locked, the writer does it under
//     the mutex, in the tree (as the seed's AfterFunc and Stop). For cached,
//     the writer, like hotloop's loop, owns a private wheel.Heap and
//     publishes its earliest deadline into the cache.Expiry whenever it
//     changed. With writer=head the writer's timer is earlier than all the
//     others, so every insertion and every removal changes the earliest
//     deadline and is published: the worst case for the cache, whose cache
//     line moves to the writer's core at every write. With writer=spread
//     its deadline is uniform among the pending ones, as a new timeout's
//     mostly is: the earliest deadline changes about twice in N+1 writes.
//     The metric writes/op is the writer's insert-and-remove steps per read.
//
//   - BenchmarkIteration/idle/impl=... (no timers) and
//     BenchmarkIteration/timers/impl=... (10,000 pending, none due): one pass
//     of the loop's hot path with nothing to do. Locked is the seed replica's
//     iteration: lock the callback mutex to take a batch (empty), lock the
//     timer mutex to collect expired timers (none), lock the callback mutex
//     again to ask whether callbacks wait, lock the timer mutex again to
//     compute the sleep. Cached is hotloop's iteration (core/run.go and the
//     park decision in core/park.go) with hotloop's own pieces: the control
//     word, queue.Inbox.Drain and queue.Ring.PopFront finding nothing, the
//     loop's private wheel.Heap asked for a due timer and its earliest
//     deadline (no lock: the loop owns it), and cache.Expiry.SleepFor plus
//     queue.Inbox.Empty to decide to park. The clock is read by both designs
//     in the same way, so both suites take now as an argument and leave the
//     clock read out. Neither suite counts the sleep or park itself.
//
// Package core's BenchmarkIdleIteration measures a real core.Loop's pass (its
// unexported iterate, with the counters and health bookkeeping this package
// leaves out); run it beside these with
//
//	go test -run '^$' -bench IdleIteration ./core
//
// # Operations at scale
//
// The per-operation suites run a real core.Loop holding pending=1000 or
// pending=1000000 timers, with the default heap (store=heap) and with the
// timing wheel (store=wheel, core.WithTimerStore(core.StoreWheel)). The
// pending timers are scheduled from inside the loop (Loop.Do, then
// Local().AfterFunc) with deadlines spread over one to two hours, so none
// fires during a run. One loop is built per store and pending count, shared
// by that suite's sub-benchmarks, and closed when they end. Every suite
// reports allocations; each op is one operation, with the loop's share of
// the work (its iterations, removals and firings) included:
//
//   - BenchmarkLocalPost: Local().Post from inside a callback, and running
//     the callback, in chains of 50,000 (W1 of WORKLOADS.md);
//   - BenchmarkPost/producers=P: Post from P = 1, 2, 8 other goroutines, ns
//     per callback run (W1x);
//   - BenchmarkAfterFuncStop/from=loop|other: schedule a timer 90 minutes
//     away (in the middle of the pending ones) and Stop it, from a callback
//     with Local().AfterFunc, or from another goroutine with Loop.AfterFunc,
//     until the loop has removed it (W6); AfterFunc allocates the Timer,
//     which nothing recycles;
//   - BenchmarkReset/from=loop|other: Reset a pending timer to 90 minutes,
//     until the loop has applied it: after a timer's first Reset each one
//     moves its deadline later, Reset's cheap path (no message);
//   - BenchmarkTimerFire: schedule an overdue timer from the loop and fire it
//     (with its lag recorded); with pending timers far in the future the due
//     one is always the earliest.
//
// Package core's benchmarks of the same names measure the same operations
// on a loop holding no other timers, most of them calling the loop's
// internals between operations; these hold 1k or 1M timers and go through
// the loop's real iterations only.
//
// # Idle timeouts pushed back (W8)
//
// BenchmarkW8 is W8 of WORKLOADS.md: N = 100000 or 1000000 timers of 5 s,
// every one pushed back to 5 s by Reset, round-robin, as a server pushes
// back each connection's idle timeout on every read. One op is one Reset.
// The timers are built once per implementation and N, outside the timing,
// and shared by its from= sub-benchmarks, each going on round-robin where
// the last run stopped:
//
//   - BenchmarkW8/impl=hotloop-heap|hotloop-wheel/N=…/from=…: a core.Loop
//     with the heap or the wheel, its N timers a []core.Timer set up with
//     Timer.Init (as a connection manager embeds one per connection) and
//     armed from the loop. from=loop resets from loop callbacks, 1,000 per
//     callback, with Timer.Reset; from=loop-local the same with
//     Local().Reset; from=4goroutines from 4 goroutines, each owning a
//     contiguous quarter of the timers, ns/op then being the wall time over
//     all their Resets. Each run ends with a Loop.Do barrier, so that it
//     is timed until the loop has applied every Reset; a Reset that moves
//     a deadline later, as all of these do, needs nothing from the loop
//     (one clock read and one compare-and-swap), which re-files the timer
//     only when its old filed deadline comes, 5 s after it was armed. A
//     run that reaches that moment (a long -benchtime, or -count) pays the
//     loop's re-filing of every timer once, and is slower by that much;
//   - BenchmarkW8/impl=gotimers/N=…/from=loop|4goroutines: the same with N
//     time.AfterFunc timers and time.Timer.Reset; Go timers have no loop,
//     so from=loop is one goroutine doing every Reset;
//   - BenchmarkW8/clock: one time.Since, the clock read every Reset makes,
//     so that a Reset can be read as a multiple of it.
//
// Every sub-benchmark reports allocs/op and early, the number of timers
// that fired, and fails if any did: none may, since each is pushed back
// long before it is due. benchmarks/compare runs W8 against goja, the seed
// replica and Node.js too.
//
// # Running
//
// From the repository root:
//
//	go test -run '^$' -bench 'NextExpiry|Iteration' -count=6 ./benchmarks/ > nextexpiry.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl nextexpiry.txt
//	go test -run '^$' -bench 'Post|AfterFuncStop|Reset|TimerFire' -benchmem -count=3 ./benchmarks/
//	go test -run '^$' -bench W8 -count=6 ./benchmarks/ > w8.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl w8.txt
//	go test -run '^$' -bench . -benchtime=1x ./benchmarks/   # every benchmark once (CI), about 20 s
//
// The sub-benchmark level that names the implementation is impl=locked or
// impl=cached, so that benchstat's -col /impl puts the two side by side, one
// row per N. docs/BENCHMARKS.md has the figures, the machine and the date.
package benchmarks
