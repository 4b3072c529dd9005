// Package examples runs the programs under examples/ against a real zkx,
// so the examples users copy from keep working.
package examples

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

var curatorJars = []string{
	"curator-framework.jar", "curator-client.jar", "curator-recipes.jar",
	"zookeeper.jar", "zookeeper-jute.jar", "guava.jar", "slf4j-api.jar",
}

// program is a running example that prints one line per observed change.
type program struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
}

func start(t *testing.T, ctx context.Context, name string, args ...string) *program {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &program{t: t, cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return p
}

// expect waits for the program's next line other than the initial load.
func (p *program) expect(want string) {
	p.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("program exited while waiting for %q", want)
			}
			if l == want {
				return
			}
			if strings.HasPrefix(l, "NODE_ADDED /config=") || l == "INITIALIZED" {
				continue // the initial load of the root
			}
			p.t.Fatalf("program printed %q, want %q", l, want)
		case <-deadline:
			p.t.Fatalf("timed out waiting for %q", want)
		}
	}
}

// exercise makes one change at a time and waits for the program to report
// it, then creates /config/done and waits for the program to exit.
func exercise(t *testing.T, addr string, p *program) {
	t.Helper()
	p.expect("ready")
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	acl := zk.WorldACL(zk.PermAll)
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { _, err := conn.Create("/config/a", []byte("1"), 0, acl); return err }, "NODE_ADDED /config/a=1"},
		{func() error { _, err := conn.Set("/config/a", []byte("2"), -1); return err }, "NODE_UPDATED /config/a=2"},
		{func() error { _, err := conn.Create("/config/a/b", []byte("3"), 0, acl); return err }, "NODE_ADDED /config/a/b=3"},
		{func() error { return conn.Delete("/config/a/b", -1) }, "NODE_REMOVED /config/a/b=3"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatal(err)
		}
		p.expect(s.want)
	}
	if _, err := conn.Create("/config/done", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("program did not exit cleanly: %v", err)
	}
}

func TestJavaMigrationExamples(t *testing.T) {
	harness.SkipIfShort(t)
	harness.RequireZooKeeper(t)
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "examples/migrate-to-persistent/java")
	var cp []string
	for _, j := range curatorJars {
		cp = append(cp, filepath.Join("/usr/share/java", j))
	}
	classes := t.TempDir()
	javac := exec.Command("javac", "-d", classes, "-cp", strings.Join(cp, ":"),
		filepath.Join(src, "Before.java"), filepath.Join(src, "After.java"))
	if out, err := javac.CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	classpath := classes + ":" + strings.Join(cp, ":")
	for _, prog := range []string{"Before", "After"} {
		t.Run(prog, func(t *testing.T) {
			srv := harness.StartZkx(t, harness.ZkxOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			exercise(t, srv.Addr(), start(t, ctx, "java", "-cp", classpath, prog, srv.Addr()))
		})
	}
}

func TestGoMigrationExamples(t *testing.T) {
	harness.SkipIfShort(t)
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, prog := range []string{"before", "after"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, prog), "./examples/migrate-to-persistent/go/"+prog)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", prog, err, out)
		}
	}
	for _, prog := range []string{"before", "after"} {
		t.Run(prog, func(t *testing.T) {
			srv := harness.StartZkx(t, harness.ZkxOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			exercise(t, srv.Addr(), start(t, ctx, filepath.Join(bin, prog), srv.Addr()))
		})
	}
}
