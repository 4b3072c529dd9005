import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.retry.RetryForever;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

/**
 * Curator (on the ZooKeeper Java client) across the loss of the ensemble
 * member it is connected to. It takes an InterProcessMutex and a
 * LeaderLatch and creates an ephemeral node, prints "ready SESSION
 * REMOTE" (REMOTE is the client's server, host:port), waits for a line on
 * stdin (the test has killed that member by then), and checks that the
 * session, the lock, the leadership and the ephemeral node survived on
 * another member, and that a second client cannot take the lock. Prints
 * "ok: ..." lines and "all curator failover checks passed", or "FAIL: ..."
 * and exits 1.
 */
public class FailoverCheck {
    static void fail(String msg) {
        System.out.println("FAIL: " + msg);
        System.out.flush();
        System.exit(1);
    }

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        CopyOnWriteArrayList<ConnectionState> states = new CopyOnWriteArrayList<>();
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(10000)
            .connectionTimeoutMs(10000)
            .retryPolicy(new RetryForever(100))
            // Only a lost session is an error: a suspended connection that
            // comes back on another member keeps the lock and the latch.
            .connectionStateErrorPolicy(new SessionConnectionStateErrorPolicy())
            .build();
        c.getConnectionStateListenable().addListener((cl, s) -> states.add(s));
        c.start();
        if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) fail("not connected");
        long sid = c.getZookeeperClient().getZooKeeper().getSessionId();

        InterProcessMutex lock = new InterProcessMutex(c, "/failover/lock");
        if (!lock.acquire(10, TimeUnit.SECONDS)) fail("lock not acquired");
        LeaderLatch latch = new LeaderLatch(c, "/failover/latch", "one");
        latch.start();
        if (!latch.await(10, TimeUnit.SECONDS)) fail("no leadership");
        c.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath("/failover/eph");

        String zk = c.getZookeeperClient().getZooKeeper().toString();
        String remote = zk.replaceAll(".*remoteserver:[^/]*/([0-9.]+:[0-9]+).*", "$1");
        System.out.println("ready 0x" + Long.toHexString(sid) + " " + remote);
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in)).readLine();

        long deadline = System.currentTimeMillis() + 30000;
        while (System.currentTimeMillis() < deadline
               && !(states.contains(ConnectionState.SUSPENDED) && states.contains(ConnectionState.RECONNECTED))) {
            Thread.sleep(50);
        }
        if (!states.contains(ConnectionState.RECONNECTED)) fail("not reconnected after the member died: " + states);
        if (states.contains(ConnectionState.LOST)) fail("session lost: " + states);
        long sid2 = c.getZookeeperClient().getZooKeeper().getSessionId();
        if (sid2 != sid) fail("session changed from " + sid + " to " + sid2);
        String zk2 = c.getZookeeperClient().getZooKeeper().toString();
        String remote2 = zk2.replaceAll(".*remoteserver:[^/]*/([0-9.]+:[0-9]+).*", "$1");
        if (remote2.equals(remote)) fail("still on " + remote);
        System.out.println("ok: reconnected to " + remote2 + " with the same session");

        Stat eph = c.checkExists().forPath("/failover/eph");
        if (eph == null || eph.getEphemeralOwner() != sid) fail("ephemeral node gone or not ours: " + eph);
        System.out.println("ok: ephemeral node kept");

        if (!lock.isAcquiredInThisProcess()) fail("lock no longer held");
        if (c.getChildren().forPath("/failover/lock").size() != 1) fail("lock node gone");
        CuratorFramework other = CuratorFrameworkFactory.newClient(connect, 10000, 10000, new RetryForever(100));
        other.start();
        other.blockUntilConnected(30, TimeUnit.SECONDS);
        if (new InterProcessMutex(other, "/failover/lock").acquire(1, TimeUnit.SECONDS)) fail("a second client took the held lock");
        System.out.println("ok: lock still held, a second client cannot take it");

        if (!latch.hasLeadership()) fail("leadership lost");
        System.out.println("ok: leader latch still leads");

        other.close();
        latch.close();
        lock.release();
        c.close();
        System.out.println("all curator failover checks passed");
        System.out.flush();
    }
}
