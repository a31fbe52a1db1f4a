// Package group runs several hotloop loops as one: a loop per core, work
// for one key always on the same loop, one Run, Close and Shutdown for all,
// and one Health for all, the way Netty's EventLoopGroup and seastar's
// shard-per-core design spread a service over cores.
//
// A [core.Loop] runs on one goroutine: one core at most. A service that
// needs more runs a Group of n loops (by default GOMAXPROCS), each a full
// Loop with its own inbox, timers and parking, built with the same options.
// State that belongs to one key (a connection, a user, an order book)
// lives on the loop that [Group.For] maps the key to, and is touched only
// by that loop's callbacks: it needs no lock, exactly as on a single loop.
//
//	g, err := group.New(0) // GOMAXPROCS loops
//	if err != nil { ... }
//	go g.Run(context.Background()) // not the request ctx: Shutdown needs the loops running
//	defer g.Close()
//
//	sessions := make([]map[uint64]*session, g.Len()) // one map per loop, touched by its callbacks only
//	...
//	g.PostKey(userID, func() { sessions[g.Index(userID)][userID].touch() }) // always the same loop for userID
//
// Which method to use: PostKey or PostKeyString for work on keyed state,
// from any goroutine; Post (round-robin) for work that has no key; For or
// ForString to get a key's loop itself, to schedule its timers (AfterFunc,
// Every) or use any other Loop method; from a callback on loop i, From(i)'s
// Send and SendKey for work on another loop, and Call for a question whose
// answer comes back as a callback on loop i. Timers belong to their loop:
// a timer for a key is scheduled on the key's loop and fires there.
//
// Backpressure: PostKey and Send never refuse work, so a loop that falls
// behind lets its inbox grow. A producer that must slow down to the loops'
// pace posts with PostKeyWait(ctx, key, fn), which waits while the key's
// loop holds as many posts as its inbox's capacity (WithInboxSize), or
// TryPostKey(key, fn), which returns core.ErrFull instead; a callback,
// which must not wait, sends with TrySend. Like PostKey, both refuse work
// once Shutdown is called; posts made to a loop itself (g.For(key).Post,
// PostWait) are not refused until that loop shuts down.
//
// The mapping from a key to a loop depends only on the key and the number
// of loops (a fixed hash, the same in every process and every run), so
// tests and logs can predict it. One [core.FakeClock], given to New with
// core.WithClock, drives every loop of the group.
//
// The group adds nothing to a loop's guarantees and takes nothing away:
// posts through one key run in the order they were made, and accepted
// work runs exactly once. Posts to different loops are not ordered with
// each other.
package group
