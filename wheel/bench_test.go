package wheel_test

import (
	"fmt"
	"testing"

	"github.com/hotloop/hotloop/wheel"
)

// store is what the benchmarks drive: the methods of a timer store that
// core calls, which Heap, Wheel and the test model Reference all have.
type store[T any] interface {
	Len() int
	Remove(e *wheel.Entry[T]) bool
	Update(e *wheel.Entry[T], when int64, seq uint64)
	Next() (when int64, ok bool)
	PopDue(now int64) *wheel.Entry[T]
}

// span is the spread of benchmark deadlines: 10 s in nanoseconds.
const span = 10_000_000_000

// rng is a xorshift64* generator: cheap and identical for every store, so
// the benchmarks measure the stores rather than the random source.
type rng uint64

func (r *rng) next() int64 {
	x := uint64(*r)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*r = rng(x)
	return int64((x * 2685821657736338717) >> 1)
}

// when returns a deadline in [base, base+span).
func (r *rng) when(base int64) int64 { return base + r.next()%span }

// BenchmarkStore measures each store holding n timers with deadlines spread
// uniformly over span:
//
//   - Add+Remove: add one more timer (Update of an entry in no store) and
//     cancel it (a timer that is stopped before it fires).
//   - Update: reschedule a held timer to a random deadline (a reset).
//   - PopDue: pop the earliest timer at its deadline and re-add it one random
//     interval later (a periodic timer firing); n stays constant.
func BenchmarkStore(b *testing.B) {
	stores := []struct {
		name string
		new  func() store[int]
	}{
		{"heap", func() store[int] { return new(wheel.Heap[int]) }},
		{"reference", func() store[int] { return wheel.NewReference[int]() }},
		{"wheel", func() store[int] { return new(wheel.Wheel[int]) }},
	}
	ops := []struct {
		name string
		run  func(b *testing.B, s store[int], es []wheel.Entry[int], r *rng, seq *uint64)
	}{
		{"Add+Remove", func(b *testing.B, s store[int], es []wheel.Entry[int], r *rng, seq *uint64) {
			var x wheel.Entry[int]
			for b.Loop() {
				*seq++
				s.Update(&x, r.when(0), *seq)
				s.Remove(&x)
			}
		}},
		{"Update", func(b *testing.B, s store[int], es []wheel.Entry[int], r *rng, seq *uint64) {
			i := 0
			for b.Loop() {
				*seq++
				i = (i + 7919) % len(es)
				s.Update(&es[i], r.when(0), *seq)
			}
		}},
		{"PopDue", func(b *testing.B, s store[int], es []wheel.Entry[int], r *rng, seq *uint64) {
			for b.Loop() {
				now, _ := s.Next()
				e := s.PopDue(now)
				*seq++
				s.Update(e, r.when(now), *seq)
			}
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			for _, op := range ops {
				b.Run(op.name, func(b *testing.B) {
					for _, n := range []int{1000, 100000} {
						b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
							r := rng(0x9E3779B97F4A7C15)
							var seq uint64
							s := st.new()
							es := make([]wheel.Entry[int], n)
							for i := range es {
								seq++
								es[i].Value = i
								s.Update(&es[i], r.when(0), seq)
							}
							b.ReportAllocs()
							op.run(b, s, es, &r, &seq)
						})
					}
				})
			}
		})
	}
}
