package impl

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emirpasic/gods/trees/redblacktree"

	"github.com/hotloop/hotloop/internal/seedtree"
)

// Seed is a replica, written for this harness, of the seed design: the
// PyLoop design note's event loop with an adaptive sleep, which hotloop
// starts from:
//
//   - one goroutine runs the loop;
//   - callbacks (from any goroutine, there is no separate local path) go to
//     a slice guarded by a sync.Mutex;
//   - timers live in a github.com/emirpasic/gods red-black tree keyed by
//     (expiry, sequence), guarded by a second sync.Mutex;
//   - each iteration runs up to 128 callbacks, then fires every expired
//     timer, then — only when no callback is pending — sleeps
//     min(next expiry − now, 1 ms), or 1 ms when there are no timers;
//   - the sleep is nanosleep(2) on the loop's thread, which is what the
//     seed's std::thread::sleep does. time.Sleep would not be faithful: an
//     idle Go process waits for its timers in epoll_wait, whose timeout is
//     whole milliseconds, so every sub-millisecond time.Sleep lasts about
//     1.1 ms here. A zero sleep is skipped, as Rust's sleep(0) returns at
//     once;
//   - nothing wakes the sleep early: a Post from another goroutine waits for
//     the current sleep to end.
//
// Every completed non-zero sleep counts as one wake-up. The seed has no
// reset: pushing a timer back (W8) is a cancel and a new schedule, which
// this replica does as one remove and one insert under the timer lock,
// the same from the loop and from other goroutines.
var Seed = Def[SeedTimer]{
	Name: "seed",
	Doc:  "replica of the seed design: mutex+slice callbacks, mutex+gods RB-tree timers, 128-callback batches, nanosleep ≤ 1 ms",
	New:  newSeed,
}

// SeedTimer is the seed replica's timer handle: the timer's key in the
// tree, (expiry in Now() nanoseconds, sequence), ordered by
// seedtree.Compare.
type SeedTimer = seedtree.Key

const (
	seedBatch    = 128
	seedMaxSleep = time.Millisecond
)

type seedLoop struct {
	cbMu sync.Mutex
	cbs  []func()

	tMu    sync.Mutex
	timers *redblacktree.Tree // SeedTimer -> func()
	seq    uint64

	wakeups atomic.Uint64
	closed  atomic.Bool
	done    chan struct{}

	batch   []func()
	expired []func()
}

func newSeed() (Loop[SeedTimer], error) {
	s := &seedLoop{
		timers: seedtree.New(),
		done:   make(chan struct{}),
	}
	go s.run()
	return s, nil
}

func (s *seedLoop) run() {
	defer close(s.done)
	for !s.closed.Load() {
		// 1. Up to 128 callbacks.
		s.cbMu.Lock()
		n := min(len(s.cbs), seedBatch)
		s.batch = append(s.batch[:0], s.cbs[:n]...)
		clear(s.cbs[:n])
		s.cbs = s.cbs[n:]
		s.cbMu.Unlock()
		for i, fn := range s.batch {
			fn()
			s.batch[i] = nil
		}

		// 2. Every expired timer, taken out under the lock and run outside
		// it (a callback may schedule more timers).
		now := Now()
		s.tMu.Lock()
		for {
			node := s.timers.Left()
			if node == nil || node.Key.(SeedTimer).When > now {
				break
			}
			s.expired = append(s.expired, node.Value.(func()))
			s.timers.Remove(node.Key)
		}
		s.tMu.Unlock()
		for i, fn := range s.expired {
			fn()
			s.expired[i] = nil
		}
		s.expired = s.expired[:0]

		// 3. Adaptive sleep, capped at 1 ms, only when no callback waits.
		s.cbMu.Lock()
		hasTasks := len(s.cbs) > 0
		s.cbMu.Unlock()
		if hasTasks {
			continue
		}
		sleep := seedMaxSleep
		s.tMu.Lock()
		if node := s.timers.Left(); node != nil {
			sleep = min(sleep, time.Duration(node.Key.(SeedTimer).When-Now()))
		}
		s.tMu.Unlock()
		if sleep > 0 {
			ts := syscall.NsecToTimespec(int64(sleep))
			for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
			}
			s.wakeups.Add(1)
		}
	}
}

func (s *seedLoop) Post(fn func()) bool {
	if s.closed.Load() {
		return false
	}
	s.cbMu.Lock()
	s.cbs = append(s.cbs, fn)
	s.cbMu.Unlock()
	return true
}

func (s *seedLoop) PostLocal(fn func()) bool { return s.Post(fn) }

func (s *seedLoop) AfterFunc(d time.Duration, fn func()) (SeedTimer, error) {
	if s.closed.Load() {
		return SeedTimer{}, ErrClosed
	}
	when := Now() + int64(d)
	s.tMu.Lock()
	s.seq++
	k := SeedTimer{When: when, Seq: s.seq}
	s.timers.Put(k, fn)
	s.tMu.Unlock()
	return k, nil
}

func (s *seedLoop) Stop(t SeedTimer) bool {
	s.tMu.Lock()
	defer s.tMu.Unlock()
	if _, found := s.timers.Get(t); !found {
		return false
	}
	s.timers.Remove(t)
	return true
}

func (s *seedLoop) Reset(t SeedTimer, d time.Duration, fn func()) SeedTimer {
	when := Now() + int64(d)
	s.tMu.Lock()
	s.timers.Remove(t) // a no-op if t has fired
	s.seq++
	k := SeedTimer{When: when, Seq: s.seq}
	s.timers.Put(k, fn)
	s.tMu.Unlock()
	return k
}

func (s *seedLoop) ResetRemote(t SeedTimer, d time.Duration, fn func()) SeedTimer {
	return s.Reset(t, d, fn)
}

func (s *seedLoop) Wakeups() (uint64, bool) { return s.wakeups.Load(), true }

func (s *seedLoop) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	<-s.done
	return nil
}
