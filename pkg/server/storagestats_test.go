package server

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// mntrValues parses mntr output into key -> value.
func mntrValues(t *testing.T, addr string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(fourLetter(t, addr, "mntr"), "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok {
			m[k] = v
		}
	}
	return m
}

// TestMntrReportsStorageSyncs checks the fsync figures an operator reads
// from mntr on a durable server: ZooKeeper's fsynctime summary keys, and
// zkx's log records against the commits they held.
func TestMntrReportsStorageSyncs(t *testing.T) {
	s := startBadgerServer(t, t.TempDir())
	addr := s.Addr().String()
	c := connectRaw(t, addr)
	for i := range 20 {
		mustCall(t, c, proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/n%d", i), ACL: znode.OpenACLUnsafe}, nil)
	}
	m := mntrValues(t, addr)
	num := func(k string) int64 {
		t.Helper()
		v, ok := m[k]
		if !ok {
			t.Fatalf("mntr lacks %s", k)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("mntr %s = %q, not an integer", k, v)
		}
		return n
	}
	records, commits, syncs := num("zkx_storage_log_records"), num("zkx_storage_logged_commits"), num("zk_cnt_fsynctime")
	// 21 commits at least: the session and 20 sequential creates.
	if commits < 21 || records < 1 || records > commits {
		t.Errorf("log records %d, logged commits %d: want at least 21 commits in at most as many records", records, commits)
	}
	if syncs != records {
		t.Errorf("zk_cnt_fsynctime %d, want one sync per log record (%d)", syncs, records)
	}
	if num("zk_max_fsynctime") < num("zk_min_fsynctime") || num("zkx_storage_sync_max_us") <= 0 {
		t.Errorf("sync times min %d ms, max %d ms, max %d us", num("zk_min_fsynctime"), num("zk_max_fsynctime"), num("zkx_storage_sync_max_us"))
	}
	if _, err := strconv.ParseFloat(m["zk_avg_fsynctime"], 64); err != nil {
		t.Errorf("zk_avg_fsynctime = %q: %v", m["zk_avg_fsynctime"], err)
	}

	// A server without a disk log reports none of these.
	mem := startTestServer(t, nil)
	for k := range mntrValues(t, mem.Addr().String()) {
		if strings.Contains(k, "fsynctime") || strings.HasPrefix(k, "zkx_storage_log") {
			t.Errorf("memory-backed server reports %s", k)
		}
	}
}

// TestMntrAddsMonitorKeysLast: the keys an Options.Monitor adds (the
// notifier host's) follow zkx's own, and each mntr asks for fresh values.
func TestMntrAddsMonitorKeysLast(t *testing.T) {
	var calls atomic.Int64
	s := startTestServer(t, func(o *Options) {
		o.Monitor = func(add func(string, any)) {
			add("zkx_test_calls", calls.Add(1))
			add("zkx_test_state", "running")
		}
	})
	addr := s.Addr().String()
	for want := 1; want <= 2; want++ {
		out := fourLetter(t, addr, "mntr")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) < 3 {
			t.Fatalf("mntr:\n%s", out)
		}
		tail := lines[len(lines)-2:]
		if tail[0] != fmt.Sprintf("zkx_test_calls\t%d", want) || tail[1] != "zkx_test_state\trunning" {
			t.Errorf("mntr %d ends with %q, want the monitor's two keys", want, tail)
		}
		if !strings.Contains(out, "zk_server_state\tstandalone\n") || !strings.Contains(out, "zkx_commits\t") {
			t.Errorf("zkx's own keys missing:\n%s", out)
		}
	}
}
