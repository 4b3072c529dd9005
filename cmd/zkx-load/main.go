// Command zkx-load measures zkx and Apache ZooKeeper side by side in one
// run, on this machine, with the same workloads, and prints a Markdown
// report with the ratios:
//
//   - memory per registered watch: N one-shot watches (exists on missing
//     nodes) and N persistent watches (addWatch), registered over pipelined
//     connections; zkx's live heap is read from mntr after the watches are
//     in, ZooKeeper's from jcmd after a full GC;
//   - write throughput: C clients each doing synchronous setData on its
//     own node for a fixed time, at several values of C. With --rounds N
//     every server (each zkx configuration, then ZooKeeper) is measured N
//     times, interleaved, and the report gives medians: on a shared machine
//     disk and CPU speed drift by tens of percent within minutes, and a
//     ratio taken within one round is steadier than two figures taken
//     minutes apart;
//   - restart: time to serve again and RSS with many znodes.
//
// With --ensemble it measures replicated ensembles instead: a 3-member zkx
// ensemble (raft, badger with sync) against a 3-server ZooKeeper ensemble,
// both on loopback, one at a time, interleaved over --rounds:
//
//   - durable write throughput and latency: C clients each doing
//     synchronous setData on its own node, the clients spread round-robin
//     over the members, at each value of C (--writers);
//   - read throughput: --readers clients doing getData, spread the same way;
//   - leader failover: a client with every member in its connect string
//     writes in a loop, the leader is killed with SIGKILL, and the time
//     from the kill to the client's first successful write is measured
//     (--failovers kills per round; the member is started again after each).
//
// Usage:
//
//	go build -o /tmp/zkx ./cmd/zkx
//	go run ./cmd/zkx-load --zkx /tmp/zkx --watches 1000000 --out docs/benchmarks-run.md
//	go run ./cmd/zkx-load --zkx /tmp/zkx --ensemble --duration 5s --rounds 3
//	go run ./cmd/zkx-load --zkx /tmp/zkx --ensemble --duration 2s --rounds 1   # smoke check, about a minute
//
// It needs Debian's zookeeper package (scripts/install-test-deps.sh) and a
// JDK (jcmd). Both servers listen on loopback only.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// zkxConfig is one way of running zkx for the write test.
type zkxConfig struct {
	name    string // as given on the command line
	storage string
	sync    bool
}

var zkxConfigs = map[string]zkxConfig{
	"memory":        {"memory", "memory", false},
	"badger-sync":   {"badger-sync", "badger", true},
	"badger-nosync": {"badger-nosync", "badger", false},
}

func main() {
	var (
		zkxBin   = flag.String("zkx", "", "path to the zkx binary (required)")
		storages = flag.String("storage", "memory,badger-sync,badger-nosync", "zkx configurations for the write test: memory, badger-sync, badger-nosync")
		watches  = flag.Int("watches", 100000, "watches of each kind to register (0 skips the watch test)")
		conns    = flag.Int("conns", 16, "connections that register watches and create znodes")
		writers  = flag.String("writers", "1,16,64", "comma-separated client counts for the write test (empty skips it)")
		duration = flag.Duration("duration", 10*time.Second, "length of each write run")
		znodes   = flag.Int("znodes", 0, "znodes to create before measuring restart time and RSS (0 skips it; zkx runs badger-sync)")
		out      = flag.String("out", "", "also write the report to this file")
		warmup   = flag.Duration("warmup", 3*time.Second, "writes with 16 clients on each fresh server before the write test is measured (with --ensemble, then as long of reads by --readers clients)")
		rounds   = flag.Int("rounds", 1, "times each server is measured in the write test, interleaved; the report gives medians")
		ens      = flag.Bool("ensemble", false, "measure a 3-member zkx ensemble against a 3-server ZooKeeper ensemble instead (uses --writers, --duration, --warmup, --rounds, --readers, --failovers)")
		readers  = flag.Int("readers", 16, "with --ensemble: clients in the read test (0 skips it)")
		failover = flag.Int("failovers", 2, "with --ensemble: leader kills per ensemble per round (0 skips the failover test)")
		systems  = flag.String("systems", "zkx,zookeeper", "with --ensemble: the ensembles to measure (for diagnosis; the report's ratios need both)")
		keep     = flag.Bool("keep-dirs", false, "with --ensemble: keep each ensemble's directory (configurations, data, logs) and print its path")
	)
	flag.Parse()
	cleanupOnSignal()
	if *zkxBin == "" {
		fmt.Fprintln(os.Stderr, "zkx-load: --zkx is required")
		os.Exit(2)
	}
	if *rounds < 1 {
		fmt.Fprintln(os.Stderr, "zkx-load: --rounds must be at least 1")
		os.Exit(2)
	}
	var clients []int
	for _, f := range strings.Split(*writers, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "zkx-load: bad --writers entry %q\n", f)
			os.Exit(2)
		}
		clients = append(clients, n)
	}
	var configs []zkxConfig
	for _, f := range strings.Split(*storages, ",") {
		c, ok := zkxConfigs[strings.TrimSpace(f)]
		if !ok {
			fmt.Fprintf(os.Stderr, "zkx-load: unknown --storage %q (memory, badger-sync, badger-nosync)\n", f)
			os.Exit(2)
		}
		configs = append(configs, c)
	}
	fatal := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "zkx-load: "+format+"\n", args...)
		cleanupAll()
		os.Exit(1)
	}
	if *ens {
		if *readers < 0 || *failover < 0 {
			fatal("--readers and --failovers must not be negative")
		}
		keepDirs = *keep
		o := ensembleOptions{clients: clients, readers: *readers, duration: *duration, warmup: *warmup, failovers: *failover}
		var kinds []string
		for _, f := range strings.Split(*systems, ",") {
			switch f = strings.TrimSpace(f); f {
			case "zkx", "zookeeper":
				kinds = append(kinds, f)
			default:
				fatal("unknown --systems entry %q (zkx, zookeeper)", f)
			}
		}
		text, err := runEnsembles(*zkxBin, o, *rounds, kinds)
		if err != nil {
			fatal("%v", err)
		}
		fmt.Print(text)
		if *out != "" {
			if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
				fatal("%v", err)
			}
		}
		return
	}
	r := &report{watches: *watches, duration: *duration, clients: clients, znodes: *znodes, rounds: *rounds, warmup: *warmup}

	// Watch memory: zkx with GOGC=10 (see startZkx), then ZooKeeper.
	if *watches > 0 {
		srv, err := startZkx(*zkxBin, "memory", false, true)
		if err != nil {
			fatal("start zkx: %v", err)
		}
		r.zkxWatch, err = measure(srv, *watches, *conns, nil, 0, 0)
		srv.stop()
		if err != nil {
			fatal("zkx: %v", err)
		}
	}
	// Writes: in each round, each zkx configuration and then ZooKeeper on
	// a fresh process.
	if len(clients) > 0 {
		r.zkxWrites = make([][]result, len(configs))
		for round := 1; round <= *rounds; round++ {
			for i, c := range configs {
				srv, err := startZkx(*zkxBin, c.storage, c.sync, false)
				if err != nil {
					fatal("start zkx (%s): %v", c.name, err)
				}
				res, err := measure(srv, 0, *conns, clients, *duration, *warmup)
				srv.stop()
				if err != nil {
					fatal("zkx (%s), round %d: %v", c.name, round, err)
				}
				res.kind = "zkx " + c.name
				r.zkxWrites[i] = append(r.zkxWrites[i], res)
			}
			srv, err := startZooKeeper()
			if err != nil {
				fatal("start zookeeper: %v", err)
			}
			res, err := measure(srv, 0, *conns, clients, *duration, *warmup)
			srv.stop()
			if err != nil {
				fatal("zookeeper, round %d: %v", round, err)
			}
			r.zkWrites = append(r.zkWrites, res)
			fmt.Fprintf(os.Stderr, "zkx-load: write round %d of %d done\n", round, *rounds)
		}
	}
	if *znodes > 0 {
		srv, err := startZkx(*zkxBin, "badger", true, false)
		if err != nil {
			fatal("start zkx: %v", err)
		}
		r.zkxRestart, err = restartCost(srv, *znodes, *conns)
		srv.stop()
		if err != nil {
			fatal("zkx restart: %v", err)
		}
	}
	if *watches > 0 {
		srv, err := startZooKeeper()
		if err != nil {
			fatal("start zookeeper: %v", err)
		}
		r.zkWatch, err = measure(srv, *watches, *conns, nil, 0, 0)
		srv.stop()
		if err != nil {
			fatal("zookeeper: %v", err)
		}
	}
	if *znodes > 0 {
		srv, err := startZooKeeper()
		if err != nil {
			fatal("start zookeeper: %v", err)
		}
		r.zkRestart, err = restartCost(srv, *znodes, *conns)
		srv.stop()
		if err != nil {
			fatal("zookeeper restart: %v", err)
		}
	}
	text := r.markdown()
	fmt.Print(text)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			fatal("%v", err)
		}
	}
}
