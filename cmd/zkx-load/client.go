package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// client is a minimal pipelining client on zkx's codec: requests are
// written without waiting and replies read in order.
type client struct {
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	xid int32
	// zxid is the last zxid a reply carried, for a reconnect that keeps
	// the session (lastZxidSeen).
	zxid int64
	// sess is the session this connection runs, as the server granted it.
	sess proto.ConnectResponse
}

func dial(addr string) (*client, error) {
	return dialSession(addr, proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
}

// dialSession connects with the given handshake: SessionID 0 asks for a
// new session, a granted session's id and password (and the last zxid the
// client saw) re-attach to it. ReadOnly stays false: a member that is not
// in a quorum must refuse the client, not serve it read-only.
func dialSession(addr string, req proto.ConnectRequest) (*client, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &client{nc: nc, br: bufio.NewReaderSize(nc, 1<<20), bw: bufio.NewWriterSize(nc, 1<<16), zxid: req.LastZxidSeen}
	b, _ := proto.AppendFrame(nil, req.Encode)
	if _, err := nc.Write(b); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	payload, err := proto.ReadFrame(c.br, 1<<20, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	var resp proto.ConnectResponse
	if err := resp.Decode(proto.NewDecoder(payload)); err != nil || resp.TimeOut <= 0 {
		nc.Close()
		if err == nil && req.SessionID != 0 {
			return nil, errSessionExpired
		}
		return nil, fmt.Errorf("handshake refused: %v", err)
	}
	nc.SetReadDeadline(time.Time{})
	c.sess = resp
	return c, nil
}

// errSessionExpired: the server refused to re-attach the session.
var errSessionExpired = errors.New("session expired")

func (c *client) close() { c.nc.Close() }

// closeSession ends the session (so that it does not linger until it
// expires) and closes the connection, waiting at most a second.
func (c *client) closeSession() {
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if c.send(proto.OpCloseSession, nil) == nil && c.bw.Flush() == nil {
		c.nc.SetReadDeadline(time.Now().Add(time.Second))
		proto.ReadFrame(c.br, 16<<20, nil)
	}
	c.nc.Close()
}

func (c *client) send(op int32, body proto.Encodable) error {
	c.xid++
	b, err := proto.AppendRequest(nil, proto.RequestHeader{Xid: c.xid, Type: op}, body)
	if err != nil {
		return err
	}
	_, err = c.bw.Write(b)
	return err
}

// recv reads one reply (skipping notifications) and returns its error code.
func (c *client) recv() (int32, []byte, error) {
	for {
		c.nc.SetReadDeadline(time.Now().Add(60 * time.Second))
		payload, err := proto.ReadFrame(c.br, 16<<20, nil)
		if err != nil {
			return 0, nil, err
		}
		d := proto.NewDecoder(payload)
		var h proto.ReplyHeader
		if err := h.Decode(d); err != nil {
			return 0, nil, err
		}
		if h.Xid == proto.XidNotification {
			continue
		}
		if h.Zxid > c.zxid {
			c.zxid = h.Zxid
		}
		return h.Err, payload[16:], nil
	}
}

// call sends one request and waits for its reply.
func (c *client) call(op int32, body proto.Encodable) (int32, error) {
	if err := c.send(op, body); err != nil {
		return 0, err
	}
	if err := c.bw.Flush(); err != nil {
		return 0, err
	}
	code, _, err := c.recv()
	return code, err
}

// pipeline sends n requests built by req without waiting, reading the
// replies concurrently, and fails on the first error code not in ok.
func (c *client) pipeline(n int, req func(i int) (int32, proto.Encodable), ok ...int32) error {
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			code, _, err := c.recv()
			if err != nil {
				errc <- err
				return
			}
			good := code == 0
			for _, o := range ok {
				good = good || code == o
			}
			if !good {
				errc <- fmt.Errorf("reply %d: %s", i, proto.CodeName(code))
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < n; i++ {
		op, body := req(i)
		if err := c.send(op, body); err != nil {
			return err
		}
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	return <-errc
}

// churn makes the server allocate and free memory, one request at a time
// so that no reply is held in a queue, so that collections run and the
// live-heap figure is current.
func (c *client) churn() error {
	if code, err := c.call(proto.OpCreate, &proto.CreateRequest{Path: "/zkx-load-churn", Data: make([]byte, 256<<10), ACL: znode.OpenACLUnsafe}); err != nil || (code != 0 && code != proto.CodeNodeExists) {
		return fmt.Errorf("churn node: %v %s", err, proto.CodeName(code))
	}
	for i := 0; i < 300; i++ {
		if code, err := c.call(proto.OpGetData, &proto.GetDataRequest{Path: "/zkx-load-churn"}); err != nil || code != 0 {
			return fmt.Errorf("churn: %v %s", err, proto.CodeName(code))
		}
	}
	return nil
}
