package core

// fakeParker is a Loop's parker on a FakeClock ([WithClock]). Its fields
// other than the immutable ones are guarded by clk.mu.
//
// The clock is the parker (see parker in park.go) of each Loop attached to
// it, so the park protocol (park.go) is unchanged: the loop still
// publishes parked and re-checks its inbox before it blocks, and a waker
// still sends exactly one token. What the clock adds is a view of which
// loops are blocked and until when, kept under mu:
//
//   - a loop's block records blocked=true and its deadline under mu, unless
//     a token is already there or the deadline has already passed, and
//     broadcasts cond;
//   - kick clears blocked and sends the token under mu, so that "blocked"
//     never describes a loop that a token is about to wake;
//   - Advance, under mu, waits on cond until every attached loop is idle
//     (blocked, finished, or no longer run), moves nanos to the earliest
//     blocked deadline at or before its target, clears blocked and sends on
//     fire for each loop due then, and goes round again; when nothing more
//     is due by the target it stores the target and returns.
//
// nanos is written only under mu (by Advance) and read by any goroutine
// through the loop's clock without the lock: it is an atomic.
type fakeParker struct {
	clk  *FakeClock
	l    *Loop
	wake chan struct{} // capacity 1: the waker's token, sent under clk.mu
	fire chan struct{} // capacity 1: Advance ends a timed block, sent under clk.mu

	blocked  bool  // in block with no token or fire pending
	timed    bool  // the block has a deadline
	deadline int64 // valid when timed
	ran      bool  // Run has owned the loop at least once
}

// idle reports whether Advance need not wait for this loop. Caller holds
// clk.mu.
func (p *fakeParker) idle() bool {
	if p.blocked || p.l.isDone() {
		return true
	}
	return p.ran && !p.l.running.Load()
}

func (p *fakeParker) kick() {
	p.clk.mu.Lock()
	p.blocked = false
	p.wake <- struct{}{} // never blocks: one token at most
	p.clk.mu.Unlock()
}

func (p *fakeParker) take() { <-p.wake }

func (p *fakeParker) block(deadline int64, timed bool, done <-chan struct{}) bool {
	c := p.clk
	c.mu.Lock()
	if len(p.wake) > 0 {
		<-p.wake
		c.mu.Unlock()
		return true
	}
	select {
	case <-p.fire:
		// Left over: Advance fired the last block just as a waker's token
		// ended it. Fire is sent only while blocked, so none can arrive
		// until we set blocked below.
	default:
	}
	if timed && c.nanos.Load() >= deadline {
		c.mu.Unlock()
		return false
	}
	p.blocked, p.timed, p.deadline = true, timed, deadline
	c.cond.Broadcast()
	c.mu.Unlock()
	select {
	case <-p.wake: // the waker cleared blocked
		return true
	case <-p.fire: // Advance cleared blocked
		return false
	case <-done:
		c.mu.Lock()
		p.blocked = false
		select {
		case <-p.fire: // Advance fired us at the same moment: drop it
		default:
		}
		c.cond.Broadcast()
		c.mu.Unlock()
		return false
	}
}
