package wheel_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/hotloop/hotloop/wheel"
)

// hugeEnv names the environment variable that adds 10^7 pending timers to
// the scale benchmarks. Without it they stop at 10^6, so that CI's
// -benchtime=1x pass stays quick and does not allocate gigabytes.
const hugeEnv = "HOTLOOP_BENCH_HUGE"

// scaleSizes returns the pending-timer counts of the scale benchmarks.
func scaleSizes() []int {
	ns := []int{1_000, 10_000, 100_000, 1_000_000}
	if os.Getenv(hugeEnv) != "" {
		ns = append(ns, 10_000_000)
	}
	return ns
}

// scaleStores are the stores the scale benchmarks compare.
var scaleStores = []struct {
	name string
	new  func() store[int]
}{
	{"heap", func() store[int] { return new(wheel.Heap[int]) }},
	{"wheel", func() store[int] { return new(wheel.Wheel[int]) }},
}

// fill returns a store of the given kind holding n entries with deadlines
// uniform over [0, span), and the entries.
func fill(newStore func() store[int], n int, r *rng, seq *uint64) (store[int], []wheel.Entry[int]) {
	s := newStore()
	es := make([]wheel.Entry[int], n)
	for i := range es {
		*seq++
		es[i].Value = i
		s.Update(&es[i], r.when(0), *seq)
	}
	return s, es
}

// BenchmarkScale measures the timer stores and Go's runtime timers against
// the number of timers pending, n (10^3 to 10^6; 10^7 with
// HOTLOOP_BENCH_HUGE=1). Deadlines are uniform over 10 s. The operations:
//
//   - schedule+cancel: add one timer at a random deadline and cancel it
//     (the common fate of a timeout). Runtime: time.AfterFunc + Stop, with
//     n timers pending an hour out.
//   - reset: move a random pending timer to a new random deadline.
//     Runtime: Timer.Reset.
//   - fire: take the earliest timer at its exact deadline (Next, then
//     PopDue at that instant, as the loop does after parking) and schedule
//     it again a random interval later, so n stays constant; includes the
//     wheel's cascading. (Runtime timers are not measured here: their
//     firing cannot be driven without real sleeping.)
func BenchmarkScale(b *testing.B) {
	for _, n := range scaleSizes() {
		for _, st := range scaleStores {
			b.Run(fmt.Sprintf("op=schedule+cancel/store=%s/n=%d", st.name, n), func(b *testing.B) {
				r, seq := rng(0x9E3779B97F4A7C15), uint64(0)
				s, _ := fill(st.new, n, &r, &seq)
				var x wheel.Entry[int]
				b.ReportAllocs()
				for b.Loop() {
					seq++
					s.Update(&x, r.when(0), seq)
					s.Remove(&x)
				}
			})
		}
		b.Run(fmt.Sprintf("op=schedule+cancel/store=runtime/n=%d", n), func(b *testing.B) {
			ts, r := runtimeTimers(n)
			defer stopAll(ts)
			b.ReportAllocs()
			for b.Loop() {
				t := time.AfterFunc(time.Hour+time.Duration(r.next()%span), noop)
				t.Stop()
			}
		})
		for _, st := range scaleStores {
			b.Run(fmt.Sprintf("op=reset/store=%s/n=%d", st.name, n), func(b *testing.B) {
				r, seq := rng(0x9E3779B97F4A7C15), uint64(0)
				s, es := fill(st.new, n, &r, &seq)
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					seq++
					i = (i + 7919) % n
					s.Update(&es[i], r.when(0), seq)
				}
			})
		}
		b.Run(fmt.Sprintf("op=reset/store=runtime/n=%d", n), func(b *testing.B) {
			ts, r := runtimeTimers(n)
			defer stopAll(ts)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i = (i + 7919) % n
				ts[i].Reset(time.Hour + time.Duration(r.next()%span))
			}
		})
		for _, st := range scaleStores {
			b.Run(fmt.Sprintf("op=fire/store=%s/n=%d", st.name, n), func(b *testing.B) {
				r, seq := rng(0x9E3779B97F4A7C15), uint64(0)
				s, _ := fill(st.new, n, &r, &seq)
				b.ReportAllocs()
				for b.Loop() {
					now, _ := s.Next()
					e := s.PopDue(now)
					seq++
					s.Update(e, r.when(now), seq)
				}
			})
		}
	}
}

func noop() {}

// runtimeTimers starts n runtime timers due between one hour and one hour
// plus span from now, so none fires during a benchmark.
func runtimeTimers(n int) ([]*time.Timer, *rng) {
	r := rng(0x9E3779B97F4A7C15)
	ts := make([]*time.Timer, n)
	for i := range ts {
		ts[i] = time.AfterFunc(time.Hour+time.Duration(r.next()%span), noop)
	}
	return ts, &r
}

func stopAll(ts []*time.Timer) {
	for _, t := range ts {
		t.Stop()
	}
}

// payload has the size and pointer layout of core's timer (state word,
// loop pointer, fn, period, shared flag: 40 bytes), so that
// wheel.Entry[payload] is the size of core's timer node.
type payload struct {
	state  uint64
	loop   *int
	fn     func()
	period int64
	shared bool
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkPendingMemory measures the memory held per pending timer, from
// runtime.MemStats after a collection, with n timers pending (one build per
// run; the ns/op figure is the build time and is not meaningful). Each
// timer is a separately allocated node of core's size, as core allocates
// them. It reports:
//
//   - node-B/timer: the nodes themselves (wheel.Entry[payload], rounded up
//     to its size class), which hold the stores' per-entry fields;
//   - store-B/timer: what the store allocates beyond the nodes (the heap's
//     slice, the wheel's fixed arrays and near heap);
//   - total-B/timer: both.
//
// For the runtime, total-B/timer is what time.AfterFunc allocates per
// pending timer (the *time.Timer and its runtime state).
func BenchmarkPendingMemory(b *testing.B) {
	for _, n := range scaleSizes() {
		for _, st := range []struct {
			name string
			new  func() store[payload]
		}{
			{"heap", func() store[payload] { return new(wheel.Heap[payload]) }},
			{"wheel", func() store[payload] { return new(wheel.Wheel[payload]) }},
		} {
			b.Run(fmt.Sprintf("store=%s/n=%d", st.name, n), func(b *testing.B) {
				for b.Loop() {
					r := rng(0x9E3779B97F4A7C15)
					nodes := make([]*wheel.Entry[payload], n)
					whens := make([]int64, n)
					for i := range whens {
						whens[i] = r.when(0)
					}
					base := heapInUse()
					for i := range nodes {
						nodes[i] = new(wheel.Entry[payload])
					}
					withNodes := heapInUse()
					s := st.new()
					for i, e := range nodes {
						s.Update(e, whens[i], uint64(i+1))
					}
					all := heapInUse()
					b.ReportMetric(float64(withNodes-base)/float64(n), "node-B/timer")
					b.ReportMetric(float64(all-withNodes)/float64(n), "store-B/timer")
					b.ReportMetric(float64(all-base)/float64(n), "total-B/timer")
					runtime.KeepAlive(s)
					runtime.KeepAlive(nodes)
					runtime.KeepAlive(whens)
				}
			})
		}
		b.Run(fmt.Sprintf("store=runtime/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				ts := make([]*time.Timer, n)
				base := heapInUse()
				r := rng(0x9E3779B97F4A7C15)
				for i := range ts {
					ts[i] = time.AfterFunc(time.Hour+time.Duration(r.next()%span), noop)
				}
				all := heapInUse()
				b.ReportMetric(float64(all-base)/float64(n), "total-B/timer")
				stopAll(ts)
			}
		})
	}
}
