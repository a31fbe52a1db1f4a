package report

import (
	"context"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	a4Width, a4Height = 820, 560
	a4Left, a4Right   = 70, 190
	a4Top, a4Bottom   = 60, 50
)

func a4svg(t *testing.T, pts []PrecisionPoint) string {
	t.Helper()
	var b strings.Builder
	if err := WritePrecisionSVG(&b, pts, "attack4"); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var a4dot = regexp.MustCompile(`<circle cx="([^"]+)" cy="([^"]+)" r="5" fill="(#[0-9a-f]+)"><title>`)

// a4checkInside fails unless every p50 dot lies inside the plot area and
// the SVG has no NaN/Inf coordinates.
func a4checkInside(t *testing.T, name, svg string) {
	t.Helper()
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Errorf("%s: SVG contains NaN/Inf coordinates", name)
	}
	for _, m := range a4dot.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		if !(x >= a4Left && x <= a4Width-a4Right && y >= a4Top && y <= a4Height-a4Bottom) {
			t.Errorf("%s: a p50 dot at (%s, %s), outside the plot [%d,%d]x[%d,%d]", name, m[1], m[2], a4Left, a4Width-a4Right, a4Top, a4Height-a4Bottom)
		}
	}
}

func TestAttack4PrecisionZeroAndOnePoint(t *testing.T) {
	svg := a4svg(t, nil)
	if !strings.HasSuffix(strings.TrimSpace(svg), "</svg>") || strings.Contains(svg, "NaN") {
		t.Errorf("zero points: bad SVG")
	}
	a4checkInside(t, "one point", a4svg(t, []PrecisionPoint{{"x", 7, 50, 50}}))
	a4checkInside(t, "one point, p50 < p99", a4svg(t, []PrecisionPoint{{"x", 3, 0.4, 900}}))
}

// TestAttack4PrecisionAllLatenessZero: a point whose p50 and p99 are both
// 0 (a spinning loop measured at the clock's resolution) and CPU 500 us.
// PrecisionPoints keeps it (a >= 0, b >= 0, c > 0). WritePrecisionSVG then
// finds no positive lateness (ylo stays +Inf) and resets the x range too,
// to 1..10, so the point at CPU 500 is drawn far right of the plot.
func TestAttack4PrecisionAllLatenessZero(t *testing.T) {
	tab := Table{Impls: []string{"spin"}, Cells: map[RowKey]map[string]float64{
		{"W3", "lateness_p50_us"}:  {"spin": 0},
		{"W3", "lateness_p99_us"}:  {"spin": 0},
		{"W3", "cpu_us_per_timer"}: {"spin": 500},
	}}
	pts := PrecisionPoints(tab)
	if len(pts) != 1 {
		t.Fatalf("points %+v", pts)
	}
	a4checkInside(t, "lateness 0, CPU 500", a4svg(t, pts))
	// One lateness 0 beside positive ones is fine (sits on the axis).
	a4checkInside(t, "p50 0, p99 5", a4svg(t, []PrecisionPoint{{"a", 500, 0, 5}, {"b", 20, 3, 40}}))
}

func TestAttack4PrecisionPointsFilterNaN(t *testing.T) {
	nan := math.NaN()
	tab := Table{Impls: []string{"n1", "n2", "n3", "ok"}, Cells: map[RowKey]map[string]float64{
		{"W3", "lateness_p50_us"}:  {"n1": nan, "n2": 1, "n3": 1, "ok": 1},
		{"W3", "lateness_p99_us"}:  {"n1": 1, "n2": nan, "n3": 1, "ok": 2},
		{"W3", "cpu_us_per_timer"}: {"n1": 1, "n2": 1, "n3": nan, "ok": 3},
	}}
	pts := PrecisionPoints(tab)
	if len(pts) != 1 || pts[0].Impl != "ok" {
		t.Errorf("NaN not filtered: %+v", pts)
	}
}

// TestAttack4PrecisionPointsKeepInf: PrecisionPoints filters NaN and
// negatives but keeps +Inf (a cpu_us_per_timer of cpu/0 when W3Timers is 0:
// bench.go:543, or the C floor's "inf").
func TestAttack4PrecisionPointsKeepInf(t *testing.T) {
	inf := math.Inf(1)
	tab := Table{Impls: []string{"i"}, Cells: map[RowKey]map[string]float64{
		{"W3", "lateness_p50_us"}:  {"i": 1},
		{"W3", "lateness_p99_us"}:  {"i": inf},
		{"W3", "cpu_us_per_timer"}: {"i": 3},
	}}
	if pts := PrecisionPoints(tab); len(pts) != 0 {
		t.Errorf("a point with p99 = +Inf is kept: %+v (WritePrecisionSVG then never returns: TestAttack4PrecisionSVGHangs)", pts)
	}
}

// TestAttack4PrecisionSVGHangs runs WritePrecisionSVG in a child process
// (address space capped at 2 GiB, 4 s) on points with +Inf lateness, +Inf
// CPU, CPU 0, and NaN values: the decade loops `for e := xa; e <= xb; e++`
// never end when an end is ±Inf.
func TestAttack4PrecisionSVGHangs(t *testing.T) {
	cases := map[string]PrecisionPoint{
		"p99=+Inf": {"a", 3, 1, math.Inf(1)},
		"cpu=+Inf": {"a", math.Inf(1), 1, 2},
		"cpu=0":    {"a", 0, 1, 2},
		"p50=NaN":  {"a", 3, math.NaN(), 2},
		"cpu=NaN":  {"a", math.NaN(), 1, 2},
	}
	if c := os.Getenv("ATTACK4_SVG_CHILD"); c != "" {
		lim := syscall.Rlimit{Cur: 2 << 30, Max: 2 << 30}
		_ = syscall.Setrlimit(syscall.RLIMIT_AS, &lim)
		var b strings.Builder
		_ = WritePrecisionSVG(&b, []PrecisionPoint{cases[c]}, "")
		if strings.Contains(b.String(), "NaN") {
			os.Stdout.WriteString("NAN-IN-SVG\n")
		}
		os.Stdout.WriteString("RETURNED\n")
		return
	}
	for name := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAttack4PrecisionSVGHangs$", "-test.timeout=30s")
		cmd.Env = append(os.Environ(), "ATTACK4_SVG_CHILD="+name)
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		s := string(out)
		switch {
		case timedOut:
			t.Errorf("%s: WritePrecisionSVG did not return within 4 s (killed)", name)
		case !strings.Contains(s, "RETURNED"):
			i := strings.Index(s, "fatal error")
			if i < 0 {
				i = 0
			}
			t.Errorf("%s: WritePrecisionSVG did not return: %v: %.200s", name, err, s[i:])
		case strings.Contains(s, "NAN-IN-SVG"):
			t.Errorf("%s: returned an SVG with NaN coordinates", name)
		}
	}
}
