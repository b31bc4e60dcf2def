/*
 * PropagationTests.swift — the replication stream carries effects, not commands (see
 * docs/dev/propagation.md). A workload full of non-deterministic and relative-time commands (SPOP, SET EX,
 * EXPIRE, GETEX, INCRBYFLOAT, HINCRBYFLOAT, blocking pops served by another connection, MULTI/EXEC, SELECT,
 * lazily expired keys) runs on Tandem with the stream recorded (`DEBUG REPLSTREAM START|READ`); the recorded
 * stream is then replayed into a fresh Debian redis-server, and both datasets must have the same DEBUG DIGEST.
 * The stream is also checked for the rewritten forms themselves.
 */

import Foundation
import Testing

@Suite(.serialized) struct PropagationTests {
    @Test func replayingTheStreamIntoRedisGivesTheSameDataset() throws {
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let c = try tandem.connect()
        let other = try tandem.connect()
        _ = try c.call("DEBUG", "REPLSTREAM", "START")

        var rng = SplitMix(seed: 20241125)
        _ = try c.call("SET", "gone", "x", "PX", "50")
        for i in 0..<300 {
            let k = "k\(rng.next() % 20)"
            switch rng.next() % 14 {
            case 0: _ = try c.call("SADD", "set\(i % 3)", "a\(rng.next() % 30)", "b\(rng.next() % 30)", "\(rng.next() % 50)")
            case 1: _ = try c.call("SPOP", "set\(i % 3)")
            case 2: _ = try c.call("SPOP", "set\(i % 3)", "\(rng.next() % 4)")
            case 3: _ = try c.call("SET", k, "v\(i)", "EX", "\(1000 + rng.next() % 1000)")
            case 4: _ = try c.call("EXPIRE", k, "\(5000 + rng.next() % 100)")
            case 5: _ = try c.call("INCRBYFLOAT", "f\(rng.next() % 3)", "1.\(rng.next() % 10)")
            case 6: _ = try c.call("HINCRBYFLOAT", "h", "f\(rng.next() % 3)", "0.25")
            case 7: _ = try c.call("GETEX", k, "PX", "\(900000 + rng.next() % 1000)")
            case 8: _ = try c.call("GETEX", k, "PERSIST")
            case 9: _ = try c.call("RPUSH", "list", "e\(i)")
            case 10: _ = try c.call("SELECT", "\(rng.next() % 3)")
            case 11: _ = try c.call("ZADD", "z", "\(rng.next() % 100)", "m\(rng.next() % 10)")
            case 12:
                _ = try c.call("MULTI")
                _ = try c.call("INCR", "counter")
                _ = try c.call("SPOP", "set\(i % 3)")
                _ = try c.call("GETDEL", k)
                _ = try c.call("EXEC")
            default: _ = try c.call("SET", k, "plain\(i)")
            }
        }
        // A blocked pop served by a push from another connection.
        _ = try c.call("SELECT", "0")
        try c.send(["BLPOP", "waitq", "0"])
        Thread.sleep(forTimeInterval: 0.1)
        _ = try other.call("RPUSH", "waitq", "one", "two")
        _ = try c.readReply()
        try c.send(["BZPOPMIN", "waitz", "0"])
        Thread.sleep(forTimeInterval: 0.1)
        _ = try other.call("ZADD", "waitz", "1", "a", "2", "b")
        _ = try c.readReply()
        // A key that expired meanwhile is deleted (and propagated as DEL) when touched.
        _ = try c.call("GET", "gone")

        guard case .bulk(let stream) = try c.callValue("DEBUG", "REPLSTREAM", "READ") else {
            Issue.record("DEBUG REPLSTREAM READ did not return a bulk string")
            return
        }
        let text = String(decoding: stream, as: UTF8.self)
        for form in ["PXAT", "PEXPIREAT", "SREM", "KEEPTTL", "LPOP", "ZPOPMIN", "MULTI", "EXEC", "DEL"] {
            #expect(text.contains(form), "stream lacks \(form)")
        }
        for raw in ["SPOP", "INCRBYFLOAT", "HINCRBYFLOAT", "GETEX", "GETDEL", "BLPOP", "BZPOPMIN"] {
            #expect(!text.contains("$\(raw.count)\r\n\(raw)\r\n"), "stream still carries \(raw)")
        }

        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        let r = try redis.connect()
        try r.send(["CLIENT", "REPLY", "OFF"])
        try r.sendRaw(stream)
        try r.send(["CLIENT", "REPLY", "ON"])
        #expect(try r.readReply() == Array("+OK\r\n".utf8))
        let tandemDigest = try c.call("DEBUG", "DIGEST")
        let redisDigest = try r.call("DEBUG", "DIGEST")
        #expect(tandemDigest == redisDigest, "digest after replay differs")
        #expect(tandemDigest != Array("+0000000000000000000000000000000000000000\r\n".utf8))
    }
}

/// A tiny deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
