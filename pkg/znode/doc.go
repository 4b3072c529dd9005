// Package znode holds the leaf types every other zkx package shares: paths,
// zxids, Stat, ACLs, identities, event types, create modes and the error
// sentinels that pkg/proto maps to ZooKeeper error codes.
//
// It imports nothing of zkx's and only the standard library, so the tree,
// the watch indexes, the codec and the server can all speak the same
// vocabulary without importing each other.
//
// Error model: each failure a client can observe has exactly one sentinel
// here (ErrNoNode, ErrBadVersion, ...). Packages wrap them with %w to add
// context; proto.Code turns any error into the ZooKeeper code with errors.Is.
// The sentinels live here rather than in pkg/tree because the codec must map
// them without importing the tree.
package znode
