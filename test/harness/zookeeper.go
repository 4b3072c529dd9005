package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ZooKeeperOptions configures StartZooKeeper. The zero value is a usable default.
type ZooKeeperOptions struct {
	// TickTime is ZooKeeper's tick; sessions may last 2..20 ticks. Default 200 ms, so the
	// minimum session timeout is 400 ms and expiry tests stay short.
	TickTime time.Duration
	// ExtendedTypes enables TTL nodes (-Dzookeeper.extendedTypesEnabled=true).
	ExtendedTypes bool
	// Config holds extra zoo.cfg lines (key -> value), e.g. "maxSessionTimeout".
	Config map[string]string
	// JVMFlags are extra java arguments placed before the main class (e.g. -D properties).
	JVMFlags []string
	// StartTimeout bounds the wait for readiness. Default 60 s (a cold JVM on a busy 2-core
	// machine can take several seconds).
	StartTimeout time.Duration
}

// StartZooKeeper starts a standalone Apache ZooKeeper 3.8 server (Debian's package) on a free
// loopback port with a fresh data directory, and waits until it answers the srvr four-letter
// word. The server is killed when the test ends. Missing packages fail the test.
func StartZooKeeper(t testing.TB, opts ZooKeeperOptions) *Server {
	t.Helper()
	RequireZooKeeper(t)
	if opts.TickTime <= 0 {
		opts.TickTime = 200 * time.Millisecond
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	java, _ := javaPath()
	base := t.TempDir()

	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		dir := filepath.Join(base, fmt.Sprintf("zookeeper-%d", attempt))
		s, err := startZooKeeperOnce(java, dir, opts)
		if err == nil {
			registerCleanup(t, s)
			return s
		}
		lastErr = err
		if s != nil {
			s.Kill()
			// A port taken between FreePort and bind is worth another try; anything else
			// is reported at once.
			if !strings.Contains(s.LogTail(200), "Address already in use") {
				t.Fatalf("harness: %v\nlast lines of %s:\n%s", err, s.LogPath(), s.LogTail(60))
			}
		}
	}
	t.Fatalf("harness: could not start ZooKeeper: %v", lastErr)
	return nil
}

func startZooKeeperOnce(java, dir string, opts ZooKeeperOptions) (*Server, error) {
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := map[string]string{
		"tickTime":                strconv.FormatInt(opts.TickTime.Milliseconds(), 10),
		"dataDir":                 dataDir,
		"clientPort":              strconv.Itoa(port),
		"clientPortAddress":       "127.0.0.1",
		"4lw.commands.whitelist":  "*",
		"admin.enableServer":      "false",
		"maxClientCnxns":          "0",
		"autopurge.purgeInterval": "0",
	}
	for k, v := range opts.Config {
		cfg[k] = v
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, cfg[k])
	}
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}

	args := []string{
		"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.net.preferIPv4Stack=true",
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.4lw.commands.whitelist=*",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
	}
	if opts.ExtendedTypes {
		args = append(args, "-Dzookeeper.extendedTypesEnabled=true")
	}
	args = append(args, opts.JVMFlags...)
	// zookeeper.jar's manifest lists its dependencies; slf4j-simple sends the log to stderr.
	args = append(args,
		"-cp", ZooKeeperJar+":"+filepath.Join(JavaDir, "slf4j-simple.jar"),
		"org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)

	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s, err := startProcess("zookeeper", addr, filepath.Join(dir, "zookeeper.log"), cmd)
	if err != nil {
		return nil, err
	}
	err = s.awaitReady(opts.StartTimeout, func() error {
		if err := s.ownsPort(); err != nil {
			return err
		}
		out, err := FourLetterWord(addr, "srvr", 2*time.Second)
		if err != nil {
			return err
		}
		if !strings.Contains(out, "Mode: standalone") {
			return fmt.Errorf("srvr answered %q", out)
		}
		return nil
	})
	if err != nil {
		return s, err
	}
	return s, nil
}
