// Package pairs is the storage shared by zkx's two watch indexes
// (pkg/watch/oneshot and pkg/watch/persistent): a Table is a set of
// (path, watcher) pairs, indexed by path and by watcher, laid out to cost
// as little memory per pair as possible when there are millions of them.
//
// # Model
//
// A pair says "watcher w watches path p". Watchers are uint64 ids chosen by
// the server (one per connection); paths are compared as exact strings, and
// the Table attaches no meaning to them. A pair is in the table or not:
// Add of a present pair and Remove of an absent one change nothing. Add
// and Remove report, as a Change, whether the pair's path or watcher
// entered or left the table, which is what the owner needs to keep
// structures of its own (a radix tree of paths, counters across several
// tables) in step without a second lookup.
//
// Each path in the table has a slot, a small integer that stays the path's
// until its last pair leaves; owners may hold on to slots (persistent keeps
// one per recursive path in its radix tree) and read a slot's watchers with
// Each or AppendWatchers without hashing the path again.
//
// The oneshot package keeps one Table per kind (data, child); persistent
// keeps one per mode (persistent, recursive), so a pair's set of modes is
// its membership in the two tables and no per-pair mode bits are stored.
//
// A Table has no goroutines and does no I/O. It is not safe for concurrent
// use: its owner serializes all calls.
//
// # Representation and cost
//
// The forward side (path -> watchers) and the reverse side (watcher ->
// paths) point at each other: a forward entry records the index of its
// twin in the watcher's list and vice versa. Any pair can therefore be
// removed from both sides in O(1) by moving the last element of a list
// into the hole and fixing the one back-pointer that moved. That gives
//
//   - Add, Remove, Contains, Lookup: O(1) (a hash probe plus a scan of at
//     most IndexAbove entries, or a map lookup for a path with more
//     watchers);
//   - Take(path): O(m log m) for the m watchers of the path, nothing else;
//   - RemoveWatcher(w): O(number of w's pairs), as a connection close must
//     be.
//
// The forward side is built for the common case of a path watched by a
// single connection (exists on a missing node, a per-client node):
//
//   - Paths live in a slab, a slice of 32-byte slots recycled through a
//     free list. A slot holds the path string and, when the path has one
//     watcher, that watcher and its back-pointer inline. A path with two or
//     more watchers has them in a slice kept in a second slab, and goes
//     back inline when it drops to one.
//   - Paths are found through a purpose-built open-addressing hash index of
//     8-byte entries (32-bit hash, slot number) that compares against the
//     string in the slot rather than holding a copy of its header.
//   - The reverse side names a path by its slot number, so each of a
//     watcher's entries is 8 bytes and holds no pointer for the GC to scan.
//
// A path with two to IndexAbove (16) watchers has them in a plain slice of
// 16-byte entries scanned linearly. A path watched by more connections (a
// leader or configuration node) also gets a watcher -> position map so
// that duplicate checks stay O(1); it is dropped again when the path falls
// back to a few watchers. Lists that shrink to a quarter of their capacity
// are reallocated, and the hash index halves when it is less than 1/8
// full, so a watcher or table that once held many pairs does not pin that
// memory. The path slab keeps its peak length (freed slots are reused)
// until the table has no path left, when both slabs are released.
//
// A path watched once therefore costs a 32-byte slot, about 10 bytes of
// hash index and an 8-byte reverse entry, plus its string; each further
// watcher of a path costs a 16-byte list entry and an 8-byte reverse
// entry. BenchmarkMemory in the two owning packages measures the totals.
package pairs
