package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// syncDelta is what the leader's mntr fsync summary moved by during one
// write run.
type syncDelta struct {
	secs     float64       // between the two mntr reads
	writes   float64       // acknowledged by the clients during the run
	syncs    int64         // zk_cnt_fsynctime
	syncTime time.Duration // total time in those syncs
}

// ensembleRun is one system measured in one round.
type ensembleRun struct {
	writes    []writeResult // per client count
	syncs     []syncDelta   // per client count, on the leader
	reads     writeResult
	failovers []failoverResult
}

// readSettle is the pause between the last write run and the read run.
const readSettle = 2 * time.Second

// ensembleOptions are the ensemble test's settings.
type ensembleOptions struct {
	clients   []int // write test client counts
	readers   int   // read test clients (0 skips it)
	duration  time.Duration
	warmup    time.Duration
	failovers int // leader kills per system per round
}

// measureEnsemble runs the ensemble tests on a fresh ensemble: writes at
// each client count, reads, then leader kills. Kill k (counted over the
// whole run, from firstKill) has its client on the leader when k is even
// and on a follower when it is odd.
func measureEnsemble(e *ensemble, o ensembleOptions, firstKill int) (ensembleRun, error) {
	var run ensembleRun
	lead := e.leader()
	if lead < 0 {
		return run, fmt.Errorf("%s: no leader", e.kind)
	}
	order := clientOrder(len(e.members), lead)
	addr := func(i int) string { return e.members[order[i%len(order)]].client }
	if o.warmup > 0 {
		// Three fresh JVMs (or Go processes) interpret, compile and grow
		// their buffers first: warm up the write and the read path.
		if _, err := runClients(addr, 16, o.warmup, false); err != nil {
			return run, fmt.Errorf("warm-up writes: %w", err)
		}
		if o.readers > 0 {
			if _, err := runClients(addr, o.readers, o.warmup, true); err != nil {
				return run, fmt.Errorf("warm-up reads: %w", err)
			}
		}
	}
	leaderAddr := e.members[lead].client
	for _, n := range o.clients {
		t0 := time.Now()
		before, err := mntrAll(leaderAddr)
		if err != nil {
			return run, fmt.Errorf("mntr: %w", err)
		}
		w, err := runClients(addr, n, o.duration, false)
		if err != nil {
			return run, fmt.Errorf("writes with %d clients: %w (leader now: member %d)", n, err, e.leader()+1)
		}
		after, err := mntrAll(leaderAddr)
		if err != nil {
			return run, fmt.Errorf("mntr: %w", err)
		}
		run.writes = append(run.writes, w)
		run.syncs = append(run.syncs, syncBetween(before, after, time.Since(t0), w.opsPerSec*o.duration.Seconds()))
	}
	if o.readers > 0 {
		if len(o.clients) > 0 {
			// Let the write runs' aftermath (log compaction, followers
			// catching up) settle, so that the reads measure reads.
			time.Sleep(readSettle)
		}
		r, err := runClients(addr, o.readers, o.duration, true)
		if err != nil {
			return run, fmt.Errorf("reads with %d clients: %w", o.readers, err)
		}
		run.reads = r
	}
	for k := firstKill; k < firstKill+o.failovers; k++ {
		f, err := e.failover(k%2 == 0)
		if err != nil {
			return run, fmt.Errorf("failover %d: %w", k+1, err)
		}
		where := "a follower"
		if f.onLeader {
			where = "the leader"
		}
		fmt.Fprintf(os.Stderr, "zkx-load: %s failover %d (client on %s): %.2f s, %d connects\n", e.kind, k+1, where, f.d.Seconds(), f.connects)
		run.failovers = append(run.failovers, f)
	}
	return run, nil
}

// syncBetween is the change of the mntr fsync summary between two reads.
// zkx reports its total sync time exactly (zkx_storage_sync_avg_us times
// the count); ZooKeeper adds each fsync's time in whole milliseconds
// (zk_sum_fsynctime), which undercounts syncs shorter than 1 ms.
func syncBetween(before, after map[string]string, d time.Duration, writes float64) syncDelta {
	num := func(kv map[string]string, k string) float64 {
		v, _ := strconv.ParseFloat(kv[k], 64)
		return v
	}
	s := syncDelta{secs: d.Seconds(), writes: writes}
	s.syncs = int64(num(after, "zk_cnt_fsynctime") - num(before, "zk_cnt_fsynctime"))
	if _, ok := after["zkx_storage_sync_avg_us"]; ok {
		us := num(after, "zkx_storage_sync_avg_us")*num(after, "zk_cnt_fsynctime") - num(before, "zkx_storage_sync_avg_us")*num(before, "zk_cnt_fsynctime")
		s.syncTime = time.Duration(us) * time.Microsecond
	} else {
		s.syncTime = time.Duration(num(after, "zk_sum_fsynctime")-num(before, "zk_sum_fsynctime")) * time.Millisecond
	}
	return s
}

// ensembleReport is the ensemble test over every round.
type ensembleReport struct {
	ensembleOptions
	rounds int
	zkx    []ensembleRun // one per round
	zk     []ensembleRun
}

// perRound returns f of each round's run of one system.
func perRound(runs []ensembleRun, f func(ensembleRun) float64) []float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	return v
}

// ratioCell is the median of the rounds' ratios num/den, each taken within
// its round, with their range when there is more than one round.
func ratioCell(num, den []float64) string {
	r := make([]float64, len(num))
	for i := range num {
		r[i] = num[i] / den[i]
	}
	if len(r) == 1 {
		return fmt.Sprintf("%.2fx", r[0])
	}
	return fmt.Sprintf("%.2fx (%.2f-%.2f)", median(r), slices.Min(r), slices.Max(r))
}

func (r *ensembleReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Ensemble (3 members): zkx vs Apache ZooKeeper, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("zkx: 3 members on hashicorp/raft (raft log in bbolt), badger storage with `sync: true`. " +
		"ZooKeeper: Debian 3.8.0, 3 servers in quorum mode, forceSync=yes, -Xmx2g each. " +
		"One ensemble runs at a time, all on loopback on this machine. Client i connects to one member, " +
		"i mod 3 over the followers first and then the leader: 1 client is on a follower; of 16, 6 and 5 are on the followers and 5 on the leader.\n\n")
	rounds := ""
	if r.rounds > 1 {
		rounds = fmt.Sprintf("; median of %d interleaved rounds", r.rounds)
	}
	if len(r.clients) > 0 {
		fmt.Fprintf(&b, "#### Synchronous setData throughput, ops/s (%s per run after a %s warm-up, 100-byte values, each client its own node%s)\n\n", r.duration, r.warmup, rounds)
		b.WriteString("| clients | zkx | ZooKeeper | zkx / ZooKeeper |\n|---|---|---|---|\n")
		for i, n := range r.clients {
			ops := func(run ensembleRun) float64 { return run.writes[i].opsPerSec }
			z, k := perRound(r.zkx, ops), perRound(r.zk, ops)
			fmt.Fprintf(&b, "| %d | %.0f | %.0f | %s |\n", n, median(z), median(k), ratioCell(z, k))
		}
		b.WriteString("\n")
	}
	if r.readers > 0 {
		fmt.Fprintf(&b, "#### Synchronous getData throughput, ops/s (%s per run, 100-byte values, each client its own node%s)\n\n", r.duration, rounds)
		b.WriteString("| clients | zkx | ZooKeeper | zkx / ZooKeeper |\n|---|---|---|---|\n")
		ops := func(run ensembleRun) float64 { return run.reads.opsPerSec }
		z, k := perRound(r.zkx, ops), perRound(r.zk, ops)
		fmt.Fprintf(&b, "| %d | %.0f | %.0f | %s |\n\n", r.readers, median(z), median(k), ratioCell(z, k))
	}
	if len(r.clients) > 0 {
		b.WriteString("#### setData latency, p50 / p99")
		if r.rounds > 1 {
			b.WriteString(" (medians over the rounds; ratios within each round)")
		}
		b.WriteString("\n\n| clients | zkx | ZooKeeper | ZooKeeper / zkx, p50 | ZooKeeper / zkx, p99 |\n|---|---|---|---|---|\n")
		for i, n := range r.clients {
			p50 := func(run ensembleRun) float64 { return float64(run.writes[i].p50) }
			p99 := func(run ensembleRun) float64 { return float64(run.writes[i].p99) }
			z50, k50, z99, k99 := perRound(r.zkx, p50), perRound(r.zk, p50), perRound(r.zkx, p99), perRound(r.zk, p99)
			fmt.Fprintf(&b, "| %d | %v / %v | %v / %v | %s | %s |\n", n,
				dur(median(z50)), dur(median(z99)), dur(median(k50)), dur(median(k99)), ratioCell(k50, z50), ratioCell(k99, z99))
		}
		b.WriteString("\n")
	}
	if r.failovers > 0 {
		all := func(runs []ensembleRun, keep func(failoverResult) bool) []float64 {
			var v []float64
			for _, run := range runs {
				for _, f := range run.failovers {
					if keep(f) {
						v = append(v, f.d.Seconds())
					}
				}
			}
			return v
		}
		b.WriteString("#### Leader failover: SIGKILL of the leader until the client's first successful write, seconds\n\n")
		b.WriteString("| client connected to | kills | zkx | ZooKeeper | ZooKeeper / zkx |\n|---|---|---|---|---|\n")
		for _, row := range []struct {
			name string
			keep func(failoverResult) bool
		}{
			{"the leader", func(f failoverResult) bool { return f.onLeader }},
			{"a follower", func(f failoverResult) bool { return !f.onLeader }},
			{"either (all kills)", func(failoverResult) bool { return true }},
		} {
			z, k := all(r.zkx, row.keep), all(r.zk, row.keep)
			if len(z) == 0 || len(k) == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %d + %d | %.2f | %.2f | %.2fx |\n", row.name, len(z), len(k), median(z), median(k), median(k)/median(z))
		}
		each := func(v []float64) string {
			s := make([]string, len(v))
			for i, x := range v {
				s[i] = fmt.Sprintf("%.2f", x)
			}
			return strings.Join(s, ", ")
		}
		connects := func(runs []ensembleRun) float64 {
			var v []float64
			for _, run := range runs {
				for _, f := range run.failovers {
					v = append(v, float64(f.connects))
				}
			}
			return median(v)
		}
		fmt.Fprintf(&b, "\nMedians over the kills and the ratio of those medians. Each kill in order (client on the leader, then on a follower, alternately): zkx %s; ZooKeeper %s. "+
			"The client's connect string lists every member; after a failed connect or write it tries the next member %s later, with no backoff, and keeps its session. "+
			"Sessions it re-established between the kill and its first successful write (median): zkx %.0f, ZooKeeper %.0f.\n\n",
			each(all(r.zkx, func(failoverResult) bool { return true })), each(all(r.zk, func(failoverResult) bool { return true })), retryPause,
			connects(r.zkx), connects(r.zk))
	}
	if len(r.clients) > 0 {
		b.WriteString("#### Log syncs on the leader during the write runs (mntr fsync summary, medians over the rounds)\n\n")
		b.WriteString("| clients | zkx syncs/s | zkx writes per sync | zkx mean sync | ZooKeeper fsyncs/s | ZooKeeper writes per fsync | ZooKeeper mean fsync |\n|---|---|---|---|---|---|---|\n")
		for i, n := range r.clients {
			cells := func(runs []ensembleRun) string {
				rate := perRound(runs, func(run ensembleRun) float64 { return float64(run.syncs[i].syncs) / run.syncs[i].secs })
				per := perRound(runs, func(run ensembleRun) float64 {
					return run.syncs[i].writes / max(1, float64(run.syncs[i].syncs))
				})
				mean := perRound(runs, func(run ensembleRun) float64 {
					return float64(run.syncs[i].syncTime) / max(1, float64(run.syncs[i].syncs))
				})
				return fmt.Sprintf("%.0f | %.1f | %v", median(rate), median(per), dur(median(mean)))
			}
			fmt.Fprintf(&b, "| %d | %s | %s |\n", n, cells(r.zkx), cells(r.zk))
		}
		b.WriteString("\nzkx's figures are its badger storage log (one `fdatasync` per commit group); the raft log's own syncs (bbolt) are not in mntr. " +
			"ZooKeeper adds each fsync's time in whole milliseconds, so its mean undercounts syncs shorter than 1 ms.\n\n")
	}
	return b.String()
}

// dur rounds nanoseconds for the report.
func dur(ns float64) time.Duration {
	d := time.Duration(ns)
	if d >= time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// runEnsembles runs the ensemble test: in each round a fresh zkx ensemble
// and then a fresh ZooKeeper ensemble, each measured and stopped before
// the next starts. It returns the report.
func runEnsembles(zkxBin string, o ensembleOptions, rounds int, kinds []string) (string, error) {
	r := &ensembleReport{ensembleOptions: o, rounds: rounds}
	for round := 1; round <= rounds; round++ {
		firstKill := (round - 1) * o.failovers
		for _, kind := range kinds {
			var e *ensemble
			var err error
			t0 := time.Now()
			if kind == "zkx" {
				e, err = startZkxEnsemble(zkxBin)
			} else {
				e, err = startZooKeeperEnsemble()
			}
			if err != nil {
				return "", fmt.Errorf("start %s ensemble: %w", kind, err)
			}
			fmt.Fprintf(os.Stderr, "zkx-load: round %d: %s ensemble serving after %.1f s\n", round, kind, time.Since(t0).Seconds())
			run, err := measureEnsemble(e, o, firstKill)
			if err != nil {
				err = fmt.Errorf("%s ensemble, round %d: %w", kind, round, err)
			}
			e.stop()
			if err != nil {
				return "", err
			}
			if kind == "zkx" {
				r.zkx = append(r.zkx, run)
			} else {
				r.zk = append(r.zk, run)
			}
		}
		fmt.Fprintf(os.Stderr, "zkx-load: ensemble round %d of %d done\n", round, rounds)
	}
	if len(r.zkx) == 0 || len(r.zk) == 0 {
		return r.single(), nil
	}
	return r.markdown(), nil
}

// single reports a run of one system only (--systems), round by round,
// with no ratios.
func (r *ensembleReport) single() string {
	name, runs := "zkx", r.zkx
	if len(runs) == 0 {
		name, runs = "ZooKeeper", r.zk
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### Ensemble (3 members): %s only, %s\n\n", name, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("| round | test | ops/s | p50 / p99 | leader syncs/s, writes per sync, mean sync |\n|---|---|---|---|---|\n")
	for round, run := range runs {
		for i, w := range run.writes {
			s := run.syncs[i]
			fmt.Fprintf(&b, "| %d | setData, %d clients | %.0f | %v / %v | %.0f, %.1f, %v |\n", round+1, w.clients, w.opsPerSec, dur(float64(w.p50)), dur(float64(w.p99)),
				float64(s.syncs)/s.secs, s.writes/max(1, float64(s.syncs)), dur(float64(s.syncTime)/max(1, float64(s.syncs))))
		}
		if r.readers > 0 {
			fmt.Fprintf(&b, "| %d | getData, %d clients | %.0f | %v / %v | |\n", round+1, r.readers, run.reads.opsPerSec, dur(float64(run.reads.p50)), dur(float64(run.reads.p99)))
		}
		for _, f := range run.failovers {
			where := "a follower"
			if f.onLeader {
				where = "the leader"
			}
			fmt.Fprintf(&b, "| %d | failover, client on %s | | %.2f s | |\n", round+1, where, f.d.Seconds())
		}
	}
	b.WriteString("\n")
	return b.String()
}
