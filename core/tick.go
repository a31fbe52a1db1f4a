package core

import (
	"errors"
	"fmt"
)

// MissedTick is what a periodic timer ([Loop.Every]) does with the ticks it
// missed because the loop, or its own callback, fell behind by more than a
// period. It is tokio's MissedTickBehavior. Pass it as Every's optional last
// argument.
//
// Take Every(10ms) whose tick at 10 ms runs until 45 ms, so that the ticks
// due at 20, 30 and 40 ms are missed:
//
//	TickSkip   10, 50, 60, 70 ...        the missed ticks are dropped; the phase is kept
//	TickBurst  10, 45, 45, 45, 50, 60 ... they run back to back, then the phase resumes
//	TickDelay  10, 45, 55, 65 ...        one runs late, then the schedule restarts from it
//
// A timer that the loop fires late (because other callbacks held it up, not
// its own) runs that late tick once under every policy; the policy then
// decides the next deadline as above. Under TickSkip and TickBurst a tick
// counts as missed only when its deadline has already passed by the time
// the previous tick's callback returns, so a loop that is merely a little
// late never drifts. TickDelay always counts from the moment the tick
// began: the gap between calls is never shorter than a period, and any
// lateness shifts the phase.
type MissedTick uint8

const (
	// TickSkip drops missed ticks: the next tick is the first multiple of
	// the period (from the first deadline) that is still in the future, so
	// the schedule keeps its phase, like time.Ticker. The default.
	TickSkip MissedTick = iota

	// TickBurst runs every missed tick, back to back, as soon as the loop
	// can, then resumes the original phase: the number of calls over a long
	// run equals elapsed time / period. A loop far behind runs many calls in
	// a row (at most WithBatch of them per iteration, so posts still run in
	// between).
	TickBurst

	// TickDelay schedules each tick one period after the previous one
	// began, like tokio's MissedTickBehavior::Delay: the gap between calls
	// is never shorter than a period, even when a tick ran late, and the
	// phase shifts by the delay; missed ticks are dropped.
	TickDelay

	numMissedTick // the number of policies; not a policy
)

// String returns the policy's name, for example "TickBurst".
func (m MissedTick) String() string {
	switch m {
	case TickSkip:
		return "TickSkip"
	case TickBurst:
		return "TickBurst"
	case TickDelay:
		return "TickDelay"
	}
	return fmt.Sprintf("MissedTick(%d)", uint8(m))
}

// ErrBadPolicy is wrapped by the error Every returns when it is given more
// than one missed-tick policy, or an unknown one.
var ErrBadPolicy = errors.New("hotloop: want at most one known MissedTick policy")

// missedTick returns the policy in Every's optional argument.
func missedTick(method string, policy []MissedTick) (MissedTick, error) {
	switch {
	case len(policy) == 0:
		return TickSkip, nil
	case len(policy) > 1 || policy[0] >= numMissedTick:
		return 0, badArg(method, fmt.Errorf("%w, got %v", ErrBadPolicy, policy))
	}
	return policy[0], nil
}

// nextTick returns the deadline of a periodic timer's next tick: when is the
// deadline of the tick that just ran, start the loop clock when it began and
// end the loop clock after its callback returned (start >= when, end >=
// start). The caller clamps an overflowing result. O(1).
func nextTick(when, period, start, end int64, m MissedTick) int64 {
	if m == TickDelay {
		return start + period // a period after this tick began, late or not; due already if fn ran for a period or more
	}
	next := when + period
	if next > end || next < when { // on time, or overflowed (clamped by the caller)
		return next
	}
	switch m {
	case TickBurst:
		return next // due already: fired again by this or the next iteration
	default: // TickSkip
		missed := (end-next)/period + 1
		return next + missed*period
	}
}
