#!/usr/bin/env python3
"""netns-test.py -- Tandem replication across hosts: every node is its own host.

Each node (a master, two replicas, three redis-sentinels) runs in a network namespace of its own,
joined to a bridge that lives in one more namespace, with addresses that exist only inside these
namespaces (10.213.0.0/24); the test creates them and removes them at the end. The test itself
reaches the nodes through sockets it opens inside their namespaces (setns on a helper thread), so
nothing is reachable from the machine's own network. Scenarios:

  partition   the master is cut off from everything (its link on the bridge goes down) for longer
              than down-after-milliseconds: the sentinels promote a replica; with
              min-replicas-to-write 1 / min-replicas-max-lag 10 the isolated master refuses writes
              (-NOREPLICAS); healed, it rejoins as a replica and every node ends with one digest.
  latency     a replica follows the master through a relay that delays every chunk by 20 ms and
              cuts the connection twice: lag stays bounded under load, each cut ends in a partial
              resync.
  jepsen      a client counts a write as acknowledged only after WAIT 1 answered >= 1; the master is
              killed (SIGKILL) mid-load and the sentinels fail over: every acknowledged write is on
              the new master.
  cluster     Redis Cluster, six hosts (three masters, a replica each, made by redis-cli --cluster
              create), run for Tandem and then for redis-server: one master is cut off; after
              cluster-node-timeout it refuses writes (-CLUSTERDOWN) while the majority promotes its
              replica and keeps serving every slot; healed, the old master becomes a replica, every
              node agrees on slots and epochs, and every write acknowledged by the majority side
              is readable. The two servers' times are printed side by side.

Usage: deploy/netns-test.py [scenario ...] (root; TANDEM_SERVER, default .build/release/tandem-server).
Prints a line per check and ends with "N passed, N failed"; times and lag figures are printed as
"info:" lines.
"""

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TANDEM = os.path.abspath(os.environ.get("TANDEM_SERVER", os.path.join(ROOT, ".build/release/tandem-server")))
SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
TAG = f"tdm{os.getpid() % 100000}"
NET = "10.213.0"
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL("libc.so.6", use_errno=True)

passed = failed = 0


def check(what, ok):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {what}", flush=True)
    else:
        failed += 1
        print(f"FAILED: {what}", flush=True)
    return ok


def sh(*args, check_rc=True):
    r = subprocess.run(args, capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def wait_for(seconds, condition, step=0.1):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if condition():
                return True
        except (OSError, RuntimeError):
            pass
        time.sleep(step)
    return False


# ---------------------------------------------------------------- network

class Network:
    """A bridge namespace and one namespace per host, each with one veth on the bridge."""

    def __init__(self):
        self.bridge = f"{TAG}-br"
        self.hosts = {}
        sh("ip", "netns", "add", self.bridge)
        self.br("ip", "link", "add", "br0", "type", "bridge")
        self.br("ip", "link", "set", "br0", "up")
        self.br("ip", "link", "set", "lo", "up")

    def br(self, *args):
        return sh("ip", "netns", "exec", self.bridge, *args)

    def add(self, name, index):
        ns = f"{TAG}-{name}"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"p-{name}", "netns", self.bridge)
        self.br("ip", "link", "set", f"p-{name}", "master", "br0", "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{NET}.{index}/24", "dev", "eth0")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        self.hosts[name] = (ns, f"{NET}.{index}")
        return self.hosts[name]

    def cut(self, name, down=True):
        self.br("ip", "link", "set", f"p-{name}", "down" if down else "up")

    def remove(self):
        for ns, _ in self.hosts.values():
            sh("ip", "netns", "del", ns, check_rc=False)
        sh("ip", "netns", "del", self.bridge, check_rc=False)


def socket_in(ns, addr, port, timeout=5):
    """A TCP connection opened from inside namespace `ns` (setns on a helper thread)."""
    result = {}

    def work():
        fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            s = socket.create_connection((addr, port), timeout=timeout)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            result["sock"] = s
        except OSError as e:
            result["error"] = e
        finally:
            os.close(fd)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["sock"]


class Client:
    """A minimal RESP client over a socket opened in a host's namespace."""

    def __init__(self, host, port, timeout=5):
        ns, addr = host
        self.sock = socket_in(ns, addr, port, timeout)
        self.buf = b""

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self.read()

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("connection closed")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")

    def info(self, section):
        return dict(l.split(":", 1) for l in self.call("INFO", section).splitlines() if ":" in l)

    def close(self):
        self.sock.close()


def query(host, port, *args, timeout=2):
    c = Client(host, port, timeout)
    try:
        return c.call(*args)
    finally:
        c.close()


def info(host, port, section):
    c = Client(host, port, 2)
    try:
        return c.info(section)
    finally:
        c.close()


# ---------------------------------------------------------------- processes

class Node:
    def __init__(self, net, name, index, tmp):
        self.name = name
        self.host = net.add(name, index)
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.proc = None

    @property
    def ns(self):
        return self.host[0]

    @property
    def addr(self):
        return self.host[1]

    def spawn(self, argv):
        log = open(os.path.join(self.dir, "out.log"), "a")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *argv], cwd=self.dir, stdout=log,
                                     stderr=subprocess.STDOUT)

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def log(self):
        path = os.path.join(self.dir, "server.log")
        return open(path).read() if os.path.exists(path) else ""


class Server(Node):
    port = 6379
    binary = TANDEM

    def start(self, *extra):
        self.spawn([self.binary, "--bind", self.addr, "--port", str(self.port), "--dir", self.dir, "--logfile", "server.log",
                    "--save", "", "--protected-mode", "no", "--enable-debug-command", "yes",
                    "--repl-diskless-sync-delay", "0", "--replica-announce-ip", self.addr, *extra])
        if not wait_for(20, lambda: query(self.host, self.port, "PING") == "PONG"):
            out = open(os.path.join(self.dir, "out.log")).read()
            raise RuntimeError(f"{self.name} did not start:\n{self.log()[-2000:]}{out[-2000:]}")

    def info(self, section):
        return info(self.host, self.port, section)

    def call(self, *args):
        return query(self.host, self.port, *args)


class Sentinel(Node):
    port = 26379

    def start(self, master, down_after=2000):
        conf = os.path.join(self.dir, "sentinel.conf")
        with open(conf, "w") as f:
            f.write(f"port {self.port}\nbind {self.addr}\ndir {self.dir}\nlogfile {self.dir}/server.log\n"
                    f"sentinel monitor tandem {master.addr} {master.port} 2\n"
                    f"sentinel down-after-milliseconds tandem {down_after}\n"
                    "sentinel failover-timeout tandem 20000\nsentinel parallel-syncs tandem 1\n")
        self.spawn([SENTINEL, conf])
        if not wait_for(20, lambda: query(self.host, self.port, "PING") == "PONG"):
            raise RuntimeError(f"sentinel {self.name} did not start")

    def master_addr(self):
        r = query(self.host, self.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "tandem")
        return r[0] if r else None


class Cluster:
    """A master, two replicas and three sentinels, each on its own host."""

    def __init__(self, master_args=(), replica_args=()):
        self.tmp = tempfile.mkdtemp(prefix="tandem-netns-")
        self.net = Network()
        self.master = Server(self.net, "m", 10, self.tmp)
        self.replicas = [Server(self.net, f"r{i}", 11 + i, self.tmp) for i in (1, 2)]
        self.sentinels = [Sentinel(self.net, f"s{i}", 20 + i, self.tmp) for i in (1, 2, 3)]
        try:
            self.start(master_args, replica_args)
        except BaseException:
            self.stop()
            raise

    def start(self, master_args, replica_args):
        self.master.start(*master_args)
        for r in self.replicas:
            r.start("--replicaof", self.master.addr, "6379", *replica_args)
        for r in self.replicas:
            if not wait_for(20, lambda: r.info("replication").get("master_link_status") == "up"):
                raise RuntimeError(f"{r.name} never linked:\n{r.log()[-2000:]}")
        for s in self.sentinels:
            s.start(self.master)
        wait_for(30, self.sentinels_ready, step=0.3)

    @property
    def servers(self):
        return [self.master] + self.replicas

    def sentinels_ready(self):
        for s in self.sentinels:
            fields = query(s.host, s.port, "SENTINEL", "MASTER", "tandem")
            d = dict(zip(fields[::2], fields[1::2]))
            if d.get("num-slaves") != "2" or d.get("num-other-sentinels") != "2":
                return False
        return True

    def agreed_master(self, exclude):
        addrs = {s.master_addr() for s in self.sentinels}
        return len(addrs) == 1 and exclude not in addrs and None not in addrs

    def by_addr(self, addr):
        return next(s for s in self.servers if s.addr == addr)

    def stop(self):
        for n in self.sentinels + self.servers:
            n.kill()
        self.net.remove()
        shutil.rmtree(self.tmp, ignore_errors=True)


def same_digest(servers):
    def check_all():
        digests = {s.call("DEBUG", "DIGEST") for s in servers}
        offsets = {s.info("replication").get("master_repl_offset") for s in servers}
        return len(digests) == 1 and len(offsets) == 1
    return wait_for(30, check_all, step=0.3)


# ---------------------------------------------------------------- scenarios

def scenario_partition():
    c = Cluster(master_args=("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"))
    try:
        for i in range(500):
            c.master.call("SET", f"before:{i}", i)
        check("partition: replicas caught up before the cut", same_digest(c.servers))
        old = c.master.addr
        start = time.time()
        c.net.cut("m")
        promoted = wait_for(30, lambda: c.agreed_master(old), step=0.2)
        check("partition: the sentinels promote a replica", promoted)
        print(f"info: partition: failover agreed after {time.time() - start:.1f} s (down-after 2 s)", flush=True)
        new = c.by_addr(c.sentinels[0].master_addr()) if promoted else c.replicas[0]
        # The isolated master sees no replica acknowledge for min-replicas-max-lag seconds.
        def refuses():
            try:
                c.master.call("SET", "isolated", "1")
                return False
            except RuntimeError as e:
                return str(e).startswith("NOREPLICAS")
        check("partition: the isolated master refuses writes (-NOREPLICAS)", wait_for(20, refuses, step=0.5))
        for i in range(200):
            new.call("SET", f"after:{i}", i)
        c.net.cut("m", down=False)
        rejoined = wait_for(60, lambda: c.master.info("replication").get("master_host") == new.addr
                            and c.master.info("replication").get("master_link_status") == "up", step=0.3)
        check("partition: healed, the old master rejoins as a replica", rejoined)
        check("partition: every node ends with the same digest", same_digest([new] + [s for s in c.servers if s is not new]))
        check("partition: the write refused while isolated is nowhere", c.master.call("GET", "isolated") is None)
    finally:
        c.stop()


class DelayRelay:
    """A TCP relay inside a namespace that delays each chunk by `delay` seconds, both ways; `cut()`
    closes the connections it carries (the replica reconnects through it)."""

    def __init__(self, host, listen_port, target, delay):
        self.host, self.port, self.target, self.delay = host, listen_port, target, delay
        self.conns = []
        self.stopped = False
        ready = threading.Event()

        def serve():
            fd = os.open(f"/var/run/netns/{host[0]}", os.O_RDONLY)
            libc.setns(fd, CLONE_NEWNET)
            os.close(fd)
            self.listener = socket.socket()
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind((host[1], listen_port))
            self.listener.listen(8)
            ready.set()
            while not self.stopped:
                try:
                    a, _ = self.listener.accept()
                except OSError:
                    return
                b = socket.create_connection(target)
                self.conns += [a, b]
                for src, dst in ((a, b), (b, a)):
                    threading.Thread(target=self.pump, args=(src, dst), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(5)

    def pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        self.cut()
        self.listener.close()


def scenario_latency():
    c = Cluster()
    relay = None
    try:
        r = c.replicas[0]
        # The replica follows the master through a relay on its own host, 20 ms each way.
        relay = DelayRelay(r.host, 7000, (c.master.addr, 6379), 0.02)
        r.call("REPLICAOF", r.addr, 7000)
        check("latency: the replica links through the 20 ms relay",
              wait_for(30, lambda: r.info("replication").get("master_link_status") == "up"))
        partial_before = int(c.master.info("stats")["sync_partial_ok"])
        lags = []
        writer = Client(c.master.host, 6379)
        for round_ in range(3):
            t_end = time.time() + 4
            i = 0
            while time.time() < t_end:
                for _ in range(50):
                    writer.call("SET", f"lat:{i % 2000}", "x" * 200)
                    i += 1
                mo = int(c.master.info("replication")["master_repl_offset"])
                ro = int(r.info("replication").get("slave_repl_offset", "0"))
                lags.append(mo - ro)
            if round_ < 2:
                relay.cut()
                wait_for(15, lambda: r.info("replication").get("master_link_status") == "up")
        lags.sort()
        p99 = lags[int(len(lags) * 0.99)] if lags else 0
        print(f"info: latency: lag p50 {lags[len(lags) // 2]} B, p99 {p99} B, max {lags[-1]} B over {len(lags)} samples",
              flush=True)
        check("latency: lag stays bounded (p99 under 1 MB)", p99 < 1 << 20)
        check("latency: both cuts ended in partial resyncs",
              wait_for(15, lambda: int(c.master.info("stats")["sync_partial_ok"]) >= partial_before + 2))
        check("latency: one full sync only (the first)", c.master.info("stats")["sync_full"] == "2")
        check("latency: the replica ends with the master's digest", same_digest([c.master, r]))
        writer.close()
    finally:
        if relay:
            relay.stop()
        c.stop()


def scenario_jepsen():
    c = Cluster()
    try:
        acked, stop = [], threading.Event()
        old = c.master.addr

        def load():
            cl = Client(c.master.host, 6379)
            i = 0
            while not stop.is_set():
                try:
                    cl.call("SET", f"w:{i}", i)
                    if int(cl.call("WAIT", 1, 500)) >= 1:
                        acked.append(i)
                except (OSError, RuntimeError):
                    return
                i += 1

        t = threading.Thread(target=load)
        t.start()
        time.sleep(2)
        c.master.kill(signal.SIGKILL)
        stop.set()
        t.join(10)
        start = time.time()
        promoted = wait_for(30, lambda: c.agreed_master(old), step=0.2)
        check("jepsen: the sentinels fail over after the kill", promoted)
        print(f"info: jepsen: {len(acked)} writes acknowledged by WAIT 1; failover in {time.time() - start:.1f} s",
              flush=True)
        if promoted:
            new = c.by_addr(c.sentinels[0].master_addr())
            wait_for(10, lambda: new.info("replication")["role"] == "master")
            cl = Client(new.host, 6379)
            missing = [i for i in acked if cl.call("GET", f"w:{i}") != str(i)]
            cl.close()
            check(f"jepsen: every acknowledged write is on the new master ({len(missing)} missing)",
                  not missing and len(acked) > 0)
    finally:
        c.stop()


class ClusterHosts:
    """Six cluster nodes of one kind (binary), each on its own host, created by redis-cli --cluster create."""

    def __init__(self, binary, timeout_ms):
        self.tmp = tempfile.mkdtemp(prefix="tandem-netns-cluster-")
        self.net = Network()
        self.nodes = [Server(self.net, f"c{i}", 30 + i, self.tmp) for i in range(6)]
        for n in self.nodes:
            n.binary = binary
        try:
            for n in self.nodes:
                n.start("--cluster-enabled", "yes", "--cluster-node-timeout", str(timeout_ms),
                        "--cluster-announce-ip", n.addr)
            ns = self.nodes[0].ns
            out = sh("ip", "netns", "exec", ns, "redis-cli", "--cluster", "create",
                     *[f"{n.addr}:{n.port}" for n in self.nodes], "--cluster-replicas", "1", "--cluster-yes")
            if "[OK] All 16384 slots covered." not in out:
                raise RuntimeError(f"cluster create failed:\n{out[-2000:]}")
            if not wait_for(60, lambda: self.agree(self.nodes), step=0.3):
                raise RuntimeError("the nodes never agreed")
            # The replicas' first full sync can take seconds (repl-diskless-sync-delay):
            # the scenarios start once every replica's link is up.
            if not wait_for(60, lambda: sum(n.info("replication").get("master_link_status") == "up"
                                            for n in self.nodes) == 3, step=0.3):
                raise RuntimeError("the replicas never finished their first sync")
        except BaseException:
            self.stop()
            raise

    def by_addr(self, addr):
        return next(n for n in self.nodes if n.addr == addr)

    @staticmethod
    def signature(n):
        lines = [l.split() for l in n.call("CLUSTER", "NODES").splitlines()]
        return sorted(f"{f[0]}:{f[6]}:{','.join(f[8:])}" for f in lines if len(f) > 8 and "master" in f[2])

    def agree(self, nodes):
        sigs = {tuple(self.signature(n)) for n in nodes}
        return len(sigs) == 1 and all(n.call("CLUSTER", "INFO").startswith("cluster_state:ok") for n in nodes)

    def call(self, nodes, *args):
        """A command for the node owning its key (args[1]), following -MOVED among `nodes`."""
        node = nodes[0]
        for _ in range(5):
            try:
                return node.call(*args)
            except RuntimeError as e:
                if not str(e).startswith("MOVED"):
                    raise
                addr = str(e).split()[2].rsplit(":", 1)[0]
                node = next((n for n in nodes if n.addr == addr), None)
                if node is None:
                    raise
        raise RuntimeError("too many redirections")

    def replicas_caught_up(self):
        """Every replica has applied its master's whole stream (WAIT counts only the
        writes of its own connection, and each call here is a new connection)."""
        infos = {n.addr: n.info("replication") for n in self.nodes}
        replicas = [i for i in infos.values() if i.get("role") == "slave"]
        return len(replicas) == 3 and all(
            i.get("master_link_status") == "up"
            and int(i.get("slave_repl_offset", -1)) >= int(infos[i["master_host"]]["master_repl_offset"])
            for i in replicas)

    def role(self, n):
        return n.info("replication").get("role")

    def stop(self):
        for n in self.nodes:
            n.kill()
        self.net.remove()
        shutil.rmtree(self.tmp, ignore_errors=True)


def cluster_partition(binary, kind):
    timeout_ms = 2000
    c = ClusterHosts(binary, timeout_ms)
    times = {}
    try:
        for i in range(300):
            c.call(c.nodes, "SET", f"before:{i}", i)
        # Replication is asynchronous: a write is only safe from a failover once
        # a replica has it, so wait for every master's replica before the cut.
        check(f"cluster/{kind}: every master's replica has the writes before the cut",
              wait_for(30, c.replicas_caught_up, step=0.2))
        victim = next(n for n in c.nodes if c.role(n) == "master")
        victim_id = victim.call("CLUSTER", "MYID")
        majority = [n for n in c.nodes if n is not victim]
        # A key the victim serves, to try on it while it is cut off.
        probe = next(f"before:{i}" for i in range(300) if _owns(victim, f"before:{i}"))
        start = time.time()
        c.net.cut(victim.name)

        def refuses():
            try:
                victim.call("SET", probe, "isolated")
                return False
            except RuntimeError as e:
                return str(e).startswith("CLUSTERDOWN")
        refused = wait_for(30, refuses, step=0.1)
        times["minority refuses writes"] = time.time() - start
        check(f"cluster/{kind}: the cut-off master refuses writes (-CLUSTERDOWN) after the node timeout",
              refused and times["minority refuses writes"] >= timeout_ms / 1000 * 0.9)
        promoted = wait_for(30, lambda: c.agree(majority)
                            and victim_id not in " ".join(c.signature(majority[0])), step=0.1)
        times["majority ok again"] = time.time() - start
        check(f"cluster/{kind}: the majority promotes the replica and serves every slot", promoted)
        for i in range(300):
            c.call(majority, "SET", f"during:{i}", i)
        check(f"cluster/{kind}: the write refused on the cut-off side is nowhere",
              c.call(majority, "GET", probe) != "isolated")
        heal = time.time()
        c.net.cut(victim.name, down=False)
        healed = wait_for(60, lambda: c.role(victim) == "slave" and c.agree(c.nodes)
                          and victim.info("replication").get("master_link_status") == "up", step=0.2)
        times["healed (old master a replica, all agree)"] = time.time() - heal
        check(f"cluster/{kind}: healed, the old master is a replica and every node agrees", healed)
        epochs = {n.call("CLUSTER", "INFO").split("cluster_current_epoch:")[1].split()[0] for n in c.nodes}
        check(f"cluster/{kind}: current epochs converge ({sorted(epochs)})",
              wait_for(20, lambda: len({n.call("CLUSTER", "INFO").split("cluster_current_epoch:")[1].split()[0]
                                         for n in c.nodes}) == 1))
        lost = [k for k in [f"before:{i}" for i in range(300)] + [f"during:{i}" for i in range(300)]
                if c.call(c.nodes, "GET", k) != k.split(":")[1]]
        check(f"cluster/{kind}: every acknowledged write is readable ({len(lost)} lost)", not lost)
    finally:
        c.stop()
    return times


def _owns(node, key):
    try:
        node.call("EXISTS", key)
        return True
    except RuntimeError:
        return False


def scenario_cluster():
    results = {"tandem": cluster_partition(TANDEM, "tandem")}
    redis = shutil.which("redis-server") or "/usr/bin/redis-server"
    results["redis"] = cluster_partition(redis, "redis")
    for what in results["tandem"]:
        t, r = results["tandem"][what], results["redis"].get(what)
        print(f"info: cluster: {what}: tandem {t:.1f} s, redis {r:.1f} s" if r is not None else
              f"info: cluster: {what}: tandem {t:.1f} s", flush=True)


SCENARIOS = {"partition": scenario_partition, "latency": scenario_latency, "jepsen": scenario_jepsen,
             "cluster": scenario_cluster}


def main():
    if os.geteuid() != 0:
        sys.exit("netns-test: needs root (ip netns)")
    if not os.path.exists(TANDEM):
        sys.exit(f"netns-test: {TANDEM} not found (make build)")
    for name in sys.argv[1:] or list(SCENARIOS):
        print(f"== {name}", flush=True)
        try:
            SCENARIOS[name]()
        except Exception as e:  # a scenario that could not run counts as one failure
            check(f"{name}: ran to the end ({e!r})", False)
    print(f"netns-test: {passed} passed, {failed} failed", flush=True)
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
