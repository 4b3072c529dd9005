package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// ModulePath is the zkx Go module; ModuleRoot looks for the go.mod that declares it.
const ModulePath = "github.com/zkx-dev/zkx"

// ZkxOptions configures StartZkx. The zero value is a usable default.
type ZkxOptions struct {
	// TickTime is passed as ZKX_TICK_TIME. Default 200 ms, the same as StartZooKeeper, so
	// both servers negotiate the same session timeouts.
	TickTime time.Duration
	// Env holds extra KEY=VALUE environment entries, e.g. "ZKX_EXTENDED_TYPES=true".
	Env []string
	// Args are extra flags appended after the default serve flags.
	Args []string
	// StartTimeout bounds the wait for readiness. Default 30 s.
	StartTimeout time.Duration
	// DataDir, when set, runs zkx on the badger backend in this directory
	// with storage.sync on (every acknowledged write is on disk), instead of
	// the memory backend. The directory is the caller's: it is not removed,
	// so a test can stop or kill zkx and start it again on the same state.
	DataDir string
}

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// Main runs the package's tests and then removes the zkx binary built for them. Call it from
// TestMain: func TestMain(m *testing.M) { harness.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// ModuleRoot walks up from the working directory to the directory whose go.mod declares
// the zkx module.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module "+ModulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

// BuildZkx builds ./cmd/zkx once per test binary and returns the binary's path. A failed
// build fails the test (and every later caller) with the compiler's output.
func BuildZkx(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.bin, build.err = buildZkx() })
	if build.err != nil {
		t.Fatalf("harness: cannot build zkx, the black-box test cannot run against it "+
			"(it never falls back to ZooKeeper): %v", build.err)
	}
	return build.bin
}

func buildZkx() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "zkx")); err != nil {
		return "", fmt.Errorf("%s/cmd/zkx does not exist yet", root)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir, err := os.MkdirTemp("", "zkx-blackbox-")
	if err != nil {
		return "", err
	}
	build.dir = dir
	bin := filepath.Join(dir, "zkx")

	run := func(extraEnv ...string) ([]byte, error) {
		cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/zkx")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), extraEnv...)
		return cmd.CombinedOutput()
	}
	out, err := run()
	if err != nil && bytes.Contains(out, []byte("go.sum")) {
		// A checkout whose go.sum lags go.mod: let the go command resolve modules itself.
		out, err = run("GOFLAGS=" + strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
	}
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/zkx: %v\n%s", err, out)
	}
	return bin, nil
}

// StartZkx builds zkx (once per test binary) and runs
//
//	zkx serve --listen 127.0.0.1:PORT --storage memory --log-level debug
//
// (or --storage badger --data-dir DIR with ZKX_STORAGE_SYNC=true when opts.DataDir is set)
// with ZKX_TICK_TIME set, its output captured to a log file. It returns once the port accepts
// connections and a ZooKeeper session handshake succeeds. The server is killed when the test
// ends. If zkx cannot be built or does not become ready, the test fails.
func StartZkx(t testing.TB, opts ZkxOptions) *Server {
	t.Helper()
	bin := BuildZkx(t)
	if opts.TickTime <= 0 {
		opts.TickTime = 200 * time.Millisecond
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	base := t.TempDir()

	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("harness: no free port: %v", err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		args := []string{"serve", "--listen", addr, "--storage", "memory", "--log-level", "debug"}
		if opts.DataDir != "" {
			args = []string{"serve", "--listen", addr, "--storage", "badger", "--data-dir", opts.DataDir, "--log-level", "debug"}
		}
		args = append(args, opts.Args...)
		cmd := exec.Command(bin, args...)
		cmd.Dir = base
		cmd.Env = append(os.Environ(), "ZKX_TICK_TIME="+opts.TickTime.String())
		if opts.DataDir != "" {
			cmd.Env = append(cmd.Env, "ZKX_STORAGE_SYNC=true")
		}
		cmd.Env = append(cmd.Env, opts.Env...)
		logPath := filepath.Join(base, fmt.Sprintf("zkx-%d.log", attempt))
		s, err := startProcess("zkx", addr, logPath, cmd)
		if err != nil {
			t.Fatalf("harness: start zkx: %v", err)
		}
		err = s.awaitReady(opts.StartTimeout, func() error {
			if err := s.ownsPort(); err != nil {
				return err
			}
			return Handshake(addr, 2*time.Second)
		})
		if err == nil {
			registerCleanup(t, s)
			return s
		}
		lastErr = err
		s.Kill()
		if !strings.Contains(s.LogTail(200), "address already in use") {
			t.Fatalf("harness: %v\nzkx command: %s %s\nlast lines of %s:\n%s",
				err, bin, strings.Join(args, " "), logPath, s.LogTail(60))
		}
	}
	t.Fatalf("harness: could not start zkx: %v", lastErr)
	return nil
}
