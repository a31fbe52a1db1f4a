package core_test

import (
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/hotloop/hotloop/core"
)

// A producer that must not outrun the loop: with an inbox of 64 posts,
// PostWait makes the reader wait whenever 64 are queued, instead of letting
// the inbox grow; TryPost is the form for callers that would rather drop.
func ExampleLoop_PostWait() {
	l := core.New(core.WithInboxSize(64))
	go l.Run(context.Background())
	defer l.Close()

	var wg sync.WaitGroup
	total := 0 // the loop's
	wg.Add(1)
	go func() { // a reader feeding the loop as fast as it can
		defer wg.Done()
		for i := range 10_000 {
			if err := l.PostWait(context.Background(), func() { total += i }); err != nil {
				log.Print(err)
				return
			}
		}
	}()
	wg.Wait()
	if err := l.Do(context.Background(), func() { fmt.Println("sum", total) }); err != nil {
		log.Fatal(err)
	}
	// Output: sum 49995000
}
