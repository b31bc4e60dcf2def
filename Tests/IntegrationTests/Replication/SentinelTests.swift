/*
 * SentinelTests.swift — Debian's redis-sentinel watching Tandem: it discovers the replicas from INFO
 * replication, and when the master dies it promotes one (REPLICAOF NO ONE inside MULTI, CONFIG REWRITE,
 * CLIENT KILL) and re-points the other, which continues with a partial resync thanks to replid2. The same
 * over TLS only (issue 17): the sentinel on a TLS port with tls-replication yes, watching a Tandem master's
 * TLS port, finds its replica by the TLS port it announces and promotes it. Bounded waits (≤ 30 s); the
 * sentinel runs on a free loopback port with its own config file.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SentinelTests {
    @Test func sentinelFailsOverATandemMaster() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 200)
        let replicas = try (0..<2).map { _ in try ServerProcess.start(.tandem, extraArgs: ChainAndFailoverTests.replicaArgs(of: master)) }
        defer { for r in replicas { r.stop() } }
        let clients = try replicas.map { try $0.connect() }
        for c in clients { #expect(ChainAndFailoverTests.waitForLink(c)) }

        let port = try Harness.freePort()
        let sentinel = try SentinelProcess.start(listening: "port \(port)", masterPort: master.port)
        defer { sentinel.stop() }
        let log = { sentinel.log }
        #expect(Harness.waitUntil(milliseconds: 15_000) { log().components(separatedBy: "+slave slave").count - 1 >= 2 },
                "sentinel did not discover the replicas:\n\(log())")
        try RedisReplicaTests.workload(m, round: 1, count: 100)
        for c in clients { try RedisReplicaTests.expectConverged(master: m, replica: c, "before the failover") }

        kill(master.pid, SIGKILL)
        #expect(Harness.waitUntil(milliseconds: 30_000) { log().contains("+switch-master mymaster") }, "no failover:\n\(log())")
        let s = try RawClient(port: port, timeoutSeconds: 5)
        guard case .array(let addr) = try s.callValue("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"), addr.count == 2,
              case .bulk(let portBytes) = addr[1], let newPort = UInt16(String(decoding: portBytes, as: UTF8.self)),
              let promotedIndex = replicas.firstIndex(where: { $0.port == newPort })
        else {
            Issue.record("sentinel names no Tandem replica as the new master:\n\(log())")
            return
        }
        // Sentinel ends normal clients' connections on the nodes it reconfigures (CLIENT KILL TYPE normal).
        let promoted = try replicas[promotedIndex].connect(), other = try replicas[1 - promotedIndex].connect()
        #expect(try InfoReply.fetch(promoted, "replication")["role"] == "master")
        #expect(Harness.waitUntil(milliseconds: 15_000) {
            let i = try? InfoReply.fetch(other, "replication")
            return i?["master_port"] == String(newPort) && i?["master_link_status"] == "up"
        }, "the other replica was not re-pointed:\n\(log())")
        try RedisReplicaTests.workload(promoted, round: 2, count: 100)
        try RedisReplicaTests.expectConverged(master: promoted, replica: other, "after the failover")
        let stats = try InfoReply.fetch(promoted, "stats")
        #expect(stats["sync_partial_ok"] == "1" && stats["sync_full"] == "0", "re-pointed replica should continue: \(stats.fields)")
    }

    /// Sentinel, master and replica talking TLS only: discovery, failure detection and promotion.
    @Test func sentinelFailsOverOverTLS() throws {
        let d = TLSTests.certs
        let clientCert = ["--tls-client-cert-file", d + "/client.crt", "--tls-client-key-file", d + "/client.key"]
        let masterTLS = try Harness.freePort()
        let master = try ServerProcess.start(.tandem, extraArgs: TLSTests.serverArgs(tlsPort: masterTLS))
        defer { master.stop() }
        let m = try master.connect()
        try RedisReplicaTests.workload(m, round: 0, count: 100)
        let replicaTLS = try Harness.freePort()
        let replica = try ServerProcess.start(.tandem, extraArgs: TLSTests.serverArgs(tlsPort: replicaTLS) + clientCert
            + ["--tls-replication", "yes", "--replicaof", "127.0.0.1", String(masterTLS)])
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(ChainAndFailoverTests.waitForLink(r), "\(replica.log)")

        let port = try Harness.freePort()
        let sentinel = try SentinelProcess.start(listening: """
            port 0
            tls-port \(port)
            tls-cert-file \(d)/server.crt
            tls-key-file \(d)/server.key
            tls-ca-cert-file \(d)/ca.crt
            tls-replication yes
            """, masterPort: masterTLS)
        defer { sentinel.stop() }
        let log = { sentinel.log }
        #expect(Harness.waitUntil(milliseconds: 15_000) { log().contains("+slave slave 127.0.0.1:\(replicaTLS)") },
                "sentinel did not discover the replica on its TLS port:\n\(log())")
        try RedisReplicaTests.expectConverged(master: m, replica: r, "before the failover")
        kill(master.pid, SIGKILL)
        #expect(Harness.waitUntil(milliseconds: 30_000) { log().contains("+switch-master mymaster") }, "no failover:\n\(log())")
        #expect(TLSTests.cli(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").hasSuffix(String(replicaTLS)),
                "\(log())")
        // Sentinel ends normal clients' connections on the node it promotes: a new one each time.
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            (try? replica.connect()).flatMap { try? InfoReply.fetch($0, "replication")["role"] } == "master"
        })
        _ = try replica.connect().call("SET", "after-failover", "1")
        #expect(TLSTests.cli(replicaTLS, "GET", "after-failover") == "1")
    }
}

/// A redis-sentinel in a directory of its own, from a config file that listens as `listening`
/// says and monitors "mymaster" at 127.0.0.1:`masterPort` (down after 1 s, quorum 1).
struct SentinelProcess {
    let pid: pid_t
    let dir: String

    var log: String { Harness.readFile(dir + "/sentinel.log") }

    static func start(listening: String, masterPort: UInt16) throws -> SentinelProcess {
        let dir = try Harness.makeTempDir("tandem-itest-sentinel")
        let conf = dir + "/sentinel.conf"
        try """
            \(listening)
            bind 127.0.0.1
            dir \(dir)
            logfile \(dir)/sentinel.log
            sentinel monitor mymaster 127.0.0.1 \(masterPort) 1
            sentinel down-after-milliseconds mymaster 1000
            sentinel failover-timeout mymaster 10000

            """.write(toFile: conf, atomically: true, encoding: .utf8)
        let pid = try Harness.spawn("/usr/bin/redis-sentinel", [conf], cwd: dir, stdout: dir + "/out.txt", stderr: dir + "/err.txt")
        return SentinelProcess(pid: pid, dir: dir)
    }

    /// Kills and reaps it, and removes its directory.
    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        Harness.removeDir(dir)
    }
}
