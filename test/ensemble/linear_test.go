package ensemble

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/test/harness"
	"github.com/zkx-dev/zkx/test/linear"
)

// Flags, after -args: go test ./test/ensemble -args -seed=N -kills=N. (Not environment
// variables: zkx refuses unknown ZKX_* variables, and members inherit the environment.)
var (
	seedFlag  = flag.Int64("seed", 0, "seed of the clients' choices (0: from the clock)")
	killsFlag = flag.Int("kills", 0, "leader kills in TestEnsembleLinearizableAcrossLeaderKills (0: 3, or 2 under -short)")
)

const (
	// numKeys znodes are read and written by every client.
	numKeys = 3
	// checkTimeout bounds porcupine's search.
	checkTimeout = 30 * time.Second
)

func seed(t *testing.T) int64 {
	s := *seedFlag
	if s == 0 {
		s = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with: go test ./test/ensemble -run '%s$' -args -seed=%d)", s, t.Name(), s)
	return s
}

// lclient is one client of a linearizability workload.
type lclient struct {
	id   int
	name string // for the visualization: "c1 m2,m3,m1"
	conn *zk.Conn
}

// workload is the operations clients run on a set of keys.
type workload struct {
	keys []string
	// syncReads makes every read a sync followed by getData.
	syncReads bool
	// maxOps bounds each client's operations.
	maxOps int
}

// createKeys makes the znodes prefix/k0.. with empty data: the model's initial state.
func createKeys(t *testing.T, c *zk.Conn, prefix string) []string {
	t.Helper()
	acl := zk.WorldACL(zk.PermAll)
	if _, err := c.Create(prefix, nil, 0, acl); err != nil {
		t.Fatalf("create %s: %v", prefix, err)
	}
	var keys []string
	for i := range numKeys {
		p := fmt.Sprintf("%s/k%d", prefix, i)
		if _, err := c.Create(p, []byte{}, 0, acl); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
		keys = append(keys, p)
	}
	return keys
}

// awaitKeys makes sure every client's member has applied the keys' creation (a sync there,
// then exists), so that what a workload reads is its own doing: a history found not
// linearizable is then so because of the values read, not because a key was missing.
func awaitKeys(t *testing.T, clients []lclient, keys []string) {
	t.Helper()
	for _, c := range clients {
		for _, k := range keys {
			if _, err := c.conn.Sync(k); err != nil {
				t.Fatalf("%s: sync %s: %v", c.name, k, err)
			}
			if ok, _, err := c.conn.Exists(k); err != nil || !ok {
				t.Fatalf("%s: %s exists = %v, %v after a sync", c.name, k, ok, err)
			}
		}
	}
}

// clientsOn connects one client per host list; name says where each starts.
func clientsOn(t *testing.T, e *harness.Ensemble, hostLists [][]string) []lclient {
	t.Helper()
	ids := map[string]string{}
	for _, m := range e.Members() {
		ids[m.ClientAddr] = fmt.Sprintf("m%d", m.ID)
	}
	var out []lclient
	for i, hosts := range hostLists {
		var order []string
		for _, h := range hosts {
			order = append(order, ids[h])
		}
		name := fmt.Sprintf("c%d %s", i, strings.Join(order, ","))
		out = append(out, lclient{id: i, name: name, conn: connect(t, name, hosts)})
	}
	return out
}

// running is a workload in progress.
type running struct {
	rec  *linear.Recorder
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	done chan struct{} // closed once every client has returned
}

// start runs w on every client, each in a goroutine with its own random source, until
// Finish or each client's maxOps. The clients stop when the test ends, at the latest.
func (w workload) start(t *testing.T, clients []lclient, seed int64) *running {
	r := &running{rec: linear.NewRecorder(), stop: make(chan struct{}), done: make(chan struct{})}
	for _, c := range clients {
		rng := rand.New(rand.NewSource(seed + int64(c.id)))
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			w.client(c, r.rec, rng, r.stop)
		}()
	}
	go func() {
		r.wg.Wait()
		close(r.done)
	}()
	// Registered after the clients' connections: runs before they are closed.
	t.Cleanup(r.Finish)
	return r
}

// awaitDone waits until every client has run its maxOps.
func (r *running) awaitDone(t *testing.T, e *harness.Ensemble) {
	t.Helper()
	e.WaitFor(t, 90*time.Second, func() error {
		select {
		case <-r.done:
			return nil
		default:
			return fmt.Errorf("clients still running (%s)", r.rec.Summary())
		}
	})
}

// Finish stops the clients after their current operation and waits for them.
func (r *running) Finish() {
	r.once.Do(func() { close(r.stop) })
	r.wg.Wait()
}

// client runs one client's operations: half reads, a quarter writes, a quarter CAS with the
// version this client last saw of the key (so some succeed and some are refused).
//
// After a failure the client backs off (20 ms, doubling to 640 ms) and only reads until a
// read succeeds. A member that has not yet noticed the leader's death accepts sessions and
// drops the connection at the first write; a client writing on would pile up operations of
// unknown outcome, each of which the checker must try at every later point of the history
// (the check time grows steeply with them), while a failed read costs it nothing.
func (w workload) client(c lclient, rec *linear.Recorder, rng *rand.Rand, stop <-chan struct{}) {
	seen := map[string]int32{}
	failures := 0 // in a row
	for i := range w.maxOps {
		select {
		case <-stop:
			return
		default:
		}
		key := w.keys[rng.Intn(len(w.keys))]
		value := fmt.Sprintf("c%d-%d", c.id, i)
		var err error
		p := rng.Intn(100)
		if failures > 0 {
			p = 0 // a read
		}
		switch {
		case p < 50:
			err = w.read(c, rec, key, seen)
		case p < 75:
			call := rec.Begin(c.id, linear.Input{Kind: linear.Write, Key: key, Value: value}, c.name)
			var st *zk.Stat
			st, err = c.conn.Set(key, []byte(value), -1)
			endSet(call, st, err, seen, key)
		default:
			in := linear.Input{Kind: linear.CAS, Key: key, Value: value, Expect: seen[key]}
			call := rec.Begin(c.id, in, c.name)
			var st *zk.Stat
			st, err = c.conn.Set(key, []byte(value), in.Expect)
			endSet(call, st, err, seen, key)
		}
		if err == nil || errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) {
			failures = 0
			continue
		}
		failures++
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond << min(failures-1, 5)):
		}
	}
}

// read records a read: sync (with syncReads) then getData. A read that fails is left out,
// except with NoNode, which no state of the model allows.
func (w workload) read(c lclient, rec *linear.Recorder, key string, seen map[string]int32) error {
	call := rec.Begin(c.id, linear.Input{Kind: linear.Read, Key: key}, c.name)
	if w.syncReads {
		if _, err := c.conn.Sync(key); err != nil {
			call.Discard()
			return err
		}
	}
	data, st, err := c.conn.Get(key)
	if errors.Is(err, zk.ErrNoNode) {
		call.Done(linear.Output{NoNode: true}) // the keys always exist: the model refuses it
		return nil
	}
	if err != nil {
		call.Discard()
		return err
	}
	seen[key] = st.Version
	call.Done(linear.Output{Value: string(data), Version: st.Version})
	return nil
}

// endSet records the outcome of a setData: known on success, BadVersion or NoNode; nothing for a
// request go-zookeeper never sent (ErrNoServer: it was flushed from its send queue while no
// member could be reached); unknown otherwise (the request may have been applied).
func endSet(call *linear.Call, st *zk.Stat, err error, seen map[string]int32, key string) {
	switch {
	case err == nil:
		seen[key] = st.Version
		call.Done(linear.Output{Version: st.Version})
	case errors.Is(err, zk.ErrBadVersion):
		call.Done(linear.Output{BadVersion: true})
	case errors.Is(err, zk.ErrNoNode):
		call.Done(linear.Output{NoNode: true}) // the keys always exist: the model refuses it
	case errors.Is(err, zk.ErrNoServer):
		call.Discard()
	default:
		call.Unknown(err)
	}
}

// awaitKnown waits until the clients have completed n operations with a known outcome.
func awaitKnown(t *testing.T, e *harness.Ensemble, r *running, n int) {
	t.Helper()
	e.WaitFor(t, 90*time.Second, func() error {
		if k := r.rec.Known(); k < n {
			return fmt.Errorf("%d of %d operations completed (%s)", k, n, r.rec.Summary())
		}
		return nil
	})
}

// Reads after sync, writes and CAS from four clients stay linearizable while the leader is
// SIGKILLed and restarted, each time the clients have completed another batch.
func TestEnsembleLinearizableAcrossLeaderKills(t *testing.T) {
	kills, batch, maxOps := 3, 150, 600
	if testing.Short() {
		kills, batch, maxOps = 2, 100, 400
	}
	if *killsFlag > 0 {
		kills = *killsFlag
	}
	s := seed(t)
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3, TickTime: tickTime})
	members := e.Members()
	// Clients 0-2 start on members 1-3 and move to the others in turn; client 3 takes the
	// connect string in a random order.
	var hosts [][]string
	for i := range members {
		hosts = append(hosts, hostsFrom(e, members[i]))
	}
	hosts = append(hosts, shuffled(e, rand.New(rand.NewSource(s))))
	clients := clientsOn(t, e, hosts)
	w := workload{keys: createKeys(t, clients[0].conn, "/lin-kills"), syncReads: true, maxOps: maxOps}
	awaitKeys(t, clients, w.keys)

	r := w.start(t, clients, s)
	var killed []string
	for k := range kills {
		awaitKnown(t, e, r, (k+1)*batch)
		l := e.Leader(t, waitTimeout)
		e.Kill(l)
		next := e.Leader(t, waitTimeout)
		killed = append(killed, fmt.Sprintf("m%d (then m%d led)", l.ID, next.ID))
		e.Restart(t, l)
	}
	awaitKnown(t, e, r, (kills+1)*batch)
	r.Finish()
	t.Logf("killed leaders: %s", strings.Join(killed, ", "))
	t.Logf("operations: %s", r.rec.Summary())

	switch res := linear.CheckHistory(t, "leader-kills", r.rec.History(), checkTimeout); res {
	case linear.Linearizable:
	case linear.Inconclusive:
		t.Fatalf("the checker gave up after %v: no verdict", checkTimeout)
	default:
		t.Fatalf("reads after sync, writes and CAS across %d leader kills are %s", kills, res)
	}
}

// The checker can fail: with followers applying 50 ms late (a planted bug, debug.apply_delay)
// and reads without sync, follower reads are stale and the history must be found NOT
// linearizable. With sync before reads the same lag stays linearizable.
func TestEnsembleCheckerCatchesStaleReads(t *testing.T) {
	maxOps := 100
	if testing.Short() {
		maxOps = 60
	}
	s := seed(t)
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3, TickTime: tickTime, ApplyDelay: 50 * time.Millisecond})
	leader := e.Leader(t, waitTimeout)
	var followers []*harness.Member
	for _, m := range e.Members() {
		if m != leader {
			followers = append(followers, m)
		}
	}
	// The leader applies at once, so a write acknowledged to the client on it is read stale
	// on the followers for 50 ms; no kills, so the clients stay where they are.
	hosts := [][]string{{leader.ClientAddr}, {followers[0].ClientAddr}, {followers[1].ClientAddr}, {followers[0].ClientAddr}}
	clients := clientsOn(t, e, hosts)

	for _, tc := range []struct {
		name      string
		syncReads bool
		want      string
	}{
		{"without sync", false, string(linear.NotLinearizable)},
		{"with sync", true, string(linear.Linearizable)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := "/lin-stale"
			if tc.syncReads {
				prefix = "/lin-synced"
			}
			w := workload{keys: createKeys(t, clients[0].conn, prefix), syncReads: tc.syncReads, maxOps: maxOps}
			awaitKeys(t, clients, w.keys)
			r := w.start(t, clients, s)
			r.awaitDone(t, e)
			t.Logf("operations: %s", r.rec.Summary())
			res := linear.CheckHistory(t, strings.ReplaceAll(t.Name(), "/", "-"), r.rec.History(), checkTimeout)
			if string(res) != tc.want {
				if tc.syncReads {
					t.Fatalf("reads after sync with followers lagging 50 ms checked as %s, want %s", res, tc.want)
				}
				t.Fatalf("stale follower reads without sync checked as %s, want %s: the checker misses a planted bug", res, tc.want)
			}
		})
	}
}
