package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
)

// Chart is one SVG bar chart: a group of bars (one per implementation) for
// each category (a metric, or a workload size for W2).
type Chart struct {
	File       string // file name, e.g. "W2_wall_ms.svg"
	Title      string
	Subtitle   string
	Unit       string
	Categories []string
	Impls      []string
	// Values[c][impl]; a missing entry is drawn as "–".
	Values []map[string]float64
}

// unitOf derives a unit from a metric name's suffix.
func unitOf(metric string) string {
	switch {
	case strings.HasSuffix(metric, "_ns") || strings.HasPrefix(metric, "ns_"):
		return "ns"
	case strings.HasSuffix(metric, "_us") || strings.HasPrefix(metric, "us_") || strings.Contains(metric, "_us_"):
		return "µs"
	case strings.HasSuffix(metric, "_ms"):
		return "ms"
	}
	return "count"
}

func family(workload string) string {
	if i := strings.IndexByte(workload, '/'); i >= 0 {
		return workload[:i]
	}
	return workload
}

// Charts groups a Table into charts: a workload family with several rows of
// the same metric (W2/N=…) gets one chart per metric with the sizes as
// categories; any other workload gets one chart per unit with its metrics as
// categories. describe, if not nil, supplies a subtitle per family.
func Charts(t Table, describe func(family string) string) []Chart {
	type key struct{ fam, split string }
	var order []key
	charts := map[key]*Chart{}
	famRows := map[string]map[string]bool{}
	for _, k := range t.Rows {
		f := family(k.Workload)
		if famRows[f] == nil {
			famRows[f] = map[string]bool{}
		}
		famRows[f][k.Workload] = true
	}
	for _, k := range t.Rows {
		f := family(k.Workload)
		multi := len(famRows[f]) > 1
		var kk key
		var cat string
		if multi {
			kk, cat = key{f, k.Metric}, strings.TrimPrefix(k.Workload, f+"/")
		} else {
			kk, cat = key{f, unitOf(k.Metric)}, k.Metric
		}
		c, ok := charts[kk]
		if !ok {
			title := f
			if multi {
				title += " — " + k.Metric
			}
			c = &Chart{
				File:  safeName(f + "_" + fileUnit(kk.split) + ".svg"),
				Title: title,
				Unit:  unitOf(k.Metric),
				Impls: t.Impls,
			}
			if describe != nil {
				c.Subtitle = describe(f)
			}
			charts[kk] = c
			order = append(order, kk)
		}
		c.Categories = append(c.Categories, cat)
		c.Values = append(c.Values, t.Cells[k])
	}
	out := make([]Chart, 0, len(order))
	for _, k := range order {
		out = append(out, *charts[k])
	}
	return out
}

// fileUnit spells a chart's split key (a metric or a unit) in ASCII.
func fileUnit(s string) string {
	if s == "µs" {
		return "us"
	}
	return s
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// palette gives hotloop a strong colour and the peers muted ones: seventeen
// distinct colours, one for each implementation a run can have.
var palette = []string{"#d1495b", "#00798c", "#edae49", "#66a182", "#2e4057", "#8d96a3", "#7b5ea7", "#b5651d", "#1b9e77", "#e7298a", "#66a61e", "#a6761d", "#1f78b4", "#b2df8a", "#6a3d9a", "#ff7f00", "#999933"}

// colourOf gives implementation im the same colour in every chart of
// every run: its place among the registered implementations, then the
// external peers; a name neither knows gets one from its letters.
func colourOf(im string) string {
	names := make([]string, 0, 16)
	for _, r := range bench.Impls() {
		names = append(names, r.Name)
	}
	names = append(names, "asyncio", "uvloop", "node", "libuv")
	if i := slices.Index(names, im); i >= 0 {
		return palette[i%len(palette)]
	}
	h := 0
	for _, r := range im {
		h = h*31 + int(r)
	}
	return palette[(h%len(palette)+len(palette))%len(palette)]
}

// WriteSVG draws c as a horizontal grouped bar chart. A logarithmic axis is
// used when the positive values span more than a factor of 30.
func WriteSVG(w io.Writer, c Chart) error {
	const (
		width    = 820
		left     = 170 // category labels
		right    = 90  // value labels
		legendY  = 50  // the first legend row
		legendH  = 18  // each further legend row
		barH     = 14
		barGap   = 3
		groupGap = 16
	)
	plotW := float64(width - left - right)
	// The legend wraps onto as many rows as it needs; the plot starts below.
	type key struct{ x, y float64 }
	keys := make([]key, len(c.Impls))
	lx, ly := 12.0, float64(legendY)
	for i, im := range c.Impls {
		w := 26 + 7*float64(len(im))
		if lx > 12 && lx+w > width-12 {
			lx, ly = 12, ly+legendH
		}
		keys[i] = key{lx, ly}
		lx += w
	}
	top := int(ly) + 28
	nb := len(c.Impls)
	groupH := nb*(barH+barGap) - barGap
	height := top + len(c.Categories)*(groupH+groupGap) + 40

	lo, hi := math.Inf(1), 0.0
	for _, vs := range c.Values {
		for _, v := range vs {
			if v > 0 {
				lo = math.Min(lo, v)
			}
			hi = math.Max(hi, v)
		}
	}
	if hi <= 0 {
		hi, lo = 1, 1
	}
	logScale := lo > 0 && !math.IsInf(lo, 1) && hi/lo > 30
	var x func(v float64) float64
	var ticks []float64
	if logScale {
		a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if a == b {
			b++
		}
		x = func(v float64) float64 {
			if v <= 0 {
				return 0
			}
			return math.Max(0, (math.Log10(v)-a)/(b-a)*plotW)
		}
		for e := a; e <= b; e++ {
			ticks = append(ticks, math.Pow(10, e))
		}
	} else {
		step := niceStep(hi / 5)
		top := math.Ceil(hi/step) * step
		x = func(v float64) float64 { return math.Max(0, v/top*plotW) }
		for v := 0.0; v <= top+step/2; v += step {
			ticks = append(ticks, v)
		}
	}

	var b strings.Builder
	openSVG(&b, width, height)
	scale := "linear scale"
	if logScale {
		scale = "log scale"
	}
	fmt.Fprintf(&b, `<text x="12" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", esc(c.Title))
	fmt.Fprintf(&b, `<text x="12" y="40" fill="#555">%s</text>`+"\n", esc(trim(c.Subtitle, 120)))
	fmt.Fprintf(&b, `<text x="%d" y="40" fill="#555" text-anchor="end">%s, %s — shorter is better</text>`+"\n", width-12, esc(c.Unit), scale)
	// Legend.
	for i, im := range c.Impls {
		k := keys[i]
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n", k.x, k.y, colourOf(im), k.x+16, k.y+10, esc(im))
	}
	// Grid.
	plotBottom := height - 30
	for _, tv := range ticks {
		gx := float64(left) + x(tv)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e3e3e3"/>`+"\n", gx, top-6, gx, plotBottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#777" text-anchor="middle" font-size="10">%s</text>`+"\n", gx, plotBottom+14, esc(tickLabel(tv)))
	}
	// Bars.
	y := top
	for ci, cat := range c.Categories {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-10, y+groupH/2, esc(cat))
		for i, im := range c.Impls {
			by := y + i*(barH+barGap)
			v, ok := c.Values[ci][im]
			if !ok {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#999" dominant-baseline="middle" font-size="11">– %s</text>`+"\n", left+4, by+barH/2, esc(im))
				continue
			}
			bw := x(v)
			if bw < 1 {
				bw = 1
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s %s</title></rect>`+"\n", left, by, bw, barH, colourOf(im), esc(im), esc(FormatValue(v)), esc(c.Unit))
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" dominant-baseline="middle" font-size="11">%s</text>`+"\n", float64(left)+bw+4, by+barH/2, esc(FormatValue(v)))
		}
		y += groupH + groupGap
	}
	fmt.Fprintln(&b, `</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

// openSVG starts a chart of width × height on a white background, in the
// font every chart uses.
func openSVG(b *strings.Builder, width, height int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
}

// tickLabel prints an axis value without trailing zeros, and large ones
// short: 20k, 1.5M.
func tickLabel(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return FormatValue(v)
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string { return html.EscapeString(s) }

func trim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// WriteSVGDir writes every chart of t into dir (created if needed): the
// per-workload bar charts, the precision chart when t has W3's lateness and
// CPU figures, the overview charts (overview.go) where t has their figures,
// and an index.md that shows them in order. It returns the files written.
func WriteSVGDir(dir string, t Table, describe func(string) string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	var idx strings.Builder
	idx.WriteString("# Comparison charts\n\nEvery metric is lower-is-better except W9's throughput_per_s and scaling.\n\n")
	write := func(name, title string, draw func(io.Writer) error) error {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		err = draw(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		files = append(files, p)
		fmt.Fprintf(&idx, "![%s](%s)\n\n", title, name)
		return nil
	}
	sub := func(fam string) string {
		if describe == nil {
			return ""
		}
		return describe(fam)
	}
	if rs := LatenessRanges(t); len(rs) > 0 {
		if err := write(LatenessFile, "How late timers fire (W3)", func(w io.Writer) error { return WriteLatenessSVG(w, rs, sub("W3")) }); err != nil {
			return files, err
		}
	}
	if c, ok := CostChart(t); ok {
		if err := write(c.File, c.Title, func(w io.Writer) error { return WriteSVG(w, c) }); err != nil {
			return files, err
		}
	}
	for _, f := range []struct {
		file  string
		chart func(Table) (Scaling, bool)
	}{{ScalingW2File, ScalingW2}, {ScalingW9File, ScalingW9}} {
		if sc, ok := f.chart(t); ok {
			if err := write(f.file, sc.Title, func(w io.Writer) error { return WriteScalingSVG(w, sc) }); err != nil {
				return files, err
			}
		}
	}
	for _, c := range Charts(t, describe) {
		if err := write(c.File, c.Title, func(w io.Writer) error { return WriteSVG(w, c) }); err != nil {
			return files, err
		}
	}
	if pts := PrecisionPoints(t); len(pts) > 0 {
		if err := write(PrecisionFile, "Timer lateness against CPU per timer (W3)", func(w io.Writer) error { return WritePrecisionSVG(w, pts, sub("W3")) }); err != nil {
			return files, err
		}
	}
	p := filepath.Join(dir, "index.md")
	if err := os.WriteFile(p, []byte(idx.String()), 0o644); err != nil {
		return files, err
	}
	sort.Strings(files)
	return append(files, p), nil
}
