/*
 * StreamDifferentialTests.swift — the replication stream Tandem sends is the one redis-server 7.0 sends,
 * command for command. A raw consumer attaches to each server with SYNC, the same commands run on both,
 * and the two streams (timestamps and SPOP's random members normalized, PING and REPLCONF left out) must
 * be equal: GETSET and SET ... GET as SET, FLUSHDB of an empty db, SWAPDB n n, PUBLISH, MULTI/EXEC only
 * around more than one effect, a write over an expired key as MULTI DEL ... EXEC, LMPOP/ZMPOP as the pops
 * they did, EXPIRE's condition kept, SPOP as one SREM per member; streams: XADD with its ID made explicit
 * and `~` trims made exact, XTRIM likewise, XREADGROUP as XGROUP CREATECONSUMER / XCLAIM ... JUSTID /
 * XGROUP SETID, XCLAIM and XAUTOCLAIM as XCLAIMs, a history read as nothing.
 */

import Foundation
import Testing

@Suite struct StreamDifferentialTests {
    /// The cases, run in order on both servers (each a list of commands; "sleep" pauses 150 ms).
    static let commands: [[String]] = [
        ["SET", "k", "v"], ["GETSET", "k", "w"], ["SET", "k", "x", "GET"], ["SET", "k", "y", "GET", "XX"],
        ["FLUSHDB"], ["FLUSHDB"], ["FLUSHALL"], ["SWAPDB", "0", "0"], ["PUBLISH", "ch", "hello"],
        ["MULTI"], ["SET", "a", "1"], ["GET", "a"], ["EXEC"],
        ["MULTI"], ["SET", "a", "2"], ["INCR", "a"], ["EXEC"],
        ["MULTI"], ["GET", "a"], ["EXEC"],
        ["RPUSH", "l2", "a", "b", "c"], ["LMPOP", "2", "l1", "l2", "LEFT"], ["LMPOP", "2", "l1", "l2", "RIGHT", "COUNT", "5"],
        ["ZADD", "z2", "1", "a", "2", "b", "3", "c"], ["ZMPOP", "2", "z1", "z2", "MIN"],
        ["ZMPOP", "2", "z1", "z2", "MAX", "COUNT", "5"],
        ["RPUSH", "l", "a", "b", "c"], ["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "2"],
        ["SET", "e", "v"], ["EXPIRE", "e", "100", "NX"], ["EXPIRE", "e", "200", "GT"], ["PEXPIRE", "e", "50000", "LT"],
        ["SADD", "s", "a", "b", "c", "d", "e", "f"], ["SPOP", "s", "2"], ["SPOP", "s", "3"],
        ["DEBUG", "SET-ACTIVE-EXPIRE", "0"], ["SET", "t", "v", "PX", "30"], ["SET", "u", "1", "PX", "30"],
        ["RPUSH", "tl", "a"], ["PEXPIRE", "tl", "30"], ["sleep"],
        ["SET", "t", "v2", "KEEPTTL"], ["INCR", "u"], ["LPUSH", "tl", "b"],
        ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
        ["CONFIG", "SET", "stream-node-max-entries", "2"],
        ["XADD", "x", "*", "f", "v"], ["XADD", "x", "MAXLEN", "~", "1", "*", "f", "v"],
        ["XADD", "y", "1-1", "f", "1"], ["XADD", "y", "2-*", "f", "2"], ["XADD", "y", "3", "f", "3"],
        ["XADD", "y", "MAXLEN", "~", "0", "4-0", "f", "4"], ["XADD", "y", "MINID", "~", "4", "5-0", "f", "5"],
        ["XADD", "y", "MAXLEN", "=", "10", "6-0", "f", "6"], ["XTRIM", "y", "MAXLEN", "~", "1"],
        ["XTRIM", "y", "MINID", "~", "0"], ["XTRIM", "y", "MAXLEN", "100"], ["XDEL", "y", "5-0", "99-0"],
        ["XADD", "y", "7-0", "f", "7"], ["XADD", "y", "8-0", "f", "8"],
        ["XGROUP", "CREATE", "y", "g", "0"], ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "y", ">"],
        ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "y", "0"], ["XREADGROUP", "GROUP", "g", "nobody", "STREAMS", "y", ">"],
        ["XREADGROUP", "GROUP", "g", "nobody2", "BLOCK", "10", "STREAMS", "y", ">"], ["XCLAIM", "y", "g", "zed", "0", "99-0"],
        ["XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "y", ">"],
        ["XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "y", ">"],
        ["XCLAIM", "y", "g", "carol", "0", "6-0", "7-0"], ["XCLAIM", "y", "g", "carol", "0", "99-0", "LASTID", "100-0"],
        ["XAUTOCLAIM", "y", "g", "dave", "0", "0", "COUNT", "1"], ["XDEL", "y", "7-0"],
        ["XAUTOCLAIM", "y", "g", "dave", "0", "0"], ["XACK", "y", "g", "6-0", "9-0"],
        ["XGROUP", "SETID", "y", "g", "$"], ["XGROUP", "CREATECONSUMER", "y", "g", "erin"],
        ["XGROUP", "DELCONSUMER", "y", "g", "dave"], ["XSETID", "y", "200-0"], ["XGROUP", "DESTROY", "y", "g"],
        ["XGROUP", "CREATE", "z", "g", "$", "MKSTREAM"],
        ["SET", "__end__", "1"],
    ]

    /// Runs the cases on `flavour` and returns the stream a SYNC consumer saw, normalized.
    static func stream(_ flavour: ServerFlavour) throws -> [String] {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let consumer = try server.connect()
        try consumer.sendRaw(Array("SYNC\r\n".utf8))
        try consumer.skipSyncPayload()
        let c = try server.connect()
        for command in commands {
            if command == ["sleep"] {
                Thread.sleep(forTimeInterval: 0.15)
            } else {
                _ = try c.call(command)
            }
        }
        var seen: [String] = []
        while true {
            guard case .array(let items) = try consumer.readValue() else { continue }
            let words = items.map { item -> String in
                guard case .bulk(let b) = item else { return "?" }
                let s = String(decoding: b, as: UTF8.self)
                if let n = Int64(s), n > 1_000_000_000_000 { return "<ms>" }
                // An auto-generated stream ID: its time varies, and so does its sequence (0 when
                // the millisecond changed between two XADDs, the next number when it did not).
                if let dash = s.firstIndex(of: "-"), let ms = Int64(s[..<dash]), ms > 1_000_000_000_000 {
                    return "<ms>-<seq>"
                }
                return s
            }
            guard let name = words.first?.uppercased(), name != "PING", name != "REPLCONF" else { continue }
            // SPOP's members are random: one SREM per member is what must match.
            seen.append(name == "SREM" ? "SREM \(words[1]) <m>" : words.joined(separator: " "))
            if words == ["SET", "__end__", "1"] { return seen }
        }
    }

    @Test func tandemSendsTheStreamRedisSends() throws {
        let redis = try Self.stream(.redis)
        let tandem = try Self.stream(.tandem)
        #expect(tandem == redis, "\nredis:  \(redis)\ntandem: \(tandem)")
    }
}
