// Package ensemble replicates a zkx server over hashicorp/raft: a 3- or
// 5-member ensemble (plus non-voting observers) whose members apply the
// same log in the same order and so hold the same tree, Stats and zxids.
//
// # Model
//
// The package knows nothing of znodes. It moves opaque entries: the server
// (pkg/server) encodes each state change (a client's write, a session
// created or expired, a container reaped) as an entry, hands it to
// Node.Propose, and applies committed entries through the StateMachine it
// gives to Node.Start. Raft's FSM.Apply is the only place state changes on
// a member, Consul's pattern; watches fire from each member's own apply, so
// nothing about watches is replicated.
//
// A member that is not the leader forwards its proposals over one TCP
// stream to the leader, in the order its clients sent them; the leader
// appends them to the log in arrival order. A client's reply is produced
// by the apply on the member the client is connected to, so a follower
// answers its clients in order (FIFO per session, as ZooKeeper's
// FollowerRequestProcessor does). When forwarding fails (the leader died,
// or lost its quorum) the outcome of the write is unknown and the member
// reports it through StateMachine.ProposalFailed; the server closes the
// client's connection, as ZooKeeper does, and the client retries elsewhere.
//
// # Stamps: zxids and time
//
// The leader stamps every entry before appending it (Stamp): the zxid and
// the wall-clock time the transaction carries. Applying is then
// deterministic: no member reads its own clock or random source inside
// Apply. A zxid is epoch<<32 | counter, ZooKeeper's shape. A new leader
// first waits until it has applied every entry of earlier terms (a raft
// barrier), then takes epoch = epoch(last applied zxid)+1 and counter 0, so
// zxids rise across leader changes. An entry that consumes no zxid (sync)
// is stamped with the last zxid handed out.
//
// Entries carry their zxid, which makes a restart cheap: the server loads
// its tree from its own storage (badger) and raft replays the log after
// its last snapshot; entries whose zxid the stored state already covers
// are skipped by the server. Snapshots stream the whole tree; restoring
// one older than the stored state is a no-op.
//
// # Sessions
//
// Only the leader expires sessions. Members forward the ids of the
// sessions their clients touched (every request and ping) to the leader
// every half tick (ZooKeeper's learner session tracking); the leader keeps
// the expiry buckets and proposes the close of each expired session. A new
// leader gives every session a full timeout from the moment it takes over.
//
// # Transport
//
// One TCP listener per member, on its raft address, carries both raft's
// own RPCs and the forwarding stream: the first byte of a connection says
// which (Consul multiplexes its server port the same way).
//
// # Availability
//
// A member serves clients only while it is in a quorum: the leader while
// raft keeps it leader (it steps down after LeaderLeaseTimeout without a
// quorum), a follower or observer while it hears from a leader
// (Node.Serving). The server closes its client connections when that
// stops, so clients move to a member that can serve them.
package ensemble
