package pairs

import "fmt"

// Verify checks the table's internal consistency and returns the first
// broken invariant it finds, or nil. It is meant for tests, including those
// of the packages built on Table, and costs O(size of the table).
//
// It checks that the forward and reverse sides mirror each other exactly,
// that every indexed path is found by a lookup, that a path keeps its
// watcher inline exactly when it has one and has a position map exactly
// when it needs one (or has not yet shrunk back below dropIndexAt), that
// the free lists cover exactly the unused slots, which are cleared, that a
// drained table holds no slab, and that the counters match.
func (t *Table) Verify() error {
	pairs := 0
	usedSets := map[uint32]bool{}
	usedMultis := map[int32]bool{}
	indexed := 0
	for _, e := range t.index.entries {
		if e == 0 {
			continue
		}
		indexed++
		ps := uint32(e) - 1
		if int(ps) >= len(t.sets) {
			return fmt.Errorf("index entry for slot %d of %d", ps, len(t.sets))
		}
		p := &t.sets[ps]
		if got, _, ok := t.index.lookup(t.sets, p.path); !ok || got != ps {
			return fmt.Errorf("%q in slot %d not found by lookup (%d, %v)", p.path, ps, got, ok)
		}
		if uint32(e>>32) != t.index.hash(p.path) {
			return fmt.Errorf("%q indexed with a wrong hash", p.path)
		}
		if usedSets[ps] {
			return fmt.Errorf("slot %d indexed twice", ps)
		}
		usedSets[ps] = true
		n, err := t.verifySet(ps, usedMultis)
		if err != nil {
			return err
		}
		pairs += n
	}
	if indexed != t.index.n {
		return fmt.Errorf("index holds %d entries, counts %d", indexed, t.index.n)
	}
	if t.index.n == 0 && (t.sets != nil || t.freeSets != nil || t.index.entries != nil) {
		return fmt.Errorf("drained table keeps %d slots, %d free, %d index entries",
			len(t.sets), len(t.freeSets), len(t.index.entries))
	}
	if n := len(t.index.entries); n != 0 && (n < minIndexSize || n&(n-1) != 0 || t.index.n*4 > n*3) {
		return fmt.Errorf("index array of %d entries for %d paths", n, t.index.n)
	}
	for _, ps := range t.freeSets {
		if usedSets[ps] || int(ps) >= len(t.sets) || t.sets[ps] != (pathSet{}) {
			return fmt.Errorf("free slot %d is in use, out of range or not cleared", ps)
		}
		usedSets[ps] = true
	}
	if len(usedSets) != len(t.sets) {
		return fmt.Errorf("%d slots, %d used or free", len(t.sets), len(usedSets))
	}
	for _, mi := range t.freeMulti {
		if usedMultis[mi] || int(mi) >= len(t.multis) || t.multis[mi].ws != nil || t.multis[mi].pos != nil {
			return fmt.Errorf("free list slot %d is in use, out of range or not cleared", mi)
		}
		usedMultis[mi] = true
	}
	if len(usedMultis) != len(t.multis) {
		return fmt.Errorf("%d list slots, %d used or free", len(t.multis), len(usedMultis))
	}
	if len(t.multis) > 0 && len(t.freeMulti) == len(t.multis) {
		return fmt.Errorf("no list in use but the list slab keeps %d slots", len(t.multis))
	}
	refs := 0
	for w, ws := range t.watchers {
		if len(ws.refs) == 0 {
			return fmt.Errorf("empty watcher set %d kept", w)
		}
		for _, r := range ws.refs {
			if int(r.ps) >= len(t.sets) {
				return fmt.Errorf("watcher %d refers to slot %d of %d", w, r.ps, len(t.sets))
			}
			if got, _, ok := t.index.lookup(t.sets, t.sets[r.ps].path); !ok || got != r.ps {
				return fmt.Errorf("watcher %d refers to detached slot %d", w, r.ps)
			}
		}
		refs += len(ws.refs)
	}
	if pairs != refs || pairs != t.pairs {
		return fmt.Errorf("pairs counter %d, forward %d, reverse %d", t.pairs, pairs, refs)
	}
	return nil
}

// verifySet checks the watchers of the indexed slot ps against their refs,
// marks its list slot in used, and returns its number of watchers.
func (t *Table) verifySet(ps uint32, used map[int32]bool) (int, error) {
	p := &t.sets[ps]
	check := func(i int32, e edge) error {
		ws := t.watchers[e.w]
		if ws == nil || e.ri < 0 || int(e.ri) >= len(ws.refs) {
			return fmt.Errorf("edge %q/%d has no ref", p.path, e.w)
		}
		if r := ws.refs[e.ri]; r.ps != ps || r.fi != i {
			return fmt.Errorf("edge %q/%d: ref points at slot %d index %d, want %d, %d", p.path, e.w, r.ps, r.fi, ps, i)
		}
		return nil
	}
	if p.m == 0 {
		return 1, check(0, edge{w: p.w, ri: p.ri})
	}
	if p.m < 0 || int(p.m) > len(t.multis) {
		return 0, fmt.Errorf("%q refers to list slot %d of %d", p.path, p.m-1, len(t.multis))
	}
	if used[p.m-1] {
		return 0, fmt.Errorf("list slot %d used twice", p.m-1)
	}
	used[p.m-1] = true
	if p.w != 0 || p.ri != 0 {
		return 0, fmt.Errorf("%q has a list and a stale inline watcher", p.path)
	}
	ms := &t.multis[p.m-1]
	if len(ms.ws) < 2 {
		return 0, fmt.Errorf("%q has %d watchers in a list, want inline", p.path, len(ms.ws))
	}
	if ms.pos != nil && len(ms.pos) != len(ms.ws) {
		return 0, fmt.Errorf("%q position map has %d entries, list %d", p.path, len(ms.pos), len(ms.ws))
	}
	if ms.pos == nil && len(ms.ws) > IndexAbove {
		return 0, fmt.Errorf("%q has %d watchers and no position map", p.path, len(ms.ws))
	}
	if ms.pos != nil && len(ms.ws) <= dropIndexAt {
		return 0, fmt.Errorf("%q keeps a position map for %d watchers", p.path, len(ms.ws))
	}
	seen := make(map[uint64]bool, len(ms.ws))
	for i, e := range ms.ws {
		if seen[e.w] {
			return 0, fmt.Errorf("%q lists watcher %d twice", p.path, e.w)
		}
		seen[e.w] = true
		if ms.pos != nil && ms.pos[e.w] != int32(i) {
			return 0, fmt.Errorf("%q pos[%d] = %d, want %d", p.path, e.w, ms.pos[e.w], i)
		}
		if err := check(int32(i), e); err != nil {
			return 0, err
		}
	}
	return len(ms.ws), nil
}
