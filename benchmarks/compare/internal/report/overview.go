package report

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// The overview charts draw a whole run in three pictures: how late each
// implementation fires timers (LatenessSVG), what an operation costs
// (CostChart, drawn by WriteSVG), and how cost and throughput scale
// (ScalingSVG: W2's CPU per timer against N, W9's throughput against n).

// Files of the overview charts in an -svg directory.
const (
	LatenessFile  = "overview_lateness.svg"
	CostFile      = "overview_cost.svg"
	ScalingW2File = "overview_scaling_W2.svg"
	ScalingW9File = "overview_scaling_W9.svg"
)

// costRows are the rows of the cost-per-operation chart: a category label
// and the table row it is read from.
type costRow struct {
	label string
	row   RowKey
}

var costRows = []costRow{
	{"post, loop (W1)", RowKey{"W1", "ns_per_callback"}},
	{"post, 2 goroutines (W1x)", RowKey{"W1x", "ns_per_callback"}},
	{"schedule+cancel (W6)", RowKey{"W6", "ns_per_pair"}},
}

// CostChart gathers the cost of one operation, in ns, per implementation:
// posting a callback from the loop and from other goroutines, scheduling
// and cancelling a timer, and pushing back a timeout at the largest W8 N,
// from the loop and from other goroutines. Cells that Invalid flags are
// left out. ok is false when no row has a figure.
func CostChart(t Table) (c Chart, ok bool) {
	c = Chart{File: CostFile, Title: "Cost per operation", Subtitle: "W1, W1x, W6, W8: median ns per operation", Unit: "ns"}
	rows := costRows
	if w8 := t.rowsOf("W8", "ns_per_reset"); len(w8) > 0 {
		last := largestN(w8).Workload
		c.Subtitle += " (W8 at " + strings.TrimPrefix(last, "W8/") + ")"
		rows = append(rows[:len(rows):len(rows)],
			costRow{"Reset, loop (W8)", RowKey{last, "ns_per_reset"}},
			costRow{"Reset, 4 goroutines (W8)", RowKey{last, "ns_per_reset_remote"}})
	}
	seen := map[string]bool{}
	for _, r := range rows {
		cells, has := t.Cells[r.row]
		if !has {
			continue
		}
		vs := map[string]float64{}
		for _, im := range t.Impls {
			if v, ok := cells[im]; ok && !t.Invalid(r.row, im) && finite(v) {
				vs[im] = v
				seen[im] = true
			}
		}
		if len(vs) == 0 {
			continue
		}
		c.Categories = append(c.Categories, r.label)
		c.Values = append(c.Values, vs)
	}
	for _, im := range t.Impls {
		if seen[im] {
			c.Impls = append(c.Impls, im)
		}
	}
	return c, len(c.Categories) > 0
}

// LatenessRange is one implementation's W3 lateness, in µs.
type LatenessRange struct {
	Impl                     string
	Min, P50, Mean, P99, Max float64
}

// LatenessRanges takes from t's W3 rows every implementation with all five
// figures, none negative (an implementation that fired a timer early is
// left out, as it never counts as a best peer either), in column order.
func LatenessRanges(t Table) []LatenessRange {
	get := func(m string) map[string]float64 { return t.Cells[RowKey{"W3", "lateness_" + m + "_us"}] }
	mn, p50, mean, p99, mx := get("min"), get("p50"), get("mean"), get("p99"), get("max")
	var out []LatenessRange
	for _, im := range t.Impls {
		r := LatenessRange{Impl: im}
		ok := true
		for _, f := range []struct {
			m map[string]float64
			p *float64
		}{{mn, &r.Min}, {p50, &r.P50}, {mean, &r.Mean}, {p99, &r.P99}, {mx, &r.Max}} {
			v, has := f.m[im]
			ok = ok && has && finite(v) && v >= 0
			*f.p = v
		}
		if ok && !t.Early(RowKey{"W3", "lateness_mean_us"}, im) {
			out = append(out, r)
		}
	}
	return out
}

// WriteLatenessSVG draws each implementation's W3 lateness on one
// logarithmic axis: a thin line from min to max, a thick bar from p50 to
// p99 and a tick at the mean. Left is better.
func WriteLatenessSVG(w io.Writer, rs []LatenessRange, subtitle string) error {
	const (
		width       = 820
		left, right = 150, 30
		top, rowH   = 70, 30
	)
	height := top + len(rs)*rowH + 50
	plotW := float64(width - left - right)
	lo, hi := math.Inf(1), 0.0
	for _, r := range rs {
		for _, v := range []float64{r.Min, r.P50, r.Mean, r.P99, r.Max} {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if a == b {
		b++
	}
	x := func(v float64) float64 {
		v = math.Max(v, math.Pow(10, a)) // 0 sits on the axis
		return float64(left) + (math.Log10(v)-a)/(b-a)*plotW
	}
	var s strings.Builder
	openSVG(&s, width, height)
	fmt.Fprintf(&s, `<text x="12" y="22" font-size="16" font-weight="bold">How late timers fire (W3)</text>`+"\n")
	fmt.Fprintf(&s, `<text x="12" y="40" fill="#555">%s</text>`+"\n", esc(trim(subtitle, 120)))
	fmt.Fprintf(&s, `<text x="12" y="56" fill="#555">thin line: min to max; bar: p50 to p99; tick: mean. µs, log scale — left is better</text>`+"\n")
	bottom := top + len(rs)*rowH
	for _, tk := range logTicks(a, b) {
		gx := x(tk.v)
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", gx, top-4, gx, bottom, tk.stroke)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" fill="#777" text-anchor="middle" font-size="10">%s</text>`+"\n", gx, bottom+14, esc(tickLabel(tk.v)))
	}
	fmt.Fprintf(&s, `<text x="%.0f" y="%d" text-anchor="middle">lateness, µs (log scale)</text>`+"\n", float64(left)+plotW/2, bottom+34)
	for i, r := range rs {
		c := colourOf(r.Impl)
		cy := top + i*rowH + rowH/2
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-10, cy, esc(r.Impl))
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5"/>`+"\n", x(r.Min), cy, x(r.Max), cy, c)
		bw := math.Max(x(r.P99)-x(r.P50), 2)
		fmt.Fprintf(&s, `<rect x="%.1f" y="%d" width="%.1f" height="12" fill="%s"><title>%s: min %s, p50 %s, mean %s, p99 %s, max %s µs</title></rect>`+"\n",
			x(r.P50), cy-6, bw, c, esc(r.Impl), FormatValue(r.Min), FormatValue(r.P50), FormatValue(r.Mean), FormatValue(r.P99), FormatValue(r.Max))
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000000" stroke-width="2"/>`+"\n", x(r.Mean), cy-9, x(r.Mean), cy+9)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" fill="#555" font-size="10" dominant-baseline="middle">p50 %s · p99 %s</text>`+"\n", x(r.Max)+6, cy, esc(FormatValue(r.P50)), esc(FormatValue(r.P99)))
	}
	fmt.Fprintln(&s, `</svg>`)
	_, err := io.WriteString(w, s.String())
	return err
}

// Series is one implementation's line in a scaling chart.
type Series struct {
	Impl string
	X, Y []float64
}

// Scaling is a line chart: Y against X for each implementation.
type Scaling struct {
	Title, Subtitle, XLabel, YLabel string
	LogX, LogY                      bool
	Series                          []Series
	// Ideal, if set, names the series whose first point is drawn again
	// multiplied by X ÷ its first X: perfect scaling, dashed.
	Ideal string
}

// ScalingW2 gathers W2's CPU per timer against N for every implementation
// with at least two sizes; ok is false when none has.
func ScalingW2(t Table) (Scaling, bool) {
	sc := Scaling{Title: "CPU per timer as timers pile up (W2)", Subtitle: "N timers at once, delays in [0, 10] ms",
		XLabel: "N, timers at once (log scale)", YLabel: "CPU per timer, µs (log scale)", LogX: true, LogY: true}
	rows := t.rowsOf("W2", "cpu_us_per_timer")
	return sc, sc.gather(t, rows)
}

// ScalingW9 gathers W9's throughput against the number of loops n for
// every implementation with at least two n; ok is false when none has.
func ScalingW9(t Table) (Scaling, bool) {
	sc := Scaling{Title: "Throughput against loops (W9)", Subtitle: "keyed callbacks of about 1 µs of CPU, posted by GOMAXPROCS producers",
		XLabel: "n, loops (workers)", YLabel: "callbacks per second", Ideal: Subject}
	rows := t.rowsOf("W9", "throughput_per_s")
	return sc, sc.gather(t, rows)
}

// gather fills sc's series from rows, each at its size (sizeOf) on X; it
// keeps implementations with two points or more. Cells that Invalid flags
// are left out, and so are points a log axis cannot show.
func (sc *Scaling) gather(t Table, rows []RowKey) bool {
	for _, im := range t.Impls {
		s := Series{Impl: im}
		for _, k := range rows {
			n, sized := sizeOf(k.Workload)
			v, has := t.Cells[k][im]
			if !sized || !has || !finite(v) || t.Invalid(k, im) || (sc.LogY && v <= 0) || (sc.LogX && n <= 0) {
				continue
			}
			s.X, s.Y = append(s.X, n), append(s.Y, v)
		}
		if len(s.X) >= 2 {
			sc.Series = append(sc.Series, s)
		}
	}
	return len(sc.Series) > 0
}

// WriteScalingSVG draws sc as lines with a dot at each point, the legend
// on the right.
func WriteScalingSVG(w io.Writer, sc Scaling) error {
	const (
		width, height = 820, 520
		left, right   = 80, 180
		top, bottom   = 60, 50
	)
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range sc.Series {
		for i := range s.X {
			xlo, xhi = math.Min(xlo, s.X[i]), math.Max(xhi, s.X[i])
			ylo, yhi = math.Min(ylo, s.Y[i]), math.Max(yhi, s.Y[i])
		}
	}
	if len(sc.Series) == 0 {
		xlo, xhi, ylo, yhi = 1, 10, 1, 10
	}
	type axis struct {
		a, b  float64 // log: decades; linear: bounds
		ticks []logTick
		pos   func(v float64) float64 // 0..1
	}
	mk := func(lo, hi float64, log, fromZero bool) axis {
		if log {
			a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
			if a == b {
				b++
			}
			return axis{a, b, logTicks(a, b), func(v float64) float64 { return (math.Log10(v) - a) / (b - a) }}
		}
		if fromZero {
			lo = math.Min(lo, 0)
		}
		step := niceStep((hi - lo) / 5)
		if !fromZero { // counts, such as loops: whole steps
			step = math.Max(1, math.Round(step))
		}
		hi = math.Ceil(hi/step) * step
		if hi <= lo {
			hi = lo + step
		}
		var ts []logTick
		for v := lo; v <= hi+step/2; v += step {
			ts = append(ts, logTick{v, "#e3e3e3"})
		}
		return axis{lo, hi, ts, func(v float64) float64 { return (v - lo) / (hi - lo) }}
	}
	if sc.Ideal != "" { // the ideal line reaches n × the first point
		for _, se := range sc.Series {
			if se.Impl == sc.Ideal {
				yhi = math.Max(yhi, se.Y[0]*se.X[len(se.X)-1]/se.X[0])
			}
		}
	}
	ax, ay := mk(xlo, xhi, sc.LogX, false), mk(ylo, yhi, sc.LogY, true)
	x := func(v float64) float64 { return float64(left) + ax.pos(v)*plotW }
	y := func(v float64) float64 { return float64(top) + plotH - ay.pos(v)*plotH }
	var s strings.Builder
	openSVG(&s, width, height)
	fmt.Fprintf(&s, `<text x="12" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", esc(sc.Title))
	fmt.Fprintf(&s, `<text x="12" y="40" fill="#555">%s</text>`+"\n", esc(trim(sc.Subtitle, 120)))
	for _, tk := range ax.ticks {
		gx := x(tk.v)
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", gx, top, gx, height-bottom, tk.stroke)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" fill="#777" text-anchor="middle" font-size="10">%s</text>`+"\n", gx, height-bottom+14, esc(tickLabel(tk.v)))
	}
	for _, tk := range ay.ticks {
		gy := y(tk.v)
		fmt.Fprintf(&s, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", left, gy, width-right, gy, tk.stroke)
		fmt.Fprintf(&s, `<text x="%d" y="%.1f" fill="#777" text-anchor="end" dominant-baseline="middle" font-size="10">%s</text>`+"\n", left-6, gy, esc(tickLabel(tk.v)))
	}
	fmt.Fprintf(&s, `<text x="%.0f" y="%d" text-anchor="middle">%s</text>`+"\n", float64(left)+plotW/2, height-14, esc(sc.XLabel))
	fmt.Fprintf(&s, `<text x="16" y="%.0f" text-anchor="middle" transform="rotate(-90 16 %.0f)">%s</text>`+"\n", float64(top)+plotH/2, float64(top)+plotH/2, esc(sc.YLabel))
	for _, se := range sc.Series {
		if se.Impl != sc.Ideal {
			continue
		}
		x0, x1 := se.X[0], se.X[len(se.X)-1]
		y1 := se.Y[0] * x1 / x0
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n", x(x0), y(se.Y[0]), x(x1), y(y1), colourOf(se.Impl))
		ly := top + 10 + len(sc.Series)*22
		fmt.Fprintf(&s, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/><text x="%d" y="%d" dominant-baseline="middle">%s × n (ideal)</text>`+"\n", width-right+14, ly, width-right+34, ly, colourOf(se.Impl), width-right+40, ly, esc(se.Impl))
	}
	for i, se := range sc.Series {
		c := colourOf(se.Impl)
		var pts []string
		for j := range se.X {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(se.X[j]), y(se.Y[j])))
		}
		fmt.Fprintf(&s, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), c)
		for j := range se.X {
			fmt.Fprintf(&s, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s: %s at %s</title></circle>`+"\n", x(se.X[j]), y(se.Y[j]), c, esc(se.Impl), esc(FormatValue(se.Y[j])), esc(tickLabel(se.X[j])))
		}
		ly := top + 10 + i*22
		fmt.Fprintf(&s, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", width-right+14, ly, width-right+34, ly, c, width-right+40, ly, esc(se.Impl))
	}
	fmt.Fprintln(&s, `</svg>`)
	_, err := io.WriteString(w, s.String())
	return err
}
