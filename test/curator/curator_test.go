// Package curator runs Apache Curator 5.4 (Debian's libcurator-*-java, on
// the ZooKeeper 3.8 Java client) against zkx: CuratorCache and
// PersistentWatcher over persistent and recursive watches, and the lock
// and leader-latch recipes. The same program runs against Apache
// ZooKeeper, and the two transcripts must match.
package curator

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

var jars = []string{
	"curator-framework.jar", "curator-client.jar", "curator-recipes.jar",
	"zookeeper.jar", "zookeeper-jute.jar", "guava.jar", "slf4j-api.jar",
}

var (
	compileOnce sync.Once
	classDir    string
	classpath   string
	compileErr  error
)

func compile(t *testing.T) (string, string) {
	t.Helper()
	compileOnce.Do(func() {
		var cp []string
		for _, j := range jars {
			p := filepath.Join("/usr/share/java", j)
			if _, err := os.Stat(p); err != nil {
				compileErr = err
				return
			}
			cp = append(cp, p)
		}
		classpath = strings.Join(cp, ":")
		dir, err := os.MkdirTemp("", "zkx-curator-")
		if err != nil {
			compileErr = err
			return
		}
		classDir = dir
		out, err := exec.Command("javac", "-d", dir, "-cp", classpath, "CuratorCheck.java").CombinedOutput()
		if err != nil {
			compileErr = &compileError{string(out)}
		}
	})
	if compileErr != nil {
		t.Fatalf("compiling CuratorCheck.java (Curator jars come from libcurator-recipes-java: run scripts/install-test-deps.sh): %v", compileErr)
	}
	return classDir, classpath
}

type compileError struct{ out string }

func (e *compileError) Error() string { return e.out }

func runCheck(t *testing.T, addr string) string {
	t.Helper()
	dir, cp := compile(t)
	cmd := exec.Command("java", "-cp", dir+":"+cp, "CuratorCheck", addr)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("CuratorCheck against %s did not finish:\n%s", addr, out)
	}
	// Curator and the ZooKeeper client log through slf4j; keep only the
	// program's own lines.
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "SLF4J") || l == "" {
			continue
		}
		lines = append(lines, l)
	}
	transcript := strings.Join(lines, "\n")
	if err != nil || !strings.HasSuffix(transcript, "OK") {
		t.Fatalf("CuratorCheck against %s failed (%v):\n%s", addr, err, transcript)
	}
	return transcript
}

func TestCuratorRecipes(t *testing.T) {
	harness.SkipIfShort(t)
	harness.RequireZooKeeper(t)
	zkx := harness.StartZkx(t, harness.ZkxOptions{})
	got := runCheck(t, zkx.Addr())
	zk := harness.StartZooKeeper(t, harness.ZooKeeperOptions{})
	want := runCheck(t, zk.Addr())
	if got != want {
		t.Errorf("Curator saw different things:\n--- zkx\n%s\n--- Apache ZooKeeper\n%s", got, want)
	}
	t.Logf("transcript:\n%s", got)
}
