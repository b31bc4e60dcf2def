/*
 * SnapshotTests.swift — the server side of RDB persistence, checked on the running process: BGSAVE and its
 * INFO fields and log lines, "already in progress", copy-on-write of an idle keyspace, -MISCONF after a failed
 * background save, -LOADING while a dump loads, SHUTDOWN SAVE / NOSAVE, FLUSHALL saving when save points
 * exist, and RESTORE of damaged payloads
 * leaving no memory behind.
 *
 * Every test runs for both flavours: the redis-server run proves the test states what Redis does.
 * Waits are bounded; datasets are small (a few hundred thousand keys at most).
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SnapshotTests {
    static func waitForBgsave(_ c: RawClient, milliseconds: Int = 20_000) throws -> InfoReply {
        var info = try InfoReply.fetch(c, "persistence")
        _ = Harness.waitUntil(milliseconds: milliseconds) {
            info = (try? InfoReply.fetch(c, "persistence")) ?? info
            return info["rdb_bgsave_in_progress"] == "0"
        }
        return info
    }

    static func status(_ reply: [UInt8]) -> String { String(decoding: reply, as: UTF8.self) }

    @Test(arguments: ServerFlavour.allCases)
    func bgsaveWritesTheDumpAndReportsInInfo(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect()
        _ = try c.call("DEBUG", "POPULATE", "2000")
        _ = try c.call("SET", "before", "save")
        #expect(try InfoReply.fetch(c, "persistence")["rdb_changes_since_last_save"] != "0")
        // Slow the child down so that it is surely still running for the next commands.
        _ = try c.call("CONFIG", "SET", "rdb-key-save-delay", "1000")
        #expect(Self.status(try c.call("BGSAVE")) == "+Background saving started\r\n")
        let running = try InfoReply.fetch(c, "persistence")
        #expect(running["rdb_bgsave_in_progress"] == "1")
        #expect(Self.status(try c.call("BGSAVE")) == "-ERR Background save already in progress\r\n")
        #expect(Self.status(try c.call("SAVE")) == "-ERR Background save already in progress\r\n")
        #expect(try c.call("SET", "during", "save") == Array("+OK\r\n".utf8))
        _ = try c.call("CONFIG", "SET", "rdb-key-save-delay", "0")
        let done = try Self.waitForBgsave(c)
        #expect(done["rdb_bgsave_in_progress"] == "0")
        #expect(done["rdb_last_bgsave_status"] == "ok")
        // The write made during the save is still unsaved.
        #expect(done["rdb_changes_since_last_save"] == "1")
        #expect(Int(try InfoReply.fetch(c, "stats")["latest_fork_usec"] ?? "0") ?? 0 > 0)
        #expect(access(server.dir + "/dump.rdb", F_OK) == 0)
        let log = server.log
        #expect(log.contains("Background saving started by pid"), "\(flavour): \(log)")
        #expect(Harness.waitUntil(milliseconds: 2000) { server.log.contains("Background saving terminated with success") })
        // No temp file is left behind.
        let files = (try? FileManager.default.contentsOfDirectory(atPath: server.dir)) ?? []
        #expect(!files.contains { $0.hasPrefix("temp-") }, "\(files)")
        // SAVE: foreground, resets the change counter, moves LASTSAVE.
        #expect(try c.call("SAVE") == Array("+OK\r\n".utf8))
        #expect(try InfoReply.fetch(c, "persistence")["rdb_changes_since_last_save"] == "0")
        let lastsave = try c.callValue("LASTSAVE")
        #expect(lastsave == .integer(Int64(Date().timeIntervalSince1970)) || lastsave == .integer(Int64(Date().timeIntervalSince1970) - 1))
    }

    @Test(arguments: ServerFlavour.allCases)
    func copyOnWriteOfAnIdleKeyspaceIsSmall(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect(timeoutSeconds: 30)
        _ = try c.call("DEBUG", "POPULATE", "200000", "key", "100")
        #expect(Self.status(try c.call("BGSAVE")) == "+Background saving started\r\n")
        let done = try Self.waitForBgsave(c)
        #expect(done["rdb_last_bgsave_status"] == "ok")
        let cow = Int(done["rdb_last_cow_size"] ?? "") ?? -1
        let used = Int(try InfoReply.fetch(c, "memory")["used_memory"] ?? "") ?? 0
        // The off-heap keyspace design: the child copies next to nothing of an idle dataset.
        #expect(cow >= 0 && cow * 20 < used, "\(flavour): COW \(cow) bytes of \(used) used")
    }

    @Test(arguments: ServerFlavour.allCases)
    func aFailedBackgroundSaveRefusesWritesWithMISCONF(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, extraArgs: ["--save", "3600 1"])
        defer { server.stop() }
        let c = try server.connect()
        _ = try c.call("SET", "k", "v")
        // A non-empty directory where the dump should go: the final rename fails, even for root.
        let blocker = server.dir + "/dump.rdb"
        mkdir(blocker, 0o755)
        try Harness.writeBytes([1], to: blocker + "/occupied")
        #expect(Self.status(try c.call("BGSAVE")) == "+Background saving started\r\n")
        #expect(try Self.waitForBgsave(c)["rdb_last_bgsave_status"] == "err")
        let misconf = Self.status(try c.call("SET", "k", "w"))
        #expect(misconf.hasPrefix("-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."),
                "\(flavour): \(misconf)")
        #expect(Self.status(try c.call("PING")).hasPrefix("-MISCONF"))
        #expect(try c.call("GET", "k") == Array("$1\r\nv\r\n".utf8))
        // The old state of the directory is untouched, and a later good save lifts the refusal.
        #expect(access(blocker + "/occupied", F_OK) == 0)
        unlink(blocker + "/occupied")
        rmdir(blocker)
        #expect(Self.status(try c.call("BGSAVE")) == "+Background saving started\r\n")
        #expect(try Self.waitForBgsave(c)["rdb_last_bgsave_status"] == "ok")
        #expect(try c.call("SET", "k", "w") == Array("+OK\r\n".utf8))
    }

    @Test(arguments: ServerFlavour.allCases)
    func clientsGetLOADINGWhileTheDumpLoads(_ flavour: ServerFlavour) throws {
        // Redis answers clients only every 2 MB of dump while loading: make the dump 6 MB.
        let first = try ServerProcess.start(flavour, extraArgs: ["--rdbcompression", "no"])
        _ = try first.connect().call("DEBUG", "POPULATE", "3000", "key", "2000")
        _ = try first.connect().call("SAVE")
        let dump = try #require(Harness.readBytes(first.dir + "/dump.rdb"))
        first.stop()
        // 3000 keys at 1 ms each: about three seconds of loading.
        let server = try ServerProcess.start(flavour, extraArgs: ["--key-load-delay", "1000"]) { dir in
            try Harness.writeBytes(dump, to: dir + "/dump.rdb")
        }
        defer { server.stop() }
        let c = try server.connect()
        let reply = Self.status(try c.call("GET", "key:1"))
        #expect(reply == "-LOADING Redis is loading the dataset in memory\r\n", "\(flavour): \(reply)")
        let info = try InfoReply.fetch(c, "persistence")
        #expect(info["loading"] == "1")
        #expect(Harness.waitUntil(milliseconds: 20_000) { (try? c.call("PING")) == Array("+PONG\r\n".utf8) })
        #expect(try c.callValue("DBSIZE") == .integer(3000))
        #expect(try InfoReply.fetch(c, "persistence")["loading"] == "0")
    }

    @Test(arguments: ServerFlavour.allCases)
    func shutdownSaveAndNosave(_ flavour: ServerFlavour) throws {
        // No save points: SHUTDOWN saves only when told to.
        let plain = try ServerProcess.start(flavour)
        _ = try plain.connect().call("SET", "k", "v")
        try? plain.connect().sendRaw(RESP.command(["SHUTDOWN", "SAVE"]))
        #expect(plain.waitForExit(milliseconds: 5000))
        #expect(access(plain.dir + "/dump.rdb", F_OK) == 0)
        plain.stop()
        // Save points: SHUTDOWN NOSAVE skips the save.
        let points = try ServerProcess.start(flavour, extraArgs: ["--save", "3600 1"])
        _ = try points.connect().call("SET", "k", "v")
        try? points.connect().sendRaw(RESP.command(["SHUTDOWN", "NOSAVE"]))
        #expect(points.waitForExit(milliseconds: 5000))
        #expect(access(points.dir + "/dump.rdb", F_OK) != 0)
        points.stop()
    }

    @Test(arguments: ServerFlavour.allCases)
    func flushallWithSavePointsSavesTheEmptyDataset(_ flavour: ServerFlavour) throws {
        let dir = try Harness.makeTempDir("tandem-itest-flushall")
        defer { Harness.removeDir(dir) }
        let first = try ServerProcess.start(flavour, extraArgs: ["--save", "3600 1"], dir: dir)
        let c = try first.connect()
        _ = try c.call("SET", "k", "v")
        #expect(try c.call("SAVE") == Array("+OK\r\n".utf8))
        #expect(try c.call("FLUSHALL") == Array("+OK\r\n".utf8))
        // A crash right after FLUSHALL must not bring the key back.
        kill(first.pid, SIGKILL)
        first.stop(keepDir: true)
        let second = try ServerProcess.start(flavour, dir: dir)
        defer { second.stop(keepDir: true) }
        try second.waitUntilLoaded()
        #expect(try second.connect().callValue("DBSIZE") == .integer(0))
    }

    /// Damaged DUMP payloads with a correct checksum reach the value parser: each must be refused with
    /// Redis's error and leave neither a key nor allocated memory behind (Tandem only: used_memory differs).
    @Test func restoreOfDamagedPayloadsLeavesNothingBehind() throws {
        let server = try ServerProcess.start(.tandem)
        defer { server.stop() }
        let c = try server.connect()
        _ = try c.call("RPUSH", "list", "a", "b", "1", "2", String(repeating: "x", count: 100))
        _ = try c.call("HSET", "hash", "f", "v", "n", "1")
        _ = try c.call("ZADD", "zset", "1", "a", "2", "b")
        _ = try c.call("SADD", "set", "x", "y", "z")
        for i in 0..<200 { _ = try c.call("SADD", "bigset", "m\(i)") }
        for i in 0..<200 { _ = try c.call("ZADD", "bigzset", "\(i)", "m\(i)") }
        var payloads: [[UInt8]] = []
        for key in ["list", "hash", "zset", "set", "bigset", "bigzset"] {
            guard case .bulk(let p) = try c.callValue("DUMP", key) else { Issue.record("no DUMP of \(key)"); return }
            payloads.append(p)
        }
        let baseline = Int(try InfoReply.fetch(c, "memory")["used_memory"] ?? "") ?? 0
        var rng = SystemRandomNumberGenerator()
        var refused = 0
        for round in 0..<600 {
            var body = Array(payloads[round % payloads.count].dropLast(10))
            for _ in 0..<(1 + round % 3) { body[Int.random(in: 0..<body.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            if round % 5 == 0 { body = Array(body.prefix(Int.random(in: 1..<body.count, using: &rng))) }
            var payload = body + [10, 0]
            let crc = RDBFile.crc64(payload)
            payload += (0..<8).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt64($0))) }
            let reply = try c.callValue(bytes: [Array("RESTORE".utf8), Array("target".utf8), Array("0".utf8), payload, Array("REPLACE".utf8)])
            if case .error(let e) = reply {
                #expect(e == "ERR Bad data format", "\(e)")
                refused += 1
            }
            _ = try c.call("DEL", "target")
        }
        #expect(refused > 100)
        let after = Int(try InfoReply.fetch(c, "memory")["used_memory"] ?? "") ?? 0
        #expect(after - baseline < 4096, "used_memory grew by \(after - baseline) bytes over 600 RESTOREs")
        #expect(try c.callValue("DBSIZE") == .integer(6))
    }
}
