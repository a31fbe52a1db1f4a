package core_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hotloop/hotloop/core"
)

// conn is a connection with an idle timeout: the Timer is embedded, set up
// once with Init, and reset on every read, allocating nothing.
type conn struct {
	id     int
	idle   core.Timer
	closed bool // written on the loop goroutine only
}

func (c *conn) onIdle() {
	c.closed = true
	fmt.Printf("conn %d closed: idle\n", c.id)
}

// An idle timeout per connection, pushed back by every read, tested on a
// FakeClock: conn 1 keeps reading and stays open; conn 2 stops and is
// closed 5 s after its last read.
func ExampleTimer_Init() {
	clk := core.NewFakeClock()
	l := core.New(core.WithClock(clk))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	defer l.Close()

	conns := []*conn{{id: 1}, {id: 2}}
	for _, c := range conns {
		if err := c.idle.Init(l, c.onIdle); err != nil {
			fmt.Println(err)
			return
		}
		c.idle.Reset(5 * time.Second) // arms it: false, it was not armed
	}
	for range 4 {
		clk.Advance(2 * time.Second)
		conns[0].idle.Reset(5 * time.Second) // a read on conn 1: true, pushed back
	}
	// t = 8 s: conn 2 was closed at 5 s; conn 1's last read set 13 s.
	clk.Advance(4 * time.Second)
	fmt.Println("conn 1 still armed:", conns[0].idle.Stop())
	// Output:
	// conn 2 closed: idle
	// conn 1 still armed: true
}

// Reset re-arms a timer that has fired, as time.Timer.Reset does: a retry
// with backoff re-arms its own timer from its callback.
func ExampleTimer_Reset() {
	l := core.New()
	go l.Run(context.Background())
	defer l.Close()

	done := make(chan struct{})
	attempt := 0
	backoff := time.Millisecond
	// Set up with Init before it is armed, so the callback can use it.
	var retry core.Timer
	err := retry.Init(l, func() {
		attempt++
		fmt.Println("attempt", attempt)
		if attempt == 3 {
			close(done)
			return
		}
		backoff *= 2
		fmt.Println("re-armed; was armed:", retry.Reset(backoff)) // false: it is running, not armed
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	retry.Reset(0)
	<-done
	// Output:
	// attempt 1
	// re-armed; was armed: false
	// attempt 2
	// re-armed; was armed: false
	// attempt 3
}
