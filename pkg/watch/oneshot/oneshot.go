package oneshot

import (
	"cmp"
	"slices"
	"strconv"
)

// Kind selects one of the two one-shot tables.
type Kind uint8

const (
	// Data is the data table: watches set by exists and getData. The server
	// does not tell the two apart; both fire on NodeCreated, NodeDataChanged
	// and NodeDeleted of the watched path.
	Data Kind = iota
	// Child is the child table: watches set by getChildren. They fire on
	// NodeChildrenChanged and NodeDeleted of the watched path.
	Child

	numKinds = 2
)

// String returns "data" or "child", or "Kind(n)" for an unknown value.
func (k Kind) String() string {
	switch k {
	case Data:
		return "data"
	case Child:
		return "child"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is Data or Child.
func (k Kind) Valid() bool { return k < numKinds }

// indexAbove is the number of watchers on one path above which the path
// gets a watcher -> position map. Below it a linear scan over a slice of
// 16-byte entries is faster than hashing and costs no extra memory; above
// it (a hot path watched by most connections) the map keeps Add, Remove and
// Contains O(1).
const indexAbove = 16

// dropIndexAt is the size at which a path's position map is discarded
// again. It is well below indexAbove so that a path hovering around the
// threshold does not rebuild its map on every change.
const dropIndexAt = 4

// Table holds the one-shot watches of both kinds.
//
// Concurrency: a Table is not safe for concurrent use. The server guards it,
// together with the persistent index, with one lock; every method, including
// the read-only ones, must be called with that lock held. The callback given
// to Trigger runs after the table has been updated and may call methods of
// the Table.
//
// The zero Table is not usable; call New.
type Table struct {
	kinds [numKinds]table
}

// table is one kind's forward and reverse index.
type table struct {
	paths    map[string]*pathSet    // forward: path -> its watchers
	watchers map[uint64]*watcherSet // reverse: watcher -> its paths
	pairs    int                    // number of (path, watcher) pairs
}

// pathSet is the set of watchers of one path.
type pathSet struct {
	path string
	ws   []edge
	// pos maps a watcher to its index in ws; nil unless len(ws) has
	// exceeded indexAbove.
	pos map[uint64]int32
}

// edge is one watch as seen from its path: the watcher and the index of
// the matching ref in that watcher's set.
type edge struct {
	w  uint64
	ri int32
}

// watcherSet is the set of paths one watcher watches.
type watcherSet struct {
	refs []ref
}

// ref is one watch as seen from its watcher: the path's set and the index
// of the matching edge in it.
type ref struct {
	p  *pathSet
	fi int32
}

// New returns an empty Table.
func New() *Table {
	t := &Table{}
	for i := range t.kinds {
		t.kinds[i] = table{
			paths:    make(map[string]*pathSet),
			watchers: make(map[uint64]*watcherSet),
		}
	}
	return t
}

func (t *Table) kind(k Kind) *table {
	if !k.Valid() {
		return nil
	}
	return &t.kinds[k]
}

// Add registers a one-shot watch of kind k on path for watcher w. It
// returns false, and changes nothing, if w already watches path with that
// kind or k is not a valid Kind. Paths are compared as exact strings; the
// caller validates them.
func (t *Table) Add(k Kind, path string, w uint64) (added bool) {
	tb := t.kind(k)
	if tb == nil {
		return false
	}
	p := tb.paths[path]
	if p == nil {
		p = &pathSet{path: path}
		tb.paths[path] = p
	} else if p.find(w) >= 0 {
		return false
	}
	ws := tb.watchers[w]
	if ws == nil {
		ws = &watcherSet{}
		tb.watchers[w] = ws
	}
	fi, ri := int32(len(p.ws)), int32(len(ws.refs))
	p.ws = append(p.ws, edge{w: w, ri: ri})
	ws.refs = append(ws.refs, ref{p: p, fi: fi})
	switch {
	case p.pos != nil:
		p.pos[w] = fi
	case len(p.ws) > indexAbove:
		p.pos = make(map[uint64]int32, 2*len(p.ws))
		for i, e := range p.ws {
			p.pos[e.w] = int32(i)
		}
	}
	tb.pairs++
	return true
}

// Trigger removes every watch of kind k on path and then calls fn once for
// each watcher that held one, in ascending watcher order. The watches are
// consumed before fn runs, so fn sees the table without them and may call
// any method of t. fn may be nil to just consume the watches.
//
// Trigger costs O(m log m) for m watchers on path and nothing else.
func (t *Table) Trigger(k Kind, path string, fn func(w uint64)) {
	tb := t.kind(k)
	if tb == nil {
		return
	}
	p := tb.paths[path]
	if p == nil {
		return
	}
	delete(tb.paths, path)
	for _, e := range p.ws {
		tb.unlinkRef(e.w, e.ri)
	}
	tb.pairs -= len(p.ws)
	if fn == nil {
		return
	}
	// p is detached from the table now, so its slice is ours to reorder
	// and stays valid whatever fn does to t.
	slices.SortFunc(p.ws, func(a, b edge) int { return cmp.Compare(a.w, b.w) })
	for _, e := range p.ws {
		fn(e.w)
	}
}

// Remove removes the watch of kind k on path held by w. It reports whether
// there was one.
func (t *Table) Remove(k Kind, path string, w uint64) (removed bool) {
	tb := t.kind(k)
	if tb == nil {
		return false
	}
	p := tb.paths[path]
	if p == nil {
		return false
	}
	fi := p.find(w)
	if fi < 0 {
		return false
	}
	tb.unlinkRef(w, p.ws[fi].ri)
	tb.unlinkEdge(p, fi)
	tb.pairs--
	return true
}

// Contains reports whether w holds a watch of kind k on path.
func (t *Table) Contains(k Kind, path string, w uint64) bool {
	tb := t.kind(k)
	if tb == nil {
		return false
	}
	p := tb.paths[path]
	return p != nil && p.find(w) >= 0
}

// RemoveWatcher removes all watches of both kinds held by w, as when its
// connection closes. It costs O(number of w's watches).
func (t *Table) RemoveWatcher(w uint64) {
	for i := range t.kinds {
		tb := &t.kinds[i]
		ws := tb.watchers[w]
		if ws == nil {
			continue
		}
		delete(tb.watchers, w)
		for _, r := range ws.refs {
			tb.unlinkEdge(r.p, r.fi)
		}
		tb.pairs -= len(ws.refs)
	}
}

// Paths returns the paths on which w holds a watch of kind k, sorted. It
// returns nil if there are none.
func (t *Table) Paths(k Kind, w uint64) []string {
	tb := t.kind(k)
	if tb == nil {
		return nil
	}
	ws := tb.watchers[w]
	if ws == nil {
		return nil
	}
	out := make([]string, len(ws.refs))
	for i, r := range ws.refs {
		out[i] = r.p.path
	}
	slices.Sort(out)
	return out
}

// Watchers returns the watchers holding a watch of kind k on path, in
// ascending order. It returns nil if there are none.
func (t *Table) Watchers(k Kind, path string) []uint64 {
	tb := t.kind(k)
	if tb == nil {
		return nil
	}
	p := tb.paths[path]
	if p == nil {
		return nil
	}
	out := make([]uint64, len(p.ws))
	for i, e := range p.ws {
		out[i] = e.w
	}
	slices.Sort(out)
	return out
}

// Len returns the number of (path, watcher) pairs of kind k.
func (t *Table) Len(k Kind) int {
	if tb := t.kind(k); tb != nil {
		return tb.pairs
	}
	return 0
}

// PathCount returns the number of distinct paths with a watch of kind k.
func (t *Table) PathCount(k Kind) int {
	if tb := t.kind(k); tb != nil {
		return len(tb.paths)
	}
	return 0
}

// WatcherCount returns the number of watchers holding a watch of kind k.
func (t *Table) WatcherCount(k Kind) int {
	if tb := t.kind(k); tb != nil {
		return len(tb.watchers)
	}
	return 0
}

// find returns the index of w in p.ws, or -1.
func (p *pathSet) find(w uint64) int32 {
	if p.pos != nil {
		if i, ok := p.pos[w]; ok {
			return i
		}
		return -1
	}
	for i := range p.ws {
		if p.ws[i].w == w {
			return int32(i)
		}
	}
	return -1
}

// unlinkRef removes entry ri from w's reverse set by moving the last entry
// into its place, and repoints the moved entry's edge. It deletes w's set
// when it becomes empty. The edge pointing at the removed ref is left to
// the caller.
func (tb *table) unlinkRef(w uint64, ri int32) {
	ws := tb.watchers[w]
	last := int32(len(ws.refs) - 1)
	if ri != last {
		moved := ws.refs[last]
		ws.refs[ri] = moved
		moved.p.ws[moved.fi].ri = ri
	}
	ws.refs[last] = ref{} // drop the pointer for the GC
	ws.refs = ws.refs[:last]
	if last == 0 {
		delete(tb.watchers, w)
		return
	}
	ws.refs = shrink(ws.refs)
}

// unlinkEdge removes entry fi from p by moving the last entry into its
// place, and repoints the moved entry's ref. It deletes p from the table
// when it becomes empty. The ref pointing at the removed edge is left to
// the caller.
func (tb *table) unlinkEdge(p *pathSet, fi int32) {
	gone := p.ws[fi].w
	last := int32(len(p.ws) - 1)
	if fi != last {
		moved := p.ws[last]
		p.ws[fi] = moved
		tb.watchers[moved.w].refs[moved.ri].fi = fi
		if p.pos != nil {
			p.pos[moved.w] = fi
		}
	}
	p.ws = p.ws[:last]
	if last == 0 {
		delete(tb.paths, p.path)
		return
	}
	if p.pos != nil {
		delete(p.pos, gone)
		if len(p.ws) <= dropIndexAt {
			p.pos = nil
		}
	}
	p.ws = shrink(p.ws)
}

// shrink returns s in a smaller backing array when at most a quarter of
// its capacity is in use, so a set that was once large does not pin its
// peak memory. Positions are preserved.
func shrink[E any](s []E) []E {
	if cap(s) < 64 || len(s) > cap(s)/4 {
		return s
	}
	return append(make([]E, 0, 2*len(s)), s...)
}
