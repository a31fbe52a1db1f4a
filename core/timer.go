package core

import (
	"strconv"
	"time"

	"go.uber.org/atomic"

	"github.com/hotloop/hotloop/wheel"
)

// # Timers
//
// A Timer lives at a fixed address for as long as anyone holds it: the loop
// never recycles it, so a *Timer stays valid for the life of the program
// and Reset can re-arm it at any time, as with time.Timer. The loop keeps a
// timer in its store (timerStore) keyed by its filed deadline; the timer's
// own state word says what the timer is to do. The two may differ: that is
// what makes Reset cheap.
//
// Ground rules:
//
//  1. The state word (timerState) holds the deadline and four flags in one
//     atomic uint64, so that every Stop and Reset, from any goroutine, is a
//     single compare-and-swap: it is linearized at that CAS. Its deadline is
//     the one the timer must not fire before.
//  2. Only the loop goroutine touches the store. Other goroutines change the
//     word, and send the loop a message (an opTimer naming the timer) when
//     the store must change before the timer's deadline; a Stop of a filed
//     timer sends an opStop, which only takes a still-stopped timer out of
//     the store (a re-arm after it sends its own opTimer, so the timer is
//     numbered by that one, in its place). The loop wakes for a message
//     only if it carries its earliest deadline (wakeFor).
//  3. filed ⇒ armed, and filed means the loop has promised to look at the
//     timer at or before the word's deadline: the timer is in the store with
//     a filed deadline <= the word's (or the loop holds it right now). Only
//     the loop sets filed. A Reset that moves the deadline later keeps the
//     promise (the filed deadline is earlier still) and needs nothing else:
//     that is the cheap path, one clock read and one CAS, no message and no
//     wake-up. The loop re-files the timer when its filed deadline comes
//     due (see Loop.fireDue). A Reset that moves it earlier clears filed.
//  4. armed ∧ ¬filed ∧ ¬running ⇒ a message for the timer is on its way to
//     the loop (in the inbox or the late box) or being applied: the one sent
//     by whoever cleared filed or armed the timer. The loop applies it with
//     settle, which re-reads the word until it has filed the timer or found
//     it disarmed, so later changes ride on the same message. (While the
//     loop is closing, a rider sends a message of its own anyway: a refused
//     one tells it the loop has finished, see Loop.reset.)
//  5. running is set only by the loop, for a periodic timer whose callback
//     is running; the loop re-arms it afterwards only if the word is still
//     exactly what it set, so that a Stop or Reset made meanwhile wins.
//  6. The loop's list l.deferred holds the timers whose filing the running
//     callback left to its end: the new timers of Local().AfterFunc, At
//     and Every (armed, not filed: a timer stopped within the callback
//     never touches the store), and the timers Local().Reset armed with a
//     relative word. relative is set only by the loop, by Local().Reset
//     inside a callback: the word's deadline is then a delay d, counted
//     from the moment the callback returns. When the callback returns the
//     loop files every timer on the list (fileDeferred), reading the clock
//     once to make every relative deadline absolute: one clock read serves
//     every Local().Reset of the callback, and the deadline is late by at
//     most the rest of the callback, never early. For rule 4, being on
//     l.deferred counts as a message on its way; a relative word stays
//     filed only if the earliest the absolute deadline can be (clockLo + d)
//     is no earlier than the word's deadline, the rule of rearm. No
//     relative word survives a callback: fire and settle never see one.
//     A timer on the list that is not filed is in no store and is
//     numbered by its call (its entry's sequence number, set with
//     wheel.Entry.SetSeq), so the timers of one callback keep the order of
//     the calls among equal deadlines.
//
// The transitions, each a named method of timer below:
//
//	word before               word after                   who   method
//	any                       armed, when                  any   rearm (Reset; armed by AfterFunc, At, Every)
//	armed                     not armed                    any   disarm (Stop; Close and Shutdown cancelling)
//	armed, ¬filed             armed, filed                 loop  markFiled (settle: the timer is in the store)
//	armed, filed, due         not armed                    loop  claimFire (a one-shot fires)
//	armed, filed, due         armed, running               loop  claimFire (a periodic timer fires)
//	armed, running            armed, filed, next           loop  rearmAfterRun (its next tick)
//	any                       armed, relative, d           loop  rearmRel (Local().Reset)
//	armed, relative, d        armed, filed, now+d          loop  resolveRel (fileDeferred: the callback returned)
//	new                       armed, when                  any   armNew (AfterFunc, At, Every: no one else sees it yet)
//	armed, running            not armed                    loop  endAfterRun (no later tick fits in the word)
//
// rearm and rearmRel keep filed only when the new deadline is no earlier
// than the word's (rule 3); they clear running (rule 5). The deadline is
// kept in the word plus one, shifted left by flagBits, so deadlines are
// capped at maxWhen, about 36 years from the loop's start, and a word that
// was ever armed is never 0, even for a deadline of 0 (a FakeClock at its
// start): a zero word is a timer never armed (SetLeeway relies on it).

// timerState is a timer's state word: deadline << flagBits | flags.
type timerState uint64

const (
	armedBit   timerState = 1 << iota // the timer will fire at its deadline unless stopped or reset
	filedBit                          // the loop will look at it at or before its deadline (rule 3)
	runningBit                        // a periodic timer's callback is running (rule 5)
	relBit                            // the deadline is a delay from the end of the running callback (rule 6)

	flagBits = 4

	// maxWhen is the latest deadline a state word can hold (loop clock
	// nanoseconds, about 36 years): later deadlines are clamped to it.
	maxWhen = int64(1)<<(64-flagBits) - 2
)

func (s timerState) when() int64   { return int64(s>>flagBits) - 1 }
func (s timerState) armed() bool   { return s&armedBit != 0 }
func (s timerState) filed() bool   { return s&filedBit != 0 }
func (s timerState) running() bool { return s&runningBit != 0 }
func (s timerState) rel() bool     { return s&relBit != 0 }

// armedAt returns the word of a timer armed for when, with the given extra
// flags. when must be in [0, maxWhen].
func armedAt(when int64, flags timerState) timerState {
	return timerState(when+1)<<flagBits | armedBit | flags
}

// rearmed returns the word that Reset to when makes of s: armed for when,
// not running, and still filed only if s was filed for a deadline no later
// than when (rule 3). Pure; tested beside the transition table.
func (s timerState) rearmed(when int64) timerState {
	if s.filed() && !s.rel() && when >= s.when() {
		return armedAt(when, filedBit)
	}
	return armedAt(when, 0)
}

// disarmed returns the word of a stopped s: the deadline is kept, for
// Health, and every flag cleared.
func (s timerState) disarmed() timerState { return s >> flagBits << flagBits }

// needsMessage reports whether a change of the state word from old to new,
// made by a goroutine that cannot touch the store, must be followed by a
// message to the loop (rule 4): new is armed but not filed, and no message
// is already on its way for old.
func needsMessage(old, new timerState) bool {
	if !new.armed() || new.filed() {
		return false
	}
	pending := old.armed() && (old.rel() || !old.filed()) && !old.running() // rules 4 and 6: one is on its way
	return !pending
}

// timer is the loop's payload in a timer store entry. The store's key
// (Entry.When, Entry.Seq) is the filed deadline, owned by the loop.
type timer struct {
	// state is the state word (see above). Loaded and CASed by any
	// goroutine; only through the methods below.
	state atomic.Uint64

	// home is what the timer needs of its Loop, shared by every one-shot
	// timer of that Loop (Loop.oneShot), or a periodic timer's own, which
	// also holds its callback and period; fn is a one-shot timer's
	// callback, nil for a periodic timer. Written once, by AfterFunc, At,
	// Every or Init before the timer is first armed (the CAS that arms it,
	// and the message or store insertion after it, publish them to the
	// loop); read-only afterwards.
	home *timerHome
	fn   func()
}

// timerNode is a timer in the loop's store.
type timerNode = wheel.Entry[timer]

// A Timer is 48 bytes, Go's 48-byte allocation class, and AfterFunc
// allocates one per timer: allocating and first touching Timers was most of
// W6's time (docs/BENCHMARKS.md), and the Timer went from 80 bytes to 64,
// then 48. What only a periodic timer needs, its period and missed-tick
// policy, lives in a timerHome of its own, which Every allocates beside
// the Timer; every one-shot timer of a Loop points to the Loop's shared
// one. A Timer a user embeds and sets up with Init is always a one-shot.
// Everything a timer's fields point to is a whole object of its own, so a
// copied Timer (a misuse go vet reports) still reads only valid memory: it
// shares the original's callback and period.

// timerHome is a timer's Loop and, for a periodic timer, its callback and
// its period and missed-tick policy in one word (tickOf; read with period
// and missed). Immutable once the timer is first armed.
type timerHome struct {
	loop   *Loop
	fn     func() // a periodic timer's callback; nil in Loop.oneShot
	tick   uint64 // 0 in Loop.oneShot
	leeway int64  // SetLeeway's, in ns; 0 (exact) in Loop.oneShot and for periodic timers
}

// loop returns the timer's Loop, or nil for a Timer never set up. Any
// goroutine.
func (p *timer) loop() *Loop {
	if p.home == nil {
		return nil
	}
	return p.home.loop
}

// periodic reports whether p is a periodic timer's (made by Every). Any
// goroutine, once the timer is set up.
func (p *timer) periodic() bool { return p.home.tick != 0 }

// key is the store key at which the loop files a timer whose word's
// deadline is when: when itself, or, for a timer with a leeway
// (SetLeeway), when rounded up to the next multiple of the leeway, so that
// timers whose deadlines fall in one leeway-long window share the wake-up
// at its end. Never earlier than when, at most the leeway later (rule 3's
// promise to look at the timer by its deadline becomes: by its deadline
// plus its leeway). Any goroutine, once the timer has been armed. O(1).
func (p *timer) key(when int64) int64 { return coalesce(when, p.home.leeway) }

// tickOf packs a period (1..maxWhen, which leaves the top bits free) and a
// missed-tick policy into timerHome.tick; the result is never 0. O(1).
func tickOf(period int64, missed MissedTick) uint64 {
	return uint64(period) | uint64(missed)<<policyShift
}

// policyShift is where tickOf puts the policy: above every period.
const policyShift = 61

// period returns a periodic timer's period.
func (h *timerHome) period() int64 { return int64(h.tick & (1<<policyShift - 1)) }

// missed returns a periodic timer's missed-tick policy.
func (h *timerHome) missed() MissedTick { return MissedTick(h.tick >> policyShift) }

func (p *timer) load() timerState { return timerState(p.state.Load()) }

func (p *timer) cas(old, new timerState) bool {
	return p.state.CompareAndSwap(uint64(old), uint64(new))
}

// rearm makes the timer armed for when, whatever its state (Reset), and
// returns the words before and after. Any goroutine. Once the loop is
// closing it takes no new work: a timer that is not armed is then left
// alone (ok false).
func (p *timer) rearm(when int64) (old, new timerState, ok bool) {
	for {
		old = p.load()
		if !old.armed() && p.home.loop.closing() {
			p.home.loop.stats.refused.Add(1)
			return old, old, false
		}
		new = old.rearmed(when)
		if p.cas(old, new) {
			return old, new, true
		}
	}
}

// disarm stops an armed timer (Stop, and Close cancelling it) and returns
// the word it replaced; ok is false if the timer was not armed. Any
// goroutine.
func (p *timer) disarm() (old timerState, ok bool) {
	for {
		old = p.load()
		if !old.armed() {
			return old, false
		}
		if p.cas(old, old.disarmed()) {
			return old, true
		}
	}
}

// rearmRel arms the timer for d after the running callback returns
// (Local().Reset, rule 6) and returns the word it replaced and the word it
// set; ok is false if the loop is closing and the timer is not armed.
// earliest is the earliest the absolute deadline can be: the word stays
// filed, as with rearmed, only if that is no earlier than the deadline it
// replaces (rule 3 then still holds, whatever the clock reads when the
// callback returns). Loop goroutine only.
func (p *timer) rearmRel(d, earliest int64) (old, new timerState, ok bool) {
	for {
		old = p.load()
		if !old.armed() && p.home.loop.closing() {
			p.home.loop.stats.refused.Add(1)
			return old, old, false
		}
		new = armedAt(d, relBit)
		if old.filed() && !old.rel() && earliest >= old.when() {
			new |= filedBit
		}
		if p.cas(old, new) {
			return old, new, true
		}
	}
}

// markFiled sets filed on s, the word the loop read before it put the timer
// in the store at s's deadline. It fails if the word changed meanwhile: the
// loop then looks again. Loop goroutine only (rule 3).
func (p *timer) markFiled(s timerState) bool {
	if debugTimers && (!s.armed() || s.filed() || s.running()) {
		panic("hotloop: markFiled on " + s.String())
	}
	return p.cas(s, s|filedBit)
}

// claimFire takes a due, filed timer out of armed (one-shot) or into
// running (periodic), so that a Stop made from now on reports false for a
// one-shot; it fails if the word changed since the loop read s. It returns
// the word it set, for rearmAfterRun. Loop goroutine only.
func (p *timer) claimFire(s timerState) (claimed timerState, ok bool) {
	if debugTimers && (!s.armed() || !s.filed() || s.rel()) {
		panic("hotloop: claimFire on " + s.String())
	}
	claimed = s.disarmed()
	if p.periodic() {
		claimed = s&^filedBit | runningBit
	}
	return claimed, p.cas(s, claimed)
}

// rearmAfterRun files a periodic timer for its next tick after its callback
// ran, unless the callback or another goroutine stopped or reset it
// meanwhile (then the word is no longer claimed, the running word that
// claimFire set, and whoever changed it has taken care of the store). Loop
// goroutine only (rule 5).
func (p *timer) rearmAfterRun(claimed timerState, next int64) bool {
	return p.cas(claimed, armedAt(next, filedBit))
}

// resolveRel replaces s, a relative word (rule 6), with an absolute one,
// armed and filed for when; it fails if the word changed since the loop
// read s. Loop goroutine only (fileDeferred).
func (p *timer) resolveRel(s timerState, when int64) bool {
	if debugTimers && !s.rel() {
		panic("hotloop: resolveRel on " + s.String())
	}
	return p.cas(s, armedAt(when, filedBit))
}

// endAfterRun disarms a periodic timer after its callback ran when no next
// tick can be expressed (rearmAfterRun's case at maxWhen), unless the word
// is no longer claimed. Loop goroutine only.
func (p *timer) endAfterRun(claimed timerState) bool {
	return p.cas(claimed, claimed.disarmed())
}

// armNew stores the first word of a timer that no other goroutine has seen
// yet (AfterFunc, At, Every): armed for when, not filed, for the message or
// the deferred filing that follows (rules 4 and 6). A plain store: nothing
// can race with it.
func (p *timer) armNew(when int64) {
	p.state.Store(uint64(armedAt(when, 0)))
}

// String describes a state word, for panics and test failures.
func (s timerState) String() string {
	f := ""
	for _, b := range []struct {
		bit  timerState
		name string
	}{{armedBit, "armed"}, {filedBit, "filed"}, {runningBit, "running"}, {relBit, "relative"}} {
		if s&b.bit != 0 {
			f += "|" + b.name
		}
	}
	if f == "" {
		f = "|idle"
	}
	return "when=" + strconv.FormatInt(s.when(), 10) + f
}

// debugTimers makes the loop check the timer invariants as it goes.
const debugTimers = false

// Timer is a timer on a Loop: its callback runs on the loop once, at or
// after its deadline (or, made by Every, once per period). Make one with
// [Loop.AfterFunc], [Loop.At] or [Loop.Every], which allocate it, or embed a
// Timer in your own struct and set it up with [Timer.Init]: then re-arming
// it with Reset for the life of, say, a connection allocates nothing.
//
// Like time.Timer, a Timer can be stopped and reset at any time, from any
// goroutine, as often as you like, including after it fired and from inside
// its own callback. Its methods are linearizable: concurrent Stops and
// Resets of one timer behave as if they ran one at a time, in an order
// consistent with real time; the timer fires no earlier than the deadline
// set by the last of them.
//
// A Timer must not be copied (go vet reports copies): a copy shares the
// original's place in the loop's store and its state, and using both
// confuses them. The zero Timer is not armed: Stop reports false; Reset panics
// until Init has given it a loop and a callback. A nil *Timer's Stop
// reports false.
type Timer struct {
	_ noCopy // go vet's copylocks check reports copies
	n timerNode
}

// noCopy makes go vet report a copied Timer: a copy is a different timer,
// and arming it leaves the original alone.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Init sets up t, typically a field of a longer-lived struct, to call fn on
// l, without arming it: arm it with [Timer.Reset], or [Local.Reset] from a
// callback. Reset then re-arms it as often as needed with no allocation.
// Init may be called once per Timer, before any other method: a second
// call, or one on a Timer made by AfterFunc, At or Every, returns an error;
// so do a nil l or fn. Init does not touch the loop: it works on a closing
// loop too (Reset will then refuse to arm the timer).
func (t *Timer) Init(l *Loop, fn func()) error {
	switch {
	case l == nil:
		return badArg("Timer.Init", errNilLoop)
	case l.inbox == nil:
		return badArg("Timer.Init", errZeroLoop)
	case fn == nil:
		return badArg("Timer.Init", ErrNilFunc)
	case t.n.Value.home != nil:
		return badArg("Timer.Init", errInitTwice)
	}
	t.n.Value.home = &l.oneShot
	t.n.Value.fn = fn
	return nil
}

// SetLeeway lets the timer fire up to d after its deadline, so that it can
// share a wake-up with the timers near it: the loop files it at the end of
// the d-long window its deadline falls in (windows of the loop's clock,
// aligned to multiples of d), and every timer with the same leeway in that
// window fires on the same wake-up. It never fires before its deadline.
// Timers without a leeway, the default, stay exact, however many timers
// around them have one; where WithSlack rounds every deadline of the loop,
// a leeway is one timer's own (Apple's dispatch sources call it the same).
// Ordering follows the rounded deadlines: a timer with a leeway fires after
// an exact one due before the end of its window.
//
// Call it after Init and before the timer's first Reset: it returns an
// error for a Timer not set up by Init, one armed already, and a periodic
// one, and an error wrapping ErrBadLeeway for d < 0. d == 0 makes the
// timer exact again. The leeway holds for every later Reset, from any
// goroutine. Health's timer lag counts from the deadline, so a timer with
// a leeway shows up to its leeway as lag. Do not call it concurrently with
// the timer's other methods; it allocates the small record that holds the
// leeway.
func (t *Timer) SetLeeway(d time.Duration) error {
	if t == nil || t.n.Value.home == nil {
		return badArg("Timer.SetLeeway", errNotInit)
	}
	p := &t.n.Value
	l := p.home.loop
	switch {
	case p.periodic():
		return badArg("Timer.SetLeeway", errPeriodic)
	case p.load() != 0:
		// Armed now or before (a word once armed is never 0 again): the
		// loop and other goroutines may read p.home from then on. Also
		// every timer of AfterFunc and At.
		return badArg("Timer.SetLeeway", errArmed)
	case d < 0:
		return badArg("Timer.SetLeeway", ErrBadLeeway)
	case d == 0:
		p.home = &l.oneShot
	default:
		p.home = &timerHome{loop: l, leeway: min(int64(d), maxWhen)}
	}
	return nil
}

// Stop prevents the timer from firing. It reports true if the call stopped
// it, false if it was not armed: it had already fired (a one-shot whose
// callback has started), been stopped, been cancelled by Close, or was never
// armed. A periodic timer (Every) stays armed between ticks and during its
// own callback, so Stop reports true for it until it is stopped, and
// cancels every later tick. Stop does not wait for a callback that is
// already running, nor prevent one the loop has already begun: if the
// timer fired and was re-armed, the earlier call may still be running, or
// just starting, when Stop stops the new arming.
//
// Safe from any goroutine, at any time; O(1). Stop does not wake a parked
// loop: the loop takes the timer out of its store at its next iteration,
// which may be the one wake-up at the timer's old deadline that now runs
// nothing (from inside a callback, [Local.Stop] takes it out at once,
// without a message).
func (t *Timer) Stop() bool {
	if t == nil || t.n.Value.home == nil {
		return false
	}
	p := &t.n.Value
	old, ok := p.disarm()
	if !ok {
		return false
	}
	if old.filed() && !old.rel() {
		// In the store: have the loop remove it, so that stopped timers do
		// not accumulate until their deadlines and Shutdown need not wait
		// for them. (Not filed: it is not in the store, or a message is
		// already on its way, rule 4, and will remove it.)
		p.home.loop.send(opStop, &t.n)
	}
	return true
}

// Reset arms the timer to fire after d, measured from now, whatever state
// it is in: pending (it is moved), fired, stopped, or inside its own
// callback (it fires again). It reports whether the timer had been armed,
// as time.Timer.Reset does: false means it had fired or been stopped and
// Reset re-armed it. A d <= 0 makes it due at once; it then fires after
// the timers already due (deadline order, then the order in which they
// were scheduled). For a periodic timer (Every) the next call comes after
// d and later calls one period apart from then.
//
// Once Close or Shutdown has been called, the loop takes no new work:
// Reset still moves an armed timer (Shutdown waits for it) but no longer
// re-arms one, reporting false and leaving it stopped.
//
// Safe from any goroutine, at any time, concurrently with Stop and other
// Resets; the last in their linearization order sets the deadline. Cost:
// moving a deadline later — an idle timeout pushed back on every read —
// is one clock read and one compare-and-swap, with no message and no
// wake-up (the loop re-files the timer when its old deadline comes).
// Moving it earlier, or re-arming it, sends the loop a message, and wakes
// it only if the timer becomes its earliest. Reset panics on a Timer that
// was never set up (the zero Timer without Init).
func (t *Timer) Reset(d time.Duration) bool {
	l := t.mustLoop("Timer.Reset")
	return l.reset(&t.n, l.deadline(d))
}

// mustLoop returns t's Loop, panicking with a message naming method if t
// is nil or was never set up.
func (t *Timer) mustLoop(method string) *Loop {
	if t == nil {
		panic("hotloop: " + method + " on a nil *Timer")
	}
	if l := t.n.Value.loop(); l != nil {
		return l
	}
	panic("hotloop: " + method + " on a Timer not made by AfterFunc, At, Every or Init")
}

// reset is Timer.Reset: it arms n for when and reports whether it was
// armed. Any goroutine.
func (l *Loop) reset(n *timerNode, when int64) bool {
	p := &n.Value
	old, new, ok := p.rearm(when)
	if !ok {
		return false
	}
	if new.filed() {
		return old.armed() // later: the loop's promise covers it (rule 3)
	}
	// Rule 4: send a message, unless one is on its way. While the loop is
	// closing, send one anyway (to the late box): it is how a Reset learns
	// that the loop has finished, which the message it would ride cannot
	// tell it (its sender may find out only after we return).
	rider := !needsMessage(old, new)
	if (!rider || l.closing()) && !l.send(opTimer, n) {
		// The loop has finished: no one will ever look at n again. Close
		// cancels what it finds armed; this arming it could not find, so
		// it is cancelled here, on its behalf, and counted. A rider (its
		// arming belongs to a Reset still in progress) takes effect after
		// that cancellation: it is refused, as on a finished loop.
		if _, ok := p.disarm(); ok {
			l.late.cancelled.Add(1)
		}
		if rider {
			l.stats.refused.Add(1)
			return false
		}
		return old.armed()
	}
	l.wakeFor(p)
	return old.armed()
}

// wakeFor wakes the loop if p's deadline, which the loop will learn of
// through a message, is earlier than the one it parks until. Called after
// the message is pushed, or after a Reset that rides a message already on
// its way (rule 4); the word is read again here, after the push, so that of
// the sender and a Reset riding its message, whichever reads the other's
// change wakes the loop: if the rider's CAS came before the sender's
// re-read, the sender sees the earlier deadline; if after, the rider's
// wake-up comes after the push, so the loop finds the message. Any
// goroutine.
func (l *Loop) wakeFor(p *timer) {
	// The key, not the deadline: a timer with a leeway filed at the end of
	// a window the loop already waits for needs no wake-up. (p.home is
	// immutable once the timer was first armed: SetLeeway.)
	if s := p.load(); s.armed() && !s.filed() && !s.rel() && l.expiry.Before(p.key(s.when())) {
		l.wakeIfParked()
	}
}

// send tells the loop about n: look at its state word (opTimer, applied
// by settle) or take it out of the store if still stopped (opStop, applied
// by dropStopped). Through the inbox, or, once Close or Shutdown has closed
// it, through the late box, which the loop reads until it finishes. It
// reports false if the loop has finished (for opStop nothing is then left
// to do). Any goroutine.
func (l *Loop) send(o op, n *timerNode) bool {
	m := message{op: o, n: n}
	if l.inbox.Push(m) {
		return true
	}
	return l.pushLate(m)
}

// dropStopped applies an opStop message: it takes n out of the store if it
// is still stopped. If n has been armed again since, the arming sent its own
// message (rule 4: re-arming a stopped timer always does, as does Local's),
// and n is filed by that one, in its place among the timers scheduled in
// between, not by this older message. Loop goroutine only.
func (l *Loop) dropStopped(n *timerNode) {
	if !n.Value.load().armed() {
		l.timers.Remove(n)
	}
}

// settle brings the store in line with n's state word: it files an armed
// timer that is not filed, at its deadline, and removes one that is not
// armed. It applies an opTimer message (rule 4): it loops until its
// markFiled succeeds, so a Stop or Reset that races with it is seen.
// Loop goroutine only. O(log n) with the heap, O(1) with the wheel.
func (l *Loop) settle(n *timerNode) { l.settleAs(n, 0) }

// settleAs is settle numbering the timer seq, the number it was given when
// it was scheduled through Local, if it files it; 0 numbers it now. Loop
// goroutine only.
func (l *Loop) settleAs(n *timerNode, seq uint64) {
	p := &n.Value
	for {
		s := p.load()
		switch {
		case !s.armed():
			l.timers.Remove(n) // stopped: a no-op if it is not in the store
			return
		case s.filed():
			return // filed by someone before us (Local): in the store already
		case s.running():
			return // a periodic callback is running: rearmAfterRun or a message after it files it
		case l.shutdownSeen && p.periodic():
			// Shutdown cancels periodic timers; a late re-arm does not
			// revive one.
			if _, ok := p.disarm(); ok {
				l.counts.cancelled++
			}
			continue
		}
		if seq == 0 {
			seq = l.nextSeq()
		}
		l.timers.Update(n, p.key(s.when()), seq)
		if p.markFiled(s) {
			return
		}
	}
}

// fileDeferred files the timers the callback that just returned left on
// l.deferred (rule 6 above): the new timers of Local().AfterFunc, At and
// Every, and the relative deadlines of Local().Reset, which it makes
// absolute with one clock read, taken at the first of them. A timer
// stopped or reset by any goroutine since is settled as its message would
// be. Loop goroutine only; called after every callback that left
// l.deferred non-empty (afterCallback). O(k log n) for k timers on the
// list with the heap.
func (l *Loop) fileDeferred() {
	now := int64(-1) // not read yet
	for i, n := range l.deferred {
		l.deferred[i] = nil
		p := &n.Value
		for {
			s := p.load()
			if !s.rel() {
				// A new timer, or stopped or reset since: file it, or
				// drop it, as its message would. One in no store has the
				// number of the call that scheduled it (Local: newTimer,
				// Local.Reset); one still in the store was reset by
				// another goroutine while filed, and its Reset rides
				// this filing.
				seq := uint64(0)
				if !n.InStore() {
					seq = n.Seq()
				}
				l.settleAs(n, seq)
				break
			}
			if now < 0 {
				now = l.readClock()
			}
			when := addClamped(now, s.when())
			if !s.filed() {
				// In no store, numbered by the Local().Reset call
				// (rule 6).
				l.timers.Update(n, p.key(when), n.Seq())
			}
			if p.resolveRel(s, when) {
				break
			}
		}
	}
	l.deferred = l.deferred[:0]
}

// afterCallback finishes what a callback left for the loop: the timers on
// l.deferred. Inlined into the loops that run callbacks: one length check
// when there is nothing to do.
func (l *Loop) afterCallback() {
	if len(l.deferred) != 0 {
		l.fileDeferred()
	}
}

// newTimer makes and arms the Timer of AfterFunc, At and Every, on Loop
// (local false: any goroutine, through the inbox) and on Local (local true:
// the loop goroutine, filed when the running callback returns, rule 6):
// their one scheduling path. The caller has checked the other arguments.
func (l *Loop) newTimer(method string, when, period int64, missed MissedTick, local bool, fn func()) (*Timer, error) {
	l.mustNew()
	if fn == nil {
		return nil, badArg(method, ErrNilFunc)
	}
	if l.closing() {
		return nil, ErrClosed
	}
	t := &Timer{}
	n := &t.n
	p := &n.Value
	if period > 0 {
		// A period beyond maxWhen schedules nothing that maxWhen does not
		// (nextTick clamps every tick there), and keeps the policy's bits
		// free.
		p.home = &timerHome{loop: l, fn: fn, tick: tickOf(min(period, maxWhen), missed)}
	} else {
		p.home, p.fn = &l.oneShot, fn
	}
	// Armed but not filed, with its message on the way (rule 4) or its
	// filing deferred to the end of the running callback (rule 6).
	p.armNew(when)
	if local {
		// The loop files it when the callback returns, numbered by this
		// call, unless it was stopped by then: scheduling and cancelling
		// within one callback never touches the store.
		n.SetSeq(l.nextSeq())
		l.deferred = append(l.deferred, n)
		return t, nil
	}
	// Not the late box: a push the closed inbox refuses is new work,
	// refused.
	if !l.inbox.Push(message{op: opTimer, n: n}) {
		return nil, ErrClosed
	}
	l.wakeFor(p)
	return t, nil
}

// AfterFunc schedules fn to run on the loop once, after at least d has
// passed, and returns its Timer. A delay d <= 0 makes it due at once: it
// runs after the callbacks already queued and after the timers already
// due. Timers fire in deadline order, equal deadlines in the order they
// were scheduled; a timer never fires before its deadline. Safe from any
// goroutine; from inside a callback, Local().AfterFunc is cheaper. It
// fails with ErrClosed once the loop is closing, and with an error wrapping
// ErrNilFunc for a nil fn. It allocates the Timer (48 bytes); embed a
// Timer and use Init to avoid that.
func (l *Loop) AfterFunc(d time.Duration, fn func()) (*Timer, error) {
	return l.newTimer("AfterFunc", l.deadline(d), 0, TickSkip, false, fn)
}

// At schedules fn to run on the loop once, at or after t. A t in the past
// makes the timer due at once. The zero time.Time is rejected: it is almost
// always a forgotten field. Safe from any goroutine.
func (l *Loop) At(t time.Time, fn func()) (*Timer, error) {
	if t.IsZero() {
		return nil, badArg("At", errZeroTime)
	}
	return l.newTimer("At", l.atDeadline(t), 0, TickSkip, false, fn)
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
func (l *Loop) Every(period time.Duration, fn func(), policy ...MissedTick) (*Timer, error) {
	if period <= 0 {
		return nil, badArg("Every", ErrBadPeriod)
	}
	missed, err := missedTick("Every", policy)
	if err != nil {
		return nil, err
	}
	return l.newTimer("Every", l.deadline(period), int64(period), missed, false, fn)
}

// atDeadline converts t to the loop's clock, clamped to [0, maxWhen].
func (l *Loop) atDeadline(t time.Time) int64 {
	d := t.Sub(l.base) // monotonic when t has a monotonic reading
	if d < 0 {
		return 0
	}
	return addClamped(0, int64(d))
}
