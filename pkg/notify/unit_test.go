package notify

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name   string
		paths  []string
		events []string
		ev     znode.Event
		want   bool
	}{
		{"subtree root itself", []string{"/app"}, nil, ev(1, znode.EventNodeCreated, "/app"), true},
		{"descendant", []string{"/app"}, nil, ev(1, znode.EventNodeDeleted, "/app/x/y"), true},
		{"sibling with common prefix", []string{"/app"}, nil, ev(1, znode.EventNodeCreated, "/apple"), false},
		{"sibling child with common prefix", []string{"/app"}, nil, ev(1, znode.EventNodeCreated, "/apple/x"), false},
		{"parent of subtree", []string{"/app/x"}, nil, ev(1, znode.EventNodeChildrenChanged, "/app"), false},
		{"root matches all", []string{"/"}, nil, ev(1, znode.EventNodeDataChanged, "/zookeeper/quota"), true},
		{"default paths are everything", nil, nil, ev(1, znode.EventNodeDataChanged, "/a"), true},
		{"second path", []string{"/a", "/b"}, nil, ev(1, znode.EventNodeCreated, "/b/c"), true},
		{"type selected", nil, []string{"data"}, ev(1, znode.EventNodeDataChanged, "/a"), true},
		{"type not selected", nil, []string{"data"}, ev(1, znode.EventNodeCreated, "/a"), false},
		{"children type", []string{"/a"}, []string{"children"}, ev(1, znode.EventNodeChildrenChanged, "/a"), true},
		{"client-only type never", nil, nil, ev(1, znode.EventDataWatchRemoved, "/a"), false},
		{"none type never", nil, nil, ev(1, znode.EventNone, "/a"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := PluginConfig{Name: "x", Command: "x", Paths: tt.paths, Events: tt.events}
			c.setDefaults()
			f := newFilter(c)
			if got := f.match(&tt.ev); got != tt.want {
				t.Errorf("match(%s %s) = %v, want %v", tt.ev.Type, tt.ev.Path, got, tt.want)
			}
		})
	}
}

func TestPluginConfigValidate(t *testing.T) {
	ok := PluginConfig{Name: "audit", Command: "./bin/x", Paths: []string{"/app"}, Events: []string{"created"}}
	tests := []struct {
		name    string
		mod     func(c *PluginConfig)
		wantErr string
	}{
		{"valid", func(*PluginConfig) {}, ""},
		{"empty name", func(c *PluginConfig) { c.Name = "" }, "name must be"},
		{"name with slash", func(c *PluginConfig) { c.Name = "a/b" }, "name must be"},
		{"no command", func(c *PluginConfig) { c.Command = " " }, "command is required"},
		{"relative path", func(c *PluginConfig) { c.Paths = []string{"app"} }, `path "app"`},
		{"trailing slash", func(c *PluginConfig) { c.Paths = []string{"/app/"} }, `path "/app/"`},
		{"unknown event", func(c *PluginConfig) { c.Events = []string{"changed"} }, `unknown event type "changed"`},
		{"short sha", func(c *PluginConfig) { c.SHA256 = "abcd" }, "64 hex digits"},
		{"good sha", func(c *PluginConfig) { c.SHA256 = strings.Repeat("ab", 32) }, ""},
		{"negative queue", func(c *PluginConfig) { c.QueueEvents = -1 }, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewRejectsDuplicateNamesAndMissingDataDir(t *testing.T) {
	p := PluginConfig{Name: "a", Command: "x"}
	if _, err := New(Options{Plugins: []PluginConfig{p, p}, DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("duplicate names: err = %v", err)
	}
	if _, err := New(Options{Plugins: []PluginConfig{p}}); err == nil || !strings.Contains(err.Error(), "DataDir") {
		t.Errorf("no data dir: err = %v", err)
	}
}

func zxids(r *Ring, after int64) ([]int64, bool) {
	var out []int64
	ok, _ := r.Since(after, func(e znode.Event) bool { out = append(out, e.Zxid); return true })
	return out, ok
}

func TestRing(t *testing.T) {
	tests := []struct {
		name         string
		opts         RingOptions
		txns         [][]int64 // zxid of each event, grouped by transaction
		after        int64
		want         []int64
		wantComplete bool
		wantHorizon  int64
	}{
		{"empty ring knows nothing yet", RingOptions{}, nil, 5, nil, true, -1},
		{"all after first", RingOptions{}, [][]int64{{10}, {11}, {12}}, 10, []int64{11, 12}, true, 9},
		{"from the horizon", RingOptions{}, [][]int64{{10}, {11}}, 9, []int64{10, 11}, true, 9},
		{"before the first event", RingOptions{}, [][]int64{{10}, {11}}, 8, nil, false, 9},
		{"evicted", RingOptions{MaxEvents: 2}, [][]int64{{10}, {11}, {12}}, 10, []int64{11, 12}, true, 10},
		{"evicted too far", RingOptions{MaxEvents: 2}, [][]int64{{10}, {11}, {12}}, 9, nil, false, 10},
		{"transaction evicted whole", RingOptions{MaxEvents: 3}, [][]int64{{10, 10}, {11, 11}}, 10, []int64{11, 11}, true, 10},
		{"past the end", RingOptions{}, [][]int64{{10}}, 20, nil, true, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.opts)
			for _, txn := range tt.txns {
				var evs []znode.Event
				for _, z := range txn {
					evs = append(evs, ev(z, znode.EventNodeCreated, "/a"))
				}
				r.Append(evs)
			}
			got, complete := zxids(r, tt.after)
			if complete != tt.wantComplete || !slices.Equal(got, tt.want) {
				t.Errorf("Since(%d) = %v, %v; want %v, %v", tt.after, got, complete, tt.want, tt.wantComplete)
			}
			if h := r.Horizon(); h != tt.wantHorizon {
				t.Errorf("Horizon() = %d, want %d", h, tt.wantHorizon)
			}
		})
	}
}

func TestRingKeepsDataOnlyWhenAsked(t *testing.T) {
	for _, keep := range []bool{false, true} {
		r := NewRing(RingOptions{KeepData: keep})
		e := ev(1, znode.EventNodeCreated, "/a")
		e.Data = []byte("v")
		r.Append([]znode.Event{e})
		r.Since(0, func(got znode.Event) bool {
			if (got.Data != nil) != keep {
				t.Errorf("KeepData=%v: data %q", keep, got.Data)
			}
			return true
		})
	}
}

func TestAckFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.ack")
	if _, ok, err := readAck(p); ok || err != nil {
		t.Fatalf("missing file: ok=%v err=%v", ok, err)
	}
	for _, z := range []int64{1, 1 << 40, 7} {
		if err := writeAck(p, z); err != nil {
			t.Fatal(err)
		}
		got, ok, err := readAck(p)
		if err != nil || !ok || got != z {
			t.Fatalf("read back %d, %v, %v; want %d", got, ok, err, z)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	os.WriteFile(p, []byte("garbage"), 0o644)
	if _, _, err := readAck(p); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt file: err = %v", err)
	}
}

// fakeLog is a ChangeLog over a slice with a horizon.
type fakeLog struct {
	events  []znode.Event
	horizon int64
}

func (f *fakeLog) Events(_ context.Context, after int64, fn func(znode.Event) bool) (int64, error) {
	for _, e := range f.events {
		if e.Zxid > after && !fn(e) {
			break
		}
	}
	return f.horizon, nil
}

func TestFromChangeLog(t *testing.T) {
	log := &fakeLog{horizon: 4, events: []znode.Event{ev(5, znode.EventNodeCreated, "/a"), ev(6, znode.EventNodeDeleted, "/a")}}
	h := FromChangeLog(log)
	tests := []struct {
		after        int64
		want         []int64
		wantComplete bool
	}{
		{4, []int64{5, 6}, true},
		{5, []int64{6}, true},
		{3, nil, false},
	}
	for _, tt := range tests {
		var got []int64
		ok, err := h.Since(tt.after, func(e znode.Event) bool { got = append(got, e.Zxid); return true })
		if err != nil || ok != tt.wantComplete || (ok && !slices.Equal(got, tt.want)) {
			t.Errorf("Since(%d) = %v, %v, %v; want %v, %v", tt.after, got, ok, err, tt.want, tt.wantComplete)
		}
	}
	if hz := h.(Horizoner).Horizon(); hz != 4 {
		t.Errorf("Horizon() = %d, want 4", hz)
	}
}
