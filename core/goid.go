package core

import "runtime"

// goid returns the calling goroutine's id, parsed from the header line that
// runtime.Stack writes ("goroutine 18 [running]:"). It costs about a
// microsecond, so it is used only where a method must know whether it runs
// on the loop goroutine to avoid a deadlock (Do, Close, Shutdown) and by
// WithDebug.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
