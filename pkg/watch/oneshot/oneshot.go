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
//
// The forward side maps a path to a slot in sets, a slab of fixed-size path
// sets. A path with one watcher keeps it inline in its slot; a path with
// two or more has its watchers in a multiSet, itself a slot in multis.
// Freed slots of both slabs are recycled through free lists. The reverse
// side refers to a path by its slot number, so a ref is 8 bytes and holds
// no pointer.
type table struct {
	index     pathIndex              // forward: path -> slot in sets
	sets      []pathSet              // path sets, by slot
	freeSets  []uint32               // unused slots of sets
	multis    []multiSet             // watcher lists of paths with 2+ watchers
	freeMulti []int32                // unused slots of multis
	watchers  map[uint64]*watcherSet // reverse: watcher -> its paths
	pairs     int                    // number of (path, watcher) pairs
}

// pathSet is the set of watchers of one path.
type pathSet struct {
	path string
	// w and ri are the sole watcher and the index of its ref when m is 0.
	w  uint64
	ri int32
	// m is 1 + the slot in multis holding the watchers when there are two
	// or more, and 0 otherwise.
	m int32
}

// multiSet is the list of watchers of a path that has two or more.
type multiSet struct {
	ws []edge
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

// ref is one watch as seen from its watcher: the slot of the path's set
// and the index of the matching edge in it (0 for an inline watcher).
type ref struct {
	ps uint32
	fi int32
}

// New returns an empty Table.
func New() *Table {
	t := &Table{}
	for i := range t.kinds {
		t.kinds[i] = table{
			index:    newPathIndex(),
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
	ps, _, known := tb.index.lookup(tb.sets, path)
	if known && tb.find(&tb.sets[ps], w) >= 0 {
		return false
	}
	ws := tb.watchers[w]
	if ws == nil {
		ws = &watcherSet{}
		tb.watchers[w] = ws
	}
	ri := int32(len(ws.refs))
	var fi int32
	if !known {
		ps = tb.allocSet(pathSet{path: path, w: w, ri: ri})
		tb.index.insert(path, ps)
	} else {
		fi = tb.appendEdge(ps, edge{w: w, ri: ri})
	}
	ws.refs = append(ws.refs, ref{ps: ps, fi: fi})
	tb.pairs++
	return true
}

// appendEdge adds e to the known path set in slot ps, moving an inline
// watcher out to a multiSet first, and returns e's index.
func (tb *table) appendEdge(ps uint32, e edge) int32 {
	p := &tb.sets[ps]
	if p.m == 0 {
		mi := tb.allocMulti()
		ms := &tb.multis[mi]
		ms.ws = make([]edge, 2, 4)
		ms.ws[0] = edge{w: p.w, ri: p.ri}
		ms.ws[1] = e
		p.w, p.ri, p.m = 0, 0, mi+1
		return 1
	}
	ms := &tb.multis[p.m-1]
	fi := int32(len(ms.ws))
	ms.ws = append(ms.ws, e)
	switch {
	case ms.pos != nil:
		ms.pos[e.w] = fi
	case len(ms.ws) > indexAbove:
		ms.pos = make(map[uint64]int32, 2*len(ms.ws))
		for i, x := range ms.ws {
			ms.pos[x.w] = int32(i)
		}
	}
	return fi
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
	ps, at, ok := tb.index.lookup(tb.sets, path)
	if !ok {
		return
	}
	tb.index.removeAt(at)
	p := tb.sets[ps]
	if p.m == 0 {
		tb.unlinkRef(p.w, p.ri)
		tb.freeSet(ps)
		tb.pairs--
		if fn != nil {
			fn(p.w)
		}
		return
	}
	ws := tb.multis[p.m-1].ws
	for _, e := range ws {
		tb.unlinkRef(e.w, e.ri)
	}
	tb.freeMultiSet(p.m - 1)
	tb.freeSet(ps)
	tb.pairs -= len(ws)
	if fn == nil {
		return
	}
	// ws is detached from the table now (a recycled multiSet slot gets a
	// fresh slice), so it is ours to reorder and stays valid whatever fn
	// does to t.
	slices.SortFunc(ws, func(a, b edge) int { return cmp.Compare(a.w, b.w) })
	for _, e := range ws {
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
	ps, _, ok := tb.index.lookup(tb.sets, path)
	if !ok {
		return false
	}
	p := &tb.sets[ps]
	fi := tb.find(p, w)
	if fi < 0 {
		return false
	}
	ri := p.ri
	if p.m != 0 {
		ri = tb.multis[p.m-1].ws[fi].ri
	}
	tb.unlinkRef(w, ri)
	tb.unlinkEdge(ps, fi)
	tb.pairs--
	return true
}

// Contains reports whether w holds a watch of kind k on path.
func (t *Table) Contains(k Kind, path string, w uint64) bool {
	tb := t.kind(k)
	if tb == nil {
		return false
	}
	ps, _, ok := tb.index.lookup(tb.sets, path)
	return ok && tb.find(&tb.sets[ps], w) >= 0
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
			tb.unlinkEdge(r.ps, r.fi)
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
		out[i] = tb.sets[r.ps].path
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
	ps, _, ok := tb.index.lookup(tb.sets, path)
	if !ok {
		return nil
	}
	p := &tb.sets[ps]
	if p.m == 0 {
		return []uint64{p.w}
	}
	ws := tb.multis[p.m-1].ws
	out := make([]uint64, len(ws))
	for i, e := range ws {
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
		return tb.index.n
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

// find returns the index of w among p's watchers (0 for an inline one), or
// -1.
func (tb *table) find(p *pathSet, w uint64) int32 {
	if p.m == 0 {
		if p.w == w {
			return 0
		}
		return -1
	}
	ms := &tb.multis[p.m-1]
	if ms.pos != nil {
		if i, ok := ms.pos[w]; ok {
			return i
		}
		return -1
	}
	for i := range ms.ws {
		if ms.ws[i].w == w {
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
		if p := &tb.sets[moved.ps]; p.m == 0 {
			p.ri = ri
		} else {
			tb.multis[p.m-1].ws[moved.fi].ri = ri
		}
	}
	ws.refs = ws.refs[:last]
	if last == 0 {
		delete(tb.watchers, w)
		return
	}
	ws.refs = shrink(ws.refs)
}

// unlinkEdge removes entry fi from the path set in slot ps by moving the
// last entry into its place, and repoints the moved entry's ref. A set left
// with one watcher takes it inline again; an empty one is deleted from the
// table. The ref pointing at the removed edge is left to the caller.
func (tb *table) unlinkEdge(ps uint32, fi int32) {
	p := &tb.sets[ps]
	if p.m == 0 {
		tb.index.remove(p.path, ps)
		tb.freeSet(ps)
		return
	}
	ms := &tb.multis[p.m-1]
	gone := ms.ws[fi].w
	last := int32(len(ms.ws) - 1)
	if fi != last {
		moved := ms.ws[last]
		ms.ws[fi] = moved
		tb.watchers[moved.w].refs[moved.ri].fi = fi
		if ms.pos != nil {
			ms.pos[moved.w] = fi
		}
	}
	ms.ws = ms.ws[:last]
	if ms.pos != nil {
		delete(ms.pos, gone)
		if len(ms.ws) <= dropIndexAt {
			ms.pos = nil
		}
	}
	if last == 1 {
		// The remaining watcher is at index 0, which is also the index
		// an inline watcher's ref records.
		e := ms.ws[0]
		tb.freeMultiSet(p.m - 1)
		p.w, p.ri, p.m = e.w, e.ri, 0
		return
	}
	ms.ws = shrink(ms.ws)
}

// allocSet stores p in a free slot of tb.sets and returns the slot.
func (tb *table) allocSet(p pathSet) uint32 {
	if n := len(tb.freeSets); n > 0 {
		ps := tb.freeSets[n-1]
		tb.freeSets = tb.freeSets[:n-1]
		tb.sets[ps] = p
		return ps
	}
	tb.sets = append(tb.sets, p)
	return uint32(len(tb.sets) - 1)
}

// freeSet clears slot ps of tb.sets and makes it available again. When no
// path is left, the slab and its free list are released, so a table that
// drains does not pin its peak memory.
func (tb *table) freeSet(ps uint32) {
	if tb.index.n == 0 {
		tb.sets, tb.freeSets = nil, nil
		return
	}
	tb.sets[ps] = pathSet{}
	tb.freeSets = append(tb.freeSets, ps)
}

// allocMulti returns an empty slot of tb.multis.
func (tb *table) allocMulti() int32 {
	if n := len(tb.freeMulti); n > 0 {
		mi := tb.freeMulti[n-1]
		tb.freeMulti = tb.freeMulti[:n-1]
		return mi
	}
	tb.multis = append(tb.multis, multiSet{})
	return int32(len(tb.multis) - 1)
}

// freeMultiSet clears slot mi of tb.multis, dropping its slice and map, and
// makes it available again.
func (tb *table) freeMultiSet(mi int32) {
	tb.multis[mi] = multiSet{}
	if len(tb.freeMulti)+1 == len(tb.multis) {
		tb.multis, tb.freeMulti = nil, nil
		return
	}
	tb.freeMulti = append(tb.freeMulti, mi)
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
