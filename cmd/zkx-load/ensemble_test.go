package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClientOrderPutsTheLeaderLast(t *testing.T) {
	tests := []struct {
		leader int
		want   []int
	}{
		{0, []int{1, 2, 0}},
		{1, []int{0, 2, 1}},
		{2, []int{0, 1, 2}},
	}
	for _, tc := range tests {
		if got := clientOrder(3, tc.leader); !slices.Equal(got, tc.want) {
			t.Errorf("clientOrder(3, %d) = %v, want %v", tc.leader, got, tc.want)
		}
	}
}

func TestMemberConfigs(t *testing.T) {
	clients, raft := []string{"1001", "1002", "1003"}, []string{"2001", "2002", "2003"}
	zkx := zkxMemberConfig("/d", 2, clients, raft)
	for _, want := range []string{
		`listen: "127.0.0.1:1002"`,
		`storage: {backend: badger, data_dir: "/d/m2", sync: true}`,
		"  id: 2\n",
		`- {id: 1, raft: "127.0.0.1:2001", client: "127.0.0.1:1001"}`,
		`- {id: 3, raft: "127.0.0.1:2003", client: "127.0.0.1:1003"}`,
	} {
		if !strings.Contains(zkx, want) {
			t.Errorf("zkx config lacks %q:\n%s", want, zkx)
		}
	}
	zk := zooKeeperConfig("/d/zk3", 3, clients, raft, []string{"3001", "3002", "3003"})
	for _, want := range []string{
		"dataDir=/d/zk3\n", "clientPort=1003\n", "clientPortAddress=127.0.0.1\n", "forceSync=yes\n",
		"4lw.commands.whitelist=*\n", "server.1=127.0.0.1:2001:3001\n", "server.3=127.0.0.1:2003:3003\n",
	} {
		if !strings.Contains(zk, want) {
			t.Errorf("zoo.cfg lacks %q:\n%s", want, zk)
		}
	}
}

func TestSyncBetween(t *testing.T) {
	// zkx: exact total from the mean in microseconds and the count.
	z := syncBetween(
		map[string]string{"zk_cnt_fsynctime": "100", "zkx_storage_sync_avg_us": "200", "zk_sum_fsynctime": "20"},
		map[string]string{"zk_cnt_fsynctime": "300", "zkx_storage_sync_avg_us": "300", "zk_sum_fsynctime": "90"},
		2*time.Second, 1000)
	if z.syncs != 200 || z.syncTime != 70*time.Millisecond || z.secs != 2 || z.writes != 1000 {
		t.Errorf("zkx delta = %+v, want 200 syncs in 70ms over 2s", z)
	}
	// ZooKeeper: the sum in milliseconds.
	k := syncBetween(
		map[string]string{"zk_cnt_fsynctime": "10", "zk_sum_fsynctime": "4"},
		map[string]string{"zk_cnt_fsynctime": "60", "zk_sum_fsynctime": "29"},
		time.Second, 500)
	if k.syncs != 50 || k.syncTime != 25*time.Millisecond {
		t.Errorf("ZooKeeper delta = %+v, want 50 syncs in 25ms", k)
	}
}

// TestEnsembleReport checks that throughput ratios are taken within each
// round (as in the standalone write test), that latency ratios read
// ZooKeeper / zkx, and that failover medians are split by where the
// client was connected.
func TestEnsembleReport(t *testing.T) {
	run := func(ops, reads float64, p50 time.Duration, failovers ...failoverResult) ensembleRun {
		return ensembleRun{
			writes:    []writeResult{{clients: 16, opsPerSec: ops, p50: p50, p99: 2 * p50}},
			syncs:     []syncDelta{{secs: 1, writes: ops, syncs: int64(ops / 4), syncTime: time.Duration(ops/4) * 100 * time.Microsecond}},
			reads:     writeResult{clients: 16, opsPerSec: reads},
			failovers: failovers,
		}
	}
	fo := func(onLeader bool, secs float64) failoverResult {
		return failoverResult{onLeader: onLeader, d: time.Duration(secs * float64(time.Second)), connects: 1}
	}
	r := &ensembleReport{
		ensembleOptions: ensembleOptions{clients: []int{16}, readers: 16, duration: time.Second, warmup: time.Second, failovers: 2},
		rounds:          3,
		zkx: []ensembleRun{
			run(2000, 9000, time.Millisecond, fo(true, 2), fo(false, 1.5)),
			run(5000, 8000, time.Millisecond, fo(true, 3), fo(false, 1.6)),
			run(9000, 7000, time.Millisecond, fo(true, 1.8), fo(false, 1.7)),
		},
		zk: []ensembleRun{
			run(1000, 3000, 2*time.Millisecond, fo(true, 0.5), fo(false, 0.6)),
			run(5000, 4000, 2*time.Millisecond, fo(true, 0.4), fo(false, 0.7)),
			run(3000, 7000, 4*time.Millisecond, fo(true, 0.6), fo(false, 0.8)),
		},
	}
	out := r.markdown()
	for _, want := range []string{
		"median of 3 interleaved rounds",
		"| 16 | 5000 | 3000 | 2.00x (1.00-3.00) |", // writes: ratios 2, 1, 3
		"| 16 | 8000 | 4000 | 2.00x (1.00-3.00) |", // reads: ratios 3, 2, 1
		"| 16 | 1ms / 2ms | 2ms / 4ms | 2.00x (2.00-4.00) | 2.00x (2.00-4.00) |",
		"| the leader | 3 + 3 | 2.00 | 0.50 | 0.25x |",
		"| a follower | 3 + 3 | 1.60 | 0.70 | 0.44x |",
		"| either (all kills) | 6 + 6 | 1.75 | 0.60 | 0.34x |",
		"zkx 2.00, 1.50, 3.00, 1.60, 1.80, 1.70; ZooKeeper 0.50, 0.60, 0.40, 0.70, 0.60, 0.80",
		"| 16 | 1250 | 4.0 | 100µs | 750 | 4.0 | 100µs |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
