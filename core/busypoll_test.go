package core

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// busyPollOptions are the configurations the WithBusyPoll tests run: a poll
// shorter than the waits, one longer than every wait (the loop then never
// blocks in its parker while it runs), each with both parkers.
var busyPollOptions = [][]Option{
	{WithBusyPoll(100 * time.Microsecond)},
	{WithBusyPoll(100 * time.Microsecond), WithPrecise()},
	{WithBusyPoll(time.Hour)},
	{WithBusyPoll(time.Hour), WithPrecise()},
	{WithBusyPoll(50 * time.Microsecond), WithPrecise(), WithSpin(200 * time.Microsecond)},
}

// TestBusyPollNeverEarly: with a poll, timers due inside and beyond the
// poll fire, each at or after its deadline on the loop's clock (an
// ordering assertion, not a timing one).
func TestBusyPollNeverEarly(t *testing.T) {
	for _, opts := range busyPollOptions {
		l := New(opts...)
		stop := start(t, l)
		fired := make(chan int64, 20)
		do(t, l, func() {
			for i := 0; i < 20; i++ {
				d := time.Duration(i%5) * 300 * time.Microsecond
				due := l.deadline(d)
				must(l.Local().AfterFunc(d, func() { fired <- l.now() - due }))
			}
		})
		for i := 0; i < 20; i++ {
			if late := <-fired; late < 0 {
				t.Errorf("timer fired %v early", time.Duration(-late))
			}
		}
		stop()
	}
}

// TestBusyPollRunsEveryPost: posts from another goroutine, some arriving
// while the loop polls and some after it parked, all run once and in order;
// then Close ends a loop that is polling. A token a poll did not consume
// would end a later park early, and one it consumed twice would hang the
// loop (the test's timeout).
func TestBusyPollRunsEveryPost(t *testing.T) {
	for _, opts := range busyPollOptions {
		l := New(opts...)
		done := make(chan error, 1)
		go func() { done <- l.Run(t.Context()) }()
		const n = 300
		got := make(chan int, n)
		for i := range n {
			switch i % 3 {
			case 1:
				time.Sleep(20 * time.Microsecond) // likely inside a 100 µs poll
			case 2:
				time.Sleep(300 * time.Microsecond) // likely after it
			}
			if err := l.Post(func() { got <- i }); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			if j := <-got; j != i {
				t.Fatalf("post %d ran as number %d", j, i)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Fatalf("Run: %v, want ErrClosed", err)
		}
	}
}

// TestBusyPollTimedWaitAfterKick: a poll ended by a post leaves no token
// behind: the next wait, for a timer beyond the poll, runs to the timer,
// which then fires at or after its deadline.
func TestBusyPollTimedWaitAfterKick(t *testing.T) {
	l := New(WithBusyPoll(200*time.Microsecond), WithPrecise())
	stop := start(t, l)
	defer stop()
	for range 50 {
		do(t, l, func() {}) // a post caught by the poll
		fired := make(chan int64, 1)
		do(t, l, func() {
			due := l.deadline(time.Millisecond)
			must(l.Local().AfterFunc(time.Millisecond, func() { fired <- l.now() - due }))
		})
		if late := <-fired; late < 0 {
			t.Fatalf("timer fired %v early", time.Duration(-late))
		}
	}
}

// TestBusyPollIgnoredWithFakeClock: virtual time only moves on Advance, so
// there is nothing to poll for.
func TestBusyPollIgnoredWithFakeClock(t *testing.T) {
	l := New(WithBusyPoll(time.Millisecond), WithClock(NewFakeClock()))
	if l.cfg.poll != 0 {
		t.Fatalf("poll %d with a FakeClock, want 0", l.cfg.poll)
	}
	if l := New(WithBusyPoll(-time.Second)); l.cfg.poll != 0 {
		t.Fatalf("poll %d for a negative duration, want 0", l.cfg.poll)
	}
}

// TestBusyPollInSynctestBubble: in a bubble the clock stands still while the
// loop polls; the loop notices and parks, so virtual time still moves and
// the timers fire when it reaches them.
func TestBusyPollInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(WithBusyPoll(time.Millisecond))
		stop := start(t, l)
		defer stop()
		fired := 0
		do(t, l, func() {
			for _, d := range []time.Duration{0, 500 * time.Microsecond, 5 * time.Millisecond, time.Second} {
				must(l.Local().AfterFunc(d, func() { fired++ }))
			}
		})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		do(t, l, func() {
			if fired != 4 {
				t.Errorf("%d timers fired after 2 s, want 4", fired)
			}
		})
	})
}
