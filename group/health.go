package group

import "github.com/hotloop/hotloop/core"

// Health is a snapshot of a Group's health: the totals over its loops
// (core.Health.Merge of each loop's) and each loop's own.
type Health struct {
	// Health is the totals: counters and busy and idle time summed, the
	// histograms merged. Its Utilization is the busy share of all the
	// loops' time together.
	core.Health

	// Loops holds each loop's snapshot, Loops[i] for Loop(i): a loop far
	// busier than the others is a hot key, or too few keys.
	Loops []*core.Health
}

// Utilization returns the busy share of all the loops' time together
// between the snapshot prev and h, from 0 to 1, as core.Health.Utilization
// does for one loop; a nil prev means since the loops were created.
func (h *Health) Utilization(prev *Health) float64 {
	if prev == nil {
		return h.Health.Utilization(&core.Health{})
	}
	return h.Health.Utilization(&prev.Health)
}

// Health returns a new snapshot of every loop's health and their totals.
// Safe from any goroutine; it does not wait for the loops. O(Len ×
// buckets); it allocates the snapshots (about 15 KB each).
func (g *Group) Health() *Health {
	g.must()
	h := &Health{Loops: make([]*core.Health, len(g.loops))}
	for i, l := range g.loops {
		h.Loops[i] = l.Health()
		h.Health.Merge(h.Loops[i])
	}
	return h
}
