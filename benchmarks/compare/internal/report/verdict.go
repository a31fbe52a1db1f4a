package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
)

// The verdict is the comparison said in words: for each workload's
// headline figures, the best peer, hotloop by default, hotloop's best mode
// among those that ran, and the ratios, wins and losses alike.

// Level is the band around 1 within which two figures are called level:
// runs on a shared machine differ by more than this from one to the next.
const Level = 0.10

// headline is a figure the verdict speaks about, with the words for it.
type headline struct {
	family, metric string
	what           string // what the figure is, e.g. "mean lateness"
	better, worse  string // "%s× closer to the deadline", "%s× later"
}

// headlines lists the figures the verdict speaks about, in the order of
// WORKLOADS.md. W2 and W8 rows are taken at every N that ran; W9's
// throughput only at its largest n (the row that tests many cores).
var headlines = []headline{
	{"W1", "ns_per_callback", "cost of a callback posted on the loop", "%s× cheaper", "%s× dearer"},
	{"W1x", "ns_per_callback", "cost of a callback posted by 2 other goroutines", "%s× cheaper", "%s× dearer"},
	{"W2", "cpu_us_per_timer", "CPU per timer", "%s× less CPU", "%s× more CPU"},
	{"W2", "lateness_mean_us", "mean lateness", "%s× closer to the deadline", "%s× later"},
	{"W3", "lateness_mean_us", "mean lateness of 1–10 ms timers", "%s× closer to the deadline", "%s× later"},
	{"W3", "lateness_p99_us", "p99 lateness of 1–10 ms timers", "%s× closer to the deadline", "%s× later"},
	{"W4", "lateness_mean_us", "mean lateness of chained 100 µs timers", "%s× closer to the deadline", "%s× later"},
	{"W5", "cpu_us", "CPU while waiting 100 ms for one timer", "%s× less CPU", "%s× more CPU"},
	{"W6", "ns_per_pair", "cost of scheduling and cancelling a timer", "%s× cheaper", "%s× dearer"},
	{"W7", "p50_us", "p50 wake-up of a parked loop by a post", "%s× sooner", "%s× later"},
	{"W7", "p99_us", "p99 wake-up of a parked loop by a post", "%s× sooner", "%s× later"},
	{"W8", "ns_per_reset", "cost of pushing back a timeout (Reset) on the loop", "%s× cheaper", "%s× dearer"},
	{"W8", "ns_per_reset_remote", "cost of pushing back a timeout (Reset) from 4 other goroutines", "%s× cheaper", "%s× dearer"},
	{"W9", "throughput_per_s", "throughput of keyed callbacks", "%s× more", "%s× less"},
	{"W9", "hop_p99_us", "p99 of a message hop between two loops", "%s× sooner", "%s× later"},
}

// Standing is where hotloop stands against the best peer on one figure.
type Standing int

// The standings. Ahead and Behind are by more than Level: better than the
// peer by a factor above 1/(1 − Level), worse by one below 1 − Level.
const (
	Ahead  Standing = iota // better than the peer
	Even                   // within Level of it: printed "level"
	Behind                 // worse, or not valid
)

// String returns "ahead", "level" or "behind".
func (s Standing) String() string {
	return [...]string{"ahead", "level", "behind"}[s]
}

// Verdict is the verdict on one headline figure of one table row.
type Verdict struct {
	Row  RowKey
	What string // the figure in words

	Peer      string  // the best peer (BestPeer)
	PeerValue float64 // its figure

	HasDefault     bool     // Subject ran this figure
	Default        float64  // Subject's figure
	DefaultInvalid bool     // Subject's cell is flagged by Invalid: behind, whatever its figure
	DefaultRatio   float64  // how many times better (>1) or worse (<1) than the peer; +Inf or 0 when one figure is 0; 0 when invalid
	DefaultStand   Standing // where Subject stands against the peer

	Best      string   // Subject's best mode: Subject itself unless a mode is better by more than Level; "" if none has a valid figure
	BestValue float64  // its figure
	BestRatio float64  // as DefaultRatio, for Best
	BestStand Standing // where Best stands against the peer

	better, worse string
	modes         int // how many of Subject's modes have a figure
}

// Verdicts returns the verdict on every headline figure of t that has both
// a peer and Subject's figure (or one of its modes'). Cells flagged by
// Invalid count neither as a best peer nor as a best mode (Subject's own
// is behind), and neither does a mode's cell on a workload the mode does
// not change (bench.Impl.Changes).
func (t Table) Verdicts() []Verdict {
	var out []Verdict
	for _, h := range headlines {
		rows := t.rowsOf(h.family, h.metric)
		if h.family == "W9" && h.metric == "throughput_per_s" && len(rows) > 1 {
			rows = []RowKey{largestN(rows)}
		}
		for _, k := range rows {
			v, ok := t.verdict(k, h)
			if ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// largestN returns the row of rows with the largest size (sizeOf), the
// first one if none has a size.
func largestN(rows []RowKey) RowKey {
	best, bestN := rows[0], math.Inf(-1)
	for _, k := range rows {
		if x, ok := sizeOf(k.Workload); ok && x > bestN {
			best, bestN = k, x
		}
	}
	return best
}

// rowsOf returns t's rows of one metric in one workload family, in order.
func (t Table) rowsOf(fam, metric string) []RowKey {
	var rows []RowKey
	for _, k := range t.Rows {
		if family(k.Workload) == fam && k.Metric == metric {
			rows = append(rows, k)
		}
	}
	return rows
}

func (t Table) verdict(k RowKey, h headline) (Verdict, bool) {
	peer, pv, ok := t.BestPeer(k)
	if !ok {
		return Verdict{}, false
	}
	v := Verdict{Row: k, What: h.what, Peer: peer, PeerValue: pv, better: h.better, worse: h.worse}
	higher := HigherIsBetter(k.Metric)
	// times returns how many times better x is than the peer's figure;
	// neither is negative (Invalid).
	times := func(x float64) float64 {
		switch {
		case x == pv:
			return 1
		case higher && pv == 0, !higher && x == 0:
			return math.Inf(1)
		case higher:
			return x / pv
		}
		return pv / x // 0 if the peer's figure is 0
	}
	hv, hasDefault := t.Cells[k][Subject]
	if hasDefault {
		v.HasDefault, v.Default, v.DefaultInvalid = true, hv, t.Invalid(k, Subject)
		if !v.DefaultInvalid { // an invalid figure has no ratio
			v.DefaultRatio = times(hv)
		}
		v.DefaultStand = stand(v.DefaultRatio, v.DefaultInvalid)
	}
	for _, im := range t.Impls {
		if im != Subject && !strings.HasPrefix(im, Subject+"-") {
			continue
		}
		x, has := t.Cells[k][im]
		if !has || t.Invalid(k, im) || !changes(im, h.family) {
			continue
		}
		v.modes++
		if v.Best == "" || (!higher && x < v.BestValue) || (higher && x > v.BestValue) {
			v.Best, v.BestValue = im, x
		}
	}
	switch {
	case v.Best != "":
		v.BestRatio = times(v.BestValue)
		// A mode is named only where it is clearly better than the
		// default: a mode that changes nothing on this workload still
		// differs by run-to-run noise, and the verdict must not credit it.
		if hasDefault && !v.DefaultInvalid && v.Best != Subject && v.BestRatio <= v.DefaultRatio/(1-Level) {
			v.Best, v.BestValue, v.BestRatio = Subject, hv, v.DefaultRatio
		}
		v.BestStand = stand(v.BestRatio, false)
	case hasDefault: // hotloop's only figure is not valid
		v.Best, v.BestValue, v.BestRatio, v.BestStand = Subject, hv, v.DefaultRatio, Behind
	default:
		return Verdict{}, false
	}
	return v, true
}

// changes reports whether the registered implementation im runs workload
// family fam differently from Subject (bench.Impl.Changes); an
// implementation not registered here (read back from JSON lines written
// elsewhere) is taken to change every workload.
func changes(im, fam string) bool {
	for _, r := range bench.Impls() {
		if r.Name == im {
			return r.Changes == nil || slices.Contains(r.Changes, fam)
		}
	}
	return true
}

// stand classes a ratio (how many times better than the peer): an invalid
// cell is behind whatever its figure.
func stand(times float64, invalid bool) Standing {
	switch {
	case invalid || times < 1-Level:
		return Behind
	case times > 1/(1-Level):
		return Ahead
	}
	return Even
}

// phrase says how a figure compares with the peer's: "8.3× later",
// "35× closer to the deadline", "level".
func (v Verdict) phrase(times float64, s Standing) string {
	switch s {
	case Even:
		return fmt.Sprintf("level (within %.0f %%)", Level*100)
	case Ahead:
		if math.IsInf(times, 1) {
			return strings.Replace(v.better, "%s×", "infinitely", 1)
		}
		return fmt.Sprintf(v.better, factor(times))
	}
	if times == 0 {
		return strings.Replace(v.worse, "%s×", "infinitely", 1)
	}
	return fmt.Sprintf(v.worse, factor(1/times))
}

// factor prints a ratio with one decimal below 10 and none above (1.3,
// 25, 340).
func factor(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// withUnit prints a value with the unit its metric name carries.
func withUnit(v float64, metric string) string {
	u := unitOf(metric)
	switch {
	case metric == "throughput_per_s":
		return FormatValue(v) + "/s"
	case u == "count":
		return FormatValue(v)
	}
	return FormatValue(v) + " " + u
}

// plainNames says what an implementation's column name stands for, in the
// words the verdict uses; a name not listed is used as it is.
var plainNames = map[string]string{
	"gotimers":         "Go's timers (gotimers)",
	"goja":             "goja_nodejs (goja)",
	"seed":             "the seed design's replica (seed)",
	"goworkers":        "goroutine workers on channels (goworkers)",
	"node":             "Node.js (node)",
	"libuv":            "libuv from C (libuv)",
	"hotloop-precise":  "WithPrecise (hotloop-precise)",
	"hotloop-poll":     "WithPrecise + WithBusyPoll (hotloop-poll)",
	"hotloop-spin":     "WithPrecise + WithSpin (hotloop-spin)",
	"hotloop-autospin": "WithPrecise + WithAdaptiveSpin (hotloop-autospin)",
	"hotloop-slack":    "WithSlack (hotloop-slack)",
	"hotloop-leeway":   "WithPrecise + SetLeeway (hotloop-leeway)",
	"hotloop-wheel":    "the timing wheel (hotloop-wheel)",
	"hotloop-producer": "a Producer per goroutine (hotloop-producer)",
}

func plain(name string) string {
	if p, ok := plainNames[name]; ok {
		return p
	}
	return name
}

// Sentence is the verdict in one line of plain words.
func (v Verdict) Sentence() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s): best peer %s, %s.", v.Row.Workload, v.What, plain(v.Peer), withUnit(v.PeerValue, v.Row.Metric))
	if v.HasDefault {
		fmt.Fprintf(&b, " %s %s", Subject, withUnit(v.Default, v.Row.Metric))
		if v.DefaultInvalid {
			b.WriteString(" ⚠ not valid (a timer fired early, or a figure below zero): **behind**")
		} else {
			fmt.Fprintf(&b, ", %s: **%s**", v.phrase(v.DefaultRatio, v.DefaultStand), v.DefaultStand)
		}
		b.WriteString(".")
	}
	switch {
	case v.Best == "":
	case v.Best == Subject:
		if v.modes > 1 {
			fmt.Fprintf(&b, " No mode that ran does better by more than %.0f %%.", Level*100)
		}
	default:
		fmt.Fprintf(&b, " Best mode, %s: %s, %s: **%s**.", plain(v.Best), withUnit(v.BestValue, v.Row.Metric), v.phrase(v.BestRatio, v.BestStand), v.BestStand)
	}
	return b.String()
}

// WriteReport writes what the command prints: the markdown table with its
// header and notes (WriteMarkdown), then the verdict on t (WriteVerdict,
// with caution).
func WriteReport(w io.Writer, h Header, t Table, notes []Note, caution string) error {
	if err := WriteMarkdown(w, h, t, notes); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	return WriteVerdict(w, t.Verdicts(), caution)
}

// modeAdvice says when to use each mode of Subject, for the verdict's
// closing lines: what the mode is for, and what it costs.
var modeAdvice = []struct{ impl, advice string }{
	{Subject, "the default: for everything below that you do not need."},
	{"hotloop-precise", "`core.WithPrecise()` when timers must fire within tens of µs instead of about a millisecond (Linux); it costs CPU per timer and a locked OS thread per running loop (W2's CPU, docs/PRECISION.md)."},
	{"hotloop-spin", "`WithPrecise()` + `core.WithSpin(d)` for µs timing, only where a core can be spared: it busy-waits before each deadline, and on a busy machine it loses its edge."},
	{"hotloop-autospin", "`WithPrecise()` + `core.WithAdaptiveSpin()`: WithSpin with the margin learned from this machine."},
	{"hotloop-poll", "`WithPrecise()` + `core.WithBusyPoll(d)` for loops that answer each other within µs (W9's hop); it polls, so it spends CPU while idle."},
	{"hotloop-slack", "`core.WithSlack(d)` to save wake-ups when timers may fire up to d late."},
	{"hotloop-leeway", "`Timer.SetLeeway(d)` to let some timers share wake-ups while others stay exact."},
	{"hotloop-wheel", "`core.WithTimerStore(core.StoreWheel)` for 10^5 and more pending timers that are mostly reset or cancelled."},
	{"hotloop-producer", "a `Producer` per goroutine that posts in bursts (`l.NewProducer()`), instead of `Loop.Post`."},
}

// WriteVerdict writes the verdict as a markdown section: caution, if not
// empty (say, the machine was busy), a count of wins and losses, a table,
// one line per headline figure, and which mode to use for what, for the
// modes that ran.
func WriteVerdict(w io.Writer, vs []Verdict, caution string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "## Verdict")
	fmt.Fprintln(bw)
	if caution != "" {
		fmt.Fprintf(bw, "**Caution:** %s\n\n", caution)
	}
	if len(vs) == 0 {
		fmt.Fprintln(bw, "No headline figure has both hotloop and a peer: run more than one implementation.")
		return bw.Flush()
	}
	var def, best [3][]string
	for _, v := range vs {
		name := v.Row.Workload + " " + v.Row.Metric
		if v.HasDefault {
			def[v.DefaultStand] = append(def[v.DefaultStand], name)
		}
		if v.Best != "" {
			best[v.BestStand] = append(best[v.BestStand], name)
		}
	}
	count := func(c [3][]string) string {
		return fmt.Sprintf("ahead on %d, level on %d, behind on %d", len(c[Ahead]), len(c[Even]), len(c[Behind]))
	}
	fmt.Fprintf(bw, "Against the best peer on each of %d headline figures (level = within %.0f %%), %s by default is %s",
		len(vs), Level*100, Subject, count(def))
	if len(def[Behind]) > 0 {
		fmt.Fprintf(bw, " (behind: %s)", strings.Join(def[Behind], ", "))
	}
	fmt.Fprintf(bw, "; in its best mode for each figure it is %s", count(best))
	if len(best[Behind]) > 0 {
		fmt.Fprintf(bw, " (behind: %s)", strings.Join(best[Behind], ", "))
	}
	fmt.Fprintln(bw, ".")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "| workload | figure | best peer | hotloop | hotloop vs peer | best mode | best mode vs peer |")
	fmt.Fprintln(bw, "|---|---|---|---:|---|---|---|")
	for _, v := range vs {
		fmt.Fprintf(bw, "| %s | %s | %s %s | ", v.Row.Workload, v.What, v.Peer, withUnit(v.PeerValue, v.Row.Metric))
		if v.HasDefault {
			fmt.Fprintf(bw, "%s | %s |", withUnit(v.Default, v.Row.Metric), v.short(v.DefaultRatio, v.DefaultStand, v.DefaultInvalid))
		} else {
			fmt.Fprint(bw, "– | – |")
		}
		if v.Best != "" && v.Best != Subject {
			fmt.Fprintf(bw, " %s %s | %s |\n", v.Best, withUnit(v.BestValue, v.Row.Metric), v.short(v.BestRatio, v.BestStand, false))
		} else {
			fmt.Fprint(bw, " (default) | |\n")
		}
	}
	fmt.Fprintln(bw)
	for _, v := range vs {
		fmt.Fprintf(bw, "- %s\n", v.Sentence())
	}
	ran := map[string]bool{}
	for _, v := range vs {
		ran[v.Best] = true
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "Which to use (a mode named above won there; what it costs is said here):")
	fmt.Fprintln(bw)
	for _, a := range modeAdvice {
		if a.impl == Subject || ran[a.impl] {
			fmt.Fprintf(bw, "- %s: %s\n", a.impl, a.advice)
		}
	}
	return bw.Flush()
}

// short is a table cell for a ratio: "**8.1× later**", "2.5× cheaper",
// "level", "**not valid**".
func (v Verdict) short(times float64, s Standing, invalid bool) string {
	switch {
	case invalid:
		return "**not valid**"
	case s == Behind:
		return "**" + v.phrase(times, s) + "**"
	case s == Even:
		return "level"
	}
	return v.phrase(times, s)
}
