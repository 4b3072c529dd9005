package zkcli

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zkx-dev/zkx/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// step is one zkCli command and what its output must show.
type step struct {
	cmd string
	// want are regular expressions, each of which must match the command's output.
	want []string
	// reject are regular expressions none of which may match.
	reject []string
}

// The digest of alice:secret as zkCli prints it (base64 of SHA-1 of "alice:secret").
const aliceDigest = `'digest,'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=`

// firstSession runs in one JVM: plain CRUD, ls -R, ephemeral and sequential creates, errors,
// ACLs and digest auth.
var firstSession = []step{
	{cmd: "create /zkcli hello", want: []string{`^Created /zkcli$`}},
	{cmd: "get /zkcli", want: []string{`^hello$`}},
	{cmd: "set /zkcli world"},
	{cmd: "get /zkcli", want: []string{`^world$`}},
	{cmd: "stat /zkcli", want: []string{`^dataVersion = 1$`, `^numChildren = 0$`, `^ephemeralOwner = 0x0$`,
		`^dataLength = 5$`, `^cZxid = 0x[0-9a-f]+$`, `^ctime = \w{3} \w{3} `}},
	{cmd: "create /zkcli hello", want: []string{`^Node already exists: /zkcli$`}},
	{cmd: "create /zkcli/a 1", want: []string{`^Created /zkcli/a$`}},
	{cmd: "create /zkcli/a/b 2", want: []string{`^Created /zkcli/a/b$`}},
	{cmd: "create /zkcli/c 3", want: []string{`^Created /zkcli/c$`}},
	{cmd: "ls /zkcli", want: []string{`^\[a, c\]$`}},
	{cmd: "ls -R /zkcli", want: []string{`(?s)^/zkcli\n/zkcli/a\n/zkcli/c\n/zkcli/a/b$`}},
	{cmd: "delete /zkcli/a", want: []string{`^Node not empty: /zkcli/a$`}},
	{cmd: "get /zkcli/missing", want: []string{`^Node does not exist: /zkcli/missing$`}},
	{cmd: "create -e /zkcli/eph x", want: []string{`^Created /zkcli/eph$`}},
	{cmd: "stat /zkcli/eph", want: []string{`^ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*$`}},
	{cmd: "create /zkcli/eph/kid x", want: []string{`(?i)ephemeral`}, reject: []string{`^Created`}},
	{cmd: "create -s /zkcli/seq- x", want: []string{`^Created /zkcli/seq-0000000003$`}},
	{cmd: "create -s -e /zkcli/eseq- x", want: []string{`^Created /zkcli/eseq-0000000004$`}},
	{cmd: "deleteall /zkcli/a"},
	{cmd: "ls /zkcli", want: []string{`^\[c, eph, eseq-0000000004, seq-0000000003\]$`}},
	{cmd: "delete /zkcli/c"},
	{cmd: "getAcl /zkcli", want: []string{`(?s)^'world,'anyone\n: cdrwa$`}},
	{cmd: "create /zkcli/ro r"},
	{cmd: "setAcl /zkcli/ro world:anyone:r"},
	{cmd: "getAcl /zkcli/ro", want: []string{`(?s)^'world,'anyone\n: r$`}},
	{cmd: "set /zkcli/ro x", want: []string{`^Insufficient permission : /zkcli/ro$`}},
	{cmd: "addauth digest alice:secret"},
	{cmd: "create /zkcli/secure s", want: []string{`^Created /zkcli/secure$`}},
	{cmd: "setAcl /zkcli/secure auth:alice:secret:cdrwa"},
	{cmd: "getAcl /zkcli/secure", want: []string{`(?s)^` + regexp.QuoteMeta(aliceDigest) + `\n: cdrwa$`}},
	{cmd: "get /zkcli/secure", want: []string{`^s$`}},
}

// secondSession is a new JVM and session: the first session's ephemerals are gone and the
// digest-protected node is closed to it until it authenticates.
var secondSession = []step{
	{cmd: "ls /zkcli", want: []string{`^\[ro, secure, seq-0000000003\]$`}},
	{cmd: "get /zkcli/secure", want: []string{`^Insufficient permission : /zkcli/secure$`}},
	{cmd: "getAcl /zkcli/secure", want: []string{`^Insufficient permission : /zkcli/secure$`}},
	{cmd: "addauth digest alice:wrong"},
	{cmd: "get /zkcli/secure", want: []string{`^Insufficient permission : /zkcli/secure$`}},
	{cmd: "addauth digest alice:secret"},
	{cmd: "get /zkcli/secure", want: []string{`^s$`}},
	{cmd: "deleteall /zkcli"},
	{cmd: "ls /zkcli", want: []string{`^Node does not exist: /zkcli$`}},
	{cmd: "ls /", want: []string{`^\[zookeeper\]$`}},
}

// TestZkCli drives Apache ZooKeeper's zkCli.sh against zkx, and against ZooKeeper itself so
// the expectations are known to be right. Each session is one JVM fed commands on stdin.
func TestZkCli(t *testing.T) {
	harness.SkipIfShort(t)
	harness.RequireZkCli(t)
	targets := []struct {
		name  string
		start func(t *testing.T) *harness.Server
	}{
		{"zkx", func(t *testing.T) *harness.Server { return harness.StartZkx(t, harness.ZkxOptions{}) }},
		{"zookeeper", func(t *testing.T) *harness.Server {
			return harness.StartZooKeeper(t, harness.ZooKeeperOptions{})
		}},
	}
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			runSession(t, srv.Addr(), "first session", firstSession)
			runSession(t, srv.Addr(), "second session", secondSession)
		})
	}
}

// markerPrefix names a node that never exists: "ls <marker>" between two commands makes
// zkCli print "Node does not exist: <marker>", which splits the output per command.
const markerPrefix = "/zkcli-test-marker-"

func runSession(t *testing.T, addr, name string, steps []step) {
	t.Helper()
	var script strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&script, "ls %s%d\n%s\n", markerPrefix, i, s.cmd)
	}
	fmt.Fprintf(&script, "ls %s%d\nquit\n", markerPrefix, len(steps))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness.ZkCli, "-server", addr)
	cmd.Stdin = strings.NewReader(script.String())
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out // the same writer: one pipe, so stdout and stderr lines keep their order
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s: zkCli.sh did not finish: %v\n%s", name, ctx.Err(), out.String())
	}
	// zkCli exits non-zero when its last command failed; the markers make that normal.
	_ = err

	outputs, err := splitByMarkers(out.String(), len(steps))
	if err != nil {
		t.Fatalf("%s: %v\nscript:\n%s\noutput:\n%s", name, err, script.String(), out.String())
	}
	for i, s := range steps {
		got := outputs[i]
		for _, w := range s.want {
			if !regexp.MustCompile("(?m)" + w).MatchString(got) {
				t.Errorf("%s: %q printed:\n%s\nwant a match for %s", name, s.cmd, indent(got), w)
			}
		}
		for _, r := range s.reject {
			if regexp.MustCompile("(?m)" + r).MatchString(got) {
				t.Errorf("%s: %q printed:\n%s\nwant no match for %s", name, s.cmd, indent(got), r)
			}
		}
	}
}

// splitByMarkers returns the output of each of n commands: the text between marker i and
// marker i+1.
func splitByMarkers(out string, n int) ([]string, error) {
	res := make([]string, n)
	rest := out
	for i := 0; i <= n; i++ {
		m := fmt.Sprintf("Node does not exist: %s%d\n", markerPrefix, i)
		idx := strings.Index(rest, m)
		if idx < 0 {
			return nil, fmt.Errorf("marker %d not in zkCli output (did the session die?)", i)
		}
		if i > 0 {
			res[i-1] = strings.TrimSpace(stripNoise(rest[:idx]))
		}
		rest = rest[idx+len(m):]
	}
	return res, nil
}

// stripNoise drops zkCli's watcher banners and SLF4J warnings, which can appear anywhere.
func stripNoise(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "SLF4J:") || l == "WATCHER::" || strings.HasPrefix(l, "WatchedEvent state:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
