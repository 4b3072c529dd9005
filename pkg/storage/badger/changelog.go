package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// The change log is kept in blocks of consecutive events:
//
//	e/<zxid, 8 bytes BE><seq, 4 bytes BE>   a block; the key names its first event
//	m/evhorizon                             int64 BE: events at or below it may be gone
//
// A block value is eventBlock followed by its events, each as a uvarint
// length and an event record (appendEvent). A block holds whole
// transactions, so pruning a block drops whole transactions. Blocks are
// formed by the applier from the events of the records it writes to
// badger (commit.go), so they cost one badger entry per block instead of
// one per event: with one event per write, per-event keys made badger's
// memtable, flushes and compactions about a fifth of a busy server's CPU.
// A value that starts with recordVersion is a single event, as written by
// earlier versions of zkx; it reads as a block of one.
//
// A block is closed at a transaction boundary once it holds 1/16 of any
// retention bound (events, bytes, or a span of event times), and at most
// blockMaxEvents events or blockMaxBytes bytes; so retention, which
// drops whole blocks, keeps within 1/16 of what it is asked to keep.
//
// Events are written in the same badger transaction as their records'
// other changes. The applier prunes the oldest blocks when a retention
// bound is passed, raising m/evhorizon in the same transaction as the
// deletes, so a reader's snapshot always has a horizon that matches the
// events it can see.

const eventPrefix = "e/"

var keyEvHorizon = []byte(metaPrefix + "evhorizon")

// Retention defaults: a day of history, bounded by count and size so that
// a busy server keeps minutes rather than gigabytes.
const (
	DefaultChangeLogMaxEvents = 100000
	DefaultChangeLogMaxBytes  = 64 << 20
	DefaultChangeLogMaxAge    = 24 * time.Hour
)

var _ storage.ChangeLog = (*Store)(nil)

// eventBlock is the first byte of a change-log block value. It differs
// from recordVersion, which starts a single-event value.
const eventBlock byte = 0xEB

// Block bounds (see above).
const (
	blockMaxEvents = 256
	blockMaxBytes  = 64 << 10
)

// evMeta is what the applier remembers of each retained block, oldest
// first, to prune without reading the log.
type evMeta struct {
	zxid   int64 // first event's, with seq the block's key
	seq    uint32
	last   int64 // last event's zxid
	count  int
	size   int64
	oldest int64 // ms, the earliest event time in the block
	newest int64 // ms, the latest
}

// blockLimits returns when an open block is closed: at count events,
// size bytes, or once its events span more than span milliseconds.
func blockLimits(r storage.Retention) (count int, size int, span int64) {
	count = min(max(r.MaxEvents/16, 1), blockMaxEvents)
	size = int(min(max(r.MaxBytes/16, 1), blockMaxBytes))
	span = max(r.MaxAge.Milliseconds()/16, 1)
	return count, size, span
}

// parseEventKey is the inverse of eventKey; key must have its length.
func parseEventKey(key []byte) (zxid int64, seq uint32) {
	k := key[len(eventPrefix):]
	return int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint32(k[8:])
}

func eventZxid(o *op) int64 {
	z, _ := parseEventKey(o.key)
	return z
}

// blockWriter gathers the event records of consecutive transactions into
// blocks.
type blockWriter struct {
	maxCount int
	maxSize  int
	maxSpan  int64

	key  []byte
	val  []byte
	meta evMeta
}

func newBlockWriter(r storage.Retention) *blockWriter {
	w := &blockWriter{}
	w.maxCount, w.maxSize, w.maxSpan = blockLimits(r)
	return w
}

// add appends one event op (its key and encoded record) to the open block.
func (w *blockWriter) add(o *op) {
	if w.meta.count == 0 {
		w.key = append(w.key[:0], o.key...)
		w.val = append(w.val[:0], eventBlock)
		w.meta = evMeta{oldest: o.evMs, newest: o.evMs}
		w.meta.zxid, w.meta.seq = parseEventKey(o.key)
	}
	w.val = binary.AppendUvarint(w.val, uint64(len(o.val)))
	w.val = append(w.val, o.val...)
	w.meta.last = eventZxid(o)
	w.meta.count++
	w.meta.oldest = min(w.meta.oldest, o.evMs)
	w.meta.newest = max(w.meta.newest, o.evMs)
}

// full reports, at a transaction boundary, whether the open block should
// be closed before an event of time nextMs joins it.
func (w *blockWriter) full(nextMs int64) bool {
	span := max(w.meta.newest, nextMs) - min(w.meta.oldest, nextMs)
	return w.meta.count >= w.maxCount || len(w.val) >= w.maxSize || span >= w.maxSpan
}

// take returns the open block's key, value and meta, and starts a new one.
// The key and value are copies the caller may keep. ok is false when the
// block is empty.
func (w *blockWriter) take() (key, val []byte, m evMeta, ok bool) {
	if w.meta.count == 0 {
		return nil, nil, evMeta{}, false
	}
	key = append([]byte(nil), w.key...)
	val = append([]byte(nil), w.val...)
	m = w.meta
	m.size = int64(len(key) + len(val))
	w.meta = evMeta{}
	return key, val, m, true
}

// decodeBlock calls fn for each event of a change-log value, single or
// block, until fn returns false.
func decodeBlock(v []byte, fn func(ev *znode.Event) bool) error {
	if len(v) == 0 {
		return fmt.Errorf("%w: empty change-log value", errCorrupt)
	}
	if v[0] != eventBlock {
		var ev znode.Event
		if err := decodeEvent(v, &ev); err != nil {
			return err
		}
		fn(&ev)
		return nil
	}
	rest := v[1:]
	if len(rest) == 0 {
		return fmt.Errorf("%w: change-log block without events", errCorrupt)
	}
	for len(rest) > 0 {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return fmt.Errorf("%w: change-log block: bad event length", errCorrupt)
		}
		var ev znode.Event
		if err := decodeEvent(rest[k:k+int(n)], &ev); err != nil {
			return err
		}
		rest = rest[k+int(n):]
		if !fn(&ev) {
			return nil
		}
	}
	return nil
}

func eventKey(dst []byte, zxid int64, seq uint32) []byte {
	dst = append(dst, eventPrefix...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(zxid))
	return binary.BigEndian.AppendUint32(dst, seq)
}

// appendEvent encodes ev:
//
//	version u8 | flags u8 | type i32 | zxid time i64 | version i32 |
//	path uvarint-len | acl as in a node record | data uvarint-len
func appendEvent(dst []byte, ev *znode.Event) []byte {
	var flags byte
	if ev.Data == nil {
		flags |= flagNilData
	}
	dst = append(dst, recordVersion, flags)
	dst = binary.BigEndian.AppendUint32(dst, uint32(ev.Type))
	dst = binary.BigEndian.AppendUint64(dst, uint64(ev.Zxid))
	dst = binary.BigEndian.AppendUint64(dst, uint64(ev.Time))
	dst = binary.BigEndian.AppendUint32(dst, uint32(ev.Version))
	dst = appendString(dst, ev.Path)
	dst = binary.AppendUvarint(dst, uint64(len(ev.ACL)))
	for _, a := range ev.ACL {
		dst = binary.BigEndian.AppendUint32(dst, uint32(a.Perms))
		dst = appendString(dst, a.ID.Scheme)
		dst = appendString(dst, a.ID.ID)
	}
	dst = binary.AppendUvarint(dst, uint64(len(ev.Data)))
	return append(dst, ev.Data...)
}

func eventSize(ev *znode.Event) int {
	size := 2 + 4 + 16 + 4 + 3*binary.MaxVarintLen64 + len(ev.Path) + len(ev.Data)
	for _, a := range ev.ACL {
		size += 4 + 2*binary.MaxVarintLen64 + len(a.ID.Scheme) + len(a.ID.ID)
	}
	return size
}

func decodeEvent(rec []byte, ev *znode.Event) error {
	d := decoder{b: rec}
	if v := d.u8(); d.err == nil && v != recordVersion {
		return fmt.Errorf("%w: event record version %d, this zkx reads %d", errCorrupt, v, recordVersion)
	}
	flags := d.u8()
	if flags&^flagNilData != 0 {
		return fmt.Errorf("%w: unknown event flags %#x", errCorrupt, flags)
	}
	ev.Type = znode.EventType(int32(d.u32()))
	ev.Zxid = int64(d.u64())
	ev.Time = int64(d.u64())
	ev.Version = int32(d.u32())
	ev.Path = string(d.bytes())
	count := d.count(4 + 1 + 1)
	ev.ACL = nil
	if count > 0 {
		ev.ACL = make([]znode.ACL, count)
		for i := range ev.ACL {
			ev.ACL[i].Perms = int32(d.u32())
			ev.ACL[i].ID.Scheme = string(d.bytes())
			ev.ACL[i].ID.ID = string(d.bytes())
		}
	}
	data := d.bytes()
	if err := d.finish("event"); err != nil {
		return err
	}
	if flags&flagNilData != 0 {
		if len(data) != 0 {
			return fmt.Errorf("%w: event flagged as null data has %d bytes", errCorrupt, len(data))
		}
		ev.Data = nil
	} else {
		ev.Data = append(make([]byte, 0, len(data)), data...)
	}
	return nil
}

// Events implements storage.ChangeLog.
func (s *Store) Events(ctx context.Context, after int64, fn func(znode.Event) bool) (int64, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("badger: events: %w", storage.ErrClosed)
	}
	if err := s.flush(); err != nil {
		return 0, fmt.Errorf("badger: events in %s: %w", s.dir, err)
	}
	s.lifeMu.RLock()
	defer s.lifeMu.RUnlock()
	var horizon int64
	err := s.db.View(func(txn *bdg.Txn) error {
		var err error
		if horizon, err = readInt64Key(txn, keyEvHorizon); err != nil {
			return err
		}
		start, err := firstBlockKey(txn, after)
		if err != nil {
			return err
		}
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = []byte(eventPrefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(start); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			stop := false
			err := item.Value(func(v []byte) error {
				return decodeBlock(v, func(ev *znode.Event) bool {
					if ev.Zxid <= after {
						return true
					}
					stop = !fn(*ev)
					return !stop
				})
			})
			if err != nil {
				return s.corrupt(item.KeyCopy(nil), err)
			}
			if stop {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("badger: read change log in %s: %w", s.dir, err)
	}
	return horizon, nil
}

// firstBlockKey returns where to start reading for the events after
// zxid after: the key of the block that may hold the first of them, which
// is the last block starting at or before after+1.
func firstBlockKey(txn *bdg.Txn, after int64) ([]byte, error) {
	if after < 0 {
		return []byte(eventPrefix), nil
	}
	opts := bdg.DefaultIteratorOptions
	opts.Prefix = []byte(eventPrefix)
	opts.Reverse = true
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	defer it.Close()
	it.Seek(eventKey(nil, after+1, 0))
	if !it.Valid() {
		return []byte(eventPrefix), nil
	}
	return it.Item().KeyCopy(nil), nil
}

func readInt64Key(txn *bdg.Txn, key []byte) (int64, error) {
	item, err := txn.Get(key)
	if errors.Is(err, bdg.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v int64
	err = item.Value(func(b []byte) error {
		var derr error
		v, derr = decodeInt64(b)
		return derr
	})
	return v, err
}

// loadEventIndex rebuilds the committer's index of retained events at
// Open.
func (s *Store) loadEventIndex() error {
	return s.db.View(func(txn *bdg.Txn) error {
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = []byte(eventPrefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			if len(key) != len(eventPrefix)+12 {
				return s.corrupt(item.KeyCopy(nil), fmt.Errorf("%w: event key of %d bytes", errCorrupt, len(key)))
			}
			m := evMeta{size: item.EstimatedSize(), oldest: math.MaxInt64, newest: math.MinInt64}
			m.zxid, m.seq = parseEventKey(key)
			err := item.Value(func(v []byte) error {
				return decodeBlock(v, func(ev *znode.Event) bool {
					m.last = ev.Zxid
					m.count++
					m.oldest = min(m.oldest, ev.Time)
					m.newest = max(m.newest, ev.Time)
					return true
				})
			})
			if err != nil {
				return s.corrupt(item.KeyCopy(nil), err)
			}
			s.evIndex = append(s.evIndex, m)
			s.evCount += m.count
			s.evBytes += m.size
		}
		return nil
	})
}

// encodeEvents appends the batch's event writes to ops.
func encodeEvents(ops []op, events []znode.Event) []op {
	for i := range events {
		ev := &events[i]
		key := eventKey(make([]byte, 0, len(eventPrefix)+12), ev.Zxid, uint32(i))
		val := appendEvent(make([]byte, 0, eventSize(ev)), ev)
		ops = append(ops, op{key: key, val: val, event: true, evMs: ev.Time})
	}
	return ops
}

// indexBlocks records blocks just written to badger.
func (s *Store) indexBlocks(blocks []evMeta) {
	for _, m := range blocks {
		s.evIndex = append(s.evIndex, m)
		s.evCount += m.count
		s.evBytes += m.size
	}
}

// pruneEvents drops the oldest blocks once a retention bound is passed,
// and raises the horizon to match in the same badger transaction. It runs
// on the applier, off the write path, and waits for 10% of slack over the
// count and byte bounds, so a full log is pruned in chunks rather than at
// every apply. A block goes only when all of its events are older than
// MaxAge. Failure is logged and retried at the next apply: the log merely
// stays longer than asked.
func (s *Store) pruneEvents(now time.Time) {
	r := s.opts.Retention
	if len(s.evIndex) == 0 {
		return
	}
	oldest := now.Add(-r.MaxAge).UnixMilli()
	if s.evCount <= r.MaxEvents+r.MaxEvents/10 && s.evBytes <= r.MaxBytes+r.MaxBytes/10 && s.evIndex[0].newest >= oldest {
		return
	}
	cut := 0
	live, bytes := s.evCount, s.evBytes
	for cut < len(s.evIndex) {
		if live <= r.MaxEvents && bytes <= r.MaxBytes && s.evIndex[cut].newest >= oldest {
			break
		}
		live -= s.evIndex[cut].count
		bytes -= s.evIndex[cut].size
		cut++
	}
	if cut == 0 {
		return
	}
	// Badger caps a transaction's size; delete in chunks, each raising
	// the horizon to the last transaction it removed.
	done := 0
	for done < cut {
		end := min(done+10000, cut)
		h := s.evIndex[end-1].last
		err := s.db.Update(func(txn *bdg.Txn) error {
			for _, m := range s.evIndex[done:end] {
				if err := txn.Delete(eventKey(nil, m.zxid, m.seq)); err != nil {
					return err
				}
			}
			return txn.Set(keyEvHorizon, bytesInt64(h))
		})
		if err != nil {
			s.log.Warn("pruning the change log failed; it is kept longer", "dir", s.dir, "err", err)
			break
		}
		for _, m := range s.evIndex[done:end] {
			s.evCount -= m.count
			s.evBytes -= m.size
		}
		done = end
	}
	s.evIndex = append(s.evIndex[:0], s.evIndex[done:]...)
}
