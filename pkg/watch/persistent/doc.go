// Package persistent is zkx's index of persistent and persistent-recursive
// watches, the addWatch watches of ZooKeeper 3.6+ that are never consumed.
//
// # Model
//
// A watcher is a connection, named by a uint64 id chosen by the server;
// watches die with their connection and clients re-register them with
// SetWatches2 after a reconnect. Each (path, watcher) pair holds a set of
// mode bits, as ZooKeeper 3.9 does (3.8 kept a single mode and lost one
// when another was set, ZOOKEEPER-4466):
//
//   - Persistent (addWatch mode 0) belongs to both logical tables. In the
//     data table it fires on NodeCreated, NodeDataChanged and NodeDeleted
//     of exactly its path; in the child table on NodeChildrenChanged (and
//     the suppressed NodeDeleted) of exactly its path. MatchData and
//     MatchChild answer for it.
//   - Recursive (addWatch mode 1) belongs to the data table only. It fires
//     on NodeCreated, NodeDataChanged and NodeDeleted of its path and of
//     every path below it, and never on NodeChildrenChanged.
//
// Adding a mode a pair already has returns false; removing one mode leaves
// the other. The server combines this index with package oneshot into the
// two tables: data trigger on P = one-shot data watches on P, plus
// MatchData(P); child trigger on P = one-shot child watches on P, plus
// MatchChild(P). It removes duplicates per connection and checks READ ACLs
// at delivery; this package only answers "who".
//
// An Index has no goroutines and does no I/O. It is not safe for concurrent
// use: the server calls it under the lock that also covers the tree
// mutation and the one-shot table.
//
// # Representation and cost
//
// An Index keeps two pairs.Table values (package pkg/watch/internal/pairs,
// shared with the one-shot table): one holds the (path, watcher) pairs
// with the Persistent bit, the other those with the Recursive bit. A pair's
// set of modes is its membership in the two, so no mode bits are stored
// and each table answers Add, Remove and Contains for its mode in O(1).
// Each table is a slab of 32-byte path slots (path string, plus the
// watcher inline when there is one) found through an open-addressing hash
// index of 8-byte entries, with 16-byte list entries for paths that have
// more watchers (and a watcher -> position map above 16), and 8-byte
// reverse entries per watcher naming slots, so an entry is removed from
// both sides in O(1) and closing a connection costs O(its watches). Two
// counters of paths and watchers present in both tables let PathCount and
// WatcherCount count them once.
//
// Every path of the recursive table is also a key of a radix tree
// (github.com/armon/go-radix), path+"/" (the root stays "/"), whose value
// is the path's slot. The slot keeps its path as the key minus its last
// byte, so the path's bytes are stored once. A radix walk matches byte
// prefixes, and the trailing slash makes that segment-aware: "/app/" is a
// prefix of "/app/x" but not of "/apple". To find the recursive watches on
// proper ancestors of a changed path C, MatchData walks the tree along C
// itself: the stored keys that are prefixes of C are exactly the
// ancestors' keys ("/" and each "p/" with C below p), while C's own key
// "C/" is not, so the exact path is looked up apart in each table, where
// every mode matches. The walk needs no allocation.
//
// MatchData therefore costs one hash lookup when no recursive watch exists
// and otherwise two lookups plus one walk of at most depth(C) radix nodes,
// reading the watchers of just the ancestors that have recursive watches.
// Watches elsewhere in the tree cost nothing: BenchmarkMatchData stays
// around 100 ns whether 10 or 1,000,000 unrelated recursive watches exist,
// and is a single lookup when there are none. ZooKeeper instead probes a
// hash map for every ancestor of every changed path once any recursive
// watch exists. When several sets match (ancestors, or both modes on C),
// their watchers are merged by sorting a reused buffer, so each watcher is
// reported once.
//
// Memory: BenchmarkMemory measures, for 1,000,000 watches from 1,000
// connections with path bytes included, about 78 B per persistent watch
// when every watch has a path of its own and 47 B over 100,000 paths (10
// watchers each), the same as the one-shot table. A recursive watch adds a
// radix-tree key per path: about 59 B per watch over 100,000 paths but
// about 190 B with 1,000,000 distinct paths, of which some 110 B are the
// radix tree's own nodes, leaves and edges. A persistent watch with a map
// and a heap node per path cost 168 B on distinct paths, a recursive one
// 295 B.
package persistent
