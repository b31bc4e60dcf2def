/*
 * FunctionScripts.swift — Redis Functions against redis-server (issue 13): FUNCTION LOAD's
 * metadata and registration errors, the load-time sandbox and the run-time one, FCALL and
 * FCALL_RO with flags, keys and arguments, the error replies naming the function and line,
 * FUNCTION LIST (patterns, WITHCODE, RESP3), STATS, DELETE, FLUSH, DUMP/RESTORE with each policy
 * and their errors, and busy functions (FUNCTION KILL, SCRIPT KILL refused, FUNCTION STATS while
 * one runs). The same steps run on both servers and every reply must be the same.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct FunctionScripts {
    static func load(_ code: String, replace: Bool = false) -> Step {
        Step(.command(["FUNCTION", "LOAD"] + (replace ? ["REPLACE"] : []) + [code]))
    }

    /// FUNCTION LIST [args] with libraries and each library's functions in name order (the
    /// servers list them in their own hash order).
    static func list(_ args: String...) -> Step {
        .probe("FUNCTION LIST " + args.joined(separator: " ") + " (sorted)") { c in
            normalized(try c.callValue(["FUNCTION", "LIST"] + args))
        }
    }

    static func normalized(_ v: RESPValue) -> RESPValue {
        func name(_ v: RESPValue) -> String {
            guard case .array(let a) = v, a.count >= 2, case .bulk(let n) = a[1] else {
                if case .map(let m) = v, m.count >= 2, case .bulk(let n) = m[1] { return String(decoding: n, as: UTF8.self) }
                return "\(v)"
            }
            return String(decoding: n, as: UTF8.self)
        }
        func sortFunctions(_ fields: [RESPValue]) -> [RESPValue] {
            var fields = fields
            for i in stride(from: 0, to: fields.count - 1, by: 2) where fields[i] == .bulk(Array("functions".utf8)) {
                if case .array(let fs) = fields[i + 1] { fields[i + 1] = .array(fs.sorted { name($0) < name($1) }) }
            }
            return fields
        }
        guard case .array(let libraries) = v else { return v }
        return .array(libraries.map { library -> RESPValue in
            switch library {
            case .array(let fields): return .array(sortFunctions(fields))
            case .map(let fields): return .map(sortFunctions(fields))
            default: return library
            }
        }.sorted { name($0) < name($1) })
    }

    static func library(_ name: String, _ body: String) -> String { "#!lua name=\(name)\n" + body }

    static func function(_ name: String, _ body: String) -> String {
        "redis.register_function('\(name)', function(keys, args)\n\(body)\nend)\n"
    }

    static let loading = Script("functions-load", [
        load("redis.register_function('f', function() return 1 end)"),
        load("#!lua\nredis.register_function('f', function() return 1 end)"),
        load("#!lua name=a name=b\nx"),
        load("#!lua name=a foo=bar\nx"),
        load("#! name=a\nx"),
        load("#!js name=a\nx"),
        load("#!lua name=a"),
        load("#!lua name=bad-name\nx"),
        load("#!lua name=\"a b\"\nx"),
        load("#!lua name=\"unbalanced\nx"),
        load(library("a", "bad script")),
        load(library("a", "return 1")),
        load(library("a", "redis.register_function()")),
        load(library("a", "redis.register_function('f')")),
        load(library("a", "redis.register_function('f', function() end, 1)")),
        load(library("a", "redis.register_function(nil, function() end)")),
        load(library("a", "redis.register_function('f', 'no')")),
        load(library("a", "redis.register_function('', function() end)")),
        load(library("a", "redis.register_function('x\\0y', function() end)")),
        load(library("a", "redis.register_function{function_name='f'}")),
        load(library("a", "redis.register_function{callback=function() end}")),
        load(library("a", "redis.register_function{function_name=function() end, callback=function() end}")),
        load(library("a", "redis.register_function{function_name='f', callback='x'}")),
        load(library("a", "redis.register_function{function_name='f', callback=function() end, description={}}")),
        load(library("a", "redis.register_function{function_name='f', callback=function() end, flags='no-writes'}")),
        load(library("a", "redis.register_function{function_name='f', callback=function() end, flags={'nope'}}")),
        load(library("a", "redis.register_function{function_name='f', callback=function() end, flags={{}}}")),
        load(library("a", "redis.register_function{function_name='f', callback=function() end, other=1}")),
        load(library("a", "redis.register_function{function_name='f', callback=function() end, [5]=1}")),
        load(library("a", "return math.random()")),
        load(library("a", "return redis.call('ping')")),
        load(library("a", "redis.setresp(3)")),
        load(library("a", "redis.redis.call('ping')")),
        load(library("a", "x = 1")),
        load(library("a", "local t = getmetatable(_G)")),
        load(library("a", "local x = nil; x.y = 1")),
        load(library("a", "error('boom')")),
        load(library("a", "local a = 1 while true do a = a + 1 end")),
        load(library("a", "redis.log(redis.LOG_NOTICE, 'loading') " + function("f", "return redis.REDIS_VERSION"))),
        ["FCALL", "f", "0"],
        load(library("a", function("g", "return 2"))),
        load(library("b", function("F", "return 2"))),
        load(library("a", function("g", "return 2")), replace: true),
        ["FCALL", "f", "0"],
        ["FCALL", "G", "0"],
        load(library("A", function("h", "return 'upper-case library'"))),
        ["FCALL", "h", "0"],
        ["FUNCTION", "LOAD", "NOPE", library("c", function("c", "return 1"))],
        ["FUNCTION", "LOAD", "REPLACE"],
        list(),
        ["FUNCTION", "STATS"],
        ["FUNCTION", "DELETE", "a"],
        ["FUNCTION", "DELETE", "a"],
        ["FUNCTION", "DELETE", "A"],
        ["FUNCTION", "LIST"],
        ["FUNCTION", "FLUSH", "bad"],
        ["FUNCTION", "FLUSH", "sync", "x"],
        ["FUNCTION", "FLUSH", "async"],
        ["FUNCTION", "LIST"],
        ["FUNCTION", "STATS"],
        ["FUNCTION", "nosuch"],
        ["FUNCTION", "KILL"],
        ["FUNCTION", "STATS", "x"],
        ["FUNCTION"],
        ["FUNCTION", "HELP"],
    ])

    @Test func loadingAsRedis() throws {
        try Differential.run(Self.loading)
    }

    static let calling = Script("functions-call", [
        ["SET", "s", "abc"],
        load(library("lib", """
            local function helper(x) return x + 1 end
            redis.register_function('echo', function(keys, args) return {keys, args} end)
            redis.register_function('add', function(keys, args) return helper(tonumber(args[1])) end)
            redis.register_function('boom', function() error('boom') end)
            redis.register_function('boomtable', function() error({err='MY custom'}) end)
            redis.register_function('incr', function() return redis.call('incr', 's') end)
            redis.register_function('pincr', function() return redis.pcall('incr', 's') end)
            redis.register_function('globals', function() return KEYS end)
            redis.register_function('setglobal', function() x = 1 end)
            redis.register_function('register', function() redis.register_function('z', function() end) end)
            redis.register_function('nested', function() return redis.call('fcall', 'echo', 0) end)
            redis.register_function('evalinside', function() return redis.call('eval', 'return 1', 0) end)
            redis.register_function('write', function(keys, args) return redis.call('set', keys[1], args[1]) end)
            redis.register_function('resp3', function() redis.setresp(3) return redis.call('hgetall', 'h') end)
            redis.register_function('double', function() return {double=3.5} end)
            redis.register_function('fn', function() return function() end end)
            redis.register_function('sha', function() return redis.sha1hex('x') end)
            redis.register_function('gmeta', function() local mt = getmetatable(_G) mt.__index.redis = 1 end)
            redis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end,
                                    flags={'no-writes'}, description='reads a key'}
            redis.register_function{function_name='rowrite', callback=function() return redis.call('set', 'x', 1) end,
                                    flags={'no-writes'}}
            redis.register_function{function_name='allflags', callback=function() return 1 end,
                                    flags={'NO-WRITES', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}
            """)),
        ["FCALL", "echo", "2", "k1", "k2", "a1", "a2"],
        ["FCALL", "ECHO", "0"],
        ["FCALL", "add", "0", "41"],
        ["FCALL", "boom", "0"],
        ["FCALL", "boomtable", "0"],
        ["FCALL", "incr", "0"],
        ["FCALL", "pincr", "0"],
        ["FCALL", "globals", "0"],
        ["FCALL", "setglobal", "0"],
        ["FCALL", "register", "0"],
        ["FCALL", "nested", "0"],
        ["FCALL", "evalinside", "0"],
        ["FCALL", "write", "1", "k", "v"],
        ["GET", "k"],
        ["HSET", "h", "f", "v"],
        ["FCALL", "resp3", "0"],
        ["FCALL", "double", "0"],
        ["FCALL", "fn", "0"],
        ["FCALL", "sha", "0"],
        ["FCALL", "gmeta", "0"],
        ["FCALL", "ro", "1", "k"],
        ["FCALL_RO", "ro", "1", "k"],
        ["FCALL", "rowrite", "0"],
        ["FCALL_RO", "write", "1", "k", "v"],
        ["FCALL_RO", "allflags", "0"],
        ["FCALL", "nosuch", "0"],
        ["FCALL", "echo", "x"],
        ["FCALL", "echo", "3", "a"],
        ["FCALL", "echo", "-1"],
        ["FCALL", "echo"],
        .sorted("COMMAND", "GETKEYS", "FCALL", "echo", "2", "a", "b", "c"),
        .sorted("COMMAND", "GETKEYS", "FCALL_RO", "echo", "1", "a"),
        ["COMMAND", "INFO", "fcall", "fcall_ro", "evalsha", "eval_ro", "function|load", "function|stats"],
        list("LIBRARYNAME", "l*"),
        ["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"],
        ["FUNCTION", "LIST", "libraryname"],
        ["FUNCTION", "LIST", "withcode", "withcode"],
        list("WITHCODE", "LIBRARYNAME", "LIB"),
        ["FUNCTION", "LIST", "bad"],
        .ignore("HELLO", "3"),
        list("LIBRARYNAME", "lib"),
        ["FUNCTION", "STATS"],
        ["FCALL", "echo", "1", "k", "a"],
        ["FCALL", "double", "0"],
        .ignore("HELLO", "2"),
        ["MULTI"],
        ["FCALL", "write", "1", "k", "in-multi"],
        ["FCALL", "ro", "1", "k"],
        ["EXEC"],
        ["SELECT", "3"],
        ["FCALL", "write", "1", "k3", "db3"],
        ["GET", "k3"],
        ["SELECT", "0"],
        ["EXISTS", "k3"],
    ])

    @Test func callingAsRedis() throws {
        try Differential.run(Self.calling)
    }

    /// DUMP from the server itself restores with each policy, with Redis's errors; the payload
    /// bytes are compared too (the same LZF-compressed strings, version and CRC64).
    static let dumpRestore = Script("functions-dump-restore", [
        load(library("one", function("f1", "return 1") + function("f2", "return 2"))),
        load(library("two", function("f3", "return 3"))),
        .probe("dump, restore each way") { c in
            let payload = try c.callValue("FUNCTION", "DUMP")
            guard case .bulk(let bytes) = payload else { return payload }
            let text = String(decoding: bytes, as: UTF8.self)
            // The libraries' order in the payload is the server's own: only its size is compared.
            var replies: [RESPValue] = [.integer(Int64(bytes.count))]
            func run(_ args: [String]) throws { replies.append(try c.callValue(args)) }
            func runBytes(_ policy: String?) throws {
                var args: [[UInt8]] = [Array("FUNCTION".utf8), Array("RESTORE".utf8), bytes]
                if let policy { args.append(Array(policy.utf8)) }
                replies.append(try c.callValue(bytes: args))
            }
            // One library of the payload collides at a time: which one a server reports first
            // depends on its hash order.
            try run(["FUNCTION", "DELETE", "two"])
            try runBytes(nil)
            try runBytes("APPEND")
            try runBytes("REPLACE")
            try run(["FCALL", "f3", "0"])
            try run(["FUNCTION", "FLUSH"])
            try run(["FUNCTION", "LOAD", library("one", function("other", "return 'other'"))])
            try run(["FUNCTION", "LOAD", library("three", function("f3", "return 'three'"))])
            try runBytes(nil)
            try runBytes("REPLACE")
            try run(["FCALL", "other", "0"])
            try runBytes("FLUSH")
            try run(["FCALL", "f1", "0"])
            try run(["FCALL", "other", "0"])
            try runBytes("BAD")
            try run(["FUNCTION", "RESTORE", "not a payload"])
            try run(["FUNCTION", "RESTORE", String(text.dropLast(1)) + "x"])
            try run(["FUNCTION", "RESTORE", "a", "b", "c"])
            try run(["FUNCTION", "RESTORE"])
            try run(["FUNCTION", "FLUSH"])
            replies.append(try c.callValue("FUNCTION", "DUMP"))
            replies.append(try c.callValue("FUNCTION", "RESTORE", "x"))
            return .array(replies)
        },
        list(),
    ])

    @Test func dumpAndRestoreAsRedis() throws {
        try Differential.run(Self.dumpRestore)
    }

    /// INFO's function counters after loads and deletes.
    static let info = Script("functions-info", [
        load(library("one", function("f1", "return 1") + function("f2", "return 2"))),
        load(library("two", function("f3", "return 3"))),
        .probe("number_of_functions and number_of_libraries") { c in
            let info = try InfoReply.fetch(c, "memory")
            return .array(["number_of_functions", "number_of_libraries"].map { .simple(info[$0] ?? "missing") })
        },
        ["FUNCTION", "DELETE", "one"],
        .probe("after DELETE") { c in
            let info = try InfoReply.fetch(c, "memory")
            return .array(["number_of_functions", "number_of_libraries"].map { .simple(info[$0] ?? "missing") })
        },
    ])

    @Test func infoCountersAsRedis() throws {
        try Differential.run(Self.info)
    }

    /// A function that never ends, on both servers: -BUSY naming FUNCTION KILL, SCRIPT KILL
    /// refused, FUNCTION STATS showing it, FUNCTION KILL stopping it; then an EVAL that never
    /// ends refuses FUNCTION KILL and FUNCTION STATS; a function that wrote is UNKILLABLE.
    @Test func busyFunctionsAsRedis() throws {
        var outcomes: [[String]] = []
        for flavour in [ServerFlavour.tandem, .redis] {
            let server = try ServerProcess.start(flavour, extraArgs: ["--busy-reply-threshold", "50"])
            defer { server.stop() }
            var seen: [String] = []
            let runner = try server.connect()
            let other = try server.connect()
            func note(_ v: RESPValue) { seen.append("\(v)") }
            _ = try other.callValue("FUNCTION", "LOAD", Self.library("busy", """
                redis.register_function('spin', function() local a = 1 while true do a = a + 1 end end)
                redis.register_function('spinwrite', function() redis.call('set', 'x', 'y') while true do end end)
                """))
            try runner.send(["FCALL", "spin", "0"])
            usleep(300_000)
            note(try other.callValue("PING"))
            note(try other.callValue("SCRIPT", "KILL"))
            // duration_ms varies: the map is compared without it.
            if case .array(var stats) = try other.callValue("FUNCTION", "STATS"), stats.count == 4,
                case .array(var running) = stats[1], running.count == 6
            {
                running[5] = .integer(0)
                stats[1] = .array(running)
                note(.array(stats))
            } else {
                seen.append("FUNCTION STATS: unexpected shape")
            }
            note(try other.callValue("FUNCTION", "KILL"))
            note(try runner.readValue())
            note(try other.callValue("PING"))
            try runner.send(["EVAL", "while true do end", "0"])
            usleep(300_000)
            note(try other.callValue("PING"))
            note(try other.callValue("FUNCTION", "KILL"))
            note(try other.callValue("FUNCTION", "STATS"))
            note(try other.callValue("SCRIPT", "KILL"))
            note(try runner.readValue())
            try runner.send(["FCALL", "spinwrite", "0"])
            usleep(300_000)
            note(try other.callValue("FUNCTION", "KILL"))
            try other.send(["SHUTDOWN", "NOSAVE"])
            seen.append("stopped: \(server.waitForExit(milliseconds: 5000))")
            outcomes.append(seen)
        }
        #expect(outcomes[0] == outcomes[1], "tandem \(outcomes[0])\nredis  \(outcomes[1])")
    }

    /// Libraries that try to break out or wedge the server: error replies, and the server goes on.
    @Test func hostileLibrariesNeverCrash() throws {
        let server = try ServerProcess.start(.tandem)
        defer { server.stop() }
        let c = try server.connect()
        let hostile = [
            "redis.register_function('f', function() error({}) end)",
            "redis.register_function{function_name='f', callback=function() end, flags=setmetatable({}, {__index=function() error('x') end})}",
            "local r = redis redis.register_function('f', function() return r.register_function('g', function() end) end)",
            "local r = redis redis.register_function('f', function() r.log = nil end)",
            "redis.register_function('f', function() local function g() return g() + 1 end return g() end)",
            "redis.register_function('f', function() return string.rep('x', 1000000) end)",
            String(repeating: "redis.register_function('f' .. '', function() end)\n", count: 2),
            // Two names differing in case in one library: redis-server 7.0.15 accepts them and
            // then aborts when the library is replaced or deleted (a failed assertion).
            "redis.register_function('f', function() return 1 end) redis.register_function('F', function() return 2 end)",
        ]
        for (i, body) in hostile.enumerated() {
            for _ in 0..<2 { _ = try c.callValue("FUNCTION", "LOAD", "REPLACE", "#!lua name=h\(i)\n" + body) }
            _ = try c.callValue("FCALL", "f", "0")
            _ = try c.callValue("FUNCTION", "DELETE", "h\(i)")
            #expect(try c.callValue("PING") == .simple("PONG"), "after \(body.prefix(60))")
        }
    }
}
