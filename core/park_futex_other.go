//go:build !linux

package core

import "context"

// newPreciseParker falls back to the default parker where there is no
// futex (WithPrecise is Linux only).
func newPreciseParker(l *Loop) parker { return newChanParker(l) }

// bindThread does nothing where WithPrecise falls back to the default
// parker, which waits on ctx.Done() itself.
func (l *Loop) bindThread(ctx context.Context) (unbind func()) { return func() {} }
