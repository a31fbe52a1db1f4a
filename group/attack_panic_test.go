package group

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hotloop/hotloop/core"
)

// Adversarial pass on #16 (Pause): a panic escaping loop 0's panic handler
// must stop the group's other loops, also those whose Run has not yet
// taken their loop (Pause does nothing to a loop no Run runs), so that Run
// raises the panic at once instead of when ctx ends — never, here.
func TestAttackGroupPanicBeforeOthersStartStopsThem(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // loop 0 panics before loops 1..3 start
	for iter := 0; iter < 20; iter++ {
		g := mustNew(t, 4, core.WithPanicHandler(func(v any) { panic(v) }))
		if err := g.Loop(0).Post(func() { panic("boom") }); err != nil {
			t.Fatal(err)
		}
		recovered := make(chan any, 1)
		go func() {
			defer func() { recovered <- recover() }()
			_ = g.Run(context.Background())
		}()
		select {
		case v := <-recovered:
			if v != "boom" {
				t.Fatalf("iter %d: recovered %v, want boom", iter, v)
			}
		case <-time.After(30 * time.Second): // a hang, not a timing
			t.Fatalf("iter %d: Run did not raise loop 0's panic: a loop that started after it was not stopped", iter)
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
