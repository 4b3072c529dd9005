package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/internal/config"
)

// syncBuffer is a bytes.Buffer safe for a logger writing while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runApp runs the command line with a fixed environment and no signal
// handling.
func runApp(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{ctx: context.Background(), env: env, stdout: &out, stderr: &errOut}
	code = a.run(args)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	good := writeConfig(t, "listen: \"127.0.0.1:2999\"\nlog:\n  level: debug\n")
	bad := writeConfig(t, "storage:\n  bakend: memory\ntick_time: 2000\n")
	tests := []struct {
		name       string
		env        []string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr []string
		noStdout   bool
	}{
		{
			name: "version", args: []string{"version"}, wantCode: 0,
			wantStdout: []string{"zkx dev", "go1."},
		},
		{
			name: "version with argument", args: []string{"version", "extra"}, wantCode: 2,
			wantStderr: []string{`unexpected argument "extra"`}, noStdout: true,
		},
		{
			name: "help", args: []string{"help"}, wantCode: 0,
			wantStdout: []string{"Usage: zkx", "serve", "check-config", "ZKX_"},
		},
		{
			name: "--help", args: []string{"--help"}, wantCode: 0,
			wantStdout: []string{"Usage: zkx"},
		},
		{
			name: "no command", args: nil, wantCode: 2,
			wantStderr: []string{"Usage: zkx"}, noStdout: true,
		},
		{
			name: "unknown command", args: []string{"start"}, wantCode: 2,
			wantStderr: []string{`unknown command "start"`, "Usage: zkx"}, noStdout: true,
		},
		{
			name: "check-config good file", args: []string{"check-config", "--config", good}, wantCode: 0,
			wantStdout: []string{"config OK\n", "listen: 127.0.0.1:2999", "level: debug", "min_session_timeout: 4s"},
		},
		{
			name: "check-config defaults only", args: []string{"check-config"}, wantCode: 0,
			wantStdout: []string{"config OK\n", "listen: 0.0.0.0:2181", "backend: badger", "data_dir: ./data", "sync: true"},
		},
		{
			name: "check-config flags and env override the file", env: []string{"ZKX_LOG_FORMAT=json", "ZKX_LOG_LEVEL=warn"},
			args:       []string{"check-config", "-config", good, "--listen", "127.0.0.1:0", "--data-dir", "/srv/zkx", "--log-level", "error"},
			wantCode:   0,
			wantStdout: []string{"listen: 127.0.0.1:0", "data_dir: /srv/zkx", "format: json", "level: error"},
		},
		{
			name: "check-config bad file", args: []string{"check-config", "--config", bad}, wantCode: 1,
			wantStderr: []string{"invalid configuration", "storage.bakend: unknown key (did you mean storage.backend?)", "tick_time:", "no unit"},
			noStdout:   true,
		},
		{
			name: "check-config missing file", args: []string{"check-config", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, wantCode: 1,
			wantStderr: []string{"nope.yaml"}, noStdout: true,
		},
		{
			name: "check-config bad environment", env: []string{"ZKX_TICKTIME=1s"}, args: []string{"check-config"}, wantCode: 1,
			wantStderr: []string{"ZKX_TICKTIME: unknown variable (did you mean ZKX_TICK_TIME?)"}, noStdout: true,
		},
		{
			name: "check-config invalid value", args: []string{"check-config", "--log-level", "loud"}, wantCode: 1,
			wantStderr: []string{`log.level: want debug, info, warn or error, got "loud"`}, noStdout: true,
		},
		{
			name: "check-config memory backend", args: []string{"check-config", "--storage", "memory"}, wantCode: 0,
			wantStdout: []string{"config OK\n", "backend: memory"},
		},
		{
			name: "check-config unknown backend", args: []string{"check-config", "--storage", "bolt"}, wantCode: 1,
			wantStderr: []string{`unknown backend "bolt"`}, noStdout: true,
		},
		{
			name: "check-config unknown flag", args: []string{"check-config", "--bogus"}, wantCode: 2,
			wantStderr: []string{"-bogus", "Usage: zkx check-config"}, noStdout: true,
		},
		{
			name: "check-config stray argument", args: []string{"check-config", "config.yaml"}, wantCode: 2,
			wantStderr: []string{`unexpected argument "config.yaml"`}, noStdout: true,
		},
		{
			name: "serve with bad config does not start", args: []string{"serve", "--config", bad}, wantCode: 1,
			wantStderr: []string{"storage.bakend"}, noStdout: true,
		},
		{
			name: "serve -h", args: []string{"serve", "-h"}, wantCode: 0,
			wantStderr: []string{"Usage: zkx serve", "-data-dir"}, noStdout: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runApp(t, tc.env, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			for _, want := range tc.wantStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tc.noStdout && stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestVersionFromLdflags(t *testing.T) {
	old := version
	version = "v1.2.3"
	t.Cleanup(func() { version = old })
	code, stdout, _ := runApp(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "zkx v1.2.3") {
		t.Fatalf("version = %d %q, want exit 0 and a line starting with %q", code, stdout, "zkx v1.2.3")
	}
}

// waitForAddr waits until the server logs its bound address.
func waitForAddr(t *testing.T, stderr *syncBuffer) string {
	t.Helper()
	return waitForLog(t, stderr, regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`))
}

// waitForLog waits until stderr holds a match of re and returns its first
// submatch.
func waitForLog(t *testing.T, stderr *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line matching %s; stderr:\n%s", re, stderr.String())
	return ""
}

func TestServeStopsWhenContextEnds(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data") // the default backend is badger
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	var stderr syncBuffer
	a := &app{ctx: ctx, env: nil, stdout: &stdout, stderr: &stderr}
	done := make(chan int, 1)
	go func() { done <- a.run([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}) }()

	addr := waitForAddr(t, &stderr)
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn.Close()

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit code = %d, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("serve did not return after the context ended")
	}
	if !strings.Contains(stderr.String(), "zkx stopped") {
		t.Errorf("stderr lacks the stop message:\n%s", stderr.String())
	}
	// The default backend created its store in the data dir.
	if !strings.Contains(stderr.String(), "initialising new data dir") {
		t.Errorf("stderr does not log the new data dir:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "MANIFEST")); err != nil {
		t.Errorf("no badger store in %s: %v", dataDir, err)
	}
}

func TestServeJSONLogs(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data") // the default backend is badger
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	a := &app{ctx: ctx, env: []string{"ZKX_LOG_FORMAT=json"}, stdout: &bytes.Buffer{}, stderr: &stderr}
	done := make(chan int, 1)
	go func() { done <- a.run([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), `"msg":"zkx started"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no JSON start message; stderr:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
}

// TestServeStopsOnSIGTERM drives the real entry point: run installs the
// signal handler, and SIGTERM to this process must end serve with exit 0.
func TestServeStopsOnSIGTERM(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data") // the default backend is badger
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, &bytes.Buffer{}, &stderr)
	}()
	waitForAddr(t, &stderr) // the handler is installed before the server starts

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code = %d, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}

func TestServerOptions(t *testing.T) {
	path := writeConfig(t, `
listen: "127.0.0.1:0"
tick_time: 1s
max_buffer: 4096
max_outbound: 8192
four_letter_words: ["*"]
super_digest: "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
extended_types: true
container:
  check_interval: 5s
  max_never_used: 1m
  max_per_minute: 50
replay:
  enabled: false
  max_events: 7
  max_bytes: 4096
`)
	cfg, exit := (&app{env: nil, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}).loadConfig("serve", []string{"--config", path})
	if exit >= 0 {
		t.Fatalf("loadConfig exit %d", exit)
	}
	opts := serverOptions(cfg, nil, nil)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Listen", opts.Listen, "127.0.0.1:0"},
		{"TickTime", opts.TickTime, time.Second},
		{"MinSessionTimeout derived", opts.MinSessionTimeout, 2 * time.Second},
		{"MaxSessionTimeout derived", opts.MaxSessionTimeout, 20 * time.Second},
		{"MaxBuffer", opts.MaxBuffer, 4096},
		{"MaxOutbound", opts.MaxOutbound, 8192},
		{"FourLetterWords expanded", len(opts.FourLetterWords) > 10, true},
		{"SuperDigest", opts.SuperDigest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU="},
		{"ExtendedTypes", opts.ExtendedTypes, true},
		{"ContainerCheckInterval", opts.ContainerCheckInterval, 5 * time.Second},
		{"ContainerMaxNeverUsed", opts.ContainerMaxNeverUsed, time.Minute},
		{"ContainerMaxPerMinute", opts.ContainerMaxPerMinute, 50},
		{"DisableReplay", opts.DisableReplay, true},
		{"ReplayWindow.MaxEvents", opts.ReplayWindow.MaxEvents, 7},
		{"ReplayWindow.MaxBytes", opts.ReplayWindow.MaxBytes, 4096},
		{"Version", opts.Version, version},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestOpenBackend(t *testing.T) {
	tmp := t.TempDir()
	tests := []struct {
		name    string
		storage config.Storage
		wantErr []string // substrings; nil means it opens
	}{
		{"memory", config.Storage{Backend: "memory"}, nil},
		{"badger creates its data dir", config.Storage{Backend: "badger", DataDir: filepath.Join(tmp, "data"), Sync: true}, nil},
		{"badger without sync", config.Storage{Backend: "badger", DataDir: filepath.Join(tmp, "nosync")}, nil},
		{"badger with a missing parent dir", config.Storage{Backend: "badger", DataDir: filepath.Join(tmp, "no", "data")},
			[]string{filepath.Join(tmp, "no", "data"), "parent directory"}},
		{"unknown backend", config.Storage{Backend: "bolt"}, []string{`backend "bolt" is not available in this build (available: badger, memory)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backend, err := openBackend(tc.storage, slog.New(slog.DiscardHandler))
			if tc.wantErr == nil {
				if err != nil || backend == nil {
					t.Fatalf("openBackend = %v, %v", backend, err)
				}
				if err := backend.Close(); err != nil {
					t.Fatalf("close: %v", err)
				}
				return
			}
			if err == nil {
				backend.Close()
				t.Fatal("openBackend succeeded, want an error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestServePprof checks the opt-in profiling endpoint: it answers on the
// configured address while serving, and a taken address stops serve.
func TestServePprof(t *testing.T) {
	// Port 0: serve binds the endpoint itself and logs the address. A port
	// picked here and released could be taken by anything before serve
	// binds it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	a := &app{ctx: ctx, env: []string{"ZKX_DEBUG_PPROF_LISTEN=127.0.0.1:0"}, stdout: &bytes.Buffer{}, stderr: &stderr}
	done := make(chan int, 1)
	go func() { done <- a.run([]string{"serve", "--listen", "127.0.0.1:0", "--storage", "memory"}) }()
	pprofAddr := waitForLog(t, &stderr, regexp.MustCompile(`msg="serving pprof" addr=(127\.0\.0\.1:\d+)`))
	waitForLog(t, &stderr, regexp.MustCompile(`msg="zkx started" .*addr=(127\.0\.0\.1:\d+)`))

	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatalf("pprof endpoint: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("GET goroutine profile: %s\n%.300s", resp.Status, body)
	}

	// A second server on the same pprof address cannot bind it.
	var stderr2 syncBuffer
	b := &app{ctx: ctx, env: []string{"ZKX_DEBUG_PPROF_LISTEN=" + pprofAddr}, stdout: &bytes.Buffer{}, stderr: &stderr2}
	if code := b.run([]string{"serve", "--listen", "127.0.0.1:0", "--storage", "memory"}); code != 1 {
		t.Errorf("second serve exit code %d, want 1", code)
	}
	if !strings.Contains(stderr2.String(), "cannot serve pprof") {
		t.Errorf("stderr lacks the pprof error:\n%s", stderr2.String())
	}

	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	if _, err := http.Get("http://" + pprofAddr + "/debug/pprof/"); err == nil {
		t.Error("pprof endpoint still answers after serve returned")
	}
}
