package core

import (
	"math"
	"time"
)

// This file is parking's one home: the park protocol, the parked flag's
// two sides (park and unpark for the loop, wakeIfParked for wakers), the
// parker interface and the default parker, WithBusyPoll's poll, WithSpin's
// busy tail and WithSlack's coalescing. The other parkers implement the
// interface below: the futex parker of WithPrecise in park_futex_linux.go
// (with its own token protocol) and the FakeClock's parker in
// park_fake.go.
//
// # The park protocol
//
// The shared state: Loop.parked (an atomic flag), the inbox's tail (an
// atomic word, advanced by producers with a compare-and-swap; queue.Inbox)
// and each Producer's lane's tail (the same, one inbox per lane; producer.go),
// the late box's count (late.go), the control word (Pause, Shutdown, Close),
// and the expiry cache (the earliest deadline, written by the loop;
// package cache). Every access below is a sequentially consistent atomic.
//
// The loop parks (park, below), having published the earliest deadline in
// iterate (publish): it stores parked=true, then looks at the inbox, the
// queue of lane signals and its list of busy lanes, the late box and the
// control word,
// and computes its deadline. If there is anything to do — or the deadline
// has passed — it unparks and goes round again. Otherwise it blocks in the
// parker until a token, the deadline or done. (Before the store it takes an
// early look at the inbox and goes round at once if something is there;
// and it reads the clock only when a timer is pending. Both only save
// work: the look after the store is the one the protocol relies on.)
//
// A waker — a producer after its push (Post, Producer.Post, a timer that
// wakeFor says is due first), Loop.Pause, Close, Shutdown, a late Timer Stop or Reset, a ctx
// cancelled under WithPrecise — loads parked, and if it is true, swaps it
// from true to false; the one waker that wins that swap sends the parker
// exactly one token (parker.kick). Timer.Stop's message is deliberately not
// a waker: a stopped timer needs nothing before its old deadline, when the
// loop, waking for it, finds it stopped and drops it.
//
// The default and fake parkers also wait on done (ctx.Done()) themselves.
// The futex parker cannot wait on a channel in a futex wait, so under
// WithPrecise a ctx cancellation is a waker (bindThread registers it with
// context.AfterFunc): ctx.Done() is closed before the waker runs, and the
// parker looks at done after parked=true was stored, so either the parker
// sees done closed, or the waker sees parked=true and kicks.
//
// No wake-up is lost. In the single total order of the sequentially
// consistent atomics, either the loop's look at the inbox comes after the
// producer's push (the loop sees the message and does not block), or the
// producer's load of parked comes after the loop's store (it sees
// parked=true and wakes the loop). A post into a Producer's lane either
// finds the lane busy — on the loop's list, which the loop looks at, or
// signalled, which is a push — or signals it itself before it loads
// parked (lane.signal and releaseIdle in producer.go). The same holds for
// the late box's count and for the control word, each written before its
// writer's wakeIfParked.
//
// No token is left over. Exactly one party swaps parked back to false. If a
// waker wins, the token is owed: a loop woken by it returns from block with
// parked already false; a loop that resumed for another reason (its
// deadline, done, a spin that saw parked cleared) loses the swap in unpark
// and takes the token (parker.take), so that no stale token ends a later
// park early. If the loop wins, no token is sent.
//
// A producer that schedules a timer wakes the loop only if the timer's
// deadline is earlier than the published one (wakeFor in timer.go, using
// cache.Expiry.Before): the loop is parked no later than the published
// deadline (with WithSlack, no later than that deadline rounded up to the
// slack, which is the lateness WithSlack allows), and when it wakes it
// drains the inbox and so finds the new timer. A stale published deadline errs early (an extra wake-up) or is
// re-published before the loop looks at the inbox again (no wake-up
// needed).
//
// No parker or option can make a timer fire early: the loop fires a timer
// only once its own clock has reached the timer's deadline (fireDue);
// WithSpin and WithSlack only decide when the loop looks, and only ever
// later than the deadline it computed.

// A parker blocks the loop goroutine and wakes it. The loop runs the park
// protocol above and uses the parker only for the blocking itself:
//
//   - block is called by the loop goroutine only, after it has stored
//     parked=true and found nothing to do. It returns when a token sent by
//     kick arrives (woken true), when the loop clock reaches deadline if
//     timed, or when done is closed. It must not lose a token sent before
//     it was called.
//   - kick is called by the one waker that won the swap of parked from true
//     to false; it sends the token. There is at most one token outstanding.
//   - take is called by the loop goroutine when it resumed for another
//     reason but lost the swap: a token is owed and take waits for it, so
//     that none is left over to end a later block early.
type parker interface {
	block(deadline int64, timed bool, done <-chan struct{}) (woken bool)
	kick()
	take()
}

// park blocks until a waker kicks, the published deadline passes, or done
// is closed, following the park protocol above. Loop goroutine only.
func (l *Loop) park(done <-chan struct{}) {
	l.assertLoop("park")
	if !l.inbox.Empty() || l.lanes.signalled() || len(l.busy) != 0 {
		return // the early look: posted since the drain, go round again
	}
	l.parked.Store(true)
	// After the store: anything pushed from now on sees parked=true and
	// wakes us; anything pushed before is visible to Empty.
	var now, d int64
	timed := l.expiry.HasTimers()
	if timed {
		now = l.now()                     // the clock only when a deadline needs it
		d, timed = l.expiry.SleepFor(now) // lock-free: the published deadline, not the store
	}
	c := l.control.Load()
	if !l.inbox.Empty() || l.lanes.signalled() || len(l.busy) != 0 || l.late.n.Load() != 0 || c&(ctlPause|ctlClose) != 0 || (timed && d == 0) ||
		(c&ctlShutdown != 0 && l.timers.Len() == 0) { // Shutdown is complete: finish at the top of the loop
		l.unpark()
		return
	}
	deadline := now + d
	if timed {
		deadline = coalesce(deadline, l.cfg.slack) // WithSlack: later, never earlier
	}
	l.counts.parks++
	l.publishStats()
	l.markIdle()
	woken := l.wait(deadline, timed, done)
	l.markBusy()
	l.counts.wakeups++
	if !woken {
		l.unpark()
	}
	// If woken, the waker already cleared parked.
}

// unpark clears parked. If a waker won the swap first, it owes us a token:
// take it. Loop goroutine only.
func (l *Loop) unpark() {
	if !l.parked.CompareAndSwap(true, false) {
		l.parker.take()
	}
}

// wakeIfParked wakes the loop if it is parked: the waker's side of the park
// protocol, called after the waker's own write (a push, a control bit, a
// late message). The first load keeps the common case, a busy loop, to one
// read of a shared line. Any goroutine.
func (l *Loop) wakeIfParked() {
	if l.parked.Load() && l.parked.CompareAndSwap(true, false) {
		l.stats.kicks.Add(1)
		l.parker.kick() // only the swap's winner sends, and the loop takes the token before parking again
	}
}

// wait blocks the parked loop until deadline (if timed), a kick, or done,
// like parker.block, but with WithBusyPoll it first busy-waits up to the
// poll for a kick (or the deadline); with WithSpin it parks only until spin
// before the deadline and busy-waits on the loop clock for the rest; with
// WithAdaptiveSpin the margin is learned (spin.go). Loop goroutine
// only, called by park with parked=true.
func (l *Loop) wait(deadline int64, timed bool, done <-chan struct{}) (woken bool) {
	if l.cfg.poll > 0 {
		// WithBusyPoll: look for work until the poll ends, as spinUntil
		// looks (a waker clears parked; its token is then owed, and park
		// collects it through unpark). A wait that ends within the poll is
		// spun whole.
		end := addClamped(l.now(), l.cfg.poll)
		if timed && deadline <= end {
			return l.spinUntil(deadline, done)
		}
		if l.spinUntil(end, done) {
			return true // a frozen clock: the parker was kicked
		}
		if !l.parked.Load() {
			return false
		}
		select {
		case <-done:
			return false
		default:
		}
		// The poll found nothing: park for the rest, as below.
	}
	spin := l.cfg.spin
	if l.overshoot != nil && timed {
		spin = l.overshoot.margin() // WithAdaptiveSpin (spin.go)
	}
	if !timed || spin <= 0 {
		return l.parker.block(deadline, timed, done)
	}
	early, now := spinStart(deadline, spin), l.now()
	if early <= now && l.overshoot != nil && l.overshoot.probe() {
		early = now + (deadline-now)/2 // WithAdaptiveSpin's probe (spin.go)
	}
	if early > now {
		if l.parker.block(early, true, done) {
			return true
		}
		if l.overshoot != nil {
			// The park ran to its end (or done ended it): how late it
			// woke teaches the next margin. One before early is done's.
			if late := l.now() - early; late >= 0 {
				l.overshoot.add(late)
			}
		}
	}
	return l.spinUntil(deadline, done)
}

// spinStart is when a spinning loop stops parking: spin before deadline,
// and never before 0. O(1).
func spinStart(deadline, spin int64) int64 {
	if deadline < spin {
		return 0
	}
	return deadline - spin
}

// spinUntil busy-waits until the loop clock reaches deadline, done is
// closed, or a waker wins the swap of parked (it then owes a token, which
// park collects through unpark); it then returns false, and the caller
// unparks, taking the token if one is owed. A clock that does not move
// over frozenReads readings is not a real one (a testing/synctest bubble,
// whose time moves only while every goroutine in it is blocked, so a spin
// would never end): spinUntil then parks until deadline instead, and
// returns what the parker reports. Loop goroutine only.
func (l *Loop) spinUntil(deadline int64, done <-chan struct{}) bool {
	last, same := int64(-1), 0
	for now := l.now(); now < deadline; now = l.now() {
		if !l.parked.Load() {
			return false // a waker cleared parked: unpark takes its token
		}
		select {
		case <-done:
			return false
		default:
		}
		if now != last {
			last, same = now, 0
		} else if same++; same == frozenReads {
			return l.parker.block(deadline, true, done)
		}
	}
	return false
}

// frozenReads is how many equal readings in a row make spinUntil take the
// clock for a frozen one. A real monotonic clock moves between two
// readings taken some tens of nanoseconds apart.
const frozenReads = 10_000

// coalesce rounds deadline up to the next multiple of slack (WithSlack), so
// that every deadline in the same slack-long window maps to one wake-up at
// its end. It never returns less than deadline, nor more than
// maxWhen. slack <= 0 returns deadline unchanged. O(1).
func coalesce(deadline, slack int64) int64 {
	if slack <= 0 || deadline <= 0 {
		return deadline
	}
	r := deadline % slack
	if r == 0 {
		return deadline
	}
	return addClamped(deadline, slack-r)
}

// chanParker is the default parker: a channel for tokens and a runtime
// timer for deadlines. It costs no wake-ups while idle, and it works inside
// a testing/synctest bubble when the Loop is created there.
type chanParker struct {
	l     *Loop
	wake  chan struct{} // capacity 1: the token
	timer *time.Timer   // made on first timed block; loop goroutine only
}

func newChanParker(l *Loop) *chanParker {
	return &chanParker{l: l, wake: make(chan struct{}, 1)}
}

func (p *chanParker) kick() { p.wake <- struct{}{} } // never blocks: one token at most
func (p *chanParker) take() { <-p.wake }

func (p *chanParker) block(deadline int64, timed bool, done <-chan struct{}) bool {
	if !timed {
		select {
		case <-p.wake:
			return true
		case <-done:
			return false
		}
	}
	if p.timer == nil {
		p.timer = time.NewTimer(math.MaxInt64)
		p.timer.Stop()
	}
	d := deadline - p.l.now()
	if d <= 0 {
		return false
	}
	p.timer.Reset(time.Duration(d))
	select {
	case <-p.wake:
		p.timer.Stop()
		return true
	case <-p.timer.C:
		return false
	case <-done:
		p.timer.Stop()
		return false
	}
}
