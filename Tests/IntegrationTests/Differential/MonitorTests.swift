/*
 * MonitorTests.swift — MONITOR compared between Tandem and redis-server.
 *
 * One connection runs MONITOR, another sends a fixed list of commands ending with a marker. The monitor's
 * lines look like `+1700000000.123456 [0 127.0.0.1:54321] "SET" "k" "v"`; the timestamp and the client
 * port differ between servers, so each line is normalised to `[<db> 127.0.0.1:*] <args>` after checking
 * the timestamp's shape, and the two lists of normalised lines must be equal. Which commands appear at all
 * (admin commands, failed commands, AUTH redaction) is part of what is compared.
 */

import Foundation
import Testing

@Suite struct MonitorTests {
    /// Commands sent by the second connection while the first monitors.
    static let commands: [[String]] = [
        ["SET", "k", "v"],
        ["GET", "k"],
        ["SET", "bin", "a\u{0}b\r\n\"q\" \\ \u{7f}"],
        ["ECHO", "two words"],
        ["SELECT", "2"],
        ["INCR", "n"],
        ["GET"],
        ["NOSUCHCOMMAND", "x"],
        ["CONFIG", "GET", "hz"],
        ["DEBUG", "SLEEP", "0"],
        ["AUTH", "x"],
        ["EXPIRE", "n", "100"],
        ["DEL", "n"],
        ["SELECT", "0"],
        ["MSET", "a", "1", "b", "2"],
        ["ECHO", "end-marker"],
    ]

    @Test func monitorShowsTheSameCommands() throws {
        let tandem = try Self.monitorLines(.tandem)
        let redis = try Self.monitorLines(.redis)
        if ProcessInfo.processInfo.environment["ITEST_TRANSCRIPT"] != nil {
            print("[monitor] redis lines:\n  " + redis.joined(separator: "\n  "))
        }
        #expect(redis.contains("[0 127.0.0.1:*] \"SET\" \"k\" \"v\""), "reference check failed: \(redis)")
        #expect(tandem == redis, """
            MONITOR lines differ
            tandem:
              \(tandem.joined(separator: "\n  "))
            redis:
              \(redis.joined(separator: "\n  "))
            """)
    }

    @Test func monitorReplyAndInlineCommands() throws {
        for flavour in ServerFlavour.allCases {
            let server = try ServerProcess.start(flavour)
            defer { server.stop() }
            let monitor = try server.connect()
            #expect(try monitor.call("MONITOR") == Array("+OK\r\n".utf8), "\(flavour): MONITOR reply")
            let client = try server.connect()
            try client.sendInline("SET inline \"with space\"")
            _ = try client.readReply()
            let line = try Self.normalise(monitor.readValue(), flavour)
            #expect(line == "[0 127.0.0.1:*] \"SET\" \"inline\" \"with space\"", "\(flavour)")
        }
    }

    /// Starts a server of `flavour`, monitors while `commands` run, returns the normalised monitor lines.
    static func monitorLines(_ flavour: ServerFlavour) throws -> [String] {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let monitor = try server.connect()
        let ok = try monitor.call("MONITOR")
        guard ok == Array("+OK\r\n".utf8) else { return ["MONITOR replied \(RESP.pretty(ok))"] }
        let client = try server.connect()
        for command in commands { _ = try client.call(command) }
        var lines: [String] = []
        for _ in 0..<100 {
            let line = try normalise(monitor.readValue(), flavour)
            lines.append(line)
            if line.contains("end-marker") { break }
        }
        return lines
    }

    /// `+<seconds>.<micros> [<db> <addr>] args` → `[<db> 127.0.0.1:*] args`; anything else is returned
    /// with a marker so the comparison shows it.
    static func normalise(_ value: RESPValue, _ flavour: ServerFlavour) throws -> String {
        guard case .simple(let line) = value else { return "NOT A SIMPLE STRING: \(RESP.render(value, indent: ""))" }
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return "BAD LINE: \(line)" }
        let stamp = parts[0].split(separator: ".")
        guard stamp.count == 2, stamp[0].count >= 10, stamp[1].count == 6,
              stamp.allSatisfy({ $0.allSatisfy(\.isNumber) })
        else { return "BAD TIMESTAMP: \(line)" }
        guard parts[1].hasPrefix("["), let db = Int(parts[1].dropFirst()) else { return "BAD DB: \(line)" }
        let rest = parts[2]
        guard rest.hasPrefix("127.0.0.1:"), let close = rest.firstIndex(of: "]") else { return "BAD ADDR: \(line)" }
        guard rest[rest.index(rest.startIndex, offsetBy: 10)..<close].allSatisfy(\.isNumber) else {
            return "BAD PORT: \(line)"
        }
        return "[\(db) 127.0.0.1:*]" + rest[rest.index(after: close)...]
    }
}
