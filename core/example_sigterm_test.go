//go:build unix

package core_test

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/hotloop/hotloop/core"
)

// Example_shutdownOnSIGTERM is the shutdown sequence of a service on
// SIGTERM: stop taking new work, stop the timers that would only keep
// Shutdown waiting (idle timeouts, tickers go by themselves), let Shutdown
// run everything accepted and the pending one-shot timers within a
// deadline, and Close if the deadline passes. The example sends itself the
// signal.
func Example_shutdownOnSIGTERM() {
	sigterm, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()

	l := core.New()
	ran := make(chan error, 1)
	// Run's ctx is not the signal's: a done ctx would pause the loop
	// (Run returns, work is kept), and Shutdown below ends it instead.
	go func() { ran <- l.Run(context.Background()) }()
	// (The example signals itself at once: it waits for the loop to run
	// first, or Shutdown could find no Run and run the loop itself, and
	// this Run would then return ErrRunning.)
	if err := l.Do(context.Background(), func() {}); err != nil {
		fmt.Println(err)
		return
	}

	// The service's work: a job due in 20 ms, a ticker, an idle timeout.
	if _, err := l.AfterFunc(20*time.Millisecond, func() { fmt.Println("job done") }); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := l.Every(time.Second, func() {}); err != nil {
		fmt.Println(err)
		return
	}
	idle, err := l.AfterFunc(time.Hour, func() { fmt.Println("idle timeout") })
	if err != nil {
		fmt.Println(err)
		return
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil { // as the orchestrator would
		fmt.Println(err)
		return
	}
	<-sigterm.Done()
	fmt.Println("SIGTERM")

	// 1. Stop taking new work: close the listeners, then the connections
	//    and wait for their readers, so that no reader re-arms a timer
	//    (Shutdown waits for every armed one-shot timer, and a Reset
	//    still moves an armed timer while it waits).
	// 2. Stop the timers nobody needs to run: an idle timeout would keep
	//    Shutdown waiting an hour.
	idle.Stop()
	// 3. Shutdown: posts are refused from now on; it runs what was
	//    accepted and the pending one-shot timers (the job), stops the
	//    tickers, and returns nil once nothing is left.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		// 4. The deadline passed: Close runs what was accepted and
		//    cancels the timers still pending.
		fmt.Println("Shutdown:", err)
		l.Close()
	}
	fmt.Println("Run returned:", <-ran) // ErrClosed: the loop has finished, a clean exit
	// Output:
	// SIGTERM
	// job done
	// Run returned: hotloop: loop is closed
}
