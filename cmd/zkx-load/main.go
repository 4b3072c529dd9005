// Command zkx-load measures zkx and Apache ZooKeeper side by side in one
// run, on this machine, with the same workloads, and prints a Markdown
// report with the ratios:
//
//   - memory per registered watch: N one-shot watches (exists on missing
//     nodes) and N persistent watches (addWatch), registered over pipelined
//     connections; zkx's live heap is read from mntr after the watches are
//     in, ZooKeeper's from jcmd after a full GC;
//   - write throughput: C clients each doing synchronous setData on its
//     own node for a fixed time, at several values of C.
//
// Usage:
//
//	go build -o /tmp/zkx ./cmd/zkx
//	go run ./cmd/zkx-load --zkx /tmp/zkx --watches 1000000 --out docs/benchmarks-run.md
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

func main() {
	var (
		zkxBin   = flag.String("zkx", "", "path to the zkx binary (required)")
		storage  = flag.String("storage", "memory", "zkx storage backend: memory or badger")
		sync     = flag.Bool("sync", true, "zkx storage.sync (badger only)")
		watches  = flag.Int("watches", 100000, "watches of each kind to register (0 skips the watch test)")
		conns    = flag.Int("conns", 16, "connections that register the watches")
		writers  = flag.String("writers", "1,16,64", "comma-separated client counts for the write test (empty skips it)")
		duration = flag.Duration("duration", 10*time.Second, "length of each write run")
		out      = flag.String("out", "", "also write the report to this file")
	)
	flag.Parse()
	if *zkxBin == "" {
		fmt.Fprintln(os.Stderr, "zkx-load: --zkx is required")
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
	r := &report{watches: *watches, duration: *duration, clients: clients, storage: *storage, sync: *sync}
	fatal := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "zkx-load: "+format+"\n", args...)
		os.Exit(1)
	}
	// zkx: one process for the memory test (GOGC=10), a fresh one for writes.
	var zres result
	if *watches > 0 {
		srv, err := startZkx(*zkxBin, *storage, *sync, true)
		if err != nil {
			fatal("start zkx: %v", err)
		}
		zres, err = measure(srv, *watches, *conns, nil, *duration)
		srv.stop()
		if err != nil {
			fatal("zkx: %v", err)
		}
	}
	if len(clients) > 0 {
		srv, err := startZkx(*zkxBin, *storage, *sync, false)
		if err != nil {
			fatal("start zkx: %v", err)
		}
		w, err := measure(srv, 0, *conns, clients, *duration)
		srv.stop()
		if err != nil {
			fatal("zkx: %v", err)
		}
		zres.writes = w.writes
	}
	zres.kind = "zkx"
	srv, err := startZooKeeper()
	if err != nil {
		fatal("start zookeeper: %v", err)
	}
	kres, err := measure(srv, *watches, *conns, clients, *duration)
	srv.stop()
	if err != nil {
		fatal("zookeeper: %v", err)
	}
	r.results = []result{zres, kres}
	text := r.markdown()
	fmt.Print(text)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "zkx-load:", err)
			os.Exit(1)
		}
	}
}
