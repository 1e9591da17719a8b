"""A kazoo participant for interop tests, driven over stdin/stdout one command a line.

Each command runs on its own thread; replies are whole lines. Critical sections prove mutual
exclusion without clocks: a holder creates an ephemeral "occupant" node, which fails with
NodeExistsError if another holder is inside at the same time.
"""
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError

out = threading.Lock()
stop = threading.Event()  # set by "stop": loops end after their current round


def say(line):
    with out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def occupy(zk, occupant):
    """Claims the occupant node; after a ConnectionLoss our own create may already be there."""
    try:
        zk.retry(zk.create, occupant, ephemeral=True, makepath=True)
        return True
    except NodeExistsError:
        stat = zk.retry(zk.exists, occupant)
        return stat is not None and stat.owner_session_id == zk.client_id[0]


def lock(zk, path, rounds, hold_ms, occupant, patterns):
    extra = [p for p in patterns.split(",") if p]
    lk = zk.Lock(path, "kazoo", extra_lock_patterns=extra)
    violations = 0
    done = 0
    for _ in range(int(rounds)):
        if stop.is_set():
            break
        done += 1
        with lk:
            alone = occupy(zk, occupant)
            if not alone:
                violations += 1
            time.sleep(int(hold_ms) / 1000.0)
            if alone:
                try:
                    zk.retry(zk.delete, occupant)
                except NoNodeError:
                    pass
    say("lock-done %d %d" % (done, violations))


def main():
    zk = KazooClient(hosts=sys.argv[1], timeout=4.0)
    zk.start()
    say("ready")
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "stop":
            stop.set()
            say("stopping")
        elif words[0] == "lock":
            threading.Thread(target=lambda w=words: run(lock, zk, *w[1:])).start()
        else:
            say("error unknown " + words[0])
    zk.stop()
    zk.close()


def run(f, *args):
    try:
        f(*args)
    except Exception as e:  # reported to the test, which fails on it
        say("error %r" % (e,))


if __name__ == "__main__":
    main()
