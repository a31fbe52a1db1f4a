package benchmarks

import (
	"sync"
	"sync/atomic"
	"testing"
)

// expiryCounts are the numbers of pending timers the next-expiry suites
// run at.
var expiryCounts = []int{0, 1, 100, 10000, 1000000}

// sink keeps the benchmarks' results alive.
var sink int64

// BenchmarkNextExpiry measures "when is the next timer due?" at N pending
// timers: the seed's way (impl=locked: mutex, first key of a gods
// red-black tree, sleep computed from it; O(log N)) against hotloop's
// (impl=cached: cache.Expiry.SleepFor, atomic loads; O(1)). Compare with
// benchstat -col /impl.
func BenchmarkNextExpiry(b *testing.B) {
	b.Run("impl=locked", func(b *testing.B) {
		for _, n := range expiryCounts {
			b.Run("timers="+itoa(n), func(b *testing.B) {
				s := lockedFixture(n)
				var acc int64
				for b.Loop() {
					d, _ := s.sleepFor(now0)
					acc += d
				}
				sink = acc
			})
		}
	})
	releaseLocked()
	b.Run("impl=cached", func(b *testing.B) {
		for _, n := range expiryCounts {
			b.Run("timers="+itoa(n), func(b *testing.B) {
				e := cachedFixture(n).expiry
				var acc int64
				for b.Loop() {
					d, _ := e.SleepFor(now0)
					acc += d
				}
				sink = acc
			})
		}
	})
}

// BenchmarkNextExpiryContended is BenchmarkNextExpiry while another
// goroutine keeps inserting and removing a timer: for impl=locked under the
// mutex, in the tree; for impl=cached in its own store, publishing the
// earliest deadline into the cache.Expiry whenever it changed, as hotloop's
// loop does. With writer=head the timer is earlier than all the others, so
// every write changes the earliest deadline (the cache's worst case); with
// writer=spread it is due among them. The writer is stopped, and waited for,
// before the benchmark returns; the metric writes/op is how many
// insert-and-remove steps it made per read.
func BenchmarkNextExpiryContended(b *testing.B) {
	defer releaseFixtures() // the last user of the shared stores
	b.Run("impl=locked", func(b *testing.B) {
		for _, n := range expiryCounts {
			b.Run("timers="+itoa(n), func(b *testing.B) {
				for _, w := range writers {
					b.Run("writer="+w.name, func(b *testing.B) {
						s := lockedFixture(n)
						when := w.when()
						stop := startWriter(func() { s.churn(when()) })
						var acc int64
						for b.Loop() {
							d, _ := s.sleepFor(now0)
							acc += d
						}
						reportWrites(b, stop())
						sink = acc
					})
				}
			})
		}
	})
	releaseLocked()
	b.Run("impl=cached", func(b *testing.B) {
		for _, n := range expiryCounts {
			b.Run("timers="+itoa(n), func(b *testing.B) {
				for _, w := range writers {
					b.Run("writer="+w.name, func(b *testing.B) {
						c := cachedFixture(n)
						// The reader holds the *Expiry, as a producer holds
						// its Loop: c itself is the writer's, and reading
						// c.expiry in the loop would share a cache line with
						// the fields the writer keeps changing.
						e := c.expiry
						when := w.when()
						stop := startWriter(func() { c.churn(when()) })
						var acc int64
						for b.Loop() {
							d, _ := e.SleepFor(now0)
							acc += d
						}
						reportWrites(b, stop())
						sink = acc
					})
				}
			})
		}
	})
}

// startWriter runs step in a loop on a new goroutine, from when it returns
// until the returned stop is called; stop returns once the goroutine has
// finished its last step and exited, with the number of steps it ran after
// the first. At least one step has run when startWriter returns.
func startWriter(step func()) (stop func() (steps int64)) {
	var done atomic.Bool
	var wg sync.WaitGroup
	var n int64
	started := make(chan struct{})
	wg.Go(func() {
		step()
		close(started)
		for !done.Load() {
			step()
			n++
		}
	})
	<-started
	return func() int64 {
		done.Store(true)
		wg.Wait()
		return n
	}
}

// reportWrites reports a writer's steps per benchmark op as "writes/op":
// how hard the writer contended. Call it after b.Loop has returned false.
func reportWrites(b *testing.B, steps int64) {
	b.ReportMetric(float64(steps)/float64(b.N), "writes/op")
}
