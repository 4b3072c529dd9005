package server

import (
	"time"

	"github.com/zkx-dev/zkx/pkg/tree"
)

// expiryLoop expires sessions when their bucket is due. It sleeps until
// the earliest bucket's boundary, as ZooKeeper's ExpiryQueue does, rather
// than ticking from the server's start: a session touched at t expires at
// the first tick boundary after t+timeout, not up to a tick later. It
// looks again at least once a tick, so a bucket created meanwhile (at
// least two ticks ahead: the minimum session timeout) is never missed.
func (s *Server) expiryLoop() {
	defer s.wg.Done()
	tick := s.opts.TickTime
	timer := time.NewTimer(tick)
	defer timer.Stop()
	for {
		s.mu.Lock()
		due, ok := s.sessions.nextDue()
		s.mu.Unlock()
		timer.Reset(expiryWait(due, ok, time.Now(), tick))
		select {
		case <-s.stop:
			return
		case <-s.expiryWake:
			// Since Go 1.23 a stopped timer never delivers a stale
			// value, so Reset above needs no drain.
			timer.Stop()
			continue
		case <-timer.C:
		}
		s.expireDue(time.Now())
	}
}

// expiryWait is how long the expiry loop sleeps at now: until the earliest
// bucket (due, unix ms) is due, but never more than a tick.
func expiryWait(due int64, ok bool, now time.Time, tick time.Duration) time.Duration {
	if !ok {
		return tick
	}
	return min(max(time.UnixMilli(due).Sub(now), 0), tick)
}

// wakeExpiry makes the expiry loop recompute its wait.
func (s *Server) wakeExpiry() {
	select {
	case s.expiryWake <- struct{}{}:
	default:
	}
}

// expireDue ends every session whose bucket is due at now. In an ensemble
// only the leader decides expiry, and it does so through the log.
func (s *Server) expireDue(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repl != nil {
		if !s.leading {
			return
		}
		for _, sess := range s.sessions.expired(now) {
			if !sess.closing && !sess.expiring {
				s.proposeExpiry(sess)
			}
		}
		return
	}
	if s.writesRefused() != nil {
		// Expiring deletes ephemerals, a write: wait until storage
		// accepts writes again. Sessions due meanwhile expire then.
		return
	}
	for _, sess := range s.sessions.expired(now) {
		s.expireLocked(sess, "expired")
	}
}

// containerLoop deletes empty containers and expired TTL nodes through the
// normal apply path, so their watchers see the usual events.
func (s *Server) containerLoop() {
	defer s.wg.Done()
	interval := s.opts.ContainerCheckInterval
	t := time.NewTicker(interval)
	defer t.Stop()
	// The per-pass budget spreads ContainerMaxPerMinute over the passes.
	budget := max(int(int64(s.opts.ContainerMaxPerMinute)*int64(interval)/int64(time.Minute)), 1)
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.reapContainers(budget)
		}
	}
}

func (s *Server) reapContainers(budget int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repl != nil {
		// The leader proposes the deletes; every member applies them.
		if !s.leading {
			return 0
		}
		candidates := s.tree.ReapCandidates(nowMillis(), s.opts.ContainerMaxNeverUsed.Milliseconds())
		n := min(len(candidates), budget)
		for _, p := range candidates[:n] {
			s.proposeReap(p)
		}
		return n
	}
	if s.writesRefused() != nil {
		return 0
	}
	candidates := s.tree.ReapCandidates(nowMillis(), s.opts.ContainerMaxNeverUsed.Milliseconds())
	deleted := 0
	for _, p := range candidates {
		if deleted >= budget {
			break
		}
		out := s.tree.Apply(s.txn(0, nil), tree.DeleteContainer{Path: p})
		if out.Err != nil {
			continue // it gained a child or changed since it was listed
		}
		r := &request{}
		s.commit(r, out)
		s.pipe.push(r.entry())
		deleted++
	}
	if deleted > 0 {
		s.log.Debug("reaped containers and TTL nodes", "deleted", deleted)
	}
	return deleted
}

// quorumLoop closes every client connection while this ensemble member is
// outside a quorum, so clients move to a member that can serve them; new
// connections are refused meanwhile (handleConnect).
func (s *Server) quorumLoop() {
	defer s.wg.Done()
	t := time.NewTicker(min(s.opts.TickTime/2, 100*time.Millisecond))
	defer t.Stop()
	serving := true
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		now := s.repl.Serving()
		if now == serving {
			continue
		}
		serving = now
		// Entering a quorum closes the read-only sessions (their clients
		// reconnect read-write); leaving it closes the others.
		s.mu.Lock()
		conns := make([]*conn, 0, len(s.conns))
		for _, c := range s.conns {
			if c.readOnly != now {
				continue
			}
			conns = append(conns, c)
		}
		s.mu.Unlock()
		if now {
			s.log.Info("in a quorum again; serving clients", "role", s.repl.Role(), "read_only_closed", len(conns))
		} else {
			s.log.Warn("not in a quorum; closing client connections", "role", s.repl.Role(), "connections", len(conns))
		}
		for _, c := range conns {
			if now {
				c.close("member in a quorum again: reconnect read-write")
			} else {
				c.close("member not in a quorum")
			}
		}
	}
}
