package group

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/hotloop/hotloop/core"
)

// on runs fn as a callback on loop i and waits for it.
func on(t testing.TB, g *Group, i int, fn func()) {
	t.Helper()
	if err := g.Loop(i).Do(context.Background(), fn); err != nil {
		t.Fatalf("Do on loop %d: %v", i, err)
	}
}

// TestSendRunsOnTargetInOrder: messages from each loop to each other loop
// run on the target, exactly once, in the order each sender sent them;
// a send to the own loop runs there too.
func TestSendRunsOnTargetInOrder(t *testing.T) {
	g, err := New(3, core.WithDebug())
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	defer stop()
	const per = 2000
	got := make([][][]int, 3) // got[to][from]: written only by loop to
	for to := range got {
		got[to] = make([][]int, 3)
	}
	var wrong sync.Map
	var wg sync.WaitGroup
	wg.Add(3 * 3 * per)
	for from := range 3 {
		g.Loop(from).Post(func() {
			s := g.From(from)
			for i := range per {
				for to := range 3 {
					if err := s.Send(to, func() {
						defer wg.Done()
						if !onLoop(g.Loop(to)) {
							wrong.Store(to, true)
						}
						got[to][from] = append(got[to][from], i)
					}); err != nil {
						t.Error(err)
						wg.Done()
					}
				}
			}
		})
	}
	wg.Wait()
	wrong.Range(func(k, _ any) bool { t.Errorf("a message for loop %v ran elsewhere", k); return true })
	for to := range 3 {
		for from := range 3 {
			var seq []int
			on(t, g, to, func() { seq = got[to][from] })
			if len(seq) != per {
				t.Fatalf("%d → %d: %d messages ran, want %d", from, to, len(seq), per)
			}
			for i, v := range seq {
				if v != i {
					t.Fatalf("%d → %d: out of order at %d: %d", from, to, i, v)
				}
			}
		}
	}
}

// TestSendKeyAndClosedTarget: SendKey reaches the key's loop; a send to a
// closed loop returns core.ErrClosed.
func TestSendKeyAndClosedTarget(t *testing.T) {
	g, err := New(2, core.WithDebug())
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	key := keyOwnedBy(g, 1)
	ran := make(chan bool, 2)
	on(t, g, 0, func() {
		if err := g.From(0).SendKey(key, func() { ran <- onLoop(g.Loop(1)) }); err != nil {
			t.Error(err)
		}
		if err := g.From(0).SendKeyString("x", func() { ran <- onLoop(g.ForString("x")) }); err != nil {
			t.Error(err)
		}
	})
	if !<-ran || !<-ran {
		t.Error("SendKey or SendKeyString ran on another loop than the key's")
	}
	if err := g.Loop(1).Close(); err != nil {
		t.Fatal(err)
	}
	on(t, g, 0, func() {
		if err := g.From(0).Send(1, func() {}); err != core.ErrClosed {
			t.Errorf("Send to a closed loop: %v, want core.ErrClosed", err)
		}
	})
	stop()
}

// keyOwnedBy returns a key of loop i.
func keyOwnedBy(g *Group, i int) uint64 {
	for k := uint64(0); ; k++ {
		if g.Index(k) == i {
			return k
		}
	}
}

// TestCall: the function runs on the target loop, the reply on the
// caller's, with the value; to its own loop too; a Call to a closed loop
// returns its error and runs nothing; a reply to a caller closed meanwhile
// is dropped.
func TestCall(t *testing.T) {
	g, err := New(3, core.WithDebug())
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	type result struct {
		v             int
		fnOK, replyOK bool
	}
	res := make(chan result, 2)
	for _, to := range []int{2, 0} {
		on(t, g, 0, func() {
			var fnOK bool
			err := Call(g.From(0), to, func() int { fnOK = onLoop(g.Loop(to)); return 40 + to }, func(v int) {
				res <- result{v, fnOK, onLoop(g.Loop(0))}
			})
			if err != nil {
				t.Error(err)
			}
		})
		if r := <-res; r.v != 40+to || !r.fnOK || !r.replyOK {
			t.Errorf("Call 0 → %d: %+v; want %d, run on %d, reply on 0", to, r, 40+to, to)
		}
	}
	if err := g.Loop(2).Close(); err != nil {
		t.Fatal(err)
	}
	on(t, g, 0, func() {
		if err := Call(g.From(0), 2, func() int { t.Error("ran on a closed loop"); return 0 }, func(int) {}); !errors.Is(err, core.ErrClosed) {
			t.Errorf("Call to a closed loop: %v, want core.ErrClosed", err)
		}
	})
	// The caller, 1, closes before the reply: 0 runs fn, and the reply is dropped.
	release := make(chan struct{})
	ran := make(chan struct{})
	on(t, g, 1, func() {
		if err := Call(g.From(1), 0, func() int { <-release; close(ran); return 1 }, func(int) { t.Error("a reply ran on a closed loop") }); err != nil {
			t.Error(err)
		}
	})
	if err := g.Loop(1).Close(); err != nil {
		t.Fatal(err)
	}
	close(release)
	<-ran
	on(t, g, 0, func() {}) // the reply's send has been tried
	stop()
}

// TestSendAllocatesNothing: once a pair's lane exists, a send allocates
// nothing.
func TestSendAllocatesNothing(t *testing.T) {
	g, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	defer stop()
	fn := func() {}
	on(t, g, 0, func() {
		s := g.From(0)
		_ = s.Send(1, fn) // makes the lane
		if a := testing.AllocsPerRun(1000, func() { _ = s.Send(1, fn) }); a != 0 {
			t.Errorf("%v allocations per Send, want 0", a)
		}
	})
}

// TestSendFromOtherGoroutines: a Sender used off its loop (a misuse that
// only costs speed) still delivers every message exactly once, on its
// target.
func TestSendFromOtherGoroutines(t *testing.T) {
	g, err := New(2, core.WithDebug())
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	defer stop()
	var sent, ran sync.WaitGroup
	count := 0 // loop 1's
	ran.Add(2000)
	for range 4 {
		sent.Add(1)
		go func() {
			defer sent.Done()
			for range 500 {
				if err := g.From(0).Send(1, func() {
					if onLoop(g.Loop(1)) {
						count++
					}
					ran.Done()
				}); err != nil {
					t.Error(err)
					ran.Done()
				}
			}
		}()
	}
	sent.Wait()
	ran.Wait() // a lane's messages are not ordered with a Do through the inbox: wait for them
	var n int
	on(t, g, 1, func() { n = count })
	if n != 2000 {
		t.Errorf("%d messages ran on loop 1, want 2000", n)
	}
}

// BenchmarkSend: one op is a message from a callback on loop 0 to loop 1,
// sent in bursts of 1,000, until loop 1 has run them all; beside the same
// through loop 1's Post (the general inbox).
func BenchmarkSend(b *testing.B) {
	for _, via := range []string{"send", "post"} {
		b.Run("via="+via, func(b *testing.B) {
			g, err := New(2)
			if err != nil {
				b.Fatal(err)
			}
			stop := startGroup(b, g)
			defer stop()
			count := 0
			inc := func() { count++ }
			s, target := g.From(0), g.Loop(1)
			send := func() { _ = s.Send(1, inc) }
			if via == "post" {
				send = func() { _ = target.Post(inc) }
			}
			on(b, g, 0, send)
			b.ReportAllocs()
			b.ResetTimer()
			for left := b.N; left > 0; left -= 1000 {
				n := min(left, 1000)
				on(b, g, 0, func() {
					for range n {
						send()
					}
				})
			}
			on(b, g, 1, func() {}) // loop 1 has run them
			b.StopTimer()
			b.ReportMetric(float64(target.Stats().Kicks)/float64(b.N), "wakeups/op") // a wake-up sent to a parked loop 1
		})
	}
}

// TestTrySendIsBounded: while the target loop is held in a callback, a
// sender's lane into it accepts 1,024 messages and then TrySend returns
// core.ErrFull (Send would still accept); all accepted messages run once
// the target goes on.
func TestTrySendIsBounded(t *testing.T) {
	g, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	stop := startGroup(t, g)
	defer stop()
	release, entered := make(chan struct{}), make(chan struct{})
	if err := g.Loop(1).Post(func() { close(entered); <-release }); err != nil { // hold loop 1
		t.Fatal(err)
	}
	<-entered // held before the first message: none of them can be taken early
	ran := 0  // loop 1's
	var accepted int
	var full error
	on(t, g, 0, func() {
		s := g.From(0)
		for {
			if err := s.TrySend(1, func() { ran++ }); err != nil {
				full = err
				return
			}
			accepted++
		}
	})
	if full != core.ErrFull || accepted != 1024 {
		t.Errorf("TrySend accepted %d, then %v; want 1024, core.ErrFull", accepted, full)
	}
	close(release)
	done := make(chan struct{})
	on(t, g, 0, func() { _ = g.From(0).Send(1, func() { close(done) }) }) // after them, on the same lane
	<-done
	var n int
	on(t, g, 1, func() { n = ran })
	if n != accepted {
		t.Errorf("%d messages ran, want %d", n, accepted)
	}
}
