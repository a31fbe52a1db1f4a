package core_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hotloop/hotloop/core"
)

func Example() {
	l := core.New()
	go l.Run(context.Background())

	done := make(chan struct{})
	if err := l.Post(func() { fmt.Println("posted from another goroutine") }); err != nil {
		fmt.Println(err) // ErrClosed: the loop is closing
		return
	}
	if _, err := l.AfterFunc(time.Millisecond, func() {
		fmt.Println("timer fired")
		close(done)
	}); err != nil {
		fmt.Println(err)
		return
	}
	<-done
	l.Close() // runs what was accepted, cancels pending timers, waits for Run
	// Output:
	// posted from another goroutine
	// timer fired
}

func ExampleLocal() {
	l := core.New()
	go l.Run(context.Background())
	defer l.Close()

	// Do runs a callback on the loop and waits; inside it, Local is the
	// loop goroutine's fast path (asyncio's call_soon).
	err := l.Do(context.Background(), func() {
		lc := l.Local()
		for i := 1; i <= 3; i++ {
			if err := lc.Post(func() { fmt.Println("callback", i) }); err != nil {
				fmt.Println(err) // the loop is closing
				return
			}
		}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := l.Do(context.Background(), func() {}); err != nil { // the three ran before this one
		fmt.Println(err)
	}
	// Output:
	// callback 1
	// callback 2
	// callback 3
}

func ExampleTimer_Stop() {
	l := core.New()
	go l.Run(context.Background())
	defer l.Close()

	t, err := l.AfterFunc(time.Hour, func() { fmt.Println("never") })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("prevented:", t.Stop())
	fmt.Println("again:", t.Stop())
	// Output:
	// prevented: true
	// again: false
}

func ExampleLocal_Stop() {
	l := core.New()
	go l.Run(context.Background())
	defer l.Close()

	// Timeouts set and cancelled from inside callbacks: Local().Stop takes
	// each timer out of the store at once, without a message to the loop.
	err := l.Do(context.Background(), func() {
		lc := l.Local()
		timeouts := make([]*core.Timer, 3)
		for i := range timeouts {
			t, err := lc.AfterFunc(time.Second, func() { fmt.Println("timed out") })
			if err != nil {
				fmt.Println(err)
				return
			}
			timeouts[i] = t
		}
		for _, t := range timeouts {
			fmt.Println("prevented:", lc.Stop(t))
		}
		fmt.Println("again:", lc.Stop(timeouts[0]))
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// prevented: true
	// prevented: true
	// prevented: true
	// again: false
}

func ExampleLoop_Every() {
	l := core.New()
	go l.Run(context.Background())

	done := make(chan struct{})
	n := 0
	var t *core.Timer
	// Scheduled from the loop goroutine, so the callback's use of t is
	// ordered after the assignment.
	err := l.Do(context.Background(), func() {
		var err error
		t, err = l.Local().Every(time.Millisecond, func() {
			n++
			fmt.Println("tick", n)
			if n == 3 {
				t.Stop()
				close(done)
			}
		})
		if err != nil {
			fmt.Println(err)
			close(done)
		}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-done
	l.Close()
	// Output:
	// tick 1
	// tick 2
	// tick 3
}

func ExampleLoop_Shutdown() {
	l := core.New()
	go l.Run(context.Background())

	if _, err := l.AfterFunc(5*time.Millisecond, func() { fmt.Println("pending timer ran") }); err != nil {
		fmt.Println(err)
		return
	}
	if err := l.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("post after shutdown:", l.Post(func() {}))
	// Output:
	// pending timer ran
	// post after shutdown: hotloop: loop is closed
}
