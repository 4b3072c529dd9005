package oneshot

import (
	"strconv"

	"github.com/zkx-dev/zkx/pkg/watch/internal/pairs"
)

// Kind selects one of the two one-shot tables.
type Kind uint8

const (
	// Data is the data table: watches set by exists and getData. The server
	// does not tell the two apart; both fire on NodeCreated, NodeDataChanged
	// and NodeDeleted of the watched path.
	Data Kind = iota
	// Child is the child table: watches set by getChildren. They fire on
	// NodeChildrenChanged and NodeDeleted of the watched path.
	Child

	numKinds = 2
)

// String returns "data" or "child", or "Kind(n)" for an unknown value.
func (k Kind) String() string {
	switch k {
	case Data:
		return "data"
	case Child:
		return "child"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is Data or Child.
func (k Kind) Valid() bool { return k < numKinds }

// Table holds the one-shot watches of both kinds.
//
// Concurrency: a Table is not safe for concurrent use. The server guards it,
// together with the persistent index, with one lock; every method, including
// the read-only ones, must be called with that lock held. The callback given
// to Trigger runs after the table has been updated and may call methods of
// the Table.
//
// The zero Table is empty and ready to use, as is the one New returns.
type Table struct {
	kinds [numKinds]pairs.Table
}

// New returns an empty Table.
func New() *Table { return &Table{} }

func (t *Table) kind(k Kind) *pairs.Table {
	if t == nil || !k.Valid() {
		return nil
	}
	return &t.kinds[k]
}

// Add registers a one-shot watch of kind k on path for watcher w. It
// returns false, and changes nothing, if w already watches path with that
// kind or k is not a valid Kind. Paths are compared as exact strings; the
// caller validates them.
func (t *Table) Add(k Kind, path string, w uint64) (added bool) {
	tb := t.kind(k)
	if tb == nil {
		return false
	}
	_, ch := tb.Add(path, w)
	return ch&pairs.Added != 0
}

// Trigger removes every watch of kind k on path and then calls fn once for
// each watcher that held one, in ascending watcher order. The watches are
// consumed before fn runs, so fn sees the table without them and may call
// any method of t. fn may be nil to just consume the watches.
//
// Trigger costs O(m log m) for m watchers on path and nothing else.
func (t *Table) Trigger(k Kind, path string, fn func(w uint64)) {
	if tb := t.kind(k); tb != nil {
		tb.Take(path, fn)
	}
}

// Remove removes the watch of kind k on path held by w. It reports whether
// there was one.
func (t *Table) Remove(k Kind, path string, w uint64) (removed bool) {
	tb := t.kind(k)
	return tb != nil && tb.Remove(path, w)&pairs.Removed != 0
}

// Contains reports whether w holds a watch of kind k on path.
func (t *Table) Contains(k Kind, path string, w uint64) bool {
	tb := t.kind(k)
	return tb != nil && tb.Contains(path, w)
}

// RemoveWatcher removes all watches of both kinds held by w, as when its
// connection closes. It costs O(number of w's watches).
func (t *Table) RemoveWatcher(w uint64) {
	for i := range t.kinds {
		t.kinds[i].RemoveWatcher(w, nil)
	}
}

// Paths returns the paths on which w holds a watch of kind k, sorted. It
// returns nil if there are none.
func (t *Table) Paths(k Kind, w uint64) []string {
	if tb := t.kind(k); tb != nil {
		return tb.Paths(w)
	}
	return nil
}

// Watchers returns the watchers holding a watch of kind k on path, in
// ascending order. It returns nil if there are none.
func (t *Table) Watchers(k Kind, path string) []uint64 {
	if tb := t.kind(k); tb != nil {
		return tb.Watchers(path)
	}
	return nil
}

// Len returns the number of (path, watcher) pairs of kind k.
func (t *Table) Len(k Kind) int {
	if tb := t.kind(k); tb != nil {
		return tb.Len()
	}
	return 0
}

// PathCount returns the number of distinct paths with a watch of kind k.
func (t *Table) PathCount(k Kind) int {
	if tb := t.kind(k); tb != nil {
		return tb.PathCount()
	}
	return 0
}

// WatcherCount returns the number of watchers holding a watch of kind k.
func (t *Table) WatcherCount(k Kind) int {
	if tb := t.kind(k); tb != nil {
		return tb.WatcherCount()
	}
	return 0
}
