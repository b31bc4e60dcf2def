/*
 * StreamPayloadFuzzTests.swift — corrupt stream payloads never crash tandem-server.
 *
 * Redis's corrupt-dump-fuzzer, aimed at streams and run against Tandem alone: DUMP streams of every
 * shape (many nodes, tombstones, SAMEFIELDS and not, groups with PELs and consumers), flip, overwrite,
 * insert or cut bytes, fix the CRC so the payload reaches the parser, RESTORE it, and when Tandem
 * accepts it run every stream command on the key. The server must answer every command (an error is
 * fine) and still answer PING at the end: Tandem validates payloads fully whatever
 * `sanitize-dump-payload` says, so nothing it accepted can make a later command trap.
 *
 * Seeded (ITEST_SEED_STREAM_FUZZ), ITEST_STREAM_FUZZ_ITERATIONS payloads (default 1500), bounded.
 */

import Foundation
import Testing

@Suite struct StreamPayloadFuzzTests {
    @Test func corruptStreamPayloadsNeverCrash() throws {
        let env = ProcessInfo.processInfo.environment
        var state = env["ITEST_SEED_STREAM_FUZZ"].flatMap { UInt64($0) } ?? 0xC0FF_EE15
        let iterations = env["ITEST_STREAM_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 1500
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let server = try ServerProcess.start(.tandem, extraArgs: ["--stream-node-max-entries", "4"])
        defer { server.stop() }
        let c = try server.connect()
        // Sources: a few streams of different shapes.
        for i in 1...30 {
            _ = try c.call("XADD", "a", "\(i)-\(i % 3)", "f", "\(i)", i % 5 == 0 ? "g" : "f2", String(repeating: "v", count: i))
        }
        _ = try c.call("XDEL", "a", "3-0", "4-1", "9-0")
        _ = try c.call("XGROUP", "CREATE", "a", "grp", "0")
        _ = try c.call("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "6", "STREAMS", "a", ">")
        _ = try c.call("XREADGROUP", "GROUP", "grp", "bob", "COUNT", "3", "STREAMS", "a", ">")
        _ = try c.call("XADD", "b", "5-5", "x", "1")
        _ = try c.call("XGROUP", "CREATE", "e", "g", "$", "MKSTREAM")
        var sources: [[UInt8]] = []
        for key in ["a", "b", "e"] {
            guard case .bulk(let p) = try c.callValue("DUMP", key) else { throw HarnessError.system("no DUMP of \(key)") }
            sources.append(p)
        }
        let traffic: [[String]] = [
            ["XRANGE", "k", "-", "+"], ["XREVRANGE", "k", "+", "-", "COUNT", "5"], ["XLEN", "k"],
            ["XINFO", "STREAM", "k", "FULL"], ["XINFO", "GROUPS", "k"], ["XINFO", "CONSUMERS", "k", "grp"],
            ["XPENDING", "k", "grp"], ["XPENDING", "k", "grp", "-", "+", "10"], ["XADD", "k", "*", "f", "v"],
            ["XADD", "k", "MAXLEN", "~", "3", "*", "f", "v"], ["XDEL", "k", "5-2", "6-0"], ["XTRIM", "k", "MINID", "10"],
            ["XREADGROUP", "GROUP", "grp", "carol", "STREAMS", "k", ">"], ["XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "k", "0"],
            ["XCLAIM", "k", "grp", "dave", "0", "1-1", "2-2", "7-1"], ["XAUTOCLAIM", "k", "grp", "erin", "0", "0"],
            ["XACK", "k", "grp", "1-1", "7-1"], ["XREAD", "STREAMS", "k", "0"], ["XSETID", "k", "999-0"],
            ["XGROUP", "DELCONSUMER", "k", "grp", "alice"], ["DEBUG", "DIGEST-VALUE", "k"], ["DUMP", "k"],
            ["COPY", "k", "k2", "REPLACE"], ["MEMORY", "USAGE", "k"], ["XTRIM", "k", "MAXLEN", "0"],
        ]
        var accepted = 0
        for _ in 0..<iterations {
            var p = sources[Int(next() % UInt64(sources.count))]
            let body = p.count - 10  // keep the version and CRC trailer in place
            switch next() % 4 {
            case 0: p[Int(next() % UInt64(body))] ^= UInt8(1 << (next() % 8))
            case 1:
                for _ in 0..<(1 + next() % 3) { p[Int(next() % UInt64(body))] = UInt8(truncatingIfNeeded: next()) }
            case 2:
                let at = Int(next() % UInt64(body))
                p.insert(contentsOf: (0..<(1 + next() % 4)).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
            default:
                let at = Int(next() % UInt64(body))
                p.removeSubrange(at..<min(body, at + 1 + Int(next() % 4)))
            }
            let payload = RDBFile.withFixedChecksum(p)
            let reply = try c.callValue(bytes: [Array("RESTORE".utf8), Array("k".utf8), Array("0".utf8), payload,
                                                Array("REPLACE".utf8)])
            guard reply == .simple("OK") else { continue }
            accepted += 1
            for command in traffic { _ = try c.callValue(command) }
        }
        #expect(try c.callValue("PING") == .simple("PONG"), "the server must survive every payload")
        #expect(accepted > 0, "no mutated payload was accepted: the fuzzer reached nothing past RESTORE")
    }
}
