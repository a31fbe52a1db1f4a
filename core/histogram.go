package core

import (
	"iter"
	"math"
	"math/bits"

	"go.uber.org/atomic"
)

// Histogram buckets are log-linear, as in HdrHistogram: values below
// histSub each have their own bucket; above, every power of two [2^e,
// 2^(e+1)) is split into histSub equal buckets, so a bucket is at most
// 1/histSub (6.25 %) of its values wide. Values of 2^histMaxExp and above
// (2^40 ns is about 18 minutes) share the last bucket; Max keeps the
// largest exactly.
const (
	histSubBits = 4
	histSub     = 1 << histSubBits
	histMaxExp  = 40
	histBuckets = histSub + (histMaxExp-histSubBits)*histSub
)

// histBucket returns the bucket of v >= 0. O(1).
func histBucket(v int64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1)), e >= histSubBits
	if e >= histMaxExp {
		return histBuckets - 1
	}
	sub := int(v>>(e-histSubBits)) & (histSub - 1)
	return histSub + (e-histSubBits)*histSub + sub
}

// histUpper returns the largest value that falls in bucket i. O(1).
func histUpper(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	if i == histBuckets-1 {
		return math.MaxInt64
	}
	e := (i-histSub)/histSub + histSubBits
	sub := int64((i - histSub) % histSub)
	width := int64(1) << (e - histSubBits)
	return (histSub+sub)*width + width - 1
}

// histogram is the loop's live histogram. One writer, the loop goroutine
// (record, flush); any goroutine reads it (snapshot). Each bucket is its own
// atomic, so a snapshot taken while the loop records may be off by the
// values being recorded, never torn within a counter. The sum and the
// maximum are kept privately by the loop and published by flush (with the
// Stats counters: every statsEvery iterations and before each park), so
// that record costs one atomic add.
type histogram struct {
	counts [histBuckets]atomic.Uint64

	sum, max int64 // loop goroutine only
	dirty    bool  // loop goroutine only: sum or max changed since flush

	pubSum, pubMax atomic.Int64 // sum and max as of the last flush
}

// record adds v, clamped to >= 0. Loop goroutine only. O(1), no
// allocation, one atomic add.
func (h *histogram) record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[histBucket(v)].Add(1)
	h.sum += v
	h.max = max(h.max, v)
	h.dirty = true
}

// flush publishes the sum and the maximum. Loop goroutine only; called with
// the loop's other counters (publishStats). O(1).
func (h *histogram) flush() {
	if h.dirty {
		h.dirty = false
		h.pubSum.Store(h.sum)
		h.pubMax.Store(h.max)
	}
}

// snapshot copies h into dst. Any goroutine. O(buckets).
func (h *histogram) snapshot(dst *Histogram) {
	dst.count = 0
	top := -1
	for i := range h.counts {
		c := h.counts[i].Load()
		dst.counts[i] = c
		dst.count += c
		if c != 0 {
			top = i
		}
	}
	dst.sum = h.pubSum.Load()
	dst.max = h.pubMax.Load()
	if top > 0 && dst.max <= histUpper(top-1) {
		dst.max = histUpper(top-1) + 1 // recorded since the last flush: the bucket's lower bound
	}
}

// Histogram is a snapshot of a distribution of non-negative integers (the
// loop's lags in nanoseconds, or its batch sizes) in fixed, log-linear
// buckets: exact below 16, and within 6.25 % above (16 buckets per power of
// two, up to 2^40; larger values share the last bucket). It takes no
// allocation to record or to copy. Its zero value is an empty histogram.
//
// In a snapshot of a running loop, Sum and Max are those the loop last
// published (before it parked, or within its last 64 iterations while
// busy); a value recorded since then is in Count and the buckets, and
// raises Max to at least its bucket's lower bound.
type Histogram struct {
	counts [histBuckets]uint64
	count  uint64
	sum    int64
	max    int64
}

// Count returns the number of values recorded. O(1).
func (h *Histogram) Count() uint64 { return h.count }

// Merge adds the values recorded in o to h, as if h had recorded them too:
// the counts and sums add, the maximum is the larger. Use it to sum the
// histograms of several loops (a loop group's Health). O(buckets).
func (h *Histogram) Merge(o *Histogram) {
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.count += o.count
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Sum returns the sum of the values recorded. O(1).
func (h *Histogram) Sum() int64 { return h.sum }

// Max returns the largest value recorded, exactly, or 0 if none. O(1).
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the mean of the values recorded, or 0 if none. O(1).
func (h *Histogram) Mean() float64 {
	if h.count == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.count)
}

// Quantile returns an upper bound of the q-quantile (0 <= q <= 1) of the
// values recorded: the largest value of the bucket holding the value of
// rank ceil(q*Count), capped at Max. So Quantile(0.99) is at least the true
// 99th percentile and exceeds it by less than 6.25 %. It returns 0 for an
// empty histogram; q is clamped to [0, 1]. O(buckets).
func (h *Histogram) Quantile(q float64) int64 {
	if h.count == 0 {
		return 0
	}
	if !(q > 0) { // also NaN
		q = 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	if rank < 1 {
		rank = 1
	}
	if rank > h.count {
		rank = h.count
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(histUpper(i), h.max)
		}
	}
	return h.max
}

// Buckets yields each non-empty bucket in increasing order: the largest
// value it holds (math.MaxInt64 for the last, open bucket) and how many
// values fell in it. Cumulate the counts for a Prometheus histogram's
// le buckets or an OpenTelemetry explicit-bucket histogram. O(buckets).
func (h *Histogram) Buckets() iter.Seq2[int64, uint64] {
	return func(yield func(int64, uint64) bool) {
		for i, c := range h.counts {
			if c != 0 && !yield(histUpper(i), c) {
				return
			}
		}
	}
}
