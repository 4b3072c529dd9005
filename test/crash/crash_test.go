package crash

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/client"
	"github.com/zkx-dev/zkx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// Flags, after -args: go test ./test/crash -args -seed=N -cycles=N. (Not
// environment variables: zkx refuses unknown ZKX_* variables, and the
// server inherits the test's environment.)
var (
	seedFlag   = flag.Int64("seed", 0, "seed of the kill delays and the workers' choices (0: from the clock)")
	cyclesFlag = flag.Int("cycles", 0, "kill/restart cycles (0: 20, or 5 under -short)")
)

const (
	workers = 4
	// sharedNodes are written by every worker with version checks.
	sharedNodes = 8
	// tickTime 150 ms allows session timeouts from 300 ms to 3 s.
	tickTime = 150 * time.Millisecond
	// sessionTimeout is asked for by the workers' main clients.
	sessionTimeout = 3 * time.Second
	// ephTimeout is the session timeout of the clients that own
	// ephemerals: short, so their expiry after a restart is seen within a
	// few cycles.
	ephTimeout = 3 * time.Second
	// expirySlack is how long after a session's timeout its ephemerals may
	// still exist: expiry is tick-granular, and the machine is loaded.
	expirySlack = 3 * time.Second
	// The kill comes at a random moment in this window after the load starts.
	minLoad = 500 * time.Millisecond
	maxLoad = 2 * time.Second
	// readChunk bounds one MultiRead during verification.
	readChunk = 400
	// opTimeout bounds one verification call.
	opTimeout = 10 * time.Second
)

// acked is the last acknowledged state of a node.
type acked struct {
	version int32
	data    []byte
	mzxid   int64
	czxid   int64 // 0 when unknown (the node existed before tracking)
	what    string
}

func (a acked) String() string {
	return fmt.Sprintf("%s: version %d, data %q, mzxid %#x", a.what, a.version, a.data, a.mzxid)
}

// multiRec is one multi transaction a worker sent.
type multiRec struct {
	id    string // "w<worker>-m<seq>"
	seq   int
	acked bool
}

// ephRec is an acknowledged ephemeral node whose session died with zkx.
type ephRec struct {
	data  []byte
	owner int64
	cycle int
	// mayHaveExpired is set once a server ran for a full session timeout
	// after the session died: it may have expired the session before the
	// test saw it, so a missing node is no longer a lost write.
	mayHaveExpired bool
}

// model is what the clients were told, across all cycles.
type model struct {
	mu      sync.Mutex
	nodes   map[string]acked
	deleted map[string]string // acked deletes: path -> description
	multis  [workers][]multiRec
	// msetVersion is each worker's last known version of its counter node.
	msetVersion [workers]int32
	multiSeq    [workers]int
	uniqueSeq   [workers]int
	// pending are ephemerals of dead sessions, until seen deleted.
	pending map[string]ephRec
	maxZxid int64
}

func newModel() *model {
	return &model{nodes: map[string]acked{}, deleted: map[string]string{}, pending: map[string]ephRec{}}
}

func (m *model) seeZxid(z int64) {
	m.mu.Lock()
	m.maxZxid = max(m.maxZxid, z)
	m.mu.Unlock()
}

// ackWrite records an acknowledged create or setData, keeping the highest
// acknowledged version per node.
func (m *model) ackWrite(path string, a acked) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maxZxid = max(m.maxZxid, a.mzxid, a.czxid)
	if old, ok := m.nodes[path]; ok && old.version >= a.version {
		return
	}
	if old, ok := m.nodes[path]; ok && a.czxid == 0 {
		a.czxid = old.czxid
	}
	m.nodes[path] = a
}

func (m *model) forget(path string) {
	m.mu.Lock()
	delete(m.nodes, path)
	m.mu.Unlock()
}

func (m *model) ackDelete(path, what string) {
	m.mu.Lock()
	delete(m.nodes, path)
	m.deleted[path] = what
	m.mu.Unlock()
}

func TestKillRestart(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	cycles := 20
	if testing.Short() {
		cycles = 5
	}
	if *cyclesFlag > 0 {
		cycles = *cyclesFlag
	}
	t.Logf("seed %d (rerun with: go test ./test/crash -args -seed=%d), %d cycles", seed, seed, cycles)
	rng := rand.New(rand.NewSource(seed))

	// Not t.TempDir: the directory is kept when the test fails.
	dir, err := os.MkdirTemp("", "zkx-crash-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("data dir kept for inspection (zkx dump --data-dir %s): %s", dir, dir)
			return
		}
		os.RemoveAll(dir)
	})

	r := &run{t: t, seed: seed, dir: dir, m: newModel()}
	start := time.Now()
	for cycle := 0; cycle <= cycles; cycle++ {
		r.cycle = cycle
		srv, ready, launched := r.start()
		checker := r.connect(srv.Addr(), sessionTimeout, nil)
		if cycle == 0 {
			r.setup(checker)
		} else {
			r.verify(checker, launched, ready)
		}
		if t.Failed() {
			return
		}
		if cycle == cycles {
			// Last start: no more kills, so every pending ephemeral
			// must go once its session times out.
			r.awaitExpiry(checker, ready, true)
			checker.Close()
			srv.Stop()
			break
		}
		load := minLoad + time.Duration(rng.Int63n(int64(maxLoad-minLoad)))
		r.load(srv, checker, launched, ready, load, rng.Int63())
		if t.Failed() {
			return
		}
	}
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	nm := 0
	for w := range workers {
		nm += len(r.m.multis[w])
	}
	t.Logf("%d cycles in %v: %d nodes tracked, %d acked deletes, %d multis sent, highest zxid %#x, %d ephemerals still pending",
		cycles, time.Since(start).Round(time.Millisecond), len(r.m.nodes), len(r.m.deleted), nm, r.m.maxZxid, len(r.m.pending))
}

// run is the state of one TestKillRestart.
type run struct {
	t     *testing.T
	seed  int64
	dir   string
	cycle int
	m     *model

	failMu sync.Mutex
	fails  int
}

// maxFails bounds the failures reported in full: past it, one lost write
// usually means thousands.
const maxFails = 20

// failf reports a durability failure with everything needed to chase it.
func (r *run) failf(format string, args ...any) {
	r.t.Helper()
	r.failMu.Lock()
	defer r.failMu.Unlock()
	r.fails++
	switch {
	case r.fails <= maxFails:
		r.t.Errorf("seed %d, cycle %d: %s", r.seed, r.cycle, fmt.Sprintf(format, args...))
	case r.fails == maxFails+1:
		r.t.Errorf("seed %d, cycle %d: more failures not shown", r.seed, r.cycle)
	}
}

func (r *run) start() (srv *harness.Server, ready, launched time.Time) {
	r.t.Helper()
	launched = time.Now()
	srv = harness.StartZkx(r.t, harness.ZkxOptions{TickTime: tickTime, DataDir: r.dir})
	return srv, time.Now(), launched
}

func (r *run) connect(addr string, timeout time.Duration, onState func(client.State)) *client.Client {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	c, err := client.Connect(ctx, addr, client.Options{SessionTimeout: timeout, OnState: onState})
	if err != nil {
		r.t.Fatalf("cycle %d: connect to %s: %v", r.cycle, addr, err)
	}
	return c
}

// setup creates the fixed nodes on the fresh store.
func (r *run) setup(c *client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	mk := func(p string, data []byte) {
		_, st, err := c.Create(ctx, p, data, client.CreateOptions{})
		if err != nil {
			r.t.Fatalf("setup: create %s: %v", p, err)
		}
		r.m.ackWrite(p, acked{version: st.Version, data: data, mzxid: st.Mzxid, czxid: st.Czxid, what: "setup create"})
	}
	for _, p := range []string{"/crash", "/crash/u", "/crash/s", "/crash/multi", "/crash/mset", "/crash/e", "/crash/zxid"} {
		mk(p, nil)
	}
	for k := range sharedNodes {
		mk(sharedPath(k), []byte("init"))
	}
	for w := range workers {
		mk(msetPath(w), []byte("init"))
	}
}

func sharedPath(k int) string { return fmt.Sprintf("/crash/s/%d", k) }
func msetPath(w int) string   { return fmt.Sprintf("/crash/mset/w%d", w) }

// readAll reads paths in chunks; a missing node has a nil result.
func (r *run) readAll(c *client.Client, paths []string) (map[string]*client.ReadResult, error) {
	out := make(map[string]*client.ReadResult, len(paths))
	for chunk := range slices.Chunk(paths, readChunk) {
		ops := make([]client.ReadOp, len(chunk))
		for i, p := range chunk {
			ops[i] = client.GetDataOp(p)
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		res, err := c.MultiRead(ctx, ops...)
		cancel()
		if err != nil {
			return nil, err
		}
		for i := range res {
			switch {
			case res[i].Err == nil:
				out[chunk[i]] = &res[i]
			case errors.Is(res[i].Err, client.ErrNoNode):
				out[chunk[i]] = nil
			default:
				return nil, fmt.Errorf("read %s: %w", chunk[i], res[i].Err)
			}
		}
	}
	return out, nil
}

// verify runs after a restart: ephemerals first (they are only
// guaranteed to exist for one session timeout), then zxids, nodes,
// deletes and multis.
func (r *run) verify(c *client.Client, launched, ready time.Time) {
	t := r.t
	m := r.m
	m.mu.Lock()
	ephPaths := make([]string, 0, len(m.pending))
	for p := range m.pending {
		ephPaths = append(ephPaths, p)
	}
	m.mu.Unlock()
	slices.Sort(ephPaths)
	if len(ephPaths) > 0 {
		got, err := r.readAll(c, ephPaths)
		if err != nil {
			t.Fatalf("seed %d, cycle %d: read ephemerals: %v", r.seed, r.cycle, err)
		}
		// Sessions are restored no earlier than the launch, each with a
		// full timeout: before launched+ephTimeout every one must exist.
		if time.Since(launched) < ephTimeout {
			for _, p := range ephPaths {
				want := m.pending[p]
				switch n := got[p]; {
				case n == nil && want.mayHaveExpired:
					delete(m.pending, p)
				case n == nil:
					r.failf("acknowledged ephemeral %s (session %#x, created in cycle %d, data %q) is missing right after the restart",
						p, want.owner, want.cycle, want.data)
				case !bytes.Equal(n.Data, want.data) || n.Stat.EphemeralOwner != want.owner:
					r.failf("ephemeral %s: acked data %q owner %#x, found data %q owner %#x",
						p, want.data, want.owner, n.Data, n.Stat.EphemeralOwner)
				}
			}
		} else {
			t.Logf("cycle %d: ephemeral presence not checked: read back %v after launch, past the %v session timeout",
				r.cycle, time.Since(launched).Round(time.Millisecond), ephTimeout)
		}
	}

	// Zxids continue upward.
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	data := fmt.Appendf(nil, "cycle %d", r.cycle)
	st, err := c.Set(ctx, "/crash/zxid", data, -1)
	cancel()
	if err != nil {
		t.Fatalf("seed %d, cycle %d: first write after restart: %v", r.seed, r.cycle, err)
	}
	m.mu.Lock()
	before := m.maxZxid
	m.mu.Unlock()
	if st.Mzxid <= before {
		r.failf("zxids went backwards: the first write after the restart got zxid %#x, an acknowledged write before the kill had %#x",
			st.Mzxid, before)
	}
	m.ackWrite("/crash/zxid", acked{version: st.Version, data: data, mzxid: st.Mzxid, what: "zxid probe"})

	// Acknowledged creates and sets.
	m.mu.Lock()
	paths := make([]string, 0, len(m.nodes)+len(m.deleted))
	for p := range m.nodes {
		paths = append(paths, p)
	}
	for p := range m.deleted {
		paths = append(paths, p)
	}
	m.mu.Unlock()
	slices.Sort(paths)
	got, err := r.readAll(c, paths)
	if err != nil {
		t.Fatalf("seed %d, cycle %d: read nodes: %v", r.seed, r.cycle, err)
	}
	m.mu.Lock()
	lost := 0
	for _, p := range paths {
		n := got[p]
		if what, ok := m.deleted[p]; ok {
			if n != nil {
				r.failf("node %s: acknowledged %s, found it present (version %d, data %q)", p, what, n.Stat.Version, n.Data)
				lost++
			}
			continue
		}
		want := m.nodes[p]
		switch {
		case n == nil:
			r.failf("lost acknowledged write to %s: acked %v, found no node", p, want)
			lost++
		case n.Stat.Version < want.version:
			r.failf("lost acknowledged write to %s: acked %v, found version %d, data %q, mzxid %#x",
				p, want, n.Stat.Version, n.Data, n.Stat.Mzxid)
			lost++
		case n.Stat.Version == want.version && (!bytes.Equal(n.Data, want.data) || n.Stat.Mzxid != want.mzxid):
			r.failf("wrong data at %s: acked %v, found version %d, data %q, mzxid %#x",
				p, want, n.Stat.Version, n.Data, n.Stat.Mzxid)
			lost++
		case want.czxid != 0 && n.Stat.Czxid != want.czxid:
			r.failf("node %s was recreated: acked create had czxid %#x, found czxid %#x", p, want.czxid, n.Stat.Czxid)
			lost++
		}
		if lost >= 20 {
			break
		}
	}
	multis := make([][]multiRec, workers)
	for w := range workers {
		multis[w] = slices.Clone(m.multis[w])
	}
	m.mu.Unlock()
	if lost > 0 {
		return
	}
	r.verifyMultis(c, multis)
}

// verifyMultis checks that each multi is all or nothing and that each
// worker's counter node agrees with the multis present.
func (r *run) verifyMultis(c *client.Client, multis [][]multiRec) {
	var paths []string
	for w := range workers {
		paths = append(paths, msetPath(w))
		for _, mr := range multis[w] {
			paths = append(paths, multiPaths(mr.id)...)
		}
	}
	got, err := r.readAll(c, paths)
	if err != nil {
		r.t.Fatalf("seed %d, cycle %d: read multis: %v", r.seed, r.cycle, err)
	}
	for w := range workers {
		present := 0
		lastID := "init"
		for _, mr := range multis[w] {
			n := 0
			var parts []string
			for _, p := range multiPaths(mr.id) {
				if got[p] != nil {
					n++
					parts = append(parts, p)
					if !bytes.Equal(got[p].Data, []byte(mr.id)) {
						r.failf("multi %s: node %s has data %q, want %q", mr.id, p, got[p].Data, mr.id)
					}
				}
			}
			switch {
			case n != 0 && n != 3:
				r.failf("multi %s (acknowledged: %v) is half applied: only %v exist", mr.id, mr.acked, parts)
			case n == 0 && mr.acked:
				r.failf("lost acknowledged multi %s: none of its nodes exist", mr.id)
			case n == 3:
				present++
				lastID = mr.id
			}
		}
		mset := got[msetPath(w)]
		if mset == nil {
			r.failf("counter node %s is missing", msetPath(w))
			continue
		}
		if int(mset.Stat.Version) != present || string(mset.Data) != lastID {
			r.failf("counter node %s: version %d data %q, but %d of its multis are present, the last %q",
				msetPath(w), mset.Stat.Version, mset.Data, present, lastID)
		}
		r.m.mu.Lock()
		r.m.msetVersion[w] = mset.Stat.Version
		r.m.mu.Unlock()
	}
}

func multiPaths(id string) []string {
	return []string{"/crash/multi/" + id, "/crash/multi/" + id + "-a", "/crash/multi/" + id + "-b"}
}

// awaitExpiry checks that the pending ephemerals (of sessions that died
// with an earlier server) are deleted once their timeout has passed since
// this server started. Without wait it only checks when that time has
// already passed; with wait it waits for it. ctx ends the wait early (the
// kill), leaving the ephemerals pending.
func (r *run) awaitExpiryCtx(ctx context.Context, c *client.Client, ready time.Time, wait bool) {
	r.m.mu.Lock()
	paths := make([]string, 0, len(r.m.pending))
	for p := range r.m.pending {
		paths = append(paths, p)
	}
	r.m.mu.Unlock()
	if len(paths) == 0 {
		return
	}
	slices.Sort(paths)
	due := ready.Add(ephTimeout)
	deadline := due.Add(expirySlack)
	if !wait && time.Now().Before(due) {
		return
	}
	select {
	case <-time.After(time.Until(due)):
	case <-ctx.Done():
		return
	}
	for {
		got, err := r.readAll(c, paths)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.t.Errorf("seed %d, cycle %d: read ephemerals: %v", r.seed, r.cycle, err)
			return
		}
		var left []string
		for _, p := range paths {
			if got[p] != nil {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			r.m.mu.Lock()
			for _, p := range paths {
				delete(r.m.pending, p)
			}
			r.m.mu.Unlock()
			return
		}
		if time.Now().After(deadline) {
			e := r.m.pending[left[0]]
			r.failf("%d ephemerals of sessions that did not come back still exist %v after the restart (session timeout %v), e.g. %s (session %#x, cycle %d)",
				len(left), time.Since(ready).Round(time.Millisecond), ephTimeout, left[0], e.owner, e.cycle)
			return
		}
		select {
		case <-time.After(tickTime):
		case <-ctx.Done():
			return
		}
	}
}

func (r *run) awaitExpiry(c *client.Client, ready time.Time, wait bool) {
	r.awaitExpiryCtx(context.Background(), c, ready, wait)
}

// load runs the workers until the server is killed after d, then closes
// every client of this cycle.
func (r *run) load(srv *harness.Server, checker *client.Client, launched, ready time.Time, d time.Duration, seed int64) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ws := make([]*worker, workers)
	for w := range workers {
		ws[w] = r.newWorker(srv.Addr(), w, rand.New(rand.NewSource(seed+int64(w))))
	}
	for _, wk := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk.loop(ctx)
		}()
	}
	// The checker watches for the pending ephemerals to expire meanwhile.
	// Its context ends before the kill, not after like the workers' (which
	// must keep writing up to the kill), so a read that the kill cuts off
	// is never mistaken for a failure.
	checkCtx, stopCheck := context.WithCancel(context.Background())
	defer stopCheck()
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.awaitExpiryCtx(checkCtx, checker, ready, true)
	}()

	time.Sleep(d) // the random kill moment; everything else waits on conditions
	stopCheck()
	srv.Kill()
	killed := time.Now()
	cancel()
	wg.Wait()

	var closers sync.WaitGroup
	for _, c := range append([]*client.Client{checker}, clientsOf(ws)...) {
		closers.Add(1)
		go func() {
			defer closers.Done()
			c.Close()
		}()
	}
	closers.Wait()

	// The ephemerals of this cycle's sessions are now orphans.
	ops := 0
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if killed.Sub(launched) >= ephTimeout {
		for p, e := range r.m.pending {
			e.mayHaveExpired = true
			r.m.pending[p] = e
		}
	}
	for _, wk := range ws {
		ops += wk.ops
		if wk.expired {
			r.t.Logf("cycle %d: worker %d's ephemeral session expired before the kill; its ephemerals are not tracked", r.cycle, wk.id)
			continue
		}
		for p, e := range wk.ephemerals {
			r.m.pending[p] = e
		}
	}
	r.t.Logf("cycle %d: killed after %v, %d operations acknowledged", r.cycle, d.Round(time.Millisecond), ops)
}

func clientsOf(ws []*worker) []*client.Client {
	var out []*client.Client
	for _, w := range ws {
		out = append(out, w.c, w.ec)
	}
	return out
}

// worker is one writer of a cycle: a main client for persistent nodes
// and multis and a short-timeout client that owns ephemerals.
type worker struct {
	r          *run
	id         int
	c, ec      *client.Client
	rng        *rand.Rand
	mu         sync.Mutex
	expired    bool
	unique     []string // this worker's acked unique nodes, for deletes
	ephemerals map[string]ephRec
	ops        int
}

func (r *run) newWorker(addr string, id int, rng *rand.Rand) *worker {
	wk := &worker{r: r, id: id, rng: rng, ephemerals: map[string]ephRec{}}
	wk.c = r.connect(addr, sessionTimeout, nil)
	wk.ec = r.connect(addr, ephTimeout, func(s client.State) {
		if s == client.StateExpired {
			wk.mu.Lock()
			wk.expired = true
			wk.mu.Unlock()
		}
	})
	return wk
}

func (wk *worker) loop(ctx context.Context) {
	m := wk.r.m
	for ctx.Err() == nil {
		var err error
		switch x := wk.rng.Intn(100); {
		case x < 35:
			err = wk.create(ctx)
		case x < 65:
			err = wk.set(ctx)
		case x < 80:
			err = wk.multi(ctx)
		case x < 90:
			err = wk.ephemeral(ctx)
		default:
			err = wk.delete(ctx)
		}
		if err == nil {
			wk.ops++
			continue
		}
		if ctx.Err() == nil && !errors.Is(err, client.ErrConnectionLoss) {
			// Not a consequence of the kill: zkx refused a write it
			// should have taken.
			m.mu.Lock()
			wk.r.t.Errorf("seed %d, cycle %d: worker %d: %v", wk.r.seed, wk.r.cycle, wk.id, err)
			m.mu.Unlock()
			return
		}
	}
}

func (wk *worker) create(ctx context.Context) error {
	m := wk.r.m
	m.mu.Lock()
	seq := m.uniqueSeq[wk.id]
	m.uniqueSeq[wk.id]++
	m.mu.Unlock()
	p := fmt.Sprintf("/crash/u/w%d-%d", wk.id, seq)
	data := fmt.Appendf(nil, "u w%d #%d cycle %d", wk.id, seq, wk.r.cycle)
	_, st, err := wk.c.Create(ctx, p, data, client.CreateOptions{})
	if err != nil {
		return err
	}
	m.ackWrite(p, acked{version: st.Version, data: data, mzxid: st.Mzxid, czxid: st.Czxid, what: "create"})
	wk.unique = append(wk.unique, p)
	return nil
}

func (wk *worker) set(ctx context.Context) error {
	p := sharedPath(wk.rng.Intn(sharedNodes))
	_, st, err := wk.c.Get(ctx, p)
	if err != nil {
		return err
	}
	wk.r.m.seeZxid(st.Mzxid)
	data := fmt.Appendf(nil, "s w%d v%d cycle %d r%d", wk.id, st.Version+1, wk.r.cycle, wk.rng.Int31())
	st, err = wk.c.Set(ctx, p, data, st.Version)
	if errors.Is(err, client.ErrBadVersion) {
		return nil // another worker got there first
	}
	if err != nil {
		return err
	}
	wk.r.m.ackWrite(p, acked{version: st.Version, data: data, mzxid: st.Mzxid, what: fmt.Sprintf("setData by worker %d", wk.id)})
	return nil
}

func (wk *worker) multi(ctx context.Context) error {
	m := wk.r.m
	m.mu.Lock()
	seq := m.multiSeq[wk.id]
	m.multiSeq[wk.id]++
	id := fmt.Sprintf("w%d-m%d", wk.id, seq)
	version := m.msetVersion[wk.id]
	// Recorded before sending: an unacknowledged multi must be all or
	// nothing too.
	m.multis[wk.id] = append(m.multis[wk.id], multiRec{id: id, seq: seq})
	idx := len(m.multis[wk.id]) - 1
	m.mu.Unlock()

	ps := multiPaths(id)
	res, err := wk.c.Multi(ctx,
		client.CreateOp(ps[0], []byte(id), client.CreateOptions{}),
		client.CreateOp(ps[1], []byte(id), client.CreateOptions{}),
		client.CreateOp(ps[2], []byte(id), client.CreateOptions{}),
		client.SetDataOp(msetPath(wk.id), []byte(id), version),
	)
	if err != nil {
		return err
	}
	st := res[3].Stat
	m.mu.Lock()
	m.multis[wk.id][idx].acked = true
	m.msetVersion[wk.id] = st.Version
	m.maxZxid = max(m.maxZxid, st.Mzxid)
	m.mu.Unlock()
	return nil
}

func (wk *worker) ephemeral(ctx context.Context) error {
	m := wk.r.m
	m.mu.Lock()
	seq := m.uniqueSeq[wk.id]
	m.uniqueSeq[wk.id]++
	m.mu.Unlock()
	p := fmt.Sprintf("/crash/e/w%d-c%d-%d", wk.id, wk.r.cycle, seq)
	data := fmt.Appendf(nil, "e w%d #%d", wk.id, seq)
	_, st, err := wk.ec.Create(ctx, p, data, client.CreateOptions{Mode: client.ModeEphemeral})
	if err != nil {
		return err
	}
	m.seeZxid(st.Czxid)
	wk.mu.Lock()
	wk.ephemerals[p] = ephRec{data: data, owner: st.EphemeralOwner, cycle: wk.r.cycle}
	wk.mu.Unlock()
	return nil
}

func (wk *worker) delete(ctx context.Context) error {
	if len(wk.unique) == 0 {
		return wk.create(ctx)
	}
	i := wk.rng.Intn(len(wk.unique))
	p := wk.unique[i]
	wk.unique = slices.Delete(wk.unique, i, i+1)
	err := wk.c.Delete(ctx, p, -1)
	if err != nil {
		// Unknown outcome: the node is no longer tracked either way.
		wk.r.m.forget(p)
		return err
	}
	wk.r.m.ackDelete(p, fmt.Sprintf("delete by worker %d in cycle %d", wk.id, wk.r.cycle))
	return nil
}
