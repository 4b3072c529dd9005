package recipe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkx-dev/zkx/client"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// callTimeout bounds each read the cache makes on its own behalf.
const callTimeout = 10 * time.Second

// ChangeType says how a cached node changed.
type ChangeType int

const (
	// NodeAdded: the node appeared in the cache.
	NodeAdded ChangeType = iota + 1
	// NodeUpdated: the node's data or Stat changed.
	NodeUpdated
	// NodeRemoved: the node left the cache.
	NodeRemoved
)

func (t ChangeType) String() string {
	switch t {
	case NodeAdded:
		return "NodeAdded"
	case NodeUpdated:
		return "NodeUpdated"
	case NodeRemoved:
		return "NodeRemoved"
	}
	return fmt.Sprintf("ChangeType(%d)", int(t))
}

// Change is one change to the cache. Data and Stat are the node's new
// values (its last values for NodeRemoved).
type Change struct {
	Type ChangeType
	Path string
	Data []byte
	Stat client.Stat
}

type cachedNode struct {
	data     []byte
	stat     client.Stat
	children map[string]struct{}
}

// TreeCache is an in-memory copy of the subtree under a root path, kept
// current by one persistent-recursive watch. It is safe for concurrent
// use.
type TreeCache struct {
	c    *client.Client
	root string

	mu    sync.RWMutex
	nodes map[string]*cachedNode

	changes *queue[Change]
	w       *client.Watch
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewTreeCache returns a cache of the subtree at root; call Start.
func NewTreeCache(c *client.Client, root string) *TreeCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &TreeCache{
		c:       c,
		root:    root,
		nodes:   map[string]*cachedNode{},
		changes: newQueue[Change](),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
}

// Start sets the recursive watch, loads the subtree (the root need not
// exist yet), and keeps the cache current until Close or the end of the
// client's session. The initial load is reported as NodeAdded changes.
func (t *TreeCache) Start(ctx context.Context) error {
	if err := znode.ValidatePath(t.root); err != nil {
		return fmt.Errorf("recipe: tree cache root: %w", err)
	}
	w, err := t.c.AddWatch(ctx, t.root, client.AddWatchPersistentRecursive)
	if err != nil {
		return fmt.Errorf("recipe: tree cache watch: %w", err)
	}
	t.w = w
	if err := t.rebuild(ctx); err != nil {
		w.Stop(ctx)
		return err
	}
	go t.loop()
	return nil
}

// Changes returns the channel changes are reported on, in order. It is
// closed after Close or when the session ends.
func (t *TreeCache) Changes() <-chan Change { return t.changes.out }

// Get returns a cached node's data and Stat.
func (t *TreeCache) Get(path string) ([]byte, client.Stat, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, ok := t.nodes[path]
	if !ok {
		return nil, client.Stat{}, false
	}
	return n.data, n.stat, true
}

// Children returns the sorted names of a cached node's children.
func (t *TreeCache) Children(path string) ([]string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, ok := t.nodes[path]
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(n.children))
	for name := range n.children {
		out = append(out, name)
	}
	slices.Sort(out)
	return out, true
}

// Close stops the watch and the cache; the Changes channel is closed once
// drained.
func (t *TreeCache) Close(ctx context.Context) error {
	t.cancel()
	var err error
	if t.w != nil {
		err = t.w.Stop(ctx)
		<-t.done
	} else {
		t.changes.close()
	}
	return err
}

func (t *TreeCache) loop() {
	defer close(t.done)
	defer t.changes.close()
	for ev := range t.w.Events() {
		if t.ctx.Err() != nil {
			continue // drain until Stop closes the channel
		}
		ctx, cancel := context.WithTimeout(t.ctx, callTimeout)
		switch ev.Type {
		case client.EventNodeCreated, client.EventNodeDataChanged:
			t.refresh(ctx, ev.Path)
		case client.EventNodeDeleted:
			t.remove(ev.Path)
		case client.EventNone:
			if ev.State == client.StateConnected {
				// Events missed while disconnected are not replayed.
				t.rebuild(ctx)
			}
		}
		cancel()
	}
}

// refresh re-reads one node and links it to its parent.
func (t *TreeCache) refresh(ctx context.Context, path string) {
	data, st, err := t.c.Get(ctx, path)
	if errors.Is(err, client.ErrNoNode) {
		t.remove(path)
		return
	}
	if err != nil {
		return // the connection is in trouble; the rebuild on reconnect repairs it
	}
	t.mu.Lock()
	n, existed := t.nodes[path]
	if !existed {
		n = &cachedNode{children: map[string]struct{}{}}
		t.nodes[path] = n
		if p, ok := t.nodes[znode.Parent(path)]; ok && path != t.root {
			p.children[znode.Base(path)] = struct{}{}
		}
	}
	changed := !existed || n.stat != st || !bytes.Equal(n.data, data)
	n.data, n.stat = data, st
	t.mu.Unlock()
	switch {
	case !existed:
		t.changes.put(Change{Type: NodeAdded, Path: path, Data: data, Stat: st})
	case changed:
		t.changes.put(Change{Type: NodeUpdated, Path: path, Data: data, Stat: st})
	}
}

// remove drops a node and everything below it.
func (t *TreeCache) remove(path string) {
	t.mu.Lock()
	var gone []Change
	for p, n := range t.nodes {
		if p == path || strings.HasPrefix(p, path+"/") || path == "/" {
			gone = append(gone, Change{Type: NodeRemoved, Path: p, Data: n.data, Stat: n.stat})
			delete(t.nodes, p)
		}
	}
	if p, ok := t.nodes[znode.Parent(path)]; ok {
		delete(p.children, znode.Base(path))
	}
	t.mu.Unlock()
	// Deepest first, so a child is reported before its parent.
	slices.SortFunc(gone, func(a, b Change) int { return strings.Compare(b.Path, a.Path) })
	for _, ch := range gone {
		t.changes.put(ch)
	}
}

// rebuild walks the subtree, replaces the cache with what it found and
// reports the differences.
func (t *TreeCache) rebuild(ctx context.Context) error {
	fresh := map[string]*cachedNode{}
	if err := t.walk(ctx, t.root, fresh); err != nil {
		return fmt.Errorf("recipe: tree cache load: %w", err)
	}
	t.mu.Lock()
	old := t.nodes
	t.nodes = fresh
	t.mu.Unlock()
	var out []Change
	for p, n := range fresh {
		o, ok := old[p]
		switch {
		case !ok:
			out = append(out, Change{Type: NodeAdded, Path: p, Data: n.data, Stat: n.stat})
		case o.stat != n.stat || !bytes.Equal(o.data, n.data):
			out = append(out, Change{Type: NodeUpdated, Path: p, Data: n.data, Stat: n.stat})
		}
	}
	for p, o := range old {
		if _, ok := fresh[p]; !ok {
			out = append(out, Change{Type: NodeRemoved, Path: p, Data: o.data, Stat: o.stat})
		}
	}
	// Parents before children for additions; the order of paths is a
	// good enough approximation and keeps the output deterministic.
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	for _, ch := range out {
		t.changes.put(ch)
	}
	return nil
}

func (t *TreeCache) walk(ctx context.Context, path string, into map[string]*cachedNode) error {
	data, st, err := t.c.Get(ctx, path)
	if errors.Is(err, client.ErrNoNode) {
		return nil // deleted meanwhile; its NodeDeleted event follows
	}
	if err != nil {
		return err
	}
	names, _, err := t.c.Children(ctx, path)
	if errors.Is(err, client.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	n := &cachedNode{data: data, stat: st, children: map[string]struct{}{}}
	into[path] = n
	for _, name := range names {
		child := znode.Join(path, name)
		if err := t.walk(ctx, child, into); err != nil {
			return err
		}
		if _, ok := into[child]; ok {
			n.children[name] = struct{}{}
		}
	}
	return nil
}
