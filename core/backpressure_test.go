package core

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
)

// TestTryPostBounded: TryPost accepts up to the inbox's capacity and then
// returns ErrFull, without growing it; what it accepted runs once the loop
// runs; nil and closed are reported.
func TestTryPostBounded(t *testing.T) {
	l := New(WithInboxSize(4))
	ran := 0
	for i := range 4 {
		if err := l.TryPost(func() { ran++ }); err != nil {
			t.Fatalf("TryPost %d: %v", i, err)
		}
	}
	if err := l.TryPost(func() { ran++ }); err != ErrFull {
		t.Fatalf("TryPost into a full inbox: %v, want ErrFull", err)
	}
	if err := l.TryPost(nil); !errors.Is(err, ErrNilFunc) {
		t.Errorf("TryPost(nil): %v", err)
	}
	stop := start(t, l)
	do(t, l, func() {
		if ran != 4 {
			t.Errorf("%d posts ran, want 4", ran)
		}
	})
	stop()
	if err := l.TryPost(func() {}); err != ErrClosed {
		t.Errorf("TryPost after Close: %v, want ErrClosed", err)
	}
}

// TestTryPostBehindOverflow: while Post's overflow holds posts, TryPost
// reports full rather than overtake them.
func TestTryPostBehindOverflow(t *testing.T) {
	l := New(WithInboxSize(2))
	var order []int
	for i := range 3 { // the third goes to the overflow
		if err := l.Post(func() { order = append(order, i) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.TryPost(func() { order = append(order, 99) }); err != ErrFull {
		t.Fatalf("TryPost behind the overflow: %v, want ErrFull", err)
	}
	stop := start(t, l)
	defer stop()
	do(t, l, func() {
		if len(order) != 3 || order[0] != 0 || order[2] != 2 {
			t.Errorf("ran %v, want [0 1 2]", order)
		}
	})
}

// TestPostWaitWaitsForRoom (synctest): a PostWait on a full inbox blocks
// until the loop drains, then its callback runs after the ones before it;
// one whose ctx ends returns ctx.Err() and its callback never runs; one
// waiting when the loop is closed returns ErrClosed.
func TestPostWaitWaitsForRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(WithInboxSize(2))
		var order []int
		for i := range 2 {
			if err := l.TryPost(func() { order = append(order, i) }); err != nil {
				t.Fatal(err)
			}
		}
		res := make(chan error, 1)
		go func() { res <- l.PostWait(context.Background(), func() { order = append(order, 2) }) }()
		ctx, cancel := context.WithCancel(context.Background())
		gaveUp := make(chan error, 1)
		go func() { gaveUp <- l.PostWait(ctx, func() { t.Error("a post whose ctx ended ran") }) }()
		synctest.Wait() // both wait: nothing runs the loop
		select {
		case err := <-res:
			t.Fatalf("PostWait returned %v on a full inbox no one drains", err)
		default:
		}
		cancel()
		if err := <-gaveUp; err != context.Canceled {
			t.Errorf("PostWait after its ctx ended: %v, want context.Canceled", err)
		}
		errc := make(chan error, 1)
		go func() { errc <- l.Run(context.Background()) }()
		if err := <-res; err != nil {
			t.Fatalf("PostWait once the loop runs: %v", err)
		}
		synctest.Wait()
		if err := l.Do(context.Background(), func() {
			if len(order) != 3 || order[2] != 2 {
				t.Errorf("ran %v, want [0 1 2]", order)
			}
		}); err != nil {
			t.Fatal(err)
		}
		// Full again, with the loop stopped: Close releases the waiter.
		l.Pause()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := l.TryPost(func() {}); err != nil {
				t.Fatal(err)
			}
		}
		go func() { res <- l.PostWait(context.Background(), func() {}) }()
		synctest.Wait()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-res; err != ErrClosed {
			t.Errorf("PostWait when the loop closed: %v, want ErrClosed", err)
		}
	})
}

// TestPostWaitOnTheLoopDoesNotWait: on the loop's own goroutine a full
// inbox gives ErrFull, not a wait for itself.
func TestPostWaitOnTheLoopDoesNotWait(t *testing.T) {
	l := New(WithInboxSize(2))
	stop := start(t, l)
	defer stop()
	do(t, l, func() {
		var err error
		for range 3 {
			if err = l.PostWait(context.Background(), func() {}); err != nil {
				break
			}
		}
		if err != ErrFull {
			t.Errorf("PostWait on the loop into a full inbox: %v, want ErrFull", err)
		}
	})
}

// TestPostWaitManyProducers: producers that PostWait into a small inbox
// while the loop runs: every post runs once, in order per producer, and
// the inbox never grows.
func TestPostWaitManyProducers(t *testing.T) {
	l := New(WithInboxSize(8))
	stop := start(t, l)
	defer stop()
	const producers, per = 4, 5000
	next := make([]int, producers) // the loop's
	var bad sync.Map
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if err := l.PostWait(context.Background(), func() {
					if next[p] != i {
						bad.Store(p, i)
					}
					next[p]++
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	do(t, l, func() {
		for p, n := range next {
			if n != per {
				t.Errorf("producer %d: %d posts ran, want %d", p, n, per)
			}
		}
	})
	bad.Range(func(k, v any) bool { t.Errorf("producer %v: out of order at %v", k, v); return true })
	if c := l.inbox.Cap(); c != 8 {
		t.Errorf("inbox capacity %d, want 8: PostWait must not grow it", c)
	}
}

// TestProducerTryPostBounded: a Producer's TryPost accepts up to its
// lane's room (1,024) and then returns ErrFull; after Close, ErrProducerClosed;
// after the loop's Close, ErrClosed.
func TestProducerTryPostBounded(t *testing.T) {
	l := New()
	p, err := l.NewProducer()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; n < 5000; n++ {
		if err := p.TryPost(func() {}); err != nil {
			if err != ErrFull {
				t.Fatalf("TryPost %d: %v, want ErrFull", n, err)
			}
			break
		}
	}
	if n != 1024 {
		t.Errorf("the lane took %d posts before ErrFull, want 1024", n)
	}
	if err := p.TryPost(nil); !errors.Is(err, ErrNilFunc) {
		t.Errorf("TryPost(nil): %v", err)
	}
	q, err := l.NewProducer()
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	if err := q.TryPost(func() {}); err != ErrProducerClosed {
		t.Errorf("TryPost on a closed Producer: %v, want ErrProducerClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.TryPost(func() {}); err != ErrClosed {
		t.Errorf("TryPost after the loop's Close: %v, want ErrClosed", err)
	}
}
