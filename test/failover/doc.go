// Package failover runs real ZooKeeper clients against a 3-member zkx
// ensemble (the real binary, on loopback) and SIGKILLs the member each
// client is connected to: kazoo (Python) with a one-shot data watch, and
// Curator on the ZooKeeper Java client holding an InterProcessMutex and a
// LeaderLatch. Each client must reconnect to another member within its
// session timeout and keep its session, its ephemeral nodes, its lock and
// leadership, and its watches. The client programs (kazoo_failover.py,
// FailoverCheck.java) print what they checked; the test passes their
// transcript through.
package failover
