package core

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestProducerPostsRunInOrder: posts through one Producer run in the order
// they were made, with several Producers posting at once, and a post to a
// parked loop wakes it.
func TestProducerPostsRunInOrder(t *testing.T) {
	l := New(WithInboxSize(16)) // small lanes' neighbour: the inbox overflows too
	stop := start(t, l)
	defer stop()
	const producers, per = 4, 20000
	last := make([]int, producers) // loop goroutine only
	var bad atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		pr, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pr.Close()
			for i := 1; i <= per; i++ {
				if err := pr.Post(func() {
					if last[p] != i-1 {
						bad.Add(1)
					}
					last[p] = i
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var got []int
	do(t, l, func() { got = append(got, last...) }) // Do's message may overtake the lanes: wait below
	for i := 0; i < 1000 && !allEqual(got, per); i++ {
		runtime.Gosched()
		got = got[:0]
		do(t, l, func() { got = append(got, last...) })
	}
	if !allEqual(got, per) || bad.Load() != 0 {
		t.Fatalf("last posts run %v (want %d each), %d out of order", got, per, bad.Load())
	}
}

func allEqual(xs []int, v int) bool {
	for _, x := range xs {
		if x != v {
			return false
		}
	}
	return len(xs) > 0
}

// TestProducerWakesAParkedLoop: on virtual time (synctest), a post through
// a Producer to a parked loop runs, and the loop parks again.
func TestProducerWakesAParkedLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		stop := start(t, l)
		defer stop()
		pr, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		ran := 0
		for range 3 {
			synctest.Wait() // parked
			if err := pr.Post(func() { ran++ }); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if ran != 3 {
			t.Fatalf("ran %d posts, want 3", ran)
		}
	})
}

// TestProducerClose: after Close a Producer refuses posts with
// ErrProducerClosed; what it accepted before runs; the loop forgets its
// lane once drained. After the loop's Close, NewProducer and Post return
// ErrClosed.
func TestProducerClose(t *testing.T) {
	l := New()
	pr, err := l.NewProducer()
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for range 10 {
		if err := pr.Post(func() { ran++ }); err != nil {
			t.Fatal(err)
		}
	}
	if err := pr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := pr.Post(func() { ran++ }); !errors.Is(err, ErrProducerClosed) {
		t.Fatalf("Post after Producer.Close: %v, want ErrProducerClosed", err)
	}
	stop := start(t, l)
	do(t, l, func() {})
	for i := 0; i < 1000 && lanesOf(l) != 0; i++ {
		do(t, l, func() {}) // an iteration forgets the drained lane
	}
	if n := lanesOf(l); ran != 10 || n != 0 {
		t.Fatalf("ran %d of the 10 accepted posts; %d lanes left, want 0", ran, n)
	}
	open, err := l.NewProducer()
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := open.Post(noop); !errors.Is(err, ErrClosed) {
		t.Fatalf("Producer.Post after the loop's Close: %v, want ErrClosed", err)
	}
	if _, err := l.NewProducer(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewProducer after Close: %v, want ErrClosed", err)
	}
	if err := open.Post(nil); !errors.Is(err, ErrNilFunc) {
		t.Fatalf("Post(nil): %v, want ErrNilFunc", err)
	}
	mustPanicWith(t, "hotloop: Producer not made by Loop.NewProducer", func() { new(Producer).Post(noop) })
}

// lanesOf returns how many lanes l holds.
func lanesOf(l *Loop) int {
	if list := l.lanes.list.Load(); list != nil {
		return len(*list)
	}
	return 0
}

// countingProducers starts k goroutines, each posting up to 20,000
// callbacks through a Producer of its own until a post is refused (which
// must be with ErrClosed), and counts the posts accepted and the callbacks
// run. wait waits for the goroutines.
func countingProducers(t *testing.T, l *Loop, k int) (accepted, ran *atomic.Int64, wait func()) {
	t.Helper()
	accepted, ran = new(atomic.Int64), new(atomic.Int64)
	var wg sync.WaitGroup
	for range k {
		pr, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20000 { // bounded: tight posters outrun the loop under -race
				if err := pr.Post(func() { ran.Add(1) }); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("Post: %v, want ErrClosed", err)
					}
					return
				}
				accepted.Add(1)
			}
		}()
	}
	return accepted, ran, wg.Wait
}

// TestProducerExactlyOnceAcrossClose: with producers posting through
// Producers while Close or Shutdown lands at a random moment, every post
// that was accepted runs exactly once and every other one was refused with
// ErrClosed.
func TestProducerExactlyOnceAcrossClose(t *testing.T) {
	for round := range 20 {
		l := New(WithInboxSize(64))
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		accepted, ran, wait := countingProducers(t, l, 4)
		for range round * 50 {
			runtime.Gosched()
		}
		var err error
		if round%2 == 0 {
			err = l.Close()
		} else {
			err = l.Shutdown(context.Background())
		}
		if err != nil {
			t.Fatal(err)
		}
		wait()
		if err := <-errc; err != ErrClosed && err != ErrRunning { // ErrRunning: Close or Shutdown got there first and finished the loop itself
			t.Fatalf("Run: %v", err)
		}
		if a, r := accepted.Load(), ran.Load(); a != r {
			t.Fatalf("round %d: %d posts accepted, %d ran", round, a, r)
		}
	}
}

// TestProducerClosedWhenUnreachable: a Producer dropped without Close is
// closed by the garbage collector, and the loop then forgets its lane.
func TestProducerClosedWhenUnreachable(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	func() {
		pr, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.Post(noop); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 200 && lanesOf(l) != 0; i++ {
		runtime.GC() // the cleanup runs on its own goroutine after a cycle
		runtime.Gosched()
		do(t, l, func() {})
	}
	if n := lanesOf(l); n != 0 {
		t.Fatalf("%d lanes left after the Producer became unreachable, want 0", n)
	}
}

// TestProducerPostAllocs: a post through a Producer allocates nothing once
// the lane has grown to its working size, also with every post sampled for
// post lag (WithLagSampling(1)).
func TestProducerPostAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	for _, opts := range [][]Option{nil, {WithLagSampling(1)}} {
		l := New(opts...)
		stop := start(t, l)
		pr, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		for range 5000 {
			pr.Post(noop)
		}
		do(t, l, func() {})
		a := testing.AllocsPerRun(2000, func() { pr.Post(noop) })
		pr.Close()
		stop()
		if a != 0 {
			t.Fatalf("Producer.Post (options %d) allocates %v times, want 0", len(opts), a)
		}
	}
}

// TestIdleProducersCostNothing: a lane is on the loop's busy list only
// while it has work. After 1,000 Producers each posted once and the posts
// ran, no lane is busy, so an idle Producer adds nothing to an iteration;
// once closed, they are all forgotten.
func TestIdleProducersCostNothing(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	const n = 1000
	var ran atomic.Int64
	prs := make([]*Producer, n)
	for i := range prs {
		pr, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		prs[i] = pr
		if err := pr.Post(func() { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	busy := -1
	for i := 0; i < 1000 && (ran.Load() != n || busy != 0); i++ {
		do(t, l, func() { busy = len(l.busy) })
	}
	if ran.Load() != n || busy != 0 {
		t.Fatalf("%d of %d posts ran; %d lanes still busy, want 0", ran.Load(), n, busy)
	}
	for _, pr := range prs {
		pr.Close()
	}
	for i := 0; i < 1000 && lanesOf(l) != 0; i++ {
		do(t, l, func() {})
	}
	if k := lanesOf(l); k != 0 {
		t.Fatalf("%d lanes left after closing every Producer, want 0", k)
	}
}
