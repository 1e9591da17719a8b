import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.RetryNTimes;

/**
 * The Curator side of the cache benchmark: CuratorCache over the tree, time to initialized,
 * heap held (used heap after full GCs, before and after), propagation of sets made by a second
 * client. Prints one JSON line. Args: servers root changes parents perParent expectedNodes.
 */
public class CuratorCacheBench {
  static long used() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 4; i++) { System.gc(); Thread.sleep(50); }
    return rt.totalMemory() - rt.freeMemory();
  }

  public static void main(String[] args) throws Exception {
    String servers = args[0];
    String root = args[1];
    int changes = Integer.parseInt(args[2]);
    int parents = Integer.parseInt(args[3]);
    int perParent = Integer.parseInt(args[4]);
    long expected = Long.parseLong(args[5]);
    CuratorFramework client = CuratorFrameworkFactory.newClient(servers, 30000, 15000, new RetryNTimes(3, 100));
    CuratorFramework writer = CuratorFrameworkFactory.newClient(servers, 30000, 15000, new RetryNTimes(3, 100));
    client.start();
    writer.start();
    client.blockUntilConnected();
    writer.blockUntilConnected();
    long before = used();
    CountDownLatch initialized = new CountDownLatch(1);
    ConcurrentHashMap<String, CountDownLatch> waiting = new ConcurrentHashMap<>();
    ConcurrentHashMap<String, Long> seenAt = new ConcurrentHashMap<>();
    CuratorCache cache = CuratorCache.build(client, root);
    cache.listenable().addListener(CuratorCacheListener.builder()
        .forInitialized(initialized::countDown)
        .forChanges((oldNode, node) -> {
          CountDownLatch l = waiting.get(node.getPath());
          if (l != null) { seenAt.put(node.getPath(), System.nanoTime()); l.countDown(); }
        })
        .build());
    long t0 = System.nanoTime();
    cache.start();
    initialized.await();
    double initializedMs = (System.nanoTime() - t0) / 1e6;
    long atInitialized = cache.size();
    // CuratorCache may signal initialized before every node is in (seen at 100,000 nodes):
    // the load time is until the cache holds the whole tree.
    // Up to a minute more; a cache still short of the tree then is reported as it is.
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (cache.size() < expected && System.nanoTime() < deadline) Thread.sleep(5);
    long nodes = cache.size();
    double loadMs = nodes < expected ? Double.NaN : (System.nanoTime() - t0) / 1e6;
    System.err.printf("CuratorCache: initialized after %.1f ms with %d nodes; all %d after %.1f ms%n", initializedMs, atInitialized, nodes, loadMs);
    long after = used();
    List<Double> latencies = new ArrayList<>();
    int missed = 0;
    int streak = 0;
    for (int i = 0; i < changes; i++) {
      String path = String.format("%s/p%03d/n%05d", root, (i * 37) % parents, (i * 101) % perParent);
      CountDownLatch l = new CountDownLatch(1);
      waiting.put(path, l);
      long s = System.nanoTime();
      StringBuilder data = new StringBuilder("changed-" + s);
      while (data.length() < 100) data.append('x');
      writer.setData().forPath(path, data.toString().getBytes(StandardCharsets.UTF_8));
      // A change the cache never reports counts as missed rather than hanging the run.
      if (l.await(5, java.util.concurrent.TimeUnit.SECONDS)) {
        latencies.add((seenAt.get(path) - s) / 1e6);
        streak = 0;
      } else if (++streak >= 3) {
        // Three in a row: the cache has stopped following; count the rest as missed.
        missed += changes - i;
        break;
      } else missed++;
      waiting.remove(path);
    }
    Collections.sort(latencies);
    System.out.printf(java.util.Locale.ROOT,
        "{\"client\":\"Curator CuratorCache\",\"nodes\":%d,\"loadMs\":%.1f,\"initializedMs\":%.1f,\"nodesAtInitialized\":%d,\"heapBytes\":%d,\"p50\":%.3f,\"p90\":%.3f,\"missed\":%d}%n",
        nodes, loadMs, initializedMs, atInitialized, Math.max(0, after - before), latencies.isEmpty() ? Double.NaN : latencies.get(latencies.size() / 2),
        latencies.isEmpty() ? Double.NaN : latencies.get((int) (latencies.size() * 0.9)), missed);
    cache.close();
    client.close();
    writer.close();
  }
}
