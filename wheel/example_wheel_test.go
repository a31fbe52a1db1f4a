package wheel_test

import (
	"fmt"

	"github.com/hotloop/hotloop/wheel"
)

// A Wheel is used exactly like a Heap: Next names the exact earliest
// deadline (not a tick), and PopDue moves the wheel's clock and fires what
// is due in (When, Seq) order. Cancelling and rescheduling are O(1).
func ExampleWheel() {
	var timers wheel.Wheel[string]
	var seq uint64
	schedule := func(e *wheel.Entry[string], when int64) {
		seq++
		timers.Update(e, when, seq)
	}
	const ms = 1_000_000 // deadlines are nanoseconds
	conn := &wheel.Entry[string]{Value: "idle timeout"}
	retry := &wheel.Entry[string]{Value: "retry"}
	flush := &wheel.Entry[string]{Value: "flush"}
	schedule(conn, 30_000*ms)
	schedule(retry, 250*ms+1) // one nanosecond after flush
	schedule(flush, 250*ms)

	schedule(conn, 60_000*ms) // activity: reset the idle timeout
	when, _ := timers.Next()
	fmt.Println("sleep until", when)
	for e := timers.PopDue(when); e != nil; e = timers.PopDue(when) {
		fmt.Println("fire", e.Value)
	}
	when, _ = timers.Next()
	fmt.Println("sleep until", when)
	fmt.Println("cancel:", timers.Remove(conn), "pending:", timers.Len())
	// Output:
	// sleep until 250000000
	// fire flush
	// sleep until 250000001
	// cancel: true pending: 1
}
