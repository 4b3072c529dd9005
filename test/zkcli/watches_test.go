package zkcli

import (
	"context"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/test/harness"
)

// watchScript uses zkCli's addWatch (default mode PERSISTENT_RECURSIVE)
// and removewatches. zkCli's default watcher prints each event as
// "WatchedEvent state:SyncConnected type:T path:P".
const watchScript = `create /w
addWatch /w
create /w/a x
set /w/a y
create /wx sibling
delete /w/a
addWatch -m PERSISTENT /p
create /p
create /p/c
set /p/c z
set /p q
removewatches /w -a
create /w/b after-removal
delete /p/c
`

// wantEvents are the event lines, in order, that the script must print;
// nothing else may be printed for /w or /p. zkCli prints events from its
// event thread while the main thread goes on with the script, and "quit"
// exits the JVM without waiting for that thread: the test sends "quit"
// only once the events are out (or after a deadline).
var wantEvents = []string{
	"type:NodeCreated path:/w/a",
	"type:NodeDataChanged path:/w/a",
	"type:NodeDeleted path:/w/a",
	"type:NodeCreated path:/p",
	"type:NodeChildrenChanged path:/p",
	"type:NodeDataChanged path:/p",
	"type:PersistentWatchRemoved path:/w",
	"type:NodeChildrenChanged path:/p",
}

var eventLine = regexp.MustCompile(`WatchedEvent state:SyncConnected (type:\w+ path:\S+)`)

// nodeEvents returns the event lines zkCli printed so far, without the
// connection event.
func nodeEvents(out string) []string {
	var got []string
	for _, m := range eventLine.FindAllStringSubmatch(out, -1) {
		if strings.HasSuffix(m[1], "path:null") {
			continue // the connection event
		}
		got = append(got, m[1])
	}
	return got
}

// TestZkCliPersistentWatches drives zkCli's addWatch and removewatches
// against zkx and against Apache ZooKeeper.
func TestZkCliPersistentWatches(t *testing.T) {
	harness.SkipIfShort(t)
	harness.RequireZkCli(t)
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) *harness.Server
	}{
		{"zkx", func(t *testing.T) *harness.Server { return harness.StartZkx(t, harness.ZkxOptions{}) }},
		{"zookeeper", func(t *testing.T) *harness.Server { return harness.StartZooKeeper(t, harness.ZooKeeperOptions{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, harness.ZkCli, "-server", srv.Addr())
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var out harness.SyncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			io.WriteString(stdin, watchScript)
			deadline := time.Now().Add(30 * time.Second)
			for len(nodeEvents(out.String())) < len(wantEvents) && time.Now().Before(deadline) && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
			io.WriteString(stdin, "quit\n")
			stdin.Close()
			_ = cmd.Wait()
			if ctx.Err() != nil {
				t.Fatalf("zkCli.sh did not finish:\n%s", out.String())
			}
			got := nodeEvents(out.String())
			if strings.Join(got, "\n") != strings.Join(wantEvents, "\n") {
				t.Errorf("zkCli printed events\n  %s\nwant\n  %s\nfull output:\n%s",
					strings.Join(got, "\n  "), strings.Join(wantEvents, "\n  "), out.String())
			}
		})
	}
}
