// After: mirror the /config subtree with Curator's CuratorCache, which sets
// ONE persistent recursive watch on /config (ZooKeeper 3.6+ addWatch). The
// watch stays armed: no re-registration, no gap between an event and the
// next watch, and one watch instead of two per node. Recursive watches
// never deliver NodeChildrenChanged: a child's creation arrives as its own
// NodeCreated, which is all a cache needs.
//
// Run: java -cp "$CP" After 127.0.0.1:2181
// It prints each change as it arrives and exits once /config/done exists.
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class After {
    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.newClient(args[0], new ExponentialBackoffRetry(100, 5));
        client.start();
        client.create().orSetData().forPath("/config");

        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(client, "/config");
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(d -> {
                    if (d.getPath().equals("/config/done")) {
                        done.countDown();
                    } else {
                        System.out.println("NODE_ADDED " + d.getPath() + "=" + new String(d.getData()));
                    }
                })
                .forChanges((old, d) -> System.out.println("NODE_UPDATED " + d.getPath() + "=" + new String(d.getData())))
                .forDeletes(d -> System.out.println("NODE_REMOVED " + d.getPath() + "=" + new String(d.getData())))
                .forInitialized(ready::countDown)
                .build());
        cache.start();
        ready.await(30, TimeUnit.SECONDS);
        System.out.println("ready");
        if (!done.await(60, TimeUnit.SECONDS)) {
            System.out.println("timed out");
            System.exit(1);
        }
        cache.close();
        client.close();
    }
}
