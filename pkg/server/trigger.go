package server

import (
	"slices"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/watch/oneshot"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// watchTable names ZooKeeper's two logical watch tables.
//
//	data table:  one-shot data/exist watches on the path (consumed),
//	             persistent watches on the path,
//	             recursive watches on the path or any ancestor.
//	child table: one-shot child watches on the path (consumed),
//	             persistent watches on the path.
type watchTable uint8

const (
	dataTable watchTable = iota
	childTable
)

// triggers is THE table of which watch tables an event type fires (the
// trigger table of DataTree: createNode fires the data table for the node
// and the child table for the parent; deleteNode fires the data table and
// then the child table for the node, and the child table for the parent;
// setData fires the data table). The tree emits NodeChildrenChanged for
// the parent itself, so each event type maps to its tables here.
var triggers = map[znode.EventType][]watchTable{
	znode.EventNodeCreated:         {dataTable},
	znode.EventNodeDataChanged:     {dataTable},
	znode.EventNodeDeleted:         {dataTable, childTable},
	znode.EventNodeChildrenChanged: {childTable},
}

// fire resolves who is told of each event, consuming one-shot watches, and
// appends one notification per (event, connection) to out. A connection
// that matched several watches, or both tables of a delete, is told once
// (WatcherOrBitSet suppression). A connection that may not READ the node
// (or, for NodeChildrenChanged, the parent) is not told at all: the
// CVE-2024-23944 rule of ZooKeeper 3.8.4 and 3.9.2. Callers hold s.mu.
func (s *Server) fire(events []znode.Event, out []delivery) []delivery {
	var targets []uint64
	for _, ev := range events {
		targets = targets[:0]
		collect := func(w uint64) { targets = append(targets, w) }
		for _, t := range triggers[ev.Type] {
			switch t {
			case dataTable:
				s.oneshot.Trigger(oneshot.Data, ev.Path, collect)
				s.persist.MatchData(ev.Path, collect)
			case childTable:
				s.oneshot.Trigger(oneshot.Child, ev.Path, collect)
				s.persist.MatchChild(ev.Path, collect)
			}
		}
		if len(targets) == 0 {
			continue
		}
		slices.Sort(targets)
		targets = slices.Compact(targets)
		var frame []byte
		for _, w := range targets {
			c := s.conns[w]
			if c == nil || !znode.Allowed(ev.ACL, c.auth, znode.PermRead) {
				continue
			}
			if frame == nil { // encoded once, shared by every receiver
				frame = notification(ev.Type, ev.Path, ev.Zxid)
			}
			out = append(out, delivery{c: c, frame: frame})
			s.stats.notifications.Add(1)
		}
	}
	return out
}

// notification encodes a watch event frame: ReplyHeader{-1, zxid, 0} and
// a WatcherEvent. The zxid is the triggering transaction's (ZooKeeper 3.9),
// or -1 for events replayed by setWatches.
func notification(t znode.EventType, path string, zxid int64) []byte {
	return frame(func(e *proto.Encoder) {
		(&proto.ReplyHeader{Xid: proto.XidNotification, Zxid: zxid}).Encode(e)
		(&proto.WatcherEvent{Type: int32(t), State: znode.StateSyncConnected, Path: path}).Encode(e)
	})
}
