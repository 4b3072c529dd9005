package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// conn is one client connection: a reader goroutine that handles requests
// and a writer goroutine that drains the outbound queue.
type conn struct {
	s      *Server
	nc     net.Conn
	id     uint64 // also the watcher id in the watch indexes
	remote string // peer IP, the connection's ip: identity
	since  time.Time

	// Guarded by Server.mu.
	sess *session
	auth []znode.ID
	// In an ensemble: the connection's writes in the log without a reply
	// yet, the requests that arrived after them (handled in order once
	// they are answered), and whether the reader must stop.
	pending  int
	deferred [][]byte
	ended    bool
	// readOnly: a session of a member outside a quorum (connectReadOnly).
	readOnly bool

	// ready is closed once the connection holds a session (at once in
	// standalone mode; when the log has created it in an ensemble). done
	// is closed by close.
	ready     chan struct{}
	readyOnce sync.Once
	done      chan struct{}

	// The outbound queue, guarded by omu.
	omu        sync.Mutex
	out        [][]byte
	outBytes   int
	flushClose bool   // close once the queue is written
	reason     string // why the connection closed
	wake       chan struct{}

	closeOnce sync.Once
	// closed is set by close, under omu. It is atomic so that the reader
	// can check it without the lock before each request: once the socket
	// is closed, the requests still in its read buffer (up to 64 KiB of
	// them) would only produce replies nobody gets.
	closed atomic.Bool

	// Counters for stat/cons; atomics because readers and writers update them.
	recv, sent atomic.Int64
	lastOp     atomic.Int32
	lastXid    atomic.Int32
	lastZxid   atomic.Int64

	// sessionIDForLog mirrors sess.id for log lines written without Server.mu.
	sessionIDForLog atomic.Int64
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	c := &conn{s: s, nc: nc, id: id, since: time.Now(), wake: make(chan struct{}, 1),
		ready: make(chan struct{}), done: make(chan struct{})}
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.remote = ta.IP.String()
	}
	c.auth = []znode.ID{{Scheme: "ip", ID: c.remote}}
	return c
}

// enqueue appends one complete frame to the outbound queue. It never
// blocks; when the queue would pass Options.MaxOutbound the connection is
// closed as a slow consumer. It reports whether the frame was queued.
func (c *conn) enqueue(frame []byte) bool {
	c.omu.Lock()
	if c.closed.Load() || c.flushClose {
		c.omu.Unlock()
		return false
	}
	if c.outBytes+len(frame) > c.s.opts.MaxOutbound {
		queued := c.outBytes
		c.omu.Unlock()
		c.s.log.Warn("closing slow consumer", "conn", c.nc.RemoteAddr().String(), "session", c.sessionHex(),
			"queued_bytes", queued, "max_outbound", c.s.opts.MaxOutbound)
		c.close("slow consumer: outbound queue full")
		return false
	}
	c.out = append(c.out, frame)
	c.outBytes += len(frame)
	c.omu.Unlock()
	c.signal()
	return true
}

// markReady lets the reader go on past the handshake.
func (c *conn) markReady() { c.readyOnce.Do(func() { close(c.ready) }) }

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeAfterFlush closes the connection once everything queued so far has
// been written (closeSession, invalid session, auth failure).
func (c *conn) closeAfterFlush(reason string) {
	c.omu.Lock()
	if !c.closed.Load() && !c.flushClose {
		c.flushClose = true
		c.reason = reason
	}
	c.omu.Unlock()
	c.signal()
}

// close closes the socket now. Safe to call from any goroutine, any number
// of times; the reader's exit path drops the connection's watches.
func (c *conn) close(reason string) {
	c.closeOnce.Do(func() {
		c.omu.Lock()
		c.closed.Store(true)
		if c.reason == "" {
			c.reason = reason
		}
		c.out = nil
		c.outBytes = 0
		c.omu.Unlock()
		close(c.done)
		c.nc.Close()
		c.signal()
	})
}

func (c *conn) closeReason() string {
	c.omu.Lock()
	defer c.omu.Unlock()
	return c.reason
}

func (c *conn) queued() int {
	c.omu.Lock()
	defer c.omu.Unlock()
	return len(c.out)
}

func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	for range c.wake {
		c.omu.Lock()
		bufs := c.out
		c.out, c.outBytes = nil, 0
		closed, flushClose, reason := c.closed.Load(), c.flushClose, c.reason
		c.omu.Unlock()
		if closed {
			return
		}
		if len(bufs) > 0 {
			// A client that cannot take a write for this long is gone.
			c.nc.SetWriteDeadline(time.Now().Add(max(c.s.opts.MaxSessionTimeout, 10*time.Second)))
			nb := net.Buffers(bufs)
			if _, err := nb.WriteTo(c.nc); err != nil {
				c.close("write failed: " + err.Error())
				return
			}
			c.sent.Add(int64(len(bufs)))
		}
		if flushClose {
			c.close(reason)
			return
		}
	}
}

func (c *conn) readLoop() {
	defer c.s.wg.Done()
	defer c.cleanup()
	br := bufio.NewReaderSize(c.nc, 64<<10)

	// The handshake must arrive within the longest session timeout.
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.MaxSessionTimeout))
	var lenBuf [4]byte
	if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
		c.close("no handshake: " + err.Error())
		return
	}
	if word := string(lenBuf[:]); isFourLetterWord(word) {
		c.s.fourLetterWord(c, word, br)
		return
	}
	n := int32(binary.BigEndian.Uint32(lenBuf[:]))
	if n < 0 || int(n) > c.s.opts.MaxBuffer {
		c.s.log.Warn("closing connection: handshake frame length out of range", "conn", c.nc.RemoteAddr().String(),
			"len", n, "max_buffer", c.s.opts.MaxBuffer)
		c.close("bad handshake length")
		return
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		c.close("short handshake: " + err.Error())
		return
	}
	if !c.s.handleConnect(c, payload) {
		return
	}
	select {
	case <-c.ready:
	case <-c.done:
		return
	}
	c.nc.SetReadDeadline(time.Time{})

	var buf []byte
	for {
		frame, err := proto.ReadFrame(br, c.s.opts.MaxBuffer, buf)
		if err != nil {
			var tooLarge *proto.FrameTooLargeError
			switch {
			case errors.As(err, &tooLarge):
				c.s.log.Warn("closing connection: request frame too large", "conn", c.nc.RemoteAddr().String(),
					"session", c.sessionHex(), "len", tooLarge.Len, "max_buffer", c.s.opts.MaxBuffer)
				c.close("request frame too large")
			case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
				c.close("client closed the connection")
			default:
				c.close("read failed: " + err.Error())
			}
			return
		}
		buf = frame[:cap(frame)]
		if len(buf) > 1<<20 {
			buf = nil // do not pin a large buffer for the life of the connection
		}
		if c.closed.Load() {
			return // a slow consumer, a failed write: nobody gets replies
		}
		c.recv.Add(1)
		if !c.s.handleRequest(c, frame) {
			return
		}
	}
}

// cleanup runs when the reader exits: it unregisters the connection and
// drops its watches. The session lives on until it expires or closes.
//
// It does not close the socket: every path that ends the read loop has
// already closed it, or scheduled a close after the last reply is flushed
// (closeSession, an invalid session, a failed auth, an unknown opcode).
func (c *conn) cleanup() {
	s := c.s
	s.mu.Lock()
	delete(s.conns, c.id)
	s.oneshot.RemoveWatcher(c.id)
	s.persist.RemoveWatcher(c.id)
	if c.sess != nil && c.sess.conn == c {
		c.sess.conn = nil
	}
	s.mu.Unlock()
	s.log.Debug("connection closed", "conn", c.nc.RemoteAddr().String(), "session", c.sessionHex(), "reason", c.closeReason())
}

// sessionHex is for logs only; it reads the session without the lock.
func (c *conn) sessionHex() string {
	if id := c.sessionIDForLog.Load(); id != 0 {
		return hex64(id)
	}
	return ""
}

func hex64(v int64) string { return "0x" + strconv.FormatUint(uint64(v), 16) }
