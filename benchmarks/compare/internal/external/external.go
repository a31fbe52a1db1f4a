// Package external runs the peers that live outside Go — Python asyncio,
// uvloop, Node.js, libuv driven from C, and the floor (the kernel's own
// limit for timers, a C program with no loop at all) — as separate
// processes from the scripts and sources in this module's external/
// directory, hands them the run's configuration as JSON and reads back the
// JSON lines they print. The C peers are compiled once, with the system's
// cc, into the user's cache directory.
//
// The loops among these peers only have whole-millisecond timers (epoll
// timeouts for asyncio, libuv for uvloop, Node and the libuv peer), so
// their timer figures are bounded by that resolution; the table says so.
// The floor sleeps to nanosecond deadlines.
package external

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/bench"
	"github.com/hotloop/hotloop/benchmarks/compare/internal/report"
)

// Python is the interpreter the Python peers run with: Debian's, which is
// where python3-uvloop installs.
const Python = "/usr/bin/python3"

// Peer is one external implementation.
type Peer struct {
	// Name is the implementation's column name and "impl" field.
	Name string
	// Doc describes the peer in one line for the table's notes.
	Doc string
	// Cmd builds the command that runs the peer with the given JSON config.
	Cmd func(scripts, config string) (string, []string)
	// Probe returns nil when the peer can run here, or why it cannot. It
	// is called before Cmd, with the same scripts directory, and may build
	// what Cmd runs.
	Probe func(scripts string) error
	// Lacks lists the workloads its script does not implement: they are
	// left out of its results, and show as "–" in the table.
	Lacks []string
}

// Peers lists the external peers in column order.
var Peers = []Peer{
	{
		Name: "asyncio",
		Doc:  "CPython asyncio (" + Python + ", call_soon / call_soon_threadsafe / call_later); whole-ms sleeps; no W8",
		Cmd: func(dir, cfg string) (string, []string) {
			return Python, []string{filepath.Join(dir, "asyncio_bench.py"), "--loop", "asyncio", "--config", cfg}
		},
		Probe: func(string) error { return probe(Python, "-c", "import asyncio") },
		Lacks: []string{"W8", "W9"}, // not one of W8's or W9's peers in WORKLOADS.md
	},
	{
		Name: "uvloop",
		Doc:  "uvloop (Debian python3-uvloop, same script as asyncio); libuv whole-ms timers; no W8",
		Cmd: func(dir, cfg string) (string, []string) {
			return Python, []string{filepath.Join(dir, "asyncio_bench.py"), "--loop", "uvloop", "--config", cfg}
		},
		Probe: func(string) error { return probe(Python, "-c", "import uvloop") },
		Lacks: []string{"W8", "W9"},
	},
	{
		Name: "node",
		Doc:  "Node.js (setImmediate, setTimeout/clearTimeout; worker_threads postMessage for W1x/W7; W8 with timeout.refresh() on the loop only, as worker threads cannot reach the main thread's timers, and no allocation count); whole-ms timers, delays rounded up",
		Cmd: func(dir, cfg string) (string, []string) {
			return "node", []string{filepath.Join(dir, "node_bench.js"), "--config", cfg}
		},
		Probe: func(string) error { return probe("node", "--version") },
		Lacks: []string{"W9"}, // not one of W9's peers in WORKLOADS.md
	},
	{
		Name: "libuv",
		Doc:  "libuv driven from C (Debian libuv1-dev; external/libuv_bench.c): callbacks from the loop in a plain array drained by an idle handle, from other threads in a mutex-guarded array + uv_async_send; uv_timer_t with whole-ms delays from the loop's cached time, rounded up as Node does (which can fire up to 1 ms early: ⚠); W2–W4 use an array of uv_timer_t allocated before the clock starts, W6 mallocs each; no W8",
		Cmd: func(dir, cfg string) (string, []string) {
			return libuvPeer.binary(dir), []string{"--config", cfg}
		},
		Probe: libuvPeer.build,
		Lacks: []string{"W8", "W9"},
	},
	{
		Name: "floor-nanosleep",
		Doc:  "the kernel's limit (external/floor_bench.c): one C thread, no runtime, sorted deadlines, clock_nanosleep(TIMER_ABSTIME) to each with 1 ns timer slack; timers only",
		Cmd: func(dir, cfg string) (string, []string) {
			return floorPeer.binary(dir), []string{"--mode", "nanosleep", "--config", cfg}
		},
		Probe: floorPeer.build,
		Lacks: floorLacks,
	},
	{
		Name: "floor-epoll",
		Doc:  "the kernel's limit (external/floor_bench.c): as floor-nanosleep, sleeping with epoll_pwait2 and a nanosecond timeout read against the clock just before",
		Cmd: func(dir, cfg string) (string, []string) {
			return floorPeer.binary(dir), []string{"--mode", "epoll", "--config", cfg}
		},
		Probe: floorPeer.build,
		Lacks: floorLacks,
	},
}

// floorLacks are the workloads the floor does not run: it has no callbacks
// to post and no timer to cancel.
var floorLacks = []string{"W1", "W1x", "W6", "W7", "W8", "W9"}

// cProgram is a peer written in C: a source file in the scripts directory,
// which includes cbench.h beside it, compiled once with the system's cc.
type cProgram struct {
	source string   // in the scripts directory
	libs   []string // cc's -l flags
	needs  string   // what a failed build probably lacks, for the error
}

var (
	libuvPeer = cProgram{"libuv_bench.c", []string{"-luv", "-lpthread", "-lm"}, "is libuv1-dev installed?"}
	floorPeer = cProgram{"floor_bench.c", []string{"-lm"}, "a C compiler with Linux headers"}
)

// cHeader is the header every C peer includes.
const cHeader = "cbench.h"

// binary is where build puts the program built from the sources in dir: a
// file in the user's cache directory named by the hash of the source and
// cHeader, so that an edited source is built again.
func (c cProgram) binary(dir string) string {
	h := sha256.New()
	for _, f := range []string{c.source, cHeader} {
		src, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return filepath.Join(os.TempDir(), strings.TrimSuffix(c.source, ".c")+"-missing")
		}
		h.Write(src)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "hotloop-compare", fmt.Sprintf("%s-%x", strings.TrimSuffix(c.source, ".c"), h.Sum(nil)[:6]))
}

// build compiles the program unless it is built already; it fails, saying
// why, when there is no C compiler or a library is missing.
func (c cProgram) build(dir string) error {
	bin := c.binary(dir)
	if _, err := os.Stat(bin); err == nil {
		return nil
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		return errors.New("no C compiler (cc) installed")
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmp := bin + ".tmp"
	args := append([]string{"-O2", "-o", tmp, filepath.Join(dir, c.source)}, c.libs...)
	out, err := exec.CommandContext(ctx, cc, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("building %s (%s): %v: %s", c.source, c.needs, err, bytes.TrimSpace(out))
	}
	return os.Rename(tmp, bin)
}

func probe(name string, args ...string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%s not installed", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// Config is the JSON handed to the scripts: the bench.Config fields they
// use, durations in nanoseconds, the repetition timeout in seconds.
type Config struct {
	Workloads       []string `json:"workloads"`
	Warmup          int      `json:"Warmup"`
	Reps            int      `json:"Reps"`
	FastReps        int      `json:"FastReps"` // W1 and W1x: max(Reps, FastReps) measured repetitions
	W1Callbacks     int      `json:"W1Callbacks"`
	W1xPerProd      int      `json:"W1xPerProd"`
	W2Sizes         []int    `json:"W2Sizes"`
	W3Timers        int      `json:"W3Timers"`
	W4Timers        int      `json:"W4Timers"`
	W5DelayNs       int64    `json:"W5DelayNs"`
	W6Timers        int      `json:"W6Timers"`
	W7Samples       int      `json:"W7Samples"`
	W7IdleBetweenNs int64    `json:"W7IdleBetweenNs"`
	W8Sizes         []int    `json:"W8Sizes"`
	W8Rounds        int      `json:"W8Rounds"`
	W8Chunk         int      `json:"W8Chunk"`
	W8DelayNs       int64    `json:"W8DelayNs"`
	TimeoutSec      float64  `json:"timeout"`
}

// NewConfig converts a bench.Config and a workload list for the scripts.
func NewConfig(c bench.Config, workloads []string) Config {
	return Config{
		Workloads:       workloads,
		Warmup:          c.Warmup,
		Reps:            c.Reps,
		FastReps:        max(c.Reps, c.FastReps),
		W1Callbacks:     c.W1Callbacks,
		W1xPerProd:      c.W1xPerProd,
		W2Sizes:         c.W2Sizes,
		W3Timers:        c.W3Timers,
		W4Timers:        c.W4Timers,
		W5DelayNs:       int64(c.W5Delay),
		W6Timers:        c.W6Timers,
		W7Samples:       c.W7Samples,
		W7IdleBetweenNs: int64(c.W7IdleBetween),
		W8Sizes:         c.W8Sizes,
		W8Rounds:        c.W8Rounds,
		W8Chunk:         c.W8Chunk,
		W8DelayNs:       int64(c.W8Delay),
		TimeoutSec:      c.RepTimeout.Seconds(),
	}
}

// ScriptDir finds the external/ directory: dir if it holds the scripts,
// else external/ next to this module's source (for runs from elsewhere).
func ScriptDir(dir string) (string, error) {
	if ok(dir) {
		return dir, nil
	}
	if _, file, _, found := runtime.Caller(0); found {
		d := filepath.Join(filepath.Dir(file), "..", "..", "external")
		if ok(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("external scripts not found in %q", dir)
}

func ok(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "asyncio_bench.py"))
	return err == nil
}

// Run runs one peer over the workloads and returns its results. Lines the
// script writes to stderr (progress, errors) are copied to stderr. A
// deadline bounds the whole process.
func Run(p Peer, scripts string, cfg Config, deadline time.Duration, stderr io.Writer) ([]bench.Result, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	name, args := p.Cmd(scripts, string(js))
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = stderr
	runErr := cmd.Run()
	res, parseErr := report.ReadJSONLines(&out)
	for i := range res {
		if res[i].Impl != p.Name {
			return nil, fmt.Errorf("%s: script reported impl %q", p.Name, res[i].Impl)
		}
	}
	if runErr != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			runErr = fmt.Errorf("timed out after %s", deadline)
		}
		return res, fmt.Errorf("%s: %w", p.Name, runErr)
	}
	if parseErr != nil {
		return res, fmt.Errorf("%s: %w", p.Name, parseErr)
	}
	return res, nil
}
