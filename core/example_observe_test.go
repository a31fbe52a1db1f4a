package core_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hotloop/hotloop/core"
)

// A connection that closes after 30 s without activity, tested on a fake
// clock: the 30 s pass in microseconds, and each Advance returns once the
// loop has run what fell due.
func ExampleFakeClock() {
	clk := core.NewFakeClock()
	l := core.New(core.WithClock(clk))
	go l.Run(context.Background())
	defer l.Close()

	closed := false
	idle, err := l.AfterFunc(30*time.Second, func() { closed = true })
	if err != nil {
		fmt.Println(err)
		return
	}

	clk.Advance(20 * time.Second)
	idle.Reset(30 * time.Second) // activity at 20 s: now due at 50 s
	clk.Advance(29 * time.Second)
	if err := l.Do(context.Background(), func() { fmt.Println("at 49 s closed:", closed) }); err != nil {
		fmt.Println(err)
		return
	}
	clk.Advance(time.Second)
	if err := l.Do(context.Background(), func() { fmt.Println("at 50 s closed:", closed) }); err != nil {
		fmt.Println(err)
	}
	// Output:
	// at 49 s closed: false
	// at 50 s closed: true
}

// Every's missed-tick policies on a fake clock: the first tick runs for
// 35 ms (its callback advances the clock), so the ticks due at 20, 30 and
// 40 ms are missed.
func ExampleMissedTick() {
	for _, policy := range []core.MissedTick{core.TickSkip, core.TickBurst, core.TickDelay} {
		clk := core.NewFakeClock()
		l := core.New(core.WithClock(clk))
		go l.Run(context.Background())
		t0 := clk.Now()
		var ticks []time.Duration
		if _, err := l.Every(10*time.Millisecond, func() {
			ticks = append(ticks, clk.Since(t0))
			if len(ticks) == 1 {
				clk.Advance(35 * time.Millisecond) // a slow tick
			}
		}, policy); err != nil {
			fmt.Println(err)
			return
		}
		clk.Advance(70 * time.Millisecond)
		l.Close()
		fmt.Println(policy, ticks)
	}
	// Output:
	// TickSkip [10ms 50ms 60ms 70ms]
	// TickBurst [10ms 45ms 45ms 45ms 50ms 60ms 70ms]
	// TickDelay [10ms 45ms 55ms 65ms]
}

// WithSlowCallback names callbacks that hold the loop up, like asyncio's
// debug mode.
func ExampleWithSlowCallback() {
	clk := core.NewFakeClock()
	l := core.New(core.WithClock(clk), core.WithSlowCallback(100*time.Millisecond, func(d time.Duration, name string) {
		fmt.Printf("slow callback: %s took %v\n", name, d)
	}))
	go l.Run(context.Background())
	defer l.Close()

	exampleClock = clk
	if err := l.Post(compress); err != nil { // stands for real work: it moves the fake clock by 250 ms
		fmt.Println(err)
		return
	}
	clk.Advance(0)
	// Output:
	// slow callback: github.com/hotloop/hotloop/core_test.compress took 250ms
}

var exampleClock *core.FakeClock

func compress() { exampleClock.Advance(250 * time.Millisecond) }

// Feeding Prometheus without depending on its client: write the loop's
// health in the text exposition format from an HTTP handler (here, to
// stdout). The lag histograms map to summaries (quantiles, sum, count); for
// OpenTelemetry, observe the same values from an asynchronous gauge's or
// counter's callback, reading l.Health() once per collection.
func ExampleLoop_Health() {
	clk := core.NewFakeClock()
	l := core.New(core.WithClock(clk))
	go l.Run(context.Background())
	defer l.Close()

	// Ten timers due at 1 s; the first runs for 20 ms, so the others are late.
	for i := 0; i < 10; i++ {
		first := i == 0
		if _, err := l.AfterFunc(time.Second, func() {
			if first {
				clk.Advance(20 * time.Millisecond)
			}
		}); err != nil {
			fmt.Println(err)
			return
		}
	}
	if _, err := l.AfterFunc(1010*time.Millisecond, func() {}); err != nil { // found due 10 ms late
		fmt.Println(err)
		return
	}
	clk.Advance(2 * time.Second)

	writePrometheus(os.Stdout, l.Health())
	// Output:
	// # TYPE hotloop_timers_fired_total counter
	// hotloop_timers_fired_total 11
	// # TYPE hotloop_utilization gauge
	// hotloop_utilization 0.01
	// # TYPE hotloop_timer_lag_seconds summary
	// hotloop_timer_lag_seconds{quantile="0.5"} 0
	// hotloop_timer_lag_seconds{quantile="0.99"} 0.01
	// hotloop_timer_lag_seconds_sum 0.01
	// hotloop_timer_lag_seconds_count 11
}

func writePrometheus(w io.Writer, h *core.Health) {
	fmt.Fprintf(w, "# TYPE hotloop_timers_fired_total counter\nhotloop_timers_fired_total %d\n", h.TimersFired)
	fmt.Fprintf(w, "# TYPE hotloop_utilization gauge\nhotloop_utilization %g\n", h.Utilization(&core.Health{}))
	fmt.Fprintf(w, "# TYPE hotloop_timer_lag_seconds summary\n")
	for _, q := range []float64{0.5, 0.99} {
		fmt.Fprintf(w, "hotloop_timer_lag_seconds{quantile=\"%g\"} %g\n", q, time.Duration(h.TimerLag.Quantile(q)).Seconds())
	}
	fmt.Fprintf(w, "hotloop_timer_lag_seconds_sum %g\n", time.Duration(h.TimerLag.Sum()).Seconds())
	fmt.Fprintf(w, "hotloop_timer_lag_seconds_count %d\n", h.TimerLag.Count())
}
