package bench

import (
	"os"
	"testing"
)

func TestProfTmp(t *testing.T) {
	w := os.Getenv("PROF_W")
	if w == "" {
		t.Skip()
	}
	cfg := DefaultConfig()
	cfg.Warmup, cfg.Reps = 1, 20
	for _, im := range Impls() {
		if im.Name != os.Getenv("PROF_IMPL") {
			continue
		}
		res, err := im.Run(w, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			t.Logf("%s %s %.1f", r.Workload, r.Metric, r.Value)
		}
	}
}
