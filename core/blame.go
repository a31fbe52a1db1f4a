package core

import (
	"time"

	"go.uber.org/atomic"
)

// This file is lateness blame's one home: how the loop splits each fired
// timer's lateness into where the time went (always, for the sums in
// Health), and, with WithLateTimer, which callback held a late timer up
// most.
//
// # The split
//
// A timer with deadline w and filed key k (k = w, or w rounded up to its
// leeway's window) fires when the loop, at a look at its timers (fireDue,
// clock reading lookAt), pops it and calls it at f: f = lookAt, or, when
// callbacks are timed (WithLateTimer, WithSlowCallback), the end of the
// callback (or hook) that ran just before it in the same look. Its
// lateness f - w is cut at three instants:
//
//   - a, the end of the lateness it allows: k rounded up to WithSlack's
//     multiple (the loop parks until then), at most f.
//   - seen, when the loop first knew the timer was due: lookAt, or, if an
//     earlier look left due timers unfired (WithBatch's bound), the later
//     of a and the start of that earlier look (behindSince): from then on
//     the loop is behind, and all of a timer's wait is backlog. Never
//     before a, nor after f.
//   - the loop's last park, [parkedAt, wokeAt] (markIdle and markBusy; a
//     stretch with no owner, from release to the next acquire, counts as a
//     park).
//
// Then Allowed = a - w; Park = the overlap of [a, seen] with the last
// park; Callbacks = the rest of [a, seen]; Backlog = f - seen. The four
// add up to f - w exactly, which is the lag TimerLag records, so the sums
// in Health add up to TimerLag's sum. Every input is a reading the loop
// takes anyway: the split costs a few compares and adds per fired timer.
//
// # Blame
//
// With WithLateTimer every callback is timed (two clock readings) and its
// span [start, end) kept, with its function's entry PC, in a ring of the
// last blameSpans spans; so is each run of the hook. A timer late by the
// threshold or more is blamed on the span that overlaps [a, f) most: the
// callback that took the largest share of its unallowed lateness.
// Callbacks run one at a time, so the spans are in order and disjoint.

// LateTimer describes a timer that fired late, for the hook of
// [WithLateTimer]. Late = Allowed + Park + Callbacks + Backlog.
type LateTimer struct {
	// Name is the function name of the late timer's callback (as
	// [WithSlowCallback] names callbacks: runtime.FuncForPC's, for example
	// "main.(*conn).expire-fm" or "main.main.func1").
	Name string

	// Late is how long after its deadline the timer's callback started.
	Late time.Duration

	// Allowed is the part of Late the timer allowed: its leeway
	// ([Timer.SetLeeway]) and the loop's [WithSlack], as far as they were
	// used. Nothing to fix.
	Allowed time.Duration

	// Park is the part during which the loop was waiting when it could
	// have been running the timer: parked and woken late (the wake-up delay
	// of the parker and the machine; by default the Go runtime's timers
	// wake up to a millisecond late, see [WithPrecise]), in WithSpin's busy
	// tail or WithBusyPoll's poll, or not run at all (between a Pause and the
	// next Run).
	Park time.Duration

	// Callbacks is the part during which the loop was running callbacks
	// before it looked at its timers: the callback running at the
	// deadline, and the callbacks the loop ran before its next look at
	// its timers. Each iteration runs the callbacks ready at its start
	// before it fires due timers, so this includes posts that arrived after
	// the deadline, while the loop was still parked or busy.
	Callbacks time.Duration

	// Backlog is the part during which the timer was known to be due but
	// waited: behind timers due no later than it (they fire in deadline
	// order, each callback in full), or for a later iteration because one
	// iteration fires at most [WithBatch] timers. Without timed callbacks
	// ([WithLateTimer], [WithSlowCallback]) the loop reads the clock once
	// per look at its timers, so a wait behind the timers of the same look
	// is not measured (TimerLag shows the look's lag) and Backlog holds
	// only WithBatch's overflow.
	Backlog time.Duration

	// Blocker is the function name of the callback (a post, another timer,
	// or this hook itself) that ran longest between the end of Allowed and
	// the start of the timer's callback: the one that took the largest
	// share of the lateness. It is "" if none of the last 64 callbacks ran
	// in that time (the loop was parked, or more than 64 callbacks ran
	// since). Callbacks run through [Loop.Do] are named after Do's wrapper.
	Blocker string

	// BlockerRan is how long Blocker ran in all, 0 if Blocker is "".
	BlockerRan time.Duration
}

// WithLateTimer reports timers whose callback starts threshold or more
// after their deadline: once such a timer's callback has run, hook
// receives a [LateTimer] saying how late the timer was, where the time
// went, and which callback held it up most. A threshold of 0 reports every
// timer, those on time too; below 0 is treated as 0. A nil hook turns
// reporting off. The count appears in [Health].LateTimers.
//
// hook runs on the loop goroutine and may use Local; its own run time
// counts toward the lateness of timers after it (as a Blocker, by the
// hook's name), not as a slow callback. A panic in hook goes to the panic
// handler ([WithPanicHandler]) and counts in [Stats].Panics; the loop goes
// on, and a periodic timer keeps ticking.
//
// Enabling it costs two clock readings per callback (posts and timers), as
// [WithSlowCallback] does (the two share them), and it makes
// [Health].TimerLag exact for every timer: a timer held up by a timer
// ahead of it in the same batch shows its own lag, not the batch's.
func WithLateTimer(threshold time.Duration, hook func(LateTimer)) Option {
	return func(cfg *config) {
		cfg.health.lateThreshold = max(int64(threshold), 0)
		cfg.health.lateHook, cfg.health.latePC = hook, 0
		if hook != nil {
			cfg.health.latePC = funcPC(hook)
		}
	}
}

// blameSpans is how many callback spans WithLateTimer keeps (a power of
// two).
const blameSpans = 64

// span is one timed run on the loop, a callback's or the hook's: [start,
// end) on the loop clock, and the entry PC of its function (a PC rather
// than the func, so that the ring keeps no closure reachable).
type span struct {
	start, end int64
	pc         uintptr
}

// lateParts is a timer's lateness, split (see the file comment).
type lateParts struct {
	allowed, park, callbacks, backlog int64
}

// blame is the loop's lateness accounting. Loop goroutine only, except
// the published sums (pub, written by flush, read by Health) and reported.
type blame struct {
	parkedAt int64 // loop clock when the loop last parked or was let go (markIdle, markReleased)
	wokeAt   int64 // loop clock when the loop last woke or was taken (markBusy)
	lookAt   int64 // loop clock at the current look at the timers (fireDue)

	// behindSince is the clock at the start of the first of a run of looks
	// that each left due timers unfired (WithBatch's bound), or -1 if the
	// last look fired every due timer. Cleared when the loop is let go.
	behindSince int64

	lastEnd int64 // end of the last timed run (call, reportLate); WithLateTimer, WithSlowCallback

	// Lateness of every fired timer, split: the loop's running sums, and
	// the values flush last published (with TimerLag's sum, under
	// health.sumVer, so that a snapshot's parts add up to its sum).
	sum   lateParts
	pub   [4]atomic.Int64 // allowed, park, callbacks, backlog
	dirty bool            // sum changed since flush

	spans [blameSpans]span // WithLateTimer: the last timed runs, spans[(spanN-1) % blameSpans] the newest
	spanN uint64           // runs recorded in spans, in all

	// report is the late timer that fire found, for fireDue to hand to
	// the WithLateTimer hook once the timer's callback has run (and a
	// periodic timer is filed again); reporting says it is there.
	report    LateTimer
	reporting bool

	reported atomic.Uint64 // timers reported to the WithLateTimer hook
}

// init readies b for New.
func (b *blame) init() { b.behindSince = -1 }

// flush publishes the sums. Loop goroutine only, with health.flush.
func (b *blame) flush() {
	if b.dirty {
		b.dirty = false
		b.pub[0].Store(b.sum.allowed)
		b.pub[1].Store(b.sum.park)
		b.pub[2].Store(b.sum.callbacks)
		b.pub[3].Store(b.sum.backlog)
	}
}

// endLook records how a look at the timers that began at lookAt ended:
// with due timers left unfired (more, now the look's start) or not.
// Loop goroutine only, from fireDue.
func (b *blame) endLook(more bool) {
	switch {
	case !more:
		b.behindSince = -1
	case b.behindSince < 0:
		b.behindSince = b.lookAt
	}
}

// split divides the lateness f-w of a timer with deadline w and filed key
// k, whose callback starts at f, on a loop with WithSlack's slack (see the
// file comment), adds the parts to the sums, and returns them with a, the
// end of the allowed part. Loop goroutine only. O(1).
func (b *blame) split(w, k, f, slack int64) (p lateParts, a int64) {
	k = min(max(k, w), f) // a key is never before its deadline, and fired keys have passed
	a = min(coalesce(k, slack), f)
	seen := b.lookAt
	if b.behindSince >= 0 {
		seen = max(a, b.behindSince)
	}
	seen = min(max(seen, a), f)
	if lo, hi := max(a, b.parkedAt), min(b.wokeAt, seen); hi > lo {
		p.park = hi - lo
	}
	p.allowed = a - w
	p.backlog = f - seen
	p.callbacks = seen - a - p.park
	b.sum.allowed += p.allowed
	b.sum.park += p.park
	b.sum.callbacks += p.callbacks
	b.sum.backlog += p.backlog
	b.dirty = true
	return p, a
}

// addSpan records a timed run of the function at pc. Loop goroutine only.
// O(1).
func (b *blame) addSpan(start, end int64, pc uintptr) {
	b.spans[b.spanN%blameSpans] = span{start, end, pc}
	b.spanN++
}

// blocker returns the recorded run that overlaps [from, to) most, if any
// does: the newest of equals. Loop goroutine only. O(blameSpans).
func (b *blame) blocker(from, to int64) (span, bool) {
	var best span
	most := int64(0)
	for i := uint64(1); i <= min(b.spanN, blameSpans); i++ {
		s := b.spans[(b.spanN-i)%blameSpans]
		if s.end <= from {
			break // the spans are in order: every older one ended earlier
		}
		if o := min(s.end, to) - max(s.start, from); o > most {
			best, most = s, o
		}
	}
	return best, most > 0
}

// timerLate accounts for the lateness of a timer about to fire (deadline
// w, filed key k, in the look that began at now): it records the lag and
// its split, and if the timer is late enough for the WithLateTimer hook,
// sets its report aside for fireDue (reportLate). fn is the timer's
// callback. Loop goroutine only.
func (l *Loop) timerLate(w, k, now int64, fn func()) {
	b := &l.health.blame
	c := &l.cfg.health
	f := now
	if c.timed() {
		f = max(now, b.lastEnd) // after the run before it in this look
	}
	l.health.timerLag.record(f - w)
	p, a := b.split(w, k, f, l.cfg.slack)
	b.reporting = c.lateHook != nil && f-w >= c.lateThreshold
	if !b.reporting {
		return
	}
	r := &b.report
	*r = LateTimer{
		Name:      funcName(fn),
		Late:      time.Duration(f - w),
		Allowed:   time.Duration(p.allowed),
		Park:      time.Duration(p.park),
		Callbacks: time.Duration(p.callbacks),
		Backlog:   time.Duration(p.backlog),
	}
	if s, ok := b.blocker(a, f); ok {
		r.Blocker, r.BlockerRan = pcName(s.pc), time.Duration(s.end-s.start)
	}
}

// dropReport forgets a report set aside and not handed over: the late
// timer's callback left Run (a panic escaping the panic handler, Goexit).
// Loop goroutine only, when the loop is let go.
func (b *blame) dropReport() { b.reporting, b.report = false, LateTimer{} }

// reportLate hands the report timerLate set aside to the WithLateTimer
// hook, after the late timer's callback: a panic escaping the hook (through
// the panic handler) then costs no callback its run. It hands a panic in
// the hook to the panic handler, records the hook's run as a span (it
// delays the timers after it), and files the hook's Local timers (rule 6).
// Loop goroutine only.
func (l *Loop) reportLate() {
	b := &l.health.blame
	b.reporting = false
	r := b.report
	b.report = LateTimer{} // let go of the names
	start := l.now()
	defer func() {
		if v := recover(); v != nil {
			l.counts.panics++
			l.cfg.panicHandler(v)
		}
		b.lastEnd = l.now()
		b.addSpan(start, b.lastEnd, l.cfg.health.latePC)
		l.afterCallback()
	}()
	b.reported.Add(1)
	l.cfg.health.lateHook(r)
}
