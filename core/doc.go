// Package core is hotloop's event loop: one goroutine runs callbacks and
// timers in order, and parks until exactly the next timer is due when it has
// nothing to do.
//
// # Using it
//
//	l := core.New()
//	go l.Run(ctx)                        // the loop goroutine
//	l.Post(func() { ... })               // from any goroutine
//	t, _ := l.AfterFunc(time.Second, fn) // from any goroutine
//	t.Stop()
//	l.Close()                            // runs what was accepted, cancels timers
//
// Inside a callback, the loop's own goroutine may use the unsynchronised
// fast path returned by [Loop.Local]: Local().Post appends to the loop's
// ready queue with no lock and no atomic read-modify-write, like asyncio's
// call_soon beside call_soon_threadsafe.
//
// # Testing with virtual time
//
// Two ways, both without sleeping. With [WithClock] and a [FakeClock], the
// loop reads the fake clock and parks on it; [FakeClock.Advance] fires what
// falls due in deadline order, each timer with the clock at its deadline,
// and returns once the loop is idle again (see ExampleFakeClock: a 30 s
// idle timeout tested in microseconds). Or create the Loop inside a
// testing/synctest bubble: the default parker is a channel and a runtime
// timer, so the loop parks durably there and time.Sleep in the bubble moves
// the bubble's clock; call synctest.Wait before looking at what ran. A Loop
// created outside the bubble and used inside it does not work (its timer
// and channel belong to no bubble, or to another).
//
// # Observing the loop
//
// [Loop.Health] returns, without waiting for the loop, the counters of
// [Loop.Stats], busy and idle time (utilisation, as Node's
// eventLoopUtilization), and log-linear histograms of timer lag (every
// timer), post lag (one post in 1024 by default: [WithLagSampling]) and
// batch sizes. [WithSlowCallback] names callbacks that run too long.
// Package expvarloop publishes Health through expvar; ExampleLoop_Health
// writes it in Prometheus' text format with no dependency.
//
// # Design
//
// Work reaches the loop in two ways. Other goroutines push messages (a
// callback, a new timer, a Stop or Reset) into a lock-free multi-producer
// inbox (package queue). The loop goroutine itself appends callbacks to
// plain ring buffers, its ready queue, and inserts timers straight into its
// timer store (package wheel), which no other goroutine touches and which
// therefore needs no lock.
//
// Each iteration of the loop:
//
//  1. drains a bounded batch of the inbox into the ready queue and the timer
//     store;
//  2. runs a bounded batch of ready callbacks;
//  3. fires the timers that are due (at most a batch of them);
//  4. publishes the earliest deadline to the expiry cache (package cache)
//     if it changed;
//  5. if nothing is ready, parks until that deadline, or until woken if there
//     are no timers.
//
// Because batches are bounded, a flood of posts cannot starve timers and a
// storm of due timers cannot starve callbacks.
//
// # Park and wake protocol
//
// Fields: parked (an atomic flag), the inbox's tail (atomic, advanced by
// producers) and the expiry cache (atomic, written by the loop).
//
// The loop parks like this: it publishes the expiry cache, stores
// parked=true, then asks the inbox whether anything was pushed; if so it
// stores parked=false and goes round again; otherwise it blocks on its wake
// channel and on a timer set to the published deadline. (Before the store
// it takes an early look at the inbox and goes round at once if something
// is there, and it reads the clock only when a timer is pending: both only
// save work, the check after the store is the one that counts.)
//
// A producer pushes its message (an atomic read-modify-write on the inbox's
// tail), then loads parked; if it is set and the producer must wake the
// loop, it swaps parked from true to false and, having won that swap, sends
// one token on the wake channel (buffered, capacity 1).
//
// All of these atomics are sequentially consistent, so in their single total
// order either the loop's "inbox empty?" check comes after the producer's
// push (the loop sees the message and does not block) or the producer's load
// of parked comes after the loop's store (the producer sees parked=true and
// wakes it). No wake-up is lost. Exactly one party wins the swap of parked
// back to false: if a deadline ends the park first, the loop wins and no
// token is sent; if a producer wins, the loop, woken by its deadline, waits
// for that producer's token so that none is left over to cause a spurious
// wake-up later.
//
// A producer that schedules a timer wakes the loop only if its deadline is
// earlier than the published one (cache.Expiry.Before): the loop is parked
// no later than the published deadline, and when it wakes it drains the
// inbox and so finds the new timer. A stale published deadline errs early
// (an extra wake-up) or is re-published before the loop re-checks the inbox
// (no wake-up needed).
//
// The blocking itself is behind a parker: by default a channel and a
// runtime timer; with [WithPrecise] on Linux a futex on a locked thread with
// 1 ns timer slack (its own protocol is stated in park_futex_linux.go).
// [WithSpin] and [WithSlack] only move the moment the loop stops waiting
// later; a timer fires only once the loop's clock has reached its deadline,
// so no mode fires early (docs/PRECISION.md).
//
// # Timers
//
// A [Timer] behaves like a time.Timer made by time.AfterFunc: Stop and Reset
// work from any goroutine at any time, and Reset re-arms a timer that has
// fired or been stopped, reporting whether it was still armed. Keep one
// Timer for the life of a connection and Reset it on every read: embed it
// and set it up with [Timer.Init], and re-arming allocates nothing. Each
// Stop and Reset is one compare-and-swap on the timer's state word, which
// holds its deadline; a Reset that moves the deadline later needs nothing
// more (no message, no wake-up), because the loop re-files the timer when
// its old deadline comes, so pushing back an idle timeout costs about one
// clock read. The protocol, and why it is linearizable, is stated in
// timer.go.
package core
