package main

import (
	"log/slog"
	"sync"
	"time"

	"github.com/zkx-dev/zkx/internal/config"
	"github.com/zkx-dev/zkx/pkg/ensemble"
	"github.com/zkx-dev/zkx/pkg/notify"
	"github.com/zkx-dev/zkx/pkg/server"
	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// leaderNotifiers runs the notifier plugins of an ensemble member while,
// and only while, it leads: each event is delivered by one member. The
// leader replicates every plugin's acknowledged position through the log
// (Server.ProposeNotifierAck) and the other members store it in their ack
// files, so the next leader's plugins resume where the acknowledgements
// reached, reading what they missed from the durable change log that
// every member keeps. Redelivery after a leader change is possible (at
// least once); loss is not: a plugin that has acknowledged nothing yet is
// given the leader's last zxid as its position when the host starts, and
// that position is replicated at once.
type leaderNotifiers struct {
	cfg     config.Config
	backend storage.Backend
	log     *slog.Logger
	node    *ensemble.Node
	srv     *server.Server
	dir     string

	mu    sync.Mutex
	host  *notify.Host
	acked map[string]int64 // positions replicated by this leader

	stop chan struct{}
	done chan struct{}
}

func newLeaderNotifiers(cfg config.Config, backend storage.Backend, logger *slog.Logger) *leaderNotifiers {
	return &leaderNotifiers{cfg: cfg, backend: backend, log: logger, dir: notifyOptions(cfg, backend, logger).DataDir,
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Sink forwards committed events to the running host; a member that does
// not lead drops them (the next leader reads them from the change log).
func (l *leaderNotifiers) Sink(events []znode.Event) {
	l.mu.Lock()
	h := l.host
	l.mu.Unlock()
	if h != nil {
		h.Sink(events)
	}
}

// Monitor adds the running host's mntr keys, or says no plugin runs here.
func (l *leaderNotifiers) Monitor(add func(key string, value any)) {
	l.mu.Lock()
	h := l.host
	l.mu.Unlock()
	if h == nil {
		add("zkx_notifiers_here", 0)
		return
	}
	add("zkx_notifiers_here", 1)
	h.Monitor(add)
}

// RetryFailed is SIGHUP's: start failed plugins again, on the leader.
func (l *leaderNotifiers) RetryFailed() []string {
	l.mu.Lock()
	h := l.host
	l.mu.Unlock()
	if h == nil {
		return nil
	}
	return h.RetryFailed()
}

// storeAck is Options.OnNotifierAck: a position the leader replicated.
func (l *leaderNotifiers) storeAck(name string, zxid int64) error {
	return notify.SetAckedPosition(l.dir, name, zxid)
}

// run follows leadership until Close.
func (l *leaderNotifiers) run(node *ensemble.Node, srv *server.Server) {
	l.node, l.srv = node, srv
	defer close(l.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	lastAck := time.Now()
	for {
		select {
		case <-l.stop:
			l.replicateAcks() // best effort: the node is still up
			l.stopHost()
			return
		case <-t.C:
		}
		leading := node.IsLeader()
		l.mu.Lock()
		running := l.host != nil
		l.mu.Unlock()
		switch {
		case leading && !running:
			l.startHost()
		case !leading && running:
			l.log.Info("no longer the leader: stopping notifier plugins (the next leader resumes them)")
			l.stopHost()
		case leading && time.Since(lastAck) >= time.Second:
			l.replicateAcks()
			lastAck = time.Now()
		}
	}
}

func (l *leaderNotifiers) startHost() {
	last := l.srv.LastZxid()
	l.acked = map[string]int64{}
	for _, n := range l.cfg.Notifiers {
		zxid, ok, err := notify.AckedPosition(l.dir, n.Name)
		if err != nil {
			l.log.Error("cannot read a notifier's position", "notifier", n.Name, "err", err)
			continue
		}
		if !ok {
			// Never acknowledged anything: start after what is applied now,
			// and make every member agree on it before delivering.
			if err := notify.SetAckedPosition(l.dir, n.Name, last); err != nil {
				l.log.Error("cannot store a notifier's position", "notifier", n.Name, "err", err)
				continue
			}
			zxid = last
			l.srv.ProposeNotifierAck(n.Name, last)
		}
		l.acked[n.Name] = zxid
	}
	h, err := notify.New(notifyOptions(l.cfg, l.backend, l.log))
	if err != nil {
		l.log.Error("cannot set up notifiers", "err", err)
		return
	}
	h.Start()
	l.mu.Lock()
	l.host = h
	l.mu.Unlock()
	l.log.Info("leading: notifier plugins started", "plugins", len(l.cfg.Notifiers))
}

func (l *leaderNotifiers) replicateAcks() {
	l.mu.Lock()
	h := l.host
	l.mu.Unlock()
	if h == nil {
		return
	}
	for _, st := range h.Status() {
		if st.LastAcked > l.acked[st.Name] {
			l.srv.ProposeNotifierAck(st.Name, st.LastAcked)
			l.acked[st.Name] = st.LastAcked
		}
	}
}

func (l *leaderNotifiers) stopHost() {
	l.mu.Lock()
	h := l.host
	l.host = nil
	l.mu.Unlock()
	if h == nil {
		return
	}
	closeNotifyHost(h, l.log)
}

// Close stops the plugins, if this member runs them.
func (l *leaderNotifiers) Close() {
	close(l.stop)
	<-l.done
}
