package queue_test

import (
	"fmt"
	"sync"

	"github.com/hotloop/hotloop/queue"
)

func ExampleInbox() {
	q := queue.NewInbox[string](4)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // any goroutine may Push
		defer wg.Done()
		for _, s := range []string{"a", "b", "c", "d", "e", "f"} {
			q.Push(s) // never blocks: "e" and "f" go to the overflow
		}
	}()
	wg.Wait()

	fmt.Println("cap:", q.Cap(), "len:", q.Len())
	for !q.Empty() { // only the consumer calls Pop and Empty
		if v, ok := q.Pop(); ok {
			fmt.Print(v, " ")
		}
	}
	fmt.Println()
	// Output:
	// cap: 4 len: 6
	// a b c d e f
}

func ExampleRing() {
	var r queue.Ring[int] // the zero value is ready to use
	for i := range 5 {
		r.PushBack(i)
	}
	r.PopFront()
	r.PushBack(5)
	fmt.Println("len:", r.Len())
	for {
		v, ok := r.PopFront()
		if !ok {
			break
		}
		fmt.Print(v, " ")
	}
	fmt.Println()
	// Output:
	// len: 5
	// 1 2 3 4 5
}
