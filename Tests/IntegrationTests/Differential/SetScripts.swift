/*
 * SetScripts.swift — differential scripts for the set commands:
 * SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE
 * SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN, the intset/hashtable encodings (OBJECT ENCODING at the
 * thresholds), DEBUG DIGEST / DIGEST-VALUE and RESP3 replies.
 *
 * Reply order: intsets reply in ascending order in Redis, so replies from intsets (and from results
 * that Redis builds as intsets: SUNION, SDIFF, SPOP of a whole set) are compared exactly; replies
 * walking a hash table are compared with `.sorted`. Random commands (SPOP, SRANDMEMBER) go through
 * `SetProbes.random`, which checks the reply's size, distinctness and membership instead of members.
 * Full SSCAN iterations over hash tables go through `SetProbes.sscanAll` (sorted union of all pages).
 */

import Testing

@Suite struct SetCommandTests {
    @Test(arguments: SetScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }
}

enum SetProbes {
    /// Runs a random-member command (SPOP/SRANDMEMBER with or without count) and summarises its reply:
    /// [RESP type, element count, "distinct"/"repeats", "members-ok"/"foreign: x"]. Errors and nulls
    /// come back as they are.
    static func random(_ c: RawClient, _ args: [String], universe: [String]) throws -> RESPValue {
        let reply = try c.callValue(args)
        let allowed = Set(universe)
        switch reply {
        case .bulk(let b):
            let s = String(decoding: b, as: UTF8.self)
            return .array([.simple("bulk"), .simple(allowed.contains(s) ? "members-ok" : "foreign: \(s)")])
        case .array(let items), .set(let items):
            let texts = items.map { $0.text ?? "?" }
            let foreign = texts.filter { !allowed.contains($0) }
            return .array([
                .simple(reply.typeByte == UInt8(ascii: "~") ? "set" : "array"),
                .integer(Int64(items.count)),
                .simple(Set(texts).count == texts.count ? "distinct" : "repeats"),
                .simple(foreign.isEmpty ? "members-ok" : "foreign: \(foreign.prefix(3))"),
            ])
        default:
            return reply
        }
    }

    /// SSCAN from cursor 0 to 0 (at most 10 000 calls); the sorted, de-duplicated members.
    static func sscanAll(_ c: RawClient, _ key: String, _ options: [String]) throws -> RESPValue {
        var cursor = "0"
        var seen = Set<[UInt8]>()
        for _ in 0..<10_000 {
            let reply = try c.callValue(["SSCAN", key, cursor] + options)
            if reply.isError { return reply }
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text,
                  let page = parts[1].elements
            else { return .error("probe: unexpected SSCAN reply") }
            for m in page {
                if case .bulk(let b) = m { seen.insert(b) }
            }
            cursor = next
            if cursor == "0" { return .array(seen.sorted { $0.lexicographicallyPrecedes($1) }.map { .bulk($0) }) }
        }
        return .error("probe: SSCAN did not finish")
    }

    /// A counter from an INFO section (rdb_changes_since_last_save, keyspace_hits, ...).
    static func counter(_ c: RawClient, _ section: String, _ name: String) throws -> Int64 {
        let info = try c.callValue(["INFO", section]).text ?? ""
        for line in info.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }) where line.hasPrefix(name + ":") {
            return Int64(line.dropFirst(name.count + 1)) ?? -1
        }
        return -1
    }

    static func counters(_ c: RawClient) throws -> [Int64] {
        [try counter(c, "persistence", "rdb_changes_since_last_save"), try counter(c, "stats", "keyspace_hits"),
         try counter(c, "stats", "keyspace_misses")]
    }

    /// Runs a command and reports its reply's RESP type and how much it moved the dirty counter,
    /// keyspace_hits and keyspace_misses.
    static func changes(_ c: RawClient, _ args: [String]) throws -> RESPValue {
        let before = try counters(c)
        let reply = try c.callValue(args)
        let after = try counters(c)
        return .array([.simple(String(UnicodeScalar(reply.typeByte)))] + zip(after, before).map { .integer($0 - $1) })
    }
}

extension Step {
    static func random(_ universe: [String], _ args: String...) -> Step {
        .probe(args.joined(separator: " ")) { c in try SetProbes.random(c, args, universe: universe) }
    }

    static func changes(_ args: String...) -> Step {
        .probe("changes counted by " + args.joined(separator: " ")) { c in try SetProbes.changes(c, args) }
    }

    static func sscanAll(_ key: String, _ options: String...) -> Step {
        .probe("SSCAN full iteration \(key) " + options.joined(separator: " ")) { c in
            try SetProbes.sscanAll(c, key, options)
        }
    }
}

enum SetScripts {
    static let all: [Script] = [
        saddSrem, intsetWidths, canonicalIntegers, intsetThreshold, thresholdConfig, membership, smove,
        spop, spopStrategies, srandmember, sinter, sintercard, sunionSdiff, storeCommands, storeEncodings,
        sscan, digests, resp3, wrongType, changeCounts,
    ]

    static func ints(_ range: ClosedRange<Int>) -> [String] { range.map(String.init) }

    static func cmd(_ args: [String]) -> Step { Step(.command(args)) }

    static let saddSrem = Script("sadd-srem", [
        ["SADD", "s", "3", "1", "2"],
        ["SADD", "s", "2", "3", "4", "4"],
        ["SMEMBERS", "s"],
        ["SCARD", "s"],
        ["OBJECT", "ENCODING", "s"],
        ["TYPE", "s"],
        ["SADD", "t", "b", "a", "c", "a"],
        ["OBJECT", "ENCODING", "t"],
        .sorted("SMEMBERS", "t"),
        ["SREM", "s", "1", "9", "1"],
        ["SMEMBERS", "s"],
        ["SREM", "s", "x"],
        ["SREM", "s", "2", "3", "4", "5"],
        ["EXISTS", "s"],
        ["SREM", "s", "1"],
        ["SREM", "missing", "a"],
        ["SREM", "t", "a", "b", "c", "a"],
        ["EXISTS", "t"],
        ["SADD", "e", ""],
        ["SMEMBERS", "e"],
        ["OBJECT", "ENCODING", "e"],
        ["SISMEMBER", "e", ""],
        ["SADD", "bin", "a\u{0}b", "\r\n", "\u{7f}"],
        .sorted("SMEMBERS", "bin"),
        ["SADD", "s"],
        ["SREM", "s"],
        ["SMEMBERS"],
        ["SMEMBERS", "a", "b"],
        ["SCARD"],
        ["SCARD", "missing"],
        ["SMEMBERS", "missing"],
        ["SADD", "x", "1"],
        ["EXPIRE", "x", "100"],
        ["SADD", "x", "2"],
        ["TTL", "x"],
        ["SREM", "x", "1", "2"],
        ["EXISTS", "x"],
        ["DBSIZE"],
    ])

    static let intsetWidths = Script("intset-widths", [
        ["SADD", "s", "5", "-5", "0"],
        ["SMEMBERS", "s"],
        ["SADD", "s", "32767", "-32768"],
        ["SMEMBERS", "s"],
        ["SADD", "s", "32768"],
        ["SMEMBERS", "s"],
        ["SADD", "s", "-40000"],
        ["SMEMBERS", "s"],
        ["SADD", "s", "2147483648", "-2147483649"],
        ["SMEMBERS", "s"],
        ["SADD", "s", "9223372036854775807", "-9223372036854775808"],
        ["SMEMBERS", "s"],
        ["OBJECT", "ENCODING", "s"],
        ["SISMEMBER", "s", "-9223372036854775808"],
        ["SISMEMBER", "s", "9223372036854775807"],
        ["SISMEMBER", "s", "2147483647"],
        ["SREM", "s", "-9223372036854775808", "0", "32767"],
        ["SMEMBERS", "s"],
        ["SADD", "n", "-70000"],
        ["SADD", "n", "-1", "-100000", "3"],
        ["SMEMBERS", "n"],
        ["SADD", "p", "100000"],
        ["SADD", "p", "1", "200000", "-3"],
        ["SMEMBERS", "p"],
        ["SCARD", "p"],
        ["SREM", "p", "1", "-3"],
        ["SMEMBERS", "p"],
        ["SADD", "p", "7"],
        ["SMEMBERS", "p"],
    ])

    static let canonicalIntegers = Script("canonical-integers", [
        ["SADD", "a", "1"], ["SADD", "a", "01"], ["OBJECT", "ENCODING", "a"], .sorted("SMEMBERS", "a"),
        ["SADD", "b", "1"], ["SADD", "b", "+1"], ["OBJECT", "ENCODING", "b"],
        ["SADD", "c", "1"], ["SADD", "c", " 1"], ["OBJECT", "ENCODING", "c"],
        ["SADD", "d", "1"], ["SADD", "d", "-0"], ["OBJECT", "ENCODING", "d"],
        ["SADD", "e", "1"], ["SADD", "e", "1.0"], ["OBJECT", "ENCODING", "e"],
        ["SADD", "f", "1"], ["SADD", "f", "9223372036854775808"], ["OBJECT", "ENCODING", "f"],
        ["SADD", "g", "1"], ["SADD", "g", "-9223372036854775809"], ["OBJECT", "ENCODING", "g"],
        ["SADD", "h", "1"], ["SADD", "h", "1e3"], ["OBJECT", "ENCODING", "h"],
        ["SADD", "i", "0"], ["SADD", "i", "-1"], ["OBJECT", "ENCODING", "i"],
        ["SADD", "j", "abc"], ["OBJECT", "ENCODING", "j"], ["SADD", "j", "1"], ["OBJECT", "ENCODING", "j"],
        ["SISMEMBER", "j", "1"], ["SISMEMBER", "j", "01"],
        ["SADD", "k", "1", "x"], ["OBJECT", "ENCODING", "k"],
        ["SADD", "l", "x", "1"], ["OBJECT", "ENCODING", "l"],
        ["SISMEMBER", "i", "-0"], ["SISMEMBER", "i", "00"], ["SISMEMBER", "i", "+0"],
        ["SREM", "i", "-0", "00"],
        ["SMEMBERS", "i"],
        // Once a table, always a table.
        ["SREM", "k", "x"], ["OBJECT", "ENCODING", "k"], ["SMEMBERS", "k"],
    ])

    static let intsetThreshold = Script("intset-threshold-512", [
        cmd(["SADD", "s"] + ints(1...511)),
        ["OBJECT", "ENCODING", "s"],
        ["SADD", "s", "512"],
        ["OBJECT", "ENCODING", "s"],
        ["SCARD", "s"],
        ["SADD", "s", "100"],
        ["OBJECT", "ENCODING", "s"],
        ["SADD", "s", "513"],
        ["OBJECT", "ENCODING", "s"],
        ["SCARD", "s"],
        ["SREM", "s", "513", "512"],
        ["OBJECT", "ENCODING", "s"],
        ["SISMEMBER", "s", "300"],
        ["SISMEMBER", "s", "0300"],
        cmd(["SADD", "big"] + ints(1...600)),
        ["OBJECT", "ENCODING", "big"],
        ["SCARD", "big"],
        cmd(["SADD", "exact"] + ints(1...512)),
        ["OBJECT", "ENCODING", "exact"],
        cmd(["SADD", "over"] + ints(1...513)),
        ["OBJECT", "ENCODING", "over"],
        ["DEBUG", "DIGEST-VALUE", "s", "big", "exact", "over"],
        ["DEBUG", "DIGEST"],
    ])

    static let thresholdConfig = Script("intset-threshold-config", [
        ["CONFIG", "SET", "set-max-intset-entries", "3"],
        ["SADD", "s", "1", "2", "3"],
        ["OBJECT", "ENCODING", "s"],
        ["SADD", "s", "4"],
        ["OBJECT", "ENCODING", "s"],
        ["SADD", "t", "1", "2", "3", "4"],
        ["OBJECT", "ENCODING", "t"],
        ["CONFIG", "SET", "set-max-intset-entries", "0"],
        ["SADD", "z", "1"],
        ["OBJECT", "ENCODING", "z"],
        ["SMEMBERS", "z"],
        ["CONFIG", "SET", "set-max-intset-entries", "1"],
        ["SADD", "o", "1"],
        ["OBJECT", "ENCODING", "o"],
        ["SADD", "o", "1"],
        ["OBJECT", "ENCODING", "o"],
        ["SADD", "o", "2"],
        ["OBJECT", "ENCODING", "o"],
    ])

    static let membership = Script("sismember-smismember-scard", [
        ["SADD", "s", "1", "2", "3"],
        ["SADD", "t", "a", "b", "1"],
        ["SISMEMBER", "s", "1"],
        ["SISMEMBER", "s", "4"],
        ["SISMEMBER", "s", "a"],
        ["SISMEMBER", "t", "a"],
        ["SISMEMBER", "t", "1"],
        ["SISMEMBER", "t", "c"],
        ["SISMEMBER", "missing", "a"],
        ["SMISMEMBER", "s", "1", "x", "3", "1"],
        ["SMISMEMBER", "t", "a", "z"],
        ["SMISMEMBER", "missing", "a", "b"],
        ["SMISMEMBER", "s"],
        ["SISMEMBER", "s"],
        ["SISMEMBER", "s", "1", "2"],
        ["SCARD", "s"],
        ["SCARD", "t"],
        ["SCARD", "s", "t"],
    ])

    static let smove = Script("smove", [
        ["SADD", "a", "1", "2", "3"],
        ["SADD", "b", "x", "y"],
        ["SMOVE", "a", "b", "1"],
        ["SMEMBERS", "a"],
        .sorted("SMEMBERS", "b"),
        ["OBJECT", "ENCODING", "b"],
        ["SMOVE", "a", "b", "9"],
        ["SMOVE", "a", "b", "1"],
        ["SMOVE", "b", "a", "x"],
        ["OBJECT", "ENCODING", "a"],
        .sorted("SMEMBERS", "a"),
        ["SMOVE", "a", "a", "2"],
        ["SMOVE", "a", "a", "nope"],
        ["SMOVE", "a", "new", "2"],
        ["OBJECT", "ENCODING", "new"],
        ["SMEMBERS", "new"],
        ["SMOVE", "a", "new2", "x"],
        ["OBJECT", "ENCODING", "new2"],
        ["SMOVE", "missing", "a", "1"],
        ["SADD", "one", "7"],
        ["EXPIRE", "one", "100"],
        ["SMOVE", "one", "new", "7"],
        ["EXISTS", "one"],
        ["SMEMBERS", "new"],
        ["SADD", "c", "5"],
        ["SMOVE", "c", "new", "2"],
        ["SMEMBERS", "c"],
        ["SET", "str", "v"],
        ["SMOVE", "str", "a", "1"],
        ["SMOVE", "a", "str", "3"],
        ["SMOVE", "missing", "str", "1"],
        ["SMOVE", "str", "str", "1"],
        .sorted("SMEMBERS", "a"),
        ["SMOVE", "a", "b"],
        ["DEBUG", "DIGEST"],
    ])

    static let spop = Script("spop-srandmember-basic", [
        ["SPOP", "missing"],
        ["SPOP", "missing", "3"],
        ["SPOP", "missing", "0"],
        ["SPOP", "missing", "-1"],
        ["SADD", "s", "1", "2", "3", "4", "5"],
        .random(ints(1...5), "SPOP", "s"),
        ["SCARD", "s"],
        .random(ints(1...5), "SPOP", "s", "2"),
        ["SCARD", "s"],
        ["SPOP", "s", "0"],
        ["SPOP", "s", "-1"],
        ["SPOP", "s", "abc"],
        ["SPOP", "s", "9223372036854775808"],
        ["SPOP", "s", "1", "2"],
        ["SCARD", "s"],
        .random(ints(1...5), "SPOP", "s", "9223372036854775807"),
        ["EXISTS", "s"],
        ["SADD", "one", "x"],
        ["SPOP", "one"],
        ["EXISTS", "one"],
        // Popping a whole intset replies it in ascending order.
        ["SADD", "w", "9", "3", "-1", "7"],
        ["SPOP", "w", "4"],
        ["EXISTS", "w"],
        ["SADD", "w", "9", "3", "-1", "7"],
        ["SPOP", "w", "100"],
        ["SADD", "h", "a", "b", "c"],
        .random(["a", "b", "c"], "SPOP", "h"),
        ["SCARD", "h"],
        .random(["a", "b", "c"], "SPOP", "h", "2"),
        ["EXISTS", "h"],
        ["SET", "str", "v"],
        ["SPOP", "str"],
        ["SPOP", "str", "1"],
        ["SPOP", "str", "-1"],
        ["SPOP"],
    ])

    static let spopStrategies = Script("spop-strategies-and-encodings", [
        // Case 2: few random removals from a table; stays a table.
        cmd(["SADD", "a"] + ints(1...600)),
        .random(ints(1...600), "SPOP", "a", "10"),
        ["SCARD", "a"],
        ["OBJECT", "ENCODING", "a"],
        // Case 3: most of a table goes; the kept members form a new set, an intset when they are integers.
        cmd(["SADD", "b"] + ints(1...600)),
        .random(ints(1...600), "SPOP", "b", "590"),
        ["SCARD", "b"],
        ["OBJECT", "ENCODING", "b"],
        cmd(["SADD", "c"] + ints(1...20) + ["x1", "x2", "x3", "x4", "x5"]),
        .random(ints(1...20) + ["x1", "x2", "x3", "x4", "x5"], "SPOP", "c", "22"),
        ["SCARD", "c"],
        ["EXPIRE", "c", "100"],
        // Case 3 on an intset, keeping the TTL of the key.
        cmd(["SADD", "d"] + ints(1...100)),
        ["EXPIRE", "d", "100"],
        .random(ints(1...100), "SPOP", "d", "95"),
        ["SCARD", "d"],
        ["OBJECT", "ENCODING", "d"],
        ["TTL", "d"],
        .random(ints(1...100), "SPOP", "d", "3"),
        ["SCARD", "d"],
        ["TTL", "d"],
        // A table whose members are all integers (after SREM) popped whole: replied in ascending order.
        ["SADD", "e", "5", "1", "x", "3"],
        ["SREM", "e", "x"],
        ["OBJECT", "ENCODING", "e"],
        ["SPOP", "e", "3"],
    ])

    static let srandmember = Script("srandmember", [
        ["SRANDMEMBER", "missing"],
        ["SRANDMEMBER", "missing", "5"],
        ["SRANDMEMBER", "missing", "-5"],
        ["SRANDMEMBER", "missing", "0"],
        ["SADD", "s", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
        .random(ints(1...10), "SRANDMEMBER", "s"),
        .random(ints(1...10), "SRANDMEMBER", "s", "3"),
        .random(ints(1...10), "SRANDMEMBER", "s", "8"),
        .random(ints(1...10), "SRANDMEMBER", "s", "-30"),
        ["SRANDMEMBER", "s", "10"],
        ["SRANDMEMBER", "s", "100"],
        ["SRANDMEMBER", "s", "9223372036854775807"],
        ["SRANDMEMBER", "s", "0"],
        ["SRANDMEMBER", "s", "abc"],
        ["SRANDMEMBER", "s", "-9223372036854775808"],
        ["SRANDMEMBER", "s", "1", "2"],
        ["SCARD", "s"],
        cmd(["SADD", "h"] + (1...100).map { "m\($0)" }),
        .random((1...100).map { "m\($0)" }, "SRANDMEMBER", "h"),
        .random((1...100).map { "m\($0)" }, "SRANDMEMBER", "h", "5"),
        .random((1...100).map { "m\($0)" }, "SRANDMEMBER", "h", "60"),
        .random((1...100).map { "m\($0)" }, "SRANDMEMBER", "h", "-200"),
        .random((1...100).map { "m\($0)" }, "SRANDMEMBER", "h", "99"),
        .sorted("SRANDMEMBER", "h", "100"),
        .sorted("SRANDMEMBER", "h", "1000"),
        ["SCARD", "h"],
        ["SET", "str", "v"],
        ["SRANDMEMBER", "str"],
        ["SRANDMEMBER", "str", "2"],
        ["SRANDMEMBER"],
    ])

    static let sinter = Script("sinter-smembers", [
        ["SADD", "a", "1", "2", "3", "4", "5"],
        ["SADD", "b", "3", "4", "5", "6"],
        ["SADD", "c", "5", "4", "x"],
        ["SINTER", "a", "b"],
        ["SINTER", "b", "a"],
        ["SINTER", "a"],
        ["SINTER", "a", "a"],
        .sorted("SINTER", "a", "b", "c"),
        .sorted("SINTER", "c"),
        .sorted("SINTER", "c", "c"),
        ["SINTER", "a", "missing"],
        ["SINTER", "missing"],
        ["SINTER", "missing", "a"],
        ["SADD", "d", "x", "y"],
        ["SINTER", "a", "d"],
        ["SINTER", "c", "d"],
        ["SADD", "e", "3", "4", "y", "z", "w", "v"],
        ["SINTER", "e", "a"],
        ["SINTER"],
    ])

    static let sintercard = Script("sintercard", [
        ["SADD", "a", "1", "2", "3", "4", "5"],
        ["SADD", "b", "3", "4", "5", "6", "x"],
        ["SINTERCARD", "2", "a", "b"],
        ["SINTERCARD", "1", "a"],
        ["SINTERCARD", "1", "b"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "0"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
        ["SINTERCARD", "2", "a", "b", "limit", "2"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "100"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "9223372036854775807"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "3"],
        ["SINTERCARD", "2", "a", "missing"],
        ["SINTERCARD", "1", "missing"],
        ["SINTERCARD", "0", "a"],
        ["SINTERCARD", "-1", "a"],
        ["SINTERCARD", "abc", "a"],
        ["SINTERCARD", "3", "a", "b"],
        ["SINTERCARD", "9223372036854775807", "a"],
        ["SINTERCARD", "9223372036854775808", "a"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "-1"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "abc"],
        ["SINTERCARD", "2", "a", "b", "LIMIT"],
        ["SINTERCARD", "2", "a", "b", "FOO", "1"],
        ["SINTERCARD", "1", "a", "b"],
        ["SINTERCARD", "1"],
        ["SET", "str", "v"],
        ["SINTERCARD", "2", "a", "str"],
        ["SINTERCARD", "2", "missing", "str"],
    ])

    static let sunionSdiff = Script("sunion-sdiff", [
        ["SADD", "a", "1", "2", "3", "4", "5"],
        ["SADD", "b", "3", "4", "5", "6", "-7"],
        ["SADD", "c", "5", "x", "y"],
        ["SUNION", "a", "b"],
        ["SUNION", "b", "a", "missing"],
        ["SUNION", "a"],
        .sorted("SUNION", "a", "c"),
        ["SUNION", "missing"],
        ["SUNION", "missing", "missing2"],
        ["SDIFF", "a", "b"],
        ["SDIFF", "b", "a"],
        ["SDIFF", "a", "missing"],
        ["SDIFF", "missing", "a"],
        ["SDIFF", "a", "a"],
        ["SDIFF", "a"],
        ["SDIFF", "a", "c"],
        .sorted("SDIFF", "c", "a"),
        ["SDIFF", "c", "c"],
        ["SDIFF", "a", "b", "c"],
        // Algorithm 2 (first set large compared with the others).
        cmd(["SADD", "big"] + ints(1...40)),
        ["SADD", "s1", "1"], ["SADD", "s2", "2"], ["SADD", "s3", "40", "x"],
        ["SDIFF", "big", "s1", "s2", "s3"],
        ["SDIFF", "big", "s1", "missing", "s2"],
        ["SDIFF", "s1", "big", "big", "big"],
        // Integers from a table that end in an intset result: ascending.
        ["SADD", "t", "10", "z", "9", "8"],
        ["SADD", "tz", "z"],
        ["SDIFF", "t", "tz", "missing"],
        .sorted("SDIFF", "t", "c", "missing"),
        .sorted("SUNION", "s1", "t"),
        ["SREM", "t", "z"],
        ["SUNION", "t", "s1"],
        ["SUNION"],
        ["SDIFF"],
    ])

    static let storeCommands = Script("store-commands", [
        ["SADD", "a", "1", "2", "3", "4", "5"],
        ["SADD", "b", "3", "4", "5", "6"],
        ["SADD", "c", "5", "x", "4"],
        ["SINTERSTORE", "d", "a", "b"],
        ["SMEMBERS", "d"],
        ["OBJECT", "ENCODING", "d"],
        ["SUNIONSTORE", "d", "a", "b"],
        ["SMEMBERS", "d"],
        ["SDIFFSTORE", "d", "a", "b"],
        ["SMEMBERS", "d"],
        // The destination is replaced whatever its type, and loses its TTL.
        ["SET", "str", "v"],
        ["EXPIRE", "str", "100"],
        ["SINTERSTORE", "str", "a", "c"],
        ["TYPE", "str"],
        ["TTL", "str"],
        ["SMEMBERS", "str"],
        ["RPUSH", "lst", "x"],
        ["SUNIONSTORE", "lst", "c"],
        ["TYPE", "lst"],
        .sorted("SMEMBERS", "lst"),
        ["SADD", "e", "9"],
        ["EXPIRE", "e", "100"],
        ["SDIFFSTORE", "e", "c", "a"],
        ["TTL", "e"],
        ["SMEMBERS", "e"],
        // Empty results delete the destination.
        ["SINTERSTORE", "str", "a", "missing"],
        ["EXISTS", "str"],
        ["SINTERSTORE", "str", "a", "missing"],
        ["SET", "k", "v"],
        ["SINTERSTORE", "k", "a", "e"],
        ["EXISTS", "k"],
        ["SET", "k", "v"],
        ["SUNIONSTORE", "k", "missing"],
        ["EXISTS", "k"],
        ["SET", "k", "v"],
        ["SDIFFSTORE", "k", "a", "a"],
        ["EXISTS", "k"],
        ["SDIFFSTORE", "k", "missing", "a"],
        // The destination may be a source.
        ["SINTERSTORE", "a", "a", "b"],
        ["SMEMBERS", "a"],
        ["SUNIONSTORE", "a", "a", "c"],
        .sorted("SMEMBERS", "a"),
        ["SDIFFSTORE", "a", "a", "a"],
        ["EXISTS", "a"],
        ["SINTERSTORE", "x"],
        ["SUNIONSTORE", "x"],
        ["SDIFFSTORE", "x"],
        ["SINTERSTORE", "x", "str", "b"],
        ["SET", "s2", "v"],
        ["SUNIONSTORE", "x", "b", "s2"],
        ["SDIFFSTORE", "x", "missing", "s2"],
        ["SINTERSTORE", "x", "missing", "s2"],
        ["SUNIONSTORE", "s2", "b"],
        ["TYPE", "s2"],
        ["DEBUG", "DIGEST"],
    ])

    static let storeEncodings = Script("store-encodings", [
        // Results start as intsets: integers from tables give intsets, and past 512 tables.
        ["SADD", "t1", "1", "2", "3", "x"],
        ["SADD", "t2", "2", "3", "y"],
        ["SINTERSTORE", "i", "t1", "t2"],
        ["OBJECT", "ENCODING", "i"],
        ["SMEMBERS", "i"],
        ["SUNIONSTORE", "u", "t1", "t2"],
        ["OBJECT", "ENCODING", "u"],
        ["SDIFFSTORE", "df", "t1", "t2"],
        ["OBJECT", "ENCODING", "df"],
        .sorted("SMEMBERS", "df"),
        cmd(["SADD", "big1"] + ints(1...300)),
        cmd(["SADD", "big2"] + ints(200...600)),
        ["SUNIONSTORE", "u2", "big1", "big2"],
        ["OBJECT", "ENCODING", "u2"],
        ["SCARD", "u2"],
        ["SINTERSTORE", "i2", "big1", "big2"],
        ["OBJECT", "ENCODING", "i2"],
        ["SMEMBERS", "i2"],
        cmd(["SADD", "big3"] + ints(1...512)),
        ["SUNIONSTORE", "u3", "big3"],
        ["OBJECT", "ENCODING", "u3"],
        ["SADD", "one", "513"],
        ["SUNIONSTORE", "u4", "big3", "one"],
        ["OBJECT", "ENCODING", "u4"],
        // SDIFF algorithm 2 passes through a large intermediate table: the result stays a table.
        cmd(["SADD", "huge"] + ints(1...600)),
        cmd(["SADD", "r1"] + ints(1...100)),
        cmd(["SADD", "r2"] + ints(101...200)),
        cmd(["SADD", "r3"] + ints(201...300)),
        ["SDIFFSTORE", "d2", "huge", "r1", "r2", "r3"],
        ["OBJECT", "ENCODING", "d2"],
        ["SCARD", "d2"],
        // Algorithm 1 builds the result member by member: an intset.
        ["SDIFFSTORE", "d3", "huge", "r1"],
        ["OBJECT", "ENCODING", "d3"],
        ["SCARD", "d3"],
        cmd(["SADD", "r4"] + ints(1...550)),
        ["SDIFFSTORE", "d4", "huge", "r4"],
        ["OBJECT", "ENCODING", "d4"],
        ["SMEMBERS", "d4"],
        ["DEBUG", "DIGEST-VALUE", "d2", "d3", "d4", "u2", "i2"],
    ])

    static let sscan = Script("sscan", [
        ["SADD", "s", "1", "2", "3", "10", "20", "-1"],
        ["SSCAN", "s", "0"],
        ["SSCAN", "s", "0", "COUNT", "1"],
        ["SSCAN", "s", "5"],
        ["SSCAN", "s", "-1"],
        ["SSCAN", "s", "0", "MATCH", "1*"],
        ["SSCAN", "s", "0", "MATCH", "*"],
        ["SSCAN", "s", "0", "match", "-*", "count", "100"],
        ["SSCAN", "s", "0", "MATCH", "nomatch"],
        ["SSCAN", "missing", "0"],
        ["SSCAN", "missing", "abc"],
        ["SSCAN", "missing", "0", "COUNT", "0"],
        ["SSCAN", "s", "abc"],
        ["SSCAN", "s", "18446744073709551616"],
        ["SSCAN", "s", "0", "COUNT", "0"],
        ["SSCAN", "s", "0", "COUNT", "-1"],
        ["SSCAN", "s", "0", "COUNT", "abc"],
        ["SSCAN", "s", "0", "COUNT"],
        ["SSCAN", "s", "0", "MATCH"],
        ["SSCAN", "s", "0", "TYPE", "set"],
        ["SSCAN", "s", "0", "FOO", "bar"],
        ["SSCAN", "s"],
        cmd(["SADD", "h"] + (1...300).map { "m\($0)" } + ints(1...50)),
        .sscanAll("h"),
        .sscanAll("h", "COUNT", "7"),
        .sscanAll("h", "MATCH", "m1*"),
        .sscanAll("h", "MATCH", "m1*", "COUNT", "1000"),
        .sscanAll("h", "MATCH", "4?"),
        ["SADD", "small", "a", "b"],
        .sscanAll("small"),
        .sscanAll("small", "COUNT", "100"),
        ["SET", "str", "v"],
        ["SSCAN", "str", "0"],
        ["SSCAN", "str", "abc"],
    ])

    static let digests = Script("digests", [
        ["DEBUG", "DIGEST"],
        ["SADD", "s", "1", "2", "3"],
        ["DEBUG", "DIGEST"],
        ["DEBUG", "DIGEST-VALUE", "s"],
        ["SADD", "t", "3", "1", "2"],
        ["DEBUG", "DIGEST-VALUE", "s", "t", "missing"],
        ["SADD", "t", "x"],
        ["SREM", "t", "x"],
        ["DEBUG", "DIGEST-VALUE", "t"],
        ["SADD", "h", "a", "b", "", "c"],
        ["DEBUG", "DIGEST-VALUE", "h"],
        ["DEBUG", "DIGEST"],
        ["SREM", "h", "b"],
        ["DEBUG", "DIGEST-VALUE", "h"],
        ["SMOVE", "h", "s", "a"],
        ["DEBUG", "DIGEST"],
        ["EXPIRE", "s", "1000"],
        ["DEBUG", "DIGEST-VALUE", "s"],
        ["DEBUG", "DIGEST"],
        ["SUNIONSTORE", "u", "s", "h", "t"],
        ["DEBUG", "DIGEST-VALUE", "u"],
        ["COPY", "u", "u2"],
        ["DEBUG", "DIGEST-VALUE", "u2"],
        ["SADD", "u2", "new"],
        ["SCARD", "u"],
        ["RENAME", "s", "s2"],
        ["DEBUG", "DIGEST"],
        ["SET", "s2", "string now"],
        ["DEBUG", "DIGEST"],
        ["DEL", "u", "u2", "h", "t"],
        ["DEBUG", "DIGEST"],
        ["FLUSHALL"],
        ["DEBUG", "DIGEST"],
    ])

    static let resp3 = Script("resp3", [
        .mapExcept(["id"], "HELLO", "3"),
        ["SADD", "s", "3", "1", "2"],
        ["SADD", "h", "a", "b"],
        ["SMEMBERS", "s"],
        .sorted("SMEMBERS", "h"),
        ["SMEMBERS", "missing"],
        ["SINTER", "s", "s"],
        ["SINTER", "s", "missing"],
        ["SUNION", "s"],
        ["SUNION", "missing"],
        ["SDIFF", "s", "missing"],
        ["SDIFF", "missing"],
        ["SINTERCARD", "1", "s"],
        ["SMISMEMBER", "s", "1", "9"],
        ["SPOP", "missing"],
        ["SPOP", "missing", "2"],
        ["SPOP", "s", "0"],
        ["SRANDMEMBER", "missing"],
        ["SRANDMEMBER", "missing", "2"],
        ["SRANDMEMBER", "s", "0"],
        ["SRANDMEMBER", "s", "10"],
        .random(["1", "2", "3"], "SRANDMEMBER", "s", "2"),
        .random(["1", "2", "3"], "SRANDMEMBER", "s", "-5"),
        ["SSCAN", "s", "0"],
        ["SSCAN", "missing", "0"],
        .random(["1", "2", "3"], "SPOP", "s", "1"),
        .random(["1", "2", "3"], "SPOP", "s", "10"),
        .sorted("SPOP", "h", "10"),
        ["EXISTS", "s", "h"],
        .ignore("HELLO", "2"),
        ["SMEMBERS", "missing"],
    ])

    static let wrongType = Script("wrongtype-and-arity", [
        ["SET", "str", "v"],
        ["SADD", "str", "1"],
        ["SREM", "str", "1"],
        ["SMEMBERS", "str"],
        ["SISMEMBER", "str", "1"],
        ["SMISMEMBER", "str", "1"],
        ["SCARD", "str"],
        ["SPOP", "str"],
        ["SRANDMEMBER", "str"],
        ["SINTER", "str"],
        ["SINTER", "missing", "str"],
        ["SINTERSTORE", "d", "missing", "str"],
        ["SUNION", "missing", "str"],
        ["SDIFF", "missing", "str"],
        ["SDIFFSTORE", "d", "missing", "str"],
        ["SSCAN", "str", "0"],
        ["SADD", "s", "1"],
        ["GET", "s"],
        ["APPEND", "s", "x"],
        ["SADD"], ["SADD", "s"], ["SREM", "s"], ["SISMEMBER", "s"], ["SMISMEMBER", "s"], ["SPOP"],
        ["SRANDMEMBER"], ["SMOVE", "a", "b"], ["SMOVE", "a", "b", "c", "d"], ["SINTER"], ["SINTERCARD", "1"],
        ["SINTERSTORE", "d"], ["SUNION"], ["SUNIONSTORE", "d"], ["SDIFF"], ["SDIFFSTORE", "d"], ["SSCAN", "s"],
        ["sadd", "lower", "1"], ["SaDd", "lower", "2"], ["SMEMBERS", "lower"],
    ])

    /// The dirty counter (rdb_changes_since_last_save) moves as in Redis: one per member added or
    /// removed, one per SMOVE plus one when the destination gained the member, one per *STORE that
    /// wrote or deleted its destination, and SPOP with a count counts the members it popped. Keyspace
    /// hits and misses too: reads and the *STORE sources count them, writes do not (except SPOP of a
    /// whole set, which Redis replies through SUNION's read lookup).
    static let changeCounts = Script("change-counts", [
        .changes("SADD", "a", "1", "2", "3", "4", "5"),
        .changes("SADD", "a", "1", "6"),
        .changes("SADD", "a", "1"),
        .changes("SREM", "a", "1", "9", "2"),
        .changes("SREM", "a", "9"),
        .changes("SMOVE", "a", "b", "3"),
        .changes("SMOVE", "a", "b", "9"),
        .changes("SADD", "b", "4"),
        .changes("SMOVE", "a", "b", "4"),
        .changes("SMOVE", "b", "b", "4"),
        .changes("SPOP", "a"),
        .changes("SPOP", "missing"),
        cmd(["SADD", "c"] + ints(1...100)),
        .changes("SPOP", "c", "3"),
        .changes("SPOP", "c", "90"),
        .changes("SPOP", "c", "0"),
        .changes("SPOP", "c", "100"),
        .changes("SPOP", "missing", "5"),
        .changes("SADD", "d", "1", "2", "3"),
        .changes("SINTERSTORE", "e", "d", "b"),
        .changes("SINTERSTORE", "e", "d", "missing"),
        .changes("SINTERSTORE", "e", "d", "missing"),
        .changes("SINTERSTORE", "e", "d", "d"),
        .changes("SUNIONSTORE", "f", "d", "b"),
        .changes("SDIFFSTORE", "g", "d", "d"),
        .changes("SDIFFSTORE", "g", "d", "d"),
        .changes("SDIFFSTORE", "f", "d", "d"),
        .changes("SUNIONSTORE", "f", "missing"),
        .changes("SUNIONSTORE", "f", "d"),
        .changes("SINTER", "d", "b"),
        .changes("SINTER", "d", "missing"),
        .changes("SUNION", "d", "missing"),
        .changes("SINTERCARD", "2", "d", "b"),
        .changes("SUNIONSTORE", "h", "d", "missing"),
        .changes("SDIFFSTORE", "h", "d", "b"),
        .changes("SRANDMEMBER", "d", "2"),
        .changes("SRANDMEMBER", "missing", "2"),
        .changes("SRANDMEMBER", "d"),
        .changes("SCARD", "d"),
        .changes("SISMEMBER", "d", "1"),
        .changes("SMISMEMBER", "missing", "1"),
        .changes("SMEMBERS", "d"),
        .changes("SSCAN", "d", "0"),
        .changes("SSCAN", "missing", "0"),
        ["SADD", "p", "1", "2", "3"],
        .changes("SPOP", "p", "1"),
        .changes("SPOP", "missing", "1"),
        .changes("SMOVE", "d", "b", "2"),
        .changes("SREM", "d", "1", "2", "3", "4"),
    ])
}
