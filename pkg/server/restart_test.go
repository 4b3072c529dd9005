package server

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/storage/badger"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// badgerServer is a server on a badger store, as `zkx serve` runs it.
type badgerServer struct {
	*Server
	store *badger.Store
}

// startBadgerServer opens the store in dir and serves it on a free port
// with a 50 ms tick and session timeouts from 100 ms to 10 s.
func startBadgerServer(t *testing.T, dir string) *badgerServer {
	t.Helper()
	store, err := badger.Open(dir, badger.Options{Sync: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	s, err := New(Options{
		Listen: "127.0.0.1:0", TickTime: 50 * time.Millisecond,
		MinSessionTimeout: 100 * time.Millisecond, MaxSessionTimeout: 10 * time.Second,
		Backend: store, Logger: testLogger(t),
	})
	if err != nil {
		store.Close()
		t.Fatalf("new server: %v", err)
	}
	if err := s.Start(); err != nil {
		store.Close()
		t.Fatal(err)
	}
	b := &badgerServer{Server: s, store: store}
	t.Cleanup(func() { b.stop(t) })
	return b
}

// stop shuts the server down as `zkx serve` does on SIGTERM: sessions stay
// stored, then the store is closed. It may be called more than once.
func (b *badgerServer) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if err := b.store.Close(); err != nil {
		t.Errorf("close store: %v", err)
	}
}

// newSession opens a raw client with a new session of the given timeout.
func newSession(t *testing.T, addr string, timeout int32) *rawClient {
	t.Helper()
	c := dialRaw(t, addr)
	resp, err := c.handshake(proto.ConnectRequest{TimeOut: timeout, Passwd: make([]byte, 16)})
	if err != nil || resp.TimeOut <= 0 {
		t.Fatalf("new session: %+v, %v", resp, err)
	}
	return c
}

// resume reconnects to the session of old, as a client library does
// after losing its connection, and reports whether the server accepted it.
func resume(t *testing.T, addr string, old *rawClient) (*rawClient, bool) {
	t.Helper()
	c := dialRaw(t, addr)
	resp, err := c.handshake(proto.ConnectRequest{
		TimeOut: old.resp.TimeOut, SessionID: old.resp.SessionID, Passwd: old.resp.Passwd, LastZxidSeen: old.lastZx,
	})
	if err != nil {
		t.Fatalf("resume session %#x: %v", old.resp.SessionID, err)
	}
	if resp.TimeOut > 0 && resp.SessionID != old.resp.SessionID {
		t.Fatalf("resume answered session %#x, want %#x", resp.SessionID, old.resp.SessionID)
	}
	c.lastZx = old.lastZx
	return c, resp.TimeOut > 0
}

func mustCall(t *testing.T, c *rawClient, op int32, req proto.Encodable, resp proto.Decodable) {
	t.Helper()
	if code := c.call(op, req, resp); code != 0 {
		t.Fatalf("%s: %s", proto.OpName(op), proto.CodeName(code))
	}
}

func createSeq(t *testing.T, c *rawClient, prefix string) string {
	t.Helper()
	var resp proto.CreateResponse
	mustCall(t, c, proto.OpCreate, &proto.CreateRequest{Path: prefix, ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModePersistentSequential)}, &resp)
	return resp.Path
}

// goneTimeout is the session timeout of TestRestartWithBadger's session
// that does not come back after the restart.
const goneTimeout = 2 * time.Second

// TestRestartWithBadger stops a badger-backed server and starts a new one
// on the same data directory, checking what clients would notice.
func TestRestartWithBadger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	appACL := []znode.ACL{
		{Perms: znode.PermRead | znode.PermCreate, ID: znode.AnyoneID},
		{Perms: znode.PermAll, ID: znode.ID{Scheme: "ip", ID: "10.0.0.0/8"}},
	}

	// First run.
	first := startBadgerServer(t, dir)
	owner := newSession(t, first.Addr().String(), 10000) // will come back in time
	mustCall(t, owner, proto.OpCreate, &proto.CreateRequest{Path: "/app", Data: []byte("config v0"), ACL: znode.OpenACLUnsafe}, nil)
	mustCall(t, owner, proto.OpSetData, &proto.SetDataRequest{Path: "/app", Data: []byte("config v1"), Version: -1}, nil)
	mustCall(t, owner, proto.OpSetACL, &proto.SetACLRequest{Path: "/app", ACL: appACL, Version: -1}, nil)
	for i := range 3 {
		if got, want := createSeq(t, owner, "/app/seq-"), fmt.Sprintf("/app/seq-%010d", i); got != want {
			t.Fatalf("sequential create %d made %s, want %s", i, got, want)
		}
	}
	mustCall(t, owner, proto.OpCreate, &proto.CreateRequest{Path: "/app/owner", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)}, nil)
	mustCall(t, owner, proto.OpCreate, &proto.CreateRequest{Path: "/null", Data: nil, ACL: znode.OpenACLUnsafe}, nil)
	mustCall(t, owner, proto.OpCreate, &proto.CreateRequest{Path: "/empty", Data: []byte{}, ACL: znode.OpenACLUnsafe}, nil)
	// The session that will not come back is opened only now, and with a
	// timeout of seconds: it must outlive its own create and the stop here,
	// and, restored by the next server, that server's start up to the
	// watcher's exists below. Those are synced commits, which a busy disk
	// can make take hundreds of milliseconds each.
	gone := newSession(t, first.Addr().String(), int32(goneTimeout.Milliseconds()))
	mustCall(t, gone, proto.OpCreate, &proto.CreateRequest{Path: "/lease", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)}, nil)
	var before proto.GetDataResponse
	mustCall(t, owner, proto.OpGetData, &proto.GetDataRequest{Path: "/app"}, &before)
	lastZxid := max(owner.lastZx, gone.lastZx)
	first.stop(t)

	// Second run: the state is back.
	second := startBadgerServer(t, dir)
	addr := second.Addr().String()
	watcher := newSession(t, addr, 10000)
	mustCall(t, watcher, proto.OpExists, &proto.ExistsRequest{Path: "/lease", Watch: true}, nil)

	owner2, ok := resume(t, addr, owner)
	if !ok {
		t.Fatalf("session %#x refused after the restart, within its timeout", owner.resp.SessionID)
	}

	t.Run("data, stat and ACL", func(t *testing.T) {
		var after proto.GetDataResponse
		mustCall(t, owner2, proto.OpGetData, &proto.GetDataRequest{Path: "/app"}, &after)
		if string(after.Data) != "config v1" || after.Stat != before.Stat {
			t.Errorf("/app after restart: %q %+v\nwant %q %+v", after.Data, after.Stat, "config v1", before.Stat)
		}
		var acl proto.GetACLResponse
		mustCall(t, owner2, proto.OpGetACL, &proto.GetACLRequest{Path: "/app"}, &acl)
		if !reflect.DeepEqual(acl.ACL, appACL) {
			t.Errorf("/app ACL after restart %+v, want %+v", acl.ACL, appACL)
		}
		for _, tc := range []struct {
			path    string
			wantLen int32
		}{{"/null", -1}, {"/empty", 0}} {
			// Null data reads back as a nil buffer, empty as empty.
			var r proto.GetDataResponse
			mustCall(t, owner2, proto.OpGetData, &proto.GetDataRequest{Path: tc.path}, &r)
			if (r.Data == nil) != (tc.wantLen == -1) || len(r.Data) != 0 {
				t.Errorf("%s after restart: data %#v, want length %d", tc.path, r.Data, tc.wantLen)
			}
		}
	})

	t.Run("sequential numbering continues", func(t *testing.T) {
		// Three sequential creates and /app/owner used counters 0 to 3.
		if got, want := createSeq(t, owner2, "/app/seq-"), "/app/seq-0000000004"; got != want {
			t.Errorf("first sequential create after restart made %s, want %s", got, want)
		}
	})

	t.Run("zxids keep increasing", func(t *testing.T) {
		var resp proto.SetDataResponse
		mustCall(t, owner2, proto.OpSetData, &proto.SetDataRequest{Path: "/empty", Data: []byte("second run"), Version: -1}, &resp)
		if resp.Stat.Mzxid <= lastZxid {
			t.Errorf("first write after restart has zxid %#x, not above %#x from before", resp.Stat.Mzxid, lastZxid)
		}
	})

	t.Run("expired session loses its ephemerals", func(t *testing.T) {
		deadline := time.Now().Add(goneTimeout + 10*time.Second)
		for len(watcher.pending) == 0 && time.Now().Before(deadline) {
			watcher.call(proto.OpPing, nil, nil)
			owner2.call(proto.OpPing, nil, nil)
			time.Sleep(20 * time.Millisecond)
		}
		if len(watcher.pending) != 1 || watcher.pending[0].Type != int32(znode.EventNodeDeleted) || watcher.pending[0].Path != "/lease" {
			t.Fatalf("watcher saw %+v, want NodeDeleted /lease", watcher.pending)
		}
		if code := watcher.call(proto.OpExists, &proto.ExistsRequest{Path: "/lease"}, nil); code != proto.Code(znode.ErrNoNode) {
			t.Errorf("exists /lease after expiry: %s, want NoNode", proto.CodeName(code))
		}
		if _, ok := resume(t, addr, gone); ok {
			t.Errorf("expired session %#x was resumed", gone.resp.SessionID)
		}
	})

	t.Run("resumed session keeps its ephemerals", func(t *testing.T) {
		var r proto.GetDataResponse
		mustCall(t, owner2, proto.OpGetData, &proto.GetDataRequest{Path: "/app/owner"}, &r)
		if r.Stat.EphemeralOwner != owner.resp.SessionID {
			t.Errorf("/app/owner is owned by %#x, want %#x", r.Stat.EphemeralOwner, owner.resp.SessionID)
		}
	})
	second.stop(t)

	// Third run: the expiry and the writes of the second run were stored.
	third := startBadgerServer(t, dir)
	owner3, ok := resume(t, third.Addr().String(), owner2)
	if !ok {
		t.Fatal("session refused after the second restart")
	}
	if code := owner3.call(proto.OpExists, &proto.ExistsRequest{Path: "/lease"}, nil); code != proto.Code(znode.ErrNoNode) {
		t.Errorf("/lease is back after the second restart: %s", proto.CodeName(code))
	}
	var r proto.GetDataResponse
	mustCall(t, owner3, proto.OpGetData, &proto.GetDataRequest{Path: "/empty"}, &r)
	if !bytes.Equal(r.Data, []byte("second run")) {
		t.Errorf("/empty after the second restart: %q, want %q", r.Data, "second run")
	}
	mustCall(t, owner3, proto.OpExists, &proto.ExistsRequest{Path: "/app/owner"}, nil)
}

// An ephemeral whose owning session was not stored cannot be resumed by
// any client; the server deletes it soon after starting.
func TestOrphanEphemeralsDeletedAtStart(t *testing.T) {
	backend := memory.New()
	const orphan = 0x77
	err := backend.Commit(context.Background(), storage.Batch{Zxid: 5, Puts: []storage.Node{
		{Path: "/", ACL: znode.OpenACLUnsafe, Cversion: 2, Pzxid: 5},
		{Path: "/orphan", ACL: znode.OpenACLUnsafe, EphemeralOwner: orphan, Czxid: 4, Mzxid: 4, Pzxid: 4},
		{Path: "/kept", ACL: znode.OpenACLUnsafe, Czxid: 5, Mzxid: 5, Pzxid: 5},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := startTestServer(t, func(o *Options) { o.Backend = backend })
	c := connectRaw(t, s.Addr().String())
	deadline := time.Now().Add(5 * time.Second)
	for c.call(proto.OpExists, &proto.ExistsRequest{Path: "/orphan"}, nil) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("/orphan still exists 5s after start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := c.call(proto.OpExists, &proto.ExistsRequest{Path: "/kept"}, nil); code != 0 {
		t.Errorf("exists /kept: %s", proto.CodeName(code))
	}
	nodes := map[string]bool{}
	if _, err := backend.Load(context.Background(), func(n storage.Node) error { nodes[n.Path] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if nodes["/orphan"] {
		t.Error("the orphan's deletion was not committed to storage")
	}
}

// TestReplaySurvivesRestart: a recursive watcher misses changes made both
// before and after a server restart; the durable change log lets the
// restarted server replay all of them, in order, when it re-arms.
func TestReplaySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	b1 := startBadgerServer(t, dir)
	w := newSession(t, b1.Addr().String(), 10000)
	m := newSession(t, b1.Addr().String(), 10000)
	mustCall(t, w, proto.OpAddWatch, &proto.AddWatchRequest{Path: "/app", Mode: int32(znode.AddWatchPersistentRecursive)}, nil)
	mustCall(t, m, proto.OpCreate, &proto.CreateRequest{Path: "/app", ACL: znode.OpenACLUnsafe}, nil)
	mustCall(t, m, proto.OpCreate, &proto.CreateRequest{Path: "/app/x", ACL: znode.OpenACLUnsafe}, nil)
	w.events()
	w.call(proto.OpPing, nil, nil)
	seen := w.lastZx
	w.nc.Close()
	mustCall(t, m, proto.OpSetData, &proto.SetDataRequest{Path: "/app/x", Data: []byte("1"), Version: -1}, nil)
	mustCall(t, m, proto.OpCreate, &proto.CreateRequest{Path: "/app/y", ACL: znode.OpenACLUnsafe}, nil)
	b1.stop(t)

	b2 := startBadgerServer(t, dir)
	m2, ok := resume(t, b2.Addr().String(), m)
	if !ok {
		t.Fatal("writer's session did not survive the restart")
	}
	mustCall(t, m2, proto.OpDelete, &proto.DeleteRequest{Path: "/app/x", Version: -1}, nil)
	r, ok := resume(t, b2.Addr().String(), w)
	if !ok {
		t.Fatal("watcher's session did not survive the restart")
	}
	got, zxids := setWatches2(t, r, seen)
	want := []string{"NodeDataChanged /app/x", "NodeCreated /app/y", "NodeDeleted /app/x"}
	if !slices.Equal(got, want) || !slices.IsSorted(zxids) {
		t.Errorf("replayed across restart %v (zxids %v), want %v in order", got, zxids, want)
	}
}
