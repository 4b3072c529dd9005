package persistent

import (
	"slices"
	"strconv"

	radix "github.com/armon/go-radix"
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

// indexAbove and dropIndexAt bound when a path keeps a watcher -> position
// map next to its slice of watchers: scanning up to 16 entries beats
// hashing, and the gap between the two stops a path that hovers around the
// threshold from rebuilding its map on every change.
const (
	indexAbove  = 16
	dropIndexAt = 4
)

// Index holds the persistent and recursive watches of all connections.
//
// Concurrency: an Index is not safe for concurrent use. The server guards
// it, together with the one-shot table, with one lock, and calls every
// method, the read-only ones included, with that lock held. The callbacks
// given to MatchData and MatchChild must not modify the Index.
//
// The zero Index is not usable; call New.
type Index struct {
	nodes    map[string]*node    // every path with at least one watch
	rec      *radix.Tree         // recKey(path) -> *node, for nodes with recursive watches
	watchers map[uint64]*watcher // reverse index
	nPers    int                 // pairs with the Persistent bit
	nRec     int                 // pairs with the Recursive bit

	scratch []uint64 // reused by MatchData to merge several matching paths
}

// node is the set of watchers on one path. Entries holding the Recursive
// bit are kept first, in ws[:nrec], so an ancestor match visits only them.
type node struct {
	path string
	ws   []entry
	nrec int32
	pos  map[uint64]int32 // watcher -> index in ws; nil unless len(ws) > indexAbove
}

// entry is one (path, watcher) pair: its modes and the index of its twin in
// the watcher's ref slice.
type entry struct {
	w    uint64
	ri   int32
	bits Mode
}

// watcher is the reverse side: the paths one connection watches.
type watcher struct {
	refs []ref
}

// ref points from a watcher at its entry: the node and the index in ws.
type ref struct {
	n  *node
	fi int32
}

// New returns an empty Index.
func New() *Index {
	return &Index{
		nodes:    make(map[string]*node),
		rec:      radix.New(),
		watchers: make(map[uint64]*watcher),
	}
}

// Add gives watcher w a watch of mode m on path. It returns false, and
// changes nothing, if w already holds that mode on path, if m is not
// exactly one valid Mode, or if path is not absolute ("/" or "/x..." without
// a trailing "/"). A watcher may hold both modes on one path; the node need
// not exist.
func (x *Index) Add(path string, w uint64, m Mode) (added bool) {
	if !m.Valid() || !wellFormed(path) {
		return false
	}
	n := x.nodes[path]
	if n == nil {
		n = &node{path: path}
		x.nodes[path] = n
	}
	fi := n.find(w)
	if fi >= 0 {
		if n.ws[fi].bits&m != 0 {
			return false
		}
		n.ws[fi].bits |= m
	} else {
		wt := x.watchers[w]
		if wt == nil {
			wt = &watcher{}
			x.watchers[w] = wt
		}
		fi = int32(len(n.ws))
		n.ws = append(n.ws, entry{w: w, ri: int32(len(wt.refs)), bits: m})
		wt.refs = append(wt.refs, ref{n: n, fi: fi})
		switch {
		case n.pos != nil:
			n.pos[w] = fi
		case len(n.ws) > indexAbove:
			n.pos = make(map[uint64]int32, 2*len(n.ws))
			for i, e := range n.ws {
				n.pos[e.w] = int32(i)
			}
		}
	}
	if m == Persistent {
		x.nPers++
		return true
	}
	x.nRec++
	x.swap(n, fi, n.nrec)
	n.nrec++
	if n.nrec == 1 {
		x.rec.Insert(recKey(path), n)
	}
	return true
}

// Remove takes mode m of watcher w off path, leaving any other mode w holds
// there. It reports whether w held that mode.
func (x *Index) Remove(path string, w uint64, m Mode) (removed bool) {
	if !m.Valid() {
		return false
	}
	n := x.nodes[path]
	if n == nil {
		return false
	}
	fi := n.find(w)
	if fi < 0 || n.ws[fi].bits&m == 0 {
		return false
	}
	if m == Persistent {
		x.nPers--
	} else {
		x.nRec--
	}
	if n.ws[fi].bits == m {
		// Entry first: its moves repoint w's ref, which must still exist.
		ri := n.ws[fi].ri
		x.unlinkEntry(n, fi)
		x.unlinkRef(w, ri)
		return true
	}
	if m == Recursive {
		fi = x.demote(n, fi)
	}
	n.ws[fi].bits &^= m
	return true
}

// Contains reports whether w holds a watch of mode m on path.
func (x *Index) Contains(path string, w uint64, m Mode) bool {
	if !m.Valid() {
		return false
	}
	n := x.nodes[path]
	if n == nil {
		return false
	}
	fi := n.find(w)
	return fi >= 0 && n.ws[fi].bits&m != 0
}

// RemoveWatcher removes every watch of w, as when its connection closes. It
// costs O(number of paths w watches).
func (x *Index) RemoveWatcher(w uint64) {
	wt := x.watchers[w]
	if wt == nil {
		return
	}
	// w stays in x.watchers while its entries are unlinked, because
	// unlinkEntry repoints the refs of every entry it moves, w's included.
	for i := range wt.refs {
		r := wt.refs[i]
		bits := r.n.ws[r.fi].bits
		if bits&Persistent != 0 {
			x.nPers--
		}
		if bits&Recursive != 0 {
			x.nRec--
		}
		x.unlinkEntry(r.n, r.fi)
	}
	delete(x.watchers, w)
}

// MatchData calls fn once for each watcher that must see a data-table
// event (NodeCreated, NodeDataChanged, NodeDeleted) on path: those holding
// either mode on path itself and those holding a Recursive watch on a
// proper ancestor of path. Ancestry is by whole segments: a recursive watch
// on "/app" matches "/app/x" but not "/apple". A watcher matched several
// ways is reported once. The order is unspecified.
//
// The cost is O(depth of path + matches): one map lookup for path, and,
// only when some recursive watch exists, one radix-tree walk down path that
// visits just the ancestors holding recursive watches. When several paths
// match, the watchers are merged by sorting (O(m log m)).
func (x *Index) MatchData(path string, fn func(w uint64)) {
	exact := x.nodes[path]
	if x.nRec == 0 || path == "/" {
		if exact != nil {
			for _, e := range exact.ws {
				fn(e.w)
			}
		}
		return
	}
	// Walking the tree with path itself (not path+"/") visits exactly the
	// keys "p/" that are prefixes of path, i.e. the proper ancestors p of
	// path, plus "/" for the root. The exact node is handled apart because
	// all its entries match, not just the recursive ones.
	var (
		single  []entry // the only matching set so far
		sources int
		merged  = x.scratch[:0]
	)
	x.scratch = nil // a nested MatchData from fn must not share the buffer
	add := func(es []entry) {
		if len(es) == 0 {
			return
		}
		sources++
		switch sources {
		case 1:
			single = es
			return
		case 2:
			for _, e := range single {
				merged = append(merged, e.w)
			}
		}
		for _, e := range es {
			merged = append(merged, e.w)
		}
	}
	if exact != nil {
		add(exact.ws)
	}
	x.rec.WalkPath(path, func(_ string, v interface{}) bool {
		n := v.(*node)
		add(n.ws[:n.nrec])
		return false
	})
	switch {
	case sources == 1:
		for _, e := range single {
			fn(e.w)
		}
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
	n := x.nodes[path]
	if n == nil {
		return
	}
	for _, e := range n.ws {
		if e.bits&Persistent != 0 {
			fn(e.w)
		}
	}
}

// Paths returns, sorted, the paths on which w holds a watch of mode m, or
// nil if there are none.
func (x *Index) Paths(w uint64, m Mode) []string {
	wt := x.watchers[w]
	if wt == nil || !m.Valid() {
		return nil
	}
	var out []string
	for _, r := range wt.refs {
		if r.n.ws[r.fi].bits&m != 0 {
			out = append(out, r.n.path)
		}
	}
	slices.Sort(out)
	return out
}

// Watchers returns, in ascending order, the watchers holding a watch of
// mode m on exactly path, or nil if there are none.
func (x *Index) Watchers(path string, m Mode) []uint64 {
	n := x.nodes[path]
	if n == nil || !m.Valid() {
		return nil
	}
	var out []uint64
	for _, e := range n.ws {
		if e.bits&m != 0 {
			out = append(out, e.w)
		}
	}
	slices.Sort(out)
	return out
}

// Len returns the number of (path, watcher) pairs holding mode m.
func (x *Index) Len(m Mode) int {
	switch m {
	case Persistent:
		return x.nPers
	case Recursive:
		return x.nRec
	}
	return 0
}

// RecursiveCount returns the number of (path, watcher) pairs holding the
// Recursive mode, ZooKeeper's recursiveWatchQty. While it is zero, MatchData
// does not look at ancestors at all.
func (x *Index) RecursiveCount() int { return x.nRec }

// PathCount returns the number of distinct paths with a watch of any mode.
func (x *Index) PathCount() int { return len(x.nodes) }

// WatcherCount returns the number of watchers holding any watch.
func (x *Index) WatcherCount() int { return len(x.watchers) }

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

// find returns the index of w in n.ws, or -1.
func (n *node) find(w uint64) int32 {
	if n.pos != nil {
		if i, ok := n.pos[w]; ok {
			return i
		}
		return -1
	}
	for i := range n.ws {
		if n.ws[i].w == w {
			return int32(i)
		}
	}
	return -1
}

// swap exchanges entries i and j of n and repoints their refs.
func (x *Index) swap(n *node, i, j int32) {
	if i == j {
		return
	}
	n.ws[i], n.ws[j] = n.ws[j], n.ws[i]
	x.setPos(n, i)
	x.setPos(n, j)
}

// setPos records in the ref and the position map that entry i of n is at i.
func (x *Index) setPos(n *node, i int32) {
	e := n.ws[i]
	x.watchers[e.w].refs[e.ri].fi = i
	if n.pos != nil {
		n.pos[e.w] = i
	}
}

// demote moves the recursive entry at fi to the end of the recursive
// prefix and shrinks the prefix over it, taking the node out of the radix
// tree when it was the last one. It returns the entry's new index. The
// caller clears the bit.
func (x *Index) demote(n *node, fi int32) int32 {
	last := n.nrec - 1
	x.swap(n, fi, last)
	n.nrec--
	if n.nrec == 0 {
		x.rec.Delete(recKey(n.path))
	}
	return last
}

// unlinkEntry removes entry fi from n, keeping recursive entries first, and
// drops n when it becomes empty. The ref pointing at the entry is left to
// the caller; the refs of entries that move are updated.
func (x *Index) unlinkEntry(n *node, fi int32) {
	if fi < n.nrec {
		fi = x.demote(n, fi)
	}
	gone := n.ws[fi].w
	last := int32(len(n.ws) - 1)
	if fi != last {
		n.ws[fi] = n.ws[last]
		x.setPos(n, fi)
	}
	n.ws = n.ws[:last]
	if last == 0 {
		delete(x.nodes, n.path)
		return
	}
	if n.pos != nil {
		delete(n.pos, gone)
		if len(n.ws) <= dropIndexAt {
			n.pos = nil
		}
	}
	n.ws = shrink(n.ws)
}

// unlinkRef removes ref ri of watcher w, repointing the entry of the ref
// that moves into its place, and drops w when it has no refs left.
func (x *Index) unlinkRef(w uint64, ri int32) {
	wt := x.watchers[w]
	last := int32(len(wt.refs) - 1)
	if ri != last {
		moved := wt.refs[last]
		wt.refs[ri] = moved
		moved.n.ws[moved.fi].ri = ri
	}
	wt.refs[last] = ref{}
	wt.refs = wt.refs[:last]
	if last == 0 {
		delete(x.watchers, w)
		return
	}
	wt.refs = shrink(wt.refs)
}

// shrink returns s in a smaller backing array when at most a quarter of its
// capacity is used, keeping positions, so a set that was once large does
// not pin its peak memory.
func shrink[E any](s []E) []E {
	if cap(s) < 64 || len(s) > cap(s)/4 {
		return s
	}
	return append(make([]E, 0, 2*len(s)), s...)
}
