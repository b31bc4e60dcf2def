/*
 * RDBInteropTests.swift — Tandem's RDB files against Redis 7.0's, in both directions.
 *
 *   a. Each fixture of Fixtures/rdb (written by redis-server 7.0: every type and encoding, LZF on and off,
 *      checksum on and off, compressed quicklist nodes, plain nodes, IDLE/FREQ opcodes) loads into
 *      tandem-server as it loads into redis-server: same keys, types, encodings, values, expire times, digest.
 *   b. Tandem -> Redis: the fixtures' dataset replayed into tandem-server, SAVEd (default config,
 *      rdbcompression no, rdbchecksum no), passes redis-check-rdb and loads into redis-server unchanged.
 *   c. DEBUG RELOAD keeps the dataset; DUMP payloads travel between the two servers both ways; RESTORE of a
 *      damaged payload fails with Redis's error and creates nothing.
 *   d. A restart loads what SHUTDOWN (with save points) or an explicit SAVE wrote, in the same dir.
 *   e. A damaged dump.rdb (truncated, bad checksum, unknown type byte, RDB version 11) stops start-up with a
 *      non-zero exit and Redis's log wording, and is left as it was.
 *
 * Every comparison is against what redis-server itself does, so TANDEM_SERVER=/usr/bin/redis-server runs the
 * whole suite redis-vs-redis and proves the tests right. Servers listen on 127.0.0.1 only; every wait is
 * bounded (start-up 10 s, expected early exits 5 s).
 */

import Foundation
import Testing

@Suite(.serialized) struct RDBInteropTests {
    // MARK: - a. Redis's files load into Tandem

    @Test(arguments: Fixtures.rdbFiles.map(\.name))
    func redisFixtureLoadsAsInRedis(_ fixture: String) throws {
        let redis = try Self.start(.redis, loading: fixture)
        defer { redis.stop() }
        let tandem = try Self.start(.tandem, loading: fixture)
        defer { tandem.stop() }
        let r = try redis.connect(), t = try tandem.connect()
        let expected = try KeyspaceDump.take(r)
        let keys = Fixtures.rdbFiles.first { $0.name == fixture }?.keys
        try #require(expected.count == keys, "redis-server loaded \(expected.count) keys from \(fixture)")
        KeyspaceDump.expectSame(try KeyspaceDump.take(t), expected, "\(fixture) loaded", exactStringEncodings: true)
        #expect(try t.call("DEBUG", "DIGEST") == r.call("DEBUG", "DIGEST"), "DEBUG DIGEST after loading \(fixture)")
        #expect(Harness.readBytes(tandem.dir + "/" + fixture) == (try Fixtures.bytes(fixture)),
                "loading changed \(fixture)")
    }

    // MARK: - b. Tandem's SAVE loads into Redis

    /// rdbcompression is set at run time; rdbchecksum only at start-up (Redis refuses CONFIG SET on it).
    enum SaveConfig: String, CaseIterable, Sendable {
        case defaults, noCompression, noChecksum

        var serverArgs: [String] { self == .noChecksum ? ["--rdbchecksum", "no"] : [] }
        var commands: [[String]] { self == .noCompression ? [["CONFIG", "SET", "rdbcompression", "no"]] : [] }
    }

    /// The value of `str:lzf` in the dataset: stored verbatim only when rdbcompression is off.
    static let compressibleValue = Array(String(repeating: "compressible-", count: 20).utf8)

    @Test(arguments: SaveConfig.allCases)
    func tandemSaveLoadsInRedis(_ config: SaveConfig) throws {
        let tandem = try ServerProcess.start(.tandem, extraArgs: config.serverArgs)
        defer { tandem.stop() }
        let t = try tandem.connect()
        for command in config.commands { #expect(try t.callValue(command) == .simple("OK"), "\(command)") }
        try CommandScript.replay(Fixtures.dataset(), into: t)
        #expect(try t.callValue("SAVE") == .simple("OK"))
        let expected = try KeyspaceDump.take(t)
        #expect(expected.count == 85, "the dataset holds 85 keys, Tandem has \(expected.count)")

        let path = tandem.dir + "/dump.rdb"
        let file = try #require(Harness.readBytes(path), "SAVE wrote no \(path)")
        try #require(file.count > 17, "dump.rdb is \(file.count) bytes")
        #expect(file.starts(with: Array("REDIS0010".utf8)), "header \(RESP.escape(file.prefix(9)))")
        let crc = RDBFile.trailer(file)
        if config == .noChecksum {
            #expect(crc == 0, "rdbchecksum no must leave a zero trailer, got \(String(crc, radix: 16))")
        } else {
            #expect(crc == RDBFile.crc64(file.dropLast(8)), "the CRC64 trailer is wrong")
        }
        let verbatim = RDBFile.find(Self.compressibleValue, in: file) != nil
        let compression = config == .noCompression ? "no" : "yes"
        #expect(verbatim == (config == .noCompression),
                "str:lzf is \(verbatim ? "" : "not ")stored verbatim with rdbcompression \(compression)")

        let check = try Harness.checkRDB(path, cwd: tandem.dir)
        #expect(!check.timedOut && check.status.code == 0 && check.output.contains("RDB looks OK"),
                "redis-check-rdb on Tandem's dump.rdb: \(check.status)\n\(check.output.suffix(3000))")

        let redis = try Self.start(.redis, dumpFile: file)
        defer { redis.stop() }
        let r = try redis.connect()
        KeyspaceDump.expectSame(try KeyspaceDump.take(r), expected, "Tandem's dump.rdb (\(config)) in redis-server",
                                name: "redis", referenceName: "tandem")
        #expect(try r.call("DEBUG", "DIGEST") == t.call("DEBUG", "DIGEST"), "DEBUG DIGEST after the load")
    }

    /// Streams (groups, PELs, consumers, tombstones) written by redis-server, loaded by Tandem and saved
    /// again: redis-check-rdb accepts the file, redis-server loads it, and every key's DUMP payload (node
    /// bytes, counters, groups, times) is byte for byte the one redis-server makes of the original.
    @Test func redisStreamsSurviveTandemSaveByteForByte() throws {
        let original = try Self.start(.redis, loading: "streams.rdb")
        defer { original.stop() }
        let tandem = try Self.start(.tandem, loading: "streams.rdb")
        defer { tandem.stop() }
        let t = try tandem.connect()
        #expect(try t.callValue("SAVE") == .simple("OK"))
        let path = tandem.dir + "/streams.rdb"
        let check = try Harness.checkRDB(path, cwd: tandem.dir)
        #expect(!check.timedOut && check.status.code == 0 && check.output.contains("RDB looks OK"),
                "redis-check-rdb on Tandem's streams.rdb: \(check.status)\n\(check.output.suffix(3000))")
        let file = try #require(Harness.readBytes(path))
        let reloaded = try Self.start(.redis, dumpFile: file)
        defer { reloaded.stop() }
        let o = try original.connect(), r = try reloaded.connect()
        KeyspaceDump.expectSame(try KeyspaceDump.take(r), try KeyspaceDump.take(o), "Tandem's streams.rdb in redis-server",
                                name: "reloaded", referenceName: "original")
        for (db, key) in [(0, "stream:big"), (0, "stream:small"), (0, "stream:empty"), (0, "stream:emptied"),
                          (0, "stream:ttl"), (2, "stream:db2")] {
            for c in [o, r, t] { _ = try c.call("SELECT", "\(db)") }
            let reference = try o.callValue("DUMP", key)
            #expect(try t.callValue("DUMP", key) == reference, "DUMP \(key) from Tandem")
            #expect(try r.callValue("DUMP", key) == reference, "DUMP \(key) after Tandem's SAVE")
            #expect(try t.callValue("XINFO", "STREAM", key, "FULL") == o.callValue("XINFO", "STREAM", key, "FULL"),
                    "XINFO STREAM \(key) FULL")
        }
    }

    /// A stream in Redis 5/6's RDB type (STREAM_LISTPACKS, 15), made from a 7.0 DUMP by removing what 7.0
    /// added (first ID, max deleted ID, entries added, each group's entries read): both servers RESTORE it
    /// and derive the same counters (XINFO STREAM FULL equal).
    @Test func aRedis6StreamPayloadRestores() throws {
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let r = try redis.connect(), t = try tandem.connect()
        // Every counter below 64, so each length is one byte and the surgery below is exact.
        for command in [["XADD", "s", "1-1", "a", "1"], ["XADD", "s", "2-2", "b", "2"], ["XDEL", "s", "1-1"],
                        ["XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "0"]] {
            _ = try r.call(command)
        }
        guard case .bulk(let v19) = try r.callValue("DUMP", "s") else {
            Issue.record("no DUMP from redis-server")
            return
        }
        #expect(v19.first == 19)
        // type, node count, node key (16 bytes), listpack string, then length, last ms, last seq,
        // [first ms, first seq, max-del ms, max-del seq, entries added], group count 1, "g", last ms,
        // last seq, [entries read], PEL 0, consumers 0, then version (2) and CRC (8).
        var i = 1 + 1 + 17
        if v19[i] == 0xC3 {
            i += 3 + Int(v19[i + 1])  // LZF: 0xC3, compressed length, plain length, data
        } else {
            i += 1 + Int(v19[i])
        }
        var v15: [UInt8] = [15] + v19[1..<i] + v19[i..<(i + 3)]
        i += 3 + 5
        v15 += v19[i..<(i + 5)]  // group count, name length, "g", last ms, last seq
        i += 5 + 1
        v15 += v19[i..<(v19.count - 8)]
        v15 += [0, 0, 0, 0, 0, 0, 0, 0]
        let payload = RDBFile.withFixedChecksum(v15)
        #expect(try r.callValue(bytes: [Array("RESTORE".utf8), Array("old".utf8), Array("0".utf8), payload]) == .simple("OK"))
        #expect(try t.callValue(bytes: [Array("RESTORE".utf8), Array("old".utf8), Array("0".utf8), payload]) == .simple("OK"))
        #expect(try t.callValue("XINFO", "STREAM", "old", "FULL") == r.callValue("XINFO", "STREAM", "old", "FULL"))
        #expect(try t.callValue("XINFO", "GROUPS", "old") == r.callValue("XINFO", "GROUPS", "old"))
    }

    // MARK: - c. DEBUG RELOAD, DUMP and RESTORE

    @Test func debugReloadKeepsTheDataset() throws {
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let t = try tandem.connect()
        try CommandScript.replay(Fixtures.dataset(), into: t)
        let before = try KeyspaceDump.take(t)
        let digest = try t.call("DEBUG", "DIGEST")
        #expect(try t.callValue("DEBUG", "RELOAD") == .simple("OK"))
        KeyspaceDump.expectSame(try KeyspaceDump.take(t), before, "DEBUG RELOAD",
                                name: "after", referenceName: "before")
        #expect(try t.call("DEBUG", "DIGEST") == digest, "DEBUG DIGEST changed across DEBUG RELOAD")
        #expect(FileManager.default.fileExists(atPath: tandem.dir + "/dump.rdb"), "DEBUG RELOAD saved no dump.rdb")
    }

    /// One key of each type and encoding (db 0 of the dataset), expiring ones included.
    static let restoreKeys = [
        "str:empty", "str:int:0", "str:int:17", "str:int:18", "str:not-int:leading-zero", "str:lzf", "str:random",
        "str:random-long", "str:binary", "list:small", "list:multi", "list:count5", "list:compressed", "set:int16",
        "set:int64", "set:strings", "set:large-ints", "set:large-strings", "zset:small", "zset:large",
        "zset:long-member", "hash:small", "hash:int-fields", "hash:large", "hash:long-value", "ttl:string",
        "ttl:list", "ttl:set", "ttl:zset", "ttl:hash",
    ]

    @Test func dumpFromRedisRestoresIntoTandem() throws {
        let redis = try Self.start(.redis, loading: "all-types.rdb")
        defer { redis.stop() }
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        try Self.moveKeys(from: redis.connect(), to: tandem.connect(), source: "redis", target: "tandem")
    }

    @Test func dumpFromTandemRestoresIntoRedis() throws {
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let t = try tandem.connect()
        try CommandScript.replay(Fixtures.dataset(), into: t)
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        try Self.moveKeys(from: t, to: redis.connect(), source: "tandem", target: "redis")
    }

    /// DUMPs each of `restoreKeys` on `from`, RESTOREs it on `to` (with its absolute expire time, ABSTTL) and
    /// expects the same type, encoding, value and expire time there.
    static func moveKeys(from: RawClient, to: RawClient, source: String, target: String) throws {
        for name in restoreKeys {
            let key = Array(name.utf8)
            let original = try KeyspaceDump.entry(from, db: 0, key: key)
            guard original.type != "none", case .bulk(let payload) = try from.callValue("DUMP", name) else {
                Issue.record("\(source) has no \(name) to DUMP")
                continue
            }
            let ttl = original.expireAt > 0 ? String(original.expireAt) : "0"
            var args = [Array("RESTORE".utf8), key, Array(ttl.utf8), payload]
            if original.expireAt > 0 { args.append(Array("ABSTTL".utf8)) }
            let reply = try to.callValue(bytes: args)
            guard reply == .simple("OK") else {
                Issue.record("RESTORE \(name) on \(target) of \(source)'s DUMP: \(RESP.render(reply, indent: ""))")
                continue
            }
            let restored = try KeyspaceDump.entry(to, db: 0, key: key)
            let diff = KeyspaceDump(entries: [restored]).differences(
                from: KeyspaceDump(entries: [original]), name: target, referenceName: source)
            #expect(diff.isEmpty,
                    "\(name) DUMPed on \(source), RESTOREd on \(target):\n  \(diff.joined(separator: "\n  "))")
        }
    }

    @Test func restoreRejectsADamagedPayload() throws {
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        let r = try redis.connect()
        _ = try r.call("RPUSH", "list", "a", "b", "c")
        guard case .bulk(let payload) = try r.callValue("DUMP", "list") else {
            Issue.record("redis-server answered no DUMP payload")
            return
        }
        var badCRC = payload
        badCRC[badCRC.count - 1] ^= 0xff
        var badBody = payload
        badBody[2] ^= 0x01
        var version11 = payload
        version11[payload.count - 10] = 11
        version11[payload.count - 9] = 0
        version11 = RDBFile.withFixedChecksum(version11)
        let damaged: [(String, [UInt8])] = [
            ("a flipped checksum byte", badCRC), ("a flipped value byte", badBody),
            ("RDB version 11 (checksum fixed)", version11), ("the last byte cut off", Array(payload.dropLast())),
            ("only 9 bytes", Array(payload.prefix(9))),
        ]

        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let t = try tandem.connect()
        for (what, bytes) in damaged {
            let reply = try t.callValue(bytes: [Array("RESTORE".utf8), Array("copy".utf8), Array("0".utf8), bytes])
            #expect(reply == .error("ERR DUMP payload version or checksum are wrong"),
                    "RESTORE of a payload with \(what): \(RESP.render(reply, indent: ""))")
            #expect(try t.callValue("EXISTS", "copy") == .integer(0), "RESTORE of a payload with \(what) made a key")
        }
        #expect(try t.callValue("DBSIZE") == .integer(0))
    }

    // MARK: - d. Restart on the same dir

    @Test func shutdownWithSavePointsSavesAndARestartLoads() throws {
        let dir = try Harness.makeTempDir("tandem-itest-restart")
        defer { Harness.removeDir(dir) }
        let savePoints = ["--save", "900 1"]
        let first = try ServerProcess.start(.tandem, extraArgs: savePoints, dir: dir)
        let c = try first.connect()
        try CommandScript.replay(Fixtures.dataset(), into: c)
        let before = try KeyspaceDump.take(c)
        try c.send(["SHUTDOWN"])
        #expect(c.waitForClose(), "SHUTDOWN did not close the connection")
        #expect(first.waitForExit(milliseconds: 5000), "the server did not exit after SHUTDOWN")
        #expect(first.exitStatus?.code == 0, "SHUTDOWN ended the server with \(first.exitStatus?.description ?? "?")")
        first.stop()
        #expect(FileManager.default.fileExists(atPath: dir + "/dump.rdb"), "SHUTDOWN with save points saved nothing")

        let second = try ServerProcess.start(.tandem, extraArgs: savePoints, dir: dir)
        defer { second.stop() }
        try second.waitUntilLoaded()
        KeyspaceDump.expectSame(try KeyspaceDump.take(second.connect()), before, "SHUTDOWN, then restart",
                                name: "restarted", referenceName: "before")
    }

    @Test func aRestartLoadsWhatSaveWroteNotLaterWrites() throws {
        let dir = try Harness.makeTempDir("tandem-itest-restart")
        defer { Harness.removeDir(dir) }
        let first = try ServerProcess.start(.tandem, dir: dir)  // --save "": SIGTERM does not save
        let c = try first.connect()
        try CommandScript.replay(Fixtures.dataset(), into: c)
        #expect(try c.callValue("SAVE") == .simple("OK"))
        let saved = try KeyspaceDump.take(c)
        _ = try c.call("SET", "written-after-save", "x")
        _ = try c.call("DEL", "str:short", "list:multi")
        _ = try c.call("HSET", "hash:small", "f1", "changed")
        first.stop()

        let second = try ServerProcess.start(.tandem, dir: dir)
        defer { second.stop() }
        try second.waitUntilLoaded()
        KeyspaceDump.expectSame(try KeyspaceDump.take(second.connect()), saved, "SAVE, more writes, SIGTERM, restart",
                                name: "restarted", referenceName: "saved")
    }

    // MARK: - e. Damaged files stop start-up

    /// A way to damage all-types.rdb and the log wordings (Redis's) of which one must appear.
    struct Damage: Sendable, CustomTestStringConvertible {
        let name: String
        let wordings: [String]
        let apply: @Sendable ([UInt8]) -> [UInt8]?
        var testDescription: String { name }

        static let shortRead = ["Short read", "Unexpected EOF"]

        static func truncated(_ what: String, _ cut: @escaping @Sendable ([UInt8]) -> [UInt8]) -> Damage {
            Damage(name: "truncated " + what, wordings: shortRead, apply: cut)
        }
    }

    static let damages: [Damage] = [
        .truncated("to nothing") { _ in [] },
        .truncated("inside the magic (5 bytes)") { Array($0.prefix(5)) },
        .truncated("after the header (9 bytes)") { Array($0.prefix(9)) },
        .truncated("inside the aux fields (40 bytes)") { Array($0.prefix(40)) },
        .truncated("in the middle") { Array($0.prefix($0.count / 2)) },
        .truncated("before the checksum") { Array($0.dropLast(8)) },
        .truncated("inside the checksum") { Array($0.dropLast(3)) },
        Damage(name: "a flipped byte in a value, checksum on", wordings: ["Wrong RDB checksum"]) { file in
            guard let at = RDBFile.find(Array("aaaaaaaaaabbbbbbbbbb".utf8), in: file) else { return nil }
            var out = file
            out[at + 5] ^= 0x01
            return out
        },
        Damage(name: "unknown type byte 100 (checksum fixed)",
               wordings: ["Unknown RDB encoding type 100", "Unknown RDB type 100"]) { file in
            // A string key with no expire: type byte 0, length byte 9, "str:short".
            guard let at = RDBFile.find([0, 9] + Array("str:short".utf8), in: file) else { return nil }
            var out = file
            out[at] = 100
            return RDBFile.withFixedChecksum(out)
        },
        Damage(name: "RDB version 11 (checksum fixed)", wordings: ["Can't handle RDB format version 11"]) { file in
            guard file.starts(with: Array("REDIS0010".utf8)) else { return nil }
            return RDBFile.withFixedChecksum(Array("REDIS0011".utf8) + file.dropFirst(9))
        },
    ]

    @Test(arguments: damages)
    func damagedFileStopsStartup(_ damage: Damage) throws {
        let original = try Fixtures.bytes("all-types.rdb")
        let damaged = try #require(damage.apply(original), "cannot apply '\(damage.name)' to all-types.rdb")
        let dir = try Harness.makeTempDir("tandem-itest-damaged")
        defer { Harness.removeDir(dir) }
        let path = dir + "/dump.rdb"
        try Harness.writeBytes(damaged, to: path)

        let ended = try ServerProcess.startExpectingExit(.tandem, dir: dir)
        let exit = try #require(ended, "the server did not exit within 5 s on a dump.rdb \(damage.name)")
        #expect(exit.status.code.map { $0 != 0 } == true, "the server ended with \(exit.status), not a non-zero exit")
        #expect(damage.wordings.contains { exit.output.contains($0) },
                "the log says none of \(damage.wordings):\n\(exit.output.suffix(3000))")
        #expect(Harness.readBytes(path) == damaged, "the damaged dump.rdb was changed")
    }

    @Test func aFlippedByteWithoutChecksumLoads() throws {
        var file = try Fixtures.bytes("no-checksum.rdb")
        let at = try #require(RDBFile.find(Array("aaaaaaaaaabbbbbbbbbb".utf8), in: file))
        file[at] = UInt8(ascii: "A")
        let tandem = try Self.start(.tandem, dumpFile: file)
        defer { tandem.stop() }
        let t = try tandem.connect()
        #expect(try t.callValue("GET", "str:exactly20") == .bulk(Array("Aaaaaaaaaabbbbbbbbbb".utf8)))
        #expect(try t.callValue("DBSIZE") == .integer(74))
    }

    // MARK: - Helpers

    /// A server started with fixture `name` copied into its temp dir and named as its dbfilename, once it has
    /// loaded it.
    static func start(_ flavour: ServerFlavour, loading fixture: String) throws -> ServerProcess {
        let server = try ServerProcess.start(flavour, extraArgs: ["--dbfilename", fixture]) { dir in
            try Fixtures.copy(fixture, into: dir)
        }
        try server.waitUntilLoaded()
        return server
    }

    /// A server started on `file` as its dump.rdb, once it has loaded it.
    static func start(_ flavour: ServerFlavour, dumpFile file: [UInt8]) throws -> ServerProcess {
        let server = try ServerProcess.start(flavour) { dir in try Harness.writeBytes(file, to: dir + "/dump.rdb") }
        try server.waitUntilLoaded()
        return server
    }
}
