package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
)

// Adversarial pass on #16 (the verdict).

// DefaultRatio == 0 is used as "hotloop has no figure"; a real ratio of 0
// (peer at 0 with hotloop > 0 on a lower-is-better metric, hotloop's
// throughput 0, or an underflowing ratio) then hides hotloop's loss: the
// sentence says nothing about hotloop and the "by default" count leaves
// the figure out.
func TestAttackVerdictZeroRatioHidesLoss(t *testing.T) {
	cases := map[string][]bench.Result{
		"W5 peer uses 0 µs CPU, hotloop 5": {rr("hotloop", "W5", "cpu_us", 5), rr("gotimers", "W5", "cpu_us", 0)},
		"W9 hotloop throughput 0":          {rr("hotloop", "W9/n=4", "throughput_per_s", 0), rr("goworkers", "W9/n=4", "throughput_per_s", 1000)},
		"W1 ratio underflows to 0":         {rr("hotloop", "W1", "ns_per_callback", 1e300), rr("gotimers", "W1", "ns_per_callback", 1e-300)},
	}
	for name, res := range cases {
		vs := Build(res).Verdicts()
		if len(vs) != 1 {
			t.Fatalf("%s: %d verdicts", name, len(vs))
		}
		s := vs[0].Sentence()
		if !strings.Contains(s, "hotloop ") || !strings.Contains(s, "**behind**") {
			t.Errorf("%s: sentence does not say hotloop is behind: %q", name, s)
		}
		var b bytes.Buffer
		WriteVerdict(&b, vs, "")
		if !strings.Contains(b.String(), "by default is ahead on 0, level on 0, behind on 1") {
			t.Errorf("%s: default count hides the loss:\n%s", name, b.String())
		}
	}
}

// A negative figure on a lower-is-better metric (cpu_us, p99_us: not a
// lateness, so Early does not flag it) makes times() claim a win that is a
// loss, or print a negative factor.
func TestAttackVerdictNegativePeerValue(t *testing.T) {
	// Peer -5 µs is lower (better) than hotloop's 0: not "infinitely less CPU".
	vs := Build([]bench.Result{rr("hotloop", "W5", "cpu_us", 0), rr("gotimers", "W5", "cpu_us", -5)}).Verdicts()
	if len(vs) == 1 && vs[0].DefaultStand == Ahead {
		t.Errorf("hotloop 0 vs peer -5 (lower is better) called ahead: %q", vs[0].Sentence())
	}
	vs = Build([]bench.Result{rr("hotloop", "W5", "cpu_us", -1), rr("gotimers", "W5", "cpu_us", -5)}).Verdicts()
	if len(vs) == 1 && vs[0].DefaultStand == Ahead {
		t.Errorf("hotloop -1 vs peer -5 (lower is better) called ahead: %q", vs[0].Sentence())
	}
	vs = Build([]bench.Result{rr("hotloop", "W5", "cpu_us", 3), rr("gotimers", "W5", "cpu_us", -5)}).Verdicts()
	if len(vs) == 1 && strings.Contains(vs[0].Sentence(), "-") && strings.Contains(vs[0].Sentence(), "× more") {
		if s := vs[0].Sentence(); strings.Contains(s, ", -") {
			t.Errorf("negative factor printed: %q", s)
		}
	}
	vs = Build([]bench.Result{rr("hotloop", "W9/n=4", "throughput_per_s", -10), rr("goworkers", "W9/n=4", "throughput_per_s", 0)}).Verdicts()
	if len(vs) == 1 && strings.Contains(vs[0].Sentence(), "-0.0×") {
		t.Errorf("nonsense factor: %q", vs[0].Sentence())
	}
}

// When every hotloop figure of a row is flagged early (default early, no
// mode), the best-mode count leaves the figure out: "in its best mode ...
// behind on 0" of 1 figure, though nothing of hotloop's was valid.
func TestAttackVerdictEarlyDefaultMissingFromBestCount(t *testing.T) {
	vs := Build([]bench.Result{rr("hotloop", "W3", "lateness_mean_us", -5), rr("seed", "W3", "lateness_mean_us", 50)}).Verdicts()
	var b bytes.Buffer
	WriteVerdict(&b, vs, "")
	if !strings.Contains(b.String(), "in its best mode for each figure it is ahead on 0, level on 0, behind on 1") {
		t.Errorf("best-mode count omits an all-early figure:\n%s", b.String())
	}
}

func rr(im, w, m string, v float64) bench.Result {
	return bench.Result{Impl: im, Workload: w, Metric: m, Value: v, Samples: []float64{v}}
}

// W9's throughput headline is the row with the largest n, whatever the
// order of the rows (a -redraw of merged files).
func TestVerdictW9LargestN(t *testing.T) {
	vs := Build([]bench.Result{
		rr("hotloop", "W9/n=16", "throughput_per_s", 9), rr("goworkers", "W9/n=16", "throughput_per_s", 10),
		rr("hotloop", "W9/n=2", "throughput_per_s", 2), rr("goworkers", "W9/n=2", "throughput_per_s", 1),
	}).Verdicts()
	if len(vs) != 1 || vs[0].Row.Workload != "W9/n=16" {
		t.Fatalf("%+v", vs)
	}
}

// A figure with modes but no default reads as one sentence, with single
// spaces.
func TestVerdictNoDefaultSentence(t *testing.T) {
	vs := Build([]bench.Result{rr("hotloop-spin", "W3", "lateness_mean_us", 2), rr("seed", "W3", "lateness_mean_us", 60)}).Verdicts()
	if len(vs) != 1 || strings.Contains(vs[0].Sentence(), "  ") || !strings.Contains(vs[0].Sentence(), "Best mode") {
		t.Fatalf("%q", vs[0].Sentence())
	}
}
