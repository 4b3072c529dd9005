"""kazoo across the loss of its ensemble member.

Usage: kazoo_failover.py HOSTS
HOSTS is a connect string whose first host is the member the test will
kill; the client connects to it first (randomize_hosts=False). The script
creates an ephemeral node and a data watch, prints "ready SESSION", waits
for a line on stdin (the member is dead by then), then checks that the
client moved to another member and kept its session, its ephemeral node
and its watch, and prints "ok: ..." lines and "all kazoo failover checks
passed". Any failure prints "FAIL: ..." and exits 1.
"""
import sys
import threading
import time

from kazoo.client import KazooClient, KazooState


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


def main():
    hosts = sys.argv[1]
    zk = KazooClient(hosts=hosts, timeout=10.0, randomize_hosts=False,
                     connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
    states = []
    zk.add_listener(lambda s: states.append(s))
    zk.start(timeout=30)
    sid, pw = zk.client_id
    zk.ensure_path("/kz")
    zk.create("/kz/eph", b"mine", ephemeral=True)
    zk.create("/kz/data", b"v0")
    fired = threading.Event()
    seen = []

    # kazoo 2.8 sends no SetWatches on reconnect: its DataWatch re-reads
    # the node (re-arming its watch) once the client is connected again,
    # and calls back with event None when that read finds a change. Either
    # way the callback gets the new data.
    @zk.DataWatch("/kz/data")
    def watch(data, stat, event):
        seen.append(data)
        if data == b"v1":
            fired.set()

    print("ready", hex(sid), flush=True)
    sys.stdin.readline()

    deadline = time.time() + 30
    while time.time() < deadline:
        if KazooState.SUSPENDED in states and zk.state == KazooState.CONNECTED:
            break
        time.sleep(0.05)
    else:
        fail("not reconnected within 30s after the member died (states %s)" % states)
    if KazooState.LOST in states:
        fail("session lost: %s" % states)
    if zk.client_id[0] != sid:
        fail("session changed from %x to %x" % (sid, zk.client_id[0]))
    print("ok: reconnected to another member with the same session", hex(sid), flush=True)

    data, stat = zk.retry(zk.get, "/kz/eph")
    if stat.ephemeralOwner != sid:
        fail("ephemeral owner %x, want %x" % (stat.ephemeralOwner, sid))
    print("ok: ephemeral node kept", flush=True)

    # A member may drop the connection again while the ensemble elects a
    # new leader (as a ZooKeeper follower does when it loses its leader):
    # retry on ConnectionLoss, as applications do with kazoo's retry.
    zk.retry(zk.set, "/kz/data", b"v1")
    if not fired.wait(10):
        fail("data watch did not fire after the failover (saw %s)" % seen)
    print("ok: data watch re-armed on the new member saw the change", flush=True)

    zk.stop()
    zk.close()
    print("all kazoo failover checks passed", flush=True)


if __name__ == "__main__":
    main()
