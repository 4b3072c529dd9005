package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
)

// Request states: a request is completed by exactly one of the reader (a
// reply), the connection teardown (ConnectionLoss) or its caller giving up
// (abandoned). The compare-and-swap decides which.
const (
	reqPending int32 = iota
	reqDone
	reqAbandoned
)

type result struct {
	code int32 // the reply's error code
	err  error // transport or client error; code is meaningless then
}

// request is one call on its way through the queue, the writer and the
// reader.
type request struct {
	op   int32
	xid  int32 // assigned by the writer; preset for auth and setWatches
	body proto.Encodable
	resp proto.Decodable // filled by the reader when the reply is OK
	// onReply runs in the reader, before any later frame is handled, when
	// the reply arrives for a caller still waiting. It registers watches,
	// so that a notification right after the reply finds them.
	onReply func(code int32)
	state   atomic.Int32
	done    chan result
}

func newRequest(op int32, body proto.Encodable, resp proto.Decodable) *request {
	return &request{op: op, body: body, resp: resp, done: make(chan result, 1)}
}

// claim takes the right to complete r.
func (r *request) claim() bool { return r.state.CompareAndSwap(reqPending, reqDone) }

// finish delivers the result of a claimed request.
func (r *request) finish(code int32, err error) { r.done <- result{code, err} }

// complete claims and finishes r; it reports false if r was already
// completed or abandoned.
func (r *request) complete(code int32, err error) bool {
	if !r.claim() {
		return false
	}
	r.finish(code, err)
	return true
}

// submit queues r and waits for its result.
func (c *Client) submit(ctx context.Context, r *request) (int32, error) {
	if r.done == nil {
		r.done = make(chan result, 1)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	switch {
	case c.termErr != nil:
		err := c.termErr
		c.mu.Unlock()
		return 0, err
	case c.closing && r.op != proto.OpCloseSession:
		c.mu.Unlock()
		return 0, ErrClosed
	}
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	select {
	case res := <-r.done:
		return res.code, res.err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqPending, reqAbandoned) {
			return 0, ctx.Err()
		}
		res := <-r.done
		return res.code, res.err
	}
}

// conn is one TCP connection of the session.
type conn struct {
	nc          net.Conn
	br          *bufio.Reader
	readTimeout time.Duration

	mu         sync.Mutex
	pending    []*request // sent, awaiting a reply in FIFO order
	auths      []*request // auth packets awaiting an xid -4 reply
	closed     bool
	authFailed bool
	dead       chan struct{}
	err        error
}

// push records r as sent; it reports false once the connection is dead.
func (cn *conn) push(r *request) bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.closed {
		return false
	}
	if r.op == proto.OpAuth {
		cn.auths = append(cn.auths, r)
	} else {
		cn.pending = append(cn.pending, r)
	}
	return true
}

func (cn *conn) pop() *request {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if len(cn.pending) == 0 {
		return nil
	}
	r := cn.pending[0]
	cn.pending[0] = nil
	cn.pending = cn.pending[1:]
	return r
}

func (cn *conn) popAuth() *request {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if len(cn.auths) == 0 {
		return nil
	}
	r := cn.auths[0]
	cn.auths = cn.auths[1:]
	return r
}

// kill closes the connection once, recording why.
func (cn *conn) kill(err error) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.closed {
		return
	}
	cn.closed = true
	cn.err = err
	close(cn.dead)
	cn.nc.Close()
}

// failAll fails every request still waiting on the dead connection.
func (cn *conn) failAll(err error) {
	cn.mu.Lock()
	reqs := append(cn.pending, cn.auths...)
	cn.pending, cn.auths = nil, nil
	cn.mu.Unlock()
	for _, r := range reqs {
		r.complete(0, err)
	}
}

var errExpired = errors.New("client: session expired")

// run is the session goroutine: connect, serve the connection until it
// dies, reconnect, until Close or a terminal state.
func (c *Client) run() {
	defer close(c.done)
	backoff := time.Duration(0)
	for {
		select {
		case <-c.stop:
			c.terminate(StateClosed, ErrClosed)
			return
		default:
		}
		addr, newPass := c.hosts.pick()
		if newPass {
			backoff = min(max(2*backoff, 50*time.Millisecond), time.Second)
			if !c.sleep(backoff/2 + rand.N(backoff/2+1)) {
				continue
			}
		}
		cn, err := c.connect(addr)
		if errors.Is(err, errExpired) {
			c.terminate(StateExpired, ErrSessionExpired)
			return
		}
		if err != nil {
			c.log.Debug("connect failed", "addr", addr, "err", err)
			continue
		}
		backoff = 0
		c.serve(cn)
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		switch {
		case closing:
			c.terminate(StateClosed, ErrClosed)
			return
		case cn.authFailed:
			c.terminate(StateAuthFailed, ErrAuthFailed)
			return
		}
		c.setState(StateDisconnected)
		c.watches.session(Event{Type: EventNone, State: StateDisconnected, Zxid: -1})
		// Like the Java client, wait a little before reconnecting so that
		// many clients dropped at once do not return at once.
		c.sleep(rand.N(20 * time.Millisecond))
	}
}

// sleep waits d or until Close; it reports false on Close.
func (c *Client) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.stop:
		return false
	}
}

// connect dials addr and performs the session handshake. It returns
// errExpired when the server says the session is gone.
func (c *Client) connect(addr string) (*conn, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.ConnectTimeout)
	defer cancel()
	nc, err := c.opts.Dialer(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			nc.Close()
		}
	}()
	if dl, has := ctx.Deadline(); has {
		nc.SetDeadline(dl)
	}
	stopWatch := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stopWatch()

	c.mu.Lock()
	req := proto.ConnectRequest{
		LastZxidSeen: c.lastZxid.Load(),
		TimeOut:      int32(c.opts.SessionTimeout / time.Millisecond),
		SessionID:    c.sessionID,
		Passwd:       c.passwd,
		HasReadOnly:  true,
	}
	c.mu.Unlock()
	if req.Passwd == nil {
		req.Passwd = make([]byte, 16)
	}
	frame, err := proto.AppendFrame(nil, req.Encode)
	if err != nil {
		return nil, err
	}
	if _, err := nc.Write(frame); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	payload, err := proto.ReadFrame(br, c.opts.MaxPacket, nil)
	if err != nil {
		return nil, fmt.Errorf("client: reading ConnectResponse from %s: %w", addr, err)
	}
	var resp proto.ConnectResponse
	if err := proto.Unmarshal(payload, &resp); err != nil {
		return nil, err
	}
	if resp.TimeOut <= 0 {
		return nil, errExpired
	}
	nc.SetDeadline(time.Time{})
	timeout := time.Duration(resp.TimeOut) * time.Millisecond
	c.mu.Lock()
	if c.sessionID != 0 && c.sessionID != resp.SessionID {
		c.mu.Unlock()
		return nil, errExpired
	}
	c.sessionID = resp.SessionID
	c.passwd = resp.Passwd
	c.timeout = timeout
	c.mu.Unlock()
	ok = true
	c.log.Debug("connected", "addr", addr, "session", fmt.Sprintf("0x%x", resp.SessionID), "timeout", timeout)
	return &conn{nc: nc, br: br, readTimeout: timeout * 2 / 3, dead: make(chan struct{})}, nil
}

// serve runs one established connection until it dies.
func (c *Client) serve(cn *conn) {
	prime := c.primeRequests()
	// The state change and the Connected event to persistent watches are
	// queued before the reader starts, so they precede every event of
	// this connection.
	wasConnected := c.readyDone()
	c.setState(StateConnected)
	if wasConnected {
		c.watches.session(Event{Type: EventNone, State: StateConnected, Zxid: -1})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.readLoop(cn) }()
	go func() { defer wg.Done(); c.writeLoop(cn, prime) }()
	select {
	case <-cn.dead:
	case <-c.stop:
		cn.kill(ErrClosed)
	}
	wg.Wait()
	c.log.Debug("connection lost", "err", cn.err)
	c.mu.Lock()
	queued := c.queue
	c.queue = nil
	closing := c.closing
	c.mu.Unlock()
	lossErr := ErrConnectionLoss
	if closing {
		lossErr = ErrClosed
	}
	cn.failAll(lossErr)
	for _, r := range queued {
		r.complete(0, lossErr)
	}
}

// readyDone reports whether the client has been connected before.
func (c *Client) readyDone() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// primeRequests builds what goes out first on a new connection, as the
// Java client's primeConnection does: the auth packets, then the watches
// to re-register, relative to the last zxid seen.
func (c *Client) primeRequests() []*request {
	var out []*request
	c.mu.Lock()
	for i := range c.auths {
		a := c.auths[i]
		r := newRequest(proto.OpAuth, &a, nil)
		r.xid = proto.XidAuth
		out = append(out, r)
	}
	c.mu.Unlock()

	data, exist, child, persistent, recursive := c.watches.snapshot()
	// Re-arm from the newest state the client has seen: its last reply or
	// its last notification, whichever is later. Notifications arrive in
	// zxid order, so every watched change up to that zxid has been seen,
	// and a server that replays missed events (zkx) sends none twice.
	rel := max(c.lastZxid.Load(), c.lastEventZxid.Load())
	var batch proto.SetWatches2
	size, n := 0, 0
	flush := func() {
		if n == 0 {
			return
		}
		var r *request
		if len(batch.PersistentWatches)+len(batch.PersistentRecursiveWatches) == 0 {
			r = newRequest(proto.OpSetWatches, &proto.SetWatches{
				RelativeZxid: rel,
				DataWatches:  nonNil(batch.DataWatches),
				ExistWatches: nonNil(batch.ExistWatches),
				ChildWatches: nonNil(batch.ChildWatches),
			}, nil)
		} else {
			r = newRequest(proto.OpSetWatches2, &proto.SetWatches2{
				RelativeZxid:               rel,
				DataWatches:                nonNil(batch.DataWatches),
				ExistWatches:               nonNil(batch.ExistWatches),
				ChildWatches:               nonNil(batch.ChildWatches),
				PersistentWatches:          nonNil(batch.PersistentWatches),
				PersistentRecursiveWatches: nonNil(batch.PersistentRecursiveWatches),
			}, nil)
		}
		r.xid = proto.XidSetWatches
		out = append(out, r)
		batch = proto.SetWatches2{}
		size, n = 0, 0
	}
	add := func(list func(*proto.SetWatches2) *[]string, paths []string) {
		for _, p := range paths {
			if n > 0 && size+len(p) > setWatchesMax {
				flush()
			}
			l := list(&batch)
			*l = append(*l, p)
			size += len(p)
			n++
		}
	}
	add(func(b *proto.SetWatches2) *[]string { return &b.DataWatches }, data)
	add(func(b *proto.SetWatches2) *[]string { return &b.ExistWatches }, exist)
	add(func(b *proto.SetWatches2) *[]string { return &b.ChildWatches }, child)
	add(func(b *proto.SetWatches2) *[]string { return &b.PersistentWatches }, persistent)
	add(func(b *proto.SetWatches2) *[]string { return &b.PersistentRecursiveWatches }, recursive)
	flush()
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nextXid returns the next positive xid, wrapping to 1.
func (c *Client) nextXid() int32 {
	for {
		x := c.xid.Add(1)
		if x > 0 {
			return x
		}
		c.xid.CompareAndSwap(x, 0)
	}
}

// writeLoop is the connection's writer: the priming requests first, then
// the queue in submission order, and a ping whenever nothing was sent for
// a third of the session timeout.
func (c *Client) writeLoop(cn *conn, prime []*request) {
	pingEvery := cn.readTimeout / 2
	timer := time.NewTimer(pingEvery)
	defer timer.Stop()
	var buf []byte
	write := func(b []byte) bool {
		cn.nc.SetWriteDeadline(time.Now().Add(cn.readTimeout))
		if _, err := cn.nc.Write(b); err != nil {
			cn.kill(fmt.Errorf("client: write: %w", err))
			return false
		}
		timer.Reset(pingEvery)
		return true
	}
	send := func(reqs []*request) bool {
		buf = buf[:0]
		for _, r := range reqs {
			if r.state.Load() != reqPending {
				continue // abandoned before it was sent
			}
			if r.xid == 0 {
				r.xid = c.nextXid()
			}
			n := len(buf)
			var err error
			buf, err = proto.AppendRequest(buf, proto.RequestHeader{Xid: r.xid, Type: r.op}, r.body)
			if err != nil {
				r.complete(0, wrapOp(r.op, "", err))
				continue
			}
			if !cn.push(r) {
				buf = buf[:n]
				r.complete(0, ErrConnectionLoss)
			}
		}
		return len(buf) == 0 || write(buf)
	}
	if !send(prime) {
		return
	}
	for {
		c.mu.Lock()
		reqs := c.queue
		c.queue = nil
		c.mu.Unlock()
		if len(reqs) > 0 {
			if !send(reqs) {
				return
			}
			continue
		}
		select {
		case <-c.wake:
		case <-timer.C:
			ping, _ := proto.AppendRequest(buf[:0], proto.RequestHeader{Xid: proto.XidPing, Type: proto.OpPing}, nil)
			if !write(ping) {
				return
			}
		case <-cn.dead:
			return
		}
	}
}

// readLoop is the connection's reader. It matches replies to requests in
// FIFO order, routes notifications to watches, and declares the
// connection lost when nothing arrives for the read timeout.
func (c *Client) readLoop(cn *conn) {
	var buf []byte
	var d proto.Decoder
	for {
		cn.nc.SetReadDeadline(time.Now().Add(cn.readTimeout))
		frame, err := proto.ReadFrame(cn.br, c.opts.MaxPacket, buf)
		if err != nil {
			cn.kill(fmt.Errorf("client: read: %w", err))
			return
		}
		buf = frame
		d.Reset(frame)
		var h proto.ReplyHeader
		if err := h.Decode(&d); err != nil {
			cn.kill(err)
			return
		}
		switch h.Xid {
		case proto.XidNotification:
			var ev proto.WatcherEvent
			if err := ev.Decode(&d); err != nil {
				cn.kill(err)
				return
			}
			if h.Zxid > c.lastEventZxid.Load() {
				c.lastEventZxid.Store(h.Zxid) // only this goroutine stores it
			}
			c.watches.dispatch(ev.Path, Event{
				Type:  EventType(ev.Type),
				State: State(ev.State),
				Path:  c.clientPath(ev.Path),
				Zxid:  h.Zxid,
			})
		case proto.XidPing:
		case proto.XidAuth:
			r := cn.popAuth()
			if h.Err == proto.CodeAuthFailed {
				cn.mu.Lock()
				cn.authFailed = true
				cn.mu.Unlock()
				if r != nil {
					r.complete(h.Err, nil)
				}
				cn.kill(ErrAuthFailed)
				return
			}
			if r != nil {
				r.complete(h.Err, nil)
			}
		default:
			r := cn.pop()
			if r == nil || r.xid != h.Xid {
				want := int32(0)
				if r != nil {
					want = r.xid
					r.complete(0, ErrConnectionLoss)
				}
				cn.kill(fmt.Errorf("client: xid out of order: got %d, expected %d", h.Xid, want))
				return
			}
			if h.Zxid > 0 {
				c.lastZxid.Store(h.Zxid)
			}
			if !r.claim() {
				continue // the caller gave up; discard the late reply
			}
			if h.Err == proto.CodeOk && r.resp != nil {
				if err := r.resp.Decode(&d); err != nil {
					r.finish(0, wrapOp(r.op, "", err))
					cn.kill(err)
					return
				}
			}
			if r.onReply != nil {
				r.onReply(h.Err)
			}
			r.finish(h.Err, nil)
		}
	}
}
