/*
 * BurstTests.swift — replication under write bursts, with the sender workers and without
 * (repl-sender-workers 0): the ring keeps what online replicas have not acknowledged (Redis 7's
 * shared replication buffer), so a replica a burst behind is never dropped and WAIT answers every
 * replica; a value larger than repl-backlog-size arrives; a replica stopped past its hard output
 * limit is dropped with Redis's log line and, going beyond Redis, continues with a partial resync.
 * Bounded: five rounds of 20,000 SETs, waits of at most 15 s.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct BurstTests {
    static func workerArgs(_ workers: Bool) -> [String] { ChainAndFailoverTests.workerArgs(workers ? 2 : 0) }

    /// redis-benchmark's SET load against `port` (bounded by -n).
    static func benchmark(_ port: UInt16, _ dir: String, requests: Int, size: Int) throws {
        let result = try Harness.run("/usr/bin/redis-benchmark",
                                     ["-p", String(port), "-t", "set", "-n", String(requests), "-d", String(size),
                                      "-r", "100000", "-P", "16", "-q"], cwd: dir, timeoutSeconds: 60)
        #expect(result.status.code == 0 && !result.timedOut, "redis-benchmark: \(result.stderr)")
    }

    static func integer(_ reply: [UInt8]) -> Int? {
        let s = String(decoding: reply, as: UTF8.self)
        guard s.hasPrefix(":") else { return nil }
        return Int(s.dropFirst().trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func expectSameDigest(_ m: RawClient, _ nodes: [RawClient], _ what: String) {
        var last = ""
        let same = Harness.waitUntil(milliseconds: 15_000) {
            guard let md = try? m.callValue("DEBUG", "DIGEST") else { return false }
            let others = nodes.compactMap { try? $0.callValue("DEBUG", "DIGEST") }
            last = "\(md) vs \(others)"
            return others.count == nodes.count && others.allSatisfy { $0 == md }
        }
        #expect(same, "\(what): digests differ: \(last)")
    }

    /// The scenario: a master, two Tandem replicas, five rounds of 20 MB of SETs, each
    /// followed by WAIT 2 from a new connection. Nothing is dropped, WAIT answers 2 each time.
    @Test(arguments: [true, false])
    func burstsDropNoReplicaAndWaitAnswersAll(workers: Bool) throws {
        let master = try ServerProcess.start(.tandem, extraArgs: Self.workerArgs(workers))
        defer { master.stop() }
        let replicas = try (0..<2).map { _ in
            try ServerProcess.start(.tandem, extraArgs: ChainAndFailoverTests.replicaArgs(of: master))
        }
        defer { replicas.forEach { $0.stop() } }
        let rs = try replicas.map { try $0.connect() }
        for r in rs { #expect(ChainAndFailoverTests.waitForLink(r)) }
        var answers: [Int?] = []
        for _ in 0..<5 {
            try Self.benchmark(master.port, master.dir, requests: 20_000, size: 1000)
            let fresh = try master.connect()
            answers.append(Self.integer(try fresh.call("WAIT", "2", "5000")))
        }
        #expect(answers == [2, 2, 2, 2, 2], "WAIT answers \(answers)\n\(master.log)")
        let m = try master.connect()
        let stats = try InfoReply.fetch(m, "stats")
        #expect(stats["sync_full"] == "2" && stats["sync_partial_err"] == "0", "\(stats)")
        #expect(!master.log.contains("output buffer limits") && !master.log.contains("capacity behind"), "\(master.log)")
        Self.expectSameDigest(m, rs, "after the bursts (workers \(workers))")
    }

    /// One value five times repl-backlog-size: WAIT 1 answers 1 and the replica holds it.
    @Test(arguments: [true, false])
    func aValueLargerThanTheBacklogArrives(workers: Bool) throws {
        let pair = try ChainAndFailoverTests.LinkedPair(masterArgs: Self.workerArgs(workers))
        defer { pair.stop() }
        let big = String(repeating: "v", count: 5 << 20)
        #expect(try pair.m.call("SET", "big", big) == Array("+OK\r\n".utf8))
        #expect(Self.integer(try pair.m.call("WAIT", "1", "3000")) == 1)
        #expect(Self.integer(try pair.r.call("STRLEN", "big")) == 5 << 20)
        #expect(try InfoReply.fetch(pair.m, "stats")["sync_full"] == "1")
    }

    /// A replica stopped (SIGSTOP) while 40 MB are written passes its 4 MB hard limit: the master
    /// drops it with Redis's line, keeps its offset, and once it runs again it continues with a
    /// partial resync (redis-server would need a full one: its 1 MB backlog cannot cover it).
    /// With a sender worker too: the worker's shutdown ends the connection for the primary's reads,
    /// and the primary must still learn the reason (a race once lost the pin under load).
    @Test(arguments: [true, false])
    func aReplicaDroppedForItsLimitContinues(workers: Bool) throws {
        let pair = try ChainAndFailoverTests.LinkedPair(
            masterArgs: Self.workerArgs(workers) + ["--client-output-buffer-limit", "replica 4mb 0 0", "--repl-compression", "no", "--loglevel", "verbose"])
        defer { pair.stop() }
        _ = try pair.m.call("SET", "before", "1")
        #expect(Self.integer(try pair.m.call("WAIT", "1", "3000")) == 1)
        kill(pair.replica.pid, SIGSTOP)
        // 40 MB of distinct values: well past the 4 MB limit plus what the kernel's socket buffers
        // absorb on loopback (up to ~16 MB), and well inside the ring's bound.
        for i in 0..<400 {
            let value = String(repeating: String(i % 10), count: 100_000)
            _ = try pair.m.call("SET", "k\(i)", value)
        }
        let dropped = Harness.waitUntil(milliseconds: 30_000) {
            pair.master.log.contains("scheduled to be closed ASAP for overcoming of output buffer limits.")
        }
        kill(pair.replica.pid, SIGCONT)
        #expect(dropped, "the stopped replica was never dropped:\n\(pair.master.log)")
        #expect(Harness.waitUntil(milliseconds: 15_000) {
            (try? InfoReply.fetch(pair.m, "stats"))?["sync_partial_ok"] == "1"
        }, "no partial resync:\n\(pair.master.log)\nreplica:\n\(pair.replica.log)")
        #expect(try InfoReply.fetch(pair.m, "stats")["sync_full"] == "1")
        Self.expectSameDigest(pair.m, [pair.r], "after the partial resync (workers \(workers))")
    }

    /// A replica behind a relay throttled below the write rate (1 MB/s against about 3 MB/s of SETs)
    /// for TANDEM_SLOW_RELAY_SECONDS (15 in CI; the scenario is 60) with the default
    /// settings: it falls tens of MB behind, is never dropped, and catches up once the relay opens,
    /// with no second full sync. Workers on and off.
    @Test(arguments: [true, false])
    func aSlowReplicaNeverNeedsASecondFullSync(workers: Bool) throws {
        let seconds = Int(ProcessInfo.processInfo.environment["TANDEM_SLOW_RELAY_SECONDS"] ?? "") ?? 15
        // Plain stream: LZ4 would shrink these values below what the relay lets through.
        let master = try ServerProcess.start(.tandem, extraArgs: Self.workerArgs(workers) + ["--repl-compression", "no"])
        defer { master.stop() }
        let relay = try ThrottledRelay(to: master.port, bytesPerSecond: 0)
        defer { relay.stop() }
        let replica = try ServerProcess.start(.tandem, extraArgs: ["--replicaof", "127.0.0.1", String(relay.port)])
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(ChainAndFailoverTests.waitForLink(r))
        relay.setRate(bytesPerSecond: 1 << 20)
        let m = try master.connect()
        let value = String(repeating: "s", count: 10_000)
        let deadline = Date().addingTimeInterval(Double(seconds))
        var i = 0, maxLag: Int64 = 0
        while Date() < deadline {
            // About 3 MB/s: 30 SETs of 10 KB every 100 ms, distinct keys so nothing compresses away.
            for _ in 0..<30 {
                _ = try m.call("SET", "slow\(i % 5000)", "\(i)" + value)
                i += 1
            }
            if let mo = Int64(try InfoReply.fetch(m, "replication")["master_repl_offset"] ?? ""),
               let ro = Int64(try InfoReply.fetch(r, "replication")["slave_repl_offset"] ?? "") {
                maxLag = max(maxLag, mo - ro)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        relay.setRate(bytesPerSecond: 0)
        #expect(maxLag > 8 << 20, "the replica was never far behind (\(maxLag) bytes): the relay did not throttle")
        Self.expectSameDigest(m, [r], "after the slow period (workers \(workers))")
        let stats = try InfoReply.fetch(m, "stats")
        #expect(stats["sync_full"] == "1", "\(stats)\n\(master.log)")
        #expect(!master.log.contains("output buffer limits") && !master.log.contains("capacity behind"))
    }

    /// By default the primary feeds one or two replicas itself (no process hop for WAIT) and hands
    /// them all to the sender workers once repl-sender-workers-min-replicas (3) stream.
    @Test func replicasMoveToTheWorkersAtTheFanOutThreshold() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let m = try master.connect()
        func handedOver() -> Int {
            guard let info = try? InfoReply.fetch(m, "tandem") else { return -1 }
            return (0..<2).reduce(0) { n, i in
                n + (Int(info["repl_sender_worker\(i)"]?.split(separator: "=").last ?? "") ?? 0)
            }
        }
        var replicas: [ServerProcess] = []
        defer { replicas.forEach { $0.stop() } }
        for count in 1...3 {
            let replica = try ServerProcess.start(.tandem, extraArgs: ChainAndFailoverTests.replicaArgs(of: master))
            replicas.append(replica)
            #expect(ChainAndFailoverTests.waitForLink(try replica.connect()))
            _ = try m.call("SET", "k\(count)", "v")
            #expect(Self.integer(try m.call("WAIT", String(count), "3000")) == count)
            if count < 3 {
                #expect(handedOver() == 0, "\(count) replicas: the primary feeds them")
            } else {
                #expect(Harness.waitUntil(milliseconds: 5000) { handedOver() == 3 }, "3 replicas: all with the workers")
            }
        }
        _ = try m.call("SET", "after", "1")
        #expect(Self.integer(try m.call("WAIT", "3", "3000")) == 3)
        Self.expectSameDigest(m, try replicas.map { try $0.connect() }, "after the move to the workers")
    }

    /// INFO shows the shared buffer as Redis 7.0 splits it: the backlog's share and the replicas'.
    @Test func replicationBufferFieldsFollowTheRing() throws {
        let pair = try ChainAndFailoverTests.LinkedPair(masterArgs: ["--repl-backlog-size", "1mb"])
        defer { pair.stop() }
        _ = try pair.m.call("SET", "k", String(repeating: "x", count: 3 << 20))
        #expect(Self.integer(try pair.m.call("WAIT", "1", "3000")) == 1)
        let memory = try InfoReply.fetch(pair.m, "memory")
        let total = Int(memory["mem_total_replication_buffers"] ?? "") ?? -1
        let backlog = Int(memory["mem_replication_backlog"] ?? "") ?? -1
        let replicas = Int(memory["mem_clients_slaves"] ?? "") ?? -1
        #expect(total >= 1 << 20 && backlog <= 1 << 20 && total == backlog + replicas, "\(memory)")
        // Once the replica acknowledged everything, the cron gives back all but the window.
        #expect(Harness.waitUntil(milliseconds: 5000) {
            (try? InfoReply.fetch(pair.m, "replication"))?["repl_backlog_histlen"] == String(1 << 20)
        })
    }
}
