package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
)

// rawClient speaks the wire protocol directly, so tests can see exactly
// what the server sends: every notification with its zxid, every reply
// header, and when the connection is closed.
type rawClient struct {
	t       testing.TB
	nc      net.Conn
	br      *bufio.Reader
	xid     int32
	resp    proto.ConnectResponse
	lastZx  int64
	pending []proto.WatcherEvent // notifications read while waiting for a reply
	zxids   []int64              // their header zxids
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// connectRaw opens a connection and a new session.
func connectRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	c := dialRaw(t, addr)
	resp, err := c.handshake(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if resp.TimeOut <= 0 {
		t.Fatalf("handshake: session refused: %+v", resp)
	}
	return c
}

func (c *rawClient) handshake(req proto.ConnectRequest) (proto.ConnectResponse, error) {
	b, err := proto.AppendFrame(nil, req.Encode)
	if err != nil {
		return proto.ConnectResponse{}, err
	}
	if _, err := c.nc.Write(b); err != nil {
		return proto.ConnectResponse{}, err
	}
	payload, err := c.readFrame()
	if err != nil {
		return proto.ConnectResponse{}, err
	}
	var resp proto.ConnectResponse
	if err := resp.Decode(proto.NewDecoder(payload)); err != nil {
		return resp, err
	}
	c.resp = resp
	return resp, nil
}

func (c *rawClient) readFrame() ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	return proto.ReadFrame(c.br, 16<<20, nil)
}

// send writes one request and returns its xid.
func (c *rawClient) send(op int32, body proto.Encodable) int32 {
	c.t.Helper()
	c.xid++
	xid := c.xid
	switch op {
	case proto.OpPing:
		xid = proto.XidPing
	case proto.OpAuth:
		xid = proto.XidAuth
	}
	c.sendXid(xid, op, body)
	return xid
}

func (c *rawClient) sendXid(xid, op int32, body proto.Encodable) {
	c.t.Helper()
	b, err := proto.AppendRequest(nil, proto.RequestHeader{Xid: xid, Type: op}, body)
	if err != nil {
		c.t.Fatalf("encode %s: %v", proto.OpName(op), err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write %s: %v", proto.OpName(op), err)
	}
}

// reply reads frames until the reply with xid, collecting notifications,
// and decodes the body into resp when the reply succeeded.
func (c *rawClient) reply(xid int32, resp proto.Decodable) (proto.ReplyHeader, error) {
	for {
		payload, err := c.readFrame()
		if err != nil {
			return proto.ReplyHeader{}, err
		}
		d := proto.NewDecoder(payload)
		var h proto.ReplyHeader
		if err := h.Decode(d); err != nil {
			return h, err
		}
		if h.Xid == proto.XidNotification {
			var ev proto.WatcherEvent
			if err := ev.Decode(d); err != nil {
				return h, err
			}
			c.pending = append(c.pending, ev)
			c.zxids = append(c.zxids, h.Zxid)
			continue
		}
		if h.Xid != xid {
			return h, fmt.Errorf("xid out of order: got %d, want %d", h.Xid, xid)
		}
		if h.Zxid > 0 {
			c.lastZx = h.Zxid
		}
		if h.Err == 0 && resp != nil {
			if err := resp.Decode(d); err != nil {
				return h, err
			}
		}
		return h, nil
	}
}

// call sends a request and waits for its reply; it fails the test on
// transport errors and returns the reply's error code.
func (c *rawClient) call(op int32, body proto.Encodable, resp proto.Decodable) int32 {
	c.t.Helper()
	h, err := c.reply(c.send(op, body), resp)
	if err != nil {
		c.t.Fatalf("%s: %v", proto.OpName(op), err)
	}
	return h.Err
}

// events returns and clears the notifications received so far, after a
// ping round trip has flushed everything queued before it.
func (c *rawClient) events() []proto.WatcherEvent {
	c.t.Helper()
	c.call(proto.OpPing, nil, nil)
	ev := c.pending
	c.pending, c.zxids = nil, nil
	return ev
}

// expectClosed waits for the server to close the connection.
func (c *rawClient) expectClosed() error {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := proto.ReadFrame(c.br, 16<<20, nil); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("connection still open after 5s")
			}
			return nil
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}
