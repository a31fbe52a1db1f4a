package core

import (
	"testing"
	"testing/synctest"
	"time"
)

// idleConn closes itself after 30 s without activity: the kind of timeout
// logic users test. touch and the timer run on the loop goroutine.
type idleConn struct {
	l      *Loop
	timer  *Timer
	closed bool
}

func newIdleConn(l *Loop) *idleConn {
	c := &idleConn{l: l}
	c.timer = must(l.Local().AfterFunc(30*time.Second, func() { c.closed = true }))
	return c
}

func (c *idleConn) touch() { c.timer.Reset(30 * time.Second) }

// TestIdleTimeoutInSynctestBubble shows the other way to test with virtual
// time: create the Loop inside a testing/synctest bubble. The default parker
// is a channel and a runtime timer, so the loop parks durably there, and
// time.Sleep in the bubble advances the fake clock once everything in it is
// blocked. Run this 30 s test in microseconds.
func TestIdleTimeoutInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New() // inside the bubble: its clock and its timers are the bubble's
		stop := start(t, l)
		defer stop()
		var c *idleConn
		do(t, l, func() { c = newIdleConn(l) })

		time.Sleep(20 * time.Second)
		do(t, l, c.touch) // activity at 20 s: the deadline moves to 50 s
		time.Sleep(29 * time.Second)
		synctest.Wait()
		do(t, l, func() {
			if c.closed {
				t.Fatal("closed at 49 s, 29 s after the last activity")
			}
		})
		time.Sleep(time.Second)
		synctest.Wait() // the loop has fired the timer and parked again
		do(t, l, func() {
			if !c.closed {
				t.Fatal("still open at 50 s, 30 s after the last activity")
			}
		})
		h := l.Health()
		if h.TimerLag.Count() != 1 || h.TimerLag.Max() != 0 {
			t.Errorf("timer lag in the bubble: %d samples, max %d ns; want 1 sample of 0", h.TimerLag.Count(), h.TimerLag.Max())
		}
		if h.Idle < 50*time.Second {
			t.Errorf("idle %v in the bubble, want at least the 50 s slept", h.Idle)
		}
	})
}

// TestIdleTimeoutOnFakeClock is the same test on a FakeClock: no bubble,
// and Advance returns once the loop has run what fell due.
func TestIdleTimeoutOnFakeClock(t *testing.T) {
	l, clk, stop := startFake(t)
	defer stop()
	var c *idleConn
	do(t, l, func() { c = newIdleConn(l) })
	clk.Advance(20 * time.Second)
	do(t, l, c.touch)
	clk.Advance(29 * time.Second)
	do(t, l, func() {
		if c.closed {
			t.Fatal("closed at 49 s")
		}
	})
	clk.Advance(time.Second)
	do(t, l, func() {
		if !c.closed {
			t.Fatal("still open at 50 s")
		}
	})
}
