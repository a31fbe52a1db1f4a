package core

import (
	"errors"
	"math"
	"runtime"
	"sync"

	"go.uber.org/atomic"

	"github.com/hotloop/hotloop/queue"
)

// ErrProducerClosed is returned by Producer.Post after Producer.Close.
var ErrProducerClosed = errors.New("hotloop: producer is closed")

// Producer is a lane of its own into a Loop, for a goroutine that posts
// much: posts through it never contend with other goroutines' posts.
// Loop.Post is one inbox that every goroutine appends to, and under a
// burst from several goroutines on several cores the cost is that shared
// tail (docs/BENCHMARKS.md, "A lane per producer": two goroutines posting
// at once paid about 150 ns a post through one inbox, about 9 ns through a
// lane each).
//
// Which to use: Local().Post from inside callbacks; Loop.Post for
// occasional posts and for many or short-lived posting goroutines; a
// Producer each for a few long-lived goroutines that post in bursts (a
// network reader feeding the loop events), kept for the goroutine's life.
// An idle Producer costs the loop nothing: only lanes with work are
// visited. But each holds its lane (below), and making one costs more than
// a few posts, so not one per request.
//
// Posts through one Producer run in the order they were made, as with
// Loop.Post from one goroutine. Posts through different Producers, or
// through a Producer and Loop.Post, are not ordered with each other: send
// all of one stream's posts through the same Producer (a "connection
// closed" posted with Loop.Post can run before data posted earlier through
// a Producer). A Producer is safe for concurrent use, but sharing one
// gains nothing over Loop.Post. Each iteration the loop takes at most
// WithBatch messages from the inbox and the lanes together, the sources
// taking turns at going first.
//
// Loop.Close and Loop.Shutdown close every Producer and run the posts they
// accepted; Producer.Close afterwards is harmless. While the loop runs on,
// close a Producer when its goroutine is done with it: until then it keeps
// its lane. A Producer that becomes unreachable is closed by the garbage
// collector (runtime.AddCleanup). Its lane starts at 1024 messages
// (24 KB), whatever WithInboxSize says, grows under bursts up to 131072
// messages (about 3 MB) plus an overflow buffer, and is freed when the
// Producer is closed and its posts have run.
type Producer struct {
	_  noCopy // go vet's copylocks check reports copies: the collector closes the lane when the original goes
	l  *Loop
	ln *lane
	c  runtime.Cleanup
}

// lane is a Producer's inbox, as the loop sees it. Immutable after
// NewProducer; the queue it points to is safe for concurrent use.
type lane struct {
	q *queue.Inbox[lanePost]

	// busy is the lane's place on the loop's busy list, as a token: true
	// while the lane is on l.busy or a signal naming it is on its way (in
	// lanes.signals). Set only by a compare-and-swap from false — by a
	// poster after its push, by Close, or by the loop keeping the lane —
	// and whoever sets it sends the signal (or keeps the lane); cleared
	// only by the loop, when it finds the lane empty (release). So a lane
	// is on the list at most once, and an idle lane costs the loop nothing.
	busy atomic.Bool
}

// signal puts ln on the loop's busy list unless it is there or on its
// way: after a push into ln (Post), and after ln is closed (so that the
// loop visits it once more and forgets it). A signal the closed signal
// queue refuses is not needed: the loop is finishing and drains every
// lane. Any goroutine.
func (ln *lane) signal(l *Loop) {
	if !ln.busy.Load() && ln.busy.CompareAndSwap(false, true) {
		l.lanes.signals.Push(ln)
	}
}

// close closes ln and has the loop visit it, so that it is forgotten once
// drained. Idempotent. Any goroutine.
func (ln *lane) close(l *Loop) {
	ln.q.Close()
	ln.signal(l)
	l.wakeIfParked()
}

// laneSize is a lane's initial capacity, and laneGrowth how far it may
// grow (queue.WithGrowth): 1024 messages grow to at most 131072, the
// inbox's limit at the default WithInboxSize.
const (
	laneSize   = 1024
	laneGrowth = 128
)

// lanes is the loop's set of open lanes, and the queue through which a
// lane that has work says so.
//
// mu orders the changes to the set: NewProducer adding a lane, the loop
// removing one that is closed and empty, and Close and Shutdown closing
// every lane (closeAll). Readers load list without the lock: a slice that
// is never modified once published (copy on write). closed, written under
// mu by closeAll, makes a later NewProducer fail: so every lane is either
// closed by closeAll, or refused — no lane can be added after the loop
// stopped taking work, and every Post a lane accepted is delivered (the
// lane's inbox accepts nothing once closed, and finish drains every lane
// in the set until it is empty).
//
// In the running loop only busy lanes cost anything: a poster whose push
// finds its lane idle signals it (lane.signal) through signals, an inbox
// of its own that the loop drains into its busy list (l.busy) at every
// iteration and looks at before it parks, as it does the main inbox. The
// loop drains the busy lanes, and lets go of one it finds empty
// (drainSome).
type lanes struct {
	mu      sync.Mutex
	closed  atomic.Bool             // closeAll has begun: stored under mu before it closes the lanes; loaded by NewProducer under mu and by Producer.Post
	list    atomic.Pointer[[]*lane] // written under mu; read by finish, Stats and Shutdown's end check
	signals *queue.Inbox[*lane]     // lanes that became busy (lane.signal); made by New; drained by the loop only

	// some is set (under mu, before the first lane is published) by the
	// first NewProducer and never cleared: until then no lane can signal,
	// and the loop's iteration and park skip the signal queue for one
	// load of a line that does not change.
	some atomic.Bool
}

// signalled reports whether a lane signal may be waiting. Any goroutine;
// for the park protocol, it loads the signal queue's tail when some is set
// (a lane can signal only after NewProducer has set it).
func (s *lanes) signalled() bool { return s.some.Load() && !s.signals.Empty() }

// NewProducer returns a new Producer for l. It fails with ErrClosed once
// Close or Shutdown was called. Safe from any goroutine. It allocates the
// lane (about 24 KB).
func (l *Loop) NewProducer() (*Producer, error) {
	l.mustNew()
	ln := &lane{q: queue.NewInbox(laneSize,
		queue.WithGrowth[lanePost](laneGrowth),
		queue.WithStamp(l.cfg.health.lagEvery, l.stampLanePost))}
	s := &l.lanes
	s.mu.Lock()
	if s.closed.Load() || l.closing() {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	s.some.Store(true)
	s.list.Store(withLane(s.list.Load(), ln))
	s.mu.Unlock()
	p := &Producer{l: l, ln: ln}
	p.c = runtime.AddCleanup(p, func(ln *lane) { ln.close(l) }, ln)
	return p, nil
}

// withLane returns a copy of list with ln added. O(len(list)).
func withLane(list *[]*lane, ln *lane) *[]*lane {
	var old []*lane
	if list != nil {
		old = *list
	}
	n := make([]*lane, len(old), len(old)+1)
	copy(n, old)
	n = append(n, ln)
	return &n
}

// TryPost is Post bounded as Loop.TryPost is: it accepts fn only if the
// Producer's lane holds fewer than 1024 posts (its initial capacity, which
// Post's bursts may grow, do not raise this bound), and returns ErrFull
// otherwise. Use it from
// callbacks of other loops, which must not wait. Lock-free, no allocation.
func (p *Producer) TryPost(fn func()) error {
	p.mustNew()
	if fn == nil {
		return badArg("Producer.TryPost", ErrNilFunc)
	}
	ok, full := p.ln.q.TryPush(lanePost{fn: fn})
	switch {
	case full:
		return ErrFull
	case !ok && p.l.lanes.closed.Load():
		return ErrClosed
	case !ok:
		return ErrProducerClosed
	}
	p.ln.signal(p.l) // after the push: see the protocol in releaseIdle
	p.l.wakeIfParked()
	return nil
}

// Post queues fn to run on the loop after the callbacks posted before it
// through p. A nil error means fn will run exactly once, also if p or the
// loop is closed afterwards. Once the loop's Close or Shutdown was called
// it returns ErrClosed (whether or not p was closed too); after p.Close,
// ErrProducerClosed; for a nil fn, an error wrapping ErrNilFunc. Safe from
// any goroutine; O(1) amortised, no allocation once the lane has grown to
// its working size.
func (p *Producer) Post(fn func()) error {
	p.mustNew()
	if fn == nil {
		return badArg("Producer.Post", ErrNilFunc)
	}
	if !p.ln.q.Push(lanePost{fn: fn}) {
		if p.l.lanes.closed.Load() { // the loop's Close or Shutdown closed the lane: stored before it did
			return ErrClosed
		}
		return ErrProducerClosed
	}
	p.ln.signal(p.l) // after the push: see the protocol in releaseIdle
	p.l.wakeIfParked()
	return nil
}

// Close makes every later Post through p fail with ErrProducerClosed; the
// callbacks it accepted before still run. The loop forgets the lane once
// it has taken them. Close is idempotent and safe from any goroutine; it
// always returns nil (the error is there for io.Closer).
func (p *Producer) Close() error {
	p.mustNew()
	p.c.Stop()
	p.ln.close(p.l)
	return nil
}

// mustNew panics with a message if p was not made by NewProducer.
func (p *Producer) mustNew() {
	if p == nil || p.ln == nil {
		panic("hotloop: Producer not made by Loop.NewProducer")
	}
}

// drainSome moves up to max messages from the inbox and the busy lanes
// into the ready queue and the timer store, and returns how many it moved.
// It first takes the signals of lanes that became busy. The sources take
// turns at going first, one iteration each, so that neither a flooded
// inbox nor a flooded lane starves the others, and the batch stays bounded
// however many lanes are busy. A lane found empty is let go (release), and
// forgotten if it is also closed. Idle lanes cost nothing. Loop goroutine
// only.
func (l *Loop) drainSome(max int) int {
	if l.lanes.some.Load() {
		l.lanes.signals.Drain(math.MaxInt, l.takeSignalFn)
	}
	if len(l.busy) == 0 {
		return l.inbox.Drain(max, l.handleFn)
	}
	k := len(l.busy) + 1 // the inbox is source 0
	start := l.drainNext % k
	l.drainNext = start + 1
	n := 0
	for i := 0; i < k && n < max; i++ {
		j := (start + i) % k
		if j == 0 {
			n += l.inbox.Drain(max-n, l.handleFn)
			continue
		}
		n += l.busy[j-1].q.Drain(max-n, l.handleLaneFn)
	}
	l.releaseIdle()
	return n
}

// takeSignal puts a signalled lane on the busy list. Loop goroutine only.
func (l *Loop) takeSignal(ln **lane) { l.busy = append(l.busy, *ln) }

// releaseIdle lets go of the busy lanes found empty, keeping the order of
// the others. The protocol with lane.signal: the loop clears busy, then
// looks at the lane again; a poster pushes, then loads busy. In the total
// order of these sequentially consistent atomics, either the loop's second
// look sees the push (it takes busy back with a compare-and-swap and keeps
// the lane), or the poster's load sees busy cleared (it takes busy and
// signals the lane); if both try, the compare-and-swap lets one win. So a
// pushed message always leaves its lane on the list or signalled. Loop
// goroutine only.
func (l *Loop) releaseIdle() {
	keep, gone := l.busy[:0], false
	for _, ln := range l.busy {
		if ln.q.Empty() {
			ln.busy.Store(false)
			if ln.q.Empty() || !ln.busy.CompareAndSwap(false, true) {
				gone = gone || ln.q.Closed()
				continue // idle now, or signalled again by a poster
			}
		}
		keep = append(keep, ln)
	}
	clear(l.busy[len(keep):])
	l.busy = keep
	if gone {
		l.lanes.forgetDrained()
	}
}

// drainLanes moves up to max messages from every lane in the set, busy or
// not, for finish and Shutdown, and returns how many it moved. Loop
// goroutine only.
func (l *Loop) drainLanes(max int) int {
	list := l.lanes.list.Load()
	if list == nil {
		return 0
	}
	n := 0
	for _, ln := range *list {
		n += ln.q.Drain(max, l.handleLaneFn)
	}
	return n
}

// forgetDrained removes from the set the lanes that are closed and empty:
// nothing can be pushed into a closed lane, and an empty one has had every
// accepted message taken. Loop goroutine only (the loop is their only
// consumer, so empty stays empty).
func (s *lanes) forgetDrained() {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.list.Load()
	if list == nil {
		return
	}
	keep := make([]*lane, 0, len(*list))
	for _, ln := range *list {
		if !(ln.q.Closed() && ln.q.Empty()) {
			keep = append(keep, ln)
		}
	}
	s.list.Store(&keep)
}

// closeAll closes every lane and the signal queue, and refuses new lanes:
// Close and Shutdown call it right after closing the inbox; from then on
// finish drains every lane in the set. Any goroutine.
func (s *lanes) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed.Store(true)
	if list := s.list.Load(); list != nil {
		for _, ln := range *list {
			ln.q.Close()
		}
	}
	s.signals.Close()
}

// empty reports whether every lane in the set is empty, busy or not: for
// drainAll and Shutdown's end check, which must not miss an idle lane's
// message (the running loop looks only at busy lanes). Any goroutine.
func (s *lanes) empty() bool {
	list := s.list.Load()
	if list == nil {
		return true
	}
	for _, ln := range *list {
		if !ln.q.Empty() {
			return false
		}
	}
	return true
}

// len returns the number of messages waiting in the lanes (approximate).
func (s *lanes) len() int {
	list := s.list.Load()
	if list == nil {
		return 0
	}
	n := 0
	for _, ln := range *list {
		n += ln.q.Len()
	}
	return n
}
