package client

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestReplayDeliversMissedEventsOnce: a recursive watcher is cut off,
// changes happen while it is away, and after it reconnects zkx replays
// every missed event exactly once, in zxid order, with the original
// zxids; nothing it already saw is sent again.
func TestReplayDeliversMissedEventsOnce(t *testing.T) {
	addr := startServer(t)
	d := &cutter{}
	states := newStateRecorder()
	// The session must outlive the time the watcher is kept out, plus its
	// reconnect backoff (up to 1 s), however slow a loaded machine makes
	// the writer's calls meanwhile.
	w := connect(t, addr, Options{Dialer: d.dial, OnState: states.fn, SessionTimeout: 10 * time.Second})
	m := connect(t, addr, Options{})
	ctx := testCtx(t)

	watch, err := w.AddWatch(ctx, "/app", AddWatchPersistentRecursive)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, m, "/app", nil, CreateOptions{})
	mustCreate(t, m, "/app/seen", nil, CreateOptions{})
	before := nodeEvents(t, watch.Events(), 2)

	d.block(true)
	d.cut()
	states.waitFor(t, StateDisconnected)
	var want []string
	mustCreate(t, m, "/app/a", []byte("1"), CreateOptions{})
	want = append(want, "NodeCreated /app/a")
	for i := 0; i < 5; i++ {
		if _, err := m.Set(ctx, "/app/a", []byte(fmt.Sprint(i)), -1); err != nil {
			t.Fatal(err)
		}
		want = append(want, "NodeDataChanged /app/a")
	}
	mustCreate(t, m, "/apple", nil, CreateOptions{}) // not below /app
	if err := m.Delete(ctx, "/app/seen", -1); err != nil {
		t.Fatal(err)
	}
	want = append(want, "NodeDeleted /app/seen")
	d.block(false)
	states.waitFor(t, StateConnected)

	got := nodeEvents(t, watch.Events(), len(want))
	var names []string
	var zxids []int64
	for _, ev := range got {
		names = append(names, fmt.Sprintf("%s %s", ev.Type, ev.Path))
		zxids = append(zxids, ev.Zxid)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("after reconnect got\n%v\nwant\n%v", names, want)
	}
	if !slices.IsSorted(zxids) || zxids[0] <= before[1].Zxid {
		t.Errorf("replayed zxids %v not ascending after the last seen %d", zxids, before[1].Zxid)
	}
	// Live again, and nothing was duplicated.
	mustCreate(t, m, "/app/after", nil, CreateOptions{})
	if ev := nodeEvents(t, watch.Events(), 1)[0]; ev.Path != "/app/after" || ev.Type != EventNodeCreated {
		t.Errorf("next event %v, want NodeCreated /app/after", ev)
	}
}
