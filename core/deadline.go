package core

// This file holds the deadline arithmetic of WithSlack and WithSpin. Both
// only ever move the moment the loop stops waiting later, never earlier:
// the loop fires a timer only once its own clock has reached the timer's
// deadline (Store.PopDue(now) in fireDue), so no parker or option can make
// a timer fire early; these functions decide only when the loop looks.

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

// wait blocks the parked loop until deadline (if timed), a kick, or done,
// like parker.block, but with WithSpin it parks only until spin before the
// deadline and busy-waits on the loop clock for the rest. Owner only,
// called by park with parked=true.
func (l *Loop) wait(deadline int64, timed bool, done <-chan struct{}) (woken bool) {
	spin := l.cfg.spin
	if !timed || spin <= 0 {
		return l.parker.block(deadline, timed, done)
	}
	if early := spinStart(deadline, spin); early > l.now() {
		if l.parker.block(early, true, done) {
			return true
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
// park collects through unpark). It returns false in every case: the
// caller unparks, taking the token if one is owed. Owner only.
func (l *Loop) spinUntil(deadline int64, done <-chan struct{}) bool {
	for l.now() < deadline {
		if !l.parked.Load() {
			return false // a waker cleared parked: unpark takes its token
		}
		select {
		case <-done:
			return false
		default:
		}
	}
	return false
}
