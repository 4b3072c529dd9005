package oneshot

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// op is one step of a scripted scenario.
type op struct {
	do   string // "add", "remove", "trigger", "removeWatcher"
	k    Kind
	path string
	w    uint64
	want any // bool for add/remove, []uint64 for trigger
}

func run(t *testing.T, tb *Table, ops []op) {
	t.Helper()
	for i, o := range ops {
		switch o.do {
		case "add":
			if got := tb.Add(o.k, o.path, o.w); got != o.want {
				t.Fatalf("step %d: Add(%v, %q, %d) = %v, want %v", i, o.k, o.path, o.w, got, o.want)
			}
		case "remove":
			if got := tb.Remove(o.k, o.path, o.w); got != o.want {
				t.Fatalf("step %d: Remove(%v, %q, %d) = %v, want %v", i, o.k, o.path, o.w, got, o.want)
			}
		case "trigger":
			var got []uint64
			tb.Trigger(o.k, o.path, func(w uint64) { got = append(got, w) })
			want, _ := o.want.([]uint64)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: Trigger(%v, %q) fired %v, want %v", i, o.k, o.path, got, want)
			}
		case "removeWatcher":
			tb.RemoveWatcher(o.w)
		default:
			t.Fatalf("step %d: unknown op %q", i, o.do)
		}
		checkInvariants(t, tb)
	}
}

func TestScenarios(t *testing.T) {
	type pair struct {
		k    Kind
		path string
		w    uint64
	}
	tests := []struct {
		name     string
		ops      []op
		contains []pair // must be present afterwards
		absent   []pair // must be absent afterwards
		lens     [numKinds]int
	}{
		{
			name:     "add then contains",
			ops:      []op{{do: "add", k: Data, path: "/a", w: 1, want: true}},
			contains: []pair{{Data, "/a", 1}},
			absent:   []pair{{Child, "/a", 1}, {Data, "/a", 2}, {Data, "/b", 1}, {Data, "/a/b", 1}},
			lens:     [numKinds]int{1, 0},
		},
		{
			name: "double add is refused",
			ops: []op{
				{do: "add", k: Data, path: "/a", w: 1, want: true},
				{do: "add", k: Data, path: "/a", w: 1, want: false},
			},
			contains: []pair{{Data, "/a", 1}},
			lens:     [numKinds]int{1, 0},
		},
		{
			name: "kinds are independent",
			ops: []op{
				{do: "add", k: Data, path: "/a", w: 1, want: true},
				{do: "add", k: Child, path: "/a", w: 1, want: true},
				{do: "remove", k: Data, path: "/a", w: 1, want: true},
			},
			contains: []pair{{Child, "/a", 1}},
			absent:   []pair{{Data, "/a", 1}},
			lens:     [numKinds]int{0, 1},
		},
		{
			// WatchManagerTest.testAddRemoveWatcher
			name: "remove with mismatched path or watcher fails, matching pair succeeds once",
			ops: []op{
				{do: "add", k: Data, path: "/node1", w: 1, want: true},
				{do: "add", k: Data, path: "/node2", w: 2, want: true},
				{do: "remove", k: Data, path: "/node1", w: 2, want: false},
				{do: "remove", k: Data, path: "/node2", w: 1, want: false},
				{do: "remove", k: Child, path: "/node1", w: 1, want: false},
				{do: "remove", k: Data, path: "/node1", w: 1, want: true},
				{do: "remove", k: Data, path: "/node1", w: 1, want: false},
			},
			contains: []pair{{Data, "/node2", 2}},
			absent:   []pair{{Data, "/node1", 1}},
			lens:     [numKinds]int{1, 0},
		},
		{
			name: "trigger consumes and reports ascending",
			ops: []op{
				{do: "add", k: Data, path: "/a", w: 30, want: true},
				{do: "add", k: Data, path: "/a", w: 10, want: true},
				{do: "add", k: Data, path: "/a", w: 20, want: true},
				{do: "add", k: Data, path: "/b", w: 10, want: true},
				{do: "trigger", k: Data, path: "/a", want: []uint64{10, 20, 30}},
				{do: "trigger", k: Data, path: "/a", want: []uint64(nil)},
			},
			contains: []pair{{Data, "/b", 10}},
			absent:   []pair{{Data, "/a", 10}, {Data, "/a", 20}, {Data, "/a", 30}},
			lens:     [numKinds]int{1, 0},
		},
		{
			name: "trigger touches only its kind and path",
			ops: []op{
				{do: "add", k: Data, path: "/a", w: 1, want: true},
				{do: "add", k: Child, path: "/a", w: 1, want: true},
				{do: "add", k: Child, path: "/a/b", w: 1, want: true},
				{do: "trigger", k: Child, path: "/a", want: []uint64{1}},
			},
			contains: []pair{{Data, "/a", 1}, {Child, "/a/b", 1}},
			absent:   []pair{{Child, "/a", 1}},
			lens:     [numKinds]int{1, 1},
		},
		{
			name: "re-add after trigger arms a new watch",
			ops: []op{
				{do: "add", k: Data, path: "/a", w: 1, want: true},
				{do: "trigger", k: Data, path: "/a", want: []uint64{1}},
				{do: "add", k: Data, path: "/a", w: 1, want: true},
				{do: "trigger", k: Data, path: "/a", want: []uint64{1}},
			},
			absent: []pair{{Data, "/a", 1}},
		},
		{
			name: "remove watcher drops both kinds and only its own",
			ops: []op{
				{do: "add", k: Data, path: "/a", w: 1, want: true},
				{do: "add", k: Data, path: "/b", w: 1, want: true},
				{do: "add", k: Child, path: "/a", w: 1, want: true},
				{do: "add", k: Data, path: "/a", w: 2, want: true},
				{do: "add", k: Child, path: "/b", w: 2, want: true},
				{do: "removeWatcher", w: 1},
				{do: "removeWatcher", w: 99},
			},
			contains: []pair{{Data, "/a", 2}, {Child, "/b", 2}},
			absent:   []pair{{Data, "/a", 1}, {Data, "/b", 1}, {Child, "/a", 1}},
			lens:     [numKinds]int{1, 1},
		},
		{
			name: "trigger on unwatched path fires nothing",
			ops: []op{
				{do: "add", k: Data, path: "/a", w: 1, want: true},
				{do: "trigger", k: Data, path: "/ab", want: []uint64(nil)},
				{do: "trigger", k: Data, path: "/", want: []uint64(nil)},
			},
			contains: []pair{{Data, "/a", 1}},
			lens:     [numKinds]int{1, 0},
		},
		{
			name: "invalid kind is refused without panic",
			ops: []op{
				{do: "add", k: Kind(7), path: "/a", w: 1, want: false},
				{do: "remove", k: Kind(7), path: "/a", w: 1, want: false},
				{do: "trigger", k: Kind(7), path: "/a", want: []uint64(nil)},
			},
			absent: []pair{{Kind(7), "/a", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := New()
			run(t, tb, tt.ops)
			for _, p := range tt.contains {
				if !tb.Contains(p.k, p.path, p.w) {
					t.Errorf("Contains(%v, %q, %d) = false, want true", p.k, p.path, p.w)
				}
			}
			for _, p := range tt.absent {
				if tb.Contains(p.k, p.path, p.w) {
					t.Errorf("Contains(%v, %q, %d) = true, want false", p.k, p.path, p.w)
				}
			}
			for k := Kind(0); k < numKinds; k++ {
				if got := tb.Len(k); got != tt.lens[k] {
					t.Errorf("Len(%v) = %d, want %d", k, got, tt.lens[k])
				}
			}
		})
	}
}

func TestListings(t *testing.T) {
	tb := New()
	for _, a := range []struct {
		k    Kind
		path string
		w    uint64
	}{
		{Data, "/z", 1}, {Data, "/a", 1}, {Data, "/m", 1},
		{Data, "/a", 3}, {Data, "/a", 2},
		{Child, "/a", 4},
	} {
		tb.Add(a.k, a.path, a.w)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Paths sorted", tb.Paths(Data, 1), []string{"/a", "/m", "/z"}},
		{"Paths of other kind", tb.Paths(Child, 1), []string(nil)},
		{"Paths of unknown watcher", tb.Paths(Data, 42), []string(nil)},
		{"Paths invalid kind", tb.Paths(Kind(9), 1), []string(nil)},
		{"Watchers sorted", tb.Watchers(Data, "/a"), []uint64{1, 2, 3}},
		{"Watchers child", tb.Watchers(Child, "/a"), []uint64{4}},
		{"Watchers unknown path", tb.Watchers(Data, "/nope"), []uint64(nil)},
		{"Len data", tb.Len(Data), 5},
		{"Len child", tb.Len(Child), 1},
		{"PathCount data", tb.PathCount(Data), 3},
		{"PathCount child", tb.PathCount(Child), 1},
		{"WatcherCount data", tb.WatcherCount(Data), 3},
		{"WatcherCount child", tb.WatcherCount(Child), 1},
		{"Len invalid", tb.Len(Kind(2)), 0},
		{"PathCount invalid", tb.PathCount(Kind(2)), 0},
		{"WatcherCount invalid", tb.WatcherCount(Kind(2)), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fmt.Sprint(tt.got) != fmt.Sprint(tt.want) || (tt.got == nil) != (tt.want == nil) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for _, tt := range []struct {
		k    Kind
		want string
	}{{Data, "data"}, {Child, "child"}, {Kind(5), "Kind(5)"}} {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(tt.k), got, tt.want)
		}
	}
}

func TestTriggerCallbackMayReenter(t *testing.T) {
	tb := New()
	for w := uint64(1); w <= 3; w++ {
		tb.Add(Data, "/a", w)
	}
	var got []uint64
	tb.Trigger(Data, "/a", func(w uint64) {
		if tb.Contains(Data, "/a", w) {
			t.Errorf("watch of %d still present while its event is delivered", w)
		}
		got = append(got, w)
		// A client re-arming from its watcher, as getData(watch) would.
		if w == 2 {
			tb.Add(Data, "/a", w)
		}
		tb.RemoveWatcher(3)
	})
	if !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("fired %v, want [1 2 3]", got)
	}
	if ws := tb.Watchers(Data, "/a"); !slices.Equal(ws, []uint64{2}) {
		t.Fatalf("after re-arm Watchers = %v, want [2]", ws)
	}
	checkInvariants(t, tb)
}

func TestTriggerNilCallbackConsumes(t *testing.T) {
	tb := New()
	tb.Add(Child, "/a", 1)
	tb.Trigger(Child, "/a", nil)
	if tb.Len(Child) != 0 || tb.WatcherCount(Child) != 0 || tb.PathCount(Child) != 0 {
		t.Fatalf("watch not consumed: len=%d", tb.Len(Child))
	}
}

// TestHotPath drives one path through the indexed (map) representation and
// back down to the scanned one.
func TestHotPath(t *testing.T) {
	tb := New()
	const n = 3 * indexAbove
	for w := uint64(1); w <= n; w++ {
		if !tb.Add(Data, "/hot", w) {
			t.Fatalf("Add %d refused", w)
		}
		tb.Add(Data, fmt.Sprintf("/cold/%d", w), w)
	}
	checkInvariants(t, tb)
	if tb.Add(Data, "/hot", 7) {
		t.Fatal("duplicate Add on an indexed path accepted")
	}
	for w := uint64(1); w < n; w++ {
		if !tb.Remove(Data, "/hot", w) {
			t.Fatalf("Remove %d failed", w)
		}
		if tb.Contains(Data, "/hot", w) {
			t.Fatalf("Contains %d after Remove", w)
		}
		checkInvariants(t, tb)
	}
	if got := tb.Watchers(Data, "/hot"); !slices.Equal(got, []uint64{n}) {
		t.Fatalf("Watchers = %v, want [%d]", got, n)
	}
	if got, want := tb.Len(Data), n+1; got != want {
		t.Fatalf("Len = %d, want %d", got, want)
	}
}

// TestAgainstModel runs a long random sequence of operations and compares
// every answer with a plain map-of-maps model.
func TestAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tb := New()
	model := [numKinds]map[string]map[uint64]bool{{}, {}}
	// Few paths and watchers so that sets collide, grow past indexAbove and
	// shrink again.
	paths := make([]string, 12)
	for i := range paths {
		paths[i] = fmt.Sprintf("/p%d", i)
	}
	const watchers = 40
	for step := 0; step < 40000; step++ {
		k := Kind(rng.IntN(numKinds))
		p := paths[rng.IntN(len(paths))]
		w := uint64(rng.IntN(watchers))
		m := model[k]
		switch r := rng.IntN(100); {
		case r < 55:
			want := !m[p][w]
			if got := tb.Add(k, p, w); got != want {
				t.Fatalf("step %d: Add(%v,%s,%d) = %v, want %v", step, k, p, w, got, want)
			}
			if m[p] == nil {
				m[p] = map[uint64]bool{}
			}
			m[p][w] = true
		case r < 75:
			want := m[p][w]
			if got := tb.Remove(k, p, w); got != want {
				t.Fatalf("step %d: Remove(%v,%s,%d) = %v, want %v", step, k, p, w, got, want)
			}
			delete(m[p], w)
		case r < 85:
			var want []uint64
			for x := range m[p] {
				want = append(want, x)
			}
			slices.Sort(want)
			var got []uint64
			tb.Trigger(k, p, func(x uint64) { got = append(got, x) })
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: Trigger(%v,%s) = %v, want %v", step, k, p, got, want)
			}
			delete(m, p)
		case r < 88:
			tb.RemoveWatcher(w)
			for _, mk := range model {
				for _, set := range mk {
					delete(set, w)
				}
			}
		default:
			if got, want := tb.Contains(k, p, w), m[p][w]; got != want {
				t.Fatalf("step %d: Contains(%v,%s,%d) = %v, want %v", step, k, p, w, got, want)
			}
		}
		if step%97 == 0 {
			checkInvariants(t, tb)
			for k := Kind(0); k < numKinds; k++ {
				n := 0
				for _, set := range model[k] {
					n += len(set)
				}
				if tb.Len(k) != n {
					t.Fatalf("step %d: Len(%v) = %d, model %d", step, k, tb.Len(k), n)
				}
			}
		}
	}
}

// checkInvariants verifies that the forward and reverse indexes mirror
// each other exactly and that the counters match.
func checkInvariants(t *testing.T, tb *Table) {
	t.Helper()
	for k := range tb.kinds {
		x := &tb.kinds[k]
		pairs := 0
		for path, p := range x.paths {
			if p.path != path {
				t.Fatalf("kind %d: path set %q stored under %q", k, p.path, path)
			}
			if len(p.ws) == 0 {
				t.Fatalf("kind %d: empty path set %q kept", k, path)
			}
			if p.pos != nil && len(p.pos) != len(p.ws) {
				t.Fatalf("kind %d: %q pos has %d entries, ws %d", k, path, len(p.pos), len(p.ws))
			}
			if p.pos == nil && len(p.ws) > indexAbove {
				t.Fatalf("kind %d: %q has %d watchers and no pos map", k, path, len(p.ws))
			}
			for i, e := range p.ws {
				ws := x.watchers[e.w]
				if ws == nil || int(e.ri) >= len(ws.refs) {
					t.Fatalf("kind %d: edge %q/%d has no ref", k, path, e.w)
				}
				if r := ws.refs[e.ri]; r.p != p || int(r.fi) != i {
					t.Fatalf("kind %d: edge %q/%d ref mismatch", k, path, e.w)
				}
				if p.pos != nil && p.pos[e.w] != int32(i) {
					t.Fatalf("kind %d: %q pos[%d] = %d, want %d", k, path, e.w, p.pos[e.w], i)
				}
			}
			pairs += len(p.ws)
		}
		refs := 0
		for w, ws := range x.watchers {
			if len(ws.refs) == 0 {
				t.Fatalf("kind %d: empty watcher set %d kept", k, w)
			}
			for _, r := range ws.refs {
				if x.paths[r.p.path] != r.p {
					t.Fatalf("kind %d: watcher %d refers to detached path %q", k, w, r.p.path)
				}
			}
			refs += len(ws.refs)
		}
		if pairs != refs || pairs != x.pairs {
			t.Fatalf("kind %d: pairs counter %d, forward %d, reverse %d", k, x.pairs, pairs, refs)
		}
	}
}
