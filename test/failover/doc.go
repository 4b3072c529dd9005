// Package failover runs a zkx ensemble of real processes (the real
// binary, on loopback, each member on its own 127.0.x.y address) through
// the faults an ensemble exists to survive, with real clients:
//
//   - kazoo (Python) and Curator on the ZooKeeper Java client, each with the
//     member it is connected to SIGKILLed: the client reconnects to another
//     member within its session timeout and keeps its session, ephemeral
//     nodes, one-shot watch, InterProcessMutex and LeaderLatch
//     (kazoo_failover.py, FailoverCheck.java print what they checked);
//   - 20 leader SIGKILLs under four go-zookeeper writers (-args -kills=N;
//     3 under -short): no acknowledged create is lost, and every member's
//     data dir dumps the same once the ensemble stops;
//   - a leader cut off from the others with iptables (both ways, or only
//     its outgoing packets): it stops leading and serving within about a
//     second, the others elect a leader and take writes, and after the
//     network heals it rejoins as a follower with every write made
//     meanwhile;
//   - notifier plugins across two leader kills: delivery moves with the
//     leader, in zxid order, and nothing is lost;
//   - a 5-member ensemble goes on with its leader and a follower killed,
//     and a member whose data dir is deleted rebuilds it from raft;
//   - a recursive watch of zkx's Go client moves to another member when
//     its member is killed, and that member replays the changes made while
//     the client was away: every change seen once, in zxid order.
//
// The partition test needs root and iptables (scripts/install-test-deps.sh
// installs it); it only ever drops packets between the ensemble's own
// loopback addresses, in an iptables chain of its own that it removes.
package failover
