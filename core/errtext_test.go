package core

import (
	"errors"
	"strings"
	"testing"
)

// Every error text starts with "hotloop: ", the sentinels' own included,
// and a rejected argument names its method once: "hotloop: AfterFunc: nil
// callback", not "hotloop: AfterFunc: hotloop: nil callback".
func TestErrorTextsStartWithHotloop(t *testing.T) {
	for _, err := range []error{ErrClosed, ErrRunning, ErrFull, ErrNilFunc, ErrBadPeriod, ErrBadLeeway, ErrBadPolicy, ErrProducerClosed,
		errZeroTime, errNilLoop, errZeroLoop, errInitTwice, errNotInit, errArmed, errPeriodic} {
		if !strings.HasPrefix(err.Error(), "hotloop: ") {
			t.Errorf("%q does not start with \"hotloop: \"", err)
		}
	}
	err := badArg("AfterFunc", ErrNilFunc)
	if err.Error() != "hotloop: AfterFunc: nil callback" || !errors.Is(err, ErrNilFunc) {
		t.Errorf("badArg: %q (errors.Is %v)", err, errors.Is(err, ErrNilFunc))
	}
	l := New()
	defer l.Close()
	if _, err := l.Every(0, func() {}); err == nil || strings.Count(err.Error(), "hotloop: ") != 1 || !errors.Is(err, ErrBadPeriod) {
		t.Errorf("Every(0): %v", err)
	}
}
