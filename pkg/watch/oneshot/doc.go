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
// Each kind is a pairs.Table (package pkg/watch/internal/pairs, shared with
// the persistent index): a forward index (path -> watchers) and a reverse
// index (watcher -> paths) that point at each other, so any watch is
// removed from both sides in O(1). That gives
//
//   - Add, Remove, Contains: O(1) (a hash probe plus a scan of at most 16
//     watchers, or a map lookup for a path with more);
//   - Trigger(path): O(m log m) for the m watchers of the path, nothing else;
//   - RemoveWatcher(w): O(number of w's watches), as a connection close
//     must be.
//
// The layout is built for the common case of a path watched by a single
// connection (exists on a missing node, a per-client node): paths live in
// a slab of 32-byte slots that hold the path string and, for a path with
// one watcher, that watcher inline; they are found through an
// open-addressing hash index of 8-byte entries that compares against the
// string in the slot; a watcher's reverse entries are 8-byte slot numbers
// with no pointer for the GC to scan. A path with two or more watchers has
// them in a slice (plus a watcher -> position map above 16 watchers), and
// lists, the hash index and, once a kind is empty, the slabs shrink again
// so that a table that once held many watches does not pin that memory.
// The pairs package documents the details.
//
// BenchmarkMemory measures the whole heap per watch, path strings
// included, for 1,000,000 watches from 1,000 connections: about 78 B/watch
// with 1,000,000 paths watched once each (the per-path cost of a 32-byte
// slot, a 16-byte string and about 10 bytes of index dominates), about
// 47 B/watch with 100,000 paths (10 watchers each) and about 56 B/watch
// with 10,000 paths (100 watchers each, paths with position maps). A
// built-in map[string]*set with a heap object per path cost about 152, 52
// and 62 B/watch for the same cases; nested maps would cost well over
// 100 B/watch in every case.
package oneshot
