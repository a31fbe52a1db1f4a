package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
)

func overviewSample() []bench.Result {
	r := func(im, w, m string, v float64) bench.Result {
		return bench.Result{Impl: im, Workload: w, Metric: m, Value: v, Samples: []float64{v}}
	}
	var rs []bench.Result
	for _, im := range []struct {
		name                     string
		min, p50, mean, p99, max float64
	}{
		{"hotloop", 2, 500, 510, 1090, 1100},
		{"hotloop-spin", 0, 0.4, 2, 30, 40}, // a minimum of 0 sits on the axis
		{"seed", 0.5, 70, 61, 98, 101},
		{"node", -290, 500, -12, 900, 990}, // fired early: left out
	} {
		rs = append(rs,
			r(im.name, "W3", "lateness_min_us", im.min), r(im.name, "W3", "lateness_p50_us", im.p50),
			r(im.name, "W3", "lateness_mean_us", im.mean), r(im.name, "W3", "lateness_p99_us", im.p99),
			r(im.name, "W3", "lateness_max_us", im.max))
	}
	rs = append(rs,
		r("hotloop", "W1", "ns_per_callback", 7), r("seed", "W1", "ns_per_callback", 110),
		r("hotloop", "W8/N=100000", "ns_per_reset", 20), r("hotloop", "W8/N=100000", "ns_per_reset_remote", 22),
		r("seed", "W8/N=100000", "ns_per_reset", 360), r("seed", "W8/N=100000", "early", 1), // early: left out
		r("hotloop", "W2/N=1000", "cpu_us_per_timer", 2), r("hotloop", "W2/N=100000", "cpu_us_per_timer", 1.1),
		r("seed", "W2/N=1000", "cpu_us_per_timer", 2.6), // one size only: no line
		r("hotloop", "W9/n=1", "throughput_per_s", 800000), r("hotloop", "W9/n=2", "throughput_per_s", 1600000),
		r("goworkers", "W9/n=1", "throughput_per_s", 790000), r("goworkers", "W9/n=2", "throughput_per_s", 1400000),
	)
	return rs
}

func TestOverviewFigures(t *testing.T) {
	tb := Build(overviewSample())
	var names []string
	for _, r := range LatenessRanges(tb) {
		names = append(names, r.Impl)
	}
	if got := strings.Join(names, ","); got != "hotloop,hotloop-spin,seed" {
		t.Errorf("lateness ranges of %s, want hotloop,hotloop-spin,seed (node fired early)", got)
	}
	c, ok := CostChart(tb)
	if !ok || strings.Join(c.Categories, "|") != "post, loop (W1)|Reset, loop (W8)|Reset, 4 goroutines (W8)" || !strings.Contains(c.Subtitle, "N=100000") {
		t.Fatalf("cost chart categories %q", c.Categories)
	}
	if _, has := c.Values[1]["seed"]; has {
		t.Error("seed's W8 Resets fired a timer early: they should be left out")
	}
	w2, ok := ScalingW2(tb)
	if !ok || len(w2.Series) != 1 || w2.Series[0].Impl != "hotloop" || w2.Series[0].X[1] != 100000 {
		t.Errorf("W2 scaling %+v", w2.Series)
	}
	w9, ok := ScalingW9(tb)
	if !ok || len(w9.Series) != 2 || w9.Series[1].Y[1] != 1400000 {
		t.Errorf("W9 scaling %+v", w9.Series)
	}
	if _, ok := ScalingW9(Build(nil)); ok {
		t.Error("no W9 rows: no chart")
	}
}

func TestOverviewSVGsAreWellFormed(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteSVGDir(dir, Build(overviewSample()), nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{LatenessFile, CostFile, ScalingW2File, ScalingW9File} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", f, err)
				}
				break
			}
		}
		if bytes.Contains(b, []byte("NaN")) || bytes.Contains(b, []byte("Inf")) {
			t.Errorf("%s has a non-finite coordinate", f)
		}
	}
	// Empty inputs draw an empty chart, not a broken one.
	var b bytes.Buffer
	if err := WriteLatenessSVG(&b, nil, ""); err != nil || bytes.Contains(b.Bytes(), []byte("NaN")) {
		t.Errorf("empty lateness chart: %v", err)
	}
	b.Reset()
	if err := WriteScalingSVG(&b, Scaling{}); err != nil || bytes.Contains(b.Bytes(), []byte("NaN")) {
		t.Errorf("empty scaling chart: %v", err)
	}
}

// Every implementation keeps one colour across charts and runs, and no two
// of those a run can have share one.
func TestColourOfIsStableAndDistinct(t *testing.T) {
	seen := map[string]string{}
	names := []string{"asyncio", "uvloop", "node", "libuv"}
	for _, im := range bench.Impls() {
		names = append(names, im.Name)
	}
	for _, n := range names {
		c := colourOf(n)
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s share %s", n, other, c)
		}
		seen[c] = n
	}
	if colourOf("hotloop") != palette[0] || colourOf("some-new-impl") != colourOf("some-new-impl") {
		t.Error("hotloop should have the first colour, and any name always the same one")
	}
}

func TestTickLabelShort(t *testing.T) {
	for v, want := range map[float64]string{1: "1", 500: "500", 1000: "1000", 20000: "20k", 500000: "500k", 1e6: "1M", 1.5e6: "1.5M", 0.5: FormatValue(0.5)} {
		if got := tickLabel(v); got != want {
			t.Errorf("tickLabel(%v) = %q, want %q", v, got, want)
		}
	}
}
