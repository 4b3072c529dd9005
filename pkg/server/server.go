package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkx-dev/zkx/pkg/changelog"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/tree"
	"github.com/zkx-dev/zkx/pkg/watch/oneshot"
	"github.com/zkx-dev/zkx/pkg/watch/persistent"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// Options configure a Server. The zero value of each field means its
// default, except Backend, which is required.
type Options struct {
	// Listen is the TCP address to serve on. Default ":2181".
	Listen string
	// TickTime is the session-expiry granularity. Default 2s.
	TickTime time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound the negotiated session
	// timeout. Defaults 2*TickTime and 20*TickTime, as in ZooKeeper.
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// MaxBuffer is the largest request frame accepted; a larger one closes
	// the connection. Default 1 MiB + 1 KiB.
	MaxBuffer int
	// MaxOutbound is the number of bytes queued to one connection before it
	// is closed as a slow consumer. Default 16 MiB.
	MaxOutbound int
	// FourLetterWords lists the enabled four-letter-word commands. nil
	// enables the default set; an empty non-nil slice enables only srvr.
	FourLetterWords []string
	// SuperDigest, when set ("super:BASE64SHA1"), makes a client that
	// authenticates with the matching digest a superuser.
	SuperDigest string
	// ExtendedTypes enables TTL nodes.
	ExtendedTypes bool
	// ContainerCheckInterval is how often empty containers and expired TTL
	// nodes are looked for. Default 60s.
	ContainerCheckInterval time.Duration
	// ContainerMaxNeverUsed deletes containers that never had a child after
	// this long; 0 disables it (ZooKeeper's default).
	ContainerMaxNeverUsed time.Duration
	// ContainerMaxPerMinute caps container/TTL deletions. Default 10000.
	ContainerMaxPerMinute int
	// Backend persists committed transactions. Required. The server does
	// not close it.
	Backend storage.Backend
	// DisableReplay turns off the replay window: a client that re-arms
	// persistent or recursive watches after a disconnect then gets nothing
	// it missed, exactly as from Apache ZooKeeper.
	DisableReplay bool
	// ReplayWindow bounds the recent events kept for replay.
	ReplayWindow changelog.Options
	// EventSink, when set, receives the events of every transaction once
	// it is durable, in zxid order, from one goroutine. It must not block:
	// it runs on the commit path (the notifier host only enqueues). The
	// slice and the events' Data and ACL must not be modified.
	EventSink func(events []znode.Event)
	// Monitor, when set, adds keys to mntr after zkx's own (the notifier
	// host's per-plugin figures). It is called for every mntr, without the
	// server's lock held; add writes one "key<TAB>value" line.
	Monitor func(add func(key string, value any))
	// Replicator, when set, makes the server a member of an ensemble:
	// every state change goes through its log (see replicate.go). nil is
	// a standalone server.
	Replicator Replicator
	// OnNotifierAck, in an ensemble, stores a notifier plugin's position
	// that the leader replicated (ProposeNotifierAck), on every member that
	// does not lead. It is called from the apply goroutine.
	OnNotifierAck func(name string, zxid int64) error
	// OnFatal is called when a replicated member cannot persist an entry
	// it applied: it must stop, and catches up from the log at restart.
	// Default: exit the process with status 1.
	OnFatal func(error)
	// Logger receives structured logs. Default slog.Default().
	Logger *slog.Logger
	// Version is reported by srvr/stat/mntr.
	Version string
}

var defaultFourLetterWords = []string{"ruok", "srvr", "stat", "mntr", "conf", "isro", "wchs"}

func (o *Options) setDefaults() error {
	if o.Backend == nil {
		return errors.New("server: Options.Backend is required")
	}
	if o.Listen == "" {
		o.Listen = ":2181"
	}
	if o.TickTime <= 0 {
		o.TickTime = 2 * time.Second
	}
	if o.MinSessionTimeout <= 0 {
		o.MinSessionTimeout = 2 * o.TickTime
	}
	if o.MaxSessionTimeout <= 0 {
		o.MaxSessionTimeout = 20 * o.TickTime
	}
	if o.MinSessionTimeout > o.MaxSessionTimeout {
		return fmt.Errorf("server: min session timeout %v exceeds max %v", o.MinSessionTimeout, o.MaxSessionTimeout)
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = 1<<20 + 1<<10
	}
	if o.MaxOutbound <= 0 {
		o.MaxOutbound = 16 << 20
	}
	if o.FourLetterWords == nil {
		o.FourLetterWords = defaultFourLetterWords
	}
	if o.ContainerCheckInterval <= 0 {
		o.ContainerCheckInterval = time.Minute
	}
	if o.ContainerMaxPerMinute <= 0 {
		o.ContainerMaxPerMinute = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.OnFatal == nil {
		o.OnFatal = func(error) { os.Exit(1) }
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	return nil
}

// Server is a single-node zkx server. Its methods are safe for concurrent
// use.
type Server struct {
	opts   Options
	log    *slog.Logger
	start  time.Time
	fourLW map[string]bool

	// mu guards everything below it: the tree, the watch indexes, the
	// session table and the zxid counter. It is never held across I/O.
	mu       sync.Mutex
	tree     *tree.Tree
	oneshot  *oneshot.Table
	persist  *persistent.Index
	window   *changelog.Window // recent events, for reconnect replay
	lastZxid int64
	sessions *sessionTable
	conns    map[uint64]*conn
	closing  bool
	// After a failed storage commit (storagefail.go).
	durableZxid       int64
	refuseWritesUntil time.Time
	storageBackoff    time.Duration

	pipe *pipeline

	// In an ensemble (Options.Replicator): repl, whether this member leads
	// (guarded by mu), and the leader's stamp of the entry being applied.
	repl      Replicator
	leading   bool
	applyTime int64
	// expiryWake makes the expiry loop look at the buckets again.
	expiryWake chan struct{}

	ln       net.Listener
	nextConn atomic.Uint64
	wg       sync.WaitGroup
	stop     chan struct{}

	stats stats
}

// New builds a server and loads its state from the backend. It does not
// listen yet; call Start.
func New(opts Options) (*Server, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		start:   time.Now(),
		fourLW:  map[string]bool{"srvr": true},
		oneshot: oneshot.New(),
		persist: persistent.New(),
		conns:   make(map[uint64]*conn),
		stop:    make(chan struct{}),
		repl:    opts.Replicator,

		expiryWake: make(chan struct{}, 1),
	}
	for _, w := range opts.FourLetterWords {
		s.fourLW[w] = true
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	s.pipe = newPipeline(s)
	return s, nil
}

// load rebuilds the tree and sessions from the backend.
func (s *Server) load() error {
	// Nodes stream from the backend straight into the tree: a restart never
	// holds a second copy of the whole tree.
	b := tree.NewBuilder()
	n := 0
	st, err := s.opts.Backend.Load(context.Background(), func(sn storage.Node) error {
		n++
		return b.Add(sn)
	})
	if err != nil {
		return fmt.Errorf("server: load state: %w", err)
	}
	if n == 0 {
		s.tree = tree.New()
	} else if s.tree, err = b.Finish(); err != nil {
		return fmt.Errorf("server: rebuild tree: %w", err)
	}
	// Zxids must never go backwards across restarts, even for a backend
	// that forgets everything: start at least at (unix minutes)<<32.
	s.lastZxid = max(st.LastZxid, time.Now().Unix()/60<<32)
	if s.repl != nil {
		// In an ensemble zxids come from the leader's stamps and must be
		// the same on every member: no clock in them.
		s.lastZxid = st.LastZxid
	}
	s.durableZxid = s.lastZxid
	s.window = changelog.New(s.lastZxid, s.opts.ReplayWindow)
	if cl, ok := s.opts.Backend.(storage.ChangeLog); ok {
		// A durable change log carries the replay window across restarts:
		// start from its horizon and refill the window with its newest
		// events (the window keeps as many as its own bounds allow).
		var evs []znode.Event
		horizon, err := cl.Events(context.Background(), -1, func(ev znode.Event) bool {
			evs = append(evs, ev)
			return true
		})
		if err != nil {
			return fmt.Errorf("server: read change log: %w", err)
		}
		s.window = changelog.New(horizon, s.opts.ReplayWindow)
		s.window.Append(evs) // it keeps whole transactions within its bounds
	}
	s.sessions = newSessionTable(s.opts.TickTime, time.Now())
	if s.repl != nil {
		s.sessions.setMember(s.repl.ID())
	}
	for _, ss := range st.Sessions {
		// A restored session gets one full timeout to come back.
		s.sessions.restore(ss, time.Now())
	}
	// Ephemerals whose owner was not stored (no backend should leave any,
	// but a session record may be lost to damage) belong to a session no
	// client can resume: give it a placeholder with a timeout of zero and
	// an unguessable password, so the first expiry pass deletes its nodes
	// through the normal path, watch events included.
	for _, owner := range s.tree.EphemeralOwners() {
		if s.sessions.get(owner) != nil {
			continue
		}
		s.log.Warn("ephemeral nodes of a session that was not stored; deleting them", "session", hex64(owner))
		pw := make([]byte, 16)
		rand.Read(pw)
		s.sessions.restore(storage.Session{ID: owner, Passwd: pw}, time.Now())
	}
	if n > 0 {
		// Loading allocates and drops a lot (decoded records, the change
		// log); give those pages back now rather than over minutes.
		debug.FreeOSMemory()
	}
	return nil
}

// Start binds the listener and starts serving in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.opts.Listen, err)
	}
	s.ln = ln
	s.log.Info("zkx serving", "addr", ln.Addr().String(), "tick_time", s.opts.TickTime,
		"min_session_timeout", s.opts.MinSessionTimeout, "max_session_timeout", s.opts.MaxSessionTimeout)
	s.wg.Add(4)
	go s.acceptLoop()
	go s.pipe.run(&s.wg)
	go s.expiryLoop()
	go s.containerLoop()
	if s.repl != nil {
		s.wg.Add(1)
		go s.quorumLoop()
	}
	return nil
}

// Addr returns the listener's address, or nil before Start.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops accepting, closes every connection and waits for the
// server's goroutines, or for ctx. Sessions are not closed: a durable
// backend keeps them for clients that reconnect after a restart.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	close(s.stop)
	if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range conns {
		c.close("server shutting down")
	}
	s.pipe.shutdown()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.log.Info("server stopped: listener and connections closed")
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.stop:
				return
			default:
			}
			// Accept errors here are transient (EMFILE, ECONNABORTED):
			// back off so a full fd table does not spin the CPU.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed, backing off", "err", err, "backoff", backoff)
			select {
			case <-time.After(backoff):
			case <-s.stop:
				return
			}
			continue
		}
		backoff = 0
		c := newConn(s, nc, s.nextConn.Add(1))
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c.id] = c
		s.stats.connections.Add(1)
		s.mu.Unlock()
		s.wg.Add(2)
		go c.readLoop()
		go c.writeLoop()
	}
}

// nextZxid allocates the next zxid. Callers hold s.mu.
func (s *Server) nextZxid() int64 {
	s.lastZxid++
	return s.lastZxid
}

func nowMillis() int64 { return time.Now().UnixMilli() }
