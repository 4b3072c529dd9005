package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one running server process.
type server struct {
	kind string
	addr string
	cmd  *exec.Cmd
	dir  string
	// argv and env start the same server again (restart).
	argv []string
	env  []string
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.cmd.Wait()
		untrackProc(s.cmd.Process.Pid)
	}
	removeDir(s.dir)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func launch(kind, addr, dir string, cmd *exec.Cmd) (*server, error) {
	logf, err := os.Create(filepath.Join(dir, kind+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	trackProc(cmd.Process.Pid)
	s := &server{kind: kind, addr: addr, cmd: cmd, dir: dir, argv: cmd.Args, env: cmd.Env}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := dial(addr); err == nil {
			c.close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s did not start on %s", kind, addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startZkx runs zkx. With forMemory set it runs with GOGC=10, so that its
// live-heap gauge (measured at each collection) trails the heap by at most
// about 10%; the write test uses a separate process with default settings.
func startZkx(bin, storage string, sync, forMemory bool) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := mkdirTemp("zkx-load-zkx-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--listen", addr, "--storage", storage, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn")
	cmd.Env = append(os.Environ(), "ZKX_STORAGE_SYNC="+strconv.FormatBool(sync), "ZKX_FOUR_LETTER_WORDS=mntr,srvr,ruok",
		"ZKX_MAX_OUTBOUND=268435456")
	if forMemory {
		cmd.Env = append(cmd.Env, "GOGC=10")
	}
	return launch("zkx", addr, dir, cmd)
}

// startZooKeeper runs Debian's Apache ZooKeeper standalone with its
// defaults (forceSync: every write is fsynced before it is acknowledged).
func startZooKeeper() (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := mkdirTemp("zkx-load-zk-")
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n"+
		"4lw.commands.whitelist=*\nmaxClientCnxns=0\n", filepath.Join(dir, "data"), port)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	// zookeeper.jar's manifest lists its dependencies; slf4j-simple logs to stderr.
	zkJar := "/usr/share/java/zookeeper.jar"
	if _, err := os.Stat(zkJar); err != nil {
		return nil, fmt.Errorf("%s missing (run scripts/install-test-deps.sh)", zkJar)
	}
	cp := []string{zkJar, "/usr/share/java/slf4j-simple.jar"}
	cmd := exec.Command("java", "-Dzookeeper.jmx.log4j.disable=true", "-Xmx4g", "-cp", strings.Join(cp, ":"),
		"org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	return launch("zookeeper", addr, dir, cmd)
}

var heapUsed = regexp.MustCompile(`used (\d+)K`)

// liveHeap returns the server's live heap in bytes. For ZooKeeper it runs
// a full GC first (jcmd); for zkx it churns the heap so that collections
// run, then reads the live heap that mntr reports.
func (s *server) liveHeap(c *client) (int64, error) {
	if s.kind == "zookeeper" {
		pid := strconv.Itoa(s.cmd.Process.Pid)
		if out, err := exec.Command("jcmd", pid, "GC.run").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("jcmd GC.run: %v: %s", err, out)
		}
		out, err := exec.Command("jcmd", pid, "GC.heap_info").CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("jcmd GC.heap_info: %v: %s", err, out)
		}
		m := heapUsed.FindSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("no heap size in %q", out)
		}
		k, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return k * 1024, nil
	}
	if err := c.churn(); err != nil {
		return 0, err
	}
	return mntr(s.addr, "zkx_heap_live_bytes")
}

// mntr reads one integer metric from the mntr four-letter word.
func mntr(addr, key string) (int64, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	nc.Write([]byte("mntr"))
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	sc := bufio.NewScanner(nc)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		if ok && k == key {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("mntr has no %s", key)
}

// restart stops the server gracefully (SIGTERM, as an operator would) and
// starts it again on the same data, returning how long it took from the
// process start until it served a session.
func (s *server) restart() (time.Duration, error) {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	untrackProc(s.cmd.Process.Pid)
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = s.env
	start := time.Now()
	ns, err := launch(s.kind, s.addr, s.dir, cmd)
	if err != nil {
		return 0, err
	}
	*s = *ns
	return time.Since(start), nil
}

// rss returns the process's resident set size in bytes.
func (s *server) rss() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", s.cmd.Process.Pid)
}
