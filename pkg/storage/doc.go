// Package storage defines how zkx persists committed transactions so that a
// restart can rebuild the znode tree and the session table.
//
// # Model
//
// The in-memory tree (pkg/tree) is always the working state: every read is
// answered from it and every write is applied to it first. A Backend only
// records the result. For each transaction the tree returns a Batch naming
// the nodes whose final state changed (Puts, each a complete Node) and the
// nodes that no longer exist (Deletes); the server adds session changes and
// hands the batch to Commit. At startup Load replays everything stored, the
// tree is rebuilt from the nodes (tree.NewFromStorage) and the sessions are
// restored from State.
//
// A Backend therefore stores a key-value image, not a log: one record per
// path and one per session, plus the highest committed zxid.
//
// # Contract
//
//   - Atomicity: a Batch is applied entirely or not at all. A Load that runs
//     concurrently with, or after a crash during, a Commit sees either none
//     or all of that batch.
//   - Order: commits take effect in the order their Commit calls are made
//     (for calls that overlap in time, in some serial order). Within one
//     batch, Deletes are applied before Puts and SessionDeletes before
//     SessionPuts, so a path or session named in both ends up stored.
//     Deleting a path or session that is not stored is not an error.
//   - LastZxid: State.LastZxid is the largest Batch.Zxid ever committed; it
//     never goes backwards, even when a batch with a smaller zxid commits
//     later. A batch with no node or session changes still advances it, so
//     the server can persist the zxid of a transaction that changed nothing.
//   - Durability: when Commit returns nil, the batch survives Close and, for
//     a durable backend, a crash of the process (or of the machine, if the
//     backend syncs to disk; each backend's options say which). The memory
//     backend is not durable at all: its state lives as long as the value.
//   - Validation: a Node with an empty Path or one not starting with "/" or
//     a Session with ID 0 makes Commit fail with ErrInvalidBatch and apply
//     nothing.
//   - Ownership: Commit copies what it keeps, so the caller may reuse the
//     batch's slices once Commit returns. Nodes passed to Load's callback
//     and the Sessions in State are fresh copies the caller owns.
//   - Cancellation: Commit and Load given a context that is already done
//     return its error and change nothing. Once a Commit has started
//     writing, a backend may finish it regardless of the context.
//   - Lifecycle: after Close, Commit and Load return ErrClosed. Close may be
//     called more than once.
//
// Backends are checked against this contract by the conformance suite in
// pkg/storage/storagetest.
package storage
