/*
 * FailoverCommandTests.swift — FAILOVER (coordinated failover, Redis 6.2+), run the same way on Tandem
 * and on redis-server: its argument errors word for word; FAILOVER TO a replica under writes hands over
 * with partial resyncs only (the old master becomes the new one's replica, paused writes then meet
 * -READONLY); FAILOVER without a target picks a caught-up replica; TIMEOUT without FORCE gives up while
 * the target is stopped, and ABORT ends a waiting failover.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct FailoverCommandTests {
    static func state(_ c: RawClient) -> String? { (try? InfoReply.fetch(c, "replication"))?["master_failover_state"] }

    static func role(_ c: RawClient) -> String {
        guard case .array(let items) = (try? c.callValue("ROLE")) ?? .null, case .bulk(let r) = items.first ?? .null
        else { return "?" }
        return String(decoding: r, as: UTF8.self)
    }

    static func waitNoFailover(_ c: RawClient) -> Bool {
        Harness.waitUntil(milliseconds: 10_000) { state(c) == "no-failover" }
    }

    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func argumentErrorsAreRedis(_ flavour: ServerFlavour) throws {
        let master = try ServerProcess.start(flavour)
        defer { master.stop() }
        let m = try master.connect()
        let cases: [([String], String)] = [
            (["FAILOVER", "ABORT"], "-ERR No failover in progress.\r\n"),
            (["FAILOVER", "TO", "127.0.0.1", "1"], "-ERR FAILOVER requires connected replicas.\r\n"),
            (["FAILOVER", "TO", "h", "x"], "-ERR value is not an integer or out of range\r\n"),
            (["FAILOVER", "TIMEOUT", "0"], "-ERR FAILOVER timeout must be greater than 0\r\n"),
            (["FAILOVER", "BOGUS"], "-ERR syntax error\r\n"),
            (["FAILOVER", "TO", "a", "1", "TO", "b", "2"], "-ERR syntax error\r\n"),
        ]
        for (args, expected) in cases {
            #expect(String(decoding: try m.call(args), as: UTF8.self) == expected, "\(flavour) \(args)")
        }
        let replica = try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master))
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(ChainAndFailoverTests.waitForLink(r))
        let more: [([String], String)] = [
            (["FAILOVER", "FORCE", "TIMEOUT", "100"],
             "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.\r\n"),
            (["FAILOVER", "TO", "127.0.0.1", "1"], "-ERR FAILOVER target HOST and PORT is not a replica.\r\n"),
        ]
        for (args, expected) in more {
            #expect(String(decoding: try m.call(args), as: UTF8.self) == expected, "\(flavour) \(args)")
        }
        #expect(String(decoding: try r.call("FAILOVER"), as: UTF8.self)
            == "-ERR FAILOVER is not valid when server is a replica.\r\n")
    }

    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func failoverHandsOverWithPartialResyncs(_ flavour: ServerFlavour) throws {
        let master = try ServerProcess.start(flavour)
        defer { master.stop() }
        let m = try master.connect()
        let replicas = try (0..<2).map { _ in
            try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master))
        }
        defer { replicas.forEach { $0.stop() } }
        let rs = try replicas.map { try $0.connect() }
        for r in rs { #expect(ChainAndFailoverTests.waitForLink(r)) }
        try RedisReplicaTests.workload(m, round: 0, count: 200)

        // FAILOVER TO the first replica: the old master follows it, nothing is copied again.
        let target = replicas[0]
        #expect(try m.call("FAILOVER", "TO", "127.0.0.1", String(target.port)) == Array("+OK\r\n".utf8))
        #expect(Self.waitNoFailover(m), "\(flavour): failover never ended\n\(master.log)")
        #expect(Harness.waitUntil(milliseconds: 10_000) { Self.role(m) == "slave" && Self.role(rs[0]) == "master" },
                "\(flavour): roles \(Self.role(m)) \(Self.role(rs[0]))\n\(master.log)\n\(target.log)")
        #expect(try m.call("SET", "k", "v") == Array("-READONLY You can't write against a read only replica.\r\n".utf8))
        _ = try rs[1].call("REPLICAOF", "127.0.0.1", String(target.port))
        #expect(ChainAndFailoverTests.waitForLink(m) && ChainAndFailoverTests.waitForLink(rs[1]))
        try RedisReplicaTests.workload(rs[0], round: 1, count: 100)
        let stats = try InfoReply.fetch(rs[0], "stats")
        #expect(stats["sync_full"] == "0" && stats["sync_partial_ok"] == "2", "\(flavour): \(stats)")
        try RedisReplicaTests.expectConverged(master: rs[0], replica: m, "\(flavour): old master")
        try RedisReplicaTests.expectConverged(master: rs[0], replica: rs[1], "\(flavour): other replica")

        // FAILOVER to any replica: the new master hands back to whichever caught up.
        #expect(try rs[0].call("FAILOVER") == Array("+OK\r\n".utf8))
        #expect(Self.waitNoFailover(rs[0]))
        #expect(Harness.waitUntil(milliseconds: 10_000) { Self.role(rs[0]) == "slave" })
    }

    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func aTimeoutOrAnAbortLeavesTheMasterInCharge(_ flavour: ServerFlavour) throws {
        let master = try ServerProcess.start(flavour)
        defer { master.stop() }
        let m = try master.connect()
        let replica = try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master))
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(ChainAndFailoverTests.waitForLink(r))
        #expect(Harness.waitUntil(milliseconds: 5000) {
            (try? InfoReply.fetch(m, "replication"))?["slave0"]?.contains("state=online") == true
        })
        kill(replica.pid, SIGSTOP)
        _ = try m.call("SET", "case", "1")
        let first = String(decoding: try m.call("FAILOVER", "TO", "127.0.0.1", String(replica.port), "TIMEOUT", "300"), as: UTF8.self)
        #expect(first == "+OK\r\n", "\(flavour): \(first)")
        #expect(Self.waitNoFailover(m))
        #expect(master.log.contains("aborted: Replica never caught up before timeout"), "\(master.log)")
        #expect(try m.call("FAILOVER", "TO", "127.0.0.1", String(replica.port), "TIMEOUT", "60000") == Array("+OK\r\n".utf8))
        #expect(Self.state(m) == "waiting-for-sync")
        #expect(try m.call("GET", "case") == Array("$1\r\n1\r\n".utf8), "reads go on")
        #expect(try m.call("FAILOVER", "ABORT") == Array("+OK\r\n".utf8))
        #expect(Self.state(m) == "no-failover")
        kill(replica.pid, SIGCONT)
        #expect(Self.role(m) == "master")
        #expect(try m.call("SET", "case", "2") == Array("+OK\r\n".utf8))
        try RedisReplicaTests.expectConverged(master: m, replica: r, "\(flavour): after the aborts")
    }
}
