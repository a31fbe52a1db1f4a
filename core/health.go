package core

import (
	"math"
	"reflect"
	"runtime"
	"time"

	"go.uber.org/atomic"
)

// healthConfig is the part of a Loop's configuration about what it
// measures of itself. Set by options in New; immutable after.
type healthConfig struct {
	// Post-lag sampling (WithLagSampling): every lagEvery-th post is
	// timestamped (a power of two); lagEvery == 0 turns sampling off.
	lagEvery uint64

	slowThreshold int64                              // WithSlowCallback, nanoseconds
	slowHook      func(d time.Duration, name string) // nil: no timing per callback

	lateThreshold int64           // WithLateTimer, nanoseconds (blame.go)
	lateHook      func(LateTimer) // nil: no late-timer reports
	latePC        uintptr         // lateHook's entry PC, to name its runs in the blame ring
}

// timed reports whether the loop times each callback: for WithSlowCallback
// or WithLateTimer.
func (c *healthConfig) timed() bool { return c.slowHook != nil || c.lateHook != nil }

// defaultLagSampling is how many posts share one timestamp by default.
const defaultLagSampling = 1024

func defaultHealthConfig() healthConfig {
	return healthConfig{lagEvery: defaultLagSampling}
}

// WithLagSampling sets how often a post is timestamped for the post-lag
// histogram of [Loop.Health]: one post in n (default 1024), n rounded up to a
// power of two, capped at 2^31. n = 1 times every post; n <= 0 turns
// post-lag measurement off. Local().Post counts posts exactly; Post from
// other goroutines stamps the post that lands on every n-th inbox position
// (the inbox hands out positions anyway), so that producers share no
// counter and draw no random number. A sampled post costs two clock reads;
// an unsampled one a counter or a mask and a branch. Timer lag is always
// measured: it needs no extra clock read.
func WithLagSampling(n int) Option {
	return func(cfg *config) {
		if n <= 0 {
			cfg.health.lagEvery = 0
			return
		}
		p := uint64(1)
		for p < uint64(n) && p < 1<<31 {
			p <<= 1
		}
		cfg.health.lagEvery = p
	}
}

// WithSlowCallback reports callbacks (posts and timers) that run for
// threshold or longer: after such a callback returns, hook receives its
// duration and its function name (from runtime.FuncForPC, for example
// "main.(*conn).flush-fm" or "main.main.func1"), on the loop goroutine, like
// asyncio's slow_callback_duration in debug mode. The count appears in
// [Health].SlowCallbacks. Enabling it costs two clock reads per callback; a
// nil hook turns it off. A panic in hook goes to the panic handler
// ([WithPanicHandler]) as if the callback had panicked, for posts and timers
// alike, and the loop goes on.
func WithSlowCallback(threshold time.Duration, hook func(d time.Duration, name string)) Option {
	return func(cfg *config) {
		cfg.health.slowThreshold = int64(threshold)
		cfg.health.slowHook = hook
	}
}

// health is what the loop measures about itself. The histograms and the
// atomics are written by the loop goroutine and read by Health from any
// goroutine; postTick is the loop's own.
type health struct {
	timerLag histogram // how late timers fire: firing time - deadline
	postLag  histogram // how long sampled posts waited: run time - post time
	batch    histogram // callbacks and timers run per iteration that ran any

	postTick uint64 // Local().Post countdown to the next sampled post; Loop goroutine only

	// Busy and idle time. busy and idle are the totals of finished
	// stretches; busySince (idleSince) is the loop clock when the current
	// busy (parked) stretch began, or -1 if there is none. Written by the
	// loop goroutine when it takes or releases the loop and around each
	// park (markIdle, markBusy, markReleased); read by Health from any
	// goroutine (times).
	//
	// ver orders them as a sequence lock: the loop makes it odd before it
	// reads the clock and changes the four, and even after; a reader that
	// read the same even ver before and after its loads (and its own clock
	// read) saw one stretch change whole, so a snapshot never counts a
	// stretch in neither total nor twice, and never goes back in time.
	busy, idle           atomic.Int64
	busySince, idleSince atomic.Int64
	ver                  atomic.Uint64

	slow atomic.Uint64 // callbacks reported to the slow-callback hook

	blame blame // timer lateness split and WithLateTimer's spans (blame.go)

	// sumVer orders the publication of TimerLag's sum and of its split
	// (blame.pub) as a sequence lock: flush, on the loop goroutine, makes
	// it odd before it stores them and even after; lagSums, on any
	// goroutine, keeps the values it loaded between two equal even
	// readings, so a Health's parts add up to its TimerLag sum.
	sumVer atomic.Uint64
}

// flush publishes the histograms' sums and maxima. Loop goroutine only.
func (h *health) flush() {
	h.sumVer.Inc() // odd: TimerLag's sum and its split are changing (see sumVer)
	h.timerLag.flush()
	h.blame.flush()
	h.sumVer.Inc()
	h.postLag.flush()
	h.batch.flush()
}

// lagSums copies TimerLag's published sum and its four parts into dst as
// one step, under sumVer, so that the parts add up to the sum. Any
// goroutine; it retries only while the loop is storing the five (flush).
func (h *health) lagSums(dst *Health) {
	for {
		if v := h.sumVer.Load(); v&1 == 0 {
			sum := h.timerLag.pubSum.Load()
			var p [4]int64
			for i := range p {
				p[i] = h.blame.pub[i].Load()
			}
			if h.sumVer.Load() == v {
				dst.TimerLag.sum = sum
				dst.TimerLagAllowed, dst.TimerLagPark = time.Duration(p[0]), time.Duration(p[1])
				dst.TimerLagCallbacks, dst.TimerLagBacklog = time.Duration(p[2]), time.Duration(p[3])
				return
			}
		}
		runtime.Gosched()
	}
}

// init readies h for New.
func (h *health) init(c *healthConfig) {
	h.postTick = c.lagEvery
	if h.postTick == 0 {
		h.postTick = math.MaxUint64 // off: 2^64 posts to the first stamp
	}
	h.busySince.Store(-1)
	h.idleSince.Store(-1)
	h.blame.init()
}

// markIdle ends the busy stretch and starts an idle one: the loop parks.
// Loop goroutine only.
func (l *Loop) markIdle() {
	h := &l.health
	h.ver.Inc() // odd: a change in progress (see ver)
	t := l.now()
	h.endBusy(t)
	h.idleSince.Store(t)
	h.ver.Inc()
	h.blame.parkedAt, h.blame.behindSince = t, -1 // a loop with due timers does not park
}

// markBusy ends the idle stretch, if any, and starts a busy one: the loop
// resumes from a park, or a goroutine takes the loop. Loop goroutine only.
func (l *Loop) markBusy() {
	h := &l.health
	h.ver.Inc()
	t := l.now()
	if s := h.idleSince.Load(); s >= 0 {
		h.idle.Add(t - s)
	}
	h.idleSince.Store(-1)
	h.busySince.Store(t)
	h.ver.Inc()
	h.blame.wokeAt = t
}

// markReleased ends the busy stretch: the owner lets go of the loop. Loop
// goroutine only.
func (l *Loop) markReleased() {
	h := &l.health
	h.ver.Inc()
	t := l.now()
	h.endBusy(t)
	h.ver.Inc()
	h.blame.parkedAt, h.blame.behindSince = t, -1 // not run from now on: a park, for blame
	h.blame.dropReport()                          // a late timer whose callback left Run (a panic, Goexit) goes unreported
}

// endBusy ends the busy stretch, if any, at t. Loop goroutine only, inside
// a change of ver.
func (h *health) endBusy(t int64) {
	if s := h.busySince.Load(); s >= 0 {
		h.busy.Add(t - s)
	}
	h.busySince.Store(-1)
}

// times returns the busy and idle totals up to now, read as one step under
// the sequence lock ver, retrying while the loop is changing them (a few
// stores: it never waits for a callback). Any goroutine.
func (l *Loop) times() (busy, idle int64) {
	h := &l.health
	for {
		if v := h.ver.Load(); v&1 == 0 {
			busy, idle = h.busy.Load(), h.idle.Load()
			bs, is := h.busySince.Load(), h.idleSince.Load()
			now := l.now() // before the second load of ver: no later than the loop's next reading
			if h.ver.Load() == v {
				if bs >= 0 && now > bs {
					busy += now - bs
				}
				if is >= 0 && now > is {
					idle += now - is
				}
				return busy, idle
			}
		}
		runtime.Gosched()
	}
}

// postStamp returns the entry stamp of a Local().Post: 0, or for one post in
// lagEvery, 1 + the loop clock. Loop goroutine only. Inlined: a decrement
// and a branch.
func (l *Loop) postStamp() uint64 {
	l.health.postTick--
	if l.health.postTick != 0 {
		return 0
	}
	return l.postStampSlow()
}

func (l *Loop) postStampSlow() uint64 {
	l.health.postTick = l.cfg.health.lagEvery
	if l.health.postTick == 0 {
		l.health.postTick = math.MaxUint64
		return 0
	}
	return uint64(l.now()) + 1
}

// stampPost is the inbox's stamp (queue.WithStamp): it timestamps a
// Post's message with 1 + the loop clock, for one inbox position in
// lagEvery. Other messages (timer operations) are left alone, so that
// position goes unsampled. Runs on the posting goroutine, before the
// message is published.
func (l *Loop) stampPost(m *message) {
	if m.op == opPost {
		m.stamp = uint64(l.now()) + 1
	}
}

// stampLanePost is a lane's stamp, as stampPost is the inbox's.
func (l *Loop) stampLanePost(p *lanePost) { p.stamp = uint64(l.now()) + 1 }

// postLag records the lag of a sampled post. Loop goroutine only.
func (l *Loop) postLag(stamp uint64) {
	l.health.postLag.record(l.now() - int64(stamp-1))
}

// slow reports whether a callback that ran for d is slow: d is at least
// WithSlowCallback's threshold. O(1).
func (c *healthConfig) slow(d int64) bool { return c.slowHook != nil && d >= c.slowThreshold }

// reportSlow hands fn, which ran for d, to the slow-callback hook. Loop
// goroutine only.
func (l *Loop) reportSlow(fn func(), d int64) {
	l.health.slow.Add(1)
	l.cfg.health.slowHook(time.Duration(d), funcName(fn))
}

// funcName returns the name of fn's function, from its program counter.
func funcName(fn func()) string { return pcName(funcPC(fn)) }

// funcPC returns the entry PC of fn's function (a closure's code, a method
// value's wrapper). O(1), no allocation.
func funcPC(fn any) uintptr { return reflect.ValueOf(fn).Pointer() }

// pcName returns the name of the function whose entry PC is pc.
func pcName(pc uintptr) string {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	return "unknown"
}

// Health is a snapshot of how well a loop keeps up, from [Loop.Health]. It
// is a value of about 15 KB with no pointers; take one per scrape, not per
// callback.
type Health struct {
	Stats // the counters of Loop.Stats

	// Busy is the time the loop has spent running (inside Run, or Close
	// or Shutdown finishing it) and not parked; Idle the time it has spent
	// parked. Both are on the loop's clock (virtual under WithClock). See
	// Utilization.
	Busy, Idle time.Duration

	// TimerLag is how late timers fired, in nanoseconds, for every timer
	// fired: the loop clock when the loop found the timer due minus its
	// deadline. The clock is read once per batch of due timers (a read per
	// timer would cost more than the rest of the measurement), so a timer
	// held up by a slow timer ahead of it in the same batch shows the
	// batch's lag — unless callbacks are timed (WithLateTimer or
	// WithSlowCallback): then each timer's lag runs to the start of its own
	// callback. A zero-delay timer's lag is its wait from its scheduling to
	// its firing.
	TimerLag Histogram

	// TimerLagAllowed, TimerLagPark, TimerLagCallbacks and TimerLagBacklog
	// split TimerLag's sum (the lateness of every timer fired) by where the
	// time went: lateness the timers allowed (a leeway, WithSlack); the
	// loop waiting when it could have run them (woken late, or not run);
	// the loop running callbacks before it looked at its timers; and timers
	// waiting, due, behind other due timers (a backlog). They add up to
	// TimerLag.Sum(). [LateTimer] says what each part holds, and what the
	// Backlog misses when callbacks are not timed.
	TimerLagAllowed, TimerLagPark, TimerLagCallbacks, TimerLagBacklog time.Duration

	// PostLag is how long sampled posts (Post and Local().Post) waited
	// between the post and the start of their callback, in nanoseconds.
	// See WithLagSampling for the sampling rate.
	PostLag Histogram

	// Batch is the number of callbacks and timers each iteration ran, over
	// the iterations that ran at least one.
	Batch Histogram

	// SlowCallbacks is the number of callbacks reported to the
	// WithSlowCallback hook.
	SlowCallbacks uint64

	// LateTimers is the number of timers reported to the WithLateTimer
	// hook.
	LateTimers uint64
}

// Health returns a new snapshot of the loop's counters, lag histograms,
// batch sizes and busy and idle time. Safe from any goroutine, and usable
// while the loop is stuck in a long callback: it takes no lock and does not
// wait for the loop. The histograms are copied bucket by bucket while the
// loop may be recording, so counts may lag each other by the values being
// recorded. O(buckets); it allocates the snapshot (about 15 KB), which is
// nothing beside a scrape's own cost.
func (l *Loop) Health() *Health {
	l.mustNew()
	dst := new(Health)
	h := &l.health
	dst.Stats = l.Stats()
	busy, idle := l.times()
	dst.Busy, dst.Idle = time.Duration(busy), time.Duration(idle)
	h.timerLag.snapshot(&dst.TimerLag)
	h.postLag.snapshot(&dst.PostLag)
	h.batch.snapshot(&dst.Batch)
	dst.SlowCallbacks = h.slow.Load()
	h.lagSums(dst) // after TimerLag's snapshot: its sum and split as one
	dst.LateTimers = h.blame.reported.Load()
	return dst
}

// Merge adds o to h, as if one loop had done the work of both: counters,
// busy and idle time, the lateness split and the hooks' counts add, and
// the histograms merge ([Histogram.Merge]). A loop group's Health is the
// Merge of its loops'; its Utilization is then the busy share of all their
// time together. O(buckets).
func (h *Health) Merge(o *Health) {
	h.Stats.Add(o.Stats)
	h.Busy += o.Busy
	h.Idle += o.Idle
	h.TimerLag.Merge(&o.TimerLag)
	h.TimerLagAllowed += o.TimerLagAllowed
	h.TimerLagPark += o.TimerLagPark
	h.TimerLagCallbacks += o.TimerLagCallbacks
	h.TimerLagBacklog += o.TimerLagBacklog
	h.PostLag.Merge(&o.PostLag)
	h.Batch.Merge(&o.Batch)
	h.SlowCallbacks += o.SlowCallbacks
	h.LateTimers += o.LateTimers
}

// Utilization returns the share of time the loop was busy between the
// snapshot prev and h, from 0 to 1, like Node's
// performance.eventLoopUtilization(prev): pass a zero Health for the share
// since the loop was created. It returns 0 if no time passed.
func (h *Health) Utilization(prev *Health) float64 {
	busy := h.Busy - prev.Busy
	total := busy + h.Idle - prev.Idle
	if total <= 0 {
		return 0
	}
	return float64(busy) / float64(total)
}
