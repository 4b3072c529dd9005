package diff

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/zkx-dev/zkx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// selfCheckEnv, when "1", runs the scenarios against two Apache ZooKeeper servers instead of
// ZooKeeper and zkx. It checks that the scenarios and the normalisation are deterministic; it
// says so loudly and never replaces the real comparison silently.
const selfCheckEnv = "ZKX_DIFF_SELFCHECK"

// scenario is one differential case: it drives clients through an Env and everything they
// observe ends up in the Env's transcript.
type scenario struct {
	name string
	run  func(e *Env)
}

// TestDifferential runs every scenario against Apache ZooKeeper and against zkx and requires
// identical normalised transcripts.
func TestDifferential(t *testing.T) {
	harness.SkipIfShort(t)
	ref := harness.StartZooKeeper(t, harness.ZooKeeperOptions{})
	var target *harness.Server
	if os.Getenv(selfCheckEnv) == "1" {
		t.Logf("*** %s=1: comparing ZooKeeper with a SECOND ZooKeeper, zkx is NOT tested ***", selfCheckEnv)
		target = harness.StartZooKeeper(t, harness.ZooKeeperOptions{})
	} else {
		target = harness.StartZkx(t, harness.ZkxOptions{})
	}

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			want := runScenario(t, ref, sc)
			got := runScenario(t, target, sc)
			if testing.Verbose() {
				t.Logf("ZooKeeper transcript:\n%s", strings.Join(want, "\n"))
			}
			if d := UnifiedDiff("zookeeper", target.Kind(), want, got, 3); d != "" {
				t.Errorf("transcripts differ (- what ZooKeeper clients observed, + what %s clients observed):\n%s",
					target.Kind(), d)
				t.Logf("full ZooKeeper transcript:\n%s", strings.Join(want, "\n"))
			}
		})
	}
}

// runScenario runs sc against srv and returns the normalised transcript.
func runScenario(t *testing.T, srv *harness.Server, sc scenario) []string {
	t.Helper()
	e := &Env{
		Addr: srv.Addr(),
		Root: "/" + sc.name,
		Tx:   &Transcript{},
		Log:  &SyncBuffer{},
	}
	e.Fatalf = func(format string, args ...any) {
		t.Helper()
		t.Fatalf("against %s: %s\ntranscript so far:\n%s\nclient log:\n%s", srv.Kind(),
			fmt.Sprintf(format, args...), strings.Join(e.Tx.Lines(), "\n"), e.Log.String())
	}
	defer e.CloseAll()
	sc.run(e)
	if t.Failed() {
		t.Logf("client log against %s:\n%s", srv.Kind(), e.Log.String())
	}
	return Normalize(e.Tx.Lines())
}
