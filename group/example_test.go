package group_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"sync"
	"time"

	"github.com/hotloop/hotloop/core"
	"github.com/hotloop/hotloop/group"
)

// Per-key state with no lock: each user's counter lives on the loop that
// owns the user, and only that loop's callbacks touch it. Four goroutines
// post for 100 users at once.
func ExampleGroup() {
	g, err := group.New(4)
	if err != nil {
		log.Fatal(err)
	}
	go g.Run(context.Background())

	// One map per loop, each touched only by its loop's callbacks.
	visits := make([]map[uint64]int, g.Len())
	for i := range visits {
		visits[i] = map[uint64]int{}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for user := range uint64(100) {
				if err := g.PostKey(user, func() { visits[g.Index(user)][user]++ }); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := g.Shutdown(context.Background()); err != nil { // every accepted post has run
		log.Fatal(err)
	}

	total, users := 0, 0
	for _, m := range visits {
		for _, n := range m {
			total += n
			users++
		}
	}
	fmt.Println(users, "users,", total, "visits, user 7 made", visits[g.Index(7)][7])
	// Output: 100 users, 400 visits, user 7 made 4
}

// A timer per key, on the key's loop: an idle timeout for each connection,
// pushed back by its activity. One fake clock drives every loop.
func ExampleGroup_For() {
	clk := core.NewFakeClock()
	g, err := group.New(2, core.WithClock(clk))
	if err != nil {
		log.Fatal(err)
	}
	go g.Run(context.Background())
	defer g.Close()

	var mu sync.Mutex // the timers fire on two loops
	var closed []string
	report := func(at string) {
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(closed) // the two loops close theirs in either order
		fmt.Println(at, "closed:", closed)
		closed = nil
	}
	idle := map[string]*core.Timer{}
	for _, c := range []string{"10.0.0.1:5000", "10.0.0.2:5000", "10.0.0.3:5000"} {
		t, err := g.ForString(c).AfterFunc(30*time.Second, func() {
			mu.Lock()
			defer mu.Unlock()
			closed = append(closed, c)
		})
		if err != nil {
			log.Fatal(err)
		}
		idle[c] = t
	}
	clk.Advance(20 * time.Second)
	idle["10.0.0.2:5000"].Reset(30 * time.Second) // activity at 20 s: now due at 50 s
	clk.Advance(10 * time.Second)
	report("30 s")
	clk.Advance(19 * time.Second)
	report("49 s")
	clk.Advance(time.Second)
	report("50 s")
	// Output:
	// 30 s closed: [10.0.0.1:5000 10.0.0.3:5000]
	// 49 s closed: []
	// 50 s closed: [10.0.0.2:5000]
}

// The group's health: totals over the loops, and each loop's own, to spot
// a hot key.
func ExampleGroup_Health() {
	g, err := group.New(3)
	if err != nil {
		log.Fatal(err)
	}
	go g.Run(context.Background())
	for k := range uint64(30) {
		if err := g.PostKey(k, func() {}); err != nil {
			log.Fatal(err)
		}
	}
	if err := g.Close(); err != nil { // runs the accepted posts, then publishes
		log.Fatal(err)
	}
	h := g.Health()
	var perLoop uint64
	for _, lh := range h.Loops {
		perLoop += lh.Callbacks
	}
	fmt.Println(len(h.Loops), "loops;", h.Callbacks, "callbacks in all, the sum of the loops':", perLoop == h.Callbacks)
	// Output: 3 loops; 30 callbacks in all, the sum of the loops': true
}

// Moving money between accounts that live on different loops: the debit
// runs on the payer's loop, which sends the credit to the payee's loop.
// No lock anywhere: each loop has its own map of balances, touched only by
// its callbacks.
func ExampleSender() {
	g, err := group.New(2)
	if err != nil {
		log.Fatal(err)
	}
	go g.Run(context.Background())
	defer g.Close()

	balances := make([]map[uint64]int, g.Len()) // balances[i]: loop i's accounts
	for i := range balances {
		balances[i] = map[uint64]int{}
	}
	account := func(key uint64) map[uint64]int { return balances[g.Index(key)] } // call it on key's loop only
	alice, bob := keyOf(g, 0), keyOf(g, 1)
	if err := errors.Join(
		g.PostKey(alice, func() { account(alice)[alice] = 100 }),
		g.PostKey(bob, func() { account(bob)[bob] = 20 }),
	); err != nil {
		log.Fatal(err)
	}

	credited := make(chan struct{})
	err = g.PostKey(alice, func() { // on alice's loop
		account(alice)[alice] -= 30
		err := g.From(g.Index(alice)).SendKey(bob, func() { // on bob's loop
			account(bob)[bob] += 30
			close(credited)
		})
		if err != nil {
			account(alice)[alice] += 30 // bob's loop is closed: refund
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	<-credited
	a, b := make(chan int, 1), make(chan int, 1)
	if err := errors.Join(
		g.PostKey(alice, func() { a <- account(alice)[alice] }),
		g.PostKey(bob, func() { b <- account(bob)[bob] }),
	); err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice", <-a, "bob", <-b)
	// Output: alice 70 bob 50
}

// keyOf returns a key that loop i of g owns (for the examples: a real
// service's keys are what they are).
func keyOf(g *group.Group, i int) uint64 {
	for k := uint64(0); ; k++ {
		if g.Index(k) == i {
			return k
		}
	}
}

// Asking another loop and getting the answer back as a callback: the caller
// never blocks. Here a request on loop 0 reads a session's user name that
// lives on loop 1.
func ExampleCall() {
	g, err := group.New(2)
	if err != nil {
		log.Fatal(err)
	}
	go g.Run(context.Background())
	defer g.Close()

	names := map[string]string{} // loop 1's
	g.Loop(1).Post(func() { names["s-42"] = "ada" })

	done := make(chan struct{})
	g.Loop(0).Post(func() {
		err := group.Call(g.From(0), 1,
			func() string { return names["s-42"] },                                  // on loop 1
			func(name string) { fmt.Println("session s-42 is", name); close(done) }) // back on loop 0
		if err != nil {
			log.Print(err)
		}
	})
	<-done
	// Output: session s-42 is ada
}

// A producer that must not outrun the loops: with inboxes of 16 posts,
// PostKeyWait waits for room instead of letting an inbox grow. Once
// Shutdown is called it refuses, and the producer stops.
func ExampleGroup_PostKeyWait() {
	g, err := group.New(2, core.WithInboxSize(16))
	if err != nil {
		log.Fatal(err)
	}
	go g.Run(context.Background())

	totals := make([]int, g.Len()) // totals[i]: loop i's callbacks only
	ctx := context.Background()
	for n := range 1000 {
		key := uint64(n % 10)
		if err := g.PostKeyWait(ctx, key, func() { totals[g.Index(key)] += n }); err != nil {
			log.Fatal(err)
		}
	}
	if err := g.Shutdown(ctx); err != nil { // every accepted post runs
		log.Fatal(err)
	}
	fmt.Println(totals[0]+totals[1], g.PostKeyWait(ctx, 1, func() {}))
	// Output: 499500 hotloop: loop is closed
}
