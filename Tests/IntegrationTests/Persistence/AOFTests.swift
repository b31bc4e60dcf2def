/*
 * AOFTests.swift — the append-only file against Redis 7.0's, and what it promises when things go wrong.
 *
 *   a. Interchange: an AOF directory (base + incremental files, RDB preamble on and off) written by one server
 *      loads into the other with the same keys, values, TTLs and digest, and redis-check-aof accepts it.
 *   b. Damaged directories (a cut incremental file, a cut file that is not the last, garbage, an unknown
 *      command, a missing file) are truncated or refused exactly as redis-server does it — both servers are
 *      started on a copy of the same directory and must agree on starting, on the dataset and on the files.
 *   c. Crash safety: a client writes numbered keys and records every acknowledged reply; the server is killed
 *      with SIGKILL at a random moment; after a restart (aof-load-truncated yes) every acknowledged write is
 *      there with appendfsync always and with everysec (a killed process loses nothing the kernel has: the AOF
 *      is written before replies leave; everysec's exception, a write postponed behind a slow fsync, does
 *      not happen on a disk that keeps up). 20 runs each (TANDEM_AOF_CRASH_RUNS), and a quarter as many against
 *      redis-server, which must pass the same test.
 *   d. A replica with appendonly yes writes what it applies: restarted alone from its AOF it has its master's
 *      dataset.
 *   e. A full disk (a small tmpfs, when the test may mount one) fails the rewrite and the writes with Redis's
 *      status fields and -MISCONF; the server keeps serving reads, and recovers when space returns.
 *
 * Servers listen on 127.0.0.1 only; every wait is bounded.
 */

import Foundation
import Testing

@Suite(.serialized) struct AOFTests {
    // MARK: - Helpers

    static let aofArgs = ["--appendonly", "yes", "--appendfsync", "always"]

    static func waitForRewrite(_ c: RawClient) throws {
        let done = Harness.waitUntil(milliseconds: 20_000) {
            (try? InfoReply.fetch(c, "persistence").fields["aof_rewrite_in_progress"]) == "0"
                && (try? InfoReply.fetch(c, "persistence").fields["aof_rewrite_scheduled"]) == "0"
        }
        try #require(done, "the AOF rewrite did not finish")
    }

    static func checkAOF(_ dir: String) throws -> RunResult {
        let tool = ProcessInfo.processInfo.environment["REDIS_CHECK_AOF"] ?? "/usr/bin/redis-check-aof"
        return try Harness.run(tool, [dir + "/appendonlydir/appendonly.aof.manifest"], cwd: dir)
    }

    /// Writes that land in the incremental file after a rewrite: TTLs, a transaction, a stream group.
    static let afterRewrite: [[String]] = [
        ["SET", "after:rewrite", "1"], ["INCRBY", "after:counter", "41"], ["INCR", "after:counter"],
        ["SET", "after:ttl", "v", "EX", "1000"], ["EXPIRE", "after:rewrite", "2000"],
        ["MULTI"], ["LPUSH", "after:list", "a", "b"], ["SADD", "after:set", "x"], ["EXEC"],
        ["XADD", "after:stream", "1-1", "f", "v"], ["XGROUP", "CREATE", "after:stream", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "after:stream", ">"],
        ["SELECT", "3"], ["SET", "db3:key", "v"], ["DEL", "missing"],
    ]

    // MARK: - a. Interchange

    enum Direction: String, CaseIterable, Sendable {
        case tandemToRedisWithPreamble, tandemToRedisCommands, redisToTandemWithPreamble, redisToTandemCommands

        var writer: ServerFlavour { rawValue.hasPrefix("tandem") ? .tandem : .redis }
        var reader: ServerFlavour { rawValue.hasPrefix("tandem") ? .redis : .tandem }
        var preamble: String { rawValue.hasSuffix("Preamble") ? "yes" : "no" }
    }

    @Test(arguments: Direction.allCases)
    func aDirectoryMovesBetweenTheServers(_ direction: Direction) throws {
        let dir = try Harness.makeTempDir("tandem-aof-\(direction.rawValue)")
        defer { Harness.removeDir(dir) }
        let args = Self.aofArgs + ["--aof-use-rdb-preamble", direction.preamble]
        let writer = try ServerProcess.start(direction.writer, extraArgs: args, dir: dir)
        let w = try writer.connect()
        try CommandScript.replay(Fixtures.dataset(), into: w)
        #expect(try w.callValue("BGREWRITEAOF").text?.contains("rewriting") == true)
        try Self.waitForRewrite(w)
        for command in Self.afterRewrite { _ = try w.call(command) }
        let expected = try KeyspaceDump.take(w)
        let digest = try w.call("DEBUG", "DIGEST")
        writer.stop(keepDir: true)

        let check = try Self.checkAOF(dir)
        #expect(check.status.code == 0 && check.stdout.contains("All AOF files and manifest are valid"),
                "redis-check-aof on \(direction.writer)'s directory: \(check.status)\n\(check.stdout.suffix(2000))")

        let reader = try ServerProcess.start(direction.reader, extraArgs: args, dir: dir)
        defer { reader.stop() }
        try reader.waitUntilLoaded()
        let r = try reader.connect()
        KeyspaceDump.expectSame(try KeyspaceDump.take(r), expected, "\(direction.writer)'s AOF in \(direction.reader)",
                                name: "\(direction.reader)", referenceName: "\(direction.writer)")
        #expect(try r.call("DEBUG", "DIGEST") == digest, "DEBUG DIGEST after loading")
    }

    // MARK: - b. Damaged directories

    enum Damage: String, CaseIterable, Sendable {
        case cutLastFile, cutMidMulti, cutFileNotLast, garbage, unknownCommand, missingFile, cutWithoutTruncation

        /// The incremental files (seq 1 and 2) and the extra arguments for this damage.
        var setup: (first: [UInt8], second: [UInt8]?, args: [String]) {
            let good = RESPCommands.encode([["SELECT", "0"], ["SET", "a", "1"], ["INCR", "n"], ["INCR", "n"]])
            let more = RESPCommands.encode([["SET", "b", "2"], ["RPUSH", "l", "x", "y"]])
            switch self {
            case .cutLastFile: return (good, Array(more.dropLast(3)), [])
            case .cutMidMulti:
                return (good, more + RESPCommands.encode([["MULTI"], ["SET", "c", "3"]]), [])
            case .cutFileNotLast: return (Array(good.dropLast(5)), more, [])
            case .garbage: return (good, more + Array("!!!\r\n".utf8) + more, [])
            case .unknownCommand: return (good, RESPCommands.encode([["NOSUCHCOMMAND", "x"]]) + more, [])
            case .missingFile: return (good, nil, [])
            case .cutWithoutTruncation: return (good, Array(more.dropLast(3)), ["--aof-load-truncated", "no"])
            }
        }
    }

    static func writeDamagedDirectory(_ damage: Damage, into dir: String) throws {
        let aof = dir + "/appendonlydir"
        try FileManager.default.createDirectory(atPath: aof, withIntermediateDirectories: true)
        let (first, second, _) = damage.setup
        try Harness.writeBytes(first, to: aof + "/appendonly.aof.1.incr.aof")
        if let second { try Harness.writeBytes(second, to: aof + "/appendonly.aof.2.incr.aof") }
        let manifest = "file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        try manifest.write(toFile: aof + "/appendonly.aof.manifest", atomically: true, encoding: .utf8)
    }

    /// What a server made of a damaged directory: its dataset, or its last log words before exiting.
    enum Outcome: Equatable {
        case loaded(keys: [String: String], files: [String: Int])
        case refused(reason: String)
    }

    static func outcome(_ flavour: ServerFlavour, _ damage: Damage) throws -> Outcome {
        let dir = try Harness.makeTempDir("tandem-aof-damage")
        defer { Harness.removeDir(dir) }
        try writeDamagedDirectory(damage, into: dir)
        let args = aofArgs + damage.setup.args
        if let exit = try ServerProcess.startExpectingExit(flavour, extraArgs: args, dir: dir) {
            // The reason Redis gives is the log's last warning that names a file or a cause.
            let markers = ["Bad file format", "Unexpected end of file", "Unknown command", "No such file or directory",
                           "the truncated file is not the last file"]
            let reason = markers.first { exit.output.contains($0) } ?? "exit \(exit.status): \(exit.output.suffix(300))"
            return .refused(reason: reason)
        }
        let server = try ServerProcess.start(flavour, extraArgs: args, dir: dir)
        defer { server.stop() }
        try server.waitUntilLoaded()
        let c = try server.connect()
        var keys: [String: String] = [:]
        for key in ["a", "n", "b", "c"] { keys[key] = RESP.render(try c.callValue("GET", key), indent: "") }
        keys["l"] = RESP.render(try c.callValue("LRANGE", "l", "0", "-1"), indent: "")
        let aof = dir + "/appendonlydir/"
        var files: [String: Int] = [:]
        for name in ["appendonly.aof.1.incr.aof", "appendonly.aof.2.incr.aof"] {
            files[name] = Harness.readBytes(aof + name)?.count ?? -1
        }
        return .loaded(keys: keys, files: files)
    }

    @Test(arguments: Damage.allCases)
    func damagedDirectoriesEndAsInRedis(_ damage: Damage) throws {
        let redis = try Self.outcome(.redis, damage)
        let tandem = try Self.outcome(.tandem, damage)
        #expect(tandem == redis, "\(damage): redis-server \(redis), tandem \(tandem)")
    }

    // MARK: - c. Crash safety

    /// Writes `SET k:<n> <n>` one at a time (each acknowledged before the next) until the connection breaks;
    /// returns the last acknowledged n.
    static func writeUntilKilled(port: UInt16) -> Int {
        guard let c = try? RawClient(port: port, timeoutSeconds: 5) else { return -1 }
        var acknowledged = -1
        var n = 0
        while n < 1_000_000 {
            guard let reply = try? c.callValue(["SET", "k:\(n)", String(n)]), reply == .simple("OK") else { break }
            acknowledged = n
            n += 1
        }
        return acknowledged
    }

    enum FsyncPolicy: String, CaseIterable, Sendable { case always, everysec }

    /// redis-server runs the same kills (fewer of them): the test holds for the reference too.
    @Test(arguments: FsyncPolicy.allCases, [ServerFlavour.tandem, ServerFlavour.redis])
    func noAcknowledgedWriteIsLostToSIGKILL(_ policy: FsyncPolicy, _ flavour: ServerFlavour) throws {
        let configured = Int(ProcessInfo.processInfo.environment["TANDEM_AOF_CRASH_RUNS"] ?? "") ?? 20
        let runs = flavour == .tandem ? configured : max(1, configured / 4)
        let dir = try Harness.makeTempDir("tandem-aof-crash")
        defer { Harness.removeDir(dir) }
        var total = 0
        for run in 0..<runs {
            let args = ["--appendonly", "yes", "--appendfsync", policy.rawValue, "--aof-load-truncated", "yes"]
            let server = try ServerProcess.start(flavour, extraArgs: args, dir: dir)
            try server.waitUntilLoaded()
            let pid = server.pid
            // Kill it from another thread after a random 50–400 ms while this one writes.
            let delay = UInt32.random(in: 50_000...400_000)
            let killer = Thread {
                usleep(delay)
                kill(pid, SIGKILL)
            }
            killer.start()
            let acknowledged = Self.writeUntilKilled(port: server.port)
            _ = server.waitForExit(milliseconds: 5000)
            server.stop(keepDir: true)

            let restarted = try ServerProcess.start(flavour, extraArgs: args, dir: dir)
            try restarted.waitUntilLoaded()
            let c = try restarted.connect()
            // Every acknowledged key, in one MGET per thousand.
            var missing: [Int] = []
            var start = 0
            while start <= acknowledged {
                let end = min(acknowledged, start + 999)
                let keys = (start...end).map { "k:\($0)" }
                if case .array(let values) = try c.callValue(["MGET"] + keys) {
                    for (i, v) in values.enumerated() where v.text != String(start + i) { missing.append(start + i) }
                }
                start = end + 1
            }
            #expect(missing.isEmpty, "\(flavour) run \(run) (\(policy)): \(missing.count) acknowledged writes lost, first \(missing.prefix(5))")
            total += acknowledged + 1
            _ = try c.call("FLUSHALL")
            restarted.stop(keepDir: true)
        }
        #expect(total > runs * 10, "the runs wrote only \(total) keys in all")
    }

    // MARK: - d. A replica's AOF

    @Test func aReplicaWritesWhatItApplies() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let dir = try Harness.makeTempDir("tandem-aof-replica")
        defer { Harness.removeDir(dir) }
        let replica = try ServerProcess.start(.tandem, extraArgs: Self.aofArgs + ["--replicaof", "127.0.0.1", String(master.port)], dir: dir)
        let m = try master.connect(), r = try replica.connect()
        try CommandScript.replay(Fixtures.dataset(), into: m)
        for command in Self.afterRewrite { _ = try m.call(command) }
        let synced = Harness.waitUntil(milliseconds: 10_000) {
            (try? r.call("DEBUG", "DIGEST")) == (try? m.call("DEBUG", "DIGEST"))
                && (try? InfoReply.fetch(r, "persistence").fields["aof_rewrite_in_progress"]) == "0"
                && (try? InfoReply.fetch(r, "persistence").fields["aof_enabled"]) == "1"
        }
        try #require(synced, "the replica did not catch up with its AOF on")
        let digest = try m.call("DEBUG", "DIGEST")
        replica.stop(keepDir: true)
        // Alone, from its files only.
        let alone = try ServerProcess.start(.tandem, extraArgs: Self.aofArgs, dir: dir)
        defer { alone.stop() }
        try alone.waitUntilLoaded()
        #expect(try alone.connect().call("DEBUG", "DIGEST") == digest)
    }

    // MARK: - d2. What goes to one side only

    /// redis.set_repl sends a script's commands to the AOF or to replicas only (a one-sided command
    /// first in a MULTI-wrapped batch included), and PUBLISH reaches replicas but never the file.
    @Test func oneSidedCommandsReachTheirSideOnly() throws {
        let dir = try Harness.makeTempDir("tandem-aof-sides")
        defer { Harness.removeDir(dir) }
        let master = try ServerProcess.start(.tandem, extraArgs: Self.aofArgs, dir: dir)
        let replica = try ServerProcess.start(.tandem, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        let m = try master.connect(), r = try replica.connect()
        // The scripts must run after the full sync, or the snapshot carries their AOF-only keys.
        try #require(ChainAndFailoverTests.waitForLink(r), "the replica did not sync")
        let scripts = [
            "redis.set_repl(redis.REPL_AOF); redis.call('set','aof:1','1'); redis.set_repl(redis.REPL_ALL); redis.call('set','all:1','1')",
            "redis.set_repl(redis.REPL_REPLICA); redis.call('set','repl:1','1'); redis.set_repl(redis.REPL_ALL); redis.call('set','all:2','1')",
            "redis.call('select','5'); redis.set_repl(redis.REPL_AOF); redis.call('set','aof:5','1'); redis.set_repl(redis.REPL_REPLICA); redis.call('set','repl:5','1'); redis.set_repl(redis.REPL_ALL); redis.call('set','all:5','1')",
        ]
        for script in scripts { #expect(try m.callValue("EVAL", script, "0").isError == false, "\(script)") }
        _ = try m.call("PUBLISH", "news", "hello")
        _ = try m.call("SET", "last", "1")
        try #require(Harness.waitUntil(milliseconds: 10_000) { (try? r.callValue("GET", "last")) == .bulk(Array("1".utf8)) },
                     "the replica did not follow")
        func keys(_ c: RawClient, _ db: String) throws -> [String] {
            _ = try c.call("SELECT", db)
            guard case .array(let items) = try c.callValue("KEYS", "*") else { return [] }
            return items.compactMap(\.text).sorted()
        }
        #expect(try keys(r, "0") == ["all:1", "all:2", "last", "repl:1"])
        #expect(try keys(r, "5") == ["all:5", "repl:5"])
        #expect(try InfoReply.fetch(r, "replication").fields["master_link_status"] == "up")
        master.stop(keepDir: true)
        let incr = Harness.readFile(dir + "/appendonlydir/appendonly.aof.1.incr.aof")
        #expect(!incr.contains("PUBLISH") && !incr.contains("publish"), "PUBLISH went into the AOF")
        let restarted = try ServerProcess.start(.tandem, extraArgs: Self.aofArgs, dir: dir)
        defer { restarted.stop() }
        try restarted.waitUntilLoaded()
        let a = try restarted.connect()
        #expect(try keys(a, "0") == ["all:1", "all:2", "aof:1", "last"])
        #expect(try keys(a, "5") == ["all:5", "aof:5"])
    }

    // MARK: - e. A full disk

    @Test func aFullDiskIsReportedAndSurvived() throws {
        let dir = try Harness.makeTempDir("tandem-aof-full")
        defer {
            _ = try? Harness.run("/bin/umount", ["-l", dir], cwd: "/")
            Harness.removeDir(dir)
        }
        let mount = try Harness.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir], cwd: "/")
        guard mount.status.code == 0 else {
            print("skipping aFullDiskIsReportedAndSurvived: cannot mount a tmpfs (\(mount.stderr))")
            return
        }
        let server = try ServerProcess.start(.tandem, extraArgs: ["--appendonly", "yes", "--appendfsync", "everysec",
                                                                  "--logfile", ""], dir: dir)
        defer { server.stop() }
        let c = try server.connect()
        let value = String(repeating: "v", count: 10_000)
        for i in 0..<150 { _ = try c.call("SET", "big:\(i)", value) }  // ~1.5 MB in the incr file
        // Fill the rest of the disk, then ask for a rewrite: the child cannot write the base.
        let filler = dir + "/filler"
        _ = try Harness.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k", "count=1000"], cwd: dir)
        _ = try c.call("BGREWRITEAOF")
        try Self.waitForRewrite(c)
        var info = try InfoReply.fetch(c, "persistence")
        #expect(info.fields["aof_last_bgrewrite_status"] == "err")
        // Writes fail to reach the file: reported, then refused with -MISCONF; reads go on.
        _ = try c.call("SET", "after", value)
        let refused = Harness.waitUntil(milliseconds: 5000) {
            (try? c.callValue("SET", "x", "y"))?.text?.hasPrefix("MISCONF Errors writing to the AOF file") == true
        }
        #expect(refused, "writes were not refused with -MISCONF on a full disk")
        // Scripts too: one that may write is refused before it runs, a write inside one refused.
        #expect(try c.callValue("EVAL", "return redis.call('set','k','v')", "0").text?.hasPrefix("MISCONF Errors writing to the AOF file") == true)
        #expect(try c.callValue("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','big:1') ~= false", "0") == .integer(1))
        info = try InfoReply.fetch(c, "persistence")
        #expect(info.fields["aof_last_write_status"] == "err")
        #expect(try c.callValue("GET", "big:1").text == value)
        // Space returns: the pending write goes out and writes are accepted again.
        unlink(filler)
        let recovered = Harness.waitUntil(milliseconds: 5000) {
            (try? c.callValue("SET", "x", "y")) == .simple("OK")
        }
        #expect(recovered, "writes stayed refused after space returned")
        #expect(try InfoReply.fetch(c, "persistence").fields["aof_last_write_status"] == "ok")
        // The incremental file the failed writes were cut back in loads (no hole, no garbage).
        let beforeReload = try c.call("DEBUG", "DIGEST")
        _ = try c.call("DEBUG", "LOADAOF")
        #expect(try c.call("DEBUG", "DIGEST") == beforeReload, "the AOF after the write errors holds the dataset")
        _ = try c.call("BGREWRITEAOF")
        try Self.waitForRewrite(c)
        #expect(try InfoReply.fetch(c, "persistence").fields["aof_last_bgrewrite_status"] == "ok")
        let digest = try c.call("DEBUG", "DIGEST")
        _ = try c.call("DEBUG", "LOADAOF")
        #expect(try c.call("DEBUG", "DIGEST") == digest, "the AOF after the recovery holds the dataset")
    }
}

/// Commands as the AOF stores them.
enum RESPCommands {
    static func encode(_ commands: [[String]]) -> [UInt8] {
        commands.flatMap { RESP.command($0) }
    }
}
