// Package changelog keeps a bounded window of the most recent watch events,
// in zxid order, so that a client reconnecting with persistent or recursive
// watches can be sent the events it missed while it was away.
//
// # The guarantee
//
// A Window knows a horizon: the largest zxid whose events it may have
// forgotten (events evicted by the count or byte bound, or that happened
// before the window was created). For a client that last saw zxid Z:
//
//   - if Z >= horizon, Since(Z) yields every event with zxid > Z, in zxid
//     order, exactly once: nothing was missed;
//   - if Z < horizon, Since reports false and yields nothing: some event
//     may be lost, and the caller must fall back to ZooKeeper's behaviour
//     (re-arm only; the client re-reads its state).
//
// There is no middle ground: a replay is either complete or not attempted,
// so a client never mistakes a partial history for a complete one.
//
// A Window is plain data without goroutines or I/O. It is not safe for
// concurrent use; the server appends and reads it under its apply lock, so
// the window always agrees with the tree. The durable change log that
// outlives a restart builds on the same contract.
package changelog
