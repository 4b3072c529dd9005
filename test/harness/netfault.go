package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// NetFault cuts and drops traffic between loopback addresses with
// iptables, for partition tests between processes that each bind their own
// loopback IP (127.0.0.0/8 is all local on Linux, so 127.0.0.11 and
// 127.0.0.12 are two "hosts" of one machine). Rules live in a chain of the
// test's own, jumped to from INPUT and removed with it when the test ends:
// nothing outside that chain is touched, and traffic is only ever dropped,
// never sent anywhere.
//
// NetFault is safe for concurrent use.
type NetFault struct {
	t     testing.TB
	chain string
	mu    sync.Mutex
	rules [][]string
}

// NewNetFault sets up the test's chain. It skips the test when iptables
// cannot be used here (not root, or no iptables): partitions need it.
func NewNetFault(t testing.TB) *NetFault {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network partitions need root for iptables")
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Fatalf("iptables is not installed: %s", InstallHint)
	}
	f := &NetFault{t: t, chain: fmt.Sprintf("ZKXTEST%d", os.Getpid()%1000000)}
	f.run("-N", f.chain)
	f.run("-I", "INPUT", "-j", f.chain)
	t.Cleanup(f.remove)
	return f
}

func (f *NetFault) run(args ...string) {
	f.t.Helper()
	out, err := exec.Command("iptables", append([]string{"-w"}, args...)...).CombinedOutput()
	if err != nil {
		f.t.Fatalf("iptables %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Drop drops every packet from the IP from to the IP to: a one-way
// partition.
func (f *NetFault) Drop(from, to string) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	rule := []string{"-s", from, "-d", to, "-j", "DROP"}
	f.run(append([]string{"-A", f.chain}, rule...)...)
	f.rules = append(f.rules, rule)
}

// Cut drops every packet between a and b, both ways.
func (f *NetFault) Cut(a, b string) {
	f.t.Helper()
	f.Drop(a, b)
	f.Drop(b, a)
}

// Heal removes every rule: traffic flows again.
func (f *NetFault) Heal() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.run("-F", f.chain)
	f.rules = nil
}

func (f *NetFault) remove() {
	for _, args := range [][]string{{"-D", "INPUT", "-j", f.chain}, {"-F", f.chain}, {"-X", f.chain}} {
		if out, err := exec.Command("iptables", append([]string{"-w"}, args...)...).CombinedOutput(); err != nil {
			f.t.Logf("netfault cleanup: iptables %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
