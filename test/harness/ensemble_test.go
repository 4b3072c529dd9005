package harness

import (
	"fmt"
	"testing"
	"time"
)

// StartEnsemble forms an ensemble that elects one leader; when the leader
// is killed another member leads, and the killed one rejoins on restart.
func TestStartEnsembleElectsAndFailsOver(t *testing.T) {
	SkipIfShort(t)
	e := StartEnsemble(t, EnsembleOptions{Members: 3})
	leader := e.Leader(t, 30*time.Second)
	if len(e.Members()) != 3 || len(e.Followers(t)) != 2 {
		t.Fatalf("members %d, followers %d", len(e.Members()), len(e.Followers(t)))
	}
	e.Kill(leader)
	next := e.Leader(t, 30*time.Second)
	if next == leader {
		t.Fatal("the killed member still leads")
	}
	e.Restart(t, leader)
	e.WaitFor(t, 30*time.Second, func() error {
		if mode := e.Mode(leader); mode != "follower" {
			return fmt.Errorf("restarted member says %q", mode)
		}
		return nil
	})
}
