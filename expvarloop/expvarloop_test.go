package expvarloop_test

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hotloop/hotloop/core"
	"github.com/hotloop/hotloop/expvarloop"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// runs numbers TestPublish's runs: expvar names are process-wide and can
// never be unpublished, so each run (go test -count=N) needs its own.
var runs int

func TestPublish(t *testing.T) {
	runs++
	name := fmt.Sprintf("test-loop-%d", runs)
	clk := core.NewFakeClock()
	l := core.New(core.WithClock(clk))
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	defer func() {
		l.Close()
		<-errc
	}()
	if _, err := l.AfterFunc(time.Second, func() {}); err != nil {
		t.Fatal(err)
	}
	if err := l.Post(func() { clk.Advance(2 * time.Second) }); err != nil { // a 2 s callback: the timer fires 1 s late, behind it
		t.Fatal(err)
	}
	clk.Advance(0)

	if err := expvarloop.Publish(name, l); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := expvarloop.Publish(name, l); !errors.Is(err, expvarloop.ErrNameTaken) {
		t.Errorf("second Publish: %v, want ErrNameTaken", err)
	}
	if err := expvarloop.Publish("nil-loop", nil); !errors.Is(err, expvarloop.ErrNilLoop) {
		t.Errorf("Publish(nil): %v, want ErrNilLoop", err)
	}
	var v expvarloop.Vars
	if err := json.Unmarshal([]byte(expvar.Get(name).String()), &v); err != nil {
		t.Fatalf("published JSON: %v", err)
	}
	if v.TimersFired != 1 || v.TimerLagNs.Count != 1 || v.BusySeconds != 2 {
		t.Errorf("published %+v, want 1 timer fired, 1 lag sample, 2 s busy", v)
	}
	if v.TimerLagCallbacksNs != int64(time.Second) || v.TimerLagParkNs != 0 || v.TimerLagBacklogNs != 0 {
		t.Errorf("published lag split park %d, callbacks %d, backlog %d ns; want 0, 1e9, 0", v.TimerLagParkNs, v.TimerLagCallbacksNs, v.TimerLagBacklogNs)
	}
}

func ExamplePublish() {
	clk := core.NewFakeClock() // for a deterministic output; use core.New() in production
	l := core.New(core.WithClock(clk))
	go l.Run(context.Background())
	defer l.Close()

	if err := expvarloop.Publish("example-loop", l); err != nil {
		fmt.Println(err)
	}
	l.Post(func() {})
	clk.Advance(0) // the loop ran the callback and parked, publishing its counters
	// Served at /debug/vars by any HTTP server using http.DefaultServeMux.
	var v expvarloop.Vars
	json.Unmarshal([]byte(expvar.Get("example-loop").String()), &v)
	fmt.Println("callbacks run:", v.Callbacks)
	// Output:
	// callbacks run: 1
}
