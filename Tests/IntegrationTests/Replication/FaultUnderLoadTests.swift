/*
 * FaultUnderLoadTests.swift — kill -9 while writes flow, as an operator's worst day looks:
 *  - the master dies mid-load and its replica is promoted: every write a client counted as acknowledged
 *    (WAIT 1 answered 1) is on the promoted replica — with the primary feeding the replica and with the
 *    sender workers;
 *  - a snapshot child (BGSAVE) dies mid-load: the old dump file is untouched and still loads
 *    (redis-check-rdb agrees), the master and its replica go on and converge;
 *  - a replica dies mid-load and comes back on its dump: it continues and converges.
 * Loads are bounded (a few thousand commands), waits at most 15 s.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct FaultUnderLoadTests {
    /// Writes `count` keys, each followed by WAIT 1 <ms>, stopping at the first error (the master is
    /// gone). Returns the keys whose WAIT answered 1.
    static func acknowledgedWrites(_ c: RawClient, prefix: String, count: Int, killAfter: Int, kill: () -> Void) -> [String] {
        var acked: [String] = []
        for i in 0..<count {
            if i == killAfter { kill() }
            let key = "\(prefix)\(i)"
            guard (try? c.call("SET", key, "v\(i)")) == Array("+OK\r\n".utf8),
                  let reply = try? c.call("WAIT", "1", "200")
            else { break }
            if BurstTests.integer(reply) == 1 { acked.append(key) }
        }
        return acked
    }

    @Test(arguments: [false, true])
    func acknowledgedWritesSurviveAKilledMaster(workers: Bool) throws {
        let pair = try ChainAndFailoverTests.LinkedPair(masterArgs: BurstTests.workerArgs(workers))
        defer { pair.stop() }
        // Background load from another connection, so the stream is busy when the master dies.
        let load = try pair.master.connect()
        for i in 0..<2000 { try load.send(["SET", "bg\(i % 500)", String(repeating: "x", count: 200)]) }
        let acked = Self.acknowledgedWrites(pair.m, prefix: "acked:", count: 3000, killAfter: 400) {
            kill(pair.master.pid, SIGKILL)
        }
        #expect(acked.count >= 300, "only \(acked.count) writes acknowledged before the kill")
        _ = try pair.r.call("REPLICAOF", "NO", "ONE")
        var missing: [String] = []
        for key in acked where (try? pair.r.call("EXISTS", key)) != Array(":1\r\n".utf8) { missing.append(key) }
        #expect(missing.isEmpty, "acknowledged writes lost: \(missing.prefix(10)) of \(missing.count)")
    }

    @Test func aKilledSnapshotChildLeavesTheDumpIntact() throws {
        let pair = try ChainAndFailoverTests.LinkedPair(workload: 300)
        defer { pair.stop() }
        // (The replica's sync child may still be finishing: SAVE refuses to run beside it.)
        #expect(Harness.waitUntil(milliseconds: 5000) { (try? pair.m.call("SAVE")) == Array("+OK\r\n".utf8) })
        let dump = pair.master.dir + "/dump.rdb"
        let before = try Data(contentsOf: URL(fileURLWithPath: dump))
        _ = try pair.m.call("CONFIG", "SET", "rdb-key-save-delay", "2000")
        // Keys the replica gets too (DEBUG POPULATE does not propagate), enough for a slow child.
        for i in 0..<2000 { try pair.m.send(["SET", "more:\(i)", "v\(i)"]) }
        for _ in 0..<2000 { _ = try pair.m.readReply() }
        _ = try pair.m.call("BGSAVE")
        var child: pid_t = 0
        #expect(Harness.waitUntil(milliseconds: 5000) {
            child = pid_t(pair.master.log.components(separatedBy: "Background saving started by pid ").last?
                .prefix(while: { $0.isNumber }) ?? "") ?? 0
            return child > 0
        })
        try RedisReplicaTests.workload(pair.m, round: 1, count: 200)
        if child > 0 { kill(child, SIGKILL) }
        #expect(Harness.waitUntil(milliseconds: 5000) {
            (try? InfoReply.fetch(pair.m, "persistence"))?["rdb_bgsave_in_progress"] == "0"
        })
        #expect(try InfoReply.fetch(pair.m, "persistence")["rdb_last_bgsave_status"] == "err")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dump)) == before, "the old dump changed")
        let check = try Harness.run("/usr/bin/redis-check-rdb", [dump], cwd: pair.master.dir)
        #expect(check.status.code == 0, "redis-check-rdb: \(check.stdout)")
        _ = try pair.m.call("CONFIG", "SET", "rdb-key-save-delay", "0")
        try RedisReplicaTests.workload(pair.m, round: 2, count: 200)
        try RedisReplicaTests.expectConverged(master: pair.m, replica: pair.r, "after the killed child")
    }

    @Test func aReplicaKilledMidLoadComesBackAndConverges() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let m = try master.connect()
        let dir = try Harness.makeTempDir("tandem-itest-replica")
        defer { Harness.removeDir(dir) }
        let replica = try ServerProcess.start(.tandem, extraArgs: ChainAndFailoverTests.replicaArgs(of: master)
                                              + ["--save", "1 1"], dir: dir)
        defer { replica.stop() }
        #expect(ChainAndFailoverTests.waitForLink(try replica.connect()))
        try RedisReplicaTests.workload(m, round: 0, count: 300)
        #expect(Harness.waitUntil(milliseconds: 5000) { FileManager.default.fileExists(atPath: dir + "/dump.rdb") })
        let load = try master.connect()
        for i in 0..<3000 { try load.send(["SET", "l\(i % 700)", "v\(i)"]) }
        kill(replica.pid, SIGKILL)
        try RedisReplicaTests.workload(m, round: 1, count: 300)
        let again = try ServerProcess.start(.tandem, extraArgs: ChainAndFailoverTests.replicaArgs(of: master), dir: dir)
        defer { again.stop() }
        let r = try again.connect()
        #expect(ChainAndFailoverTests.waitForLink(r))
        try RedisReplicaTests.expectConverged(master: m, replica: r, "after the killed replica came back")
    }
}
