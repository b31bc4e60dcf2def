/*
 * RandomAllTypesTests.swift — a seeded random differential test that mixes every data type.
 *
 * A fixed seed (override with ITEST_SEED_ALL=<n>, length with ITEST_RANDOM_ALL_STEPS=<n>, default 4000)
 * generates a bounded script over a small key space: 15 key names in databases 0-2. Each key name has a
 * "home" type (s* strings, l* lists, h* hashes, t* sets, z* sorted sets, x* lexicographic sorted sets);
 * type-specific commands use a home key most of the time and any key otherwise, so WRONGTYPE replies,
 * type changes through RENAME/COPY/MOVE and encoding conversions all happen. The script mixes strings,
 * lists, hashes, sets, sorted sets, generic key commands, MULTI/EXEC blocks of 1-5 commands (some with a
 * deliberate queue-time error, some DISCARDed) and WATCH blocks where the second connection (or the
 * first) sometimes touches the watched key before EXEC.
 *
 * Variants (each its own pair of servers, its own seed derived from the base seed):
 *   - small-thresholds: hash/zset listpack ≤ 8 entries of ≤ 16 bytes, intset ≤ 8, quicklist nodes of 4
 *     entries — every structure crosses its encoding threshold often;
 *   - defaults: Redis's default thresholds (bulk adds and long values still cross them sometimes);
 *   - resp3: defaults, both connections switched to RESP3 (maps, sets, doubles).
 *
 * What is compared:
 *   - every reply exactly, except where the order is implementation-defined: HGETALL/HKEYS/HVALS and
 *     SMEMBERS are probes that read OBJECT ENCODING first and compare in order when the value is a
 *     listpack/intset, as a multiset (of pairs for HGETALL) when it is a hash table; SINTER/SUNION/SDIFF
 *     always as a multiset; H/S/ZSCAN are full iterations compared as sorted unions;
 *   - TTL/PTTL within ±1 s / ±1.5 s (TTLs are multiples of 1000 s, absolute expire times are
 *     base + 500 s + k·1000 s, and GT/LT are only used with absolute times, so no decision depends on
 *     the milliseconds between the two servers executing a step);
 *   - at the end, every key name of every db: TYPE, full content (sorted where unordered), TTL>0 flag,
 *     OBJECT ENCODING and DEBUG DIGEST-VALUE; then KEYS/DBSIZE per db and DEBUG DIGEST.
 *
 * Determinism notes: BYLEX ranges are only asked of x* keys, and an x* key only ever receives a sorted set
 * whose scores are all 0 (ZADD with score 0, or RENAME/COPY/MOVE from another x* key): on a skip list with
 * mixed scores Redis's lex search depends on the random node levels. SPOP/SRANDMEMBER/HRANDFIELD/
 * ZRANDMEMBER/RANDOMKEY are not used.
 */

import Foundation
import Testing

@Suite struct RandomAllTypesTests {
    enum Variant: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case smallThresholds = "small-thresholds"
        case defaults
        case resp3

        var testDescription: String { rawValue }

        var serverArgs: [String] {
            switch self {
            case .smallThresholds:
                return [
                    "--hash-max-listpack-entries", "8", "--zset-max-listpack-entries", "8",
                    "--set-max-intset-entries", "8", "--hash-max-listpack-value", "16",
                    "--zset-max-listpack-value", "16", "--list-max-listpack-size", "4",
                ]
            case .defaults, .resp3:
                return []
            }
        }

        var seedOffset: UInt64 {
            switch self {
            case .smallThresholds: return 0
            case .defaults: return 1
            case .resp3: return 2
            }
        }
    }

    @Test(arguments: Variant.allCases)
    func seededAllTypes(_ variant: Variant) throws {
        let env = ProcessInfo.processInfo.environment
        let base = env["ITEST_SEED_ALL"].flatMap { UInt64($0) } ?? 20_240_707
        let seed = base &+ variant.seedOffset
        let count = env["ITEST_RANDOM_ALL_STEPS"].flatMap { Int($0) } ?? 4000
        var generator = AllTypesScriptGenerator(
            seed: seed, base: Int(Date().timeIntervalSince1970), resp3: variant == .resp3)
        let steps = generator.steps(count: count)
        try Differential.run(
            Script("all-types \(variant.rawValue) seed=\(seed) steps=\(count)", serverArgs: variant.serverArgs, steps))
    }
}

// MARK: - Normalisation of replies whose order is implementation-defined

enum AllTypesNorm: Sendable {
    /// Compared byte for byte.
    case exact
    /// Aggregate compared as a multiset of elements.
    case sortArray
    /// Flat pair list / map compared as a multiset of pairs.
    case sortPairs
    /// TTL-like integer within the tolerance (standalone); inside EXEC only "positive or the exact value".
    case ttl(Int64)
    /// Probe: OBJECT ENCODING key first; in order when the encoding is one of `ordered`, else `pairs` ?
    /// sortPairs : sortArray. Inside EXEC the fallback always applies.
    case byEncoding(key: String, ordered: [String], pairs: Bool)
    /// Probe: a full H/S/ZSCAN iteration of `key` (cmd is HSCAN/SSCAN/ZSCAN), compared as sorted union.
    case scan(cmd: String, key: String, pairs: Bool)

    static func sortElements(_ v: RESPValue) -> RESPValue {
        func s(_ e: [RESPValue]) -> [RESPValue] {
            e.map { ($0.encoded, $0) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }.map(\.1)
        }
        switch v {
        case .array(let e): return .array(s(e))
        case .set(let e): return .set(s(e))
        default: return v
        }
    }

    static func sortPairs(_ v: RESPValue) -> RESPValue {
        func s(_ e: [RESPValue]) -> [RESPValue]? {
            guard e.count % 2 == 0 else { return nil }
            let pairs = stride(from: 0, to: e.count, by: 2).map { (e[$0].encoded + e[$0 + 1].encoded, e[$0], e[$0 + 1]) }
            return pairs.sorted { $0.0.lexicographicallyPrecedes($1.0) }.flatMap { [$0.1, $0.2] }
        }
        switch v {
        case .array(let e): return s(e).map { .array($0) } ?? v
        case .map(let e): return s(e).map { .map($0) } ?? v
        default: return v
        }
    }

    /// The normalisation applied to one element of an EXEC reply.
    func applyInExec(_ v: RESPValue) -> RESPValue {
        switch self {
        case .exact, .scan: return v
        case .sortArray: return AllTypesNorm.sortElements(v)
        case .sortPairs: return AllTypesNorm.sortPairs(v)
        case .ttl:
            if case .integer(let i) = v, i > 0 { return .simple("positive") }
            return v
        case .byEncoding(_, _, let pairs):
            return pairs ? AllTypesNorm.sortPairs(v) : AllTypesNorm.sortElements(v)
        }
    }

    var usableInMulti: Bool {
        if case .scan = self { return false }
        return true
    }
}

enum AllTypesProbes {
    /// OBJECT ENCODING, then the command; the reply is kept in order for an ordered encoding.
    static func byEncoding(_ c: RawClient, _ args: [String], key: String, ordered: [String], pairs: Bool) throws
        -> RESPValue
    {
        let enc = try c.callValue(["OBJECT", "ENCODING", key])
        let reply = try c.callValue(args)
        if let e = enc.text, ordered.contains(e) { return .array([enc, reply]) }
        return .array([enc, pairs ? AllTypesNorm.sortPairs(reply) : AllTypesNorm.sortElements(reply)])
    }

    /// Full HSCAN/SSCAN/ZSCAN of one key (≤ 10 000 calls); sorted union of elements (or pairs).
    static func scan(_ c: RawClient, cmd: String, key: String, pairs: Bool) throws -> RESPValue {
        var cursor = "0"
        var seen = Set<[UInt8]>()
        var items: [RESPValue] = []
        for _ in 0..<10_000 {
            let reply = try c.callValue([cmd, key, cursor, "COUNT", "3"])
            if reply.isError { return reply }
            guard let parts = reply.elements, parts.count == 2, let next = parts[0].text,
                  let page = parts[1].elements
            else { return .error("probe: unexpected \(cmd) reply \(RESP.escape(reply.encoded))") }
            if pairs {
                guard page.count % 2 == 0 else { return .error("probe: odd \(cmd) page") }
                for i in stride(from: 0, to: page.count, by: 2) {
                    let enc = page[i].encoded + page[i + 1].encoded
                    if seen.insert(enc).inserted { items += [page[i], page[i + 1]] }
                }
            } else {
                for e in page where seen.insert(e.encoded).inserted { items.append(e) }
            }
            cursor = next
            if cursor == "0" {
                let v = RESPValue.array(items)
                return pairs ? AllTypesNorm.sortPairs(v) : AllTypesNorm.sortElements(v)
            }
        }
        return .error("probe: \(cmd) did not finish within 10000 calls")
    }

    /// TYPE, full content (sorted where unordered) and TTL flag of one key of the current db.
    static func dumpKey(_ c: RawClient, _ key: String) throws -> RESPValue {
        let type = try c.callValue(["TYPE", key])
        let content: RESPValue
        switch type.text ?? "" {
        case "none": content = .simple("-")
        case "string": content = try c.callValue(["GET", key])
        case "list": content = try c.callValue(["LRANGE", key, "0", "-1"])
        case "hash": content = AllTypesNorm.sortPairs(try c.callValue(["HGETALL", key]))
        case "set": content = AllTypesNorm.sortElements(try c.callValue(["SMEMBERS", key]))
        case "zset": content = try c.callValue(["ZRANGE", key, "0", "-1", "WITHSCORES"])
        default: content = .error("probe: unexpected type")
        }
        guard case .integer(let pttl) = try c.callValue(["PTTL", key]) else { return .error("probe: PTTL") }
        return .array([type, content, .simple(pttl > 0 ? "ttl" : "no-ttl")])
    }
}

// MARK: - Generator

struct AllTypesScriptGenerator {
    /// One generated command and how its reply is compared.
    struct Cmd {
        var args: [String]
        var norm: AllTypesNorm = .exact
        init(_ args: [String], _ norm: AllTypesNorm = .exact) {
            self.args = args
            self.norm = norm
        }
    }

    var rng: SplitMix64
    /// Unix time (seconds) the absolute expire times are built from.
    let base: Int
    let resp3: Bool
    /// Database currently selected on connection 0.
    var db = 0

    static let stringKeys = ["s0", "s1"]
    static let listKeys = ["l0", "l1", "l2"]
    static let hashKeys = ["h0", "h1"]
    static let setKeys = ["t0", "t1", "t2"]
    static let zsetKeys = ["z0", "z1", "z2"]
    static let lexKeys = ["x0", "x1"]
    static let allKeys = stringKeys + listKeys + hashKeys + setKeys + zsetKeys + lexKeys
    static let nonLexKeys = stringKeys + listKeys + hashKeys + setKeys + zsetKeys

    init(seed: UInt64, base: Int, resp3: Bool) {
        rng = SplitMix64(seed: seed)
        self.base = base
        self.resp3 = resp3
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }
    mutating func n(_ range: ClosedRange<Int>) -> String { String(int(range)) }

    static func isLex(_ key: String) -> Bool { key.hasPrefix("x") }

    // MARK: keys

    mutating func anyKey() -> String { pick(Self.allKeys) }
    /// A home key of the given list 90 % of the time, any key otherwise.
    mutating func key(_ home: [String]) -> String { chance(90) ? pick(home) : anyKey() }
    /// A key that may receive a sorted set with arbitrary scores (never an x* key).
    mutating func zkey() -> String { chance(90) ? pick(Self.zsetKeys) : pick(Self.nonLexKeys) }
    /// Destination of RENAME/COPY from `src`: an x* key only when `src` is one too.
    mutating func destination(from src: String) -> String {
        let dst = anyKey()
        return Self.isLex(dst) && !Self.isLex(src) ? pick(Self.nonLexKeys) : dst
    }

    // MARK: values

    mutating func longString(_ range: ClosedRange<Int>) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<int(range)).map { _ in letters[int(0...letters.count - 1)] })
    }

    mutating func stringValue() -> String {
        switch int(0...9) {
        case 0...2: return n(-20...200)
        case 3: return pick(["9223372036854775807", "-9223372036854775808", "0", "-0", "007", "1.5", "abc", ""])
        case 4 where chance(50): return numericEdge()
        case 4: return longString(30...80)
        default: return longString(0...12)
        }
    }

    /// Strings at the edges of Redis's number parsers (string2ll, string2ld, strtod).
    mutating func numericEdge() -> String {
        pick([
            "0x10", " 1", "1 ", "+5", ".5", "5.", "1e500", "-1e500", "1e-400", "inf", "-inf", "nan", "1e308",
            "9223372036854775808", "-9223372036854775809", "00", "1e2", "1E2", "0.30000000000000004", "1\u{0}",
            "12345678901234567890123456789", "-", "1.7976931348623157e308", "4.9e-324", "1_0",
        ])
    }

    mutating func listValue() -> String {
        switch int(0...19) {
        case 0: return longString(20...90)
        case 1: return pick(["", "-0", "9223372036854775807"])
        default: return pick(["a", "b", "c", "d", "e", "1", "2", "10", "-5", "abc"])
        }
    }

    mutating func field() -> String { chance(90) ? "f\(int(0...9))" : "g\(int(0...199))" }

    mutating func hashValue() -> String {
        switch int(0...19) {
        case 0: return longString(17...90)
        case 1: return pick(["1.5", "0.1", "-2.5e3", "abc", "", "9223372036854775807", "-9223372036854775808"])
        case 2 where chance(50): return numericEdge()
        case 2...4: return longString(1...15)
        default: return n(-5...100)
        }
    }

    mutating func setMember() -> String {
        switch int(0...99) {
        case 0...69: return n(0...20)
        case 70...74: return pick(["70000", "-3000000000", "9223372036854775807", "-9223372036854775808", "-1"])
        case 75...89: return pick(["a", "b", "c", "d", "e"])
        case 90...93: return chance(50) ? pick(["007", "-0", "+1", " 1", "1.0"]) : numericEdge()
        case 94...96: return longString(17...40)
        default: return n(21...999)
        }
    }

    mutating func zMember() -> String {
        switch int(0...99) {
        case 0...86: return "m\(int(0...11))"
        case 87...95: return "n\(int(0...199))"
        default: return longString(17...90)
        }
    }

    mutating func lexMember() -> String {
        chance(85) ? pick(["a", "b", "c", "d", "e", "f", "g", "h", "aa", "ab", "ba", "bb"]) : longString(1...20)
    }

    mutating func score() -> String {
        switch int(0...59) {
        case 0...2: return pick(["inf", "-inf", "+inf"])
        case 3...5: return pick(["0.1", "1e-2", "-0", "1e3", "3.0", "-7.75"])
        case 6: return chance(50) ? pick(["nan", "abc", ""]) : numericEdge()  // mostly invalid
        case 7...15: return pick(["0.5", "-2.5", "1.25", "0.75"])
        default: return n(-5...10)
        }
    }

    mutating func increment() -> String {
        switch int(0...9) {
        case 0: return chance(70) ? pick(["0.5", "-1.25", "0.1", "inf", "-inf"]) : numericEdge()
        default: return n(-3...5)
        }
    }

    mutating func scoreBound() -> String {
        pick(["-inf", "+inf", "inf", "(0", "0", "1", "(1", "2.5", "(-1", "-2", "10", "(5", "x", "(inf", "(-inf",
              "0x10", "nan", "(nan", "1e500", "( 1", "-0", "(-0", "0.1", "(0.1"])
    }

    mutating func lexBound() -> String {
        pick(["-", "+", "[a", "(a", "[b", "(bb", "[c", "(e", "[h", "[aa", "(ab", "x", "[", "(", "[zz"])
    }

    mutating func relativeSeconds() -> String { String(1000 * int(1...50)) }
    mutating func absoluteSeconds() -> Int { base + 500 + 1000 * int(0...50) }
    mutating func dbIndex() -> String { chance(95) ? n(0...2) : pick(["3", "-1", "x"]) }

    // MARK: commands per type

    mutating func stringCommand() -> Cmd {
        let k = key(Self.stringKeys)
        switch int(0...11) {
        case 0...2:
            var a = ["SET", k, stringValue()]
            if chance(15) { a.append(pick(["NX", "XX"])) }
            if chance(10) { a.append("GET") }
            if chance(10) { a += ["EX", relativeSeconds()] }
            if chance(5) { a.append("KEEPTTL") }
            return Cmd(a)
        case 3...4: return Cmd(["GET", k])
        case 5: return Cmd(["APPEND", k, stringValue()])
        case 6: return Cmd(["INCR", k])
        case 7: return Cmd(["INCRBY", k, n(-100...100)])
        case 8:
            return Cmd(["INCRBYFLOAT", k, chance(85) ? pick(["1.5", "-0.25", "0.1", "3", "1e2"]) : numericEdge()])
        case 9: return Cmd(["STRLEN", k])
        case 10: return Cmd(["SETRANGE", k, n(0...20), stringValue()])
        default: return Cmd(["GETRANGE", k, n(-10...10), n(-10...10)])
        }
    }

    mutating func listCommand() -> Cmd {
        let k = key(Self.listKeys)
        switch int(0...29) {
        case 0...3:
            let count = chance(5) ? int(15...50) : int(1...4)
            return Cmd([pick(["LPUSH", "RPUSH"]), k] + (0..<count).map { _ in listValue() })
        case 4: return Cmd([pick(["LPUSHX", "RPUSHX"]), k, listValue()])
        case 5...6:
            var a = [pick(["LPOP", "RPOP"]), k]
            if chance(60) { a.append(chance(95) ? n(0...5) : "-1") }
            return Cmd(a)
        case 7...9: return Cmd(["LRANGE", k, n(-8...8), n(-8...8)])
        case 10: return Cmd(["LRANGE", k, "0", "-1"])
        case 11...12: return Cmd(["LINDEX", k, n(-8...8)])
        case 13: return Cmd(["LSET", k, n(-5...5), listValue()])
        case 14...15: return Cmd(["LINSERT", k, pick(["BEFORE", "AFTER"]), listValue(), listValue()])
        case 16...17: return Cmd(["LREM", k, n(-3...3), listValue()])
        case 18: return Cmd(["LTRIM", k, n(-3...3), n(-1...40)])
        case 19...20:
            return Cmd(["LMOVE", k, key(Self.listKeys), pick(["LEFT", "RIGHT"]), pick(["LEFT", "RIGHT"])])
        case 21: return Cmd(["RPOPLPUSH", k, key(Self.listKeys)])
        case 22...24:
            var a = ["LPOS", k, listValue()]
            if chance(40) { a += ["RANK", pick(["1", "2", "-1", "-2", "3", "0"])] }
            if chance(40) { a += ["COUNT", n(0...3)] }
            if chance(20) { a += ["MAXLEN", n(0...10)] }
            return Cmd(a)
        case 25...26: return Cmd(["LLEN", k])
        case 27: return Cmd(["OBJECT", "ENCODING", k])
        default: return Cmd(["LRANGE", k, "0", "-1"])
        }
    }

    mutating func hashCommand() -> Cmd {
        let k = key(Self.hashKeys)
        switch int(0...29) {
        case 0...4:
            let count = chance(5) ? int(10...30) : int(1...3)
            return Cmd(["HSET", k] + (0..<count).flatMap { _ in [field(), hashValue()] })
        case 5: return Cmd(["HSETNX", k, field(), hashValue()])
        case 6...7: return Cmd(["HDEL", k] + (0..<int(1...3)).map { _ in field() })
        case 8...9: return Cmd(["HGET", k, field()])
        case 10: return Cmd(["HMGET", k] + (0..<int(1...4)).map { _ in field() })
        case 11...12:
            let inc = chance(95) ? n(-10...10) : pick(["9223372036854775807", "-9223372036854775808", "x"])
            return Cmd(["HINCRBY", k, field(), inc])
        case 13...14:
            let inc = chance(85) ? pick(["1.5", "-0.25", "0.1", "3", "1e3", "-1e-3", "inf", "x"]) : numericEdge()
            return Cmd(["HINCRBYFLOAT", k, field(), inc])
        case 15...16: return Cmd(["HLEN", k])
        case 17: return Cmd(["HEXISTS", k, field()])
        case 18: return Cmd(["HSTRLEN", k, field()])
        case 19...21:
            return Cmd(["HGETALL", k], .byEncoding(key: k, ordered: ["listpack"], pairs: true))
        case 22: return Cmd(["HKEYS", k], .byEncoding(key: k, ordered: ["listpack"], pairs: false))
        case 23: return Cmd(["HVALS", k], .byEncoding(key: k, ordered: ["listpack"], pairs: false))
        case 24: return Cmd(["HSCAN"], .scan(cmd: "HSCAN", key: k, pairs: true))
        default: return Cmd(["OBJECT", "ENCODING", k])
        }
    }

    mutating func setCommand() -> Cmd {
        let k = key(Self.setKeys)
        func keys(_ r: ClosedRange<Int>) -> [String] { (0..<int(r)).map { _ in key(Self.setKeys) } }
        switch int(0...29) {
        case 0...4:
            if chance(6) { return Cmd(["SADD", k] + (0..<int(10...40)).map { _ in n(0...999) }) }
            return Cmd(["SADD", k] + (0..<int(1...3)).map { _ in setMember() })
        case 5...6: return Cmd(["SREM", k] + (0..<int(1...3)).map { _ in setMember() })
        case 7...8: return Cmd(["SISMEMBER", k, setMember()])
        case 9: return Cmd(["SMISMEMBER", k] + (0..<int(1...3)).map { _ in setMember() })
        case 10...11: return Cmd(["SCARD", k])
        case 12...14: return Cmd(["SMEMBERS", k], .byEncoding(key: k, ordered: ["intset"], pairs: false))
        case 15...17: return Cmd([pick(["SINTER", "SUNION", "SDIFF"])] + [k] + keys(0...2), .sortArray)
        case 18...20:
            let op = pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"])
            return Cmd([op, key(Self.setKeys), k] + keys(0...2))
        case 21...22: return Cmd(["SMOVE", k, key(Self.setKeys), setMember()])
        case 23: return Cmd(["SINTERCARD", n(1...3)] + [k] + keys(0...2) + (chance(30) ? ["LIMIT", n(0...3)] : []))
        case 24: return Cmd(["SSCAN"], .scan(cmd: "SSCAN", key: k, pairs: false))
        default: return Cmd(["OBJECT", "ENCODING", k])
        }
    }

    mutating func zaddCommand() -> Cmd {
        let k = zkey()
        var a = ["ZADD", k]
        if chance(20) { a.append(pick(["NX", "XX"])) }
        if chance(15) { a.append(pick(["GT", "LT"])) }
        if chance(25) { a.append("CH") }
        let incr = chance(10)
        if incr { a.append("INCR") }
        let count = chance(5) ? int(10...30) : (incr && chance(85) ? 1 : int(1...4))
        for _ in 0..<count { a += [score(), chance(50) ? zMember() : "m\(int(0...11))"] }
        return Cmd(a)
    }

    mutating func zsetReadKey() -> String { chance(85) ? pick(Self.zsetKeys + Self.lexKeys) : anyKey() }

    mutating func zrangeCommand() -> Cmd {
        let k = zsetReadKey()
        var a = ["ZRANGE", k]
        switch int(0...2) {
        case 0:
            a += [n(-6...6), n(-6...6)]
            if chance(30) { a.append("REV") }
            if chance(10) { a += ["LIMIT", "0", "1"] }  // error without BYSCORE/BYLEX
        default:
            a += [scoreBound(), scoreBound(), "BYSCORE"]
            if chance(30) { a.append("REV") }
            if chance(40) { a += ["LIMIT", n(0...3), n(-1...5)] }
        }
        if chance(50) { a.append("WITHSCORES") }
        return Cmd(a)
    }

    mutating func lexCommand() -> Cmd {
        // Lex searches only ever see x* keys; ZADD (score 0) sometimes targets another key (WRONGTYPE).
        let k = pick(Self.lexKeys)
        switch int(0...11) {
        case 0...2:
            var a = ["ZADD", chance(92) ? k : pick(Self.stringKeys + Self.listKeys)]
            if chance(15) { a.append(pick(["NX", "XX"])) }
            if chance(15) { a.append("CH") }
            let count = chance(6) ? int(8...20) : int(1...3)
            for _ in 0..<count { a += ["0", lexMember()] }
            return Cmd(a)
        case 3...4:
            var a = ["ZRANGE", k, lexBound(), lexBound(), "BYLEX"]
            if chance(30) { a.append("REV") }
            if chance(40) { a += ["LIMIT", n(0...3), n(-1...5)] }
            if chance(5) { a.append("WITHSCORES") }
            return Cmd(a)
        case 5: return Cmd([pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), k, lexBound(), lexBound()])
        case 6: return Cmd(["ZLEXCOUNT", k, lexBound(), lexBound()])
        case 7: return Cmd(["ZREMRANGEBYLEX", k, lexBound(), lexBound()])
        case 8: return Cmd(["ZREM", k, lexMember(), lexMember()])
        case 9: return Cmd([pick(["ZPOPMIN", "ZPOPMAX"]), k] + (chance(60) ? [n(0...3)] : []))
        case 10: return Cmd(["ZRANK", k, lexMember()])
        default: return Cmd(["ZRANGE", k, "0", "-1", "WITHSCORES"])
        }
    }

    mutating func zsetCommand() -> Cmd {
        func sources() -> [String] {
            (0..<int(1...3)).map { _ in
                chance(15) ? pick(Self.setKeys + Self.lexKeys) : (chance(90) ? pick(Self.zsetKeys) : anyKey())
            }
        }
        func weightsAndAggregate(_ count: Int) -> [String] {
            var a: [String] = []
            if chance(40) { a += ["WEIGHTS"] + (0..<count).map { _ in pick(["1", "2", "-1", "0.5", "3", "0"]) } }
            if chance(40) { a += ["AGGREGATE", pick(["SUM", "MIN", "MAX"])] }
            return a
        }
        switch int(0...44) {
        case 0...5, 37...44: return zaddCommand()
        case 6...7: return Cmd(["ZINCRBY", zkey(), increment(), zMember()])
        case 8...9: return Cmd(["ZREM", zkey()] + (0..<int(1...3)).map { _ in zMember() })
        case 10...14: return zrangeCommand()
        case 15: return Cmd([pick(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), zsetReadKey(), scoreBound(), scoreBound()]
            + (chance(40) ? ["WITHSCORES"] : []) + (chance(30) ? ["LIMIT", n(0...2), n(-1...3)] : []))
        case 16: return Cmd(["ZREVRANGE", zsetReadKey(), n(-5...5), n(-5...5)] + (chance(50) ? ["WITHSCORES"] : []))
        case 17...18: return Cmd([pick(["ZRANK", "ZREVRANK"]), zsetReadKey(), zMember()])
        case 19...20: return Cmd(["ZSCORE", zsetReadKey(), zMember()])
        case 21: return Cmd(["ZMSCORE", zsetReadKey(), zMember(), zMember()])
        case 22: return Cmd(["ZCOUNT", zsetReadKey(), scoreBound(), scoreBound()])
        case 23: return Cmd(["ZCARD", zsetReadKey()])
        case 24...25:
            var a = [pick(["ZPOPMIN", "ZPOPMAX"]), zkey()]
            if chance(60) { a.append(chance(95) ? n(0...4) : "-1") }
            return Cmd(a)
        case 26...28:
            let src = sources()
            return Cmd([pick(["ZUNIONSTORE", "ZINTERSTORE"]), zkey(), String(src.count)] + src
                + weightsAndAggregate(src.count))
        case 29:
            let src = sources()
            return Cmd(["ZDIFFSTORE", zkey(), String(src.count)] + src)
        case 30:
            let src = sources()
            let op = pick(["ZUNION", "ZINTER", "ZDIFF"])
            return Cmd([op, String(src.count)] + src + (op == "ZDIFF" ? [] : weightsAndAggregate(src.count))
                + (chance(60) ? ["WITHSCORES"] : []))
        case 31...32:
            if chance(50) { return Cmd(["ZCOUNT", zsetReadKey(), scoreBound(), scoreBound()]) }
            return Cmd(["ZREMRANGEBYSCORE", zkey(), scoreBound(), scoreBound()])
        case 33: return Cmd(["ZREMRANGEBYRANK", zkey(), n(-4...4), n(-4...4)])
        case 34:
            var a = ["ZRANGESTORE", zkey(), zsetReadKey()]
            if chance(50) { a += [n(-4...4), n(-4...4)] } else { a += [scoreBound(), scoreBound(), "BYSCORE"] }
            if chance(20) { a.append("REV") }
            return Cmd(a)
        case 35: return Cmd(["ZSCAN"], .scan(cmd: "ZSCAN", key: zsetReadKey(), pairs: true))
        case 36: return Cmd(["ZINTERCARD", "2", zsetReadKey(), zsetReadKey()])
        default: return Cmd(["OBJECT", "ENCODING", zsetReadKey()])
        }
    }

    mutating func genericCommand() -> Cmd {
        let k = anyKey()
        switch int(0...29) {
        case 0...3: return Cmd([pick(["DEL", "UNLINK"])] + (0..<int(1...3)).map { _ in anyKey() })
        case 4: return Cmd(["EXISTS"] + (0..<int(1...4)).map { _ in anyKey() })
        case 5...6: return Cmd(["TYPE", k])
        case 7...8: return Cmd([chance(80) ? "RENAME" : "RENAMENX", k, destination(from: k)])
        case 9...10:
            var a = ["COPY", k, destination(from: k)]
            if chance(40) { a += ["DB", dbIndex()] }
            if chance(40) { a.append("REPLACE") }
            return Cmd(a)
        case 11: return Cmd(["MOVE", k, dbIndex()])
        case 12...13:
            var a = ["EXPIRE", k, relativeSeconds()]
            if chance(30) { a.append(pick(["NX", "XX"])) }
            return Cmd(a)
        case 14:
            var a = ["EXPIREAT", k, String(absoluteSeconds())]
            if chance(50) { a.append(pick(["NX", "XX", "GT", "LT"])) }
            return Cmd(a)
        case 15: return Cmd(["EXPIRE", k, pick(["0", "-5"])])  // deletes an existing key
        case 16: return Cmd(["PERSIST", k])
        case 17: return Cmd(["TTL", k], .ttl(1))
        case 18: return Cmd(["PTTL", k], .ttl(1500))
        case 19...21: return Cmd(["OBJECT", "ENCODING", k])
        case 22: return Cmd(["DEBUG", "DIGEST-VALUE", k])
        case 23: return Cmd(["DBSIZE"])
        case 24: return Cmd(["KEYS", "*"], .sortArray)
        case 25: return Cmd(["SELECT", n(0...2)])
        case 26: return Cmd(["TOUCH", k, anyKey()])
        default: return Cmd(["EXISTS", k])
        }
    }

    /// A random command of any type (no MULTI/WATCH).
    mutating func command() -> Cmd {
        switch int(0...99) {
        case 0...9: return stringCommand()
        case 10...29: return listCommand()
        case 30...46: return hashCommand()
        case 47...63: return setCommand()
        case 64...79: return zsetCommand()
        case 80...84: return lexCommand()
        default: return genericCommand()
        }
    }

    /// A command that writes (or at least names) `k`, for WATCH blocks.
    mutating func touch(_ k: String) -> [String] {
        switch int(0...17) {
        case 0: return ["SET", k, stringValue()]
        case 1: return ["DEL", k]
        case 2: return ["LPUSH", k, listValue()]
        case 3: return ["SADD", k, setMember()]
        case 4: return ["HSET", k, field(), hashValue()]
        case 5: return ["ZADD", k, Self.isLex(k) ? "0" : score(), Self.isLex(k) ? lexMember() : zMember()]
        case 6: return ["EXPIRE", k, relativeSeconds()]
        case 7: return ["PERSIST", k]
        case 8: return ["SREM", k, setMember()]
        case 9: return ["LREM", k, "0", listValue()]
        case 10: return ["HDEL", k, field()]
        case 11: return ["ZREM", k, zMember()]
        case 12: return ["RENAME", k, destination(from: k)]
        case 13: return ["MOVE", k, n(0...2)]
        case 14: return ["APPEND", k, "x"]
        case 15: return ["GET", k]
        case 16: return ["EXISTS", k]
        default:
            let src = Self.isLex(k) ? pick(Self.lexKeys) : anyKey()
            return ["COPY", src, k, "REPLACE"]
        }
    }

    // MARK: steps

    func step(_ c: Cmd) -> Step {
        switch c.norm {
        case .exact: return Step(.command(c.args))
        case .sortArray: return Step(.command(c.args), .sorted)
        case .sortPairs: return Step(.command(c.args), .unorderedMap)
        case .ttl(let t): return Step(.command(c.args), .approx(t))
        case .byEncoding(let key, let ordered, let pairs):
            let args = c.args
            return .probe(args.map(Step.quote).joined(separator: " ") + " (ordered if \(ordered.joined(separator: "/")))") {
                client in try AllTypesProbes.byEncoding(client, args, key: key, ordered: ordered, pairs: pairs)
            }
        case .scan(let cmd, let key, let pairs):
            return .probe("\(cmd) \(key) full iteration") { client in
                try AllTypesProbes.scan(client, cmd: cmd, key: key, pairs: pairs)
            }
        }
    }

    /// A command usable inside MULTI (no SELECT, no probe-only command).
    mutating func multiCommand() -> Cmd {
        for _ in 0..<20 {
            let c = command()
            if c.norm.usableInMulti, c.args.first != "SELECT" { return c }
        }
        return Cmd(["GET", pick(Self.stringKeys)])
    }

    /// MULTI, 1-5 commands (maybe a deliberate error), then EXEC (normalised per command) or DISCARD.
    mutating func transaction(into out: inout [Step], maxCommands: Int = 5) {
        out.append(["MULTI"])
        var norms: [AllTypesNorm] = []
        let count = int(1...maxCommands)
        let errorAt = chance(20) ? int(0...count) : -1
        for i in 0...count {
            if i == errorAt {
                switch int(0...4) {
                case 0: out.append(Step(.command(["NOSUCHCMD", anyKey()])))     // queue error: EXECABORT
                case 1: out.append(Step(.command(["GET"])))                    // arity: EXECABORT
                case 2: out.append(Step(.command(["LPUSH", anyKey()])))        // arity: EXECABORT
                case 3: out.append(Step(.command(["WATCH", anyKey()])))         // error, not queued
                default: out.append(Step(.command(["MULTI"])))                 // nested: error, not queued
                }
            }
            if i == count { break }
            let c = multiCommand()
            norms.append(c.norm)
            out.append(Step(.command(c.args)))
        }
        if chance(8) {
            out.append(["DISCARD"])
            return
        }
        let captured = norms
        out.append(.probe("EXEC (\(captured.count) queued)") { client in
            let reply = try client.callValue(["EXEC"])
            guard case .array(let e) = reply, e.count == captured.count else { return reply }
            return .array(zip(e, captured).map { $1.applyInExec($0) })
        })
    }

    /// WATCH on connection 0, maybe a touch (from connection 1 on the same db, or from connection 0),
    /// then a transaction on connection 0.
    mutating func watchBlock(into out: inout [Step]) {
        let k = anyKey()
        out.append(Step(.command(["WATCH", k] + (chance(30) ? [anyKey()] : []))))
        switch int(0...5) {
        case 0: break
        case 1...3:
            out.append(.use(1))
            out.append(["SELECT", String(db)])
            out.append(Step(.command(chance(85) ? touch(k) : touch(anyKey()))))
            out.append(.use(0))
        case 4:
            out.append(Step(.command(touch(k))))
        default:
            out.append(.use(1))
            out.append(["SELECT", String(chance(70) ? db : int(0...2))])
            let c = multiCommand()
            out.append(step(c))
            out.append(.use(0))
        }
        if chance(10) { out.append(["UNWATCH"]) }
        transaction(into: &out, maxCommands: 3)
    }

    mutating func steps(count: Int) -> [Step] {
        var out: [Step] = []
        out.reserveCapacity(count + 400)
        if resp3 {
            out.append(.use(1))
            out.append(.ignore("HELLO", "3"))
            out.append(.use(0))
            out.append(.ignore("HELLO", "3"))
        }
        while out.count < count {
            switch int(0...99) {
            case 0...3:
                transaction(into: &out)
            case 4...5:
                watchBlock(into: &out)
            case 6...7:
                db = int(0...2)
                out.append(["SELECT", String(db)])
            case 8...9:
                // Keys drift away from their home type (RENAME, COPY, any-key writes): reset one now and then.
                out.append(["DEL", anyKey()])
            default:
                let c = command()
                if c.args.first == "SELECT", let d = Int(c.args[1]) { db = d }
                out.append(step(c))
            }
        }
        // Final comparison of the whole key space.
        for d in 0...2 {
            out.append(["SELECT", String(d)])
            for k in Self.allKeys {
                out.append(.probe("dump db\(d) \(k)") { client in try AllTypesProbes.dumpKey(client, k) })
                out.append(["OBJECT", "ENCODING", k])
                out.append(["DEBUG", "DIGEST-VALUE", k])
            }
            out.append(.sorted("KEYS", "*"))
            out.append(["DBSIZE"])
        }
        out.append(["DEBUG", "DIGEST"])
        return out
    }
}
