package queue_test

import (
	"fmt"
	"runtime"
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
	q.Close() // from here on Push reports false
	fmt.Println("cap:", q.Cap(), "len:", q.Len(), "push after close:", q.Push("g"))

	// Only the consumer calls Drain and Empty. After Close, draining until
	// Empty takes every value whose Push succeeded; Drain returns 0 only
	// while a producer is between reserving a slot and writing it.
	for !q.Empty() {
		if q.Drain(16, func(s *string) { fmt.Print(*s, " ") }) == 0 {
			runtime.Gosched()
		}
	}
	fmt.Println()
	// Output:
	// cap: 4 len: 6 push after close: false
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
