package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// Errors returned by backends. Backends wrap them with %w.
var (
	// ErrClosed is returned by Commit and Load after Close.
	ErrClosed = errors.New("storage: backend closed")
	// ErrInvalidBatch is returned by Commit for a batch that names an
	// invalid path or session id; nothing of the batch is applied.
	ErrInvalidBatch = errors.New("storage: invalid batch")
)

// Node is everything needed to rebuild one znode.
//
// Unlike znode.Stat it holds the stored counters, not the client view:
// Cversion is the number of child creates ever made under the node (the
// sequential-name counter), and EphemeralOwner keeps the container and TTL
// markers (znode.ContainerOwner, znode.TTLOwnerMask|ttl). The child count
// and data length are derived when the tree is rebuilt.
type Node struct {
	Path string
	// Data is nil for a node created with null data, which is distinct from
	// empty data: clients see a buffer of length -1 for nil.
	Data []byte
	ACL  []znode.ACL

	Czxid int64
	Mzxid int64
	Ctime int64
	Mtime int64

	Version  int32
	Cversion int32 // stored create counter, not the client view
	Aversion int32

	EphemeralOwner int64 // stored value, including container and TTL markers
	Pzxid          int64
}

// Session is a persisted client session.
type Session struct {
	ID      int64
	Timeout int32 // negotiated timeout in milliseconds
	Passwd  []byte
}

// Batch is the persistent effect of one or more transactions.
type Batch struct {
	// Zxid is the highest zxid of the transactions in the batch.
	Zxid int64
	// Puts are the complete new states of created or changed nodes.
	Puts []Node
	// Deletes are the paths of removed nodes.
	Deletes []string
	// SessionPuts are created or changed sessions.
	SessionPuts []Session
	// SessionDeletes are the ids of closed or expired sessions.
	SessionDeletes []int64
	// Events are the watch events of the batch's transactions, in zxid
	// order. A backend that implements ChangeLog keeps them; others ignore
	// them.
	Events []znode.Event
}

// Empty reports whether b changes no node and no session. An empty batch
// still carries a zxid worth committing.
func (b *Batch) Empty() bool {
	return len(b.Puts) == 0 && len(b.Deletes) == 0 && len(b.SessionPuts) == 0 && len(b.SessionDeletes) == 0
}

// Validate checks the parts of b that every backend must reject: node
// paths must be non-empty and absolute, session ids non-zero. The error
// wraps ErrInvalidBatch.
func (b *Batch) Validate() error {
	for i := range b.Puts {
		if p := b.Puts[i].Path; p == "" || p[0] != '/' {
			return fmt.Errorf("%w: put of invalid path %q", ErrInvalidBatch, p)
		}
	}
	for _, p := range b.Deletes {
		if p == "" || p[0] != '/' {
			return fmt.Errorf("%w: delete of invalid path %q", ErrInvalidBatch, p)
		}
	}
	for i := range b.SessionPuts {
		if b.SessionPuts[i].ID == 0 {
			return fmt.Errorf("%w: put of session id 0", ErrInvalidBatch)
		}
	}
	for _, id := range b.SessionDeletes {
		if id == 0 {
			return fmt.Errorf("%w: delete of session id 0", ErrInvalidBatch)
		}
	}
	return nil
}

// State is the persisted state other than the nodes.
type State struct {
	// LastZxid is the largest zxid ever committed (0 for a new store).
	LastZxid int64
	// Sessions are the stored sessions, in no particular order.
	Sessions []Session
}

// Backend persists committed transactions. See the package documentation
// for the full contract.
//
// Concurrency: all methods are safe for concurrent use.
type Backend interface {
	// Load calls fn for every stored node (parents before children is NOT
	// promised) and returns the rest of the persisted state. It is called
	// once at startup. If fn returns an error, Load stops and returns it.
	Load(ctx context.Context, fn func(Node) error) (State, error)
	// Commit makes b durable (as the backend's sync option says) before
	// returning. Safe for concurrent use; implementations may group
	// concurrent commits. A batch is atomic.
	Commit(ctx context.Context, b Batch) error
	// Close releases the backend. Further calls return ErrClosed.
	Close() error
}

// StatsReporter is implemented by backends that write a log to disk, for
// monitoring (the server's mntr).
type StatsReporter interface {
	Stats() Stats
}

// Stats are a backend's counters since it was opened.
type Stats struct {
	// LogRecords is how many log records were written; each holds one
	// commit group and, with syncing on, costs one sync.
	LogRecords uint64
	// Commits is how many Commit calls those records held, so
	// Commits/LogRecords is the average commit group.
	Commits uint64
	// Syncs is how many syncs were done, taking SyncTotal in all, the
	// shortest SyncMin and the longest SyncMax.
	Syncs            uint64
	SyncTotal        time.Duration
	SyncMin, SyncMax time.Duration
}

// ChangeLog is implemented by backends that keep a durable, zxid-ordered
// log of the events each committed transaction produced (Batch.Events),
// bounded by a Retention. The reconnect replay window and the notifier
// plugins read it, so both survive a restart.
//
// The log has a horizon: events with a zxid at or below it may have been
// dropped (by retention, or because they predate the log). A reader that
// last saw zxid Z has a complete history iff Z >= horizon.
type ChangeLog interface {
	// Events calls fn, in zxid order, for every retained event with a zxid
	// greater than after, until fn returns false, and returns the horizon
	// as of the same consistent snapshot. Event.Data is the node's data
	// when the event was logged.
	Events(ctx context.Context, after int64, fn func(znode.Event) bool) (horizon int64, err error)
}

// Retention bounds a ChangeLog. The oldest transactions are dropped, each
// as a whole, as soon as any bound is passed. A zero field means the
// backend's default.
type Retention struct {
	MaxEvents int
	MaxBytes  int64
	MaxAge    time.Duration
}

// CloneNode returns a copy of n that shares no memory with it. Nil Data
// stays nil and empty Data stays empty.
func CloneNode(n Node) Node {
	n.Data = cloneBytes(n.Data)
	if n.ACL != nil {
		n.ACL = append(make([]znode.ACL, 0, len(n.ACL)), n.ACL...)
	}
	return n
}

// CloneSession returns a copy of s that shares no memory with it.
func CloneSession(s Session) Session {
	s.Passwd = cloneBytes(s.Passwd)
	return s
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
