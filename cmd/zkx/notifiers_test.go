package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/internal/config"
	"github.com/zkx-dev/zkx/pkg/notify"
)

// TestNotifyOptions checks that the notify section reaches the plugin
// host: the documented defaults are the host's own, every key is mapped,
// and retry_failed_after "0s" turns retrying off.
func TestNotifyOptions(t *testing.T) {
	defaults := notify.Options{
		StartTimeout:     notify.DefaultStartTimeout,
		NotifyTimeout:    notify.DefaultNotifyTimeout,
		MinBackoff:       notify.DefaultMinBackoff,
		MaxBackoff:       notify.DefaultMaxBackoff,
		MaxFailures:      notify.DefaultMaxFailures,
		HealthInterval:   notify.DefaultHealthInterval,
		RetryFailedAfter: notify.DefaultRetryFailedAfter,
	}
	tests := []struct {
		name string
		yaml string
		want notify.Options
	}{
		{name: "defaults are the host's defaults", yaml: "", want: defaults},
		{
			name: "every key mapped",
			yaml: `
notify:
  start_timeout: 3s
  notify_timeout: 4s
  min_backoff: 50ms
  max_backoff: 5s
  max_failures: 2
  health_interval: 1m
  retry_failed_after: 30m
`,
			want: notify.Options{StartTimeout: 3 * time.Second, NotifyTimeout: 4 * time.Second, MinBackoff: 50 * time.Millisecond,
				MaxBackoff: 5 * time.Second, MaxFailures: 2, HealthInterval: time.Minute, RetryFailedAfter: 30 * time.Minute},
		},
		{
			name: "retry_failed_after 0s never retries",
			yaml: "notify:\n  retry_failed_after: 0s\n",
			want: func() notify.Options { o := defaults; o.RetryFailedAfter = -1; return o }(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			path := writeConfig(t, "storage:\n  backend: memory\n  data_dir: "+dataDir+`
notifiers:
  - {name: audit, command: ./audit, paths: ["/app"], batch_size: 7}
`+tt.yaml)
			cfg, exit := (&app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}).loadConfig("serve", []string{"--config", path})
			if exit >= 0 {
				t.Fatalf("loadConfig exit %d", exit)
			}
			got := notifyOptions(cfg, nil, nil)
			checks := []struct {
				name      string
				got, want any
			}{
				{"StartTimeout", got.StartTimeout, tt.want.StartTimeout},
				{"NotifyTimeout", got.NotifyTimeout, tt.want.NotifyTimeout},
				{"MinBackoff", got.MinBackoff, tt.want.MinBackoff},
				{"MaxBackoff", got.MaxBackoff, tt.want.MaxBackoff},
				{"MaxFailures", got.MaxFailures, tt.want.MaxFailures},
				{"HealthInterval", got.HealthInterval, tt.want.HealthInterval},
				{"RetryFailedAfter", got.RetryFailedAfter, tt.want.RetryFailedAfter},
				{"DataDir", got.DataDir, filepath.Join(dataDir, "notifiers")},
				{"History (memory backend: the host's ring)", got.History, nil},
				{"plugins", len(got.Plugins), 1},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
			if p := got.Plugins[0]; p.Name != "audit" || p.Command != "./audit" || p.BatchSize != 7 || len(p.Paths) != 1 {
				t.Errorf("plugin = %+v", p)
			}
		})
	}
}

func TestNewNotifyHostWithoutNotifiers(t *testing.T) {
	h, err := newNotifyHost(config.Default(), nil, nil)
	if h != nil || err != nil {
		t.Fatalf("newNotifyHost without notifiers = %v, %v; want nil, nil", h, err)
	}
}

// TestServeReportsNotifiersInMntr runs serve with a real plugin (the
// bundled log notifier) and reads its status where an operator's
// monitoring would: mntr on the client port.
func TestServeReportsNotifiersInMntr(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "zkx-notifier-log")
	buildLogPlugin(t, bin)
	cfg := writeConfig(t, fmt.Sprintf(`notifiers:
  - name: audit
    command: %q
    args: ["--out", %q]
`, bin, filepath.Join(dir, "audit.jsonl")))
	sv := startServe(t, cfg)
	addr, stderr := sv.addr, sv.stderr

	waitMntr(t, addr, stderr, "zkx_notifier_audit_up", "1")
	m := readMntr(t, addr)
	if m["zkx_notifiers"] != "1" || m["zkx_notifiers_running"] != "1" || m["zkx_notifiers_failed"] != "0" || m["zkx_notifier_audit_state"] != "running" {
		t.Errorf("mntr notifier keys: %v", m)
	}
	if m["zk_server_state"] != "standalone" {
		t.Errorf("mntr lost zkx's own keys: %v", m)
	}

	sv.stop(t)
}

// readMntr asks the server at addr for mntr and returns its keys.
func readMntr(t *testing.T, addr string) map[string]string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("mntr")); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok {
			m[k] = v
		}
	}
	return m
}

// waitMntr waits until mntr at addr reports key = want.
func waitMntr(t *testing.T, addr string, stderr *syncBuffer, key, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for m := readMntr(t, addr); m[key] != want; m = readMntr(t, addr) {
		if time.Now().After(deadline) {
			t.Fatalf("mntr %s = %q after 30s, want %q\nstderr:\n%s", key, m[key], want, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeSIGHUPStartsFailedNotifiers: a plugin whose binary is missing
// fails; with retry_failed_after "0s" it stays failed until the operator
// installs the binary and sends SIGHUP.
func TestServeSIGHUPStartsFailedNotifiers(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "zkx-notifier-log") // not there yet
	cfg := writeConfig(t, fmt.Sprintf(`notify:
  min_backoff: "10ms"
  max_failures: 2
  retry_failed_after: "0s"
notifiers:
  - name: audit
    command: %q
    args: ["--out", %q]
`, bin, filepath.Join(dir, "audit.jsonl")))
	sv := startServe(t, cfg)
	addr, stderr := sv.addr, sv.stderr
	waitMntr(t, addr, stderr, "zkx_notifiers_failed", "1")

	buildLogPlugin(t, bin)
	sv.hup <- syscall.SIGHUP
	waitMntr(t, addr, stderr, "zkx_notifier_audit_up", "1")
	if m := readMntr(t, addr); m["zkx_notifiers_failed"] != "0" || m["zkx_notifier_audit_failures"] != "1" {
		t.Errorf("after SIGHUP: failed %s, audit failures %s; want 0 and 1", m["zkx_notifiers_failed"], m["zkx_notifier_audit_failures"])
	}
	if !strings.Contains(stderr.String(), `msg="SIGHUP: starting failed notifiers again" notifiers=[audit]`) {
		t.Errorf("no SIGHUP line naming the plugin:\n%s", stderr.String())
	}

	sv.stop(t)
}

// buildLogPlugin builds the bundled log notifier at bin.
func buildLogPlugin(t *testing.T, bin string) {
	t.Helper()
	if out, err := exec.Command("go", "build", "-o", bin, "../../plugins/log").CombinedOutput(); err != nil {
		t.Fatalf("build the log plugin: %v\n%s", err, out)
	}
}

// servedApp is a zkx serve running in the test, on the memory backend.
type servedApp struct {
	addr   string
	stderr *syncBuffer
	hup    chan os.Signal // stands for SIGHUP
	cancel context.CancelFunc
	done   chan int
}

// startServe runs serve with the config file at cfg and waits until it
// serves clients.
func startServe(t *testing.T, cfg string) *servedApp {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sv := &servedApp{stderr: &syncBuffer{}, hup: make(chan os.Signal, 1), cancel: cancel, done: make(chan int, 1)}
	t.Cleanup(cancel)
	a := &app{ctx: ctx, hup: sv.hup, stdout: &bytes.Buffer{}, stderr: sv.stderr}
	go func() {
		sv.done <- a.run([]string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--storage", "memory"})
	}()
	sv.addr = waitForLog(t, sv.stderr, regexp.MustCompile(`msg="zkx started" .*addr=(127\.0\.0\.1:\d+)`))
	return sv
}

// stop stops serve as SIGTERM would and checks that it exits cleanly.
func (sv *servedApp) stop(t *testing.T) {
	t.Helper()
	sv.cancel()
	if code := <-sv.done; code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, sv.stderr.String())
	}
}
