// Package ensemble holds black-box tests of a replicated zkx ensemble: real zkx processes
// started by harness.StartEnsemble (one YAML configuration, badger data directory and raft
// directory per member, all on loopback), driven by go-zookeeper clients, with members
// killed (SIGKILL) and restarted on their data while the clients work.
//
// # What is checked
//
//   - TestEnsembleWriteThroughFollowerIsEverywhere: a write sent to a follower is on every
//     member, observer included, after a sync there, with the same data and the same Stat
//     (czxid, mzxid, pzxid, versions, times) everywhere; srvr names one leader, the
//     followers and the observer.
//   - TestEnsembleLeaderKillKeepsSessionAndEphemeral: a client whose connect string starts
//     with the leader keeps its session and its ephemeral node when the leader is SIGKILLed,
//     its writes go on under the new leader (in a new zxid epoch), the killed member catches
//     up when restarted, and once every member has applied the same zxid and the ensemble is
//     stopped (followers first, so no election happens meanwhile), `zkx dump` of every
//     member's data directory is identical.
//   - TestEnsembleLinearizableAcrossLeaderKills: four clients, three starting on different
//     members and failing over to the others in turn and one on the whole connect string,
//     read (sync, then getData), write (setData) and compare-and-set (setData with a version)
//     three keys while the leader is SIGKILLed and restarted (3 times, 2 under -short). The
//     history, checked by test/linear's porcupine model, must be linearizable.
//   - TestEnsembleCheckerCatchesStaleReads: the same workload against an ensemble whose
//     followers apply every committed entry 50 ms late (debug.apply_delay, a planted bug),
//     one client on the leader and the others on followers, no kills. Without sync before
//     reads the followers' reads are stale, and the checker must say the history is NOT
//     linearizable: this shows the check can fail. With sync before reads the same lag must
//     stay linearizable, since a sync is ordered in the log after every write acknowledged
//     before it.
//
// # Histories
//
// Operations whose outcome the client could not learn (connection loss, a member killed
// mid-request) are recorded as unknown and may have taken effect or not (see test/linear);
// operations go-zookeeper never sent (ErrNoServer) and failed reads are left out; NoNode is
// recorded, and refused by the model, since the keys exist throughout. After a failure a
// client backs off and only reads until a read succeeds: for up to a heartbeat timeout
// after the leader dies, the other members still accept sessions and drop the connection
// at the first write, and a client writing on would fill the history with unknown
// operations, which make the check exponentially slower. The kill
// schedule follows the workload's progress, not the clock: the leader is killed each time
// the clients have completed another batch of operations, so every phase of the history
// has operations under a different leader, however fast the machine is. The seed of the
// clients' choices is logged (rerun with -args -seed=N; -kills=N sets the number of leader
// kills). A history that is not linearizable is written as porcupine's HTML visualization
// and as JSON lines (linear.ReadHistory), kept when the test fails (their paths are logged).
//
// Every wait is for an effect (a mode in srvr, a session, a count of operations, equal
// zxids), bounded by a timeout; nothing sleeps a fixed time.
package ensemble
