package report

import (
	"strings"
	"testing"
)

// TestPrecisionChart: the W3 rows that carry p50, p99 and CPU per timer
// give one point pair per implementation, in column order; an
// implementation missing any of the three (or with a negative lateness,
// a timer fired early) is left out; the SVG names every point and draws
// both log axes.
func TestPrecisionChart(t *testing.T) {
	tab := Table{Impls: []string{"hotloop", "floor", "peer", "early"}, Cells: map[RowKey]map[string]float64{}}
	set := func(metric string, vs map[string]float64) {
		k := RowKey{"W3", metric}
		tab.Rows = append(tab.Rows, k)
		tab.Cells[k] = vs
	}
	set("lateness_p50_us", map[string]float64{"hotloop": 500, "floor": 20, "peer": 600, "early": -3})
	set("lateness_p99_us", map[string]float64{"hotloop": 1000, "floor": 60, "early": 5})
	set("cpu_us_per_timer", map[string]float64{"hotloop": 7, "floor": 13, "peer": 9, "early": 2})
	pts := PrecisionPoints(tab)
	if len(pts) != 2 || pts[0].Impl != "hotloop" || pts[1].Impl != "floor" {
		t.Fatalf("points %+v, want hotloop then floor", pts)
	}
	if p := pts[1]; p.CPU != 13 || p.P50 != 20 || p.P99 != 60 {
		t.Fatalf("floor's point %+v", p)
	}
	var b strings.Builder
	if err := WritePrecisionSVG(&b, pts, "W3: 100 timers"); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	for _, want := range []string{"<svg", "hotloop", "floor", "CPU per timer", "lateness", "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, ">peer<") || strings.Contains(svg, ">early<") {
		t.Error("an implementation without all three figures, or with an early timer, was drawn")
	}
	if len(PrecisionPoints(Table{Cells: map[RowKey]map[string]float64{}})) != 0 {
		t.Error("points from an empty table")
	}
}
