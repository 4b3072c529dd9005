// Package crash is zkx's kill -9 durability test: the real zkx binary on the badger backend
// (storage.sync on) is killed with SIGKILL at random moments while clients write to it, then
// restarted on the same data directory, again and again.
//
// # What is checked
//
// Each client records only what was acknowledged: a call that returned without error, with the
// Stat it returned. After every restart the test checks that
//
//   - every acknowledged create and setData is present: per node, the stored version is at
//     least the last acknowledged one, and when the versions are equal the data and mzxid are
//     too (a later, unacknowledged write may legitimately have landed);
//   - every acknowledged delete is still a delete;
//   - each multi transaction (three creates and a version-checked setData of a per-worker
//     counter node) is all or nothing, acknowledged or not, and the counter node's version
//     equals the number of that worker's multis that are present;
//   - zxids continue upward: the first write after a restart gets a zxid above every zxid an
//     acknowledged write returned before the kill;
//   - the ephemeral nodes of sessions that died with the server are present after the restart
//     (when checked within their session timeout) and are deleted once their session timeout
//     has passed without the session coming back.
//
// # Reproducing a failure
//
// The seed (go test ./test/crash -args -seed=N) decides the kill delays and each worker's
// choice of operations; the interleaving with the server is not deterministic. -cycles=N sets
// the number of kill/restart cycles (default 20, 5 under -short). The flags are not ZKX_*
// environment variables because zkx, which inherits the environment, refuses unknown ones. A failure names the seed, the
// cycle, the node, what was acknowledged and what was found, and keeps the data directory
// (its path is logged) for `zkx dump`.
package crash
