package oneshot

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/zkx-dev/zkx/pkg/watch/internal/pairs"
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

// indexAbove is the number of watchers above which a path gets a position
// map.
const indexAbove = pairs.IndexAbove

// checkInvariants verifies, for both kinds, that the forward and reverse
// indexes mirror each other exactly, that a path keeps its watcher inline
// exactly when it has one, that the slabs' free lists cover exactly the
// unused slots and that the counters match (see pairs.Table.Verify).
func checkInvariants(t *testing.T, tb *Table) {
	t.Helper()
	for k := range tb.kinds {
		if err := tb.kinds[k].Verify(); err != nil {
			t.Fatalf("kind %v: %v", Kind(k), err)
		}
	}
}

// listsInUse returns how many paths of kind k hold their watchers in a
// list rather than inline.
func listsInUse(tb *Table, k Kind) int {
	f := tb.kinds[k].Footprint()
	return f.Lists - f.FreeLists
}

// TestWatcherCountTransitions walks one path through 1 -> 2 -> 1 -> 0
// watchers by every way a watch can leave (Remove, RemoveWatcher, Trigger),
// with a neighbour path sharing the watchers so that reverse entries move,
// and checks the answers and the inline/list representation at each step.
func TestWatcherCountTransitions(t *testing.T) {
	const path, other = "/a", "/b"
	leave := []struct {
		name string
		drop func(tb *Table, w uint64)
	}{
		{"remove", func(tb *Table, w uint64) { tb.Remove(Data, path, w) }},
		{"remove watcher", func(tb *Table, w uint64) { tb.RemoveWatcher(w) }},
	}
	for _, first := range leave {
		for _, second := range leave {
			t.Run(first.name+" then "+second.name, func(t *testing.T) {
				tb := New()
				tb.Add(Data, other, 1)
				tb.Add(Data, other, 2)
				steps := []struct {
					do   func()
					want []uint64
				}{
					{func() { tb.Add(Data, path, 1) }, []uint64{1}},
					{func() { tb.Add(Data, path, 2) }, []uint64{1, 2}},
					{func() { first.drop(tb, 1) }, []uint64{2}},
					{func() { tb.Add(Data, path, 3) }, []uint64{2, 3}},
					{func() { second.drop(tb, 3) }, []uint64{2}},
					{func() { second.drop(tb, 2) }, nil},
				}
				for i, s := range steps {
					s.do()
					checkInvariants(t, tb)
					if got := tb.Watchers(Data, path); !slices.Equal(got, s.want) {
						t.Fatalf("step %d: Watchers = %v, want %v", i, got, s.want)
					}
					for _, w := range s.want {
						if !tb.Contains(Data, path, w) {
							t.Fatalf("step %d: Contains(%d) = false", i, w)
						}
					}
					if len(s.want) > 0 {
						otherLists := 0
						if len(tb.Watchers(Data, other)) > 1 {
							otherLists = 1
						}
						if inline := listsInUse(tb, Data) == otherLists; inline != (len(s.want) == 1) {
							t.Fatalf("step %d: inline = %v with %d watchers", i, inline, len(s.want))
						}
					}
				}
				if got := tb.PathCount(Data); got > 1 {
					t.Fatalf("PathCount = %d after emptying %s", got, path)
				}
			})
		}
	}
	t.Run("trigger of one and of two", func(t *testing.T) {
		tb := New()
		tb.Add(Data, other, 1)
		tb.Add(Data, path, 1)
		var got []uint64
		tb.Trigger(Data, path, func(w uint64) { got = append(got, w) })
		checkInvariants(t, tb)
		if !slices.Equal(got, []uint64{1}) {
			t.Fatalf("Trigger of one fired %v", got)
		}
		tb.Add(Data, path, 2)
		tb.Add(Data, path, 1)
		got = nil
		tb.Trigger(Data, path, func(w uint64) { got = append(got, w) })
		checkInvariants(t, tb)
		if !slices.Equal(got, []uint64{1, 2}) {
			t.Fatalf("Trigger of two fired %v", got)
		}
		if tb.PathCount(Data) != 1 || tb.Len(Data) != 1 {
			t.Fatalf("PathCount, Len = %d, %d, want 1, 1", tb.PathCount(Data), tb.Len(Data))
		}
	})
}

// TestSlotsRecycled checks that slots freed by consumed paths are reused
// and that a table that drains releases its slabs.
func TestSlotsRecycled(t *testing.T) {
	tb := New()
	x := &tb.kinds[Data]
	slabs := func() (sets, multis int) {
		f := x.Footprint()
		return f.Slots, f.Lists
	}
	for i := range 100 {
		tb.Add(Data, fmt.Sprintf("/n%d", i), uint64(i%7))
		tb.Add(Data, fmt.Sprintf("/n%d", i%10), uint64(100+i%3))
	}
	peak, peakMulti := slabs()
	for round := range 5 {
		for i := range 50 {
			tb.Trigger(Data, fmt.Sprintf("/n%d", i), nil)
		}
		for i := range 50 {
			tb.Add(Data, fmt.Sprintf("/n%d", i), uint64(round))
			tb.Add(Data, fmt.Sprintf("/n%d", i%10), uint64(200+round))
		}
		checkInvariants(t, tb)
		if sets, multis := slabs(); sets != peak || multis > peakMulti {
			t.Fatalf("round %d: slabs grew to %d/%d from %d/%d", round, sets, multis, peak, peakMulti)
		}
	}
	for w := range uint64(300) {
		tb.RemoveWatcher(w)
	}
	checkInvariants(t, tb)
	if f := x.Footprint(); tb.Len(Data) != 0 || f != (pairs.Footprint{}) {
		t.Fatalf("drained table keeps Len %d, storage %+v", tb.Len(Data), f)
	}
}

// TestIndexChurn grows the path index through several resizes and shrinks
// it again with random adds, removes and triggers over many paths, checking
// every answer against a model and that all entries stay reachable.
func TestIndexChurn(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tb := New()
	model := map[string]map[uint64]bool{}
	const nPaths, watchers = 3000, 5
	for phase, addPct := range []int{80, 60, 20, 0} {
		for step := 0; step < 20000; step++ {
			p := fmt.Sprintf("/c/%d", rng.IntN(nPaths))
			w := uint64(rng.IntN(watchers))
			switch r := rng.IntN(100); {
			case r < addPct:
				if got, want := tb.Add(Data, p, w), !model[p][w]; got != want {
					t.Fatalf("phase %d step %d: Add(%s,%d) = %v, want %v", phase, step, p, w, got, want)
				}
				if model[p] == nil {
					model[p] = map[uint64]bool{}
				}
				model[p][w] = true
			case r%2 == 0:
				if got, want := tb.Remove(Data, p, w), model[p][w]; got != want {
					t.Fatalf("phase %d step %d: Remove(%s,%d) = %v, want %v", phase, step, p, w, got, want)
				}
				delete(model[p], w)
				if len(model[p]) == 0 {
					delete(model, p)
				}
			default:
				n := 0
				tb.Trigger(Data, p, func(uint64) { n++ })
				if n != len(model[p]) {
					t.Fatalf("phase %d step %d: Trigger(%s) fired %d, want %d", phase, step, p, n, len(model[p]))
				}
				delete(model, p)
			}
		}
		checkInvariants(t, tb)
		if tb.PathCount(Data) != len(model) {
			t.Fatalf("phase %d: PathCount = %d, model %d", phase, tb.PathCount(Data), len(model))
		}
	}
	for p := range model {
		tb.Trigger(Data, p, nil)
	}
	checkInvariants(t, tb)
	if f := tb.kinds[Data].Footprint(); f.IndexSize != 0 || tb.PathCount(Data) != 0 {
		t.Fatalf("drained index keeps %d entries, PathCount %d", f.IndexSize, tb.PathCount(Data))
	}
}
