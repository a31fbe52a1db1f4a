package bench

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// slow workloads wait on real timers or idle periods; -short skips them.
var slow = map[string]bool{"W4": true, "W5": true, "W7": true}

// TestEveryImplRunsEveryWorkload runs each registered implementation over
// each workload in TinyConfig and checks the shape of the results only:
// the machine is shared and noisy, so no figure is asserted.
func TestEveryImplRunsEveryWorkload(t *testing.T) {
	cfg := TinyConfig()
	impls := Impls()
	if len(impls) < 4 {
		t.Fatalf("expected hotloop, gotimers, goja and seed; got %d implementations", len(impls))
	}
	for _, im := range impls {
		for _, w := range Workloads {
			t.Run(im.Name+"/"+w, func(t *testing.T) {
				if testing.Short() && slow[w] {
					t.Skip("slow workload under -short")
				}
				res, err := im.Run(w, cfg, nil)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if lacks := slices.Contains(im.Lacks, w); lacks != (len(res) == 0) {
					t.Fatalf("%d results, and Lacks says %v", len(res), lacks)
				} else if lacks {
					return
				}
				for _, r := range res {
					if r.Impl != im.Name {
						t.Errorf("impl %q, want %q", r.Impl, im.Name)
					}
					if r.Workload != w && !strings.HasPrefix(r.Workload, w+"/") {
						t.Errorf("workload %q, want %q", r.Workload, w)
					}
					if len(r.Samples) != cfg.Reps {
						t.Errorf("%s: %d samples, want %d", r.Metric, len(r.Samples), cfg.Reps)
					}
					if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
						t.Errorf("%s: value %v", r.Metric, r.Value)
					}
					if r.Metric == "lost" && r.Value != 0 {
						t.Errorf("W1x lost %v callbacks", r.Value)
					}
				}
				checkMetrics(t, im.Name, w, res)
			})
		}
	}
}

func checkMetrics(t *testing.T, impl, w string, res []Result) {
	t.Helper()
	want := map[string][]string{
		"W1":  {"ns_per_callback"},
		"W1x": {"ns_per_callback", "lost"},
		"W2":  {"wall_ms", "cpu_us_per_timer", "lateness_mean_us"},
		"W3":  {"lateness_mean_us", "lateness_p50_us", "lateness_p99_us", "lateness_max_us", "lateness_min_us", "cpu_us_per_timer"},
		"W4":  {"us_per_timer", "lateness_mean_us"},
		"W4b": {"wall_ms", "lateness_mean_us"},
		"W5":  {"elapsed_ms", "cpu_us"},
		"W6":  {"ns_per_pair"},
		"W7":  {"p50_us", "p99_us"},
		"W8":  {"ns_per_reset", "ns_per_reset_remote", "allocs_per_reset", "allocs_per_reset_remote", "early"},
		"W9":  {"throughput_per_s", "scaling", "hop_ns_mean", "hop_p50_us", "hop_p99_us", "hop_cpu_us"},
	}[w]
	got := map[string]bool{}
	for _, r := range res {
		got[r.Metric] = true
		if r.Metric == "early" && r.Value != 0 {
			t.Errorf("%s %s: %v timers fired although every one was pushed back", impl, r.Workload, r.Value)
		}
	}
	for _, m := range want {
		if !got[m] {
			t.Errorf("%s %s: metric %s missing", impl, w, m)
		}
	}
	if w == "W5" {
		canCount := impl == "seed" || impl == "hotloop" || strings.HasPrefix(impl, "hotloop-")
		if got["wakeups"] != canCount {
			t.Errorf("%s W5: wakeups reported = %v, want %v", impl, got["wakeups"], canCount)
		}
	}
}

func TestW2RowsPerSize(t *testing.T) {
	cfg := TinyConfig()
	cfg.W2Sizes = []int{10, 20}
	for _, im := range Impls() {
		if im.Name != "seed" {
			continue
		}
		res, err := im.Run("W2", cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string]int{}
		for _, r := range res {
			rows[r.Workload]++
		}
		// wall, CPU, lateness, and the seed's wake-up count.
		if rows["W2/N=10"] != 4 || rows["W2/N=20"] != 4 {
			t.Fatalf("rows = %v", rows)
		}
	}
}

func TestUnknownWorkload(t *testing.T) {
	_, err := Impls()[0].Run("W99", TinyConfig(), nil)
	if !errors.Is(err, ErrUnknownWorkload) {
		t.Fatalf("err = %v, want ErrUnknownWorkload", err)
	}
}

func TestImplsOrder(t *testing.T) {
	var names []string
	for _, im := range Impls() {
		names = append(names, im.Name)
	}
	got := strings.Join(names, ",")
	if got != "hotloop,hotloop-precise,hotloop-poll,hotloop-spin,hotloop-autospin,hotloop-slack,hotloop-leeway,hotloop-wheel,hotloop-producer,gotimers,goja,seed,goworkers" {
		t.Fatalf("order %s", got)
	}
}

func TestDelaysAreDeterministic(t *testing.T) {
	a, b := delays(100, 0, 10000), delays(100, 0, 10000)
	for i := range a {
		if a[i] != b[i] || a[i] > 10000 {
			t.Fatalf("delay %d: %d vs %d", i, a[i], b[i])
		}
	}
	if a[0] != 723471715%10001 {
		t.Fatalf("first delay %d", a[0])
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1000000: "1,000,000", -1234: "-1,234"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDescribeEveryWorkload(t *testing.T) {
	for _, w := range Workloads {
		if Describe(w, DemoConfig()) == "" {
			t.Errorf("no description of %s", w)
		}
	}
	if d := Describe("W4", DemoConfig()); !strings.HasPrefix(d, "200 timers") {
		t.Errorf("W4 at the demo's size: %q", d)
	}
}
