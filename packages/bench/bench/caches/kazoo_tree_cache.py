"""The kazoo side of the cache benchmark: TreeCache over the tree, time to INITIALIZED, memory
held (resident set growth after gc: kazoo's objects live on the Python heap, which tracemalloc
would slow several-fold), propagation of sets made by a second client. Prints one JSON line.
Args: servers root changes parents per_parent."""
import gc
import json
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.recipe.cache import TreeCache, TreeEvent


def rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main():
    servers, root, changes, parents, per_parent = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    client = KazooClient(hosts=servers, timeout=30)
    writer = KazooClient(hosts=servers, timeout=30)
    client.start()
    writer.start()
    before = rss()
    initialized = threading.Event()
    waiting = {}

    def listener(event):
        if event.event_type == TreeEvent.INITIALIZED:
            initialized.set()
        elif event.event_type == TreeEvent.NODE_UPDATED and event.event_data is not None:
            entry = waiting.get(event.event_data.path)
            if entry is not None:
                entry[1] = time.perf_counter()
                entry[0].set()

    cache = TreeCache(client, root)
    cache.listen(listener)
    t0 = time.perf_counter()
    cache.start()
    initialized.wait()
    load_ms = (time.perf_counter() - t0) * 1000
    after = rss()
    nodes = 0
    stack = [root]
    while stack:
        path = stack.pop()
        kids = cache.get_children(path) or []
        nodes += 1
        stack.extend(path + "/" + k for k in kids)
    latencies = []
    missed = 0
    for i in range(changes):
        path = "%s/p%03d/n%05d" % (root, (i * 37) % parents, (i * 101) % per_parent)
        entry = [threading.Event(), None]
        waiting[path] = entry
        s = time.perf_counter()
        writer.set(path, ("changed-%f" % s).ljust(100, "x").encode())
        if entry[0].wait(5):
            latencies.append((entry[1] - s) * 1000)
        else:
            missed += 1
        del waiting[path]
    latencies.sort()
    print(json.dumps({
        "client": "kazoo TreeCache",
        "nodes": nodes,
        "loadMs": load_ms,
        "heapBytes": max(0, after - before),
        "p50": latencies[len(latencies) // 2],
        "p90": latencies[int(len(latencies) * 0.9)],
        "missed": missed,
    }), flush=True)
    cache.close()
    client.stop()
    writer.stop()


main()
