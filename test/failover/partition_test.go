package failover

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkx-dev/zkx/test/harness"
)

// A leader cut off from the other members by the network (iptables, both
// ways, or only its outgoing traffic) stops leading and serving, and a
// SIGSTOPped one is replaced; the
// others elect a new leader and go on taking writes; once the network
// heals, the old leader rejoins as a follower and holds every write
// acknowledged meanwhile.
func TestPartitionedLeaderStepsDownAndRejoins(t *testing.T) {
	harness.SkipIfShort(t)
	for _, mode := range []string{"cut", "one-way", "paused"} {
		t.Run(mode, func(t *testing.T) {
			var nf *harness.NetFault
			if mode != "paused" {
				nf = harness.NewNetFault(t)
			}
			e := harness.StartEnsemble(t, harness.EnsembleOptions{Members: 3})
			old := e.Leader(t, 30*time.Second)
			// The writer uses the members that stay in the majority: how
			// fast a client notices that its own member went silent is the
			// client library's business (the failover tests cover it).
			var majority []string
			for _, m := range e.Members() {
				if m != old {
					majority = append(majority, m.ClientAddr)
				}
			}
			c := connectZK(t, strings.Join(majority, ","))
			if _, err := c.Create("/p", []byte("before"), 0, zk.WorldACL(zk.PermAll)); err != nil {
				t.Fatal(err)
			}
			for _, m := range e.Members() {
				switch {
				case m == old:
				case mode == "cut":
					nf.Cut(old.IP, m.IP)
				case mode == "one-way":
					nf.Drop(old.IP, m.IP)
				}
			}
			if mode == "paused" {
				e.Pause(old) // SIGSTOP: silent to the others, serving no one
			}
			cutAt := time.Now()
			var next *harness.Member
			e.WaitFor(t, 30*time.Second, func() error {
				if mode := e.Mode(old); mode == "leader" {
					return fmt.Errorf("the cut-off member still says it leads")
				}
				for _, m := range e.Members() {
					if m != old && e.Mode(m) == "leader" {
						next = m
						return nil
					}
				}
				return fmt.Errorf("no new leader on the majority side")
			})
			t.Logf("%s: member %d stopped leading and member %d leads %v after the partition", mode, old.ID, next.ID, time.Since(cutAt).Round(time.Millisecond))
			if mode != "paused" {
				if ro, err := harness.FourLetterWord(old.ClientAddr, "isro", time.Second); err != nil || ro != "ro" {
					t.Errorf("isro on the cut-off member = %q, %v; want ro", ro, err)
				}
			}
			// Writes go on through the majority.
			var acked []string
			for i := range 20 {
				p := fmt.Sprintf("/p/%02d", i)
				for {
					_, err := c.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
					if err == nil || err == zk.ErrNodeExists {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				acked = append(acked, p)
			}
			if mode == "paused" {
				e.Resume(old)
			} else {
				nf.Heal()
			}
			e.WaitFor(t, 30*time.Second, func() error {
				if mode := e.Mode(old); mode != "follower" {
					return fmt.Errorf("healed member says %q", mode)
				}
				return nil
			})
			oc := connectZK(t, old.ClientAddr)
			if _, err := oc.Sync("/p"); err != nil {
				t.Fatal(err)
			}
			children, _, err := oc.Children("/p")
			if err != nil {
				t.Fatal(err)
			}
			if len(children) != len(acked) {
				t.Fatalf("healed member has %d of the %d writes made during the partition: %s", len(children), len(acked), strings.Join(children, ","))
			}
		})
	}
}
