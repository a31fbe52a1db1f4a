package core

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHealthSnapshotTear: one goroutine takes Health snapshots
// while the loop parks and resumes. Busy and Idle are totals of time spent:
// a later snapshot by the same goroutine must not show less of either, and
// Utilization between consecutive snapshots must lie in [0, 1].
func TestHealthSnapshotTear(t *testing.T) {
	l := New()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	stopPost := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // makes the loop park and resume all the time
		defer wg.Done()
		for {
			select {
			case <-stopPost:
				return
			default:
			}
			l.Post(func() {})
			time.Sleep(time.Microsecond)
		}
	}()
	var first atomic.Value
	var prev Health
	end := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(end) && first.Load() == nil {
		h := l.Health()
		if h.Busy < prev.Busy || h.Idle < prev.Idle {
			first.Store(fmt.Sprintf("went down: busy %v -> %v, idle %v -> %v", prev.Busy, h.Busy, prev.Idle, h.Idle))
		} else if u := h.Utilization(&prev); u < 0 || u > 1 {
			first.Store(fmt.Sprintf("utilization %v", u))
		}
		prev = *h
	}
	close(stopPost)
	wg.Wait()
	l.Close()
	<-errc
	if v := first.Load(); v != nil {
		t.Fatal(v)
	}
}
