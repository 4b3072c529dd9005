package pairs

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

func verify(t *testing.T, tb *Table) {
	t.Helper()
	if err := tb.Verify(); err != nil {
		t.Fatal(err)
	}
}

// collect returns the watchers Each reports for slot, sorted.
func collect(tb *Table, slot uint32) []uint64 {
	var out []uint64
	tb.Each(slot, func(w uint64) { out = append(out, w) })
	slices.Sort(out)
	return out
}

// TestChanges checks the Change bits Add and Remove report as paths and
// watchers enter and leave the table.
func TestChanges(t *testing.T) {
	type step struct {
		remove bool
		path   string
		w      uint64
		want   Change
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first pair is new on both sides", []step{
			{false, "/a", 1, Added | PathAdded | WatcherAdded},
		}},
		{"duplicate add changes nothing", []step{
			{false, "/a", 1, Added | PathAdded | WatcherAdded},
			{false, "/a", 1, 0},
		}},
		{"second watcher of a path", []step{
			{false, "/a", 1, Added | PathAdded | WatcherAdded},
			{false, "/a", 2, Added | WatcherAdded},
			{false, "/a", 2, 0},
		}},
		{"second path of a watcher", []step{
			{false, "/a", 1, Added | PathAdded | WatcherAdded},
			{false, "/b", 1, Added | PathAdded},
		}},
		{"remove the only pair", []step{
			{false, "/a", 1, Added | PathAdded | WatcherAdded},
			{true, "/a", 1, Removed | PathDropped | WatcherDropped},
			{true, "/a", 1, 0},
		}},
		{"remove one of two watchers", []step{
			{false, "/a", 1, Added | PathAdded | WatcherAdded},
			{false, "/a", 2, Added | WatcherAdded},
			{true, "/a", 1, Removed | WatcherDropped},
			{true, "/a", 2, Removed | PathDropped | WatcherDropped},
		}},
		{"remove one of two paths", []step{
			{false, "/a", 1, Added | PathAdded | WatcherAdded},
			{false, "/b", 1, Added | PathAdded},
			{true, "/a", 1, Removed | PathDropped},
			{true, "/b", 1, Removed | PathDropped | WatcherDropped},
		}},
		{"remove an absent pair of a known path and watcher", []step{
			{false, "/a", 1, Added | PathAdded | WatcherAdded},
			{false, "/b", 2, Added | PathAdded | WatcherAdded},
			{true, "/a", 2, 0},
			{true, "/c", 1, 0},
		}},
		{"empty path string is just a key", []step{
			{false, "", 1, Added | PathAdded | WatcherAdded},
			{true, "", 1, Removed | PathDropped | WatcherDropped},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tb Table // the zero Table is ready to use
			for i, s := range tt.steps {
				var got Change
				if s.remove {
					got = tb.Remove(s.path, s.w)
				} else {
					_, got = tb.Add(s.path, s.w)
				}
				if got != s.want {
					t.Fatalf("step %d (%+v): Change = %06b, want %06b", i, s, got, s.want)
				}
				verify(t, &tb)
			}
		})
	}
}

// TestWatchersPerPath drives one path through a given number of watchers
// (inline, list, list with position map) that also share a neighbour path,
// then empties it from the forward side (Remove, Take) or the reverse side
// (RemoveWatcher), checking every answer and the representation.
func TestWatchersPerPath(t *testing.T) {
	const path, other = "/p", "/other"
	leaves := []struct {
		name string
		// drop removes watchers ws from path and returns the watchers
		// still expected on it.
		drop func(t *testing.T, tb *Table, ws []uint64) []uint64
	}{
		{"remove one by one", func(t *testing.T, tb *Table, ws []uint64) []uint64 {
			left := slices.Clone(ws)
			for _, w := range ws {
				if tb.Remove(path, w)&Removed == 0 {
					t.Fatalf("Remove(%d) found nothing", w)
				}
				left = slices.DeleteFunc(left, func(x uint64) bool { return x == w })
				verify(t, tb)
				checkPath(t, tb, path, left)
			}
			return left
		}},
		{"remove watchers one by one", func(t *testing.T, tb *Table, ws []uint64) []uint64 {
			left := slices.Clone(ws)
			for _, w := range ws {
				var dropped []string
				tb.RemoveWatcher(w, func(p string) { dropped = append(dropped, p) })
				left = slices.DeleteFunc(left, func(x uint64) bool { return x == w })
				verify(t, tb)
				checkPath(t, tb, path, left)
				if want := len(left) == 0; slices.Contains(dropped, path) != want {
					t.Fatalf("RemoveWatcher(%d) dropped %v with %d watchers left", w, dropped, len(left))
				}
				if tb.Contains(other, w) {
					t.Fatalf("watcher %d still on %s", w, other)
				}
			}
			return left
		}},
		{"take", func(t *testing.T, tb *Table, ws []uint64) []uint64 {
			var got []uint64
			if !tb.Take(path, func(w uint64) { got = append(got, w) }) {
				t.Fatal("Take found nothing")
			}
			if want := slices.Sorted(slices.Values(ws)); !slices.Equal(got, want) {
				t.Fatalf("Take reported %v, want %v (ascending)", got, want)
			}
			verify(t, tb)
			return nil
		}},
	}
	for _, n := range []int{1, 2, 3, 16, 17, 40} {
		for _, leave := range leaves {
			t.Run(fmt.Sprintf("%d watchers/%s", n, leave.name), func(t *testing.T) {
				var tb Table
				var ws []uint64
				for i := range n {
					// Ids in descending order so that ascending output
					// is not an accident of insertion order.
					w := uint64(1000 - 7*i)
					ws = append(ws, w)
					tb.Add(other, w)
					if _, ch := tb.Add(path, w); ch&Added == 0 {
						t.Fatalf("Add(%d) refused", w)
					}
					verify(t, &tb)
					checkPath(t, &tb, path, ws)
				}
				f := tb.Footprint()
				if wantMaps := 2 * btoi(n > IndexAbove); f.PosMaps != wantMaps {
					t.Errorf("%d position maps with %d watchers, want %d", f.PosMaps, n, wantMaps)
				}
				if left := leave.drop(t, &tb, ws); len(left) != 0 {
					t.Fatalf("%v left", left)
				}
				if _, ok := tb.Lookup(path); ok || tb.Watchers(path) != nil {
					t.Fatalf("%s still indexed", path)
				}
				if leave.name == "take" && tb.Len() != n {
					t.Fatalf("Len = %d after Take, want %d on %s", tb.Len(), n, other)
				}
			})
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkPath checks every way of reading path's watchers against want.
func checkPath(t *testing.T, tb *Table, path string, want []uint64) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if len(want) == 0 {
		want = nil
	}
	if got := tb.Watchers(path); !slices.Equal(got, want) {
		t.Fatalf("Watchers(%s) = %v, want %v", path, got, want)
	}
	slot, ok := tb.Lookup(path)
	if ok != (want != nil) {
		t.Fatalf("Lookup(%s) ok = %v with %d watchers", path, ok, len(want))
	}
	if !ok {
		return
	}
	if tb.Path(slot) != path {
		t.Fatalf("Path(%d) = %q, want %q", slot, tb.Path(slot), path)
	}
	if got := collect(tb, slot); !slices.Equal(got, want) {
		t.Fatalf("Each = %v, want %v", got, want)
	}
	got := tb.AppendWatchers([]uint64{0}, slot)
	if got[0] != 0 || !slices.Equal(slices.Sorted(slices.Values(got[1:])), want) {
		t.Fatalf("AppendWatchers = %v, want [0] + %v", got, want)
	}
	for _, w := range want {
		if !tb.Contains(path, w) {
			t.Fatalf("Contains(%s, %d) = false", path, w)
		}
	}
	if tb.Contains(path, 1) {
		t.Fatalf("Contains(%s, 1) = true", path)
	}
}

// TestIndexGrowShrink fills the hash index through several doublings and
// empties it again, checking its size bounds at each step: at most 3/4
// full while growing, halved below 1/8 while shrinking, released at zero.
func TestIndexGrowShrink(t *testing.T) {
	tests := []struct {
		name  string
		paths int
		order func([]string) // removal order
	}{
		{"few paths", 5, func([]string) {}},
		{"many paths, removed in insertion order", 5000, func([]string) {}},
		{"many paths, removed in reverse", 5000, func(p []string) { slices.Reverse(p) }},
		{"many paths, removed at random", 5000, func(p []string) {
			rand.New(rand.NewPCG(1, 1)).Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tb Table
			paths := make([]string, tt.paths)
			sizes := map[int]bool{}
			for i := range paths {
				paths[i] = fmt.Sprintf("/g/%d", i)
				tb.Add(paths[i], uint64(i%3))
				size := tb.Footprint().IndexSize
				if size < minIndexSize || (i+1)*4 > size*3 {
					t.Fatalf("%d paths in an index of %d", i+1, size)
				}
				sizes[size] = true
			}
			if tt.paths > 1000 && len(sizes) < 5 {
				t.Errorf("index went through sizes %v, want several doublings", slices.Sorted(maps.Keys(sizes)))
			}
			verify(t, &tb)
			tt.order(paths)
			peak := tb.Footprint().IndexSize
			for i, p := range paths {
				if tb.Remove(p, uint64(0))&Removed == 0 && tb.Remove(p, 1)&Removed == 0 && tb.Remove(p, 2)&Removed == 0 {
					t.Fatalf("%s not found", p)
				}
				n := len(paths) - i - 1
				size := tb.Footprint().IndexSize
				switch {
				case n == 0 && size != 0:
					t.Fatalf("empty table keeps an index of %d", size)
				case n > 0 && size > minIndexSize && n*8 < size:
					t.Fatalf("%d paths in an index of %d: not shrunk", n, size)
				}
				if i%500 == 0 {
					verify(t, &tb)
					for _, q := range paths[i+1:] {
						if _, ok := tb.Lookup(q); !ok {
							t.Fatalf("%s lost after removing %d paths", q, i+1)
						}
					}
				}
			}
			if tt.paths > 1000 && peak < 4*tt.paths/3 {
				t.Errorf("peak index %d for %d paths", peak, tt.paths)
			}
			verify(t, &tb)
			if f := tb.Footprint(); f != (Footprint{}) {
				t.Fatalf("drained table holds %+v", f)
			}
		})
	}
}

// TestSlotReuse checks that freed path slots and list slots are reused,
// that a live path keeps its slot, and that a drained table lets go of its
// slabs.
func TestSlotReuse(t *testing.T) {
	var tb Table
	slots := map[string]uint32{}
	for i := range 100 {
		p := fmt.Sprintf("/s/%d", i)
		slot, _ := tb.Add(p, 1)
		slots[p] = slot
		if i%10 == 0 {
			tb.Add(p, 2) // some paths with a list
		}
	}
	peak := tb.Footprint()
	for round := range 5 {
		for i := range 50 {
			tb.Remove(fmt.Sprintf("/s/%d", i), 1)
			tb.Remove(fmt.Sprintf("/s/%d", i), 2)
		}
		for i := range 50 {
			p := fmt.Sprintf("/s/%d/r%d", i, round)
			tb.Add(p, 3)
			if i%10 == 0 {
				tb.Add(p, 4)
			}
		}
		verify(t, &tb)
		f := tb.Footprint()
		if f.Slots != peak.Slots || f.Lists > peak.Lists {
			t.Fatalf("round %d: slabs grew to %d/%d slots from %d/%d", round, f.Slots, f.Lists, peak.Slots, peak.Lists)
		}
		for i := 50; i < 100; i++ {
			p := fmt.Sprintf("/s/%d", i)
			if slot, ok := tb.Lookup(p); !ok || slot != slots[p] {
				t.Fatalf("round %d: %s moved from slot %d to %d (%v)", round, p, slots[p], slot, ok)
			}
		}
		for i := range 50 {
			tb.Take(fmt.Sprintf("/s/%d/r%d", i, round), nil)
		}
	}
	for w := range uint64(5) {
		tb.RemoveWatcher(w, nil)
	}
	verify(t, &tb)
	if f := tb.Footprint(); tb.Len() != 0 || f != (Footprint{}) {
		t.Fatalf("drained table: Len %d, storage %+v", tb.Len(), f)
	}
}

// TestReverseListShrinks checks that a watcher whose pairs mostly go away
// does not keep its peak reverse list, nor a path its peak watcher list.
func TestReverseListShrinks(t *testing.T) {
	var tb Table
	for i := range 1000 {
		tb.Add(fmt.Sprintf("/r/%d", i), 1)
		tb.Add("/hot", uint64(i+10))
	}
	before := tb.Footprint()
	for i := range 990 {
		tb.Remove(fmt.Sprintf("/r/%d", i), 1)
		tb.Remove("/hot", uint64(i+10))
	}
	verify(t, &tb)
	after := tb.Footprint()
	if after.MaxRefs >= before.MaxRefs/4 || after.MaxWatched >= before.MaxWatched/4 {
		t.Fatalf("lists kept capacity: refs %d -> %d, watchers %d -> %d",
			before.MaxRefs, after.MaxRefs, before.MaxWatched, after.MaxWatched)
	}
	if after.PosMaps != 1 {
		t.Fatalf("%d position maps for a path with 10 watchers, want 1 (dropped only at %d)", after.PosMaps, dropIndexAt)
	}
	for i := 990; i < 996; i++ {
		tb.Remove("/hot", uint64(i+10))
	}
	verify(t, &tb)
	if f := tb.Footprint(); f.PosMaps != 0 {
		t.Fatalf("position map kept for a path with %d watchers", len(tb.Watchers("/hot")))
	}
}

// TestTakeReentrant checks that Take's callback sees the pairs gone and may
// modify the table, including re-adding the path being taken.
func TestTakeReentrant(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d watchers", n), func(t *testing.T) {
			var tb Table
			for w := range uint64(n) {
				tb.Add("/t", w+1)
			}
			tb.Add("/keep", 1)
			var got []uint64
			tb.Take("/t", func(w uint64) {
				if tb.Contains("/t", w) {
					t.Errorf("watcher %d still on /t inside Take", w)
				}
				got = append(got, w)
				tb.Add("/t", w+100)
				tb.RemoveWatcher(w, nil)
			})
			verify(t, &tb)
			if len(got) != n {
				t.Fatalf("Take reported %v", got)
			}
			var want []uint64
			for w := range uint64(n) {
				want = append(want, w+101)
			}
			checkPath(t, &tb, "/t", want)
			if tb.Take("/none", nil) {
				t.Fatal("Take of an unknown path reported pairs")
			}
		})
	}
}

func TestRemoveWatcherReportsDroppedPaths(t *testing.T) {
	var tb Table
	tb.Add("/only1", 1)
	tb.Add("/shared", 1)
	tb.Add("/shared", 2)
	tb.Add("/only2", 2)
	var dropped []string
	tb.RemoveWatcher(1, func(p string) { dropped = append(dropped, p) })
	verify(t, &tb)
	if !slices.Equal(dropped, []string{"/only1"}) {
		t.Fatalf("dropped %v, want [/only1]", dropped)
	}
	tb.RemoveWatcher(1, func(p string) { t.Fatalf("second RemoveWatcher dropped %s", p) })
	if tb.HasWatcher(1) || !tb.HasWatcher(2) || tb.WatcherCount() != 1 || tb.PathCount() != 2 {
		t.Fatalf("HasWatcher 1/2 = %v/%v, WatcherCount %d, PathCount %d",
			tb.HasWatcher(1), tb.HasWatcher(2), tb.WatcherCount(), tb.PathCount())
	}
	if got := tb.Paths(2); !slices.Equal(got, []string{"/only2", "/shared"}) {
		t.Fatalf("Paths(2) = %v", got)
	}
	if tb.Paths(1) != nil {
		t.Fatalf("Paths(1) = %v after RemoveWatcher", tb.Paths(1))
	}
}

func TestSharePath(t *testing.T) {
	var tb Table
	slot, _ := tb.Add("/a/b", 1)
	key := "/a/b" + "/"
	tests := []struct {
		name string
		slot uint32
		s    string
		want bool
	}{
		{"equal string", slot, key[:4], true},
		{"different string", slot, "/a/c", false},
		{"slot out of range", slot + 10, "/a/b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tb.SharePath(tt.slot, tt.s); got != tt.want {
				t.Fatalf("SharePath = %v, want %v", got, tt.want)
			}
			verify(t, &tb)
			if !tb.Contains("/a/b", 1) || tb.Path(slot) != "/a/b" {
				t.Fatal("path lost")
			}
		})
	}
}

func TestOutOfRangeSlot(t *testing.T) {
	var tb Table
	tb.Add("/a", 1)
	tb.Each(99, func(uint64) { t.Fatal("Each called fn for a bad slot") })
	if got := tb.AppendWatchers(nil, 99); got != nil {
		t.Fatalf("AppendWatchers = %v", got)
	}
	if tb.Path(99) != "" {
		t.Fatal("Path of a bad slot")
	}
}

// TestAgainstModel runs random operations over few paths and watchers, so
// that paths move between inline, list and position-map forms many times,
// and compares every answer with a map-of-maps model.
func TestAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var tb Table
	model := map[string]map[uint64]bool{}
	paths := make([]string, 8)
	for i := range paths {
		paths[i] = fmt.Sprintf("/m%d", i)
	}
	const watchers = 40
	for step := range 40000 {
		p := paths[rng.IntN(len(paths))]
		w := uint64(rng.IntN(watchers))
		switch r := rng.IntN(100); {
		case r < 55:
			_, ch := tb.Add(p, w)
			if got, want := ch&Added != 0, !model[p][w]; got != want {
				t.Fatalf("step %d: Add(%s,%d) added = %v, want %v", step, p, w, got, want)
			}
			if model[p] == nil {
				model[p] = map[uint64]bool{}
			}
			model[p][w] = true
		case r < 85:
			ch := tb.Remove(p, w)
			if got, want := ch&Removed != 0, model[p][w]; got != want {
				t.Fatalf("step %d: Remove(%s,%d) removed = %v, want %v", step, p, w, got, want)
			}
			delete(model[p], w)
			if len(model[p]) == 0 {
				delete(model, p)
			}
		case r < 90:
			tb.RemoveWatcher(w, nil)
			for q, set := range model {
				delete(set, w)
				if len(set) == 0 {
					delete(model, q)
				}
			}
		case r < 93:
			n := 0
			tb.Take(p, func(uint64) { n++ })
			if n != len(model[p]) {
				t.Fatalf("step %d: Take(%s) reported %d, want %d", step, p, n, len(model[p]))
			}
			delete(model, p)
		default:
			want := slices.Sorted(maps.Keys(model[p]))
			if got := tb.Watchers(p); !slices.Equal(got, want) {
				t.Fatalf("step %d: Watchers(%s) = %v, want %v", step, p, got, want)
			}
		}
		if step%97 == 0 {
			verify(t, &tb)
			pairs := 0
			seen := map[uint64]bool{}
			for _, set := range model {
				pairs += len(set)
				for w := range set {
					seen[w] = true
				}
			}
			if tb.Len() != pairs || tb.PathCount() != len(model) || tb.WatcherCount() != len(seen) {
				t.Fatalf("step %d: Len/PathCount/WatcherCount = %d/%d/%d, model %d/%d/%d",
					step, tb.Len(), tb.PathCount(), tb.WatcherCount(), pairs, len(model), len(seen))
			}
			all := 0
			for p, w := range tb.All() {
				if !model[p][w] {
					t.Fatalf("step %d: All yields (%s, %d), not in the model", step, p, w)
				}
				all++
			}
			if all != pairs {
				t.Fatalf("step %d: All yields %d pairs, model %d", step, all, pairs)
			}
		}
	}
	verify(t, &tb)
}
