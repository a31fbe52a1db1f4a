package core

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// Attack tests for the busy-lane protocol (lane.signal, releaseIdle, park's
// look at the signal queue and the busy list).

// laneChecker counts, per Producer, the posts accepted and run, and checks
// on the loop that each Producer's posts run in order and exactly once,
// and that the busy list holds each lane at most once, each with its token
// set.
type laneChecker struct {
	t        *testing.T
	l        *Loop
	accepted []atomic.Int64
	ran      []atomic.Int64
	next     []int64 // loop goroutine only: the next sequence number expected
	calls    int64   // loop goroutine only
	bad      atomic.Int64
}

func newLaneChecker(t *testing.T, l *Loop, n int) *laneChecker {
	return &laneChecker{t: t, l: l, accepted: make([]atomic.Int64, n), ran: make([]atomic.Int64, n), next: make([]int64, n)}
}

// post posts the next sequence number of producer i through p.
func (c *laneChecker) post(i int, p *Producer, seq int64) error {
	err := p.Post(func() { c.run(i, seq) })
	if err == nil {
		c.accepted[i].Add(1)
	}
	return err
}

func (c *laneChecker) run(i int, seq int64) {
	if seq != c.next[i] {
		c.bad.Add(1)
		c.t.Errorf("producer %d: ran post %d, want %d (order or duplicate)", i, seq, c.next[i])
	}
	c.next[i] = seq + 1
	c.ran[i].Add(1)
	c.calls++
	if c.calls%7 == 0 {
		c.checkBusy()
	}
}

// checkBusy: loop goroutine only.
func (c *laneChecker) checkBusy() {
	seen := make(map[*lane]bool, len(c.l.busy))
	for _, ln := range c.l.busy {
		if seen[ln] {
			c.bad.Add(1)
			c.t.Errorf("lane %p twice on l.busy (%d lanes)", ln, len(c.l.busy))
		}
		seen[ln] = true
		if !ln.busy.Load() {
			c.bad.Add(1)
			c.t.Errorf("lane %p on l.busy with its token clear", ln)
		}
	}
}

func (c *laneChecker) totals() (a, r int64) {
	for i := range c.accepted {
		a += c.accepted[i].Load()
		r += c.ran[i].Load()
	}
	return
}

// allRan fails unless every accepted post ran, per producer.
func (c *laneChecker) allRan(where string) bool {
	ok := true
	for i := range c.accepted {
		if a, r := c.accepted[i].Load(), c.ran[i].Load(); a != r {
			c.t.Errorf("%s: producer %d: %d posts accepted, %d ran", where, i, a, r)
			ok = false
		}
	}
	return ok
}

// tokensClear fails unless no lane of the set holds its busy token: call
// only when the loop is parked with nothing to do.
func tokensClear(t *testing.T, l *Loop, where string) {
	t.Helper()
	list := l.lanes.list.Load()
	if list == nil {
		return
	}
	for i, ln := range *list {
		if ln.busy.Load() {
			t.Errorf("%s: lane %d of %d idle with its busy token set (it can never signal again)", where, i, len(*list))
		}
		if ln.q.Len() != 0 {
			t.Errorf("%s: lane %d holds %d messages while the loop is parked", where, i, ln.q.Len())
		}
	}
}

// postBursts starts a goroutine per Producer in prs that posts, through
// c, up to maxBursts bursts of up to maxPosts posts each (sequence numbers
// from seq), calling gap between bursts; the randomness is seeded by phase
// and the producer's index plus seedOff. It returns the goroutines' group.
func postBursts(t *testing.T, c *laneChecker, prs []*Producer, seq []int64, phase, seedOff uint64, maxBursts, maxPosts int, gap func(r *rand.Rand, i int)) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := range prs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(phase, uint64(i)+seedOff))
			for range 1 + r.IntN(maxBursts) {
				for range 1 + r.IntN(maxPosts) {
					if err := c.post(i, prs[i], seq[i]); err != nil {
						t.Errorf("Post: %v", err)
						return
					}
					seq[i]++
					if r.IntN(3) == 0 {
						runtime.Gosched()
					}
				}
				gap(r, i)
			}
		}()
	}
	return &wg
}

// waitOwn waits until every post producer i made has run (or the test has
// failed).
func (c *laneChecker) waitOwn(t *testing.T, i int) {
	for c.ran[i].Load() != c.accepted[i].Load() && !t.Failed() {
		runtime.Gosched()
	}
}

// TestAttack2ReleaseRaceInBubble: in a synctest bubble time moves only when
// every goroutine, the loop included, is durably blocked, so each sleep
// between two bursts makes the loop park (and let go of every lane) first.
// After each phase, with everything blocked, every accepted post must have
// run: a post left in a lane of a parked loop is a lost wake-up, which no
// later post can hide here.
func TestAttack2ReleaseRaceInBubble(t *testing.T) {
	for batch := 1; batch <= 3; batch++ {
		t.Run(fmt.Sprint("batch", batch), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := New(WithBatch(batch), WithInboxSize(8))
				stop := start(t, l)
				defer stop()
				const P = 8
				c := newLaneChecker(t, l, P)
				prs := make([]*Producer, P)
				for i := range prs {
					p, err := l.NewProducer()
					if err != nil {
						t.Fatal(err)
					}
					prs[i] = p
				}
				seq := make([]int64, P)
				for phase := range 150 {
					wg := postBursts(t, c, prs, seq, uint64(phase), 0, 4, 6, func(r *rand.Rand, i int) {
						switch r.IntN(3) {
						case 0:
							time.Sleep(time.Duration(1+r.IntN(50)) * time.Microsecond) // the loop parks first
						case 1:
							// post again the moment the loop has run these: it is
							// about to let go of the lane
							c.waitOwn(t, i)
						}
					})
					wg.Wait()
					synctest.Wait() // the loop is parked: it must have run everything
					if !c.allRan(fmt.Sprintf("phase %d", phase)) {
						t.FailNow()
					}
					tokensClear(t, l, fmt.Sprintf("phase %d", phase))
					if t.Failed() {
						t.FailNow()
					}
				}
				for _, p := range prs {
					p.Close()
				}
				synctest.Wait()
				if n := lanesOf(l); n != 0 {
					t.Errorf("%d lanes left after every Producer closed and the loop parked", n)
				}
			})
		})
	}
}

// TestAttack2ReleaseRaceFakeClock: the same phases on a FakeClock, whose
// Advance(0) returns once the loop is blocked: then nothing may be left in
// a lane. A periodic timer keeps the parks timed.
func TestAttack2ReleaseRaceFakeClock(t *testing.T) {
	for batch := 1; batch <= 3; batch++ {
		clk := NewFakeClock()
		l := New(WithClock(clk), WithBatch(batch))
		stop := start(t, l)
		var ticks atomic.Int64
		if _, err := l.Every(time.Millisecond, func() { ticks.Add(1) }); err != nil {
			t.Fatal(err)
		}
		const P = 6
		c := newLaneChecker(t, l, P)
		prs := make([]*Producer, P)
		for i := range prs {
			prs[i], _ = l.NewProducer()
		}
		seq := make([]int64, P)
		for phase := range 150 {
			wg := postBursts(t, c, prs, seq, uint64(phase), 100, 4, 5, func(r *rand.Rand, i int) {
				if r.IntN(2) == 0 { // post again as the loop lets go of the lane
					c.waitOwn(t, i)
				}
				for range r.IntN(3) {
					runtime.Gosched()
				}
			})
			if phase%3 == 0 {
				clk.Advance(time.Millisecond) // concurrently with the burst
			}
			wg.Wait()
			clk.Advance(0) // returns once the loop is blocked in park
			if !c.allRan(fmt.Sprintf("batch %d phase %d", batch, phase)) {
				t.FailNow()
			}
			tokensClear(t, l, fmt.Sprintf("batch %d phase %d", batch, phase))
			if t.Failed() {
				t.FailNow()
			}
		}
		stop()
		if !c.allRan("after Close") {
			t.FailNow()
		}
	}
}

// waitRan waits until every accepted post ran, calling it a lost wake-up
// after hangAfter (a hang detector; it times nothing).
func waitRan(t *testing.T, c *laneChecker, where string) {
	t.Helper()
	deadline := time.Now().Add(hangAfter)
	for {
		a, r := c.totals()
		if a == r {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%s: %d accepted, %d ran after %v: lost wake-up?\n%s", where, a, r, hangAfter, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// TestAttack2ReleaseRacePrecise: bursts and gaps on a WithPrecise loop (the
// futex parker). Between phases the test waits, without timing anything,
// until everything ran and the loop stored parked; then no token may be
// left set.
func TestAttack2ReleaseRacePrecise(t *testing.T) {
	for batch := 1; batch <= 3; batch++ {
		l := New(WithPrecise(), WithBatch(batch))
		stop := start(t, l)
		const P = 6
		c := newLaneChecker(t, l, P)
		prs := make([]*Producer, P)
		for i := range prs {
			prs[i], _ = l.NewProducer()
		}
		seq := make([]int64, P)
		for phase := range 80 {
			wg := postBursts(t, c, prs, seq, uint64(phase), 200, 5, 4, func(r *rand.Rand, i int) {
				// an idle gap: wait until the loop has run this producer's
				// posts, so it releases the lane
				c.waitOwn(t, i)
				for range r.IntN(10) {
					runtime.Gosched()
				}
			})
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(hangAfter):
				buf := make([]byte, 1<<20)
				t.Fatalf("batch %d phase %d: producers stuck waiting for their posts: lost wake-up?\n%s", batch, phase, buf[:runtime.Stack(buf, true)])
			}
			waitRan(t, c, fmt.Sprintf("batch %d phase %d", batch, phase))
			for !l.parked.Load() {
				runtime.Gosched()
			}
			tokensClear(t, l, fmt.Sprintf("batch %d phase %d", batch, phase))
			if t.Failed() {
				t.FailNow()
			}
		}
		stop()
	}
}

// TestAttack2StopRunCyclesWithBusyLanes: the loop is stopped and run again
// (on other goroutines) over and over while producers post in bursts, so
// that Run returns with lanes on the busy list and signals queued. Every
// post runs, in order, and after the last phase the lanes are idle.
func TestAttack2StopRunCyclesWithBusyLanes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(WithBatch(2))
		const P = 5
		c := newLaneChecker(t, l, P)
		prs := make([]*Producer, P)
		for i := range prs {
			prs[i], _ = l.NewProducer()
		}
		quit := make(chan struct{})
		var runners sync.WaitGroup
		runners.Add(1)
		go func() { // the runner: Run again every time Stop ends it
			defer runners.Done()
			for {
				err := l.Run(context.Background())
				if err == ErrClosed {
					return
				}
				if err != nil && err != ErrRunning {
					t.Errorf("Run: %v", err)
					return
				}
				select {
				case <-quit:
					return
				default:
				}
				runtime.Gosched()
			}
		}()
		seq := make([]int64, P)
		for phase := range 40 {
			var wg sync.WaitGroup
			for i := range P {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(phase), uint64(i)+300))
					for range 1 + r.IntN(4) {
						for range 1 + r.IntN(6) {
							if err := c.post(i, prs[i], seq[i]); err != nil {
								t.Errorf("Post: %v", err)
								return
							}
							seq[i]++
						}
						if r.IntN(2) == 0 {
							l.Pause()
						}
						if r.IntN(2) == 0 {
							time.Sleep(time.Microsecond)
						}
					}
				}()
			}
			wg.Wait()
			synctest.Wait()
			if !c.allRan(fmt.Sprintf("phase %d", phase)) {
				break
			}
		}
		close(quit)
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		runners.Wait()
		c.allRan("after Close")
	})
}

// TestAttack2CloseDuringBursts: Close or Shutdown lands at a random moment
// while producers post in bursts separated by idle gaps, some Producers
// being closed and reopened meanwhile. Every accepted post runs exactly
// once and in order; refusals are ErrClosed (or ErrProducerClosed after
// our own Close); the finished loop holds no lane in its set.
func TestAttack2CloseDuringBursts(t *testing.T) {
	for round := range 40 {
		opts := []Option{WithBatch(1 + round%3)}
		if round%4 == 1 {
			opts = append(opts, WithPrecise())
		}
		l := New(opts...)
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		const P, G = 6, 32 // workers, Producers each (each its own order stream)
		c := newLaneChecker(t, l, P*G)
		var wg sync.WaitGroup
		for w := range P {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(w)+400))
				for g := 0; ; g = min(g+1, G-1) {
					i := w*G + g
					p, err := l.NewProducer()
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							t.Errorf("NewProducer: %v", err)
						}
						return
					}
					var seq int64
					if g == G-1 {
						seq = c.accepted[i].Load() // the last stream goes on across Producers: only after the previous ran
						for c.ran[i].Load() != seq {
							runtime.Gosched()
						}
					}
					for range 1 + r.IntN(5) {
						for range 1 + r.IntN(8) {
							if err := c.post(i, p, seq); err != nil {
								if !errors.Is(err, ErrClosed) {
									t.Errorf("Post: %v", err)
								}
								p.Close()
								return
							}
							seq++
						}
						for range r.IntN(30) {
							runtime.Gosched()
						}
					}
					if r.IntN(2) == 0 {
						p.Close()
						if err := p.Post(noop); !errors.Is(err, ErrProducerClosed) && !errors.Is(err, ErrClosed) {
							t.Errorf("Post after Close: %v", err)
						}
					} // else dropped: the GC closes it
				}
			}()
		}
		for range round * 20 {
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
		wg.Wait()
		if err := <-errc; err != ErrClosed && err != ErrRunning {
			t.Fatalf("Run: %v", err)
		}
		if !c.allRan(fmt.Sprintf("round %d", round)) {
			t.FailNow()
		}
		if n := lanesOf(l); n != 0 {
			t.Fatalf("round %d: finished loop holds %d lanes in its set", round, n)
		}
	}
}

// TestAttack2GCClosesLanesMidBurst: Producers dropped right after a burst,
// with the GC running, so the cleanup closes lanes that are still on the
// busy list or being released. Every post runs, and every lane is
// forgotten once the loop parks.
func TestAttack2GCClosesLanesMidBurst(t *testing.T) {
	l := New(WithBatch(1))
	stop := start(t, l)
	defer stop()
	var accepted, ran atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 150 {
				p, err := l.NewProducer()
				if err != nil {
					t.Error(err)
					return
				}
				for range 1 + r.IntN(6) {
					if p.Post(func() { ran.Add(1) }) == nil {
						accepted.Add(1)
					}
				}
				if r.IntN(4) == 0 {
					runtime.GC()
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(hangAfter)
	for lanesOf(l) != 0 || accepted.Load() != ran.Load() {
		runtime.GC()
		do(t, l, func() {})
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d lanes left, %d accepted %d ran", hangAfter, lanesOf(l), accepted.Load(), ran.Load())
		}
	}
	for !l.parked.Load() {
		runtime.Gosched()
	}
	var busy int
	do(t, l, func() { busy = len(l.busy) })
	if busy != 0 {
		t.Errorf("%d lanes still on the busy list with every lane forgotten", busy)
	}
}
