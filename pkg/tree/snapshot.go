package tree

import (
	"sync"

	"github.com/zkx-dev/zkx/pkg/storage"
)

// Snapshot writes the tree as it was at one instant while the tree goes on
// changing, holding the caller's lock only for short stretches: a raft
// snapshot of a million nodes copied under the server's lock would stop
// every client for over a second.
//
// It walks the live node map in chunks, releasing the lock between them.
// Until it is done, every successful transaction first hands the snapshot
// the pre-images of the nodes it changed (from its undo journal): the
// state at the snapshot's instant, or "absent" for a node created since.
// The walk writes a node's pre-image when it has one and its current state
// otherwise, marking the node as written (node.snapGen) so that a later
// change does not save a second copy; at the end it writes the pre-images
// of nodes deleted before the walk reached them. Each node of the instant
// is written exactly once and nothing created later is written.
//
// Only one Snapshot may be open on a tree at a time.
type Snapshot struct {
	t   *Tree
	gen uint32
	pre map[string]*preImage
}

type preImage struct {
	rec     storage.Node
	absent  bool // created after the snapshot's instant
	written bool
}

// StartSnapshot opens a Snapshot of the tree as it is now. The caller
// holds the lock that guards the tree, and must then call Each or Close.
// It returns nil while another snapshot is open.
func (t *Tree) StartSnapshot() *Snapshot {
	if t.snap != nil {
		return nil
	}
	t.snapGens++
	s := &Snapshot{t: t, gen: t.snapGens, pre: make(map[string]*preImage)}
	t.snap = s
	return s
}

// capture records the pre-images of what a transaction changed, from its
// journal (oldest entry first, so the first entry of a path is its state
// before the transaction).
func (s *Snapshot) capture(journal []undo) {
	for i := range journal {
		u := &journal[i]
		switch u.kind {
		case undoCreate:
			s.save(u.path, nil, true)
			pp, _ := splitPath(u.path)
			s.save(pp, &u.prev, false)
		case undoDelete:
			s.save(u.path, u.n, false)
			pp, _ := splitPath(u.path)
			s.save(pp, &u.prev, false)
		case undoUpdate:
			s.save(u.path, &u.prev, false)
		}
	}
}

func (s *Snapshot) save(path string, prev *node, absent bool) {
	if _, ok := s.pre[path]; ok {
		return // the first change since the instant holds the pre-image
	}
	if !absent && prev.snapGen == s.gen {
		return // already written as it was at the instant
	}
	pi := &preImage{absent: absent}
	if !absent {
		pi.rec = prev.record(path)
	}
	s.pre[path] = pi
}

// Each calls fn for every node of the snapshot's instant, in no particular
// order, taking lock around each stretch of the walk and calling fn
// without it. It closes the snapshot; it returns fn's first error.
func (s *Snapshot) Each(lock sync.Locker, fn func(storage.Node) error) error {
	const chunk = 2048
	buf := make([]storage.Node, 0, chunk)
	var ferr error
	flush := func() {
		lock.Unlock()
		for i := range buf {
			if ferr == nil {
				ferr = fn(buf[i])
			}
		}
		buf = buf[:0]
		lock.Lock()
	}
	lock.Lock()
	defer func() {
		if s.t.snap == s {
			s.t.snap = nil
		}
		lock.Unlock()
	}()
	for p, n := range s.t.nodes {
		if ferr != nil {
			break
		}
		if pi := s.pre[p]; pi != nil {
			if pi.absent || pi.written {
				continue
			}
			pi.written = true
			buf = append(buf, pi.rec)
		} else if n.snapGen != s.gen {
			n.snapGen = s.gen
			buf = append(buf, n.record(p))
		}
		if len(buf) == chunk {
			flush()
		}
	}
	for _, pi := range s.pre {
		if !pi.absent && !pi.written {
			pi.written = true
			buf = append(buf, pi.rec)
		}
	}
	s.t.snap = nil
	lock.Unlock()
	for i := range buf {
		if ferr == nil {
			ferr = fn(buf[i])
		}
	}
	lock.Lock()
	return ferr
}

// Close abandons a snapshot that will not be walked (or has been). The
// caller holds the lock that guards the tree.
func (s *Snapshot) Close() {
	if s.t.snap == s {
		s.t.snap = nil
	}
}
