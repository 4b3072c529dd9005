// Package harness starts the servers that zkx's black-box tests talk to: the real zkx binary
// and, for differential tests, a real Apache ZooKeeper 3.8 standalone server from Debian's
// zookeeper package.
//
// # Model
//
// Every server is a child process bound to 127.0.0.1 on a port chosen by FreePort, with its
// output captured to a log file under the test's t.TempDir(). A start call returns only once
// the server really serves clients (it holds the listening socket on its port, found in /proc,
// and ZooKeeper answers the srvr four-letter word, zkx completes a ZooKeeper session
// handshake); it never sleeps a fixed time. When the test fails, the tail
// of the server's log is printed. The process is killed in t.Cleanup, and it is started with a
// parent-death signal so that a crashed test binary does not leave servers behind.
//
// StartZkx builds ./cmd/zkx once per test binary (the module root is found from the test's
// working directory) and fails the test if that build fails: it never substitutes ZooKeeper.
//
// Missing system packages (java, ZooKeeper, kazoo, zkCli.sh) make the test fail with a message
// that names scripts/install-test-deps.sh; the suite is skipped only under go test -short
// (SkipIfShort).
//
// Test packages should call Main from TestMain so that the zkx binary built for the run is
// removed afterwards.
//
// # Concurrency
//
// Server methods are safe for concurrent use. FreePort, StartZooKeeper and StartZkx may be
// called from parallel tests; the zkx build is shared and happens once.
package harness
