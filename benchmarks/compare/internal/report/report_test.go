package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
)

func sample() []bench.Result {
	return []bench.Result{
		{Impl: "seed", Workload: "W1", Metric: "ns_per_callback", Value: 40, Samples: []float64{40, 41}},
		{Impl: "hotloop", Workload: "W1", Metric: "ns_per_callback", Value: 20, Samples: []float64{20, 21}},
		{Impl: "goja", Workload: "W1", Metric: "ns_per_callback", Value: 80, Samples: []float64{80}},
		{Impl: "seed", Workload: "W5", Metric: "wakeups", Value: 100, Samples: []float64{100}},
		{Impl: "hotloop", Workload: "W5", Metric: "wakeups", Value: 1, Samples: []float64{1}},
		{Impl: "seed", Workload: "W1x", Metric: "lost", Value: 0, Samples: []float64{0}},
		{Impl: "hotloop", Workload: "W1x", Metric: "lost", Value: 0, Samples: []float64{0}},
		{Impl: "node", Workload: "W3", Metric: "lateness_min_us", Value: -290, Samples: []float64{-290}},
		{Impl: "seed", Workload: "W3", Metric: "lateness_min_us", Value: 5, Samples: []float64{5}},
		{Impl: "hotloop", Workload: "W3", Metric: "lateness_min_us", Value: 10, Samples: []float64{10}},
		{Impl: "seed", Workload: "W2/N=100", Metric: "wall_ms", Value: 10.5, Samples: []float64{10.5}},
		{Impl: "hotloop", Workload: "W4", Metric: "us_per_timer", Value: 1000, Samples: []float64{1000}},
		{Impl: "seed", Workload: "W4", Metric: "us_per_timer", Value: 150, Samples: []float64{150}},
		{Impl: "node", Workload: "W4", Metric: "us_per_timer", Value: 8, Samples: []float64{8}},
		{Impl: "node", Workload: "W4", Metric: "lateness_mean_us", Value: -90, Samples: []float64{-90}},
		{Impl: "seed", Workload: "W2/N=1000", Metric: "wall_ms", Value: 12.25, Samples: []float64{12.25}},
		{Impl: "goja", Workload: "W2/N=1000", Metric: "wall_ms", Value: math.NaN(), Samples: []float64{math.NaN()}},
	}
}

func TestBuildOrdersColumnsAndRows(t *testing.T) {
	tb := Build(sample())
	if got := strings.Join(tb.Impls, ","); got != "hotloop,seed,goja,node" {
		t.Fatalf("columns %s", got)
	}
	if tb.Rows[0] != (RowKey{"W1", "ns_per_callback"}) || len(tb.Rows) != 8 {
		t.Fatalf("rows %v", tb.Rows)
	}
	if _, ok := tb.Cells[RowKey{"W2/N=1000", "wall_ms"}]["goja"]; ok {
		t.Fatal("NaN should be dropped")
	}
}

func TestRatio(t *testing.T) {
	tb := Build(sample())
	cases := map[RowKey]string{
		{"W1", "ns_per_callback"}:   "0.50× (seed)",
		{"W5", "wakeups"}:           "0.01× (seed)",
		{"W1x", "lost"}:             "= (seed)",
		{"W3", "lateness_min_us"}:   "2.00× (seed)", // node's early fire is not "best"
		{"W4", "us_per_timer"}:      "6.67× (seed)", // nor are its other W4 figures
		{"W2/N=100", "wall_ms"}:     "–",            // no hotloop value
		{"W2/N=1000", "wall_ms"}:    "–",
		{"W9", "does_not_exist_us"}: "–",
	}
	for k, want := range cases {
		if got := tb.Ratio(k); got != want {
			t.Errorf("Ratio(%v) = %q, want %q", k, got, want)
		}
	}
}

// TestRatioHigherIsBetter: for W9's throughput and scaling the best peer
// is the highest, and the ratio is the peer's over hotloop's, so that below
// 1.00× still means hotloop is ahead.
func TestRatioHigherIsBetter(t *testing.T) {
	tb := Build([]bench.Result{
		{Impl: "hotloop", Workload: "W9/n=2", Metric: "throughput_per_s", Value: 100, Samples: []float64{100}},
		{Impl: "hotloop-precise", Workload: "W9/n=2", Metric: "throughput_per_s", Value: 400, Samples: []float64{400}}, // a variant: never the peer
		{Impl: "goworkers", Workload: "W9/n=2", Metric: "throughput_per_s", Value: 200, Samples: []float64{200}},
		{Impl: "other", Workload: "W9/n=2", Metric: "throughput_per_s", Value: 50, Samples: []float64{50}},
		{Impl: "hotloop", Workload: "W9/n=2", Metric: "scaling", Value: 0.9, Samples: []float64{0.9}},
		{Impl: "goworkers", Workload: "W9/n=2", Metric: "scaling", Value: 0.45, Samples: []float64{0.45}},
		{Impl: "hotloop", Workload: "W9/pingpong", Metric: "hop_p99_us", Value: 2, Samples: []float64{2}},
		{Impl: "goworkers", Workload: "W9/pingpong", Metric: "hop_p99_us", Value: 1, Samples: []float64{1}},
	})
	for k, want := range map[RowKey]string{
		{"W9/n=2", "throughput_per_s"}: "2.00× (goworkers)",
		{"W9/n=2", "scaling"}:          "0.50× (goworkers)",
		{"W9/pingpong", "hop_p99_us"}:  "2.00× (goworkers)",
	} {
		if got := tb.Ratio(k); got != want {
			t.Errorf("Ratio(%v) = %q, want %q", k, got, want)
		}
	}
}

// TestW8EarlyIsFlagged: a W8 figure of a loop that let pushed-back timers
// fire is flagged and never the best peer.
func TestW8EarlyIsFlagged(t *testing.T) {
	var res []bench.Result
	add := func(im, metric string, v float64) {
		res = append(res, bench.Result{Impl: im, Workload: "W8/N=100", Metric: metric, Value: v, Samples: []float64{v}})
	}
	add("hotloop", "ns_per_reset", 20)
	add("seed", "ns_per_reset", 300)
	add("goja", "ns_per_reset", 10)
	add("hotloop", "early", 0)
	add("seed", "early", 0)
	add("goja", "early", 3)
	tb := Build(res)
	k := RowKey{"W8/N=100", "ns_per_reset"}
	if !tb.Early(k, "goja") || tb.Early(k, "seed") || tb.Early(k, "hotloop") {
		t.Fatalf("Early: goja %v seed %v hotloop %v, want true false false", tb.Early(k, "goja"), tb.Early(k, "seed"), tb.Early(k, "hotloop"))
	}
	if got := tb.Ratio(k); got != "0.07× (seed)" {
		t.Fatalf("Ratio = %q, want 0.07× (seed)", got)
	}
}

func TestWriteMarkdown(t *testing.T) {
	var buf bytes.Buffer
	h := Header{Title: "T", Lines: []string{"nproc: 2"}}
	if err := WriteMarkdown(&buf, h, Build(sample()), []Note{{Key: "seed", Text: "replica"}, {Text: "plain"}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"# T\n",
		"- nproc: 2\n",
		"| workload | metric | hotloop | seed | goja | node | hotloop vs best peer |\n",
		"|---|---|---:|---:|---:|---:|---:|\n",
		"| W1 | ns_per_callback | 20.0 | 40.0 | 80.0 | – | 0.50× (seed) |\n",
		"| W3 | lateness_min_us | 10.0 | 5.00 | – | -290.0 ⚠ | 2.00× (seed) |\n",
		"| W4 | us_per_timer | 1000 | 150.0 | – | 8.00 ⚠ | 6.67× (seed) |\n",
		"- **seed**: replica\n",
		"- plain\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0.00", 1234.5: "1234", 123.45: "123.5", 12.345: "12.3", 1.2345: "1.23", 0.012345: "0.0123", -290: "-290.0"} {
		if got := FormatValue(v); got != want {
			t.Errorf("FormatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestJSONLinesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSONLines(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(sample())-1 { // the NaN one is left out
		t.Fatalf("%d lines", len(lines))
	}
	want := `{"impl":"seed","workload":"W1","metric":"ns_per_callback","value":40,"samples":[40,41]}`
	if lines[0] != want {
		t.Fatalf("first line %s, want %s", lines[0], want)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if len(m) != 5 {
			t.Fatalf("fields %v", m)
		}
	}
	back, err := ReadJSONLines(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(lines) || back[1].Impl != "hotloop" || back[1].Samples[1] != 21 {
		t.Fatalf("round trip %+v", back)
	}
	if _, err := ReadJSONLines(strings.NewReader("{\"impl\":\"x\"}\n")); err == nil {
		t.Fatal("a line without workload and metric should be an error")
	}
}

func TestSVGChartsAreWellFormed(t *testing.T) {
	dir := t.TempDir()
	files, err := WriteSVGDir(dir, Build(sample()), func(f string) string { return "about " + f + " <&>" })
	if err != nil {
		t.Fatal(err)
	}
	var svgs int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(f) != ".svg" {
			continue
		}
		svgs++
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", f, err)
				}
				break
			}
		}
		if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("hotloop")) {
			t.Fatalf("%s lacks svg or legend", f)
		}
	}
	// W1, W5, W1x, W3, W4 (one unit each), W2 (one metric), and the
	// overview of costs (W1): 7 charts.
	if svgs != 7 {
		t.Fatalf("%d charts: %v", svgs, files)
	}
	idx, _ := os.ReadFile(filepath.Join(dir, "index.md"))
	if !strings.Contains(string(idx), "W2_wall_ms.svg") {
		t.Fatalf("index.md: %s", idx)
	}
}

func TestChartsLogScaleWhenWide(t *testing.T) {
	var buf bytes.Buffer
	c := Chart{Title: "x", Unit: "µs", Categories: []string{"a"}, Impls: []string{"p", "q"},
		Values: []map[string]float64{{"p": 1, "q": 5000}}}
	if err := WriteSVG(&buf, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "log scale") {
		t.Fatal("wide range should use a log scale")
	}
	buf.Reset()
	c.Values[0]["q"] = 3
	WriteSVG(&buf, c)
	if !strings.Contains(buf.String(), "linear scale") {
		t.Fatal("narrow range should use a linear scale")
	}
}
