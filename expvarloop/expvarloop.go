// Package expvarloop publishes a hotloop Loop's health through the standard
// library's expvar package, so that it appears in /debug/vars as JSON beside
// memstats. It is a separate package because importing expvar registers an
// HTTP handler and links net/http, which package core does not need.
//
//	l := core.New()
//	if err := expvarloop.Publish("hotloop", l); err != nil { ... }
//
// Each read of the variable takes one snapshot ([core.Loop.Health]): the
// counters of Stats, busy and idle time, utilisation since the loop was
// created, the count, sum, mean, 50th, 90th, 99th and 99.9th percentiles
// and maximum of the timer-lag, post-lag and batch-size histograms, the
// timer lag's split (allowed, park, callbacks, backlog: see
// core.LateTimer), and the counts of slow callbacks and late timers
// reported to their hooks.
package expvarloop

import (
	"errors"
	"expvar"
	"sync"

	"github.com/hotloop/hotloop/core"
)

// ErrNameTaken is returned by Publish when an expvar variable of that name
// already exists.
var ErrNameTaken = errors.New("hotloop: expvarloop.Publish: expvar name already in use")

// ErrNilLoop is returned by Publish for a nil Loop.
var ErrNilLoop = errors.New("hotloop: expvarloop.Publish: nil loop")

// mu serialises the check and the publication of Publish (expvar.Publish
// itself panics on a name in use).
var mu sync.Mutex

// Publish registers l's health as the expvar variable name. It returns
// ErrNameTaken if the name is in use (expvar has no way to remove a
// variable: publish each loop once, under its own name), and ErrNilLoop
// for a nil l. Safe for concurrent use with other calls of Publish.
func Publish(name string, l *core.Loop) error {
	if l == nil {
		return ErrNilLoop
	}
	mu.Lock()
	defer mu.Unlock()
	if expvar.Get(name) != nil {
		return ErrNameTaken
	}
	expvar.Publish(name, Func(l))
	return nil
}

// Func returns an expvar.Func that reports l's health, for callers that
// publish it themselves or nest it in an expvar.Map.
func Func(l *core.Loop) expvar.Func {
	return func() any { return Snapshot(l.Health()) }
}

// Dist is a histogram summarised for JSON: values in nanoseconds for the
// lags, in callbacks for the batch sizes.
type Dist struct {
	Count uint64  `json:"count"` // samples recorded
	Sum   int64   `json:"sum"`   // their sum
	Mean  float64 `json:"mean"`  // Sum / Count
	P50   int64   `json:"p50"`   // median
	P90   int64   `json:"p90"`   // 90th percentile
	P99   int64   `json:"p99"`   // 99th percentile
	P999  int64   `json:"p999"`  // 99.9th percentile
	Max   int64   `json:"max"`   // largest sample
}

func dist(h *core.Histogram) Dist {
	return Dist{
		Count: h.Count(), Sum: h.Sum(), Mean: h.Mean(),
		P50: h.Quantile(0.5), P90: h.Quantile(0.9), P99: h.Quantile(0.99), P999: h.Quantile(0.999),
		Max: h.Max(),
	}
}

// Vars is the JSON document published for a loop.
type Vars struct {
	core.Stats
	BusySeconds   float64 `json:"busy_seconds"`   // time running and not parked (core.Health.Busy)
	IdleSeconds   float64 `json:"idle_seconds"`   // time parked (core.Health.Idle)
	Utilization   float64 `json:"utilization"`    // busy / (busy + idle) since the loop was created
	SlowCallbacks uint64  `json:"slow_callbacks"` // callbacks that ran longer than core.WithSlowCallback's threshold
	LateTimers    uint64  `json:"late_timers"`    // reported to core.WithLateTimer's hook
	TimerLagNs    Dist    `json:"timer_lag_ns"`   // how late timers fired, ns (core.Health.TimerLag)
	// Where the timer lag went (core.Health.TimerLagAllowed and the
	// others): these four add up to timer_lag_ns's sum.
	TimerLagAllowedNs   int64 `json:"timer_lag_allowed_ns"`   // lateness the timers allowed (a leeway, WithSlack)
	TimerLagParkNs      int64 `json:"timer_lag_park_ns"`      // waiting when the loop could have run them (woken late, or not running)
	TimerLagCallbacksNs int64 `json:"timer_lag_callbacks_ns"` // running callbacks before the loop looked at its timers
	TimerLagBacklogNs   int64 `json:"timer_lag_backlog_ns"`   // waiting, due, behind other due timers
	PostLagNs           Dist  `json:"post_lag_ns"`            // from a sampled post to its callback, ns (core.Health.PostLag)
	Batch               Dist  `json:"batch"`                  // callbacks and timers run per iteration (core.Health.Batch)
}

// Snapshot summarises h as the published document.
func Snapshot(h *core.Health) Vars {
	return Vars{
		Stats:         h.Stats,
		BusySeconds:   h.Busy.Seconds(),
		IdleSeconds:   h.Idle.Seconds(),
		Utilization:   h.Utilization(&core.Health{}),
		SlowCallbacks: h.SlowCallbacks,
		LateTimers:    h.LateTimers,
		TimerLagNs:    dist(&h.TimerLag),

		TimerLagAllowedNs:   int64(h.TimerLagAllowed),
		TimerLagParkNs:      int64(h.TimerLagPark),
		TimerLagCallbacksNs: int64(h.TimerLagCallbacks),
		TimerLagBacklogNs:   int64(h.TimerLagBacklog),
		PostLagNs:           dist(&h.PostLag),
		Batch:               dist(&h.Batch),
	}
}
