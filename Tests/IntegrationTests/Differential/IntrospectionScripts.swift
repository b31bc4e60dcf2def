/*
 * IntrospectionScripts.swift — issue 12's introspection against redis-server: DEBUG PROTOCOL's
 * RESP3 types, shard channels, COMMAND GETKEYS/GETKEYSANDFLAGS/LIST FILTERBY and key specs,
 * CLIENT TRACKINGINFO, LATENCY's replies, INFO errorstats and commandstats on the paths an
 * error takes (inside MULTI, rejected, blocked and unblocked), the packed threshold of lists,
 * RESTORE without checksum validation. Timing-dependent figures (latency values, histogram
 * buckets) are checked on Tandem alone for shape.
 */

import Foundation
import Testing

@Suite struct IntrospectionScripts {
    static let protocolTypes: [String] = [
        "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push", "verbatim",
        "true", "false", "nosuchtype",
    ]

    static let debugProtocol = Script("debug-protocol",
        protocolTypes.map { Step.cmd(.exact, "DEBUG", "PROTOCOL", $0) }
        + [Step.ignore("HELLO", "3")]
        + protocolTypes.map { Step.cmd(.exact, "DEBUG", "PROTOCOL", $0) })

    @Test func debugProtocolRepliesAsRedis() throws {
        try Differential.run(Self.debugProtocol)
    }

    static let shardChannels = Script("shard-channels", [
        .noReply("SSUBSCRIBE", "chan1", "chan2", "chan1"),  // the first confirmation arrives with it
        .read(), .read(),
        .use(1),
        ["SPUBLISH", "chan1", "hello"],
        ["SPUBLISH", "nobody", "hello"],
        ["PUBLISH", "chan1", "not for shard subscribers"],
        .sorted("PUBSUB", "SHARDCHANNELS"),
        ["PUBSUB", "SHARDCHANNELS", "chan2"],
        ["PUBSUB", "SHARDNUMSUB", "chan1", "chan3"],
        ["PUBSUB", "CHANNELS"],
        .use(0),
        .read(),
        ["PING"],
        ["GET", "k"],
        .noReply("SUNSUBSCRIBE", "chan1", "other"),
        .read(),
        .noReply("SUNSUBSCRIBE"),
        ["PING"],
        .use(1),
        ["PUBSUB", "SHARDNUMSUB", "chan1", "chan2"],
        .ignore("HELLO", "3"),
        .noReply("CLIENT", "REPLY", "OFF"),
        .noReply("SSUBSCRIBE", "x"),
        .noReply("SUNSUBSCRIBE", "x"),
        .use(2),
        ["MULTI"],
        ["SSUBSCRIBE", "y"],
        ["EXEC"],
    ])

    @Test func shardChannelsBehaveAsRedis() throws {
        try Differential.run(Self.shardChannels)
    }

    static let commandKeys = Script("command-keys", [
        ["COMMAND", "GETKEYS", "SET", "a", "b"],
        ["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
        ["COMMAND", "GETKEYS", "ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"],
        ["COMMAND", "GETKEYS", "ZUNION", "2", "a", "b"],
        ["COMMAND", "GETKEYS", "ZUNION", "5", "a", "b"],
        ["COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"],
        ["COMMAND", "GETKEYS", "BLMPOP", "0", "1", "a", "LEFT"],
        ["COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b"],
        ["COMMAND", "GETKEYS", "SORT", "a", "BY", "w_*", "LIMIT", "0", "1", "GET", "#", "STORE", "dst"],
        ["COMMAND", "GETKEYS", "PING"],
        ["COMMAND", "GETKEYS", "NOSUCH"],
        ["COMMAND", "GETKEYS", "GET"],
        ["COMMAND", "GETKEYS", "SSUBSCRIBE", "a", "b"],
        ["COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b"],
        ["COMMAND", "GETKEYSANDFLAGS", "GET", "a"],
        ["COMMAND", "GETKEYSANDFLAGS", "DEL", "a", "b"],
        ["COMMAND", "GETKEYSANDFLAGS", "LPUSH", "a", "b"],
        ["COMMAND", "GETKEYSANDFLAGS", "RENAME", "a", "b"],
        ["COMMAND", "GETKEYSANDFLAGS", "ZUNIONSTORE", "dst", "2", "a", "b"],
        .sorted("COMMAND", "LIST", "FILTERBY", "PATTERN", "hs*"),
        .sorted("COMMAND", "LIST", "FILTERBY", "PATTERN", "lm*"),
        ["COMMAND", "LIST", "FILTERBY", "MODULE", "nosuchmodule"],
        .errorPrefix("COMMAND", "LIST", "FILTERBY", "NOSUCH", "x"),
        .probe("key specs of MSET, GET, ZUNIONSTORE, LMPOP, BLMPOP") { c in
            try IntrospectionScripts.keySpecs(c, ["mset", "get", "zunionstore", "lmpop", "blmpop", "rename", "sunionstore", "lpush"])
        },
    ])

    @Test func commandKeysAsRedis() throws {
        try Differential.run(Self.commandKeys)
    }

    /// Element 8 of each COMMAND INFO entry: the key specifications.
    static func keySpecs(_ c: RawClient, _ names: [String]) throws -> RESPValue {
        let info = try c.callValue(["COMMAND", "INFO"] + names)
        return .array((info.elements ?? []).map { $0.elements?[8] ?? .null })
    }

    static let clientAndLatency = Script("client-and-latency", [
        ["CLIENT", "TRACKINGINFO"],
        ["CLIENT", "GETREDIR"],
        .ignore("HELLO", "3"),
        ["CLIENT", "TRACKINGINFO"],
        .ignore("HELLO", "2"),
        ["LATENCY", "HISTORY", "blabla"],
        ["LATENCY", "RESET", "blabla"],
        ["LATENCY", "GRAPH", "blabla"],
        ["LATENCY", "HELP", "xxx"],
        ["LATENCY", "LATEST"],
        ["CONFIG", "RESETSTAT"],
        ["LATENCY", "HISTOGRAM", "blabla"],
        .probe("LATENCY HISTOGRAM shape") { c in try IntrospectionScripts.histogramShape(c) },
        ["CLIENT", "LIST", "ID", "999999"],
        .errorPrefix("CLIENT", "LIST", "ID", "abc"),
    ])

    @Test func clientAndLatencyRepliesAsRedis() throws {
        try Differential.run(Self.clientAndLatency)
    }

    /// After SET twice and GET once: the commands LATENCY HISTOGRAM lists, with their call
    /// counts (the bucket values depend on timing).
    static func histogramShape(_ c: RawClient) throws -> RESPValue {
        _ = try c.callValue("SET", "a", "b")
        _ = try c.callValue("SET", "a", "c")
        _ = try c.callValue("GET", "a")
        let histo = try c.callValue("LATENCY", "HISTOGRAM", "set", "get", "blabla")
        var out: [RESPValue] = []
        let e = histo.elements ?? []
        for i in stride(from: 0, to: e.count - 1, by: 2) {
            let fields = e[i + 1].elements ?? []
            out.append(e[i])
            out.append(fields.count > 1 ? fields[1] : .null)
            out.append(fields.count > 2 ? fields[2] : .null)
        }
        return .array(out)
    }

    static let errorPaths = Script("errorstats-paths", [
        ["CONFIG", "RESETSTAT"],
        ["AUTH", "k"],
        ["MULTI"],
        ["SET", "a", "b"],
        ["AUTH", "a"],
        ["EXEC"],
        ["EXEC"],
        ["NOSUCHCOMMAND"],
        ["SET", "k"],
        ["MULTI"],
        ["SET"],
        ["EXEC"],
        ["GET", "a"],
        ["LPUSH", "a", "x"],
        .probe("errorstats and commandstats") { c in try IntrospectionScripts.errorCounters(c) },
    ])

    @Test func errorStatsOnEveryPathAsRedis() throws {
        try Differential.run(Self.errorPaths)
    }

    static let blockedStats = Script("blocked-command-stats", [
        ["CONFIG", "RESETSTAT"],
        .use(1),
        ["CLIENT", "SETNAME", "waiter"],
        .noReply("BLPOP", "list1", "0"),
        .use(0),
        .sleep(100),
        ["LPUSH", "list1", "a"],
        .use(1),
        .read(),
        .noReply("BLPOP", "list1", "0"),
        .use(0),
        .sleep(100),
        .probe("unblock the waiter with an error") { c in try IntrospectionScripts.unblockByName(c, "waiter") },
        .use(1),
        .read(),
        .noReply("BLPOP", "list1", "0.4"),
        .sleep(600),
        .read(),
        .use(0),
        .probe("errorstats and commandstats") { c in try IntrospectionScripts.errorCounters(c) },
    ])

    @Test func blockedCommandsCountOnceAsRedis() throws {
        try Differential.run(Self.blockedStats)
    }

    static func unblockByName(_ c: RawClient, _ name: String) throws -> RESPValue {
        let list = try c.callValue("CLIENT", "LIST").text ?? ""
        guard let line = list.split(separator: "\n").first(where: { $0.contains("name=\(name) ") }),
            let id = line.split(separator: " ").first?.dropFirst(3)
        else { return .error("no client named \(name)") }
        return try c.callValue("CLIENT", "UNBLOCK", String(id), "ERROR")
    }

    /// INFO errorstats, and INFO commandstats with the timing fields removed.
    static func errorCounters(_ c: RawClient) throws -> RESPValue {
        let errors = try c.callValue("INFO", "errorstats").text ?? ""
        let stats = try c.callValue("INFO", "commandstats").text ?? ""
        let cleaned = stats.replacing(try Regex(#"usec=\d+,usec_per_call=[\d.]+,"#), with: "")
        let lines = (errors + cleaned).split(separator: "\r\n").filter { !$0.hasPrefix("cmdstat_info:") && !$0.hasPrefix("cmdstat_client|") }
        return .bulk(Array(lines.sorted().joined(separator: "\n").utf8))
    }

    static let packedThreshold = Script("quicklist-packed-threshold", [
        ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b"],
        ["RPUSH", "l", "aa", "bb", "cc", "dd", "ee"],
        ["LSET", "l", "2", String(repeating: "e", count: 10)],
        ["LINSERT", "l", "AFTER", "bb", "inserted"],
        ["LRANGE", "l", "0", "-1"],
        ["LPOP", "l"],
        ["LSET", "l", "0", "x"],
        ["LRANGE", "l", "0", "-1"],
        ["LTRIM", "l", "1", "-2"],
        ["LRANGE", "l", "0", "-1"],
        ["LREM", "l", "0", "x"],
        ["LPOS", "l", "inserted"],
        ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5b"],
        ["RPUSH", "m", "aa", "bb"],
        ["LSET", "m", "0", String(repeating: "d", count: 5001)],
        ["LSET", "m", "1", "cc"],
        ["LRANGE", "m", "0", "-1"],
        ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
        ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"],
        ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "abc"],
        ["OBJECT", "ENCODING", "l"],
    ])

    @Test func packedThresholdListsAsRedis() throws {
        try Differential.run(Self.packedThreshold)
    }

    static let skipChecksum = Script("restore-skip-checksum", [
        .probe("RESTORE of a payload with a wrong CRC, refused then accepted") { c in
            _ = try c.callValue("SET", "src", "value")
            guard case .bulk(var payload) = try c.callValue("DUMP", "src") else { return .error("no dump") }
            payload[payload.count - 1] ^= 0xFF
            let refused = try c.callValue(bytes: [Array("RESTORE".utf8), Array("dst".utf8), Array("0".utf8), payload])
            _ = try c.callValue("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1")
            let accepted = try c.callValue(bytes: [Array("RESTORE".utf8), Array("dst".utf8), Array("0".utf8), payload])
            _ = try c.callValue("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0")
            return .array([refused, accepted, try c.callValue("GET", "dst")])
        },
        .probe("RESTORE of a quicklist with an empty plain node") { c in
            // type 18 (quicklist 2), one node, container 1 (plain), an empty string; RDB 10, CRC.
            let payload: [UInt8] = [0x12, 0x01, 0x01, 0x00, 0x0A, 0x00, 0x8F, 0xC6, 0xC0, 0x57, 0x1C, 0x0A, 0xB3, 0x3C]
            return try c.callValue(bytes: [Array("RESTORE".utf8), Array("_list".utf8), Array("0".utf8), payload])
        },
        ["DEBUG", "CHANGE-REPL-ID"],
        ["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"],
        ["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset"],
        ["HSET", "h", "f", "v"],
        ["DEBUG", "LISTPACK", "h"],
        ["DEBUG", "LISTPACK", "nosuchkey"],
        ["SET", "s", "v"],
        ["DEBUG", "LISTPACK", "s"],
    ])

    @Test func debugSubcommandsAsRedis() throws {
        try Differential.run(Self.skipChecksum)
    }

    // MARK: - Tandem alone (timing)

    @Test func latencyMonitorRecordsSpikes() throws {
        let server = try ServerProcess.start(.tandem)
        defer { server.stop() }
        let c = try server.connect()
        #expect(try c.callValue("LATENCY", "DOCTOR").text?.isEmpty == false)
        _ = try c.callValue("CONFIG", "SET", "latency-monitor-threshold", "20")
        _ = try c.callValue("DEBUG", "SLEEP", "0.05")
        _ = try c.callValue("PING")
        let latest = try c.callValue("LATENCY", "LATEST").elements ?? []
        #expect(latest.count == 1)
        let event = latest.first?.elements ?? []
        #expect(event.first?.text == "command")
        if event.count == 4, case .integer(let ms) = event[2], case .integer(let max) = event[3] {
            #expect(ms >= 50 && max >= ms)
        } else {
            Issue.record("LATENCY LATEST entry: \(event)")
        }
        let history = try c.callValue("LATENCY", "HISTORY", "command").elements ?? []
        #expect(history.count == 1)
        #expect(try c.callValue("LATENCY", "GRAPH", "command").text?.hasPrefix("command - high") == true)
        #expect(try c.callValue("LATENCY", "DOCTOR").text?.contains("1. command: 1 latency spikes") == true)
        #expect(try c.callValue("LATENCY", "RESET") == .integer(1))
        #expect(try c.callValue("LATENCY", "LATEST") == .array([]))
    }

    @Test func latencyStatsFollowConfiguration() throws {
        let server = try ServerProcess.start(.tandem)
        defer { server.stop() }
        let c = try server.connect()
        func line(_ command: String) throws -> String? {
            let text = try c.callValue("INFO", "latencystats").text ?? ""
            return text.split(separator: "\r\n").first { $0.hasPrefix("latency_percentiles_usec_\(command):") }.map(String.init)
        }
        _ = try c.callValue("CONFIG", "RESETSTAT")
        _ = try c.callValue("CONFIG", "SET", "latency-tracking", "no")
        _ = try c.callValue("SET", "a", "b")
        #expect(try line("set") == nil)
        _ = try c.callValue("CONFIG", "SET", "latency-tracking", "yes")
        _ = try c.callValue("SET", "a", "b")
        #expect(try line("set")?.contains("p50=") == true)
        #expect(try line("set")?.contains(",p99=") == true)
        #expect(try line("set")?.contains(",p99.9=") == true)
        _ = try c.callValue("CONFIG", "SET", "latency-tracking-info-percentiles", "0.0 50.0 100.0")
        #expect(try line("set")?.contains("p0=") == true)
        #expect(try line("set")?.contains(",p100=") == true)
        _ = try c.callValue("DEBUG", "SLEEP", "0.02")
        let debug = try line("debug") ?? ""
        let p50 = debug.split(separator: "p50=").last.flatMap { Double($0.prefix { $0 != "," }) } ?? 0
        #expect(p50 >= 20000, "\(debug)")
        _ = try c.callValue("CONFIG", "RESETSTAT")
        #expect(try line("set") == nil)
    }

    @Test func idleReplyBufferShrinksAndBigRepliesGiveBack() throws {
        let server = try ServerProcess.start(.tandem)
        defer { server.stop() }
        let admin = try server.connect()
        let c = try server.connect()
        _ = try admin.callValue("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100")
        _ = try c.callValue("CLIENT", "SETNAME", "test_client")
        func rbs() throws -> Int {
            let list = try admin.callValue("CLIENT", "LIST").text ?? ""
            let line = list.split(separator: "\n").first { $0.contains("name=test_client ") } ?? ""
            let field = line.split(separator: " ").first { $0.hasPrefix("rbs=") } ?? ""
            return Int(field.dropFirst(4)) ?? -1
        }
        var size = try rbs()
        for _ in 0..<30 where !(size >= 1024 && size < 2048) {
            Thread.sleep(forTimeInterval: 0.1)
            size = try rbs()
        }
        #expect(size >= 1024 && size < 2048, "idle client's buffer is \(size)")
        _ = try admin.callValue("SET", "bigval", String(repeating: "x", count: 32768))
        _ = try admin.callValue("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never")
        _ = try c.callValue("GET", "bigval")
        size = try rbs()
        #expect(size >= 1024 && size <= 16384, "after a 32 KB reply the buffer is \(size)")
    }
}
