package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestHistBuckets: every value falls in a bucket whose range holds it, the
// buckets tile the integers in order, and a bucket is at most 1/16 of its
// values wide.
func TestHistBuckets(t *testing.T) {
	prevUpper := int64(-1)
	for i := 0; i < histBuckets-1; i++ {
		lo, hi := prevUpper+1, histUpper(i)
		if hi < lo {
			t.Fatalf("bucket %d: upper %d below lower %d", i, hi, lo)
		}
		if histBucket(lo) != i || histBucket(hi) != i {
			t.Fatalf("bucket %d [%d, %d]: ends map to %d and %d", i, lo, hi, histBucket(lo), histBucket(hi))
		}
		if lo >= histSub && float64(hi-lo+1) > float64(lo)/histSub {
			t.Fatalf("bucket %d [%d, %d] wider than 1/16 of its lower bound", i, lo, hi)
		}
		prevUpper = hi
	}
	if got := histBucket(prevUpper + 1); got != histBuckets-1 {
		t.Errorf("first value past the last finite bucket maps to %d, want %d", got, histBuckets-1)
	}
	if got := histBucket(math.MaxInt64); got != histBuckets-1 {
		t.Errorf("MaxInt64 maps to %d, want the last bucket", got)
	}
}

// TestHistogramQuantile compares Quantile with the exact quantile of random
// log-uniform samples: never below it, less than 6.25 % above.
func TestHistogramQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var live histogram
	var vals []int64
	for i := 0; i < 20000; i++ {
		v := int64(math.Exp(rng.Float64() * 27)) // 1 ns .. 530 s, below 2^40
		vals = append(vals, v)
		live.record(v)
	}
	live.record(-5) // clamped to 0
	live.flush()
	vals = append(vals, 0)
	slices.Sort(vals)
	var h Histogram
	live.snapshot(&h)
	if h.Count() != uint64(len(vals)) {
		t.Fatalf("Count %d, want %d", h.Count(), len(vals))
	}
	var sum int64
	for _, v := range vals {
		sum += v
	}
	if h.Sum() != sum || h.Max() != vals[len(vals)-1] || h.Mean() != float64(sum)/float64(len(vals)) {
		t.Errorf("Sum/Max/Mean %d/%d/%v, want %d/%d/%v", h.Sum(), h.Max(), h.Mean(), sum, vals[len(vals)-1], float64(sum)/float64(len(vals)))
	}
	for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
		rank := int(math.Ceil(q * float64(len(vals))))
		exact := vals[max(rank, 1)-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/histSub {
			t.Errorf("Quantile(%v) = %d, exact %d", q, got, exact)
		}
	}
	if got := h.Quantile(math.NaN()); got != vals[0] {
		t.Errorf("Quantile(NaN) = %d, want the minimum %d", got, vals[0])
	}
	var n uint64
	prev := int64(-1)
	for upper, c := range h.Buckets() {
		if upper <= prev || c == 0 {
			t.Fatalf("Buckets yielded (%d, %d) after upper %d", upper, c, prev)
		}
		prev = upper
		n += c
	}
	if n != h.Count() {
		t.Errorf("Buckets sum to %d, want %d", n, h.Count())
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h Histogram
	if h.Count() != 0 || h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 {
		t.Errorf("empty histogram: count %d, median %d, mean %v, max %d", h.Count(), h.Quantile(0.5), h.Mean(), h.Max())
	}
	for range h.Buckets() {
		t.Fatal("empty histogram yielded a bucket")
	}
}
