package persistent

import (
	"slices"
	"strconv"

	radix "github.com/armon/go-radix"

	"github.com/zkx-dev/zkx/pkg/watch/internal/pairs"
)

// Mode is the kind of a persistent watch. The values are distinct bits;
// a (path, watcher) pair holds a set of them.
type Mode uint8

const (
	// Persistent is addWatch mode 0: fires on NodeCreated, NodeDataChanged
	// and NodeDeleted of the path (data table) and on NodeChildrenChanged of
	// the path (child table). It is never consumed.
	Persistent Mode = 1 << iota
	// Recursive is addWatch mode 1: fires on NodeCreated, NodeDataChanged
	// and NodeDeleted of the path and of every path below it (data table
	// only; it never sees NodeChildrenChanged). It is never consumed.
	Recursive
)

// String returns "persistent", "recursive", or "Mode(n)" otherwise.
func (m Mode) String() string {
	switch m {
	case Persistent:
		return "persistent"
	case Recursive:
		return "recursive"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Valid reports whether m is exactly one of Persistent and Recursive.
func (m Mode) Valid() bool { return m == Persistent || m == Recursive }

// Index holds the persistent and recursive watches of all connections.
//
// Concurrency: an Index is not safe for concurrent use. The server guards
// it, together with the one-shot table, with one lock, and calls every
// method, the read-only ones included, with that lock held. The callbacks
// given to MatchData and MatchChild must not modify the Index.
//
// The zero Index is not usable; call New.
type Index struct {
	// pers holds the pairs with the Persistent bit, rec those with the
	// Recursive bit; a pair with both modes is in both.
	pers, rec pairs.Table
	// tree maps recKey(p) to the slot of p in rec (a uint32), for every
	// path p of rec.
	tree *radix.Tree
	// bothPaths and bothWatchers count the paths and the watchers that are
	// in both tables, so that PathCount and WatcherCount count them once.
	bothPaths, bothWatchers int

	scratch []uint64 // reused by MatchData to merge several matching paths
}

// New returns an empty Index.
func New() *Index {
	return &Index{tree: radix.New()}
}

// tables returns the table of mode m and the other one, or nils if m is
// not a valid Mode.
func (x *Index) tables(m Mode) (own, other *pairs.Table) {
	switch m {
	case Persistent:
		return &x.pers, &x.rec
	case Recursive:
		return &x.rec, &x.pers
	}
	return nil, nil
}

// Add gives watcher w a watch of mode m on path. It returns false, and
// changes nothing, if w already holds that mode on path, if m is not
// exactly one valid Mode, or if path is not absolute ("/" or "/x..." without
// a trailing "/"). A watcher may hold both modes on one path; the node need
// not exist.
func (x *Index) Add(path string, w uint64, m Mode) (added bool) {
	own, other := x.tables(m)
	if own == nil || !wellFormed(path) {
		return false
	}
	slot, ch := own.Add(path, w)
	if ch&pairs.Added == 0 {
		return false
	}
	if ch&pairs.PathAdded != 0 {
		if m == Recursive {
			// The table keeps the path as a prefix of the radix key, so
			// the path's bytes are stored once.
			key := recKey(path)
			own.SharePath(slot, key[:len(path)])
			x.tree.Insert(key, slot)
		}
		if _, ok := other.Lookup(path); ok {
			x.bothPaths++
		}
	}
	if ch&pairs.WatcherAdded != 0 && other.HasWatcher(w) {
		x.bothWatchers++
	}
	return true
}

// Remove takes mode m of watcher w off path, leaving any other mode w holds
// there. It reports whether w held that mode.
func (x *Index) Remove(path string, w uint64, m Mode) (removed bool) {
	own, other := x.tables(m)
	if own == nil {
		return false
	}
	ch := own.Remove(path, w)
	if ch&pairs.Removed == 0 {
		return false
	}
	if ch&pairs.PathDropped != 0 {
		x.dropped(m, path)
	}
	if ch&pairs.WatcherDropped != 0 && other.HasWatcher(w) {
		x.bothWatchers--
	}
	return true
}

// dropped updates the radix tree and the counters after path's last pair
// of mode m has gone.
func (x *Index) dropped(m Mode, path string) {
	_, other := x.tables(m)
	if m == Recursive {
		x.tree.Delete(recKey(path))
	}
	if _, ok := other.Lookup(path); ok {
		x.bothPaths--
	}
}

// Contains reports whether w holds a watch of mode m on path.
func (x *Index) Contains(path string, w uint64, m Mode) bool {
	own, _ := x.tables(m)
	return own != nil && own.Contains(path, w)
}

// RemoveWatcher removes every watch of w, as when its connection closes. It
// costs O(number of paths w watches).
func (x *Index) RemoveWatcher(w uint64) {
	inPers, inRec := x.pers.HasWatcher(w), x.rec.HasWatcher(w)
	if inPers && inRec {
		x.bothWatchers--
	}
	// The persistent side goes first: a path that w alone watched with both
	// modes is then counted out of bothPaths when it leaves pers, and is no
	// longer in pers when it leaves rec.
	if inPers {
		x.pers.RemoveWatcher(w, func(path string) { x.dropped(Persistent, path) })
	}
	if inRec {
		x.rec.RemoveWatcher(w, func(path string) { x.dropped(Recursive, path) })
	}
}

// MatchData calls fn once for each watcher that must see a data-table
// event (NodeCreated, NodeDataChanged, NodeDeleted) on path: those holding
// either mode on path itself and those holding a Recursive watch on a
// proper ancestor of path. Ancestry is by whole segments: a recursive watch
// on "/app" matches "/app/x" but not "/apple". A watcher matched several
// ways is reported once. The order is unspecified.
//
// The cost is O(depth of path + matches): one hash lookup for path in each
// table, and, only when some recursive watch exists, one radix-tree walk
// down path that visits just the ancestors holding recursive watches. When
// several paths (or both modes of path) match, the watchers are merged by
// sorting (O(m log m)).
func (x *Index) MatchData(path string, fn func(w uint64)) {
	exact, hasExact := x.pers.Lookup(path)
	if x.rec.Len() == 0 {
		if hasExact {
			x.pers.Each(exact, fn)
		}
		return
	}
	var (
		first   *pairs.Table // the only matching set so far
		firstAt uint32
		sources int
		merged  = x.scratch[:0]
	)
	x.scratch = nil // a nested MatchData from fn must not share the buffer
	add := func(t *pairs.Table, slot uint32) {
		sources++
		switch sources {
		case 1:
			first, firstAt = t, slot
			return
		case 2:
			merged = first.AppendWatchers(merged, firstAt)
		}
		merged = t.AppendWatchers(merged, slot)
	}
	if hasExact {
		add(&x.pers, exact)
	}
	// Walking the tree with path itself (not path+"/") visits exactly the
	// keys "p/" that are prefixes of path, i.e. the proper ancestors p of
	// path, plus "/" for the root, which is the exact path when path is
	// "/". Any other exact recursive watch is looked up apart.
	if path != "/" {
		if slot, ok := x.rec.Lookup(path); ok {
			add(&x.rec, slot)
		}
	}
	x.tree.WalkPath(path, func(_ string, v interface{}) bool {
		add(&x.rec, v.(uint32))
		return false
	})
	switch {
	case sources == 1:
		first.Each(firstAt, fn)
	case sources > 1:
		slices.Sort(merged)
		merged = slices.Compact(merged)
		for _, w := range merged {
			fn(w)
		}
	}
	x.scratch = merged[:0]
}

// MatchChild calls fn once for each watcher holding a Persistent watch on
// exactly path: those that must see NodeChildrenChanged of path, or, in the
// child table's turn, NodeDeleted. Recursive watches never match. The order
// is unspecified.
func (x *Index) MatchChild(path string, fn func(w uint64)) {
	if slot, ok := x.pers.Lookup(path); ok {
		x.pers.Each(slot, fn)
	}
}

// Paths returns, sorted, the paths on which w holds a watch of mode m, or
// nil if there are none.
func (x *Index) Paths(w uint64, m Mode) []string {
	if own, _ := x.tables(m); own != nil {
		return own.Paths(w)
	}
	return nil
}

// Watchers returns, in ascending order, the watchers holding a watch of
// mode m on exactly path, or nil if there are none.
func (x *Index) Watchers(path string, m Mode) []uint64 {
	if own, _ := x.tables(m); own != nil {
		return own.Watchers(path)
	}
	return nil
}

// Len returns the number of (path, watcher) pairs holding mode m.
func (x *Index) Len(m Mode) int {
	if own, _ := x.tables(m); own != nil {
		return own.Len()
	}
	return 0
}

// RecursiveCount returns the number of (path, watcher) pairs holding the
// Recursive mode, ZooKeeper's recursiveWatchQty. While it is zero, MatchData
// does not look at ancestors at all.
func (x *Index) RecursiveCount() int { return x.rec.Len() }

// PathCount returns the number of distinct paths with a watch of any mode.
func (x *Index) PathCount() int {
	return x.pers.PathCount() + x.rec.PathCount() - x.bothPaths
}

// WatcherCount returns the number of watchers holding any watch.
func (x *Index) WatcherCount() int {
	return x.pers.WatcherCount() + x.rec.WatcherCount() - x.bothWatchers
}

// wellFormed reports whether path has the shape the recursive key scheme
// relies on: "/" or a leading "/" and no trailing "/". Full validation is
// the caller's job.
func wellFormed(path string) bool {
	return path == "/" || (len(path) > 1 && path[0] == '/' && path[len(path)-1] != '/')
}

// recKey is the radix-tree key of a recursive watch on path. The trailing
// "/" makes byte-prefix matching segment-aware: "/app/" is a prefix of
// "/app/x" but not of "/apple". The root is already "/".
func recKey(path string) string {
	if path == "/" {
		return path
	}
	return path + "/"
}
