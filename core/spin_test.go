package core

import (
	"testing"
	"time"
)

// TestOvershootsQuantile: the estimate is the upper edge of the bucket
// that holds the q-quantile of the samples, so never below the quantile
// and at most one bucket (spinBucket) above it; overshoots beyond the last
// bucket count in it.
func TestOvershootsQuantile(t *testing.T) {
	var o overshoots
	for i := int64(0); i < 100; i++ {
		o.add(i * 1000) // 0, 1, ..., 99 µs
	}
	q := o.quantile(0.99) // the 99th of 100 samples: 98 µs
	if q < 98_000 || q > 98_000+spinBucket {
		t.Fatalf("p99 of 0..99 µs = %d ns, want within one bucket above 98 µs", q)
	}
	if m := o.quantile(0.5); m < 49_000 || m > 49_000+spinBucket {
		t.Fatalf("p50 of 0..99 µs = %d ns", m)
	}
	var big overshoots
	big.add(10 * maxSpin)
	big.add(-5) // clamped to 0
	if q := big.quantile(1); q != maxSpin {
		t.Fatalf("an overshoot beyond maxSpin estimates %d, want maxSpin %d", q, maxSpin)
	}
}

// TestOvershootsForget: the window halves every count once spinWindow
// samples have been taken, so a change in the machine (a quieter host)
// shows in the estimate after a few windows.
func TestOvershootsForget(t *testing.T) {
	var o overshoots
	for i := 0; i < spinWindow; i++ {
		o.add(500_000) // 500 µs
	}
	for i := 0; i < 4*spinWindow; i++ {
		o.add(20_000)
	}
	if q := o.quantile(0.99); q > 20_000+spinBucket {
		t.Fatalf("after 4 windows of 20 µs, p99 estimate %d ns, want about 20 µs", q)
	}
}

// TestSpinMargin: the learned margin starts at the fixed default until
// enough samples are in, then follows the p99 plus the guard, within
// [spinGuard, maxSpin].
func TestSpinMargin(t *testing.T) {
	var o overshoots
	if m := o.margin(); m != int64(200*time.Microsecond) {
		t.Fatalf("margin with no samples %d, want 200 µs", m)
	}
	for i := 0; i < spinMinSamples; i++ {
		o.add(30_000)
	}
	m := o.margin()
	if m < 30_000+spinGuard || m > 30_000+spinBucket+spinGuard {
		t.Fatalf("margin after samples of 30 µs = %d ns", m)
	}
	var fast overshoots
	for i := 0; i < spinMinSamples; i++ {
		fast.add(0)
	}
	if m := fast.margin(); m < spinGuard {
		t.Fatalf("margin %d below the guard %d", m, spinGuard)
	}
}
