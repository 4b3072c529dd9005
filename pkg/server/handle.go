package server

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/tree"
	"github.com/zkx-dev/zkx/pkg/watch/oneshot"
	"github.com/zkx-dev/zkx/pkg/watch/persistent"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// frame encodes a complete length-prefixed frame.
func frame(body func(e *proto.Encoder)) []byte {
	e := proto.NewEncoder(make([]byte, 0, 64))
	start := e.BeginFrame()
	body(e)
	e.EndFrame(start)
	return e.Bytes()
}

// request is one request being handled under s.mu.
type request struct {
	// c is the connection to answer; nil when a replicated write is
	// applied on a member other than the one its client is connected to.
	c *conn
	// sess and auth are the session and identities the request acts as.
	sess   *session
	auth   []znode.ID
	events []znode.Event // of the write this request made, if any
	undo   func()        // reverts that write if it cannot be made durable
	xid    int32
	op     int32
	d      *proto.Decoder
	batch  *storage.Batch
	out    []delivery // notifications to send before the reply
	// closeAfter, when set, closes the connection once the reply is sent.
	closeAfter string
}

type encodeFn func(e *proto.Encoder)

// handleConnect answers the first frame of a connection: the
// ConnectRequest. It reports whether the connection goes on.
func (s *Server) handleConnect(c *conn, payload []byte) bool {
	var req proto.ConnectRequest
	d := proto.NewDecoder(payload)
	req.Decode(d)
	if err := d.Err(); err != nil {
		s.log.Warn("closing connection: malformed connect request", "conn", c.nc.RemoteAddr().String(), "err", err)
		c.close("malformed connect request")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		c.close("server shutting down")
		return false
	}
	if s.repl != nil && !s.repl.Serving() {
		if req.ReadOnly {
			// The client accepts a read-only server (canBeReadOnly).
			return s.connectReadOnly(c, req)
		}
		// A member outside the quorum cannot serve: the client tries the
		// next server of its connect string.
		s.log.Info("refusing client: this member is not in a quorum", "conn", c.nc.RemoteAddr().String(), "role", s.repl.Role())
		c.close("member not in a quorum")
		return false
	}
	if req.LastZxidSeen > s.lastZxid {
		// The client has seen a newer state than this server holds; it
		// must try another server (ZooKeeper closes without a reply).
		s.log.Warn("refusing client that is ahead of the server", "conn", c.nc.RemoteAddr().String(),
			"client_zxid", hex64(req.LastZxidSeen), "server_zxid", hex64(s.lastZxid))
		c.close("client zxid ahead of server")
		return false
	}
	timeout := time.Duration(req.TimeOut) * time.Millisecond
	timeout = min(max(timeout, s.opts.MinSessionTimeout), s.opts.MaxSessionTimeout)
	resp := proto.ConnectResponse{HasReadOnly: req.HasReadOnly}
	e := &entry{}
	now := time.Now()
	if req.SessionID == 0 && s.repl != nil {
		// The session is created by the log; applyCreateSession answers
		// and lets the reader go on.
		s.proposeSession(c, timeout, req.HasReadOnly)
		return true
	}
	if req.SessionID == 0 {
		if err := s.writesRefused(); err != nil {
			// A session that cannot be persisted is not created; the
			// client retries, as after any failed connection attempt.
			s.log.Warn("refusing new session", "conn", c.nc.RemoteAddr().String(), "err", err)
			c.close("new session refused: storage unavailable")
			return false
		}
		sess := s.sessions.create(timeout, now)
		zxid := s.nextZxid()
		e.batch = &storage.Batch{Zxid: zxid, SessionPuts: []storage.Session{sess.record()}}
		e.undo = func() { s.sessions.remove(sess); c.sess = nil }
		e.newConn = c
		s.attach(c, sess)
		resp.TimeOut, resp.SessionID, resp.Passwd = int32(timeout.Milliseconds()), sess.id, sess.passwd
		s.log.Debug("session created", "session", hex64(sess.id), "timeout", timeout, "conn", c.nc.RemoteAddr().String())
	} else {
		sess := s.sessions.get(req.SessionID)
		if sess == nil || sess.closing || !bytes.Equal(sess.passwd, req.Passwd) {
			reason := "unknown or expired session"
			if sess != nil && !sess.closing {
				reason = "wrong session password"
			}
			s.log.Info("refusing re-attach", "session", hex64(req.SessionID), "reason", reason, "conn", c.nc.RemoteAddr().String())
			resp.Passwd = make([]byte, 16)
			e.out = []delivery{{c: c, frame: frame(resp.Encode)}}
			e.after = func() { c.closeAfterFlush(reason) }
			s.pipe.push(e)
			return false
		}
		if old := sess.conn; old != nil && old != c {
			old.close("session moved to a new connection")
			sess.conn = nil
		}
		renegotiated := sess.timeout != timeout
		sess.timeout = timeout
		s.sessions.touch(sess, now)
		s.attach(c, sess)
		if s.repl != nil {
			s.repl.Touch(sess.id, int32(timeout.Milliseconds()))
		} else if renegotiated {
			e.batch = &storage.Batch{Zxid: s.lastZxid, SessionPuts: []storage.Session{sess.record()}}
		}
		resp.TimeOut, resp.SessionID, resp.Passwd = int32(timeout.Milliseconds()), sess.id, sess.passwd
		s.log.Debug("session re-attached", "session", hex64(sess.id), "timeout", timeout, "conn", c.nc.RemoteAddr().String())
	}
	e.out = []delivery{{c: c, frame: frame(resp.Encode)}}
	s.pipe.push(e)
	c.markReady()
	return true
}

func (s *Server) attach(c *conn, sess *session) {
	sess.conn = c
	c.sess = sess
	c.sessionIDForLog.Store(sess.id)
}

// handleRequest handles one framed request. It reports whether the
// connection goes on reading.
func (s *Server) handleRequest(c *conn, frameBytes []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ended {
		return false
	}
	if s.repl != nil && (c.pending > 0 || len(c.deferred) > 0) {
		// A write of this connection is in the log: later requests wait
		// for its reply, so the connection is answered in order and
		// reads see the connection's own writes.
		c.deferred = append(c.deferred, append([]byte(nil), frameBytes...))
		return true
	}
	return s.handleLocked(c, frameBytes, time.Now())
}

// handleLocked handles one request. Callers hold s.mu.
func (s *Server) handleLocked(c *conn, frameBytes []byte, start time.Time) bool {
	d := proto.NewDecoder(frameBytes)
	var h proto.RequestHeader
	h.Decode(d)
	if d.Err() != nil {
		s.log.Warn("closing connection: malformed request header", "conn", c.nc.RemoteAddr().String(), "session", c.sessionHex())
		c.close("malformed request header")
		return false
	}
	c.lastOp.Store(h.Type)
	c.lastXid.Store(h.Xid)

	sess := c.sess
	r := &request{c: c, sess: sess, auth: c.auth, xid: h.Xid, op: h.Type, d: d}
	if sess == nil || sess.closing || s.closing {
		r.closeAfter = "session expired"
		s.push(r, proto.CodeSessionExpired, nil)
		return false
	}
	if c.readOnly {
		if replicated(h.Type) {
			if h.Type == proto.OpCloseSession {
				// A read-only session is this member's alone: closing it
				// is closing the connection.
				r.closeAfter = "read-only session closed by client"
				s.push(r, proto.CodeOk, nil)
				return false
			}
			s.push(r, proto.CodeNotReadOnly, nil)
			return true
		}
	} else {
		s.sessions.touch(sess, start)
	}
	if s.repl != nil && !c.readOnly {
		s.repl.Touch(sess.id, int32(sess.timeout.Milliseconds()))
		if replicated(h.Type) {
			s.proposeRequest(c, h, frameBytes[len(frameBytes)-d.Remaining():])
			return true
		}
	}
	body, err := s.dispatch(r)
	if derr := d.Err(); derr != nil && err == nil {
		err = derr
	}
	code := proto.Code(err)
	if err != nil && code == proto.CodeSystemError && !errors.Is(err, errStorageUnavailable) {
		s.log.Error("request failed", "op", proto.OpName(h.Type), "session", hex64(sess.id), "err", err)
	}
	s.push(r, code, body)
	s.stats.observe(time.Since(start))
	return r.closeAfter == ""
}

// entry is what the request hands to the pipeline: its batch, events,
// notifications and the undo of its write.
func (r *request) entry() *entry {
	return &entry{batch: r.batch, events: r.events, out: r.out, undo: r.undo}
}

// push queues the reply (after the request's notifications) on the pipeline.
func (s *Server) push(r *request, code int32, body encodeFn) {
	hdr := proto.ReplyHeader{Xid: r.xid, Zxid: s.lastZxid, Err: code}
	if r.xid == proto.XidAuth {
		hdr.Zxid = 0
	}
	if r.c == nil {
		// A replicated write applied away from its client's member: its
		// effects and notifications only.
		s.pipe.push(r.entry())
		return
	}
	r.c.lastZxid.Store(hdr.Zxid)
	reply := frame(func(e *proto.Encoder) {
		hdr.Encode(e)
		if code == proto.CodeOk && body != nil {
			body(e)
		}
	})
	r.out = append(r.out, delivery{c: r.c, frame: reply})
	e := r.entry()
	e.xid = r.xid
	e.reply = &e.out[len(e.out)-1]
	if r.closeAfter != "" {
		c, reason := r.c, r.closeAfter
		e.after = func() { c.closeAfterFlush(reason) }
	}
	s.pipe.push(e)
}

// dispatch decodes and runs one request. Callers hold s.mu.
func (s *Server) dispatch(r *request) (encodeFn, error) {
	switch r.op {
	case proto.OpPing:
		return nil, nil
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
		return s.opCreate(r)
	case proto.OpDelete:
		var req proto.DeleteRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		_, err := s.write(r, tree.Delete{Path: req.Path, Version: req.Version})
		return nil, err
	case proto.OpDeleteContainer:
		var req proto.PathRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		_, err := s.write(r, tree.DeleteContainer{Path: req.Path})
		return nil, err
	case proto.OpSetData:
		var req proto.SetDataRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		out, err := s.write(r, tree.SetData{Path: req.Path, Data: req.Data, Version: req.Version})
		if err != nil {
			return nil, err
		}
		return statBody(out.Results[0].Stat), nil
	case proto.OpSetACL:
		var req proto.SetACLRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		out, err := s.write(r, tree.SetACL{Path: req.Path, ACL: req.ACL, Version: req.Version})
		if err != nil {
			return nil, err
		}
		return statBody(out.Results[0].Stat), nil
	case proto.OpExists:
		return s.opExists(r)
	case proto.OpGetData:
		return s.opGetData(r)
	case proto.OpGetChildren, proto.OpGetChildren2:
		return s.opGetChildren(r)
	case proto.OpGetACL:
		var req proto.GetACLRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		acl, st, err := s.tree.GetACL(req.Path, r.c.auth)
		if err != nil {
			return nil, err
		}
		return (&proto.GetACLResponse{ACL: acl, Stat: st}).Encode, nil
	case proto.OpSync:
		var req proto.SyncRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		// The pipeline answers a sync only after every write queued before
		// it is durable, which is what sync promises.
		return (&proto.SyncResponse{Path: req.Path}).Encode, nil
	case proto.OpGetAllChildrenNumber:
		var req proto.PathRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		n, err := s.tree.AllChildrenNumber(req.Path, r.c.auth)
		if err != nil {
			return nil, err
		}
		return (&proto.GetAllChildrenNumberResponse{TotalNumber: n}).Encode, nil
	case proto.OpGetEphemerals:
		var req proto.GetEphemeralsRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		eph := s.tree.Ephemerals(r.c.sess.id, req.PrefixPath)
		return (&proto.GetEphemeralsResponse{Ephemerals: eph}).Encode, nil
	case proto.OpMulti:
		return s.opMulti(r)
	case proto.OpMultiRead:
		return s.opMultiRead(r)
	case proto.OpAuth:
		return nil, s.opAuth(r)
	case proto.OpSetWatches, proto.OpSetWatches2:
		return nil, s.opSetWatches(r)
	case proto.OpCheckWatches, proto.OpRemoveWatches:
		return nil, s.opWatchRemoval(r)
	case proto.OpAddWatch:
		return s.opAddWatch(r)
	case proto.OpWhoAmI:
		return s.opWhoAmI(r), nil
	case proto.OpReconfig:
		var req proto.ReconfigRequest
		req.Decode(r.d)
		if err := r.d.Err(); err != nil {
			return nil, err
		}
		return nil, znode.ErrReconfigDisabled
	case proto.OpSASL:
		// zkx has no SASL provider: answer like a failed authentication.
		r.closeAfter = "sasl authentication is not supported"
		return nil, znode.ErrAuthFailed
	case proto.OpCloseSession:
		s.closeSession(r.sess, "closed by client")
		r.closeAfter = "session closed by client"
		return nil, nil
	default:
		// Notification (0), a standalone check (13), internal opcodes and
		// anything unknown: ZooKeeper answers Unimplemented and closes.
		s.log.Warn("closing connection: unimplemented opcode", "op", r.op, "session", hex64(r.c.sess.id),
			"conn", r.c.nc.RemoteAddr().String())
		r.closeAfter = fmt.Sprintf("unimplemented opcode %d", r.op)
		return nil, znode.ErrUnimplemented
	}
}

func statBody(st znode.Stat) encodeFn {
	return (&proto.StatResponse{Stat: st}).Encode
}

// write applies ops as one transaction under the next zxid and fires the
// watches of its events. A failed transaction consumes no zxid and
// changes nothing.
func (s *Server) write(r *request, ops ...tree.Op) (tree.Outcome, error) {
	if err := s.writesRefused(); err != nil {
		return tree.Outcome{}, err
	}
	out := s.tree.Apply(s.txn(r.sess.id, r.auth), ops...)
	if out.Err != nil {
		return out, out.Err
	}
	s.commit(r, out)
	return out, nil
}

func (s *Server) txn(session int64, auth []znode.ID) tree.Txn {
	now := s.applyTime // the leader's stamp, for a replicated transaction
	if now == 0 {
		now = nowMillis()
	}
	return tree.Txn{Zxid: s.lastZxid + 1, Time: now, Session: session, Auth: auth, ExtendedTypes: s.opts.ExtendedTypes}
}

// commit records a successful transaction: it takes its zxid, queues its
// batch and resolves its notifications.
func (s *Server) commit(r *request, out tree.Outcome) {
	s.lastZxid++
	b := out.Batch
	b.Zxid = s.lastZxid
	b.Events = out.Events
	r.batch = &b
	r.undo = out.Undo
	r.out = s.fire(out.Events, r.out)
	r.events = out.Events
	s.window.Append(out.Events)
	s.stats.writes.Add(1)
}

func (s *Server) opCreate(r *request) (encodeFn, error) {
	var c tree.Create
	if r.op == proto.OpCreateTTL {
		var req proto.CreateTTLRequest
		req.Decode(r.d)
		c = tree.Create{Path: req.Path, Data: req.Data, ACL: req.ACL, Mode: znode.CreateMode(req.Flags), TTL: req.TTL}
	} else {
		var req proto.CreateRequest
		req.Decode(r.d)
		c = tree.Create{Path: req.Path, Data: req.Data, ACL: req.ACL, Mode: znode.CreateMode(req.Flags), TTL: -1}
	}
	if err := r.d.Err(); err != nil {
		return nil, err
	}
	if r.op == proto.OpCreateContainer && c.Mode != znode.ModeContainer {
		return nil, fmt.Errorf("%w: createContainer needs the CONTAINER flag", znode.ErrBadArguments)
	}
	out, err := s.write(r, c)
	if err != nil {
		return nil, err
	}
	res := out.Results[0]
	if r.op == proto.OpCreate {
		return (&proto.CreateResponse{Path: res.Path}).Encode, nil
	}
	return (&proto.Create2Response{Path: res.Path, Stat: res.Stat}).Encode, nil
}

func (s *Server) opExists(r *request) (encodeFn, error) {
	var req proto.ExistsRequest
	req.Decode(r.d)
	if err := r.d.Err(); err != nil {
		return nil, err
	}
	st, err := s.tree.Exists(req.Path, r.c.auth)
	// An exists watch is set on a missing node too: it fires NodeCreated.
	if req.Watch && (err == nil || errors.Is(err, znode.ErrNoNode)) {
		s.oneshot.Add(oneshot.Data, req.Path, r.c.id)
	}
	if err != nil {
		return nil, err
	}
	return statBody(st), nil
}

func (s *Server) opGetData(r *request) (encodeFn, error) {
	var req proto.GetDataRequest
	req.Decode(r.d)
	if err := r.d.Err(); err != nil {
		return nil, err
	}
	data, st, err := s.tree.GetData(req.Path, r.c.auth)
	if err != nil {
		return nil, err
	}
	if req.Watch {
		s.oneshot.Add(oneshot.Data, req.Path, r.c.id)
	}
	return (&proto.GetDataResponse{Data: data, Stat: st}).Encode, nil
}

func (s *Server) opGetChildren(r *request) (encodeFn, error) {
	var req proto.GetChildrenRequest
	req.Decode(r.d)
	if err := r.d.Err(); err != nil {
		return nil, err
	}
	children, st, err := s.tree.Children(req.Path, r.c.auth)
	if err != nil {
		return nil, err
	}
	if req.Watch {
		s.oneshot.Add(oneshot.Child, req.Path, r.c.id)
	}
	if r.op == proto.OpGetChildren {
		return (&proto.GetChildrenResponse{Children: children}).Encode, nil
	}
	return (&proto.GetChildren2Response{Children: children, Stat: st}).Encode, nil
}

// opMulti runs a write multi atomically. The reply header's err is 0 even
// when an op fails; the per-op results carry the codes.
func (s *Server) opMulti(r *request) (encodeFn, error) {
	var req proto.MultiRequest
	req.Decode(r.d)
	if err := r.d.Err(); err != nil {
		return nil, err
	}
	ops := make([]tree.Op, 0, len(req.Ops))
	for i := range req.Ops {
		op := &req.Ops[i]
		switch op.EffectiveType() {
		case proto.OpCreate, proto.OpCreateContainer:
			ops = append(ops, tree.Create{Path: op.Path, Data: op.Data, ACL: op.ACL, Mode: znode.CreateMode(op.Flags), TTL: -1})
		case proto.OpCreateTTL:
			ops = append(ops, tree.Create{Path: op.Path, Data: op.Data, ACL: op.ACL, Mode: znode.CreateMode(op.Flags), TTL: op.TTL})
		case proto.OpDelete:
			ops = append(ops, tree.Delete{Path: op.Path, Version: op.Version})
		case proto.OpSetData:
			ops = append(ops, tree.SetData{Path: op.Path, Data: op.Data, Version: op.Version})
		case proto.OpCheck:
			ops = append(ops, tree.Check{Path: op.Path, Version: op.Version})
		default:
			return nil, fmt.Errorf("%w: op %s is not allowed in a multi", znode.ErrMarshalling, proto.OpName(op.Type))
		}
	}
	resp := proto.MultiResponse{Results: make([]proto.MultiResult, len(ops))}
	if len(ops) == 0 {
		return resp.Encode, nil
	}
	if err := s.writesRefused(); err != nil {
		return nil, err
	}
	out := s.tree.Apply(s.txn(r.sess.id, r.auth), ops...)
	if out.Err == nil {
		s.commit(r, out)
	}
	for i, res := range out.Results {
		mr := &resp.Results[i]
		if out.Err != nil {
			mr.Type, mr.Err = proto.OpError, proto.Code(res.Err)
			continue
		}
		// A create reports a path-only result; createTTL and
		// createContainer report create2 (path and Stat).
		switch t := req.Ops[i].EffectiveType(); t {
		case proto.OpCreate:
			mr.Type, mr.Path = proto.OpCreate, res.Path
		case proto.OpCreateContainer, proto.OpCreateTTL:
			mr.Type, mr.Path, mr.Stat = proto.OpCreate2, res.Path, res.Stat
		case proto.OpSetData:
			mr.Type, mr.Stat = proto.OpSetData, res.Stat
		default:
			mr.Type = t
		}
	}
	return resp.Encode, nil
}

// opMultiRead runs independent reads; a failed read is an error result and
// the others still answer. Sub-reads never set watches.
func (s *Server) opMultiRead(r *request) (encodeFn, error) {
	var req proto.MultiRequest
	req.Decode(r.d)
	if err := r.d.Err(); err != nil {
		return nil, err
	}
	resp := proto.MultiResponse{Results: make([]proto.MultiResult, len(req.Ops))}
	for i, op := range req.Ops {
		mr := &resp.Results[i]
		var err error
		switch op.Type {
		case proto.OpGetData:
			mr.Data, mr.Stat, err = s.tree.GetData(op.Path, r.c.auth)
		case proto.OpGetChildren:
			mr.Children, _, err = s.tree.Children(op.Path, r.c.auth)
		default:
			return nil, fmt.Errorf("%w: op %s is not allowed in a multiRead", znode.ErrMarshalling, proto.OpName(op.Type))
		}
		if err != nil {
			*mr = proto.MultiResult{Type: proto.OpError, Err: proto.Code(err)}
			continue
		}
		mr.Type = op.Type
	}
	return resp.Encode, nil
}

// opAuth handles an auth packet. digest and ip are known; any other scheme
// fails and the connection is closed after the reply, as in ZooKeeper.
func (s *Server) opAuth(r *request) error {
	var req proto.AuthPacket
	req.Decode(r.d)
	if err := r.d.Err(); err != nil {
		return err
	}
	var ids []znode.ID
	switch req.Scheme {
	case "digest":
		id := digestID(string(req.Auth))
		if s.opts.SuperDigest != "" && id == s.opts.SuperDigest {
			ids = append(ids, znode.SuperID)
		}
		ids = append(ids, znode.ID{Scheme: "digest", ID: id})
	case "ip":
		ids = append(ids, znode.ID{Scheme: "ip", ID: r.c.remote})
	default:
		s.stats.authFailed.Add(1)
		s.log.Info("authentication failed", "scheme", req.Scheme, "session", hex64(r.c.sess.id), "conn", r.c.nc.RemoteAddr().String())
		r.closeAfter = "authentication failed"
		return znode.ErrAuthFailed
	}
	for _, id := range ids {
		if !containsID(r.c.auth, id) {
			r.c.auth = append(r.c.auth, id)
		}
	}
	return nil
}

func containsID(ids []znode.ID, id znode.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// digestID turns "user:password" into the digest id "user:BASE64(SHA1)".
func digestID(userPass string) string {
	user, _, _ := strings.Cut(userPass, ":")
	sum := sha1.Sum([]byte(userPass))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

func (s *Server) opWhoAmI(r *request) encodeFn {
	resp := proto.WhoAmIResponse{}
	for _, id := range r.c.auth {
		user := id.ID
		if id.Scheme == "digest" {
			user, _, _ = strings.Cut(id.ID, ":")
		}
		resp.ClientInfo = append(resp.ClientInfo, proto.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return resp.Encode
}

// opSetWatches re-arms a reconnecting client's watches. One-shot watches
// whose node changed after relativeZxid fire at once (zxid -1, no ACL
// check) instead of being re-armed; persistent and recursive watches are
// re-armed as they are.
func (s *Server) opSetWatches(r *request) error {
	var sw proto.SetWatches2
	if r.op == proto.OpSetWatches {
		var v1 proto.SetWatches
		v1.Decode(r.d)
		sw = proto.SetWatches2{RelativeZxid: v1.RelativeZxid, DataWatches: v1.DataWatches, ExistWatches: v1.ExistWatches, ChildWatches: v1.ChildWatches}
	} else {
		sw.Decode(r.d)
	}
	if err := r.d.Err(); err != nil {
		return err
	}
	c := r.c
	s.replayMissed(r, sw.RelativeZxid, sw.PersistentWatches, sw.PersistentRecursiveWatches)
	send := func(t znode.EventType, p string) {
		r.out = append(r.out, delivery{c: c, frame: notification(t, p, -1)})
	}
	for _, p := range sw.DataWatches {
		st, _, ok := s.tree.Stat(p)
		switch {
		case !ok:
			send(znode.EventNodeDeleted, p)
		case st.Mzxid > sw.RelativeZxid:
			send(znode.EventNodeDataChanged, p)
		default:
			s.oneshot.Add(oneshot.Data, p, c.id)
		}
	}
	for _, p := range sw.ExistWatches {
		if _, _, ok := s.tree.Stat(p); ok {
			send(znode.EventNodeCreated, p)
		} else {
			s.oneshot.Add(oneshot.Data, p, c.id)
		}
	}
	for _, p := range sw.ChildWatches {
		st, _, ok := s.tree.Stat(p)
		switch {
		case !ok:
			send(znode.EventNodeDeleted, p)
		case st.Pzxid > sw.RelativeZxid:
			send(znode.EventNodeChildrenChanged, p)
		default:
			s.oneshot.Add(oneshot.Child, p, c.id)
		}
	}
	for _, p := range sw.PersistentWatches {
		s.persist.Add(p, c.id, persistent.Persistent)
	}
	for _, p := range sw.PersistentRecursiveWatches {
		s.persist.Add(p, c.id, persistent.Recursive)
	}
	s.log.Debug("watches re-armed", "session", hex64(r.sess.id), "relative_zxid", hex64(sw.RelativeZxid),
		"data", len(sw.DataWatches), "exist", len(sw.ExistWatches), "child", len(sw.ChildWatches),
		"persistent", len(sw.PersistentWatches), "recursive", len(sw.PersistentRecursiveWatches), "fired_at_once", len(r.out))
	return nil
}

func (s *Server) opAddWatch(r *request) (encodeFn, error) {
	var req proto.AddWatchRequest
	req.Decode(r.d)
	if err := r.d.Err(); err != nil {
		return nil, err
	}
	switch znode.AddWatchMode(req.Mode) {
	case znode.AddWatchPersistent:
		s.persist.Add(req.Path, r.c.id, persistent.Persistent)
	case znode.AddWatchPersistentRecursive:
		s.persist.Add(req.Path, r.c.id, persistent.Recursive)
	default:
		return nil, fmt.Errorf("%w: unknown addWatch mode %d", znode.ErrMarshalling, req.Mode)
	}
	// The Java client reads an ErrorResponse{0} body on success.
	return (&proto.ErrorResponse{Err: 0}).Encode, nil
}

// opWatchRemoval handles checkWatches (17) and removeWatches (18) with
// ZooKeeper 3.9's per-type meaning: Children and Data touch only one-shot
// watches, Persistent and PersistentRecursive only their mode, Any all.
func (s *Server) opWatchRemoval(r *request) error {
	var req proto.CheckWatchesRequest
	req.Decode(r.d)
	if err := r.d.Err(); err != nil {
		return err
	}
	t := znode.WatcherType(req.Type)
	if !t.Valid() {
		return fmt.Errorf("%w: unknown watcher type %d", znode.ErrMarshalling, req.Type)
	}
	w, p := r.c.id, req.Path
	remove := r.op == proto.OpRemoveWatches
	oneshotKind := func(k oneshot.Kind) bool {
		if remove {
			return s.oneshot.Remove(k, p, w)
		}
		return s.oneshot.Contains(k, p, w)
	}
	persistMode := func(m persistent.Mode) bool {
		if remove {
			return s.persist.Remove(p, w, m)
		}
		return s.persist.Contains(p, w, m)
	}
	var found bool
	switch t {
	case znode.WatcherChildren:
		found = oneshotKind(oneshot.Child)
	case znode.WatcherData:
		found = oneshotKind(oneshot.Data)
	case znode.WatcherPersistent:
		found = persistMode(persistent.Persistent)
	case znode.WatcherPersistentRecursive:
		found = persistMode(persistent.Recursive)
	case znode.WatcherAny:
		// Evaluate every kind: removal must clear them all.
		a := oneshotKind(oneshot.Child)
		b := oneshotKind(oneshot.Data)
		c := persistMode(persistent.Persistent)
		d := persistMode(persistent.Recursive)
		found = a || b || c || d
	}
	if !found {
		return znode.ErrNoWatcher
	}
	return nil
}

// closeSession ends a session: its ephemerals are deleted under one zxid,
// with the usual events, and the session is forgotten. Callers hold s.mu;
// the connection, if any, is the caller's to close.
func (s *Server) closeSession(sess *session, why string) {
	if sess.closing {
		return
	}
	sess.closing = true
	out := s.tree.KillSession(s.txn(sess.id, nil))
	r := &request{}
	s.commit(r, out)
	r.batch.SessionDeletes = append(r.batch.SessionDeletes, sess.id)
	s.sessions.remove(sess)
	e := r.entry()
	e.undo = func() {
		// The session and its ephemerals live on; expiry will try again.
		r.undo()
		sess.closing = false
		s.sessions.byID[sess.id] = sess
		s.sessions.touch(sess, time.Now())
	}
	s.pipe.push(e)
	s.log.Debug("session closed", "session", hex64(sess.id), "why", why, "ephemerals", len(out.Events))
}

// replayMissed sends a reconnecting client the events its persistent and
// recursive watches would have received while it was disconnected, in
// zxid order with their original zxids, ahead of everything else in the
// setWatches2 reply. It matches against only the watches of this request
// (the client may split its watches over several setWatches2 batches) and
// applies the READ check with the connection's current identities. When
// the replay window no longer reaches back to relativeZxid it sends
// nothing, and the client sees ZooKeeper's behaviour: the watches are
// re-armed and the missed events are lost. See pkg/changelog.
func (s *Server) replayMissed(r *request, relativeZxid int64, persist, recursive []string) {
	if s.opts.DisableReplay || len(persist)+len(recursive) == 0 {
		return
	}
	idx := persistent.New()
	for _, p := range persist {
		idx.Add(p, r.c.id, persistent.Persistent)
	}
	for _, p := range recursive {
		idx.Add(p, r.c.id, persistent.Recursive)
	}
	n := 0
	complete := s.window.Since(relativeZxid, func(ev znode.Event) {
		matched := false
		hit := func(uint64) { matched = true }
		for _, t := range triggers[ev.Type] {
			switch t {
			case dataTable:
				idx.MatchData(ev.Path, hit)
			case childTable:
				idx.MatchChild(ev.Path, hit)
			}
		}
		if matched && znode.Allowed(ev.ACL, r.c.auth, znode.PermRead) {
			r.out = append(r.out, delivery{c: r.c, frame: notification(ev.Type, ev.Path, ev.Zxid)})
			n++
		}
	})
	if !complete {
		s.log.Info("replay window does not reach back to the client's zxid; missed events are lost",
			"session", hex64(r.c.sess.id), "client_zxid", hex64(relativeZxid), "horizon", hex64(s.window.Horizon()))
		return
	}
	if n > 0 {
		s.stats.replayed.Add(int64(n))
		s.log.Debug("replayed missed events", "session", hex64(r.c.sess.id), "events", n)
	}
}
