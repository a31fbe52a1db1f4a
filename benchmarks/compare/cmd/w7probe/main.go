// Command w7probe measures W7 the way issue #13 states it: a goroutine
// sleeps 50 µs with time.Sleep, posts one callback, and waits for it to run;
// the latency is from just before the post to the start of the callback.
// It runs a Go channel hop (a goroutine ranging over a chan func()),
// hotloop's Loop.Post, and Loop.Post with WithPrecise, one after the other,
// -rounds times, each on a fresh loop, and prints p50 and p99 per round.
//
//	go -C benchmarks/compare run ./cmd/w7probe -n 5000 -rounds 3
//
// -warm posts one lap of the inbox (8192 callbacks) into each fresh loop
// before measuring: the difference it makes is the cost of the pages a
// fresh loop touches for the first time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/hotloop/hotloop/core"
)

var (
	n      = flag.Int("n", 5000, "measured posts per round (after 100 warm-up posts)")
	rounds = flag.Int("rounds", 3, "rounds of every implementation")
	only   = flag.String("impl", "", "run only this one: chan, hotloop or precise")
	warm   = flag.Bool("warm", false, "post a lap of the inbox into each fresh loop before measuring")
)

func main() {
	flag.Parse()
	impls := []struct {
		name string
		run  func() ([]time.Duration, error)
	}{
		{"chan", hop},
		{"hotloop", func() ([]time.Duration, error) { return loop() }},
		{"precise", func() ([]time.Duration, error) { return loop(core.WithPrecise()) }},
	}
	for r := 0; r < *rounds; r++ {
		for _, im := range impls {
			if *only != "" && im.name != *only {
				continue
			}
			lat, err := im.run()
			if err != nil {
				fmt.Fprintln(os.Stderr, "w7probe:", err)
				os.Exit(1)
			}
			slices.Sort(lat)
			fmt.Printf("%-8s p50 %7.2f µs  p99 %7.2f µs\n", im.name,
				us(lat[len(lat)/2]), us(lat[len(lat)*99/100]))
		}
	}
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }

// probe posts *n+100 callbacks through post, each 50 µs (time.Sleep) after
// the previous one ran, and returns the latencies of the last *n.
func probe(post func(func()) error) ([]time.Duration, error) {
	lat := make([]time.Duration, 0, *n)
	got := make(chan time.Duration, 1)
	for i := 0; i < *n+100; i++ {
		time.Sleep(50 * time.Microsecond)
		t0 := time.Now()
		if err := post(func() { got <- time.Since(t0) }); err != nil {
			return nil, err
		}
		if d := <-got; i >= 100 {
			lat = append(lat, d)
		}
	}
	return lat, nil
}

// hop is the idiomatic Go design: one goroutine running what a channel
// brings.
func hop() ([]time.Duration, error) {
	ch := make(chan func(), 1024)
	defer close(ch)
	go func() {
		for f := range ch {
			f()
		}
	}()
	return probe(func(f func()) error { ch <- f; return nil })
}

// loop measures Loop.Post on a fresh loop made with opts.
func loop(opts ...core.Option) ([]time.Duration, error) {
	l := core.New(opts...)
	ran := make(chan error, 1)
	go func() { ran <- l.Run(context.Background()) }()
	if *warm {
		done := make(chan struct{})
		for i := 0; i < 8192; i++ {
			if err := l.Post(func() {}); err != nil {
				return nil, err
			}
		}
		if err := l.Post(func() { close(done) }); err != nil {
			return nil, err
		}
		<-done
	}
	lat, err := probe(l.Post)
	if cerr := l.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if rerr := <-ran; err == nil && rerr != nil && !errors.Is(rerr, core.ErrClosed) {
		err = rerr
	}
	return lat, err
}
