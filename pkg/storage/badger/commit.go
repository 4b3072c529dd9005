package badger

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	event bool  // a change-log record (changelog.go)
	evMs  int64 // for an event: its time, kept for the retention index
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
// and handed to the committer, which logs every commit waiting at that
// moment as one write-ahead log record followed by one sync; each caller
// gets the result of its own batch. Once a batch is handed over it is
// written even if ctx ends; Commit then still waits for the result.
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
	{
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
			s.logRecords.Add(1)
			s.loggedCommits.Add(uint64(len(group)))
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

var _ storage.StatsReporter = (*Store)(nil)

// Stats implements storage.StatsReporter.
func (s *Store) Stats() storage.Stats {
	st := storage.Stats{LogRecords: s.logRecords.Load(), Commits: s.loggedCommits.Load()}
	if s.wal != nil {
		w := &s.wal.stats
		st.Syncs = uint64(w.count.Load())
		st.SyncTotal = time.Duration(w.total.Load())
		st.SyncMin = time.Duration(w.min.Load())
		st.SyncMax = time.Duration(w.max.Load())
	}
	return st
}

// applyChunked writes requests into badger in log order, in as few
// transactions as fit (each synced with Options.Sync), recording in the
// last one the highest zxid and WAL record applied. The WAL, not badger,
// makes a batch atomic across crashes: a crash in between replays the
// records at Open. applyMu keeps Load from taking a snapshot in between.
func (s *Store) applyChunked(reqs []*request) ([]evMeta, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	// set writes one key, committing and starting a new transaction when
	// badger's size cap is reached.
	set := func(o *op) error {
		err := setOp(txn, o)
		if errors.Is(err, bdg.ErrTxnTooBig) {
			if err = txn.Commit(); err != nil {
				return err
			}
			txn = s.db.NewTransaction(true)
			err = setOp(txn, o)
		}
		return err
	}
	var blocks []evMeta
	bw := newBlockWriter(s.opts.Retention)
	flushBlock := func() error {
		key, val, m, ok := bw.take()
		if !ok {
			return nil
		}
		if err := set(&op{key: key, val: val}); err != nil {
			return err
		}
		blocks = append(blocks, m)
		return nil
	}
	zxid, seq := s.lastZxid, uint64(0)
	for _, r := range reqs {
		for i := range r.ops {
			o := &r.ops[i]
			if o.event {
				// A block is closed only between transactions.
				if bw.meta.count > 0 && eventZxid(o) != bw.meta.last && bw.full(o.evMs) {
					if err := flushBlock(); err != nil {
						return nil, err
					}
				}
				bw.add(o)
				continue
			}
			if err := set(o); err != nil {
				return nil, err
			}
		}
		zxid = max(zxid, r.zxid)
		seq = max(seq, r.seq)
	}
	if err := flushBlock(); err != nil {
		return nil, err
	}
	if zxid != s.lastZxid {
		if err := txn.Set(keyLastZxid, bytesInt64(zxid)); err != nil {
			return nil, err
		}
	}
	if seq != 0 {
		if err := txn.Set(keyWalSeq, bytesInt64(int64(seq))); err != nil {
			return nil, err
		}
	}
	if err := txn.Commit(); err != nil {
		return nil, err
	}
	s.lastZxid = zxid
	return blocks, nil
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
