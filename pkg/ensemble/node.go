package ensemble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// Role is a member's part in the ensemble.
type Role int

const (
	// Voter members elect the leader and make up the quorum.
	Voter Role = iota
	// Observer members (raft non-voters) receive and apply the log and
	// serve clients, but neither vote nor count towards the quorum: they
	// scale reads and watches without slowing writes.
	Observer
)

func (r Role) String() string {
	if r == Observer {
		return "observer"
	}
	return "voter"
}

// Member is one server of the ensemble.
type Member struct {
	ID     int    // 1..255, unique
	Raft   string // host:port for raft and forwarding
	Client string // host:port clients connect to
	Role   Role
}

// Options configure a Node. Zero durations and counts mean the defaults.
type Options struct {
	// ID is this member's id; it must be one of Members.
	ID      int
	Members []Member
	// Dir holds the raft log, the stable store and the snapshots.
	Dir string
	// Join starts a member that is not in the ensemble yet: it does not
	// bootstrap, and waits to be added (zkx members add) by the leader.
	Join bool

	// HeartbeatTimeout and ElectionTimeout: how long a follower waits
	// without hearing from a leader before it stands for election.
	// Default 500ms each.
	HeartbeatTimeout, ElectionTimeout time.Duration
	// LeaderLeaseTimeout: a leader that has not reached a quorum for this
	// long steps down. Default 250ms.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout: the longest a follower waits to learn that an entry
	// is committed when no newer entry follows it. It bounds the apply lag
	// of followers, and so the latency of writes forwarded by them.
	// Default 2ms.
	CommitTimeout time.Duration
	// SnapshotThreshold and SnapshotInterval: a snapshot is taken when at
	// least Threshold entries were applied since the last one, checked
	// every Interval. TrailingLogs entries stay in the log after a
	// snapshot, so a member that lagged catches up from the log rather
	// than from a whole snapshot. Defaults 16384, 2m, 10240.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	// ProposeTimeout bounds how long a forwarded write may wait for the
	// leader's answer before its client is disconnected. Default 10s.
	ProposeTimeout time.Duration
	// TouchInterval is how often a member tells the leader which sessions
	// its clients touched. Default 500ms; the server sets it to half a
	// tick.
	TouchInterval time.Duration
	// ApplyDelay, for tests only, makes followers and observers apply
	// every committed entry this much later than it arrives: a planted
	// replication lag that makes their reads without sync stale. It breaks
	// snapshot consistency; never set it in production.
	ApplyDelay time.Duration

	Logger *slog.Logger
}

func (o *Options) setDefaults() error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 500 * time.Millisecond
	}
	if o.ElectionTimeout <= 0 {
		o.ElectionTimeout = 500 * time.Millisecond
	}
	if o.LeaderLeaseTimeout <= 0 {
		o.LeaderLeaseTimeout = 250 * time.Millisecond
	}
	if o.LeaderLeaseTimeout > o.HeartbeatTimeout {
		o.LeaderLeaseTimeout = o.HeartbeatTimeout
	}
	if o.CommitTimeout <= 0 {
		o.CommitTimeout = 2 * time.Millisecond
	}
	if o.SnapshotThreshold == 0 {
		o.SnapshotThreshold = 16384
	}
	if o.SnapshotInterval <= 0 {
		o.SnapshotInterval = 2 * time.Minute
	}
	if o.TrailingLogs == 0 {
		o.TrailingLogs = 10240
	}
	if o.ProposeTimeout <= 0 {
		o.ProposeTimeout = 10 * time.Second
	}
	if o.TouchInterval <= 0 {
		o.TouchInterval = 500 * time.Millisecond
	}
	if o.Dir == "" {
		return errors.New("ensemble: Options.Dir is required")
	}
	return Validate(o.ID, o.Members)
}

// Validate checks a membership list and that id is one of its members.
func Validate(id int, members []Member) error {
	if len(members) == 0 {
		return errors.New("ensemble: no members")
	}
	seen := map[int]bool{}
	addrs := map[string]int{}
	voters := 0
	self := false
	for i, m := range members {
		if m.ID < 1 || m.ID > 255 {
			return fmt.Errorf("ensemble: members[%d]: id %d is outside 1..255", i, m.ID)
		}
		if seen[m.ID] {
			return fmt.Errorf("ensemble: members[%d]: id %d is listed twice", i, m.ID)
		}
		seen[m.ID] = true
		for _, a := range []struct{ name, v string }{{"raft", m.Raft}, {"client", m.Client}} {
			if _, _, err := net.SplitHostPort(a.v); err != nil {
				return fmt.Errorf("ensemble: member %d: %s address %q: %v", m.ID, a.name, a.v, err)
			}
			if other, dup := addrs[a.v]; dup {
				return fmt.Errorf("ensemble: member %d: address %s is also used by member %d", m.ID, a.v, other)
			}
			addrs[a.v] = m.ID
		}
		if m.Role == Voter {
			voters++
		}
		if m.ID == id {
			self = true
		}
	}
	if !self {
		return fmt.Errorf("ensemble: this member's id %d is not in the member list", id)
	}
	if voters == 0 {
		return errors.New("ensemble: no voting member (every member is an observer)")
	}
	return nil
}

// StateMachine is what the server gives the node: the replicated state and
// the callbacks of the write path. Apply, Snapshot and Restore are called
// from raft's one FSM goroutine.
type StateMachine interface {
	// Apply applies one committed entry, stamped by the leader. It must be
	// deterministic.
	Apply(entry []byte)
	// LastZxid is the zxid of the last applied transaction.
	LastZxid() int64
	// Snapshot captures the current state and returns a function that
	// writes it, running concurrently with later Applies, and one that
	// releases the capture (called after the writer, or instead of it).
	Snapshot() (write func(io.Writer) error, release func(), err error)
	// Restore replaces the state with a snapshot's, unless the state is
	// already newer than the snapshot.
	Restore(r io.Reader) error
	// ProposalFailed reports that the entry proposed for origin may or
	// may not have been committed.
	ProposalFailed(origin uint64, err error)
	// LeadershipChanged reports that this member became (true) or stopped
	// being (false) the leader that stamps entries.
	LeadershipChanged(leader bool)
	// Touched, on the leader, reports sessions that other members' clients
	// kept alive, with the timeouts they negotiated (ms).
	Touched(ids []int64, timeouts []int32)
}

// Errors a proposal can fail with.
var (
	ErrNoLeader = errors.New("ensemble: no leader")
	ErrShutdown = errors.New("ensemble: shut down")
)

// Node is this server's membership in the ensemble. Its methods are safe
// for concurrent use; Propose and Touch never block.
type Node struct {
	opts   Options
	log    *slog.Logger
	self   Member
	byRaft map[string]Member

	raft   *raft.Raft
	sm     StateMachine
	mux    *mux
	logs   *raftboltdb.BoltStore
	snaps  *raft.FileSnapshotStore
	notify chan bool

	// The proposal queue, drained by one goroutine (propose.go).
	qmu     sync.Mutex
	qcond   *sync.Cond
	queue   []proposal
	stopped bool

	// Stamping, on the leader.
	smu     sync.Mutex
	ready   bool // leader, with every earlier entry applied
	epoch   int64
	counter int64

	// Touched sessions not yet sent to the leader.
	tmu     sync.Mutex
	touched map[int64]int32

	fwd fwdClient

	// Client addresses of members, for listings.
	mmu     sync.Mutex
	clients map[int]string

	// Peers that stopped answering the leader's heartbeats, and when they
	// last did (raft's FailedHeartbeatObservation), for mntr.
	pmu     sync.Mutex
	failing map[string]time.Time

	lastProposalSize atomic.Int64
	proposals        atomic.Int64
	forwarded        atomic.Int64
	failed           atomic.Int64

	delay    *delayQueue
	observer *raft.Observer

	stop chan struct{}
	wg   sync.WaitGroup
}

// New validates the options. The node does nothing until Start.
func New(opts Options) (*Node, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	n := &Node{
		opts:    opts,
		log:     opts.Logger.With("component", "ensemble"),
		byRaft:  map[string]Member{},
		touched: map[int64]int32{},
		clients: map[int]string{},
		failing: map[string]time.Time{},
		stop:    make(chan struct{}),
	}
	for _, m := range opts.Members {
		n.clients[m.ID] = m.Client
		if m.ID == opts.ID {
			n.self = m
		}
		n.byRaft[m.Raft] = m
	}
	n.qcond = sync.NewCond(&n.qmu)
	n.fwd.pending = map[uint64]pendingFwd{}
	return n, nil
}

// ID is this member's id.
func (n *Node) ID() int { return n.self.ID }

// Self is this member.
func (n *Node) Self() Member { return n.self }

// Members is the configured member list.
func (n *Node) Members() []Member { return append([]Member(nil), n.opts.Members...) }

// Start opens the raft stores under Options.Dir, binds the raft address,
// bootstraps the ensemble when the stores are new, and starts raft: from
// here on sm receives Restore and Apply calls.
func (n *Node) Start(sm StateMachine) error {
	n.sm = sm
	if err := os.MkdirAll(n.opts.Dir, 0o750); err != nil {
		return fmt.Errorf("ensemble: raft dir: %w", err)
	}
	hlog := newHCLogger(n.log)
	logs, err := raftboltdb.NewBoltStore(filepath.Join(n.opts.Dir, "raft.db"))
	if err != nil {
		return fmt.Errorf("ensemble: open raft log %s: %w", filepath.Join(n.opts.Dir, "raft.db"), err)
	}
	n.logs = logs
	snaps, err := raft.NewFileSnapshotStoreWithLogger(n.opts.Dir, 2, hlog)
	if err != nil {
		logs.Close()
		return fmt.Errorf("ensemble: snapshot store: %w", err)
	}
	n.snaps = snaps
	m, err := listenMux(n.self.Raft, n.log, n.serveForward, n.serveAdmin)
	if err != nil {
		logs.Close()
		return fmt.Errorf("ensemble: listen on raft address %s: %w", n.self.Raft, err)
	}
	n.mux = m
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  m.raftLayer(),
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  hlog,
	})

	conf := raft.DefaultConfig()
	conf.LocalID = raft.ServerID(strconv.Itoa(n.self.ID))
	conf.Logger = hlog
	conf.HeartbeatTimeout = n.opts.HeartbeatTimeout
	conf.ElectionTimeout = n.opts.ElectionTimeout
	conf.LeaderLeaseTimeout = n.opts.LeaderLeaseTimeout
	conf.CommitTimeout = n.opts.CommitTimeout
	conf.SnapshotThreshold = n.opts.SnapshotThreshold
	conf.SnapshotInterval = n.opts.SnapshotInterval
	conf.TrailingLogs = n.opts.TrailingLogs
	conf.BatchApplyCh = true
	n.notify = make(chan bool, 16)
	conf.NotifyCh = n.notify

	existing, err := raft.HasExistingState(logs, logs, snaps)
	if err != nil {
		n.closeStores()
		return fmt.Errorf("ensemble: read raft state: %w", err)
	}
	if !existing && n.opts.Join {
		n.log.Info("joining: waiting to be added to the ensemble by its leader (zkx members add)", "id", n.self.ID, "raft", n.self.Raft)
	}
	if !existing && !n.opts.Join {
		var servers []raft.Server
		for _, mb := range n.opts.Members {
			s := raft.Server{ID: raft.ServerID(strconv.Itoa(mb.ID)), Address: raft.ServerAddress(mb.Raft), Suffrage: raft.Voter}
			if mb.Role == Observer {
				s.Suffrage = raft.Nonvoter
			}
			servers = append(servers, s)
		}
		if err := raft.BootstrapCluster(conf, logs, logs, snaps, trans, raft.Configuration{Servers: servers}); err != nil {
			n.closeStores()
			return fmt.Errorf("ensemble: bootstrap: %w", err)
		}
		n.log.Info("bootstrapped a new ensemble", "members", len(servers))
	}
	if n.opts.ApplyDelay > 0 {
		n.log.Warn("debug.apply_delay is set: committed entries are applied late on purpose (test only)", "delay", n.opts.ApplyDelay)
		n.delay = newDelayQueue(sm)
	}
	r, err := raft.NewRaft(conf, &fsm{n: n}, logs, logs, snaps, trans)
	if err != nil {
		n.closeStores()
		return fmt.Errorf("ensemble: start raft: %w", err)
	}
	n.raft = r
	obs := make(chan raft.Observation, 64)
	n.observer = raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation:
			return true
		}
		return false
	})
	r.RegisterObserver(n.observer)
	n.wg.Add(4)
	go n.watchPeers(obs)
	go n.leadershipLoop()
	go n.proposeLoop()
	go n.touchLoop()
	n.log.Info("ensemble member started", "id", n.self.ID, "role", n.self.Role.String(), "raft", n.self.Raft, "members", len(n.opts.Members))
	return nil
}

func (n *Node) closeStores() {
	if n.mux != nil {
		n.mux.Close()
	}
	if n.logs != nil {
		n.logs.Close()
	}
}

// shutdownTimeout bounds how long Shutdown waits for raft.
const shutdownTimeout = 10 * time.Second

// Shutdown stops raft and the node's goroutines. A leader does not hand
// over first: the others elect a new leader within an election timeout.
func (n *Node) Shutdown() error {
	select {
	case <-n.stop:
		return nil
	default:
	}
	close(n.stop)
	n.qmu.Lock()
	n.stopped = true
	n.qcond.Broadcast()
	n.qmu.Unlock()
	var err error
	if n.raft != nil {
		n.raft.DeregisterObserver(n.observer)
		// hashicorp/raft's shutdown was seen to wait forever, once, for a
		// leader whose loop did not end (a stress run of the in-process
		// tests, right after a leadership transfer, since removed). Bound
		// the wait: a member that is stopping must stop.
		done := make(chan error, 1)
		go func() { done <- n.raft.Shutdown().Error() }()
		select {
		case err = <-done:
		case <-time.After(shutdownTimeout):
			err = fmt.Errorf("ensemble: raft did not shut down within %v", shutdownTimeout)
			n.log.Error("raft did not shut down in time; going on", "timeout", shutdownTimeout)
		}
	}
	n.fwd.closeConn(ErrShutdown, n)
	n.wg.Wait()
	if n.delay != nil {
		n.delay.close()
	}
	n.closeStores()
	return err
}

// leadershipLoop follows raft's leadership notifications. On becoming
// leader it waits until every earlier entry is applied, then opens a new
// zxid epoch and starts stamping.
func (n *Node) leadershipLoop() {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case leader := <-n.notify:
			if !leader {
				n.smu.Lock()
				was := n.ready
				n.ready = false
				n.smu.Unlock()
				if was {
					n.log.Info("no longer the leader")
					n.sm.LeadershipChanged(false)
				}
				continue
			}
			if err := n.raft.Barrier(n.opts.ProposeTimeout).Error(); err != nil {
				n.log.Warn("leader barrier failed; not stamping", "err", err)
				continue
			}
			if n.raft.State() != raft.Leader {
				continue
			}
			if n.delay != nil {
				n.delay.drain()
			}
			n.pmu.Lock()
			clear(n.failing) // a former leadership's observations
			n.pmu.Unlock()
			last := n.sm.LastZxid()
			n.smu.Lock()
			n.epoch = max(last>>32+1, n.epoch+1)
			n.counter = 0
			n.ready = true
			epoch := n.epoch
			n.smu.Unlock()
			n.log.Info("leading the ensemble", "epoch", epoch, "last_zxid", fmt.Sprintf("0x%x", last), "term", n.raft.Stats()["term"])
			n.sm.LeadershipChanged(true)
		}
	}
}

// stamp writes the zxid and time into a proposal's entry. Called only by
// the propose loop, on the leader.
func (n *Node) stamp(entry []byte) bool {
	n.smu.Lock()
	defer n.smu.Unlock()
	if !n.ready {
		return false
	}
	if entry[0]&FlagZxid != 0 {
		if n.counter == 1<<32-1 {
			// The counter is spent: continue in a fresh epoch, as
			// ZooKeeper does by forcing an election.
			n.epoch++
			n.counter = 0
		}
		n.counter++
	}
	binary.BigEndian.PutUint64(entry[1:9], uint64(n.epoch<<32|n.counter))
	binary.BigEndian.PutUint64(entry[9:17], uint64(time.Now().UnixMilli()))
	return true
}

// IsLeader reports whether this member is the leader and stamps entries.
func (n *Node) IsLeader() bool {
	n.smu.Lock()
	defer n.smu.Unlock()
	return n.ready
}

// Role is this member's state for srvr and mntr: "leader", "follower",
// "observer", or "looking" while there is no leader it follows.
func (n *Node) Role() string {
	if n.raft == nil {
		return "looking"
	}
	switch n.raft.State() {
	case raft.Leader:
		return "leader"
	case raft.Follower:
		if addr, _ := n.raft.LeaderWithID(); addr == "" {
			return "looking"
		}
		if n.self.Role == Observer {
			return "observer"
		}
		return "follower"
	default:
		return "looking"
	}
}

// Serving reports whether this member is in a quorum and may serve
// clients: the leader while it leads, a follower or observer while it
// hears from a leader.
func (n *Node) Serving() bool {
	if n.raft == nil {
		return false
	}
	switch n.raft.State() {
	case raft.Leader:
		return n.IsLeader()
	case raft.Follower:
		addr, _ := n.raft.LeaderWithID()
		if addr == "" {
			return false
		}
		return time.Since(n.raft.LastContact()) < 2*n.opts.HeartbeatTimeout
	default:
		return false
	}
}

// Touch records that a client of this member kept a session alive. The
// leader learns of it within TouchInterval; on the leader it is a no-op
// (the server touches its own table).
func (n *Node) Touch(id int64, timeoutMs int32) {
	n.tmu.Lock()
	n.touched[id] = timeoutMs
	n.tmu.Unlock()
}

// Monitor adds the ensemble's keys to mntr (after the server's, which
// include zk_server_state): ZooKeeper's where zkx has the figure, then
// raft's own.
func (n *Node) Monitor(add func(key string, value any)) {
	role := n.Role()
	if n.raft == nil {
		return
	}
	if role == "leader" {
		learners, syncedVoters, syncedObservers := 0, 0, 0
		n.pmu.Lock()
		failing := maps.Clone(n.failing)
		n.pmu.Unlock()
		var peers []string
		if f := n.raft.GetConfiguration(); f.Error() == nil {
			for _, s := range f.Configuration().Servers {
				if string(s.ID) == strconv.Itoa(n.self.ID) {
					continue
				}
				learners++
				peers = append(peers, string(s.ID))
				if _, bad := failing[string(s.ID)]; bad {
					continue
				}
				if s.Suffrage == raft.Voter {
					syncedVoters++
				} else {
					syncedObservers++
				}
			}
		}
		// Per peer: 0 while it answers heartbeats, else the milliseconds
		// since it last did.
		defer func() {
			for _, id := range peers {
				ms := int64(0)
				if at, bad := failing[id]; bad {
					ms = time.Since(at).Milliseconds()
				}
				add("zkx_raft_peer_"+id+"_last_contact_ms", ms)
			}
		}()
		add("zk_learners", learners)
		add("zk_followers", learners)
		add("zk_synced_followers", syncedVoters)
		add("zk_synced_non_voting_followers", syncedObservers)
		add("zk_synced_observers", syncedObservers)
		add("zk_pending_syncs", 0)
		add("zk_last_proposal_size", n.lastProposalSize.Load())
	}
	st := n.raft.Stats()
	add("zkx_ensemble_id", n.self.ID)
	add("zkx_ensemble_members", len(n.opts.Members))
	add("zkx_raft_state", st["state"])
	add("zkx_raft_term", st["term"])
	add("zkx_raft_commit_index", st["commit_index"])
	add("zkx_raft_applied_index", st["applied_index"])
	add("zkx_raft_last_log_index", st["last_log_index"])
	add("zkx_raft_last_snapshot_index", st["last_snapshot_index"])
	add("zkx_raft_num_peers", st["num_peers"])
	if role != "leader" {
		lc := n.raft.LastContact()
		ms := int64(-1)
		if !lc.IsZero() {
			ms = time.Since(lc).Milliseconds()
		}
		add("zkx_raft_last_contact_ms", ms)
	}
	if addr, id := n.raft.LeaderWithID(); addr != "" {
		add("zkx_raft_leader_id", string(id))
	}
	add("zkx_ensemble_proposals", n.proposals.Load())
	add("zkx_ensemble_forwarded", n.forwarded.Load())
	add("zkx_ensemble_proposals_failed", n.failed.Load())
}

// watchPeers keeps the set of peers that fail the leader's heartbeats.
func (n *Node) watchPeers(obs <-chan raft.Observation) {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case o := <-obs:
			n.pmu.Lock()
			switch d := o.Data.(type) {
			case raft.FailedHeartbeatObservation:
				if _, ok := n.failing[string(d.PeerID)]; !ok {
					n.failing[string(d.PeerID)] = d.LastContact
				}
			case raft.ResumedHeartbeatObservation:
				delete(n.failing, string(d.PeerID))
			}
			n.pmu.Unlock()
		}
	}
}

// leaderAddr is the raft address of the current leader, "" when unknown.
func (n *Node) leaderAddr() string {
	addr, _ := n.raft.LeaderWithID()
	return string(addr)
}
