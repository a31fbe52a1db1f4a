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

// Attack tests for rule 6 (timer.go): Local timers filed when the scheduling
// callback returns.

// TestAttackLocalAfterFuncFromPanicHandler: the panic handler runs on the
// loop goroutine, after the callback's afterCallback. A timer it schedules
// through Local must still be filed and fire (before rule 6 was generalised,
// Local().AfterFunc put it in the store at once).
func TestAttackLocalAfterFuncFromPanicHandler(t *testing.T) {
	for _, src := range []string{"post", "timer"} {
		t.Run(src, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var l *Loop
				fired := 0
				l = New(WithPanicHandler(func(any) {
					must(l.Local().AfterFunc(time.Second, func() { fired++ }))
				}))
				stop := start(t, l)
				defer stop()
				boom := func() { panic("boom") }
				if src == "post" {
					if err := l.Post(boom); err != nil {
						t.Fatal(err)
					}
				} else {
					must(l.AfterFunc(time.Millisecond, boom))
				}
				time.Sleep(5 * time.Second)
				synctest.Wait() // the loop is durably parked: its fields may be read
				if fired != 1 {
					t.Fatalf("timer scheduled by the panic handler through Local fired %d times by 5 s, want 1 (store holds %d, deferred %d)", fired, l.timers.Len(), len(l.deferred))
				}
			})
		})
	}
}

// TestAttackLocalAfterFuncFromSlowHook: the same for WithSlowCallback's
// hook, which also runs on the loop goroutine after afterCallback.
func TestAttackLocalAfterFuncFromSlowHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l *Loop
		fired, hooked := 0, 0
		l = New(WithSlowCallback(500*time.Millisecond, func(time.Duration, string) {
			hooked++
			must(l.Local().AfterFunc(time.Second, func() { fired++ }))
		}))
		stop := start(t, l)
		defer stop()
		if err := l.Post(func() { time.Sleep(time.Second) }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if hooked != 1 || fired != 1 {
			t.Fatalf("slow hook ran %d times; its Local timer fired %d times, want 1 and 1 (deferred %d)", hooked, fired, len(l.deferred))
		}
	})
}

// TestAttackLocalResetFromPanicHandler: Local().Reset in the panic handler
// leaves a relative word on l.deferred; it must still be resolved and fire.
func TestAttackLocalResetFromPanicHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l *Loop
		fired := 0
		var tm Timer
		l = New(WithPanicHandler(func(any) { l.Local().Reset(&tm, time.Second) }))
		if err := tm.Init(l, func() { fired++ }); err != nil {
			t.Fatal(err)
		}
		stop := start(t, l)
		defer stop()
		if err := l.Post(func() { panic("boom") }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if fired != 1 {
			t.Fatalf("timer reset by the panic handler through Local fired %d times, want 1 (word %v)", fired, tm.n.Value.load())
		}
	})
}

// TestAttackLocalTimerOtherGoroutineRacesCallbackEnd: another goroutine
// stops, resets, or stops-and-resets a Local timer while its scheduling
// callback is ending, on real time, many rounds. Every timer must end in a
// state consistent with the last operation: stopped ⇒ never fires;
// reset ⇒ fires exactly once.
func TestAttackLocalTimerOtherGoroutineRacesCallbackEnd(t *testing.T) {
	l := New()
	stop := start(t, l)
	defer stop()
	const rounds = 3000
	type rec struct {
		tm    *Timer
		fired atomic.Int32
		want  int32
	}
	recs := make([]*rec, rounds)
	var wg sync.WaitGroup
	for i := range rounds {
		r := &rec{}
		recs[i] = r
		mode := i % 4
		ch := make(chan *Timer, 1)
		if err := l.Post(func() {
			var err error
			if mode == 3 {
				r.tm, err = l.Local().Every(time.Hour, func() { r.fired.Add(1) })
			} else {
				r.tm, err = l.Local().AfterFunc(time.Hour, func() { r.fired.Add(1) })
			}
			if err != nil {
				t.Error(err)
			}
			ch <- r.tm
			for range i % 7 {
				runtime.Gosched()
			}
		}); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tm := <-ch
			switch mode {
			case 0:
				if !tm.Stop() {
					t.Errorf("round %d: Stop of a pending timer: false", i)
				}
				r.want = 0
			case 1:
				if !tm.Reset(time.Millisecond) {
					t.Errorf("round %d: Reset of a pending timer: false", i)
				}
				r.want = 1
			case 2:
				tm.Stop()
				tm.Reset(time.Millisecond)
				r.want = 1
			case 3:
				if !tm.Stop() {
					t.Errorf("round %d: Stop of a pending Every: false", i)
				}
				r.want = 0
			}
		}()
	}
	wg.Wait()
	// Every reset timer is due within a millisecond; wait for them on
	// the loop (no wall-clock assertion: poll until all have fired or the
	// loop says nothing is pending).
	for range 100000 {
		done := true
		for _, r := range recs {
			if r.want == 1 && r.fired.Load() == 0 {
				done = false
				break
			}
		}
		if done {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	var pending int
	do(t, l, func() { pending = l.timers.Len() })
	for i, r := range recs {
		if got := r.fired.Load(); got != r.want {
			t.Errorf("round %d (mode %d): fired %d, want %d", i, i%4, got, r.want)
		}
	}
	if pending != 0 {
		t.Errorf("store holds %d timers after all were stopped or fired, want 0", pending)
	}
}

// TestAttackLocalEveryStoppedInSameCallback: Every made and stopped in the
// same callback, by Local().Stop, Timer.Stop, and Stop then Local().Reset
// (re-armed: must tick), never touches the store when stopped and ticks
// once per period when re-armed, on a FakeClock.
func TestAttackLocalEveryStoppedInSameCallback(t *testing.T) {
	clk := NewFakeClock()
	l := New(WithClock(clk))
	stop := start(t, l)
	defer stop()
	var a, b, c, d atomic.Int32
	var tc, td *Timer
	do(t, l, func() {
		lc := l.Local()
		ta := must(lc.Every(time.Second, func() { a.Add(1) }))
		if !lc.Stop(ta) {
			t.Error("Local().Stop(new Every): false")
		}
		tb := must(lc.Every(time.Second, func() { b.Add(1) }))
		if !tb.Stop() {
			t.Error("Timer.Stop(new Every) on the loop: false")
		}
		tc = must(lc.Every(time.Second, func() { c.Add(1) }))
		lc.Stop(tc)
		if lc.Reset(tc, 2*time.Second) {
			t.Error("Local().Reset after Stop reported armed")
		}
		td = must(lc.Every(time.Second, func() { d.Add(1) }))
		td.Stop()
		if td.Reset(2 * time.Second) { // message through the inbox, and a deferred filing
			t.Error("Timer.Reset after Stop reported armed")
		}
		lc.Stop(td)
		lc.Reset(td, 3*time.Second)
		if n := l.timers.Len(); n != 0 {
			t.Errorf("store holds %d while the callback runs", n)
		}
	})
	do(t, l, func() {
		if n := l.timers.Len(); n != 2 {
			t.Errorf("store holds %d after the callback, want 2", n)
		}
	})
	clk.Advance(10 * time.Second)
	// c: first tick at 2 s then every second: 2..10 = 9 ticks.
	// d: first tick at 3 s then every second: 3..10 = 8 ticks.
	if a.Load() != 0 || b.Load() != 0 || c.Load() != 9 || d.Load() != 8 {
		t.Fatalf("ticks a=%d b=%d c=%d d=%d, want 0 0 9 8", a.Load(), b.Load(), c.Load(), d.Load())
	}
	tc.Stop()
	td.Stop()
}

// TestAttackLocalTimerCloseFromAnotherGoroutineDuringCallback: Close lands
// while the callback that scheduled Local timers still runs; every timer
// is cancelled (Stop false afterwards), none fires, none is left in the
// store or deferred list, and Close returns.
func TestAttackLocalTimerCloseFromAnotherGoroutineDuringCallback(t *testing.T) {
	for _, shutdown := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			l := New()
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			var fired atomic.Int32
			var tms []*Timer
			entered := make(chan struct{})
			release := make(chan struct{})
			if err := l.Post(func() {
				lc := l.Local()
				tms = append(tms, must(lc.AfterFunc(time.Second, func() { fired.Add(1) })))
				tms = append(tms, must(lc.Every(time.Second, func() { fired.Add(100) })))
				close(entered)
				<-release
				// closing now: new timers refused, Reset of a pending one moves it
				if _, err := lc.AfterFunc(time.Second, func() { fired.Add(1000) }); !errors.Is(err, ErrClosed) {
					t.Errorf("Local().AfterFunc while closing: %v", err)
				}
				lc.Reset(tms[0], 2*time.Second)
			}); err != nil {
				t.Fatal(err)
			}
			<-entered
			cerr := make(chan error, 1)
			go func() {
				if shutdown {
					cerr <- l.Shutdown(context.Background())
				} else {
					cerr <- l.Close()
				}
			}()
			synctest.Wait()
			close(release)
			if err := <-cerr; err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != ErrClosed {
				t.Fatalf("Run: %v", err)
			}
			time.Sleep(10 * time.Second)
			synctest.Wait()
			want := int32(0)
			if shutdown {
				want = 1 // Shutdown runs pending one-shots, cancels Every
			}
			if got := fired.Load(); got != want {
				t.Fatalf("shutdown=%v: fired %d, want %d", shutdown, got, want)
			}
			for i, tm := range tms {
				if tm.Stop() {
					t.Errorf("timer %d still armed after the loop finished", i)
				}
			}
			if len(l.deferred) != 0 || l.timers.Len() != 0 {
				t.Fatalf("deferred %d, store %d after finish", len(l.deferred), l.timers.Len())
			}
		})
	}
}

// TestAttackLocalTimerGoexitThenClose: a callback schedules Local timers and
// ends its goroutine; Close (not Run) then finishes the loop: the timers
// are cancelled, not lost in l.deferred, and Stop reports false.
func TestAttackLocalTimerGoexitThenClose(t *testing.T) {
	l := New()
	go l.Run(context.Background()) // its goroutine ends in Goexit below
	do(t, l, func() {})
	var tm *Timer
	if err := l.Post(func() {
		tm = must(l.Local().AfterFunc(time.Hour, noop))
		runtime.Goexit()
	}); err != nil {
		t.Fatal(err)
	}
	for l.running.Load() {
		runtime.Gosched()
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if tm.Stop() {
		t.Fatal("timer scheduled before Goexit still armed after Close")
	}
	if s := l.Stats(); s.TimersCancelled != 1 {
		t.Fatalf("TimersCancelled = %d, want 1", s.TimersCancelled)
	}
}

// TestAttackLocalTimerFakeClockAdvanceInsideCallback: a callback schedules
// a Local timer, then advances the FakeClock past its deadline (modelling a
// long callback): the deadline counts from the call, so it is due when
// filed and fires at the next iteration without another Advance.
func TestAttackLocalTimerFakeClockAdvanceInsideCallback(t *testing.T) {
	clk := NewFakeClock()
	l := New(WithClock(clk))
	stop := start(t, l)
	defer stop()
	t0 := clk.Now()
	var at []time.Duration
	do(t, l, func() {
		must(l.Local().AfterFunc(time.Second, func() { at = append(at, clk.Since(t0)) }))
		must(l.Local().AfterFunc(3*time.Second, func() { at = append(at, clk.Since(t0)) }))
		clk.Advance(2 * time.Second)
	})
	clk.Advance(0)
	var got []time.Duration
	do(t, l, func() { got = append(got, at...) })
	if len(got) != 1 || got[0] != 2*time.Second {
		t.Fatalf("fired at %v, want [2s]", got)
	}
	clk.Advance(time.Second)
	do(t, l, func() { got = append(got[:0], at...) })
	if len(got) != 2 || got[1] != 3*time.Second {
		t.Fatalf("fired at %v, want [2s 3s]", got)
	}
}

// TestAttackPanicHandlerTimerRevivedAfterClose: a Local timer scheduled by
// the panic handler sits on l.deferred past its callback; Close then finds
// nothing to cancel, and release files it into the finished loop's store:
// it stays armed after Close (Stop reports true), though Close promises to
// cancel every pending timer.
func TestAttackPanicHandlerTimerRevivedAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l *Loop
		var tm *Timer
		l = New(WithPanicHandler(func(any) {
			tm = must(l.Local().AfterFunc(time.Hour, noop))
		}))
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		if err := l.Post(func() { panic("boom") }); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		<-errc
		s := l.Stats()
		if tm.Stop() {
			t.Fatalf("a timer scheduled before Close is still armed after it (TimersCancelled %d, TimersPending %d, store %d)", s.TimersCancelled, s.TimersPending, l.timers.Len())
		}
	})
}
