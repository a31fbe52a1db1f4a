package wheel_test

import (
	"fmt"

	"github.com/hotloop/hotloop/wheel"
)

// A store used on its own, as a program's timer list: schedule with Update,
// reschedule with Update again, cancel with Remove, ask Next until when
// to sleep, and take what is due with PopDue until it returns nil. Deadlines
// here are plain numbers on the program's own clock; the sequence number
// orders equal deadlines, so each schedule takes the next one.
func Example() {
	var timers wheel.Heap[string] // or wheel.Wheel[string]: the same calls
	var seq uint64
	schedule := func(e *wheel.Entry[string], when int64) {
		seq++
		timers.Update(e, when, seq) // adds e if it is in no store, else moves it
	}

	// Entries stay at a fixed address while in the store.
	retry := &wheel.Entry[string]{Value: "retry"}
	flush := &wheel.Entry[string]{Value: "flush"}
	ping := &wheel.Entry[string]{Value: "ping"}
	idle := &wheel.Entry[string]{Value: "idle timeout"}
	schedule(retry, 20)
	schedule(flush, 30)
	schedule(ping, 10)
	schedule(idle, 50)

	schedule(retry, 40) // move retry later
	fmt.Println("cancel flush:", timers.Remove(flush))
	fmt.Println("flush in a store:", flush.InStore()) // free to schedule again
	fmt.Println("cancel flush again:", timers.Remove(flush))

	for timers.Len() > 0 {
		now, _ := timers.Next() // sleep until the earliest deadline, then
		for e := timers.PopDue(now); e != nil; e = timers.PopDue(now) {
			fmt.Printf("t=%d fire %s (due %d)\n", now, e.Value, e.When())
		}
	}
	// Output:
	// cancel flush: true
	// flush in a store: false
	// cancel flush again: false
	// t=10 fire ping (due 10)
	// t=40 fire retry (due 40)
	// t=50 fire idle timeout (due 50)
}

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
			fmt.Printf("t=%d fire %s (due %d)\n", now, e.Value, e.When())
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
	a := &wheel.Entry[string]{Value: "a"}
	b := &wheel.Entry[string]{Value: "b"}
	timers.Update(a, 100, 1)
	timers.Update(b, 200, 2)

	timers.Update(b, 50, 3) // b now fires first
	when, _ := timers.Next()
	fmt.Println("next:", when, "b:", b.When(), b.Seq())

	fmt.Println("cancel a:", timers.Remove(a), a.InStore())
	fmt.Println("cancel a again:", timers.Remove(a))
	fmt.Println("pending:", timers.Len())
	// Output:
	// next: 50 b: 50 3
	// cancel a: true false
	// cancel a again: false
	// pending: 1
}
