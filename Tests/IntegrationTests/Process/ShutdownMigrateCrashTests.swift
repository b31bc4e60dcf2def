/*
 * ShutdownMigrateCrashTests.swift — issue 12's process-level behaviours that Redis's own suite
 * checks in spawn mode, here in CI: a shutdown waits for a stalled replica (shutdown-timeout)
 * and SHUTDOWN ABORT cancels it; MIGRATE moves keys to redis-server and to Tandem with the same
 * replies; a crash writes a report to the log.
 */

import Foundation
import Testing

@Suite(.serialized) struct ShutdownMigrateCrashTests {
    /// A Tandem master and a Tandem replica in sync.
    static func pair(masterArgs: [String] = []) throws -> (master: ServerProcess, replica: ServerProcess) {
        let master = try ServerProcess.start(.tandem, extraArgs: masterArgs)
        let replica = try ServerProcess.start(.tandem, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
        let r = try replica.connect()
        Harness.waitUntil(milliseconds: 10_000) { (try? InfoReply.fetch(r, "replication"))?["master_link_status"] == "up" }
        return (master, replica)
    }

    /// Runs `body` with a synced pair whose master waits up to 20 s at shutdown; both are
    /// stopped (the replica continued first) afterwards.
    static func withPair(_ body: (ServerProcess, ServerProcess) throws -> Void) throws {
        let (master, replica) = try pair(masterArgs: ["--shutdown-timeout", "20"])
        defer {
            kill(replica.pid, SIGCONT)
            replica.stop()
            master.stop()
        }
        try body(master, replica)
    }

    @Test func shutdownWaitsForALaggingReplica() throws {
        try Self.withPair { master, replica in
            let m = try master.connect()
            _ = try m.callValue("SET", "k", "1")
            let r = try replica.connect()
            Harness.waitUntil(milliseconds: 5000) { (try? r.callValue("GET", "k")) == .bulk(Array("1".utf8)) }
            kill(replica.pid, SIGSTOP)
            _ = try m.callValue("INCR", "k")
            let shutdownClient = try master.connect()
            try shutdownClient.send(["SHUTDOWN"])
            var waiting = false
            Harness.waitUntil(milliseconds: 3000) {
                waiting = ((try? InfoReply.fetch(m, "server"))?["shutdown_in_milliseconds"]).flatMap { Int($0) }.map { $0 > 0 } ?? false
                return waiting
            }
            #expect(waiting, "the master did not wait for its replica")
            // Writes are paused meanwhile.
            let writer = try master.connect()
            try writer.send(["SET", "during", "shutdown"])
            #expect(!writer.hasPendingBytes(milliseconds: 300))
            kill(replica.pid, SIGCONT)
            #expect(master.waitForExit(milliseconds: 10_000), "the master did not exit once the replica caught up")
            #expect(master.log.contains("1 of 1 replicas are in sync when shutting down."))
            #expect(!master.log.contains("Lagging replica"))
            #expect(try r.callValue("GET", "k") == .bulk(Array("2".utf8)))
        }
    }

    @Test func shutdownAbortCancelsTheWait() throws {
        try Self.withPair { master, replica in
            let m = try master.connect()
            kill(replica.pid, SIGSTOP)
            _ = try m.callValue("SET", "k", "v")
            let waiter = try master.connect()
            try waiter.send(["SHUTDOWN"])
            Harness.waitUntil(milliseconds: 3000) { (try? InfoReply.fetch(m, "server"))?["shutdown_in_milliseconds"] != nil }
            #expect(try m.callValue("SHUTDOWN", "ABORT") == .simple("OK"))
            #expect(try waiter.callValue("PING") == .error("ERR Errors trying to SHUTDOWN. Check logs."))
            #expect(try m.callValue("SET", "after", "abort") == .simple("OK"))
            #expect(master.log.contains("Shutdown manually aborted."))
            #expect(try m.callValue("SHUTDOWN", "ABORT") == .error("ERR No shutdown in progress."))
        }
    }

    @Test func migrateMovesKeysAsRedisDoes() throws {
        for sourceFlavour in [ServerFlavour.tandem, .redis] {
            let source = try ServerProcess.start(sourceFlavour)
            defer { source.stop() }
            let target = try ServerProcess.start(.redis)
            defer { target.stop() }
            let s = try source.connect(), t = try target.connect()
            let port = String(target.port)
            _ = try s.callValue("SET", "a", "1")
            _ = try s.callValue("SET", "b", "2", "PX", "50000")
            _ = try s.callValue("RPUSH", "l", "x", "y")
            _ = try t.callValue("SET", "busy", "there")
            _ = try s.callValue("SET", "busy", "here")
            var replies: [RESPValue] = []
            replies.append(try s.callValue("MIGRATE", "127.0.0.1", port, "a", "0", "1000"))
            replies.append(try s.callValue("MIGRATE", "127.0.0.1", port, "", "0", "1000", "KEYS", "b", "l", "nokey"))
            replies.append(try s.callValue("MIGRATE", "127.0.0.1", port, "nokey", "0", "1000"))
            replies.append(try s.callValue("MIGRATE", "127.0.0.1", port, "busy", "0", "1000"))
            replies.append(try s.callValue("MIGRATE", "127.0.0.1", port, "busy", "0", "1000", "COPY", "REPLACE"))
            replies.append(try s.callValue("MIGRATE", "127.0.0.1", port, "x", "0", "1000", "KEYS", "a"))
            replies.append(try s.callValue("DBSIZE"))
            replies.append(try t.callValue("GET", "busy"))
            replies.append(try t.callValue("LRANGE", "l", "0", "-1"))
            if case .integer(let ttl) = try t.callValue("PTTL", "b") {
                #expect(ttl > 40_000 && ttl <= 50_000, "\(sourceFlavour): TTL \(ttl)")
            }
            let expected: [RESPValue] = [
                .simple("OK"), .simple("OK"), .simple("NOKEY"),
                .error("ERR Target instance replied with error: BUSYKEY Target key name already exists."),
                .simple("OK"),
                .error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"),
                .integer(1), .bulk(Array("here".utf8)), .array([.bulk([120]), .bulk([121])]),
            ]
            #expect(replies == expected, "\(sourceFlavour): \(replies)")
            let migrateInfo = try InfoReply.fetch(s, "stats")["migrate_cached_sockets"]
            #expect(migrateInfo == "1", "\(sourceFlavour)")
        }
    }

    @Test func crashWritesAReportToTheLog() throws {
        let server = try ServerProcess.start(.tandem)
        defer { server.stop() }
        let c = try server.connect()
        try c.send(["DEBUG", "SEGFAULT"])
        #expect(server.waitForExit(milliseconds: 5000))
        #expect(server.log.contains("crashed by signal: 11"), "\(server.log)")
        #expect(server.log.contains("------ STACK TRACE ------"))
    }
}
