package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// zkx serve runs a one-member ensemble from config.yaml's ensemble
// section, and zkx members lists it, refuses bad requests with the
// leader's reason, and checks its own flags.
func TestServeEnsembleAndMembersCommand(t *testing.T) {
	client, raftAddr := freeLoopbackAddr(t), freeLoopbackAddr(t)
	dir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf(`listen: %q
storage:
  backend: memory
ensemble:
  id: 1
  raft_dir: %q
  members:
    - {id: 1, raft: %q, client: %q}
`, client, filepath.Join(dir, "raft"), raftAddr, client))
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	a := &app{ctx: ctx, stdout: &bytes.Buffer{}, stderr: stderr}
	go func() { done <- a.run([]string{"serve", "--config", cfg}) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, stderr.String())
		}
	})
	waitForLog(t, stderr, regexp.MustCompile(`msg="(leading the ensemble)"`))

	code, out, errOut := runApp(t, nil, "members", "list", "--raft", raftAddr)
	if code != 0 {
		t.Fatalf("members list: exit %d: %s", code, errOut)
	}
	want := regexp.MustCompile(`(?m)^1\s+voter\s+` + regexp.QuoteMeta(raftAddr) + `\s+` + regexp.QuoteMeta(client) + `\s+\*$`)
	if !want.MatchString(out) {
		t.Errorf("members list printed:\n%s\nwant member 1, a voter, leading", out)
	}
	code, out, _ = runApp(t, nil, "members", "list", "--raft", raftAddr, "--json")
	if code != 0 || !strings.Contains(out, `"leader": true`) {
		t.Errorf("members list --json: exit %d:\n%s", code, out)
	}
	code, _, errOut = runApp(t, nil, "members", "remove", "--raft", raftAddr, "--id", "1")
	if code != 1 || !strings.Contains(errOut, "last voter") {
		t.Errorf("removing the last voter: exit %d, stderr %q; want 1 and the reason", code, errOut)
	}
	code, _, errOut = runApp(t, nil, "members", "add", "--raft", raftAddr, "--id", "2")
	if code != 2 || !strings.Contains(errOut, "--member-raft is required") {
		t.Errorf("add without --member-raft: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runApp(t, nil, "members", "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown operation "frobnicate"`) {
		t.Errorf("unknown operation: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runApp(t, nil, "members", "list", "--raft", freeLoopbackAddr(t))
	if code != 1 || !strings.Contains(errOut, "zkx members list:") {
		t.Errorf("list against nothing: exit %d, stderr %q", code, errOut)
	}
	if m := readMntr(t, client); m["zk_server_state"] != "leader" || m["zkx_ensemble_members"] != "1" {
		t.Errorf("mntr on a one-member ensemble: zk_server_state %q, zkx_ensemble_members %q", m["zk_server_state"], m["zkx_ensemble_members"])
	}
}
