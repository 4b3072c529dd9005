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
// order, and only the events of the last moments before a kill come twice.
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
	for i := range total {
		create(i)
		time.Sleep(30 * time.Millisecond)
		if i == total/3 || i == 2*total/3 {
			leader := e.Leader(t, 30*time.Second)
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
	e.WaitFor(t, 60*time.Second, func() error {
		delivered, perMember = map[string]int{}, map[int]int{}
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
	if dups > total/2 {
		t.Errorf("%d of %d events delivered twice: the next leader did not resume from the replicated position", dups, total)
	}
}
