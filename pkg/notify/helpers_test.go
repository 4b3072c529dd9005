package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/pkg/znode"
)

var (
	buildDir string
	buildMu  sync.Mutex
	built    = map[string]string{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zkx-notify-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// buildPlugin builds the package at pkg (relative to this directory) once
// per test binary and returns the executable's path.
func buildPlugin(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	out := filepath.Join(buildDir, filepath.Base(pkg))
	cmd := exec.Command(goTool(), "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

func recorderBin(t testing.TB) string { return buildPlugin(t, "./testdata/recorder") }

// syncBuffer collects the host's logs so tests can check what an operator
// would read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testHost struct {
	*Host
	logs *syncBuffer
	dir  string
}

// startHost builds a host over cfgs with fast backoff, starts it and closes
// it when the test ends.
func startHost(t *testing.T, opts Options) *testHost {
	t.Helper()
	logs := &syncBuffer{}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 20 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 200 * time.Millisecond
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.Start()
	th := &testHost{Host: h, logs: logs, dir: opts.DataDir}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	return th
}

func (h *testHost) status(t *testing.T, name string) Status {
	t.Helper()
	for _, s := range h.Status() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no plugin %q", name)
	return Status{}
}

// recorded is one line the recorder plugin wrote.
type recorded struct {
	Type     string `json:"type"`
	Path     string `json:"path"`
	Zxid     int64  `json:"zxid"`
	Version  int32  `json:"version"`
	Data     string `json:"data"`
	HasData  bool   `json:"has_data"`
	GapStart int64  `json:"gap_start"`
	GapEnd   int64  `json:"gap_end"`
	PID      int    `json:"pid"`
}

func readRecorded(t *testing.T, path string) []recorded {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []recorded
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r recorded
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line cut by a kill
		}
		out = append(out, r)
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitAckFile waits until the ack file at path holds at least zxid. The
// runner saves its position after it records the acknowledgement in its
// status, so a status that shows an ack may briefly run ahead of the file.
func waitAckFile(t *testing.T, path string, zxid int64) {
	t.Helper()
	var (
		got int64
		ok  bool
		err error
	)
	deadline := time.Now().Add(delivery)
	for {
		got, ok, err = readAck(path)
		if err == nil && ok && got >= zxid {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ack file %s holds %d (present %v, err %v) after %v; want >= %d", path, got, ok, err, delivery, zxid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ev(zxid int64, typ znode.EventType, path string) znode.Event {
	return znode.Event{Type: typ, Path: path, Zxid: zxid, Time: 1700000000000 + zxid, Version: int32(zxid % 100)}
}

// sinkMany sinks one created event per transaction for paths under
// /app/n<i>, zxids first..first+n-1.
func sinkMany(h *Host, first int64, n int) {
	for i := range n {
		z := first + int64(i)
		h.Sink([]znode.Event{ev(z, znode.EventNodeCreated, fmt.Sprintf("/app/n%d", z))})
	}
}

// checkSequence verifies that got, with at-least-once duplicates removed,
// is exactly the created events first..last in order, and returns how many
// duplicates there were.
func checkSequence(t *testing.T, got []recorded, first, last int64) int {
	t.Helper()
	next := first
	dups := 0
	for _, r := range got {
		switch {
		case r.Zxid == next:
			next++
		case r.Zxid < next:
			dups++
		default:
			t.Fatalf("event zxid %d arrived while %d was expected next (lost or reordered)", r.Zxid, next)
		}
	}
	if next != last+1 {
		t.Fatalf("delivered up to %d, want %d", next-1, last)
	}
	return dups
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
