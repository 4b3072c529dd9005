package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
)

// fakeServer speaks just enough of the protocol to test the client's
// connection handling: it answers the handshake and pings itself and
// hands every other request to handle, which returns the reply frames.
type fakeServer struct {
	ln     net.Listener
	handle func(conn int, h proto.RequestHeader, body []byte) [][]byte
	mu     sync.Mutex
	conns  int
}

func newFakeServer(t *testing.T, handle func(conn int, h proto.RequestHeader, body []byte) [][]byte) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, handle: handle}
	t.Cleanup(func() { ln.Close() })
	go f.accept()
	return f
}

func (f *fakeServer) addr() string { return f.ln.Addr().String() }

func (f *fakeServer) accept() {
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns++
		n := f.conns
		f.mu.Unlock()
		go f.serve(n, nc)
	}
}

func (f *fakeServer) serve(n int, nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	payload, err := proto.ReadFrame(br, 0, nil)
	if err != nil {
		return
	}
	var req proto.ConnectRequest
	if proto.Unmarshal(payload, &req) != nil {
		return
	}
	resp := proto.ConnectResponse{TimeOut: 10000, SessionID: 0x42, Passwd: make([]byte, 16), HasReadOnly: req.HasReadOnly}
	frame, _ := proto.AppendFrame(nil, resp.Encode)
	if _, err := nc.Write(frame); err != nil {
		return
	}
	for {
		payload, err := proto.ReadFrame(br, 0, nil)
		if err != nil {
			return
		}
		var h proto.RequestHeader
		d := proto.NewDecoder(payload)
		if h.Decode(d) != nil {
			return
		}
		var out [][]byte
		if h.Type == proto.OpPing {
			f, _ := proto.AppendReply(nil, proto.ReplyHeader{Xid: proto.XidPing}, nil)
			out = [][]byte{f}
		} else {
			out = f.handle(n, h, payload[8:])
		}
		for _, fr := range out {
			if _, err := nc.Write(fr); err != nil {
				return
			}
		}
	}
}

// dataReply answers a getData with the request's path as data.
func dataReply(h proto.RequestHeader, body []byte) []byte {
	var req proto.GetDataRequest
	proto.Unmarshal(body, &req)
	f, _ := proto.AppendReply(nil, proto.ReplyHeader{Xid: h.Xid, Zxid: 5}, &proto.GetDataResponse{Data: []byte(req.Path)})
	return f
}

func TestDeadlineOnUnansweredCall(t *testing.T) {
	release := make(chan struct{})
	f := newFakeServer(t, func(_ int, h proto.RequestHeader, body []byte) [][]byte {
		var req proto.GetDataRequest
		proto.Unmarshal(body, &req)
		if req.Path == "/slow" {
			<-release // the server sits on this request
		}
		return [][]byte{dataReply(h, body)}
	})
	var d cutter
	rec := newStateRecorder()
	c := connect(t, f.addr(), Options{Dialer: d.dial, OnState: rec.fn, SessionTimeout: 10 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Get(ctx, "/slow")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want context.DeadlineExceeded", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("call took %v", time.Since(start))
	}

	// A cancelled context returns ctx.Err() too, before anything is sent.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, _, err := c.Get(cctx, "/x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}

	// The late reply to /slow is read and dropped; the next call gets its
	// own reply on the same connection.
	type res struct {
		data []byte
		err  error
	}
	done := make(chan res, 1)
	go func() {
		data, _, err := c.Get(testCtx(t), "/next")
		done <- res{data, err}
	}()
	time.Sleep(50 * time.Millisecond)
	close(release)
	r := <-done
	if r.err != nil || string(r.data) != "/next" {
		t.Fatalf("next call: %q %v", r.data, r.err)
	}
	d.mu.Lock()
	dials := d.dials
	d.mu.Unlock()
	if dials != 1 || c.State() != StateConnected {
		t.Fatalf("connection was replaced: %d dials, state %s", dials, c.State())
	}
	if c.LastZxid() != 5 {
		t.Fatalf("LastZxid %d", c.LastZxid())
	}
}

func TestXidMismatchDropsConnection(t *testing.T) {
	f := newFakeServer(t, func(conn int, h proto.RequestHeader, body []byte) [][]byte {
		if conn == 1 {
			h.Xid += 100 // a reply for a request the client never sent
		}
		return [][]byte{dataReply(h, body)}
	})
	rec := newStateRecorder()
	c := connect(t, f.addr(), Options{OnState: rec.fn})
	rec.waitFor(t, StateConnected)
	if _, _, err := c.Get(testCtx(t), "/a"); !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("err %v, want ErrConnectionLoss", err)
	}
	rec.waitFor(t, StateDisconnected)
	rec.waitFor(t, StateConnected)
	data, _, err := c.Get(testCtx(t), "/b")
	if err != nil || string(data) != "/b" {
		t.Fatalf("after reconnect: %q %v", data, err)
	}
}

func TestOversizedFrameDropsConnection(t *testing.T) {
	f := newFakeServer(t, func(conn int, h proto.RequestHeader, body []byte) [][]byte {
		if conn == 1 {
			big, _ := proto.AppendReply(nil, proto.ReplyHeader{Xid: h.Xid}, &proto.GetDataResponse{Data: make([]byte, 2<<20)})
			return [][]byte{big}
		}
		return [][]byte{dataReply(h, body)}
	})
	c := connect(t, f.addr(), Options{})
	if _, _, err := c.Get(testCtx(t), "/a"); !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("err %v, want ErrConnectionLoss", err)
	}
	if _, _, err := c.Get(testCtx(t), "/b"); err != nil {
		t.Fatalf("after reconnect: %v", err)
	}
}

func TestPingsKeepConnection(t *testing.T) {
	var d cutter
	rec := newStateRecorder()
	// A ping goes out a third of the session timeout after the last write
	// and must be answered within the next third (the read timeout). With a
	// timeout of seconds, a loaded machine delaying a ping or its reply by
	// a few hundred ms does not drop the connection.
	c := connect(t, startServer(t), Options{Dialer: d.dial, OnState: rec.fn, SessionTimeout: 2 * time.Second})
	time.Sleep(3 * c.SessionTimeout() * 2 / 3) // three read timeouts with no calls
	if _, _, err := c.Get(testCtx(t), "/"); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	dials := d.dials
	d.mu.Unlock()
	if dials != 1 {
		t.Fatalf("%d dials: idle connection was dropped", dials)
	}
}

func TestReconnectKeepsWatches(t *testing.T) {
	addr := startServer(t)
	var d cutter
	rec := newStateRecorder()
	// The session must outlive the time the client is kept out, plus its
	// reconnect backoff (up to 1 s), however slow a loaded machine makes
	// the other client's calls meanwhile.
	c := connect(t, addr, Options{Dialer: d.dial, OnState: rec.fn, SessionTimeout: 10 * time.Second})
	other := connect(t, addr, Options{})
	ctx := testCtx(t)
	rec.waitFor(t, StateConnected)
	sid := c.SessionID()

	mustCreate(t, c, "/d", nil, CreateOptions{})
	mustCreate(t, c, "/kids", nil, CreateOptions{})
	mustCreate(t, c, "/replay", nil, CreateOptions{})
	mustCreate(t, c, "/eph", nil, CreateOptions{Mode: ModeEphemeral})
	pw := must[*Watch](t)(c.AddWatch(ctx, "/p", AddWatchPersistent))
	rw := must[*Watch](t)(c.AddWatch(ctx, "/r", AddWatchPersistentRecursive))
	_, _, dataW, _ := c.GetW(ctx, "/d")
	_, _, existW, _ := c.ExistsW(ctx, "/missing")
	_, _, childW, _ := c.ChildrenW(ctx, "/kids")
	_, _, replayW, _ := c.GetW(ctx, "/replay")

	// Cut the connection and keep the client out while another client
	// changes /replay.
	d.block(true)
	d.cut()
	rec.waitFor(t, StateDisconnected)
	if _, err := other.Set(ctx, "/replay", []byte("changed"), -1); err != nil {
		t.Fatal(err)
	}
	d.block(false)
	rec.waitFor(t, StateConnected)
	if c.SessionID() != sid {
		t.Fatalf("new session 0x%x, want 0x%x", c.SessionID(), sid)
	}
	// The one-shot watch on /replay fires from SetWatches, with zxid -1.
	if ev := nextEvent(t, replayW); ev.Type != EventNodeDataChanged || ev.Path != "/replay" || ev.Zxid != -1 {
		t.Fatalf("replayed event %v", ev)
	}
	// Persistent watches saw the session go and come back.
	for _, w := range []*Watch{pw, rw} {
		if ev := nextEvent(t, w.Events()); ev.Type != EventNone || ev.State != StateDisconnected {
			t.Fatalf("got %v", ev)
		}
		if ev := nextEvent(t, w.Events()); ev.Type != EventNone || ev.State != StateConnected {
			t.Fatalf("got %v", ev)
		}
	}
	// The session survived: its ephemeral is still there.
	if _, ok, _ := other.Exists(ctx, "/eph"); !ok {
		t.Fatal("ephemeral lost across reconnect")
	}

	// Every watch is registered again on the new connection.
	if _, err := other.Set(ctx, "/d", []byte("x"), -1); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, other, "/missing", nil, CreateOptions{})
	mustCreate(t, other, "/kids/k", nil, CreateOptions{})
	mustCreate(t, other, "/p", nil, CreateOptions{})
	mustCreate(t, other, "/r", nil, CreateOptions{})
	mustCreate(t, other, "/r/deep", nil, CreateOptions{})
	for name, tc := range map[string]struct {
		ch   <-chan Event
		typ  EventType
		path string
	}{
		"data":  {dataW, EventNodeDataChanged, "/d"},
		"exist": {existW, EventNodeCreated, "/missing"},
		"child": {childW, EventNodeChildrenChanged, "/kids"},
	} {
		if ev := nextEvent(t, tc.ch); ev.Type != tc.typ || ev.Path != tc.path || ev.Zxid <= 0 {
			t.Fatalf("%s watch got %v", name, ev)
		}
	}
	if ev := nextEvent(t, pw.Events()); ev.Type != EventNodeCreated || ev.Path != "/p" {
		t.Fatalf("persistent got %v", ev)
	}
	got := nodeEvents(t, rw.Events(), 2)
	if got[0].Path != "/r" || got[1].Path != "/r/deep" {
		t.Fatalf("recursive got %v", got)
	}
}

func TestReconnectManyWatchesInBatches(t *testing.T) {
	addr := startServer(t)
	var d cutter
	rec := newStateRecorder()
	c := connect(t, addr, Options{Dialer: d.dial, OnState: rec.fn})
	ctx := testCtx(t)
	// 1300 exist watches with 120-byte paths: more than one 128 KiB batch.
	base := "/" + strings.Repeat("w", 110)
	var chans []<-chan Event
	for i := range 1300 {
		_, _, ch, err := c.ExistsW(ctx, fmt.Sprintf("%s%08d", base, i))
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	pw := must[*Watch](t)(c.AddWatch(ctx, "/pers", AddWatchPersistent))
	d.cut()
	rec.waitFor(t, StateDisconnected)
	rec.waitFor(t, StateConnected)
	for _, i := range []int{0, 700, 1299} {
		mustCreate(t, c, fmt.Sprintf("%s%08d", base, i), nil, CreateOptions{})
		if ev := nextEvent(t, chans[i]); ev.Type != EventNodeCreated {
			t.Fatalf("watch %d got %v", i, ev)
		}
	}
	if err := c.CheckWatches(ctx, "/pers", WatcherPersistent); err != nil {
		t.Fatalf("persistent watch not re-registered: %v", err)
	}
	_ = pw
}

func TestSessionExpiry(t *testing.T) {
	addr := startServer(t)
	var d cutter
	rec := newStateRecorder()
	c := connect(t, addr, Options{Dialer: d.dial, OnState: rec.fn, SessionTimeout: 2 * time.Second})
	other := connect(t, addr, Options{})
	ctx := testCtx(t)
	pw := must[*Watch](t)(c.AddWatch(ctx, "/p", AddWatchPersistent))
	_, _, oneShot, _ := c.ExistsW(ctx, "/x")
	// An ephemeral of the session, watched by another client, shows when
	// the server has expired the session.
	mustCreate(t, c, "/lease", nil, CreateOptions{Mode: ModeEphemeral})
	_, ok, leaseGone, err := other.ExistsW(ctx, "/lease")
	if err != nil || !ok {
		t.Fatalf("ExistsW /lease: %v %v", ok, err)
	}

	d.block(true)
	d.cut()
	rec.waitFor(t, StateDisconnected)
	if ev := nextEvent(t, leaseGone); ev.Type != EventNodeDeleted { // the server expires the session
		t.Fatalf("watch on the session's ephemeral got %v, want NodeDeleted", ev)
	}
	d.block(false)
	rec.waitFor(t, StateExpired)

	if c.State() != StateExpired {
		t.Fatalf("state %s", c.State())
	}
	if _, _, err := c.Get(ctx, "/"); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("call after expiry: %v", err)
	}
	if ev := nextEvent(t, oneShot); ev.Type != EventNone || ev.State != StateExpired {
		t.Fatalf("one-shot got %v", ev)
	}
	var last Event
	for ev := range pw.Events() {
		last = ev
	}
	if last.Type != EventNone || last.State != StateExpired {
		t.Fatalf("last persistent event %v, want None/Expired", last)
	}
}

func TestConnectUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Connect(ctx, addr, Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}
