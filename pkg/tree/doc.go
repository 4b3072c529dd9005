// Package tree is zkx's znode data tree: the in-memory working state that
// every read is answered from and every write is applied to.
//
// # Model
//
// A Tree maps each path to a node holding its data, ACL and the stored
// counters of ZooKeeper's StatPersisted, and each node keeps the names of
// its children. The counters are kept as ZooKeeper stores them and turned
// into the client view only when a Stat is produced:
//
//   - cversion is stored as the number of child creates ever made under the
//     node (it also names sequential children, "%010d", and wraps negative
//     as an int32); clients see 2*stored - numChildren, so the value they
//     see moves on both create and delete.
//   - ephemeralOwner is stored with the container marker
//     (znode.ContainerOwner) or the TTL marker (znode.TTLOwnerMask|ttl);
//     clients see 0 for both. Any stored value whose high byte is 0xFF is a
//     TTL node, whatever the extended-types setting; zkx never hands out
//     such session ids.
//
// A new tree holds "/", "/zookeeper", "/zookeeper/quota" and
// "/zookeeper/config" as ZooKeeper's DataTree constructor builds them.
//
// # Writes
//
// Apply runs one transaction: a single operation or the operations of a
// multi, all under the transaction's zxid and time. Each operation checks
// its preconditions in the order ZooKeeper's PrepRequestProcessor does, so
// a request that is wrong in several ways gets the error a ZooKeeper
// server would give. A transaction is atomic: when an operation fails, the
// ones before it are undone and the tree is left exactly as it was, every
// counter included.
//
// A mutation sends nothing. It returns an Outcome: per-op Results, the
// watch Events it triggers (in ZooKeeper's trigger order, each carrying the
// ACL that a watcher must be able to READ to be told), and the
// storage.Batch to persist. The server decides who is told and when the
// batch is committed.
//
// Apply does not check sessions (SessionExpired) or quotas; the server does
// the former and zkx does not enforce the latter.
//
// # Reads
//
// Reads check the READ permission (ADMIN or READ for GetACL) against the
// caller's authenticated ids and return the znode error sentinels
// (znode.ErrNoNode, znode.ErrNoAuth, ...) wrapped with the path. Like
// ZooKeeper, reads do no path validation beyond what the table lookup
// implies: an invalid path simply does not exist.
//
// # Sharing
//
// Data and ACL slices are never modified in place once stored: a setData
// or setACL replaces them. Slices returned by reads and carried in Events
// and Batches may therefore be shared with the tree; callers must treat
// them as read-only. Data given to Apply is copied.
//
// # Deliberate differences from ZooKeeper
//
//   - A data or ACL version that would wrap to -1 becomes 0 instead
//     (ZOOKEEPER-4743, on ZooKeeper's master only): -1 means "any version"
//     in a request, so a node must never have it.
//   - "" is not an alias of the root; reads of "" answer NoNode.
//   - Children returns names sorted (ZooKeeper: hash-set order).
//   - Create takes the node kind from Mode alone. ZooKeeper turns a plain
//     create request (opcode 1) with the CONTAINER flag into a persistent
//     node; the server maps opcodes to modes.
//
// # Concurrency
//
// A Tree is not safe for concurrent use. The server holds one lock around
// the tree and the watch indexes; every method, the read-only ones
// included, must be called with it held.
package tree
