/*
 * HashScripts.swift — differential scripts for the hash commands.
 *
 * HSET HSETNX HGET HMSET HMGET HDEL HLEN HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD
 * HSCAN: replies and errors (arity, WRONGTYPE, non-integer / non-float values, overflow, syntax), the listpack
 * -> hashtable conversion exactly at hash-max-listpack-entries / -value (OBJECT ENCODING), DEBUG DIGEST and
 * DIGEST-VALUE after mutations, COPY/RENAME of both encodings, and RESP3 replies (maps, nested pairs, nulls).
 *
 * A listpack replies in insertion order on both servers, so small hashes are compared exactly. A hashtable's
 * order is unspecified: HGETALL uses `.unorderedMap`, HKEYS/HVALS `.sorted`, HSCAN a full-iteration probe and
 * HRANDFIELD a probe that checks the sample against HGETALL (length, membership, values, distinctness).
 */

import Foundation
import Testing

@Suite struct HashCommandTests {
    @Test(arguments: HashScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }
}

enum HashScripts {
    static let all: [Script] = [
        basics, missingAndEmpty, arityAndWrongType, hincrby, hincrbyfloat, entriesThreshold, valueThreshold,
        smallThresholds, zeroEntries, hashtableOperations, hrandfield, hrandfieldErrors, hscanListpack,
        hscanHashtable, resp3, digestCopyRename,
    ]

    /// `HSET key f1 v1 ... fn vn` with fields `<prefix>1...` and values `v1...`.
    static func fill(_ key: String, _ range: ClosedRange<Int>, prefix: String = "f") -> Step {
        Step(.command(["HSET", key] + range.flatMap { ["\(prefix)\($0)", "v\($0)"] }))
    }

    static let basics = Script("hash-basics", [
        ["HSET", "h", "a", "1"],
        ["HSET", "h", "a", "2"],
        ["HSET", "h", "b", "x", "c", "y", "b", "z"],
        ["HGET", "h", "a"],
        ["HGET", "h", "b"],
        ["HGET", "h", "nofield"],
        ["HGETALL", "h"],
        ["HKEYS", "h"],
        ["HVALS", "h"],
        ["HLEN", "h"],
        ["HMSET", "h", "d", "4", "e", "-5"],
        ["HMGET", "h", "a", "nofield", "d", "e", "a"],
        ["HSTRLEN", "h", "e"],
        ["HSTRLEN", "h", "b"],
        ["HSTRLEN", "h", "nofield"],
        ["HEXISTS", "h", "a"],
        ["HEXISTS", "h", "nofield"],
        ["HSETNX", "h", "a", "new"],
        ["HSETNX", "h", "n", "new"],
        ["HGET", "h", "n"],
        ["HSET", "h", "", ""],
        ["HGET", "h", ""],
        ["HSTRLEN", "h", ""],
        ["HSET", "h", "bin\u{0}\r\n", "v\u{0}\u{1}"],
        ["HGET", "h", "bin\u{0}\r\n"],
        // Integer-looking values and fields, canonical or not.
        ["HSET", "h", "12", "007", "-0", "-1", "9223372036854775807", "-9223372036854775808"],
        ["HSET", "h", "99999999999999999999", "1.0"],
        ["HGETALL", "h"],
        ["HGET", "h", "12"],
        ["HSTRLEN", "h", "9223372036854775807"],
        ["HSTRLEN", "h", "-0"],
        ["OBJECT", "ENCODING", "h"],
        ["TYPE", "h"],
        ["HDEL", "h", "a", "a", "nofield", "b"],
        ["HDEL", "h", "zzz"],
        ["HGETALL", "h"],
        ["HLEN", "h"],
        ["HSET", "one", "f", "v"],
        ["HDEL", "one", "f"],
        ["EXISTS", "one"],
        ["HSET", "two", "f", "v", "g", "w"],
        ["HDEL", "two", "f", "g", "h"],
        ["EXISTS", "two"],
        ["DEL", "h"],
        ["EXISTS", "h"],
        ["HSETNX", "fresh", "f", "v"],
        ["HGETALL", "fresh"],
        ["HINCRBY", "fresh2", "f", "5"],
        ["TYPE", "fresh2"],
    ])

    static let missingAndEmpty = Script("hash-missing-key", [
        ["HGET", "nokey", "f"],
        ["HMGET", "nokey", "a", "b"],
        ["HLEN", "nokey"],
        ["HSTRLEN", "nokey", "f"],
        ["HEXISTS", "nokey", "f"],
        ["HKEYS", "nokey"],
        ["HVALS", "nokey"],
        ["HGETALL", "nokey"],
        ["HDEL", "nokey", "f"],
        ["HRANDFIELD", "nokey"],
        ["HRANDFIELD", "nokey", "5"],
        ["HRANDFIELD", "nokey", "-5", "WITHVALUES"],
        ["HRANDFIELD", "nokey", "0"],
        ["HSCAN", "nokey", "0"],
        ["HSCAN", "nokey", "0", "COUNT", "0"],
        ["HSCAN", "nokey", "0", "BOGUS"],
        ["HSCAN", "nokey", "x"],
        ["EXISTS", "nokey"],
        ["DBSIZE"],
    ])

    static let arityAndWrongType = Script("hash-arity-wrongtype", [
        ["HSET", "h"],
        ["HSET", "h", "f"],
        ["HSET", "h", "f", "v", "g"],
        ["HMSET", "h", "f"],
        ["HMSET", "h", "f", "v", "g"],
        ["EXISTS", "h"],
        ["HSETNX", "h", "f"],
        ["HSETNX", "h", "f", "v", "x"],
        ["HGET", "h"],
        ["HGET", "h", "f", "g"],
        ["HMGET", "h"],
        ["HDEL", "h"],
        ["HLEN"],
        ["HLEN", "h", "x"],
        ["HSTRLEN", "h"],
        ["HEXISTS", "h"],
        ["HKEYS"],
        ["HVALS", "h", "x"],
        ["HGETALL"],
        ["HINCRBY", "h", "f"],
        ["HINCRBYFLOAT", "h", "f"],
        ["HRANDFIELD"],
        ["HSCAN", "h"],
        ["SET", "s", "string"],
        ["HSET", "s", "f", "v"],
        ["HMSET", "s", "f", "v"],
        ["HSETNX", "s", "f", "v"],
        ["HGET", "s", "f"],
        ["HMGET", "s", "f"],
        ["HDEL", "s", "f"],
        ["HLEN", "s"],
        ["HSTRLEN", "s", "f"],
        ["HEXISTS", "s", "f"],
        ["HKEYS", "s"],
        ["HVALS", "s"],
        ["HGETALL", "s"],
        ["HINCRBY", "s", "f", "1"],
        ["HINCRBY", "s", "f", "x"],
        ["HINCRBYFLOAT", "s", "f", "1"],
        ["HINCRBYFLOAT", "s", "f", "x"],
        ["HRANDFIELD", "s"],
        ["HRANDFIELD", "s", "1"],
        ["HRANDFIELD", "s", "x"],
        ["HSCAN", "s", "0"],
        ["HSCAN", "s", "x"],
        ["GET", "s"],
        ["HSET", "h", "f", "v"],
        ["GET", "h"],
        ["INCR", "h"],
        ["APPEND", "h", "x"],
    ])

    static let hincrby = Script("hash-hincrby", [
        ["HINCRBY", "h", "n", "5"],
        ["HINCRBY", "h", "n", "-12"],
        ["HINCRBY", "h", "n", "0"],
        ["HGET", "h", "n"],
        ["HINCRBY", "h", "m", "-9223372036854775808"],
        ["HINCRBY", "h", "m", "-1"],
        ["HINCRBY", "h", "m", "9223372036854775807"],
        ["HINCRBY", "h", "m", "1"],
        ["HINCRBY", "h", "p", "9223372036854775807"],
        ["HINCRBY", "h", "p", "1"],
        ["HINCRBY", "h", "p", "-1"],
        ["HGETALL", "h"],
        ["HINCRBY", "h", "n", "x"],
        ["HINCRBY", "h", "n", "1.5"],
        ["HINCRBY", "h", "n", " 1"],
        ["HINCRBY", "h", "n", "+1"],
        ["HINCRBY", "h", "n", "01"],
        ["HINCRBY", "h", "n", ""],
        ["HINCRBY", "h", "n", "9223372036854775808"],
        ["HSET", "h", "s", "abc", "f", "1.5", "sp", " 1", "lz", "01", "big", "99999999999999999999", "e", ""],
        ["HINCRBY", "h", "s", "1"],
        ["HINCRBY", "h", "f", "1"],
        ["HINCRBY", "h", "sp", "1"],
        ["HINCRBY", "h", "lz", "1"],
        ["HINCRBY", "h", "big", "1"],
        ["HINCRBY", "h", "e", "1"],
        ["HSET", "h", "str", "-17"],
        ["HINCRBY", "h", "str", "20"],
        ["HGETALL", "h"],
        ["OBJECT", "ENCODING", "h"],
        ["HINCRBY", "newkey", "f", "x"],
        ["EXISTS", "newkey"],
        ["DEBUG", "DIGEST-VALUE", "h"],
    ])

    static let hincrbyfloat = Script("hash-hincrbyfloat", [
        ["HINCRBYFLOAT", "h", "f", "1.5"],
        ["HINCRBYFLOAT", "h", "f", "1.5"],
        ["HINCRBYFLOAT", "h", "f", "-0.25"],
        ["HINCRBYFLOAT", "h", "f", "5.0e3"],
        ["HINCRBYFLOAT", "h", "f", "-5002.75"],
        ["HINCRBYFLOAT", "h", "g", "0.1"],
        ["HINCRBYFLOAT", "h", "g", "0.2"],
        ["HINCRBYFLOAT", "h", "i", "10"],
        ["HSET", "h", "int", "100"],
        ["HINCRBYFLOAT", "h", "int", "0.5"],
        ["HINCRBYFLOAT", "h", "int", "-100.5"],
        ["HINCRBYFLOAT", "h", "x", "1e-10"],
        ["HINCRBYFLOAT", "h", "y", "-3"],
        ["HGETALL", "h"],
        ["OBJECT", "ENCODING", "h"],
        ["HINCRBYFLOAT", "h", "f", "abc"],
        ["HINCRBYFLOAT", "h", "f", ""],
        ["HINCRBYFLOAT", "h", "f", " 1"],
        ["HINCRBYFLOAT", "h", "f", "1 "],
        ["HINCRBYFLOAT", "h", "f", "nan"],
        ["HINCRBYFLOAT", "h", "f", "inf"],
        ["HINCRBYFLOAT", "h", "f", "-inf"],
        ["HINCRBYFLOAT", "nokey", "f", "inf"],
        ["EXISTS", "nokey"],
        ["HSET", "h", "s", "abc", "sp", " 1", "n", "nan", "in", "inf", "e", ""],
        ["HINCRBYFLOAT", "h", "s", "1"],
        ["HINCRBYFLOAT", "h", "sp", "1"],
        ["HINCRBYFLOAT", "h", "n", "1"],
        ["HINCRBYFLOAT", "h", "in", "1"],
        ["HINCRBYFLOAT", "h", "e", "1"],
        ["HSET", "h", "max", "1.7976931348623157e308"],
        ["HINCRBYFLOAT", "h", "max", "1.7976931348623157e308"],
        ["HGET", "h", "max"],
        // A result longer than hash-max-listpack-value converts the hash.
        ["HINCRBYFLOAT", "h", "huge", "1e300"],
        ["OBJECT", "ENCODING", "h"],
        ["HGET", "h", "huge"],
        ["HINCRBYFLOAT", "h", "huge", "-1e300"],
        ["HGET", "h", "huge"],
        ["OBJECT", "ENCODING", "h"],
        ["HINCRBYFLOAT", "h", "f", "2.5"],
        ["HINCRBYFLOAT", "h", "s", "1"],
        .unorderedMap("HGETALL", "h"),
        ["DEBUG", "DIGEST-VALUE", "h"],
    ])

    static let entriesThreshold = Script("hash-encoding-entries-512", [
        fill("h", 1...511),
        ["OBJECT", "ENCODING", "h"],
        ["HSET", "h", "f512", "v512"],
        ["OBJECT", "ENCODING", "h"],
        ["HLEN", "h"],
        ["HSET", "h", "f1", "changed"],
        ["OBJECT", "ENCODING", "h"],
        ["HGETALL", "h"],
        ["DEBUG", "DIGEST-VALUE", "h"],
        ["HSET", "h", "f513", "v513"],
        ["OBJECT", "ENCODING", "h"],
        ["HLEN", "h"],
        ["HGET", "h", "f1"],
        ["HGET", "h", "f513"],
        ["DEBUG", "DIGEST-VALUE", "h"],
        // Never back to listpack, even when small again.
        Step(.command(["HDEL", "h"] + (1...510).map { "f\($0)" })),
        ["HLEN", "h"],
        ["OBJECT", "ENCODING", "h"],
        .unorderedMap("HGETALL", "h"),
        // One HSET that crosses the threshold.
        fill("g", 1...513),
        ["OBJECT", "ENCODING", "g"],
        ["HLEN", "g"],
        // HSETNX and HINCRBY crossing it.
        fill("n", 1...512),
        ["HSETNX", "n", "f1", "x"],
        ["OBJECT", "ENCODING", "n"],
        ["HSETNX", "n", "new", "x"],
        ["OBJECT", "ENCODING", "n"],
        fill("i", 1...512),
        ["HINCRBY", "i", "counter", "1"],
        ["OBJECT", "ENCODING", "i"],
        fill("fl", 1...512),
        ["HINCRBYFLOAT", "fl", "counter", "1.5"],
        ["OBJECT", "ENCODING", "fl"],
        ["DEBUG", "DIGEST"],
    ])

    static let v64 = String(repeating: "v", count: 64)
    static let v65 = String(repeating: "v", count: 65)
    static let f64 = String(repeating: "f", count: 64)
    static let f65 = String(repeating: "f", count: 65)

    static let valueThreshold = Script("hash-encoding-value-64", [
        ["HSET", "a", "f", v64],
        ["OBJECT", "ENCODING", "a"],
        ["HSET", "a", f64, "v"],
        ["OBJECT", "ENCODING", "a"],
        ["HSET", "a", "g", v65],
        ["OBJECT", "ENCODING", "a"],
        .unorderedMap("HGETALL", "a"),
        ["HSET", "b", f65, "v"],
        ["OBJECT", "ENCODING", "b"],
        ["HSET", "c", "f", "v", "g", v65],
        ["OBJECT", "ENCODING", "c"],
        // Overwriting an existing field with a long value converts too.
        ["HSET", "d", "f", "short"],
        ["HSET", "d", "f", v65],
        ["OBJECT", "ENCODING", "d"],
        ["HSETNX", "e", "f", v65],
        ["OBJECT", "ENCODING", "e"],
        ["HSET", "e2", "f", "v"],
        ["HSETNX", "e2", "f", v65],
        ["OBJECT", "ENCODING", "e2"],
        ["HMSET", "m", f65, v65],
        ["OBJECT", "ENCODING", "m"],
        ["HGET", "m", f65],
        ["HSTRLEN", "m", f65],
        // 64-digit numbers from HINCRBYFLOAT stay; longer ones convert.
        ["HSET", "x", "f", "1"],
        ["HINCRBYFLOAT", "x", "f", "1e63"],
        ["OBJECT", "ENCODING", "x"],
        ["HINCRBYFLOAT", "x", "f", "1e64"],
        ["OBJECT", "ENCODING", "x"],
        ["HGET", "x", "f"],
        ["DEBUG", "DIGEST"],
    ])

    static let smallThresholds = Script("hash-encoding-config-set", [
        ["CONFIG", "SET", "hash-max-listpack-entries", "4"],
        ["CONFIG", "SET", "hash-max-listpack-value", "8"],
        ["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"],
        ["OBJECT", "ENCODING", "h"],
        ["HSET", "h", "e", "5"],
        ["OBJECT", "ENCODING", "h"],
        ["HSET", "v", "f", "12345678"],
        ["OBJECT", "ENCODING", "v"],
        ["HSET", "v", "f", "123456789"],
        ["OBJECT", "ENCODING", "v"],
        ["HSET", "w", "f", "1"],
        ["HINCRBYFLOAT", "w", "f", "0.5"],
        ["HINCRBYFLOAT", "w", "f", "0.0001"],
        ["OBJECT", "ENCODING", "w"],
        ["HINCRBYFLOAT", "w", "f", "0.00001"],
        ["OBJECT", "ENCODING", "w"],
        ["HSET", "i", "f", "1"],
        ["HINCRBY", "i", "f", "12345677"],
        ["OBJECT", "ENCODING", "i"],
        ["HINCRBY", "i", "f", "100000000"],
        ["OBJECT", "ENCODING", "i"],
        ["CONFIG", "SET", "hash-max-ziplist-entries", "2"],
        ["CONFIG", "GET", "hash-max-listpack-entries"],
        ["HSET", "z", "a", "1", "b", "2"],
        ["OBJECT", "ENCODING", "z"],
        ["HSET", "z", "c", "3"],
        ["OBJECT", "ENCODING", "z"],
        ["DEBUG", "DIGEST"],
    ])

    static let zeroEntries = Script("hash-encoding-zero-entries",
        serverArgs: ["--hash-max-listpack-entries", "0"], [
            ["HSET", "h", "a", "1"],
            ["OBJECT", "ENCODING", "h"],
            ["HSETNX", "n", "a", "1"],
            ["OBJECT", "ENCODING", "n"],
            ["HINCRBY", "i", "a", "1"],
            ["OBJECT", "ENCODING", "i"],
            ["HGETALL", "h"],
            ["HDEL", "h", "a"],
            ["EXISTS", "h"],
        ])

    static let hashtableOperations = Script("hash-hashtable-ops", [
        fill("h", 1...600),
        ["OBJECT", "ENCODING", "h"],
        ["HLEN", "h"],
        ["HGET", "h", "f300"],
        ["HGET", "h", "nofield"],
        ["HMGET", "h", "f1", "f600", "nofield", "f42"],
        ["HEXISTS", "h", "f599"],
        ["HEXISTS", "h", "f601"],
        ["HSTRLEN", "h", "f100"],
        ["HSET", "h", "f1", "x", "f2", String(repeating: "y", count: 1000), "new", "1"],
        ["HGET", "h", "f2"],
        ["HSET", "h", "f2", "short"],
        ["HGET", "h", "f2"],
        ["HSET", "h", "f2", String(repeating: "z", count: 70000)],
        ["HSTRLEN", "h", "f2"],
        ["HSETNX", "h", "f3", "no"],
        ["HSETNX", "h", "f601", "yes"],
        ["HINCRBY", "h", "new", "41"],
        ["HINCRBY", "h", "f1", "1"],
        ["HINCRBYFLOAT", "h", "new", "0.5"],
        ["HINCRBYFLOAT", "h", "f1", "1"],
        ["HGET", "h", "new"],
        .sorted("HKEYS", "h"),
        .sorted("HVALS", "h"),
        .unorderedMap("HGETALL", "h"),
        ["DEBUG", "DIGEST-VALUE", "h"],
        Step(.command(["HDEL", "h"] + (1...400).map { "f\($0)" } + ["nofield"])),
        ["HLEN", "h"],
        ["OBJECT", "ENCODING", "h"],
        ["DEBUG", "DIGEST-VALUE", "h"],
        Step(.command(["HDEL", "h"] + (401...601).map { "f\($0)" })),
        ["HGETALL", "h"],
        ["HDEL", "h", "new", "x"],
        ["EXISTS", "h"],
        fill("big", 1...1000),
        ["HLEN", "big"],
        ["DEL", "big"],
        fill("big", 1...700),
        ["FLUSHALL"],
        ["DBSIZE"],
    ])

    static let hrandfield = Script("hash-hrandfield", [
        ["HSET", "one", "f", "v"],
        ["HRANDFIELD", "one"],
        ["HRANDFIELD", "one", "1"],
        ["HRANDFIELD", "one", "1", "WITHVALUES"],
        ["HRANDFIELD", "one", "-3"],
        ["HRANDFIELD", "one", "-3", "withvalues"],
        ["HRANDFIELD", "one", "0"],
        ["HRANDFIELD", "one", "0", "WITHVALUES"],
        ["HRANDFIELD", "one", "100", "WITHVALUES"],
        fill("small", 1...10),
        ["HSET", "small", "7", "77", "-8", "x"],
        // At least the whole hash: the whole hash in listpack order.
        ["HRANDFIELD", "small", "12"],
        ["HRANDFIELD", "small", "100", "WITHVALUES"],
        .typeOnly("HRANDFIELD", "small"),
        .probe("hrandfield small 5") { c in try HashProbes.hrandfield(c, "small", 5, withValues: false) },
        .probe("hrandfield small 11 wv") { c in try HashProbes.hrandfield(c, "small", 11, withValues: true) },
        .probe("hrandfield small -30 wv") { c in try HashProbes.hrandfield(c, "small", -30, withValues: true) },
        .probe("hrandfield small -1") { c in try HashProbes.hrandfield(c, "small", -1, withValues: false) },
        .probe("hrandfield small 1 wv") { c in try HashProbes.hrandfield(c, "small", 1, withValues: true) },
        .probe("hrandfield small -2000") { c in try HashProbes.hrandfield(c, "small", -2000, withValues: false) },
        fill("big", 1...1000),
        .sorted("HRANDFIELD", "big", "1000"),
        .sorted("HRANDFIELD", "big", "5000", "WITHVALUES"),
        .typeOnly("HRANDFIELD", "big"),
        .probe("hrandfield big 10") { c in try HashProbes.hrandfield(c, "big", 10, withValues: false) },
        .probe("hrandfield big 400 wv") { c in try HashProbes.hrandfield(c, "big", 400, withValues: true) },
        .probe("hrandfield big 999 wv") { c in try HashProbes.hrandfield(c, "big", 999, withValues: true) },
        .probe("hrandfield big -50 wv") { c in try HashProbes.hrandfield(c, "big", -50, withValues: true) },
        .probe("hrandfield big 1") { c in try HashProbes.hrandfield(c, "big", 1, withValues: false) },
        .ignore("HELLO", "3"),
        ["HRANDFIELD", "one", "1", "WITHVALUES"],
        ["HRANDFIELD", "one", "-2", "WITHVALUES"],
        ["HRANDFIELD", "small", "12", "WITHVALUES"],
        ["HRANDFIELD", "nokey"],
        ["HRANDFIELD", "nokey", "3", "WITHVALUES"],
        .probe("resp3 hrandfield small 4 wv") { c in try HashProbes.hrandfield(c, "small", 4, withValues: true) },
        .probe("resp3 hrandfield small -9 wv") { c in try HashProbes.hrandfield(c, "small", -9, withValues: true) },
        .probe("resp3 hrandfield big 20 wv") { c in try HashProbes.hrandfield(c, "big", 20, withValues: true) },
        .probe("resp3 hrandfield big -20 wv") { c in try HashProbes.hrandfield(c, "big", -20, withValues: true) },
        .probe("resp3 hrandfield big 900") { c in try HashProbes.hrandfield(c, "big", 900, withValues: false) },
    ])

    static let hrandfieldErrors = Script("hash-hrandfield-errors", [
        ["HSET", "h", "a", "1"],
        ["HRANDFIELD", "h", "x"],
        ["HRANDFIELD", "h", "1.5"],
        ["HRANDFIELD", "h", "-9223372036854775808"],
        ["HRANDFIELD", "h", "9223372036854775808"],
        ["HRANDFIELD", "h", "1", "WITHVALUE"],
        ["HRANDFIELD", "h", "1", "WITHVALUES", "x"],
        ["HRANDFIELD", "h", "9223372036854775807", "withvalues"],
        ["HRANDFIELD", "h", "4611686018427387903", "withvalues"],
        ["HRANDFIELD", "h", "4611686018427387904", "withvalues"],
        ["HRANDFIELD", "h", "-4611686018427387904", "withvalues"],
        ["HRANDFIELD", "h", "9223372036854775807"],
        ["HRANDFIELD", "nokey", "x"],
        ["HRANDFIELD", "nokey", "1", "bogus"],
        ["HRANDFIELD", "nokey", "-9223372036854775808"],
        ["SET", "s", "v"],
        ["HRANDFIELD", "s", "x"],
        ["HRANDFIELD", "s", "1", "bogus"],
        ["HRANDFIELD", "s", "1", "WITHVALUES"],
    ])

    static let hscanListpack = Script("hash-hscan-listpack", [
        fill("h", 1...20),
        ["HSET", "h", "12", "int", "x1", "7"],
        ["HSCAN", "h", "0"],
        ["HSCAN", "h", "0", "COUNT", "1"],
        ["HSCAN", "h", "0", "count", "100"],
        ["HSCAN", "h", "0", "MATCH", "f1*"],
        ["HSCAN", "h", "0", "MATCH", "1*"],
        ["HSCAN", "h", "0", "MATCH", "*", "COUNT", "2"],
        ["HSCAN", "h", "0", "MATCH", "nothing*"],
        ["HSCAN", "h", "0", "MATCH", "f?", "MATCH", "x*"],
        ["HSCAN", "h", "123"],
        ["HSCAN", "h", "-1"],
        ["HSCAN", "h", "+5"],
        ["HSCAN", "h", "x"],
        ["HSCAN", "h", "1.5"],
        ["HSCAN", "h", "18446744073709551616"],
        ["HSCAN", "h", "0", "COUNT", "0"],
        ["HSCAN", "h", "0", "COUNT", "-1"],
        ["HSCAN", "h", "0", "COUNT", "x"],
        ["HSCAN", "h", "0", "COUNT"],
        ["HSCAN", "h", "0", "MATCH"],
        ["HSCAN", "h", "0", "TYPE", "string"],
        ["HSCAN", "h", "0", "BOGUS", "1"],
        ["HSCAN", "h", "x", "COUNT", "0"],
        ["HSCAN", "h", "0", "NOVALUES"],
    ])

    static let hscanHashtable = Script("hash-hscan-hashtable", [
        fill("h", 1...1000),
        ["HSET", "h", "12", "int", "x1", "7", String(repeating: "L", count: 100), "long"],
        .probe("hscan all") { c in try HashProbes.hscanAll(c, "h", []) },
        .probe("hscan count 1") { c in try HashProbes.hscanAll(c, "h", ["COUNT", "1"]) },
        .probe("hscan count 1000") { c in try HashProbes.hscanAll(c, "h", ["COUNT", "1000"]) },
        .probe("hscan match f1*") { c in try HashProbes.hscanAll(c, "h", ["MATCH", "f1*"]) },
        .probe("hscan match *2 count 50") { c in try HashProbes.hscanAll(c, "h", ["MATCH", "*2", "COUNT", "50"]) },
        .probe("hscan match none") { c in try HashProbes.hscanAll(c, "h", ["MATCH", "none*"]) },
        ["HSCAN", "h", "0", "COUNT", "0"],
        ["HSCAN", "h", "0", "TYPE", "hash"],
        ["HSCAN", "h", "bad"],
        Step(.command(["HDEL", "h"] + (1...990).map { "f\($0)" })),
        .probe("hscan after deletes") { c in try HashProbes.hscanAll(c, "h", []) },
        ["HSET", "small", "a", "1"],
        .probe("hscan listpack via probe") { c in try HashProbes.hscanAll(c, "small", ["COUNT", "1"]) },
    ])

    static let resp3 = Script("hash-resp3", [
        .ignore("HELLO", "3"),
        ["HSET", "h", "a", "1", "b", "two", "c", "-3"],
        ["HGETALL", "h"],
        ["HKEYS", "h"],
        ["HVALS", "h"],
        ["HGET", "h", "a"],
        ["HGET", "h", "nofield"],
        ["HGET", "nokey", "a"],
        ["HMGET", "h", "a", "nofield", "c"],
        ["HMGET", "nokey", "a", "b"],
        ["HGETALL", "nokey"],
        ["HKEYS", "nokey"],
        ["HVALS", "nokey"],
        ["HRANDFIELD", "nokey"],
        ["HRANDFIELD", "nokey", "2"],
        ["HRANDFIELD", "h", "3", "WITHVALUES"],
        ["HRANDFIELD", "h", "0", "WITHVALUES"],
        ["HSCAN", "h", "0"],
        ["HSCAN", "nokey", "0"],
        ["HINCRBYFLOAT", "h", "f", "1.5"],
        ["HINCRBY", "h", "i", "7"],
        ["HLEN", "h"],
        ["HSET", "s", "f", "v"],
        ["HSET", "str", "x"],
        ["SET", "str", "x"],
        ["HGETALL", "str"],
        fill("big", 1...600),
        .unorderedMap("HGETALL", "big"),
        .sorted("HKEYS", "big"),
        .ignore("HELLO", "2"),
        ["HGETALL", "h"],
        ["HGETALL", "nokey"],
    ])

    static let digestCopyRename = Script("hash-digest-copy-rename", [
        ["DEBUG", "DIGEST"],
        ["HSET", "h", "a", "1", "b", "2", "c", "value"],
        ["DEBUG", "DIGEST"],
        ["DEBUG", "DIGEST-VALUE", "h"],
        ["HSET", "h2", "c", "value", "b", "2", "a", "1"],
        ["DEBUG", "DIGEST-VALUE", "h", "h2"],
        ["HDEL", "h", "b"],
        ["DEBUG", "DIGEST-VALUE", "h"],
        ["HINCRBY", "h", "a", "10"],
        ["DEBUG", "DIGEST-VALUE", "h"],
        ["COPY", "h", "hc"],
        ["HSET", "hc", "new", "x"],
        ["HGETALL", "h"],
        ["HGETALL", "hc"],
        ["OBJECT", "ENCODING", "hc"],
        ["DEBUG", "DIGEST"],
        fill("big", 1...600),
        ["DEBUG", "DIGEST-VALUE", "big"],
        ["COPY", "big", "bigc"],
        ["OBJECT", "ENCODING", "bigc"],
        ["DEBUG", "DIGEST-VALUE", "big", "bigc"],
        ["HDEL", "bigc", "f1", "f2"],
        ["HSET", "bigc", "f3", "changed"],
        ["HLEN", "big"],
        ["HLEN", "bigc"],
        ["HGET", "big", "f3"],
        ["DEBUG", "DIGEST-VALUE", "big", "bigc"],
        ["RENAME", "bigc", "moved"],
        ["HGET", "moved", "f3"],
        ["OBJECT", "ENCODING", "moved"],
        ["COPY", "h", "big", "REPLACE"],
        ["HGETALL", "big"],
        ["SET", "moved", "string now"],
        ["GET", "moved"],
        ["EXPIRE", "h", "1000"],
        ["DEBUG", "DIGEST"],
        ["DEL", "h", "h2", "hc", "big", "moved"],
        ["DEBUG", "DIGEST"],
        ["DBSIZE"],
    ])
}

// MARK: - Probes

enum HashProbes {
    static func pairs(_ v: RESPValue) -> [([UInt8], [UInt8])]? {
        guard let e = v.elements, e.count % 2 == 0 else { return nil }
        var out: [([UInt8], [UInt8])] = []
        for i in stride(from: 0, to: e.count, by: 2) {
            guard case .bulk(let f) = e[i], case .bulk(let x) = e[i + 1] else { return nil }
            out.append((f, x))
        }
        return out
    }

    /// Iterates HSCAN to cursor 0 (≤ 10 000 calls); returns the pairs seen, sorted by field, or the first error.
    static func hscanAll(_ c: RawClient, _ key: String, _ options: [String]) throws -> RESPValue {
        var cursor = "0"
        var seen: [[UInt8]: [UInt8]] = [:]
        for _ in 0..<10_000 {
            let reply = try c.callValue(["HSCAN", key, cursor] + options)
            if reply.isError { return reply }
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text,
                  let page = pairs(parts[1])
            else { return .error("probe: unexpected HSCAN reply \(RESP.escape(reply.encoded))") }
            for (f, v) in page {
                if let old = seen[f], old != v { return .error("probe: field returned with two values") }
                seen[f] = v
            }
            cursor = next
            if cursor == "0" {
                let sorted = seen.keys.sorted { $0.lexicographicallyPrecedes($1) }
                return .array(sorted.flatMap { [RESPValue.bulk($0), .bulk(seen[$0]!)] })
            }
        }
        return .error("probe: HSCAN did not finish within 10000 calls")
    }

    /// Calls HRANDFIELD and checks the sample against HGETALL: its length (min(count, size) for a positive
    /// count, -count for a negative one), membership, values, and distinctness for a positive count. Returns
    /// the sample's length and "ok", or an error describing what is wrong.
    static func hrandfield(_ c: RawClient, _ key: String, _ count: Int, withValues: Bool) throws -> RESPValue {
        guard let all = pairs(try c.callValue(["HGETALL", key])) else { return .error("probe: HGETALL failed") }
        var truth: [[UInt8]: [UInt8]] = [:]
        for (f, v) in all { truth[f] = v }
        let reply = try c.callValue(["HRANDFIELD", key, String(count)] + (withValues ? ["WITHVALUES"] : []))
        if reply.isError { return reply }
        guard let elements = reply.elements else { return .error("probe: not an aggregate") }
        var sample: [([UInt8], [UInt8]?)] = []
        if withValues {
            if let first = elements.first, case .array = first {
                for pair in elements {
                    guard let p = pairs(pair), p.count == 1 else { return .error("probe: bad RESP3 pair") }
                    sample.append((p[0].0, p[0].1))
                }
            } else {
                guard let p = pairs(reply) else { return .error("probe: bad flat pairs") }
                sample = p.map { ($0.0, $0.1) }
            }
        } else {
            for e in elements {
                guard case .bulk(let f) = e else { return .error("probe: not a bulk") }
                sample.append((f, nil))
            }
        }
        let expected = count >= 0 ? min(count, truth.count) : -count
        if sample.count != expected { return .error("probe: \(sample.count) elements, expected \(expected)") }
        for (f, v) in sample {
            guard let t = truth[f] else { return .error("probe: unknown field") }
            if let v, v != t { return .error("probe: wrong value") }
        }
        if count > 0 && Set(sample.map { $0.0 }).count != sample.count { return .error("probe: repeated field") }
        return .array([.integer(Int64(sample.count)), .simple("ok")])
    }
}
