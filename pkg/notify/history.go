package notify

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// History is the change log a host resumes delivery from: after a plugin's
// queue overflowed, after a plugin restart that outlived its queue, and
// after a server restart.
//
// Since calls fn, in zxid order, for the events with zxid greater than
// after, until fn returns false, and reports complete=true; or, when the
// history no longer reaches back to after (events newer than after were
// discarded), calls nothing and reports complete=false. Events of
// NodeCreated and NodeDataChanged should carry Data; a history that does
// not keep values delivers them without.
//
// When it reports complete=false, Since may already have called fn; the
// caller discards those events.
//
// Every event passed to Host.Sink must already be in the history when Sink
// is called (a storage-backed log satisfies this, since the sink runs after
// the transaction is durable). At Start the host reads a History before any
// Sink call, to resume plugins without waiting for a write, so Since must
// hold what the server committed before the host was created (a Ring that
// has not been appended to yet is not read then). Implementations must be
// safe for concurrent use.
type History interface {
	Since(after int64, fn func(znode.Event) bool) (complete bool, err error)
}

// Horizoner is implemented by a History that can tell how far back it
// reaches: events with zxid <= Horizon() may be missing. The host uses it
// to make a gap as narrow as possible; without it a gap extends to the
// newest event seen.
type Horizoner interface {
	Horizon() int64
}

// RingOptions bound a Ring. Zero values mean the defaults.
type RingOptions struct {
	// MaxEvents is the number of events kept. Default 100,000: tens of
	// seconds of a busy server's writes, so a plugin that restarts or
	// briefly stalls resumes without a gap.
	MaxEvents int
	// MaxBytes bounds the memory held (paths and values). Default 64 MiB.
	MaxBytes int
	// KeepData keeps node values, for plugins that include data.
	KeepData bool
}

// Ring is an in-memory History: a bounded, zxid-ordered ring of recent
// events. It starts empty and knows nothing before the first event it is
// given, so after a server restart a plugin that had not caught up receives
// a gap; resuming across a restart needs a durable change log.
//
// Ring is safe for concurrent use: one writer (Append) and any number of
// readers (Since).
type Ring struct {
	opts RingOptions

	mu      sync.RWMutex
	events  []znode.Event // events[head:] are live, oldest first
	head    int
	bytes   int
	horizon int64 // events with zxid <= horizon may be missing
	started bool
}

var (
	_ History   = (*Ring)(nil)
	_ Horizoner = (*Ring)(nil)
)

// NewRing returns an empty ring.
func NewRing(opts RingOptions) *Ring {
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 100000
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 64 << 20
	}
	return &Ring{opts: opts}
}

func (r *Ring) size(ev *znode.Event) int { return 64 + len(ev.Path) + len(ev.Data) }

// Append records the events of one transaction; zxids must not decrease
// from one call to the next. The events' Data is retained, not copied, so
// it must not be modified afterwards.
func (r *Ring) Append(events []znode.Event) {
	if len(events) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		r.started = true
		r.horizon = events[0].Zxid - 1
	}
	for _, ev := range events {
		ev.ACL = nil
		if !r.opts.KeepData {
			ev.Data = nil
		}
		r.events = append(r.events, ev)
		r.bytes += r.size(&ev)
	}
	for len(r.events)-r.head > 0 && (len(r.events)-r.head > r.opts.MaxEvents || r.bytes > r.opts.MaxBytes) {
		// Drop the oldest transaction whole.
		z := r.events[r.head].Zxid
		for r.head < len(r.events) && r.events[r.head].Zxid == z {
			r.bytes -= r.size(&r.events[r.head])
			r.events[r.head] = znode.Event{}
			r.head++
		}
		r.horizon = max(r.horizon, z)
	}
	if r.head > 1024 && r.head > len(r.events)/2 {
		n := copy(r.events, r.events[r.head:])
		clear(r.events[n:])
		r.events = r.events[:n]
		r.head = 0
	}
}

// Horizon returns the largest zxid whose events may be missing, or -1
// before the first Append.
func (r *Ring) Horizon() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !r.started {
		return -1
	}
	return r.horizon
}

// Len returns the number of events held.
func (r *Ring) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.events) - r.head
}

// Since implements History. Before the first Append it reports an empty,
// complete history. fn runs under the ring's read lock and must not call
// Append.
func (r *Ring) Since(after int64, fn func(znode.Event) bool) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.started && after < r.horizon {
		return false, nil
	}
	live := r.events[r.head:]
	lo, hi := 0, len(live)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if live[m].Zxid <= after {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for _, ev := range live[lo:] {
		if !fn(ev) {
			break
		}
	}
	return true, nil
}

// ChangeLog is a storage backend's durable change log (storage.ChangeLog,
// implemented by the badger backend): Events calls fn for the retained
// events after after and returns the horizon, the largest zxid whose
// events may have been dropped, as of the same snapshot.
type ChangeLog interface {
	Events(ctx context.Context, after int64, fn func(znode.Event) bool) (horizon int64, err error)
}

// FromChangeLog adapts a durable change log to a History, so that delivery
// resumes across a server restart without a gap as long as the log's
// retention still covers the plugin's position. The result is safe for
// concurrent use if the log is.
func FromChangeLog(cl ChangeLog) History {
	h := &changeLogHistory{cl: cl}
	h.horizon.Store(-1)
	return h
}

type changeLogHistory struct {
	cl      ChangeLog
	horizon atomic.Int64 // as of the latest read, -1 before any
}

var _ Horizoner = (*changeLogHistory)(nil)

func (c *changeLogHistory) Since(after int64, fn func(znode.Event) bool) (bool, error) {
	h, err := c.cl.Events(context.Background(), after, fn)
	if err != nil {
		return false, err
	}
	c.horizon.Store(h)
	return after >= h, nil
}

func (c *changeLogHistory) Horizon() int64 { return c.horizon.Load() }
