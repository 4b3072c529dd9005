#!/usr/bin/python3
"""Drive kazoo recipes against a ZooKeeper-protocol server.

Usage: /usr/bin/python3 recipes.py HOST:PORT

Runs, in order: Lock (two clients contend), Election (leader takes over on close),
DataWatch and ChildrenWatch (every change seen, in order), and a chroot client whose paths and
watch events are chroot-relative. Prints one "ok: ..." line per check and exits 0; on the first
failure prints "FAIL: ..." to stderr and exits 1. Needs kazoo 2.8 (Debian's python3-kazoo,
installed by scripts/install-test-deps.sh) and therefore /usr/bin/python3.
"""

import sys
import threading
import time
import traceback

try:
    from kazoo.client import KazooClient
    from kazoo.protocol.states import EventType
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write("FAIL: cannot import kazoo (%s); run scripts/install-test-deps.sh\n" % exc)
    sys.exit(1)

TIMEOUT = 15.0  # seconds to wait for any one condition
BASE = "/kazoo-recipes"


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)
    print("ok: " + what, flush=True)


def wait_for(pred, what, timeout=TIMEOUT):
    """Wait until pred() is true, polling briefly, failing after timeout."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise CheckFailed("timed out after %.0fs waiting for: %s" % (timeout, what))
        time.sleep(0.02)
    print("ok: " + what, flush=True)


def client(hosts):
    c = KazooClient(hosts=hosts, timeout=4.0)
    c.start(timeout=TIMEOUT)
    return c


def test_lock(hosts):
    c1, c2 = client(hosts), client(hosts)
    try:
        path = BASE + "/lock"
        l1, l2 = c1.Lock(path, "one"), c2.Lock(path, "two")
        holders = []
        guard = threading.Lock()
        overlap = []

        check(l1.acquire(timeout=TIMEOUT), "lock: first client acquires")
        check(not l2.acquire(blocking=False), "lock: second client cannot acquire while held")
        with guard:
            holders.append("one")

        got2 = threading.Event()

        def second():
            if l2.acquire(timeout=TIMEOUT):
                with guard:
                    if holders:
                        overlap.append(list(holders))
                    holders.append("two")
                got2.set()

        t = threading.Thread(target=second, daemon=True)
        t.start()
        wait_for(lambda: len(l1.contenders()) == 2, "lock: both clients are contenders")
        check(l1.contenders() == ["one", "two"], "lock: contenders in queue order: %s" % l1.contenders())
        check(not got2.wait(0.3), "lock: second client still waits while the first holds it")
        with guard:
            holders.remove("one")
        l1.release()
        wait_for(got2.is_set, "lock: second client acquires after release")
        check(not overlap, "lock: never held by two clients at once")
        l2.release()
        t.join(TIMEOUT)
        check(c1.get_children(path) == [], "lock: no lock nodes left after both released")
    finally:
        c1.stop()
        c2.stop()
        c1.close()
        c2.close()


def test_election(hosts):
    c1, c2 = client(hosts), client(hosts)
    path = BASE + "/election"
    leader = []
    lock = threading.Lock()
    release = {"one": threading.Event(), "two": threading.Event()}

    def lead(name):
        with lock:
            leader.append(name)
        release[name].wait(TIMEOUT * 2)

    e1, e2 = c1.Election(path, "one"), c2.Election(path, "two")
    t1 = threading.Thread(target=lambda: _run_quietly(e1, lead, "one"), daemon=True)
    t1.start()
    wait_for(lambda: leader == ["one"], "election: first candidate becomes leader")
    t2 = threading.Thread(target=lambda: _run_quietly(e2, lead, "two"), daemon=True)
    t2.start()
    wait_for(lambda: len(e1.contenders()) == 2, "election: second candidate is queued")
    check(leader == ["one"], "election: only one leader while the first runs")
    # The leader's session ends: its ephemeral goes and the other candidate takes over.
    c1.stop()
    c1.close()
    release["one"].set()
    wait_for(lambda: leader == ["one", "two"], "election: second candidate takes over on leader close")
    release["two"].set()
    t2.join(TIMEOUT)
    c2.stop()
    c2.close()


def _run_quietly(election, func, name):
    try:
        election.run(func, name)
    except Exception:  # the client may be stopped under it at the end
        pass


def test_data_watch(hosts):
    c1, c2 = client(hosts), client(hosts)
    try:
        path = BASE + "/datawatch"
        seen = []
        cond = threading.Condition()

        @c1.DataWatch(path)
        def watcher(data, stat, event=None):
            with cond:
                seen.append((data, None if event is None else event.type))
                cond.notify_all()

        wait_for(lambda: seen == [(None, None)], "datawatch: first call for a missing node")
        c2.create(path, b"v0")
        wait_for(lambda: len(seen) == 2, "datawatch: creation seen")
        check(seen[1] == (b"v0", EventType.CREATED), "datawatch: creation is (v0, CREATED): %r" % (seen[1],))
        for i in range(1, 4):
            value = ("v%d" % i).encode()
            c2.set(path, value)
            wait_for(lambda: len(seen) == i + 2, "datawatch: change to %s seen" % value.decode())
            check(seen[-1] == (value, EventType.CHANGED), "datawatch: change is (%s, CHANGED): %r" % (value.decode(), seen[-1]))
        c2.delete(path)
        wait_for(lambda: len(seen) == 6, "datawatch: deletion seen")
        check(seen[-1] == (None, EventType.DELETED), "datawatch: deletion is (None, DELETED): %r" % (seen[-1],))
    finally:
        for c in (c1, c2):
            c.stop()
            c.close()


def test_children_watch(hosts):
    c1, c2 = client(hosts), client(hosts)
    try:
        path = BASE + "/childrenwatch"
        c2.ensure_path(path)
        seen = []

        @c1.ChildrenWatch(path)
        def watcher(children):
            seen.append(sorted(children))

        wait_for(lambda: seen == [[]], "childrenwatch: first call with no children")
        expected = [[]]
        for name in ("a", "b", "c"):
            c2.create(path + "/" + name)
            expected.append(sorted(expected[-1] + [name]))
            wait_for(lambda: len(seen) == len(expected), "childrenwatch: create %s seen" % name)
            check(seen == expected, "childrenwatch: lists in order %r" % (seen,))
        c2.delete(path + "/b")
        expected.append(["a", "c"])
        wait_for(lambda: len(seen) == len(expected), "childrenwatch: delete seen")
        check(seen == expected, "childrenwatch: lists in order %r" % (seen,))
    finally:
        for c in (c1, c2):
            c.stop()
            c.close()


def test_chroot(hosts):
    root = client(hosts)
    root.ensure_path("/app")
    ch = client(hosts + "/app")
    try:
        created = ch.create("/x", b"1")
        check(created == "/x", "chroot: create returns the chroot-relative path (%s)" % created)
        check(root.get("/app/x")[0] == b"1", "chroot: node is at /app/x on the server")
        seq = ch.create("/s-", b"", sequence=True)
        check(seq.startswith("/s-") and len(seq) == len("/s-") + 10, "chroot: sequential path is relative (%s)" % seq)
        check(sorted(ch.get_children("/")) == sorted(["x", seq[1:]]), "chroot: children of / are the chroot's")
        check(ch.exists("/app") is None, "chroot: /app is not visible inside the chroot")

        events = []
        got = threading.Event()

        def cb(event):
            events.append((event.type, event.path))
            if len(events) == 3:
                got.set()

        ch.exists("/y", watch=cb)
        ch.get_children("/", watch=cb)
        ch.get("/x", watch=cb)
        root.create("/app/y")  # NodeCreated /y and NodeChildrenChanged /
        root.set("/app/x", b"2")  # NodeDataChanged /x
        wait_for(got.is_set, "chroot: three watch events delivered")
        check(events == [(EventType.CREATED, "/y"), (EventType.CHILD, "/"), (EventType.CHANGED, "/x")],
              "chroot: event paths are chroot-relative and in order: %r" % (events,))
        ch.delete("/x")
        check(root.exists("/app/x") is None, "chroot: delete through the chroot")
    finally:
        ch.stop()
        ch.close()
        root.stop()
        root.close()


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: recipes.py HOST:PORT\n")
        return 2
    hosts = argv[1]
    steps = [test_lock, test_election, test_data_watch, test_children_watch, test_chroot]
    for step in steps:
        name = step.__name__
        try:
            step(hosts)
        except CheckFailed as exc:
            sys.stderr.write("FAIL: %s: %s\n" % (name, exc))
            return 1
        except Exception:
            sys.stderr.write("FAIL: %s raised:\n%s" % (name, traceback.format_exc()))
            return 1
    print("all kazoo recipe checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
