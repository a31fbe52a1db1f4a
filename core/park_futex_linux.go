//go:build linux

package core

import (
	"context"
	"runtime"
	"time"
	"unsafe"

	"go.uber.org/atomic"
	"golang.org/x/sys/unix"
)

// futex(2) operations (linux/futex.h; x/sys/unix does not export them).
const (
	futexWaitPrivate = 0 | 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 1 | 128 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
)

// Values of futexParker.word.
const (
	futexIdle    = 0 // no token; the loop is not waiting
	futexWaiting = 1 // the loop is in, or about to enter, futex_wait on the word
	futexToken   = 2 // a waker's kick arrived and the loop has not consumed it
	futexChan    = 3 // the loop is in, or about to enter, a runtime park on wake
)

// longWait is how far ahead of a deadline the precise parker switches from
// the Go runtime's park to the futex. The runtime's timers wake up to about
// 1.2 ms late on Linux (netpoll waits in whole milliseconds), so a runtime
// park that ends longWait before the deadline still leaves the futex to
// finish the wait exactly.
const longWait = 2_000_000 // ns

// futexParker is the precise parker of WithPrecise on Linux: the loop
// sleeps in futex_wait(2) with a nanosecond timeout, on a thread whose timer
// slack Run has set to 1 ns, and a waker wakes it with futex_wake(2) on the
// same word.
//
// The part of a timed wait longer than longWait before its deadline parks
// in the Go runtime instead (a channel and a runtime timer, like
// chanParker). A goroutine blocked in a system call keeps its P in the
// syscall state, which keeps the runtime's sysmon thread polling every
// 20 µs until it retakes the P after 10 ms; parked in the runtime, a loop
// waiting for a far timer lets sysmon sleep. The futex covers the last
// longWait of a timed wait, where precision is made, and waits with no
// deadline, where the wake-up latency of a post is made (a locked
// goroutine parked in the runtime needs its thread handed back to it on
// wake, which measured slower than futex_wake: docs/PRECISION.md).
//
// # Futex protocol
//
// word says where the loop waits and whether a token is owed. It is
// accessed only through its atomic methods (sequentially consistent) and
// by the kernel's compare in futex_wait, which reads it at wordAddr.
//
//   - The loop (block and take; loop goroutine only) moves it idle -> waiting with a
//     CAS just before futex_wait(word, waiting), and idle -> chan with a CAS
//     just before a runtime park on wake. When that wait ends it moves the
//     word back to idle with a CAS from the same value; if the CAS fails the
//     word is token, and the loop consumes it by storing idle (only the
//     loop changes a token, so the store overwrites no one's write).
//   - The waker (kick: only the one that won the park protocol's swap of
//     parked, so at most one token is ever outstanding) swaps the word to
//     token. If the old value was waiting it calls futex_wake; if it was
//     chan it sends one value on wake (capacity 1, so it never blocks).
//
// No wake-up is lost: kick's swap and the loop's CAS to waiting (or chan)
// are ordered. If the swap comes first, the CAS fails and the loop
// consumes the token without sleeping. If the CAS comes first, then for a
// futex wait the kernel either sees the word no longer equal to waiting
// (EAGAIN: returns at once) or is already asleep when futex_wake arrives
// (the kernel orders the two on the futex's hash-bucket lock); for a
// runtime park the send on wake ends it. Either way the loop's CAS back to
// idle fails and it consumes the token. No value is left on wake: a value
// is sent only by a waker that swapped chan away, and then the loop's CAS
// from chan fails, so it receives that value (waiting for it if the waker
// has not sent yet) before it returns. A futex_wake that arrives after the
// loop stopped waiting wakes no one, which is harmless.
//
// Timeouts are relative and measured by the kernel on CLOCK_MONOTONIC, the
// clock behind the loop's time.Since(base). The kernel may return before
// the deadline (a signal: EINTR; a stale wake) or after it; block re-reads
// the loop clock after every return and waits again while it is short of
// the deadline, so the loop never resumes early on a timeout.
type futexParker struct {
	word atomic.Uint32 // the futex word; see the protocol above

	// now is the loop's clock; wait and wake are the futex system calls
	// (replaced by fakes in tests); long is longWait (tests set 0: the
	// futex for every wait, deadline or not).
	// Set at construction; immutable.
	now  func() int64
	wait func(addr *uint32, val uint32, timeout int64, ts *unix.Timespec)
	wake func(addr *uint32)
	long int64

	wakeC chan struct{} // capacity 1: the token of a kick while word == chan

	// Loop goroutine only.
	timer *time.Timer   // the runtime timer of long waits; made on first use
	ts    unix.Timespec // timeout buffer for wait, so that waiting allocates nothing
}

func newPreciseParker(l *Loop) parker {
	return &futexParker{now: l.now, wait: futexWait, wake: futexWake, long: longWait,
		wakeC: make(chan struct{}, 1)}
}

// kick sends the token: see the futex protocol. Waker only.
func (p *futexParker) kick() {
	switch p.word.Swap(futexToken) {
	case futexWaiting:
		p.wake(p.wordAddr())
	case futexChan:
		p.wakeC <- struct{}{}
	}
}

// take waits for the token a waker owes. Loop goroutine only.
func (p *futexParker) take() { p.block(0, false, nil) }

// block waits for the token, the loop clock reaching deadline (if timed), or
// done being closed. Loop goroutine only, called with parked=true (see
// park).
func (p *futexParker) block(deadline int64, timed bool, done <-chan struct{}) bool {
	for {
		if p.word.Load() == futexToken {
			p.word.Store(futexIdle)
			return true
		}
		// done is checked after parked=true was stored; a ctx-driven done
		// also kicks (the park protocol, park.go), so a close after this
		// check ends the futex wait through the token.
		select {
		case <-done:
			return false
		default:
		}
		timeout := int64(-1)
		if timed {
			if timeout = deadline - p.now(); timeout <= 0 {
				return false
			}
		}
		if p.long > 0 && timed && timeout > p.long {
			if p.parkRuntime(timeout-p.long, timed, done) {
				return true
			}
			continue // the clock or done decides, at the top
		}
		if !p.word.CompareAndSwap(futexIdle, futexWaiting) {
			continue // a token arrived
		}
		p.wait(p.wordAddr(), futexWaiting, timeout, &p.ts)
		if !p.word.CompareAndSwap(futexWaiting, futexIdle) {
			p.word.Store(futexIdle) // it was a token: consume it
			return true
		}
		// Timeout, signal or stale wake-up: go round; the clock decides.
	}
}

// parkRuntime parks in the Go runtime for d nanoseconds (forever if not
// timed), until a kick or done. It reports whether it consumed a token.
// Loop goroutine only.
func (p *futexParker) parkRuntime(d int64, timed bool, done <-chan struct{}) bool {
	if !p.word.CompareAndSwap(futexIdle, futexChan) {
		return false // a token arrived: block consumes it at the top
	}
	var tc <-chan time.Time
	if timed {
		if p.timer == nil {
			p.timer = time.NewTimer(time.Duration(d))
		} else {
			p.timer.Reset(time.Duration(d))
		}
		tc = p.timer.C
	}
	kicked := false
	select {
	case <-p.wakeC:
		kicked = true // the waker swapped to token before sending
	case <-tc:
	case <-done:
	}
	if timed {
		p.timer.Stop() // Go >= 1.23: no stale value is left in C
	}
	if !kicked && p.word.CompareAndSwap(futexChan, futexIdle) {
		return false // no kick: the timer or done ended the park
	}
	if !kicked {
		<-p.wakeC // a waker swapped chan for token: its value is on its way
	}
	p.word.Store(futexIdle)
	return true
}

// wordAddr is the address of word's uint32, for the futex system calls.
// go.uber.org/atomic's Uint32 is a zero-size no-compare marker followed by
// its uint32, so the value sits at the struct's address;
// TestFutexWordAddr fails if a new version of the package changes that.
func (p *futexParker) wordAddr() *uint32 { return (*uint32)(unsafe.Pointer(&p.word)) }

// futexWait sleeps while *addr == val, for at most timeout nanoseconds
// (forever if timeout < 0). It may return early for any reason.
func futexWait(addr *uint32, val uint32, timeout int64, ts *unix.Timespec) {
	var tsp unsafe.Pointer
	if timeout >= 0 {
		*ts = unix.NsecToTimespec(timeout)
		tsp = unsafe.Pointer(ts)
	}
	// Syscall6, not RawSyscall6: the goroutine enters the scheduler's
	// syscall state, so its P is handed off if the wait is long and GC
	// does not wait for it.
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexWaitPrivate, uintptr(val), uintptr(tsp), 0, 0)
}

// futexWake wakes the one goroutine (the loop) sleeping on addr.
func futexWake(addr *uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexWakePrivate, 1, 0, 0, 0)
}

// bindThread prepares the goroutine that is about to run the loop, for
// WithPrecise: it locks it to its OS thread, sets that thread's timer slack
// to 1 ns, and arranges for ctx's cancellation to kick a parked loop (a
// futex wait cannot also wait on ctx.Done()). The returned function undoes
// all three, waiting for a cancellation callback already started, so that
// no goroutine outlives Run. Without WithPrecise it does nothing.
func (l *Loop) bindThread(ctx context.Context) (unbind func()) {
	if !l.cfg.precise {
		return func() {}
	}
	runtime.LockOSThread()
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	slackSet := err == nil && unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0) == nil
	kicked := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(kicked)
		l.wakeIfParked() // a ctx cancellation is a waker: the park protocol, park.go

	})
	return func() {
		if !stop() {
			<-kicked // started (or ran): wait for it
		}
		if slackSet {
			unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
		}
		runtime.UnlockOSThread()
	}
}
