package core

import "time"

// WithPrecise makes the loop park in the kernel with nanosecond precision
// instead of on the Go runtime's timers, which wake up to about a
// millisecond late.
//
// On Linux, Run (and Shutdown when it runs the loop) locks the loop's
// goroutine to its OS thread for its whole duration, sets that thread's
// timer slack to 1 ns (prctl PR_SET_TIMERSLACK; the old value is restored and
// the thread unlocked when Run returns), and parks in a futex wait with a
// nanosecond timeout on CLOCK_MONOTONIC, the clock the loop reads; other
// goroutines wake it through the same futex. Timers then fire tens of
// microseconds late instead of hundreds, and a post wakes a parked loop a
// little faster.
//
// The cost: one OS thread is dedicated to the loop while it runs (Go
// schedules no other goroutine on it), each park and wake is a system call
// made outside the Go scheduler, and the 1 ns slack denies the kernel the
// chance to batch the loop's wake-ups with other work (slightly more power
// on a laptop, nothing measurable on a server). An idle loop still makes
// no wake-ups at all.
//
// While the loop waits in its futex, its thread keeps its P (the Go
// scheduler's processor), as in any system call, until the runtime's sysmon
// takes it back, which can take up to 10 ms when the process is otherwise
// idle. A goroutine a callback has just woken (a Do or PostWait caller, a
// channel receiver) may wait that long for a P if every P is held so. With
// as many precise loops as GOMAXPROCS (group.New(0, WithPrecise()) on a
// 2-vCPU machine), a Do caller resumed after its callback in 21 µs at p50
// but 3.3 ms at p99 (11 ms at worst), against 16 µs at p99 by default; with
// one precise loop, 0.16 ms. Leave a P free: run at most GOMAXPROCS-1
// precise loops, or raise GOMAXPROCS.
//
// On other systems WithPrecise changes nothing: the default parker (a
// runtime timer and a channel) is used. Do not use it inside a
// testing/synctest bubble, whose fake clock a futex cannot see.
func WithPrecise() Option {
	return func(c *config) { c.precise = true }
}

// WithSpin makes the loop park only until margin before each timer's
// deadline and then busy-wait on the clock for the rest, so that timers fire
// within a microsecond or two of their deadline instead of after the
// kernel's (or runtime's) wake-up delay. Posts still wake the loop at once
// while it spins. Combine it with [WithPrecise]: the precise parker wakes at
// most a few tens of microseconds late, so a margin of 100-200 µs covers it;
// the default parker needs about 1-2 ms.
//
// The cost is CPU: up to margin of one core's time for every wake-up on a
// timer (a 200 µs margin with 100 timer wake-ups a second is 2% of a core),
// and the loop holds its processor while it spins: a goroutine a callback
// has just woken may wait for the spin to end. Inside a testing/synctest
// bubble time moves only while every goroutine in it is blocked, so a spin
// would never end; the loop notices the clock standing still and parks
// instead, but spinning there only costs CPU: leave it out of such tests.
// With a FakeClock ([WithClock]) it is ignored: virtual time moves only
// when Advance moves it, so there is nothing to spin for. A margin <= 0
// turns spinning off (the default).
func WithSpin(margin time.Duration) Option {
	return func(c *config) {
		if margin < 0 {
			margin = 0
		}
		c.spin, c.spinAuto = int64(margin), false
	}
}

// WithAdaptiveSpin is [WithSpin] with a margin the loop learns instead of
// one fixed by hand: after every timed park it records how late the
// parker woke, and parks each time until the 99th percentile of those
// overshoots (plus 2 µs) before the deadline, spinning the rest; it starts
// at 200 µs and never exceeds 1 ms. On a machine whose parker wakes within
// a few tens of microseconds (WithPrecise on Linux), that gives WithSpin's
// sub-microsecond medians for the CPU of the overshoots' spread, not of a
// worst-case margin (docs/PRECISION.md measures both). One timer wake-up in
// a hundred can still come late, by as much as the parker's worst case.
// When the margin is as long as the whole wait (timers closer together than
// the parker's p99 delay), the loop spins the whole wait, and parks one
// such wait in 16 for half its length to keep learning. Like WithSpin, it
// is ignored with a FakeClock and is no use in a testing/synctest bubble.
// WithSpin and WithAdaptiveSpin replace each other: the last one given
// applies.
func WithAdaptiveSpin() Option {
	return func(c *config) { c.spin, c.spinAuto = 0, true }
}

// WithBusyPoll makes the loop, once it has run out of work, keep looking
// for new work for up to d before it parks. A post that arrives within d
// runs at once: the poster's wake-up is one atomic swap with no system
// call, and the loop's CPU never sleeps, which on a virtual machine is where
// most of a wake-up's latency goes (the host must wake a halted virtual CPU).
// A timer due within d is busy-waited for, as [WithSpin] does, and fires
// within a microsecond or two of its deadline.
//
// Use it, with [WithPrecise], for loops that answer each other in quick
// succession: request and reply between the loops of a group, a loop fed
// by a goroutine that posts every few microseconds. docs/GROUP.md measures
// what it does to a hop between two loops.
//
// The cost is CPU: up to d of one core for every park that no post or
// timer ends early (a 50 µs poll on a loop that parks 1,000 times a second
// is 5% of a core), and the loop holds its processor while it polls, so a
// goroutine one of its callbacks has just woken may wait for the poll to
// end. Health counts the time polled as idle. Like WithSpin it is ignored
// with a FakeClock ([WithClock]) and is no use in a testing/synctest
// bubble, where the loop notices the clock standing still (after 10,000
// readings) and parks until the poll's end, one extra wake-up of the
// bubble per park. A poll longer than about a millisecond mostly costs
// other goroutines: one a callback wakes can wait until the poll ends or
// the Go scheduler preempts the loop. A d <= 0 turns polling off (the
// default).
func WithBusyPoll(d time.Duration) Option {
	return func(c *config) { c.poll = max(int64(d), 0) }
}

// WithSlack lets timers whose deadlines fall within the same tolerance-long
// window share one wake-up: the loop wakes at the end of the window that
// holds the earliest deadline (deadlines are rounded up to a multiple of
// tolerance on the loop's clock), and fires every timer due by then.
//
// The trade-off is precision for CPU and power: a timer fires up to
// tolerance late (never early), and a loop with many timers wakes at most
// once per tolerance. Use it for housekeeping timers (expiry sweeps,
// heartbeats) where a few milliseconds do not matter. A tolerance <= 0 turns
// coalescing off (the default). WithSlack applies to the deadline the loop
// parks until; with [WithSpin] the spin ends at the rounded deadline. It is
// ignored on a FakeClock ([WithClock]), whose Advance fires every timer as
// it falls due.
func WithSlack(tolerance time.Duration) Option {
	return func(c *config) {
		if tolerance < 0 {
			tolerance = 0
		}
		c.slack = int64(tolerance)
	}
}
