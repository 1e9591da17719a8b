// A Curator 5 participant for interop tests, driven over stdin/stdout one command a line.
// Every command runs on its own thread; replies are whole lines, so they never interleave.
// Critical sections prove mutual exclusion without clocks: a holder creates an ephemeral
// "occupant" node, which fails with NodeExists if another holder is inside at the same time.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

public class CuratorHelper {
  static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  static final ConcurrentHashMap<String, LeaderLatch> latches = new ConcurrentHashMap<>();
  /** Set by "stop": loops end after their current round. */
  static volatile boolean stop = false;

  /** Enters a section: false if someone else is inside. */
  static boolean occupy(CuratorFramework c, String occupant) throws Exception {
    try {
      c.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(occupant);
      return true;
    } catch (KeeperException.NodeExistsException e) {
      // After a ConnectionLoss Curator retries the create: the node may be our own.
      org.apache.zookeeper.data.Stat stat = c.checkExists().forPath(occupant);
      return stat != null && stat.getEphemeralOwner() == c.getZookeeperClient().getZooKeeper().getSessionId();
    }
  }

  static void leave(CuratorFramework c, String occupant) throws Exception {
    try { c.delete().forPath(occupant); } catch (KeeperException.NoNodeException e) { }
  }

  public static void main(String[] args) throws Exception {
    CuratorFramework c = CuratorFrameworkFactory.newClient(args[0], 4000, 4000, new ExponentialBackoffRetry(50, 10));
    c.start();
    c.blockUntilConnected();
    say("ready");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    String line;
    while ((line = in.readLine()) != null) {
      final String[] w = line.trim().split(" ");
      if (w[0].equals("quit")) break;
      new Thread(() -> {
        try {
          run(c, w);
        } catch (Exception e) {
          say("error " + w[0] + " " + e);
        }
      }).start();
    }
    for (LeaderLatch l : latches.values()) l.close();
    c.close();
    System.exit(0);
  }

  static void run(CuratorFramework c, String[] w) throws Exception {
    switch (w[0]) {
      case "mutex": { // mutex <path> <rounds> <holdMs> <occupant>
        InterProcessMutex m = new InterProcessMutex(c, w[1]);
        int violations = 0;
        int done = 0;
        for (int i = 0; i < Integer.parseInt(w[2]) && !stop; i++, done++) {
          m.acquire();
          try {
            boolean alone = occupy(c, w[4]);
            if (!alone) violations++;
            Thread.sleep(Long.parseLong(w[3]));
            if (alone) leave(c, w[4]);
          } finally {
            m.release();
          }
        }
        say("mutex-done " + done + " " + violations);
        break;
      }
      case "sem": { // sem <path> <max> <rounds> <holdMs> <gaugeDir>
        InterProcessSemaphoreV2 s = new InterProcessSemaphoreV2(c, w[1], Integer.parseInt(w[2]));
        int violations = 0;
        for (int i = 0; i < Integer.parseInt(w[3]); i++) {
          Lease lease = s.acquire();
          try {
            String mine = c.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(w[5] + "/g-");
            if (c.getChildren().forPath(w[5]).size() > Integer.parseInt(w[2])) violations++;
            Thread.sleep(Long.parseLong(w[4]));
            c.delete().forPath(mine);
          } finally {
            s.returnLease(lease);
          }
        }
        say("sem-done " + w[3] + " " + violations);
        break;
      }
      case "latch-start": { // latch-start <path> <id>
        LeaderLatch l = new LeaderLatch(c, w[1], w[2]);
        l.addListener(new LeaderLatchListener() {
          public void isLeader() { say("latch-leader " + w[2]); }
          public void notLeader() { say("latch-follower " + w[2]); }
        });
        latches.put(w[2], l);
        l.start();
        say("latch-started " + w[2]);
        break;
      }
      case "latch-leader-id": { // latch-leader-id <id>: whom this latch sees as leader
        say("latch-sees " + latches.get(w[1]).getLeader().getId());
        break;
      }
      case "latch-close": { // latch-close <id>
        latches.remove(w[1]).close();
        say("latch-closed " + w[1]);
        break;
      }
      case "stop":
        stop = true;
        say("stopping");
        break;
      default:
        say("error unknown " + w[0]);
    }
  }
}
