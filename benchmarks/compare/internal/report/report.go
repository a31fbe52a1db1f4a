// Package report renders comparison results: the markdown table (rows
// workload/metric, one column per implementation, and hotloop's ratio to the
// best peer), the JSON lines of WORKLOADS.md, and hand-written SVG bar
// charts.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
)

// Subject is the implementation whose ratio to the best peer is reported.
const Subject = "hotloop"

// Header describes the run at the top of the markdown.
type Header struct {
	Title string   // first-level heading
	Lines []string // bullet lines under it (date, nproc, CPU model, …)
}

// Note is a line printed under the table; Impl notes are keyed by name.
type Note struct {
	Key, Text string
}

// Table is the gathered results in display order.
type Table struct {
	// Impls is the column order, Subject first.
	Impls []string
	// Rows is the row order: the order in which rows first appeared.
	Rows []RowKey
	// Cells holds each row's value per implementation; a missing entry
	// is shown as "–".
	Cells map[RowKey]map[string]float64
}

// RowKey identifies a table row.
type RowKey struct {
	Workload, Metric string
}

// Build arranges results into a Table, keeping the order in which
// implementations and rows first appear (Subject's column first). Non-finite
// values are dropped, so they show as "–" like metrics a peer cannot measure.
func Build(results []bench.Result) Table {
	t := Table{Cells: map[RowKey]map[string]float64{}}
	seenImpl := map[string]bool{}
	for _, r := range results {
		if !seenImpl[r.Impl] {
			seenImpl[r.Impl] = true
			t.Impls = append(t.Impls, r.Impl)
		}
		k := RowKey{r.Workload, r.Metric}
		if _, ok := t.Cells[k]; !ok {
			t.Cells[k] = map[string]float64{}
			t.Rows = append(t.Rows, k)
		}
		if !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0) {
			t.Cells[k][r.Impl] = r.Value
		}
	}
	for i, name := range t.Impls {
		if name == Subject && i > 0 {
			copy(t.Impls[1:i+1], t.Impls[:i])
			t.Impls[0] = Subject
		}
	}
	return t
}

// sizeOf returns the size a row's workload names after its "=": 1000 for
// "W2/N=1000", 2 for "W9/n=2"; false if it names none.
func sizeOf(workload string) (float64, bool) {
	_, n, ok := strings.Cut(workload, "=")
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(n, 64)
	return x, err == nil
}

// IsLateness reports whether a metric is a lateness, for which a negative
// value means a timer fired before it was due.
func IsLateness(metric string) bool { return strings.HasPrefix(metric, "lateness_") }

// Early reports whether implementation im's cell in row k is suspect
// because timers fired before they were due: the cell is itself a negative
// lateness, or the implementation's mean lateness in the same workload is
// negative (then its other figures there, such as W4's µs per timer for a
// loop that rounds 100 µs down to 0 ms, are not comparable either), or the
// workload counts timers that fired although they were pushed back (W8's
// early) and some did.
func (t Table) Early(k RowKey, im string) bool {
	if x, ok := t.Cells[k][im]; ok && IsLateness(k.Metric) && x < 0 {
		return true
	}
	if e, ok := t.Cells[RowKey{k.Workload, "early"}][im]; ok && e > 0 {
		return true
	}
	m, ok := t.Cells[RowKey{k.Workload, "lateness_mean_us"}][im]
	return ok && m < 0
}

// Invalid reports whether implementation im's cell in row k cannot be
// compared: Early flags it, or it is below zero where no figure can be (a
// negative CPU time or count is a broken measurement; only a lateness can
// be negative, and Early covers that).
func (t Table) Invalid(k RowKey, im string) bool {
	if x, ok := t.Cells[k][im]; ok && x < 0 && !IsLateness(k.Metric) {
		return true
	}
	return t.Early(k, im)
}

// HigherIsBetter reports whether a larger value of metric is better: W9's
// throughput and scaling. Every other metric is lower-is-better.
func HigherIsBetter(metric string) bool {
	return metric == "throughput_per_s" || metric == "scaling"
}

// BestPeer returns the best value among the implementations other than
// Subject and its own variants (hotloop-precise, hotloop-spin: Subject's
// name and a dash) for row k — the lowest, or the highest where
// HigherIsBetter — skipping cells that Invalid flags (an early fire is a
// bug, not a win).
func (t Table) BestPeer(k RowKey) (name string, v float64, ok bool) {
	higher := HigherIsBetter(k.Metric)
	for _, im := range t.Impls {
		if im == Subject || strings.HasPrefix(im, Subject+"-") {
			continue
		}
		x, has := t.Cells[k][im]
		if !has || t.Invalid(k, im) {
			continue
		}
		if !ok || (!higher && x < v) || (higher && x > v) {
			name, v, ok = im, x, true
		}
	}
	return name, v, ok
}

// Ratio formats Subject's value divided by the best peer's for row k, or
// the best peer's divided by Subject's where HigherIsBetter: below 1.00×,
// Subject is ahead either way.
func (t Table) Ratio(k RowKey) string {
	h, ok := t.Cells[k][Subject]
	if !ok {
		return "–"
	}
	peer, b, ok := t.BestPeer(k)
	if !ok {
		return "–"
	}
	if HigherIsBetter(k.Metric) {
		h, b = b, h
	}
	switch {
	case b == 0 && h == 0:
		return fmt.Sprintf("= (%s)", peer)
	case b <= 0:
		return fmt.Sprintf("∞ (%s)", peer)
	}
	return fmt.Sprintf("%.2f× (%s)", h/b, peer)
}

// FormatValue prints a value with about three significant digits and no
// exponent.
func FormatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1 || a == 0:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// WriteMarkdown writes the header, the table and the notes.
func WriteMarkdown(w io.Writer, h Header, t Table, notes []Note) error {
	bw := bufio.NewWriter(w)
	if h.Title != "" {
		fmt.Fprintf(bw, "# %s\n\n", h.Title)
	}
	for _, l := range h.Lines {
		fmt.Fprintf(bw, "- %s\n", l)
	}
	if len(h.Lines) > 0 {
		fmt.Fprintln(bw)
	}
	fmt.Fprint(bw, "| workload | metric |")
	for _, im := range t.Impls {
		fmt.Fprintf(bw, " %s |", im)
	}
	fmt.Fprintln(bw, " hotloop vs best peer |")
	fmt.Fprint(bw, "|---|---|")
	for range t.Impls {
		fmt.Fprint(bw, "---:|")
	}
	fmt.Fprintln(bw, "---:|")
	for _, k := range t.Rows {
		fmt.Fprintf(bw, "| %s | %s |", k.Workload, k.Metric)
		for _, im := range t.Impls {
			v, ok := t.Cells[k][im]
			switch {
			case !ok:
				fmt.Fprint(bw, " – |")
			case t.Early(k, im):
				fmt.Fprintf(bw, " %s ⚠ |", FormatValue(v))
			default:
				fmt.Fprintf(bw, " %s |", FormatValue(v))
			}
		}
		fmt.Fprintf(bw, " %s |\n", t.Ratio(k))
	}
	if len(notes) > 0 {
		fmt.Fprintln(bw)
		for _, n := range notes {
			if n.Key != "" {
				fmt.Fprintf(bw, "- **%s**: %s\n", n.Key, n.Text)
			} else {
				fmt.Fprintf(bw, "- %s\n", n.Text)
			}
		}
	}
	return bw.Flush()
}

// WriteJSONLines writes one JSON object per result, in the form
// {"impl":…,"workload":…,"metric":…,"value":…,"samples":[…]}. Results whose
// value or samples are not finite (JSON cannot carry NaN) are left out.
func WriteJSONLines(w io.Writer, results []bench.Result) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range results {
		if !finite(r.Value) || !allFinite(r.Samples) {
			continue
		}
		if r.Samples == nil {
			r.Samples = []float64{}
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadJSONLines parses JSON lines as written by WriteJSONLines (and by the
// external scripts). Blank lines are skipped; a malformed line is an error.
func ReadJSONLines(r io.Reader) ([]bench.Result, error) {
	var out []bench.Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		var res bench.Result
		if err := json.Unmarshal([]byte(b), &res); err != nil {
			return out, fmt.Errorf("line %d: %w", line, err)
		}
		if res.Impl == "" || res.Workload == "" || res.Metric == "" {
			return out, fmt.Errorf("line %d: missing impl, workload or metric", line)
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func allFinite(xs []float64) bool {
	for _, x := range xs {
		if !finite(x) {
			return false
		}
	}
	return true
}
