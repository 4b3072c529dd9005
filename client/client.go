package client

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkx-dev/zkx/pkg/proto"
)

// Defaults for Options.
const (
	// DefaultSessionTimeout is the session timeout asked for when
	// Options.SessionTimeout is zero. The server clamps it into its
	// [2, 20] tick range.
	DefaultSessionTimeout = 10 * time.Second
	// DefaultMaxPacket bounds a received frame: ZooKeeper's 1 MiB
	// jute.maxbuffer plus room for the reply header and the record
	// framing around a maximum-size node.
	DefaultMaxPacket = 1<<20 + 4<<10
	// closeTimeout bounds how long Close waits for the server to
	// acknowledge closeSession.
	closeTimeout = 2 * time.Second
	// setWatchesMax cuts SetWatches batches at 128 KiB of path bytes, as
	// the Java client does, to stay far below the server's frame limit.
	setWatchesMax = 128 << 10
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// SessionTimeout is the session timeout to ask for. Default
	// DefaultSessionTimeout. The server's answer (SessionTimeout) sets
	// the ping interval and the read timeout: a connection is dropped when
	// nothing arrives for 2/3 of it, and pinged after 1/3 of it idle.
	SessionTimeout time.Duration
	// ConnectTimeout bounds dialing one server plus the session handshake.
	// Default: SessionTimeout divided by the number of servers, as the
	// Java client does, but at least one second.
	ConnectTimeout time.Duration
	// Dialer opens connections. Default: a net.Dialer. Tests use it to cut
	// connections; it can also add TLS or a proxy.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// OnState, when set, is called with every session state change, in
	// order, from one goroutine of the client's (never concurrently). It
	// must not block for long: later state changes wait for it.
	OnState func(State)
	// MaxPacket is the largest frame accepted from the server; a larger
	// one drops the connection. Default DefaultMaxPacket.
	MaxPacket int
	// Logger receives connection-level logs. Default: discarded.
	Logger *slog.Logger
}

// Client is a ZooKeeper client session with automatic reconnection.
//
// Concurrency contract: every method is safe for concurrent use by any
// number of goroutines. Requests are sent in the order their calls
// reached the client and are answered in that order; a call blocks until
// its reply, until its context ends (it then returns ctx.Err() and the
// late reply is discarded), or until the connection is lost
// (ErrConnectionLoss). Calls made while disconnected wait for the next
// connection. Watch events and session states are delivered from the
// client's goroutines and never block them: one-shot channels have room
// for their single event, persistent watches and OnState are fed through
// unbounded queues.
type Client struct {
	opts    Options
	chroot  string
	hosts   *hostList
	log     *slog.Logger
	watches *watchManager

	ctx    context.Context // cancelled by Close; bounds dials
	cancel context.CancelFunc
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the session goroutine exits
	abort  chan struct{} // closed at the end of Close: mailboxes give up
	wake   chan struct{} // tells the writer the queue has requests
	ready  chan struct{} // closed at the first connection or at the end
	states *mailbox      // state changes on their way to listeners

	lastZxid atomic.Int64
	// lastEventZxid is the largest zxid of a notification received (-1
	// from servers that do not send one, which never raises it).
	lastEventZxid atomic.Int64
	xid           atomic.Int32

	mu        sync.Mutex
	state     State
	sessionID int64
	passwd    []byte
	timeout   time.Duration // negotiated
	queue     []*request    // submitted, not yet taken by a writer
	auths     []proto.AuthPacket
	closing   bool
	termErr   error // set once the session ended; every call returns it
	readyOnce sync.Once
	listeners map[int]func(State)
	nextLis   int
}

// Connect creates a client for servers, a ZooKeeper connect string
// ("host:port,host:port" with an optional chroot suffix "/app"), and
// waits until a session is established or ctx ends. The client then
// keeps the session alive, reconnecting as needed, until Close or
// session expiry.
func Connect(ctx context.Context, servers string, opts Options) (*Client, error) {
	c, err := newClient(servers, opts)
	if err != nil {
		return nil, err
	}
	go c.run()
	select {
	case <-c.ready:
		c.mu.Lock()
		err := c.termErr
		c.mu.Unlock()
		if err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

func newClient(servers string, opts Options) (*Client, error) {
	addrs, chroot, err := parseConnectString(servers)
	if err != nil {
		return nil, err
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = DefaultSessionTimeout
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = max(opts.SessionTimeout/time.Duration(len(addrs)), time.Second)
	}
	if opts.Dialer == nil {
		var d net.Dialer
		opts.Dialer = d.DialContext
	}
	if opts.MaxPacket <= 0 {
		opts.MaxPacket = DefaultMaxPacket
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		opts:      opts,
		chroot:    chroot,
		hosts:     newHostList(addrs),
		log:       opts.Logger,
		watches:   newWatchManager(),
		ctx:       ctx,
		cancel:    cancel,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		abort:     make(chan struct{}),
		wake:      make(chan struct{}, 1),
		ready:     make(chan struct{}),
		state:     StateDisconnected,
		listeners: map[int]func(State){},
	}
	c.states = newMailbox(nil)
	if opts.OnState != nil {
		c.listeners[c.nextLis] = opts.OnState
		c.nextLis++
	}
	go c.notifyStates()
	return c, nil
}

// notifyStates calls the state listeners, in order, for each change.
func (c *Client) notifyStates() {
	for ev := range c.states.out {
		c.mu.Lock()
		fns := make([]func(State), 0, len(c.listeners))
		for i := 0; i < c.nextLis; i++ {
			if fn, ok := c.listeners[i]; ok {
				fns = append(fns, fn)
			}
		}
		c.mu.Unlock()
		for _, fn := range fns {
			fn(ev.State)
		}
	}
}

// AddStateListener registers fn to be called with every later session
// state change, like Options.OnState, and returns a function that
// unregisters it. Recipes use it to react to disconnection and expiry.
func (c *Client) AddStateListener(fn func(State)) (remove func()) {
	c.mu.Lock()
	id := c.nextLis
	c.nextLis++
	c.listeners[id] = fn
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.listeners, id)
		c.mu.Unlock()
	}
}

// State returns the current session state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// SessionID returns the session id, 0 before the first connection.
func (c *Client) SessionID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// SessionTimeout returns the timeout the server granted, 0 before the
// first connection.
func (c *Client) SessionTimeout() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout
}

// LastZxid returns the zxid of the last reply seen from the server.
func (c *Client) LastZxid() int64 { return c.lastZxid.Load() }

// Close ends the session: it asks the server to close it (which deletes
// the session's ephemeral nodes) when connected, stops reconnecting, fails
// outstanding calls with ErrClosed, and delivers a None event with State
// Closed to every watch before closing persistent watch channels. Close is
// idempotent and always returns nil once the client has stopped.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closing = true
	connected := c.state == StateConnected && c.termErr == nil
	c.mu.Unlock()
	if connected {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		_, err := c.submit(ctx, &request{op: proto.OpCloseSession})
		cancel()
		if err != nil {
			c.log.Debug("closeSession failed", "err", err)
		}
	}
	c.cancel()
	close(c.stop)
	<-c.done
	close(c.abort)
	return nil
}

// setState records s and queues it for listeners and persistent watches.
func (c *Client) setState(s State) {
	c.mu.Lock()
	changed := c.state != s && c.termErr == nil
	if changed {
		c.state = s
	}
	c.mu.Unlock()
	if !changed {
		return
	}
	if s == StateConnected {
		c.readyOnce.Do(func() { close(c.ready) })
	}
	c.states.put(Event{Type: EventNone, State: s, Zxid: -1})
}

// terminate ends the session for good with state s: calls fail with err
// from now on, watches get their final event.
func (c *Client) terminate(s State, err error) {
	c.mu.Lock()
	if c.termErr != nil {
		c.mu.Unlock()
		return
	}
	c.termErr = err
	c.state = s
	queued := c.queue
	c.queue = nil
	c.mu.Unlock()
	for _, r := range queued {
		r.complete(0, err)
	}
	c.watches.terminate(Event{Type: EventNone, State: s, Zxid: -1})
	c.states.close(&Event{Type: EventNone, State: s, Zxid: -1})
	c.readyOnce.Do(func() { close(c.ready) })
	c.log.Info("session ended", "state", s.String())
}

// serverPath validates a client path and prefixes the chroot.
func (c *Client) serverPath(p string) (string, error) {
	if err := validatePath(p); err != nil {
		return "", err
	}
	return c.prefix(p), nil
}

func (c *Client) prefix(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == "/" {
		return c.chroot
	}
	return c.chroot + p
}

// clientPath strips the chroot from a server path. A path outside the
// chroot (which a server should never send) is returned unchanged.
func (c *Client) clientPath(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == c.chroot {
		return "/"
	}
	if len(p) > len(c.chroot) && p[:len(c.chroot)] == c.chroot && p[len(c.chroot)] == '/' {
		return p[len(c.chroot):]
	}
	return p
}

func (c *Client) String() string {
	return fmt.Sprintf("client(session 0x%x, %s)", c.SessionID(), c.State())
}
