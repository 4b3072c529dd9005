package harness

import (
	"os"
	"os/exec"
	"testing"
)

// Locations of the Debian 12 packages the suite uses (see scripts/install-test-deps.sh).
const (
	// JavaDir holds ZooKeeper's and Curator's jars.
	JavaDir = "/usr/share/java"
	// ZooKeeperJar is the server and Java client jar; its manifest names its dependencies.
	ZooKeeperJar = JavaDir + "/zookeeper.jar"
	// ZkCli is the ZooKeeper command-line client script.
	ZkCli = "/usr/share/zookeeper/bin/zkCli.sh"
	// SystemPython is the interpreter Debian's python3-kazoo is installed for (not whatever
	// python3 is first on PATH).
	SystemPython = "/usr/bin/python3"
	// CClient is the ZooKeeper C client shell from zookeeper-bin.
	CClient = "/usr/lib/zookeeper/bin/cli_mt"
)

// SkipIfShort skips the calling test under go test -short: black-box tests start JVMs and
// servers and are not short.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("black-box test: skipped with -short")
	}
}

// javaPath finds the java launcher.
func javaPath() (string, error) {
	if p, err := exec.LookPath("java"); err == nil {
		return p, nil
	}
	return exec.LookPath("/usr/bin/java")
}

// RequireZooKeeper fails the test unless java and ZooKeeper's jars are installed.
func RequireZooKeeper(t testing.TB) {
	t.Helper()
	if _, err := javaPath(); err != nil {
		t.Fatalf("harness: java not found (%v); %s", err, InstallHint)
	}
	if _, err := os.Stat(ZooKeeperJar); err != nil {
		t.Fatalf("harness: Apache ZooKeeper is not installed (%v); %s", err, InstallHint)
	}
}

// RequireZkCli fails the test unless zkCli.sh is installed.
func RequireZkCli(t testing.TB) {
	t.Helper()
	RequireZooKeeper(t)
	if _, err := os.Stat(ZkCli); err != nil {
		t.Fatalf("harness: zkCli.sh is not installed (%v); %s", err, InstallHint)
	}
}

// RequireKazoo fails the test unless kazoo can be imported by /usr/bin/python3.
func RequireKazoo(t testing.TB) {
	t.Helper()
	out, err := exec.Command(SystemPython, "-c", "import kazoo").CombinedOutput()
	if err != nil {
		t.Fatalf("harness: kazoo is not importable by %s (%v: %s); %s", SystemPython, err, out, InstallHint)
	}
}
