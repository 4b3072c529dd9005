package ensemble

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// The first byte of a connection to a raft address says what it carries.
const (
	muxRaft    = 'R'
	muxForward = 'F'
	muxAdmin   = 'M' // one membership request (members.go)
)

// mux is the listener on a member's raft address. It hands raft's
// connections to raft's transport and forwarding streams to the node.
type mux struct {
	ln      net.Listener
	log     *slog.Logger
	raftCh  chan net.Conn
	forward func(net.Conn)
	admin   func(net.Conn)
	done    chan struct{}
	once    sync.Once
}

func listenMux(addr string, log *slog.Logger, forward, admin func(net.Conn)) (*mux, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &mux{ln: ln, log: log, raftCh: make(chan net.Conn), forward: forward, admin: admin, done: make(chan struct{})}
	go m.acceptLoop()
	return m, nil
}

func (m *mux) acceptLoop() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.log.Warn("raft listener: accept failed", "err", err)
			select {
			case <-m.done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		go m.route(c)
	}
}

func (m *mux) route(c net.Conn) {
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	switch b[0] {
	case muxRaft:
		select {
		case m.raftCh <- c:
		case <-m.done:
			c.Close()
		}
	case muxForward:
		m.forward(c)
	case muxAdmin:
		m.admin(c)
	default:
		m.log.Warn("raft listener: unknown connection type; closing", "remote", c.RemoteAddr().String(), "byte", b[0])
		c.Close()
	}
}

// Close stops the listener.
func (m *mux) Close() error {
	m.once.Do(func() { close(m.done) })
	return m.ln.Close()
}

func (m *mux) raftLayer() raft.StreamLayer { return &raftLayer{m: m} }

// raftLayer is raft's view of the mux: the raft connections only.
type raftLayer struct{ m *mux }

func (l *raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.m.raftCh:
		return c, nil
	case <-l.m.done:
		return nil, net.ErrClosed
	}
}

func (l *raftLayer) Close() error   { return l.m.Close() }
func (l *raftLayer) Addr() net.Addr { return l.m.ln.Addr() }

func (l *raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := dialFrom(l.m.ln.Addr(), string(address), timeout)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{muxRaft}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// dialFrom dials addr from the IP the member's raft listener is bound to,
// when it is bound to one: on a multi-homed host member traffic leaves by
// the raft interface, and a firewall can tell members apart by source.
func dialFrom(local net.Addr, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if ta, ok := local.(*net.TCPAddr); ok && ta.IP != nil && !ta.IP.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: ta.IP}
	}
	return d.Dial("tcp", addr)
}
