package core

import (
	"errors"
	"strings"
)

// ErrClosed is returned by methods of a Loop that has been closed or is
// shutting down, and by Run once Close or Shutdown has finished the loop.
var ErrClosed = errors.New("hotloop: loop is closed")

// ErrRunning is returned by Run when another Run of the same Loop is active.
var ErrRunning = errors.New("hotloop: loop is already running")

// ErrFull is returned by TryPost, and by PostWait on the loop's own
// goroutine (where it cannot wait for itself), when the loop's inbox holds
// as many posts as its capacity (WithInboxSize): the loop is behind. The
// post is not accepted.
var ErrFull = errors.New("hotloop: loop is full: its inbox holds as many posts as its capacity")

// ErrNilFunc is wrapped by the error a method returns when it is given a nil
// callback. The callback is not accepted.
var ErrNilFunc = errors.New("hotloop: nil callback")

// ErrBadPeriod is wrapped by the error Every returns for a period <= 0.
var ErrBadPeriod = errors.New("hotloop: period must be positive")

// ErrBadLeeway is wrapped by the error Timer.SetLeeway returns for a
// negative leeway.
var ErrBadLeeway = errors.New("hotloop: leeway must not be negative")

// badArg reports a rejected argument, naming the method, for example
// "hotloop: AfterFunc: nil callback": err's own "hotloop: " is not
// repeated. errors.Is sees err through it.
func badArg(method string, err error) error {
	return &argError{method, err}
}

// argError is badArg's error.
type argError struct {
	method string
	err    error
}

func (e *argError) Error() string {
	return "hotloop: " + e.method + ": " + strings.TrimPrefix(e.err.Error(), "hotloop: ")
}

func (e *argError) Unwrap() error { return e.err }

var errZeroTime = errors.New("hotloop: zero time.Time")

var (
	errNilLoop   = errors.New("hotloop: nil Loop")
	errZeroLoop  = errors.New("hotloop: Loop not made by New")
	errInitTwice = errors.New("hotloop: Timer already set up (by Init, AfterFunc, At or Every)")
	errNotInit   = errors.New("hotloop: Timer not set up by Init")
	errArmed     = errors.New("hotloop: the timer was armed already: set the leeway after Init, before the first Reset")
	errPeriodic  = errors.New("hotloop: a periodic timer (Every) has no leeway")
)
