package server

import (
	"fmt"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// When storage cannot commit (a full disk, an I/O error), nothing of the
// failed group is durable, and neither is anything applied after it, which
// waits behind it in the pipeline. commitFailed undoes all of them, newest
// first, so memory matches disk again, and answers their requests with an
// error:
//
//   - writes and new sessions were not made durable: their clients get
//     SystemError (a new session's connection is closed);
//   - reads queued behind them may have observed the undone state: they
//     get SystemError too, and the client retries;
//   - notifications are still delivered. Their one-shot watches were
//     consumed when the write was applied; a spurious event only makes a
//     client re-read, while a dropped one would leave it waiting forever.
//
// Then writes are refused at once, without touching the tree, for a
// backoff that doubles from 250 ms to 30 s while commits keep failing, so
// a full disk cannot make the server undo and retry in a loop. Reads are
// served throughout. Zxids of undone transactions are not reused.

const (
	minStorageBackoff = 250 * time.Millisecond
	maxStorageBackoff = 30 * time.Second
)

// errStorageUnavailable is what refused and undone writes fail with.
var errStorageUnavailable = fmt.Errorf("%w: storage cannot commit writes now", znode.ErrSystem)

// writesRefused reports whether writes are refused after a storage
// failure. Callers hold s.mu.
func (s *Server) writesRefused() error {
	if s.refuseWritesUntil.IsZero() || time.Now().After(s.refuseWritesUntil) {
		return nil
	}
	return errStorageUnavailable
}

// commitSucceeded clears the backoff after a durable commit. Called by the
// pipeline's committer.
func (s *Server) commitSucceeded(zxid int64) {
	s.mu.Lock()
	s.durableZxid = max(s.durableZxid, zxid)
	if !s.refuseWritesUntil.IsZero() {
		s.log.Info("storage commits again; writes accepted", "zxid", hex64(zxid))
		s.refuseWritesUntil = time.Time{}
		s.storageBackoff = 0
	}
	s.mu.Unlock()
}

// commitFailed handles a failed commit of group (n transactions). Called
// by the pipeline's committer, holding no lock.
func (s *Server) commitFailed(group []*entry, err error, n int) {
	if s.repl != nil {
		// A member cannot undo what the log committed: every other member
		// applied it. It stops, and replays the log when it restarts.
		s.log.Error("storage commit failed on an ensemble member; stopping (the raft log replays at restart)",
			"err", err, "transactions", n)
		s.opts.OnFatal(err)
		return
	}
	s.mu.Lock()
	// Everything queued behind the group was applied after it.
	s.pipe.mu.Lock()
	all := append(group, s.pipe.queue...)
	s.pipe.queue = nil
	s.pipe.mu.Unlock()
	undone := 0
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].undo != nil {
			all[i].undo()
			undone++
		}
	}
	s.window.Truncate(s.durableZxid)
	s.storageBackoff = min(max(2*s.storageBackoff, minStorageBackoff), maxStorageBackoff)
	s.refuseWritesUntil = time.Now().Add(s.storageBackoff)
	s.stats.storageFailures.Add(1)
	zxid := s.lastZxid
	s.mu.Unlock()
	s.log.Error("storage commit failed: writes undone and refused for a while, reads still served",
		"err", err, "transactions", n, "undone", undone, "durable_zxid", hex64(s.durableZxid), "retry_in", s.storageBackoff)

	for _, e := range all {
		if e.newConn != nil {
			e.newConn.close("new session not persisted: storage failure")
			continue
		}
		for i := range e.out {
			d := e.out[i]
			if e.reply != nil && &e.out[i] == e.reply {
				hdr := proto.ReplyHeader{Xid: e.xid, Zxid: zxid, Err: proto.CodeSystemError}
				d.frame = frame(hdr.Encode)
			}
			d.c.enqueue(d.frame)
		}
		if e.after != nil {
			e.after()
		}
	}
}
