// Before: mirror the /config subtree with Curator's TreeCache, which keeps
// ONE-SHOT watches: a data watch and a child watch on every node, re-armed
// after each event by reading the node again. Every change costs the
// server an event, a re-read and a re-registration per node, and a change
// that lands between an event and its re-registration is seen only as the
// state after it.
//
// Run: java -cp "$CP" Before 127.0.0.1:2181
// It prints each change as it arrives and exits once /config/done exists.
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class Before {
    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.newClient(args[0], new ExponentialBackoffRetry(100, 5));
        client.start();
        client.create().orSetData().forPath("/config");

        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(1);
        TreeCache cache = TreeCache.newBuilder(client, "/config").build();
        cache.getListenable().addListener((c, event) -> {
            switch (event.getType()) {
                case INITIALIZED:
                    ready.countDown();
                    break;
                case NODE_ADDED:
                case NODE_UPDATED:
                case NODE_REMOVED:
                    String path = event.getData().getPath();
                    if (path.equals("/config/done")) {
                        done.countDown();
                        return;
                    }
                    System.out.println(event.getType() + " " + path + "=" + new String(event.getData().getData()));
                    break;
                default:
                    System.out.println(event.getType());
            }
        });
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
