package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// ensembleSize is the number of members of the ensembles measured.
const ensembleSize = 3

// ensemble is a running replicated ensemble on loopback: zkx members on
// raft, or Apache ZooKeeper servers in quorum mode.
type ensemble struct {
	kind    string // "zkx" or "zookeeper"
	dir     string
	members []*member
}

// member is one server of an ensemble. It can be killed and started
// again on the same configuration and data.
type member struct {
	id     int
	client string // client address, host:port
	argv   []string
	log    string // file its output is appended to
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// start runs the member's process in its own process group.
func (m *member) start() error {
	logf, err := os.OpenFile(m.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(m.argv[0], m.argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	trackProc(cmd.Process.Pid)
	m.cmd = cmd
	m.exited = make(chan struct{})
	go func(exited chan struct{}) { cmd.Wait(); close(exited) }(m.exited)
	return nil
}

// running reports whether the member's process is alive.
func (m *member) running() bool {
	if m.cmd == nil {
		return false
	}
	select {
	case <-m.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to the member's process group and waits for it.
func (m *member) kill() {
	if m.cmd == nil {
		return
	}
	syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.exited
	untrackProc(m.cmd.Process.Pid)
	m.cmd = nil
}

// keepDirs keeps each ensemble's directory (configurations, data and
// logs) after it stops, for inspection.
var keepDirs bool

// stop kills every member and removes the ensemble's directory (unless
// keepDirs is set).
func (e *ensemble) stop() {
	for _, m := range e.members {
		m.kill()
	}
	if keepDirs {
		untrackDir(e.dir)
		fmt.Fprintf(os.Stderr, "zkx-load: kept %s\n", e.dir)
		return
	}
	removeDir(e.dir)
}

// name is the system's name in the report.
func (e *ensemble) name() string {
	if e.kind == "zookeeper" {
		return "ZooKeeper"
	}
	return "zkx"
}

// freePorts returns n distinct free loopback ports, holding every
// listener open until all are chosen.
func freePorts(n int) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		ports = append(ports, p)
	}
	return ports, nil
}

// zkxMemberConfig is member id's YAML configuration: badger with sync
// (every acknowledged write fsynced), the raft log under DIR/mID-raft.
func zkxMemberConfig(dir string, id int, clientPorts, raftPorts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: \"127.0.0.1:%s\"\ntick_time: 2s\n", clientPorts[id-1])
	b.WriteString("four_letter_words: [\"srvr\", \"mntr\", \"ruok\", \"stat\"]\n")
	b.WriteString("log: {level: info}\n")
	fmt.Fprintf(&b, "storage: {backend: badger, data_dir: %q, sync: true}\n", filepath.Join(dir, fmt.Sprintf("m%d", id)))
	fmt.Fprintf(&b, "ensemble:\n  id: %d\n  members:\n", id)
	for i := range clientPorts {
		fmt.Fprintf(&b, "    - {id: %d, raft: \"127.0.0.1:%s\", client: \"127.0.0.1:%s\"}\n", i+1, raftPorts[i], clientPorts[i])
	}
	return b.String()
}

// zooKeeperConfig is server id's zoo.cfg: quorum mode with ZooKeeper's
// defaults (forceSync=yes: the transaction log is fsynced before a
// proposal is acknowledged).
func zooKeeperConfig(dataDir string, id int, clientPorts, peerPorts, electionPorts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\n", dataDir, clientPorts[id-1])
	b.WriteString("forceSync=yes\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\n")
	for i := range clientPorts {
		fmt.Fprintf(&b, "server.%d=127.0.0.1:%s:%s\n", i+1, peerPorts[i], electionPorts[i])
	}
	return b.String()
}

// startZkxEnsemble starts a 3-member zkx ensemble on fresh directories
// and waits until it serves on every member.
func startZkxEnsemble(bin string) (*ensemble, error) {
	ports, err := freePorts(2 * ensembleSize)
	if err != nil {
		return nil, err
	}
	clientPorts, raftPorts := ports[:ensembleSize], ports[ensembleSize:]
	dir, err := mkdirTemp("zkx-load-ens-zkx-")
	if err != nil {
		return nil, err
	}
	e := &ensemble{kind: "zkx", dir: dir}
	for id := 1; id <= ensembleSize; id++ {
		cfg := filepath.Join(dir, fmt.Sprintf("m%d.yaml", id))
		if err := os.WriteFile(cfg, []byte(zkxMemberConfig(dir, id, clientPorts, raftPorts)), 0o644); err != nil {
			e.stop()
			return nil, err
		}
		e.members = append(e.members, &member{
			id:     id,
			client: "127.0.0.1:" + clientPorts[id-1],
			argv:   []string{bin, "serve", "--config", cfg},
			log:    filepath.Join(dir, fmt.Sprintf("m%d.log", id)),
		})
	}
	return e, e.startAll()
}

// startZooKeeperEnsemble starts 3 Apache ZooKeeper servers in quorum mode
// on fresh directories and waits until the ensemble serves on every
// server. Each runs the JVM command line the standalone test uses, with
// QuorumPeerMain.
func startZooKeeperEnsemble() (*ensemble, error) {
	zkJar := "/usr/share/java/zookeeper.jar"
	if _, err := os.Stat(zkJar); err != nil {
		return nil, fmt.Errorf("%s missing (run scripts/install-test-deps.sh)", zkJar)
	}
	ports, err := freePorts(3 * ensembleSize)
	if err != nil {
		return nil, err
	}
	clientPorts, peerPorts, electionPorts := ports[:ensembleSize], ports[ensembleSize:2*ensembleSize], ports[2*ensembleSize:]
	dir, err := mkdirTemp("zkx-load-ens-zk-")
	if err != nil {
		return nil, err
	}
	e := &ensemble{kind: "zookeeper", dir: dir}
	cp := strings.Join([]string{zkJar, "/usr/share/java/slf4j-simple.jar"}, ":")
	for id := 1; id <= ensembleSize; id++ {
		data := filepath.Join(dir, fmt.Sprintf("zk%d", id))
		if err := os.MkdirAll(data, 0o755); err != nil {
			e.stop()
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(fmt.Sprintf("%d\n", id)), 0o644); err != nil {
			e.stop()
			return nil, err
		}
		cfg := filepath.Join(dir, fmt.Sprintf("zoo%d.cfg", id))
		if err := os.WriteFile(cfg, []byte(zooKeeperConfig(data, id, clientPorts, peerPorts, electionPorts)), 0o644); err != nil {
			e.stop()
			return nil, err
		}
		e.members = append(e.members, &member{
			id:     id,
			client: "127.0.0.1:" + clientPorts[id-1],
			argv: []string{"java", "-Dzookeeper.jmx.log4j.disable=true", "-Xmx2g", "-cp", cp,
				"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg},
			log: filepath.Join(dir, fmt.Sprintf("zk%d.log", id)),
		})
	}
	return e, e.startAll()
}

// startAll starts every member and waits until the ensemble serves; on
// failure it stops the ensemble.
func (e *ensemble) startAll() error {
	for _, m := range e.members {
		if err := m.start(); err != nil {
			e.stop()
			return err
		}
	}
	if _, err := e.waitReady(90 * time.Second); err != nil {
		err = fmt.Errorf("%w\n%s", err, e.logTails(15))
		e.stop()
		return err
	}
	return nil
}

// srvrMode asks a server for its Mode with the srvr four-letter word:
// "leader", "follower", ..., or "" when it does not serve.
func srvrMode(addr string) string {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := nc.Write([]byte("srvr")); err != nil {
		return ""
	}
	out, _ := io.ReadAll(io.LimitReader(nc, 1<<16))
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// modes returns each member's srvr Mode.
func (e *ensemble) modes() []string {
	ms := make([]string, len(e.members))
	for i, m := range e.members {
		if m.running() {
			ms[i] = srvrMode(m.client)
		}
	}
	return ms
}

// leader returns the index of the member that says it leads, or -1.
func (e *ensemble) leader() int {
	for i, mode := range e.modes() {
		if mode == "leader" {
			return i
		}
	}
	return -1
}

// waitReady waits until every member runs, exactly one leads and the
// others follow, and a session on each member can write; it returns the
// leader's index.
func (e *ensemble) waitReady(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		for _, m := range e.members {
			if m.cmd != nil && !m.running() {
				return -1, fmt.Errorf("%s member %d exited", e.kind, m.id)
			}
		}
		ms := e.modes()
		leaders, followers := 0, 0
		lead := -1
		for i, mode := range ms {
			switch mode {
			case "leader":
				leaders++
				lead = i
			case "follower":
				followers++
			}
		}
		last = fmt.Sprintf("modes %q", ms)
		if leaders == 1 && leaders+followers == len(e.members) {
			err := e.writeThroughEach()
			if err == nil {
				return lead, nil
			}
			last += ": " + err.Error()
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("%s ensemble not ready after %s (%s)", e.kind, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeThroughEach opens a session on each member and writes through it.
func (e *ensemble) writeThroughEach() error {
	for _, m := range e.members {
		c, err := dialSession(m.client, proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)})
		if err != nil {
			return fmt.Errorf("member %d: %v", m.id, err)
		}
		code, err := c.call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/zkx-load-ready-%d", m.id), ACL: znode.OpenACLUnsafe})
		c.closeSession()
		if err != nil || (code != 0 && code != proto.CodeNodeExists) {
			return fmt.Errorf("member %d: create: %v %s", m.id, err, proto.CodeName(code))
		}
	}
	return nil
}

// clientOrder returns the member indexes in the order benchmark clients
// are given them round-robin: the followers by id, then the leader. One
// client is on a follower, as two thirds of an ensemble's clients are.
func clientOrder(n, leader int) []int {
	var order []int
	for i := range n {
		if i != leader {
			order = append(order, i)
		}
	}
	return append(order, leader)
}

// logTails returns the last n lines of each member's log, for errors.
func (e *ensemble) logTails(n int) string {
	var b strings.Builder
	for _, m := range e.members {
		data, _ := os.ReadFile(m.log)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		lines = lines[max(0, len(lines)-n):]
		fmt.Fprintf(&b, "--- %s member %d (%s), last %d lines:\n%s\n", e.kind, m.id, m.log, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// mntrAll returns every key of a server's mntr answer.
func mntrAll(addr string) (map[string]string, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte("mntr")); err != nil {
		return nil, err
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(nc)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "\t"); ok {
			kv[k] = strings.TrimSpace(v)
		}
	}
	if len(kv) == 0 {
		return nil, errors.New("empty mntr answer")
	}
	return kv, nil
}
