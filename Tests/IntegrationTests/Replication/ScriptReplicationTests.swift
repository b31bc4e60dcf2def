/*
 * ScriptReplicationTests.swift — scripts replicate by their effects (issue 13). A Tandem master
 * with a redis-server replica and a Tandem replica, and a redis-server master with a Tandem
 * replica, run a script-heavy workload (several writes per script, random commands inside
 * scripts, SELECT inside scripts, scripts that fail after writing, EVALSHA, EVAL inside MULTI);
 * every replica must converge to the master's DEBUG DIGEST and key-by-key dump.
 *
 * Also busy scripts on a Tandem server: other clients get -BUSY past busy-reply-threshold,
 * SCRIPT KILL stops a script that has not written, a script that wrote is UNKILLABLE, and
 * SHUTDOWN NOSAVE ends the server anyway — the replies compared with redis-server's.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ScriptReplicationTests {
    static let multiWrite = """
        redis.call('set', KEYS[1], ARGV[1])
        redis.call('rpush', KEYS[2], ARGV[1], ARGV[2])
        redis.call('hincrby', KEYS[3], 'calls', 1)
        return redis.call('llen', KEYS[2])
        """

    static func workload(_ c: RawClient, round: Int) throws {
        let sha = try c.callValue("SCRIPT", "LOAD", Self.multiWrite)
        guard case .bulk(let shaBytes) = sha else { throw HarnessError.system("SCRIPT LOAD replied \(sha)") }
        let shaText = String(decoding: shaBytes, as: UTF8.self)
        for i in 0..<300 {
            let k = (i * 7 + round * 13) % 41
            switch i % 8 {
            case 0: _ = try c.call("EVAL", Self.multiWrite, "3", "s:\(k)", "l:\(k % 5)", "h:\(k % 3)", "v\(i)", "\(round)")
            case 1: _ = try c.call("EVALSHA", shaText, "3", "s:\(k)", "l:\(k % 5)", "h:\(k % 3)", "w\(i)", "x")
            case 2:
                // Random inside a script: SPOP and SRANDMEMBER must replicate as their effects.
                _ = try c.call("SADD", "set:\(k % 4)", "a\(i)", "b\(i)", "c\(i)")
                _ = try c.call("EVAL", "local m = redis.call('spop', KEYS[1]) if m then redis.call('sadd', KEYS[2], m) end return m",
                               "2", "set:\(k % 4)", "moved")
            case 3:
                // A script that fails after a write: the write stays and replicates.
                _ = try c.call("EVAL", "redis.call('incr', KEYS[1]) redis.call('nosuchcommand')", "1", "n:\(k % 6)")
            case 4:
                // SELECT inside a script: the writes go to the other database.
                _ = try c.call("EVAL", "redis.call('select', 7) redis.call('set', KEYS[1], ARGV[1]) return 1",
                               "1", "in7:\(k)", "\(i)")
            case 5:
                _ = try c.call("MULTI")
                _ = try c.call("EVAL", "return redis.call('incrby', KEYS[1], 5)", "1", "tx")
                _ = try c.call("SET", "after-eval", "\(i)")
                _ = try c.call("EXEC")
            case 6:
                // Time inside a script, with an expire.
                _ = try c.call("EVAL", "redis.call('set', KEYS[1], 'x', 'EX', 1000) return redis.call('ttl', KEYS[1])",
                               "1", "ttl:\(k)")
            default:
                _ = try c.call("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "s:\(k)")
            }
        }
    }

    @Test func tandemMasterWithRedisAndTandemReplicas() throws {
        let master = try ServerProcess.start(.tandem)
        defer { master.stop() }
        let m = try master.connect()
        try Self.workload(m, round: 0)
        let redisReplica = try ServerProcess.start(.redis, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { redisReplica.stop() }
        let tandemReplica = try ServerProcess.start(.tandem, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { tandemReplica.stop() }
        try Self.workload(m, round: 1)
        try RedisReplicaTests.expectConverged(master: m, replica: try redisReplica.connect(), "redis-server replica")
        try RedisReplicaTests.expectConverged(master: m, replica: try tandemReplica.connect(), "tandem replica")
    }

    @Test func redisMasterWithTandemReplica() throws {
        let master = try ServerProcess.start(.redis)
        defer { master.stop() }
        let replica = try ServerProcess.start(.tandem, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        let m = try master.connect()
        try Self.workload(m, round: 0)
        try RedisReplicaTests.expectConverged(master: m, replica: try replica.connect(), "tandem replica of redis-server")
    }

    /// The same busy-script sequence on both servers, replies compared.
    @Test func busyScriptsAsRedis() throws {
        var outcomes: [[String]] = []
        for flavour in [ServerFlavour.tandem, .redis] {
            let server = try ServerProcess.start(flavour, extraArgs: ["--busy-reply-threshold", "50"])
            defer { server.stop() }
            var seen: [String] = []
            let runner = try server.connect()
            let other = try server.connect()
            func describe(_ v: RESPValue) -> String { "\(v)" }
            // 1. A read-only script that never ends: BUSY, then SCRIPT KILL.
            try runner.send(["EVAL", "while true do end", "0"])
            usleep(300_000)
            seen.append(describe(try other.callValue("PING")))
            seen.append(describe(try other.callValue("GET", "x")))
            seen.append(describe(try other.callValue("SCRIPT", "KILL")))
            seen.append(describe(try runner.readValue()))
            seen.append(describe(try other.callValue("PING")))
            // 2. A script that wrote: UNKILLABLE; SHUTDOWN without NOSAVE refused; SHUTDOWN NOSAVE.
            try runner.send(["EVAL", "redis.call('set', 'x', 'y') while true do end", "0"])
            usleep(300_000)
            seen.append(describe(try other.callValue("PING")))
            seen.append(describe(try other.callValue("SCRIPT", "KILL")))
            try other.send(["SHUTDOWN", "NOSAVE"])
            let gone = server.waitForExit(milliseconds: 5000)
            seen.append("stopped: \(gone)")
            outcomes.append(seen)
        }
        #expect(outcomes[0] == outcomes[1], "tandem \(outcomes[0])\nredis  \(outcomes[1])")
    }
}
