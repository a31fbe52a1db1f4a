//go:build linux

package core

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeFutex is a futex whose waits return early on a fake clock: each wait
// advances the clock by a third of its timeout (at least 1 ns) and
// returns, as a kernel interrupted by signals would.
type fakeFutex struct {
	clock int64
	waits int
}

func (f *fakeFutex) parker() *futexParker {
	return &futexParker{
		now: func() int64 { return f.clock },
		wait: func(addr *uint32, val uint32, timeout int64, ts *unix.Timespec) {
			f.waits++
			if timeout < 0 {
				panic("untimed wait on the fake futex")
			}
			f.clock += max(timeout/3, 1)
		},
		wake:  func(*uint32) {},
		wakeC: make(chan struct{}, 1),
	}
}

// TestFutexBlockNeverReturnsEarly: waits that return before their timeout
// make block go round; it returns (not woken) only once the loop clock has
// reached the deadline.
func TestFutexBlockNeverReturnsEarly(t *testing.T) {
	for _, deadline := range []int64{1, 2, 3, 1000, 999_999, 10_000_000} {
		f := &fakeFutex{}
		p := f.parker()
		if p.block(deadline, true, nil) {
			t.Fatalf("deadline %d: block reported a token nobody sent", deadline)
		}
		if f.clock < deadline {
			t.Errorf("deadline %d: block returned at %d, early", deadline, f.clock)
		}
		if f.waits == 0 {
			t.Errorf("deadline %d: block never waited", deadline)
		}
	}
}

func TestFutexBlockPastDeadlineDoesNotWait(t *testing.T) {
	f := &fakeFutex{clock: 500}
	if f.parker().block(400, true, nil) || f.waits != 0 {
		t.Fatalf("block past its deadline waited %d times", f.waits)
	}
}

func TestFutexTokenBeforeBlock(t *testing.T) {
	for _, long := range []int64{0, longWait} {
		p := newPreciseParker(New()).(*futexParker)
		p.long = long
		p.kick()
		if !p.block(0, false, nil) {
			t.Fatal("block did not take the token sent before it")
		}
		if w := p.word.Load(); w != futexIdle {
			t.Fatalf("word %d after the token was taken, want idle", w)
		}
		p.kick()
		p.take()
	}
}

// TestFutexKickWakesEveryPhase kicks a parker blocked in the futex (long 0),
// in the runtime park with no deadline, and in the runtime park of a long
// timed wait, many times, with the kick racing the block.
func TestFutexKickWakesEveryPhase(t *testing.T) {
	cases := []struct {
		name     string
		long     int64
		deadline time.Duration
		timed    bool
	}{
		{"futex untimed", 0, 0, false},
		{"futex timed", 0, time.Hour, true},
		{"runtime untimed", longWait, 0, false},
		{"runtime timed", longWait, time.Hour, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPreciseParker(New()).(*futexParker)
			p.long = c.long
			for i := 0; i < 500; i++ {
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i%3 == 0 {
						time.Sleep(10 * time.Microsecond) // let block go to sleep first, sometimes
					}
					p.kick()
				}()
				if !p.block(p.now()+int64(c.deadline), c.timed, nil) {
					t.Fatalf("round %d: block returned without the token", i)
				}
				wg.Wait()
				if w := p.word.Load(); w != futexIdle {
					t.Fatalf("round %d: word %d after the token was taken, want idle", i, w)
				}
				if len(p.wakeC) != 0 {
					t.Fatalf("round %d: a value was left on wakeC", i)
				}
			}
		})
	}
}

// TestFutexTakeAfterTimeout: a deadline ends the block, then a kick that
// raced it is collected by take, as unpark does.
func TestFutexTakeAfterTimeout(t *testing.T) {
	for _, long := range []int64{0, 1000} {
		p := newPreciseParker(New()).(*futexParker)
		p.long = long
		for i := 0; i < 200; i++ {
			go p.kick()
			p.block(p.now()+2000, true, nil) // woken or timed out
			if p.word.Load() == futexToken || len(p.wakeC) != 0 {
				p.take() // what unpark does when it loses the swap
			}
		}
	}
}

// TestPreciseLoopRunsEveryPostOnce posts from several goroutines to a
// precise loop that parks between bursts: every callback runs exactly once.
func TestPreciseLoopRunsEveryPostOnce(t *testing.T) {
	for _, long := range []int64{0, longWait} {
		l := New(WithPrecise())
		l.parker.(*futexParker).long = long
		stop := start(t, l)
		const producers, each = 4, 2000
		var ran atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < producers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if err := l.Post(func() { ran.Add(1) }); err != nil {
						t.Errorf("Post: %v", err)
						return
					}
					if i%100 == 0 {
						time.Sleep(50 * time.Microsecond) // let the loop park
					}
				}
			}()
		}
		wg.Wait()
		do(t, l, func() {})
		stop()
		if n := ran.Load(); n != producers*each {
			t.Fatalf("long %d: %d callbacks ran, want %d", long, n, producers*each)
		}
	}
}

// TestPreciseRunEndsOnCancel cancels the context of a precise loop parked
// with no deadline (in the futex, and in the runtime park) and with a
// far deadline: Run returns ctx.Err() and leaves no goroutine behind
// (goleak in TestMain), and the loop can run again.
func TestPreciseRunEndsOnCancel(t *testing.T) {
	for _, long := range []int64{0, longWait} {
		for _, withTimer := range []bool{false, true} {
			l := New(WithPrecise())
			l.parker.(*futexParker).long = long
			for round := 0; round < 3; round++ {
				ctx, cancel := context.WithCancel(context.Background())
				errc := make(chan error, 1)
				go func() { errc <- l.Run(ctx) }()
				do(t, l, func() {
					if withTimer {
						must(l.Local().AfterFunc(time.Hour, noop))
					}
				})
				time.Sleep(time.Millisecond) // parked, most likely
				cancel()
				if err := <-errc; err != context.Canceled {
					t.Fatalf("long %d, timer %v: Run returned %v, want context.Canceled", long, withTimer, err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPreciseRestoresThread: Run sets its thread's timer slack to 1 ns and
// restores the old value when it returns. The test goroutine locks its
// thread itself, so that before, during and after are the same thread.
func TestPreciseRestoresThread(t *testing.T) {
	l := New(WithPrecise())
	ctx, cancel := context.WithCancel(context.Background())
	type slacks struct{ before, after int }
	res := make(chan slacks, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var s slacks
		s.before, _ = unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
		l.Run(ctx)
		s.after, _ = unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
		res <- s
	}()
	var during int
	do(t, l, func() { during, _ = unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0) })
	cancel()
	s := <-res
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if during != 1 {
		t.Errorf("timer slack inside Run = %d ns, want 1", during)
	}
	if s.after != s.before {
		t.Errorf("timer slack after Run = %d ns, want the %d ns it was before", s.after, s.before)
	}
}

// TestFutexParkZeroAllocs: a timed futex wait, a runtime park and a
// kick-and-take allocate nothing.
func TestFutexParkZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	p := newPreciseParker(New()).(*futexParker)
	cases := map[string]func(){
		"futex timeout": func() { p.long = 0; p.block(p.now()+1000, true, nil) },
		"runtime park":  func() { p.long = 1; p.block(p.now()+1000, true, nil) },
		"kick+block":    func() { p.kick(); p.block(0, false, nil) },
	}
	for name, f := range cases {
		f() // the runtime park makes its timer once
		if a := testing.AllocsPerRun(200, f); a != 0 {
			t.Errorf("%s: %v allocations, want 0", name, a)
		}
	}
}

// TestPreciseShutdown: Shutdown running a precise loop itself finishes the
// pending timers.
func TestPreciseShutdown(t *testing.T) {
	l := New(WithPrecise())
	var fired atomic.Int32
	for i := 0; i < 10; i++ {
		must(l.AfterFunc(time.Duration(i)*100*time.Microsecond, func() { fired.Add(1) }))
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := fired.Load(); n != 10 {
		t.Fatalf("%d timers fired, want 10", n)
	}
}

// TestFutexWordAddr checks that the address handed to the kernel is the
// futex word's value: what the atomic methods write, the kernel reads.
func TestFutexWordAddr(t *testing.T) {
	var p futexParker
	for _, v := range []uint32{futexToken, futexWaiting, 0xdeadbeef, futexIdle} {
		p.word.Store(v)
		if got := *p.wordAddr(); got != v {
			t.Fatalf("*wordAddr() = %#x after word.Store(%#x)", got, v)
		}
	}
}
