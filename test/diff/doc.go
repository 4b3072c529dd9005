// Package diff is zkx's differential test: the same client scenario runs against a real
// Apache ZooKeeper 3.8 server and against zkx, and what the clients observed must be the same.
//
// # Model
//
// A scenario (scenarios_test.go) drives one or more go-zookeeper clients, plus a raw-protocol
// client (RawClient, built on pkg/proto) for the reads go-zookeeper lacks. Every result, error
// code, Stat, sorted child list, ACL and watch event is written as one line of a Transcript.
// Server-specific values are written as tokens and then normalised (Normalize): session ids
// become S1, S2... by first appearance; zxids become Z1, Z2... by rank, so equality and order
// must match but absolute values need not; ctime is checked to be "now" and mtime only
// relative to ctime. The two normalised transcripts must be identical; otherwise the test
// prints a unified diff (UnifiedDiff).
//
// Events are recorded without sleeping: Client.Drain first does a round trip on the watching
// connection, and since a server queues a connection's notifications ahead of any later reply,
// every event caused by changes already acknowledged has arrived by then. Events the server
// causes by itself (session expiry) are awaited with a deadline (AwaitEvents).
//
// Cases where ZooKeeper 3.8 and 3.9 differ visibly are kept out of the scenarios; README.md
// lists them. Setting ZKX_DIFF_SELFCHECK=1 compares ZooKeeper with a second ZooKeeper instead
// of zkx, to check that the scenarios themselves are deterministic.
//
// # Concurrency
//
// Transcript and SyncBuffer are safe for concurrent use. An Env, its Clients and RawClients
// belong to the one goroutine running the scenario; go-zookeeper's callbacks feed a Client's
// event queue concurrently, under the Client's lock.
package diff
