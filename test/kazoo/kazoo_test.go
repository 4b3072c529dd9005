package kazoo

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// TestKazooRecipes runs recipes.py against both servers; the script prints one "ok:" line per
// check and exits non-zero with a "FAIL:" line on the first failure.
func TestKazooRecipes(t *testing.T) {
	harness.SkipIfShort(t)
	harness.RequireKazoo(t)
	targets := []struct {
		name  string
		start func(t *testing.T) *harness.Server
	}{
		{"zookeeper", func(t *testing.T) *harness.Server {
			return harness.StartZooKeeper(t, harness.ZooKeeperOptions{})
		}},
		{"zkx", func(t *testing.T) *harness.Server { return harness.StartZkx(t, harness.ZkxOptions{}) }},
	}
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, harness.SystemPython, "recipes.py", srv.Addr())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("recipes.py against %s failed (%v):\n%s", tc.name, err, out)
			}
			if !strings.Contains(string(out), "all kazoo recipe checks passed") {
				t.Fatalf("recipes.py against %s did not finish:\n%s", tc.name, out)
			}
			t.Logf("recipes.py against %s:\n%s", tc.name, out)
		})
	}
}
