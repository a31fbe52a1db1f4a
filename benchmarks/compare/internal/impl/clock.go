package impl

import "time"

var epoch = time.Now()

// Now returns monotonic nanoseconds since the process's package
// initialisation. It is the clock behind every lateness figure: due times,
// fire times and the seed replica's timer keys all come from it.
func Now() int64 { return int64(time.Since(epoch)) }
