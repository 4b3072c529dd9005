package server

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/zkx-dev/zkx/pkg/changelog"
	"github.com/zkx-dev/zkx/pkg/ensemble"
	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/tree"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// Replicator is the ensemble a replicated server belongs to
// (*ensemble.Node). With Options.Replicator set, every state change is
// proposed to it as an entry, and only entries it commits, applied through
// Server.Apply, change the tree. See pkg/ensemble and doc.go.
type Replicator interface {
	// ID is this member's id (1..255); it is the high byte of the
	// session ids this member hands out.
	ID() int
	// Propose queues an entry for the log; it never blocks.
	Propose(entry []byte, origin uint64)
	// Touch tells the leader that a session was kept alive here.
	Touch(id int64, timeoutMs int32)
	// IsLeader reports whether this member leads (and so expires sessions
	// and reaps containers).
	IsLeader() bool
	// Serving reports whether this member is in a quorum.
	Serving() bool
	// Role is "leader", "follower", "observer" or "looking".
	Role() string
	// Monitor adds the ensemble's mntr keys.
	Monitor(add func(key string, value any))
}

var _ Replicator = (*ensemble.Node)(nil)
var _ ensemble.StateMachine = (*Server)(nil)

// Commands, the body of a replicated entry after its stamp.
const (
	cmdRequest       = 1 // a client's write (or sync, or closeSession)
	cmdCreateSession = 2
	cmdCloseSession  = 3 // expiry, decided by the leader
	cmdReap          = 4 // an empty container or expired TTL node
	cmdNotifierAck   = 5 // a notifier plugin's acknowledged position
)

// replicated reports whether op goes through the log.
func replicated(op int32) bool {
	switch op {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL,
		proto.OpDelete, proto.OpDeleteContainer, proto.OpSetData, proto.OpSetACL,
		proto.OpMulti, proto.OpSync, proto.OpCloseSession:
		return true
	}
	return false
}

type cmdWriter struct{ b []byte }

func (w *cmdWriter) u8(v byte)      { w.b = append(w.b, v) }
func (w *cmdWriter) u32(v uint32)   { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *cmdWriter) u64(v uint64)   { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *cmdWriter) bytes(v []byte) { w.u32(uint32(len(v))); w.b = append(w.b, v...) }
func (w *cmdWriter) str(v string)   { w.u32(uint32(len(v))); w.b = append(w.b, v...) }

type cmdReader struct {
	b   []byte
	err error
}

func (r *cmdReader) need(n int) bool {
	if r.err != nil || len(r.b) < n {
		r.err = errors.New("server: truncated replicated command")
		return false
	}
	return true
}

func (r *cmdReader) u8() byte {
	if !r.need(1) {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *cmdReader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *cmdReader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *cmdReader) bytes() []byte {
	n := int(r.u32())
	if !r.need(n) {
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *cmdReader) str() string { return string(r.bytes()) }

// proposeRequest sends a client's write to the log. The reply comes from
// Apply; until then the connection's later requests wait (conn.deferred).
// Callers hold s.mu.
func (s *Server) proposeRequest(c *conn, h proto.RequestHeader, body []byte) {
	flags := byte(ensemble.FlagZxid)
	if h.Type == proto.OpSync {
		flags = 0
	}
	w := cmdWriter{b: ensemble.NewEntry(flags, 64+len(body))}
	w.u8(cmdRequest)
	w.u8(byte(s.repl.ID()))
	w.u64(c.id)
	w.u64(uint64(c.sess.id))
	w.u32(uint32(h.Xid))
	w.u32(uint32(h.Type))
	w.u32(uint32(len(c.auth)))
	for _, id := range c.auth {
		w.str(id.Scheme)
		w.str(id.ID)
	}
	w.b = append(w.b, body...)
	c.pending++
	s.repl.Propose(w.b, c.id)
}

// Apply applies one committed entry: the FSM of the ensemble. Every member
// applies the same entries in the same order and reaches the same state;
// the member the client is connected to also sends the reply.
func (s *Server) Apply(entry []byte) {
	zxid, tm := ensemble.ReadStamp(entry)
	consumes := entry[0]&ensemble.FlagZxid != 0
	r := cmdReader{b: entry[ensemble.StampSize:]}
	kind := r.u8()
	if kind == cmdNotifierAck {
		s.applyNotifierAck(&r)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if consumes && zxid <= s.lastZxid {
		// Already in the state loaded from storage: raft replays the log
		// after its last snapshot, which may be older than what the
		// backend holds.
		return
	}
	s.applyTime = tm
	defer func() { s.applyTime = 0 }()
	if consumes {
		s.lastZxid = zxid - 1 // the transaction takes zxid (txn, commit)
		defer func() { s.lastZxid = max(s.lastZxid, zxid) }()
	}
	switch kind {
	case cmdRequest:
		s.applyRequest(&r)
	case cmdCreateSession:
		s.applyCreateSession(&r)
	case cmdCloseSession:
		id := int64(r.u64())
		why := r.str()
		if sess := s.sessions.get(id); sess != nil && r.err == nil {
			s.expireLocked(sess, why)
		}
	case cmdReap:
		p := r.str()
		if r.err != nil {
			break
		}
		out := s.tree.Apply(s.txn(0, nil), tree.DeleteContainer{Path: p})
		if out.Err == nil {
			req := &request{}
			s.commit(req, out)
			s.pipe.push(req.entry())
		}
	default:
		r.err = fmt.Errorf("server: unknown replicated command %d", kind)
	}
	if r.err != nil {
		// Every member reads the same bytes, so every member skips the
		// same entry: the state stays the same everywhere.
		s.log.Error("skipping a replicated entry that cannot be decoded", "zxid", hex64(zxid), "err", r.err)
	}
}

// originConn returns the connection an entry came from when it came from
// this member and the connection still holds the session.
func (s *Server) originConn(member byte, connID uint64, session int64) *conn {
	if int(member) != s.repl.ID() {
		return nil
	}
	c := s.conns[connID]
	if c == nil || (session != 0 && (c.sess == nil || c.sess.id != session)) {
		return nil
	}
	return c
}

func (s *Server) applyRequest(cr *cmdReader) {
	member := cr.u8()
	connID := cr.u64()
	sessID := int64(cr.u64())
	xid := int32(cr.u32())
	op := int32(cr.u32())
	nauth := int(cr.u32())
	if cr.err != nil || nauth > 1<<16 {
		cr.err = errors.New("server: bad replicated request")
		return
	}
	auth := make([]znode.ID, 0, nauth)
	for range nauth {
		auth = append(auth, znode.ID{Scheme: cr.str(), ID: cr.str()})
	}
	if cr.err != nil {
		return
	}
	body := cr.b
	c := s.originConn(member, connID, sessID)
	if c != nil {
		defer s.requestApplied(c)
	}
	sess := s.sessions.get(sessID)
	r := &request{c: c, sess: sess, auth: auth, xid: xid, op: op, d: proto.NewDecoder(body)}
	if sess == nil || sess.closing {
		if c != nil {
			r.closeAfter = "session expired"
			s.push(r, proto.CodeSessionExpired, nil)
		}
		return
	}
	start := time.Now()
	enc, err := s.dispatch(r)
	if derr := r.d.Err(); derr != nil && err == nil {
		err = derr
	}
	code := proto.Code(err)
	if err != nil && code == proto.CodeSystemError {
		s.log.Error("request failed", "op", proto.OpName(op), "session", hex64(sessID), "err", err)
	}
	s.push(r, code, enc)
	if c != nil {
		s.stats.observe(time.Since(start))
	}
}

// requestApplied counts a connection's write as answered and handles the
// requests that waited behind it. Callers hold s.mu.
func (s *Server) requestApplied(c *conn) {
	c.pending--
	for c.pending == 0 && len(c.deferred) > 0 && !c.ended && !c.closed.Load() {
		f := c.deferred[0]
		c.deferred[0] = nil
		c.deferred = c.deferred[1:]
		if !s.handleLocked(c, f, time.Now()) {
			c.ended = true
		}
	}
	if len(c.deferred) == 0 {
		c.deferred = nil
	}
}

func (s *Server) applyCreateSession(cr *cmdReader) {
	member := cr.u8()
	connID := cr.u64()
	id := int64(cr.u64())
	timeout := time.Duration(cr.u32()) * time.Millisecond
	passwd := cr.bytes()
	readOnly := cr.u8() != 0
	if cr.err != nil {
		return
	}
	if s.sessions.get(id) != nil {
		return // the same id proposed twice: keep the first
	}
	sess := s.sessions.add(id, append([]byte(nil), passwd...), timeout, time.Now())
	zxid := s.nextZxid()
	e := &entry{batch: &storage.Batch{Zxid: zxid, SessionPuts: []storage.Session{sess.record()}}}
	c := s.originConn(member, connID, 0)
	if c != nil && c.sess == nil && !c.closed.Load() {
		s.attach(c, sess)
		resp := proto.ConnectResponse{HasReadOnly: readOnly, TimeOut: int32(timeout.Milliseconds()), SessionID: id, Passwd: sess.passwd}
		e.out = []delivery{{c: c, frame: frame(resp.Encode)}}
		c.markReady()
		s.log.Debug("session created", "session", hex64(id), "timeout", timeout, "conn", c.nc.RemoteAddr().String())
	}
	s.pipe.push(e)
}

// expireLocked closes an expired session, deleting its ephemerals, and
// closes its connection once the deletes are queued. Callers hold s.mu.
func (s *Server) expireLocked(sess *session, why string) {
	s.log.Info("session expired", "session", hex64(sess.id), "timeout", sess.timeout, "why", why)
	s.stats.expired.Add(1)
	c := sess.conn
	s.closeSession(sess, why)
	if c != nil {
		// Closed after the deletes are queued: the client learns of the
		// expiry when it reconnects and is refused.
		s.pipe.push(&entry{after: func() { c.close("session expired") }})
	}
}

// proposeExpiry asks the ensemble to close an expired session. Only the
// leader calls it. Callers hold s.mu.
func (s *Server) proposeExpiry(sess *session) {
	sess.expiring = true
	w := cmdWriter{b: ensemble.NewEntry(ensemble.FlagZxid, 32)}
	w.u8(cmdCloseSession)
	w.u64(uint64(sess.id))
	w.str("expired")
	s.repl.Propose(w.b, 0)
}

// proposeReap asks the ensemble to delete an empty container or expired
// TTL node. Callers hold s.mu.
func (s *Server) proposeReap(path string) {
	w := cmdWriter{b: ensemble.NewEntry(ensemble.FlagZxid, len(path)+8)}
	w.u8(cmdReap)
	w.str(path)
	s.repl.Propose(w.b, 0)
}

// proposeSession asks the ensemble to create a session for a new
// connection. Callers hold s.mu.
func (s *Server) proposeSession(c *conn, timeout time.Duration, readOnly bool) {
	id := s.sessions.newID()
	pw := newPasswd()
	w := cmdWriter{b: ensemble.NewEntry(ensemble.FlagZxid, 64)}
	w.u8(cmdCreateSession)
	w.u8(byte(s.repl.ID()))
	w.u64(c.id)
	w.u64(uint64(id))
	w.u32(uint32(timeout.Milliseconds()))
	w.bytes(pw)
	ro := byte(0)
	if readOnly {
		ro = 1
	}
	w.u8(ro)
	s.repl.Propose(w.b, c.id)
}

// ProposeNotifierAck replicates a notifier plugin's acknowledged position,
// so the member that leads next resumes its delivery from there. Only the
// leader, which runs the plugins, calls it.
func (s *Server) ProposeNotifierAck(name string, zxid int64) {
	if s.repl == nil {
		return
	}
	w := cmdWriter{b: ensemble.NewEntry(0, len(name)+16)}
	w.u8(cmdNotifierAck)
	w.str(name)
	w.u64(uint64(zxid))
	s.repl.Propose(w.b, 0)
}

// applyNotifierAck hands a replicated plugin position to
// Options.OnNotifierAck on the members that do not run the plugins. It
// changes no tree state and takes no zxid; it runs without s.mu, since the
// callback writes a file.
func (s *Server) applyNotifierAck(r *cmdReader) {
	name := r.str()
	zxid := int64(r.u64())
	if r.err != nil || s.opts.OnNotifierAck == nil {
		return
	}
	s.mu.Lock()
	leading := s.leading
	s.mu.Unlock()
	if leading {
		return // the leader's own plugin host keeps its ack files
	}
	if err := s.opts.OnNotifierAck(name, zxid); err != nil {
		s.log.Warn("cannot store a notifier's replicated position", "notifier", name, "zxid", hex64(zxid), "err", err)
	}
}

// connectReadOnly answers a client that accepts a read-only server while
// this member is outside a quorum, as ZooKeeper's read-only mode does: it
// reads this member's state, every write (and sync) gets NotReadOnly, and
// the connection is closed once the member is in a quorum again, so the
// client reconnects to a member that can write. A new session is this
// member's alone (it is not replicated and never expires elsewhere); a
// client re-attaching to a session the ensemble knows keeps its id and
// password, but its session is not kept alive meanwhile. Callers hold
// s.mu.
func (s *Server) connectReadOnly(c *conn, req proto.ConnectRequest) bool {
	timeout := time.Duration(req.TimeOut) * time.Millisecond
	timeout = min(max(timeout, s.opts.MinSessionTimeout), s.opts.MaxSessionTimeout)
	var sess *session
	if req.SessionID != 0 {
		known := s.sessions.get(req.SessionID)
		if known == nil || known.closing || !bytes.Equal(known.passwd, req.Passwd) {
			c.close("read-only re-attach: unknown session")
			return false
		}
		sess = &session{id: known.id, passwd: known.passwd, timeout: timeout}
	} else {
		sess = &session{id: s.sessions.newID(), passwd: newPasswd(), timeout: timeout}
	}
	c.readOnly = true
	c.sess = sess
	c.sessionIDForLog.Store(sess.id)
	resp := proto.ConnectResponse{HasReadOnly: req.HasReadOnly, ReadOnly: true, TimeOut: int32(timeout.Milliseconds()), SessionID: sess.id, Passwd: sess.passwd}
	s.pipe.push(&entry{out: []delivery{{c: c, frame: frame(resp.Encode)}}})
	c.markReady()
	s.log.Info("read-only session: this member is not in a quorum", "session", hex64(sess.id), "conn", c.nc.RemoteAddr().String())
	return true
}

// LastZxid is the zxid of the last applied transaction.
func (s *Server) LastZxid() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastZxid
}

// ProposalFailed closes the connection whose write may or may not have
// been committed: its client reconnects, as after any lost connection,
// and learns the outcome by reading.
func (s *Server) ProposalFailed(origin uint64, err error) {
	if origin == 0 {
		return
	}
	s.mu.Lock()
	c := s.conns[origin]
	s.mu.Unlock()
	if c != nil {
		s.log.Warn("closing connection: its write's outcome is unknown", "conn", c.nc.RemoteAddr().String(),
			"session", c.sessionHex(), "err", err)
		c.close("write not confirmed by the leader: " + err.Error())
	}
}

// LeadershipChanged starts or stops the leader's duties. A new leader
// gives every session a full timeout from now, as ZooKeeper's does: the
// touches the former leader had are lost with it.
func (s *Server) LeadershipChanged(leader bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leading = leader
	now := time.Now()
	for _, sess := range s.sessions.byID {
		sess.expiring = false
		if leader && !sess.closing {
			s.sessions.touch(sess, now)
		}
	}
	if leader {
		s.sessions.next = s.sessions.roundUp(now.UnixMilli())
		s.wakeExpiry()
	}
}

// Touched, on the leader, keeps alive the sessions other members' clients
// touched.
func (s *Server) Touched(ids []int64, timeouts []int32) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, id := range ids {
		sess := s.sessions.get(id)
		if sess == nil || sess.closing {
			continue
		}
		if to := time.Duration(timeouts[i]) * time.Millisecond; to > 0 {
			sess.timeout = to
		}
		s.sessions.touch(sess, now)
	}
	s.wakeExpiry()
}

// snapshotHeader starts a replicated snapshot. Nodes and then sessions
// follow, one gob value each.
type snapshotHeader struct {
	Format   int
	LastZxid int64
	Nodes    int
	Sessions int
}

const snapshotFormat = 1

// Snapshot captures the tree and sessions for a raft snapshot. The tree is
// written as it is now while applying goes on (tree.Snapshot): the
// server's lock is held only for stretches of a few thousand nodes, so a
// snapshot of a large tree does not stall clients.
func (s *Server) Snapshot() (func(io.Writer) error, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.tree.StartSnapshot()
	if snap == nil {
		return nil, nil, errors.New("server: a snapshot is already being written")
	}
	nodes := s.tree.Len()
	sessions := make([]storage.Session, 0, s.sessions.len())
	for _, sess := range s.sessions.byID {
		sessions = append(sessions, sess.record())
	}
	last := s.lastZxid
	write := func(w io.Writer) error {
		enc := gob.NewEncoder(w)
		if err := enc.Encode(snapshotHeader{Format: snapshotFormat, LastZxid: last, Nodes: nodes, Sessions: len(sessions)}); err != nil {
			return err
		}
		written := 0
		err := snap.Each(&s.mu, func(n storage.Node) error {
			written++
			return enc.Encode(&n)
		})
		if err == nil && written != nodes {
			err = fmt.Errorf("server: snapshot wrote %d nodes, the tree had %d", written, nodes)
		}
		if err != nil {
			return err
		}
		for i := range sessions {
			if err := enc.Encode(&sessions[i]); err != nil {
				return err
			}
		}
		return nil
	}
	release := func() {
		s.mu.Lock()
		snap.Close()
		s.mu.Unlock()
	}
	return write, release, nil
}

// Restore replaces the state with a snapshot's, unless the state already
// covers it (a restart, where storage holds a newer state than the last
// snapshot). Client connections are closed: their watches were set on a
// state that is gone, and they re-arm them on reconnect.
func (s *Server) Restore(r io.Reader) error {
	dec := gob.NewDecoder(r)
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("server: read snapshot header: %w", err)
	}
	if h.Format != snapshotFormat {
		return fmt.Errorf("server: snapshot format %d, this zkx reads %d", h.Format, snapshotFormat)
	}
	s.mu.Lock()
	current := s.lastZxid
	s.mu.Unlock()
	if h.LastZxid <= current {
		s.log.Info("raft snapshot is not newer than the stored state; keeping the stored state",
			"snapshot_zxid", hex64(h.LastZxid), "stored_zxid", hex64(current))
		return nil
	}
	b := tree.NewBuilder()
	puts := make([]storage.Node, 0, h.Nodes)
	for range h.Nodes {
		var n storage.Node
		if err := dec.Decode(&n); err != nil {
			return fmt.Errorf("server: read snapshot node: %w", err)
		}
		if err := b.Add(n); err != nil {
			return err
		}
		puts = append(puts, n)
	}
	sessions := make([]storage.Session, 0, h.Sessions)
	for range h.Sessions {
		var ss storage.Session
		if err := dec.Decode(&ss); err != nil {
			return fmt.Errorf("server: read snapshot session: %w", err)
		}
		sessions = append(sessions, ss)
	}
	t, err := b.Finish()
	if err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	batch := storage.Batch{Zxid: h.LastZxid, Puts: puts, SessionPuts: sessions}
	keep := make(map[string]bool, len(puts))
	for _, n := range puts {
		keep[n.Path] = true
	}
	for _, n := range s.tree.Records() {
		if !keep[n.Path] {
			batch.Deletes = append(batch.Deletes, n.Path)
		}
	}
	keepSess := make(map[int64]bool, len(sessions))
	for _, ss := range sessions {
		keepSess[ss.ID] = true
	}
	for id := range s.sessions.byID {
		if !keepSess[id] {
			batch.SessionDeletes = append(batch.SessionDeletes, id)
		}
	}
	for _, c := range s.conns {
		c.close("member restored from a snapshot")
	}
	s.tree = t
	s.sessions = newSessionTable(s.opts.TickTime, time.Now())
	for _, ss := range sessions {
		s.sessions.restore(ss, time.Now())
	}
	s.lastZxid = h.LastZxid
	s.window = changelog.New(h.LastZxid, s.opts.ReplayWindow)
	s.pipe.push(&entry{batch: &batch})
	s.log.Info("restored from a raft snapshot", "zxid", hex64(h.LastZxid), "nodes", len(puts), "sessions", len(sessions))
	return nil
}
