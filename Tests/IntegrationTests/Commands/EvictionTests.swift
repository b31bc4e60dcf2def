/*
 * EvictionTests.swift — maxmemory (issue 14, first part): the OOM refusals as redis-server words
 * them (denyoom commands, MULTI, EXEC, scripts and functions with and without allow-oom), the
 * policies keeping memory under the limit and choosing as they should (LRU keeps what was used
 * last, LFU what is used most, volatile-* only keys with a TTL), evictions reaching replicas as
 * DELs, and a replica that never evicts on its own.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct EvictionTests {
    static func eval(_ body: String, _ args: String...) -> Step { Step(.command(["EVAL", body] + args)) }

    static let refusals = Script("maxmemory-refusals", [
        ["SET", "a", "1"],
        ["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('w', function() return redis.call('set', 'fw', 1) end)\n"
            + "redis.register_function{function_name='wo', callback=function() return redis.call('set', 'fo', 1) end, flags={'allow-oom'}}\n"
            + "redis.register_function{function_name='r', callback=function() return redis.call('get', 'a') end, flags={'no-writes'}}"],
        ["CONFIG", "SET", "maxmemory", "1"],
        ["SET", "b", "1"],
        ["GET", "a"],
        ["INCR", "a"],
        ["DEL", "a"],
        ["SET", "a", "1"],
        ["MULTI"],
        ["GET", "a"],
        ["EXEC"],
        ["CONFIG", "SET", "maxmemory", "0"],
        ["MULTI"],
        ["SET", "m", "1"],
        ["GET", "m"],
        ["CONFIG", "SET", "maxmemory", "1"],
        ["EXEC"],
        eval("return redis.call('set', 'e', 1)", "0"),
        eval("return redis.call('get', 'e')", "0"),
        eval("#!lua flags=allow-oom\nreturn redis.call('set', 'e', 1)", "0"),
        eval("#!lua\nreturn redis.call('set', 'e2', 1)", "0"),
        eval("#!lua flags=no-writes\nreturn redis.call('get', 'e')", "0"),
        ["FCALL", "w", "0"],
        ["FCALL", "wo", "0"],
        ["FCALL", "r", "0"],
        ["CONFIG", "SET", "maxmemory", "0"],
        ["SET", "b", "1"],
        .probe("INFO errorstats OOM") { c in
            .simple(try InfoReply.fetch(c, "errorstats")["errorstat_OOM"] ?? "none")
        },
    ])

    @Test func oomRefusalsAsRedis() throws {
        try Differential.run(Self.refusals)
    }

    static func used(_ c: RawClient) throws -> Int {
        Int(try InfoReply.fetch(c, "memory")["used_memory"] ?? "0") ?? 0
    }

    /// Fills past maxmemory under each policy: memory stays near the limit and the keys that go
    /// are the ones the policy names.
    @Test(arguments: ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-ttl"])
    func policiesKeepMemoryUnderTheLimit(_ policy: String) throws {
        let server = try ServerProcess.start(.tandem, extraArgs: ["--maxmemory-policy", policy])
        defer { server.stop() }
        let c = try server.connect()
        let limit = try Self.used(c) + 4_000_000
        _ = try c.callValue("CONFIG", "SET", "maxmemory", String(limit))
        let value = String(repeating: "v", count: 200)
        // The keys to keep: used often (LRU, LFU), without a TTL (volatile-*), or with the longest TTL.
        for i in 0..<200 { _ = try c.callValue("SET", "keep:\(i)", value) }
        if policy == "volatile-ttl" {
            for i in 0..<200 { _ = try c.callValue("EXPIRE", "keep:\(i)", "100000") }
        }
        sleep(2)  // the LRU clock counts seconds
        for round in 0..<20 {
            for i in 0..<200 { _ = try c.callValue("GET", "keep:\(i)") }
            for j in 0..<1000 {
                let k = "fill:\(round):\(j)"
                if policy.hasPrefix("volatile") {
                    _ = try c.callValue("SET", k, value, "EX", policy == "volatile-ttl" ? "1000" : "100000")
                } else {
                    _ = try c.callValue("SET", k, value)
                }
            }
        }
        let info = try InfoReply.fetch(c, "stats", "memory")
        let evicted = Int(info["evicted_keys"] ?? "0") ?? 0
        #expect(evicted > 1000, "\(policy): evicted \(evicted)")
        let usedNow = try Self.used(c)
        #expect(usedNow <= limit + 1_000_000, "\(policy): used \(usedNow) of \(limit)")
        var kept = 0
        for i in 0..<200 where try c.callValue("EXISTS", "keep:\(i)") == .integer(1) { kept += 1 }
        // Most of them: the LRU clock counts whole seconds, so keys touched in the same second
        // as the fill tie with it, and a loaded machine (the whole suite in parallel) puts more
        // of the fill in the keys' seconds (170 of 200 seen there; 195+ alone).
        if policy != "allkeys-random" {
            #expect(kept >= 150, "\(policy): \(kept) of the 200 keys to keep are left")
        }
    }

    @Test func noevictionStopsWritesButNotReads() throws {
        let server = try ServerProcess.start(.tandem)
        defer { server.stop() }
        let c = try server.connect()
        _ = try c.callValue("SET", "k", "v")
        _ = try c.callValue("CONFIG", "SET", "maxmemory", String(try Self.used(c) - 1000))
        #expect(try c.callValue("SET", "k2", "v") == .error("OOM command not allowed when used memory > 'maxmemory'."))
        #expect(try c.callValue("GET", "k") == .bulk(Array("v".utf8)))
        #expect(try c.callValue("DBSIZE") == .integer(1))
    }

    /// A master evicting with a Tandem and a redis-server replica: the evictions arrive as DELs and
    /// all three end equal; a replica with a lower maxmemory of its own does not evict.
    @Test func evictionsReachReplicasAndReplicasDoNotEvict() throws {
        let master = try ServerProcess.start(.tandem, extraArgs: ["--maxmemory-policy", "allkeys-lru"])
        defer { master.stop() }
        let m = try master.connect()
        let replicas = try [ServerFlavour.tandem, .redis].map {
            try ServerProcess.start($0, extraArgs: ["--replicaof", "127.0.0.1", String(master.port), "--maxmemory", "1000000",
                                                    "--maxmemory-policy", "allkeys-lru"])
        }
        defer { replicas.forEach { $0.stop() } }
        let clients = try replicas.map { try $0.connect() }
        for r in clients {
            #expect(Harness.waitUntil(milliseconds: 10_000) {
                (try? InfoReply.fetch(r, "replication")["master_link_status"]) == "up"
            })
        }
        _ = try m.callValue("CONFIG", "SET", "maxmemory", String(try Self.used(m) + 3_000_000))
        let value = String(repeating: "x", count: 500)
        for i in 0..<20_000 { _ = try m.callValue("SET", "k:\(i)", value) }
        #expect(Int(try InfoReply.fetch(m, "stats")["evicted_keys"] ?? "0") ?? 0 > 0)
        // Stop evicting before comparing: the comparison's own replies count as memory and would
        // make the master evict on under it.
        _ = try m.callValue("CONFIG", "SET", "maxmemory", "0")
        for (r, name) in zip(clients, ["tandem replica", "redis-server replica"]) {
            try RedisReplicaTests.expectConverged(master: m, replica: r, name)
        }
        // The Tandem replica's own maxmemory (1 MB) is far below its dataset: it evicted nothing.
        #expect(try InfoReply.fetch(clients[0], "stats")["evicted_keys"] == "0")
    }

    /// RESTORE IDLETIME / FREQ set the field the policy uses, and the RDB carries it (IDLE and
    /// FREQ opcodes) through DEBUG RELOAD and across Tandem and redis-server files, both ways.
    @Test(arguments: ["allkeys-lru", "allkeys-lfu"])
    func lruAndLfuFieldsTravelInTheRDB(_ policy: String) throws {
        let lfu = policy.hasSuffix("lfu")
        func check(_ c: RawClient, _ what: String) throws {
            let v = try c.callValue("OBJECT", lfu ? "FREQ" : "IDLETIME", "k")
            guard case .integer(let n) = v else {
                Issue.record("\(what): \(v)")
                return
            }
            if lfu { #expect(n == 100, "\(what): freq \(n)") } else { #expect(n >= 1000 && n < 1100, "\(what): idle \(n)") }
        }
        for (first, second) in [(ServerFlavour.tandem, ServerFlavour.redis), (.redis, .tandem)] {
            let dir = try Harness.makeTempDir("tandem-itest-lru")
            defer { Harness.removeDir(dir) }
            do {
                let a = try ServerProcess.start(first, extraArgs: ["--maxmemory-policy", policy, "--enable-debug-command", "yes"], dir: dir)
                defer { a.stop() }
                let c = try a.connect()
                _ = try c.callValue("SET", "src", "value")
                guard case .bulk(let payload) = try c.callValue("DUMP", "src") else { throw HarnessError.system("DUMP") }
                let option = lfu ? ["FREQ", "100"] : ["IDLETIME", "1000"]
                _ = try c.callValue(bytes: [Array("RESTORE".utf8), Array("k".utf8), Array("0".utf8), payload] + option.map { Array($0.utf8) })
                try check(c, "\(first) after RESTORE")
                _ = try c.callValue("DEBUG", "RELOAD")
                try check(c, "\(first) after DEBUG RELOAD")
                _ = try c.callValue("SAVE")
            }
            let b = try ServerProcess.start(second, extraArgs: ["--maxmemory-policy", policy], dir: dir)
            defer { b.stop() }
            try check(try b.connect(), "\(second) loading \(first)'s dump")
        }
    }
}
