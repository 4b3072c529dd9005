package failover

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/test/harness"
)

var leaderKills = flag.Int("kills", 20, "leader SIGKILLs in TestNoAcknowledgedWriteLostAcrossLeaderKills (3 under -short)")

func connectZK(t *testing.T, hosts string) *zk.Conn {
	t.Helper()
	c, ev, err := zk.Connect(strings.Split(hosts, ","), 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range ev {
		}
	}()
	t.Cleanup(c.Close)
	return c
}

// Writers create nodes through every member while the leader is SIGKILLed
// and restarted again and again. Every create that was acknowledged must
// be there afterwards, on every member, and once the ensemble is stopped
// every member's data dir must hold the same tree and sessions (zkx dump).
func TestNoAcknowledgedWriteLostAcrossLeaderKills(t *testing.T) {
	kills := *leaderKills
	if testing.Short() {
		kills = min(kills, 3)
	}
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3})
	admin := connectZK(t, e.ConnectString())
	if _, err := admin.Create("/acked", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}

	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		unknown int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var clients []*zk.Conn
	for w := range 4 {
		c := connectZK(t, e.ConnectString())
		clients = append(clients, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/acked/w%d-%06d", w, n)
				_, err := c.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll))
				mu.Lock()
				if err == nil {
					acked[p] = true
				} else {
					unknown++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := range kills {
		leader := e.Leader(t, 30*time.Second)
		time.Sleep(time.Duration(200+rng.Intn(600)) * time.Millisecond)
		e.Kill(leader)
		e.Leader(t, 30*time.Second)
		e.Restart(t, leader)
		mu.Lock()
		t.Logf("kill %d: member %d; %d creates acknowledged so far", i+1, leader.ID, len(acked))
		mu.Unlock()
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, c := range clients {
		c.Close()
	}
	t.Logf("%d leader kills: %d creates acknowledged, %d with an unknown outcome", kills, len(acked), unknown)
	if len(acked) == 0 {
		t.Fatal("no create was acknowledged")
	}

	// Every member has every acknowledged create.
	for _, m := range e.Members() {
		c := connectZK(t, m.ClientAddr)
		if _, err := c.Sync("/acked"); err != nil {
			t.Fatalf("sync on member %d: %v", m.ID, err)
		}
		children, _, err := c.Children("/acked")
		if err != nil {
			t.Fatalf("member %d: %v", m.ID, err)
		}
		have := map[string]bool{}
		for _, ch := range children {
			have["/acked/"+ch] = true
		}
		var lost []string
		for p := range acked {
			if !have[p] {
				lost = append(lost, p)
			}
		}
		sort.Strings(lost)
		if len(lost) > 0 {
			t.Errorf("member %d lost %d acknowledged creates, e.g. %v", m.ID, len(lost), lost[:min(5, len(lost))])
		}
		c.Close()
	}
	admin.Close()

	// Once every member has applied the same zxid, stop them all and
	// compare their data dirs.
	e.StopAndCompareDumps(t, 30*time.Second)
}

// A member's tree storage is a copy of what its raft snapshot and log
// hold: a member whose data dir is gone (or was set aside after damage)
// rebuilds the same tree from raft when it starts.
func TestMemberRebuildsItsTreeFromRaft(t *testing.T) {
	harness.SkipIfShort(t)
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3})
	c := connectZK(t, e.ConnectString())
	for i := range 50 {
		if _, err := c.Create(fmt.Sprintf("/r%02d", i), []byte{byte(i)}, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	victim := e.Followers(t)[0]
	e.Kill(victim)
	if err := os.RemoveAll(victim.DataDir); err != nil {
		t.Fatal(err)
	}
	for i := 50; i < 60; i++ {
		if _, err := c.Create(fmt.Sprintf("/r%02d", i), []byte{byte(i)}, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	e.Restart(t, victim)
	vc := connectZK(t, victim.ClientAddr)
	if _, err := vc.Sync("/"); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		p := fmt.Sprintf("/r%02d", i)
		data, st, err := vc.Get(p)
		if err != nil || len(data) != 1 || data[0] != byte(i) {
			t.Fatalf("rebuilt member: %s = %v, %v", p, data, err)
		}
		_, want, _ := c.Get(p)
		if st.Mzxid != want.Mzxid || st.Ctime != want.Ctime {
			t.Fatalf("rebuilt member: %s Stat %+v, %+v elsewhere", p, st, want)
		}
	}
}

// A 5-member ensemble keeps serving writes with two members down (the
// leader among them), and the two catch up when they come back.
func TestFiveMembersSurviveTwoLosses(t *testing.T) {
	harness.SkipIfShort(t)
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 5})
	c := connectZK(t, e.ConnectString())
	if _, err := c.Create("/five", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	leader := e.Leader(t, 30*time.Second)
	follower := e.Followers(t)[0]
	e.Kill(leader)
	e.Kill(follower)
	next := e.Leader(t, 30*time.Second)
	t.Logf("members %d (leader) and %d killed; member %d leads", leader.ID, follower.ID, next.ID)
	for i := range 20 {
		p := fmt.Sprintf("/five/%02d", i)
		for {
			_, err := c.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
			if err == nil || err == zk.ErrNodeExists {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	e.Restart(t, leader)
	e.Restart(t, follower)
	for _, m := range []*harness.Member{leader, follower} {
		mc := connectZK(t, m.ClientAddr)
		if _, err := mc.Sync("/five"); err != nil {
			t.Fatal(err)
		}
		children, _, err := mc.Children("/five")
		if err != nil || len(children) != 20 {
			t.Fatalf("member %d after its restart: %d children, %v; want the 20 made while it was down", m.ID, len(children), err)
		}
		mc.Close()
	}
	c.Close()
	e.StopAndCompareDumps(t, 30*time.Second)
}
