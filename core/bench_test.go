package core

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"
)

// benchOnLoop runs body(b) on the loop goroutine of a running loop.
func benchOnLoop(b *testing.B, body func(b *testing.B, l *Loop), opts ...Option) {
	l := New(opts...)
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	if err := l.Do(context.Background(), func() { body(b, l) }); err != nil {
		b.Fatal(err)
	}
	l.Close()
	<-errc
}

// BenchmarkLocalPost: post from inside a callback and run it (W1's unit).
func BenchmarkLocalPost(b *testing.B) {
	benchOnLoop(b, func(b *testing.B, l *Loop) {
		lc := l.Local()
		b.ReportAllocs()
		for b.Loop() {
			lc.Post(noop)
			l.runReady(1)
		}
	})
}

// BenchmarkLocalPostBurst: W1's shape: one callback posts k callbacks from
// the loop (each increments a counter), then the loop runs them in
// batches. ns per callback.
func BenchmarkLocalPostBurst(b *testing.B) {
	for _, k := range []int{1024, 50000} {
		b.Run("k="+itoa(k), func(b *testing.B) {
			benchOnLoop(b, func(b *testing.B, l *Loop) {
				lc := l.Local()
				count := 0
				inc := func() { count++ }
				b.ReportAllocs()
				for i := 0; i < b.N; i += k {
					for j := 0; j < k; j++ {
						lc.Post(inc)
					}
					for l.ready.Len() > 0 {
						l.runReady(l.cfg.batch)
					}
				}
			})
		})
	}
}

// BenchmarkPost: posts from P other goroutines to a running loop, ns per
// callback run (W1x's unit); via=inbox is Loop.Post, via=producer a
// Producer per goroutine. Posters are long-lived, as a service's are: a
// warm-up burst of 50,000 posts each, before the timer starts, grows the
// inbox and the lanes to their working size; then posts come in rounds of
// 50,000 per goroutine (W1x's burst), each run to the end before the next.
func BenchmarkPost(b *testing.B) {
	for _, via := range []string{"inbox", "producer"} {
		for _, producers := range []int{1, 2, 8} {
			b.Run("via="+via+"/producers="+itoa(producers), func(b *testing.B) {
				benchPost(b, via, producers)
			})
		}
	}
}

func benchPost(b *testing.B, via string, producers int) {
	l := New()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	defer func() {
		l.Close()
		<-errc
	}()
	posts := make([]func(func()) error, producers)
	for p := range posts {
		posts[p] = l.Post
		if via == "producer" {
			pr, err := l.NewProducer()
			if err != nil {
				b.Fatal(err)
			}
			defer pr.Close()
			posts[p] = pr.Post
		}
	}
	burst := func(total int) {
		var ran, wg sync.WaitGroup
		ran.Add(total)
		done := func() { ran.Done() }
		for p, post := range posts {
			n := total / producers
			if p == 0 {
				n += total % producers
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < n; i++ {
					post(done)
				}
			}()
		}
		wg.Wait()
		ran.Wait()
	}
	const round = 50_000     // per producer: W1x's burst, which fits the grown inbox and lanes
	burst(round * producers) // warm-up, not timed
	b.ReportAllocs()
	b.ResetTimer()
	for left := b.N; left > 0; left -= round * producers {
		burst(min(left, round*producers)) // a round, then the loop catches up
	}
	b.StopTimer()
}

// BenchmarkLocalAfterFuncStop: schedule and cancel from the loop (W6's unit),
// including the loop's removal of the node.
func BenchmarkLocalAfterFuncStop(b *testing.B) {
	benchOnLoop(b, func(b *testing.B, l *Loop) {
		lc := l.Local()
		b.ReportAllocs()
		for b.Loop() {
			t, _ := lc.AfterFunc(time.Hour, noop)
			t.Stop()
			l.afterCallback() // where the callback would return
			l.drain(1)
		}
	})
}

// BenchmarkLocalAfterFuncStopMany is W6 of benchmarks/compare: 100,000
// timers of 1 s scheduled from the loop, then all stopped, until the loop
// has applied the cancels, on each timer store. ns/pair is per
// schedule+cancel pair.
func BenchmarkLocalAfterFuncStopMany(b *testing.B) {
	const n = 100_000
	for _, store := range []TimerStore{StoreHeap, StoreWheel} {
		for _, stop := range []string{"Timer", "Local"} {
			b.Run("store="+store.String()+"/stop="+stop, func(b *testing.B) {
				benchOnLoop(b, func(b *testing.B, l *Loop) {
					lc := l.Local()
					ts := make([]*Timer, n)
					round := func() {
						for i := range ts {
							ts[i], _ = lc.AfterFunc(time.Second, noop)
						}
						if stop == "Local" {
							for _, t := range ts {
								lc.Stop(t)
							}
						} else {
							for _, t := range ts {
								t.Stop()
							}
						}
						l.afterCallback() // the callback returns
						l.drain(math.MaxInt)
					}
					round() // warm-up: the nodes and the store's capacity (not timed)
					b.ReportAllocs()
					for b.Loop() {
						round()
					}
					if k := l.timers.Len(); k != 0 {
						b.Fatalf("%d timers left in the store", k)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/pair")
				}, WithTimerStore(store))
			})
		}
	}
}

// BenchmarkAfterFuncStop: the same from another goroutine, through the inbox.
func BenchmarkAfterFuncStop(b *testing.B) {
	l := New()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	b.ReportAllocs()
	for b.Loop() {
		t, _ := l.AfterFunc(time.Hour, noop)
		t.Stop()
	}
	l.Close()
	<-errc
}

// BenchmarkReset: Reset of a pending timer and the loop's move of it.
func BenchmarkReset(b *testing.B) {
	benchOnLoop(b, func(b *testing.B, l *Loop) {
		t, _ := l.Local().AfterFunc(time.Hour, noop)
		b.ReportAllocs()
		d := time.Hour
		for b.Loop() {
			d++
			t.Reset(d)
			l.drain(1)
		}
	})
}

// BenchmarkIdleIteration: one pass of the hot path with nothing to do, with
// no timers and with 1000 pending ones.
func BenchmarkIdleIteration(b *testing.B) {
	for _, timers := range []int{0, 1000} {
		b.Run("timers="+itoa(timers), func(b *testing.B) {
			benchOnLoop(b, func(b *testing.B, l *Loop) {
				for i := 0; i < timers; i++ {
					l.Local().AfterFunc(time.Hour+time.Duration(i), noop)
				}
				b.ReportAllocs()
				for b.Loop() {
					l.iterate()
				}
			})
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
