package ensemble

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

const (
	// tickTime 500 ms lets sessions last up to 10 s (20 ticks): ample for a client to move
	// to another member while a new leader is elected on a loaded 2-core machine.
	tickTime = 500 * time.Millisecond
	// sessionTimeout is what the clients ask for.
	sessionTimeout = 10 * time.Second
	// waitTimeout bounds every wait for a leader, a session or a state.
	waitTimeout = 30 * time.Second
)

// poll calls cond until it returns nil or timeout passes, then returns its last error.
func poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	backoff := 10 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %v: %w", timeout, err)
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// zkLog keeps a client's go-zookeeper log lines; they are printed if the test fails.
type zkLog struct {
	name string
	buf  harness.SyncBuffer
}

func (l *zkLog) Printf(format string, args ...any) {
	fmt.Fprintf(&l.buf, time.Now().Format("15:04:05.000 ")+l.name+": "+format+"\n", args...)
}

// orderedHosts is a zk.HostProvider that tries the hosts in the order given (go-zookeeper's
// own provider shuffles them), so that a test decides which member a client uses first and
// where it goes next.
type orderedHosts struct {
	mu         sync.Mutex
	hosts      []string
	curr, last int
}

func newOrderedHosts(hosts []string) *orderedHosts {
	return &orderedHosts{hosts: slices.Clone(hosts), curr: -1, last: -1}
}

// Init ignores servers, which go-zookeeper has shuffled: the order is the one given to
// newOrderedHosts.
func (h *orderedHosts) Init(servers []string) error { return nil }

func (h *orderedHosts) Len() int { return len(h.hosts) }

// Next returns the next host; retryStart is true once every host was tried since the last
// connection.
func (h *orderedHosts) Next() (server string, retryStart bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.curr = (h.curr + 1) % len(h.hosts)
	retryStart = h.curr == h.last
	if h.last == -1 {
		h.last = 0
	}
	return h.hosts[h.curr], retryStart
}

func (h *orderedHosts) Connected() {
	h.mu.Lock()
	h.last = h.curr
	h.mu.Unlock()
}

// connect opens a go-zookeeper session that tries hosts in order, and waits until it has
// the session. The client is closed when the test ends; its log is printed if it failed.
func connect(t *testing.T, name string, hosts []string) *zk.Conn {
	t.Helper()
	l := &zkLog{name: name}
	c, ev, err := zk.Connect(hosts, sessionTimeout,
		zk.WithHostProvider(newOrderedHosts(hosts)),
		zk.WithLogger(l), zk.WithLogInfo(false))
	if err != nil {
		t.Fatalf("%s: connect to %v: %v", name, hosts, err)
	}
	go func() { // keep go-zookeeper's event channel from filling
		for range ev {
		}
	}()
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			if s := strings.TrimSpace(l.buf.String()); s != "" {
				t.Logf("go-zookeeper log of %s:\n%s", name, s)
			}
		}
	})
	err = poll(waitTimeout, func() error {
		if st := c.State(); st != zk.StateHasSession {
			return fmt.Errorf("state %v", st)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: no session with %v: %v", name, hosts, err)
	}
	return c
}

// hostsFrom lists every member's client address, starting with first's.
func hostsFrom(e *harness.Ensemble, first *harness.Member) []string {
	hosts := []string{first.ClientAddr}
	for _, m := range e.Members() {
		if m != first {
			hosts = append(hosts, m.ClientAddr)
		}
	}
	return hosts
}

// shuffled is the connect string in a random order: a client that may use any member.
func shuffled(e *harness.Ensemble, rng *rand.Rand) []string {
	hosts := strings.Split(e.ConnectString(), ",")
	rng.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	return hosts
}

// syncGet reads path on c after a sync, so that the member has applied every write
// acknowledged before.
func syncGet(c *zk.Conn, path string) ([]byte, *zk.Stat, error) {
	if _, err := c.Sync(path); err != nil {
		return nil, nil, fmt.Errorf("sync %s: %w", path, err)
	}
	data, st, err := c.Get(path)
	if err != nil {
		return nil, nil, fmt.Errorf("get %s: %w", path, err)
	}
	return data, st, nil
}

func statString(s *zk.Stat) string {
	return fmt.Sprintf("czxid %#x mzxid %#x pzxid %#x ctime %d mtime %d version %d cversion %d aversion %d owner %#x length %d children %d",
		s.Czxid, s.Mzxid, s.Pzxid, s.Ctime, s.Mtime, s.Version, s.Cversion, s.Aversion, s.EphemeralOwner, s.DataLength, s.NumChildren)
}

// A write sent to a follower is on every member, observer included, with the same data and
// Stat everywhere.
func TestEnsembleWriteThroughFollowerIsEverywhere(t *testing.T) {
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3, Observers: 1, TickTime: tickTime})
	leader := e.Leader(t, waitTimeout)
	var follower *harness.Member
	for _, m := range e.Members() {
		want := "follower"
		switch {
		case m == leader:
			want = "leader"
		case m.ID > 3:
			want = "observer"
		}
		e.WaitFor(t, waitTimeout, func() error {
			if got := e.Mode(m); got != want {
				return fmt.Errorf("srvr of m%d says Mode %q, want %q", m.ID, got, want)
			}
			return nil
		})
		if want == "follower" && follower == nil {
			follower = m
		}
	}

	w := connect(t, "writer", []string{follower.ClientAddr})
	const path = "/through-follower"
	acl := zk.WorldACL(zk.PermAll)
	if _, err := w.Create(path, []byte("v0"), 0, acl); err != nil {
		t.Fatalf("create %s through follower m%d: %v", path, follower.ID, err)
	}
	if _, err := w.Create(path+"/child", nil, 0, acl); err != nil {
		t.Fatalf("create %s/child: %v", path, err)
	}
	written, err := w.Set(path, []byte("v1"), 0)
	if err != nil {
		t.Fatalf("set %s through follower m%d: %v", path, follower.ID, err)
	}
	if written.Version != 1 || written.NumChildren != 1 || written.Mzxid <= written.Czxid || written.Pzxid <= written.Czxid {
		t.Fatalf("setData through follower returned %s", statString(written))
	}

	for _, m := range e.Members() {
		c := connect(t, fmt.Sprintf("reader-m%d", m.ID), []string{m.ClientAddr})
		data, st, err := syncGet(c, path)
		if err != nil {
			t.Fatalf("m%d: %v", m.ID, err)
		}
		if string(data) != "v1" || *st != *written {
			t.Errorf("m%d (%s) has %q, %s\nthe writer was told %q, %s", m.ID, e.Mode(m), data, statString(st), "v1", statString(written))
		}
		_, cst, err := c.Exists(path + "/child")
		if err != nil || cst == nil || cst.Czxid != written.Pzxid {
			t.Errorf("m%d: child: %v, %+v; want czxid = parent's pzxid %#x", m.ID, err, cst, written.Pzxid)
		}
	}
}

// A client connected to the leader keeps its session and ephemeral node when the leader is
// SIGKILLed; writes go on under a new leader; the killed member catches up after a restart,
// and every member's data dir then holds the same dump.
func TestEnsembleLeaderKillKeepsSessionAndEphemeral(t *testing.T) {
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3, TickTime: tickTime})
	old := e.Leader(t, waitTimeout)
	c := connect(t, "client", hostsFrom(e, old))
	if got := c.Server(); got != old.ClientAddr {
		t.Fatalf("client is connected to %s, want the leader m%d at %s", got, old.ID, old.ClientAddr)
	}
	sid := c.SessionID()
	acl := zk.WorldACL(zk.PermAll)
	if _, err := c.Create("/eph", []byte("mine"), zk.FlagEphemeral, acl); err != nil {
		t.Fatalf("create ephemeral: %v", err)
	}
	before, err := c.Create("/data", []byte("before"), 0, acl)
	if err != nil {
		t.Fatalf("create /data: %v", err)
	}
	_, beforeStat, err := c.Get(before)
	if err != nil {
		t.Fatal(err)
	}

	e.Kill(old)
	next := e.Leader(t, waitTimeout)
	if next == old {
		t.Fatalf("the killed member m%d still leads", old.ID)
	}
	t.Logf("killed leader m%d; m%d leads", old.ID, next.ID)

	// The write may meet the connection loss; it is unconditional, so retrying is harmless.
	var after *zk.Stat
	e.WaitFor(t, waitTimeout, func() error {
		st, err := c.Set("/data", []byte("after"), -1)
		after = st
		return err
	})
	if c.SessionID() != sid || c.State() != zk.StateHasSession {
		t.Fatalf("session %#x in state %v after the leader's death, want session %#x kept", c.SessionID(), c.State(), sid)
	}
	if c.Server() == old.ClientAddr {
		t.Fatalf("client still on the killed member %s", old.ClientAddr)
	}
	if after.Mzxid>>32 <= beforeStat.Mzxid>>32 {
		t.Errorf("write under the new leader has zxid %#x, not in an epoch after the old leader's %#x", after.Mzxid, beforeStat.Mzxid)
	}
	checkEphemeral := func(who string, r *zk.Conn) {
		t.Helper()
		data, st, err := syncGet(r, "/eph")
		if err != nil || string(data) != "mine" || st.EphemeralOwner != sid {
			t.Fatalf("%s: /eph = %q, %v, %v; want the ephemeral of session %#x", who, data, st, err, sid)
		}
	}
	checkEphemeral("the client", c)
	checkEphemeral("a client of the new leader", connect(t, "new-leader", []string{next.ClientAddr}))

	e.Restart(t, old)
	back := connect(t, "restarted", []string{old.ClientAddr})
	checkEphemeral("a client of the restarted member", back)
	if data, _, err := syncGet(back, "/data"); err != nil || string(data) != "after" {
		t.Fatalf("restarted member m%d: /data = %q, %v; want the write made while it was dead", old.ID, data, err)
	}

	// Close every session, let every member apply the same last zxid, then stop the
	// followers before the leader, so that no election (and no new epoch) happens while
	// members stop.
	c.Close()
	back.Close()
	z, want := e.StopAndCompareDumps(t, waitTimeout)
	if !strings.Contains(want, `"path":"/data"`) || strings.Contains(want, `"path":"/eph"`) {
		t.Errorf("dump lacks /data or still has the closed session's /eph:\n%s", want)
	}
	t.Logf("every member stopped at zxid %#x with the same dump (%d lines)", z, strings.Count(want, "\n"))
}
