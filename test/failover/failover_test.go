package failover

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// clientRun is a client program that prints "ready ..." once it holds its
// session, then waits for a line on stdin before checking what survived.
type clientRun struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	all   []string
	done  chan error
}

func startClient(t *testing.T, cmd *exec.Cmd) *clientRun {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	c := &clientRun{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1024), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	go func() { c.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return c
}

// waitFor returns the first line starting with prefix, failing on a FAIL
// line, the program's exit or the deadline.
func (c *clientRun) waitFor(prefix string, timeout time.Duration) string {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("client exited before %q:\n%s", prefix, strings.Join(c.all, "\n"))
			}
			c.all = append(c.all, l)
			if strings.HasPrefix(l, "FAIL") {
				c.t.Fatalf("client failed:\n%s", strings.Join(c.all, "\n"))
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			c.t.Fatalf("no %q line within %v:\n%s", prefix, timeout, strings.Join(c.all, "\n"))
		}
	}
}

// ownLines are the program's own lines: ok lines and the final verdict.
func (c *clientRun) ownLines() string {
	var out []string
	for _, l := range c.all {
		if strings.HasPrefix(l, "ok:") || strings.HasPrefix(l, "ready") || strings.HasPrefix(l, "all ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// finish tells the client the member is dead and waits for its verdict.
func (c *clientRun) finish(verdict string) {
	c.t.Helper()
	fmt.Fprintln(c.stdin, "killed")
	c.waitFor(verdict, 90*time.Second)
	if err := <-c.done; err != nil {
		c.t.Fatalf("client exited with %v:\n%s", err, strings.Join(c.all, "\n"))
	}
	c.t.Logf("client transcript:\n%s", c.ownLines())
}

// connectFirst is a connect string whose first host is first.
func connectFirst(e *harness.Ensemble, first *harness.Member) string {
	hosts := []string{first.ClientAddr}
	for _, m := range e.Members() {
		if m != first {
			hosts = append(hosts, m.ClientAddr)
		}
	}
	return strings.Join(hosts, ",")
}

func TestKazooKeepsSessionAcrossMemberLoss(t *testing.T) {
	harness.SkipIfShort(t)
	harness.RequireKazoo(t)
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3})
	// The client's first member is the leader: the hardest case, since the
	// ensemble must also elect a new one before the client's writes pass.
	target := e.Leader(t, 30*time.Second)
	c := startClient(t, exec.Command(harness.SystemPython, "kazoo_failover.py", connectFirst(e, target)))
	c.waitFor("ready", 60*time.Second)
	e.Kill(target)
	c.finish("all kazoo failover checks passed")
}

var jars = []string{
	"curator-framework.jar", "curator-client.jar", "curator-recipes.jar",
	"zookeeper.jar", "zookeeper-jute.jar", "guava.jar", "slf4j-api.jar",
}

func compileJava(t *testing.T) (dir, classpath string) {
	t.Helper()
	var cp []string
	for _, j := range jars {
		p := filepath.Join("/usr/share/java", j)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v (%s)", p, err, harness.InstallHint)
		}
		cp = append(cp, p)
	}
	dir = t.TempDir()
	classpath = strings.Join(cp, ":")
	if out, err := exec.Command("javac", "-d", dir, "-cp", classpath, "FailoverCheck.java").CombinedOutput(); err != nil {
		t.Fatalf("javac FailoverCheck.java: %v\n%s", err, out)
	}
	return dir, classpath
}

func TestCuratorKeepsLockAndLeadershipAcrossMemberLoss(t *testing.T) {
	harness.SkipIfShort(t)
	harness.RequireZooKeeper(t)
	dir, cp := compileJava(t)
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3})
	c := startClient(t, exec.Command("java", "-cp", dir+":"+cp, "FailoverCheck", e.ConnectString()))
	ready := c.waitFor("ready", 60*time.Second)
	fields := strings.Fields(ready)
	if len(fields) != 3 {
		t.Fatalf("ready line %q", ready)
	}
	var target *harness.Member
	for _, m := range e.Members() {
		if strings.HasSuffix(fields[2], portOf(m.ClientAddr)) {
			target = m
		}
	}
	if target == nil {
		t.Fatalf("the Java client's server %s is not a member of %s", fields[2], e.ConnectString())
	}
	t.Logf("killing member %d (%s), the Java client's server", target.ID, e.Mode(target))
	e.Kill(target)
	c.finish("all curator failover checks passed")
}

func portOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	return addr[i:]
}
