package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnsembleOptions configures StartEnsemble. Zero values mean the defaults.
type EnsembleOptions struct {
	// Members is the number of voting members. Default 3.
	Members int
	// Observers is the number of observers, after the voters.
	Observers int
	// TickTime is each member's tick_time. Default 200 ms.
	TickTime time.Duration
	// ApplyDelay sets debug.apply_delay: a planted replication lag (tests
	// of the linearizability checker only).
	ApplyDelay time.Duration
	// Extra is appended to every member's YAML configuration.
	Extra string
	// ExtraFor, when set, is appended to member m's configuration too.
	ExtraFor func(m *Member) string
	// StartTimeout bounds the wait for the ensemble to elect a leader and
	// serve. Default 60 s.
	StartTimeout time.Duration
	// Memory runs the members on the memory backend instead of badger.
	Memory bool
}

// Member is one zkx process of an Ensemble. Its fields do not change; the
// process behind it may be killed and restarted.
type Member struct {
	ID int
	// IP is the loopback address the member binds (127.0.0.x, one per
	// member), so NetFault can cut traffic between members.
	IP         string
	ClientAddr string
	RaftAddr   string
	DataDir    string
	ConfigPath string

	mu  sync.Mutex
	srv *Server
	run int
}

// Server is the member's current process, nil when it is not running.
func (m *Member) Server() *Server {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.srv
}

// LogTail returns the last n lines of the member's current log.
func (m *Member) LogTail(n int) string {
	if s := m.Server(); s != nil {
		return s.LogTail(n)
	}
	return ""
}

// Ensemble is a replicated zkx ensemble of real processes on loopback.
type Ensemble struct {
	t       testing.TB
	bin     string
	dir     string
	members []*Member
	opts    EnsembleOptions
}

// ipBase hands out loopback /24s, one per ensemble of this test binary, so
// two ensembles of one run never share member IPs.
var ipBase struct {
	sync.Mutex
	next int
}

// StartEnsemble builds zkx (once per test binary), starts an ensemble of
// real processes on loopback, each member on its own 127.0.0.x address and
// ports the OS picks, and returns once exactly one member leads and every
// member answers a session handshake. Every process is killed when the
// test ends.
func StartEnsemble(t testing.TB, opts EnsembleOptions) *Ensemble {
	t.Helper()
	if opts.Members <= 0 {
		opts.Members = 3
	}
	if opts.TickTime <= 0 {
		opts.TickTime = 200 * time.Millisecond
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	e := &Ensemble{t: t, bin: BuildZkx(t), dir: t.TempDir(), opts: opts}
	ipBase.Lock()
	net3 := 100 + (os.Getpid()+ipBase.next)%150
	ipBase.next++
	ipBase.Unlock()
	n := opts.Members + opts.Observers
	for i := 1; i <= n; i++ {
		ip := fmt.Sprintf("127.0.%d.%d", net3, 10+i)
		m := &Member{
			ID:         i,
			IP:         ip,
			ClientAddr: fmt.Sprintf("%s:%d", ip, freePortOn(t, ip)),
			RaftAddr:   fmt.Sprintf("%s:%d", ip, freePortOn(t, ip)),
			DataDir:    filepath.Join(e.dir, fmt.Sprintf("m%d", i)),
			ConfigPath: filepath.Join(e.dir, fmt.Sprintf("m%d.yaml", i)),
		}
		e.members = append(e.members, m)
	}
	for _, m := range e.members {
		if err := os.WriteFile(m.ConfigPath, []byte(e.config(m)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range e.members {
		e.start(t, m)
	}
	deadline := time.Now().Add(opts.StartTimeout)
	for _, m := range e.members {
		e.waitServing(t, m, time.Until(deadline))
	}
	e.Leader(t, time.Until(deadline))
	return e
}

// freePortOn returns a port free on ip a moment ago.
func freePortOn(t testing.TB, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("harness: no free port on %s: %v", ip, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// config is member m's YAML configuration.
func (e *Ensemble) config(m *Member) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\ntick_time: %q\n", m.ClientAddr, e.opts.TickTime.String())
	fmt.Fprintf(&b, "log:\n  level: debug\n")
	if e.opts.Memory {
		fmt.Fprintf(&b, "storage:\n  backend: memory\n  data_dir: %q\n", m.DataDir)
	} else {
		fmt.Fprintf(&b, "storage:\n  backend: badger\n  data_dir: %q\n  sync: true\n", m.DataDir)
	}
	if e.opts.ApplyDelay > 0 {
		fmt.Fprintf(&b, "debug:\n  apply_delay: %q\n", e.opts.ApplyDelay.String())
	}
	fmt.Fprintf(&b, "ensemble:\n  id: %d\n  raft_dir: %q\n  heartbeat_timeout: 500ms\n  election_timeout: 500ms\n  leader_lease_timeout: 250ms\n  members:\n",
		m.ID, m.DataDir+"-raft")
	for i, o := range e.members {
		role := "voter"
		if i >= e.opts.Members {
			role = "observer"
		}
		fmt.Fprintf(&b, "    - {id: %d, raft: %q, client: %q, role: %s}\n", o.ID, o.RaftAddr, o.ClientAddr, role)
	}
	b.WriteString(e.opts.Extra)
	if e.opts.ExtraFor != nil {
		b.WriteString(e.opts.ExtraFor(m))
	}
	return b.String()
}

func (e *Ensemble) start(t testing.TB, m *Member) {
	t.Helper()
	m.mu.Lock()
	m.run++
	logPath := filepath.Join(e.dir, fmt.Sprintf("m%d-%d.log", m.ID, m.run))
	m.mu.Unlock()
	cmd := exec.Command(e.bin, "serve", "--config", m.ConfigPath)
	cmd.Dir = e.dir
	s, err := startProcess("zkx", m.ClientAddr, logPath, cmd)
	if err != nil {
		t.Fatalf("harness: start member %d: %v", m.ID, err)
	}
	registerCleanup(e.t, s)
	m.mu.Lock()
	m.srv = s
	m.mu.Unlock()
}

// waitServing waits until m answers a session handshake: it runs and is in
// a quorum.
func (e *Ensemble) waitServing(t testing.TB, m *Member, timeout time.Duration) {
	t.Helper()
	s := m.Server()
	if err := s.awaitReady(timeout, func() error { return Handshake(m.ClientAddr, 2*time.Second) }); err != nil {
		t.Fatalf("harness: member %d does not serve: %v\nlast lines of its log:\n%s", m.ID, err, s.LogTail(60))
	}
}

// Members returns every member, voters first.
func (e *Ensemble) Members() []*Member { return e.members }

// ConnectString lists every member's client address.
func (e *Ensemble) ConnectString() string {
	var hosts []string
	for _, m := range e.members {
		hosts = append(hosts, m.ClientAddr)
	}
	return strings.Join(hosts, ",")
}

// Mode is what m's srvr says after "Mode: " (leader, follower, observer,
// looking), or "" when it does not answer.
func (e *Ensemble) Mode(m *Member) string {
	if s := m.Server(); s == nil || s.Exited() {
		return ""
	}
	out, err := FourLetterWord(m.ClientAddr, "srvr", time.Second)
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(out, "\n") {
		if mode, ok := strings.CutPrefix(l, "Mode: "); ok {
			return strings.TrimSpace(mode)
		}
	}
	return ""
}

// Leader waits until exactly one running member says it leads, and
// returns it.
func (e *Ensemble) Leader(t testing.TB, timeout time.Duration) *Member {
	t.Helper()
	var leader *Member
	e.WaitFor(t, timeout, func() error {
		var leaders []*Member
		for _, m := range e.members {
			if e.Mode(m) == "leader" {
				leaders = append(leaders, m)
			}
		}
		if len(leaders) != 1 {
			return fmt.Errorf("%d members say they lead", len(leaders))
		}
		leader = leaders[0]
		return nil
	})
	return leader
}

// Followers returns the running members that do not lead.
func (e *Ensemble) Followers(t testing.TB) []*Member {
	leader := e.Leader(t, 30*time.Second)
	var out []*Member
	for _, m := range e.members {
		if m != leader && m.Server() != nil && !m.Server().Exited() {
			out = append(out, m)
		}
	}
	return out
}

// Kill SIGKILLs m's process and waits until it is gone.
func (e *Ensemble) Kill(m *Member) {
	if s := m.Server(); s != nil {
		s.Kill()
	}
}

// Stop shuts m down cleanly (SIGTERM).
func (e *Ensemble) Stop(m *Member) {
	if s := m.Server(); s != nil {
		s.Stop()
	}
}

// StopAll shuts every member down cleanly, the leader last, so no
// election starts while the others stop.
func (e *Ensemble) StopAll() {
	var leader *Member
	for _, m := range e.members {
		if e.Mode(m) == "leader" {
			leader = m
			continue
		}
		e.Stop(m)
	}
	if leader != nil {
		e.Stop(leader)
	}
}

// Restart starts m again on its configuration and data, after Kill or
// Stop, and waits until it serves.
func (e *Ensemble) Restart(t testing.TB, m *Member) {
	t.Helper()
	if s := m.Server(); s != nil && !s.Exited() {
		t.Fatalf("harness: restart of member %d, which is still running", m.ID)
	}
	e.start(t, m)
	e.waitServing(t, m, e.opts.StartTimeout)
}

// Pause stops m's process group (zkx and its plugins) with SIGSTOP: to
// the others it looks like a member cut off by the network, and it serves
// no one.
func (e *Ensemble) Pause(m *Member) {
	if s := m.Server(); s != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGSTOP)
	}
}

// Resume continues a paused member.
func (e *Ensemble) Resume(m *Member) {
	if s := m.Server(); s != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGCONT)
	}
}

// Dump runs `zkx dump` on a stopped member's data dir.
func (e *Ensemble) Dump(t testing.TB, m *Member) string {
	t.Helper()
	if s := m.Server(); s != nil && !s.Exited() {
		t.Fatalf("harness: dump of member %d, which is still running", m.ID)
	}
	out, err := exec.Command(e.bin, "dump", "--data-dir", m.DataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("harness: zkx dump of member %d: %v\n%s", m.ID, err, out)
	}
	return string(out)
}

// WaitFor polls cond every 20 ms until it returns nil, failing the test
// with its last error after timeout.
func (e *Ensemble) WaitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, m := range e.members {
				fmt.Fprintf(&logs, "--- member %d (%s):\n%s\n", m.ID, m.ClientAddr, m.LogTail(15))
			}
			t.Fatalf("harness: still after %v: %v\n%s", timeout, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Zxid is the last zxid member m applied, from srvr.
func (e *Ensemble) Zxid(m *Member) (int64, error) {
	out, err := FourLetterWord(m.ClientAddr, "srvr", 2*time.Second)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Zxid: "); ok {
			return strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(v), "0x"), 16, 64)
		}
	}
	return 0, fmt.Errorf("no Zxid line in srvr of member %d: %q", m.ID, out)
}

// SameZxid waits until every member has applied the same last zxid, and
// returns it.
func (e *Ensemble) SameZxid(t testing.TB, timeout time.Duration) int64 {
	t.Helper()
	var z int64
	e.WaitFor(t, timeout, func() error {
		seen := map[int64][]int{}
		for _, m := range e.members {
			v, err := e.Zxid(m)
			if err != nil {
				return err
			}
			seen[v] = append(seen[v], m.ID)
			z = v
		}
		if len(seen) != 1 {
			return fmt.Errorf("members differ in their last zxid (zxid: member ids): %v", seen)
		}
		return nil
	})
	return z
}

// StopAndCompareDumps waits until every member has applied the same last
// zxid, stops them all (the leader last, so no election starts meanwhile),
// and fails the test unless `zkx dump` of every member's data dir is the
// same. It returns that zxid and the first member's dump.
func (e *Ensemble) StopAndCompareDumps(t testing.TB, timeout time.Duration) (int64, string) {
	t.Helper()
	z := e.SameZxid(t, timeout)
	e.StopAll()
	first := e.members[0]
	want := e.Dump(t, first)
	for _, m := range e.members[1:] {
		if got := e.Dump(t, m); got != want {
			t.Errorf("zkx dump of member %d differs from member %d's: %s", m.ID, first.ID, firstDifference(want, got))
		}
	}
	return z, want
}

// firstDifference describes the first line where two dumps differ.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, x, y)
		}
	}
	return "(no line differs)"
}
