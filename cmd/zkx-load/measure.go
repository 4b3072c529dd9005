package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

type writeResult struct {
	clients       int
	opsPerSec     float64
	p50, p99, max time.Duration
}

type result struct {
	kind                       string
	oneshotBytes, persistBytes float64 // per watch
	oneshotSecs, persistSecs   float64 // to register all
	writes                     []writeResult
}

// measure runs the watch-memory test (watches > 0) and the write test at
// each client count of clients, each for d after a warm-up of warmup.
func measure(s *server, watches, conns int, clients []int, d, warmup time.Duration) (result, error) {
	res := result{kind: s.kind}
	if watches > 0 {
		var err error
		if res.oneshotBytes, res.oneshotSecs, err = watchMemory(s, watches, conns, false); err != nil {
			return res, fmt.Errorf("one-shot watches: %w", err)
		}
		if res.persistBytes, res.persistSecs, err = watchMemory(s, watches, conns, true); err != nil {
			return res, fmt.Errorf("persistent watches: %w", err)
		}
	}
	if len(clients) > 0 && warmup > 0 {
		// A fresh JVM interprets and then compiles its hot paths, and a
		// fresh zkx grows its buffers and badger its caches: the first
		// seconds of a server measure start-up, not steady state.
		if _, err := writes(s, 16, warmup); err != nil {
			return res, fmt.Errorf("warm-up: %w", err)
		}
	}
	for _, n := range clients {
		w, err := writes(s, n, d)
		if err != nil {
			return res, fmt.Errorf("writes with %d clients: %w", n, err)
		}
		res.writes = append(res.writes, w)
	}
	return res, nil
}

// watchMemory registers n watches over conns connections and returns the
// live-heap growth per watch and the registration time. The connections
// stay open until the heap has been measured.
func watchMemory(s *server, n, conns int, persistentWatch bool) (float64, float64, error) {
	probe, err := dial(s.addr)
	if err != nil {
		return 0, 0, err
	}
	defer probe.close()
	cs := make([]*client, conns)
	for i := range cs {
		if cs[i], err = dial(s.addr); err != nil {
			return 0, 0, err
		}
		defer cs[i].close()
	}
	// The previous phase's connections (and their watches) must be gone
	// before the baseline is taken.
	if err := waitConnections(s.addr, conns+1); err != nil {
		return 0, 0, err
	}
	before, err := s.liveHeap(probe)
	if err != nil {
		return 0, 0, err
	}
	prefix := "/w/oneshot-"
	if persistentWatch {
		prefix = "/w/persistent-"
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	per := n / conns
	for ci, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.pipeline(per, func(i int) (int32, proto.Encodable) {
				p := fmt.Sprintf("%s%d-%d", prefix, ci, i)
				if persistentWatch {
					return proto.OpAddWatch, &proto.AddWatchRequest{Path: p, Mode: int32(znode.AddWatchPersistent)}
				}
				return proto.OpExists, &proto.ExistsRequest{Path: p, Watch: true}
			}, proto.CodeNoNode)
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		if e != nil {
			return 0, 0, e
		}
	}
	secs := time.Since(start).Seconds()
	after, err := s.liveHeap(probe)
	if err != nil {
		return 0, 0, err
	}
	return float64(after-before) / float64(per*conns), secs, nil
}

// writes runs n clients, each doing synchronous setData on its own node
// for d, and returns the throughput and latency percentiles.
func writes(s *server, n int, d time.Duration) (writeResult, error) {
	return runClients(func(int) string { return s.addr }, n, d, false)
}

// runClients runs n clients, client i connected to addr(i), each doing
// synchronous setData (or, with read set, getData) on its own node for d,
// and returns the throughput and latency percentiles.
func runClients(addr func(i int) string, n int, d time.Duration, read bool) (writeResult, error) {
	cs := make([]*client, n)
	for i := range cs {
		c, err := dial(addr(i))
		if err != nil {
			return writeResult{}, err
		}
		defer c.close()
		cs[i] = c
		p := fmt.Sprintf("/bench-%d", i)
		if code, err := c.call(proto.OpCreate, &proto.CreateRequest{Path: p, Data: []byte("x"), ACL: znode.OpenACLUnsafe}); err != nil || (code != 0 && code != proto.CodeNodeExists) {
			return writeResult{}, fmt.Errorf("create %s: %v %s", p, err, proto.CodeName(code))
		}
	}
	data := []byte(strings.Repeat("v", 100))
	if read {
		// Every read returns a 100-byte value, as the writes leave it.
		for i, c := range cs {
			if code, err := c.call(proto.OpSetData, &proto.SetDataRequest{Path: fmt.Sprintf("/bench-%d", i), Data: data, Version: -1}); err != nil || code != 0 {
				return writeResult{}, fmt.Errorf("setData /bench-%d: %v %s", i, err, proto.CodeName(code))
			}
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, n)
	stop := time.Now().Add(d)
	start := time.Now()
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			path := fmt.Sprintf("/bench-%d", i)
			op, req := proto.OpSetData, proto.Encodable(&proto.SetDataRequest{Path: path, Data: data, Version: -1})
			if read {
				op, req = proto.OpGetData, &proto.GetDataRequest{Path: path}
			}
			for time.Now().Before(stop) {
				t0 := time.Now()
				code, err := c.call(op, req)
				if err != nil || code != 0 {
					errs <- fmt.Errorf("%s: %v %s", proto.OpName(op), err, proto.CodeName(code))
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		if e != nil {
			return writeResult{}, e
		}
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	return writeResult{clients: n, opsPerSec: float64(len(lat)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), max: pct(1)}, nil
}

// restartResult is the cost of restarting with many znodes.
type restartResult struct {
	znodes    int
	createSec float64
	startSec  float64
	rssBytes  int64
}

// restartCost creates n znodes (100 bytes each, under 1,000 parents),
// restarts the server on the same data, and measures the time to serve
// again and the resident memory then.
func restartCost(s *server, n, conns int) (restartResult, error) {
	res := restartResult{znodes: n}
	c, err := dial(s.addr)
	if err != nil {
		return res, err
	}
	parents := 1000
	if err := c.pipeline(parents+1, func(i int) (int32, proto.Encodable) {
		if i == 0 {
			return proto.OpCreate, &proto.CreateRequest{Path: "/load", ACL: znode.OpenACLUnsafe}
		}
		return proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/load/p%d", i-1), ACL: znode.OpenACLUnsafe}
	}); err != nil {
		c.close()
		return res, err
	}
	c.close()
	data := make([]byte, 100)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	per := n / conns
	for ci := 0; ci < conns; ci++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(s.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.close()
			errs <- c.pipeline(per, func(i int) (int32, proto.Encodable) {
				k := ci*per + i
				return proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/load/p%d/n%d", k%parents, k), Data: data, ACL: znode.OpenACLUnsafe}
			})
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		if e != nil {
			return res, e
		}
	}
	res.createSec = time.Since(start).Seconds()
	d, err := s.restart()
	if err != nil {
		return res, err
	}
	res.startSec = d.Seconds()
	// Prove the data is back, then measure.
	c, err = dial(s.addr)
	if err != nil {
		return res, err
	}
	defer c.close()
	if code, err := c.call(proto.OpExists, &proto.ExistsRequest{Path: fmt.Sprintf("/load/p%d/n%d", (n-1)%parents, n-1)}); err != nil || code != 0 {
		return res, fmt.Errorf("last znode missing after restart: %v %s", err, proto.CodeName(code))
	}
	res.rssBytes, err = s.rss()
	return res, err
}

type report struct {
	watches    int
	duration   time.Duration
	clients    []int
	znodes     int
	rounds     int
	warmup     time.Duration
	zkxWatch   result     // watch memory (memory backend, GOGC=10)
	zkWatch    result     // watch memory
	zkxWrites  [][]result // per zkx configuration, one per round
	zkWrites   []result   // one per round
	zkxRestart restartResult
	zkRestart  restartResult
}

func (r *report) markdown() string {
	var b strings.Builder
	z, k := r.zkxWatch, r.zkWatch
	fmt.Fprintf(&b, "## zkx vs Apache ZooKeeper, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("ZooKeeper: Debian 3.8.0 standalone, default forceSync (fsync before every acknowledgement), -Xmx4g. Same machine, loopback, one run of `zkx-load`.\n\n")
	if r.watches > 0 {
		fmt.Fprintf(&b, "### Memory per registered watch (%d watches of each kind, distinct paths)\n\n", r.watches)
		b.WriteString("| watch kind | zkx bytes/watch | ZooKeeper bytes/watch | ZooKeeper / zkx | zkx register s | ZooKeeper register s |\n|---|---|---|---|---|---|\n")
		fmt.Fprintf(&b, "| one-shot (exists) | %.0f | %.0f | %.2fx | %.1f | %.1f |\n", z.oneshotBytes, k.oneshotBytes, k.oneshotBytes/z.oneshotBytes, z.oneshotSecs, k.oneshotSecs)
		fmt.Fprintf(&b, "| persistent (addWatch) | %.0f | %.0f | %.2fx | %.1f | %.1f |\n\n", z.persistBytes, k.persistBytes, k.persistBytes/z.persistBytes, z.persistSecs, k.persistSecs)
		b.WriteString("Live heap growth divided by the number of watches; both servers hold the path strings. zkx is measured with GOGC=10 so that its live-heap gauge is current; ZooKeeper after a full GC (jcmd).\n\n")
	}
	if len(r.clients) > 0 && len(r.zkxWrites) > 0 {
		r.writeTables(&b)
	}
	if r.znodes > 0 {
		zr, kr := r.zkxRestart, r.zkRestart
		fmt.Fprintf(&b, "### Restart with %d znodes (zkx on badger with sync)\n\n", r.znodes)
		b.WriteString("| | zkx | ZooKeeper | ZooKeeper / zkx |\n|---|---|---|---|\n")
		fmt.Fprintf(&b, "| create all (pipelined, s) | %.1f | %.1f | %.2fx |\n", zr.createSec, kr.createSec, kr.createSec/zr.createSec)
		fmt.Fprintf(&b, "| restart until serving (s) | %.1f | %.1f | %.2fx |\n", zr.startSec, kr.startSec, kr.startSec/zr.startSec)
		fmt.Fprintf(&b, "| RSS after restart (MiB) | %.0f | %.0f | %.2fx |\n\n", float64(zr.rssBytes)/(1<<20), float64(kr.rssBytes)/(1<<20), float64(kr.rssBytes)/float64(zr.rssBytes))
	}
	return b.String()
}

// writeTables reports the write test: per server and client count the
// median over the rounds of throughput and latency, and the median over
// the rounds of each round's zkx / ZooKeeper ratio, with its range.
func (r *report) writeTables(b *strings.Builder) {
	kinds := make([]string, len(r.zkxWrites))
	for i, rs := range r.zkxWrites {
		kinds[i] = rs[0].kind
	}
	fmt.Fprintf(b, "### Synchronous setData throughput, ops/s (%s per run after a %s warm-up, 100-byte values", r.duration, r.warmup)
	if r.rounds > 1 {
		fmt.Fprintf(b, "; median of %d interleaved rounds", r.rounds)
	}
	b.WriteString(")\n\n| clients |")
	for _, k := range kinds {
		fmt.Fprintf(b, " %s |", k)
	}
	b.WriteString(" ZooKeeper |")
	for _, k := range kinds {
		fmt.Fprintf(b, " %s / ZooKeeper |", strings.TrimPrefix(k, "zkx "))
	}
	b.WriteString("\n|---|")
	for range 2*len(kinds) + 1 {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	field := func(rs []result, i int, f func(writeResult) float64) []float64 {
		v := make([]float64, len(rs))
		for j, res := range rs {
			v[j] = f(res.writes[i])
		}
		return v
	}
	ops := func(w writeResult) float64 { return w.opsPerSec }
	for i, n := range r.clients {
		fmt.Fprintf(b, "| %d |", n)
		for _, rs := range r.zkxWrites {
			fmt.Fprintf(b, " %.0f |", median(field(rs, i, ops)))
		}
		zk := field(r.zkWrites, i, ops)
		fmt.Fprintf(b, " %.0f |", median(zk))
		for _, rs := range r.zkxWrites {
			ratios := field(rs, i, ops)
			for j := range ratios {
				ratios[j] /= zk[j]
			}
			if len(ratios) == 1 {
				fmt.Fprintf(b, " %.2fx |", ratios[0])
			} else {
				fmt.Fprintf(b, " %.2fx (%.2f-%.2f) |", median(ratios), slices.Min(ratios), slices.Max(ratios))
			}
		}
		b.WriteString("\n")
	}
	if r.rounds > 1 {
		b.WriteString("\nRatios: the median of the rounds' ratios, each taken within one round, with their range.\n")
	}
	b.WriteString("\nLatency p50 / p99")
	if r.rounds > 1 {
		b.WriteString(" (medians over the rounds)")
	}
	b.WriteString(":\n\n| clients |")
	for _, k := range kinds {
		fmt.Fprintf(b, " %s |", k)
	}
	b.WriteString(" ZooKeeper |\n|---|")
	for range len(kinds) + 1 {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	p50 := func(w writeResult) float64 { return float64(w.p50) }
	p99 := func(w writeResult) float64 { return float64(w.p99) }
	for i, n := range r.clients {
		fmt.Fprintf(b, "| %d |", n)
		for _, rs := range append(append([][]result{}, r.zkxWrites...), r.zkWrites) {
			fmt.Fprintf(b, " %v / %v |", time.Duration(median(field(rs, i, p50))).Round(time.Microsecond),
				time.Duration(median(field(rs, i, p99))).Round(time.Microsecond))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// median returns the median of v (the mean of the middle two for an even
// count), leaving v as it is.
func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// waitConnections waits until the server reports at most n connections
// besides the one asking (both servers count the mntr connection itself).
func waitConnections(addr string, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := mntr(addr, "zk_num_alive_connections")
		if err != nil {
			return err
		}
		if got <= int64(n)+1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server has %d connections, want %d", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
