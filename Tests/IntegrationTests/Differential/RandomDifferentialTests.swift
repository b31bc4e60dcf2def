/*
 * RandomDifferentialTests.swift — a seeded random differential test over strings, keys and expirations.
 *
 * A fixed seed (override with ITEST_SEED=<n>, size with ITEST_RANDOM_STEPS=<n>) generates a bounded script
 * of commands over a small key space (50 keys, databases 0-3) so that collisions, overwrites, renames onto
 * existing keys, INCR on non-numbers and the like happen often. Every reply is compared exactly, except TTL
 * readings (see below). At the end the two keyspaces are dumped (per db: sorted keys, values, TTL or not)
 * and compared, and so is DEBUG DIGEST.
 *
 * Timing: relative TTLs (EX, PX, EXPIRE, PEXPIRE, GETEX EX) are multiples of 1000 s, absolute ones (EXAT,
 * PXAT, EXPIREAT, PEXPIREAT) are `base + 500 s + k * 1000 s`, so no two expire times from different
 * sources are ever within a few minutes of each other and no comparison (GT/LT) depends on the few ms
 * between the two servers executing a step. GT/LT are only used with absolute times. TTL/EXPIRETIME are
 * compared within ±1 s and PTTL/PEXPIRETIME within ±1.5 s for the same reason. DEBUG DIGEST only mixes in
 * whether a key has an expire, not its value, so it compares exactly.
 */

import Foundation
import Testing

@Suite struct RandomDifferentialTests {
    @Test func seededStringsAndKeys() throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["ITEST_SEED"].flatMap { UInt64($0) } ?? 20_240_611
        let count = env["ITEST_RANDOM_STEPS"].flatMap { Int($0) } ?? 3000
        var generator = RandomScriptGenerator(seed: seed, base: Int(Date().timeIntervalSince1970))
        let steps = generator.steps(count: count)
        try Differential.run(Script("random seed=\(seed) steps=\(count)", steps))
    }
}

/// SplitMix64: tiny, fast, and the same on every platform (unlike SystemRandomNumberGenerator).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct RandomScriptGenerator {
    var rng: SplitMix64
    /// Unix time (seconds) the absolute expire times are built from.
    let base: Int

    init(seed: UInt64, base: Int) {
        rng = SplitMix64(seed: seed)
        self.base = base
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    mutating func key() -> String { "k\(int(0...49))" }

    mutating func value() -> String {
        switch int(0...9) {
        case 0...2: return String(int(-20...200))
        case 3: return pick(["9223372036854775807", "-9223372036854775808", "9223372036854775806", "0", "-0", "007"])
        case 4: return pick(["1.5", "-0.25", "3e2", "abc", "", " 1"])
        default:
            let letters = Array("abcdefghij xyz")
            return String((0..<int(0...60)).map { _ in letters[int(0...letters.count - 1)] })
        }
    }

    /// Relative TTL in seconds: a multiple of 1000 s.
    mutating func relativeSeconds() -> Int { 1000 * int(1...50) }
    /// Absolute unix time in seconds: base + 500 s + k * 1000 s.
    mutating func absoluteSeconds() -> Int { base + 500 + 1000 * int(0...50) }

    mutating func setCommand() -> [String] {
        var args = ["SET", key(), value()]
        if chance(25) { args.append(pick(["NX", "XX"])) }
        if chance(20) { args.append("GET") }
        switch int(0...9) {
        case 0: args += ["EX", String(relativeSeconds())]
        case 1: args += ["PX", String(relativeSeconds() * 1000)]
        case 2: args += ["EXAT", String(absoluteSeconds())]
        case 3: args += ["PXAT", String(absoluteSeconds() * 1000 + int(0...999))]
        case 4: args.append("KEEPTTL")
        default: break
        }
        return args
    }

    mutating func expireCommand() -> [String] {
        switch int(0...3) {
        case 0: return ["EXPIRE", key(), String(relativeSeconds())] + (chance(40) ? [pick(["NX", "XX"])] : [])
        case 1: return ["PEXPIRE", key(), String(relativeSeconds() * 1000)] + (chance(40) ? [pick(["NX", "XX"])] : [])
        case 2:
            return ["EXPIREAT", key(), String(absoluteSeconds())] + (chance(50) ? [pick(["NX", "XX", "GT", "LT"])] : [])
        default:
            return ["PEXPIREAT", key(), String(absoluteSeconds() * 1000 + int(0...999))]
                + (chance(50) ? [pick(["NX", "XX", "GT", "LT"])] : [])
        }
    }

    mutating func step() -> Step {
        let k = key()
        switch int(0...99) {
        case 0...13: return Step(.command(setCommand()))
        case 14...23: return ["GET", k]
        case 24...26: return Step(.command(["DEL"] + (0..<int(1...3)).map { _ in key() }))
        case 27...30: return ["INCR", k]
        case 31: return ["INCRBY", k, String(int(-1000...1000))]
        case 32: return ["DECR", k]
        case 33: return ["INCRBYFLOAT", k, pick(["1.5", "-0.25", "10", "0.1", "-3"])]
        case 34...37: return ["APPEND", k, value()]
        case 38...43: return Step(.command(expireCommand()))
        case 44...45: return ["PERSIST", k]
        case 46...48: return .approx(1, "TTL", k)
        case 49: return .approx(1500, "PTTL", k)
        case 50...51: return .approx(1, "EXPIRETIME", k)
        case 52: return .approx(1500, "PEXPIRETIME", k)
        case 53...55: return Step(.command(["EXISTS"] + (0..<int(1...4)).map { _ in key() }))
        case 56...57: return ["RENAME", k, key()]
        case 58: return ["RENAMENX", k, key()]
        case 59...61: return ["GETRANGE", k, String(int(-20...20)), String(int(-20...20))]
        case 62...64: return ["SETRANGE", k, String(int(0...40)), value()]
        case 65...66:
            return Step(.command(["MSET"] + (0..<int(1...3)).flatMap { _ in [key(), value()] }))
        case 67: return Step(.command(["MSETNX"] + (0..<int(1...2)).flatMap { _ in [key(), value()] }))
        case 68...70: return Step(.command(["MGET"] + (0..<int(1...5)).map { _ in key() }))
        case 71...72: return ["STRLEN", k]
        case 73...74:
            var args = ["COPY", k, key()]
            if chance(40) { args += ["DB", String(int(0...3))] }
            if chance(40) { args.append("REPLACE") }
            return Step(.command(args))
        case 75...76: return ["MOVE", k, String(int(0...3))]
        case 77...80: return ["SELECT", String(int(0...3))]
        case 81: return ["GETDEL", k]
        case 82...83:
            switch int(0...5) {
            case 0: return ["GETEX", k]
            case 1: return ["GETEX", k, "EX", String(relativeSeconds())]
            case 2: return ["GETEX", k, "PX", String(relativeSeconds() * 1000)]
            case 3: return ["GETEX", k, "EXAT", String(absoluteSeconds())]
            case 4: return ["GETEX", k, "PXAT", String(absoluteSeconds() * 1000)]
            default: return ["GETEX", k, "PERSIST"]
            }
        case 84: return ["SETNX", k, value()]
        case 85: return ["GETSET", k, value()]
        case 86: return ["SETEX", k, String(relativeSeconds()), value()]
        case 87: return ["PSETEX", k, String(relativeSeconds() * 1000), value()]
        case 88: return ["TYPE", k]
        case 89: return ["OBJECT", "ENCODING", k]
        case 90: return ["DBSIZE"]
        case 91: return ["UNLINK", k]
        case 92: return ["TOUCH", k, key()]
        case 93: return ["DECRBY", k, String(int(-1000...1000))]
        case 94: return .sorted("KEYS", pick(["*", "k1*", "k?", "k[0-2]*"]))
        case 95: return .scanAll("MATCH", pick(["*", "k2*", "k?"]), "COUNT", String(int(1...20)))
        case 96: return ["SETRANGE", k, String(int(0...5)), ""]
        case 97: return ["LCS", k, key(), pick(["LEN", "IDX"])]
        case 98:
            let step: Step = chance(50) ? ["DBSIZE"] : ["EXISTS", k]
            return step
        default: return ["DEBUG", "DIGEST-VALUE", k]
        }
    }

    mutating func steps(count: Int) -> [Step] {
        var out: [Step] = []
        out.reserveCapacity(count + 4)
        for _ in 0..<count { out.append(step()) }
        out.append(.probe("dump of databases 0-3") { c in try Probes.dump(c, dbs: 0...3) })
        out.append(["DEBUG", "DIGEST"])
        for db in 0...3 {
            out.append(["SELECT", String(db)])
            out.append(["DBSIZE"])
        }
        return out
    }
}
