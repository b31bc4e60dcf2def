/*
 * TandemReplicaTests.swift — Tandem as a replica: of Debian's redis-server 7.0 (full sync, the stream, a
 * partial resynchronization after the master cuts the link, -READONLY, ROLE, INFO) and of another Tandem.
 * Convergence is checked with DEBUG DIGEST and a key-by-key dump. Waits are bounded (10 s).
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct TandemReplicaTests {
    static func waitForLink(_ r: RawClient) -> Bool {
        Harness.waitUntil(milliseconds: 10_000) { (try? InfoReply.fetch(r, "replication"))?["master_link_status"] == "up" }
    }

    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func tandemReplicaFollowsItsMaster(_ masterFlavour: ServerFlavour) throws {
        let master = try ServerProcess.start(masterFlavour)
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 400)
        let replicaServer = try ServerProcess.start(.tandem)
        defer { replicaServer.stop() }
        let r = try replicaServer.connect()
        #expect(try r.call("REPLICAOF", "127.0.0.1", String(master.port)) == Array("+OK\r\n".utf8))
        #expect(Self.waitForLink(r), "replica never came up:\n\(replicaServer.log)")
        try RedisReplicaTests.workload(m, round: 1, count: 400)
        try RedisReplicaTests.expectConverged(master: m, replica: r, "\(masterFlavour) master, after full sync and stream")

        #expect(try r.call("SET", "k", "v") == Array("-READONLY You can't write against a read only replica.\r\n".utf8))
        guard case .array(let role) = try r.callValue("ROLE") else { Issue.record("ROLE"); return }
        #expect(role.count == 5 && role[0] == .bulk(Array("slave".utf8)) && role[3] == .bulk(Array("connected".utf8)))
        let info = try InfoReply.fetch(r, "replication")
        #expect(info["role"] == "slave" && info["master_port"] == String(master.port))
        let log = replicaServer.log
        for line in ["Connecting to MASTER 127.0.0.1:\(master.port)", "MASTER <-> REPLICA sync: Finished with success"] {
            #expect(log.contains(line), "replica log lacks '\(line)':\n\(log)")
        }

        // The master cuts the link; the replica comes back with a partial resync.
        _ = try m.call("CLIENT", "KILL", "TYPE", "replica")
        try RedisReplicaTests.workload(m, round: 2, count: 200)
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            (try? InfoReply.fetch(m, "stats"))?["sync_partial_ok"] == "1"
        }, "no partial resync:\n\(replicaServer.log)")
        try RedisReplicaTests.expectConverged(master: m, replica: r, "\(masterFlavour) master, after the partial resync")
        #expect(try InfoReply.fetch(m, "stats")["sync_full"] == "1")

        // REPLICAOF NO ONE: a master again, writable, data kept.
        #expect(try r.call("REPLICAOF", "NO", "ONE") == Array("+OK\r\n".utf8))
        #expect(try r.call("SET", "k", "v") == Array("+OK\r\n".utf8))
        #expect(try InfoReply.fetch(r, "replication")["role"] == "master")
    }

    /// A replica that follows another node for a while and comes back continues with a partial resync
    /// in the database the stream had selected (db 9 here, with no new SELECT in the continued stream).
    @Test func aReplicaThatComesBackKeepsTheStreamsDatabase() throws {
        let pair = try ChainAndFailoverTests.LinkedPair()
        defer { pair.stop() }
        _ = try pair.m.call("SELECT", "9")
        for i in 0..<50 { _ = try pair.m.call("SET", "k\(i)", "v\(i)") }
        #expect(BurstTests.integer(try pair.m.call("WAIT", "1", "3000")) == 1)
        // Another master that never answers (nothing listens there): the replica leaves and comes back.
        _ = try pair.r.call("REPLICAOF", "127.0.0.1", String(try Harness.freePort()))
        for i in 50..<100 { _ = try pair.m.call("SET", "k\(i)", "v\(i)") }
        _ = try pair.r.call("REPLICAOF", "127.0.0.1", String(pair.master.port))
        #expect(Self.waitForLink(pair.r))
        #expect(try InfoReply.fetch(pair.m, "stats")["sync_partial_ok"] == "1", "\(pair.master.log)")
        try RedisReplicaTests.expectConverged(master: pair.m, replica: pair.r, "after coming back")
    }

    /// A full sync between Tandem nodes sends the snapshot itself as an LZ4 frame (tandem-lz4-rdb),
    /// diskless (the child compresses) and from disk (the primary compresses as it reads the dump):
    /// the same dataset arrives in well under half the bytes of a plain transfer to a replica with
    /// repl-compression no, and a redis-server replica of the same master gets plain RDB. In disk
    /// mode the snapshot is slowed past a second so keep-alive newlines precede the frame, and
    /// writes made during the sync follow it.
    @Test(arguments: [true, false])
    func theSnapshotPayloadIsCompressedBetweenTandemNodes(diskless: Bool) throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--repl-diskless-sync", diskless ? "yes" : "no",
                                                                  "--repl-diskless-sync-delay", "0"])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "100000", "key", "100")
        func fullSyncBytes(_ flavour: ServerFlavour, _ extra: [String]) throws -> Int {
            let before = Int(try InfoReply.fetch(m, "stats")["total_net_repl_output_bytes"] ?? "") ?? 0
            if !diskless && flavour == .tandem && extra.isEmpty { _ = try m.call("CONFIG", "SET", "rdb-key-save-delay", "-5") }
            let replica = try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master, extra))
            defer { replica.stop() }
            let r = try replica.connect()
            if !diskless && flavour == .tandem && extra.isEmpty {
                // A short sleep for one key in five: the snapshot takes a second or two; write meanwhile.
                Thread.sleep(forTimeInterval: 0.3)
                for i in 0..<50 { _ = try m.call("SET", "during\(i)", String(i)) }
                _ = try m.call("CONFIG", "SET", "rdb-key-save-delay", "0")
            }
            #expect(Self.waitForLink(r), "\(flavour) \(extra) never synced:\n\(replica.log)")
            BurstTests.expectSameDigest(m, [r], "\(flavour) \(extra)")  // (a key-by-key dump of 100k keys is slow)
            // The child's bytes are counted once the master reaped it.
            _ = Harness.waitUntil(milliseconds: 5000) {
                (try? InfoReply.fetch(m, "persistence"))?["rdb_bgsave_in_progress"] == "0"
            }
            Thread.sleep(forTimeInterval: 0.3)
            if flavour == .tandem && extra.isEmpty {
                #expect(replica.log.contains("receiving streamed RDB from master with EOF to disk (LZ4)"), "\(replica.log)")
                // The stream's first frame follows the payload's cleanly: no damaged stream, no reconnection.
                #expect(!replica.log.contains("Damaged LZ4") && !replica.log.contains("Connection with master lost"),
                        "\(replica.log)")
                #expect(try r.call("GET", "during49") == Array((diskless ? "$-1\r\n" : "$2\r\n49\r\n").utf8))
            }
            let after = Int(try InfoReply.fetch(m, "stats")["total_net_repl_output_bytes"] ?? "") ?? 0
            return after - before
        }
        let compressed = try fullSyncBytes(.tandem, [])
        let plain = try fullSyncBytes(.tandem, ["--repl-compression", "no"])
        let redis = try fullSyncBytes(.redis, [])
        #expect(compressed * 2 < plain, "LZ4 payload \(compressed) bytes vs plain \(plain)")
        #expect(redis > compressed * 2, "a redis-server replica must get the plain payload (\(redis) bytes)")
        #expect(try InfoReply.fetch(m, "stats")["sync_full"] == "3")
    }

    @Test func aSilentMasterTimesOutAndTheReplicaComesBack() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("SET", "k", "v")
        let replicaServer = try ServerProcess.start(.tandem, extraArgs: ["--repl-timeout", "1"])
        defer { replicaServer.stop() }
        let r = try replicaServer.connect()
        _ = try r.call("REPLICAOF", "127.0.0.1", String(master.port))
        #expect(Self.waitForLink(r))
        kill(master.pid, SIGSTOP)
        let down = Harness.waitUntil(milliseconds: 6000) {
            (try? InfoReply.fetch(r, "replication"))?["master_link_status"] == "down"
        }
        kill(master.pid, SIGCONT)
        #expect(down, "link never timed out:\n\(replicaServer.log)")
        #expect(replicaServer.log.contains("MASTER timeout: no data nor PING received..."))
        // Once the master answers again the replica reconnects and continues.
        #expect(Self.waitForLink(r))
        _ = try m.call("SET", "k", "w")
        #expect(Harness.waitUntil(milliseconds: 5000) { (try? r.call("GET", "k")) == Array("$1\r\nw\r\n".utf8) })
    }

    /// Both servers: with the master unreachable, serve-stale-data no answers -MASTERDOWN to data
    /// commands (those not flagged `stale`) and still answers INFO.
    @Test(arguments: ServerFlavour.allCases)
    func staleDataPolicy(_ flavour: ServerFlavour) throws {
        let unreachable = try Harness.freePort()
        let replicaServer = try ServerProcess.start(flavour, extraArgs: [
            "--replicaof", "127.0.0.1", String(unreachable), "--replica-serve-stale-data", "no",
        ])
        defer { replicaServer.stop() }
        let r = try replicaServer.connect()
        #expect(try r.call("GET", "k")
                == Array("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n".utf8))
        #expect(try InfoReply.fetch(r, "replication")["master_link_status"] == "down")
        _ = try r.call("CONFIG", "SET", "replica-serve-stale-data", "yes")
        #expect(try r.call("GET", "k") == Array("$-1\r\n".utf8))
    }
}
