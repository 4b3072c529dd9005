package zkcli

import (
	"bytes"
	"context"
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
quit
`

// wantEvents are the event lines, in order, that the script must print;
// nothing else may be printed for /w or /p.
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
			cmd.Stdin = strings.NewReader(watchScript)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			_ = cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("zkCli.sh did not finish:\n%s", out.String())
			}
			var got []string
			for _, m := range eventLine.FindAllStringSubmatch(out.String(), -1) {
				if strings.HasSuffix(m[1], "path:null") {
					continue // the connection event
				}
				got = append(got, m[1])
			}
			if strings.Join(got, "\n") != strings.Join(wantEvents, "\n") {
				t.Errorf("zkCli printed events\n  %s\nwant\n  %s\nfull output:\n%s",
					strings.Join(got, "\n  "), strings.Join(wantEvents, "\n  "), out.String())
			}
		})
	}
}
