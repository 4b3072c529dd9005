package client

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

func TestParseConnectString(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		addrs  []string
		chroot string
		err    bool
	}{
		{name: "single", in: "127.0.0.1:2181", addrs: []string{"127.0.0.1:2181"}},
		{name: "default port", in: "zk1,zk2:2182", addrs: []string{"zk1:2181", "zk2:2182"}},
		{name: "chroot", in: "a:1,b:2/app/x", addrs: []string{"a:1", "b:2"}, chroot: "/app/x"},
		{name: "root chroot is none", in: "a:1/", addrs: []string{"a:1"}},
		{name: "ipv6", in: "[::1]:2181,[::2]", addrs: []string{"[::1]:2181", "[::2]:2181"}},
		{name: "empty", in: "", err: true},
		{name: "bad chroot", in: "a:1/app/", err: true},
		{name: "bad port", in: "a:x", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addrs, chroot, err := parseConnectString(tt.in)
			if tt.err {
				if err == nil {
					t.Fatalf("want error, got %v %q", addrs, chroot)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(addrs, tt.addrs) || chroot != tt.chroot {
				t.Fatalf("got %v %q, want %v %q", addrs, chroot, tt.addrs, tt.chroot)
			}
		})
	}
}

func TestOperations(t *testing.T) {
	c := connect(t, startServer(t), Options{})
	ctx := testCtx(t)

	// Create in every mode that needs no server option.
	modes := []struct {
		name     string
		path     string
		opts     CreateOptions
		wantPath func(string) bool
	}{
		{"persistent", "/p", CreateOptions{}, func(p string) bool { return p == "/p" }},
		{"ephemeral", "/e", CreateOptions{Mode: ModeEphemeral}, func(p string) bool { return p == "/e" }},
		{"persistent sequential", "/seq-", CreateOptions{Mode: ModePersistentSequential}, func(p string) bool { return strings.HasPrefix(p, "/seq-") && len(p) == len("/seq-")+10 }},
		{"ephemeral sequential", "/eseq-", CreateOptions{Mode: ModeEphemeralSequential}, func(p string) bool { return strings.HasPrefix(p, "/eseq-") && len(p) == len("/eseq-")+10 }},
		{"container", "/box", CreateOptions{Mode: ModeContainer}, func(p string) bool { return p == "/box" }},
	}
	for _, m := range modes {
		t.Run("create "+m.name, func(t *testing.T) {
			p, st, err := c.Create(ctx, m.path, []byte("v"), m.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !m.wantPath(p) {
				t.Fatalf("path %q", p)
			}
			if st.Czxid == 0 || st.DataLength != 1 {
				t.Fatalf("stat %+v", st)
			}
			if m.opts.Mode.Ephemeral() != (st.EphemeralOwner == c.SessionID()) {
				t.Fatalf("ephemeralOwner %x, session %x", st.EphemeralOwner, c.SessionID())
			}
		})
	}

	t.Run("get set delete", func(t *testing.T) {
		mustCreate(t, c, "/d", nil, CreateOptions{})
		data, st, err := c.Get(ctx, "/d")
		if err != nil || data != nil || st.Version != 0 {
			t.Fatalf("Get null node: %q %+v %v", data, st, err)
		}
		st, err = c.Set(ctx, "/d", []byte("x"), 0)
		if err != nil || st.Version != 1 {
			t.Fatalf("Set: %+v %v", st, err)
		}
		data, _, _ = c.Get(ctx, "/d")
		if string(data) != "x" {
			t.Fatalf("data %q", data)
		}
		if _, err := c.Set(ctx, "/d", []byte("y"), 0); !errors.Is(err, ErrBadVersion) {
			t.Fatalf("stale Set: %v", err)
		}
		if err := c.Delete(ctx, "/d", 1); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := c.Exists(ctx, "/d"); ok || err != nil {
			t.Fatalf("Exists after delete: %v %v", ok, err)
		}
	})

	t.Run("empty data stays empty", func(t *testing.T) {
		mustCreate(t, c, "/empty", []byte{}, CreateOptions{})
		data, _, _ := c.Get(ctx, "/empty")
		if data == nil || len(data) != 0 {
			t.Fatalf("got %#v", data)
		}
	})

	t.Run("children and counts", func(t *testing.T) {
		mustCreate(t, c, "/kids", nil, CreateOptions{})
		for _, n := range []string{"a", "b", "c"} {
			mustCreate(t, c, "/kids/"+n, nil, CreateOptions{})
		}
		mustCreate(t, c, "/kids/a/deep", nil, CreateOptions{})
		names, st, err := c.Children(ctx, "/kids")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"a", "b", "c"}) || st.NumChildren != 3 {
			t.Fatalf("children %v, stat %+v", names, st)
		}
		n, err := c.GetAllChildrenNumber(ctx, "/kids")
		if err != nil || n != 4 {
			t.Fatalf("GetAllChildrenNumber = %d, %v", n, err)
		}
	})

	t.Run("acl", func(t *testing.T) {
		readAdmin := []ACL{{Perms: PermRead | PermAdmin, ID: ID{Scheme: "world", ID: "anyone"}}}
		mustCreate(t, c, "/acl", nil, CreateOptions{ACL: readAdmin})
		acl, st, err := c.GetACL(ctx, "/acl")
		if err != nil || !slices.Equal(acl, readAdmin) {
			t.Fatalf("GetACL: %v %v", acl, err)
		}
		if _, err := c.Set(ctx, "/acl", []byte("no"), -1); !errors.Is(err, ErrNoAuth) {
			t.Fatalf("Set on read-only node: %v", err)
		}
		st, err = c.SetACL(ctx, "/acl", OpenACLUnsafe, st.Aversion)
		if err != nil || st.Aversion != 1 {
			t.Fatalf("SetACL: %+v %v", st, err)
		}
		if _, err := c.Set(ctx, "/acl", []byte("ok"), -1); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("sync ephemerals whoami", func(t *testing.T) {
		if p, err := c.Sync(ctx, "/p"); err != nil || p != "/p" {
			t.Fatalf("Sync: %q %v", p, err)
		}
		eph, err := c.GetEphemerals(ctx, "/")
		if err != nil {
			t.Fatal(err)
		}
		if len(eph) != 2 || !slices.Contains(eph, "/e") {
			t.Fatalf("ephemerals %v", eph)
		}
		ids, err := c.WhoAmI(ctx)
		if err != nil || len(ids) == 0 || ids[0].AuthScheme != "ip" {
			t.Fatalf("WhoAmI: %v %v", ids, err)
		}
	})

	t.Run("multi commits", func(t *testing.T) {
		res, err := c.Multi(ctx,
			CreateOp("/m", []byte("1"), CreateOptions{}),
			CreateOp("/m/s-", nil, CreateOptions{Mode: ModePersistentSequential}),
			SetDataOp("/m", []byte("2"), 0),
			CheckOp("/m", 1),
		)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 4 || res[0].Path != "/m" || !strings.HasPrefix(res[1].Path, "/m/s-") || res[2].Stat.Version != 1 {
			t.Fatalf("results %+v", res)
		}
	})

	t.Run("multi fails atomically", func(t *testing.T) {
		res, err := c.Multi(ctx,
			CreateOp("/m2", nil, CreateOptions{}),
			DeleteOp("/missing", -1),
			SetDataOp("/m", nil, -1),
		)
		if !errors.Is(err, ErrNoNode) {
			t.Fatalf("err %v", err)
		}
		if res[0].Err != nil || !errors.Is(res[1].Err, ErrNoNode) || !errors.Is(res[2].Err, ErrRuntimeInconsistency) {
			t.Fatalf("results %+v", res)
		}
		if _, ok, _ := c.Exists(ctx, "/m2"); ok {
			t.Fatal("/m2 created by a failed multi")
		}
	})

	t.Run("multiRead", func(t *testing.T) {
		res, err := c.MultiRead(ctx, GetDataOp("/m"), GetChildrenOp("/m"), GetDataOp("/missing"))
		if err != nil {
			t.Fatal(err)
		}
		if string(res[0].Data) != "2" || len(res[1].Children) != 1 || !errors.Is(res[2].Err, ErrNoNode) {
			t.Fatalf("results %+v", res)
		}
	})
}

func TestTTLNode(t *testing.T) {
	// The in-process server runs without extended types, so TTL creates
	// are refused with Unimplemented, as ZooKeeper does.
	c := connect(t, startServer(t), Options{})
	_, _, err := c.Create(testCtx(t), "/ttl", nil, CreateOptions{Mode: ModePersistentWithTTL, TTL: time.Minute})
	if !errors.Is(err, ErrUnimplemented) {
		t.Fatalf("err %v", err)
	}
}

func TestErrorMapping(t *testing.T) {
	c := connect(t, startServer(t), Options{})
	ctx := testCtx(t)
	mustCreate(t, c, "/x", nil, CreateOptions{})
	mustCreate(t, c, "/x/y", nil, CreateOptions{})
	mustCreate(t, c, "/eph", nil, CreateOptions{Mode: ModeEphemeral})
	tests := []struct {
		name string
		call func() error
		want error
		code int32
	}{
		{"get missing", func() error { _, _, err := c.Get(ctx, "/nope"); return err }, ErrNoNode, proto.CodeNoNode},
		{"create existing", func() error { _, _, err := c.Create(ctx, "/x", nil, CreateOptions{}); return err }, ErrNodeExists, proto.CodeNodeExists},
		{"create without parent", func() error { _, _, err := c.Create(ctx, "/a/b", nil, CreateOptions{}); return err }, ErrNoNode, proto.CodeNoNode},
		{"delete non-empty", func() error { return c.Delete(ctx, "/x", -1) }, ErrNotEmpty, proto.CodeNotEmpty},
		{"delete bad version", func() error { return c.Delete(ctx, "/x/y", 7) }, ErrBadVersion, proto.CodeBadVersion},
		{"child of ephemeral", func() error { _, _, err := c.Create(ctx, "/eph/c", nil, CreateOptions{}); return err }, ErrNoChildrenForEphemerals, proto.CodeNoChildrenForEphemerals},
		{"empty acl", func() error { _, _, err := c.Create(ctx, "/z", nil, CreateOptions{ACL: []ACL{}}); return err }, ErrInvalidACL, proto.CodeInvalidACL},
		{"bad path", func() error { _, _, err := c.Get(ctx, "no-slash"); return err }, ErrBadArguments, proto.CodeBadArguments},
		{"trailing slash", func() error { _, _, err := c.Create(ctx, "/x/", nil, CreateOptions{}); return err }, ErrBadArguments, proto.CodeBadArguments},
		{"ttl without ttl mode", func() error {
			_, _, err := c.Create(ctx, "/t", nil, CreateOptions{TTL: time.Second})
			return err
		}, ErrBadArguments, proto.CodeBadArguments},
		{"remove missing watch", func() error { return c.RemoveWatches(ctx, "/x", WatcherData) }, ErrNoWatcher, proto.CodeNoWatcher},
		{"check missing watch", func() error { return c.CheckWatches(ctx, "/x", WatcherAny) }, ErrNoWatcher, proto.CodeNoWatcher},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if proto.Code(err) != tt.code {
				t.Fatalf("proto.Code(%v) = %d, want %d", err, proto.Code(err), tt.code)
			}
		})
	}
	// The client sentinels are the znode ones.
	if !errors.Is(func() error { _, _, err := c.Get(ctx, "/nope"); return err }(), znode.ErrNoNode) {
		t.Fatal("client error does not match znode.ErrNoNode")
	}
}

func TestOneShotFanOut(t *testing.T) {
	addr := startServer(t)
	c := connect(t, addr, Options{})
	other := connect(t, addr, Options{})
	ctx := testCtx(t)

	// exist watch on a missing node: NodeCreated.
	_, ok, created, err := c.ExistsW(ctx, "/n")
	if err != nil || ok {
		t.Fatalf("ExistsW missing: %v %v", ok, err)
	}
	_, st := mustCreate(t, other, "/n", []byte("a"), CreateOptions{})
	if ev := nextEvent(t, created); ev.Type != EventNodeCreated || ev.Path != "/n" || ev.Zxid != st.Czxid || ev.State != StateConnected {
		t.Fatalf("got %+v", ev)
	}

	// data, exist and child watch on one node.
	_, _, dataW, _ := c.GetW(ctx, "/n")
	_, _, existW, _ := c.ExistsW(ctx, "/n")
	_, _, childW, _ := c.ChildrenW(ctx, "/n")
	_, _, dataW2, _ := c.GetW(ctx, "/n")

	// setData: data and exist watches, not the child watch.
	if _, err := other.Set(ctx, "/n", []byte("b"), -1); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan Event{"data": dataW, "exist": existW, "data2": dataW2} {
		if ev := nextEvent(t, ch); ev.Type != EventNodeDataChanged || ev.Path != "/n" {
			t.Fatalf("%s watch got %+v", name, ev)
		}
	}
	noEvent(t, childW, 100*time.Millisecond)

	// Creating a child: only the child watch.
	_, _, dataW, _ = c.GetW(ctx, "/n")
	mustCreate(t, other, "/n/k", nil, CreateOptions{})
	if ev := nextEvent(t, childW); ev.Type != EventNodeChildrenChanged || ev.Path != "/n" {
		t.Fatalf("child watch got %+v", ev)
	}
	noEvent(t, dataW, 100*time.Millisecond)

	// Deleting: one notification from the server goes to the data, exist
	// and child watchers.
	_, _, existW, _ = c.ExistsW(ctx, "/n/k")
	_, _, kidDataW, _ := c.GetW(ctx, "/n/k")
	_, _, kidChildW, _ := c.ChildrenW(ctx, "/n/k")
	_, _, childW, _ = c.ChildrenW(ctx, "/n")
	if err := other.Delete(ctx, "/n/k", -1); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan Event{"exist": existW, "data": kidDataW, "child": kidChildW} {
		if ev := nextEvent(t, ch); ev.Type != EventNodeDeleted || ev.Path != "/n/k" {
			t.Fatalf("%s watch got %+v", name, ev)
		}
	}
	if ev := nextEvent(t, childW); ev.Type != EventNodeChildrenChanged || ev.Path != "/n" {
		t.Fatalf("parent child watch got %+v", ev)
	}
	// One-shot: nothing more, even after another change.
	if _, err := other.Set(ctx, "/n", []byte("c"), -1); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, dataW); ev.Type != EventNodeDataChanged {
		t.Fatalf("data watch got %+v", ev)
	}
	for _, ch := range []<-chan Event{existW, kidDataW, kidChildW, childW} {
		noEvent(t, ch, 50*time.Millisecond)
	}

	// A failed getData leaves no watch; a NoNode exists does.
	if _, _, ch, err := c.GetW(ctx, "/gone"); !errors.Is(err, ErrNoNode) || ch != nil {
		t.Fatalf("GetW missing: %v %v", ch, err)
	}
}

// TestAddWatchPersistent mirrors PersistentWatcherTest.internalTestBasic.
func TestAddWatchPersistent(t *testing.T) {
	addr := startServer(t)
	runPersistentBasic(t, connect(t, addr, Options{}), true)
}

func runPersistentBasic(t *testing.T, c *Client, withZxid bool) {
	ctx := testCtx(t)
	w, err := c.AddWatch(ctx, "/a/b", AddWatchPersistent)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop(ctx)
	mustCreate(t, c, "/a", nil, CreateOptions{})
	_, stB := mustCreate(t, c, "/a/b", nil, CreateOptions{})
	_, stC := mustCreate(t, c, "/a/b/c", nil, CreateOptions{})
	stSet, err := c.Set(ctx, "/a/b", []byte("x"), -1)
	if err != nil {
		t.Fatal(err)
	}
	must[struct{}](t)(struct{}{}, c.Delete(ctx, "/a/b/c", -1))
	must[struct{}](t)(struct{}{}, c.Delete(ctx, "/a/b", -1))
	_, stB2 := mustCreate(t, c, "/a/b", nil, CreateOptions{})

	want := []Event{
		{EventNodeCreated, StateConnected, "/a/b", stB.Czxid},
		{EventNodeChildrenChanged, StateConnected, "/a/b", stC.Czxid},
		{EventNodeDataChanged, StateConnected, "/a/b", stSet.Mzxid},
		{EventNodeChildrenChanged, StateConnected, "/a/b", -2},
		{EventNodeDeleted, StateConnected, "/a/b", -2},
		{EventNodeCreated, StateConnected, "/a/b", stB2.Czxid},
	}
	checkEvents(t, nodeEvents(t, w.Events(), len(want)), want, withZxid)
}

// checkEvents compares type and path, and zxid when withZxid (a want zxid
// of -2 means "any positive").
func checkEvents(t *testing.T, got, want []Event, withZxid bool) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		ok := g.Type == w.Type && g.Path == w.Path && g.State == w.State
		if withZxid {
			if w.Zxid == -2 {
				ok = ok && g.Zxid > 0
			} else {
				ok = ok && g.Zxid == w.Zxid
			}
		}
		if !ok {
			t.Fatalf("event %d: got %v, want %v\nall: %v", i, g, w, got)
		}
	}
}

// TestAddWatchRecursive mirrors PersistentRecursiveWatcherTest.internalTestBasic.
func TestAddWatchRecursive(t *testing.T) {
	runRecursiveBasic(t, connect(t, startServer(t), Options{}), true)
}

func runRecursiveBasic(t *testing.T, c *Client, withZxid bool) {
	ctx := testCtx(t)
	w, err := c.AddWatch(ctx, "/a/b", AddWatchPersistentRecursive)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop(ctx)
	mustCreate(t, c, "/a", nil, CreateOptions{})
	var want []Event
	for _, p := range []string{"/a/b", "/a/b/c", "/a/b/c/d", "/a/b/c/d/e"} {
		_, st := mustCreate(t, c, p, nil, CreateOptions{})
		want = append(want, Event{EventNodeCreated, StateConnected, p, st.Mzxid})
	}
	st, err := c.Set(ctx, "/a/b/c/d/e", []byte("x"), -1)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, Event{EventNodeDataChanged, StateConnected, "/a/b/c/d/e", st.Mzxid})
	must[struct{}](t)(struct{}{}, c.Delete(ctx, "/a/b/c/d/e", -1))
	dst, _, _ := c.Exists(ctx, "/a/b/c/d")
	want = append(want, Event{EventNodeDeleted, StateConnected, "/a/b/c/d/e", dst.Pzxid})
	_, st = mustCreate(t, c, "/a/b/c/d/e", nil, CreateOptions{})
	want = append(want, Event{EventNodeCreated, StateConnected, "/a/b/c/d/e", st.Mzxid})

	checkEvents(t, nodeEvents(t, w.Events(), len(want)), want, withZxid)
	noEvent(t, w.Events(), 100*time.Millisecond)
}

// TestRecursiveNoChildEvents mirrors PersistentRecursiveWatcherTest
// testNoChildEvents: a one-shot child watch below a recursive watch makes
// the server send NodeChildrenChanged, which only the child watch sees.
func TestRecursiveNoChildEvents(t *testing.T) {
	c := connect(t, startServer(t), Options{})
	ctx := testCtx(t)
	mustCreate(t, c, "/a", nil, CreateOptions{})
	w, err := c.AddWatch(ctx, "/", AddWatchPersistentRecursive)
	if err != nil {
		t.Fatal(err)
	}
	_, _, childW, err := c.ChildrenW(ctx, "/a")
	if err != nil {
		t.Fatal(err)
	}
	_, stB := mustCreate(t, c, "/a/b", nil, CreateOptions{})
	_, stC := mustCreate(t, c, "/a/b/c", nil, CreateOptions{})
	if ev := nextEvent(t, childW); ev.Type != EventNodeChildrenChanged || ev.Path != "/a" || ev.Zxid != stB.Czxid {
		t.Fatalf("child watch got %v", ev)
	}
	checkEvents(t, nodeEvents(t, w.Events(), 2), []Event{
		{EventNodeCreated, StateConnected, "/a/b", stB.Czxid},
		{EventNodeCreated, StateConnected, "/a/b/c", stC.Czxid},
	}, true)
	noEvent(t, w.Events(), 100*time.Millisecond)
}

func TestWatchStop(t *testing.T) {
	addr := startServer(t)
	c := connect(t, addr, Options{})
	ctx := testCtx(t)
	for _, mode := range []AddWatchMode{AddWatchPersistent, AddWatchPersistentRecursive} {
		t.Run(mode.String(), func(t *testing.T) {
			path := "/stop-" + mode.String()
			w, err := c.AddWatch(ctx, path, mode)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.CheckWatches(ctx, path, mode.watcherType()); err != nil {
				t.Fatalf("CheckWatches before Stop: %v", err)
			}
			mustCreate(t, c, path, nil, CreateOptions{})
			if ev := nextEvent(t, w.Events()); ev.Type != EventNodeCreated {
				t.Fatalf("got %v", ev)
			}
			if err := w.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if ev := nextEvent(t, w.Events()); ev.Type != EventPersistentWatchRemoved || ev.Path != path || ev.Zxid != -1 {
				t.Fatalf("got %v, want PersistentWatchRemoved", ev)
			}
			if _, ok := <-w.Events(); ok {
				t.Fatal("channel not closed after PersistentWatchRemoved")
			}
			if _, err := c.Set(ctx, path, []byte("x"), -1); err != nil {
				t.Fatal(err)
			}
			if err := c.CheckWatches(ctx, path, mode.watcherType()); !errors.Is(err, ErrNoWatcher) {
				t.Fatalf("CheckWatches after Stop: %v", err)
			}
			if err := w.Stop(ctx); err != nil {
				t.Fatalf("second Stop: %v", err)
			}
		})
	}

	t.Run("shared server watch", func(t *testing.T) {
		w1, _ := c.AddWatch(ctx, "/shared", AddWatchPersistent)
		w2, _ := c.AddWatch(ctx, "/shared", AddWatchPersistent)
		if err := w1.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, c, "/shared", nil, CreateOptions{})
		if ev := nextEvent(t, w2.Events()); ev.Type != EventNodeCreated {
			t.Fatalf("remaining watch got %v", ev)
		}
		if ev := nextEvent(t, w1.Events()); ev.Type != EventPersistentWatchRemoved {
			t.Fatalf("stopped watch got %v", ev)
		}
		w2.Stop(ctx)
	})
}

func TestRemoveWatches(t *testing.T) {
	c := connect(t, startServer(t), Options{})
	ctx := testCtx(t)
	mustCreate(t, c, "/r", nil, CreateOptions{})
	_, _, dataW, _ := c.GetW(ctx, "/r")
	_, _, existW, _ := c.ExistsW(ctx, "/r")
	_, _, childW, _ := c.ChildrenW(ctx, "/r")
	pw, _ := c.AddWatch(ctx, "/r", AddWatchPersistent)
	rw, _ := c.AddWatch(ctx, "/r", AddWatchPersistentRecursive)

	if err := c.RemoveWatches(ctx, "/r", WatcherData); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan Event{dataW, existW} {
		if ev := nextEvent(t, ch); ev.Type != EventDataWatchRemoved || ev.Path != "/r" {
			t.Fatalf("got %v", ev)
		}
	}
	if err := c.RemoveWatches(ctx, "/r", WatcherData); !errors.Is(err, ErrNoWatcher) {
		t.Fatalf("second removal: %v", err)
	}
	// The child watch and the persistent watches are untouched.
	mustCreate(t, c, "/r/k", nil, CreateOptions{})
	if ev := nextEvent(t, childW); ev.Type != EventNodeChildrenChanged {
		t.Fatalf("child watch got %v", ev)
	}
	if ev := nextEvent(t, pw.Events()); ev.Type != EventNodeChildrenChanged {
		t.Fatalf("persistent watch got %v", ev)
	}
	if ev := nextEvent(t, rw.Events()); ev.Type != EventNodeCreated || ev.Path != "/r/k" {
		t.Fatalf("recursive watch got %v", ev)
	}
	_, _, childW, _ = c.ChildrenW(ctx, "/r")
	if err := c.RemoveWatches(ctx, "/r", WatcherAny); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, childW); ev.Type != EventChildWatchRemoved {
		t.Fatalf("got %v", ev)
	}
	for _, w := range []*Watch{pw, rw} {
		if ev := nextEvent(t, w.Events()); ev.Type != EventPersistentWatchRemoved {
			t.Fatalf("got %v", ev)
		}
		if _, ok := <-w.Events(); ok {
			t.Fatal("channel not closed")
		}
	}
}

func TestChroot(t *testing.T) {
	addr := startServer(t)
	root := connect(t, addr, Options{})
	ctx := testCtx(t)
	mustCreate(t, root, "/app", nil, CreateOptions{})
	c := connect(t, addr+"/app", Options{})

	w, err := c.AddWatch(ctx, "/", AddWatchPersistentRecursive)
	if err != nil {
		t.Fatal(err)
	}
	_, _, childW, _ := c.ChildrenW(ctx, "/")
	p, _ := mustCreate(t, c, "/x-", []byte("1"), CreateOptions{Mode: ModeEphemeralSequential})
	if !strings.HasPrefix(p, "/x-") {
		t.Fatalf("created %q", p)
	}
	if _, _, err := root.Get(ctx, "/app"+p); err != nil {
		t.Fatalf("node not under the chroot: %v", err)
	}
	if ev := nextEvent(t, w.Events()); ev.Path != p || ev.Type != EventNodeCreated {
		t.Fatalf("recursive got %v", ev)
	}
	if ev := nextEvent(t, childW); ev.Path != "/" || ev.Type != EventNodeChildrenChanged {
		t.Fatalf("child watch got %v", ev)
	}
	eph, err := c.GetEphemerals(ctx, "/")
	if err != nil || !slices.Equal(eph, []string{p}) {
		t.Fatalf("ephemerals %v %v", eph, err)
	}
	if sp, err := c.Sync(ctx, "/"); err != nil || sp != "/" {
		t.Fatalf("Sync = %q %v", sp, err)
	}
	res, err := c.Multi(ctx, CreateOp("/m", nil, CreateOptions{}))
	if err != nil || res[0].Path != "/m" {
		t.Fatalf("multi %+v %v", res, err)
	}
	// A change outside the chroot is not seen.
	mustCreate(t, root, "/outside", nil, CreateOptions{})
	if ev := nextEvent(t, w.Events()); ev.Path != "/m" {
		t.Fatalf("got %v", ev)
	}
	noEvent(t, w.Events(), 100*time.Millisecond)
}

func TestDigestAuth(t *testing.T) {
	addr := startServer(t)
	c := connect(t, addr, Options{})
	ctx := testCtx(t)
	if err := c.AddAuth(ctx, "digest", []byte("alice:secret")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, "/mine", []byte("s"), CreateOptions{ACL: CreatorAllACL})
	acl, _, err := c.GetACL(ctx, "/mine")
	if err != nil || len(acl) != 1 || acl[0] != DigestACL(PermAll, "alice", "secret") {
		t.Fatalf("ACL %v %v, want %v", acl, err, DigestACL(PermAll, "alice", "secret"))
	}
	ids, _ := c.WhoAmI(ctx)
	if !slices.Contains(ids, ClientInfo{AuthScheme: "digest", User: "alice"}) {
		t.Fatalf("WhoAmI %v", ids)
	}
	other := connect(t, addr, Options{})
	if _, _, err := other.Get(ctx, "/mine"); !errors.Is(err, ErrNoAuth) {
		t.Fatalf("other client: %v", err)
	}
	if err := other.AddAuth(ctx, "digest", []byte("alice:secret")); err != nil {
		t.Fatal(err)
	}
	if data, _, err := other.Get(ctx, "/mine"); err != nil || !bytes.Equal(data, []byte("s")) {
		t.Fatalf("after AddAuth: %q %v", data, err)
	}
}

func TestCloseEndsSession(t *testing.T) {
	addr := startServer(t)
	rec := newStateRecorder()
	c := connect(t, addr, Options{OnState: rec.fn})
	other := connect(t, addr, Options{})
	ctx := testCtx(t)
	mustCreate(t, c, "/eph", nil, CreateOptions{Mode: ModeEphemeral})
	w, _ := c.AddWatch(ctx, "/x", AddWatchPersistent)
	_, _, oneShotW, _ := c.ExistsW(ctx, "/y")
	// Once Close has returned, a watch channel still offers its final
	// event only for a short grace (abortGrace), so read them as a
	// consumer does: already waiting while Close runs.
	persistent, oneShot := firstEvent(w.Events()), firstEvent(oneShotW)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, StateClosed)
	if _, ok, _ := other.Exists(ctx, "/eph"); ok {
		t.Fatal("ephemeral survived Close")
	}
	if _, _, err := c.Get(ctx, "/"); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	if ev := nextEvent(t, persistent); ev.Type != EventNone || ev.State != StateClosed {
		t.Fatalf("watch got %v", ev)
	}
	if ev := nextEvent(t, oneShot); ev.Type != EventNone || ev.State != StateClosed {
		t.Fatalf("one-shot got %v", ev)
	}
	if c.Close() != nil {
		t.Fatal("second Close")
	}
}
