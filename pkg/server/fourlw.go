package server

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/watch/oneshot"
	"github.com/zkx-dev/zkx/pkg/watch/persistent"
)

var fourLetterWords = map[string]bool{
	"conf": true, "cons": true, "crst": true, "dirs": true, "dump": true, "envi": true,
	"gtmk": true, "ruok": true, "stmk": true, "srst": true, "srvr": true, "stat": true,
	"wchc": true, "wchp": true, "wchs": true, "mntr": true, "isro": true, "hash": true,
}

func isFourLetterWord(w string) bool { return fourLetterWords[w] }

// fourLetterWord answers an administrative command sent instead of a
// ConnectRequest, then closes the connection. Output formats follow
// ZooKeeper's so existing monitoring keeps working.
func (s *Server) fourLetterWord(c *conn, word string, br *bufio.Reader) {
	var out string
	switch {
	case !s.fourLW[word]:
		out = word + " is not executed because it is not in the whitelist.\n"
	default:
		out = s.runFourLetterWord(word)
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	c.nc.Write([]byte(out))
	c.close("four letter word " + word)
}

func (s *Server) runFourLetterWord(word string) string {
	var b strings.Builder
	switch word {
	case "ruok":
		return "imok"
	case "isro":
		if s.repl != nil && !s.repl.Serving() {
			return "ro"
		}
		return "rw"
	case "srvr":
		s.writeServerStats(&b, false)
	case "stat":
		s.writeServerStats(&b, true)
	case "mntr":
		s.writeMonitor(&b)
	case "conf":
		o := s.opts
		fmt.Fprintf(&b, "clientPort=%s\n", portOf(s.Addr()))
		fmt.Fprintf(&b, "tickTime=%d\n", o.TickTime.Milliseconds())
		fmt.Fprintf(&b, "minSessionTimeout=%d\n", o.MinSessionTimeout.Milliseconds())
		fmt.Fprintf(&b, "maxSessionTimeout=%d\n", o.MaxSessionTimeout.Milliseconds())
		fmt.Fprintf(&b, "maxBuffer=%d\n", o.MaxBuffer)
		fmt.Fprintf(&b, "serverId=0\n")
	case "envi":
		host, _ := os.Hostname()
		fmt.Fprintf(&b, "Environment:\nzookeeper.version=%s\nhost.name=%s\ngo.version=%s\nos.name=%s\nos.arch=%s\n",
			s.versionString(), host, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	case "cons":
		s.writeConnections(&b, true)
	case "crst", "srst":
		s.stats.reset()
		return "Connection stats reset.\n"
	case "wchs":
		s.mu.Lock()
		conns := s.oneshot.WatcherCount(oneshot.Data)
		paths := s.oneshot.PathCount(oneshot.Data)
		total := s.oneshot.Len(oneshot.Data)
		s.mu.Unlock()
		fmt.Fprintf(&b, "%d connections watching %d paths\nTotal watches:%d\n", conns, paths, total)
	case "wchc":
		s.mu.Lock()
		for _, c := range s.sortedConns() {
			paths := s.oneshot.Paths(oneshot.Data, c.id)
			if len(paths) == 0 || c.sess == nil {
				continue
			}
			fmt.Fprintf(&b, "%s\n", hex64(c.sess.id))
			for _, p := range paths {
				fmt.Fprintf(&b, "\t%s\n", p)
			}
		}
		s.mu.Unlock()
		b.WriteString("\n")
	case "wchp":
		s.mu.Lock()
		byPath := map[string][]int64{}
		for _, c := range s.sortedConns() {
			if c.sess == nil {
				continue
			}
			for _, p := range s.oneshot.Paths(oneshot.Data, c.id) {
				byPath[p] = append(byPath[p], c.sess.id)
			}
		}
		s.mu.Unlock()
		paths := make([]string, 0, len(byPath))
		for p := range byPath {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			fmt.Fprintf(&b, "%s\n", p)
			for _, id := range byPath[p] {
				fmt.Fprintf(&b, "\t%s\n", hex64(id))
			}
		}
		b.WriteString("\n")
	case "dump":
		s.mu.Lock()
		fmt.Fprintf(&b, "SessionTracker dump:\nSession Sets (%d)/(%d):\n", len(s.sessions.buckets), s.sessions.len())
		b.WriteString("ephemeral nodes dump:\n")
		var ids []int64
		for id := range s.sessions.byID {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var lines []string
		for _, id := range ids {
			eph := s.tree.SessionEphemerals(id)
			if len(eph) == 0 {
				continue
			}
			lines = append(lines, hex64(id)+":")
			for _, p := range eph {
				lines = append(lines, "\t"+p)
			}
		}
		s.mu.Unlock()
		fmt.Fprintf(&b, "Sessions with Ephemerals (%d):\n", countPrefix(lines, "0x"))
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	default:
		return word + " is not supported by zkx.\n"
	}
	return b.String()
}

func countPrefix(lines []string, p string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, p) {
			n++
		}
	}
	return n
}

func (s *Server) versionString() string {
	return fmt.Sprintf("%s-zkx, built with %s", s.opts.Version, runtime.Version())
}

func (s *Server) sortedConns() []*conn {
	out := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *conn) int { return int(a.id) - int(b.id) })
	return out
}

func (s *Server) writeServerStats(b *strings.Builder, withClients bool) {
	fmt.Fprintf(b, "Zookeeper version: %s\n", s.versionString())
	if withClients {
		b.WriteString("Clients:\n")
		s.writeConnections(b, false)
		b.WriteString("\n")
	}
	minL, avgL, maxL, _ := s.stats.latency()
	s.mu.Lock()
	nconns, zxid, nodes := len(s.conns), s.lastZxid, zkNodeCount(s.tree.Len())
	var recv, sent int64
	for _, c := range s.conns {
		recv += c.recv.Load()
		sent += c.sent.Load()
	}
	s.mu.Unlock()
	fmt.Fprintf(b, "Latency min/avg/max: %.0f/%.4f/%.0f\n", minL, avgL, maxL)
	fmt.Fprintf(b, "Received: %d\nSent: %d\nConnections: %d\nOutstanding: 0\n", recv, sent, nconns)
	fmt.Fprintf(b, "Zxid: 0x%x\nMode: %s\nNode count: %d\n", zxid, s.mode(), nodes)
}

func (s *Server) writeConnections(b *strings.Builder, detailed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.sortedConns() {
		fmt.Fprintf(b, " /%s[1](queued=%d,recved=%d,sent=%d", c.nc.RemoteAddr().String(), c.queued(), c.recv.Load(), c.sent.Load())
		if detailed && c.sess != nil {
			fmt.Fprintf(b, ",sid=%s,lop=%s,est=%d,to=%d,lcxid=0x%x,lzxid=0x%x",
				hex64(c.sess.id), proto.OpTag(c.lastOp.Load()), c.since.UnixMilli(), c.sess.timeout.Milliseconds(),
				c.lastXid.Load(), c.lastZxid.Load())
		}
		b.WriteString(")\n")
	}
	if detailed {
		b.WriteString("\n")
	}
}

// writeMonitor answers mntr: ZooKeeper's keys where zkx has the figure,
// then zkx's own:
//
//	zkx_commits                  commit groups handed to storage
//	zkx_writes                   write transactions applied
//	zkx_notifications            watch events sent
//	zkx_sessions_expired         sessions ended by expiry
//	zkx_replayed_events          events sent from the replay window
//	zkx_replay_window_events     events the window holds now
//	zkx_heap_live_bytes          live Go heap after the last GC
//	zkx_storage_failures         failed storage commits (writes undone)
//	zkx_persistent_watches       addWatch PERSISTENT watches
//	zkx_recursive_watches        addWatch PERSISTENT_RECURSIVE watches
//
// With a backend that writes a log (badger), also ZooKeeper's fsync summary
// (zk_{avg,min,max,cnt,sum}_fsynctime, in milliseconds) and
//
//	zkx_storage_sync_avg_us      mean log sync, microseconds
//	zkx_storage_sync_max_us      longest log sync
//	zkx_storage_log_records      log records written (one sync each)
//	zkx_storage_logged_commits   commits they held; divided by the
//	                             records, the mean commit group
//
// Then whatever Options.Monitor adds: with notifier plugins, the keys
// listed at notify.Host.Monitor.
func (s *Server) writeMonitor(b *strings.Builder) {
	minL, avgL, maxL, _ := s.stats.latency()
	s.mu.Lock()
	kv := []struct {
		k string
		v any
	}{
		{"zk_version", s.versionString()},
		{"zk_server_state", s.mode()},
		{"zk_avg_latency", avgL},
		{"zk_max_latency", maxL},
		{"zk_min_latency", minL},
		{"zk_num_alive_connections", len(s.conns)},
		{"zk_outstanding_requests", 0},
		{"zk_znode_count", zkNodeCount(s.tree.Len())},
		{"zk_watch_count", s.oneshot.Len(oneshot.Data) + s.oneshot.Len(oneshot.Child) + s.persist.Len(persistent.Persistent) + s.persist.Len(persistent.Recursive)},
		{"zk_ephemerals_count", s.tree.EphemeralCount()},
		{"zk_approximate_data_size", s.tree.ApproximateDataSize()},
		{"zk_global_sessions", s.sessions.len()},
		{"zk_local_sessions", 0},
		{"zk_uptime", time.Since(s.start).Milliseconds()},
		{"zk_auth_failed_count", s.stats.authFailed.Load()},
		{"zk_last_zxid", fmt.Sprintf("0x%x", s.lastZxid)},
		{"zkx_commits", s.stats.commits.Load()},
		{"zkx_writes", s.stats.writes.Load()},
		{"zkx_notifications", s.stats.notifications.Load()},
		{"zkx_sessions_expired", s.stats.expired.Load()},
		{"zkx_replayed_events", s.stats.replayed.Load()},
		{"zkx_replay_window_events", s.window.Len()},
		{"zkx_heap_live_bytes", heapLiveBytes()},
		{"zkx_storage_failures", s.stats.storageFailures.Load()},
		{"zkx_persistent_watches", s.persist.Len(persistent.Persistent)},
		{"zkx_recursive_watches", s.persist.Len(persistent.Recursive)},
	}
	s.mu.Unlock()
	if sr, ok := s.opts.Backend.(storage.StatsReporter); ok {
		st := sr.Stats()
		var avg time.Duration
		if st.Syncs > 0 {
			avg = st.SyncTotal / time.Duration(st.Syncs)
		}
		ms := func(d time.Duration) int64 { return d.Milliseconds() }
		kv = append(kv, []struct {
			k string
			v any
		}{
			// ZooKeeper's names and unit (milliseconds), so dashboards
			// built for its fsync summary keep working.
			{"zk_avg_fsynctime", fmt.Sprintf("%.4f", float64(avg)/float64(time.Millisecond))},
			{"zk_min_fsynctime", ms(st.SyncMin)},
			{"zk_max_fsynctime", ms(st.SyncMax)},
			{"zk_cnt_fsynctime", st.Syncs},
			{"zk_sum_fsynctime", ms(st.SyncTotal)},
			// The same in microseconds, and how many commits share a sync.
			{"zkx_storage_sync_avg_us", avg.Microseconds()},
			{"zkx_storage_sync_max_us", st.SyncMax.Microseconds()},
			{"zkx_storage_log_records", st.LogRecords},
			{"zkx_storage_logged_commits", st.Commits},
		}...)
	}
	for _, e := range kv {
		fmt.Fprintf(b, "%s\t%v\n", e.k, e.v)
	}
	if s.repl != nil {
		s.repl.Monitor(func(k string, v any) { fmt.Fprintf(b, "%s\t%v\n", k, v) })
	}
	if s.opts.Monitor != nil {
		s.opts.Monitor(func(k string, v any) { fmt.Fprintf(b, "%s\t%v\n", k, v) })
	}
}

// mode is the server's state for srvr/stat and mntr: "standalone", or an
// ensemble member's "leader", "follower", "observer" or "looking".
func (s *Server) mode() string {
	if s.repl == nil {
		return "standalone"
	}
	return s.repl.Role()
}

func portOf(a interface{ String() string }) string {
	if a == nil {
		return ""
	}
	s := a.String()
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// zkNodeCount reports the node count as ZooKeeper does: its node table
// also holds "" as an alias of the root, so a fresh server says 5.
func zkNodeCount(n int) int { return n + 1 }

// heapLiveBytes is the live heap as of the last garbage collection: cheap
// to read, and what the load tool uses to measure memory per watch.
func heapLiveBytes() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
