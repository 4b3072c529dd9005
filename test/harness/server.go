package harness

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InstallHint is appended to every "missing dependency" failure.
const InstallHint = "install the black-box test dependencies with: sudo scripts/install-test-deps.sh"

// Server is a running server process (zkx or Apache ZooKeeper) listening on loopback.
//
// Server is safe for concurrent use. Stop and Kill may be called any number of times.
type Server struct {
	kind    string // "zookeeper" or "zkx"
	addr    string
	logPath string
	cmd     *exec.Cmd

	exited  chan struct{} // closed when the process has been reaped
	waitErr error         // valid once exited is closed

	stopOnce sync.Once
}

// Kind reports which server this is: "zookeeper" or "zkx".
func (s *Server) Kind() string { return s.kind }

// Addr is the server's client address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.addr }

// Port is the server's client port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// LogPath is the file that holds the server's stdout and stderr.
func (s *Server) LogPath() string { return s.logPath }

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string { return tailFile(s.logPath, n) }

// Exited reports whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Stop asks the server to shut down (SIGTERM) and waits up to 10 s for it to exit, after which
// it is killed.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.killGroup()
			<-s.exited
		}
		s.killGroup() // children the server may have started
	})
}

// Kill ends the server at once (SIGKILL) and waits until the process has been reaped.
func (s *Server) Kill() {
	s.stopOnce.Do(func() {
		s.killGroup()
		<-s.exited
	})
}

// killGroup sends SIGKILL to the server's process group (the server and anything it started).
func (s *Server) killGroup() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

// startProcess runs cmd with its output appended to logPath and returns the Server handle.
// The process gets SIGKILL if the test binary dies.
func startProcess(kind, addr, logPath string, cmd *exec.Cmd) (*Server, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	s := &Server{kind: kind, addr: addr, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	return s, nil
}

// awaitReady polls ready until it succeeds, the process exits or the deadline passes.
func (s *Server) awaitReady(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	backoff := 20 * time.Millisecond
	var last error
	for {
		if s.Exited() {
			return fmt.Errorf("%s exited before it was ready: %v", s.kind, s.waitErr)
		}
		if last = ready(); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready on %s after %v: %v", s.kind, s.addr, timeout, last)
		}
		select {
		case <-s.exited:
		case <-time.After(backoff):
		}
		if backoff < 200*time.Millisecond {
			backoff *= 2
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process may
// still take it before the caller binds it; the Start functions retry with a new port when a
// server fails to bind, and their readiness probes first check that the listener on the port
// is the server's own (ownsPort), so that another server that took it cannot answer them.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("harness: no free port: %v", err)
	}
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ownsPort reports, as an error, why s does not (yet) hold the listening socket on its port:
// nothing listens there yet, or another process does.
func (s *Server) ownsPort() error {
	return ownsListener(s.cmd.Process.Pid, s.Port())
}

// ownsListener reports whether process pid holds a listening TCP socket on port, from Linux's
// /proc: the sockets listening on the port, by inode, and the process's file descriptors.
func ownsListener(pid, port int) error {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" { // 0A is LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return fmt.Errorf("nothing listens on port %d yet", port)
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return err
	}
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && inodes[l] {
			return nil
		}
	}
	return fmt.Errorf("port %d is held by another process than %d", port, pid)
}

// registerCleanup kills s when the test ends and prints its log tail if the test failed.
func registerCleanup(t testing.TB, s *Server) {
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("harness: last lines of the %s log (%s):\n%s", s.kind, s.logPath, s.LogTail(60))
		}
	})
}

// tailFile returns the last n lines of the file at path, or a note saying why it cannot.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	b = bytes.TrimRight(b, "\n")
	lines := strings.Split(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FourLetterWord sends a four-letter command (srvr, ruok, mntr, ...) to addr and returns the
// whole reply.
func FourLetterWord(addr, cmd string, timeout time.Duration) (string, error) {
	if len(cmd) != 4 {
		return "", fmt.Errorf("harness: four-letter word %q is not 4 bytes", cmd)
	}
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		return buf.String(), err
	}
	return buf.String(), nil
}
