package group

import (
	"context"
	"math/bits"

	"github.com/hotloop/hotloop/core"
)

// Key affinity: a key is hashed to 64 bits (mix for uint64 keys, FNV-1a and
// then mix for strings), and the hash is scaled onto [0, n) by taking the
// high half of hash × n (Lemire's multiply-shift, no division). Both
// steps are fixed functions, so the mapping depends only on the key and n.
// Neither allocates.

// Index returns the index of the loop that owns key: a number in [0,
// Len()), the same for the same key for the life of the group, and in
// every process with the same number of loops (KeyIndex(key, Len())). Use
// it to keep per-loop state in a slice. O(1), no allocation.
func (g *Group) Index(key uint64) int { return scale(mix(key), len(g.loops)) }

// KeyIndex returns the index Index returns for key in a group of n loops,
// without a group: to shard something else the way a group shards its
// keys. It panics if n < 1. O(1), no allocation.
func KeyIndex(key uint64, n int) int {
	if n < 1 {
		panic("hotloop: group.KeyIndex: n must be at least 1")
	}
	return scale(mix(key), n)
}

// IndexString is Index for a string key. O(len(key)), no allocation.
func (g *Group) IndexString(key string) int { return scale(mix(fnv1a(key)), len(g.loops)) }

// For returns the loop that owns key. O(1).
func (g *Group) For(key uint64) *core.Loop { return g.loops[g.Index(key)] }

// ForString returns the loop that owns a string key. O(len(key)).
func (g *Group) ForString(key string) *core.Loop { return g.loops[g.IndexString(key)] }

// PostKey posts fn to the loop that owns key (core.Loop.Post): posts with
// one key from one goroutine run in the order they were made, one at a
// time, on one loop. It returns core.ErrClosed once Shutdown has been
// called or the key's loop is closed, the loop's error for a nil fn. No
// allocation.
func (g *Group) PostKey(key uint64, fn func()) error {
	if g.draining.Load() {
		return core.ErrClosed
	}
	return g.For(key).Post(fn)
}

// PostKeyString is PostKey for a string key.
func (g *Group) PostKeyString(key string, fn func()) error {
	if g.draining.Load() {
		return core.ErrClosed
	}
	return g.ForString(key).Post(fn)
}

// TryPostKey is PostKey bounded (core.Loop.TryPost): it returns
// core.ErrFull, and fn does not run, when the key's loop holds as many
// posts as its inbox's capacity (core.WithInboxSize). It returns
// core.ErrClosed once Shutdown has been called, as PostKey does. No
// allocation.
func (g *Group) TryPostKey(key uint64, fn func()) error {
	if g.draining.Load() {
		return core.ErrClosed
	}
	return g.For(key).TryPost(fn)
}

// TryPostKeyString is TryPostKey for a string key.
func (g *Group) TryPostKeyString(key string, fn func()) error {
	if g.draining.Load() {
		return core.ErrClosed
	}
	return g.ForString(key).TryPost(fn)
}

// PostKeyWait is PostKey for producers that must not outrun the loops
// (core.Loop.PostWait): while the key's loop holds as many posts as its
// inbox's capacity, it waits for room, or for ctx to end (it then returns
// ctx.Err() and fn does not run). It returns core.ErrClosed once Shutdown
// has been called, as PostKey does, so feeders that use it stop feeding a
// group that drains; a wait under way when Shutdown is called ends when
// the loop makes room, and its post may then come after the drain has
// seen its loop quiet, so that what its callback sends is refused. From a callback on the key's own loop it returns
// core.ErrFull rather than wait for itself. No allocation.
func (g *Group) PostKeyWait(ctx context.Context, key uint64, fn func()) error {
	if g.draining.Load() {
		return core.ErrClosed
	}
	return g.For(key).PostWait(ctx, fn)
}

// PostKeyStringWait is PostKeyWait for a string key.
func (g *Group) PostKeyStringWait(ctx context.Context, key string, fn func()) error {
	if g.draining.Load() {
		return core.ErrClosed
	}
	return g.ForString(key).PostWait(ctx, fn)
}

// Post posts fn to the next loop in turn (round-robin), for work that
// belongs to no key. Posts made through Post are not ordered with each
// other: consecutive ones go to different loops. It returns the loop's
// error, as PostKey does.
func (g *Group) Post(fn func()) error {
	g.must()
	if g.draining.Load() {
		return core.ErrClosed
	}
	i := (g.next.Inc() - 1) % uint64(len(g.loops))
	return g.loops[i].Post(fn)
}

// mix is the finalizer of SplitMix64: it spreads every bit of x over every
// bit of the result, so that keys that differ in a few low bits (sequential
// ids) land on different loops. O(1).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// fnv1a returns the 64-bit FNV-1a hash of s. O(len(s)).
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// scale maps a uniform 64-bit hash onto [0, n): the high word of h × n.
// O(1).
func scale(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}
