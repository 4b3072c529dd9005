package client

import (
	"context"
	"errors"
	"sync"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// watchManager is the client-side registry of watches, keyed by server
// path (chroot included), the form SetWatches and notifications use. It
// mirrors the Java client's ZKWatchManager: three one-shot tables (data,
// exist, child) and two persistent ones. Every method is safe for
// concurrent use; deliveries are made under mu, and never block, so the
// order of events per watch is the order the reader saw them in.
type watchManager struct {
	mu         sync.Mutex
	data       map[string][]chan Event
	exist      map[string][]chan Event
	child      map[string][]chan Event
	persistent map[string][]*Watch
	recursive  map[string][]*Watch
	// terminal is set once the session ended; nothing registers after.
	terminal *Event
}

func newWatchManager() *watchManager {
	return &watchManager{
		data:       map[string][]chan Event{},
		exist:      map[string][]chan Event{},
		child:      map[string][]chan Event{},
		persistent: map[string][]*Watch{},
		recursive:  map[string][]*Watch{},
	}
}

// oneShotKind names the one-shot table a read registers in.
type oneShotKind int

const (
	kindData oneShotKind = iota
	kindExist
	kindChild
)

func (m *watchManager) table(k oneShotKind) map[string][]chan Event {
	switch k {
	case kindData:
		return m.data
	case kindExist:
		return m.exist
	}
	return m.child
}

// addOneShot registers ch under spath. After the session ended it
// delivers the terminal event instead.
func (m *watchManager) addOneShot(k oneShotKind, spath string, ch chan Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.terminal != nil {
		sendOnce(ch, *m.terminal)
		return
	}
	t := m.table(k)
	t[spath] = append(t[spath], ch)
}

// addPersistent registers w. It reports false after the session ended.
func (m *watchManager) addPersistent(w *Watch) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.terminal != nil {
		return false
	}
	t := m.persistentTable(w.mode)
	t[w.spath] = append(t[w.spath], w)
	return true
}

func (m *watchManager) persistentTable(mode AddWatchMode) map[string][]*Watch {
	if mode == AddWatchPersistentRecursive {
		return m.recursive
	}
	return m.persistent
}

// sendOnce delivers to a one-shot channel. The channel has room for one
// event and each is sent at most one, so this never blocks.
func sendOnce(ch chan Event, ev Event) {
	select {
	case ch <- ev:
	default:
	}
}

// dispatch routes one server notification, following the Java client's
// materialize rules: NodeCreated and NodeDataChanged go to data and exist
// watches, NodeDeleted to data, exist and child watches,
// NodeChildrenChanged to child watches; one-shot watches are consumed.
// Persistent watches on the path get every type; recursive watches on the
// path or an ancestor get every type except NodeChildrenChanged, which the
// server may send for a one-shot child watch on the same connection (the
// ZooKeeper 3.9 client filters it the same way).
func (m *watchManager) dispatch(spath string, ev Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	take := func(t map[string][]chan Event) {
		for _, ch := range t[spath] {
			sendOnce(ch, ev)
		}
		delete(t, spath)
	}
	switch ev.Type {
	case EventNodeCreated, EventNodeDataChanged:
		take(m.data)
		take(m.exist)
	case EventNodeDeleted:
		take(m.data)
		take(m.exist)
		take(m.child)
	case EventNodeChildrenChanged:
		take(m.child)
	default:
		return
	}
	for _, w := range m.persistent[spath] {
		w.mb.put(ev)
	}
	if ev.Type == EventNodeChildrenChanged || len(m.recursive) == 0 {
		return
	}
	for p := spath; p != ""; p = znode.Parent(p) {
		for _, w := range m.recursive[p] {
			w.mb.put(ev)
		}
	}
}

// session delivers a non-terminal session event (Disconnected,
// Connected) to persistent watches. One-shot watches fire only once, so
// they are told only about the end of the session.
func (m *watchManager) session(ev Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range []map[string][]*Watch{m.persistent, m.recursive} {
		for _, ws := range t {
			for _, w := range ws {
				w.mb.put(ev)
			}
		}
	}
}

// terminate delivers the terminal session event to every watch, closes
// the persistent ones, and empties the registry.
func (m *watchManager) terminate(ev Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.terminal != nil {
		return
	}
	m.terminal = &ev
	for _, t := range []map[string][]chan Event{m.data, m.exist, m.child} {
		for p, chs := range t {
			for _, ch := range chs {
				sendOnce(ch, ev)
			}
			delete(t, p)
		}
	}
	for _, t := range []map[string][]*Watch{m.persistent, m.recursive} {
		for p, ws := range t {
			for _, w := range ws {
				w.mb.close(&ev)
			}
			delete(t, p)
		}
	}
}

// snapshot lists the watched server paths for SetWatches, in the order
// the batches are filled: data, exist, child, persistent, recursive.
func (m *watchManager) snapshot() (data, exist, child, persistent, recursive []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := func(t map[string][]chan Event) []string {
		out := make([]string, 0, len(t))
		for p := range t {
			out = append(out, p)
		}
		return out
	}
	wkeys := func(t map[string][]*Watch) []string {
		out := make([]string, 0, len(t))
		for p := range t {
			out = append(out, p)
		}
		return out
	}
	return keys(m.data), keys(m.exist), keys(m.child), wkeys(m.persistent), wkeys(m.recursive)
}

// removeLocal removes the local watches of type typ on spath and delivers
// the client-generated removal events, as the Java client does once the
// server accepted a removeWatches. It reports whether anything was
// removed.
func (m *watchManager) removeLocal(spath, cpath string, typ WatcherType) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	removed := false
	oneShots := func(t map[string][]chan Event, et EventType) {
		for _, ch := range t[spath] {
			sendOnce(ch, Event{Type: et, State: StateConnected, Path: cpath, Zxid: -1})
			removed = true
		}
		delete(t, spath)
	}
	persistents := func(t map[string][]*Watch) {
		for _, w := range t[spath] {
			w.mb.close(&Event{Type: EventPersistentWatchRemoved, State: StateConnected, Path: cpath, Zxid: -1})
			removed = true
		}
		delete(t, spath)
	}
	switch typ {
	case WatcherChildren:
		oneShots(m.child, EventChildWatchRemoved)
	case WatcherData:
		oneShots(m.data, EventDataWatchRemoved)
		oneShots(m.exist, EventDataWatchRemoved)
	case WatcherPersistent:
		persistents(m.persistent)
	case WatcherPersistentRecursive:
		persistents(m.recursive)
	case WatcherAny:
		oneShots(m.child, EventChildWatchRemoved)
		oneShots(m.data, EventDataWatchRemoved)
		oneShots(m.exist, EventDataWatchRemoved)
		persistents(m.persistent)
		persistents(m.recursive)
	}
	return removed
}

// hasLocal reports whether any local watch of type typ exists on spath.
func (m *watchManager) hasLocal(spath string, typ WatcherType) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch typ {
	case WatcherChildren:
		return len(m.child[spath]) > 0
	case WatcherData:
		return len(m.data[spath])+len(m.exist[spath]) > 0
	case WatcherPersistent:
		return len(m.persistent[spath]) > 0
	case WatcherPersistentRecursive:
		return len(m.recursive[spath]) > 0
	case WatcherAny:
		return len(m.child[spath])+len(m.data[spath])+len(m.exist[spath])+
			len(m.persistent[spath])+len(m.recursive[spath]) > 0
	}
	return false
}

// detach removes one persistent watch. It reports whether w was still
// registered and whether it was the last local watch of its mode on the
// path (the server-side watch is shared by all of them).
func (m *watchManager) detach(w *Watch) (found, last bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.persistentTable(w.mode)
	ws := t[w.spath]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			found = true
			break
		}
	}
	if !found {
		return false, false
	}
	if len(ws) == 0 {
		delete(t, w.spath)
		return true, true
	}
	t[w.spath] = ws
	return true, false
}

// Watch is a persistent or persistent-recursive watch set by AddWatch. It
// stays registered, across reconnects, until Stop, RemoveWatches or the
// end of the session.
//
// Events are queued without bound inside the client, so a slow reader
// never stalls the connection; read Events until it is closed. The
// channel is closed after a final event: PersistentWatchRemoved after
// Stop or RemoveWatches, or a None event with State Expired, AuthFailed
// or Closed when the session ends. Between, it also carries None events
// for Disconnected and Connected: events that happen while disconnected
// are not replayed by the server, so a consumer that keeps a view of the
// tree should re-read it on Connected.
//
// A Watch is safe for concurrent use.
type Watch struct {
	c     *Client
	path  string // client path
	spath string // server path
	mode  AddWatchMode
	mb    *mailbox
}

// Events returns the channel the watch's events arrive on.
func (w *Watch) Events() <-chan Event { return w.mb.out }

// Path returns the watched path, relative to the chroot.
func (w *Watch) Path() string { return w.path }

// Mode returns the watch's mode.
func (w *Watch) Mode() AddWatchMode { return w.mode }

// Stop removes the watch: no event after it is delivered, then a
// PersistentWatchRemoved event, then the channel is closed. When this is
// the last local watch of its mode on the path, Stop asks the server to
// remove its watch (removeWatches with type Persistent or
// PersistentRecursive). Against a ZooKeeper 3.8 server, which knows
// neither type, Stop falls back to type Any when no other local watch is
// on the path, and otherwise leaves the server watch to lapse at the next
// reconnect; events it still causes are dropped. While disconnected no
// request is needed, as the watch is not re-registered. The local removal
// happens whatever the outcome of the request; the returned error only
// reports it. Stopping twice is a no-op.
func (w *Watch) Stop(ctx context.Context) error {
	found, last := w.c.watches.detach(w)
	if !found {
		return nil
	}
	w.mb.close(&Event{Type: EventPersistentWatchRemoved, State: StateConnected, Path: w.path, Zxid: -1})
	if !last || w.c.State() != StateConnected {
		// While disconnected there is nothing to remove: the server drops
		// a connection's watches with it, and the next SetWatches no
		// longer lists this one.
		return nil
	}
	err := w.c.removeWatchesRPC(ctx, w.spath, w.mode.watcherType())
	if errors.Is(err, ErrMarshalling) || errors.Is(err, ErrUnimplemented) {
		if w.c.watches.hasLocal(w.spath, WatcherAny) {
			return nil
		}
		err = w.c.removeWatchesRPC(ctx, w.spath, WatcherAny)
	}
	switch {
	case err == nil, errors.Is(err, ErrNoWatcher), errors.Is(err, ErrConnectionLoss):
		// Gone on the server, or it will be at the next reconnect, since
		// it is no longer in the list SetWatches replays.
		return nil
	}
	return wrapOp(proto.OpRemoveWatches, w.path, err)
}
