// Package memory is the in-memory storage.Backend: maps behind a mutex.
//
// It keeps the committed state for as long as the Store value lives and
// nothing after that, so it is not durable across a restart. It is the
// default for development and tests, and the reference implementation of
// the contract in pkg/storage.
package memory

import (
	"context"
	"fmt"
	"sync"

	"github.com/zkx-dev/zkx/pkg/storage"
)

// Store is an in-memory storage.Backend. Every value going in or out is
// copied, so callers never alias the stored state.
//
// Concurrency: all methods are safe for concurrent use; a Commit is applied
// under one lock, which makes it atomic with respect to Load.
type Store struct {
	mu       sync.Mutex
	nodes    map[string]storage.Node
	sessions map[int64]storage.Session
	lastZxid int64
	closed   bool
}

var _ storage.Backend = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		nodes:    make(map[string]storage.Node),
		sessions: make(map[int64]storage.Session),
	}
}

// Load calls fn for a copy of every stored node, in no particular order,
// and returns a copy of the sessions and the last zxid. fn is called
// without the store's lock held, on a snapshot taken when Load started.
func (s *Store) Load(ctx context.Context, fn func(storage.Node) error) (storage.State, error) {
	if err := ctx.Err(); err != nil {
		return storage.State{}, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return storage.State{}, fmt.Errorf("memory: load: %w", storage.ErrClosed)
	}
	nodes := make([]storage.Node, 0, len(s.nodes))
	for _, n := range s.nodes {
		nodes = append(nodes, storage.CloneNode(n))
	}
	st := storage.State{LastZxid: s.lastZxid}
	if len(s.sessions) > 0 {
		st.Sessions = make([]storage.Session, 0, len(s.sessions))
		for _, ss := range s.sessions {
			st.Sessions = append(st.Sessions, storage.CloneSession(ss))
		}
	}
	s.mu.Unlock()

	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			return storage.State{}, err
		}
		if err := fn(n); err != nil {
			return storage.State{}, err
		}
	}
	return st, nil
}

// Commit applies b atomically. It returns ctx's error, without applying
// anything, if ctx is already done.
func (s *Store) Commit(ctx context.Context, b storage.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("memory: commit: %w", err)
	}
	// Copy outside the lock; only map updates happen under it.
	puts := make([]storage.Node, len(b.Puts))
	for i := range b.Puts {
		puts[i] = storage.CloneNode(b.Puts[i])
	}
	sputs := make([]storage.Session, len(b.SessionPuts))
	for i := range b.SessionPuts {
		sputs[i] = storage.CloneSession(b.SessionPuts[i])
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memory: commit: %w", storage.ErrClosed)
	}
	for _, p := range b.Deletes {
		delete(s.nodes, p)
	}
	for _, n := range puts {
		s.nodes[n.Path] = n
	}
	for _, id := range b.SessionDeletes {
		delete(s.sessions, id)
	}
	for _, ss := range sputs {
		s.sessions[ss.ID] = ss
	}
	s.lastZxid = max(s.lastZxid, b.Zxid)
	return nil
}

// Close marks the store closed and drops its state. It is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.nodes = nil
	s.sessions = nil
	return nil
}
