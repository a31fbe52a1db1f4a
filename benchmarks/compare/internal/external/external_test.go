package external

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
)

func TestConfigJSON(t *testing.T) {
	c := NewConfig(bench.FullConfig(), []string{"W1", "W3"})
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"workloads", "Warmup", "Reps", "W1Callbacks", "W1xPerProd", "W2Sizes", "W3Timers", "W4Timers", "W5DelayNs", "W6Timers", "W7Samples", "W7IdleBetweenNs", "W8Sizes", "W8Rounds", "W8Chunk", "W8DelayNs", "timeout"} {
		if _, ok := m[k]; !ok {
			t.Errorf("config lacks %s", k)
		}
	}
	if m["W5DelayNs"].(float64) != 1e8 {
		t.Errorf("W5DelayNs = %v", m["W5DelayNs"])
	}
}

func TestScriptDir(t *testing.T) {
	if _, err := ScriptDir("does-not-exist"); err != nil {
		t.Fatalf("should fall back to the module's external/: %v", err)
	}
}

// TestScriptsRunTiny runs each installed external peer over every workload
// in the tiny configuration and checks only the shape of what it prints.
func TestScriptsRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts interpreters")
	}
	dir, err := ScriptDir("../../external")
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig(bench.TinyConfig(), bench.Workloads)
	for _, p := range Peers {
		t.Run(p.Name, func(t *testing.T) {
			if err := p.Probe(dir); err != nil {
				t.Skip(err)
			}
			res, err := Run(p, dir, cfg, 2*time.Minute, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, r := range res {
				seen[strings.SplitN(r.Workload, "/", 2)[0]] = true
				if len(r.Samples) != cfg.Reps {
					t.Errorf("%s %s: %d samples", r.Workload, r.Metric, len(r.Samples))
				}
				if r.Metric == "early" && r.Value != 0 {
					t.Errorf("%s: %v timers fired although pushed back", r.Workload, r.Value)
				}
			}
			lacks := map[string]bool{}
			for _, w := range p.Lacks {
				lacks[w] = true
			}
			for _, w := range bench.Workloads {
				if !seen[w] && !lacks[w] {
					t.Errorf("no result for %s", w)
				}
				if seen[w] && lacks[w] {
					t.Errorf("result for %s, which it is said to lack", w)
				}
			}
		})
	}
}

// The external peers run W1 and W1x as many times as the in-process ones
// (adversarial pass on #16: they were handed Reps only, 3 against 15).
func TestNewConfigPassesFastReps(t *testing.T) {
	cfg := bench.DemoConfig()
	if ec := NewConfig(cfg, []string{"W1"}); ec.FastReps != cfg.FastReps || ec.Reps != cfg.Reps {
		t.Errorf("external config: Reps %d FastReps %d, want %d and %d", ec.Reps, ec.FastReps, cfg.Reps, cfg.FastReps)
	}
	cfg.FastReps = 0
	if ec := NewConfig(cfg, []string{"W1"}); ec.FastReps != cfg.Reps {
		t.Errorf("no FastReps: %d, want Reps %d", ec.FastReps, cfg.Reps)
	}
}
