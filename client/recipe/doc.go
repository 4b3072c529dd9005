// Package recipe builds small coordination recipes on the zkx client.
//
// TreeCache keeps an in-memory copy of a subtree up to date with one
// persistent-recursive watch: it sets the watch first, then loads the
// subtree by walking it (getData and getChildren), then applies the
// watch's events in order, re-reading a node's data on NodeCreated and
// NodeDataChanged and dropping the node and everything below it on
// NodeDeleted. Because it re-reads rather than trusting event contents,
// events that arrive during the walk are harmless. ZooKeeper does not
// replay persistent-watch events missed while disconnected, so on every
// reconnect the cache walks the subtree again and reports the difference.
//
// LeaderLatch elects one leader among the processes that start a latch on
// the same directory: each creates an ephemeral-sequential node there; the
// lowest sequence number leads, and each other participant watches only
// its predecessor (exists with a watch), so a departure wakes one process,
// not all of them. A latch reports leadership lost as soon as its client
// is disconnected, since it can no longer be sure its node still exists,
// and checks again once reconnected.
//
// Both types are safe for concurrent use. Their change channels never
// block the recipe: TreeCache queues changes without bound, LeaderLatch
// keeps only the latest leadership value.
package recipe
