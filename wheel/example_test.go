package wheel_test

import (
	"fmt"

	"github.com/hotloop/hotloop/wheel"
)

// A loop keeps its timers in a Heap and, each time round, fires every timer
// whose deadline has passed.
func ExampleHeap() {
	var timers wheel.Heap[string]
	var seq uint64
	schedule := func(e *wheel.Entry[string], when int64) {
		seq++
		timers.Update(e, when, seq) // adds e, which is in no store yet
	}

	flush := &wheel.Entry[string]{Value: "flush"}
	ping := &wheel.Entry[string]{Value: "ping"}
	gc := &wheel.Entry[string]{Value: "gc"}
	schedule(flush, 30)
	schedule(ping, 10)
	schedule(gc, 10) // same deadline as ping, scheduled later

	if when, ok := timers.Next(); ok {
		fmt.Println("sleep until", when)
	}
	for now := int64(0); now <= 30; now += 10 {
		for e := timers.PopDue(now); e != nil; e = timers.PopDue(now) {
			fmt.Printf("t=%d fire %s (due %d)\n", now, e.Value, e.When)
		}
	}
	fmt.Println("pending:", timers.Len())
	// Output:
	// sleep until 10
	// t=10 fire ping (due 10)
	// t=10 fire gc (due 10)
	// t=30 fire flush (due 30)
	// pending: 0
}

// Rescheduling and cancelling a pending timer are in-place operations.
func ExampleHeap_Update() {
	var timers wheel.Heap[string]
	a := &wheel.Entry[string]{When: 100, Seq: 1, Value: "a"}
	b := &wheel.Entry[string]{When: 200, Seq: 2, Value: "b"}
	timers.Add(a)
	timers.Add(b)

	timers.Update(b, 50, 3) // b now fires first
	fmt.Println("first:", timers.Peek().Value)

	fmt.Println("cancel a:", timers.Remove(a), a.InStore())
	fmt.Println("cancel a again:", timers.Remove(a))
	fmt.Println("pending:", timers.Len())
	// Output:
	// first: b
	// cancel a: true false
	// cancel a again: false
	// pending: 1
}

// The Reference store gives the same results as Heap; tests use it as the
// model.
func ExampleReference() {
	r := wheel.NewReference[int]()
	for i, when := range []int64{30, 10, 20} {
		r.Add(&wheel.Entry[int]{When: when, Seq: uint64(i), Value: i})
	}
	for e := r.PopDue(25); e != nil; e = r.PopDue(25) {
		fmt.Println(e.Value, e.When)
	}
	// Output:
	// 1 10
	// 2 20
}
