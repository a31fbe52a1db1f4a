package core

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// start runs l on a new goroutine and returns a function that closes the
// loop and checks that Run returned ErrClosed.
func start(t *testing.T, l *Loop) (stop func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	do(t, l, func() {}) // Run owns the loop from here on
	return func() {
		t.Helper()
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-errc; err != ErrClosed {
			t.Errorf("Run returned %v, want ErrClosed", err)
		}
	}
}

// do runs fn on the loop and fails the test if it cannot.
func do(t *testing.T, l *Loop, fn func()) {
	t.Helper()
	if err := l.Do(context.Background(), fn); err != nil {
		t.Fatalf("Do: %v", err)
	}
}

// statsWhen returns l.Stats() once ok holds for it, or the last read after
// a million tries. The loop publishes its counters before it parks (and
// every 64 iterations while busy), so a test that reads them right after a
// Do may be a moment early: this waits for the publication, it times
// nothing. (Inside a synctest bubble, synctest.Wait does the same.)
func statsWhen(l *Loop, ok func(Stats) bool) Stats {
	var s Stats
	for range 1_000_000 {
		if s = l.Stats(); ok(s) {
			break
		}
		runtime.Gosched()
	}
	return s
}

// must returns tm, panicking (and so failing the test) on a scheduling error.
func must(tm *Timer, err error) *Timer {
	if err != nil {
		panic("scheduling: " + err.Error())
	}
	return tm
}

// mustPanicWith fails t unless f panics with a message that starts with
// prefix.
func mustPanicWith(t *testing.T, prefix string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if msg, ok := v.(string); !ok || !strings.HasPrefix(msg, prefix) {
			t.Fatalf("panic %v, want one starting %q", v, prefix)
		}
	}()
	f()
}
