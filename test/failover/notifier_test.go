package failover

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/test/harness"
)

// Notifier plugins run on the leader only and resume, on the next leader,
// from the position the old one replicated: across two leader SIGKILLs
// every event reaches the plugins, each member's plugin delivers in zxid
// order, and what was acknowledged and replicated before a kill is not
// sent again (only the events of the last moments before a kill may come
// twice: at least once).
func TestNotifierDeliveryFollowsTheLeader(t *testing.T) {
	harness.SkipIfShort(t)
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plugin := filepath.Join(dir, "zkx-notifier-log")
	build := exec.Command("go", "build", "-o", plugin, "./plugins/log")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the log plugin: %v\n%s", err, out)
	}
	out := func(id int) string { return filepath.Join(dir, fmt.Sprintf("events-%d.jsonl", id)) }
	e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3, ExtraFor: func(m *harness.Member) string {
		return fmt.Sprintf("notifiers:\n  - name: audit\n    command: %q\n    args: [\"--out\", %q]\n    paths: [\"/n\"]\n    events: [created]\n",
			plugin, out(m.ID))
	}})
	c := connectZK(t, e.ConnectString())
	if _, err := c.Create("/n", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	const total = 90
	create := func(i int) {
		p := fmt.Sprintf("/n/%03d", i)
		for {
			_, err := c.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
			if err == nil || err == zk.ErrNodeExists {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// ackedAt reads member m's stored position of the plugin.
	ackedAt := func(m *harness.Member) int64 {
		b, err := os.ReadFile(filepath.Join(m.DataDir, "notifiers", "audit.ack"))
		if err != nil {
			return 0
		}
		var rec struct {
			Zxid int64 `json:"zxid"`
		}
		json.Unmarshal(b, &rec)
		return rec.Zxid
	}
	var firstKillPos int64
	for i := range total {
		create(i)
		time.Sleep(30 * time.Millisecond)
		if i == total/3 || i == 2*total/3 {
			leader := e.Leader(t, 30*time.Second)
			if i == total/3 {
				// Wait until the plugin has acknowledged every create so
				// far and the leader has replicated that position to the
				// other members: the next leader must not send those again.
				ok, st, err := c.Exists(fmt.Sprintf("/n/%03d", i))
				if err != nil || !ok {
					t.Fatalf("exists: %v %v", ok, err)
				}
				e.WaitFor(t, 30*time.Second, func() error {
					for _, m := range e.Members() {
						if m != leader && ackedAt(m) < st.Czxid {
							return fmt.Errorf("member %d holds position %#x, want %#x", m.ID, ackedAt(m), st.Czxid)
						}
					}
					return nil
				})
				firstKillPos = st.Czxid
			}
			e.Kill(leader)
			e.Leader(t, 30*time.Second)
			e.Restart(t, leader)
		}
	}

	type event struct {
		Type string `json:"type"`
		Path string `json:"path"`
		Zxid int64  `json:"zxid"`
	}
	var delivered map[string]int
	var perMember map[int]int
	var beforeFirstKill map[string]int
	e.WaitFor(t, 60*time.Second, func() error {
		delivered, perMember, beforeFirstKill = map[string]int{}, map[int]int{}, map[string]int{}
		for _, m := range e.Members() {
			f, err := os.Open(out(m.ID))
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return err
			}
			var last int64
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var ev event
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					f.Close()
					return fmt.Errorf("member %d wrote %q: %v", m.ID, sc.Text(), err)
				}
				if ev.Zxid < last {
					t.Errorf("member %d's plugin got zxid %#x after %#x: out of order", m.ID, ev.Zxid, last)
				}
				last = ev.Zxid
				if ev.Type == "created" && strings.HasPrefix(ev.Path, "/n/") {
					delivered[ev.Path]++
					perMember[m.ID]++
					if ev.Zxid <= firstKillPos {
						beforeFirstKill[ev.Path]++
					}
				}
			}
			f.Close()
		}
		if len(delivered) < total {
			return fmt.Errorf("%d of %d creates delivered so far", len(delivered), total)
		}
		return nil
	})
	dups := 0
	for _, n := range delivered {
		dups += n - 1
	}
	t.Logf("%d creates delivered by members %v (events per member), %d delivered twice", len(delivered), perMember, dups)
	if len(perMember) < 2 {
		t.Errorf("one member delivered everything (%v): delivery did not move with the leader", perMember)
	}
	for p, n := range beforeFirstKill {
		if n != 1 {
			t.Errorf("%s, acknowledged and replicated before the first kill, was delivered %d times: the next leader did not resume from the replicated position", p, n)
		}
	}
	if len(beforeFirstKill) != total/3+1 {
		t.Errorf("%d creates at or before the first kill's position were delivered, want %d", len(beforeFirstKill), total/3+1)
	}
}
