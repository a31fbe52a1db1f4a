package core

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// Attack tests for Producer (producer.go).

// hangAfter is how long a test waits for something that must happen before
// it calls it a hang. It detects lost work; it times nothing.
const hangAfter = 20 * time.Second

// TestAttackProducerStorm: many goroutines make Producers, post through
// them (checking per-Producer order), close some of them, drop others for
// the GC, while other goroutines call Close and Shutdown at a random moment
// and runtime.GC runs. Every accepted post runs exactly once, every refusal
// is ErrClosed or (only after our own Producer.Close) ErrProducerClosed;
// after Close returns, Post and NewProducer return ErrClosed; no lane is
// left open.
func TestAttackProducerStorm(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	for round := range rounds {
		l := New(WithInboxSize(8), WithBatch(1+round%5))
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		var accepted, ran, bad atomic.Int64
		stopGC := make(chan struct{})
		var gcwg sync.WaitGroup
		gcwg.Add(1)
		go func() {
			defer gcwg.Done()
			for {
				select {
				case <-stopGC:
					return
				default:
					runtime.GC()
					if s := l.Stats(); s.InboxLen < 0 {
						t.Errorf("InboxLen %d", s.InboxLen)
					}
					runtime.Gosched()
				}
			}
		}()
		var wg sync.WaitGroup
		var open sync.Map // Producers still held, to test after Close
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for gen := 0; ; gen++ {
					p, err := l.NewProducer()
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							t.Errorf("NewProducer: %v", err)
						}
						return
					}
					last := new(int) // loop goroutine only
					n := 50 + (w*gen)%300
					closedByUs := false
					for i := 1; i <= n; i++ {
						if i == n/2 && (w+gen)%3 == 0 {
							p.Close()
							closedByUs = true
						}
						err := p.Post(func() {
							if *last != i-1 {
								bad.Add(1)
							}
							*last = i
							ran.Add(1)
						})
						switch {
						case err == nil:
							if closedByUs {
								t.Errorf("Post accepted after Producer.Close")
							}
							accepted.Add(1)
						case errors.Is(err, ErrClosed):
							return
						case errors.Is(err, ErrProducerClosed):
							if !closedByUs {
								t.Errorf("ErrProducerClosed from a Producer we did not close (GC?)")
								return
							}
							i = n // stop posting through it
						default:
							t.Errorf("Post: %v", err)
							return
						}
						if closedByUs {
							break
						}
					}
					switch gen % 3 {
					case 0:
						p.Close()
					case 1:
						open.Store(p, true)
					case 2: // dropped: the GC closes it
					}
				}
			}()
		}
		for range round * 30 {
			runtime.Gosched()
		}
		var cwg sync.WaitGroup
		for c := range 4 {
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				var err error
				if (round+c)%2 == 0 {
					err = l.Close()
				} else {
					err = l.Shutdown(context.Background())
				}
				if err != nil {
					t.Errorf("Close/Shutdown: %v", err)
				}
				if _, err := l.NewProducer(); !errors.Is(err, ErrClosed) {
					t.Errorf("NewProducer after Close returned: %v", err)
				}
			}()
		}
		cwg.Wait()
		wg.Wait()
		close(stopGC)
		gcwg.Wait()
		if err := <-errc; err != ErrClosed && err != ErrRunning {
			t.Fatalf("Run: %v", err)
		}
		open.Range(func(k, _ any) bool {
			if err := k.(*Producer).Post(noop); !errors.Is(err, ErrClosed) {
				t.Errorf("Post through an open Producer after Close: %v", err)
			}
			return true
		})
		if a, r := accepted.Load(), ran.Load(); a != r || bad.Load() != 0 {
			t.Fatalf("round %d: accepted %d, ran %d, %d out of order", round, a, r, bad.Load())
		}
		if s := l.Stats(); s.InboxLen != 0 {
			t.Fatalf("round %d: InboxLen %d after finish", round, s.InboxLen)
		}
	}
}

// TestAttackNewProducerRacesClose: NewProducer and a first Post race with
// Close; a Producer that NewProducer returned either has its post refused
// with ErrClosed or the post runs, and Close never returns before it ran.
func TestAttackNewProducerRacesClose(t *testing.T) {
	for round := range 200 {
		l := New()
		if round%2 == 0 {
			go l.Run(context.Background())
		}
		var accepted, ran atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for {
					p, err := l.NewProducer()
					if err != nil {
						return
					}
					if p.Post(func() { ran.Add(1) }) == nil {
						accepted.Add(1)
					}
				}
			}()
		}
		close(start)
		for range round % 20 {
			runtime.Gosched()
		}
		var err error
		if round%4 < 2 {
			err = l.Close()
		} else {
			err = l.Shutdown(context.Background())
		}
		if err != nil {
			t.Fatal(err)
		}
		// After Close returns, every post accepted before it has run;
		// every later one is refused.
		a1, r1 := accepted.Load(), ran.Load()
		wg.Wait()
		if a, r := accepted.Load(), ran.Load(); a != r || r1 != r {
			t.Fatalf("round %d: accepted %d (at Close's return %d), ran %d (at Close's return %d)", round, a, a1, r, r1)
		}
	}
}

// TestAttackProducerCloseRacesPost: Producer.Close from one goroutine while
// others post through the same Producer: every accepted post runs once,
// every refusal is ErrProducerClosed, and the lane is forgotten.
func TestAttackProducerCloseRacesPost(t *testing.T) {
	l := New(WithInboxSize(4))
	stop := start(t, l)
	defer stop()
	var accepted, ran atomic.Int64
	for round := range 200 {
		p, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := p.Post(func() { ran.Add(1) })
					if err != nil {
						if !errors.Is(err, ErrProducerClosed) {
							t.Errorf("Post: %v", err)
						}
						return
					}
					accepted.Add(1)
				}
			}()
		}
		for range round % 50 {
			runtime.Gosched()
		}
		p.Close()
		wg.Wait()
	}
	deadline := time.Now().Add(hangAfter)
	for (ran.Load() != accepted.Load() || lanesOf(l) != 0) && time.Now().Before(deadline) {
		do(t, l, func() {})
	}
	if a, r, n := accepted.Load(), ran.Load(), lanesOf(l); a != r || n != 0 {
		t.Fatalf("accepted %d ran %d, %d lanes left", a, r, n)
	}
}

// TestAttackProducerWakesParkingLoop: a Producer made and posted to while
// the loop is going to park (real time, many rounds): the post must wake
// it. A lost wake-up shows as a hang.
func TestAttackProducerWakesParkingLoop(t *testing.T) {
	cfgs := map[string]func() []Option{
		"default":      func() []Option { return nil },
		"precise":      func() []Option { return []Option{WithPrecise()} },
		"spin":         func() []Option { return []Option{WithSpin(time.Millisecond)} },
		"slack":        func() []Option { return []Option{WithSlack(time.Millisecond)} },
		"fakeclock":    func() []Option { return []Option{WithClock(NewFakeClock())} },
		"debug+batch1": func() []Option { return []Option{WithDebug(), WithBatch(1)} },
	}
	for name, opts := range cfgs {
		t.Run(name, func(t *testing.T) {
			l := New(opts()...)
			stop := start(t, l)
			defer stop()
			tm := must(l.Every(time.Hour, noop)) // a timed park
			defer tm.Stop()
			ch := make(chan struct{}, 1)
			for i := range 3000 {
				p, err := l.NewProducer()
				if err != nil {
					t.Fatal(err)
				}
				if i%3 == 0 {
					for range i % 5 {
						runtime.Gosched()
					}
				}
				if err := p.Post(func() { ch <- struct{}{} }); err != nil {
					t.Fatal(err)
				}
				select {
				case <-ch:
				case <-time.After(hangAfter):
					t.Fatalf("round %d: a post through a new Producer never ran (lost wake-up); lanes %d", i, lanesOf(l))
				}
				if i%2 == 0 {
					p.Close()
				}
			}
		})
	}
}

// TestAttackProducerInboxLen: Stats().InboxLen counts posts waiting in the
// lanes; posts through a closed Producer still count until taken.
func TestAttackProducerInboxLen(t *testing.T) {
	l := New()
	p1, _ := l.NewProducer()
	p2, _ := l.NewProducer()
	for range 3000 { // past the lane's ring: the overflow counts too
		p1.Post(noop)
	}
	for range 5 {
		p2.Post(noop)
		l.Post(noop)
	}
	p2.Close()
	if n := l.Stats().InboxLen; n != 3010 {
		t.Fatalf("InboxLen %d, want 3010", n)
	}
	stop := start(t, l)
	do(t, l, func() {})
	if s := statsWhen(l, func(s Stats) bool { return s.InboxLen == 0 && s.Callbacks >= 3010 }); s.InboxLen != 0 {
		t.Fatalf("InboxLen %d after draining", s.InboxLen)
	}
	stop()
}

// TestAttackProducerRunStoppedAndRestarted: posts made through Producers
// while Run is stopped (by ctx and by Stop) stay in the lanes, in order, and
// run at the next Run; a post while nobody runs wakes nobody and is not
// lost; the loop is finally closed with posts still in a lane, and they run.
func TestAttackProducerRunStoppedAndRestarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New()
		p, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		next := 0
		post := func(k int) {
			for range k {
				next++
				i := next
				if err := p.Post(func() { got = append(got, i) }); err != nil {
					t.Fatal(err)
				}
			}
		}
		for round := range 6 {
			post(3)
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- l.Run(ctx) }()
			synctest.Wait()
			post(2) // to a parked loop
			synctest.Wait()
			if round%2 == 0 {
				cancel()
			} else {
				l.Pause()
			}
			err := <-errc
			cancel()
			if round%2 == 0 && err != context.Canceled || round%2 == 1 && err != nil {
				t.Fatalf("round %d: Run: %v", round, err)
			}
			if len(got) != next {
				t.Fatalf("round %d: ran %d of %d", round, len(got), next)
			}
		}
		post(4)
		if err := l.Close(); err != nil { // finishes on this goroutine
			t.Fatal(err)
		}
		for i, v := range got {
			if v != i+1 {
				t.Fatalf("posts ran out of order: %v", got)
			}
		}
		if len(got) != next {
			t.Fatalf("ran %d of %d", len(got), next)
		}
	})
}

// TestAttackProducerPostFromFinishingCallbacks: callbacks that Close runs
// while finishing post through a Producer and make new ones: refused with
// ErrClosed, nothing accepted is lost, Close returns.
func TestAttackProducerPostFromFinishingCallbacks(t *testing.T) {
	l := New()
	p, _ := l.NewProducer()
	var errs []error
	for range 3 {
		p.Post(func() {
			errs = append(errs, p.Post(noop))
			_, err := l.NewProducer()
			errs = append(errs, err)
		})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 6 {
		t.Fatalf("%d callbacks ran, want 3", len(errs)/2)
	}
	for _, err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("while finishing: %v, want ErrClosed", err)
		}
	}
}

// TestAttackProducerShutdownFromCallbackWithLanesBusy: Shutdown called from
// a callback while other goroutines keep posting through Producers: it
// completes (the loop finishes), and every accepted post ran.
func TestAttackProducerShutdownFromCallbackWithLanesBusy(t *testing.T) {
	for round := range 20 {
		l := New(WithBatch(3))
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		accepted, ran, wait := countingProducers(t, l, 3)
		for range round * 20 {
			runtime.Gosched()
		}
		if err := l.Post(func() {
			if err := l.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			if err != ErrClosed {
				t.Fatal(err)
			}
		case <-time.After(hangAfter):
			t.Fatalf("round %d: the loop did not finish after Shutdown from a callback", round)
		}
		wait()
		if a, r := accepted.Load(), ran.Load(); a != r {
			t.Fatalf("round %d: accepted %d ran %d", round, a, r)
		}
	}
}

// TestAttackProducerLanesForgottenAfterFinish: a loop finished by Close
// keeps no lane (each about 24 KB and more once grown), whether the lanes
// were empty or not when it finished.
func TestAttackProducerLanesForgottenAfterFinish(t *testing.T) {
	for _, posted := range []bool{false, true} {
		l := New()
		stop := start(t, l)
		var ps []*Producer
		for range 8 {
			p, err := l.NewProducer()
			if err != nil {
				t.Fatal(err)
			}
			if posted {
				p.Post(noop)
			}
			ps = append(ps, p)
		}
		do(t, l, func() {})
		stop()
		if n := lanesOf(l); n != 0 {
			t.Errorf("posted=%v: a finished loop holds %d lanes", posted, n)
		}
		runtime.KeepAlive(ps)
	}
}

// TestAttackProducerGCWhilePosting: Producers posting in a tight loop and
// dropped right after their last Post, with the GC running all the time:
// no accepted post is lost, none is refused with ErrProducerClosed (the
// Producer is reachable while Post runs), and the lanes are forgotten.
func TestAttackProducerGCWhilePosting(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	var accepted, ran atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				runtime.GC()
			}
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				p, err := l.NewProducer()
				if err != nil {
					t.Error(err)
					return
				}
				for range 100 {
					if err := p.Post(func() { ran.Add(1) }); err != nil {
						t.Errorf("Post: %v", err)
						return
					}
					accepted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	deadline := time.Now().Add(hangAfter)
	for (ran.Load() != accepted.Load() || lanesOf(l) != 0) && time.Now().Before(deadline) {
		runtime.GC()
		do(t, l, func() {})
	}
	if a, r, n := accepted.Load(), ran.Load(), lanesOf(l); a != r || n != 0 {
		t.Fatalf("accepted %d ran %d; %d lanes left", a, r, n)
	}
}

// TestAttackProducerBurstGrowsReadyQueue: a burst through k Producers is
// moved into the ready queue (k+1)·WithBatch messages an iteration while
// only WithBatch run, so the ready queue (a Ring that never shrinks) grows
// to hold most of the burst and keeps that memory for the life of the loop.
// The same burst through Loop.Post leaves the ready queue at WithBatch and
// the backlog in the inbox, whose overflow is dropped once drained
// (WithInboxSize: "an idle loop holds at most about twice the grown inbox
// ... whatever the burst").
func TestAttackProducerBurstGrowsReadyQueue(t *testing.T) {
	const batch, producers, per = 64, 4, 50000
	for _, lanes := range []bool{false, true} {
		l := New(WithBatch(batch))
		maxReady := 0 // loop goroutine only
		fn := func() { maxReady = max(maxReady, l.ready.Len()) }
		var wg sync.WaitGroup
		for range producers {
			var p *Producer
			if lanes {
				var err error
				if p, err = l.NewProducer(); err != nil {
					t.Fatal(err)
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					if p != nil {
						p.Post(fn)
					} else {
						l.Post(fn)
					}
				}
			}()
		}
		wg.Wait()
		stop := start(t, l) // Run, not Shutdown: Shutdown's drainAll takes everything at once
		statsWhen(l, func(s Stats) bool { return s.Callbacks >= producers*per })
		stop()
		t.Logf("lanes=%v: the ready queue held up to %d callbacks (batch %d, burst %d)", lanes, maxReady, batch, producers*per)
		if maxReady > 4*batch {
			t.Errorf("lanes=%v: the ready queue grew to %d entries for a burst of %d (WithBatch %d): the backlog moved into the never-shrinking ready ring", lanes, maxReady, producers*per, batch)
		}
	}
}
