package client

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// DefaultPort is used for a server given without a port.
const DefaultPort = 2181

// parseConnectString splits "host:port,host:port/chroot" into addresses
// and a chroot ("" for none). An address without a port gets DefaultPort.
func parseConnectString(s string) (addrs []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], s[i:]
		if err := znode.ValidatePath(chroot); err != nil {
			return nil, "", fmt.Errorf("client: invalid chroot in %q: %w", s, err)
		}
		if chroot == "/" {
			chroot = ""
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			// No port: a bare host name or a bracketed IPv6 address.
			host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), strconv.Itoa(DefaultPort)
		}
		if host == "" {
			return nil, "", fmt.Errorf("client: empty host in %q: %w", s, znode.ErrBadArguments)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return nil, "", fmt.Errorf("client: bad port in %q: %w", h, znode.ErrBadArguments)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	if len(addrs) == 0 {
		return nil, "", fmt.Errorf("client: no servers in %q: %w", s, znode.ErrBadArguments)
	}
	return addrs, chroot, nil
}

// hostList hands out servers in a shuffled order, reshuffling after each
// full pass, as ZooKeeper's StaticHostProvider does. Not safe for
// concurrent use; only the session goroutine uses it.
type hostList struct {
	addrs []string
	next  int
}

func newHostList(addrs []string) *hostList {
	h := &hostList{addrs: append([]string(nil), addrs...)}
	h.shuffle()
	return h
}

func (h *hostList) shuffle() {
	rand.Shuffle(len(h.addrs), func(i, j int) { h.addrs[i], h.addrs[j] = h.addrs[j], h.addrs[i] })
}

// pick returns the next server and whether it starts a new pass over the
// list (the caller backs off between passes).
func (h *hostList) pick() (addr string, newPass bool) {
	if h.next >= len(h.addrs) {
		h.next = 0
		h.shuffle()
		newPass = true
	}
	addr = h.addrs[h.next]
	h.next++
	return addr, newPass
}
