package badger

import (
	"context"
	"errors"
	"fmt"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/zkx-dev/zkx/pkg/storage"
)

// maxGroup caps how many waiting commits the committer puts into one
// badger transaction, which bounds the memory of one group; beyond it the
// next group follows immediately.
const maxGroup = 512

// op is one key write of a batch: a set of key to val, or a delete.
type op struct {
	key   []byte
	val   []byte
	del   bool
	event bool // a change-log record (changelog.go)
}

// request is one Commit waiting for the committer.
type request struct {
	ops  []op
	zxid int64
	seq  uint64 // the WAL record that holds it
	done chan error
}

// Commit makes b durable (synced to disk when Options.Sync is set) and
// atomic. The batch is encoded in the caller's goroutine, which copies it,
// and handed to the committer, which writes every commit waiting at that
// moment in one badger transaction followed by one sync; each caller gets
// the result of its own batch. A batch larger than one badger transaction
// is staged and applied as described in the package documentation, so it
// is atomic too. Once a batch is handed over it is written even if ctx
// ends; Commit then still waits for the result.
func (s *Store) Commit(ctx context.Context, b storage.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return fmt.Errorf("badger: commit: %w", storage.ErrClosed)
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("badger: commit: %w", err)
	}
	r := &request{ops: encodeBatch(&b), zxid: b.Zxid, done: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.stop:
		return fmt.Errorf("badger: commit: %w", storage.ErrClosed)
	}
	return <-r.done
}

// encodeBatch turns b into key writes in the order the contract applies
// them: node deletes, node puts, session deletes, session puts. All keys
// and values share one buffer.
func encodeBatch(b *storage.Batch) []op {
	size := 0
	for _, p := range b.Deletes {
		size += len(nodePrefix) + len(p)
	}
	for i := range b.Puts {
		size += len(nodePrefix) + len(b.Puts[i].Path) + nodeSize(&b.Puts[i])
	}
	size += (len(b.SessionDeletes) + len(b.SessionPuts)) * (len(sessionPrefix) + 8)
	for i := range b.SessionPuts {
		size += sessionSize(&b.SessionPuts[i])
	}
	buf := make([]byte, 0, size)
	ops := make([]op, 0, len(b.Deletes)+len(b.Puts)+len(b.SessionDeletes)+len(b.SessionPuts))
	// cut returns buf[start:] with its capacity clipped, so later appends
	// never write into it.
	cut := func(start int) []byte { return buf[start:len(buf):len(buf)] }

	for _, p := range b.Deletes {
		start := len(buf)
		buf = nodeKey(buf, p)
		ops = append(ops, op{key: cut(start), del: true})
	}
	for i := range b.Puts {
		n := &b.Puts[i]
		start := len(buf)
		buf = nodeKey(buf, n.Path)
		key := cut(start)
		start = len(buf)
		buf = appendNode(buf, n)
		ops = append(ops, op{key: key, val: cut(start)})
	}
	for _, id := range b.SessionDeletes {
		start := len(buf)
		buf = sessionKey(buf, id)
		ops = append(ops, op{key: cut(start), del: true})
	}
	for i := range b.SessionPuts {
		ss := &b.SessionPuts[i]
		start := len(buf)
		buf = sessionKey(buf, ss.ID)
		key := cut(start)
		start = len(buf)
		buf = appendSession(buf, ss)
		ops = append(ops, op{key: key, val: cut(start)})
	}
	return encodeEvents(ops, b.Events)
}

// committer is the single writer: it takes the first waiting request,
// gathers every other one already waiting, and writes them as one group.
func (s *Store) committer() {
	defer s.wg.Done()
	group := make([]*request, 0, maxGroup)
	for {
		select {
		case <-s.stop:
			return
		case r := <-s.reqs:
			group = append(group[:0], r)
		}
	gather:
		for len(group) < maxGroup {
			select {
			case r := <-s.reqs:
				group = append(group, r)
			default:
				break gather
			}
		}
		s.logGroup(group)
		clear(group)
	}
}

// logGroup makes a group durable: one WAL record, one fdatasync (with
// Options.Sync). The callers get their answer as soon as it is on disk;
// the applier writes badger later.
func (s *Store) logGroup(group []*request) {
	var err error
	if s.failed != nil {
		err = fmt.Errorf("badger: commit to %s refused: an earlier batch could not be applied, restart zkx to recover it: %w", s.dir, s.failed)
	} else {
		var ops []op
		var zxid int64
		for _, r := range group {
			ops = append(ops, r.ops...)
			zxid = max(zxid, r.zxid)
		}
		seq := s.walSeq + 1
		if err = s.wal.append(seq, encodeGroup(zxid, ops)); err != nil {
			err = fmt.Errorf("badger: commit to %s: write-ahead log: %w", s.dir, err)
		} else {
			s.walSeq = seq
			for _, r := range group {
				r.seq = seq
			}
			s.enqueueApply(group)
		}
	}
	for _, r := range group {
		r.done <- err
	}
}

// writeGroup writes the group to badger in one transaction. When that is
// too big for badger, each request is written on its own, and a request
// too big by itself is staged. It stops at the first error.
func (s *Store) writeGroup(group []*request) error {
	if s.failed != nil {
		return fmt.Errorf("badger: apply to %s refused: an earlier batch could not be applied, restart zkx to recover it: %w", s.dir, s.failed)
	}
	err := s.writeTxn(group)
	if !errors.Is(err, bdg.ErrTxnTooBig) {
		if err != nil {
			return fmt.Errorf("badger: write to %s: %w", s.dir, err)
		}
		return nil
	}
	for i, r := range group {
		err := bdg.ErrTxnTooBig
		if len(group) > 1 {
			err = s.writeTxn(group[i : i+1])
		}
		if errors.Is(err, bdg.ErrTxnTooBig) {
			err = s.writeStaged(r)
		}
		if err != nil {
			return fmt.Errorf("badger: write to %s: %w", s.dir, err)
		}
	}
	// The fallbacks did not record the WAL position; do it now.
	seq := group[len(group)-1].seq
	if seq == 0 {
		return nil
	}
	return s.db.Update(func(txn *bdg.Txn) error { return txn.Set(keyWalSeq, bytesInt64(int64(seq))) })
}

// writeTxn writes the requests' operations and the new last zxid in one
// badger transaction. With Options.Sync, badger syncs before txn.Commit
// returns. It returns bdg.ErrTxnTooBig, having written nothing, when the
// operations do not fit.
func (s *Store) writeTxn(group []*request) error {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	zxid := s.lastZxid
	var seq uint64
	for _, r := range group {
		for i := range r.ops {
			if err := setOp(txn, &r.ops[i]); err != nil {
				return err
			}
		}
		zxid = max(zxid, r.zxid)
		seq = max(seq, r.seq)
	}
	if zxid != s.lastZxid {
		if err := txn.Set(keyLastZxid, bytesInt64(zxid)); err != nil {
			return err
		}
	}
	if seq != 0 {
		if err := txn.Set(keyWalSeq, bytesInt64(int64(seq))); err != nil {
			return err
		}
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	s.lastZxid = zxid
	return nil
}

func setOp(txn *bdg.Txn, o *op) error {
	if o.del {
		return txn.Delete(o.key)
	}
	return txn.Set(o.key, o.val)
}

func bytesInt64(v int64) []byte {
	u := uint64(v)
	return []byte{byte(u >> 56), byte(u >> 48), byte(u >> 40), byte(u >> 32), byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}
}

// writeStaged commits a batch too large for one badger transaction, in
// four steps, each of which may span several transactions:
//
//  1. every operation is written under the staging prefix (x/op/<i>);
//  2. the marker x/pending (zxid, count) is written in one transaction:
//     this is the commit point;
//  3. the operations and the last zxid are applied to the live keys,
//     under applyMu so no Load snapshot sees part of them;
//  4. the marker, then the staged operations, are deleted.
//
// A crash before step 2 leaves staged operations without a marker, which
// the next Open deletes; a crash after it leaves the marker, and the next
// Open redoes steps 3 and 4 (re-applying final states is idempotent).
func (s *Store) writeStaged(r *request) error {
	s.log.Info("staging a batch larger than one badger transaction", "dir", s.dir, "zxid", r.zxid, "operations", len(r.ops))
	if err := s.dropStaged(); err != nil {
		return fmt.Errorf("clear staging area: %w", err)
	}
	wb := s.db.NewWriteBatch()
	for i := range r.ops {
		if err := wb.Set(stageOpKey(uint64(i)), appendStagedOp(nil, &r.ops[i])); err != nil {
			wb.Cancel()
			return fmt.Errorf("stage batch: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("stage batch: %w", err)
	}
	if err := s.db.Update(func(txn *bdg.Txn) error {
		return txn.Set(keyPending, appendPending(nil, r.zxid, uint64(len(r.ops))))
	}); err != nil {
		return fmt.Errorf("commit staged batch: %w", err)
	}
	if s.testHookStaged != nil {
		if err := s.testHookStaged(); err != nil {
			return err
		}
	}
	if err := s.applyStaged(r.ops, r.zxid); err != nil {
		// The batch is committed but not applied; only a reopen (which
		// redoes it) can bring the store back to a known state.
		s.failed = err
		return fmt.Errorf("apply staged batch (it will be completed when zkx restarts): %w", err)
	}
	return nil
}

// applyStaged performs steps 3 and 4 of writeStaged.
func (s *Store) applyStaged(ops []op, zxid int64) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	wb := s.db.NewWriteBatch()
	for i := range ops {
		var err error
		if ops[i].del {
			err = wb.Delete(ops[i].key)
		} else {
			err = wb.Set(ops[i].key, ops[i].val)
		}
		if err != nil {
			wb.Cancel()
			return err
		}
	}
	newZxid := max(s.lastZxid, zxid)
	if err := wb.Set(keyLastZxid, bytesInt64(newZxid)); err != nil {
		wb.Cancel()
		return err
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	s.lastZxid = newZxid
	if err := s.db.Update(func(txn *bdg.Txn) error { return txn.Delete(keyPending) }); err != nil {
		return err
	}
	if err := s.dropStaged(); err != nil {
		// Harmless: without a marker, leftovers are deleted on the next
		// stage or Open.
		s.log.Warn("could not delete staged operations", "dir", s.dir, "err", err)
	}
	return nil
}

// dropStaged deletes every staged operation.
func (s *Store) dropStaged() error {
	var keys [][]byte
	err := s.db.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: stageOpPref})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	wb := s.db.NewWriteBatch()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			wb.Cancel()
			return err
		}
	}
	return wb.Flush()
}

// recoverStaged runs at Open: it completes a staged batch whose marker was
// committed and deletes staged operations that have no marker.
func (s *Store) recoverStaged() error {
	var (
		zxid  int64
		count uint64
		found bool
		ops   []op
	)
	err := s.db.View(func(txn *bdg.Txn) error {
		item, err := txn.Get(keyPending)
		if errors.Is(err, bdg.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if err := item.Value(func(v []byte) error {
			var derr error
			zxid, count, derr = decodePending(v)
			return derr
		}); err != nil {
			return fmt.Errorf("%w: key %q: %w", ErrCorrupt, keyPending, err)
		}
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: stageOpPref})
		defer it.Close()
		for it.Rewind(); it.Valid() && uint64(len(ops)) < count; it.Next() {
			item := it.Item()
			key := item.KeyCopy(nil)
			want := stageOpKey(uint64(len(ops)))
			if string(key) != string(want) {
				return fmt.Errorf("%w: staged batch (zxid %#x): found key %q where %q belongs", ErrCorrupt, zxid, key, want)
			}
			if err := item.Value(func(v []byte) error {
				o, derr := decodeStagedOp(v)
				ops = append(ops, o)
				return derr
			}); err != nil {
				return fmt.Errorf("%w: key %q: %w", ErrCorrupt, key, err)
			}
		}
		if uint64(len(ops)) != count {
			return fmt.Errorf("%w: staged batch (zxid %#x) has %d of its %d operations", ErrCorrupt, zxid, len(ops), count)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("badger: open data dir %s: recover staged batch: %w", s.dir, err)
	}
	if !found {
		return s.dropStagedAtOpen()
	}
	s.log.Warn("completing a large batch interrupted by a stop", "dir", s.dir, "zxid", zxid, "operations", count)
	last, err := s.readLastZxidNow()
	if err != nil {
		return err
	}
	s.lastZxid = last
	if err := s.applyStaged(ops, zxid); err != nil {
		return fmt.Errorf("badger: open data dir %s: complete staged batch: %w", s.dir, err)
	}
	return nil
}

func (s *Store) dropStagedAtOpen() error {
	var leftover bool
	_ = s.db.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: stageOpPref})
		defer it.Close()
		it.Rewind()
		leftover = it.Valid()
		return nil
	})
	if !leftover {
		return nil
	}
	s.log.Info("discarding a large batch whose commit did not complete", "dir", s.dir)
	if err := s.dropStaged(); err != nil {
		return fmt.Errorf("badger: open data dir %s: discard staged operations: %w", s.dir, err)
	}
	return nil
}

func (s *Store) readLastZxidNow() (int64, error) {
	var z int64
	err := s.db.View(func(txn *bdg.Txn) error {
		var err error
		z, err = readLastZxid(txn)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("badger: open data dir %s: %w", s.dir, err)
	}
	return z, nil
}
