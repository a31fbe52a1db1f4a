package core

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The connection-manager tests: the workload hotloop's embeddable Timer is
// for. Each connection embeds its idle timer (Init once, then Reset on
// every read, allocating nothing); reads from several goroutines push the
// deadlines back while the loop fires the timers of the connections that
// went idle.

// cmViolations collects what the connection-manager tests find wrong, from
// any goroutine (the loop's included: no t.Fatal there).
type cmViolations struct {
	n     atomic.Int64
	mu    sync.Mutex
	first []string
}

func (v *cmViolations) add(format string, args ...any) {
	if v.n.Add(1) > 10 {
		return
	}
	v.mu.Lock()
	v.first = append(v.first, fmt.Sprintf(format, args...))
	v.mu.Unlock()
}

func (v *cmViolations) check(t *testing.T) {
	t.Helper()
	if n := v.n.Load(); n != 0 {
		v.mu.Lock()
		defer v.mu.Unlock()
		for _, s := range v.first {
			t.Error(s)
		}
		t.Fatalf("%d violations (the first %d above)", n, len(v.first))
	}
}

// cmIdle is the idle timeout of the fake-clock connection manager.
const cmIdle = 5 * time.Second

// cmPlan says when a connection of the fake-clock test is read: in the
// windows [0, stop1) and [reopen, stop2), at each clock step with
// probability 1/2 and at least every cmForceRead; the first step at or
// after reopen reads it in any case (reopening it). A live connection is
// read for the whole reading phase (stop1 is past its end).
type cmPlan struct {
	live          bool
	stop1         time.Duration
	reopen, stop2 time.Duration // reopen 0: no second window
}

// cmForceRead bounds the gap between two reads of a connection in a
// reading window: with clock steps of at most cmMaxStep, a connection in
// a window is never idle for cmIdle.
const (
	cmForceRead = 3 * time.Second
	cmMaxStep   = 1500 * time.Millisecond
)

// cmConn is a connection of the fake-clock test.
type cmConn struct {
	idle Timer // Init(l, onIdle); Reset(cmIdle) on accept and on every read
	plan cmPlan
	id   int

	// lastRead is the virtual time of the last read (or the accept), in
	// ns since the clock's start. Written by the connection's reader
	// between clock steps, read by onIdle on the loop.
	lastRead atomic.Int64
	closes   atomic.Int32 // onIdle calls
	// reopens counts reads that found the connection closed (Reset
	// reported false, re-arming it). Reader only.
	reopens int32
}

// cmManager is the fake-clock test's connection manager.
type cmManager struct {
	l       *Loop
	clk     *FakeClock
	t0      time.Time
	conns   []cmConn
	reading atomic.Bool // the reading phase: live connections must not close
	bad     cmViolations
}

func (m *cmManager) now() time.Duration { return m.clk.Since(m.t0) }

// onIdle closes c, on the loop goroutine: exactly cmIdle after its last
// read, since FakeClock.Advance fires every timer at its own deadline and
// no read happens during an Advance.
func (m *cmManager) onIdle(c *cmConn) {
	now := m.now()
	last := time.Duration(c.lastRead.Load())
	c.closes.Add(1)
	if now != last+cmIdle {
		m.bad.add("conn %d (%+v) closed at %v, last read at %v: want closed at exactly %v", c.id, c.plan, now, last, last+cmIdle)
	}
	if c.plan.live && m.reading.Load() {
		m.bad.add("live conn %d closed at %v during the reading phase (last read at %v)", c.id, now, last)
	}
}

// read is a read on c at virtual time now: it pushes the idle deadline
// back, or reopens a closed connection. The reader owning c only, while
// the clock stands still: no timer can fire meanwhile (every due one has
// fired), so Reset's report is exact.
func (m *cmManager) read(c *cmConn, now time.Duration, accept bool) {
	c.lastRead.Store(int64(now))
	open := c.closes.Load() == c.reopens && !accept // the accept arms the timer for the first time
	if armed := c.idle.Reset(cmIdle); armed != open {
		m.bad.add("conn %d at %v: Reset reported armed=%v, but the connection is open=%v (closes %d, reopens %d)",
			c.id, now, armed, open, c.closes.Load(), c.reopens)
	} else if !armed && !accept {
		c.reopens++
	}
}

// TestConnManagerIdleTimeouts: 10^5 connections (10^4 with -race or
// -short) with 5 s idle timeouts on a FakeClock; 4 goroutines, each owning
// a quarter of them, read them between clock steps of random length
// (0.1-1.5 s) for 35 s of virtual time, each read a Reset(5 s). Live
// connections are read at least every 3 s and never close while read;
// the others stop being read at a random time and each closes exactly
// once, at exactly its last read + 5 s. Variant "reopen": half of the idle
// connections are read again after they closed (Reset of the fired timer
// re-arms it, reporting false), then go idle again and close a second time
// at their new last read + 5 s. At the end, with no more reads, every
// connection closes, each at its last read + 5 s, and no timer is left.
// Both stores.
func TestConnManagerIdleTimeouts(t *testing.T) {
	n := 100_000
	if raceEnabled || testing.Short() {
		n = 10_000
	}
	for _, store := range bothStores {
		for _, reopen := range []bool{false, true} {
			name := store.String() + "/idle"
			if reopen {
				name = store.String() + "/reopen"
			}
			t.Run(name, func(t *testing.T) { testConnManager(t, store, n, reopen) })
		}
	}
}

func testConnManager(t *testing.T, store TimerStore, n int, reopen bool) {
	const (
		readers = 4
		// The reading phase: every idle connection closes within it, the
		// reopened ones twice (the second time by 25+1.5+3+5 s).
		phase = 35 * time.Second
	)
	l, clk, stop := startFake(t, WithTimerStore(store))
	defer stop()
	m := &cmManager{l: l, clk: clk, t0: clk.Now(), conns: make([]cmConn, n)}
	rng := rand.New(rand.NewPCG(uint64(n), 5))
	var nLive, nReopen int
	for i := range m.conns {
		c := &m.conns[i]
		c.id = i
		if err := c.idle.Init(l, func() { m.onIdle(c) }); err != nil {
			t.Fatal(err)
		}
		switch {
		case rng.IntN(10) < 4:
			c.plan = cmPlan{live: true, stop1: phase + time.Hour}
			nLive++
		default:
			c.plan.stop1 = time.Duration(rng.Int64N(int64(15 * time.Second)))
			if reopen && rng.IntN(2) == 0 {
				// After it closed (before stop1 + 5 s), and early enough
				// to close again within the phase.
				c.plan.reopen = c.plan.stop1 + cmIdle + time.Duration(rng.Int64N(int64(5*time.Second)))
				c.plan.stop2 = c.plan.reopen + time.Duration(rng.Int64N(int64(3*time.Second)))
				nReopen++
			}
		}
	}
	inWindow := func(p cmPlan, now time.Duration) bool {
		return now < p.stop1 || (p.reopen > 0 && now >= p.reopen && now < p.stop2)
	}
	// step runs one round of reads, from every reader at once, at the
	// current virtual time; accept is the first round.
	var round uint64
	step := func(accept bool) {
		round++
		now := m.now()
		var wg sync.WaitGroup
		for g := range readers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(round, uint64(g)))
				lo, hi := g*n/readers, (g+1)*n/readers
				for i := lo; i < hi; i++ {
					c := &m.conns[i]
					since := now - time.Duration(c.lastRead.Load())
					switch {
					case accept:
						m.read(c, now, true) // arms the timer
					case c.plan.reopen > 0 && now >= c.plan.reopen && c.reopens == 0:
						m.read(c, now, false) // the first read after reopen: the connection is closed
					case !inWindow(c.plan, now):
					case since >= cmForceRead || r.IntN(2) == 0:
						m.read(c, now, false)
					}
				}
			})
		}
		wg.Wait()
	}
	m.reading.Store(true)
	step(true)
	for m.now() < phase {
		clk.Advance(100*time.Millisecond + time.Duration(rng.Int64N(int64(cmMaxStep-100*time.Millisecond))))
		step(false)
	}
	m.reading.Store(false)
	m.bad.check(t)
	for i := range m.conns {
		c := &m.conns[i]
		want := int32(1) // idle: closed once
		switch {
		case c.plan.live:
			want = 0
		case c.plan.reopen > 0:
			want = 2
		}
		if got := c.closes.Load(); got != want {
			t.Fatalf("conn %d (%+v): closed %d times by the end of the reading phase, want %d", i, c.plan, got, want)
		}
		if c.plan.reopen > 0 && c.reopens != 1 {
			t.Fatalf("conn %d (%+v): reopened %d times, want 1", i, c.plan, c.reopens)
		}
	}
	clk.Advance(cmIdle + time.Second) // no more reads: the live ones close too
	m.bad.check(t)
	for i := range m.conns {
		c := &m.conns[i]
		if got, want := c.closes.Load(), c.reopens+1; got != want {
			t.Fatalf("conn %d (%+v): closed %d times in all, want %d (once per time it was opened)", i, c.plan, got, want)
		}
	}
	if s := statsWhen(l, func(s Stats) bool { return s.TimersPending == 0 }); s.TimersPending != 0 {
		t.Errorf("TimersPending = %d at the end, want 0", s.TimersPending)
	}
	t.Logf("%d conns: %d live, %d idle of which %d reopened; %d clock steps", n, nLive, n-nLive, nReopen, round-1)
}

// soakConn is a connection of the real-clock soak.
type soakConn struct {
	idle Timer
	id   int
	kind int // soakLive, soakBursty or soakIdle

	// committed packs, after each Reset returns, epoch<<40 | start: start
	// is when that Reset began (ns since the test's base, monotonic) and
	// epoch how many times the reader has armed the timer from disarmed
	// (Resets that reported false, the accept's included). Written by the
	// connection's reader, read by onIdle.
	committed atomic.Int64
	epoch     int64        // reader only
	closes    atomic.Int64 // onIdle calls; the loop only writes it
}

const (
	soakLive = iota
	soakBursty
	soakIdle

	soakStartBits = 40 // 2^40 ns is 18 minutes: ample for a soak
)

// TestConnManagerSoak is the connection manager on the real clock, under
// load: 2000 connections with a 20 ms idle timeout, read by 4 goroutines
// every millisecond or so for 300 ms per store: live connections on every
// pass, bursty ones in random bursts with pauses long enough to close them
// (a later read reopens them), idle ones never after the accept. Machines
// are noisy, so nothing here is timed; the invariant checked is the one
// that holds on any machine: a timer never fires before its deadline. In
// onIdle the elapsed time since the start of the last Reset that armed the
// timer must be at least the timeout, since the Reset computes the
// deadline after it begins: in particular a connection read within the
// last 20 ms is never closed. (Which Reset armed the deadline that fired is
// known without timing: the Resets that report true all precede the fire
// and one that reports false follows it, so onIdle uses the start of a
// Reset of its own arming epoch, or of an earlier one, never of a later
// one.) At the end every connection is stopped: each closed exactly once
// per time it was armed, less the arming Stop cancelled. Skipped with
// -short.
func TestConnManagerSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("real-clock soak; skipped with -short")
	}
	const (
		n       = 2000
		readers = 4
		timeout = 20 * time.Millisecond
		runFor  = 300 * time.Millisecond
	)
	for _, store := range bothStores {
		t.Run(store.String(), func(t *testing.T) {
			l := New(WithTimerStore(store))
			stop := start(t, l)
			defer stop()
			base := time.Now()
			mono := func() int64 { return int64(time.Since(base)) }
			var bad cmViolations
			var unchecked, liveClosed atomic.Int64
			conns := make([]soakConn, n)
			for i := range conns {
				c := &conns[i]
				c.id = i
				c.kind = i % 3
				err := c.idle.Init(l, func() {
					el := mono()
					k := c.closes.Add(1) // this is the k-th fire: of the k-th arming epoch
					p := c.committed.Load()
					epoch, start := p>>soakStartBits, p&(1<<soakStartBits-1)
					if epoch > k {
						unchecked.Add(1) // already re-armed and reset again: no start of epoch k left to check against
						return
					}
					if el-start < int64(timeout) {
						bad.add("conn %d (kind %d) closed %v after a Reset began (epoch %d of %d): before its %v deadline",
							c.id, c.kind, time.Duration(el-start), epoch, k, timeout)
					}
					if c.kind == soakLive {
						liveClosed.Add(1) // legitimate only if its reader was held up for the timeout: logged
					}
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			reset := func(c *soakConn) {
				start := mono()
				if !c.idle.Reset(timeout) {
					c.epoch++ // armed anew: the accept, or a reopen after a close
				}
				c.committed.Store(c.epoch<<soakStartBits | start)
			}
			var resets atomic.Int64
			end := time.Now().Add(runFor)
			var wg sync.WaitGroup
			for g := range readers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 20))
					mine := conns[g*n/readers : (g+1)*n/readers]
					pauseUntil := make([]time.Time, len(mine)) // bursty: no reads until then
					for i := range mine {
						reset(&mine[i]) // accept
					}
					var count int64
					for time.Now().Before(end) {
						now := time.Now()
						for i := range mine {
							c := &mine[i]
							switch c.kind {
							case soakIdle:
								continue
							case soakBursty:
								if now.Before(pauseUntil[i]) {
									continue
								}
								if rng.IntN(20) == 0 { // pause for 0-60 ms: often long enough to close
									pauseUntil[i] = now.Add(time.Duration(rng.IntN(60)) * time.Millisecond)
									continue
								}
							}
							reset(c)
							count++
						}
						time.Sleep(time.Millisecond)
					}
					resets.Add(count)
				})
			}
			wg.Wait()
			// Stop every connection: armed (Stop true), it closed once per
			// earlier arming; fired (false), once per arming, the last
			// callback having begun: Do runs after it.
			stopped := make([]bool, n)
			for i := range conns {
				stopped[i] = conns[i].idle.Stop()
			}
			do(t, l, func() {})
			bad.check(t)
			var closes int64
			for i := range conns {
				c := &conns[i]
				want := c.epoch
				if stopped[i] {
					want--
				}
				got := c.closes.Load()
				closes += got
				if got != want {
					t.Errorf("conn %d (kind %d): closed %d times, want %d (armed %d times, stopped armed: %v)",
						i, c.kind, got, want, c.epoch, stopped[i])
				}
			}
			t.Logf("%d Resets, %d closes (%d of live conns, from readers held up for %v), %d closes not checkable",
				resets.Load(), closes, liveClosed.Load(), timeout, unchecked.Load())
		})
	}
}
