// Package stats holds the small numeric helpers shared by the comparison
// harness: the xorshift32 delay generator every implementation draws its
// delays from, and the median and percentile helpers used to summarise
// samples.
package stats

import (
	"math"
	"sort"
)

// Seed is the xorshift32 seed fixed by WORKLOADS.md, so that every
// implementation (and every repetition) is given the same delays.
const Seed uint32 = 2463534242

// XorShift32 is Marsaglia's xorshift32 generator
// (x ^= x<<13; x ^= x>>17; x ^= x<<5). The zero value is not usable: create
// one with NewXorShift32.
type XorShift32 struct {
	x uint32
}

// NewXorShift32 returns a generator started from seed. A zero seed, which
// would make the generator emit zeros for ever, is replaced by Seed.
func NewXorShift32(seed uint32) *XorShift32 {
	if seed == 0 {
		seed = Seed
	}
	return &XorShift32{x: seed}
}

// Next advances the generator and returns the new state.
func (g *XorShift32) Next() uint32 {
	x := g.x
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	g.x = x
	return x
}

// Between returns lo + Next() % (hi − lo + 1): a value in [lo, hi], the way
// WORKLOADS.md draws a delay in microseconds. It panics if hi < lo.
func (g *XorShift32) Between(lo, hi uint32) uint32 {
	if hi < lo {
		panic("stats: Between with hi < lo")
	}
	return lo + g.Next()%(hi-lo+1)
}

// Median returns the median of xs (the mean of the two middle values for an
// even count) without modifying xs. It returns NaN for an empty slice.
func Median(xs []float64) float64 {
	return Percentile(xs, 50)
}

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) of xs by linear
// interpolation between the closest ranks (numpy's default method), without
// modifying xs. It returns NaN for an empty slice; p is clamped to [0, 100].
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return PercentileSorted(s, p)
}

// PercentileSorted is Percentile for a slice already sorted in ascending
// order; it does not copy.
func PercentileSorted(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	p = math.Max(0, math.Min(100, p))
	rank := p / 100 * float64(n-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	if lo == hi {
		return sorted[lo]
	}
	frac := rank - float64(lo)
	return sorted[lo] + (sorted[hi]-sorted[lo])*frac
}

// Mean returns the arithmetic mean of xs, or NaN for an empty slice.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Summary is the distribution summary reported for lateness samples.
type Summary struct {
	Mean, P50, P99, Max, Min float64
}

// Summarize computes a Summary of xs. All fields are NaN for an empty slice.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		nan := math.NaN()
		return Summary{nan, nan, nan, nan, nan}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return Summary{
		Mean: Mean(s),
		P50:  PercentileSorted(s, 50),
		P99:  PercentileSorted(s, 99),
		Max:  s[len(s)-1],
		Min:  s[0],
	}
}
