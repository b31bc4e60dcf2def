/*
 * RedisReplicaTests.swift — Debian's redis-server 7.0 as a replica of Tandem: disk full sync, the command
 * stream (every type, MULTI, expirations, SPOP and INCRBYFLOAT rewritten deterministically), INFO on both
 * sides, and a partial resynchronization after the link is cut. Convergence is checked with DEBUG DIGEST and
 * a key-by-key dump (encodings not compared: a replica chooses its own as it loads).
 *
 * Waits are bounded (10 s); the workload is a few thousand commands.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct RedisReplicaTests {
    /// A deterministic mixed workload: `round` shifts the keys so later rounds modify earlier data.
    static func workload(_ c: RawClient, round: Int, count: Int) throws {
        for i in 0..<count {
            let k = (i * 7 + round * 13) % 97
            switch i % 12 {
            case 0: _ = try c.call("SET", "s:\(k)", "v\(i)-\(round)")
            case 1: _ = try c.call("INCRBY", "n:\(k % 10)", "\(i)")
            case 2: _ = try c.call("RPUSH", "l:\(k % 7)", "a\(i)", "\(i)")
            case 3: _ = try c.call("LPOP", "l:\((k + 3) % 7)")
            case 4: _ = try c.call("HSET", "h:\(k % 9)", "f\(i % 20)", "\(i)")
            case 5: _ = try c.call("SADD", "set:\(k % 8)", "m\(i % 30)", "\(i % 11)")
            case 6: _ = try c.call("SPOP", "set:\((k + 1) % 8)")
            case 7: _ = try c.call("ZADD", "z:\(k % 6)", "\(Double(i) / 3)", "m\(i % 40)")
            case 8: _ = try c.call("INCRBYFLOAT", "f:\(k % 5)", "1.5")
            case 9: _ = try c.call("EXPIRE", "s:\((k + 5) % 97)", "1000")
            case 10:
                _ = try c.call("MULTI")
                _ = try c.call("SET", "tx:\(k % 4)", "\(i)")
                _ = try c.call("ZINCRBY", "z:\(k % 6)", "2", "m\(i % 40)")
                _ = try c.call("EXEC")
            default: _ = try c.call("DEL", "s:\((k + 11) % 97)")
            }
        }
        // Streams: appends with approximate trims and auto IDs, a consumer group delivering, acknowledging
        // (NOACK too) and claiming, deletions and ID trims (IDs made explicit on the way).
        _ = try c.call("CONFIG", "SET", "stream-node-max-entries", "8")
        _ = try c.call("XGROUP", "CREATE", "x:log", "g", "0", "MKSTREAM")  // BUSYGROUP after the first round
        for i in 0..<40 {
            _ = try c.call("XADD", "x:log", "MAXLEN", "~", "60", "*", "round", "\(round)", "i", "\(i)")
            _ = try c.call("XADD", "x:ids", "\(round * 1000 + i + 1)-\(i % 3)", "f", "\(i)")
        }
        _ = try c.call("XREADGROUP", "GROUP", "g", "c\(round)", "COUNT", "7", "STREAMS", "x:log", ">")
        _ = try c.call("XREADGROUP", "GROUP", "g", "n\(round)", "NOACK", "COUNT", "3", "STREAMS", "x:log", ">")
        _ = try c.call("XAUTOCLAIM", "x:log", "g", "claimer", "0", "0", "COUNT", "2")
        _ = try c.call("XDEL", "x:ids", "\(round * 1000 + 5)-1", "\(round * 1000 + 9)-2")
        _ = try c.call("XTRIM", "x:ids", "MINID", "~", "\(round * 1000 - 500)")
        // Another database, so that the stream switches with SELECT.
        _ = try c.call("SELECT", "3")
        _ = try c.call("SET", "in-db-3:\(round)", "x")
        _ = try c.call("SELECT", "0")
        // Something that expires while replicas watch: the master sends the DEL.
        _ = try c.call("SET", "short", "lived", "PX", "50")
        usleep(200_000)
    }

    static func replicationInfo(_ c: RawClient) throws -> InfoReply { try InfoReply.fetch(c, "replication") }

    /// Waits until the replica has applied everything the master has sent, then compares.
    static func expectConverged(master: RawClient, replica: RawClient, _ what: String,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        var masterDigest = RESPValue.nullBulk, replicaDigest = RESPValue.null
        let same = Harness.waitUntil(milliseconds: 10_000) {
            guard let m = try? master.callValue("DEBUG", "DIGEST"), let r = try? replica.callValue("DEBUG", "DIGEST")
            else { return false }
            masterDigest = m
            replicaDigest = r
            return m == r
        }
        #expect(same, "\(what): digests differ: master \(masterDigest), replica \(replicaDigest)",
                sourceLocation: sourceLocation)
        let m = try KeyspaceDump.take(master, encodings: false)
        let r = try KeyspaceDump.take(replica, encodings: false)
        KeyspaceDump.expectSame(r, m, what, name: "replica", referenceName: "master", sourceLocation: sourceLocation)
    }

    static func startReplica(of master: ServerProcess) throws -> ServerProcess {
        try ServerProcess.start(.redis, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
    }

    /// Disk (`$<len>` from dump.rdb) and diskless (`$EOF:` straight from the fork child) full syncs.
    @Test(arguments: [false, true])
    func redisReplicaFullSyncThenStream(diskless: Bool) throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--repl-diskless-sync", diskless ? "yes" : "no"])
        defer { master.stop() }
        let m = try master.connect()
        try Self.workload(m, round: 0, count: 600)
        _ = try m.call("DEBUG", "POPULATE", "2000", "pop", "20")
        let replicaServer = try Self.startReplica(of: master)
        defer { replicaServer.stop() }
        let r = try replicaServer.connect()
        let up = Harness.waitUntil(milliseconds: 10_000) {
            (try? Self.replicationInfo(r))?["master_link_status"] == "up"
        }
        #expect(up, "replica never came up:\n\(replicaServer.log)")
        try Self.workload(m, round: 1, count: 600)
        try Self.expectConverged(master: m, replica: r, "after full sync and stream")

        // ROLE and CLIENT LIST see the replica.
        guard case .array(let role) = try m.callValue("ROLE") else { Issue.record("ROLE is not an array"); return }
        #expect(role.first == .bulk(Array("master".utf8)))
        if role.count == 3, case .array(let replicas) = role[2], case .array(let first)? = replicas.first {
            #expect(first.count == 3 && first[1] == .bulk(Array(String(replicaServer.port).utf8)))
        } else {
            Issue.record("ROLE lists no replica: \(role)")
        }
        guard case .bulk(let list) = try m.callValue("CLIENT", "LIST", "TYPE", "replica") else { Issue.record("CLIENT LIST"); return }
        #expect(String(decoding: list, as: UTF8.self).contains("flags=S"))
        let info = try Self.replicationInfo(m)
        #expect(info["role"] == "master")
        #expect(info["connected_slaves"] == "1")
        #expect(info["slave0"]?.contains("state=online") == true, "\(info["slave0"] ?? "")")
        #expect(info["repl_backlog_active"] == "1")
        let stats = try InfoReply.fetch(m, "stats")
        #expect(stats["sync_full"] == "1")
        let log = master.log
        for line in ["Replica 127.0.0.1:\(replicaServer.port) asks for synchronization", "Starting BGSAVE for SYNC with target: \(diskless ? "replicas sockets" : "disk")",
                     "Synchronization with replica 127.0.0.1:\(replicaServer.port) succeeded"] {
            #expect(log.contains(line), "master log lacks '\(line)':\n\(log)")
        }
        // The replica's offset reaches the master's.
        let caughtUp = Harness.waitUntil(milliseconds: 10_000) {
            let mo = (try? Self.replicationInfo(m))?["master_repl_offset"]
            return mo != nil && mo == (try? Self.replicationInfo(r))?["slave_repl_offset"]
        }
        #expect(caughtUp)
    }

    @Test func redisReplicaContinuesWithPartialResync() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let m = try master.connect()
        try Self.workload(m, round: 0, count: 300)
        let replicaServer = try Self.startReplica(of: master)
        defer { replicaServer.stop() }
        let r = try replicaServer.connect()
        #expect(Harness.waitUntil(milliseconds: 10_000) { (try? Self.replicationInfo(r))?["master_link_status"] == "up" })
        try Self.expectConverged(master: m, replica: r, "before the cut")
        // Cut the link from the replica's side, keep writing, let it reconnect.
        _ = try r.call("CLIENT", "KILL", "TYPE", "master")
        try Self.workload(m, round: 2, count: 300)
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            (try? InfoReply.fetch(m, "stats"))?["sync_partial_ok"] == "1"
        }, "no partial resync:\n\(master.log)")
        try Self.workload(m, round: 3, count: 100)
        try Self.expectConverged(master: m, replica: r, "after the partial resync")
        let stats = try InfoReply.fetch(m, "stats")
        #expect(stats["sync_full"] == "1")
        #expect(master.log.contains("Partial resynchronization request from 127.0.0.1:\(replicaServer.port) accepted"))
    }

    @Test func minReplicasToWriteRefusesWritesWithoutGoodReplicas() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "2"])
        defer { master.stop() }
        let m = try master.connect()
        #expect(try m.call("SET", "k", "v") == Array("-NOREPLICAS Not enough good replicas to write.\r\n".utf8))
        #expect(try m.call("GET", "k") == Array("$-1\r\n".utf8))
        #expect(try Self.replicationInfo(m)["min_slaves_good_slaves"] == "0")
        let replicaServer = try Self.startReplica(of: master)
        let r = try replicaServer.connect()
        #expect(Harness.waitUntil(milliseconds: 10_000) { (try? Self.replicationInfo(r))?["master_link_status"] == "up" })
        #expect(Harness.waitUntil(milliseconds: 5000) { (try? m.call("SET", "k", "v")) == Array("+OK\r\n".utf8) })
        #expect(try Self.replicationInfo(m)["min_slaves_good_slaves"] == "1")
        // A replica that stops acknowledging stops counting after min-replicas-max-lag seconds.
        kill(replicaServer.pid, SIGSTOP)
        defer {
            kill(replicaServer.pid, SIGCONT)
            replicaServer.stop()
        }
        #expect(Harness.waitUntil(milliseconds: 6000) {
            (try? m.call("SET", "k", "w")) == Array("-NOREPLICAS Not enough good replicas to write.\r\n".utf8)
        })
    }

    @Test func waitCountsAcknowledgingReplicas() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let m = try master.connect()
        // No replica: WAIT sits out its timeout and answers 0, as Redis does.
        let start = Date()
        #expect(try m.callValue("WAIT", "1", "150") == .integer(0))
        #expect(Date().timeIntervalSince(start) >= 0.14)
        #expect(try m.call("WAIT", "x", "0") == Array("-ERR value is not an integer or out of range\r\n".utf8))
        #expect(try m.call("WAIT", "1", "-1") == Array("-ERR timeout is negative\r\n".utf8))
        let replicaServer = try Self.startReplica(of: master)
        defer { replicaServer.stop() }
        let r = try replicaServer.connect()
        #expect(Harness.waitUntil(milliseconds: 10_000) { (try? Self.replicationInfo(r))?["master_link_status"] == "up" })
        _ = try m.call("SET", "k", "v")
        #expect(try m.callValue("WAIT", "1", "5000") == .integer(1))
        #expect(try r.call("GET", "k") == Array("$1\r\nv\r\n".utf8))
        // Asking for more replicas than exist: the timeout decides, the answer is the one that acked.
        _ = try m.call("SET", "k", "w")
        #expect(try m.callValue("WAIT", "2", "200") == .integer(1))
    }

    /// redis-cli's replication modes against Tandem: `--rdb` (SYNC with capa eof and rdb-only: the dump
    /// redis-check-rdb accepts, with every key) and `--replica` (SYNC, then the stream as redis-cli prints it).
    @Test(arguments: [false, true])
    func redisCliRdbAndReplica(diskless: Bool) throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--repl-diskless-sync", diskless ? "yes" : "no"])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "500")
        let rdb = master.dir + "/cli.rdb"
        let fetched = try Harness.run("/usr/bin/redis-cli", ["-p", String(master.port), "--rdb", rdb], cwd: master.dir)
        #expect(!fetched.timedOut && fetched.status.code == 0, "\(fetched.output)")
        let check = try Harness.run("/usr/bin/redis-check-rdb", [rdb], cwd: master.dir)
        #expect(check.output.contains("500 keys read") && check.output.contains("RDB looks OK!"), "\(check.output)")

        let out = master.dir + "/cli-replica.txt"
        let pid = try Harness.spawn("/usr/bin/redis-cli", ["-p", String(master.port), "--replica"], cwd: master.dir,
                                    stdout: out, stderr: out + ".err")
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        // redis-cli reports progress on stderr and the commands on stdout.
        #expect(Harness.waitUntil(milliseconds: 10_000) { Harness.readFile(out + ".err").contains("Logging commands from master") },
                "\(Harness.readFile(out)) \(Harness.readFile(out + ".err"))")
        _ = try m.call("SET", "seen-by", "redis-cli")
        #expect(Harness.waitUntil(milliseconds: 5000) { Harness.readFile(out).contains("\"SET\",\"seen-by\",\"redis-cli\"") },
                "\(Harness.readFile(out))")
    }
}
