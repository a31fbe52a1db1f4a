package core

import (
	"time"

	"go.uber.org/atomic"
)

// This file is lateness blame's one home: how the loop splits each fired
// timer's lateness into where the time went (always, for the sums in
// Health), and, with WithLateTimer, which callback was running at a late
// timer's deadline.
//
// # The split
//
// A timer with deadline w and filed key k (k = w, or w rounded up to its
// leeway's window) fires when the loop, at a look at its timers (fireDue,
// clock reading lookAt), pops it and calls it at F: F = lookAt, or, when
// callbacks are timed (WithLateTimer, WithSlowCallback), the end of the
// callback that ran just before it in the same look. Its lateness F - w is
// cut at two instants:
//
//   - seen, when the loop first knew the timer was due: lookAt, or, if
//     an earlier look left due timers unfired (WithBatch's bound), the
//     later of k and the start of that earlier look (behindSince): from
//     then on the loop is behind, and all of a timer's wait is backlog.
//   - the loop's last park, [parkedAt, wokeAt] (markIdle and markBusy; a
//     stretch with no owner, from release to the next acquire, counts as a
//     park).
//
// Then Park = (k - w) + the overlap of [k, seen] with the last park;
// Backlog = F - seen; Callbacks = the rest of [k, seen]. The three add up
// to F - w exactly, which is the lag TimerLag records, so the sums in
// Health add up to TimerLag's sum. Every input is a reading the loop takes
// anyway: the split costs a few compares and adds per fired timer.
//
// # Blame
//
// With WithLateTimer every callback is timed (two clock readings) and its
// span [start, end) kept in a ring of the last blameSpans spans; a timer
// late by the threshold or more is looked up there by its key (k), to name
// the callback that was running when it came due. Callbacks run one at a
// time, so the spans are in order and disjoint.

// LateTimer describes a timer that fired late, for the hook of
// [WithLateTimer]. Late = Park + Callbacks + Backlog.
type LateTimer struct {
	// Name is the function name of the late timer's callback (as
	// [WithSlowCallback] names callbacks).
	Name string

	// Late is how long after its deadline the timer's callback started.
	Late time.Duration

	// Park is the part of Late during which the loop was waiting: parked
	// (a parker that woke late: the kernel's timer slack, a busy host), in
	// WithSpin's busy tail, waking, or not being run at all (between a
	// Stop and the next Run); and the lateness the timer's own leeway
	// ([Timer.SetLeeway]) or [WithSlack] allows.
	Park time.Duration

	// Callbacks is the part during which the loop was running the
	// callback that was running at the deadline (Blocker) and the
	// callbacks queued before its next look at its timers: the timer came
	// due while the loop was busy.
	Callbacks time.Duration

	// Backlog is the part during which the timer was known to be due but
	// waited: behind timers due no later than it in the same look (they
	// fire in deadline order, each callback in full), or for a later
	// iteration because one iteration fires at most [WithBatch] timers. A
	// loop with a backlog has more due work than it can run.
	Backlog time.Duration

	// Blocker is the function name of the callback that was running when
	// the timer came due (a post or another timer), or "" if none was:
	// the loop was parked or between callbacks, or the callback ran more
	// than the last 64 callbacks before this one (it is no longer known).
	Blocker string

	// BlockerRan is how long Blocker ran in all, 0 if Blocker is "".
	BlockerRan time.Duration
}

// WithLateTimer reports timers whose callback starts threshold or more
// after their deadline: once such a timer's callback has run, hook
// receives a [LateTimer] saying how late the timer was, where the time
// went, and which callback was running at its deadline. hook runs on the loop goroutine;
// it may use Local. A panic in hook goes to the panic handler
// ([WithPanicHandler]), and the timer still fires. The count appears in
// [Health].LateTimers. A threshold below 0 is treated as 0; a nil hook
// turns reporting off.
//
// Enabling it costs two clock readings per callback (posts and timers), as
// [WithSlowCallback] does (the two share them), and it makes
// [Health].TimerLag exact for every timer: a timer held up by a timer
// ahead of it in the same batch shows its own lag, not the batch's. The
// loop keeps the last 64 callbacks it ran, to name a blocker, so those
// callbacks are not garbage before 64 more have run.
func WithLateTimer(threshold time.Duration, hook func(LateTimer)) Option {
	return func(cfg *config) {
		cfg.health.lateThreshold = max(int64(threshold), 0)
		cfg.health.lateHook = hook
	}
}

// blameSpans is how many callback spans WithLateTimer keeps (a power of
// two).
const blameSpans = 64

// span is one callback's run: [start, end) on the loop clock.
type span struct {
	start, end int64
	fn         func()
}

// blame is the loop's lateness accounting. Loop goroutine only, except
// the published sums (pub*, written by flush, read by Health).
type blame struct {
	parkedAt int64 // loop clock when the loop last parked or was let go (markIdle, markReleased)
	wokeAt   int64 // loop clock when the loop last woke or was taken (markBusy)
	lookAt   int64 // loop clock at the current look at the timers (fireDue)

	// behindSince is the clock at the start of the first of a run of looks
	// that each left due timers unfired (WithBatch's bound), or -1 if the
	// last look fired every due timer. Cleared when the loop is let go.
	behindSince int64

	lastEnd int64 // end of the last timed callback (call); WithLateTimer, WithSlowCallback

	// Lateness of every fired timer, split (see the file comment): the
	// loop's running sums and the values flush last published.
	park, callbacks, backlog          int64
	pubPark, pubCallbacks, pubBacklog atomic.Int64
	dirty                             bool // a sum changed since flush

	spans [blameSpans]span // WithLateTimer: the last callbacks run, spans[spanN-1 & mask] the newest
	spanN uint64           // callbacks recorded in spans, in all

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
		b.pubPark.Store(b.park)
		b.pubCallbacks.Store(b.callbacks)
		b.pubBacklog.Store(b.backlog)
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
// k, whose callback starts at f, into park, callbacks and backlog (see
// the file comment), and adds them to the sums. Loop goroutine only. O(1).
func (b *blame) split(w, k, f int64) (park, callbacks, backlog int64) {
	k = min(max(k, w), f) // a key is never before its deadline, and fired keys have passed
	seen := b.lookAt
	if b.behindSince >= 0 {
		seen = max(k, b.behindSince)
	}
	seen = min(max(seen, k), f)
	if lo, hi := max(k, b.parkedAt), min(b.wokeAt, seen); hi > lo {
		park = hi - lo
	}
	park += k - w
	backlog = f - seen
	callbacks = f - w - park - backlog
	b.park += park
	b.callbacks += callbacks
	b.backlog += backlog
	b.dirty = true
	return park, callbacks, backlog
}

// addSpan records a timed callback's run. Loop goroutine only. O(1).
func (b *blame) addSpan(start, end int64, fn func()) {
	b.spans[b.spanN&(blameSpans-1)] = span{start, end, fn}
	b.spanN++
}

// at returns the recorded callback that was running at t, if any: the
// newest span with start <= t, if t < its end. Loop goroutine only.
// O(blameSpans).
func (b *blame) at(t int64) (span, bool) {
	for i := uint64(1); i <= min(b.spanN, blameSpans); i++ {
		s := b.spans[(b.spanN-i)&(blameSpans-1)]
		if s.start <= t {
			return s, t < s.end
		}
	}
	return span{}, false
}

// timerLate accounts for the lateness of a timer about to fire (deadline
// w, filed key k, in the look that began at now): it records the lag and
// its split, and if the timer is late enough for the WithLateTimer hook,
// sets its report aside for fireDue (reportLate). fn is the timer's
// callback. Loop goroutine only.
func (l *Loop) timerLate(w, k, now int64, fn func()) {
	b := &l.health.blame
	f := max(now, b.lastEnd) // timed callbacks: after the one before it in this look
	if !l.cfg.health.timed() {
		f = now
	}
	l.health.timerLag.record(f - w)
	park, callbacks, backlog := b.split(w, k, f)
	c := &l.cfg.health
	b.reporting = c.lateHook != nil && f-w >= c.lateThreshold
	if !b.reporting {
		return
	}
	r := &b.report
	*r = LateTimer{
		Name:      funcName(fn),
		Late:      time.Duration(f - w),
		Park:      time.Duration(park),
		Callbacks: time.Duration(callbacks),
		Backlog:   time.Duration(backlog),
	}
	if s, ok := b.at(k); ok {
		r.Blocker, r.BlockerRan = funcName(s.fn), time.Duration(s.end-s.start)
	}
}

// reportLate hands the report timerLate set aside to the WithLateTimer
// hook, after the late timer's callback: a panic escaping the hook (through
// the panic handler) then costs no callback its run. It hands a panic in
// the hook to the panic handler and files the hook's Local timers (rule
// 6). Loop goroutine only.
func (l *Loop) reportLate() {
	b := &l.health.blame
	b.reporting = false
	r := b.report
	b.report = LateTimer{} // let go of the names
	defer func() {
		if v := recover(); v != nil {
			l.counts.panics++
			l.cfg.panicHandler(v)
		}
		b.lastEnd = l.now() // the hook ran on the loop: the next timer of this look waited for it
		l.afterCallback()
	}()
	b.reported.Add(1)
	l.cfg.health.lateHook(r)
}
