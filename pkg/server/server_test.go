package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
	"github.com/zkx-dev/zkx/pkg/znode"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startTestServer runs a memory-backed server on a free loopback port with
// a 50 ms tick (sessions between 100 ms and 1 s).
func startTestServer(t testing.TB, mod func(*Options)) *Server {
	t.Helper()
	opts := Options{Listen: "127.0.0.1:0", TickTime: 50 * time.Millisecond, Backend: memory.New(), Logger: testLogger(t)}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func TestConnectResponseMirrorsReadOnlyByte(t *testing.T) {
	s := startTestServer(t, nil)
	for _, tc := range []struct {
		name    string
		has     bool
		wantLen int
	}{
		{"java and kazoo send readOnly", true, 37},
		{"go-zookeeper omits readOnly", false, 36},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, s.Addr().String())
			b, _ := proto.AppendFrame(nil, (&proto.ConnectRequest{TimeOut: 1000, Passwd: make([]byte, 16), HasReadOnly: tc.has}).Encode)
			c.nc.Write(b)
			payload, err := c.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if len(payload) != tc.wantLen {
				t.Errorf("ConnectResponse is %d bytes, want %d", len(payload), tc.wantLen)
			}
		})
	}
}

func TestSessionTimeoutNegotiation(t *testing.T) {
	s := startTestServer(t, nil) // tick 50ms: [100ms, 1s]
	for _, tc := range []struct {
		name      string
		requested int32
		want      int32
	}{
		{"below min is raised", 1, 100},
		{"within bounds is kept", 400, 400},
		{"above max is lowered", 3600000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, s.Addr().String())
			resp, err := c.handshake(proto.ConnectRequest{TimeOut: tc.requested, Passwd: make([]byte, 16)})
			if err != nil {
				t.Fatal(err)
			}
			if resp.TimeOut != tc.want {
				t.Errorf("negotiated %d ms, want %d", resp.TimeOut, tc.want)
			}
		})
	}
}

func TestReattachMovesSessionAndClosesOldConnection(t *testing.T) {
	s := startTestServer(t, nil)
	c1 := connectRaw(t, s.Addr().String())
	if code := c1.call(proto.OpCreate, &proto.CreateRequest{Path: "/eph", ACL: znode.OpenACLUnsafe, Flags: 1}, nil); code != 0 {
		t.Fatalf("create: %s", proto.CodeName(code))
	}
	c2 := dialRaw(t, s.Addr().String())
	resp, err := c2.handshake(proto.ConnectRequest{TimeOut: 30000, SessionID: c1.resp.SessionID, Passwd: c1.resp.Passwd, LastZxidSeen: c1.lastZx})
	if err != nil {
		t.Fatal(err)
	}
	if resp.SessionID != c1.resp.SessionID || !bytes.Equal(resp.Passwd, c1.resp.Passwd) || resp.TimeOut <= 0 {
		t.Fatalf("re-attach answered %+v, want session %x", resp, c1.resp.SessionID)
	}
	if err := c1.expectClosed(); err != nil {
		t.Errorf("old connection: %v", err)
	}
	// The session, and so its ephemeral, lives on in the new connection.
	var st proto.ExistsResponse
	if code := c2.call(proto.OpExists, &proto.ExistsRequest{Path: "/eph"}, &st); code != 0 || st.Stat.EphemeralOwner != resp.SessionID {
		t.Errorf("exists /eph after re-attach: code %s owner %x", proto.CodeName(code), st.Stat.EphemeralOwner)
	}
}

func TestReattachRefused(t *testing.T) {
	s := startTestServer(t, nil)
	c1 := connectRaw(t, s.Addr().String())
	for _, tc := range []struct {
		name   string
		id     int64
		passwd []byte
	}{
		{"wrong password", c1.resp.SessionID, bytes.Repeat([]byte{7}, 16)},
		{"unknown session", 0x1234, make([]byte, 16)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, s.Addr().String())
			resp, err := c.handshake(proto.ConnectRequest{TimeOut: 30000, SessionID: tc.id, Passwd: tc.passwd})
			if err != nil {
				t.Fatal(err)
			}
			if resp.TimeOut != 0 || resp.SessionID != 0 || !bytes.Equal(resp.Passwd, make([]byte, 16)) {
				t.Errorf("got %+v, want the invalid-session answer (timeout 0, id 0, zero password)", resp)
			}
			if err := c.expectClosed(); err != nil {
				t.Error(err)
			}
		})
	}
	// The legitimate connection was not disturbed.
	if code := c1.call(proto.OpPing, nil, nil); code != 0 {
		t.Errorf("original connection: %s", proto.CodeName(code))
	}
}

func TestClientAheadOfServerIsRefused(t *testing.T) {
	s := startTestServer(t, nil)
	c := dialRaw(t, s.Addr().String())
	_, err := c.handshake(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), LastZxidSeen: 1 << 62})
	if err == nil {
		t.Fatal("server answered a client that has seen a newer zxid; want the connection closed")
	}
}

func TestOversizeFrameClosesOnlyThatConnection(t *testing.T) {
	s := startTestServer(t, func(o *Options) { o.MaxBuffer = 4096 })
	bad := connectRaw(t, s.Addr().String())
	good := connectRaw(t, s.Addr().String())
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 4097)
	bad.nc.Write(hdr[:])
	if err := bad.expectClosed(); err != nil {
		t.Fatalf("oversize frame: %v", err)
	}
	if code := good.call(proto.OpCreate, &proto.CreateRequest{Path: "/still", ACL: znode.OpenACLUnsafe}, nil); code != 0 {
		t.Errorf("other session after oversize frame: %s", proto.CodeName(code))
	}
	// A negative length is refused the same way.
	neg := connectRaw(t, s.Addr().String())
	binary.BigEndian.PutUint32(hdr[:], 0xFFFFFFF0)
	neg.nc.Write(hdr[:])
	if err := neg.expectClosed(); err != nil {
		t.Fatalf("negative frame length: %v", err)
	}
}

func TestUnimplementedOpcodeAnswersAndCloses(t *testing.T) {
	s := startTestServer(t, nil)
	for _, op := range []int32{proto.OpNotification, proto.OpCheck, proto.OpCreateSession, 999} {
		t.Run(proto.OpName(op), func(t *testing.T) {
			c := connectRaw(t, s.Addr().String())
			h, err := c.reply(c.send(op, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			if h.Err != proto.CodeUnimplemented {
				t.Errorf("err = %s, want Unimplemented", proto.CodeName(h.Err))
			}
			if err := c.expectClosed(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestMalformedBodyKeepsConnection(t *testing.T) {
	s := startTestServer(t, nil)
	c := connectRaw(t, s.Addr().String())
	// getData whose path length says 100 bytes but carries 3.
	c.xid++
	b := binary.BigEndian.AppendUint32(nil, 8+4+3)
	b = binary.BigEndian.AppendUint32(b, uint32(c.xid))
	b = binary.BigEndian.AppendUint32(b, uint32(proto.OpGetData))
	b = binary.BigEndian.AppendUint32(b, 100)
	b = append(b, "/ab"...)
	c.nc.Write(b)
	h, err := c.reply(c.xid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Err != proto.CodeMarshallingError {
		t.Errorf("err = %s, want MarshallingError", proto.CodeName(h.Err))
	}
	if code := c.call(proto.OpExists, &proto.ExistsRequest{Path: "/"}, nil); code != 0 {
		t.Errorf("connection unusable after a malformed request: %s", proto.CodeName(code))
	}
	// An unknown addWatch mode and watcher type are marshalling errors too.
	if code := c.call(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: 7}, nil); code != proto.CodeMarshallingError {
		t.Errorf("addWatch mode 7: %s, want MarshallingError", proto.CodeName(code))
	}
	if code := c.call(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: "/", Type: 9}, nil); code != proto.CodeMarshallingError {
		t.Errorf("removeWatches type 9: %s, want MarshallingError", proto.CodeName(code))
	}
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	s := startTestServer(t, func(o *Options) { o.MaxOutbound = 256 << 10 })
	writer := connectRaw(t, s.Addr().String())
	big := bytes.Repeat([]byte("x"), 64<<10)
	if code := writer.call(proto.OpCreate, &proto.CreateRequest{Path: "/big", Data: big, ACL: znode.OpenACLUnsafe}, nil); code != 0 {
		t.Fatal(proto.CodeName(code))
	}
	slow := connectRaw(t, s.Addr().String())
	// Ask for far more than the socket buffers and the queue bound can
	// hold, without reading a byte.
	var reqs []byte
	for i := 0; i < 2000; i++ {
		reqs, _ = proto.AppendRequest(reqs, proto.RequestHeader{Xid: int32(i + 1), Type: proto.OpGetData}, &proto.GetDataRequest{Path: "/big"})
	}
	go slow.nc.Write(reqs)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slow consumer still connected (%d connections)", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := writer.call(proto.OpGetData, &proto.GetDataRequest{Path: "/big"}, nil); code != 0 {
		t.Errorf("other session after slow consumer: %s", proto.CodeName(code))
	}
}

func TestNotificationCarriesTransactionZxid(t *testing.T) {
	s := startTestServer(t, nil)
	a := connectRaw(t, s.Addr().String())
	b := connectRaw(t, s.Addr().String())
	a.call(proto.OpCreate, &proto.CreateRequest{Path: "/z", ACL: znode.OpenACLUnsafe}, nil)
	b.call(proto.OpGetData, &proto.GetDataRequest{Path: "/z", Watch: true}, nil)
	var st proto.SetDataResponse
	a.call(proto.OpSetData, &proto.SetDataRequest{Path: "/z", Data: []byte("v"), Version: -1}, &st)
	b.call(proto.OpPing, nil, nil)
	if len(b.zxids) != 1 || b.zxids[0] != st.Stat.Mzxid {
		t.Errorf("notification zxids %v, want [%d] (the setData's zxid)", b.zxids, st.Stat.Mzxid)
	}
}

func TestSessionExpiryDeletesEphemerals(t *testing.T) {
	// a's create and b's exists watch must both come before a expires, and
	// a loaded machine can stall a round trip for longer than 100 ms: a asks
	// for 1s. b, which idles while a expires, gets the 30s it asks for.
	s := startTestServer(t, func(o *Options) { o.MaxSessionTimeout = 30 * time.Second })
	b := connectRaw(t, s.Addr().String())
	a := dialRaw(t, s.Addr().String())
	if _, err := a.handshake(proto.ConnectRequest{TimeOut: 1000, Passwd: make([]byte, 16)}); err != nil {
		t.Fatal(err)
	}
	if code := a.call(proto.OpCreate, &proto.CreateRequest{Path: "/lease", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)}, nil); code != 0 {
		t.Fatalf("create /lease: %s", proto.CodeName(code))
	}
	if code := b.call(proto.OpExists, &proto.ExistsRequest{Path: "/lease", Watch: true}, nil); code != 0 {
		t.Fatalf("exists /lease: %s, want it to exist while a's session lives", proto.CodeName(code))
	}
	// a stops sending anything; within timeout + one tick it expires.
	if err := a.expectClosed(); err != nil {
		t.Fatalf("expired session's connection: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(b.pending) == 0 && time.Now().Before(deadline) {
		b.call(proto.OpPing, nil, nil)
		time.Sleep(20 * time.Millisecond)
	}
	if len(b.pending) != 1 || b.pending[0].Type != int32(znode.EventNodeDeleted) || b.pending[0].Path != "/lease" {
		t.Fatalf("watcher saw %+v, want NodeDeleted /lease", b.pending)
	}
	// Re-attaching to the expired session is refused.
	c := dialRaw(t, s.Addr().String())
	resp, err := c.handshake(proto.ConnectRequest{TimeOut: 100, SessionID: a.resp.SessionID, Passwd: a.resp.Passwd})
	if err != nil || resp.TimeOut != 0 {
		t.Errorf("re-attach to expired session: %+v, %v; want timeout 0", resp, err)
	}
}

func TestSetWatchesReplaysChangesAndRearms(t *testing.T) {
	s := startTestServer(t, nil)
	w := connectRaw(t, s.Addr().String())
	for _, p := range []string{"/data", "/gone", "/kids", "/same"} {
		w.call(proto.OpCreate, &proto.CreateRequest{Path: p, ACL: znode.OpenACLUnsafe}, nil)
	}
	seen := w.lastZx
	m := connectRaw(t, s.Addr().String())
	m.call(proto.OpSetData, &proto.SetDataRequest{Path: "/data", Data: []byte("new"), Version: -1}, nil)
	m.call(proto.OpDelete, &proto.DeleteRequest{Path: "/gone", Version: -1}, nil)
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/kids/k", ACL: znode.OpenACLUnsafe}, nil)
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/born", ACL: znode.OpenACLUnsafe}, nil)

	r := connectRaw(t, s.Addr().String())
	code := r.call(proto.OpSetWatches, &proto.SetWatches{
		RelativeZxid: seen,
		DataWatches:  []string{"/data", "/gone", "/same"},
		ExistWatches: []string{"/born", "/unborn"},
		ChildWatches: []string{"/kids"},
	}, nil)
	if code != 0 {
		t.Fatalf("setWatches: %s", proto.CodeName(code))
	}
	var got []string
	for i, ev := range r.pending {
		got = append(got, znode.EventType(ev.Type).String()+" "+ev.Path)
		if r.zxids[i] != -1 {
			t.Errorf("replayed event %d has zxid %d, want -1", i, r.zxids[i])
		}
	}
	want := []string{"NodeDataChanged /data", "NodeDeleted /gone", "NodeCreated /born", "NodeChildrenChanged /kids"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("replayed %v, want %v (before the reply)", got, want)
	}
	r.pending, r.zxids = nil, nil
	// Unchanged paths were re-armed, not replayed.
	m.call(proto.OpSetData, &proto.SetDataRequest{Path: "/same", Data: []byte("x"), Version: -1}, nil)
	m.call(proto.OpCreate, &proto.CreateRequest{Path: "/unborn", ACL: znode.OpenACLUnsafe}, nil)
	m.call(proto.OpSetData, &proto.SetDataRequest{Path: "/data", Data: []byte("again"), Version: -1}, nil)
	evs := r.events()
	got = got[:0]
	for _, ev := range evs {
		got = append(got, znode.EventType(ev.Type).String()+" "+ev.Path)
	}
	want = []string{"NodeDataChanged /same", "NodeCreated /unborn"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("after re-arm got %v, want %v", got, want)
	}
}

func TestMultiIsAtomic(t *testing.T) {
	s := startTestServer(t, nil)
	c := connectRaw(t, s.Addr().String())
	var resp proto.MultiResponse
	code := c.call(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Path: "/m", ACL: znode.OpenACLUnsafe},
		{Type: proto.OpCreate, Path: "/m/child", ACL: znode.OpenACLUnsafe},
		{Type: proto.OpDelete, Path: "/missing", Version: -1},
		{Type: proto.OpSetData, Path: "/m", Version: -1},
	}}, &resp)
	if code != 0 {
		t.Fatalf("multi header err %s, want 0 even on failure", proto.CodeName(code))
	}
	var codes []int32
	for _, r := range resp.Results {
		if r.Type != proto.OpError {
			t.Errorf("result type %d, want error results for a failed multi", r.Type)
		}
		codes = append(codes, r.Err)
	}
	want := []int32{0, 0, proto.CodeNoNode, proto.CodeRuntimeInconsistency}
	if !slicesEqual(codes, want) {
		t.Errorf("per-op codes %v, want %v", codes, want)
	}
	if code := c.call(proto.OpExists, &proto.ExistsRequest{Path: "/m"}, nil); code != proto.CodeNoNode {
		t.Errorf("/m after failed multi: %s, want NoNode", proto.CodeName(code))
	}
	// The successful form reports each op's own result.
	code = c.call(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Path: "/m", ACL: znode.OpenACLUnsafe},
		{Type: proto.OpCheck, Path: "/m", Version: 0},
		{Type: proto.OpSetData, Path: "/m", Data: []byte("d"), Version: 0},
	}}, &resp)
	if code != 0 || len(resp.Results) != 3 || resp.Results[0].Path != "/m" || resp.Results[1].Type != proto.OpCheck || resp.Results[2].Stat.Version != 1 {
		t.Errorf("successful multi: %s %+v", proto.CodeName(code), resp.Results)
	}
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fourLetter(t *testing.T, addr, word string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte(word))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, _ := io.ReadAll(nc)
	return string(out)
}

func TestFourLetterWords(t *testing.T) {
	s := startTestServer(t, func(o *Options) { o.FourLetterWords = []string{"ruok", "mntr", "wchs"} })
	addr := s.Addr().String()
	w := connectRaw(t, addr)
	w.call(proto.OpExists, &proto.ExistsRequest{Path: "/watched", Watch: true}, nil)
	for _, tc := range []struct{ word, want string }{
		{"ruok", "imok"},
		{"srvr", "Mode: standalone\n"}, // always enabled
		{"mntr", "zk_server_state\tstandalone\n"},
		{"wchs", "1 connections watching 1 paths\nTotal watches:1\n"},
		{"dump", "dump is not executed because it is not in the whitelist.\n"},
	} {
		if got := fourLetter(t, addr, tc.word); !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want it to contain %q", tc.word, got, tc.want)
		}
	}
}

func TestAuthAndWhoAmI(t *testing.T) {
	s := startTestServer(t, nil)
	c := connectRaw(t, s.Addr().String())
	if code := c.call(proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte("alice:secret")}, nil); code != 0 {
		t.Fatalf("digest auth: %s", proto.CodeName(code))
	}
	var who proto.WhoAmIResponse
	c.call(proto.OpWhoAmI, nil, &who)
	var got []string
	for _, ci := range who.ClientInfo {
		got = append(got, ci.AuthScheme+":"+ci.User)
	}
	if strings.Join(got, ",") != "ip:127.0.0.1,digest:alice" {
		t.Errorf("whoAmI = %v", got)
	}
	// An unknown scheme fails and closes the connection.
	if code := c.call(proto.OpAuth, &proto.AuthPacket{Scheme: "kerberos", Auth: []byte("x")}, nil); code != proto.CodeAuthFailed {
		t.Errorf("unknown scheme: %s, want AuthFailed", proto.CodeName(code))
	}
	if err := c.expectClosed(); err != nil {
		t.Error(err)
	}
}

func TestShutdownReleasesGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := New(Options{Listen: "127.0.0.1:0", TickTime: 50 * time.Millisecond, Backend: memory.New(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var clients []*rawClient
	for i := 0; i < 5; i++ {
		c := connectRaw(t, s.Addr().String())
		c.call(proto.OpExists, &proto.ExistsRequest{Path: "/x", Watch: true}, nil)
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		c.nc.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after shutdown, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestSuperDigestPassesEveryACL(t *testing.T) {
	// digest of "super:boss" as ZooKeeper's DigestAuthenticationProvider
	// computes it: base64(sha1("super:boss")).
	super := digestID("super:boss")
	s := startTestServer(t, func(o *Options) { o.SuperDigest = super })
	owner := connectRaw(t, s.Addr().String())
	owner.call(proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte("alice:secret")}, nil)
	private := []znode.ACL{{Perms: znode.PermAll, ID: znode.ID{Scheme: "digest", ID: digestID("alice:secret")}}}
	if code := owner.call(proto.OpCreate, &proto.CreateRequest{Path: "/private", Data: []byte("x"), ACL: private}, nil); code != 0 {
		t.Fatal(proto.CodeName(code))
	}
	for _, tc := range []struct {
		name string
		auth string
		want int32
	}{
		{"stranger", "", proto.CodeNoAuth},
		{"wrong super password", "super:guess", proto.CodeNoAuth},
		{"super", "super:boss", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connectRaw(t, s.Addr().String())
			if tc.auth != "" {
				c.call(proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte(tc.auth)}, nil)
			}
			if code := c.call(proto.OpGetData, &proto.GetDataRequest{Path: "/private"}, nil); code != tc.want {
				t.Errorf("getData: %s, want %s", proto.CodeName(code), proto.CodeName(tc.want))
			}
			if code := c.call(proto.OpSetACL, &proto.SetACLRequest{Path: "/private", ACL: private, Version: -1}, nil); code != tc.want {
				t.Errorf("setACL: %s, want %s", proto.CodeName(code), proto.CodeName(tc.want))
			}
		})
	}
}
