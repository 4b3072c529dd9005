package pairs

import (
	"cmp"
	"iter"
	"slices"
)

// IndexAbove is the number of watchers on one path above which the path
// gets a watcher -> position map. Below it a linear scan over a slice of
// 16-byte entries is faster than hashing and costs no extra memory; above
// it (a hot path watched by most connections) the map keeps Add, Remove and
// Contains O(1).
const IndexAbove = 16

// dropIndexAt is the size at which a path's position map is discarded
// again. It is well below IndexAbove so that a path hovering around the
// threshold does not rebuild its map on every change.
const dropIndexAt = 4

// Change reports what an Add or Remove did, as a set of bits.
type Change uint8

const (
	// Added: the pair was not in the table and now is.
	Added Change = 1 << iota
	// Removed: the pair was in the table and now is not.
	Removed
	// PathAdded: the pair's path had no watcher before (it was given a new
	// slot).
	PathAdded
	// PathDropped: the pair's path has no watcher left (its slot was freed).
	PathDropped
	// WatcherAdded: the pair's watcher held no pair before.
	WatcherAdded
	// WatcherDropped: the pair's watcher holds no pair any more.
	WatcherDropped
)

// Table is a set of (path, watcher) pairs indexed both ways.
//
// Concurrency: a Table is not safe for concurrent use; its owner serializes
// every call, the read-only ones included. Callbacks run while a method is
// in progress and must not modify the Table, except the one given to Take,
// which runs after the Table has been updated.
//
// The zero Table is empty and ready to use.
type Table struct {
	index     pathIndex              // forward: path -> slot in sets
	sets      []pathSet              // path sets, by slot
	freeSets  []uint32               // unused slots of sets
	multis    []multiSet             // watcher lists of paths with 2+ watchers
	freeMulti []int32                // unused slots of multis
	watchers  map[uint64]*watcherSet // reverse: watcher -> its paths
	pairs     int                    // number of (path, watcher) pairs
}

// pathSet is the set of watchers of one path: the 32-byte slot.
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
	// exceeded IndexAbove.
	pos map[uint64]int32
}

// edge is one pair as seen from its path: the watcher and the index of the
// matching ref in that watcher's set.
type edge struct {
	w  uint64
	ri int32
}

// watcherSet is the set of paths one watcher watches.
type watcherSet struct {
	refs []ref
}

// ref is one pair as seen from its watcher: the slot of the path's set and
// the index of the matching edge in it (0 for an inline watcher).
type ref struct {
	ps uint32
	fi int32
}

// Lookup returns the slot of path, if any watcher holds it. A slot stays
// the path's until the path's last pair leaves the table; then it may be
// given to another path.
func (t *Table) Lookup(path string) (slot uint32, ok bool) {
	slot, _, ok = t.index.lookup(t.sets, path)
	return slot, ok
}

// Path returns the path held in slot, or "" if slot is out of range.
func (t *Table) Path(slot uint32) string {
	if int(slot) >= len(t.sets) {
		return ""
	}
	return t.sets[slot].path
}

// SharePath replaces the string that slot holds by s, which must be equal
// to it, so that the table keeps a string sharing its bytes with another
// structure (a radix-tree key) rather than a second copy. It reports
// whether it did; a different string or a bad slot changes nothing.
func (t *Table) SharePath(slot uint32, s string) bool {
	if int(slot) >= len(t.sets) || t.sets[slot].path != s {
		return false
	}
	t.sets[slot].path = s
	return true
}

// Add records the pair (path, w) and returns the slot of path. If the pair
// is already there nothing changes and the Change is 0; otherwise it holds
// Added, plus PathAdded and WatcherAdded when the path or the watcher is
// new to the table. The table keeps path as given; callers pass a string
// they do not mutate (Go strings never are).
func (t *Table) Add(path string, w uint64) (slot uint32, ch Change) {
	ps, _, known := t.index.lookup(t.sets, path)
	if known && t.find(&t.sets[ps], w) >= 0 {
		return ps, 0
	}
	ch = Added
	if t.watchers == nil {
		t.watchers = make(map[uint64]*watcherSet)
	}
	ws := t.watchers[w]
	if ws == nil {
		ws = &watcherSet{}
		t.watchers[w] = ws
		ch |= WatcherAdded
	}
	ri := int32(len(ws.refs))
	var fi int32
	if !known {
		ps = t.allocSet(pathSet{path: path, w: w, ri: ri})
		t.index.insert(path, ps)
		ch |= PathAdded
	} else {
		fi = t.appendEdge(ps, edge{w: w, ri: ri})
	}
	ws.refs = append(ws.refs, ref{ps: ps, fi: fi})
	t.pairs++
	return ps, ch
}

// appendEdge adds e to the known path set in slot ps, moving an inline
// watcher out to a multiSet first, and returns e's index.
func (t *Table) appendEdge(ps uint32, e edge) int32 {
	p := &t.sets[ps]
	if p.m == 0 {
		mi := t.allocMulti()
		ms := &t.multis[mi]
		ms.ws = make([]edge, 2, 4)
		ms.ws[0] = edge{w: p.w, ri: p.ri}
		ms.ws[1] = e
		p.w, p.ri, p.m = 0, 0, mi+1
		return 1
	}
	ms := &t.multis[p.m-1]
	fi := int32(len(ms.ws))
	ms.ws = append(ms.ws, e)
	switch {
	case ms.pos != nil:
		ms.pos[e.w] = fi
	case len(ms.ws) > IndexAbove:
		ms.pos = make(map[uint64]int32, 2*len(ms.ws))
		for i, x := range ms.ws {
			ms.pos[x.w] = int32(i)
		}
	}
	return fi
}

// Remove deletes the pair (path, w). If it was not there nothing changes
// and the Change is 0; otherwise it holds Removed, plus PathDropped and
// WatcherDropped when the path or the watcher has no pair left.
func (t *Table) Remove(path string, w uint64) Change {
	ps, _, ok := t.index.lookup(t.sets, path)
	if !ok {
		return 0
	}
	p := &t.sets[ps]
	fi := t.find(p, w)
	if fi < 0 {
		return 0
	}
	ri := p.ri
	if p.m != 0 {
		ri = t.multis[p.m-1].ws[fi].ri
	}
	ch := Removed
	if t.unlinkRef(w, ri) {
		ch |= WatcherDropped
	}
	if t.unlinkEdge(ps, fi, nil) {
		ch |= PathDropped
	}
	t.pairs--
	return ch
}

// Contains reports whether the pair (path, w) is in the table.
func (t *Table) Contains(path string, w uint64) bool {
	ps, _, ok := t.index.lookup(t.sets, path)
	return ok && t.find(&t.sets[ps], w) >= 0
}

// HasWatcher reports whether w holds any pair.
func (t *Table) HasWatcher(w uint64) bool {
	return t.watchers[w] != nil
}

// Take removes every pair of path and then calls fn once for each watcher
// that held one, in ascending watcher order. The pairs are gone before fn
// runs, so fn sees the table without them and may call any method of t. fn
// may be nil. Take reports whether path had any pair.
//
// Take costs O(m log m) for the m watchers of path and nothing else.
func (t *Table) Take(path string, fn func(w uint64)) bool {
	ps, at, ok := t.index.lookup(t.sets, path)
	if !ok {
		return false
	}
	t.index.removeAt(at)
	p := t.sets[ps]
	if p.m == 0 {
		t.unlinkRef(p.w, p.ri)
		t.freeSet(ps)
		t.pairs--
		if fn != nil {
			fn(p.w)
		}
		return true
	}
	ws := t.multis[p.m-1].ws
	for _, e := range ws {
		t.unlinkRef(e.w, e.ri)
	}
	t.freeMultiSet(p.m - 1)
	t.freeSet(ps)
	t.pairs -= len(ws)
	if fn == nil {
		return true
	}
	// ws is detached from the table now (a recycled multiSet slot gets a
	// fresh slice), so it is ours to reorder and stays valid whatever fn
	// does to t.
	slices.SortFunc(ws, func(a, b edge) int { return cmp.Compare(a.w, b.w) })
	for _, e := range ws {
		fn(e.w)
	}
	return true
}

// RemoveWatcher removes every pair of w, as when its connection closes,
// and calls dropped (if not nil) with each path left with no watcher, once
// that path is out of the table. dropped must not use t: the removal is
// still in progress. RemoveWatcher costs O(number of w's pairs).
func (t *Table) RemoveWatcher(w uint64, dropped func(path string)) {
	ws := t.watchers[w]
	if ws == nil {
		return
	}
	delete(t.watchers, w)
	for _, r := range ws.refs {
		t.unlinkEdge(r.ps, r.fi, dropped)
	}
	t.pairs -= len(ws.refs)
}

// Each calls fn for each watcher of the path in slot, in no particular
// order. slot must be one that Lookup or Add returned for a path still in
// the table. fn must not modify the table.
func (t *Table) Each(slot uint32, fn func(w uint64)) {
	if int(slot) >= len(t.sets) {
		return
	}
	p := &t.sets[slot]
	if p.m == 0 {
		fn(p.w)
		return
	}
	for _, e := range t.multis[p.m-1].ws {
		fn(e.w)
	}
}

// AppendWatchers appends the watchers of the path in slot to dst, in no
// particular order, and returns the extended slice. slot is as for Each.
func (t *Table) AppendWatchers(dst []uint64, slot uint32) []uint64 {
	if int(slot) >= len(t.sets) {
		return dst
	}
	p := &t.sets[slot]
	if p.m == 0 {
		return append(dst, p.w)
	}
	for _, e := range t.multis[p.m-1].ws {
		dst = append(dst, e.w)
	}
	return dst
}

// All returns an iterator over every pair, in no particular order. The
// table must not be modified during the iteration. It is meant for tests
// and diagnostics, not for hot paths.
func (t *Table) All() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		for _, e := range t.index.entries {
			if e == 0 {
				continue
			}
			p := &t.sets[uint32(e)-1]
			if p.m == 0 {
				if !yield(p.path, p.w) {
					return
				}
				continue
			}
			for _, x := range t.multis[p.m-1].ws {
				if !yield(p.path, x.w) {
					return
				}
			}
		}
	}
}

// Paths returns the paths of w's pairs, sorted, or nil if it has none.
func (t *Table) Paths(w uint64) []string {
	ws := t.watchers[w]
	if ws == nil {
		return nil
	}
	out := make([]string, len(ws.refs))
	for i, r := range ws.refs {
		out[i] = t.sets[r.ps].path
	}
	slices.Sort(out)
	return out
}

// Watchers returns the watchers of path in ascending order, or nil if it
// has none.
func (t *Table) Watchers(path string) []uint64 {
	ps, ok := t.Lookup(path)
	if !ok {
		return nil
	}
	out := t.AppendWatchers(nil, ps)
	slices.Sort(out)
	return out
}

// Len returns the number of pairs.
func (t *Table) Len() int { return t.pairs }

// PathCount returns the number of distinct paths with a pair.
func (t *Table) PathCount() int { return t.index.n }

// WatcherCount returns the number of distinct watchers with a pair.
func (t *Table) WatcherCount() int { return len(t.watchers) }

// Footprint describes how much storage a Table holds, for tests and
// diagnostics.
type Footprint struct {
	Slots      int // length of the path slab, free slots included
	FreeSlots  int // slots on the free list
	Lists      int // length of the slab of multi-watcher lists
	FreeLists  int // lists on the free list
	IndexSize  int // entries in the hash index's array (used or not)
	PosMaps    int // paths with a watcher -> position map
	MaxRefs    int // largest capacity of one watcher's reverse list
	MaxWatched int // largest capacity of one path's watcher list
}

// Footprint returns the table's current storage figures. It costs
// O(watchers + lists).
func (t *Table) Footprint() Footprint {
	f := Footprint{
		Slots:     len(t.sets),
		FreeSlots: len(t.freeSets),
		Lists:     len(t.multis),
		FreeLists: len(t.freeMulti),
		IndexSize: len(t.index.entries),
	}
	for _, ms := range t.multis {
		if ms.pos != nil {
			f.PosMaps++
		}
		f.MaxWatched = max(f.MaxWatched, cap(ms.ws))
	}
	for _, ws := range t.watchers {
		f.MaxRefs = max(f.MaxRefs, cap(ws.refs))
	}
	return f
}

// find returns the index of w among p's watchers (0 for an inline one), or
// -1.
func (t *Table) find(p *pathSet, w uint64) int32 {
	if p.m == 0 {
		if p.w == w {
			return 0
		}
		return -1
	}
	ms := &t.multis[p.m-1]
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
// into its place, and repoints the moved entry's edge. It deletes w's set,
// and reports true, when it becomes empty. The edge pointing at the
// removed ref is left to the caller.
func (t *Table) unlinkRef(w uint64, ri int32) (gone bool) {
	ws := t.watchers[w]
	last := int32(len(ws.refs) - 1)
	if ri != last {
		moved := ws.refs[last]
		ws.refs[ri] = moved
		if p := &t.sets[moved.ps]; p.m == 0 {
			p.ri = ri
		} else {
			t.multis[p.m-1].ws[moved.fi].ri = ri
		}
	}
	ws.refs = ws.refs[:last]
	if last == 0 {
		delete(t.watchers, w)
		return true
	}
	ws.refs = shrink(ws.refs)
	return false
}

// unlinkEdge removes entry fi from the path set in slot ps by moving the
// last entry into its place, and repoints the moved entry's ref. A set left
// with one watcher takes it inline again; an empty one is deleted from the
// table, dropped (if not nil) is called with its path, and unlinkEdge
// reports true. The ref pointing at the removed edge is left to the caller.
func (t *Table) unlinkEdge(ps uint32, fi int32, dropped func(string)) (gone bool) {
	p := &t.sets[ps]
	if p.m == 0 {
		path := p.path
		t.index.remove(path, ps)
		t.freeSet(ps)
		if dropped != nil {
			dropped(path)
		}
		return true
	}
	ms := &t.multis[p.m-1]
	left := ms.ws[fi].w
	last := int32(len(ms.ws) - 1)
	if fi != last {
		moved := ms.ws[last]
		ms.ws[fi] = moved
		t.watchers[moved.w].refs[moved.ri].fi = fi
		if ms.pos != nil {
			ms.pos[moved.w] = fi
		}
	}
	ms.ws = ms.ws[:last]
	if ms.pos != nil {
		delete(ms.pos, left)
		if len(ms.ws) <= dropIndexAt {
			ms.pos = nil
		}
	}
	if last == 1 {
		// The remaining watcher is at index 0, which is also the index
		// an inline watcher's ref records.
		e := ms.ws[0]
		t.freeMultiSet(p.m - 1)
		p.w, p.ri, p.m = e.w, e.ri, 0
		return false
	}
	ms.ws = shrink(ms.ws)
	return false
}

// allocSet stores p in a free slot of t.sets and returns the slot.
func (t *Table) allocSet(p pathSet) uint32 {
	if n := len(t.freeSets); n > 0 {
		ps := t.freeSets[n-1]
		t.freeSets = t.freeSets[:n-1]
		t.sets[ps] = p
		return ps
	}
	t.sets = append(t.sets, p)
	return uint32(len(t.sets) - 1)
}

// freeSet clears slot ps of t.sets and makes it available again. The path
// must already be out of the index. When no path is left, the slab and its
// free list are released, so a table that drains does not pin its peak
// memory.
func (t *Table) freeSet(ps uint32) {
	if t.index.n == 0 {
		t.sets, t.freeSets = nil, nil
		return
	}
	t.sets[ps] = pathSet{}
	t.freeSets = append(t.freeSets, ps)
}

// allocMulti returns an empty slot of t.multis.
func (t *Table) allocMulti() int32 {
	if n := len(t.freeMulti); n > 0 {
		mi := t.freeMulti[n-1]
		t.freeMulti = t.freeMulti[:n-1]
		return mi
	}
	t.multis = append(t.multis, multiSet{})
	return int32(len(t.multis) - 1)
}

// freeMultiSet clears slot mi of t.multis, dropping its slice and map, and
// makes it available again. When no list is in use, the slab and its free
// list are released.
func (t *Table) freeMultiSet(mi int32) {
	t.multis[mi] = multiSet{}
	if len(t.freeMulti)+1 == len(t.multis) {
		t.multis, t.freeMulti = nil, nil
		return
	}
	t.freeMulti = append(t.freeMulti, mi)
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
