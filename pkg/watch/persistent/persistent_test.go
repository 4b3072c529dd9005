package persistent

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/zkx-dev/zkx/pkg/watch/internal/pairs"
)

const (
	P = Persistent
	R = Recursive
)

// step is one operation of a scripted case.
type step struct {
	do   string // "add", "remove", "removeWatcher"
	path string
	w    uint64
	m    Mode
	want bool // result of add/remove
}

func add(path string, w uint64, m Mode, want bool) step {
	return step{do: "add", path: path, w: w, m: m, want: want}
}

func remove(path string, w uint64, m Mode, want bool) step {
	return step{do: "remove", path: path, w: w, m: m, want: want}
}

func removeWatcher(w uint64) step { return step{do: "removeWatcher", w: w} }

func apply(t *testing.T, x *Index, steps []step) {
	t.Helper()
	for i, s := range steps {
		switch s.do {
		case "add":
			if got := x.Add(s.path, s.w, s.m); got != s.want {
				t.Fatalf("step %d: Add(%q, %d, %v) = %v, want %v", i, s.path, s.w, s.m, got, s.want)
			}
		case "remove":
			if got := x.Remove(s.path, s.w, s.m); got != s.want {
				t.Fatalf("step %d: Remove(%q, %d, %v) = %v, want %v", i, s.path, s.w, s.m, got, s.want)
			}
		case "removeWatcher":
			x.RemoveWatcher(s.w)
		}
		checkInvariants(t, x)
	}
}

type holds struct {
	path string
	w    uint64
	m    Mode
}

// TestModesAndCounts mirrors ZooKeeper's RecursiveWatchQtyTest and the mode
// tests of WatchManagerTest: bit-set semantics per (path, watcher) and the
// counters kept through add, remove and RemoveWatcher.
func TestModesAndCounts(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		contains  []holds
		absent    []holds
		persist   int // Len(Persistent)
		recursive int // RecursiveCount and Len(Recursive)
		paths     map[uint64][2][]string
	}{
		{
			name:      "qty add remove: two recursive watches, removed by path",
			steps:     []step{add("/a", 1, R, true), add("/b", 2, R, true)},
			recursive: 2,
			contains:  []holds{{"/a", 1, R}, {"/b", 2, R}},
			paths:     map[uint64][2][]string{1: {nil, {"/a"}}, 2: {nil, {"/b"}}},
		},
		{
			name: "qty add remove: back to zero",
			steps: []step{
				add("/a", 1, R, true), add("/b", 2, R, true),
				remove("/a", 1, R, true), remove("/b", 2, R, true),
			},
			absent: []holds{{"/a", 1, R}, {"/b", 2, R}},
		},
		{
			name: "qty add remove alt: removed by connection",
			steps: []step{
				add("/a", 1, R, true), add("/b", 2, R, true),
				removeWatcher(1), removeWatcher(2),
			},
			absent: []holds{{"/a", 1, R}, {"/b", 2, R}},
		},
		{
			name:      "qty double add counts once",
			steps:     []step{add("/a", 1, R, true), add("/a", 1, R, false)},
			recursive: 1,
		},
		{
			name: "qty double add then remove gives zero",
			steps: []step{
				add("/a", 1, R, true), add("/a", 1, R, false),
				remove("/a", 1, R, true), remove("/a", 1, R, false),
			},
		},
		{
			name: "qty same watcher multi path, remove middle",
			steps: []step{
				add("/a", 1, R, true), add("/a/b", 1, R, true), add("/a/b/c", 1, R, true),
				remove("/a/b", 1, R, true),
			},
			recursive: 2,
			paths:     map[uint64][2][]string{1: {nil, {"/a", "/a/b/c"}}},
		},
		{
			name: "qty same watcher multi path, remove connection",
			steps: []step{
				add("/a", 1, R, true), add("/a/b", 1, R, true), add("/a/b/c", 1, R, true),
				removeWatcher(1),
			},
			paths: map[uint64][2][]string{1: {nil, nil}},
		},
		{
			name:     "qty different modes: persistent alone counts zero",
			steps:    []step{add("/a", 1, P, true)},
			persist:  1,
			contains: []holds{{"/a", 1, P}},
			absent:   []holds{{"/a", 1, R}, {"/a", 2, P}, {"/b", 1, P}},
			paths:    map[uint64][2][]string{1: {{"/a"}, nil}},
		},
		{
			name:      "qty different modes: adding recursive counts one",
			steps:     []step{add("/a", 1, P, true), add("/a", 1, R, true)},
			persist:   1,
			recursive: 1,
			contains:  []holds{{"/a", 1, P}, {"/a", 1, R}},
			paths:     map[uint64][2][]string{1: {{"/a"}, {"/a"}}},
		},
		{
			name: "qty different modes: removing both gives zero",
			steps: []step{
				add("/a", 1, P, true), add("/a", 1, R, true),
				remove("/a", 1, P, true), remove("/a", 1, R, true),
			},
			absent: []holds{{"/a", 1, P}, {"/a", 1, R}},
		},
		{
			name: "add mode repeatedly is refused, removal one at a time keeps the rest",
			steps: []step{
				add("/n", 1, P, true), add("/n", 1, R, true),
				add("/n", 1, P, false), add("/n", 1, R, false),
				remove("/n", 1, P, true),
			},
			recursive: 1,
			contains:  []holds{{"/n", 1, R}},
			absent:    []holds{{"/n", 1, P}},
		},
		{
			name: "remove recursive keeps persistent",
			steps: []step{
				add("/n", 1, R, true), add("/n", 1, P, true),
				remove("/n", 1, R, true),
			},
			persist:  1,
			contains: []holds{{"/n", 1, P}},
			absent:   []holds{{"/n", 1, R}},
		},
		{
			name: "remove one mode leaves other watchers intact",
			steps: []step{
				add("/node1", 1, P, true), add("/node1", 1, R, true),
				add("/node1", 2, P, true), add("/node1", 2, R, true),
				remove("/node1", 1, P, true),
			},
			persist:   1,
			recursive: 2,
			contains:  []holds{{"/node1", 1, R}, {"/node1", 2, P}, {"/node1", 2, R}},
			absent:    []holds{{"/node1", 1, P}},
		},
		{
			name: "remove with mismatched path, watcher or mode breaks nothing",
			steps: []step{
				add("/node1", 1, P, true), add("/node2", 2, R, true),
				remove("/node1", 2, P, false), remove("/node2", 1, R, false),
				remove("/node1", 1, R, false), remove("/node2", 2, P, false),
				remove("/node3", 1, P, false), remove("/node1", 1, Mode(0), false),
				remove("/node1", 1, P|R, false),
			},
			persist:   1,
			recursive: 1,
			contains:  []holds{{"/node1", 1, P}, {"/node2", 2, R}},
		},
		{
			name: "remove watcher leaves other connections",
			steps: []step{
				add("/a", 1, P, true), add("/a", 1, R, true), add("/b", 1, R, true),
				add("/a", 2, P, true), add("/b", 2, R, true),
				removeWatcher(1), removeWatcher(42),
			},
			persist:   1,
			recursive: 1,
			contains:  []holds{{"/a", 2, P}, {"/b", 2, R}},
			absent:    []holds{{"/a", 1, P}, {"/a", 1, R}, {"/b", 1, R}},
			paths:     map[uint64][2][]string{1: {nil, nil}, 2: {{"/a"}, {"/b"}}},
		},
		{
			name: "malformed paths and modes are refused",
			steps: []step{
				add("", 1, P, false), add("a", 1, P, false), add("/a/", 1, R, false),
				add("/a", 1, Mode(0), false), add("/a", 1, P|R, false), add("/a", 1, Mode(4), false),
			},
			absent: []holds{{"/a", 1, P}, {"/a", 1, R}, {"", 1, P}},
		},
		{
			name:      "root is a valid path for both modes",
			steps:     []step{add("/", 1, P, true), add("/", 1, R, true)},
			persist:   1,
			recursive: 1,
			contains:  []holds{{"/", 1, P}, {"/", 1, R}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := New()
			apply(t, x, tt.steps)
			for _, h := range tt.contains {
				if !x.Contains(h.path, h.w, h.m) {
					t.Errorf("Contains(%q, %d, %v) = false, want true", h.path, h.w, h.m)
				}
			}
			for _, h := range tt.absent {
				if x.Contains(h.path, h.w, h.m) {
					t.Errorf("Contains(%q, %d, %v) = true, want false", h.path, h.w, h.m)
				}
			}
			if got := x.Len(Persistent); got != tt.persist {
				t.Errorf("Len(Persistent) = %d, want %d", got, tt.persist)
			}
			if got := x.Len(Recursive); got != tt.recursive {
				t.Errorf("Len(Recursive) = %d, want %d", got, tt.recursive)
			}
			if got := x.RecursiveCount(); got != tt.recursive {
				t.Errorf("RecursiveCount() = %d, want %d", got, tt.recursive)
			}
			for w, want := range tt.paths {
				if got := x.Paths(w, Persistent); !slices.Equal(got, want[0]) {
					t.Errorf("Paths(%d, Persistent) = %q, want %q", w, got, want[0])
				}
				if got := x.Paths(w, Recursive); !slices.Equal(got, want[1]) {
					t.Errorf("Paths(%d, Recursive) = %q, want %q", w, got, want[1])
				}
			}
		})
	}
}

func collect(match func(string, func(uint64)), path string) []uint64 {
	var got []uint64
	match(path, func(w uint64) { got = append(got, w) })
	slices.Sort(got)
	return got
}

// TestMatch checks who is told about an event: the data table (MatchData)
// and the child table (MatchChild).
func TestMatch(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		path      string
		wantData  []uint64
		wantChild []uint64
	}{
		{
			name:     "recursive does not match a sibling sharing a byte prefix",
			steps:    []step{add("/app", 1, R, true)},
			path:     "/apple",
			wantData: nil,
		},
		{
			name:     "recursive does not match a sibling's child",
			steps:    []step{add("/app", 1, R, true)},
			path:     "/apple/x",
			wantData: nil,
		},
		{
			name:     "recursive matches its own path",
			steps:    []step{add("/app", 1, R, true)},
			path:     "/app",
			wantData: []uint64{1},
		},
		{
			name:     "recursive matches a child and a deep descendant",
			steps:    []step{add("/app", 1, R, true), add("/app", 2, R, true)},
			path:     "/app/a/b/c/d/e/f/g",
			wantData: []uint64{1, 2},
		},
		{
			name:     "recursive below the changed path does not match",
			steps:    []step{add("/a/b", 1, R, true)},
			path:     "/a",
			wantData: nil,
		},
		{
			name:      "recursive on root matches everything, never children",
			steps:     []step{add("/", 1, R, true)},
			path:      "/",
			wantData:  []uint64{1},
			wantChild: nil,
		},
		{
			name:     "recursive on root matches a deep path",
			steps:    []step{add("/", 1, R, true)},
			path:     "/x/y/z",
			wantData: []uint64{1},
		},
		{
			name:      "persistent matches only its exact path, in both tables",
			steps:     []step{add("/a", 1, P, true)},
			path:      "/a",
			wantData:  []uint64{1},
			wantChild: []uint64{1},
		},
		{
			// PersistentWatcherTest.testRootWatcher: setData /a is not seen
			// by a non-recursive watch on "/".
			name:  "persistent on an ancestor does not match",
			steps: []step{add("/", 1, P, true), add("/a", 2, P, true)},
			path:  "/a/b",
		},
		{
			name:      "persistent on root gets root's child events",
			steps:     []step{add("/", 1, P, true)},
			path:      "/",
			wantData:  []uint64{1},
			wantChild: []uint64{1},
		},
		{
			name: "watcher matched several ways is reported once",
			steps: []step{
				add("/", 1, R, true), add("/a", 1, R, true), add("/a/b", 1, R, true),
				add("/a/b", 1, P, true), add("/a", 2, R, true),
			},
			path:      "/a/b",
			wantData:  []uint64{1, 2},
			wantChild: []uint64{1},
		},
		{
			name: "persistent-only watchers on an ancestor are skipped",
			steps: []step{
				add("/a", 1, P, true), add("/a", 2, R, true), add("/a", 3, P, true),
				add("/a", 3, R, true), add("/a", 4, P, true),
			},
			path:     "/a/x",
			wantData: []uint64{2, 3},
		},
		{
			name: "exact and ancestor merge without duplicates",
			steps: []step{
				add("/a", 1, R, true), add("/a", 2, R, true),
				add("/a/b", 2, P, true), add("/a/b", 3, P, true),
			},
			path:      "/a/b",
			wantData:  []uint64{1, 2, 3},
			wantChild: []uint64{2, 3},
		},
		{
			name:     "removed recursive mode stops ancestor matches, persistent stays",
			steps:    []step{add("/a", 1, R, true), add("/a", 1, P, true), remove("/a", 1, R, true)},
			path:     "/a/b",
			wantData: nil,
		},
		{
			name: "removed recursive watch no longer matches after removeWatcher",
			steps: []step{
				add("/a", 1, R, true), add("/a", 2, R, true), removeWatcher(1),
			},
			path:     "/a/b",
			wantData: []uint64{2},
		},
		{
			// PersistentRecursiveWatcherTest.internalTestBasic: nothing for /a.
			name:  "recursive on /a/b: nothing for /a",
			steps: []step{add("/a/b", 1, R, true)},
			path:  "/a",
		},
		{
			name:     "recursive on /a/b: node five levels down",
			steps:    []step{add("/a/b", 1, R, true)},
			path:     "/a/b/c/d/e",
			wantData: []uint64{1},
		},
		{
			name:     "no recursive watches: exact only",
			steps:    []step{add("/a", 1, P, true), add("/a/b", 2, P, true)},
			path:     "/a/b",
			wantData: []uint64{2}, wantChild: []uint64{2},
		},
		{
			name:  "unwatched path",
			steps: []step{add("/a", 1, R, true)},
			path:  "/b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := New()
			apply(t, x, tt.steps)
			if got := collect(x.MatchData, tt.path); !slices.Equal(got, tt.wantData) {
				t.Errorf("MatchData(%q) = %v, want %v", tt.path, got, tt.wantData)
			}
			if got := collect(x.MatchChild, tt.path); !slices.Equal(got, tt.wantChild) {
				t.Errorf("MatchChild(%q) = %v, want %v", tt.path, got, tt.wantChild)
			}
		})
	}
}

// TestSamePathWithDifferentModes follows PersistentRecursiveWatcherTest's
// testSamePathWithDifferentWatchModes from the index's point of view: one
// connection with both modes on /a is reported once per table call, and
// the watches survive every event.
func TestSamePathWithDifferentModes(t *testing.T) {
	x := New()
	x.Add("/a", 1, Persistent)
	x.Add("/a", 1, Recursive)
	events := []struct {
		name      string
		table     string // "data" or "child"
		path      string
		wantMatch []uint64
	}{
		{"create /a", "data", "/a", []uint64{1}},
		{"setData /a", "data", "/a", []uint64{1}},
		{"create /a/b: NodeCreated /a/b", "data", "/a/b", []uint64{1}},
		{"create /a/b: NodeChildrenChanged /a", "child", "/a", []uint64{1}},
		{"delete /a/b: NodeDeleted /a/b", "data", "/a/b", []uint64{1}},
		{"delete /a/b: no child event on /a/b", "child", "/a/b", nil},
		{"delete /a", "data", "/a", []uint64{1}},
	}
	for _, ev := range events {
		match := x.MatchData
		if ev.table == "child" {
			match = x.MatchChild
		}
		if got := collect(match, ev.path); !slices.Equal(got, ev.wantMatch) {
			t.Errorf("%s: matched %v, want %v", ev.name, got, ev.wantMatch)
		}
	}
	if !x.Contains("/a", 1, Persistent) || !x.Contains("/a", 1, Recursive) {
		t.Error("persistent watches were consumed by matching")
	}
}

// TestCountsAcrossModes checks that PathCount and WatcherCount count a path
// or a watcher once when it has watches of both modes, through every way a
// watch can go.
func TestCountsAcrossModes(t *testing.T) {
	tests := []struct {
		name                   string
		steps                  []step
		wantPaths, wantWatcher int
	}{
		{"one pair with both modes", []step{add("/a", 1, P, true), add("/a", 1, R, true)}, 1, 1},
		{"same path, different watchers and modes", []step{add("/a", 1, P, true), add("/a", 2, R, true)}, 1, 2},
		{"same watcher, different paths and modes", []step{add("/a", 1, P, true), add("/b", 1, R, true)}, 2, 1},
		{"one mode removed", []step{
			add("/a", 1, P, true), add("/a", 1, R, true), remove("/a", 1, P, true),
		}, 1, 1},
		{"both modes removed", []step{
			add("/a", 1, P, true), add("/a", 1, R, true), remove("/a", 1, R, true), remove("/a", 1, P, true),
		}, 0, 0},
		{"watcher with both modes closes", []step{
			add("/a", 1, P, true), add("/a", 1, R, true), add("/b", 1, R, true), add("/a", 2, P, true), removeWatcher(1),
		}, 1, 1},
		{"other watcher keeps the recursive side", []step{
			add("/a", 1, P, true), add("/a", 1, R, true), add("/a", 2, R, true), removeWatcher(1),
		}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := New()
			apply(t, x, tt.steps) // checkInvariants recounts after each step
			if x.PathCount() != tt.wantPaths || x.WatcherCount() != tt.wantWatcher {
				t.Fatalf("PathCount, WatcherCount = %d, %d; want %d, %d",
					x.PathCount(), x.WatcherCount(), tt.wantPaths, tt.wantWatcher)
			}
		})
	}
}

// TestRecursivePathStoredOnce checks that the recursive table keeps its
// path as a prefix of the radix key rather than as a second string.
func TestRecursivePathStoredOnce(t *testing.T) {
	x := New()
	for _, p := range []string{"/", "/a", "/a/b"} {
		x.Add(p, 1, R)
		slot, _ := x.rec.Lookup(p)
		key, _, ok := x.tree.LongestPrefix(recKey(p))
		if !ok || key != recKey(p) {
			t.Fatalf("%s: radix key %q (%v)", p, key, ok)
		}
		if unsafe.StringData(x.rec.Path(slot)) != unsafe.StringData(key) {
			t.Errorf("%s: table path and radix key do not share bytes", p)
		}
	}
}

func TestListings(t *testing.T) {
	x := New()
	x.Add("/z", 1, P)
	x.Add("/a", 1, P)
	x.Add("/a", 3, R)
	x.Add("/a", 2, P)
	x.Add("/a", 2, R)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Paths persistent sorted", x.Paths(1, P), []string{"/a", "/z"}},
		{"Paths invalid mode", x.Paths(1, P|R), []string(nil)},
		{"Paths unknown watcher", x.Paths(9, P), []string(nil)},
		{"Watchers persistent", x.Watchers("/a", P), []uint64{1, 2}},
		{"Watchers recursive", x.Watchers("/a", R), []uint64{2, 3}},
		{"Watchers unknown path", x.Watchers("/q", P), []uint64(nil)},
		{"Watchers invalid mode", x.Watchers("/a", Mode(0)), []uint64(nil)},
		{"PathCount", x.PathCount(), 2},
		{"WatcherCount", x.WatcherCount(), 3},
		{"Len invalid mode", x.Len(Mode(3)), 0},
		{"Contains invalid mode", x.Contains("/a", 2, P|R), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fmt.Sprintf("%#v", tt.got) != fmt.Sprintf("%#v", tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestModeString(t *testing.T) {
	for _, tt := range []struct {
		m    Mode
		want string
	}{{Persistent, "persistent"}, {Recursive, "recursive"}, {Mode(3), "Mode(3)"}} {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("Mode(%d).String() = %q, want %q", uint8(tt.m), got, tt.want)
		}
	}
}

// TestMatchDataNested checks that a callback may itself query the index
// while MatchData is merging several paths.
func TestMatchDataNested(t *testing.T) {
	x := New()
	x.Add("/a", 1, R)
	x.Add("/a/b", 2, R)
	x.Add("/c", 3, R)
	x.Add("/c/d", 4, R)
	var outer []uint64
	x.MatchData("/a/b/x", func(w uint64) {
		outer = append(outer, w)
		if inner := collect(x.MatchData, "/c/d/y"); !slices.Equal(inner, []uint64{3, 4}) {
			t.Errorf("nested MatchData = %v, want [3 4]", inner)
		}
	})
	slices.Sort(outer)
	if !slices.Equal(outer, []uint64{1, 2}) {
		t.Errorf("MatchData = %v, want [1 2]", outer)
	}
}

// TestHotPath pushes one path past indexAbove with mixed modes and takes
// it apart again, checking the partition and the position map each step.
func TestHotPath(t *testing.T) {
	x := New()
	const n = 3 * indexAbove
	for w := uint64(1); w <= n; w++ {
		x.Add("/hot", w, P)
		if w%3 == 0 {
			x.Add("/hot", w, R)
		}
		checkInvariants(t, x)
	}
	for w := uint64(1); w <= n; w++ {
		if w%2 == 0 {
			x.RemoveWatcher(w)
		} else {
			x.Remove("/hot", w, P)
		}
		checkInvariants(t, x)
	}
	// Odd multiples of 3 keep their recursive watch.
	want := []uint64{3, 9, 15, 21, 27, 33, 39, 45}
	if got := collect(x.MatchData, "/hot/child"); !slices.Equal(got, want) {
		t.Errorf("MatchData = %v, want %v", got, want)
	}
	if x.Len(Persistent) != 0 || x.RecursiveCount() != len(want) {
		t.Errorf("Len(P) = %d, RecursiveCount = %d, want 0, %d", x.Len(Persistent), x.RecursiveCount(), len(want))
	}
}

// TestAgainstModel runs random operations over a small tree of paths and
// compares every answer with a brute-force model that walks ancestors by
// string manipulation.
func TestAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	x := New()
	model := map[string]map[uint64]Mode{}
	paths := []string{"/", "/a", "/ab", "/a/b", "/a/bc", "/a/b/c", "/a/b/c/d", "/ab/c", "/b", "/b/a"}
	const watchers = 30
	modelMatchData := func(path string) []uint64 {
		set := map[uint64]bool{}
		for p, ws := range model {
			ancestor := p == "/" && path != "/" || strings.HasPrefix(path, p+"/")
			for w, bits := range ws {
				if p == path || ancestor && bits&Recursive != 0 {
					set[w] = true
				}
			}
		}
		var out []uint64
		for w := range set {
			out = append(out, w)
		}
		slices.Sort(out)
		return out
	}
	for i := 0; i < 30000; i++ {
		p := paths[rng.IntN(len(paths))]
		w := uint64(rng.IntN(watchers))
		m := Mode(1 << rng.IntN(2))
		have := model[p][w]
		switch r := rng.IntN(100); {
		case r < 50:
			if got := x.Add(p, w, m); got != (have&m == 0) {
				t.Fatalf("op %d: Add(%q,%d,%v) = %v with bits %v", i, p, w, m, got, have)
			}
			if model[p] == nil {
				model[p] = map[uint64]Mode{}
			}
			model[p][w] |= m
		case r < 80:
			if got := x.Remove(p, w, m); got != (have&m != 0) {
				t.Fatalf("op %d: Remove(%q,%d,%v) = %v with bits %v", i, p, w, m, got, have)
			}
			if have&^m == 0 {
				delete(model[p], w)
			} else {
				model[p][w] = have &^ m
			}
		case r < 83:
			x.RemoveWatcher(w)
			for _, ws := range model {
				delete(ws, w)
			}
		default:
			if got, want := collect(x.MatchData, p), modelMatchData(p); !slices.Equal(got, want) {
				t.Fatalf("op %d: MatchData(%q) = %v, want %v", i, p, got, want)
			}
			var want []uint64
			for w, bits := range model[p] {
				if bits&Persistent != 0 {
					want = append(want, w)
				}
			}
			slices.Sort(want)
			if got := collect(x.MatchChild, p); !slices.Equal(got, want) {
				t.Fatalf("op %d: MatchChild(%q) = %v, want %v", i, p, got, want)
			}
		}
		if i%101 == 0 {
			checkInvariants(t, x)
		}
	}
	checkInvariants(t, x)
}

// indexAbove is the number of watchers above which a path gets a position
// map.
const indexAbove = pairs.IndexAbove

// checkInvariants verifies the forward and reverse sides of both tables
// (see pairs.Table.Verify), that the radix tree holds exactly the paths
// with a recursive watch, each naming its slot, and the counters.
func checkInvariants(t *testing.T, x *Index) {
	t.Helper()
	if err := x.pers.Verify(); err != nil {
		t.Fatalf("persistent table: %v", err)
	}
	if err := x.rec.Verify(); err != nil {
		t.Fatalf("recursive table: %v", err)
	}
	paths := map[string]Mode{}
	watchers := map[uint64]bool{}
	for _, m := range []Mode{P, R} {
		own, _ := x.tables(m)
		for p, w := range own.All() {
			paths[p] |= m
			watchers[w] = true
		}
	}
	recPaths := 0
	for p, bits := range paths {
		if bits&R == 0 {
			continue
		}
		recPaths++
		slot, ok := x.rec.Lookup(p)
		v, inTree := x.tree.Get(recKey(p))
		if !ok || !inTree || v.(uint32) != slot {
			t.Fatalf("%q: recursive slot %d (%v), radix value %v (%v)", p, slot, ok, v, inTree)
		}
	}
	if x.tree.Len() != recPaths || x.rec.PathCount() != recPaths {
		t.Fatalf("radix tree holds %d keys, recursive table %d paths, want %d", x.tree.Len(), x.rec.PathCount(), recPaths)
	}
	if x.PathCount() != len(paths) || x.WatcherCount() != len(watchers) {
		t.Fatalf("PathCount %d, WatcherCount %d; want %d, %d", x.PathCount(), x.WatcherCount(), len(paths), len(watchers))
	}
}
