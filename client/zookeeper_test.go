package client

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/test/harness"
)

// TestAgainstZooKeeper runs the AddWatch scenarios against a real Apache
// ZooKeeper 3.8 server (Debian's package). 3.8 sends notification zxid -1
// and keeps one watch mode per path (ZOOKEEPER-4466), so the scenarios do
// not compare zxids and never mix one-shot and persistent watches on one
// path. Each subtest runs in its own chroot.
func TestAgainstZooKeeper(t *testing.T) {
	harness.SkipIfShort(t)
	// This test runs beside the other packages' race-detector tests, so
	// the JVM and the client's pings can stall for seconds: a 1 s tick
	// lets ZooKeeper grant the 10 s sessions asked for (2 s sessions
	// expired in CI). No scenario here waits for an expiry.
	zk := harness.StartZooKeeper(t, harness.ZooKeeperOptions{TickTime: time.Second})
	const session = 10 * time.Second
	admin := connect(t, zk.Addr(), Options{SessionTimeout: session})
	n := 0
	chrooted := func(t *testing.T, opts Options) *Client {
		n++
		root := fmt.Sprintf("/t%d", n)
		mustCreate(t, admin, root, nil, CreateOptions{})
		opts.SessionTimeout = session
		return connect(t, zk.Addr()+root, opts)
	}

	t.Run("persistent basic", func(t *testing.T) {
		runPersistentBasic(t, chrooted(t, Options{}), false)
	})
	t.Run("recursive basic", func(t *testing.T) {
		runRecursiveBasic(t, chrooted(t, Options{}), false)
	})
	t.Run("notification zxid is -1", func(t *testing.T) {
		c := chrooted(t, Options{})
		w, err := c.AddWatch(testCtx(t), "/z", AddWatchPersistent)
		if err != nil {
			t.Fatal(err)
		}
		mustCreate(t, c, "/z", nil, CreateOptions{})
		if ev := nextEvent(t, w.Events()); ev.Type != EventNodeCreated || ev.Path != "/z" || ev.Zxid != -1 {
			t.Fatalf("got %v", ev)
		}
	})
	t.Run("recursive never sees NodeChildrenChanged", func(t *testing.T) {
		c := chrooted(t, Options{})
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
		mustCreate(t, c, "/a/b", nil, CreateOptions{})
		mustCreate(t, c, "/a/b/c", nil, CreateOptions{})
		if ev := nextEvent(t, childW); ev.Type != EventNodeChildrenChanged || ev.Path != "/a" {
			t.Fatalf("child watch got %v", ev)
		}
		checkEvents(t, nodeEvents(t, w.Events(), 2), []Event{
			{EventNodeCreated, StateConnected, "/a/b", 0},
			{EventNodeCreated, StateConnected, "/a/b/c", 0},
		}, false)
		noEvent(t, w.Events(), 200*time.Millisecond)
	})
	t.Run("stop", func(t *testing.T) {
		c := chrooted(t, Options{})
		ctx := testCtx(t)
		w, err := c.AddWatch(ctx, "/s", AddWatchPersistentRecursive)
		if err != nil {
			t.Fatal(err)
		}
		mustCreate(t, c, "/s", nil, CreateOptions{})
		if ev := nextEvent(t, w.Events()); ev.Type != EventNodeCreated {
			t.Fatalf("got %v", ev)
		}
		if err := w.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if ev := nextEvent(t, w.Events()); ev.Type != EventPersistentWatchRemoved || ev.Path != "/s" {
			t.Fatalf("got %v", ev)
		}
		if _, ok := <-w.Events(); ok {
			t.Fatal("channel not closed")
		}
		// The server no longer holds the watch (3.8 took the Any fallback).
		if err := c.CheckWatches(ctx, "/s", WatcherAny); !errors.Is(err, ErrNoWatcher) {
			t.Fatalf("CheckWatches after Stop: %v", err)
		}
	})
	t.Run("watches survive reconnect", func(t *testing.T) {
		var d cutter
		rec := newStateRecorder()
		c := chrooted(t, Options{Dialer: d.dial, OnState: rec.fn})
		ctx := testCtx(t)
		pw, err := c.AddWatch(ctx, "/p", AddWatchPersistent)
		if err != nil {
			t.Fatal(err)
		}
		rw, err := c.AddWatch(ctx, "/r", AddWatchPersistentRecursive)
		if err != nil {
			t.Fatal(err)
		}
		_, _, existW, _ := c.ExistsW(ctx, "/e")
		d.cut()
		rec.waitFor(t, StateDisconnected)
		rec.waitFor(t, StateConnected)
		mustCreate(t, c, "/p", nil, CreateOptions{})
		mustCreate(t, c, "/r", nil, CreateOptions{})
		mustCreate(t, c, "/r/x", nil, CreateOptions{})
		mustCreate(t, c, "/e", nil, CreateOptions{})
		if ev := nodeEvents(t, pw.Events(), 1)[0]; ev.Type != EventNodeCreated || ev.Path != "/p" {
			t.Fatalf("persistent got %v", ev)
		}
		if got := nodeEvents(t, rw.Events(), 2); got[0].Path != "/r" || got[1].Path != "/r/x" {
			t.Fatalf("recursive got %v", got)
		}
		if ev := nextEvent(t, existW); ev.Type != EventNodeCreated || ev.Path != "/e" {
			t.Fatalf("exist watch got %v", ev)
		}
	})
	t.Run("operations", func(t *testing.T) {
		c := chrooted(t, Options{})
		ctx := testCtx(t)
		res, err := c.Multi(ctx, CreateOp("/m", []byte("1"), CreateOptions{}), SetDataOp("/m", []byte("2"), 0))
		if err != nil || res[0].Path != "/m" || res[1].Stat.Version != 1 {
			t.Fatalf("multi %+v %v", res, err)
		}
		if _, err := c.Multi(ctx, DeleteOp("/nope", -1)); !errors.Is(err, ErrNoNode) {
			t.Fatalf("failing multi: %v", err)
		}
		if n, err := c.GetAllChildrenNumber(ctx, "/"); err != nil || n != 1 {
			t.Fatalf("GetAllChildrenNumber %d %v", n, err)
		}
		if ids, err := c.WhoAmI(ctx); err != nil || len(ids) == 0 {
			t.Fatalf("WhoAmI %v %v", ids, err)
		}
		if err := c.AddAuth(ctx, "digest", []byte("bob:pw")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Create(ctx, "/priv", nil, CreateOptions{ACL: CreatorAllACL}); err != nil {
			t.Fatal(err)
		}
		if acl, _, err := c.GetACL(ctx, "/priv"); err != nil || acl[0] != DigestACL(PermAll, "bob", "pw") {
			t.Fatalf("GetACL %v %v", acl, err)
		}
	})
}
