package changelog

import (
	"fmt"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

func ev(zxid int64, path string) znode.Event {
	return znode.Event{Type: znode.EventNodeDataChanged, Path: path, Zxid: zxid}
}

func collect(w *Window, since int64) ([]string, bool) {
	var got []string
	ok := w.Since(since, func(e znode.Event) { got = append(got, fmt.Sprintf("%d%s", e.Zxid, e.Path)) })
	return got, ok
}

func TestSince(t *testing.T) {
	w := New(10, Options{})
	w.Append([]znode.Event{ev(11, "/a"), {Type: znode.EventNodeChildrenChanged, Path: "/", Zxid: 11}})
	w.Append([]znode.Event{ev(12, "/b")})
	w.Append([]znode.Event{ev(15, "/c")})
	for _, tc := range []struct {
		name  string
		since int64
		want  string
		ok    bool
	}{
		{"before the start is unknown", 9, "[]", false},
		{"exactly the start replays everything", 10, "[11/a 11/ 12/b 15/c]", true},
		{"mid-transaction zxid replays later ones", 11, "[12/b 15/c]", true},
		{"a gap in zxids is fine", 13, "[15/c]", true},
		{"up to date replays nothing", 15, "[]", true},
		{"ahead of the window replays nothing", 99, "[]", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := collect(w, tc.since)
			if ok != tc.ok || fmt.Sprint(got) != tc.want {
				t.Errorf("Since(%d) = %v, %v; want %s, %v", tc.since, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestEvictionMovesHorizonByWholeTransactions(t *testing.T) {
	w := New(0, Options{MaxEvents: 3})
	w.Append([]znode.Event{ev(1, "/a"), ev(1, "/b")})
	w.Append([]znode.Event{ev(2, "/c")})
	w.Append([]znode.Event{ev(3, "/d")}) // 4 events > 3: all of zxid 1 goes
	if w.Len() != 2 || w.Horizon() != 1 {
		t.Fatalf("len %d horizon %d, want 2 and 1", w.Len(), w.Horizon())
	}
	if _, ok := collect(w, 0); ok {
		t.Error("Since(0) claims completeness after zxid 1 was evicted")
	}
	if got, ok := collect(w, 1); !ok || fmt.Sprint(got) != "[2/c 3/d]" {
		t.Errorf("Since(1) = %v, %v", got, ok)
	}
}

func TestByteBoundAndCompaction(t *testing.T) {
	w := New(0, Options{MaxEvents: 1 << 30, MaxBytes: 10 << 10})
	for i := int64(1); i <= 100000; i++ {
		w.Append([]znode.Event{ev(i, "/some/path")})
		if w.Bytes() > 10<<10 {
			t.Fatalf("bytes %d over the bound after zxid %d", w.Bytes(), i)
		}
	}
	if cap(w.events) > 4*w.Len()+4096 {
		t.Errorf("backing array of %d for %d live events: compaction is not happening", cap(w.events), w.Len())
	}
	got, ok := collect(w, w.Horizon())
	if !ok || len(got) != w.Len() || got[len(got)-1] != "100000/some/path" {
		t.Errorf("replay from horizon: ok=%v %d events, last %v", ok, len(got), got[len(got)-1:])
	}
}

func BenchmarkAppend(b *testing.B) {
	w := New(0, Options{})
	evs := []znode.Event{ev(0, "/app/config/node"), {Type: znode.EventNodeChildrenChanged, Path: "/app/config"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		evs[0].Zxid, evs[1].Zxid = int64(i), int64(i)
		w.Append(evs)
	}
}

func TestTruncate(t *testing.T) {
	w := New(0, Options{})
	w.Append([]znode.Event{ev(1, "/a")})
	w.Append([]znode.Event{ev(2, "/b"), ev(2, "/c")})
	w.Append([]znode.Event{ev(3, "/d")})
	w.Truncate(1)
	if got, ok := collect(w, 0); !ok || fmt.Sprint(got) != "[1/a]" || w.Bytes() != eventSize(ev(1, "/a")) {
		t.Errorf("after Truncate(1): %v (bytes %d)", got, w.Bytes())
	}
	w.Append([]znode.Event{ev(2, "/again")})
	if got, _ := collect(w, 1); fmt.Sprint(got) != "[2/again]" {
		t.Errorf("append after truncate: %v", got)
	}
}
