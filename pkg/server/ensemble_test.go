package server

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/ensemble"
	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage/memory"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// member is one in-process ensemble member: a server and its raft node.
type member struct {
	s    *Server
	node *ensemble.Node
	stop func()
}

// startEnsemble runs n memory-backed members in this process, on loopback
// raft ports, and waits until one leads.
func startEnsemble(t *testing.T, n int) []*member {
	t.Helper()
	var ms []ensemble.Member
	for i := 1; i <= n; i++ {
		ms = append(ms, ensemble.Member{ID: i, Raft: freeAddr(t), Client: fmt.Sprintf("127.0.0.1:%d", 30000+i)})
	}
	dir := t.TempDir()
	var out []*member
	for i := 1; i <= n; i++ {
		out = append(out, startMember(t, i, ms, filepath.Join(dir, fmt.Sprint(i)), false))
	}
	leaderOf(t, out)
	return out
}

// startMember runs member id of the ensemble ms with its raft state in
// dir; join starts it without bootstrapping, to be added later.
func startMember(t *testing.T, id int, ms []ensemble.Member, dir string, join bool, mods ...func(*ensemble.Options)) *member {
	t.Helper()
	opts := ensemble.Options{
		ID: id, Members: ms, Dir: dir, Join: join,
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond, TouchInterval: 25 * time.Millisecond,
		Logger: testLogger(t).With("member", id),
	}
	for _, m := range mods {
		m(&opts)
	}
	node, err := ensemble.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Listen: "127.0.0.1:0", TickTime: 50 * time.Millisecond, MaxSessionTimeout: 10 * time.Second,
		Backend: memory.New(), Logger: testLogger(t).With("member", id), Replicator: node,
		OnFatal: func(err error) { t.Errorf("member %d: fatal: %v", id, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(s); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	m := &member{s: s, node: node}
	stopped := false
	m.stop = func() {
		if stopped {
			return
		}
		stopped = true
		node.Shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}
	t.Cleanup(m.stop)
	return m
}

// followerOf returns a member of ms other than leader.
func followerOf(ms []*member, leader *member) *member {
	for _, m := range ms {
		if m != leader {
			return m
		}
	}
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// leaderOf waits until exactly one of ms leads and every other serves.
func leaderOf(t *testing.T, ms []*member) *member {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var leaders []*member
		serving := 0
		for _, m := range ms {
			if m.node.IsLeader() {
				leaders = append(leaders, m)
			}
			if m.node.Serving() {
				serving++
			}
		}
		if len(leaders) == 1 && serving == len(ms) {
			return leaders[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no single leader with every member serving")
	return nil
}

func statOn(t *testing.T, c *rawClient, path string) (znode.Stat, int32) {
	t.Helper()
	if code := c.call(proto.OpSync, &proto.SyncRequest{Path: path}, nil); code != 0 {
		t.Fatalf("sync: %s", proto.CodeName(code))
	}
	var resp proto.StatResponse
	code := c.call(proto.OpExists, &proto.ExistsRequest{Path: path}, &resp)
	return resp.Stat, code
}

// A write through a follower is applied on every member with the same
// Stat; watches fire on every member from its own apply; an ephemeral
// node lives on while its session moves to another member after its
// member stops, and goes when the session closes.
func TestEnsembleReplicatesWritesSessionsAndWatches(t *testing.T) {
	ms := startEnsemble(t, 3)
	leader := leaderOf(t, ms)
	var followers []*member
	for _, m := range ms {
		if m != leader {
			followers = append(followers, m)
		}
	}
	f := connectRaw(t, followers[0].s.Addr().String())
	watcher := connectRaw(t, followers[1].s.Addr().String())
	if code := watcher.call(proto.OpExists, &proto.ExistsRequest{Path: "/a", Watch: true}, nil); code != proto.CodeNoNode {
		t.Fatalf("exists /a before create: %s", proto.CodeName(code))
	}
	var cr proto.Create2Response
	if code := f.call(proto.OpCreate2, &proto.CreateRequest{Path: "/a", Data: []byte("v1"), ACL: znode.OpenACLUnsafe}, &cr); code != 0 {
		t.Fatalf("create /a through a follower: %s", proto.CodeName(code))
	}
	if cr.Stat.Czxid>>32 < 1 || cr.Stat.Czxid&0xffffffff == 0 {
		t.Errorf("czxid %#x is not epoch<<32|counter with epoch >= 1", cr.Stat.Czxid)
	}
	var want znode.Stat
	for i, m := range ms {
		c := connectRaw(t, m.s.Addr().String())
		st, code := statOn(t, c, "/a")
		if code != 0 {
			t.Fatalf("member %d: exists /a: %s", i+1, proto.CodeName(code))
		}
		if i == 0 {
			want = st
		} else if !reflect.DeepEqual(st, want) {
			t.Errorf("member %d has Stat %+v, member 1 has %+v", i+1, st, want)
		}
	}
	if !reflect.DeepEqual(want, cr.Stat) {
		t.Errorf("members hold Stat %+v, the create returned %+v", want, cr.Stat)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(watcher.pending) == 0 && time.Now().Before(deadline) {
		watcher.call(proto.OpPing, nil, nil)
	}
	if len(watcher.pending) != 1 || watcher.pending[0].Type != int32(znode.EventNodeCreated) || watcher.zxids[0] != cr.Stat.Czxid {
		t.Fatalf("watcher on another follower saw %+v (zxids %x), want NodeCreated /a at %#x", watcher.pending, watcher.zxids, cr.Stat.Czxid)
	}

	// An ephemeral of a session whose member stops survives while the
	// session moves to another member.
	if code := f.call(proto.OpCreate, &proto.CreateRequest{Path: "/lease", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)}, nil); code != 0 {
		t.Fatalf("create /lease: %s", proto.CodeName(code))
	}
	lastZxid := f.lastZx
	sid, pw := f.resp.SessionID, f.resp.Passwd
	followers[0].stop()
	moved := dialRaw(t, leader.s.Addr().String())
	resp, err := moved.handshake(proto.ConnectRequest{TimeOut: 10000, SessionID: sid, Passwd: pw, LastZxidSeen: lastZxid})
	if err != nil || resp.TimeOut == 0 {
		t.Fatalf("re-attach on the leader: %+v, %v", resp, err)
	}
	if _, code := statOn(t, moved, "/lease"); code != 0 {
		t.Fatalf("ephemeral after its member stopped: %s, want it to live with its session", proto.CodeName(code))
	}
	if code := moved.call(proto.OpCloseSession, nil, nil); code != 0 {
		t.Fatalf("closeSession: %s", proto.CodeName(code))
	}
	other := connectRaw(t, followers[1].s.Addr().String())
	if _, code := statOn(t, other, "/lease"); code != proto.CodeNoNode {
		t.Errorf("ephemeral after its session closed: %s, want NoNode", proto.CodeName(code))
	}
}

// The leader expires a session connected to a follower only when the
// follower stops forwarding its touches.
func TestEnsembleExpiresSessionsFromForwardedTouches(t *testing.T) {
	ms := startEnsemble(t, 3)
	leader := leaderOf(t, ms)
	follower := followerOf(ms, leader)
	a := dialRaw(t, follower.s.Addr().String())
	if _, err := a.handshake(proto.ConnectRequest{TimeOut: 400, Passwd: make([]byte, 16)}); err != nil {
		t.Fatal(err)
	}
	if code := a.call(proto.OpCreate, &proto.CreateRequest{Path: "/lease", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)}, nil); code != 0 {
		t.Fatalf("create /lease: %s", proto.CodeName(code))
	}
	// Pings to the follower alone keep the session alive well past its
	// timeout on the leader.
	until := time.Now().Add(1200 * time.Millisecond)
	for time.Now().Before(until) {
		if code := a.call(proto.OpPing, nil, nil); code != 0 {
			t.Fatalf("ping: %s (the leader expired a session its follower kept alive)", proto.CodeName(code))
		}
		time.Sleep(50 * time.Millisecond)
	}
	w := connectRaw(t, leader.s.Addr().String())
	if _, code := statOn(t, w, "/lease"); code != 0 {
		t.Fatalf("ephemeral of a live session: %s", proto.CodeName(code))
	}
	a.nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, code := statOn(t, w, "/lease"); code == proto.CodeNoNode {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the session of a closed connection did not expire")
}

// An observer added while the ensemble serves catches up, applies later
// writes and serves them; removed, it stops serving.
func TestEnsembleAddsAndRemovesAnObserver(t *testing.T) {
	ms := startEnsemble(t, 3)
	leader := leaderOf(t, ms)
	c := connectRaw(t, leader.s.Addr().String())
	if code := c.call(proto.OpCreate, &proto.CreateRequest{Path: "/before", ACL: znode.OpenACLUnsafe}, nil); code != 0 {
		t.Fatalf("create /before: %s", proto.CodeName(code))
	}
	// A writer goes on through a follower while the membership changes:
	// no write may fail or be lost.
	follower0 := followerOf(ms, leader)
	wc := connectRaw(t, follower0.s.Addr().String())
	stopWriter := make(chan struct{})
	writerDone := make(chan int)
	go func() {
		n := 0
		defer func() { writerDone <- n }()
		for {
			select {
			case <-stopWriter:
				return
			default:
			}
			if code := wc.call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/load-%04d", n), ACL: znode.OpenACLUnsafe}, nil); code != 0 {
				t.Errorf("write %d during the membership change: %s", n, proto.CodeName(code))
				return
			}
			n++
		}
	}()
	members := append([]ensemble.Member(nil), ms[0].node.Members()...)
	obs := ensemble.Member{ID: 4, Raft: freeAddr(t), Client: "127.0.0.1:30004", Role: ensemble.Observer}
	members = append(members, obs)
	m4 := startMember(t, 4, members, filepath.Join(t.TempDir(), "4"), true)
	if m4.node.Serving() {
		t.Fatal("a joining member serves before it is added")
	}
	// Ask a follower: it relays to the leader.
	follower := followerOf(ms, leader)
	resp, err := ensemble.AdminCall(follower.node.Self().Raft, ensemble.AdminRequest{Op: "add", ID: 4, Raft: obs.Raft, Client: obs.Client, Role: "observer"})
	if err != nil {
		t.Fatalf("add observer: %v", err)
	}
	if len(resp.Members) != 4 || resp.Members[3].Role != "observer" {
		t.Fatalf("members after add: %+v", resp.Members)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !m4.node.Serving() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if role := m4.node.Role(); role != "observer" {
		t.Fatalf("added member's role %q, want observer", role)
	}
	if code := c.call(proto.OpCreate, &proto.CreateRequest{Path: "/after", ACL: znode.OpenACLUnsafe}, nil); code != 0 {
		t.Fatalf("create /after: %s", proto.CodeName(code))
	}
	oc := connectRaw(t, m4.s.Addr().String())
	for _, p := range []string{"/before", "/after"} {
		if _, code := statOn(t, oc, p); code != 0 {
			t.Errorf("observer: exists %s: %s", p, proto.CodeName(code))
		}
	}
	// A write through the observer is forwarded like a follower's.
	if code := oc.call(proto.OpCreate, &proto.CreateRequest{Path: "/via-observer", ACL: znode.OpenACLUnsafe}, nil); code != 0 {
		t.Fatalf("create through the observer: %s", proto.CodeName(code))
	}
	if _, err := ensemble.AdminCall(leader.node.Self().Raft, ensemble.AdminRequest{Op: "remove", ID: 4}); err != nil {
		t.Fatalf("remove observer: %v", err)
	}
	list, err := ensemble.AdminCall(leader.node.Self().Raft, ensemble.AdminRequest{Op: "list"})
	if err != nil || len(list.Members) != 3 {
		t.Fatalf("members after remove: %+v, %v", list.Members, err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for m4.node.Serving() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if m4.node.Serving() {
		t.Error("a removed member still serves")
	}
	close(stopWriter)
	written := <-writerDone
	children, _, code := c.call2Children(t, "/")
	loads := 0
	for _, ch := range children {
		if strings.HasPrefix(ch, "load-") {
			loads++
		}
	}
	if code != 0 || loads != written || written == 0 {
		t.Errorf("the leader holds %d of the %d writes acknowledged during the membership change (%s)", loads, written, proto.CodeName(code))
	}
	t.Logf("%d writes through a follower while an observer was added and removed", written)
	if _, err := ensemble.AdminCall(leader.node.Self().Raft, ensemble.AdminRequest{Op: "remove", ID: 9}); err == nil {
		t.Error("removing a member that is not in the ensemble succeeded")
	}
}

// A member cut off from its quorum refuses read-write clients, serves
// clients that accept a read-only server (writes get NotReadOnly, isro
// says ro), and closes those sessions once it is in a quorum again.
func TestEnsembleReadOnlyModeWithoutQuorum(t *testing.T) {
	dir := t.TempDir()
	var ms []ensemble.Member
	for i := 1; i <= 3; i++ {
		ms = append(ms, ensemble.Member{ID: i, Raft: freeAddr(t), Client: fmt.Sprintf("127.0.0.1:%d", 30000+i)})
	}
	var out []*member
	for i := 1; i <= 3; i++ {
		out = append(out, startMember(t, i, ms, filepath.Join(dir, fmt.Sprint(i)), false))
	}
	leaderOf(t, out)
	c := connectRaw(t, out[0].s.Addr().String())
	if code := c.call(proto.OpCreate, &proto.CreateRequest{Path: "/kept", Data: []byte("x"), ACL: znode.OpenACLUnsafe}, nil); code != 0 {
		t.Fatalf("create /kept: %s", proto.CodeName(code))
	}
	// Wait until every member has applied it, then cut member 1 off.
	for _, m := range out[1:] {
		if _, code := statOn(t, connectRaw(t, m.s.Addr().String()), "/kept"); code != 0 {
			t.Fatalf("exists /kept: %s", proto.CodeName(code))
		}
	}
	out[1].stop()
	out[2].stop()
	lone := out[0]
	deadline := time.Now().Add(10 * time.Second)
	for lone.node.Serving() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := fourLetter(t, lone.s.Addr().String(), "isro"); got != "ro" {
		t.Errorf("isro without a quorum = %q, want ro", got)
	}
	rw := dialRaw(t, lone.s.Addr().String())
	if resp, err := rw.handshake(proto.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), HasReadOnly: true}); err == nil && resp.TimeOut > 0 {
		t.Fatalf("a read-write client was given a session without a quorum: %+v", resp)
	}
	ro := dialRaw(t, lone.s.Addr().String())
	resp, err := ro.handshake(proto.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), ReadOnly: true, HasReadOnly: true})
	if err != nil || resp.TimeOut == 0 || !resp.ReadOnly {
		t.Fatalf("read-only handshake: %+v, %v", resp, err)
	}
	var gd proto.GetDataResponse
	if code := ro.call(proto.OpGetData, &proto.GetDataRequest{Path: "/kept"}, &gd); code != 0 || string(gd.Data) != "x" {
		t.Fatalf("read-only getData /kept: %s %q", proto.CodeName(code), gd.Data)
	}
	if code := ro.call(proto.OpCreate, &proto.CreateRequest{Path: "/new", ACL: znode.OpenACLUnsafe}, nil); code != proto.CodeNotReadOnly {
		t.Fatalf("write in read-only mode: %s, want NotReadOnly", proto.CodeName(code))
	}
	// Quorum back: the read-only session is closed.
	out[1] = startMember(t, 2, ms, filepath.Join(dir, "2"), false)
	if err := ro.expectClosed(); err != nil {
		t.Fatalf("read-only connection after the quorum came back: %v", err)
	}
	if got := fourLetter(t, lone.s.Addr().String(), "isro"); got != "rw" {
		t.Errorf("isro with a quorum = %q, want rw", got)
	}
}

// A member that was away while the others snapshotted and compacted their
// logs past what it had catches up from a snapshot, and holds the same
// tree and sessions afterwards.
func TestEnsembleMemberCatchesUpFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	var ms []ensemble.Member
	for i := 1; i <= 3; i++ {
		ms = append(ms, ensemble.Member{ID: i, Raft: freeAddr(t), Client: fmt.Sprintf("127.0.0.1:%d", 30000+i)})
	}
	small := func(o *ensemble.Options) {
		o.SnapshotThreshold, o.TrailingLogs, o.SnapshotInterval = 50, 10, 50*time.Millisecond
	}
	var out []*member
	for i := 1; i <= 3; i++ {
		out = append(out, startMember(t, i, ms, filepath.Join(dir, fmt.Sprint(i)), false, small))
	}
	leader := leaderOf(t, out)
	away := followerOf(out, leader)
	away.stop()
	c := connectRaw(t, leader.s.Addr().String())
	for i := range 300 {
		if code := c.call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/n%03d", i), Data: []byte{byte(i)}, ACL: znode.OpenACLUnsafe}, nil); code != 0 {
			t.Fatalf("create: %s", proto.CodeName(code))
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var snap string
		leader.node.Monitor(func(k string, v any) {
			if k == "zkx_raft_last_snapshot_index" {
				snap = fmt.Sprint(v)
			}
		})
		if snap != "" && snap != "0" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var id int
	for i, m := range out {
		if m == away {
			id = i + 1
		}
	}
	back := startMember(t, id, ms, filepath.Join(dir, fmt.Sprint(id)), false, small)
	// Restoring a snapshot closes the member's client connections: connect
	// once it has caught up.
	deadline = time.Now().Add(10 * time.Second)
	for back.s.LastZxid() < leader.s.LastZxid() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	bc := connectRaw(t, waitServing(t, back).s.Addr().String())
	want, _, _ := c.call2Children(t, "/")
	got, _, _ := bc.call2Children(t, "/")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("member back from a snapshot has %d children of /, the leader %d", len(got), len(want))
	}
	for _, p := range []string{"/n000", "/n299"} {
		ws, _ := statOn(t, c, p)
		gs, code := statOn(t, bc, p)
		if code != 0 || !reflect.DeepEqual(gs, ws) {
			t.Errorf("%s: %+v (%s) on the member back, %+v on the leader", p, gs, proto.CodeName(code), ws)
		}
	}
	restored := false
	back.node.Monitor(func(k string, v any) {
		if k == "zkx_raft_last_snapshot_index" && fmt.Sprint(v) != "0" {
			restored = true
		}
	})
	if !restored {
		t.Error("the member caught up without installing a snapshot; the test did not exercise Restore")
	}
}

func waitServing(t *testing.T, m *member) *member {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !m.node.Serving() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return m
}

// call2Children syncs and lists path's children.
func (c *rawClient) call2Children(t *testing.T, path string) ([]string, znode.Stat, int32) {
	t.Helper()
	if code := c.call(proto.OpSync, &proto.SyncRequest{Path: path}, nil); code != 0 {
		t.Fatalf("sync: %s", proto.CodeName(code))
	}
	var resp proto.GetChildren2Response
	code := c.call(proto.OpGetChildren2, &proto.GetChildrenRequest{Path: path}, &resp)
	return resp.Children, resp.Stat, code
}

// When the member holding a session's connection dies, the leader expires
// the session once its timeout passes without touches, and every other
// member deletes its ephemerals and fires the watches.
func TestEnsembleExpiresSessionsOfADeadMember(t *testing.T) {
	ms := startEnsemble(t, 3)
	leader := leaderOf(t, ms)
	var doomed, other *member
	for _, m := range ms {
		if m == leader {
			continue
		}
		if doomed == nil {
			doomed = m
		} else {
			other = m
		}
	}
	a := dialRaw(t, doomed.s.Addr().String())
	if _, err := a.handshake(proto.ConnectRequest{TimeOut: 1000, Passwd: make([]byte, 16)}); err != nil {
		t.Fatal(err)
	}
	if code := a.call(proto.OpCreate, &proto.CreateRequest{Path: "/lease", ACL: znode.OpenACLUnsafe, Flags: int32(znode.ModeEphemeral)}, nil); code != 0 {
		t.Fatalf("create /lease: %s", proto.CodeName(code))
	}
	w := connectRaw(t, other.s.Addr().String())
	if code := w.call(proto.OpSync, &proto.SyncRequest{Path: "/lease"}, nil); code != 0 {
		t.Fatalf("sync: %s", proto.CodeName(code))
	}
	if code := w.call(proto.OpExists, &proto.ExistsRequest{Path: "/lease", Watch: true}, nil); code != 0 {
		t.Fatalf("exists /lease on another member: %s", proto.CodeName(code))
	}
	died := time.Now()
	doomed.stop()
	deadline := time.Now().Add(15 * time.Second)
	for len(w.pending) == 0 && time.Now().Before(deadline) {
		w.call(proto.OpPing, nil, nil)
		time.Sleep(10 * time.Millisecond)
	}
	if len(w.pending) != 1 || w.pending[0].Type != int32(znode.EventNodeDeleted) || w.pending[0].Path != "/lease" {
		t.Fatalf("watcher on a surviving member saw %+v, want NodeDeleted /lease", w.pending)
	}
	t.Logf("1s session of a dead member expired %v after the member stopped", time.Since(died))
	lc := connectRaw(t, leader.s.Addr().String())
	if _, code := statOn(t, lc, "/lease"); code != proto.CodeNoNode {
		t.Errorf("leader still has the ephemeral: %s", proto.CodeName(code))
	}
}

// The leader's mntr counts synced followers from raft's heartbeats, and
// names a follower that stopped answering with the time since it last did.
func TestEnsembleMonitorSeesAFollowerGo(t *testing.T) {
	ms := startEnsemble(t, 3)
	leader := leaderOf(t, ms)
	mntr := func() map[string]string {
		out := map[string]string{}
		for _, l := range strings.Split(fourLetter(t, leader.s.Addr().String(), "mntr"), "\n") {
			if k, v, ok := strings.Cut(l, "\t"); ok {
				out[k] = v
			}
		}
		return out
	}
	m := mntr()
	if m["zk_server_state"] != "leader" || m["zk_synced_followers"] != "2" || m["zk_followers"] != "2" {
		t.Fatalf("leader's mntr: state %q, synced followers %q, followers %q", m["zk_server_state"], m["zk_synced_followers"], m["zk_followers"])
	}
	gone := followerOf(ms, leader)
	key := fmt.Sprintf("zkx_raft_peer_%d_last_contact_ms", gone.node.ID())
	if m[key] != "0" {
		t.Fatalf("%s = %q for a live follower, want 0", key, m[key])
	}
	gone.stop()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m = mntr()
		if m["zk_synced_followers"] == "1" && m[key] != "0" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after a follower stopped: synced followers %q, %s = %q", m["zk_synced_followers"], key, m[key])
}
