package core

import (
	"sync"
	"time"

	"go.uber.org/atomic"

	"github.com/hotloop/hotloop/cache"
	"github.com/hotloop/hotloop/queue"
)

// Bits of Loop.control: requests from other goroutines that the loop reads
// once per iteration.
const (
	ctlPause    = 1 << iota // Pause was called: return from Run after this iteration
	ctlShutdown             // Shutdown was called: run until nothing is left, then finish
	ctlClose                // Close was called: finish now
)

// Loop is a single-goroutine event loop. Create one with [New]; run it with
// [Loop.Run] on the goroutine that should execute its callbacks. All methods
// of Loop are safe for concurrent use; the methods of [Local] are not.
type Loop struct {
	// --- read-mostly, set by New ---

	cfg   config
	base  time.Time  // the clock's origin: deadlines are nanoseconds since base, on the monotonic clock
	clock *FakeClock // virtual time (WithClock), or nil for the monotonic clock

	// --- shared with other goroutines (atomics, each documented) ---

	// inbox carries messages from other goroutines to the loop. Producers:
	// any goroutine (Post, AfterFunc, At, Every, Timer.Stop, Timer.Reset).
	// Consumer: the goroutine running the loop. Closed by Close and
	// Shutdown, after which every Push fails and is reported as ErrClosed.
	inbox *queue.Inbox[message]

	// expiry is the earliest pending deadline. Written by the loop
	// (publish); read by the loop's sleep computation and by goroutines that
	// schedule timers, to decide whether to wake a parked loop.
	expiry *cache.Expiry

	// parked is true while the loop is parked or about to park. Set true by
	// the loop; set false by the loop when it resumes, or by the one waker
	// that wins the swap and so owes the loop a token on wake. The park
	// protocol (park.go) says how it orders with the inbox.
	parked atomic.Bool

	// parker blocks the loop and carries the one token from the waker that
	// won parked to the parked loop (park.go). Set by New; immutable.
	parker parker

	// control holds the ctl* request bits. Set by Pause, Shutdown and Close
	// (atomic OR), each followed by a wake-up; read by the loop at the top of
	// each iteration; ctlPause is cleared by the loop when it sees it.
	control atomic.Uint32

	// running is true while a Run (or a Close or Shutdown that finishes the
	// loop itself) owns the loop. Swapped false->true by whoever takes the
	// loop; stored false when it lets go.
	running atomic.Bool

	// takes counts the attempts to take the loop (acquire), and pauseFor
	// is the highest value of takes that a Pause has read: the Pause is for
	// the owner whose take that value counted, or for a later one. acquire
	// adds to takes before its compare-and-swap of running, and Pause loads
	// running, then takes, then raises pauseFor, then sets ctlPause; the
	// owner honours ctlPause only if pauseFor has reached its own take
	// (ownTake). The protocol is Pause's, in close.go. Both only increase.
	takes, pauseFor atomic.Uint64

	// runner is the goroutine id of the loop's owner while running, else 0.
	// Written by the owner; read by Do, Close and Shutdown to detect calls
	// from inside a callback.
	runner atomic.Uint64

	// done is closed when the loop has finished (Close or Shutdown) and its
	// owner has let go of it (release), so a Close that waits on done
	// returns after Run has. closeDone guards the close of done.
	done      chan struct{}
	closeDone sync.Once

	// handoff (capacity 1) carries a token from a goroutine that lets go of
	// the loop (release) while Close or Shutdown is pending and the loop has
	// not finished, to a Close or Shutdown that found the loop owned and is
	// waiting for its owner to finish it. See release.
	handoff chan struct{}

	// late carries Stop and Reset messages refused by the closed inbox.
	late lateBox

	// space holds the PostWaits waiting for room in the inbox
	// (backpressure.go), guarded as its type says.
	space spaceWaiters

	// lanes are the open Producers' inboxes (producer.go), guarded as
	// their type says.
	lanes lanes

	// handleFn is l.handle, bound once in New so that drain does not
	// allocate a method value per call. Immutable.
	handleFn func(*message)

	// handleLaneFn is l.handleLane, bound once in New for the same reason.
	handleLaneFn func(*lanePost)

	// overshoot is WithAdaptiveSpin's histogram of park overshoots
	// (spin.go), nil without it. Made in New; loop goroutine only.
	overshoot *overshoots

	// oneShot is the timerHome every one-shot timer of l points to (the
	// Loop, no period: timer.go). Set in New; immutable.
	oneShot timerHome

	// takeSignalFn is l.takeSignal, bound once in New for the same reason.
	takeSignalFn func(**lane)

	// published counters, written by the loop every statsEvery iterations,
	// before each park and when it lets go; read by Stats from any
	// goroutine.
	stats statsAtomics

	// --- owned by the loop goroutine: Loop goroutine only (see assertLoop) ---

	inLoop    bool         // true while a goroutine owns the loop; read by Local to catch misuse
	ownTake   uint64       // the value of takes that the owner's acquire added: which Pauses are for it (Pause)
	ready     readyQueue   // the callbacks to run, in order (ready.go)
	timers    timerStore   // pending timers, ordered by (When, Seq) (store.go)
	seq       uint64       // last Seq handed out; Seq 0 means "not scheduled"
	deferred  []*timerNode // timers the running callback armed through Local, filed when it returns (timer.go, rule 6)
	ticking   *timer       // the periodic timer whose tick fire last ran, for stopPeriodic; its running bit says whether that tick is under way
	clockLo   int64        // a loop clock reading taken no later than now: a lower bound for Local().Reset (readClock)
	pubWhen   int64        // the deadline last published to expiry
	counts    statsCounts  // the loop's own counters, published to stats
	sincePub  int          // iterations since the counters were last published
	drainNext int          // the source (inbox 0, busy lane i+1) that drainSome takes from first next time
	busy      []*lane      // the lanes with work, or signalled (producer.go)
	health    health       // lag histograms, busy and idle time (health.go)
	local     Local        // the view returned by Local

	shutdownSeen bool // Shutdown's periodic timers have been stopped
	finished     bool // finish has run; release closes done
}

// op says what a message asks of the loop.
type op uint8

const (
	opPost  op = iota // run fn
	opTimer           // look at n's state word and file or remove n (Loop.settle)
	opStop            // n was stopped: take it out of the store unless re-armed since (Loop.dropStopped)
)

// message is what other goroutines push into the inbox.
type message struct {
	op op
	fn func()     // opPost: the callback
	n  *timerNode // opTimer, opStop: the timer

	// stamp is an opPost's post-lag stamp: 1 + the loop clock at the post
	// for a sampled post (stampPost), else 0.
	stamp uint64
}

// lanePost is a message in a Producer's lane: only posts go through lanes,
// so a lane's slot is 24 bytes rather than an inbox slot's 40, and a burst
// moves fewer cache lines from the posting core to the loop's.
type lanePost struct {
	fn    func()
	stamp uint64 // as message.stamp
}

// New returns a Loop configured by opts. It does not start it: call Run.
// Create the Loop inside a testing/synctest bubble to use it there.
func New(opts ...Option) *Loop {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	l := &Loop{
		cfg:     cfg,
		base:    time.Now(),
		expiry:  cache.New(),
		done:    make(chan struct{}),
		handoff: make(chan struct{}, 1),
		timers:  cfg.store.newTimers(),
		pubWhen: cache.None,
	}
	l.local.l = l
	l.inbox = queue.NewInbox(cfg.inboxSize,
		queue.WithGrowth[message](inboxGrowth),
		queue.WithStamp(cfg.health.lagEvery, l.stampPost)) // post-lag sampling (health.go); off when lagEvery is 0
	l.handleFn = l.handle
	l.handleLaneFn = l.handleLane
	l.oneShot.loop = l
	l.takeSignalFn = l.takeSignal
	l.lanes.signals = queue.NewInbox[*lane](64, queue.WithGrowth[*lane](1024))
	l.parker = newChanParker(l) // made in New, so that a Loop made in a synctest bubble parks durably in it
	if cfg.precise {
		l.parker = newPreciseParker(l) // WithPrecise: the futex parker on Linux
	}
	if cfg.clock != nil {
		cfg.clock.attach(l) // virtual time: the clock is the parker
		// Spinning, polling and slack mean nothing on virtual time: the
		// loop would busy-wait on a clock that only Advance moves, while
		// Advance waits for it; and there are no real wake-ups for slack
		// to save, while Advance promises to fire every timer that falls
		// due.
		l.cfg.spin = 0
		l.cfg.spinAuto = false
		l.cfg.poll = 0
		l.cfg.slack = 0
	}
	if l.cfg.spinAuto {
		l.overshoot = new(overshoots)
	}
	l.health.init(&cfg.health)
	return l
}

// mustNew panics with a message if l was not made by New: the zero Loop
// has no inbox, and every method would fail on a nil pointer. A nil check
// on a field the caller loads anyway.
func (l *Loop) mustNew() {
	if l.inbox == nil {
		panic("hotloop: Loop not made by New; the zero Loop is not usable")
	}
}

// now returns the loop's clock: monotonic nanoseconds since New, or the
// virtual time of its FakeClock.
func (l *Loop) now() int64 {
	if c := l.clock; c != nil {
		return c.nanos.Load()
	}
	return int64(time.Since(l.base))
}

// readClock reads the loop's clock on the loop goroutine and keeps the
// reading in clockLo, a lower bound of every later reading. Loop goroutine
// only.
func (l *Loop) readClock() int64 {
	now := l.now()
	l.clockLo = now
	return now
}

// deadline returns now+d, clamped to [0, maxWhen]: a d < 0 means now.
func (l *Loop) deadline(d time.Duration) int64 {
	return addClamped(l.now(), max(int64(d), 0))
}

// addClamped returns a+b for a, b >= 0, saturating at maxWhen, the latest
// deadline a timer's state word holds (timer.go).
func addClamped(a, b int64) int64 {
	if a > maxWhen-b {
		return maxWhen
	}
	return a + b
}

// nextSeq hands out the next scheduling sequence number. Loop goroutine only.
func (l *Loop) nextSeq() uint64 {
	l.seq++
	return l.seq
}

// closing reports whether Close or Shutdown was called: new work is
// rejected. Safe from any goroutine; one atomic load.
func (l *Loop) closing() bool {
	return l.control.Load()&(ctlClose|ctlShutdown) != 0
}

// assertLoop panics under WithDebug if the caller is not the loop
// goroutine. "Loop goroutine only." on a function or a field, throughout
// this package, means: only the goroutine that owns the loop (it won
// running in acquire: the goroutine inside Run, or Close or Shutdown while
// they finish the loop themselves) calls it or touches it. The central
// entry points (iterate, park, finish) assert it; without WithDebug it is
// one branch. Loop goroutine only.
func (l *Loop) assertLoop(where string) {
	if l.cfg.debug && l.runner.Load() != goid() {
		panic("hotloop: internal error: " + where + " called off the loop goroutine")
	}
}

// onLoop reports whether the caller is the goroutine that owns the loop.
// It costs a stack walk (see goid); only paths that would deadlock or
// misbehave on the loop goroutine use it.
func (l *Loop) onLoop() bool {
	r := l.runner.Load()
	return r != 0 && r == goid()
}

// OnLoop reports whether the caller runs on l's loop goroutine: it is one
// of l's callbacks (or a hook l calls), so that it may use Local, and a
// call that waits for l (Do from outside, a Close that waits) would wait
// for itself. It costs about a microsecond (it reads the goroutine's id
// from runtime.Stack): use it to choose a path, not on every callback.
// Safe from any goroutine.
func (l *Loop) OnLoop() bool { return l.onLoop() }
