package stats

import (
	"math"
	"testing"
)

func TestXorShift32FirstValues(t *testing.T) {
	// Marsaglia's published sequence for the seed 2463534242.
	want := []uint32{723471715, 2497366906, 2064144800, 2008045182, 3532304609}
	g := NewXorShift32(Seed)
	for i, w := range want {
		if got := g.Next(); got != w {
			t.Fatalf("value %d: got %d, want %d", i, got, w)
		}
	}
}

func TestXorShift32Between(t *testing.T) {
	g := NewXorShift32(Seed)
	// 723471715 % 10001 = 723471715 - 72339*10001 = 7376
	if got := g.Between(0, 10000); got != 723471715%10001 {
		t.Fatalf("Between(0,10000) = %d, want %d", got, 723471715%10001)
	}
	for i := 0; i < 10000; i++ {
		v := g.Between(1000, 10000)
		if v < 1000 || v > 10000 {
			t.Fatalf("Between out of range: %d", v)
		}
	}
	if NewXorShift32(0).Next() != 723471715 {
		t.Fatal("zero seed should fall back to Seed")
	}
}

func TestMedianAndPercentile(t *testing.T) {
	cases := []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{3, 1, 2}, 50, 2},
		{[]float64{4, 1, 3, 2}, 50, 2.5},
		{[]float64{1, 2, 3, 4, 5}, 0, 1},
		{[]float64{1, 2, 3, 4, 5}, 100, 5},
		{[]float64{1, 2, 3, 4, 5}, 25, 2},
		{[]float64{10, 20}, 99, 19.9},
		{[]float64{7}, 99, 7},
		{[]float64{1, 2, 3}, 150, 3},
	}
	for _, c := range cases {
		in := append([]float64(nil), c.xs...)
		got := Percentile(c.xs, c.p)
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
		for i := range in {
			if in[i] != c.xs[i] {
				t.Fatalf("Percentile modified its input")
			}
		}
	}
	if got := Median([]float64{5, 1, 4, 2, 3}); got != 3 {
		t.Errorf("Median = %v, want 3", got)
	}
	if !math.IsNaN(Median(nil)) || !math.IsNaN(Mean(nil)) {
		t.Error("empty input should give NaN")
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{5, 1, 3})
	if s.Mean != 3 || s.P50 != 3 || s.Max != 5 || s.Min != 1 {
		t.Fatalf("Summarize = %+v", s)
	}
	if math.Abs(s.P99-4.96) > 1e-9 {
		t.Fatalf("P99 = %v, want 4.96", s.P99)
	}
	if !math.IsNaN(Summarize(nil).Mean) {
		t.Fatal("empty Summarize should be NaN")
	}
}
