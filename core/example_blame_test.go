package core_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/hotloop/hotloop/core"
)

var lateClock = core.NewFakeClock() // the example's virtual time

// handleRequest stands for a request handler that runs for 30 ms on the
// loop (on the fake clock, Advance from a callback is a callback that long).
func handleRequest() { lateClock.Advance(30 * time.Millisecond) }

// flushCache is a timer's callback that should run every 10 ms.
func flushCache() {}

// short drops the package path from a function name.
func short(name string) string { return name[strings.LastIndex(name, ".")+1:] }

// Which callback made a timer late: the flush due at 10 ms waits for a
// request handler that started at 0 and runs for 30 ms. The report names
// the handler and splits the 20 ms: the loop was neither parked (Park)
// nor behind other due timers (Backlog), but busy with a callback.
func ExampleWithLateTimer() {
	l := core.New(core.WithClock(lateClock), core.WithLateTimer(time.Millisecond, func(r core.LateTimer) {
		fmt.Printf("%s ran %v late (park %v, callbacks %v, backlog %v): %s was running at its deadline, for %v\n",
			short(r.Name), r.Late, r.Park, r.Callbacks, r.Backlog, short(r.Blocker), r.BlockerRan)
	}))
	go l.Run(context.Background())
	defer l.Close()

	if _, err := l.AfterFunc(10*time.Millisecond, flushCache); err != nil {
		log.Fatal(err)
	}
	if err := l.Post(handleRequest); err != nil {
		log.Fatal(err)
	}
	lateClock.Advance(0) // wait until the loop has run what is due

	h := l.Health()
	fmt.Println("late timers:", h.LateTimers)
	// Output:
	// flushCache ran 20ms late (park 0s, callbacks 20ms, backlog 0s): handleRequest was running at its deadline, for 30ms
	// late timers: 1
}
