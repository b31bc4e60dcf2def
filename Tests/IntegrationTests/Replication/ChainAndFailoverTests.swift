/*
 * ChainAndFailoverTests.swift — PSYNC2 across a topology: chained replicas that carry the top master's
 * history unchanged (same replid and offsets on every node), promotion with REPLICAOF NO ONE that lets the
 * others continue with a partial resync, replicas and masters that continue after a restart from their
 * RDB's repl-id/offset, a backlog too small for the gap, the replica output buffer limit, and faults
 * (kill -9 during a full sync, a master that comes back empty). Debian's redis-server takes part where
 * it proves interoperability: as a sub-replica of a Tandem replica, as a promoted master, and as the
 * master that a Tandem replica follows through a failover.
 *
 * Every wait is bounded (≤ 15 s); workloads are a few hundred commands.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ChainAndFailoverTests {
    static func info(_ c: RawClient, _ section: String = "replication") -> InfoReply? {
        try? InfoReply.fetch(c, section)
    }

    static func waitForLink(_ r: RawClient, milliseconds: Int = 15_000) -> Bool {
        Harness.waitUntil(milliseconds: milliseconds) { info(r)?["master_link_status"] == "up" }
    }

    /// `workers` sender workers, taking even a single replica (by default the primary feeds
    /// replicas itself below repl-sender-workers-min-replicas).
    static func workerArgs(_ workers: Int) -> [String] {
        ["--repl-sender-workers", String(workers)] + (workers > 0 ? ["--repl-sender-workers-min-replicas", "1"] : [])
    }

    static func replicaArgs(of server: ServerProcess, _ extra: [String] = []) -> [String] {
        ["--replicaof", "127.0.0.1", String(server.port)] + extra
    }

    /// Waits until every node reports the same replid and master_repl_offset as `master`.
    static func expectSameHistory(_ master: RawClient, _ nodes: [RawClient], _ what: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        var last = ""
        let same = Harness.waitUntil(milliseconds: 15_000) {
            guard let m = info(master) else { return false }
            let all = nodes.compactMap { info($0) }
            last = "master \(m["master_replid"] ?? "?"):\(m["master_repl_offset"] ?? "?"); nodes "
                + all.map { "\($0["master_replid"] ?? "?"):\($0["master_repl_offset"] ?? "?")" }.joined(separator: ", ")
            return all.count == nodes.count && all.allSatisfy {
                $0["master_replid"] == m["master_replid"] && $0["master_repl_offset"] == m["master_repl_offset"]
            }
        }
        #expect(same, "\(what): histories differ: \(last)", sourceLocation: sourceLocation)
    }

    static func stat(_ c: RawClient, _ field: String) -> String? { info(c, "stats")?[field] }

    /// A Tandem master that took `workload` commands and a Tandem replica whose link is up; `stop()` ends both.
    struct LinkedPair {
        let master: ServerProcess, m: RawClient, replica: ServerProcess, r: RawClient

        init(masterArgs: [String] = [], replicaArgs: [String] = [], workload: Int = 0,
             sourceLocation: SourceLocation = #_sourceLocation) throws {
            master = try ServerProcess.start(.tandem, extraArgs: masterArgs)
            m = try master.connect()
            if workload > 0 { try RedisReplicaTests.workload(m, round: 0, count: workload) }
            replica = try ServerProcess.start(.tandem, extraArgs: ChainAndFailoverTests.replicaArgs(of: master, replicaArgs))
            r = try replica.connect()
            #expect(ChainAndFailoverTests.waitForLink(r), "replica never came up:\n\(replica.log)", sourceLocation: sourceLocation)
        }

        func stop() {
            replica.stop()
            master.stop()
        }
    }

    // MARK: - Chains

    /// 1 master, 2 replicas, a Tandem and a redis-server sub-replica of the first replica; writes before,
    /// during and after the syncs; every node converges on the master's data and history. Then the middle
    /// node's link is cut: it continues with a partial resync and its sub-replicas stay connected.
    @Test(arguments: [false, true])
    func chainedReplicasCarryTheMastersHistory(diskless: Bool) throws {
        let sync = ["--repl-diskless-sync", diskless ? "yes" : "no"]
        let master = try ServerProcess.start(.tandem, extraArgs: sync)
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 300)
        let middle = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master, sync))
        defer { middle.stop() }
        let second = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master, sync))
        defer { second.stop() }
        try RedisReplicaTests.workload(m, round: 1, count: 200)
        let mid = try middle.connect()
        #expect(Self.waitForLink(mid), "middle never came up:\n\(middle.log)")
        let subT = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: middle))
        defer { subT.stop() }
        let subR = try ServerProcess.start(.redis, extraArgs: Self.replicaArgs(of: middle))
        defer { subR.stop() }
        try RedisReplicaTests.workload(m, round: 2, count: 200)
        let nodes = try [middle, second, subT, subR].map { try $0.connect() }
        for (n, p) in zip(nodes, [middle, second, subT, subR]) {
            #expect(Self.waitForLink(n), "\(p.flavour) on \(p.port) never came up:\n\(p.log)")
        }
        try RedisReplicaTests.workload(m, round: 3, count: 200)
        for (i, n) in nodes.enumerated() {
            try RedisReplicaTests.expectConverged(master: m, replica: n, "node \(i) (diskless \(diskless))")
        }
        Self.expectSameHistory(m, nodes, "after the syncs")
        #expect(Self.info(mid)?["connected_slaves"] == "2")
        #expect(Self.stat(mid, "sync_full") == "2")

        // A partial resync of the middle node keeps its sub-replicas attached.
        _ = try mid.call("CLIENT", "KILL", "TYPE", "master")
        try RedisReplicaTests.workload(m, round: 4, count: 200)
        #expect(Harness.waitUntil(milliseconds: 15_000) { Self.stat(m, "sync_partial_ok") == "1" },
                "middle did not continue:\n\(middle.log)")
        for (i, n) in nodes.enumerated() {
            try RedisReplicaTests.expectConverged(master: m, replica: n, "node \(i) after the middle's partial resync")
        }
        Self.expectSameHistory(m, nodes, "after the middle's partial resync")
        #expect(Self.stat(mid, "sync_full") == "2")
        #expect(Self.stat(mid, "sync_partial_ok") == "0", "sub-replicas were disconnected:\n\(middle.log)")
        #expect(Self.stat(m, "sync_full") == "2")
    }

    /// A sub-replica cannot sync from a replica whose own link is down.
    @Test(arguments: ServerFlavour.allCases)
    func syncFromADisconnectedReplicaIsRefused(_ flavour: ServerFlavour) throws {
        let unreachable = try Harness.freePort()
        let server = try ServerProcess.start(flavour, extraArgs: ["--replicaof", "127.0.0.1", String(unreachable)])
        defer { server.stop() }
        let c = try server.connect()
        #expect(try c.call("PSYNC", "?", "-1") == Array("-NOMASTERLINK Can't SYNC while not connected with my master\r\n".utf8))
        let w = try server.connect()
        #expect(try w.call("WAIT", "1", "10") == Array("-ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.\r\n".utf8))
    }

    // MARK: - Failover

    /// The master goes away; one replica is promoted, the others (Tandem and redis-server) are re-pointed at
    /// it and continue with partial resyncs thanks to replid2; the old master comes back as a replica of the
    /// new one and continues too.
    /// With sender workers (the default) and with the main process feeding replicas (0 workers).
    @Test(arguments: [2, 0])
    func promotionLetsTheOthersContinue(workers: Int) throws {
        let w = Self.workerArgs(workers)
        let master = try ServerProcess.start(.tandem, extraArgs: w)
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 300)
        let promoted = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master, w))
        defer { promoted.stop() }
        let otherT = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master, w))
        defer { otherT.stop() }
        let otherR = try ServerProcess.start(.redis, extraArgs: Self.replicaArgs(of: master))
        defer { otherR.stop() }
        let p = try promoted.connect(), t = try otherT.connect(), r = try otherR.connect()
        for n in [p, t, r] { #expect(Self.waitForLink(n)) }
        try RedisReplicaTests.workload(m, round: 1, count: 200)
        Self.expectSameHistory(m, [p, t, r], "before the failover")
        let oldID = Self.info(m)?["master_replid"] ?? "?"
        let oldOffset = Int(Self.info(m)?["master_repl_offset"] ?? "") ?? -1

        // The master is paused (as if it died); the replica is promoted.
        kill(master.pid, SIGSTOP)
        #expect(try p.call("REPLICAOF", "NO", "ONE") == Array("+OK\r\n".utf8))
        let pi = Self.info(p)
        #expect(pi?["role"] == "master")
        #expect(pi?["master_replid2"] == oldID)
        #expect(pi?["second_repl_offset"] == String(oldOffset + 1))
        #expect(promoted.log.contains("Setting secondary replication ID to \(oldID), valid up to offset: \(oldOffset + 1)."))
        #expect(try p.call("SET", "after", "failover") == Array("+OK\r\n".utf8))
        for n in [t, r] { _ = try n.call("REPLICAOF", "127.0.0.1", String(promoted.port)) }
        for n in [t, r] { #expect(Self.waitForLink(n), "re-pointed replica never came up") }
        try RedisReplicaTests.workload(p, round: 2, count: 200)
        #expect(Self.stat(p, "sync_partial_ok") == "2", "\(promoted.log)")
        #expect(Self.stat(p, "sync_full") == "0")
        for n in [t, r] { try RedisReplicaTests.expectConverged(master: p, replica: n, "after the failover") }
        Self.expectSameHistory(p, [t, r], "after the failover")

        // The old master returns and is turned into a replica of the new one: it offers its own history.
        kill(master.pid, SIGCONT)
        #expect(try m.call("REPLICAOF", "127.0.0.1", String(promoted.port)) == Array("+OK\r\n".utf8))
        #expect(Self.waitForLink(m), "\(master.log)")
        #expect(Self.stat(p, "sync_partial_ok") == "3", "old master did not continue:\n\(master.log)")
        try RedisReplicaTests.expectConverged(master: p, replica: m, "old master as a replica")
    }

    /// Tandem follows redis-server through a failover between two redis-servers: +CONTINUE with a new id.
    @Test func tandemReplicaFollowsARedisFailover() throws {
        let master = try ServerProcess.start(.redis)
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 200)
        let redisReplica = try ServerProcess.start(.redis, extraArgs: Self.replicaArgs(of: master))
        defer { redisReplica.stop() }
        let tandem = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master))
        defer { tandem.stop() }
        let rr = try redisReplica.connect(), t = try tandem.connect()
        #expect(Self.waitForLink(rr) && Self.waitForLink(t))
        try RedisReplicaTests.workload(m, round: 1, count: 200)
        Self.expectSameHistory(m, [rr, t], "before the failover")
        let oldID = Self.info(m)?["master_replid"]
        _ = try rr.call("REPLICAOF", "NO", "ONE")
        _ = try t.call("REPLICAOF", "127.0.0.1", String(redisReplica.port))
        #expect(Self.waitForLink(t), "\(tandem.log)")
        try RedisReplicaTests.workload(rr, round: 2, count: 200)
        #expect(Self.stat(rr, "sync_partial_ok") == "1", "\(tandem.log)")
        #expect(Self.info(t)?["master_replid2"] == oldID)
        try RedisReplicaTests.expectConverged(master: rr, replica: t, "after the redis failover")
        Self.expectSameHistory(rr, [t], "after the redis failover")
    }

    // MARK: - Restarts

    /// A replica restarted on its RDB continues with a partial resync; so does a replica of a master that
    /// restarted on its RDB (the master keeps its old history as replid2).
    @Test func restartsContinueFromTheRDB() throws {
        let masterDir = try Harness.makeTempDir("tandem-itest-master")
        let replicaDir = try Harness.makeTempDir("tandem-itest-replica")
        defer {
            Harness.removeDir(masterDir)
            Harness.removeDir(replicaDir)
        }
        // (A ServerProcess kills every process of its directory when it goes away: each run keeps its own
        // object until the end.)
        let master = try ServerProcess.start(.tandem, dir: masterDir)
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 200)
        let replica = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master), dir: replicaDir)
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(Self.waitForLink(r))
        try RedisReplicaTests.workload(m, round: 1, count: 100)
        Self.expectSameHistory(m, [r], "before the replica restart")

        // The replica saves and stops; the master goes on; the replica comes back and continues.
        _ = try? r.call("SHUTDOWN", "SAVE")
        #expect(replica.waitForExit(milliseconds: 5000))
        try RedisReplicaTests.workload(m, round: 2, count: 100)
        let replica2 = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master), dir: replicaDir)
        defer { replica2.stop() }
        let r2 = try replica2.connect()
        #expect(Self.waitForLink(r2))
        #expect(Self.stat(m, "sync_partial_ok") == "1", "restarted replica did not continue:\n\(replica2.log)")
        #expect(Self.stat(m, "sync_full") == "1")
        try RedisReplicaTests.expectConverged(master: m, replica: r2, "after the replica restart")

        // The master saves and stops; it comes back (on another port) and the replica continues from it.
        // Keys that expire while it is down are dropped at load and their DELs continue the history.
        _ = try m.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        for i in 0..<20 { _ = try m.call("SET", "gone\(i)", "v", "PX", "30") }
        Self.expectSameHistory(m, [r2], "before the master restart")
        Thread.sleep(forTimeInterval: 0.1)
        _ = try? m.call("SHUTDOWN", "SAVE")
        #expect(master.waitForExit(milliseconds: 5000))
        let master2 = try ServerProcess.start(.tandem, dir: masterDir)
        defer { master2.stop() }
        let m2 = try master2.connect()
        try master2.waitUntilLoaded()
        _ = try r2.call("REPLICAOF", "127.0.0.1", String(master2.port))
        #expect(Self.waitForLink(r2))
        #expect(Self.stat(m2, "sync_partial_ok") == "1", "replica did not continue from the restarted master:\n\(master2.log)")
        #expect(Self.stat(m2, "sync_full") == "0")
        #expect(try InfoReply.fetch(m2, "persistence")["rdb_last_load_keys_expired"] == "20")
        #expect(Harness.waitUntil(milliseconds: 5000) { (try? r2.call("EXISTS", "gone0")) == Array(":0\r\n".utf8) })
        try RedisReplicaTests.workload(m2, round: 3, count: 100)
        try RedisReplicaTests.expectConverged(master: m2, replica: r2, "after the master restart")
    }

    /// A master that comes back with an empty dataset (and a new history): the replica syncs to it in full.
    @Test func aMasterThatRestartsEmptyIsFollowed() throws {
        let pair = try LinkedPair(workload: 200)
        defer { pair.stop() }
        let (master, m, r) = (pair.master, pair.m, pair.r)
        try RedisReplicaTests.expectConverged(master: m, replica: r, "before the restart")
        master.stop()
        let empty = try ServerProcess.start(.tandem)
        defer { empty.stop() }
        let e = try empty.connect()
        _ = try e.call("SET", "fresh", "1")
        _ = try r.call("REPLICAOF", "127.0.0.1", String(empty.port))
        #expect(Self.waitForLink(r))
        try RedisReplicaTests.expectConverged(master: e, replica: r, "after the master came back empty")
        #expect(try r.callValue("DBSIZE") == .integer(1))
    }

    // MARK: - Limits and faults

    /// A partial resync needs the gap to be in the backlog: with a 16 KB backlog and a larger gap the replica
    /// gets a full sync, and still converges.
    @Test func aBacklogTooSmallForcesAFullSync() throws {
        let pair = try LinkedPair(masterArgs: ["--repl-backlog-size", "16kb"])
        defer { pair.stop() }
        let (master, m, replica, r) = (pair.master, pair.m, pair.replica, pair.r)
        kill(replica.pid, SIGSTOP)
        _ = try m.call("CLIENT", "KILL", "TYPE", "replica")
        for i in 0..<100 { _ = try m.call("SET", "big:\(i)", String(repeating: "x", count: 500)) }
        kill(replica.pid, SIGCONT)
        #expect(Harness.waitUntil(milliseconds: 15_000) { Self.stat(m, "sync_full") == "2" }, "\(master.log)")
        #expect(Self.stat(m, "sync_partial_err") == "1")
        try RedisReplicaTests.expectConverged(master: m, replica: r, "after the forced full sync")
    }

    /// A replica that stops reading is dropped once its pending stream passes the hard limit, with Redis's
    /// log line; it reconnects when it wakes up and converges.
    /// Enforced by the main process (0 workers: on the output buffer) and by a sender worker (on
    /// the stream bytes the replica has not taken).
    @Test(arguments: [0, 2])
    func aReplicaOverItsOutputLimitIsDropped(workers: Int) throws {
        let pair = try LinkedPair(masterArgs: ["--client-output-buffer-limit", "replica 256kb 0 0",
                                              ] + Self.workerArgs(workers))
        defer { pair.stop() }
        let (master, m, replica, r) = (pair.master, pair.m, pair.replica, pair.r)
        kill(replica.pid, SIGSTOP)
        // Incompressible values: between Tandem nodes the stream is LZ4-compressed, and the limit
        // counts what is queued on the wire (10 KB of one letter compresses to almost nothing, so a
        // replica that had started streaming was never dropped). 50 different values, so no repeat
        // falls inside LZ4's 64 KB window.
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let values = (0..<50).map { _ in String((0..<10_000).map { _ in alphabet.randomElement()! }) }
        var dropped = false
        // Up to 50 MB: loopback socket buffers autotune to several MB and take the first of it.
        for i in 0..<5000 where !dropped {
            _ = try m.call("SET", "k:\(i % 50)", values[i % 50])
            if i % 50 == 49 { dropped = Self.info(m)?["connected_slaves"] == "0" }
        }
        // The limit may be enforced by the cron (or the worker) just after the last write.
        if !dropped { dropped = Harness.waitUntil(milliseconds: 5000) { Self.info(m)?["connected_slaves"] == "0" } }
        kill(replica.pid, SIGCONT)
        #expect(dropped, "replica was never dropped:\n\(master.log)")
        #expect(master.log.contains("scheduled to be closed ASAP for overcoming of output buffer limits."))
        #expect(Self.waitForLink(r))
        try RedisReplicaTests.expectConverged(master: m, replica: r, "after the drop")
    }

    /// kill -9 of the master while a (slowed) full sync is running: the replica logs the lost transfer, keeps
    /// its old data, retries, and converges with the master once it is back.
    @Test func masterKilledDuringAFullSync() throws {
        let dir = try Harness.makeTempDir("tandem-itest-master")
        defer { Harness.removeDir(dir) }
        // (A ServerProcess kills every process of its directory when it goes away: keep each one
        // alive until the end, and give the restarted server a name of its own.)
        let master = try ServerProcess.start(.tandem, extraArgs: ["--rdb-key-save-delay", "2000"], dir: dir)
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "2000")
        let replica = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master))
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(Harness.waitUntil(milliseconds: 10_000) { Self.info(r)?["master_sync_in_progress"] == "1" })
        kill(master.pid, SIGKILL)
        master.stop(keepDir: true)
        #expect(Harness.waitUntil(milliseconds: 10_000) { replica.log.contains("I/O error trying to sync with MASTER") },
                "\(replica.log)")
        #expect(try r.call("PING") == Array("+PONG\r\n".utf8))
        let restarted = try ServerProcess.start(.tandem, dir: dir)
        defer { restarted.stop() }
        let m2 = try restarted.connect()
        _ = try m2.call("SET", "back", "1")
        _ = try r.call("REPLICAOF", "127.0.0.1", String(restarted.port))
        #expect(Self.waitForLink(r))
        try RedisReplicaTests.expectConverged(master: m2, replica: r, "after the master came back")
    }

    /// kill -9 of a replica while it loads: the master forgets it and serves the next one.
    @Test func replicaKilledDuringItsLoad() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "5000")
        let slow = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master, ["--key-load-delay", "1000"]))
        let s = try slow.connect()
        #expect(Harness.waitUntil(milliseconds: 10_000) { slow.log.contains("Loading DB in memory") }, "\(slow.log)")
        _ = s
        kill(slow.pid, SIGKILL)
        slow.stop()
        #expect(Harness.waitUntil(milliseconds: 10_000) { Self.info(m)?["connected_slaves"] == "0" })
        let replica = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master))
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(Self.waitForLink(r))
        try RedisReplicaTests.expectConverged(master: m, replica: r, "the next replica")
    }

    // MARK: - Sender workers

    /// kill -9 of the sender worker feeding the replicas: the primary starts another, the replicas reconnect
    /// (partial resync) and converge; INFO tandem shows the new worker.
    @Test func aSenderWorkerThatDiesIsReplaced() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: Self.workerArgs(1))
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 200)
        let tandem = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master))
        defer { tandem.stop() }
        let redis = try ServerProcess.start(.redis, extraArgs: Self.replicaArgs(of: master))
        defer { redis.stop() }
        let t = try tandem.connect(), r = try redis.connect()
        #expect(Self.waitForLink(t) && Self.waitForLink(r))
        try RedisReplicaTests.workload(m, round: 1, count: 200)
        for n in [t, r] { try RedisReplicaTests.expectConverged(master: m, replica: n, "before the worker dies") }
        let workerLine = { Self.info(m, "tandem")?["repl_sender_worker0"] ?? "" }
        #expect(Harness.waitUntil(milliseconds: 5000) { workerLine().hasSuffix("replicas=2") }, "\(workerLine())")
        guard let pidText = workerLine().split(separator: ",").first?.dropFirst(4), let pid = pid_t(pidText) else {
            Issue.record("no worker pid in \(workerLine())")
            return
        }
        kill(pid, SIGKILL)
        #expect(Harness.waitUntil(milliseconds: 10_000) { master.log.contains("exited; starting it again") }, "\(master.log)")
        try RedisReplicaTests.workload(m, round: 2, count: 200)
        for n in [t, r] {
            #expect(Self.waitForLink(n))
            try RedisReplicaTests.expectConverged(master: m, replica: n, "after the worker was replaced")
        }
        #expect(Self.stat(m, "sync_full") == "2", "replicas should continue with PSYNC")
        #expect(!workerLine().hasPrefix("pid=\(pid),"))
    }

    // MARK: - LZ4

    /// Tandem nodes agree on tandem-lz4 (the stream travels as LZ4 frames, from a worker or from the
    /// primary); a redis-server replica of the same master, and a Tandem replica with repl-compression no,
    /// get the plain protocol. Everyone converges, offsets count plain bytes.
    @Test(arguments: [2, 0])
    func lz4IsNegotiatedBetweenTandemNodesOnly(workers: Int) throws {
        let master = try ServerProcess.start(.tandem, extraArgs: Self.workerArgs(workers))
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 200)
        let lz4 = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master))
        defer { lz4.stop() }
        let plain = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master, ["--repl-compression", "no"]))
        defer { plain.stop() }
        let redis = try ServerProcess.start(.redis, extraArgs: Self.replicaArgs(of: master))
        defer { redis.stop() }
        let nodes = try [lz4, plain, redis].map { try $0.connect() }
        for n in nodes { #expect(Self.waitForLink(n)) }
        try RedisReplicaTests.workload(m, round: 1, count: 400)
        // A cut: the compressed link continues with +CONTINUE ... tandem-lz4.
        _ = try nodes[0].call("CLIENT", "KILL", "TYPE", "master")
        try RedisReplicaTests.workload(m, round: 2, count: 200)
        for (i, n) in nodes.enumerated() { try RedisReplicaTests.expectConverged(master: m, replica: n, "replica \(i)") }
        Self.expectSameHistory(m, nodes, "with and without LZ4")
        let line = "the master sends the stream as LZ4 frames (tandem-lz4)"
        #expect(lz4.log.components(separatedBy: line).count - 1 >= 2, "\(lz4.log)")  // the sync and the +CONTINUE (a busy machine may add a reconnection)
        #expect(!plain.log.contains(line))
        let t = Self.info(m, "tandem")
        let bytesIn = Int(t?["repl_lz4_bytes_in"] ?? "") ?? 0, bytesOut = Int(t?["repl_lz4_bytes_out"] ?? "") ?? 0
        #expect(bytesIn > 0 && bytesOut > 0 && bytesOut < bytesIn, "\(String(describing: t))")
        let r = Self.info(nodes[0], "tandem")
        #expect((Int(r?["repl_lz4_replica_output_bytes"] ?? "") ?? 0) > 0)
    }

    // MARK: - Diskless load

    /// repl-diskless-load swapdb and on-empty-db: the snapshot is parsed from the socket, from a diskless
    /// Tandem master (`$EOF:`) and from a disk-sync redis-server master (`$<len>`).
    @Test(arguments: ["swapdb", "on-empty-db"])
    func disklessLoad(_ mode: String) throws {
        for masterFlavour in [ServerFlavour.tandem, .redis] {
            let master = try ServerProcess.start(masterFlavour, extraArgs: ["--repl-diskless-sync", masterFlavour == .tandem ? "yes" : "no"])
            defer { master.stop() }
            let m = try master.connect()
            try RedisReplicaTests.workload(m, round: 0, count: 300)
            let replica = try ServerProcess.start(.tandem, extraArgs: ["--repl-diskless-load", mode])
            defer { replica.stop() }
            let r = try replica.connect()
            if mode == "swapdb" { _ = try r.call("SET", "local-only", "gone after the sync") }
            _ = try r.call("REPLICAOF", "127.0.0.1", String(master.port))
            #expect(Self.waitForLink(r), "\(replica.log)")
            try RedisReplicaTests.workload(m, round: 1, count: 200)
            try RedisReplicaTests.expectConverged(master: m, replica: r, "\(mode) from \(masterFlavour)")
            #expect(replica.log.contains("to parser"), "\(replica.log)")
        }
    }

    /// swapdb keeps the previous dataset when the transfer fails half-way (the master is killed).
    @Test func swapdbKeepsTheOldDataWhenTheTransferFails() throws {
        let first = try ServerProcess.start(.tandem)
        defer { first.stop() }
        let f = try first.connect()
        _ = try f.call("DEBUG", "POPULATE", "300", "old")
        let replica = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: first, ["--repl-diskless-load", "swapdb"]))
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(Self.waitForLink(r))
        #expect(Harness.waitUntil(milliseconds: 5000) { (try? r.callValue("DBSIZE")) == .integer(300) })
        // A second master whose (slowed) snapshot never completes.
        let second = try ServerProcess.start(.tandem, extraArgs: ["--rdb-key-save-delay", "5000"])
        defer { second.stop() }
        let s = try second.connect()
        _ = try s.call("DEBUG", "POPULATE", "2000", "new")
        _ = try r.call("REPLICAOF", "127.0.0.1", String(second.port))
        #expect(Harness.waitUntil(milliseconds: 10_000) { replica.log.contains("to parser") })
        usleep(300_000)
        kill(second.pid, SIGKILL)
        second.stop()
        #expect(Harness.waitUntil(milliseconds: 10_000) { replica.log.contains("the previous dataset is kept") }, "\(replica.log)")
        let after = try replica.connect()
        #expect(try after.callValue("DBSIZE") == .integer(300))
        #expect(try after.call("EXISTS", "old:7") == Array(":1\r\n".utf8))
    }

    // MARK: - Handshake

    /// A "master" that accepts the connection and never answers: the replica keeps serving clients at once
    /// (the handshake runs from the event loop) and gives up after repl-timeout, then retries.
    @Test func aSilentMasterDoesNotBlockTheReplica() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        listen(listener, 8)
        let port = UInt16(bigEndian: addr.sin_port)
        let replica = try ServerProcess.start(.tandem, extraArgs: ["--replicaof", "127.0.0.1", String(port), "--repl-timeout", "1"])
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(Harness.waitUntil(milliseconds: 5000) { replica.log.contains("MASTER <-> REPLICA sync started") })
        for _ in 0..<20 {
            let start = Date()
            #expect(try r.call("PING") == Array("+PONG\r\n".utf8))
            #expect(Date().timeIntervalSince(start) < 0.5, "the replica stalled during the handshake")
            usleep(50_000)
        }
        #expect(Harness.waitUntil(milliseconds: 5000) { replica.log.contains("Timeout connecting to the MASTER...") }, "\(replica.log)")
        guard case .array(let role) = try r.callValue("ROLE"), role.count == 5 else { Issue.record("ROLE"); return }
        #expect([RESPValue.bulk(Array("connect".utf8)), .bulk(Array("connecting".utf8)), .bulk(Array("handshake".utf8))].contains(role[3]))
    }

    /// A wrong masterauth: the replica logs the refusal and stays down; with the right one it syncs.
    @Test(arguments: ServerFlavour.allCases)
    func authFailuresOnTheLink(_ masterFlavour: ServerFlavour) throws {
        let master = try ServerProcess.start(masterFlavour, extraArgs: ["--requirepass", "s3cret"])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("AUTH", "s3cret")
        _ = try m.call("SET", "k", "v")
        let replica = try ServerProcess.start(.tandem, extraArgs: Self.replicaArgs(of: master, ["--masterauth", "wrong"]))
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(Harness.waitUntil(milliseconds: 5000) { replica.log.contains("Unable to AUTH to MASTER") }, "\(replica.log)")
        #expect(Self.info(r)?["master_link_status"] == "down")
        _ = try r.call("CONFIG", "SET", "masterauth", "s3cret")
        #expect(Self.waitForLink(r), "\(replica.log)")
        #expect(Harness.waitUntil(milliseconds: 5000) { (try? r.call("GET", "k")) == Array("$1\r\nv\r\n".utf8) })
    }

    // MARK: - One snapshot for many replicas, the backlog's size and lifetime

    /// Six replicas asking within repl-diskless-sync-delay share one fork (no replication storm).
    @Test func replicasAskingTogetherShareOneFork() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--repl-diskless-sync-delay", "2"])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "1000")
        let forksBefore = Self.stat(m, "total_forks")
        let replicas = try (0..<6).map { i in
            try ServerProcess.start(i % 2 == 0 ? .tandem : .redis, extraArgs: Self.replicaArgs(of: master))
        }
        defer { for r in replicas { r.stop() } }
        let clients = try replicas.map { try $0.connect() }
        for c in clients { #expect(Self.waitForLink(c)) }
        #expect(Self.stat(m, "total_forks") == String((Int(forksBefore ?? "0") ?? 0) + 1), "\(master.log)")
        #expect(Self.stat(m, "sync_full") == "6")
        for c in clients { try RedisReplicaTests.expectConverged(master: m, replica: c, "shared snapshot") }
    }

    /// CONFIG SET repl-backlog-size resizes the ring (its bound, ReplicationState.ringCapacity; the workers move to the new mapping and replicas keep
    /// streaming); repl-backlog-ttl frees it after the last replica left, with Redis's log line.
    @Test func backlogResizeAndTTL() throws {
        let pair = try LinkedPair()
        defer { pair.stop() }
        let (master, m, r) = (pair.master, pair.m, pair.r)
        try RedisReplicaTests.workload(m, round: 0, count: 100)
        _ = try m.call("CONFIG", "SET", "repl-backlog-size", "4mb")
        // The ring's bound follows: repl-backlog-size + 2 x the 256 MB hard limit + 64 MB of slack.
        let capacity = 4 << 20 + 2 * (256 << 20) + (64 << 20)
        #expect(Harness.waitUntil(milliseconds: 3000) { Self.info(m, "tandem")?["repl_backlog_ring_capacity"] == String(capacity) })
        #expect(Self.info(m)?["repl_backlog_size"] == "4194304")
        try RedisReplicaTests.workload(m, round: 1, count: 200)
        try RedisReplicaTests.expectConverged(master: m, replica: r, "after the resize")
        #expect(Self.stat(m, "sync_full") == "1")
        // The replica leaves; with a 1 s TTL the backlog goes (and with it the history).
        let oldID = Self.info(m)?["master_replid"]
        _ = try m.call("CONFIG", "SET", "repl-backlog-ttl", "1")
        _ = try r.call("REPLICAOF", "NO", "ONE")
        #expect(Harness.waitUntil(milliseconds: 5000) { Self.info(m)?["repl_backlog_active"] == "0" }, "\(master.log)")
        #expect(master.log.contains("Replication backlog freed after 1 seconds without connected replicas."))
        #expect(Self.info(m)?["master_replid"] != oldID)
    }
}
