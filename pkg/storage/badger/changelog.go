package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// The change log: one record per event under
//
//	e/<zxid, 8 bytes BE><seq, 4 bytes BE>   event record
//	m/evhorizon                             int64 BE: events at or below it may be gone
//
// Events are written in the same badger transaction as their batch, so a
// transaction's events are durable exactly when its changes are. The
// committer prunes the oldest transactions (all events of one zxid at
// once) when a retention bound is passed, raising m/evhorizon in the same
// transaction as the deletes, so a reader's snapshot always has a horizon
// that matches the events it can see.

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

// evMeta is what the committer remembers of each retained event, oldest
// first, to prune without reading the log.
type evMeta struct {
	zxid int64
	seq  uint32
	size int64
	time int64 // ms
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
		opts := bdg.DefaultIteratorOptions
		opts.Prefix = []byte(eventPrefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		start := eventKey(nil, max(after, -1)+1, 0)
		if after < 0 {
			start = []byte(eventPrefix)
		}
		for it.Seek(start); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			var ev znode.Event
			if err := item.Value(func(v []byte) error { return decodeEvent(v, &ev) }); err != nil {
				return s.corrupt(item.KeyCopy(nil), err)
			}
			if ev.Zxid <= after {
				continue
			}
			if !fn(ev) {
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
			var ev znode.Event
			if err := item.Value(func(v []byte) error { return decodeEvent(v, &ev) }); err != nil {
				return s.corrupt(item.KeyCopy(nil), err)
			}
			s.evIndex = append(s.evIndex, evMeta{
				zxid: int64(binary.BigEndian.Uint64(key[len(eventPrefix):])),
				seq:  binary.BigEndian.Uint32(key[len(eventPrefix)+8:]),
				size: item.EstimatedSize(),
				time: ev.Time,
			})
			s.evBytes += item.EstimatedSize()
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

// indexEvents records the events of requests just committed.
func (s *Store) indexEvents(group []*request) {
	for _, r := range group {
		for _, o := range r.ops {
			if !o.event {
				continue
			}
			m := evMeta{
				zxid: int64(binary.BigEndian.Uint64(o.key[len(eventPrefix):])),
				seq:  binary.BigEndian.Uint32(o.key[len(eventPrefix)+8:]),
				size: int64(len(o.key) + len(o.val)),
				time: o.evMs,
			}
			s.evIndex = append(s.evIndex, m)
			s.evBytes += m.size
		}
	}
}

// pruneEvents drops the oldest transactions' events once a retention
// bound is passed, and raises the horizon to match in the same badger
// transaction. It runs on the committer after the group's callers have
// their answer, so it adds nothing to write latency; and it waits for 10%
// of slack over the count and byte bounds, so a full log is pruned in
// chunks rather than on every commit. Failure is logged and retried at
// the next commit: the log merely stays longer than asked.
func (s *Store) pruneEvents(now time.Time) {
	r := s.opts.Retention
	if len(s.evIndex) == 0 {
		return
	}
	oldest := now.Add(-r.MaxAge).UnixMilli()
	if len(s.evIndex) <= r.MaxEvents+r.MaxEvents/10 && s.evBytes <= r.MaxBytes+r.MaxBytes/10 && s.evIndex[0].time >= oldest {
		return
	}
	cut := 0
	bytes := s.evBytes
	for cut < len(s.evIndex) {
		live := len(s.evIndex) - cut
		if live <= r.MaxEvents && bytes <= r.MaxBytes && s.evIndex[cut].time >= oldest {
			break
		}
		// Drop the whole transaction: every event of this zxid.
		z := s.evIndex[cut].zxid
		for cut < len(s.evIndex) && s.evIndex[cut].zxid == z {
			bytes -= s.evIndex[cut].size
			cut++
		}
	}
	if cut == 0 {
		return
	}
	// Badger caps a transaction's size; delete in chunks, each raising
	// the horizon to the last transaction it removed completely.
	done := 0
	for done < cut {
		end := min(done+10000, cut)
		for end < cut && s.evIndex[end].zxid == s.evIndex[end-1].zxid {
			end++
		}
		h := s.evIndex[end-1].zxid
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
			s.evBytes -= m.size
		}
		done = end
	}
	s.evIndex = append(s.evIndex[:0], s.evIndex[done:]...)
}
