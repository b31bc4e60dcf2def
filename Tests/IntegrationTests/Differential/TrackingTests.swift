/*
 * TrackingTests.swift — client-side caching (CLIENT TRACKING) against redis-server (issue 14).
 *
 * The same workload runs on both servers with five connections:
 *   0  RESP3, tracking in the default mode (invalidations as push frames on its own connection)
 *   1  RESP2, the writer (no tracking)
 *   2  RESP3, BCAST with the prefixes "user:" and "cfg:" and NOLOOP
 *   3  RESP2, subscribed to __redis__:invalidate: the redirection target of 4
 *   4  RESP2, tracking with REDIRECT to 3 and OPTIN (CLIENT CACHING yes before a read)
 * After each step every listening connection is pinged and everything it received before the
 * PONG is recorded, so a step's replies and the invalidations it caused (and where, and in
 * which order relative to the reply) are compared with redis-server's, step by step.
 */

import Foundation
import Testing

@Suite struct TrackingTests {
    typealias Step = (connection: Int, command: [String])

    static let workload: [Step] = [
        (0, ["GET", "a"]), (0, ["MGET", "b", "c"]), (1, ["SET", "a", "1"]), (1, ["SET", "a", "2"]),
        (0, ["GET", "a"]), (0, ["SET", "a", "3"]), (0, ["GET", "a"]), (1, ["DEL", "a", "b"]),
        (0, ["HGETALL", "h"]), (1, ["HSET", "h", "f", "v"]), (0, ["HGET", "h", "f"]), (0, ["HDEL", "h", "f"]),
        (1, ["SET", "user:1", "x"]), (1, ["MSET", "user:2", "y", "cfg:a", "z", "other", "w"]),
        (2, ["SET", "user:3", "own"]), (2, ["GET", "user:1"]),
        (4, ["GET", "k"]), (1, ["SET", "k", "1"]), (4, ["CLIENT", "CACHING", "yes"]), (4, ["GET", "k"]),
        (1, ["SET", "k", "2"]), (4, ["CLIENT", "CACHING", "yes"]), (4, ["PING"]), (4, ["GET", "k"]), (1, ["SET", "k", "3"]),
        (0, ["LRANGE", "l", "0", "-1"]), (0, ["ZRANGE", "z", "0", "-1"]), (1, ["MULTI"]), (1, ["RPUSH", "l", "x"]),
        (1, ["ZADD", "z", "1", "m"]), (1, ["EXEC"]),
        (0, ["GET", "s"]), (1, ["EVAL", "redis.call('set', KEYS[1], 'v'); return 1", "1", "s"]),
        (0, ["EVAL", "return redis.call('get', KEYS[1])", "1", "e"]), (1, ["SET", "e", "1"]),
        (0, ["GET", "x"]), (1, ["SET", "x", "1", "PX", "1"]), (0, ["CLIENT", "TRACKINGINFO"]),
        (2, ["CLIENT", "TRACKINGINFO"]), (4, ["CLIENT", "TRACKINGINFO"]), (4, ["CLIENT", "GETREDIR"]),
        (0, ["GET", "f1"]), (1, ["FLUSHDB"]), (1, ["SET", "user:9", "1"]), (0, ["GET", "f2"]), (0, ["FLUSHALL"]),
        (0, ["CLIENT", "TRACKING", "on", "PREFIX", "x"]), (0, ["CLIENT", "TRACKING", "on", "BCAST"]),
        (0, ["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"]), (0, ["CLIENT", "TRACKING", "on", "OPTOUT"]),
        (0, ["CLIENT", "TRACKING", "on", "REDIRECT", "999999"]), (0, ["CLIENT", "TRACKING", "maybe"]),
        (0, ["CLIENT", "CACHING", "yes"]), (1, ["CLIENT", "CACHING", "yes"]), (1, ["CLIENT", "GETREDIR"]),
        (1, ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "abc"]),
        (2, ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:x"]), (0, ["CLIENT", "TRACKING", "off"]),
        (0, ["CLIENT", "TRACKINGINFO"]), (1, ["SET", "user:10", "1"]),
    ]

    @Test func invalidationsAsRedis() throws {
        let tandem = try Self.transcript(.tandem)
        let redis = try Self.transcript(.redis)
        if ProcessInfo.processInfo.environment["ITEST_TRANSCRIPT"] != nil { for l in redis { print(l) } }
        var mismatches = 0
        for (i, step) in Self.workload.enumerated() where tandem[i] != redis[i] {
            mismatches += 1
            Issue.record("""
                step \(i + 1): [\(step.connection)] \(step.command.joined(separator: " "))
                  tandem: \(tandem[i])
                  redis:  \(redis[i])
                """)
            if mismatches >= 8 { return }
        }
    }

    /// For each step: the command's reply, then what each listening connection received.
    static func transcript(_ flavour: ServerFlavour) throws -> [String] {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        var conns: [RawClient] = []
        for _ in 0..<5 { conns.append(try server.connect()) }
        for i in [0, 2] { _ = try conns[i].call(["HELLO", "3"]) }
        _ = try conns[0].call(["CLIENT", "TRACKING", "on"])
        _ = try conns[2].call(["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "cfg:", "NOLOOP"])
        guard case .integer(let target) = try conns[3].callValue(["CLIENT", "ID"]) else { return [] }
        _ = try conns[3].call(["SUBSCRIBE", "__redis__:invalidate"])
        _ = try conns[4].call(["CLIENT", "TRACKING", "on", "REDIRECT", String(target), "OPTIN"])
        var out: [String] = []
        for step in workload {
            let reply = try conns[step.connection].call(step.command)
            // The redirection target's ID differs between the servers.
            var line = RESP.escape(reply).replacingOccurrences(of: ":\(target)\\r\\n", with: ":<id>\\r\\n")
            if step.command.first == "SET", step.command.contains("PX") { Harness.sleep(milliseconds: 20) }
            for listener in [0, 2, 3] {  // 4 is RESP2: its messages go to 3; a PING would end its CLIENT CACHING
                let frames = try drain(conns[listener])
                if !frames.isEmpty { line += "  [\(listener)] " + frames.joined(separator: " ") }
            }
            out.append(line)
        }
        return out
    }

    /// Pings `c` and returns the frames that arrived before the PONG.
    static func drain(_ c: RawClient) throws -> [String] {
        try c.send(["PING"])
        var frames: [String] = []
        while true {
            let frame = try c.readReply()
            if frame == Array("+PONG\r\n".utf8) || frame == Array("*2\r\n$4\r\npong\r\n$0\r\n\r\n".utf8) { return frames }
            frames.append(RESP.escape(frame))
        }
    }
}
