package core

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// ---- the overshoot histogram's arithmetic (spin.go) ----

// TestAttack4QuantileBelowP99 shows quantile's rank: want = round(q*total),
// not ceil(q*total). With 60 samples, 59 of 0 and one of 500 µs, the 99th
// percentile (smallest x with at least 99% of samples <= x) is 500 µs, since
// 59/60 = 98.3% < 99%; quantile(0.99) answers the 2 µs bucket, contradicting
// its doc "never below that quantile".
func TestAttack4QuantileBelowP99(t *testing.T) {
	var o overshoots
	for i := 0; i < 59; i++ {
		o.add(0)
	}
	o.add(500_000)
	q := o.quantile(0.99)
	if q < 500_000 {
		t.Errorf("60 samples (59 x 0, 1 x 500us): quantile(0.99) = %d ns, below the 99th percentile 500000 ns; margin() = %d ns", q, o.margin())
	}
}

// TestAttack4QuantileCoverageProperty: for random sample counts in
// [spinMinSamples, spinWindow) the fraction of samples <= quantile(0.99)
// must be >= 0.99. Reports how many counts violate it.
func TestAttack4QuantileCoverageProperty(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	bad, first := 0, ""
	for n := spinMinSamples; n < spinWindow; n++ {
		var o overshoots
		xs := make([]int64, n)
		for i := range xs {
			xs[i] = int64(r.Intn(20)) * spinBucket // 20 distinct buckets
			if r.Intn(50) == 0 {
				xs[i] = 400_000 + int64(r.Intn(100))*spinBucket // a sparse tail
			}
			o.add(xs[i])
		}
		q := o.quantile(0.99)
		le := 0
		for _, x := range xs {
			if x < q { // bucket [i, i+1)*spinBucket upper edge is exclusive
				le++
			}
		}
		if float64(le) < 0.99*float64(n) {
			bad++
			if first == "" {
				first = "n=" + a4itoa(n) + ": " + a4itoa(le) + " of " + a4itoa(n) + " samples below the estimate " + a4itoa(int(q))
			}
		}
	}
	if bad > 0 {
		t.Errorf("quantile(0.99) covers fewer than 99%% of the samples for %d of %d sample counts; first: %s", bad, spinWindow-spinMinSamples, first)
	}
}

// TestAttack4HalvingErasesTail: "older samples fade: every spinWindow
// samples halve every count". Integer halving erases every bucket holding
// a single sample, and a parker's tail overshoots each fall in their own
// 2 us bucket. A window whose 2% tail lies in distinct buckets loses the
// whole tail at the halving: the p99 estimate drops from ~the tail to the
// body, and the margin with it, although the last window was 2% late.
func TestAttack4HalvingErasesTail(t *testing.T) {
	var o overshoots
	tail := 0
	for i := 0; i < spinWindow; i++ {
		if i%50 == 25 && tail < 20 {
			o.add(300_000 + int64(tail)*10_000) // 300..490 us, distinct buckets
			tail++
			continue
		}
		o.add(10_000)
	}
	before := o.quantile(0.99)
	// The window is full: add has just halved. Recount what the last
	// window saw vs what the estimate now says.
	if before < 300_000 {
		t.Errorf("right after the halving of a window with %d/%d samples in 300..490 us, p99 estimate = %d ns (margin %d ns): the tail is erased, not faded (total now %d)", tail, spinWindow, before, o.margin(), o.total)
	}
}

// TestAttack4HistogramEdges: all samples in the last bucket, q=0 and q=1,
// seen saturation, total wrapping and halving never reaching zero.
func TestAttack4HistogramEdges(t *testing.T) {
	var o overshoots
	if o.quantile(0) != 0 || o.quantile(1) != 0 || o.margin() != spinStartAt {
		t.Fatalf("empty: q0 %d q1 %d margin %d", o.quantile(0), o.quantile(1), o.margin())
	}
	for i := 0; i < 5*spinWindow+7; i++ {
		o.add(1 << 40) // all in the last bucket
	}
	if o.seen != spinMinSamples {
		t.Errorf("seen %d, want saturated at %d", o.seen, spinMinSamples)
	}
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		if v := o.quantile(q); v != maxSpin {
			t.Errorf("all in last bucket: quantile(%v) = %d, want %d", q, v, maxSpin)
		}
	}
	if m := o.margin(); m != maxSpin {
		t.Errorf("margin %d, want maxSpin %d", m, maxSpin)
	}
	// One sample per bucket, over and over: halving never empties it.
	var s overshoots
	for i := 0; i < 20*spinWindow; i++ {
		s.add(int64(i%spinBuckets) * spinBucket)
		if s.total == 0 && i >= spinMinSamples {
			t.Fatalf("total reached 0 after %d samples", i+1)
		}
		var sum uint32
		for _, c := range s.n {
			sum += c
		}
		if sum != s.total {
			t.Fatalf("total %d != sum %d after %d samples", s.total, sum, i+1)
		}
	}
	// q=0 is the first non-empty bucket's edge, q=1 the last's.
	var e overshoots
	e.add(7_000)
	e.add(501_000)
	if e.quantile(0) != 8_000 || e.quantile(1) != 502_000 {
		t.Errorf("q0 %d (want 8000), q1 %d (want 502000)", e.quantile(0), e.quantile(1))
	}
	// The margin never below the guard, never above maxSpin.
	for _, d := range []int64{-1 << 62, -1, 0, 1, maxSpin - 1, maxSpin, 1 << 62} {
		var h overshoots
		for i := 0; i < spinMinSamples; i++ {
			h.add(d)
		}
		if m := h.margin(); m < spinGuard || m > maxSpin {
			t.Errorf("samples of %d: margin %d outside [%d, %d]", d, m, spinGuard, maxSpin)
		}
	}
}

// ---- options ----

func TestAttack4OptionOrder(t *testing.T) {
	cases := []struct {
		name     string
		opts     []Option
		spin     int64
		adaptive bool
	}{
		{"spin then adaptive", []Option{WithSpin(time.Millisecond), WithAdaptiveSpin()}, 0, true},
		{"adaptive then spin", []Option{WithAdaptiveSpin(), WithSpin(time.Millisecond)}, int64(time.Millisecond), false},
		{"adaptive then spin 0", []Option{WithAdaptiveSpin(), WithSpin(0)}, 0, false},
		{"adaptive then spin -1", []Option{WithAdaptiveSpin(), WithSpin(-1)}, 0, false},
		{"adaptive + precise + slack", []Option{WithAdaptiveSpin(), WithPrecise(), WithSlack(time.Millisecond)}, 0, true},
		{"adaptive + fake clock", []Option{WithAdaptiveSpin(), WithClock(NewFakeClock())}, 0, false},
		{"fake clock + adaptive", []Option{WithClock(NewFakeClock()), WithAdaptiveSpin()}, 0, false},
		{"adaptive + nil clock", []Option{WithAdaptiveSpin(), WithClock(nil)}, 0, true},
	}
	for _, c := range cases {
		l := New(c.opts...)
		if l.cfg.spin != c.spin || (l.overshoot != nil) != c.adaptive || l.cfg.spinAuto != c.adaptive {
			t.Errorf("%s: spin %d adaptive %v (histogram %v), want %d %v", c.name, l.cfg.spin, l.cfg.spinAuto, l.overshoot != nil, c.spin, c.adaptive)
		}
		if err := l.Close(); err != nil {
			t.Errorf("%s: Close %v", c.name, err)
		}
	}
}

// ---- never early, on the loop's own clock ----

func TestAttack4AdaptiveNeverEarly(t *testing.T) {
	for _, opts := range [][]Option{
		{WithAdaptiveSpin()},
		{WithAdaptiveSpin(), WithPrecise()},
		{WithAdaptiveSpin(), WithPrecise(), WithSlack(30 * time.Microsecond)},
		{WithSpin(time.Second), WithAdaptiveSpin(), WithPrecise()},
		{WithAdaptiveSpin(), WithSpin(300 * time.Microsecond), WithPrecise()},
	} {
		l := New(opts...)
		stop := start(t, l)
		const n = 60
		fired := make(chan int64, 2*n)
		// From the loop: a chain and a batch.
		do(t, l, func() {
			for i := 0; i < n; i++ {
				d := time.Duration(i%7) * 170 * time.Microsecond
				due := l.deadline(d)
				must(l.Local().AfterFunc(d, func() { fired <- l.now() - due }))
			}
		})
		// From another goroutine, while the loop parks or spins.
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				d := time.Duration(i%5) * 230 * time.Microsecond
				// Scheduled from outside: the deadline AfterFunc computes
				// is at or after this reading of the loop's clock + d.
				lower := l.now() + int64(d)
				must(l.AfterFunc(d, func() { fired <- l.now() - lower }))
				time.Sleep(50 * time.Microsecond)
			}
		}()
		wg.Wait()
		for i := 0; i < 2*n; i++ {
			if late := <-fired; late < 0 {
				t.Errorf("%d options: timer fired %v early", len(opts), time.Duration(-late))
			}
		}
		stop()
	}
}

// TestAttack4LearnsAndNeverEarlyPastWarmup: enough timed parks to take the
// histogram past spinMinSamples and through a halving, so the learned
// margin (not the 200 us start) is in use; every timer still fires at or
// after its deadline on the loop clock, and the learned margin stays in
// [spinGuard, maxSpin].
func TestAttack4LearnsAndNeverEarlyPastWarmup(t *testing.T) {
	l := New(WithAdaptiveSpin(), WithPrecise())
	stop := start(t, l)
	defer stop()
	early := 0
	done := make(chan struct{})
	var count int
	var next func()
	next = func() {
		count++
		if count == 1200 {
			close(done)
			return
		}
		d := 400*time.Microsecond + time.Duration(count%3)*50*time.Microsecond
		due := l.deadline(d)
		must(l.Local().AfterFunc(d, func() {
			if l.now() < due {
				early++
			}
			next()
		}))
	}
	do(t, l, next)
	<-done
	do(t, l, func() {
		m := l.overshoot.margin()
		t.Logf("after 1200 timers: seen %d total %d margin %v p50 %v", l.overshoot.seen, l.overshoot.total, time.Duration(m), time.Duration(l.overshoot.quantile(0.5)))
		if early != 0 {
			t.Errorf("%d timers fired early", early)
		}
		if l.overshoot.seen < spinMinSamples {
			t.Errorf("only %d samples learned from 1200 timed parks 400-500 us ahead", l.overshoot.seen)
		}
		if m < spinGuard || m > maxSpin {
			t.Errorf("margin %d", m)
		}
	})
}

// TestAttack4MarginStuckAboveTimerDistance: a sample is recorded only when
// the loop parked (early > now). Once the margin is above the distance of
// every timer the loop waits for, it never parks timed again, never records,
// and the margin can never come down: a burst of 32 late wake-ups (a busy
// host) pins a loop whose timers are all < 1 ms to spinning each of them in
// full, forever.
func TestAttack4MarginStuckAboveTimerDistance(t *testing.T) {
	l := New(WithAdaptiveSpin(), WithPrecise())
	for i := 0; i < spinMinSamples; i++ {
		l.overshoot.add(maxSpin) // a noisy start: the margin is now 1 ms
	}
	stop := start(t, l)
	defer stop()
	var before, after uint32
	do(t, l, func() { before = l.overshoot.total })
	done := make(chan struct{})
	var count int
	var next func()
	next = func() {
		if count++; count == 300 {
			close(done)
			return
		}
		must(l.Local().AfterFunc(500*time.Microsecond, next))
	}
	do(t, l, next)
	<-done
	var m int64
	do(t, l, func() { after, m = l.overshoot.total, l.overshoot.margin() })
	if after == before {
		t.Errorf("300 timers of 500 us after a 1 ms margin: %d new overshoot samples, margin still %v: the loop spun every 500 us wait in full and can never learn a smaller margin", after-before, time.Duration(m))
	}
}

// ---- lifecycle while spinning or parked with the adaptive margin ----

// spinningLoop returns a started loop whose margin is maxSpin, with timers
// less than 1 ms ahead spun in full.
func spinningLoop(t *testing.T, opts ...Option) *Loop {
	l := New(append([]Option{WithAdaptiveSpin()}, opts...)...)
	for i := 0; i < spinMinSamples; i++ {
		l.overshoot.add(maxSpin)
	}
	return l
}

func TestAttack4CloseWhileSpinning(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithPrecise()}} {
		for i := 0; i < 30; i++ {
			l := spinningLoop(t, opts...)
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			fired := make(chan struct{}, 1)
			do(t, l, func() {
				must(l.Local().AfterFunc(900*time.Microsecond, func() { fired <- struct{}{} }))
			})
			if i%2 == 1 {
				time.Sleep(100 * time.Microsecond)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := <-errc; !errors.Is(err, ErrClosed) {
				t.Fatalf("Run: %v", err)
			}
		}
	}
}

func TestAttack4CtxCancelWhileSpinningOrParked(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithPrecise()}} {
		for _, d := range []time.Duration{900 * time.Microsecond, 1500 * time.Microsecond, 5 * time.Millisecond, time.Hour} {
			l := spinningLoop(t, opts...)
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- l.Run(ctx) }()
			do(t, l, func() { must(l.Local().AfterFunc(d, func() {})) })
			time.Sleep(200 * time.Microsecond)
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run after cancel: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("opts %d, timer %v: Run did not return 10 s after ctx cancel", len(opts), d)
			}
			if err := l.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	}
}

// TestAttack4StopRunCyclesWhileSpinning: Stop while the loop spins; Run
// again; the timer still fires once, not early, and the histogram survives.
func TestAttack4StopRunCyclesWhileSpinning(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithPrecise()}} {
		l := spinningLoop(t, opts...)
		fired := make(chan int64, 100)
		for cycle := 0; cycle < 20; cycle++ {
			errc := make(chan error, 1)
			go func() { errc <- l.Run(context.Background()) }()
			do(t, l, func() {
				due := l.deadline(800 * time.Microsecond)
				must(l.Local().AfterFunc(800*time.Microsecond, func() { fired <- l.now() - due }))
			})
			l.Pause()
			if err := <-errc; err != nil {
				t.Fatalf("cycle %d: Run after Stop: %v", cycle, err)
			}
		}
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		for i := 0; i < 20; i++ {
			if late := <-fired; late < 0 {
				t.Errorf("timer fired %v early", time.Duration(-late))
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Fatal(err)
		}
	}
}

// TestAttack4PostsWakeSpinningLoop: posts and Producer posts made while the
// loop spins run; Shutdown while spinning waits for the timer and returns.
func TestAttack4PostsWakeSpinningLoop(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithPrecise()}} {
		l := spinningLoop(t, opts...)
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		p, err := l.NewProducer()
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan string, 400)
		for i := 0; i < 100; i++ {
			do(t, l, func() {
				must(l.Local().AfterFunc(900*time.Microsecond, func() {}))
			})
			if err := l.Post(func() { ran <- "post" }); err != nil {
				t.Fatal(err)
			}
			if err := p.Post(func() { ran <- "prod" }); err != nil {
				t.Fatal(err)
			}
			<-ran
			<-ran
		}
		do(t, l, func() { must(l.Local().AfterFunc(900*time.Microsecond, func() { ran <- "timer" })) })
		if err := l.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if err := <-errc; err != nil && !errors.Is(err, ErrClosed) {
			t.Fatalf("Run: %v", err)
		}
		if s := <-ran; s != "timer" {
			t.Errorf("got %q", s)
		}
	}
}

// TestAttack4RemoteResetEarlierWhileSpinning: a timer reset from another
// goroutine to an earlier deadline while the loop spins toward a later one
// fires at or after its new deadline, and before the later one.
func TestAttack4RemoteResetEarlierWhileSpinning(t *testing.T) {
	l := spinningLoop(t, WithPrecise())
	stop := start(t, l)
	defer stop()
	checked := 0
	for i := 0; i < 50; i++ {
		order := make(chan string, 2)
		var a *Timer
		var due int64
		do(t, l, func() {
			due = l.deadline(950 * time.Microsecond)
			must(l.Local().AfterFunc(950*time.Microsecond, func() { order <- "late" }))
			a = must(l.Local().AfterFunc(time.Hour, func() { order <- "reset" }))
		})
		// The goroutine readied by do's reply may wait for the spin to end
		// (the spinning loop holds its P): a Reset made after the late
		// timer's deadline rightly fires second. Only rounds whose Reset
		// came before that deadline, on the loop's clock, check the order.
		a.Reset(0)
		before := l.now() < due
		s := <-order
		<-order
		if !before {
			continue
		}
		checked++
		if s != "reset" {
			t.Fatalf("round %d: %q fired first, though the Reset was made before its deadline", i, s)
		}
	}
	t.Logf("%d of 50 rounds made their Reset before the late timer's deadline", checked)
}

// ---- FakeClock and synctest ----

func TestAttack4FakeClockAdaptive(t *testing.T) {
	clk := NewFakeClock()
	l := New(WithAdaptiveSpin(), WithPrecise(), WithSlack(time.Millisecond), WithClock(clk))
	stop := start(t, l)
	defer stop()
	var got []int64
	var base int64
	do(t, l, func() {
		base = l.now()
		for _, d := range []time.Duration{50 * time.Microsecond, 150 * time.Microsecond, 3 * time.Millisecond, time.Second} {
			d := d
			must(l.Local().AfterFunc(d, func() { got = append(got, l.now()-base) }))
		}
	})
	finished := make(chan struct{})
	go func() {
		clk.Advance(100 * time.Microsecond)
		clk.Advance(time.Second)
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("Advance hung with WithAdaptiveSpin on a FakeClock")
	}
	do(t, l, func() {
		want := []int64{50_000, 150_000, 3_000_000, 1_000_000_000}
		if len(got) != 4 {
			t.Fatalf("fired %v", got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("timer %d fired at %d, want exactly %d", i, got[i], want[i])
			}
		}
		if l.overshoot != nil {
			t.Error("histogram made on a FakeClock")
		}
	})
}

// TestAttack4AdaptiveSpinInSynctest runs a loop WithAdaptiveSpin inside a
// synctest bubble in a child process (the doc says it is not supported).
// The child's loop parks on the bubble's fake clock until 200 us before the
// deadline, then spins on a clock that only moves when every goroutine in
// the bubble is blocked, which a spinning goroutine never is: a hang.
func TestAttack4AdaptiveSpinInSynctest(t *testing.T) {
	if os.Getenv("ATTACK4_SYNCTEST_CHILD") == "1" {
		synctest.Test(t, func(t *testing.T) {
			l := New(WithAdaptiveSpin())
			stop := start(t, l)
			defer stop()
			fired := make(chan struct{})
			do(t, l, func() { must(l.Local().AfterFunc(time.Millisecond, func() { close(fired) })) })
			<-fired
		})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAttack4AdaptiveSpinInSynctest$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), "ATTACK4_SYNCTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Errorf("a Loop WithAdaptiveSpin in a synctest bubble hangs: a 1 ms timer had not fired after 8 s of real time (child killed); output: %q", tail(out))
		return
	}
	if err != nil {
		t.Errorf("child failed: %v: %s", err, tail(out))
	}
}

func tail(b []byte) string {
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	return string(b)
}

func a4itoa(n int) string { return fmt.Sprint(n) }
