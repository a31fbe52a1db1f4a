package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
	"github.com/hotloop/hotloop/benchmarks/compare/internal/report"
)

func TestPick(t *testing.T) {
	known := []string{"W1", "W1x", "W3"}
	got, err := pick("w1, W3", known, []string{"W1x"}, "workload")
	if err != nil || strings.Join(got, ",") != "W1,W3" {
		t.Fatalf("pick = %v, %v", got, err)
	}
	if all, _ := pick("", known, nil, "workload"); len(all) != 3 {
		t.Fatalf("empty list with no default should mean all: %v", all)
	}
	if def, _ := pick("", known, []string{"W1x"}, "workload"); strings.Join(def, ",") != "W1x" {
		t.Fatalf("empty list should mean the default: %v", def)
	}
	if _, err := pick("W9", known, nil, "workload"); err == nil {
		t.Fatal("unknown name should be an error")
	}
}

func TestRunOneWorkloadWritesTableAndJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"-quick", "-workload", "W1", "-impl", "seed,gotimers", "-json", "-"}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	res, err := report.ReadJSONLines(&out)
	if err != nil || len(res) != 2 {
		t.Fatalf("JSON lines: %v %+v", err, res)
	}
	if !strings.Contains(errOut.String(), "| W1 | ns_per_callback |") {
		t.Fatalf("table missing from stderr:\n%s", errOut.String())
	}
}

func TestRunRejectsUnknownFlagValues(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-impl", "nope"}, &out, &errOut); err == nil {
		t.Fatal("unknown implementation accepted")
	}
	if err := run([]string{"-workload", "W0"}, &out, &errOut); err == nil {
		t.Fatal("unknown workload accepted")
	}
}

func TestRedrawFromSavedJSONLines(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "run.jsonl")
	lines := `{"impl":"hotloop","workload":"W1","metric":"ns_per_callback","value":10,"samples":[10]}
{"impl":"seed","workload":"W1","metric":"ns_per_callback","value":50,"samples":[50]}
`
	if err := os.WriteFile(saved, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	charts := filepath.Join(dir, "charts")
	if err := run([]string{"-redraw", saved, "-svg", charts}, &out, &errOut); err != nil {
		t.Fatalf("run -redraw: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "| W1 | ns_per_callback | 10.0 | 50.0 | 0.20× (seed) |") {
		t.Fatalf("table not redrawn:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(charts, "W1_ns.svg")); err != nil {
		t.Fatalf("chart not drawn: %v", err)
	}
	if err := run([]string{"-redraw", filepath.Join(dir, "missing.jsonl")}, &out, &errOut); err == nil {
		t.Fatal("a missing -redraw file should be an error")
	}
}

func TestDefaultRunIsTheDemoSubsetAndEndsWithAVerdict(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-workload", "W1", "-reps", "1", "-warmup", "0", "-json", "-"}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	res, err := report.ReadJSONLines(&out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.Impl)
	}
	var want []string
	for _, name := range bench.DemoImpls {
		if name != "goworkers" { // W9 only
			want = append(want, name)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("default run ran %v, want %v", got, want)
	}
	md := errOut.String()
	if !strings.Contains(md, "W1 (1 of 1): 50,000 callbacks") {
		t.Errorf("no progress line for W1:\n%s", md)
	}
	if i, j := strings.Index(md, "| W1 | ns_per_callback |"), strings.Index(md, "## Verdict"); i < 0 || j < i {
		t.Errorf("the verdict should follow the table:\n%s", md)
	}
	if !strings.Contains(md, "- **W1** (cost of a callback posted on the loop): best peer") {
		t.Errorf("no W1 verdict:\n%s", md)
	}
}

func TestFullAndQuickExcludeEachOther(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-full", "-quick"}, &out, &errOut); err == nil {
		t.Fatal("-full -quick accepted")
	}
}
