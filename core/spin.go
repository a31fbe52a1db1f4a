package core

// WithAdaptiveSpin's margin (options_precision.go). The loop parks until a
// margin before each timer's deadline and busy-waits the rest; the margin
// is learned from how late this machine's parker actually wakes: after
// each timed park that ran to its end, the loop records the overshoot (the
// clock on waking minus the time it asked to wake at) in a histogram, and
// the next margin is the histogram's 99th percentile plus a guard. So 99
// wake-ups in 100 leave time to spin to the deadline, and the CPU spent
// spinning is about the spread of the overshoots rather than a margin
// fixed by hand for the worst machine. Older samples fade: every
// spinWindow samples halve every count.

const (
	spinBucket     = 2_000    // ns: the histogram's resolution
	maxSpin        = 1000_000 // ns: the largest margin; overshoots beyond it count in the last bucket
	spinBuckets    = maxSpin / spinBucket
	spinWindow     = 1024    // samples between halvings
	spinMinSamples = 32      // samples before the histogram decides the margin
	spinGuard      = 2_000   // ns added to the percentile
	spinStartAt    = 200_000 // ns: the margin until then, WithSpin's usual
)

// overshoots is the histogram of a loop's park overshoots. Loop goroutine
// only.
type overshoots struct {
	n     [spinBuckets]uint32 // n[i]: overshoots in [i, i+1) × spinBucket; the last also holds every larger one
	total uint32              // the sum of n
	seen  uint32              // samples taken, saturating at spinMinSamples
}

// add records an overshoot of d ns (negative counts as 0). O(1), and
// O(spinBuckets) once every spinWindow samples.
func (o *overshoots) add(d int64) {
	i := min(max(d, 0)/spinBucket, spinBuckets-1)
	o.n[i]++
	o.total++
	if o.seen < spinMinSamples {
		o.seen++
	}
	if o.total >= spinWindow {
		o.total = 0
		for j := range o.n {
			o.n[j] /= 2
			o.total += o.n[j]
		}
	}
}

// quantile returns the upper edge of the bucket holding the q-quantile of
// the samples (0 with none): never below that quantile, at most
// spinBucket above it, at most maxSpin. O(spinBuckets).
func (o *overshoots) quantile(q float64) int64 {
	if o.total == 0 {
		return 0
	}
	want := uint32(q*float64(o.total) + 0.5)
	var sum uint32
	for i, c := range o.n {
		sum += c
		if sum >= want && c > 0 {
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
