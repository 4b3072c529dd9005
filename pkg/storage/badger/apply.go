package badger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
)

// The applier writes what the committer logged into badger, in log order,
// in large synced transactions: every applyInterval, when applyBytes are
// waiting, or when a reader (Load, Events) or Close asks. A long interval
// keeps badger's own syncs, which share the disk with the log's, rare: each
// one delays the commits waiting behind it. The memory it costs is the
// logged writes of one interval. Once badger
// holds a record durably, the WAL segments up to it are released. Until
// then a crash replays them at Open (recoverWAL). Records are final states
// of keys, so applying one twice is harmless.

const (
	applyInterval = 500 * time.Millisecond
	applyBytes    = 16 << 20
)

var keyWalSeq = []byte(metaPrefix + "walseq") // int64 BE: last WAL record applied

// enqueueApply hands logged requests to the applier. Called by the
// committer.
func (s *Store) enqueueApply(group []*request) {
	n := 0
	for _, r := range group {
		for i := range r.ops {
			n += len(r.ops[i].key) + len(r.ops[i].val)
		}
	}
	s.pmu.Lock()
	s.pending = append(s.pending, group...)
	s.pendingBytes += n
	full := s.pendingBytes >= applyBytes
	s.pmu.Unlock()
	if full {
		select {
		case s.applyWake <- struct{}{}:
		default:
		}
	}
}

func (s *Store) applier() {
	defer s.awg.Done()
	t := time.NewTicker(applyInterval)
	defer t.Stop()
	for {
		var waiter chan error
		select {
		case <-t.C:
		case <-s.applyWake:
		case waiter = <-s.flushReq:
		case <-s.applyStop:
			if err := s.applyPending(); err != nil {
				s.log.Error("badger: final apply before close failed; the write-ahead log keeps the data for the next start", "dir", s.dir, "err", err)
			}
			return
		}
		err := s.applyPending()
		if waiter != nil {
			waiter <- err
		} else if err != nil && !errors.Is(err, errLowSpace) {
			s.log.Error("badger: applying logged writes failed; they stay in the write-ahead log and are retried", "dir", s.dir, "err", err)
		}
	}
}

// applyPending writes every logged request into badger. Called by the
// applier only.
func (s *Store) applyPending() error {
	s.pmu.Lock()
	batch := s.pending
	s.pending, s.pendingBytes = nil, 0
	s.pmu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := checkSpace(s.dir, s.opts.spaceReserve()); err != nil {
		s.pmu.Lock()
		s.pending = append(batch, s.pending...)
		s.pmu.Unlock()
		if !s.lowSpace {
			s.log.Warn("badger: disk almost full; writes stay in the write-ahead log until space is freed", "dir", s.dir, "err", err)
			s.lowSpace = true
		}
		return err
	}
	if s.lowSpace {
		s.log.Info("badger: disk space available again; applying the write-ahead log", "dir", s.dir)
		s.lowSpace = false
	}
	// Requests logged together share a record; apply whole records so the
	// recorded WAL position is always a record boundary.
	blocks, err := s.applyChunked(batch)
	if err != nil {
		s.pmu.Lock()
		s.pending = append(batch, s.pending...)
		s.pmu.Unlock()
		return err
	}
	s.indexBlocks(blocks)
	s.pruneEvents(time.Now())
	if err := s.wal.releaseUpTo(batch[len(batch)-1].seq); err != nil {
		s.log.Warn("badger: could not delete applied write-ahead log segments", "dir", s.dir, "err", err)
	}
	return nil
}

// Badger writes its memtables and value log through mmapped files that
// grow sparsely; on a full filesystem, touching a page that has no block
// kills the process with SIGBUS instead of returning an error. So badger
// is written only when the filesystem has spaceReserve bytes free: enough
// for every file badger may be filling plus the next ones. Below that the
// applier leaves the records in the write-ahead log, whose segments are
// allocated up front (fallocate fails cleanly when the disk is full), and
// tries again at its next run. Commits go on into the log until it needs
// a new segment; then they fail, and the server undoes them and refuses
// writes until space is freed.

// spaceReserve is the free space badger must have before it is written.
func (o *Options) spaceReserve() uint64 {
	return uint64(2*o.ValueLogFileSize + 4*o.MemTableSize)
}

// closeReserve is the free space badger's Close needs to write its
// memtable out as a table: the memtable's size with room for the table's
// index and filter.
func (o *Options) closeReserve() uint64 {
	return uint64(2 * o.MemTableSize)
}

// errLowSpace means the applier held back because the disk is almost full.
var errLowSpace = errors.New("not enough free disk space to write badger safely")

func checkSpace(dir string, need uint64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("check free space: %w", err)
	}
	if free := st.Bavail * uint64(st.Bsize); free < need {
		return fmt.Errorf("%w: %d bytes free on the filesystem of %s, at least %d needed", errLowSpace, free, dir, need)
	}
	return nil
}

// flush waits until everything committed so far is in badger.
func (s *Store) flush() error {
	ch := make(chan error, 1)
	select {
	case s.flushReq <- ch:
	case <-s.stop:
		return nil // closing: Close applies the rest
	}
	return <-ch
}

// recoverWAL applies, at Open, every WAL record badger does not hold yet,
// syncs badger, and starts a fresh log.
func (s *Store) recoverWAL() error {
	dir := s.walDir()
	var applied int64
	err := s.db.View(func(txn *bdg.Txn) error {
		var err error
		applied, err = readInt64Key(txn, keyWalSeq)
		return err
	})
	if err != nil {
		return fmt.Errorf("badger: open data dir %s: read WAL position: %w", s.dir, err)
	}
	replayed := 0
	last, err := readWAL(dir, func(seq uint64, payload []byte) error {
		if int64(seq) <= applied {
			return nil
		}
		zxid, ops, err := decodeGroup(payload)
		if err != nil {
			return fmt.Errorf("%w: write-ahead log record %d: %w", ErrCorrupt, seq, err)
		}
		replayed++
		_, err = s.applyChunked([]*request{{ops: ops, zxid: zxid, seq: seq}})
		return err
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return fmt.Errorf("%w (in %s)", err, dir)
		}
		return fmt.Errorf("badger: open data dir %s: replay write-ahead log: %w", s.dir, err)
	}
	if replayed > 0 {
		s.log.Info("replayed the write-ahead log", "dir", s.dir, "records", replayed)
	}
	// Badger now holds everything durably (with Options.Sync its commits
	// are synced); the old segments can go.
	names, err := walSegments(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.Remove(n); err != nil {
			return fmt.Errorf("badger: open data dir %s: remove applied log %s: %w", s.dir, n, err)
		}
	}
	next := max(uint64(applied), last) + 1
	w, err := createWAL(dir, next, s.opts.Sync)
	if err != nil {
		return fmt.Errorf("badger: open data dir %s: create write-ahead log: %w", s.dir, err)
	}
	s.wal = w
	s.walSeq = next - 1
	return nil
}

func (s *Store) walDir() string { return filepath.Join(s.dir, walDirName) }
