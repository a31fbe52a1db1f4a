package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/hotloop/hotloop/benchmarks/compare/internal/impl"
	"github.com/hotloop/hotloop/benchmarks/compare/internal/stats"
	"github.com/hotloop/hotloop/group"
)

// W9 (WORKLOADS.md), loop groups, on the implementations that offer
// Workers (a hotloop group; goroutines fed by channels):
//
//   - W9/n=N: P = GOMAXPROCS producer goroutines post cfg.W9Posts keyed
//     callbacks in all to N workers, each callback about cfg.W9Work of CPU
//     on its key's state (keys uniform over 2^16); throughput_per_s is
//     callbacks per second from the first post to the last callback, and
//     scaling = throughput(N) / (N × throughput(1)).
//   - W9/pingpong: a message bounces between two workers cfg.W9RoundTrips
//     times, each hop sent from a callback on one to the other; hop_ns_mean
//     is the elapsed time per hop, hop_p50_us and hop_p99_us the
//     distribution of each hop's send → run latency, and hop_cpu_us the
//     process's CPU time per hop (what polling for the next hop costs).

// w9Keys is how many keys W9 spreads its posts over.
const w9Keys = 1 << 16

// w9Sizes returns W9's worker counts: 1, 2 and GOMAXPROCS, each once.
func w9Sizes() []int {
	ns := []int{1, 2, runtime.GOMAXPROCS(0)}
	slices.Sort(ns)
	return slices.Compact(ns)
}

// runW9 runs W9's rows for one implementation.
func runW9(name string, newW func(n int) (impl.Workers, error), cfg Config, progress func(string)) ([]Result, error) {
	if newW == nil {
		return nil, nil
	}
	iters := spinIters(cfg.W9Work)
	var out []Result
	var base float64 // median throughput with one worker
	for _, n := range w9Sizes() {
		row := fmt.Sprintf("W9/n=%d", n)
		if progress != nil {
			progress(row)
		}
		thr, err := repeatWorkers(newW, n, cfg, func(w impl.Workers) (float64, error) { return w9Throughput(w, cfg, iters) })
		if err != nil {
			return out, fmt.Errorf("%s %s: %w", name, row, err)
		}
		med := stats.Median(thr)
		out = append(out, Result{Impl: name, Workload: row, Metric: "throughput_per_s", Value: med, Samples: thr})
		if n == 1 {
			base = med
		}
		if base > 0 {
			sc := make([]float64, len(thr))
			for i, v := range thr {
				sc[i] = v / (float64(n) * base)
			}
			out = append(out, Result{Impl: name, Workload: row, Metric: "scaling", Value: stats.Median(sc), Samples: sc})
		}
	}
	if progress != nil {
		progress("W9/pingpong")
	}
	var mean, p50, p99, cpu []float64
	_, err := repeatWorkers(newW, 2, cfg, func(w impl.Workers) (float64, error) {
		m, a, b, c, err := w9PingPong(w, cfg.W9RoundTrips, cfg.RepTimeout)
		mean, p50, p99, cpu = append(mean, m), append(p50, a), append(p99, b), append(cpu, c)
		return 0, err
	})
	if err != nil {
		return out, fmt.Errorf("%s W9/pingpong: %w", name, err)
	}
	k := cfg.Warmup // the warm-up repetitions come first
	for _, r := range []struct {
		metric string
		v      []float64
	}{{"hop_ns_mean", mean[k:]}, {"hop_p50_us", p50[k:]}, {"hop_p99_us", p99[k:]}, {"hop_cpu_us", cpu[k:]}} {
		out = append(out, Result{Impl: name, Workload: "W9/pingpong", Metric: r.metric, Value: stats.Median(r.v), Samples: r.v})
	}
	return out, nil
}

// repeatWorkers starts n workers, runs rep cfg.Warmup + cfg.Reps times,
// closes them, and returns the measured repetitions' values.
func repeatWorkers(newW func(n int) (impl.Workers, error), n int, cfg Config, rep func(impl.Workers) (float64, error)) ([]float64, error) {
	w, err := newW(n)
	if err != nil {
		return nil, err
	}
	var out []float64
	for i := range cfg.Warmup + cfg.Reps {
		debug.FreeOSMemory()
		v, err := rep(w)
		if err != nil {
			if errors.Is(err, ErrTimeout) {
				go w.Close() // the workers may be wedged
			} else {
				w.Close()
			}
			return nil, err
		}
		if i >= cfg.Warmup {
			out = append(out, v)
		}
	}
	return out, w.Close()
}

// w9Throughput is one repetition of W9/n=N: it returns callbacks per
// second.
func w9Throughput(w impl.Workers, cfg Config, iters int) (float64, error) {
	n := w.Len()
	state := make([][]uint64, n) // state[i] is touched only by worker i
	for i := range state {
		state[i] = make([]uint64, w9Keys)
	}
	fns := make([]func(), w9Keys) // made before the clock starts: posting allocates nothing
	for k := range fns {
		st := state[group.KeyIndex(uint64(k), n)]
		fns[k] = func() { st[k] += spin(uint64(k), iters) }
	}
	producers := runtime.GOMAXPROCS(0)
	per := cfg.W9Posts / producers
	var wg sync.WaitGroup
	var rejected sync.Map
	start := time.Now()
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(p), 9))
			for range per {
				k := r.Uint64() % w9Keys
				if !w.PostKey(k, fns[k]) {
					rejected.Store(p, true)
					return
				}
			}
		}()
	}
	wg.Wait()
	// A marker per worker, posted after every producer's posts were
	// accepted, runs after them: when all markers have run, so has all.
	done := make(chan struct{}, n)
	for i := range n {
		if !w.PostKey(keyOf(i, n), func() { done <- struct{}{} }) {
			return 0, fmt.Errorf("marker for worker %d rejected", i)
		}
	}
	timeout := time.After(cfg.RepTimeout)
	for range n {
		select {
		case <-done:
		case <-timeout:
			return 0, ErrTimeout
		}
	}
	elapsed := time.Since(start)
	if _, ok := rejected.Load(0); ok {
		return 0, errors.New("posts rejected")
	}
	return float64(per*producers) / elapsed.Seconds(), nil
}

// keyOf returns a key that worker i of n owns.
func keyOf(i, n int) uint64 {
	for k := uint64(0); ; k++ {
		if group.KeyIndex(k, n) == i {
			return k
		}
	}
}

// w9PingPong is one repetition of W9/pingpong: trips round trips between
// workers 0 and 1. It returns the mean hop in ns, the p50 and p99 hop
// latencies in µs, and the process's CPU µs per hop.
func w9PingPong(w impl.Workers, trips int, timeout time.Duration) (mean, p50, p99, cpu float64, err error) {
	base := time.Now()
	lat := make([]float64, 0, 2*trips) // appended to by the one callback in flight
	var sent time.Duration
	done := make(chan struct{})
	hop := func() { lat = append(lat, float64(time.Since(base)-sent)/1e3) }
	left := trips
	var ping, pong func()
	ping = func() { // on worker 1
		hop()
		sent = time.Since(base)
		w.Send(1, 0, pong)
	}
	pong = func() { // on worker 0
		hop()
		if left--; left == 0 {
			close(done)
			return
		}
		sent = time.Since(base)
		w.Send(0, 1, ping)
	}
	start, cpu0 := time.Now(), cpuNanos()
	if !w.PostKey(keyOf(0, w.Len()), func() { sent = time.Since(base); w.Send(0, 1, ping) }) {
		return 0, 0, 0, 0, errors.New("start rejected")
	}
	select {
	case <-done:
	case <-time.After(timeout):
		return 0, 0, 0, 0, ErrTimeout
	}
	elapsed, cpu1 := time.Since(start), cpuNanos()
	slices.Sort(lat)
	hops := float64(2 * trips)
	return float64(elapsed.Nanoseconds()) / hops, stats.PercentileSorted(lat, 50), stats.PercentileSorted(lat, 99), float64(cpu1-cpu0) / 1e3 / hops, nil
}

// spin is W9's CPU-bound work: iters rounds of xorshift on x.
func spin(x uint64, iters int) uint64 {
	x |= 1
	for range iters {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

var (
	spinOnce     sync.Once
	spinPerMicro float64 // rounds of spin per µs on this machine
)

// spinIters returns how many rounds of spin take about d here, measured
// once per process over 20 ms.
func spinIters(d time.Duration) int {
	spinOnce.Do(func() {
		const rounds = 1 << 20
		var sink uint64
		best := time.Duration(1<<63 - 1)
		for range 5 {
			t0 := time.Now()
			sink += spin(uint64(t0.UnixNano()), rounds)
			best = min(best, time.Since(t0))
		}
		spinPerMicro = rounds / (float64(best) / 1e3)
		if sink == 42 {
			spinPerMicro++ // keep sink alive
		}
	})
	return max(1, int(spinPerMicro*float64(d)/1e3))
}
