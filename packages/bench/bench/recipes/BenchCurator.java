// Curator side of the recipes benchmark, driven over stdin/stdout one command a line.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class BenchCurator {
  static String servers;

  static CuratorFramework client() throws Exception {
    CuratorFramework c = CuratorFrameworkFactory.newClient(servers, 10000, 10000, new ExponentialBackoffRetry(50, 10));
    c.start();
    c.blockUntilConnected();
    return c;
  }

  static String join(List<Long> xs) {
    StringBuilder b = new StringBuilder();
    for (long x : xs) { if (b.length() > 0) b.append(','); b.append(x); }
    return b.toString();
  }

  public static void main(String[] args) throws Exception {
    servers = args[0];
    CuratorFramework main = client();
    System.out.println("ready");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    String line;
    while ((line = in.readLine()) != null) {
      String[] w = line.trim().split(" ");
      try {
        switch (w[0]) {
          case "session":
            System.out.println("session 0x" + Long.toHexString(main.getZookeeperClient().getZooKeeper().getSessionId()));
            break;
          case "uncontended": { // uncontended <path> <warmup> <n>: micros per acquire+release
            InterProcessMutex m = new InterProcessMutex(main, w[1]);
            for (int i = 0; i < Integer.parseInt(w[2]); i++) { m.acquire(); m.release(); }
            System.out.println("warm");
            System.out.flush();
            in.readLine(); // "go", after the caller read the server's counters
            List<Long> lat = new ArrayList<>();
            for (int i = 0; i < Integer.parseInt(w[3]); i++) {
              long t = System.nanoTime();
              m.acquire();
              m.release();
              lat.add((System.nanoTime() - t) / 1000);
            }
            System.out.println("lat " + join(lat));
            break;
          }
          case "handoffs": { // handoffs <path> <clients> <millis>
            int n = Integer.parseInt(w[2]);
            long millis = Long.parseLong(w[3]);
            List<CuratorFramework> cs = new ArrayList<>();
            for (int i = 0; i < n; i++) cs.add(client());
            AtomicLong count = new AtomicLong();
            long deadline = System.nanoTime() + millis * 1_000_000L;
            List<Thread> ts = new ArrayList<>();
            long start = System.nanoTime();
            for (CuratorFramework c : cs) {
              Thread t = new Thread(() -> {
                try {
                  InterProcessMutex m = new InterProcessMutex(c, w[1]);
                  while (System.nanoTime() < deadline) { m.acquire(); count.incrementAndGet(); m.release(); }
                } catch (Exception e) { throw new RuntimeException(e); }
              });
              t.start();
              ts.add(t);
            }
            for (Thread t : ts) t.join();
            long elapsed = (System.nanoTime() - start) / 1_000_000L;
            for (CuratorFramework c : cs) c.close();
            System.out.println("handoffs " + count.get() + " " + elapsed);
            break;
          }
          case "failover": { // failover <path> <n>: ms from closing the leader's client to the next leader
            List<Long> times = new ArrayList<>();
            for (int i = 0; i < Integer.parseInt(w[2]); i++) {
              CuratorFramework a = client();
              CuratorFramework b = client();
              LeaderLatch la = new LeaderLatch(a, w[1], "a");
              la.start();
              la.await();
              LeaderLatch lb = new LeaderLatch(b, w[1], "b");
              CountDownLatch leads = new CountDownLatch(1);
              lb.addListener(new org.apache.curator.framework.recipes.leader.LeaderLatchListener() {
                public void isLeader() { leads.countDown(); }
                public void notLeader() { }
              });
              lb.start();
              while (lb.getParticipants().size() < 2) Thread.sleep(1);
              long t = System.nanoTime();
              a.close();
              leads.await(30, TimeUnit.SECONDS);
              times.add((System.nanoTime() - t) / 1000);
              lb.close();
              b.close();
            }
            System.out.println("failover " + join(times));
            break;
          }
          case "quit":
            main.close();
            System.exit(0);
          default:
            System.out.println("error unknown " + w[0]);
        }
      } catch (Exception e) {
        System.out.println("error " + e);
      }
      System.out.flush();
    }
  }
}
