package report

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// PrecisionPoint is one implementation's place in the precision chart:
// its W3 lateness (p50 and p99) against its CPU per timer, all in µs.
type PrecisionPoint struct {
	Impl          string
	CPU, P50, P99 float64
}

// PrecisionFile is the precision chart's file name in an -svg directory.
const PrecisionFile = "W3_precision.svg"

// PrecisionPoints takes from t's W3 rows every implementation that has a
// p50, a p99 and a CPU per timer, in column order. One whose lateness is
// negative (a timer fired early) is left out, as it never counts as a best
// peer in the table either.
func PrecisionPoints(t Table) []PrecisionPoint {
	p50 := t.Cells[RowKey{"W3", "lateness_p50_us"}]
	p99 := t.Cells[RowKey{"W3", "lateness_p99_us"}]
	cpu := t.Cells[RowKey{"W3", "cpu_us_per_timer"}]
	var pts []PrecisionPoint
	for _, im := range t.Impls {
		a, ok1 := p50[im]
		b, ok2 := p99[im]
		c, ok3 := cpu[im]
		if p := (PrecisionPoint{im, c, a, b}); ok1 && ok2 && ok3 && p.drawable() {
			pts = append(pts, p)
		}
	}
	return pts
}

// drawable reports whether p can be placed on the chart's log axes: finite
// figures, a positive CPU, and no negative lateness (a lateness of 0 sits
// on the axis).
func (p PrecisionPoint) drawable() bool {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	return finite(p.CPU) && finite(p.P50) && finite(p.P99) && p.CPU > 0 && p.P50 >= 0 && p.P99 >= 0
}

// WritePrecisionSVG draws pts as a scatter on two logarithmic axes: CPU per
// timer across, lateness up; each implementation a line from its p50 (dot)
// to its p99 (ring). Down and to the left is better. Points that cannot be
// placed on log axes (not finite, a CPU of 0 or less, a negative lateness)
// are left out.
func WritePrecisionSVG(w io.Writer, pts []PrecisionPoint, subtitle string) error {
	const (
		width, height = 820, 560
		left, right   = 70, 190 // the legend is on the right
		top, bottom   = 60, 50
	)
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	var ok []PrecisionPoint
	for _, p := range pts {
		if p.drawable() {
			ok = append(ok, p)
		}
	}
	pts = ok
	xlo, xhi, ylo, yhi := math.Inf(1), 0.0, math.Inf(1), 0.0
	for _, p := range pts {
		xlo, xhi = math.Min(xlo, p.CPU), math.Max(xhi, p.CPU)
		for _, v := range []float64{p.P50, p.P99} {
			if v > 0 {
				ylo, yhi = math.Min(ylo, v), math.Max(yhi, v)
			}
		}
	}
	if len(pts) == 0 {
		xlo, xhi = 1, 10
	}
	if math.IsInf(ylo, 1) { // no positive lateness: every point on the axis
		ylo, yhi = 1, 10
	}
	decades := func(lo, hi float64) (float64, float64) {
		a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if a == b {
			b++
		}
		return a, b
	}
	xa, xb := decades(xlo, xhi)
	ya, yb := decades(ylo, yhi)
	x := func(v float64) float64 { return float64(left) + (math.Log10(v)-xa)/(xb-xa)*plotW }
	y := func(v float64) float64 {
		v = math.Max(v, math.Pow(10, ya)) // a lateness of 0 sits on the axis
		return float64(top) + plotH - (math.Log10(v)-ya)/(yb-ya)*plotH
	}
	var b strings.Builder
	openSVG(&b, width, height)
	fmt.Fprintf(&b, `<text x="12" y="22" font-size="16" font-weight="bold">Timer lateness against CPU per timer (W3)</text>`+"\n")
	fmt.Fprintf(&b, `<text x="12" y="40" fill="#555">%s</text>`+"\n", esc(trim(subtitle, 120)))
	// Grid and axes: one line per decade, with 2× and 5× minor lines.
	for _, tk := range logTicks(xa, xb) {
		gx := x(tk.v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", gx, top, gx, height-bottom, tk.stroke)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#777" text-anchor="middle" font-size="10">%s</text>`+"\n", gx, height-bottom+14, esc(tickLabel(tk.v)))
	}
	for _, tk := range logTicks(ya, yb) {
		gy := y(tk.v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", left, gy, width-right, gy, tk.stroke)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="#777" text-anchor="end" dominant-baseline="middle" font-size="10">%s</text>`+"\n", left-6, gy, esc(tickLabel(tk.v)))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">CPU per timer, µs (log scale)</text>`+"\n", float64(left)+plotW/2, height-14)
	fmt.Fprintf(&b, `<text x="16" y="%.0f" text-anchor="middle" transform="rotate(-90 16 %.0f)">lateness, µs (log scale): dot p50, ring p99</text>`+"\n", float64(top)+plotH/2, float64(top)+plotH/2)
	// Points, and the legend on the right.
	for i, p := range pts {
		c := colourOf(p.Impl)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n", x(p.CPU), y(p.P50), x(p.CPU), y(p.P99), c)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s"><title>%s: p50 %s µs, CPU %s µs per timer</title></circle>`+"\n", x(p.CPU), y(p.P50), c, esc(p.Impl), esc(FormatValue(p.P50)), esc(FormatValue(p.CPU)))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="#ffffff" stroke="%s" stroke-width="2"><title>%s: p99 %s µs</title></circle>`+"\n", x(p.CPU), y(p.P99), c, esc(p.Impl), esc(FormatValue(p.P99)))
		ly := top + 10 + i*36
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="5" fill="%s"/><text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", width-right+18, ly, c, width-right+30, ly, esc(p.Impl))
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555" font-size="10">p50 %s, p99 %s, CPU %s</text>`+"\n", width-right+30, ly+15, esc(FormatValue(p.P50)), esc(FormatValue(p.P99)), esc(FormatValue(p.CPU)))
	}
	fmt.Fprintln(&b, `</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

// logTick is one grid line of a logarithmic axis.
type logTick struct {
	v      float64
	stroke string // darker at each power of ten
}

// logTicks returns the grid lines of a log axis from 10^a to 10^b (a < b,
// both finite): each power of ten and its 2× and 5×. O(b − a).
func logTicks(a, b float64) []logTick {
	var ts []logTick
	for e := a; e <= b; e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v > math.Pow(10, b) {
				break
			}
			stroke := "#eeeeee"
			if m == 1 {
				stroke = "#d0d0d0"
			}
			ts = append(ts, logTick{v, stroke})
		}
	}
	return ts
}
