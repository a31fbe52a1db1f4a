package bench

import "github.com/hotloop/hotloop/benchmarks/compare/internal/impl"

func init() {
	register(impl.Hotloop)
	register(impl.HotloopPrecise)
	register(impl.HotloopPoll)
	register(impl.HotloopSpin)
	register(impl.HotloopAutoSpin)
	register(impl.HotloopSlack)
	register(impl.HotloopLeeway)
	register(impl.HotloopWheel)
	register(impl.HotloopProducer)
	register(impl.GoTimers)
	register(impl.Goja)
	register(impl.Seed)
	registerWorkers(impl.GoWorkers)
}
