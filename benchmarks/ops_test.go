package benchmarks

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hotloop/hotloop/core"
)

// The per-operation suites run at these numbers of pending timers, on these
// timer stores.
var (
	opPending = []int{1000, 1000000}
	opStores  = []core.TimerStore{core.StoreHeap, core.StoreWheel}
)

// The pending timers of a loopFixture are due between fillMin and
// fillMin+fillSpan from when they were scheduled; the timers the suites
// schedule or reset are due opDelay from now, among them.
const (
	fillMin  = time.Hour
	fillSpan = time.Hour
	opDelay  = 90 * time.Minute
)

// opChunk is how many timer operations a loop callback does before it lets
// the loop drain their messages (well under the inbox's 4096 slots and the
// loop's 1024-message batch).
const opChunk = 256

// w1Chunk is how many callbacks BenchmarkLocalPost posts from one callback,
// as W1 in WORKLOADS.md; the last of each chunk posts the next.
const w1Chunk = 50000

// resetTimers is how many of a fixture's pending timers keep their handles
// for BenchmarkReset.
const resetTimers = 64

// loopFixture is a running core.Loop holding pending timers, none of which
// falls due during a benchmark.
type loopFixture struct {
	l       *core.Loop
	errc    chan error    // Run's result
	handles []*core.Timer // resetTimers of the pending timers
}

// newLoopFixture starts a loop with the store s and schedules pending timers
// on it from inside the loop. O(pending log pending) for the heap.
func newLoopFixture(tb testing.TB, s core.TimerStore, pending int) *loopFixture {
	f := &loopFixture{l: core.New(core.WithTimerStore(s)), errc: make(chan error, 1)}
	go func() { f.errc <- f.l.Run(context.Background()) }()
	rng := rand.New(rand.NewPCG(uint64(pending), 5))
	var err error
	if derr := f.l.Do(context.Background(), func() {
		lc := f.l.Local()
		for i := 0; i < pending && err == nil; i++ {
			var t *core.Timer
			t, err = lc.AfterFunc(fillMin+time.Duration(rng.Int64N(int64(fillSpan))), noop)
			if i < resetTimers {
				f.handles = append(f.handles, t)
			}
		}
	}); derr != nil {
		err = derr
	}
	if err != nil {
		f.close()
		tb.Fatal(err)
	}
	return f
}

// close closes the loop and waits for Run to return.
func (f *loopFixture) close() {
	f.l.Close()
	<-f.errc
}

// flush returns once the loop has handled every message sent before it.
func (f *loopFixture) flush(tb testing.TB) {
	if err := f.l.Do(context.Background(), noop); err != nil {
		tb.Fatal(err)
	}
}

// runScaled runs body as the sub-benchmarks store=S/pending=P, each with a
// loopFixture of S and P, built on first use (outside the timing) and
// shared by every run of the sub-benchmark and by body's own sub-benchmarks,
// then closed.
func runScaled(b *testing.B, body func(b *testing.B, f *loopFixture)) {
	releaseFixtures() // the next-expiry stores, if they are still held
	for _, s := range opStores {
		b.Run("store="+s.String(), func(b *testing.B) {
			for _, p := range opPending {
				var f *loopFixture
				b.Run("pending="+itoa(p), func(b *testing.B) {
					if f == nil {
						b.StopTimer()
						f = newLoopFixture(b, s, p)
						b.StartTimer()
					}
					body(b, f)
				})
				if f != nil {
					f.close()
				}
			}
		})
	}
}

// onLoop runs start on the loop and waits until done is closed; the time
// from posting start to done is the benchmark's.
func onLoop(b *testing.B, f *loopFixture, done <-chan struct{}, start func()) {
	b.ReportAllocs()
	b.ResetTimer()
	if err := f.l.Post(start); err != nil {
		b.Fatal(err)
	}
	<-done
	b.StopTimer()
}

// postChunks runs b.N operations on the loop, body(n) doing n of them in
// one callback, at most size at a time. Each chunk is posted through the
// inbox behind the messages the previous one sent (Stops, Resets), so the
// last chunk ends once the loop has handled them all.
func postChunks(b *testing.B, f *loopFixture, size int, body func(n int)) {
	done := make(chan struct{})
	left := b.N
	var chunk func()
	chunk = func() {
		n := min(left, size)
		left -= n
		body(n)
		if left > 0 {
			f.l.Post(chunk)
		} else {
			f.l.Post(func() { close(done) })
		}
	}
	onLoop(b, f, done, chunk)
}

// BenchmarkLocalPost: Local().Post from inside a callback, and running the
// callback, through the loop's real iterations (W1's unit), at 1k and 1M
// pending timers. ns per callback.
func BenchmarkLocalPost(b *testing.B) {
	runScaled(b, func(b *testing.B, f *loopFixture) {
		l := f.l
		done := make(chan struct{})
		count, left := 0, b.N
		inc := func() { count++ }
		var chunk func()
		chunk = func() {
			n := min(left, w1Chunk)
			left -= n
			lc := l.Local()
			for i := 1; i < n; i++ {
				lc.Post(inc)
			}
			lc.Post(func() {
				count++
				if left > 0 {
					lc.Post(chunk)
				} else {
					close(done)
				}
			})
		}
		onLoop(b, f, done, chunk)
		if count != b.N {
			b.Fatalf("%d callbacks ran, want %d", count, b.N)
		}
	})
}

// BenchmarkPost: Post from P other goroutines, each callback counted on the
// loop (W1x's unit), at 1k and 1M pending timers. ns per callback run.
func BenchmarkPost(b *testing.B) {
	runScaled(b, func(b *testing.B, f *loopFixture) {
		for _, producers := range []int{1, 2, 8} {
			b.Run("producers="+itoa(producers), func(b *testing.B) {
				l := f.l
				done := make(chan struct{})
				count := 0
				inc := func() {
					count++
					if count == b.N {
						close(done)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				for p := 0; p < producers; p++ {
					n := b.N / producers
					if p == 0 {
						n += b.N % producers
					}
					wg.Go(func() {
						for i := 0; i < n; i++ {
							if err := l.Post(inc); err != nil {
								panic(err)
							}
						}
					})
				}
				wg.Wait()
				<-done
				b.StopTimer()
			})
		}
	})
}

// BenchmarkAfterFuncStop: schedule a timer among the pending ones and Stop
// it (W6's unit), until the loop has removed it from its store, at 1k and 1M
// pending timers (each AfterFunc allocates its Timer, which nothing
// recycles: allocs/op shows it). from=loop uses Local().AfterFunc inside
// callbacks, opChunk pairs per callback, stopping with Timer.Stop
// (from=loop) or Local().Stop (from=loop-local); from=other uses Loop.AfterFunc from
// the benchmark's goroutine while the loop keeps up. ns per pair.
func BenchmarkAfterFuncStop(b *testing.B) {
	runScaled(b, func(b *testing.B, f *loopFixture) {
		l := f.l
		for _, local := range []bool{false, true} {
			name := "from=loop"
			if local {
				name = "from=loop-local" // Local().Stop: no inbox message
			}
			b.Run(name, func(b *testing.B) {
				postChunks(b, f, opChunk, func(n int) {
					lc := l.Local()
					for i := 0; i < n; i++ {
						t, _ := lc.AfterFunc(opDelay, noop)
						stopped := false
						if local {
							stopped = lc.Stop(t)
						} else {
							stopped = t.Stop()
						}
						if !stopped {
							panic("Stop of a pending timer reported false")
						}
					}
				})
			})
		}
		b.Run("from=other", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				t, err := l.AfterFunc(opDelay, noop)
				if err != nil {
					b.Fatal(err)
				}
				if !t.Stop() {
					b.Fatal("Stop of a pending timer reported false")
				}
			}
			f.flush(b)
		})
	})
}

// BenchmarkReset: Reset a pending timer to opDelay from now, at 1k and 1M
// pending timers (64 of them are reset in turn), until the loop has applied
// the Reset. Since the clock only moves forward, every Reset of a timer after
// its first moves its deadline later, which is Reset's cheap path: one clock
// read and one compare-and-swap, no message; the loop would re-file the
// timer when its old filed deadline came, which no run reaches. (The first
// Reset of a timer whose fill deadline lies beyond opDelay moves it earlier
// and sends the loop a message; that is 32 or so Resets per fixture.)
// from=loop resets inside callbacks, 64 per callback; from=other from the
// benchmark's goroutine while the loop keeps up. ns per Reset. BenchmarkW8
// measures the same path over 10^5 and 10^6 timers, every one of them reset.
func BenchmarkReset(b *testing.B) {
	runScaled(b, func(b *testing.B, f *loopFixture) {
		hs := f.handles
		b.Run("from=loop", func(b *testing.B) {
			postChunks(b, f, len(hs), func(n int) {
				for _, t := range hs[:n] {
					if !t.Reset(opDelay) {
						panic("Reset of a pending timer reported false")
					}
				}
			})
		})
		b.Run("from=other", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if !hs[i%len(hs)].Reset(opDelay) {
					b.Fatal("Reset of a pending timer reported false")
				}
			}
			f.flush(b)
		})
	})
}

// BenchmarkTimerFire: schedule an overdue timer from the loop
// (Local().At in the past) and fire it, its lag recorded, at 1k and 1M
// pending timers. Each chunk's last timer schedules the next chunk. ns per
// timer fired.
func BenchmarkTimerFire(b *testing.B) {
	runScaled(b, func(b *testing.B, f *loopFixture) {
		l := f.l
		past := time.Now().Add(-time.Hour)
		done := make(chan struct{})
		fired, left := 0, b.N
		inc := func() { fired++ }
		var chunk func()
		chunk = func() {
			n := min(left, opChunk)
			left -= n
			lc := l.Local()
			for i := 1; i < n; i++ {
				lc.At(past, inc)
			}
			lc.At(past, func() {
				fired++
				if left > 0 {
					chunk()
				} else {
					close(done)
				}
			})
		}
		onLoop(b, f, done, chunk)
		if fired != b.N {
			b.Fatalf("%d timers fired, want %d", fired, b.N)
		}
	})
}
