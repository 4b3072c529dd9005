package server

import (
	"fmt"
	"slices"
	"testing"

	"github.com/zkx-dev/zkx/pkg/changelog"
	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// disconnectAndMiss sets up a recursive watcher on /app that sees two
// events, disconnects it, makes changes it misses, and re-attaches its
// session on a new connection. It returns the new connection, the zxid the
// watcher had seen, and the missed events that match its watch.
func disconnectAndMiss(t *testing.T, s *Server) (*rawClient, int64, []string) {
	t.Helper()
	w := connectRaw(t, s.Addr().String())
	m := connectRaw(t, s.Addr().String())
	if code := w.call(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/app", Mode: int32(znode.AddWatchPersistentRecursive)}, nil); code != 0 {
		t.Fatal(proto.CodeName(code))
	}
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/app", ACL: znode.OpenACLUnsafe}, nil)
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/app/x", ACL: znode.OpenACLUnsafe}, nil)
	if evs := w.events(); len(evs) != 2 {
		t.Fatalf("watcher saw %d events before the disconnect, want 2", len(evs))
	}
	seen := w.lastZx
	w.nc.Close()

	m.call(proto.OpSetData, &proto.SetDataRequest{Path: "/app/x", Data: []byte("1"), Version: -1}, nil)
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/app/y", ACL: znode.OpenACLUnsafe}, nil)
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/apple", ACL: znode.OpenACLUnsafe}, nil) // not below /app
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/app/hidden", ACL: []znode.ACL{{Perms: znode.PermAll &^ znode.PermRead, ID: znode.AnyoneID}}}, nil)
	m.call(proto.OpDelete, &proto.DeleteRequest{Path: "/app/x", Version: -1}, nil)
	missed := []string{"NodeDataChanged /app/x", "NodeCreated /app/y", "NodeDeleted /app/x"}

	r := dialRaw(t, s.Addr().String())
	if _, err := r.handshake(proto.ConnectRequest{TimeOut: 30000, SessionID: w.resp.SessionID, Passwd: w.resp.Passwd, LastZxidSeen: seen}); err != nil {
		t.Fatal(err)
	}
	return r, seen, missed
}

func setWatches2(t *testing.T, r *rawClient, since int64) ([]string, []int64) {
	t.Helper()
	if code := r.call(proto.OpSetWatches2, &proto.SetWatches2{RelativeZxid: since, PersistentRecursiveWatches: []string{"/app"}}, nil); code != 0 {
		t.Fatalf("setWatches2: %s", proto.CodeName(code))
	}
	var got []string
	for _, ev := range r.pending {
		got = append(got, fmt.Sprintf("%s %s", znode.EventType(ev.Type), ev.Path))
	}
	zx := r.zxids
	r.pending, r.zxids = nil, nil
	return got, zx
}

func TestReplayWindowDeliversMissedEvents(t *testing.T) {
	s := startTestServer(t, nil)
	r, seen, missed := disconnectAndMiss(t, s)
	got, zxids := setWatches2(t, r, seen)
	if !slices.Equal(got, missed) {
		t.Fatalf("replayed %v, want %v", got, missed)
	}
	if !slices.IsSorted(zxids) || zxids[0] <= seen {
		t.Errorf("replayed zxids %v: want ascending and after %d", zxids, seen)
	}
	// The watch is armed again: new changes arrive once, live.
	m := connectRaw(t, s.Addr().String())
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/app/z", ACL: znode.OpenACLUnsafe}, nil)
	if evs := r.events(); len(evs) != 1 || evs[0].Path != "/app/z" {
		t.Errorf("after replay got %+v, want one NodeCreated /app/z", evs)
	}
}

func TestReplayDisabledBehavesLikeZooKeeper(t *testing.T) {
	s := startTestServer(t, func(o *Options) { o.DisableReplay = true })
	r, seen, _ := disconnectAndMiss(t, s)
	if got, _ := setWatches2(t, r, seen); len(got) != 0 {
		t.Errorf("replay disabled, but got %v", got)
	}
}

func TestReplayOutsideWindowSendsNothing(t *testing.T) {
	// Three events fit; the client missed more than that, so a partial
	// history would be a lie: nothing is replayed.
	s := startTestServer(t, func(o *Options) { o.ReplayWindow = changelog.Options{MaxEvents: 3} })
	r, seen, _ := disconnectAndMiss(t, s)
	if got, _ := setWatches2(t, r, seen); len(got) != 0 {
		t.Errorf("window overflowed, but got a partial replay %v", got)
	}
}

func TestEventSinkSeesDurableEventsInOrder(t *testing.T) {
	var got []string
	done := make(chan struct{}, 16)
	s := startTestServer(t, func(o *Options) {
		o.EventSink = func(evs []znode.Event) {
			for _, ev := range evs {
				got = append(got, fmt.Sprintf("%d %s %s v%d %q", ev.Zxid, ev.Type, ev.Path, ev.Version, ev.Data))
			}
			done <- struct{}{}
		}
	})
	c := connectRaw(t, s.Addr().String())
	c.call(proto.OpCreate, &proto.CreateRequest{Path: "/s", Data: []byte("a"), ACL: znode.OpenACLUnsafe}, nil)
	var st proto.SetDataResponse
	c.call(proto.OpSetData, &proto.SetDataRequest{Path: "/s", Data: []byte("b"), Version: -1}, &st)
	c.call(proto.OpDelete, &proto.DeleteRequest{Path: "/missing", Version: -1}, nil) // fails: no events
	<-done
	<-done
	z := st.Stat.Mzxid
	want := []string{
		fmt.Sprintf("%d NodeCreated /s v0 \"a\"", z-1),
		fmt.Sprintf("%d NodeChildrenChanged / v0 \"\"", z-1), // root: 2*1 creates - 2 children
		fmt.Sprintf("%d NodeDataChanged /s v1 \"b\"", z),
	}
	if !slices.Equal(got, want) {
		t.Errorf("sink saw\n%v\nwant\n%v", got, want)
	}
}
