// Command compare runs hotloop side by side with its peers over the
// workloads of shared/WORKLOADS.md and prints a markdown table (one row per
// workload metric, one column per implementation, and hotloop's ratio to
// the best peer), then a verdict in words: for each workload's headline
// figures, the best peer, hotloop by default and in its best mode, and the
// ratios, losses as plainly as wins.
//
// From the repository root:
//
//	go -C benchmarks/compare run ./cmd/compare            # under a minute: a representative subset
//	go -C benchmarks/compare run ./cmd/compare -full      # every workload and mode at WORKLOADS.md's sizes: about 16 min, 4.5 GB
//	go -C benchmarks/compare run ./cmd/compare -quick     # seconds, small N
//	go -C benchmarks/compare run ./cmd/compare -workload W1,W3 -impl hotloop,seed
//	go -C benchmarks/compare run ./cmd/compare -external -json results.jsonl -svg charts
//
// The default run is bench.DemoWorkloads against bench.DemoImpls with
// bench.DemoConfig's sizes; -full runs every workload against every
// implementation with bench.FullConfig's. -workload and -impl pick from
// all of them either way.
//
// In-process implementations (package internal/impl): hotloop and its
// modes (hotloop-precise, hotloop-spin, …), gotimers (time.AfterFunc + a
// goroutine draining a channel), goja (goja_nodejs's event loop through its
// Go API), seed (a replica of the seed design) and, for W9, goworkers. With
// -external, Python asyncio, uvloop, Node.js and libuv run as separate
// processes from the scripts in external/; each is skipped with a note when
// it is not installed.
//
// Every workload runs a warm-up and then -reps measured repetitions on a
// fresh loop; the reported value is the median and the samples are kept in
// the JSON lines. Every metric is lower-is-better except W9's throughput and
// scaling.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
	"github.com/hotloop/hotloop/benchmarks/compare/internal/external"
	"github.com/hotloop/hotloop/benchmarks/compare/internal/report"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

type options struct {
	impls, workloads string
	reps, warmup     int
	quick, external  bool
	full, verbose    bool
	jsonOut, mdOut   string
	svgDir, scripts  string
	redraw           string
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.impls, "impl", "", "comma-separated implementations to run (default: "+strings.Join(bench.DemoImpls, ",")+"; with -full, all; external ones need -external)")
	fs.StringVar(&o.workloads, "workload", "", "comma-separated workloads, e.g. W1,W3 (default: "+strings.Join(bench.DemoWorkloads, ",")+"; with -full, all: "+strings.Join(bench.Workloads, ",")+")")
	fs.IntVar(&o.reps, "reps", 0, "measured repetitions per workload (default 3, 5 with -full, 1 with -quick)")
	fs.BoolVar(&o.full, "full", false, "the full run: every workload against every implementation at WORKLOADS.md's sizes (16 minutes and 4.5 GB at peak on a 2-core VM)")
	fs.BoolVar(&o.verbose, "v", false, "a progress line per implementation and row, not only per workload")
	fs.IntVar(&o.warmup, "warmup", -1, "warm-up repetitions per workload (default 1)")
	fs.BoolVar(&o.quick, "quick", false, "small N, one warm-up and one measured repetition: the whole run in seconds (figures indicative only)")
	fs.BoolVar(&o.external, "external", false, "also run Python asyncio, uvloop and Node.js as separate processes")
	fs.StringVar(&o.jsonOut, "json", "", "write JSON lines to `FILE` (\"-\" for stdout; the table then goes to stderr)")
	fs.StringVar(&o.mdOut, "md", "", "write the markdown table to `FILE` instead of stdout")
	fs.StringVar(&o.svgDir, "svg", "", "draw the table as SVG bar charts into `DIR`")
	fs.StringVar(&o.scripts, "scripts", "external", "`DIR` holding the external peers' scripts")
	fs.StringVar(&o.redraw, "redraw", "", "run nothing: read the JSON lines of an earlier run from `FILE` and draw its table (stdout or -md) and, with -svg, its charts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.redraw != "" {
		return redraw(o, stdout)
	}

	if o.full && o.quick {
		return fmt.Errorf("-full and -quick cannot be used together")
	}
	cfg, defWorkloads, defImpls := bench.DemoConfig(), bench.DemoWorkloads, bench.DemoImpls
	switch {
	case o.full:
		cfg, defWorkloads, defImpls = bench.FullConfig(), bench.Workloads, nil
	case o.quick:
		cfg = bench.QuickConfig()
	}
	if o.reps > 0 {
		cfg.Reps, cfg.FastReps = o.reps, 0
	}
	if o.warmup >= 0 {
		cfg.Warmup = o.warmup
	}

	workloads, err := pick(o.workloads, bench.Workloads, defWorkloads, "workload")
	if err != nil {
		return err
	}
	var known []string
	for _, im := range bench.Impls() {
		known = append(known, im.Name)
	}
	for _, p := range external.Peers {
		known = append(known, p.Name)
	}
	if defImpls != nil {
		// The default run also puts every external peer beside them
		// when -external asks for them.
		defImpls = slices.Clone(defImpls)
		for _, p := range external.Peers {
			defImpls = append(defImpls, p.Name)
		}
	}
	implNames, err := pick(o.impls, known, defImpls, "implementation")
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range implNames {
		want[n] = true
	}

	start := time.Now()
	var results []bench.Result
	var notes []report.Note
	var failures []string
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "[%6.1fs] ", time.Since(start).Seconds())
		fmt.Fprintf(stderr, format+"\n", a...)
	}

	var ran []bench.Impl
	for _, im := range bench.Impls() {
		if want[im.Name] {
			ran = append(ran, im)
		}
	}
	for i, w := range workloads {
		logf("%s (%d of %d): %s", w, i+1, len(workloads), bench.Describe(w, cfg))
		for _, im := range ran {
			var progress func(string)
			if o.verbose {
				progress = func(row string) { logf("  %-16s %s", im.Name, row) }
			}
			res, err := im.Run(w, cfg, progress)
			results = append(results, res...)
			if err != nil {
				logf("error: %v", err)
				failures = append(failures, err.Error())
			}
		}
	}

	var extRan []external.Peer
	if o.external {
		dir, err := external.ScriptDir(o.scripts)
		for _, p := range external.Peers {
			if !want[p.Name] {
				continue
			}
			if err != nil {
				notes = append(notes, report.Note{Key: p.Name, Text: "skipped: " + err.Error()})
				continue
			}
			if perr := p.Probe(dir); perr != nil {
				logf("%-9s skipped: %v", p.Name, perr)
				notes = append(notes, report.Note{Key: p.Name, Text: "skipped: " + perr.Error()})
				continue
			}
			logf("%-9s running %s", p.Name, strings.Join(workloads, ","))
			res, rerr := external.Run(p, dir, external.NewConfig(cfg, workloads), 30*time.Minute, &prefixWriter{w: stderr, name: p.Name})
			results = append(results, res...)
			extRan = append(extRan, p)
			if rerr != nil {
				logf("error: %v", rerr)
				failures = append(failures, rerr.Error())
			}
		}
	}
	elapsed := time.Since(start)
	logf("done in %s", elapsed.Round(time.Millisecond))

	table := report.Build(results)
	header := report.Header{
		Title: "hotloop side-by-side comparison",
		Lines: hostLines(cfg, o, workloads, elapsed),
	}
	notes = append(buildNotes(ran, extRan, workloads, cfg, o.quick), notes...)
	for _, f := range failures {
		notes = append(notes, report.Note{Key: "error", Text: f})
	}

	mdW := stdout
	if o.jsonOut == "-" {
		mdW = stderr
	}
	if o.mdOut != "" {
		f, err := os.Create(o.mdOut)
		if err != nil {
			return err
		}
		defer f.Close()
		mdW = f
	}
	if err := report.WriteReport(mdW, header, table, notes, busy()); err != nil {
		return err
	}
	if o.jsonOut != "" {
		jw := stdout
		if o.jsonOut != "-" {
			f, err := os.Create(o.jsonOut)
			if err != nil {
				return err
			}
			defer f.Close()
			jw = f
		}
		if err := report.WriteJSONLines(jw, results); err != nil {
			return err
		}
	}
	if o.svgDir != "" {
		files, err := report.WriteSVGDir(o.svgDir, table, func(fam string) string { return bench.Describe(fam, cfg) })
		if err != nil {
			return err
		}
		logf("wrote %d SVG charts to %s", len(files)-1, o.svgDir)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d workload(s) failed", len(failures))
	}
	return nil
}

// redraw is run with -redraw: the table and charts of saved JSON lines.
// The run's header (date, machine) is not in the JSON lines; the markdown
// says where the figures came from instead.
func redraw(o options, stdout io.Writer) error {
	f, err := os.Open(o.redraw)
	if err != nil {
		return err
	}
	defer f.Close()
	results, err := report.ReadJSONLines(f)
	if err != nil {
		return fmt.Errorf("-redraw %s: %w", o.redraw, err)
	}
	if len(results) == 0 {
		return fmt.Errorf("-redraw %s: no results", o.redraw)
	}
	table := report.Build(results)
	mdW := stdout
	if o.mdOut != "" {
		mf, err := os.Create(o.mdOut)
		if err != nil {
			return err
		}
		defer mf.Close()
		mdW = mf
	}
	header := report.Header{
		Title: "hotloop side-by-side comparison",
		Lines: []string{"redrawn from " + o.redraw + " (see the run that wrote it for date, machine and settings)"},
	}
	if err := report.WriteReport(mdW, header, table, nil, ""); err != nil {
		return err
	}
	if o.svgDir != "" {
		// The sizes of the run that wrote the file are not in it.
		if _, err := report.WriteSVGDir(o.svgDir, table, nil); err != nil {
			return err
		}
	}
	return nil
}

// pick parses a comma list against the known names (case-insensitively);
// an empty list means def, or every known name if def is nil.
func pick(list string, known, def []string, what string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		if def != nil {
			return slices.Clone(def), nil
		}
		return slices.Clone(known), nil
	}
	var out []string
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		found := ""
		for _, k := range known {
			if strings.EqualFold(k, s) {
				found = k
			}
		}
		if found == "" {
			return nil, fmt.Errorf("unknown %s %q (known: %s)", what, s, strings.Join(known, ", "))
		}
		out = append(out, found)
	}
	return out, nil
}

func hostLines(cfg bench.Config, o options, workloads []string, elapsed time.Duration) []string {
	mode := fmt.Sprintf("%d warm-up + %d measured repetitions, median shown", cfg.Warmup, cfg.Reps)
	if cfg.FastReps > cfg.Reps && (slices.Contains(workloads, "W1") || slices.Contains(workloads, "W1x")) {
		mode = fmt.Sprintf("%d warm-up + %d measured repetitions (W1 and W1x: %d), median shown", cfg.Warmup, cfg.Reps, cfg.FastReps)
	}
	switch {
	case o.quick:
		mode += " (-quick: small N, figures indicative only)"
	case o.full:
		mode += " (-full: WORKLOADS.md's sizes)"
	default:
		mode += " (the default run: a subset of workloads and modes, some sizes cut; -full runs all at WORKLOADS.md's sizes)"
	}
	return []string{
		"date: " + time.Now().UTC().Format("2006-01-02 15:04 MST"),
		fmt.Sprintf("nproc: %d (GOMAXPROCS %d)", runtime.NumCPU(), runtime.GOMAXPROCS(0)),
		"CPU: " + cpuModel(),
		"Go: " + runtime.Version() + ", kernel " + strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		"load average at the end: " + loadAvg() + " (the machine is shared: other work may have run beside this)",
		"runs: " + mode,
		"wall time of this run: " + elapsed.Round(100*time.Millisecond).String(),
	}
}

func cpuModel() string {
	for _, line := range strings.Split(readFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// busy returns a caution for the verdict when the one-minute load average
// at the end of the run exceeds the CPUs by more than one: other work then
// competed with the run, and the figures that need a free core (W9's
// scaling, WithSpin, wake-ups) suffer first.
func busy() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) == 0 {
		return ""
	}
	load, err := strconv.ParseFloat(f[0], 64)
	if n := runtime.NumCPU(); err == nil && load > float64(n)+1 {
		return fmt.Sprintf("the load average was %.1f on %d CPUs at the end of this run: other work competed for the CPUs, and the figures that need a free core (W9's scaling, WithSpin, wake-ups) suffer first. Run it again on a quiet machine before reading much into them.", load, n)
	}
	return ""
}

func loadAvg() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	return strings.Join(f[:min(3, len(f))], " ")
}

func readFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return string(b)
}

func buildNotes(ran []bench.Impl, ext []external.Peer, workloads []string, cfg bench.Config, quick bool) []report.Note {
	notes := []report.Note{
		{Text: "Every metric is lower-is-better except W9's throughput_per_s and scaling. **hotloop vs best peer** = hotloop ÷ the best peer value (that peer in brackets), and for those two the best peer ÷ hotloop: below 1.00× hotloop is ahead, above 1.00× it is behind; = when both are zero."},
		{Text: "– : the implementation cannot measure that metric (wake-ups are counted only by hotloop and seed; allocations only in Go; Node's W8 has no remote part, as worker threads cannot reach the main thread's timers) or did not run it. ⚠ : timers fired before their due time: a negative lateness, or any figure of a workload whose mean lateness is negative (e.g. a loop that rounds 100 µs down to 0 ms) or whose early count (W8: timers that fired although pushed back) is not zero; such cells never count as the best peer."},
	}
	if len(ext) > 0 {
		notes = append(notes, report.Note{Text: "asyncio, uvloop and Node.js only have whole-millisecond timers (epoll timeouts, libuv): their lateness and 100 µs figures are bounded by that resolution, and libuv's cached loop time can fire timers early. They run as separate processes; their CPU figures are their own process's."})
	}
	for _, im := range ran {
		notes = append(notes, report.Note{Key: im.Name, Text: im.Doc})
	}
	for _, p := range ext {
		notes = append(notes, report.Note{Key: p.Name, Text: p.Doc})
	}
	for _, w := range workloads {
		notes = append(notes, report.Note{Key: w, Text: bench.Describe(w, cfg)})
	}
	if quick {
		notes = append(notes, report.Note{Text: fmt.Sprintf("This is a -quick run: smaller N, %d warm-up and %d measured repetition(s).", cfg.Warmup, cfg.Reps)})
	}
	return notes
}

// prefixWriter copies an external script's stderr line by line, each line
// prefixed with the peer's name.
type prefixWriter struct {
	w    io.Writer
	name string
	buf  []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		fmt.Fprintf(p.w, "    %s> %s\n", p.name, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
}
