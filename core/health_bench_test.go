package core

import (
	"context"
	"testing"
	"time"
)

// w1Chunk is how many callbacks W1 posts from one callback, as in
// WORKLOADS.md; the last of each chunk posts the next.
const w1Chunk = 50000

// benchW1 is workload W1 on a running loop built with opts: callbacks
// posted from the loop with Local().Post, each incrementing a counter, run
// through the loop's real iterations. One op is one callback.
func benchW1(b *testing.B, opts ...Option) {
	l := New(opts...)
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
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
	b.ReportAllocs()
	b.ResetTimer()
	if err := l.Post(chunk); err != nil {
		b.Fatal(err)
	}
	<-done
	b.StopTimer()
	l.Close()
	<-errc
	if count != b.N {
		b.Fatalf("%d callbacks ran, want %d", count, b.N)
	}
}

// BenchmarkHealthW1 measures what loop health costs on W1: the default (post
// lag sampled 1 in 1024, timer lag and its split, batch sizes, busy/idle),
// post-lag sampling off, every post timed, slow-callback detection on, and
// late-timer reports on (WithLateTimer: every callback timed and kept in
// the blame ring). Compare the sub-benchmarks side by side with benchstat.
func BenchmarkHealthW1(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchW1(b) })
	b.Run("sampling=off", func(b *testing.B) { benchW1(b, WithLagSampling(0)) })
	b.Run("sampling=1", func(b *testing.B) { benchW1(b, WithLagSampling(1)) })
	b.Run("slow=on", func(b *testing.B) {
		benchW1(b, WithSlowCallback(time.Second, func(time.Duration, string) {}))
	})
	b.Run("late=on", func(b *testing.B) {
		benchW1(b, WithLateTimer(time.Second, func(LateTimer) {}))
	})
}

// BenchmarkHealthLocalPost is BenchmarkLocalPost (W1's unit: post from the
// loop and run it) under the same health settings.
func BenchmarkHealthLocalPost(b *testing.B) {
	run := func(b *testing.B, opts ...Option) {
		l := New(opts...)
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		l.Do(context.Background(), func() {
			lc := l.Local()
			b.ReportAllocs()
			for b.Loop() {
				lc.Post(noop)
				l.runReady(1)
			}
		})
		l.Close()
		<-errc
	}
	b.Run("default", func(b *testing.B) { run(b) })
	b.Run("sampling=off", func(b *testing.B) { run(b, WithLagSampling(0)) })
	b.Run("sampling=1", func(b *testing.B) { run(b, WithLagSampling(1)) })
	b.Run("slow=on", func(b *testing.B) {
		run(b, WithSlowCallback(time.Second, func(time.Duration, string) {}))
	})
}

// BenchmarkHistogramRecord: one value into a live histogram.
func BenchmarkHistogramRecord(b *testing.B) {
	var h histogram
	v := int64(12345)
	for b.Loop() {
		h.record(v)
		v += 977
	}
}

// BenchmarkTimerFire: schedule an overdue timer from the loop and fire it,
// which records its lag (W2's unit, without the wait).
func BenchmarkTimerFire(b *testing.B) {
	benchOnLoop(b, func(b *testing.B, l *Loop) {
		lc := l.Local()
		past := time.Now().Add(-time.Hour)
		b.ReportAllocs()
		for b.Loop() {
			lc.At(past, noop)
			l.fireDue(1)
		}
	})
}
