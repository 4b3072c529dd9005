package server

import (
	"time"

	"github.com/zkx-dev/zkx/pkg/tree"
)

// expiryLoop expires sessions whose bucket has passed, once per tick.
func (s *Server) expiryLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.TickTime)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.mu.Lock()
			if s.writesRefused() != nil {
				// Expiring deletes ephemerals, a write: wait until storage
				// accepts writes again. Sessions due meanwhile expire then.
				s.mu.Unlock()
				continue
			}
			for _, sess := range s.sessions.expired(now) {
				s.log.Info("session expired", "session", hex64(sess.id), "timeout", sess.timeout)
				s.stats.expired.Add(1)
				c := sess.conn
				s.closeSession(sess, "expired")
				if c != nil {
					// Closed after the deletes are queued: the client learns of
					// the expiry when it reconnects and is refused.
					s.pipe.push(&entry{after: func() { c.close("session expired") }})
				}
			}
			s.mu.Unlock()
		}
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
