package diff

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/zkx-dev/zkx/client"
)

// Persistent and recursive watch scenarios, driven by the zkx Go client
// (go-zookeeper has no addWatch). Only behaviour that ZooKeeper 3.8.0 and
// 3.9 share is compared; one connection holding several modes on one path
// and removeWatches with types 4 and 5 differ (README.md), and are tested
// against zkx alone in pkg/server's scripts and the client's tests.
func init() {
	scenarios = append(scenarios,
		scenario{"persistent_basic", persistentBasic},
		scenario{"recursive_basic", recursiveBasic},
		scenario{"persistent_multi_client", persistentMultiClient},
		scenario{"root_watches", rootWatches},
		scenario{"persistent_removal", persistentRemoval},
		scenario{"recursive_no_child_events", recursiveNoChildEvents},
	)
}

// zclient is a zkx client whose observations go to the transcript.
type zclient struct {
	e    *Env
	name string
	c    *client.Client
}

func (e *Env) ZkxClient(name string) *zclient {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, e.Addr, client.Options{SessionTimeout: 4 * time.Second})
	if err != nil {
		e.Fatalf("%s: connect: %v", name, err)
	}
	e.closers = append(e.closers, func() { c.Close() })
	return &zclient{e: e, name: name, c: c}
}

// ctx bounds each call; the calls are short, so the timer simply runs out.
func ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	time.AfterFunc(16*time.Second, cancel)
	return c
}

func (z *zclient) create(path string, data string) {
	p, _, err := z.c.Create(ctx(), path, []byte(data), client.CreateOptions{})
	z.e.Tx.Addf("%s create %s -> %s %s", z.name, path, p, errName(err))
}

func (z *zclient) set(path, data string) {
	_, err := z.c.Set(ctx(), path, []byte(data), -1)
	z.e.Tx.Addf("%s set %s -> %s", z.name, path, errName(err))
}

func (z *zclient) del(path string) {
	err := z.c.Delete(ctx(), path, -1)
	z.e.Tx.Addf("%s delete %s -> %s", z.name, path, errName(err))
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// addWatch arms a persistent or recursive watch and returns it.
func (z *zclient) addWatch(path string, mode client.AddWatchMode) *client.Watch {
	w, err := z.c.AddWatch(ctx(), path, mode)
	z.e.Tx.Addf("%s addWatch %s %s -> %s", z.name, path, mode, errName(err))
	if err != nil {
		z.e.Fatalf("addWatch: %v", err)
	}
	return w
}

// await records the next n node events of w (session events skipped), in
// order; it fails the scenario if they do not come.
func (z *zclient) await(label string, w *client.Watch, n int) {
	z.awaitCh(label, w.Events(), n)
}

func (z *zclient) awaitCh(label string, ch <-chan client.Event, n int) {
	deadline := time.After(10 * time.Second)
	for got := 0; got < n; {
		select {
		case ev, ok := <-ch:
			if !ok {
				z.e.Tx.Addf("%s %s: channel closed", z.name, label)
				return
			}
			if ev.Type == client.EventNone {
				continue
			}
			z.e.Tx.Addf("%s %s: %s %s", z.name, label, ev.Type, ev.Path)
			got++
		case <-deadline:
			z.e.Tx.Addf("%s %s: timed out after %d of %d events", z.name, label, got, n)
			return
		}
	}
}

// quiet records that w has nothing pending, after a round trip that
// flushes anything the server queued before it.
func (z *zclient) quiet(label string, w *client.Watch) {
	if _, err := z.c.Sync(ctx(), "/"); err != nil {
		z.e.Fatalf("sync: %v", err)
	}
	select {
	case ev := <-w.Events():
		z.e.Tx.Addf("%s %s: unexpected %s %s", z.name, label, ev.Type, ev.Path)
	case <-time.After(200 * time.Millisecond):
		z.e.Tx.Addf("%s %s: nothing more", z.name, label)
	}
}

// persistentBasic is PersistentWatcherTest.internalTestBasic.
func persistentBasic(e *Env) {
	a := e.ZkxClient("a")
	r := e.Root
	a.create(r, "")
	w := a.addWatch(r+"/a/b", client.AddWatchPersistent)
	a.create(r+"/a", "")
	a.create(r+"/a/b", "")
	a.create(r+"/a/b/c", "")
	a.set(r+"/a/b", "x")
	a.del(r + "/a/b/c")
	a.del(r + "/a/b")
	a.create(r+"/a/b", "")
	a.await("persistent", w, 6)
	a.create(r+"/a/b/c", "")
	a.set(r+"/a/b/c", "y") // below its children: not seen
	a.await("persistent", w, 1)
	a.quiet("persistent", w)
}

// recursiveBasic is PersistentRecursiveWatcherTest.internalTestBasic plus
// the sibling-prefix case.
func recursiveBasic(e *Env) {
	a := e.ZkxClient("a")
	r := e.Root
	a.create(r, "")
	w := a.addWatch(r+"/a/b", client.AddWatchPersistentRecursive)
	for _, p := range []string{"/a", "/a/b", "/a/b/c", "/a/b/c/d", "/a/b/c/d/e"} {
		a.create(r+p, "")
	}
	a.set(r+"/a/b/c/d/e", "x")
	a.del(r + "/a/b/c/d/e")
	a.create(r+"/a/b/c/d/e", "")
	a.set(r+"/a", "not below")
	a.create(r+"/a/bb", "sibling sharing the prefix")
	a.create(r+"/a/bb/c", "")
	a.await("recursive", w, 7)
	a.quiet("recursive", w)
}

// persistentMultiClient is testMultiClient: changes by any client reach a
// persistent watch, no re-arming needed.
func persistentMultiClient(e *Env) {
	a, b := e.ZkxClient("a"), e.ZkxClient("b")
	r := e.Root
	a.create(r, "")
	a.create(r+"/n", "")
	pw := a.addWatch(r+"/n", client.AddWatchPersistent)
	rw := b.addWatch(r, client.AddWatchPersistentRecursive)
	a.set(r+"/n", "1")
	for i := 2; i <= 4; i++ {
		b.set(r+"/n", fmt.Sprint(i))
	}
	a.await("persistent", pw, 4)
	b.await("recursive", rw, 4)
}

// rootWatches watches "/" both ways: the persistent one sees its own
// children change; the recursive one sees everything.
func rootWatches(e *Env) {
	a, b := e.ZkxClient("a"), e.ZkxClient("b")
	r := e.Root
	a.create(r, "")
	pw := a.addWatch(r, client.AddWatchPersistent)
	rw := b.addWatch(r, client.AddWatchPersistentRecursive)
	a.create(r+"/x", "")
	a.set(r+"/x", "1")
	a.create(r+"/y", "")
	a.create(r+"/y/z", "")
	a.await("persistent", pw, 2)
	a.quiet("persistent", pw)
	b.await("recursive", rw, 4)
}

// persistentRemoval is testRemoval: after removeWatches(Any) the client
// reports PersistentWatchRemoved and nothing more arrives.
func persistentRemoval(e *Env) {
	a := e.ZkxClient("a")
	r := e.Root
	a.create(r, "")
	w := a.addWatch(r+"/n", client.AddWatchPersistent)
	a.create(r+"/n", "")
	a.create(r+"/n/c", "")
	a.await("persistent", w, 2)
	err := a.c.RemoveWatches(ctx(), r+"/n", client.WatcherAny)
	e.Tx.Addf("a removeWatches %s any -> %s", r+"/n", errName(err))
	a.awaitCh("persistent", w.Events(), 1)
	a.del(r + "/n/c")
	a.del(r + "/n")
	err = a.c.CheckWatches(ctx(), r+"/n", client.WatcherAny)
	e.Tx.Addf("a checkWatches %s any -> %s", r+"/n", errName(err))
}

// recursiveNoChildEvents is testNoChildEvents: a recursive watch and a
// one-shot child watch below it on the same connection; the recursive
// watch never reports NodeChildrenChanged.
func recursiveNoChildEvents(e *Env) {
	a := e.ZkxClient("a")
	r := e.Root
	a.create(r, "")
	a.create(r+"/a", "")
	w := a.addWatch(r, client.AddWatchPersistentRecursive)
	_, _, ch, err := a.c.ChildrenW(ctx(), r+"/a")
	if err != nil {
		e.Fatalf("childrenW: %v", err)
	}
	a.create(r+"/a/b", "")
	a.create(r+"/a/b/c", "")
	a.awaitCh("child", ch, 1)
	a.await("recursive", w, 2)
	a.quiet("recursive", w)
}
