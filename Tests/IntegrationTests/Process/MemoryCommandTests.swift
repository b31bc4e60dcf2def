/*
 * MemoryCommandTests.swift — MEMORY USAGE / STATS / DOCTOR / PURGE / HELP on Tandem and on redis-server:
 * the same replies where they are Redis's words, and sizes of the same order (Tandem's allocator and
 * value layouts differ, so bytes are compared within a factor, not exactly).
 */

import Foundation
import Testing

@Suite struct MemoryCommandTests {
    static func integer(_ c: RawClient, _ args: String...) throws -> Int64? {
        if case .integer(let v) = try c.callValue(args) { return v }
        return nil
    }

    @Test func usageIsOfRedisOrderForEveryEncoding() throws {
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        var sizes: [String: [Int64]] = [:]
        for server in [redis, tandem] {
            let c = try server.connect()
            _ = try c.call("SET", "s", String(repeating: "x", count: 1000))
            _ = try c.call("HSET", "hl", "a", "1", "b", "2")
            for i in 0..<600 { _ = try c.call("HSET", "ht", "field\(i)", "value\(i)") }
            for i in 0..<3000 { _ = try c.call("RPUSH", "l", "element-\(i)") }
            for i in 0..<300 { _ = try c.call("ZADD", "z", "\(i)", "member-\(i)") }
            _ = try c.call("SADD", "si", "1", "2", "3")
            for key in ["s", "hl", "ht", "l", "z", "si"] {
                let v = try Self.integer(c, "MEMORY", "USAGE", key, "SAMPLES", "0")
                #expect(v != nil && v! > 0, "\(server.flavour) \(key)")
                sizes[key, default: []].append(v ?? 0)
                #expect((try Self.integer(c, "MEMORY", "USAGE", key)) ?? 0 > 0)
            }
            #expect(try c.callValue("MEMORY", "USAGE", "missing") == .nullBulk)
            #expect(String(decoding: try c.call("MEMORY", "USAGE", "s", "SAMPLES", "-1"), as: UTF8.self) == "-ERR syntax error\r\n")
            #expect(String(decoding: try c.call("MEMORY", "USAGE", "s", "SAMPLES", "x"), as: UTF8.self)
                == "-ERR value is not an integer or out of range\r\n")
            #expect(String(decoding: try c.call("MEMORY", "USAGE", "s", "FOO"), as: UTF8.self) == "-ERR syntax error\r\n")
            #expect(String(decoding: try c.call("MEMORY", "PURGE"), as: UTF8.self) == "+OK\r\n")
        }
        for (key, v) in sizes where v.count == 2 {
            #expect(v[1] * 4 > v[0] && v[1] < v[0] * 4, "\(key): redis-server \(v[0]) B, Tandem \(v[1]) B")
        }
    }

    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func statsDoctorAndHelp(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect()
        let doctor = String(decoding: try c.call("MEMORY", "DOCTOR"), as: UTF8.self)
        #expect(doctor.contains("Hi Sam, this instance is empty or is using very little memory"), "\(flavour): \(doctor)")
        let help = String(decoding: try c.call("MEMORY", "HELP"), as: UTF8.self)
        #expect(help.contains("USAGE <key> [SAMPLES <count>]"), "\(flavour)")
        _ = try c.call("SET", "k", "v")
        guard case .array(let items) = try c.callValue("MEMORY", "STATS") else {
            Issue.record("\(flavour): MEMORY STATS is not an array")
            return
        }
        let names = stride(from: 0, to: items.count, by: 2).compactMap { i -> String? in
            if case .bulk(let b) = items[i] { return String(decoding: b, as: UTF8.self) }
            return nil
        }
        for name in ["peak.allocated", "total.allocated", "startup.allocated", "replication.backlog", "clients.slaves",
                     "clients.normal", "aof.buffer", "db.0", "overhead.total", "keys.count", "keys.bytes-per-key",
                     "dataset.bytes", "dataset.percentage", "peak.percentage"] {
            #expect(names.contains(name), "\(flavour): \(name) missing from \(names)")
        }
    }
}
