/*
 * SyncRobustnessTests.swift — full syncs when things go wrong, as Redis 7.0 handles them:
 *
 *   - a snapshot child whose parent is killed (kill -9) exits too;
 *   - a replica stopped (SIGSTOP) during a diskless transfer is cut off after repl-timeout, the
 *     primary logging "Disconnecting timedout replica (full sync)", and the other replica
 *     still gets the snapshot;
 *   - a replica that re-syncs from the same history with repl-diskless-load swapdb loads in the
 *     background (async_loading:1) and serves its old data meanwhile; REPLICAOF waits (-LOADING);
 *   - SIGTERM while a replica loads ends it at once;
 *   - redis-cli --functions-rdb gets the libraries and no keys (REPLCONF rdb-filter-only).
 *
 * Every wait is bounded; servers listen on 127.0.0.1 only.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct SyncRobustnessTests {
    static func childPIDs(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    static func alive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.contains(") Z ")
    }

    static func info(_ c: RawClient, _ field: String) -> String? {
        try? InfoReply.fetch(c, "persistence", "replication")[field]
    }

    @Test func snapshotChildDiesWithItsParent() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--enable-debug-command", "yes", "--repl-diskless-sync", "no",
                                                                  "--rdb-key-save-delay", "1000"])
        defer { master.stop() }
        let replica = try ServerProcess.start(.tandem)
        defer { replica.stop() }
        let m = try master.connect()
        _ = try m.callValue("DEBUG", "POPULATE", "10000")
        _ = try replica.connect().callValue("REPLICAOF", "127.0.0.1", String(master.port))
        #expect(Harness.waitUntil(milliseconds: 10_000) { Self.info(m, "rdb_bgsave_in_progress") == "1" })
        let before = Set(Self.childPIDs(of: master.pid))
        #expect(!before.isEmpty, "no snapshot child")
        kill(master.pid, SIGKILL)
        let gone = Harness.waitUntil(milliseconds: 5000) { before.allSatisfy { !Self.alive($0) } }
        #expect(gone, "children \(before) of the killed primary still run")
        for pid in before where Self.alive(pid) { kill(pid, SIGKILL) }
    }

    @Test func aStoppedReplicaIsCutOffAndTheOtherGetsTheSnapshot() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: [
            "--enable-debug-command", "yes", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1",
            "--repl-diskless-sync-max-replicas", "2", "--rdbcompression", "no",
        ])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.callValue("DEBUG", "POPULATE", "2000", "k", "20000")  // 40 MB: more than the socket buffers
        let stopped = try ServerProcess.start(.tandem, extraArgs: ["--key-load-delay", "2000", "--repl-diskless-load", "swapdb"])
        defer {
            kill(stopped.pid, SIGCONT)
            stopped.stop()
        }
        let healthy = try ServerProcess.start(.tandem)
        defer { healthy.stop() }
        _ = try stopped.connect().callValue("REPLICAOF", "127.0.0.1", String(master.port))
        _ = try healthy.connect().callValue("REPLICAOF", "127.0.0.1", String(master.port))
        #expect(Harness.waitUntil(milliseconds: 10_000) { master.log.contains("Background RDB transfer started") })
        usleep(300_000)
        kill(stopped.pid, SIGSTOP)
        _ = try m.callValue("CONFIG", "SET", "repl-timeout", "2")
        #expect(Harness.waitUntil(milliseconds: 20_000) { master.log.contains("Disconnecting timedout replica (full sync)") },
                "the stopped replica was not cut off")
        let h = try healthy.connect()
        #expect(Harness.waitUntil(milliseconds: 30_000) { Self.info(h, "master_link_status") == "up" })
        #expect(try h.callValue("DBSIZE") == .integer(2000))
    }

    @Test func aResyncOfTheSameHistoryLoadsInTheBackground() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--enable-debug-command", "yes"])
        defer { master.stop() }
        let replica = try ServerProcess.start(.tandem, extraArgs: ["--repl-diskless-load", "swapdb", "--replica-read-only", "no"])
        defer { replica.stop() }
        let m = try master.connect()
        let r = try replica.connect()
        _ = try r.callValue("REPLICAOF", "127.0.0.1", String(master.port))
        #expect(Harness.waitUntil(milliseconds: 10_000) { Self.info(r, "master_link_status") == "up" })
        _ = try m.callValue("DEBUG", "POPULATE", "300", "master", "100000")
        _ = try r.callValue("SET", "mykey", "old")
        for setting in [("rdb-key-save-delay", "10000"), ("repl-diskless-sync", "yes"), ("repl-diskless-sync-delay", "0"),
                        ("rdbcompression", "no")] {
            _ = try m.callValue("CONFIG", "SET", setting.0, setting.1)
        }
        // The backlog forgets what the replica would continue from: the next sync is a full one,
        // of the same history.
        _ = try m.callValue("MULTI")
        _ = try m.callValue("CLIENT", "KILL", "TYPE", "replica")
        _ = try m.callValue("CONFIG", "SET", "repl-backlog-size", "16384")
        for i in 0..<10 { _ = try m.callValue("SET", "fill:\(i)", String(repeating: "A", count: 16384)) }
        _ = try m.callValue("EXEC")
        #expect(Harness.waitUntil(milliseconds: 10_000) { Self.info(r, "async_loading") == "1" }, "no async loading")
        #expect(Self.info(r, "loading") == "0")
        #expect(try r.callValue("GET", "mykey") == .bulk(Array("old".utf8)))
        #expect(try r.callValue("REPLICAOF", "NO", "ONE") == .error("LOADING Redis is loading the dataset in memory"))
        #expect(Harness.waitUntil(milliseconds: 30_000) { Self.info(r, "master_link_status") == "up" })
        #expect(try r.callValue("GET", "mykey") == .nullBulk)
        #expect(try r.callValue("DBSIZE") == m.callValue("DBSIZE"))
    }

    @Test func sigtermWhileLoadingEndsTheReplicaAtOnce() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--enable-debug-command", "yes", "--repl-diskless-sync", "yes",
                                                                  "--repl-diskless-sync-delay", "0"])
        defer { master.stop() }
        _ = try master.connect().callValue("DEBUG", "POPULATE", "20000")
        let replica = try ServerProcess.start(.tandem, extraArgs: ["--key-load-delay", "1000", "--repl-diskless-load", "swapdb"])
        defer { replica.stop() }
        _ = try replica.connect().callValue("REPLICAOF", "127.0.0.1", String(master.port))
        #expect(Harness.waitUntil(milliseconds: 10_000) { replica.log.contains("Loading DB in memory") })
        kill(replica.pid, SIGTERM)
        // 20,000 keys at 1 ms each would take 20 s to load.
        #expect(replica.waitForExit(milliseconds: 5000), "the replica went on loading after SIGTERM")
    }

    @Test func redisCliFunctionsRdbHasLibrariesAndNoKeys() throws {
        let server = try ServerProcess.start(.tandem, extraArgs: ["--enable-debug-command", "yes"])
        defer { server.stop() }
        let c = try server.connect()
        _ = try c.callValue("DEBUG", "POPULATE", "1000")
        _ = try c.callValue("FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('func1', function() return 123 end)")
        let dir = try Harness.makeTempDir("tandem-itest-fnrdb")
        defer { Harness.removeDir(dir) }
        for functionsOnly in [true, false] {
            let file = dir + "/dump.rdb"
            unlink(file)
            let cli = Process()
            cli.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
            cli.arguments = ["-p", String(server.port), functionsOnly ? "--functions-rdb" : "--rdb", file]
            cli.standardOutput = FileHandle.nullDevice
            cli.standardError = FileHandle.nullDevice
            try cli.run()
            cli.waitUntilExit()
            #expect(cli.terminationStatus == 0)
            let redis = try ServerProcess.start(.redis, dir: dir)
            defer { redis.stop() }
            let r = try redis.connect()
            #expect(try r.callValue("DBSIZE") == .integer(functionsOnly ? 0 : 1000), "functions only: \(functionsOnly)")
            #expect(try r.callValue("FCALL", "func1", "0") == .integer(123))
        }
    }
}
