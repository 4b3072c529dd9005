// CuratorCheck drives Apache Curator's recipes against one server and
// prints what it observed, one line per step, ending with "OK". It stops
// with "FAIL: reason" and exit status 1 on the first wrong observation.
// The Go test runs it against zkx and against Apache ZooKeeper and
// compares the transcripts.
import java.util.*;
import java.util.concurrent.*;
import java.util.function.BooleanSupplier;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;

public class CuratorCheck {
    static final long WAIT_SECONDS = 15;

    static void fail(String msg) {
        System.out.println("FAIL: " + msg);
        System.out.flush();
        System.exit(1);
    }

    static void check(boolean cond, String msg) {
        if (!cond) fail(msg);
    }

    static void waitFor(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    static String take(BlockingQueue<String> q, String what) throws InterruptedException {
        String s = q.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (s == null) fail("timed out waiting for " + what);
        return s;
    }

    static void expect(BlockingQueue<String> q, String want) throws InterruptedException {
        String got = take(q, want);
        check(got.equals(want), "got event '" + got + "', want '" + want + "'");
        System.out.println("  " + got);
    }

    static CuratorFramework client(String connect) throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.newClient(connect, 10000, 5000, new RetryOneTime(200));
        c.start();
        check(c.blockUntilConnected((int) WAIT_SECONDS, TimeUnit.SECONDS), "connect to " + connect);
        return c;
    }

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        CuratorFramework c = client(connect);

        // CuratorCache: one recursive persistent watch keeps a cache of a
        // whole subtree.
        System.out.println("curator-cache");
        BlockingQueue<String> cacheEvents = new LinkedBlockingQueue<>();
        c.create().forPath("/cache", "root".getBytes());
        CuratorCache cache = CuratorCache.build(c, "/cache");
        CountDownLatch initialized = new CountDownLatch(1);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(d -> cacheEvents.add("created " + d.getPath() + "=" + new String(d.getData())))
                .forChanges((o, d) -> cacheEvents.add("changed " + d.getPath() + "=" + new String(d.getData())))
                .forDeletes(d -> cacheEvents.add("deleted " + d.getPath()))
                .forInitialized(initialized::countDown)
                .build());
        cache.start();
        check(initialized.await(WAIT_SECONDS, TimeUnit.SECONDS), "cache initialized");
        expect(cacheEvents, "created /cache=root");
        c.create().forPath("/cache/a", "1".getBytes());
        expect(cacheEvents, "created /cache/a=1");
        c.create().forPath("/cache/a/b", "2".getBytes());
        expect(cacheEvents, "created /cache/a/b=2");
        c.setData().forPath("/cache/a/b", "3".getBytes());
        expect(cacheEvents, "changed /cache/a/b=3");
        c.delete().forPath("/cache/a/b");
        expect(cacheEvents, "deleted /cache/a/b");
        c.create().forPath("/cache/c", "4".getBytes());
        expect(cacheEvents, "created /cache/c=4");
        List<String> contents = new ArrayList<>();
        cache.stream().forEach(d -> contents.add(d.getPath() + "=" + new String(d.getData())));
        Collections.sort(contents);
        System.out.println("  contents " + contents);
        check(contents.equals(Arrays.asList("/cache/a=1", "/cache/c=4", "/cache=root")), "cache contents " + contents);
        cache.close();

        // PersistentWatcher, recursive: every create, change and delete
        // below the path, never NodeChildrenChanged.
        System.out.println("persistent-watcher recursive");
        BlockingQueue<String> pwEvents = new LinkedBlockingQueue<>();
        PersistentWatcher rec = new PersistentWatcher(c, "/pw", true);
        CountDownLatch recSet = new CountDownLatch(1);
        rec.getResetListenable().addListener(recSet::countDown);
        rec.getListenable().addListener(ev -> pwEvents.add(ev.getType() + " " + ev.getPath()));
        rec.start();
        check(recSet.await(WAIT_SECONDS, TimeUnit.SECONDS), "recursive watch set");
        c.create().forPath("/pw");
        c.create().forPath("/pw/x");
        c.create().forPath("/pw/x/y");
        c.setData().forPath("/pw/x/y", "v".getBytes());
        c.delete().forPath("/pw/x/y");
        c.create().forPath("/pwx"); // a sibling sharing the prefix: not below /pw
        c.setData().forPath("/pw", "w".getBytes());
        expect(pwEvents, "NodeCreated /pw");
        expect(pwEvents, "NodeCreated /pw/x");
        expect(pwEvents, "NodeCreated /pw/x/y");
        expect(pwEvents, "NodeDataChanged /pw/x/y");
        expect(pwEvents, "NodeDeleted /pw/x/y");
        expect(pwEvents, "NodeDataChanged /pw");
        rec.close();

        // PersistentWatcher, not recursive: the node's own events and
        // NodeChildrenChanged for its children.
        System.out.println("persistent-watcher");
        BlockingQueue<String> ppEvents = new LinkedBlockingQueue<>();
        PersistentWatcher per = new PersistentWatcher(c, "/pp", false);
        CountDownLatch perSet = new CountDownLatch(1);
        per.getResetListenable().addListener(perSet::countDown);
        per.getListenable().addListener(ev -> ppEvents.add(ev.getType() + " " + ev.getPath()));
        per.start();
        check(perSet.await(WAIT_SECONDS, TimeUnit.SECONDS), "persistent watch set");
        c.create().forPath("/pp");
        c.create().forPath("/pp/c");
        c.create().forPath("/pp/c/deeper");
        c.setData().forPath("/pp", "d".getBytes());
        c.delete().forPath("/pp/c/deeper");
        c.delete().forPath("/pp/c");
        c.delete().forPath("/pp");
        expect(ppEvents, "NodeCreated /pp");
        expect(ppEvents, "NodeChildrenChanged /pp");
        expect(ppEvents, "NodeDataChanged /pp");
        expect(ppEvents, "NodeChildrenChanged /pp");
        expect(ppEvents, "NodeDeleted /pp");
        per.close();

        // InterProcessMutex: mutual exclusion between two clients.
        System.out.println("mutex");
        CuratorFramework c2 = client(connect);
        InterProcessMutex m1 = new InterProcessMutex(c, "/locks/l");
        InterProcessMutex m2 = new InterProcessMutex(c2, "/locks/l");
        check(m1.acquire(WAIT_SECONDS, TimeUnit.SECONDS), "first acquire");
        check(!m2.acquire(200, TimeUnit.MILLISECONDS), "second client acquired a held lock");
        System.out.println("  held by one client at a time");
        // InterProcessMutex is owned by a thread: the second client takes
        // and releases it on its own thread.
        CompletableFuture<Boolean> second = CompletableFuture.supplyAsync(() -> {
            try {
                if (!m2.acquire(WAIT_SECONDS, TimeUnit.SECONDS)) return false;
                m2.release();
                return true;
            } catch (Exception e) {
                return false;
            }
        });
        m1.release();
        check(second.get(WAIT_SECONDS, TimeUnit.SECONDS), "second client acquires after release");
        System.out.println("  handed over on release");

        // LeaderLatch: one leader; when it leaves, the other takes over.
        System.out.println("leader-latch");
        LeaderLatch l1 = new LeaderLatch(c, "/election", "one");
        l1.start();
        check(l1.await(WAIT_SECONDS, TimeUnit.SECONDS), "first latch becomes leader");
        LeaderLatch l2 = new LeaderLatch(c2, "/election", "two");
        l2.start();
        waitFor(() -> { try { return l2.getParticipants().size() == 2; } catch (Exception e) { return false; } }, "two participants");
        check(!l2.hasLeadership(), "two leaders at once");
        System.out.println("  one leader of two");
        l1.close();
        check(l2.await(WAIT_SECONDS, TimeUnit.SECONDS), "second latch takes over");
        System.out.println("  leadership moves when the leader leaves");
        l2.close();

        c2.close();
        c.close();
        System.out.println("OK");
    }
}
