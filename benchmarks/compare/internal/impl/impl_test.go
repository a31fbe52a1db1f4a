package impl

import (
	"testing"
	"time"
)

// exercise checks the contract the workloads rely on: Post and PostLocal
// run in order, a timer fires, a stopped timer does not, Close returns.
func exercise[T any](t *testing.T, d Def[T]) {
	t.Helper()
	l, err := d.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 8)
	if !l.Post(func() {
		l.PostLocal(func() { got <- "local" })
		if _, err := l.AfterFunc(time.Millisecond, func() { got <- "timer" }); err != nil {
			t.Error(err)
		}
		h, err := l.AfterFunc(20*time.Millisecond, func() { got <- "stopped timer fired" })
		if err != nil {
			t.Error(err)
		}
		if !l.Stop(h) {
			t.Error("Stop of a pending timer reported false")
		}
		got <- "post"
	}) {
		t.Fatal("Post rejected")
	}
	// "post" precedes "local" (both run on the loop, in order); the timer
	// may come at any point, since gotimers runs it on its own goroutine.
	seen := map[string]int{}
	for i := 0; i < 3; i++ {
		select {
		case g := <-got:
			seen[g] = i
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out; got %v", seen)
		}
	}
	p, okP := seen["post"]
	lo, okL := seen["local"]
	_, okT := seen["timer"]
	if !okP || !okL || !okT || p > lo {
		t.Fatalf("got %v, want post before local, and timer", seen)
	}
	select {
	case g := <-got:
		t.Fatalf("unexpected %q", g)
	case <-time.After(40 * time.Millisecond):
	}
}

// exerciseReset checks the contract W8 relies on: Reset from the loop and
// ResetRemote from another goroutine push a pending timer back (it does not
// fire at its old deadline, nor does the reset report a fire), and Reset
// brings one forward too (it fires).
func exerciseReset[T any](t *testing.T, d Def[T]) {
	t.Helper()
	l, err := d.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const delay = 100 * time.Millisecond
	got := make(chan string, 8)
	remote := make(chan T, 1)
	pushed := func() { got <- "pushed-back timer fired" }
	forward := func() { got <- "forward" }
	start := time.Now()
	if !l.Post(func() {
		h, err := l.AfterFunc(time.Hour, forward)
		if err != nil {
			t.Error(err)
		}
		l.Reset(h, time.Millisecond, forward)
		p, err := l.AfterFunc(delay, pushed)
		if err != nil {
			t.Error(err)
		}
		l.Reset(p, time.Hour, pushed)
		r, err := l.AfterFunc(delay, pushed)
		if err != nil {
			t.Error(err)
		}
		remote <- r
	}) {
		t.Fatal("Post rejected")
	}
	var r T
	select {
	case r = <-remote:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the loop")
	}
	l.ResetRemote(r, time.Hour, pushed)
	if time.Since(start) >= delay {
		t.Skip("the machine is too slow to tell: the timers may have been due before their Reset")
	}
	select {
	case g := <-got:
		if g != "forward" {
			t.Fatalf("got %q, want forward", g)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the timer brought forward did not fire")
	}
	select {
	case g := <-got:
		t.Fatalf("unexpected %q", g)
	case <-time.After(time.Until(start.Add(2 * delay))):
	}
}

func TestGoTimers(t *testing.T) { exercise(t, GoTimers) }
func TestGoja(t *testing.T)     { exercise(t, Goja) }
func TestSeed(t *testing.T)     { exercise(t, Seed) }

func TestSeedStopTwiceAndWakeups(t *testing.T) {
	l, _ := Seed.New()
	defer l.Close()
	done := make(chan [2]bool)
	l.Post(func() {
		h, _ := l.AfterFunc(time.Hour, func() {})
		done <- [2]bool{l.Stop(h), l.Stop(h)}
	})
	if r := <-done; !r[0] || r[1] {
		t.Fatalf("Stop twice = %v, want [true false]", r)
	}
	time.Sleep(5 * time.Millisecond)
	if n, ok := l.Wakeups(); !ok || n == 0 {
		t.Fatalf("an idle seed loop should wake every millisecond: %d %v", n, ok)
	}
}

func TestHotloop(t *testing.T) { exercise(t, Hotloop) }

func TestResetGoTimers(t *testing.T)     { exerciseReset(t, GoTimers) }
func TestResetGoja(t *testing.T)         { exerciseReset(t, Goja) }
func TestResetSeed(t *testing.T)         { exerciseReset(t, Seed) }
func TestResetHotloop(t *testing.T)      { exerciseReset(t, Hotloop) }
func TestResetHotloopWheel(t *testing.T) { exerciseReset(t, HotloopWheel) }

func TestHotloopProducer(t *testing.T) {
	exercise(t, HotloopProducer)
	l, err := HotloopProducer.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	post, release := l.(Poster).NewPoster()
	defer release()
	ran := make(chan struct{})
	if !post(func() { close(ran) }) {
		t.Fatal("post through the Producer rejected")
	}
	<-ran
}
