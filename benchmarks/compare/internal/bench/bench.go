// Package bench implements the comparison workloads of
// shared/WORKLOADS.md (W1, W1x, W2/N=…, W3, W4, W4b, W5, W6, W7, W8/N=…) once,
// generically over impl.Loop, and runs them against each registered
// implementation.
//
// Every workload starts a fresh loop, runs Config.Warmup discarded
// repetitions and Config.Reps measured ones, and reports for each metric the
// median of the measured repetitions together with their samples. Work is
// scheduled from inside the running loop (a kick-off callback posted from
// the harness goroutine) unless the workload says otherwise. Lateness is
// fire time − due time, where the due time is impl.Now() read just before
// the timer is scheduled plus its delay; CPU is getrusage(RUSAGE_SELF)
// user+sys of the whole process. Delays come from stats.XorShift32 seeded
// with stats.Seed, restarted for every repetition, so every implementation
// and every repetition gets the same delays.
package bench

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/impl"
	"github.com/hotloop/hotloop/benchmarks/compare/internal/stats"
)

// Config holds the sizes and repetition counts of a run.
type Config struct {
	Warmup int // discarded repetitions before the measured ones
	Reps   int // measured repetitions; the reported value is their median
	// FastReps, if larger than Reps, is the number of measured
	// repetitions of W1 and W1x, whose repetitions take about a
	// millisecond each: the median of three such is mostly noise.
	FastReps int

	W1Callbacks   int   // W1: callbacks posted from the loop
	W1xPerProd    int   // W1x: callbacks posted by each of the 2 producers
	W2Sizes       []int // W2: timer counts, one workload row each
	W3Timers      int   // W3: timers with delays in [1, 10] ms
	W4Timers      int   // W4 and W4b: 100 µs timers
	W5Delay       time.Duration
	W6Timers      int // W6: schedule+cancel pairs
	W7Samples     int // W7: wake-ups measured per repetition
	RepTimeout    time.Duration
	W7IdleBetween time.Duration // W7: minimum idle time before each post

	W8Sizes  []int         // W8: timer counts, one workload row each
	W8Rounds int           // W8: Resets of each timer, in each of the two parts
	W8Chunk  int           // W8: Resets per loop callback in the loop part
	W8Delay  time.Duration // W8: the timers' delay, and what every Reset sets

	W9Posts      int           // W9: keyed callbacks posted in all, by GOMAXPROCS producers
	W9Work       time.Duration // W9: CPU each keyed callback spends
	W9RoundTrips int           // W9: ping-pong round trips per repetition
}

// FullConfig is the full run WORKLOADS.md specifies (compare -full).
func FullConfig() Config {
	return Config{
		Warmup:        1,
		Reps:          5,
		W1Callbacks:   50000,
		W1xPerProd:    50000,
		W2Sizes:       []int{100, 1000, 10000, 100000, 1000000},
		W3Timers:      100,
		W4Timers:      1000,
		W5Delay:       100 * time.Millisecond,
		W6Timers:      100000,
		W7Samples:     200,
		RepTimeout:    2 * time.Minute,
		W7IdleBetween: 2 * time.Millisecond,
		W8Sizes:       []int{100000, 1000000},
		W8Rounds:      20,
		W8Chunk:       1000,
		W8Delay:       5 * time.Second,
		W9Posts:       1000000,
		W9Work:        time.Microsecond,
		W9RoundTrips:  100000,
	}
}

// DemoConfig is the command's default run: DemoWorkloads against
// DemoImpls in under a minute on an idle 2-core machine (48–49 s, about
// 315 MB at peak, on the one of docs/BENCHMARKS.md). It
// keeps WORKLOADS.md's sizes where they take under a few seconds and cuts
// the rest: 3 measured repetitions instead of 5; W2 at N = 1000 and 10^5
// (not 10^6, which alone peaks near 3 GB with goja and the seed replica);
// W1 and W1x repeat 15 times, as a repetition takes about a millisecond;
// W4 chains 200 timers, not 1000 (its figures are per timer); W7 takes 100
// samples; W8 runs N = 10^5 with 5 rounds of Resets, not 20 (its figures
// are per Reset); W9 posts 2×10^5 callbacks and bounces 2×10^4 messages.
func DemoConfig() Config {
	c := FullConfig()
	c.Reps = 3
	c.FastReps = 15
	c.W2Sizes = []int{1000, 100000}
	c.W4Timers = 200
	c.W7Samples = 100
	c.W8Sizes = []int{100000}
	c.W8Rounds = 5
	c.W9Posts = 200000
	c.W9RoundTrips = 20000
	c.RepTimeout = time.Minute
	return c
}

// DemoWorkloads are the workloads of the command's default run: every
// workload but W4b, whose 100 µs timers at once W2 and W4 already cover.
var DemoWorkloads = []string{"W1", "W1x", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9"}

// DemoImpls are the implementations of the command's default run: hotloop
// by default and in the modes that win somewhere (WithPrecise and WithSpin
// for lateness, a Producer for posts from other goroutines), and every
// in-process peer. -full runs every registered implementation.
var DemoImpls = []string{"hotloop", "hotloop-precise", "hotloop-spin", "hotloop-producer", "gotimers", "goja", "seed", "goworkers"}

// QuickConfig is the -quick run: the same workloads with small N, one
// warm-up and one measured repetition, meant to finish in seconds (CI uses
// it so the command does not rot). Its figures are indicative only.
func QuickConfig() Config {
	c := FullConfig()
	c.Warmup, c.Reps = 1, 1
	c.W4Timers = 200
	c.W1Callbacks = 20000
	c.W1xPerProd = 20000
	c.W2Sizes = []int{100, 1000, 10000}
	c.W6Timers = 10000
	c.W7Samples = 50
	c.W8Sizes = []int{100000} // the full run adds 10^6; this row takes about 10 s, mostly goja and seed
	c.W9Posts = 100000
	c.W9RoundTrips = 10000
	c.RepTimeout = 30 * time.Second
	return c
}

// TinyConfig is the smallest configuration that still exercises every code
// path; the tests use it.
func TinyConfig() Config {
	c := QuickConfig()
	c.Warmup = 0
	c.W1Callbacks = 300 // more than one 128-callback batch
	c.W1xPerProd = 300
	c.W2Sizes = []int{50}
	c.W3Timers = 20
	c.W4Timers = 20
	c.W5Delay = 5 * time.Millisecond
	c.W6Timers = 200
	c.W7Samples = 5
	c.W7IdleBetween = time.Millisecond
	c.W8Sizes = []int{1000}
	c.W8Rounds = 3
	c.W8Chunk = 128 // several callbacks per round
	c.W9Posts = 2000
	c.W9RoundTrips = 100
	return c
}

// Result is one cell of the comparison: an implementation's median value for
// one metric of one workload, with the measured samples it came from. Its
// JSON form is the JSON-lines record of WORKLOADS.md.
type Result struct {
	Impl     string    `json:"impl"`
	Workload string    `json:"workload"`
	Metric   string    `json:"metric"`
	Value    float64   `json:"value"`
	Samples  []float64 `json:"samples"`
}

// Workloads lists the workload ids in the order they are run and shown.
var Workloads = []string{"W1", "W1x", "W2", "W3", "W4", "W4b", "W5", "W6", "W7", "W8", "W9"}

// Describe says in one line what workload w does at cfg's sizes, for the
// progress lines and the table's notes; "" for an unknown workload.
func Describe(w string, cfg Config) string {
	switch w {
	case "W1":
		return fmt.Sprintf("%s callbacks posted from inside the loop (call_soon), each increments a counter", count(cfg.W1Callbacks))
	case "W1x":
		return fmt.Sprintf("2 producer goroutines each post %s callbacks from outside the loop; lost = posted but never run (rejected or dropped)", count(cfg.W1xPerProd))
	case "W2":
		return fmt.Sprintf("N timers scheduled at once from the loop, delays uniform in [0, 10] ms; N = %s", counts(cfg.W2Sizes))
	case "W3":
		return fmt.Sprintf("%s timers, delays uniform in [1, 10] ms", count(cfg.W3Timers))
	case "W4":
		return fmt.Sprintf("%s timers of 100 µs, chained (each scheduled when the previous fires)", count(cfg.W4Timers))
	case "W4b":
		return fmt.Sprintf("%s timers of 100 µs scheduled at once", count(cfg.W4Timers))
	case "W5":
		return fmt.Sprintf("one %s timer on an otherwise empty loop", cfg.W5Delay)
	case "W6":
		return fmt.Sprintf("%s timers of 1 s scheduled, then all cancelled (until the loop has applied the cancels)", count(cfg.W6Timers))
	case "W7":
		return fmt.Sprintf("a post from another goroutine to a parked loop: post → callback start (%s samples)", count(cfg.W7Samples))
	case "W8":
		return fmt.Sprintf("N timers of %s, each Reset to %s %d times round-robin from loop callbacks (%s per callback), then from 4 goroutines owning a quarter each (remote: wall time ÷ all their Resets), until the loop has applied them; early = timers that fired (must be 0); N = %s",
			cfg.W8Delay, cfg.W8Delay, cfg.W8Rounds, count(cfg.W8Chunk), counts(cfg.W8Sizes))
	case "W9":
		return fmt.Sprintf("loop groups: GOMAXPROCS producers post %s keyed callbacks of about %s of CPU (keys uniform over 2^16) to n = 1, 2, GOMAXPROCS workers (throughput; scaling = throughput(n) ÷ (n × throughput(1))); and a message bounced %s times between two workers (hop: send → run). Only group implementations run it",
			count(cfg.W9Posts), cfg.W9Work, count(cfg.W9RoundTrips))
	}
	return ""
}

// count prints n with thousands separators: 100,000.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func counts(ns []int) string {
	var out []string
	for _, n := range ns {
		out = append(out, count(n))
	}
	return strings.Join(out, ", ")
}

// metric is one named figure from one repetition.
type metric struct {
	name  string
	value float64
}

// Impl is a registered implementation with its workloads bound to it.
type Impl struct {
	// Name is the implementation's column name.
	Name string
	// Doc describes the implementation in one line.
	Doc string
	// Lacks lists the workloads it does not run (Run returns no results):
	// W9 for implementations with no group, every other one for W9's peer.
	Lacks []string
	// Changes, for a mode of hotloop, lists the workloads on which it
	// differs from plain hotloop (impl.Def.Changes); nil means all.
	Changes []string
	run     func(workload string, cfg Config, progress func(string)) ([]Result, error)
}

// Run runs one workload id (see Workloads) against the implementation and
// returns its results. progress, if not nil, is told about each row as it
// starts. On error the results gathered so far are returned with it.
func (im Impl) Run(workload string, cfg Config, progress func(string)) ([]Result, error) {
	return im.run(workload, cfg, progress)
}

var (
	regMu    sync.Mutex
	registry []Impl
)

// order fixes the column order; implementations not listed come after.
var order = []string{"hotloop", "hotloop-precise", "hotloop-poll", "hotloop-spin", "hotloop-autospin", "hotloop-slack", "hotloop-leeway", "hotloop-wheel", "hotloop-producer", "gotimers", "goja", "seed", "goworkers"}

func register[T any](d impl.Def[T]) {
	regMu.Lock()
	defer regMu.Unlock()
	var lacks []string
	if d.Workers == nil {
		lacks = []string{"W9"}
	}
	registry = append(registry, Impl{
		Name:    d.Name,
		Doc:     d.Doc,
		Lacks:   lacks,
		Changes: d.Changes,
		run: func(w string, cfg Config, progress func(string)) ([]Result, error) {
			return runWorkload(d, w, cfg, progress)
		},
	})
}

// registerWorkers registers an implementation that only runs W9.
func registerWorkers(d impl.WorkersDef) {
	regMu.Lock()
	defer regMu.Unlock()
	registry = append(registry, Impl{
		Name:  d.Name,
		Doc:   d.Doc,
		Lacks: slices.DeleteFunc(slices.Clone(Workloads), func(w string) bool { return w == "W9" }),
		run: func(w string, cfg Config, progress func(string)) ([]Result, error) {
			if w != "W9" {
				return nil, nil
			}
			return runW9(d.Name, d.New, cfg, progress)
		},
	})
}

// Impls returns the registered implementations, hotloop first.
func Impls() []Impl {
	regMu.Lock()
	defer regMu.Unlock()
	var out []Impl
	for _, name := range order {
		for _, im := range registry {
			if im.Name == name {
				out = append(out, im)
			}
		}
	}
	for _, im := range registry {
		known := false
		for _, name := range order {
			known = known || im.Name == name
		}
		if !known {
			out = append(out, im)
		}
	}
	return out
}

// ErrUnknownWorkload is returned for a workload id not in Workloads.
var ErrUnknownWorkload = errors.New("bench: unknown workload")

// ErrTimeout is returned when a repetition does not finish within
// Config.RepTimeout.
var ErrTimeout = errors.New("bench: repetition timed out")

func runWorkload[T any](d impl.Def[T], w string, cfg Config, progress func(string)) ([]Result, error) {
	type row struct {
		name string
		rep  func(l impl.Loop[T]) ([]metric, error)
	}
	if w == "W9" {
		return runW9(d.Name, d.Workers, cfg, progress)
	}
	var rows []row
	switch w {
	case "W1":
		rows = []row{{w, func(l impl.Loop[T]) ([]metric, error) { return w1(l, cfg) }}}
	case "W1x":
		rows = []row{{w, func(l impl.Loop[T]) ([]metric, error) { return w1x(l, cfg) }}}
	case "W2":
		for _, n := range cfg.W2Sizes {
			rows = append(rows, row{fmt.Sprintf("W2/N=%d", n), func(l impl.Loop[T]) ([]metric, error) { return w2(l, cfg, n) }})
		}
	case "W3":
		rows = []row{{w, func(l impl.Loop[T]) ([]metric, error) { return w3(l, cfg) }}}
	case "W4":
		rows = []row{{w, func(l impl.Loop[T]) ([]metric, error) { return w4(l, cfg) }}}
	case "W4b":
		rows = []row{{w, func(l impl.Loop[T]) ([]metric, error) { return w4b(l, cfg) }}}
	case "W5":
		rows = []row{{w, func(l impl.Loop[T]) ([]metric, error) { return w5(l, cfg) }}}
	case "W6":
		rows = []row{{w, func(l impl.Loop[T]) ([]metric, error) { return w6(l, cfg) }}}
	case "W7":
		rows = []row{{w, func(l impl.Loop[T]) ([]metric, error) { return w7(l, cfg) }}}
	case "W8":
		for _, n := range cfg.W8Sizes {
			rows = append(rows, row{fmt.Sprintf("W8/N=%d", n), func(l impl.Loop[T]) ([]metric, error) { return w8(l, cfg, n) }})
		}
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownWorkload, w)
	}
	if (w == "W1" || w == "W1x") && cfg.FastReps > cfg.Reps {
		cfg.Reps = cfg.FastReps
	}
	var out []Result
	for _, r := range rows {
		if progress != nil {
			progress(r.name)
		}
		res, err := repeat(d, r.name, cfg, r.rep)
		out = append(out, res...)
		if err != nil {
			return out, fmt.Errorf("%s %s: %w", d.Name, r.name, err)
		}
	}
	return out, nil
}

// repeat starts a loop, runs warm-up and measured repetitions of rep on it,
// closes it and turns the measured figures into Results (median + samples).
func repeat[T any](d impl.Def[T], workload string, cfg Config, rep func(impl.Loop[T]) ([]metric, error)) ([]Result, error) {
	l, err := d.New()
	if err != nil {
		return nil, err
	}
	var names []string
	samples := map[string][]float64{}
	for i := 0; i < cfg.Warmup+cfg.Reps; i++ {
		// Do not bill this repetition for the last one's garbage, nor for
		// the background scavenger returning its memory to the kernel.
		debug.FreeOSMemory()
		ms, err := rep(l)
		if err != nil {
			if errors.Is(err, ErrTimeout) {
				// The loop may be wedged; do not wait on Close.
				go l.Close()
			} else {
				l.Close()
			}
			return nil, err
		}
		if i < cfg.Warmup {
			continue
		}
		for _, m := range ms {
			if _, seen := samples[m.name]; !seen {
				names = append(names, m.name)
			}
			samples[m.name] = append(samples[m.name], m.value)
		}
	}
	if err := l.Close(); err != nil && !errors.Is(err, impl.ErrClosed) {
		return nil, fmt.Errorf("close: %w", err)
	}
	out := make([]Result, 0, len(names))
	for _, n := range names {
		out = append(out, Result{Impl: d.Name, Workload: workload, Metric: n, Value: stats.Median(samples[n]), Samples: samples[n]})
	}
	return out, nil
}

// finisher lets the loop (or a timer goroutine) end a repetition, with or
// without an error, exactly once.
type finisher struct {
	once sync.Once
	done chan struct{}
	err  error
}

func newFinisher() *finisher { return &finisher{done: make(chan struct{})} }

func (f *finisher) finish(err error) {
	f.once.Do(func() {
		f.err = err
		close(f.done)
	})
}

func (f *finisher) wait(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-f.done:
		return f.err
	case <-t.C:
		return ErrTimeout
	}
}

// kick posts fn to the loop from the harness goroutine and waits for f.
func kick[T any](l impl.Loop[T], f *finisher, timeout time.Duration, fn func()) error {
	if !l.Post(fn) {
		return errors.New("kick-off post rejected")
	}
	return f.wait(timeout)
}

// cpuNanos is the process's user+sys CPU time from getrusage(RUSAGE_SELF).
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func w1[T any](l impl.Loop[T], cfg Config) ([]metric, error) {
	n := cfg.W1Callbacks
	f := newFinisher()
	var t0, t1 int64
	count := 0 // touched only on the loop
	inc := func() {
		count++
		if count == n {
			t1 = impl.Now()
			f.finish(nil)
		}
	}
	err := kick(l, f, cfg.RepTimeout, func() {
		t0 = impl.Now()
		for i := 0; i < n; i++ {
			if !l.PostLocal(inc) {
				f.finish(errors.New("PostLocal rejected"))
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return []metric{{"ns_per_callback", float64(t1-t0) / float64(n)}}, nil
}

// posterOf returns the way one goroutine posts to l from outside the loop:
// a poster of its own where the implementation offers one (impl.Poster),
// else l.Post; and what to call when the goroutine is done with it.
func posterOf[T any](l impl.Loop[T]) (post func(func()) bool, release func()) {
	if p, ok := l.(impl.Poster); ok {
		return p.NewPoster()
	}
	return l.Post, func() {}
}

func w1x[T any](l impl.Loop[T], cfg Config) ([]metric, error) {
	const producers = 2
	per := cfg.W1xPerProd
	total := producers * per
	count := 0 // touched only on the loop
	var t1 int64
	inc := func() {
		count++
		if count == total {
			t1 = impl.Now()
		}
	}
	// Each producer ends with a marker posted the same way as its
	// callbacks: every post it made and had accepted runs before its marker
	// (FIFO per goroutine, and per poster), so whatever has not run once
	// both markers have was lost.
	f := newFinisher()
	seen, markers := 0, 0 // touched only on the loop
	var tb int64
	marker := func() {
		if markers++; markers == producers {
			seen, tb = count, impl.Now()
			f.finish(nil)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errc := make(chan error, producers)
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			post, release := posterOf(l)
			defer release()
			<-start
			for i := 0; i < per; i++ {
				post(inc) // a rejected post shows up as lost
			}
			deadline := time.Now().Add(cfg.RepTimeout)
			for !post(marker) {
				if time.Now().After(deadline) {
					errc <- ErrTimeout
					return
				}
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}
	t0 := impl.Now()
	close(start)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	if err := f.wait(cfg.RepTimeout); err != nil {
		return nil, err
	}
	if seen < total {
		t1 = tb
	}
	return []metric{
		{"ns_per_callback", float64(t1-t0) / float64(total)},
		{"lost", float64(total - seen)},
	}, nil
}

// atOnceRun is what atOnce measured: the kick-off time, each timer's due
// and fire times, the CPU used from the kick-off to the last fire, and the
// last fire time.
type atOnceRun struct {
	t0         int64
	due, fire  []int64
	cpu        int64
	lastFireAt int64
	wakeups    float64 // the loop's wake-ups from the first scheduling to the last fire
	canCount   bool    // whether the implementation counts wake-ups
}

// atOnce schedules one timer per delay (µs) from a single loop callback and
// waits for all of them to fire.
func atOnce[T any](l impl.Loop[T], cfg Config, delaysUs []uint32) (atOnceRun, error) {
	n := len(delaysUs)
	r := atOnceRun{due: make([]int64, n), fire: make([]int64, n)}
	var fired atomic.Int64
	var cpu0, cpu1 int64
	f := newFinisher()
	var w0, w1 uint64
	err := kick(l, f, cfg.RepTimeout, func() {
		w0, r.canCount = l.Wakeups()
		cpu0 = cpuNanos()
		r.t0 = impl.Now()
		for i, us := range delaysUs {
			d := time.Duration(us) * time.Microsecond
			r.due[i] = impl.Now() + int64(d)
			if _, err := l.AfterFunc(d, func() {
				r.fire[i] = impl.Now()
				if fired.Add(1) == int64(n) {
					cpu1 = cpuNanos()
					w1, _ = l.Wakeups()
					f.finish(nil)
				}
			}); err != nil {
				f.finish(err)
				return
			}
		}
	})
	if err != nil {
		return r, err
	}
	r.cpu = cpu1 - cpu0
	r.wakeups = float64(w1 - w0)
	for _, t := range r.fire {
		r.lastFireAt = max(r.lastFireAt, t)
	}
	return r, nil
}

func latenciesUs(due, fire []int64) []float64 {
	out := make([]float64, len(due))
	for i := range due {
		out[i] = float64(fire[i]-due[i]) / 1e3
	}
	return out
}

func delays(n int, lo, hi uint32) []uint32 {
	g := stats.NewXorShift32(stats.Seed)
	out := make([]uint32, n)
	for i := range out {
		out[i] = g.Between(lo, hi)
	}
	return out
}

func w2[T any](l impl.Loop[T], cfg Config, n int) ([]metric, error) {
	r, err := atOnce(l, cfg, delays(n, 0, 10000))
	if err != nil {
		return nil, err
	}
	ms := []metric{
		{"wall_ms", float64(r.lastFireAt-r.t0) / 1e6},
		{"cpu_us_per_timer", float64(r.cpu) / 1e3 / float64(n)},
		{"lateness_mean_us", stats.Mean(latenciesUs(r.due, r.fire))},
	}
	if r.canCount {
		ms = append(ms, metric{"wakeups", r.wakeups})
	}
	return ms, nil
}

func w3[T any](l impl.Loop[T], cfg Config) ([]metric, error) {
	r, err := atOnce(l, cfg, delays(cfg.W3Timers, 1000, 10000))
	if err != nil {
		return nil, err
	}
	s := stats.Summarize(latenciesUs(r.due, r.fire))
	return []metric{
		{"lateness_mean_us", s.Mean},
		{"lateness_p50_us", s.P50},
		{"lateness_p99_us", s.P99},
		{"lateness_max_us", s.Max},
		{"lateness_min_us", s.Min},
		{"cpu_us_per_timer", float64(r.cpu) / 1e3 / float64(cfg.W3Timers)},
	}, nil
}

func w4[T any](l impl.Loop[T], cfg Config) ([]metric, error) {
	n := cfg.W4Timers
	const d = 100 * time.Microsecond
	due := make([]int64, n)
	fire := make([]int64, n)
	var t0 int64
	f := newFinisher()
	var schedule func(i int)
	schedule = func(i int) {
		due[i] = impl.Now() + int64(d)
		if _, err := l.AfterFunc(d, func() {
			fire[i] = impl.Now()
			if i+1 < n {
				schedule(i + 1)
			} else {
				f.finish(nil)
			}
		}); err != nil {
			f.finish(err)
		}
	}
	err := kick(l, f, cfg.RepTimeout, func() {
		t0 = impl.Now()
		schedule(0)
	})
	if err != nil {
		return nil, err
	}
	return []metric{
		{"us_per_timer", float64(fire[n-1]-t0) / 1e3 / float64(n)},
		{"lateness_mean_us", stats.Mean(latenciesUs(due, fire))},
	}, nil
}

func w4b[T any](l impl.Loop[T], cfg Config) ([]metric, error) {
	ds := make([]uint32, cfg.W4Timers)
	for i := range ds {
		ds[i] = 100
	}
	r, err := atOnce(l, cfg, ds)
	if err != nil {
		return nil, err
	}
	return []metric{
		{"wall_ms", float64(r.lastFireAt-r.t0) / 1e6},
		{"lateness_mean_us", stats.Mean(latenciesUs(r.due, r.fire))},
	}, nil
}

func w5[T any](l impl.Loop[T], cfg Config) ([]metric, error) {
	// Let the loop settle into its idle state first.
	time.Sleep(5 * time.Millisecond)
	d := cfg.W5Delay
	var t0, t1, cpu0, cpu1 int64
	var w0, w1 uint64
	var canCount bool
	f := newFinisher()
	err := kick(l, f, cfg.RepTimeout+d, func() {
		w0, canCount = l.Wakeups()
		cpu0 = cpuNanos()
		t0 = impl.Now()
		if _, err := l.AfterFunc(d, func() {
			t1 = impl.Now()
			cpu1 = cpuNanos()
			w1, _ = l.Wakeups()
			f.finish(nil)
		}); err != nil {
			f.finish(err)
		}
	})
	if err != nil {
		return nil, err
	}
	ms := []metric{
		{"elapsed_ms", float64(t1-t0) / 1e6},
		{"cpu_us", float64(cpu1-cpu0) / 1e3},
	}
	if canCount {
		ms = append(ms, metric{"wakeups", float64(w1 - w0)})
	}
	return ms, nil
}

func w6[T any](l impl.Loop[T], cfg Config) ([]metric, error) {
	n := cfg.W6Timers
	handles := make([]T, n)
	var fired atomic.Int64
	never := func() { fired.Add(1) }
	var t0, t1 int64
	f := newFinisher()
	err := kick(l, f, cfg.RepTimeout, func() {
		t0 = impl.Now()
		for i := range handles {
			h, err := l.AfterFunc(time.Second, never)
			if err != nil {
				f.finish(err)
				return
			}
			handles[i] = h
		}
		for _, h := range handles {
			l.Stop(h)
		}
		// The barrier runs once the loop has applied everything above
		// (goja applies SetTimeout and ClearTimeout asynchronously).
		l.PostLocal(func() {
			t1 = impl.Now()
			f.finish(nil)
		})
	})
	if err != nil {
		return nil, err
	}
	if k := fired.Load(); k != 0 {
		return nil, fmt.Errorf("W6: %d cancelled timers fired", k)
	}
	return []metric{{"ns_per_pair", float64(t1-t0) / float64(n)}}, nil
}

func w7[T any](l impl.Loop[T], cfg Config) ([]metric, error) {
	g := stats.NewXorShift32(stats.Seed)
	lat := make([]float64, 0, cfg.W7Samples)
	got := make(chan int64, 1)
	post, release := posterOf(l)
	defer release()
	for k := 0; k < cfg.W7Samples; k++ {
		// Idle long enough for the loop to park, with a jitter so that a
		// polling loop is caught at every phase of its sleep. nanosleep,
		// not time.Sleep: an idle Go process rounds its timers to whole
		// milliseconds, which would phase-lock the posts to the seed's
		// 1 ms polling and hide the jitter.
		nanosleep(cfg.W7IdleBetween + time.Duration(g.Between(0, 1000))*time.Microsecond)
		t0 := impl.Now()
		if !post(func() { got <- impl.Now() }) {
			return nil, errors.New("W7: post rejected")
		}
		select {
		case t1 := <-got:
			lat = append(lat, float64(t1-t0)/1e3)
		case <-time.After(cfg.RepTimeout):
			return nil, ErrTimeout
		}
	}
	return []metric{
		{"p50_us", stats.Percentile(lat, 50)},
		{"p99_us", stats.Percentile(lat, 99)},
	}, nil
}

// allocsPerReset is mallocs ÷ resets rounded to thousandths. The harness
// allocates a handful of objects in each timed part (the kick-off callback,
// the finisher and its timer, the barrier), which would otherwise show as
// a few millionths of an allocation per Reset and make the ratio column
// compare noise; an allocation every thousand Resets still shows.
func allocsPerReset(mallocs uint64, resets int) float64 {
	return math.Round(float64(mallocs)/float64(resets)*1000) / 1000
}

// nanosleep blocks the calling thread for d with nanosleep(2).
func nanosleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

// w8Remote is how many goroutines other than the loop's reset timers in
// W8's remote part; each owns a contiguous share of them.
const w8Remote = 4

// w8 is W8 for n timers: n timers of cfg.W8Delay are scheduled from the
// loop, then every one is Reset to cfg.W8Delay cfg.W8Rounds times in
// round-robin order, first from loop callbacks (cfg.W8Chunk Resets each,
// the next chunk posted with PostLocal, so that a loop that applies Resets
// asynchronously, as goja does, applies a chunk before running the next),
// then from w8Remote goroutines, each owning a contiguous share of the
// timers and resetting it round-robin. Each part is timed until a callback
// posted after its last Reset has run on the loop, so that whatever the
// loop does to apply the Resets is in the figure; for the remote part that
// is the wall time of all w8Remote goroutines together, divided by all
// their Resets. Allocations are the process's mallocs over each part
// (runtime.MemStats), the loop's included, per Reset, rounded to thousandths
// (allocsPerReset). The timers are then
// stopped from the loop; early counts those that fired at all, which none
// may: every timer is reset well within its delay (a round of n Resets
// takes n × ns_per_reset, far below 5 s), so a fire is a lost Reset, or a
// loop too slow for the workload.
func w8[T any](l impl.Loop[T], cfg Config, n int) ([]metric, error) {
	d, rounds := cfg.W8Delay, cfg.W8Rounds
	resets := n * rounds
	handles := make([]T, n)
	var fired atomic.Int64
	fire := func() { fired.Add(1) } // on a timer goroutine for gotimers
	var ms0, ms1 runtime.MemStats

	// Schedule the timers, and let the loop apply them (goja's SetTimeout
	// is a queued job) before the clock starts.
	f := newFinisher()
	err := kick(l, f, cfg.RepTimeout, func() {
		for i := range handles {
			h, err := l.AfterFunc(d, fire)
			if err != nil {
				f.finish(err)
				return
			}
			handles[i] = h
		}
		l.PostLocal(func() { f.finish(nil) })
	})
	if err != nil {
		return nil, err
	}

	// (a) From loop callbacks. next and i are touched only on the loop.
	var t0, t1 int64
	next, i := 0, 0
	var chunk func()
	chunk = func() {
		end := min(next+cfg.W8Chunk, resets)
		for ; next < end; next++ {
			handles[i] = l.Reset(handles[i], d, fire)
			if i++; i == n {
				i = 0
			}
		}
		if next < resets {
			l.PostLocal(chunk)
			return
		}
		l.PostLocal(func() {
			t1 = impl.Now()
			f.finish(nil)
		})
	}
	runtime.ReadMemStats(&ms0)
	f = newFinisher()
	if err := kick(l, f, cfg.RepTimeout, func() {
		t0 = impl.Now()
		chunk()
	}); err != nil {
		return nil, err
	}
	runtime.ReadMemStats(&ms1)
	loopNs, loopAllocs := t1-t0, ms1.Mallocs-ms0.Mallocs

	// (b) From w8Remote goroutines, each resetting its own share of the
	// handles (so no two write the same one).
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < w8Remote; g++ {
		lo, hi := g*n/w8Remote, (g+1)*n/w8Remote
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for r := 0; r < rounds; r++ {
				for i := lo; i < hi; i++ {
					handles[i] = l.ResetRemote(handles[i], d, fire)
				}
			}
		}()
	}
	runtime.ReadMemStats(&ms0)
	t2 := impl.Now()
	close(start)
	wg.Wait()
	var t3 int64
	f = newFinisher()
	if err := kick(l, f, cfg.RepTimeout, func() {
		t3 = impl.Now()
		f.finish(nil)
	}); err != nil {
		return nil, err
	}
	runtime.ReadMemStats(&ms1)
	remoteNs, remoteAllocs := t3-t2, ms1.Mallocs-ms0.Mallocs

	// Stop every timer, so that none outlives the repetition, and count
	// the fires once the loop has applied the stops.
	f = newFinisher()
	if err := kick(l, f, cfg.RepTimeout, func() {
		for _, h := range handles {
			l.Stop(h)
		}
		l.PostLocal(func() { f.finish(nil) })
	}); err != nil {
		return nil, err
	}
	return []metric{
		{"ns_per_reset", float64(loopNs) / float64(resets)},
		{"ns_per_reset_remote", float64(remoteNs) / float64(resets)},
		{"allocs_per_reset", allocsPerReset(loopAllocs, resets)},
		{"allocs_per_reset_remote", allocsPerReset(remoteAllocs, resets)},
		{"early", float64(fired.Load())},
	}, nil
}
