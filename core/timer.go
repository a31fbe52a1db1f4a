package core

import (
	"time"

	"go.uber.org/atomic"

	"github.com/hotloop/hotloop/wheel"
)

// The state word of a timer node: generation << genShift | periodicBit | status.
//
// The generation is bumped each time the node is recycled, so that a stale
// Timer handle (holding an older generation) fails every compare-and-swap.
// The status says where the timer is in its life. Transitions, and who makes
// them (L = the loop goroutine, A = any goroutine through a Timer handle):
//
//	idle      -> pending    L or A, scheduling a node it holds exclusively
//	pending   -> running    L, about to call fn
//	running   -> pending    L, periodic timer rescheduled after fn
//	running   -> idle(g+1)  L, one-shot timer done: recycled
//	pending   -> stopped    A, Stop (true)
//	running   -> stopped    A, Stop of a periodic timer (true)
//	resetting -> stopped    A, Stop (true)
//	pending   -> resetting  A, Reset (true)
//	running   -> resetting  A, Reset of a periodic timer (true)
//	resetting -> pending    L, applying a Reset message
//	stopped   -> idle(g+1)  L, applying a Stop message: recycled
//	pending, resetting -> idle(g+1)  L, cancelled by Close (or, periodic, by Shutdown)
//	pending, resetting -> idle(g+1)  L, Local().Stop (true)
//	running   -> idle(g+1)  L, Local().Stop of a periodic timer (true)
//	resetting -> idle(g+1)  A, Reset that found the loop finished (see Reset)
//
// Local().Stop is Stop made by L itself: it goes straight to idle(g+1) and
// takes the node out of the store at once (see there for when it may);
// otherwise it is Timer.Stop's A transition to stopped.
//
// Every A transition is followed by a message to the loop (opStop or
// opReset): through the inbox, or, once Close or Shutdown has closed it,
// through the late box (late.go), which the loop reads until it finishes.
// A node is recycled only by L, only once (the transition to idle(g+1)), and
// it is reused only after it has left the timer store. (Local().Stop makes
// the transition just before it removes the node, with nothing in between
// that could look at the node.)
const (
	stIdle = iota
	stPending
	stRunning
	stStopped
	stResetting

	statusMask  = 7
	periodicBit = 8
	genShift    = 4
)

// timer is the loop's payload in a timer store entry.
type timer struct {
	// state is the generation and status (see above). Read and CASed by any
	// goroutine holding a handle; see the transition table.
	state atomic.Uint64

	// loop is the node's owner, set once when the node is made; immutable.
	loop *Loop

	// fn and period are written by whoever schedules the node while it is
	// idle and not yet visible to the loop (the inbox push, or the loop's own
	// insertion, publishes them) and read by the loop. period > 0 marks an
	// Every timer.
	fn     func()
	period int64
	missed MissedTick // Every's missed-tick policy (tick.go); written and read like fn

	// shared marks a node taken from the pool by a goroutine other than the
	// loop's; recycle returns it to the pool, so that those goroutines find
	// it again. Written and read like fn.
	shared bool
}

// timerNode is a timer in the loop's store.
type timerNode = wheel.Entry[timer]

// Timer is a handle to a timer scheduled on a Loop by AfterFunc, At or
// Every. It is a small value: copy it freely. The zero Timer is valid and
// refers to no timer. A handle stays safe to use after its timer has fired
// or been stopped, even once the loop has reused the timer's memory for
// another timer: its methods then report false and do nothing.
type Timer struct {
	n   *timerNode
	gen uint64
}

// Stop prevents the timer from firing. It reports true only if that call
// prevented a call of the callback: a one-shot timer that had not yet
// started to run, or a periodic timer (Every) that had not been stopped,
// whose future calls it cancels even from inside its own callback. It
// reports false if the timer already fired, was already stopped, or was
// cancelled by Close. Safe from any goroutine; O(1) here, and the loop
// removes the timer from its store at its next iteration. From inside a
// callback, Local().Stop is faster: it removes the timer at once.
func (t Timer) Stop() bool {
	if t.n == nil {
		return false
	}
	p := &t.n.Value
	for {
		s := p.state.Load()
		if !stoppable(s, t.gen) {
			return false
		}
		if p.state.CompareAndSwap(s, s&^statusMask|stStopped) {
			break
		}
	}
	if m := (message{op: opStop, n: t.n, gen: t.gen}); !p.loop.inbox.Push(m) {
		// Closed: the loop still removes the timer (Shutdown waits for
		// it no more). If the loop has finished, the timer was stopped
		// before Close could cancel it: nothing is left to do.
		p.loop.pushLate(m)
	}
	return true
}

// stoppable reports whether a Stop of generation gen may act on a timer
// whose state word is s: the handle is current, and the timer is pending,
// being reset, or periodic and running (its future calls can still be
// cancelled). The caller CASes s away to claim the stop.
func stoppable(s, gen uint64) bool {
	if s>>genShift != gen {
		return false
	}
	switch s & statusMask {
	case stPending, stResetting:
		return true
	case stRunning:
		return s&periodicBit != 0
	}
	return false
}

// Reset moves a pending timer so that it fires after d, measured from now,
// and reports true; for a periodic timer the next call comes after d and
// the period is unchanged. A delay d <= 0 makes it due at once (for a
// periodic timer, later calls then follow one period apart from now).
//
// Unlike time.Timer.Reset, Reset does not revive a timer that has fired
// (one-shot), was stopped, or was cancelled by Close: the handle's memory
// may already serve another timer. It reports false and does nothing; call
// AfterFunc again. When two goroutines Reset the same timer concurrently,
// both report true and one of the deadlines wins. Safe from any goroutine;
// O(1) here, and the loop moves the timer in its store in O(log n) at its
// next iteration.
func (t Timer) Reset(d time.Duration) bool {
	if t.n == nil {
		return false
	}
	p := &t.n.Value
	l := p.loop
	// A negative d means now: the deadline must not go below the loop's
	// origin, where now+d can overflow the next-tick arithmetic of a periodic
	// timer, and a periodic timer's phase then starts from this call.
	when := l.deadline(max(d, 0))
	for {
		s := p.state.Load()
		if s>>genShift != t.gen {
			return false
		}
		switch s & statusMask {
		case stResetting:
			// Another Reset is in flight; ours follows it.
		case stPending:
			if !p.state.CompareAndSwap(s, s&^statusMask|stResetting) {
				continue
			}
		case stRunning:
			if s&periodicBit == 0 {
				return false
			}
			if !p.state.CompareAndSwap(s, s&^statusMask|stResetting) {
				continue
			}
		default:
			return false
		}
		break
	}
	m := message{op: opReset, n: t.n, gen: t.gen, when: when}
	if !l.inbox.Push(m) {
		if l.pushLate(m) {
			return true // closed, but Shutdown still runs it; pushLate woke the loop
		}
		// The loop finished meanwhile. It cancelled every timer it held;
		// this one, which we took out of pending, it could not find:
		// cancel it here (only a racing Stop or Reset can beat us to it).
		for {
			s := p.state.Load()
			if s>>genShift != t.gen || s&statusMask != stResetting {
				return false
			}
			if p.state.CompareAndSwap(s, (t.gen+1)<<genShift) {
				l.late.cancelled.Add(1)
				return false
			}
		}
	}
	if l.expiry.Before(when) {
		l.wakeIfParked()
	}
	return true
}

// newNode makes a node owned by l, idle, generation 0.
func (l *Loop) newNode() *timerNode {
	n := new(timerNode)
	n.Value.loop = l
	return n
}

// recycle returns a node whose timer is done to the free list or the pool,
// bumping its generation so that stale handles fail. Loop goroutine only;
// n must not be in the store.
func (l *Loop) recycle(n *timerNode) {
	p := &n.Value
	p.state.Store((p.state.Load()>>genShift + 1) << genShift) // stIdle
	l.reuse(n)
}

// reuse clears a node that is idle in a new generation and in no store, and
// puts it on the free list or in the pool. No one else reads its fields: a
// stale handle touches only the state word, and a new timer takes the node
// from the free list or the pool only after this. Loop goroutine only.
func (l *Loop) reuse(n *timerNode) {
	p := &n.Value
	p.fn = nil
	p.period = 0
	p.missed = TickSkip
	n.Seq = 0
	if p.shared {
		l.pool.Put(n)
		return
	}
	l.free = append(l.free, n)
	if len(l.free) > maxFree {
		l.trimFree()
	}
}

// trimFree bounds the free list, called by reuse while it holds more than
// maxFree nodes. Local timers take a new node only when the free list is
// empty, so the list never holds more nodes than the most Local timers the
// loop has had at once; keeping them all lets a loop that schedules and
// cancels 10^5 timers at a time reuse every node, with no allocation and
// no sync.Pool round trip. But the nodes a burst left behind should not be
// kept forever: once a whole epoch (at least as many recycles as the list
// holds) has passed without Local timers needing some of them (the list's
// low-water mark, freeLow, stayed above maxFree), those are handed to the
// pool, oldest first, where the garbage collector can reclaim them. O(1)
// amortised: a trim copies at most the list, once per epoch. Loop goroutine
// only.
func (l *Loop) trimFree() {
	l.freeOps++
	if l.freeOps < len(l.free) {
		return
	}
	if k := l.freeLow - maxFree; k > 0 {
		for _, n := range l.free[:k] {
			l.pool.Put(n)
		}
		m := copy(l.free, l.free[k:])
		clear(l.free[m:])
		l.free = l.free[:m]
	}
	l.freeOps = 0
	l.freeLow = len(l.free)
}

// schedule is AfterFunc, At and Every from any goroutine: it sends the new
// timer to the loop through the inbox.
func (l *Loop) schedule(method string, when, period int64, missed MissedTick, immediate bool, fn func()) (Timer, error) {
	if fn == nil {
		return Timer{}, badArg(method, ErrNilFunc)
	}
	if l.closing() {
		return Timer{}, ErrClosed
	}
	n := l.pool.Get().(*timerNode)
	p := &n.Value
	gen := p.state.Load() >> genShift
	p.fn = fn
	p.period = period
	p.missed = missed
	p.shared = true
	n.When = when
	st := gen<<genShift | stPending
	if period > 0 {
		st |= periodicBit
	}
	p.state.Store(st)
	o := opAdd
	if immediate {
		o = opAddReady
	}
	if !l.inbox.Push(message{op: o, n: n, gen: gen, when: when}) {
		p.fn = nil
		p.state.Store(gen << genShift)
		l.pool.Put(n)
		return Timer{}, ErrClosed
	}
	if immediate || l.expiry.Before(when) {
		l.wakeIfParked()
	}
	return Timer{n: n, gen: gen}, nil
}

// AfterFunc schedules fn to run on the loop once, after at least d has
// passed, and returns its handle. A delay d <= 0 runs fn after the callbacks
// already queued. Equal deadlines fire in the order they were scheduled; a
// timer never fires before its deadline. Safe from any goroutine; from inside
// a callback, Local().AfterFunc is faster. It fails with ErrClosed once the
// loop is closing, and with an error wrapping ErrNilFunc for a nil fn.
func (l *Loop) AfterFunc(d time.Duration, fn func()) (Timer, error) {
	return l.schedule("AfterFunc", l.deadline(d), 0, TickSkip, d <= 0, fn)
}

// At schedules fn to run on the loop once, at or after t. A t in the past
// makes the timer due at once. The zero time.Time is rejected: it is almost
// always a forgotten field. Safe from any goroutine.
func (l *Loop) At(t time.Time, fn func()) (Timer, error) {
	if t.IsZero() {
		return Timer{}, badArg("At", errZeroTime)
	}
	return l.schedule("At", l.atDeadline(t), 0, TickSkip, false, fn)
}

// Every schedules fn to run on the loop every period, the first time one
// period from now, until the timer is stopped. A period <= 0 is rejected
// with an error wrapping ErrBadPeriod. Safe from any goroutine.
//
// The optional policy says what happens to ticks missed when the loop or fn
// falls behind by more than a period (see [MissedTick]): by default,
// [TickSkip], the missed ticks are dropped and the schedule keeps its phase;
// [TickBurst] runs them back to back; [TickDelay] restarts the schedule one
// period after the late tick. For example:
//
//	l.Every(time.Second, flush, core.TickBurst)
//
// Passing more than one policy, or an unknown one, is rejected with an
// error wrapping ErrBadPolicy.
func (l *Loop) Every(period time.Duration, fn func(), policy ...MissedTick) (Timer, error) {
	if period <= 0 {
		return Timer{}, badArg("Every", ErrBadPeriod)
	}
	missed, err := missedTick("Every", policy)
	if err != nil {
		return Timer{}, err
	}
	return l.schedule("Every", l.deadline(period), int64(period), missed, false, fn)
}

// atDeadline converts t to the loop's clock, clamped to [0, None).
func (l *Loop) atDeadline(t time.Time) int64 {
	d := t.Sub(l.base) // monotonic when t has a monotonic reading
	if d < 0 {
		return 0
	}
	return addClamped(0, int64(d))
}
