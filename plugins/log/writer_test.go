package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/plugins/internal/jsonevent"
	"github.com/zkx-dev/zkx/sdk/notifier"
	"github.com/zkx-dev/zkx/sdk/notifier/notifiertest"
)

func readLines(t *testing.T, path string) []jsonevent.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []jsonevent.Event
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var e jsonevent.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		out = append(out, e)
	}
	return out
}

func TestWritesJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	w, err := newWriter(path, 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	c := notifiertest.Start(t, w)
	at := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	err = c.Notify(context.Background(), []notifier.Event{
		{Type: notifier.EventCreated, Path: "/app/x", Zxid: 7, Time: at, Data: []byte("v1"), HasData: true},
		{Type: notifier.EventDeleted, Path: "/app/y", Zxid: 8, Time: at, Version: 2},
		{Type: notifier.EventGap, Zxid: 20, GapStart: 9, GapEnd: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := `{"type":"created","path":"/app/x","zxid":7,"time":"2026-01-02T03:04:05.678Z","version":0,"data":"djE="}
{"type":"deleted","path":"/app/y","zxid":8,"time":"2026-01-02T03:04:05.678Z","version":2}
{"type":"gap","zxid":20,"version":0,"gap_start":9,"gap_end":20}
`
	if string(b) != want {
		t.Errorf("file:\n%s\nwant:\n%s", b, want)
	}
}

func TestRotationBySize(t *testing.T) {
	tests := []struct {
		name      string
		keep      int
		batches   int
		wantFiles []string
	}{
		{"keeps two old files", 2, 10, []string{"a.jsonl", "a.jsonl.1", "a.jsonl.2"}},
		{"keep zero truncates", 0, 10, []string{"a.jsonl"}},
		{"no rotation needed", 2, 1, []string{"a.jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.jsonl")
			w, err := newWriter(path, 300, tt.keep, false)
			if err != nil {
				t.Fatal(err)
			}
			c := notifiertest.Start(t, w)
			for i := range tt.batches {
				// Each batch is about 200 bytes: one batch per file.
				evs := notifiertest.Events(notifier.EventCreated, int64(2*i+1), "/app/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "/app/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
				if err := c.Notify(context.Background(), evs); err != nil {
					t.Fatal(err)
				}
			}
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if strings.Join(names, ",") != strings.Join(tt.wantFiles, ",") {
				t.Errorf("files %v, want %v", names, tt.wantFiles)
			}
			// The newest events are in the current file; order is kept
			// across files.
			cur := readLines(t, path)
			if last := cur[len(cur)-1]; last.Zxid != int64(2*tt.batches) {
				t.Errorf("last zxid %d, want %d", last.Zxid, 2*tt.batches)
			}
			for _, n := range names {
				st, _ := os.Stat(filepath.Join(dir, n))
				if st.Size() > 300 {
					t.Errorf("%s is %d bytes, over the limit", n, st.Size())
				}
			}
			if tt.keep > 0 && tt.batches > 1 {
				old := readLines(t, path+".1")
				if old[len(old)-1].Zxid != cur[0].Zxid-1 {
					t.Errorf("%s.1 ends at %d, current starts at %d", path, old[len(old)-1].Zxid, cur[0].Zxid)
				}
			}
		})
	}
}
