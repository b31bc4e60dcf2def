/*
 * FunctionReplicationTests.swift — function libraries are data (issue 13): a full sync carries
 * them, FUNCTION LOAD/DELETE/RESTORE/FLUSH are propagated, FCALL's writes replicate by effect,
 * between Tandem and redis-server in both roles; the RDB carries them both ways (a Tandem dump
 * loads into redis-server and the reverse), they survive a restart and DEBUG RELOAD, and FUNCTION
 * DUMP payloads restore across the two servers.
 */

import Foundation
import Testing

@Suite struct FunctionReplicationTests {
    static let libraryA = """
        #!lua name=liba
        redis.register_function('incrtwo', function(keys, args)
            redis.call('incr', keys[1])
            return redis.call('incr', keys[1])
        end)
        redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end,
                                flags={'no-writes'}, description='reads one key'}
        """
    static let libraryB = """
        #!lua name=libb
        redis.register_function('push', function(keys, args)
            redis.call('select', 5)
            redis.call('rpush', keys[1], args[1], args[2])
            return redis.call('llen', keys[1])
        end)
        """

    /// FUNCTION LIST with libraries and functions in name order.
    static func list(_ c: RawClient) throws -> RESPValue {
        FunctionScripts.normalized(try c.callValue("FUNCTION", "LIST", "WITHCODE"))
    }

    static func expectSameLibraries(_ master: RawClient, _ replica: RawClient, _ what: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        let wanted = try list(master)
        var got = RESPValue.null
        let same = Harness.waitUntil(milliseconds: 10_000) {
            got = (try? list(replica)) ?? .null
            return got == wanted
        }
        #expect(same, "\(what): libraries differ\nmaster  \(wanted)\nreplica \(got)", sourceLocation: sourceLocation)
    }

    /// Libraries before the replicas attach (the full sync carries them), then every command that
    /// changes them, with FCALL writes in between.
    static func exercise(master: ServerProcess, replicas: [(String, ServerProcess)]) throws {
        let m = try master.connect()
        _ = try m.callValue("FUNCTION", "LOAD", Self.libraryA)
        _ = try m.callValue("FCALL", "incrtwo", "1", "counter")
        for (_, r) in replicas {
            _ = try r.connect().callValue("REPLICAOF", "127.0.0.1", String(master.port))
        }
        let clients = try replicas.map { ($0.0, try $0.1.connect()) }
        for (what, r) in clients {
            #expect(Harness.waitUntil(milliseconds: 10_000) {
                (try? InfoReply.fetch(r, "replication")["master_link_status"]) == "up"
            }, "\(what): link up")
            try Self.expectSameLibraries(m, r, "\(what) after the full sync")
            #expect(try r.callValue("FCALL_RO", "peek", "1", "counter") == .bulk(Array("2".utf8)), "\(what)")
            let refused = try r.callValue("FUNCTION", "LOAD", Self.libraryB)
            #expect(refused == .error("READONLY You can't write against a read only replica."), "\(what): \(refused)")
        }
        _ = try m.callValue("FUNCTION", "LOAD", Self.libraryB)
        for i in 0..<20 { _ = try m.callValue("FCALL", "push", "1", "list", "a\(i)", "b\(i)") }
        _ = try m.callValue("FCALL", "incrtwo", "1", "counter")
        let payload = try m.callValue("FUNCTION", "DUMP")
        guard case .bulk(let bytes) = payload else { throw HarnessError.system("FUNCTION DUMP replied \(payload)") }
        _ = try m.callValue("FUNCTION", "DELETE", "liba")
        for (what, r) in clients { try Self.expectSameLibraries(m, r, "\(what) after DELETE") }
        _ = try m.callValue(bytes: [Array("FUNCTION".utf8), Array("RESTORE".utf8), bytes, Array("REPLACE".utf8)])
        _ = try m.callValue("FUNCTION", "LOAD", "REPLACE", Self.libraryA.replacingOccurrences(of: "reads one key", with: "v2"))
        for (what, r) in clients {
            try Self.expectSameLibraries(m, r, "\(what) after RESTORE and LOAD REPLACE")
            try RedisReplicaTests.expectConverged(master: m, replica: r, what)
        }
        _ = try m.callValue("FUNCTION", "FLUSH")
        for (what, r) in clients { try Self.expectSameLibraries(m, r, "\(what) after FLUSH") }
    }

    @Test func tandemMasterWithRedisAndTandemReplicas() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let redisReplica = try ServerProcess.start(.redis)
        defer { redisReplica.stop() }
        let tandemReplica = try ServerProcess.start(.tandem)
        defer { tandemReplica.stop() }
        try Self.exercise(master: master, replicas: [("redis-server replica", redisReplica), ("tandem replica", tandemReplica)])
    }

    @Test func redisMasterWithTandemReplica() throws {
        let master = try ServerProcess.start(.redis)
        defer { master.stop() }
        let replica = try ServerProcess.start(.tandem)
        defer { replica.stop() }
        try Self.exercise(master: master, replicas: [("tandem replica of redis-server", replica)])
    }

    /// A diskless full sync, parsed from the socket into a fresh set (repl-diskless-load swapdb).
    @Test func disklessSyncCarriesLibraries() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
        defer { master.stop() }
        let replica = try ServerProcess.start(.tandem, extraArgs: ["--repl-diskless-load", "swapdb"])
        defer { replica.stop() }
        let m = try master.connect()
        _ = try m.callValue("FUNCTION", "LOAD", Self.libraryA)
        _ = try m.callValue("FUNCTION", "LOAD", Self.libraryB)
        let r = try replica.connect()
        _ = try r.callValue("FUNCTION", "LOAD", "#!lua name=local\nredis.register_function('mine', function() return 1 end)")
        _ = try r.callValue("REPLICAOF", "127.0.0.1", String(master.port))
        try Self.expectSameLibraries(m, r, "diskless swapdb replica")
    }

    /// master -> Tandem replica -> (Tandem, redis-server) sub-replicas: the middle node passes
    /// FUNCTION commands on as it received them.
    @Test func chainedReplicasFollowFunctionCommands() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let middle = try ServerProcess.start(.tandem, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { middle.stop() }
        let leaves = try [ServerFlavour.tandem, .redis].map {
            try ServerProcess.start($0, extraArgs: ["--replicaof", "127.0.0.1", String(middle.port)])
        }
        defer { leaves.forEach { $0.stop() } }
        let m = try master.connect()
        let nodes = try [("middle", middle.connect())] + leaves.enumerated().map { ("leaf \($0.offset)", try $0.element.connect()) }
        _ = try m.callValue("FUNCTION", "LOAD", Self.libraryA)
        _ = try m.callValue("FUNCTION", "LOAD", Self.libraryB)
        _ = try m.callValue("FCALL", "push", "1", "l", "x", "y")
        for (what, c) in nodes { try Self.expectSameLibraries(m, c, what) }
        _ = try m.callValue("FUNCTION", "DELETE", "libb")
        for (what, c) in nodes {
            try Self.expectSameLibraries(m, c, what + " after DELETE")
            try RedisReplicaTests.expectConverged(master: m, replica: c, what)
        }
        _ = try m.callValue("FUNCTION", "FLUSH", "ASYNC")
        for (what, c) in nodes { try Self.expectSameLibraries(m, c, what + " after FLUSH") }
    }

    // MARK: - Files

    /// Tandem saves libraries; a restart, DEBUG RELOAD and redis-server load them from its file.
    @Test func tandemDumpLoadsIntoTandemAndRedis() throws {
        let dir = try Harness.makeTempDir("tandem-itest-fn")
        defer { Harness.removeDir(dir) }
        var expected = RESPValue.null
        do {
            let first = try ServerProcess.start(.tandem, extraArgs: ["--enable-debug-command", "yes"], dir: dir)
            defer { first.stop() }
            let c = try first.connect()
            _ = try c.callValue("FUNCTION", "LOAD", Self.libraryA)
            _ = try c.callValue("FUNCTION", "LOAD", Self.libraryB)
            _ = try c.callValue("FCALL", "incrtwo", "1", "counter")
            expected = try Self.list(c)
            #expect(try c.callValue("DEBUG", "RELOAD") == .simple("OK"))
            #expect(try Self.list(c) == expected, "after DEBUG RELOAD")
            #expect(try c.callValue("FCALL", "incrtwo", "1", "counter") == .integer(4))
            _ = try c.callValue("SAVE")
        }
        for flavour in [ServerFlavour.tandem, .redis] {
            let again = try ServerProcess.start(flavour, dir: dir)
            defer { again.stop() }
            let c = try again.connect()
            #expect(try Self.list(c) == expected, "\(flavour) loading Tandem's dump")
            #expect(try c.callValue("FCALL_RO", "peek", "1", "counter") == .bulk(Array("4".utf8)), "\(flavour)")
        }
    }

    /// redis-server's dump with libraries loads into Tandem.
    @Test func redisDumpLoadsIntoTandem() throws {
        let dir = try Harness.makeTempDir("tandem-itest-fn-redis")
        defer { Harness.removeDir(dir) }
        var expected = RESPValue.null
        do {
            let redis = try ServerProcess.start(.redis, dir: dir)
            defer { redis.stop() }
            let c = try redis.connect()
            _ = try c.callValue("FUNCTION", "LOAD", Self.libraryA)
            _ = try c.callValue("FUNCTION", "LOAD", Self.libraryB)
            expected = try Self.list(c)
            _ = try c.callValue("SAVE")
        }
        let tandem = try ServerProcess.start(.tandem, dir: dir)
        defer { tandem.stop() }
        let c = try tandem.connect()
        #expect(try Self.list(c) == expected)
        #expect(try c.callValue("FCALL", "push", "1", "l", "x", "y") == .integer(2))
    }

    /// FUNCTION DUMP payloads restore across the two servers, both ways.
    @Test func dumpPayloadsTravelBothWays() throws {
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let r = try redis.connect()
        let t = try tandem.connect()
        for (from, to, what) in [(r, t, "redis -> tandem"), (t, r, "tandem -> redis")] {
            _ = try from.callValue("FUNCTION", "FLUSH")
            _ = try to.callValue("FUNCTION", "FLUSH")
            _ = try from.callValue("FUNCTION", "LOAD", Self.libraryA)
            _ = try from.callValue("FUNCTION", "LOAD", Self.libraryB)
            guard case .bulk(let bytes) = try from.callValue("FUNCTION", "DUMP") else {
                Issue.record("\(what): no payload")
                continue
            }
            #expect(try to.callValue(bytes: [Array("FUNCTION".utf8), Array("RESTORE".utf8), bytes]) == .simple("OK"), "\(what)")
            #expect(try Self.list(to) == Self.list(from), "\(what)")
        }
    }
}
