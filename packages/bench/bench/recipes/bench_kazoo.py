"""kazoo side of the recipes benchmark, driven over stdin/stdout one command a line."""
import sys
import threading
import time

from kazoo.client import KazooClient


def client(servers):
    zk = KazooClient(hosts=servers, timeout=10.0)
    zk.start()
    return zk


def main():
    servers = sys.argv[1]
    zk = client(servers)
    print("ready", flush=True)
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        w = line.split()
        try:
            if w[0] == "session":
                print("session 0x%x" % zk.client_id[0], flush=True)
            elif w[0] == "uncontended":  # uncontended <path> <warmup> <n>
                lk = zk.Lock(w[1])
                for _ in range(int(w[2])):
                    lk.acquire()
                    lk.release()
                print("warm", flush=True)
                sys.stdin.readline()  # "go"
                lat = []
                for _ in range(int(w[3])):
                    t = time.perf_counter_ns()
                    lk.acquire()
                    lk.release()
                    lat.append((time.perf_counter_ns() - t) // 1000)
                print("lat " + ",".join(map(str, lat)), flush=True)
            elif w[0] == "handoffs":  # handoffs <path> <clients> <millis>
                clients = [client(servers) for _ in range(int(w[2]))]
                count = [0]
                guard = threading.Lock()
                deadline = time.monotonic() + int(w[3]) / 1000.0

                def loop(c):
                    lk = c.Lock(w[1])
                    while time.monotonic() < deadline:
                        lk.acquire()
                        with guard:
                            count[0] += 1
                        lk.release()

                start = time.monotonic()
                ts = [threading.Thread(target=loop, args=(c,)) for c in clients]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                elapsed = int((time.monotonic() - start) * 1000)
                for c in clients:
                    c.stop()
                    c.close()
                print("handoffs %d %d" % (count[0], elapsed), flush=True)
            elif w[0] == "failover":  # failover <path> <n>: a lock handed over when its holder's session closes
                times = []
                for _ in range(int(w[2])):
                    a = client(servers)
                    b = client(servers)
                    la = a.Lock(w[1], "a")
                    la.acquire()
                    lb = b.Lock(w[1], "b")
                    got = threading.Event()
                    threading.Thread(target=lambda: (lb.acquire(), got.set())).start()
                    while len(a.get_children(w[1])) < 2:
                        time.sleep(0.001)
                    t = time.perf_counter_ns()
                    a.stop()
                    a.close()
                    got.wait(30)
                    times.append((time.perf_counter_ns() - t) // 1000)
                    lb.release()
                    b.stop()
                    b.close()
                print("failover " + ",".join(map(str, times)), flush=True)
            elif w[0] == "quit":
                break
            else:
                print("error unknown " + w[0], flush=True)
        except Exception as e:  # reported to the driver, which stops on it
            print("error %r" % (e,), flush=True)
    zk.stop()
    zk.close()


if __name__ == "__main__":
    main()
