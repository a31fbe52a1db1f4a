// Command blameprobe shows where timer lateness goes (core.Health's
// TimerLagAllowed, TimerLagPark, TimerLagCallbacks and TimerLagBacklog) on
// this machine: it runs workload W3 (100 timers of 1–10 ms, -reps times)
// on a fresh loop per mode, first alone, then beside a goroutine that posts
// a callback busy for -busy every -every, and prints, over the
// repetitions, the median of each repetition's mean lateness per timer and
// of its parts (a part's median is taken on its own, so the parts need not
// add up to the lateness's).
//
//	go -C benchmarks/compare run ./cmd/blameprobe -reps 20
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/hotloop/hotloop/core"
)

var (
	reps  = flag.Int("reps", 20, "W3 repetitions per mode (100 timers each)")
	busy  = flag.Duration("busy", 300*time.Microsecond, "how long each busy post runs")
	every = flag.Duration("every", 2*time.Millisecond, "how often a busy post is made, in the runs with posts")
)

func main() {
	flag.Parse()
	if *reps < 1 || *busy < 0 || *every <= 0 {
		fmt.Fprintln(os.Stderr, "blameprobe: -reps must be at least 1, -busy at least 0 and -every more than 0")
		os.Exit(2)
	}
	fmt.Printf("W3 x %d; busy posts of %v every %v where marked; medians over the repetitions of the mean per timer\n\n", *reps, *busy, *every)
	fmt.Println("| mode | posts | lateness µs | allowed µs | park µs | callbacks µs | backlog µs |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	for _, m := range []struct {
		name string
		opts []core.Option
	}{
		{"default", nil},
		{"WithPrecise", []core.Option{core.WithPrecise()}},
		{"WithPrecise + WithLateTimer", []core.Option{core.WithPrecise(), core.WithLateTimer(time.Hour, func(core.LateTimer) {})}},
		{"WithSlack(1ms)", []core.Option{core.WithSlack(time.Millisecond)}},
	} {
		for _, posts := range []bool{false, true} {
			if err := run(m.name, posts, m.opts...); err != nil {
				fmt.Fprintln(os.Stderr, "blameprobe:", err)
				os.Exit(1)
			}
		}
	}
}

// run measures one mode and prints its row.
func run(name string, posts bool, opts ...core.Option) error {
	l := core.New(opts...)
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	var parts [5][]float64 // per repetition, µs per timer: lateness, allowed, park, callbacks, backlog
	prev := l.Health()
	for range *reps {
		if err := w3(l, posts); err != nil {
			l.Close()
			return err
		}
		if err := l.Do(context.Background(), func() {}); err != nil {
			return err
		}
		h := waitPublished(l, prev.TimerLag.Count()+100)
		n := float64(h.TimerLag.Count() - prev.TimerLag.Count())
		for i, d := range []time.Duration{
			time.Duration(h.TimerLag.Sum() - prev.TimerLag.Sum()),
			h.TimerLagAllowed - prev.TimerLagAllowed,
			h.TimerLagPark - prev.TimerLagPark,
			h.TimerLagCallbacks - prev.TimerLagCallbacks,
			h.TimerLagBacklog - prev.TimerLagBacklog,
		} {
			parts[i] = append(parts[i], float64(d)/n/1e3)
		}
		prev = h
	}
	if err := l.Close(); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, core.ErrClosed) {
		return fmt.Errorf("Run: %w", err)
	}
	h := l.Health() // a closed loop has published everything
	if sum := h.TimerLagAllowed + h.TimerLagPark + h.TimerLagCallbacks + h.TimerLagBacklog; sum != time.Duration(h.TimerLag.Sum()) {
		return fmt.Errorf("%s: the parts add up to %v, TimerLag's sum is %v", name, sum, time.Duration(h.TimerLag.Sum()))
	}
	p := "no"
	if posts {
		p = "yes"
	}
	fmt.Printf("| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", name, p,
		median(parts[0]), median(parts[1]), median(parts[2]), median(parts[3]), median(parts[4]))
	return nil
}

// waitPublished returns a Health snapshot once it counts at least n timer
// lags and the loop has published the sums that go with them (it does
// before it parks: a loop with nothing to do parks at once).
func waitPublished(l *core.Loop, n uint64) *core.Health {
	for {
		h := l.Health()
		parts := h.TimerLagAllowed + h.TimerLagPark + h.TimerLagCallbacks + h.TimerLagBacklog
		if h.TimerLag.Count() >= n && parts == time.Duration(h.TimerLag.Sum()) {
			return h
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// median returns the median of v (v is reordered).
func median(v []float64) float64 {
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// w3 schedules W3's 100 timers and waits until all have fired, with busy
// posts alongside if posts is set.
func w3(l *core.Loop, posts bool) error {
	done := make(chan struct{})
	left := 100
	for range 100 {
		d := time.Millisecond + time.Duration(rand.Int64N(int64(9*time.Millisecond)))
		if _, err := l.AfterFunc(d, func() {
			if left--; left == 0 {
				close(done)
			}
		}); err != nil {
			return err
		}
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		if !posts {
			return
		}
		tk := time.NewTicker(*every)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				l.Post(spin) // an error means the loop is closing: nothing to measure then
			}
		}
	}()
	<-done
	close(stop)
	<-stopped
	return nil
}

// spin is a callback busy for -busy.
func spin() {
	for t0 := time.Now(); time.Since(t0) < *busy; {
	}
}
