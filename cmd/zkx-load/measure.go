package main

import (
	"fmt"
	"slices"
	"sort"
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

func measure(s *server, watches, conns int, clients []int, d time.Duration) (result, error) {
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
	cs := make([]*client, n)
	for i := range cs {
		c, err := dial(s.addr)
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
			req := &proto.SetDataRequest{Path: fmt.Sprintf("/bench-%d", i), Data: data, Version: -1}
			for time.Now().Before(stop) {
				t0 := time.Now()
				code, err := c.call(proto.OpSetData, req)
				if err != nil || code != 0 {
					errs <- fmt.Errorf("setData: %v %s", err, proto.CodeName(code))
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

type report struct {
	watches  int
	duration time.Duration
	clients  []int
	storage  string
	sync     bool
	results  []result
}

func (r *report) markdown() string {
	var b strings.Builder
	z, k := r.results[0], r.results[1]
	fmt.Fprintf(&b, "## zkx vs Apache ZooKeeper, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "zkx storage: %s (sync %v); ZooKeeper: Debian 3.8.0 standalone, default forceSync (fsync per commit), -Xmx4g. Same machine, loopback, one run.\n\n", r.storage, r.sync)
	if r.watches > 0 {
		fmt.Fprintf(&b, "### Memory per registered watch (%d watches of each kind, distinct paths)\n\n", r.watches)
		b.WriteString("| watch kind | zkx bytes/watch | ZooKeeper bytes/watch | ZooKeeper / zkx | zkx register s | ZooKeeper register s |\n|---|---|---|---|---|---|\n")
		fmt.Fprintf(&b, "| one-shot (exists) | %.0f | %.0f | %.2fx | %.1f | %.1f |\n", z.oneshotBytes, k.oneshotBytes, k.oneshotBytes/z.oneshotBytes, z.oneshotSecs, k.oneshotSecs)
		fmt.Fprintf(&b, "| persistent (addWatch) | %.0f | %.0f | %.2fx | %.1f | %.1f |\n\n", z.persistBytes, k.persistBytes, k.persistBytes/z.persistBytes, z.persistSecs, k.persistSecs)
		b.WriteString("Bytes include the watched path strings, which both servers hold.\n\n")
	}
	if len(r.clients) > 0 {
		fmt.Fprintf(&b, "### Synchronous setData throughput (%s per run)\n\n", r.duration)
		b.WriteString("| clients | zkx ops/s | ZooKeeper ops/s | zkx / ZooKeeper | zkx p50 / p99 | ZooKeeper p50 / p99 |\n|---|---|---|---|---|---|\n")
		sort.Slice(z.writes, func(i, j int) bool { return z.writes[i].clients < z.writes[j].clients })
		for i := range z.writes {
			zw, kw := z.writes[i], k.writes[i]
			fmt.Fprintf(&b, "| %d | %.0f | %.0f | %.2fx | %v / %v | %v / %v |\n", zw.clients, zw.opsPerSec, kw.opsPerSec, zw.opsPerSec/kw.opsPerSec,
				zw.p50.Round(time.Microsecond), zw.p99.Round(time.Microsecond), kw.p50.Round(time.Microsecond), kw.p99.Round(time.Microsecond))
		}
		b.WriteString("\n")
	}
	return b.String()
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
