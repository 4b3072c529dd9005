// Package linear checks that what ZooKeeper clients observed of a set of znodes is
// linearizable, with the porcupine checker (github.com/anishathalye/porcupine).
//
// # Model
//
// Each key is one znode that exists throughout the history and starts as a node created with
// empty data, at version 0. Three operations act on a key:
//
//   - Read: sync (optionally) then getData; it returns the value and the version.
//   - Write: setData with version -1 (unconditional); it returns the new version.
//   - CAS: setData with an expected version; it returns the new version, or BadVersion when
//     the node's version was another one (and then changes nothing).
//
// Written values must be unique within a key (a client name and a sequence number), so that
// a read names the write it saw. Keys are independent, so the model is partitioned by key
// and each key's history is checked on its own (porcupine's Partition). An operation that
// found no node (NoNode) is recorded and refused by the model: the keys exist throughout.
//
// # Unknown outcomes
//
// A write or CAS whose reply never came (connection loss, a member killed, a session lost)
// may have taken effect or not, at any moment after it was sent, even long after the client
// gave up. It is recorded with an Unknown output and a return time of Never (the end of
// time): the model accepts an unknown write wherever the checker places it, with its effect,
// and since it never returns it can always be placed after every other operation, which is
// the same as not having happened. A read whose reply never came constrains nothing and is
// not recorded; neither is an operation the client never sent (go-zookeeper's ErrNoServer),
// which certainly had no effect.
//
// # Use
//
// A Recorder collects the history from concurrent clients: Begin before sending the first
// request of an operation, then exactly one of Call.Done, Call.Unknown or Call.Discard once
// it is over. Check runs porcupine on the history; CheckHistory does so in a test and, for a
// history that is not linearizable or could not be decided, writes porcupine's HTML
// visualization and the history itself (WriteHistory, one JSON operation a line), kept when
// the test fails and their paths logged. ReadHistory reads such a file back, to check it
// again (with a longer timeout, say) or to study it.
//
// Each unknown write or CAS multiplies the work of the checker, which may place it at any
// later point; clients should avoid piling them up (back off after a failure, probe with
// reads, which cost nothing when they fail, before writing again).
//
// The result constants Linearizable, NotLinearizable and Inconclusive (the checker ran out
// of time) let callers use the result without importing porcupine, which only this package
// may import (internal/lint).
//
// # Concurrency
//
// Recorder and Call are safe for concurrent use; each Call must be ended once. Model, Check
// and CheckHistory are pure or use only their arguments.
package linear
