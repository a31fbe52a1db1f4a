package benchmarks

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotloop/hotloop/core"
)

// W8 of WORKLOADS.md: idle timeouts pushed back. Every timer is due
// w8Delay after it was armed, and every Reset sets it to w8Delay again.
const (
	w8Delay  = 5 * time.Second
	w8Chunk  = 1000 // Resets per loop callback (from=loop)
	w8Remote = 4    // goroutines resetting timers (from=4goroutines)
)

// w8Sizes are W8's numbers of timers.
var w8Sizes = []int{100000, 1000000}

// w8Sink keeps BenchmarkW8/clock's clock reads from being optimised away.
var w8Sink time.Duration

// share returns the half-open range of timer indices that goroutine g of
// w8Remote owns among n timers: a contiguous share, so that no two
// goroutines touch one timer and neighbouring timers mostly share a
// goroutine.
func share(g, n int) (lo, hi int) {
	return g * n / w8Remote, (g + 1) * n / w8Remote
}

// split returns how many of total operations goroutine g of w8Remote does.
func split(g, total int) int {
	k := total / w8Remote
	if g < total%w8Remote {
		k++
	}
	return k
}

// w8Hotloop is a running core.Loop holding n armed Timers, embedded in one
// slice as a connection manager would embed one in each connection, so
// that re-arming them allocates nothing. It is built once per store and n,
// and shared by that size's from= sub-benchmarks, each of which goes on
// round-robin where the previous run stopped.
type w8Hotloop struct {
	l      *core.Loop
	errc   chan error // Run's result
	timers []core.Timer
	fired  atomic.Int64 // timer callbacks run: must stay 0

	next    int           // from=loop's cursor; touched on the loop only
	cursors [w8Remote]int // each remote goroutine's cursor in its share
}

// newW8Hotloop starts a loop with the store s and n Timers set up with
// Init and armed to w8Delay from inside the loop with Local().Reset, whose
// timers the loop files when the callback returns (no message per timer).
// O(n log n) with the heap.
func newW8Hotloop(tb testing.TB, s core.TimerStore, n int) *w8Hotloop {
	f := &w8Hotloop{
		l:      core.New(core.WithTimerStore(s)),
		errc:   make(chan error, 1),
		timers: make([]core.Timer, n),
	}
	go func() { f.errc <- f.l.Run(context.Background()) }()
	fire := func() { f.fired.Add(1) }
	for i := range f.timers {
		if err := f.timers[i].Init(f.l, fire); err != nil {
			f.close()
			tb.Fatal(err)
		}
	}
	for g := range f.cursors {
		f.cursors[g], _ = share(g, n)
	}
	if err := f.l.Do(context.Background(), func() {
		lc := f.l.Local()
		for i := range f.timers {
			lc.Reset(&f.timers[i], w8Delay)
		}
	}); err != nil {
		f.close()
		tb.Fatal(err)
	}
	return f
}

// close closes the loop (which cancels the timers) and waits for Run.
func (f *w8Hotloop) close() {
	f.l.Close()
	<-f.errc
}

// barrier returns once the loop has run everything posted before it, and
// so has applied every Reset: one that moves a deadline later, as all of
// W8's do, is complete when its compare-and-swap is (the loop re-files the
// timer only when its old filed deadline comes), and any other sends its
// message before it returns.
func (f *w8Hotloop) barrier(b *testing.B) {
	if err := f.l.Do(context.Background(), func() {}); err != nil {
		b.Fatal(err)
	}
}

// onLoop resets b.N timers round-robin from loop callbacks, w8Chunk per
// callback, each chunk posting the next with Local().Post, with
// Timer.Reset or (local) Local().Reset; then the barrier. notArmed counts
// Resets that found their timer fired or stopped: none may.
func (f *w8Hotloop) onLoop(b *testing.B, local bool) {
	l, ts := f.l, f.timers
	lc := l.Local()
	done := make(chan struct{})
	left, notArmed := b.N, 0
	var chunk func()
	chunk = func() {
		k := min(left, w8Chunk)
		left -= k
		i := f.next
		if local {
			for ; k > 0; k-- {
				if !lc.Reset(&ts[i], w8Delay) {
					notArmed++
				}
				if i++; i == len(ts) {
					i = 0
				}
			}
		} else {
			for ; k > 0; k-- {
				if !ts[i].Reset(w8Delay) {
					notArmed++
				}
				if i++; i == len(ts) {
					i = 0
				}
			}
		}
		f.next = i
		if left > 0 {
			lc.Post(chunk)
		} else {
			close(done)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := l.Post(chunk); err != nil {
		b.Fatal(err)
	}
	<-done
	f.barrier(b)
	b.StopTimer()
	f.check(b, notArmed)
}

// remote resets b.N timers from w8Remote goroutines, each round-robin over
// its own share; then the barrier.
func (f *w8Hotloop) remote(b *testing.B) {
	ts := f.timers
	var notArmed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := range w8Remote {
		lo, hi := share(g, len(ts))
		k := split(g, b.N)
		wg.Go(func() {
			// Only locals change in the loop: a captured variable that
			// the closure changed would live on the heap, beside the
			// other goroutines' (false sharing).
			i, missed := f.cursors[g], 0
			for range k {
				if !ts[i].Reset(w8Delay) {
					missed++
				}
				if i++; i == hi {
					i = lo
				}
			}
			f.cursors[g] = i
			notArmed.Add(int64(missed))
		})
	}
	wg.Wait()
	f.barrier(b)
	b.StopTimer()
	f.check(b, int(notArmed.Load()))
}

// check reports early, the number of timers that fired since the fixture
// was built, and fails the benchmark if any did or if a Reset found its
// timer not armed.
func (f *w8Hotloop) check(b *testing.B, notArmed int) {
	early := f.fired.Load()
	b.ReportMetric(float64(early), "early")
	if early != 0 || notArmed != 0 {
		b.Fatalf("%d timers fired and %d Resets found their timer not armed; every timer is pushed back well within %v", early, notArmed, w8Delay)
	}
}

// w8GoTimers is W8's Go-runtime peer: n time.AfterFunc timers, built once
// per n and shared by its from= sub-benchmarks.
type w8GoTimers struct {
	timers  []*time.Timer
	fired   atomic.Int64
	next    int
	cursors [w8Remote]int
}

func newW8GoTimers(n int) *w8GoTimers {
	f := &w8GoTimers{timers: make([]*time.Timer, n)}
	fire := func() { f.fired.Add(1) }
	for i := range f.timers {
		f.timers[i] = time.AfterFunc(w8Delay, fire)
	}
	for g := range f.cursors {
		f.cursors[g], _ = share(g, n)
	}
	return f
}

// close stops every timer.
func (f *w8GoTimers) close() {
	for _, t := range f.timers {
		t.Stop()
	}
}

// onLoop resets b.N timers round-robin from the benchmark's goroutine: Go
// timers have no loop, so one goroutine doing every Reset stands for it.
// time.Timer.Reset is synchronous: there is nothing to wait for after it.
func (f *w8GoTimers) onLoop(b *testing.B) {
	ts := f.timers
	i, notArmed := f.next, 0
	b.ReportAllocs()
	b.ResetTimer()
	for k := b.N; k > 0; k-- {
		if !ts[i].Reset(w8Delay) {
			notArmed++
		}
		if i++; i == len(ts) {
			i = 0
		}
	}
	b.StopTimer()
	f.next = i
	f.check(b, notArmed)
}

// remote resets b.N timers from w8Remote goroutines, each round-robin over
// its own share.
func (f *w8GoTimers) remote(b *testing.B) {
	ts := f.timers
	var notArmed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := range w8Remote {
		lo, hi := share(g, len(ts))
		k := split(g, b.N)
		wg.Go(func() {
			// Only locals change in the loop: a captured variable that
			// the closure changed would live on the heap, beside the
			// other goroutines' (false sharing).
			i, missed := f.cursors[g], 0
			for range k {
				if !ts[i].Reset(w8Delay) {
					missed++
				}
				if i++; i == hi {
					i = lo
				}
			}
			f.cursors[g] = i
			notArmed.Add(int64(missed))
		})
	}
	wg.Wait()
	b.StopTimer()
	f.check(b, int(notArmed.Load()))
}

// check is w8Hotloop.check for Go timers.
func (f *w8GoTimers) check(b *testing.B, notArmed int) {
	early := f.fired.Load()
	b.ReportMetric(float64(early), "early")
	if early != 0 || notArmed != 0 {
		b.Fatalf("%d timers fired and %d Resets found their timer not armed; every timer is pushed back well within %v", early, notArmed, w8Delay)
	}
}

// BenchmarkW8 is W8 of WORKLOADS.md, idle timeouts pushed back, as a go
// test benchmark: N = 10^5 and 10^6 timers of 5 s, each pushed back to 5 s
// by Reset, round-robin. One op is one Reset: ns/op is ns per Reset, and
// allocs/op its allocations. See the package doc for the sub-benchmarks.
func BenchmarkW8(b *testing.B) {
	releaseFixtures() // the next-expiry stores, if they are still held
	b.Run("clock", func(b *testing.B) {
		base := time.Now()
		var sum time.Duration
		for i := 0; i < b.N; i++ {
			sum += time.Since(base)
		}
		w8Sink = sum
	})
	for _, s := range opStores {
		b.Run("impl=hotloop-"+s.String(), func(b *testing.B) {
			for _, n := range w8Sizes {
				b.Run("N="+itoa(n), func(b *testing.B) {
					f := newW8Hotloop(b, s, n)
					defer f.close()
					b.Run("from=loop", func(b *testing.B) { f.onLoop(b, false) })
					b.Run("from=loop-local", func(b *testing.B) { f.onLoop(b, true) })
					b.Run("from=4goroutines", f.remote)
				})
			}
		})
	}
	b.Run("impl=gotimers", func(b *testing.B) {
		for _, n := range w8Sizes {
			b.Run("N="+itoa(n), func(b *testing.B) {
				f := newW8GoTimers(n)
				defer f.close()
				b.Run("from=loop", f.onLoop)
				b.Run("from=4goroutines", f.remote)
			})
		}
	})
}
