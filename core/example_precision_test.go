package core_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hotloop/hotloop/core"
)

// A loop for latency-sensitive timers: the precise parker (Linux; the
// default parker elsewhere) with a 200 µs spin before each deadline.
func ExampleWithPrecise() {
	l := core.New(core.WithPrecise(), core.WithSpin(200*time.Microsecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)

	fired := make(chan time.Duration)
	start := time.Now()
	if _, err := l.AfterFunc(time.Millisecond, func() { fired <- time.Since(start) }); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("on time or late, never early:", <-fired >= time.Millisecond)
	l.Close()
	// Output: on time or late, never early: true
}

// Chained sub-millisecond timers with a spin margin the loop learns from
// how late its parker wakes on this machine.
func ExampleWithAdaptiveSpin() {
	l := core.New(core.WithPrecise(), core.WithAdaptiveSpin())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)

	done := make(chan bool)
	start := time.Now()
	n := 0
	var tick func()
	tick = func() {
		if n++; n == 50 {
			done <- time.Since(start) >= 50*100*time.Microsecond
			return
		}
		if _, err := l.Local().AfterFunc(100*time.Microsecond, tick); err != nil {
			fmt.Println(err)
		}
	}
	if _, err := l.AfterFunc(100*time.Microsecond, tick); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("50 timers of 100 µs, none early:", <-done)
	if err := l.Close(); err != nil {
		fmt.Println(err)
	}
	// Output: 50 timers of 100 µs, none early: true
}

// Housekeeping timers that may share wake-ups: each fires up to 10 ms late.
func ExampleWithSlack() {
	l := core.New(core.WithSlack(10 * time.Millisecond))
	go l.Run(context.Background())
	done := make(chan struct{})
	if _, err := l.Every(5*time.Millisecond, func() {
		select {
		case done <- struct{}{}:
		default:
		}
	}); err != nil {
		fmt.Println(err)
		return
	}
	<-done
	l.Close()
	fmt.Println("swept")
	// Output: swept
}

// Housekeeping timers that may each be up to a millisecond late share
// wake-ups, while a timer without a leeway on the same loop stays exact.
func ExampleTimer_SetLeeway() {
	l := core.New(core.WithPrecise())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)

	done := make(chan bool, 3)
	start := time.Now()
	sweeps := make([]core.Timer, 3)
	for i := range sweeps {
		d := time.Duration(200*(i+1)) * time.Microsecond
		if err := sweeps[i].Init(l, func() { done <- time.Since(start) >= d }); err != nil {
			fmt.Println(err)
			return
		}
		if err := sweeps[i].SetLeeway(time.Millisecond); err != nil {
			fmt.Println(err)
			return
		}
		sweeps[i].Reset(d)
	}
	for range sweeps {
		if !<-done {
			fmt.Println("fired early")
		}
	}
	fmt.Println("three sweeps, none early")
	if err := l.Close(); err != nil {
		fmt.Println(err)
	}
	// Output: three sweeps, none early
}

// Loops that answer each other within microseconds poll before they park:
// a post that arrives during the poll finds the loop awake.
func ExampleWithBusyPoll() {
	l := core.New(core.WithPrecise(), core.WithBusyPoll(50*time.Microsecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()

	answered := make(chan string)
	for _, q := range []string{"ping", "ping again"} {
		if err := l.Post(func() { answered <- q + ": pong" }); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(<-answered)
	}
	cancel()
	fmt.Println(<-done == context.Canceled)
	// Output:
	// ping: pong
	// ping again: pong
	// true
}
