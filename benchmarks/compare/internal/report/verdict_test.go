package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
)

func verdictSample() []bench.Result {
	r := func(im, w, m string, v float64) bench.Result {
		return bench.Result{Impl: im, Workload: w, Metric: m, Value: v, Samples: []float64{v}}
	}
	return []bench.Result{
		// W3: hotloop behind the seed replica, its precise mode far ahead,
		// and a mode that fired early is never the best.
		r("hotloop", "W3", "lateness_mean_us", 500),
		r("hotloop-precise", "W3", "lateness_mean_us", 25),
		r("hotloop-spin", "W3", "lateness_mean_us", 2),
		r("hotloop-slack", "W3", "lateness_mean_us", -1),
		r("gotimers", "W3", "lateness_mean_us", 510),
		r("seed", "W3", "lateness_mean_us", 62),
		// W1: level with Go's timers (within 10 %); a mode within 10 % of
		// the default is not named.
		r("hotloop", "W1", "ns_per_callback", 7.4),
		r("hotloop-x", "W1", "ns_per_callback", 6.8), // not registered: taken to change every workload
		r("gotimers", "W1", "ns_per_callback", 7.0),
		// W2: a Producer does not change W2, so its better figure is noise.
		r("hotloop", "W2/N=1000", "cpu_us_per_timer", 2.0),
		r("hotloop-producer", "W2/N=1000", "cpu_us_per_timer", 1.5),
		r("seed", "W2/N=1000", "cpu_us_per_timer", 2.5),
		// W1x: it changes W1x.
		r("hotloop", "W1x", "ns_per_callback", 140),
		r("hotloop-producer", "W1x", "ns_per_callback", 23),
		r("gotimers", "W1x", "ns_per_callback", 98),
		// W9: higher is better; only the largest n is a headline.
		r("hotloop", "W9/n=1", "throughput_per_s", 800000),
		r("goworkers", "W9/n=1", "throughput_per_s", 1600000),
		r("hotloop", "W9/n=2", "throughput_per_s", 1600000),
		r("goworkers", "W9/n=2", "throughput_per_s", 800000),
		// W5: a figure of 0 is infinitely better.
		r("hotloop", "W5", "cpu_us", 0),
		r("gotimers", "W5", "cpu_us", 150),
		// W6: no peer ran it: no verdict.
		r("hotloop", "W6", "ns_per_pair", 230),
	}
}

func TestVerdicts(t *testing.T) {
	vs := Build(verdictSample()).Verdicts()
	by := map[RowKey]Verdict{}
	for _, v := range vs {
		by[v.Row] = v
	}
	if len(vs) != 6 {
		t.Fatalf("%d verdicts, want 6: %+v", len(vs), vs)
	}
	w3 := by[RowKey{"W3", "lateness_mean_us"}]
	if w3.Peer != "seed" || w3.DefaultStand != Behind || w3.Best != "hotloop-spin" || w3.BestStand != Ahead {
		t.Errorf("W3 verdict %+v", w3)
	}
	if s := w3.Sentence(); !strings.Contains(s, "8.1× later: **behind**") || !strings.Contains(s, "31× closer to the deadline: **ahead**") {
		t.Errorf("W3 sentence %q", s)
	}
	if w1 := by[RowKey{"W1", "ns_per_callback"}]; w1.DefaultStand != Even || w1.Best != "hotloop" || !strings.Contains(w1.Sentence(), "level (within 10 %): **level**. No mode that ran does better by more than 10 %.") {
		t.Errorf("W1 verdict %+v: %q", w1, w1.Sentence())
	}
	if w2 := by[RowKey{"W2/N=1000", "cpu_us_per_timer"}]; w2.Best != "hotloop" || w2.DefaultStand != Ahead {
		t.Errorf("W2: a Producer should not be credited with W2: %+v", w2)
	}
	if w1x := by[RowKey{"W1x", "ns_per_callback"}]; w1x.Best != "hotloop-producer" || w1x.DefaultStand != Behind || w1x.BestStand != Ahead {
		t.Errorf("W1x verdict %+v", w1x)
	}
	if _, ok := by[RowKey{"W9/n=1", "throughput_per_s"}]; ok {
		t.Error("W9/n=1 is not a headline")
	}
	if w9 := by[RowKey{"W9/n=2", "throughput_per_s"}]; w9.DefaultStand != Ahead || !strings.Contains(w9.Sentence(), "2.0× more") {
		t.Errorf("W9 verdict %+v: %q", w9, w9.Sentence())
	}
	if w5 := by[RowKey{"W5", "cpu_us"}]; !strings.Contains(w5.Sentence(), "infinitely less CPU") {
		t.Errorf("W5 sentence %q", w5.Sentence())
	}
}

func TestVerdictEarlyDefaultIsBehind(t *testing.T) {
	tb := Build([]bench.Result{
		{Impl: "hotloop", Workload: "W4", Metric: "lateness_mean_us", Value: -3},
		{Impl: "seed", Workload: "W4", Metric: "lateness_mean_us", Value: 70},
	})
	vs := tb.Verdicts()
	if len(vs) != 1 || vs[0].DefaultStand != Behind || !strings.Contains(vs[0].Sentence(), "not valid") {
		t.Fatalf("%+v", vs)
	}
}

func TestWriteVerdict(t *testing.T) {
	var b bytes.Buffer
	if err := WriteVerdict(&b, Build(verdictSample()).Verdicts(), ""); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"## Verdict",
		"hotloop by default is ahead on 3, level on 1, behind on 2 (behind: W1x ns_per_callback, W3 lateness_mean_us)",
		"in its best mode for each figure it is ahead on 5, level on 1, behind on 0.",
		"| W3 | mean lateness of 1–10 ms timers | seed 62.0 µs | 500.0 µs | **8.1× later** | hotloop-spin 2.00 µs | 31× closer to the deadline |",
		"| W1 | cost of a callback posted on the loop | gotimers 7.00 ns | 7.40 ns | level | (default) | |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	b.Reset()
	if err := WriteVerdict(&b, nil, ""); err != nil || !strings.Contains(b.String(), "run more than one implementation") {
		t.Errorf("empty verdict: %v %q", err, b.String())
	}
}

func TestVerdictCautionAndAdvice(t *testing.T) {
	var b bytes.Buffer
	if err := WriteVerdict(&b, Build(verdictSample()).Verdicts(), "the machine was busy"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "**Caution:** the machine was busy") {
		t.Errorf("no caution:\n%s", out)
	}
	// Advice for the default and for the modes named as best, only.
	if !strings.Contains(out, "- hotloop-spin: `WithPrecise()` + `core.WithSpin(d)`") || !strings.Contains(out, "- hotloop-producer: a `Producer`") {
		t.Errorf("no advice for the modes that won:\n%s", out)
	}
	if strings.Contains(out, "- hotloop-wheel:") {
		t.Errorf("advice for a mode that did not run:\n%s", out)
	}
}
