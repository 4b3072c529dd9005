package changelog

import "github.com/zkx-dev/zkx/pkg/znode"

// Options bound a Window. Zero values mean the defaults.
type Options struct {
	// MaxEvents is the number of events kept. Default 10,000: at a busy
	// server's few thousand writes a second, several seconds of history,
	// which covers a client's typical reconnect.
	MaxEvents int
	// MaxBytes bounds the memory the events hold (paths and ACLs counted
	// approximately). Default 4 MiB.
	MaxBytes int
}

// Window is a bounded, zxid-ordered window of recent events.
type Window struct {
	opts    Options
	events  []znode.Event // events[head:] are live, oldest first
	head    int
	bytes   int
	horizon int64 // events with zxid <= horizon may be missing
}

// New returns an empty window whose history starts after zxid start:
// nothing is known about events at or before it.
func New(start int64, opts Options) *Window {
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 10000
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 4 << 20
	}
	return &Window{opts: opts, horizon: start}
}

// eventSize approximates the memory an event holds.
func eventSize(ev znode.Event) int {
	n := 64 + len(ev.Path)
	for _, a := range ev.ACL {
		n += 24 + len(a.ID.Scheme) + len(a.ID.ID)
	}
	return n
}

// Append records the events of one transaction. Zxids must not decrease
// from one call to the next.
func (w *Window) Append(events []znode.Event) {
	for _, ev := range events {
		ev.Data = nil // replay needs no data; keep the window small
		w.events = append(w.events, ev)
		w.bytes += eventSize(ev)
	}
	for w.Len() > 0 && (w.Len() > w.opts.MaxEvents || w.bytes > w.opts.MaxBytes) {
		w.evict()
	}
	// Compact once the dead prefix dominates, so memory stays O(live).
	if w.head > 1024 && w.head > len(w.events)/2 {
		n := copy(w.events, w.events[w.head:])
		clear(w.events[n:])
		w.events = w.events[:n]
		w.head = 0
	}
}

// evict drops the oldest transaction's events as a whole: a window never
// holds half of a transaction.
func (w *Window) evict() {
	zxid := w.events[w.head].Zxid
	for w.head < len(w.events) && w.events[w.head].Zxid == zxid {
		w.bytes -= eventSize(w.events[w.head])
		w.events[w.head] = znode.Event{}
		w.head++
	}
	w.horizon = max(w.horizon, zxid)
}

// Len returns the number of events held.
func (w *Window) Len() int { return len(w.events) - w.head }

// Bytes returns the approximate memory the events hold.
func (w *Window) Bytes() int { return w.bytes }

// Horizon returns the largest zxid whose events may be missing.
func (w *Window) Horizon() int64 { return w.horizon }

// Since calls fn, in zxid order, for every event with a zxid greater than
// zxid, and reports true; or, when the window no longer reaches back to
// zxid, calls nothing and reports false.
func (w *Window) Since(zxid int64, fn func(znode.Event)) bool {
	if zxid < w.horizon {
		return false
	}
	live := w.events[w.head:]
	// Events are zxid-ordered: find the first newer than zxid.
	lo, hi := 0, len(live)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if live[m].Zxid <= zxid {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for _, ev := range live[lo:] {
		fn(ev)
	}
	return true
}

// Truncate drops every event with a zxid greater than zxid: the server
// calls it when transactions it already recorded could not be made
// durable and were undone.
func (w *Window) Truncate(zxid int64) {
	for w.Len() > 0 && w.events[len(w.events)-1].Zxid > zxid {
		last := len(w.events) - 1
		w.bytes -= eventSize(w.events[last])
		w.events[last] = znode.Event{}
		w.events = w.events[:last]
	}
}
