// Package oneshot is zkx's index of classic one-shot watches: the watches
// a client sets with exists, getData and getChildren, which fire once and
// are then gone.
//
// # Model
//
// A watcher is a connection, named by a uint64 id chosen by the server.
// Watches belong to connections, not sessions: a reconnect starts with none
// and the client replays its watches with SetWatches. A Table has two
// kinds, mirroring ZooKeeper's two watch managers:
//
//   - Data: set by exists (on a present or absent node) and by getData. The
//     server does not distinguish the two; both are fired by NodeCreated,
//     NodeDataChanged and NodeDeleted of the path.
//   - Child: set by getChildren. Fired by NodeChildrenChanged and
//     NodeDeleted of the path.
//
// A connection holds at most one watch per (kind, path); Add of an existing
// one returns false. Trigger consumes every watch of one kind on one path
// and reports the watchers in ascending id order. Persistent and recursive
// watches live in package persistent; the server combines both packages
// into ZooKeeper 3.9's data and child tables, removes duplicates per
// connection and checks ACLs. This package only answers "who".
//
// A Table has no goroutines and does no I/O. It is not safe for concurrent
// use: the server calls it under the same lock as the tree mutation whose
// events it fires, so a read that sets a watch cannot miss a change.
//
// # Representation and cost
//
// Each kind keeps a forward index (path -> watchers) and a reverse index
// (watcher -> paths). Both are maps of small slices rather than nested
// maps, and the two sides point at each other: an entry in a path's slice
// records the index of its twin in the watcher's slice and vice versa. Any
// entry can therefore be removed from both sides in O(1) by moving the last
// element of each slice into the hole and fixing the one back-pointer that
// moved. That gives
//
//   - Add, Remove, Contains: O(1) (a scan of at most 16 entries, or a map
//     lookup for a path with more watchers; see below);
//   - Trigger(path): O(m log m) for the m watchers of the path, nothing else;
//   - RemoveWatcher(w): O(number of w's watches), as a connection close
//     must be.
//
// Most paths are watched by a handful of connections, so a path's watchers
// are a plain slice scanned linearly. A path watched by more than 16
// connections (a leader or configuration node) also gets a watcher ->
// position map so that duplicate checks stay O(1); it is dropped again when
// the path falls back to a few watchers. Slices that shrink to a quarter of
// their capacity are reallocated, so a connection that once held many
// watches does not pin that memory.
//
// Each watch costs two 16-byte slice entries (one per side) plus slice
// growth slack; each watched path costs one map entry, a 48-byte header and
// its string. BenchmarkMemory measures the whole heap per watch for
// 1,000,000 watches from 1,000 connections: about 52 B/watch with 100,000
// paths (10 watchers each), about 62 B/watch with 10,000 paths (100
// watchers each, paths indexed by map), and about 150 B/watch in the worst
// case of 1,000,000 paths watched once each, where the per-path cost (map
// slot, header, path bytes) dominates. Nested maps would cost well over
// 100 B/watch in every case.
package oneshot
