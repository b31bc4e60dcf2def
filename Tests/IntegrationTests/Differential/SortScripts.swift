/*
 * SortScripts.swift — differential scripts for SORT and SORT_RO: numeric and ALPHA order,
 * ASC/DESC, LIMIT (negative, huge, past the end), BY patterns (string weights, hash fields
 * with "->", missing weights, the first '*' only, "nosort"), GET patterns ("#", several,
 * missing → nil, hash fields), STORE (count, replaced destination of any type, TTL dropped,
 * empty result deletes the destination, dirty counts), the three source types (lists; sets,
 * whose BY-nosort order is a table order unless STORE forces ALPHA; sorted sets, whose nosort
 * keeps score order and which SORT converts to a skiplist), errors in Redis's order,
 * keyspace hit/miss counting of pattern lookups, and RESP3 nulls.
 *
 * Replies that walk a hash-table set without sorting are compared with `.sorted`. Everything
 * else is deterministic in Redis: numeric ties are broken by the element's bytes, and ALPHA BY
 * ties keep the input order through glibc's stable qsort or fall where Redis's pqsort puts
 * them (BY with LIMIT) — the big-list scripts compare those exactly.
 */

import Testing

@Suite struct SortCommandTests {
    @Test(arguments: SortScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }
}

enum SortProbes {
    /// A counter from an INFO section.
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

    /// Runs a command; returns [reply, dirty delta, keyspace_hits delta, keyspace_misses delta].
    static func changes(_ c: RawClient, _ args: [String]) throws -> RESPValue {
        let before = try counters(c)
        let reply = try c.callValue(args)
        let after = try counters(c)
        return .array([reply] + zip(after, before).map { .integer($0 - $1) })
    }
}

extension Step {
    static func sortChanges(_ args: String...) -> Step {
        .probe("changes counted by " + args.joined(separator: " ")) { c in try SortProbes.changes(c, args) }
    }
}

enum SortScripts {
    static let all: [Script] = [
        numeric, numericErrors, alpha, limits, byPattern, getPattern, patternEdges, nosortLists, sets,
        sortedSets, store, storeCounts, sortRO, errors, hitsAndMisses, expiredPatternKeys, transactions,
        resp3, bigPartialSort, bigSets,
    ]

    static func cmd(_ args: [String]) -> Step { Step(.command(args)) }

    static let numeric = Script("sort-numeric", [
        ["RPUSH", "l", "3", "1", "2", "10", "-5", "1.5", "-0", "0", "1e2", "0x10", " 7", "inf", "-inf", ""],
        ["SORT", "l"],
        ["SORT", "l", "DESC"],
        ["SORT", "l", "ASC"],
        ["SORT", "l", "desc", "asc"],
        ["RPUSH", "ties", "1.0", "1", "01", "1e0", "+1", "0.1e1"],
        ["SORT", "ties"],
        ["SORT", "ties", "DESC"],
        ["RPUSH", "big", "9223372036854775807", "-9223372036854775808", "9007199254740993", "9007199254740992",
         "1e308", "-1e308", "2.2250738585072014e-308"],
        ["SORT", "big"],
        ["SORT", "big", "DESC"],
        ["RPUSH", "nul", "5\u{0}junk", "4", "6"],
        ["SORT", "nul"],
        ["SORT", "missing"],
        ["SORT", "missing", "DESC", "LIMIT", "0", "5"],
    ])

    static let numericErrors = Script("sort-numeric-errors", [
        ["RPUSH", "a", "1", "x", "2"],
        ["SORT", "a"],
        ["SORT", "a", "DESC", "LIMIT", "0", "1"],
        ["SORT", "a", "ALPHA"],
        ["RPUSH", "b", "5 "],
        ["SORT", "b"],
        ["RPUSH", "c", "nan"],
        ["SORT", "c"],
        ["RPUSH", "d", "1", "-nan", "3"],
        ["SORT", "d"],
        ["SORT", "d", "STORE", "dst"],
        ["EXISTS", "dst"],
        ["SORT", "d", "BY", "nosort"],
        // ERANGE (overflow, and underflow to a subnormal or zero) is an error too. Redis reads
        // errno without clearing it, so an ERANGE stays until some syscall fails; a new
        // connection (whose accept loop ends with EAGAIN) clears it: reconnect after each.
        ["RPUSH", "e", "1e400"],
        ["SORT", "e"],
        .reconnect,
        ["RPUSH", "ok", "2", "1"],
        ["SORT", "ok"],
        ["RPUSH", "f", "-1e400"],
        ["SORT", "f"],
        .reconnect,
        ["SORT", "ok"],
        ["RPUSH", "g", "4.9e-324", "1"],
        ["SORT", "g"],
        .reconnect,
        ["RPUSH", "h", "1e-400"],
        ["SORT", "h"],
        .reconnect,
        ["SORT", "ok"],
    ])

    static let alpha = Script("sort-alpha", [
        ["RPUSH", "l", "z", "Z", "a", "é", "€", "😀", "a b", "a-b", "ab", "_a", "1", "10", "9", "", "A", "aa"],
        ["SORT", "l", "ALPHA"],
        ["SORT", "l", "ALPHA", "DESC"],
        ["SORT", "l", "alpha", "limit", "2", "3"],
        ["SORT", "l", "ALPHA", "STORE", "dst"],
        ["LRANGE", "dst", "0", "-1"],
        // Replying compares as strcoll (stops at NUL); storing as memcmp + length.
        ["RPUSH", "n", "a\u{0}c", "a\u{0}b", "a", "a\u{0}a", "b"],
        ["SORT", "n", "ALPHA"],
        ["SORT", "n", "ALPHA", "DESC"],
        ["SORT", "n", "ALPHA", "STORE", "nd"],
        ["LRANGE", "nd", "0", "-1"],
        ["SORT", "n", "ALPHA", "DESC", "STORE", "nd"],
        ["LRANGE", "nd", "0", "-1"],
        ["SORT", "missing", "ALPHA"],
    ])

    static let limits = Script("sort-limit", [
        ["RPUSH", "l", "5", "3", "8", "1", "9", "2"],
        ["SORT", "l", "LIMIT", "0", "2"],
        ["SORT", "l", "LIMIT", "2", "2"],
        ["SORT", "l", "LIMIT", "4", "10"],
        ["SORT", "l", "LIMIT", "5", "1"],
        ["SORT", "l", "LIMIT", "6", "1"],
        ["SORT", "l", "LIMIT", "100", "1"],
        ["SORT", "l", "LIMIT", "0", "0"],
        ["SORT", "l", "LIMIT", "-3", "2"],
        ["SORT", "l", "LIMIT", "2", "-1"],
        ["SORT", "l", "LIMIT", "2", "-100"],
        ["SORT", "l", "LIMIT", "9223372036854775807", "9223372036854775807"],
        ["SORT", "l", "LIMIT", "-9223372036854775808", "9223372036854775807"],
        ["SORT", "l", "LIMIT", "1", "9223372036854775807", "DESC"],
        ["SORT", "l", "LIMIT", "0", "1", "LIMIT", "3", "2"],
        ["SORT", "l", "DESC", "LIMIT", "1", "2"],
        ["SORT", "l", "LIMIT", "0", "9223372036854775808"],
        ["SORT", "l", "LIMIT", "a", "1"],
        ["SORT", "l", "LIMIT", "1", "1.5"],
        ["SORT", "l", "LIMIT", "1"],
        ["SORT", "l", "LIMIT"],
        ["SORT", "missing", "LIMIT", "0", "1"],
        ["SORT", "missing", "LIMIT", "5", "1", "BY", "nosort"],
    ])

    static let byPattern = Script("sort-by", [
        ["RPUSH", "l", "3", "1", "2", "10", "4"],
        ["MSET", "w_3", "30", "w_1", "100", "w_2", "-1", "w_10", "2.5"],
        ["SORT", "l", "BY", "w_*"],
        ["SORT", "l", "BY", "w_*", "DESC"],
        ["SORT", "l", "BY", "w_*", "LIMIT", "1", "2"],
        ["SORT", "l", "BY", "w_*", "ALPHA"],
        ["SORT", "l", "BY", "w_*", "ALPHA", "DESC"],
        ["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "0", "3"],
        // Missing weights count as 0 (numeric) or sort first (ALPHA).
        ["SORT", "l", "BY", "nokey_*"],
        ["SORT", "l", "BY", "nokey_*", "DESC"],
        ["SORT", "l", "BY", "nokey_*", "ALPHA"],
        ["SORT", "l", "BY", "nokey_*", "ALPHA", "DESC"],
        ["SORT", "l", "BY", "nokey_*", "ALPHA", "LIMIT", "1", "2"],
        // Hash fields.
        ["HSET", "h_1", "f", "5", "s", "b"],
        ["HSET", "h_3", "f", "-2", "s", "a"],
        ["HSET", "h_10", "f", "7", "s", "c"],
        ["SORT", "l", "BY", "h_*->f"],
        ["SORT", "l", "BY", "h_*->s", "ALPHA"],
        ["SORT", "l", "BY", "h_*->s", "ALPHA", "DESC", "LIMIT", "0", "2"],
        ["SORT", "l", "BY", "h_*->nofield"],
        ["SORT", "l", "BY", "w_*->f"],
        ["SORT", "l", "BY", "h_*"],
        // Weights of other types are missing; bad weights are errors.
        ["RPUSH", "lw_1", "x"],
        ["SORT", "l", "BY", "lw_*"],
        ["SET", "w_4", "abc"],
        ["SORT", "l", "BY", "w_*"],
        ["SORT", "l", "BY", "w_*", "ALPHA"],
        ["SET", "w_4", "1e400"],
        ["SORT", "l", "BY", "w_*"],
        // Redis reads errno without clearing it: an ERANGE stays until a syscall fails (a
        // new connection's accept loop ends with EAGAIN), so reconnect after one.
        .reconnect,
        ["SET", "w_4", "7"],
        ["SORT", "l", "BY", "w_*"],
        ["HSET", "h_4", "f", "zz"],
        ["SORT", "l", "BY", "h_*->f"],
        // The last BY wins; BY without '*' means nosort.
        ["SORT", "l", "BY", "w_*", "BY", "nosort"],
        ["SORT", "l", "BY", "nosort", "BY", "w_*"],
        ["SORT", "l", "BY", "constant", "DESC"],
        // ALPHA weights: strcoll when replying, binary when storing.
        ["MSET", "a_3", "x\u{0}b", "a_1", "x\u{0}a", "a_2", "x", "a_10", "y", "a_4", "x\u{0}c"],
        ["SORT", "l", "BY", "a_*", "ALPHA"],
        ["SORT", "l", "BY", "a_*", "ALPHA", "STORE", "dst"],
        ["LRANGE", "dst", "0", "-1"],
    ])

    static let getPattern = Script("sort-get", [
        ["RPUSH", "l", "3", "1", "2"],
        ["MSET", "o_3", "c", "o_1", "a", "o_2", "b"],
        ["SORT", "l", "GET", "o_*"],
        ["SORT", "l", "GET", "#"],
        ["SORT", "l", "GET", "o_*", "GET", "#", "GET", "nokey_*"],
        ["SORT", "l", "GET", "#", "GET", "#", "DESC", "LIMIT", "1", "5"],
        ["SORT", "l", "GET", "constant"],
        ["SET", "constant", "x"],
        ["SORT", "l", "GET", "constant"],
        ["HSET", "h_1", "f", "one", "n", "10"],
        ["HSET", "h_2", "f", "two"],
        ["SORT", "l", "GET", "h_*->f", "GET", "h_*->n", "GET", "o_*->f"],
        ["SORT", "l", "BY", "h_*->n", "GET", "h_*->f"],
        ["SET", "i_1", "123"],
        ["SET", "i_2", "-9223372036854775808"],
        ["SORT", "l", "GET", "i_*"],
        ["SORT", "l", "BY", "nosort", "GET", "o_*", "GET", "#"],
        ["SORT", "l", "GET", "o_*", "LIMIT", "0", "0"],
        ["SORT", "l", "GET", "o_*", "STORE", "dst"],
        ["LRANGE", "dst", "0", "-1"],
        ["SORT", "l", "GET", "nokey_*", "GET", "#", "STORE", "dst"],
        ["LRANGE", "dst", "0", "-1"],
        ["LLEN", "dst"],
        ["SORT", "missing", "GET", "o_*"],
        ["SORT", "missing", "GET", "o_*", "STORE", "dst"],
        ["EXISTS", "dst"],
    ])

    static let patternEdges = Script("sort-pattern-edges", [
        ["RPUSH", "l", "a", "b"],
        ["SET", "aa", "AA"],
        ["SET", "a*", "A*"],
        ["SET", "a", "plain-a"],
        // Only the first '*' is substituted.
        ["SORT", "l", "GET", "**", "ALPHA"],
        ["SORT", "l", "GET", "*", "ALPHA"],
        ["SORT", "l", "GET", "*", "BY", "nosort"],
        // "->" at the end is part of the key name; "->" before the '*' is too.
        ["SET", "a->", "arrow"],
        ["SORT", "l", "GET", "*->", "ALPHA"],
        ["HSET", "x->a", "f", "hv"],
        ["SORT", "l", "GET", "x->*", "GET", "x->*->f", "ALPHA"],
        // Only the first "->" splits key and field.
        ["HSET", "ha", "f->g", "deep", "f", "shallow"],
        ["SORT", "l", "GET", "h*->f->g", "GET", "h*->f", "ALPHA"],
        ["SORT", "l", "GET", "h*->", "ALPHA"],
        ["SORT", "l", "GET", "h*-", "ALPHA"],
        // "#" only alone.
        ["SORT", "l", "GET", "#*", "ALPHA"],
        ["SORT", "l", "GET", "*#", "ALPHA"],
        ["SET", "#a", "hash-a"],
        ["SORT", "l", "GET", "#*", "ALPHA"],
        ["SORT", "l", "GET", "#\u{0}x", "ALPHA"],
        // A '*' after a NUL is not seen (C strings).
        ["SORT", "l", "GET", "a\u{0}*", "ALPHA"],
        ["SORT", "l", "BY", "a\u{0}*"],
        ["RPUSH", "e", ""],
        ["SET", "pre", "empty-element"],
        ["SORT", "e", "GET", "pre*", "BY", "pre*"],
        ["SORT", "e", "BY", "e*"],
        ["SORT", "e", "GET", "e*"],
        ["SORT", "l", "BY", "*", "ALPHA"],
        ["SORT", "l", "BY", "*", "ALPHA", "DESC"],
    ])

    static let nosortLists = Script("sort-nosort-lists", [
        ["RPUSH", "l", "c", "a", "b", "10", "2", "x"],
        ["SORT", "l", "BY", "nosort"],
        ["SORT", "l", "BY", "nosort", "DESC"],
        ["SORT", "l", "BY", "nosort", "LIMIT", "1", "3"],
        ["SORT", "l", "BY", "nosort", "LIMIT", "1", "3", "DESC"],
        ["SORT", "l", "BY", "nosort", "LIMIT", "4", "10", "DESC"],
        ["SORT", "l", "BY", "nosort", "LIMIT", "6", "1"],
        ["SORT", "l", "BY", "nosort", "LIMIT", "5", "1", "DESC"],
        ["SORT", "l", "BY", "nosort", "LIMIT", "0", "0"],
        ["SORT", "l", "BY", "nosort", "ALPHA"],
        ["SORT", "l", "BY", "nosort", "STORE", "dst", "DESC"],
        ["LRANGE", "dst", "0", "-1"],
        cmd(["RPUSH", "long"] + (0..<300).map { "v\($0)" }),
        ["SORT", "long", "BY", "nosort", "LIMIT", "150", "5"],
        ["SORT", "long", "BY", "nosort", "LIMIT", "150", "5", "DESC"],
        ["SORT", "long", "BY", "nosort", "LIMIT", "297", "10", "DESC"],
    ])

    static let sets = Script("sort-sets", [
        ["SADD", "s", "5", "3", "9", "1", "-7"],
        ["OBJECT", "ENCODING", "s"],
        ["SORT", "s"],
        ["SORT", "s", "DESC", "LIMIT", "1", "2"],
        ["SORT", "s", "BY", "nosort"],
        ["SORT", "s", "BY", "nosort", "DESC"],
        ["SORT", "s", "BY", "nosort", "STORE", "dst"],
        ["LRANGE", "dst", "0", "-1"],
        // With STORE a set is sorted ALPHA even BY nosort (DESC still applies).
        ["SORT", "s", "BY", "nosort", "STORE", "dst", "DESC"],
        ["LRANGE", "dst", "0", "-1"],
        ["SADD", "t", "b", "a", "c", "10", "2", "B"],
        ["OBJECT", "ENCODING", "t"],
        ["SORT", "t", "ALPHA"],
        ["SORT", "t", "ALPHA", "DESC", "LIMIT", "0", "3"],
        ["SORT", "t"],
        .sorted("SORT", "t", "BY", "nosort"),
        .sorted("SORT_RO", "t", "BY", "nosort"),
        ["SORT", "t", "BY", "nosort", "STORE", "dst", "LIMIT", "1", "3"],
        ["LRANGE", "dst", "0", "-1"],
        ["SORT", "t", "BY", "nosort", "LIMIT", "0", "0"],
        ["SORT", "t", "BY", "nosort", "LIMIT", "0", "0", "STORE", "dst"],
        ["EXISTS", "dst"],
        ["MSET", "w_a", "3", "w_b", "1", "w_c", "2", "w_10", "0", "w_2", "9", "w_B", "-1"],
        ["SORT", "t", "BY", "w_*"],
        ["SORT", "t", "BY", "w_*", "GET", "#", "GET", "w_*", "LIMIT", "1", "3"],
        ["SORT", "t", "BY", "w_*", "ALPHA", "DESC"],
        ["SADD", "u", "1", "2"],
        ["SORT", "u", "BY", "nosort", "ALPHA", "STORE", "dst"],
        ["LRANGE", "dst", "0", "-1"],
    ])

    static let sortedSets = Script("sort-sorted-sets", [
        ["ZADD", "z", "3", "a", "1", "b", "2", "c", "0", "10", "-1", "2"],
        ["OBJECT", "ENCODING", "z"],
        ["SORT", "z", "BY", "nosort"],
        // SORT converts a listpack sorted set to a skiplist.
        ["OBJECT", "ENCODING", "z"],
        ["SORT", "z", "BY", "nosort", "DESC"],
        ["SORT", "z", "BY", "nosort", "LIMIT", "1", "2"],
        ["SORT", "z", "BY", "nosort", "LIMIT", "1", "2", "DESC"],
        ["SORT", "z", "BY", "nosort", "LIMIT", "4", "9", "DESC"],
        ["SORT", "z", "BY", "nosort", "LIMIT", "5", "1"],
        ["SORT", "z", "BY", "nosort", "STORE", "dst", "DESC"],
        ["LRANGE", "dst", "0", "-1"],
        ["SORT", "z", "ALPHA"],
        ["SORT", "z", "ALPHA", "DESC"],
        ["SORT", "z"],
        ["ZADD", "y", "1", "x"],
        ["OBJECT", "ENCODING", "y"],
        ["SORT", "y", "LIMIT", "0", "0"],
        ["OBJECT", "ENCODING", "y"],
        ["ZADD", "y", "2", "y"],
        ["ZRANGE", "y", "0", "-1", "WITHSCORES"],
        ["DEBUG", "DIGEST-VALUE", "y"],
        ["ZADD", "v", "1", "x"],
        ["SORT_RO", "v"],
        ["OBJECT", "ENCODING", "v"],
        ["ZADD", "n", "1", "a", "2", "b"],
        ["SORT", "n"],
        ["OBJECT", "ENCODING", "n"],
        cmd(["ZADD", "big"] + (0..<200).flatMap { [String(($0 * 7919) % 200), "m\($0)"] }),
        ["OBJECT", "ENCODING", "big"],
        ["SORT", "big", "BY", "nosort", "LIMIT", "10", "5"],
        ["SORT", "big", "BY", "nosort", "LIMIT", "10", "5", "DESC"],
        ["SORT", "big", "ALPHA", "LIMIT", "0", "10"],
    ])

    static let store = Script("sort-store", [
        ["RPUSH", "l", "3", "1", "2"],
        ["SORT", "l", "STORE", "dst"],
        ["TYPE", "dst"],
        ["OBJECT", "ENCODING", "dst"],
        ["LRANGE", "dst", "0", "-1"],
        ["DEBUG", "DIGEST-VALUE", "dst"],
        // Replaces values of every type and drops the TTL.
        ["SET", "str", "x", "EX", "100"],
        ["SORT", "l", "STORE", "str", "DESC"],
        ["TYPE", "str"],
        ["TTL", "str"],
        ["LRANGE", "str", "0", "-1"],
        ["HSET", "h", "f", "v"],
        ["SORT", "l", "STORE", "h"],
        ["TYPE", "h"],
        ["SADD", "s", "a"],
        ["SORT", "l", "STORE", "s"],
        ["LRANGE", "s", "0", "-1"],
        ["ZADD", "z", "1", "a"],
        ["SORT", "l", "STORE", "z", "LIMIT", "1", "1"],
        ["LRANGE", "z", "0", "-1"],
        // Storing onto the sorted key.
        ["SORT", "l", "STORE", "l", "DESC"],
        ["LRANGE", "l", "0", "-1"],
        ["SORT", "l", "ALPHA", "STORE", "l"],
        ["LRANGE", "l", "0", "-1"],
        // An empty result deletes the destination.
        ["SORT", "missing", "STORE", "str"],
        ["EXISTS", "str"],
        ["SORT", "l", "LIMIT", "5", "5", "STORE", "h"],
        ["EXISTS", "h"],
        ["SORT", "l", "LIMIT", "5", "5", "STORE", "nothere"],
        ["EXISTS", "nothere"],
        // STORE as the last option wins; STORE and GET.
        ["SORT", "l", "STORE", "a", "STORE", "b"],
        ["EXISTS", "a", "b"],
        cmd(["RPUSH", "long"] + (0..<400).map { String((($0 * 37) % 400)) }),
        ["SORT", "long", "STORE", "longdst"],
        ["LLEN", "longdst"],
        ["OBJECT", "ENCODING", "longdst"],
        ["LINDEX", "longdst", "0"],
        ["LINDEX", "longdst", "-1"],
        ["LINDEX", "longdst", "200"],
        ["DEBUG", "DIGEST-VALUE", "longdst"],
        ["DEBUG", "DIGEST"],
        ["DBSIZE"],
    ])

    static let storeCounts = Script("sort-store-counts", [
        ["RPUSH", "l", "3", "1", "2"],
        .sortChanges("SORT", "l", "STORE", "d"),
        .sortChanges("SORT", "l", "STORE", "d", "GET", "#", "GET", "x_*"),
        .sortChanges("SORT", "l", "STORE", "d", "LIMIT", "0", "0"),
        .sortChanges("SORT", "l", "STORE", "d", "LIMIT", "0", "0"),
        .sortChanges("SORT", "missing", "STORE", "l"),
        .sortChanges("SORT", "missing", "STORE", "l"),
        .sortChanges("SORT", "l", "STORE", "d"),
        ["RPUSH", "l", "a"],
        .sortChanges("SORT", "l", "STORE", "d"),
        .sortChanges("SORT", "l", "BY", "nosort"),
    ])

    static let sortRO = Script("sort-ro", [
        ["RPUSH", "l", "3", "1", "2"],
        ["SORT_RO", "l"],
        ["SORT_RO", "l", "DESC", "LIMIT", "0", "2", "ALPHA"],
        ["MSET", "w_1", "3", "w_2", "2", "w_3", "1"],
        ["SORT_RO", "l", "BY", "w_*", "GET", "#", "GET", "w_*"],
        ["SORT_RO", "l", "BY", "nosort", "DESC"],
        ["SORT_RO", "l", "STORE", "dst"],
        ["SORT_RO", "l", "STORE"],
        ["EXISTS", "dst"],
        ["SORT_RO", "missing"],
        ["SORT_RO"],
        ["SET", "str", "x"],
        ["SORT_RO", "str"],
        ["SORT_RO", "str", "bad"],
        ["SADD", "s", "1", "2", "3"],
        ["SORT_RO", "s", "BY", "nosort"],
        ["SORT_RO", "s", "BY", "nosort", "DESC"],
        ["ZADD", "z", "2", "a", "1", "b"],
        ["SORT_RO", "z", "BY", "nosort"],
        ["OBJECT", "ENCODING", "z"],
        .sortChanges("SORT_RO", "l", "BY", "w_*", "GET", "w_*", "GET", "nokey_*"),
    ])

    static let errors = Script("sort-errors", [
        ["SORT"],
        ["SORT_RO"],
        ["SET", "str", "x"],
        ["HSET", "h", "f", "v"],
        ["SORT", "str"],
        ["SORT", "h"],
        ["SORT", "h", "ALPHA", "STORE", "d"],
        ["EXISTS", "d"],
        // Option errors come before the type check, in argument order.
        ["SORT", "str", "nonsense"],
        ["SORT", "str", "LIMIT", "x", "1"],
        ["SORT", "str", "LIMIT", "1"],
        ["SORT", "str", "BY"],
        ["SORT", "str", "GET"],
        ["SORT", "str", "STORE"],
        ["SORT", "str", "LIMIT", "x", "y", "nonsense"],
        ["SORT", "str", "nonsense", "LIMIT", "x", "y"],
        ["RPUSH", "l", "1"],
        ["SORT", "l", "ASC", "DESC", "ALPHA", "ALPHA"],
        ["SORT", "l", "asc", "dEsC", "alpha", "Limit", "0", "1", "by", "NOSORT", "get", "#", "store", "d"],
        ["LRANGE", "d", "0", "-1"],
        ["SORT", "l", "STORE", "d", "extra"],
        ["SORT", "l", "LIMIT", "0", "1", "2"],
        ["SORT", "l", "GET", "#", "GET"],
        ["SORT", "l", "BY", "w_*", "BY"],
        ["SORT", "l", "DESCX"],
    ])

    static let hitsAndMisses = Script("sort-hits-misses", [
        ["RPUSH", "l", "3", "1", "2"],
        ["MSET", "w_1", "1", "w_2", "2", "o_1", "a"],
        .sortChanges("SORT", "l"),
        .sortChanges("SORT", "missing"),
        .sortChanges("SORT", "l", "BY", "w_*"),
        .sortChanges("SORT", "l", "BY", "w_*", "LIMIT", "0", "1"),
        .sortChanges("SORT", "l", "GET", "o_*"),
        .sortChanges("SORT", "l", "GET", "o_*", "LIMIT", "0", "1"),
        .sortChanges("SORT", "l", "GET", "#", "GET", "constant"),
        .sortChanges("SORT", "l", "BY", "nosort", "GET", "o_*"),
        .sortChanges("SORT", "l", "BY", "w_*", "ALPHA", "GET", "o_*->f"),
        .sortChanges("SORT", "l", "BY", "w_*", "STORE", "d"),
        ["SET", "w_3", "bad"],
        .sortChanges("SORT", "l", "BY", "w_*", "GET", "o_*"),
    ])

    static let expiredPatternKeys = Script("sort-expired-pattern-keys", [
        ["RPUSH", "l", "1", "2", "3"],
        ["SET", "w_1", "30", "PX", "30"],
        ["SET", "w_2", "20"],
        ["SET", "w_3", "10"],
        ["SET", "o_2", "two", "PX", "30"],
        ["SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#"],
        .sleep(80),
        ["SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#"],
        ["EXISTS", "w_1", "o_2"],
        ["SET", "dst", "x", "PX", "30"],
        .sleep(80),
        ["SORT", "l", "STORE", "dst"],
        ["LRANGE", "dst", "0", "-1"],
    ])

    static let transactions = Script("sort-transactions", [
        ["RPUSH", "l", "2", "1"],
        ["WATCH", "dst"],
        .use(1),
        ["SORT", "l", "STORE", "dst"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
        ["WATCH", "dst"],
        .use(1),
        ["SORT", "missing", "STORE", "dst"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
        ["WATCH", "dst"],
        .use(1),
        ["SORT", "l", "STORE", "other"],
        ["SORT_RO", "l"],
        .use(0),
        ["MULTI"],
        ["SORT", "l", "DESC"],
        ["SORT", "l", "STORE", "dst"],
        ["SORT", "l", "BADOPT"],
        ["EXEC"],
        ["LRANGE", "dst", "0", "-1"],
    ])

    static let resp3 = Script("sort-resp3", [
        .mapExcept(["id"], "HELLO", "3"),
        ["RPUSH", "l", "2", "1"],
        ["SET", "o_1", "one"],
        ["SORT", "l"],
        ["SORT", "l", "GET", "o_*", "GET", "#"],
        ["SORT_RO", "l", "GET", "nokey_*"],
        ["SORT", "missing"],
        ["SORT", "l", "STORE", "d"],
        ["SORT", "l", "BY", "x"],
        ["SORT", "l", "LIMIT", "x", "1"],
    ])

    /// 100 elements whose ALPHA weights tie a lot: the order of the ties depends on the sort
    /// algorithm (stable merge without LIMIT, pqsort with BY and LIMIT).
    static let bigPartialSort: Script = {
        let n = 100
        var steps: [Step] = []
        steps.append(cmd(["RPUSH", "l"] + (0..<n).map { "e\(($0 * 37) % n)" }))
        var mset = ["MSET"]
        for i in 0..<n where i % 5 != 0 { mset += ["w_e\(i)", "k\(i % 4)", "n_e\(i)", String(i % 6)] }
        steps.append(cmd(mset))
        for args in [
            ["SORT", "l", "BY", "w_*", "ALPHA"],
            ["SORT", "l", "BY", "w_*", "ALPHA", "DESC"],
            ["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "0", "10"],
            ["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "10", "15"],
            ["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "45", "20", "DESC"],
            ["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "90", "20"],
            ["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "1", "-1"],
            ["SORT", "l", "BY", "nokey_*", "ALPHA", "LIMIT", "3", "30"],
            ["SORT", "l", "BY", "nokey_*", "ALPHA"],
            ["SORT", "l", "BY", "n_*", "LIMIT", "20", "30"],
            ["SORT", "l", "BY", "n_*", "DESC", "LIMIT", "0", "50"],
            ["SORT", "l", "BY", "n_*", "GET", "#", "GET", "n_*"],
            ["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "5", "12", "STORE", "dst"],
            ["LRANGE", "dst", "0", "-1"],
            ["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "5", "6", "GET", "w_*", "GET", "#"],
        ] {
            steps.append(cmd(args))
        }
        // Small partitions (insertion sort below 7, med3 up to 40).
        steps.append(cmd(["RPUSH", "s6"] + (0..<6).map { "e\(($0 * 5) % 6)" }))
        steps.append(cmd(["RPUSH", "s30"] + (0..<30).map { "e\(($0 * 7) % 30)" }))
        for key in ["s6", "s30"] {
            steps.append(cmd(["SORT", key, "BY", "w_*", "ALPHA", "LIMIT", "1", "3"]))
            steps.append(cmd(["SORT", key, "BY", "w_*", "ALPHA", "LIMIT", "0", "100", "DESC"]))
            steps.append(cmd(["SORT", key, "BY", "nokey_*", "ALPHA", "LIMIT", "1", "3"]))
        }
        return Script("sort-big-partial", steps)
    }()

    /// Sets in table encoding and bigger lists, sorted (deterministic: ties broken by bytes).
    static let bigSets: Script = {
        var steps: [Step] = []
        steps.append(cmd(["SADD", "s"] + (0..<300).map { String(($0 * 7919) % 1000 - 500) }))
        steps.append(cmd(["SADD", "t"] + (0..<300).map { "m\(($0 * 31) % 300)" }))
        steps.append(cmd(["OBJECT", "ENCODING", "s"]))
        steps.append(cmd(["OBJECT", "ENCODING", "t"]))
        var mset = ["MSET"]
        for i in 0..<300 { mset += ["w_m\(i)", String((i * 13) % 17)] }
        steps.append(cmd(mset))
        for args in [
            ["SORT", "s"],
            ["SORT", "s", "DESC", "LIMIT", "10", "20"],
            ["SORT", "s", "ALPHA", "LIMIT", "0", "30"],
            ["SORT", "t", "ALPHA"],
            ["SORT", "t", "BY", "w_*"],
            ["SORT", "t", "BY", "w_*", "DESC", "LIMIT", "100", "40"],
            ["SORT", "t", "BY", "w_*", "GET", "#", "GET", "w_*", "LIMIT", "0", "20"],
            ["SORT", "s", "BY", "nosort", "STORE", "d"],
            ["LRANGE", "d", "0", "-1"],
            ["SORT", "t", "BY", "nosort", "STORE", "d", "LIMIT", "50", "50"],
            ["LRANGE", "d", "0", "-1"],
        ] {
            steps.append(cmd(args))
        }
        steps.append(.sorted("SORT", "t", "BY", "nosort"))
        steps.append(.sorted("SORT", "s", "BY", "nosort", "GET", "#"))
        return Script("sort-big-sets", steps)
    }()
}
