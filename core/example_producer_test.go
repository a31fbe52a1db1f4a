package core_test

import (
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/hotloop/hotloop/core"
)

// Each goroutine that feeds the loop many events gets a Producer of its
// own, keeps it while it runs and closes it when it is done. Events from
// one reader arrive in the order it posted them; the loop counts them
// without a lock, since only the loop goroutine touches counts.
func ExampleProducer() {
	l := core.New()
	go l.Run(context.Background())

	const readers, events = 4, 1000
	counts := make([]int, readers) // loop goroutine only
	var wg sync.WaitGroup
	for r := range readers {
		p, err := l.NewProducer()
		if err != nil {
			log.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.Close()
			for range events {
				if err := p.Post(func() { counts[r]++ }); err != nil {
					log.Print(err) // core.ErrClosed once the loop is closing
					return
				}
			}
		}()
	}
	wg.Wait()
	// Shutdown runs every accepted post, then ends the loop.
	if err := l.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(counts)
	// Output:
	// [1000 1000 1000 1000]
}
