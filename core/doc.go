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
// A goroutine that posts much — a network reader feeding the loop events —
// gets a lane of its own with [Loop.NewProducer]: posts through a
// [Producer] never contend with other goroutines' posts, where every
// Loop.Post appends to one shared inbox. Which to use:
//
//   - from a callback on the loop: Local().Post;
//   - from a goroutine that posts now and then: Loop.Post;
//   - from a few long-lived goroutines that post in bursts: a Producer each,
//     kept for the goroutine's life and closed when it ends.
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
// # How it runs
//
// Other goroutines reach the loop through a lock-free inbox: Post and
// AfterFunc take no lock (unless the inbox is full), and Timer.Stop and
// Timer.Reset are a compare-and-swap on the timer, plus a message only when
// the loop must act. Callbacks on the loop goroutine use [Loop.Local], with
// no atomic read-modify-write at all. Each iteration takes a bounded batch
// of messages, runs a bounded batch of ready callbacks and fires a bounded
// batch of due timers ([WithBatch]), so a flood of posts cannot starve
// timers nor a storm of timers starve callbacks. With nothing to do the loop
// parks until exactly the next deadline, or with no timers until woken: an
// idle loop makes no wake-ups. A post wakes a parked loop; a timer wakes it
// only if it is due before what the loop is already waiting for.
//
// By default the loop parks on the Go runtime's timers, which wake up to
// about a millisecond late on Linux; [WithPrecise] parks in
// the kernel with nanosecond timeouts instead, [WithSpin] busy-waits the
// last stretch, and [WithSlack] lets nearby deadlines share a wake-up. No
// mode fires a timer early: a timer fires only once the loop's clock has
// reached its deadline. The internals (the park protocol, the timer state
// word, the stores) are described in docs/DESIGN.md and in the code.
//
// # Timers
//
// A [Timer] behaves like a time.Timer made by time.AfterFunc: Stop and Reset
// work from any goroutine at any time, and Reset re-arms a timer that has
// fired or been stopped, reporting whether it was still armed. Keep one
// Timer for the life of a connection and Reset it on every read: embed it
// and set it up with [Timer.Init], and re-arming allocates nothing. Each
// Stop and Reset is one compare-and-swap on the timer; a Reset that moves
// the deadline later needs nothing more (no message, no wake-up): the loop
// notices the new deadline when the old one comes, so pushing back an idle
// timeout costs about one clock read.
package core
