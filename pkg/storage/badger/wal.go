package badger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The write-ahead log makes a commit durable with one small sequential
// write and one fdatasync, instead of a synced badger transaction (whose
// cost here is several times an fdatasync: badger syncs its memtable's
// mmapped log and value log). Badger is then written asynchronously, in
// large synced transactions, and a WAL segment is deleted once badger
// holds every record in it. See doc.go ("Commits and durability").
//
// A segment is a preallocated file <first sequence number, 20 digits>.wal
// holding records back to back:
//
//	length u32 | crc32c u32 | seq u64 | payload      (length = 8 + len(payload))
//
// The CRC covers seq and payload. A zero length (preallocated space) ends
// a segment; so does a record that is torn or fails its CRC in the newest
// segment, where a crash can leave one. Anywhere else it is corruption.

const (
	walDirName     = "wal"
	walSegmentSize = 64 << 20 // preallocated: a sync rewrites no file metadata
	walHeaderSize  = 16
)

type walSegment struct {
	path string
	last uint64 // last sequence number in it
}

// wal is the open log. The committer appends; the applier releases, so
// the list of full segments is guarded by mu.
type wal struct {
	mu   sync.Mutex
	dir  string
	sync bool
	f    *os.File
	cur  walSegment
	off  int64
	size int64
	old  []walSegment // full segments not yet released, oldest first

	stats syncStats
}

// syncStats counts the log's syncs. Written by the committer only, read by
// anyone.
type syncStats struct {
	count, total, min, max atomic.Int64 // nanoseconds but count
}

func (s *syncStats) sync(d time.Duration) {
	n := int64(d)
	if s.count.Add(1) == 1 || n < s.min.Load() {
		s.min.Store(n)
	}
	if n > s.max.Load() {
		s.max.Store(n)
	}
	s.total.Add(n)
}

func walName(first uint64) string { return fmt.Sprintf("%020d.wal", first) }

// walSegments lists the segment files of dir in sequence order.
func walSegments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".wal"); ok {
			if _, err := strconv.ParseUint(n, 10, 64); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names) // zero-padded: lexical order is numeric order
	for i := range names {
		names[i] = filepath.Join(dir, names[i])
	}
	return names, nil
}

// readWAL calls fn for every record in dir, in order, and returns the
// last sequence number read (0 for none).
func readWAL(dir string, fn func(seq uint64, payload []byte) error) (uint64, error) {
	names, err := walSegments(dir)
	if err != nil {
		return 0, err
	}
	var last uint64
	for i, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return 0, err
		}
		newest := i == len(names)-1
		for off := 0; off+walHeaderSize <= len(b); {
			n := int(binary.BigEndian.Uint32(b[off:]))
			if n == 0 {
				break
			}
			crc := binary.BigEndian.Uint32(b[off+4:])
			end := off + 8 + n
			if n < 8 || end > len(b) || crc32.Checksum(b[off+8:end], crcTable) != crc {
				if newest {
					break // the torn tail of the last write before a crash
				}
				return 0, fmt.Errorf("%w: write-ahead log %s: damaged record at offset %d", ErrCorrupt, name, off)
			}
			seq := binary.BigEndian.Uint64(b[off+8:])
			if seq <= last {
				return 0, fmt.Errorf("%w: write-ahead log %s: sequence %d after %d", ErrCorrupt, name, seq, last)
			}
			if err := fn(seq, b[off+16:end]); err != nil {
				return 0, err
			}
			last = seq
			off = end
		}
	}
	return last, nil
}

// createWAL starts an empty log whose first record will be next. Older
// segments in dir must already be gone.
func createWAL(dir string, next uint64, sync bool) (*wal, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	w := &wal{dir: dir, sync: sync}
	if err := w.newSegment(next, walSegmentSize); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *wal) newSegment(first uint64, size int64) error {
	path := filepath.Join(w.dir, walName(first))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o640)
	if err != nil {
		return err
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		if err := f.Truncate(size); err != nil { // no fallocate: a sparse file
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := syncDir(w.dir); err != nil { // the new name must survive a crash
		f.Close()
		return err
	}
	if w.f != nil {
		w.f.Close()
		w.mu.Lock()
		w.old = append(w.old, w.cur)
		w.mu.Unlock()
	}
	w.f, w.cur, w.off, w.size = f, walSegment{path: path, last: first - 1}, 0, size
	return nil
}

// append writes one record and, with sync, waits for it to be on disk.
func (w *wal) append(seq uint64, payload []byte) error {
	n := int64(walHeaderSize + len(payload))
	if w.off+n > w.size {
		if err := w.newSegment(seq, max(walSegmentSize, n)); err != nil {
			return err
		}
	}
	rec := make([]byte, walHeaderSize, n)
	binary.BigEndian.PutUint32(rec, uint32(8+len(payload)))
	binary.BigEndian.PutUint64(rec[8:], seq)
	rec = append(rec, payload...)
	binary.BigEndian.PutUint32(rec[4:], crc32.Checksum(rec[8:], crcTable))
	if _, err := w.f.WriteAt(rec, w.off); err != nil {
		return err
	}
	if w.sync {
		start := time.Now()
		if err := syscall.Fdatasync(int(w.f.Fd())); err != nil {
			return err
		}
		w.stats.sync(time.Since(start))
	}
	w.off += n
	w.cur.last = seq
	return nil
}

// releaseUpTo deletes the full segments whose records are all at or
// below upTo, which badger holds durably.
func (w *wal) releaseUpTo(upTo uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := 0
	for ; i < len(w.old) && w.old[i].last <= upTo; i++ {
		if err := os.Remove(w.old[i].path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.old = w.old[i:]
			return err
		}
	}
	w.old = w.old[i:]
	return nil
}

func (w *wal) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// encodeGroup is a WAL payload: the group's zxid and its key writes.
//
//	zxid u64 | count uvarint | each: flags u8 (1 delete, 2 event) |
//	[event time i64 when flag 2] | key uvarint-len | value uvarint-len
func encodeGroup(zxid int64, ops []op) []byte {
	size := 8 + binary.MaxVarintLen64
	for i := range ops {
		size += 1 + 8 + 2*binary.MaxVarintLen64 + len(ops[i].key) + len(ops[i].val)
	}
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint64(b, uint64(zxid))
	b = binary.AppendUvarint(b, uint64(len(ops)))
	for i := range ops {
		var flags byte
		if ops[i].del {
			flags |= 1
		}
		if ops[i].event {
			flags |= 2
		}
		b = append(b, flags)
		if ops[i].event {
			b = binary.BigEndian.AppendUint64(b, uint64(ops[i].evMs))
		}
		b = binary.AppendUvarint(b, uint64(len(ops[i].key)))
		b = append(b, ops[i].key...)
		b = binary.AppendUvarint(b, uint64(len(ops[i].val)))
		b = append(b, ops[i].val...)
	}
	return b
}

func decodeGroup(payload []byte) (int64, []op, error) {
	d := decoder{b: payload}
	zxid := int64(d.u64())
	n := d.count(3)
	ops := make([]op, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		flags := d.u8()
		var evMs int64
		if flags&2 != 0 {
			evMs = int64(d.u64())
		}
		key := append([]byte(nil), d.bytes()...)
		val := append([]byte(nil), d.bytes()...)
		ops = append(ops, op{key: key, val: val, del: flags&1 != 0, event: flags&2 != 0, evMs: evMs})
	}
	if err := d.finish("write-ahead log record"); err != nil {
		return 0, nil, err
	}
	return zxid, ops, nil
}
