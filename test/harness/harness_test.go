package harness

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

func TestFreePortIsBindable(t *testing.T) {
	p := FreePort(t)
	if p <= 0 || p > 65535 {
		t.Fatalf("FreePort() = %d, want a TCP port", p)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Fatalf("port %d from FreePort cannot be bound: %v", p, err)
	}
	l.Close()
}

func TestOwnsListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if err := ownsListener(os.Getpid(), port); err != nil {
		t.Errorf("ownsListener(this process, %d) = %v, want nil: it listens there", port, err)
	}
	if err := ownsListener(os.Getppid(), port); err == nil {
		t.Errorf("ownsListener(parent process, %d) = nil, want an error: this process listens there", port)
	}
	free := FreePort(t)
	if err := ownsListener(os.Getpid(), free); err == nil {
		t.Errorf("ownsListener(this process, %d) = nil for a port nothing listens on", free)
	}
}

func TestModuleRootHasGoMod(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(b), "module "+ModulePath) {
		t.Fatalf("ModuleRoot() = %s, whose go.mod does not declare %s", root, ModulePath)
	}
}

func TestTailFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\nb\nc\nd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"fewer lines than the file", 2, "c\nd"},
		{"more lines than the file", 10, "a\nb\nc\nd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tailFile(path, tc.n); got != tc.want {
				t.Errorf("tailFile(%d) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
	if got := tailFile(filepath.Join(t.TempDir(), "missing"), 3); !strings.Contains(got, "cannot read") {
		t.Errorf("tailFile of a missing file = %q, want a note that it cannot be read", got)
	}
}

func TestStartZooKeeperServesClients(t *testing.T) {
	SkipIfShort(t)
	s := StartZooKeeper(t, ZooKeeperOptions{})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Port() == 0 || s.Kind() != "zookeeper" {
		t.Fatalf("server handle = kind %q addr %q port %d", s.Kind(), s.Addr(), s.Port())
	}
	out, err := FourLetterWord(s.Addr(), "ruok", 5*time.Second)
	if err != nil || out != "imok" {
		t.Fatalf("ruok = %q, %v; want imok (4lw whitelist should be *)", out, err)
	}
	if err := Handshake(s.Addr(), 5*time.Second); err != nil {
		t.Fatalf("Handshake against ZooKeeper: %v", err)
	}
	conf, err := FourLetterWord(s.Addr(), "conf", 5*time.Second)
	if err != nil || !strings.Contains(conf, "tickTime=200") || !strings.Contains(conf, "minSessionTimeout=400") {
		t.Fatalf("conf = %q, %v; want tickTime=200 and minSessionTimeout=400", conf, err)
	}
	s.Stop()
	if !s.Exited() {
		t.Fatal("Stop returned but the process is still running")
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatal("port still accepts connections after Stop")
	}
}

func TestStartZkxServesClients(t *testing.T) {
	SkipIfShort(t)
	s := StartZkx(t, ZkxOptions{})
	if s.Kind() != "zkx" {
		t.Fatalf("Kind() = %q, want zkx", s.Kind())
	}
	if err := Handshake(s.Addr(), 5*time.Second); err != nil {
		t.Fatalf("Handshake against zkx: %v", err)
	}
	s.Kill()
	if !s.Exited() {
		t.Fatal("Kill returned but the process is still running")
	}
}
