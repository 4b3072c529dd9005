// Package server is the zkx network server: the listener, connections,
// sessions, the apply path and the routing of watch events.
//
// # Connections
//
// Each client connection has one reader goroutine and one writer goroutine.
// The reader decodes a frame, handles the request and hands the result to
// the pipeline; it never writes to the socket. The writer drains the
// connection's outbound queue, which carries replies and watch
// notifications in one FIFO and is bounded in bytes (Options.MaxOutbound):
// a client that stops reading is disconnected with a logged reason once the
// bound is passed, so it cannot grow the server's memory or slow any other
// session (the model is nats-server's readLoop/writeLoop and max-pending).
//
// # The apply path
//
// Every request, read or write, is handled under one lock (Server.mu) that
// guards the tree, the watch indexes and the session table. A write is
// given the next zxid, applied to the tree, and the watches its events fire
// are resolved and consumed in the same critical section; a read that sets
// a watch reads and registers under the same lock, so no change can slip
// between the read and the watch.
//
// The handled request leaves the lock as a pipeline entry: the storage batch
// it must persist (writes only), the notifications to deliver and the reply.
// The pipeline (pipeline.go) is one FIFO for the whole server. Its committer
// takes every queued entry, persists all their batches as ONE storage
// commit (group commit: many transactions share one disk sync), and only
// then delivers the entries in order: notifications first, then the reply.
// Because reads travel the same FIFO, a read that observed a write is never
// answered before that write is durable, and a watcher always receives the
// event before any reply that shows it the new data (ZooKeeper's ordering
// guarantee). No lock is held across disk or network I/O.
//
// # Replication
//
// With Options.Replicator set (an ensemble member, replicate.go), the
// same handlers run on two sides of a raft log. A write is not applied
// where it arrives: it is encoded with the session and identities it acts
// as and proposed; the leader stamps it with its zxid and time; every
// member applies the committed entry through Apply, which runs the same
// handler (write, opCreate, opMulti, closeSession) under s.mu with the
// stamp's zxid and time, fires its watches locally, and pushes the usual
// pipeline entry. Only the member the client is connected to (request.c
// non-nil) adds the reply. Until then the connection's later requests,
// reads included, wait in conn.deferred and are handled in order after the
// reply: FIFO per session and read-your-writes, as in ZooKeeper.
//
// Apply must be deterministic: it reads no clock (the stamp carries the
// time), no random source (session ids and passwords are chosen by the
// member that proposes the session) and no local state that differs
// between members (writesRefused is never consulted; a storage failure
// stops the member through Options.OnFatal instead of undoing). Sessions
// are created, closed and expired through the log; only the leader
// expires them and reaps containers, from the touches members forward.
// A replicated failed write takes a zxid, as in ZooKeeper.
//
// # Watches
//
// Watches belong to connections, not sessions: a connection's watches are
// dropped when it closes and re-armed by the client with setWatches. The
// one-shot table (pkg/watch/oneshot) and the persistent index
// (pkg/watch/persistent) answer who watches a path; trigger.go holds the one
// table that says which kinds of watch an event type fires, applies
// ZooKeeper's "one notification per connection per trigger" rule and the
// READ-ACL check at delivery, and encodes each notification once for all
// its receivers.
//
// # Sessions
//
// Sessions expire in tick-sized buckets, as ZooKeeper's ExpiryQueue does:
// a session touched at time t expires at the first tick boundary after
// t+timeout. Expiry and closeSession delete the session's ephemeral nodes
// through the same apply path, so watchers see the usual events.
//
// Differences from Apache ZooKeeper, each deliberate:
//   - A re-attach with a wrong password is refused before the connection
//     that holds the session is touched; ZooKeeper closes that connection
//     first, which lets anyone who knows a session id disconnect it.
//   - Session passwords are random, not derived from the session id.
//   - Failed writes do not consume a zxid on a standalone server. Zxids
//     stay strictly increasing, which is all clients rely on.
//   - The first zxid after a start is at least (unix minutes)<<32, so even
//     a memory-backed server restarted under live clients never answers
//     with a zxid lower than one they have seen.
package server
