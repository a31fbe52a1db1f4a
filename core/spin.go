package core

// WithAdaptiveSpin's margin (options_precision.go). The loop parks until a
// margin before each timer's deadline and busy-waits the rest; the margin
// is learned from how late this machine's parker actually wakes: after
// each timed park that ran to its end, the loop records the overshoot (the
// clock on waking minus the time it asked to wake at) in a histogram, and
// the next margin is the histogram's 99th percentile plus a guard. So 99
// wake-ups in 100 leave time to spin to the deadline, and the CPU spent
// spinning is about the spread of the overshoots rather than a margin
// fixed by hand for the worst machine.
//
// The histogram holds the last full window of spinWindow samples and the
// window being filled, so an old sample is forgotten whole, one to two
// windows later (halving counts instead would erase the lone late samples
// that make the 99th percentile). A margin as long as the wait itself
// leaves nothing to learn from, since the loop spins the whole wait; one
// such wait in spinProbe is parked for half its length instead, so that a
// margin learned on a bad stretch comes down again.

import "math"

const (
	spinBucket     = 2_000     // ns: the histogram's resolution
	maxSpin        = 1_000_000 // ns: the largest margin; overshoots beyond it count in the last bucket
	spinBuckets    = maxSpin / spinBucket
	spinWindow     = 1024    // samples per window
	spinMinSamples = 32      // samples before the histogram decides the margin
	spinGuard      = 2_000   // ns added to the percentile
	spinStartAt    = 200_000 // ns: the margin until then, WithSpin's usual
	spinProbe      = 16      // waits spun whole, at most, between two parks (see above)
)

// overshoots is the histogram of a loop's park overshoots. Loop goroutine
// only.
type overshoots struct {
	n     [spinBuckets]uint32 // the samples the estimate uses: the last full window and the current one; n[i] counts overshoots in [i, i+1) × spinBucket, the last bucket every larger one too
	total uint32              // the sum of n
	cur   [spinBuckets]uint32 // the current window's samples alone
	curN  uint32              // the sum of cur
	seen  uint32              // samples taken, saturating at spinMinSamples
	spun  uint32              // waits spun whole since the last park (spinProbe)
}

// add records an overshoot of d ns (negative counts as 0), the end of a
// park: the count of waits spun whole starts again (probe). O(1), and
// O(spinBuckets) once every spinWindow samples.
func (o *overshoots) add(d int64) {
	o.spun = 0
	i := min(max(d, 0)/spinBucket, spinBuckets-1)
	o.n[i]++
	o.total++
	o.cur[i]++
	o.curN++
	if o.seen < spinMinSamples {
		o.seen++
	}
	if o.curN == spinWindow {
		// The window is full: it becomes the last full window, and the
		// one before is forgotten.
		o.n, o.total = o.cur, o.curN
		o.cur, o.curN = [spinBuckets]uint32{}, 0
	}
}

// quantile returns the upper edge of the bucket holding the q-quantile of
// the samples, the smallest edge at or below which at least q of them lie
// (0 with none): never below that quantile, at most spinBucket above it,
// at most maxSpin. O(spinBuckets).
func (o *overshoots) quantile(q float64) int64 {
	if o.total == 0 {
		return 0
	}
	want := max(uint32(math.Ceil(q*float64(o.total))), 1)
	var sum uint32
	for i, c := range o.n {
		sum += c
		if sum >= want {
			return int64(i+1) * spinBucket
		}
	}
	return maxSpin
}

// margin is the spin margin for the next timed park: spinStartAt until
// spinMinSamples overshoots are in, then the 99th percentile plus
// spinGuard, at most maxSpin. O(spinBuckets): once per timed park, beside
// a system call.
func (o *overshoots) margin() int64 {
	if o.seen < spinMinSamples {
		return spinStartAt
	}
	return min(o.quantile(0.99)+spinGuard, maxSpin)
}

// probe reports whether a wait that the margin would spin whole should be
// parked for half its length instead, to take a sample (one in
// spinProbe). O(1).
func (o *overshoots) probe() bool {
	o.spun++
	if o.spun < spinProbe {
		return false
	}
	o.spun = 0
	return true
}
