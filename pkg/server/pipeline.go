package server

import (
	"context"
	"sync"

	"github.com/zkx-dev/zkx/pkg/storage"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// entry is one handled request (or internal transaction) on its way out:
// what to persist, then what to send, then what to do after sending.
type entry struct {
	batch  *storage.Batch // nil for reads
	events []znode.Event  // the transaction's events, for Options.EventSink
	out    []delivery     // notifications first, the reply last
	after  func()         // runs after delivery, e.g. close a connection

	// For a failed commit (see Server.commitFailed):
	undo    func()    // reverts the transaction's effects (nil for reads)
	reply   *delivery // the reply in out, answered with an error instead
	xid     int32     // the reply's xid
	newConn *conn     // a connection whose new session was not persisted
}

// delivery is one frame for one connection.
type delivery struct {
	c     *conn
	frame []byte
}

// pipeline is the server-wide FIFO between the apply path and the
// connections. push is called under Server.mu, so entries queue in apply
// order; the committer persists every queued batch as one storage commit
// and then delivers the entries in that order. See doc.go.
type pipeline struct {
	s       *Server
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*entry
	busy    bool // the committer holds entries not yet delivered
	stopped bool
}

func newPipeline(s *Server) *pipeline {
	p := &pipeline{s: s}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// push queues e. A read with nothing ahead of it is delivered at once: no
// write is pending, so everything it observed is already durable.
func (p *pipeline) push(e *entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.batch == nil && !p.busy && len(p.queue) == 0 {
		deliver(e)
		return
	}
	p.queue = append(p.queue, e)
	p.cond.Signal()
}

func (p *pipeline) shutdown() {
	p.mu.Lock()
	p.stopped = true
	p.cond.Signal()
	p.mu.Unlock()
}

func (p *pipeline) run(wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.stopped {
			p.cond.Wait()
		}
		if len(p.queue) == 0 {
			p.mu.Unlock()
			return
		}
		entries := p.queue
		p.queue = nil
		p.busy = true
		p.mu.Unlock()

		if b, n := mergeBatches(entries); n > 0 {
			if err := p.s.opts.Backend.Commit(context.Background(), b); err != nil {
				p.s.commitFailed(entries, err, n)
				p.mu.Lock()
				p.busy = false
				p.mu.Unlock()
				continue
			}
			p.s.stats.commits.Add(1)
			p.s.commitSucceeded(b.Zxid)
		}
		for _, e := range entries {
			deliver(e)
			if len(e.events) > 0 && p.s.opts.EventSink != nil {
				p.s.opts.EventSink(e.events)
			}
		}

		p.mu.Lock()
		p.busy = false
		p.mu.Unlock()
	}
}

func deliver(e *entry) {
	for _, d := range e.out {
		d.c.enqueue(d.frame)
	}
	if e.after != nil {
		e.after()
	}
}

// mergeBatches folds the batches of several transactions into one, keeping
// for each path and session only its final state. A storage batch is
// atomic, so the merged batch persists exactly the state after the last of
// them. It returns how many transactions were merged.
func mergeBatches(entries []*entry) (storage.Batch, int) {
	var (
		n        int
		out      storage.Batch
		nodes    map[string]*storage.Node
		order    []string
		sessions map[int64]*storage.Session
		sorder   []int64
	)
	for _, e := range entries {
		b := e.batch
		if b == nil {
			continue
		}
		n++
		if n == 1 {
			out = *b // the common case: a single transaction
			continue
		}
		if n == 2 {
			nodes = make(map[string]*storage.Node)
			sessions = make(map[int64]*storage.Session)
			order, sorder = foldBatch(out, nodes, sessions, nil, nil)
		}
		order, sorder = foldBatch(*b, nodes, sessions, order, sorder)
		out.Zxid = max(out.Zxid, b.Zxid)
	}
	if n <= 1 {
		return out, n
	}
	merged := storage.Batch{Zxid: out.Zxid}
	for _, e := range entries {
		if e.batch != nil {
			merged.Events = append(merged.Events, e.batch.Events...) // entries are in zxid order
		}
	}
	for _, p := range order {
		if nd := nodes[p]; nd != nil {
			merged.Puts = append(merged.Puts, *nd)
		} else {
			merged.Deletes = append(merged.Deletes, p)
		}
	}
	for _, id := range sorder {
		if ss := sessions[id]; ss != nil {
			merged.SessionPuts = append(merged.SessionPuts, *ss)
		} else {
			merged.SessionDeletes = append(merged.SessionDeletes, id)
		}
	}
	return merged, n
}

func foldBatch(b storage.Batch, nodes map[string]*storage.Node, sessions map[int64]*storage.Session, order []string, sorder []int64) ([]string, []int64) {
	for i := range b.Deletes {
		p := b.Deletes[i]
		if _, seen := nodes[p]; !seen {
			order = append(order, p)
		}
		nodes[p] = nil
	}
	for i := range b.Puts {
		p := b.Puts[i].Path
		if _, seen := nodes[p]; !seen {
			order = append(order, p)
		}
		nodes[p] = &b.Puts[i]
	}
	for _, id := range b.SessionDeletes {
		if _, seen := sessions[id]; !seen {
			sorder = append(sorder, id)
		}
		sessions[id] = nil
	}
	for i := range b.SessionPuts {
		id := b.SessionPuts[i].ID
		if _, seen := sessions[id]; !seen {
			sorder = append(sorder, id)
		}
		sessions[id] = &b.SessionPuts[i]
	}
	return order, sorder
}
