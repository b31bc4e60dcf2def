/*
 * BitmapScripts.swift — differential scripts for the bitmap commands (issue 18): SETBIT GETBIT
 * BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO, their errors, the encodings and bytes they leave
 * (GET, OBJECT ENCODING, DUMP), and a seeded random mix over a few keys whose replies and final
 * bytes must match redis-server's.
 */

import Foundation
import Testing

@Suite struct BitmapTests {
    @Test(arguments: BitmapScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }

    /// Seeded random SETBIT/BITFIELD/BITOP/BITCOUNT/BITPOS over four keys (ITEST_SEED_BITMAP).
    @Test func seededRandomBitmaps() throws {
        let seed = ProcessInfo.processInfo.environment["ITEST_SEED_BITMAP"].flatMap { UInt64($0) } ?? 20_261_207
        try Differential.run(Script("random bitmaps seed=\(seed)", BitmapScripts.random(seed: seed, count: 1500)))
    }
}

enum BitmapScripts {
    static let all: [Script] = [setbitGetbit, bitErrors, bitcount, bitpos, bitop, bitfield, bitfieldOverflow, bitfieldErrors]

    static let setbitGetbit = Script("setbit-getbit", [
        ["SETBIT", "k", "7", "1"],
        ["GET", "k"],
        ["GETBIT", "k", "7"],
        ["GETBIT", "k", "6"],
        ["GETBIT", "k", "1000"],
        ["GETBIT", "missing", "3"],
        ["SETBIT", "k", "7", "1"],
        ["SETBIT", "k", "7", "0"],
        ["SETBIT", "k", "100", "1"],
        ["STRLEN", "k"],
        ["GET", "k"],
        ["OBJECT", "ENCODING", "k"],
        ["DUMP", "k"],
        ["SET", "n", "123"],
        ["SETBIT", "n", "0", "0"],
        ["OBJECT", "ENCODING", "n"],
        ["GET", "n"],
        ["GETBIT", "n", "2"],
        ["SET", "e", "ab"],
        ["SETBIT", "e", "1", "1"],
        ["OBJECT", "ENCODING", "e"],
        ["SET", "ttl", "x", "EX", "1000"],
        ["SETBIT", "ttl", "3", "1"],
        ["TTL", "ttl"],
        ["LPUSH", "list", "a"],
        ["SETBIT", "list", "0", "1"],
        ["GETBIT", "list", "0"],
        // Growth from offset 0 upwards.
        ["SETBIT", "grow", "0", "1"], ["SETBIT", "grow", "80", "1"], ["SETBIT", "grow", "8000", "1"],
        ["SETBIT", "grow", "80000", "1"], ["STRLEN", "grow"], ["BITCOUNT", "grow"],
    ])

    static let bitErrors = Script("bit-errors", [
        ["SETBIT", "k", "-1", "1"],
        ["SETBIT", "k", "4294967296", "1"],
        ["SETBIT", "k", "abc", "1"],
        ["SETBIT", "k", "0", "2"],
        ["SETBIT", "k", "0", "-1"],
        ["SETBIT", "k", "0", "01"],
        ["SETBIT", "k", "0"],
        ["GETBIT", "k", "-1"],
        ["GETBIT", "k", "999999999999"],
        ["GETBIT", "k"],
        ["EXISTS", "k"],
    ])

    static let bitcount = Script("bitcount", [
        ["SET", "s", "foobar"],
        ["BITCOUNT", "s"],
        ["BITCOUNT", "s", "0", "0"],
        ["BITCOUNT", "s", "1", "1"],
        ["BITCOUNT", "s", "0", "-1"],
        ["BITCOUNT", "s", "-2", "-1"],
        ["BITCOUNT", "s", "-1", "-2"],
        ["BITCOUNT", "s", "5", "100"],
        ["BITCOUNT", "s", "100", "200"],
        ["BITCOUNT", "s", "1", "1", "BYTE"],
        ["BITCOUNT", "s", "5", "30", "BIT"],
        ["BITCOUNT", "s", "5", "30", "bit"],
        ["BITCOUNT", "s", "0", "0", "BIT"],
        ["BITCOUNT", "s", "-7", "-1", "BIT"],
        ["BITCOUNT", "s", "-70", "-60", "BIT"],
        ["BITCOUNT", "s", "9", "9", "BIT"],
        ["BITCOUNT", "s", "1"],
        ["BITCOUNT", "s", "1", "x"],
        ["BITCOUNT", "s", "1", "2", "x"],
        ["BITCOUNT", "s", "1", "2", "BIT", "x"],
        ["BITCOUNT", "missing", "1"],
        ["BITCOUNT", "missing", "1", "x"],
        ["SET", "n", "-1234"],
        ["BITCOUNT", "n"],
        ["SET", "empty", ""],
        ["BITCOUNT", "empty"],
        ["BITCOUNT", "empty", "0", "-1"],
        ["LPUSH", "list", "a"],
        ["BITCOUNT", "list"],
        ["SET", "big", String(repeating: "\u{7f}ab", count: 3000)],
        ["BITCOUNT", "big"],
        ["BITCOUNT", "big", "3", "8000"],
        ["BITCOUNT", "big", "13", "64001", "BIT"],
    ])

    static let bitpos = Script("bitpos", [
        ["SET", "s", "\u{0}\u{0}\u{ff}\u{f0}"],
        ["BITPOS", "s", "1"],
        ["BITPOS", "s", "0"],
        ["BITPOS", "s", "1", "2"],
        ["BITPOS", "s", "0", "2"],
        ["BITPOS", "s", "0", "2", "-1"],
        ["BITPOS", "s", "0", "2", "2"],
        ["BITPOS", "s", "1", "3", "3"],
        ["BITPOS", "s", "1", "17", "30", "BIT"],
        ["BITPOS", "s", "0", "17", "30", "BIT"],
        ["BITPOS", "s", "0", "16", "23", "BIT"],
        ["BITPOS", "s", "1", "0", "15", "BIT"],
        ["BITPOS", "s", "1", "-3", "-1", "BIT"],
        ["BITPOS", "s", "0", "-3", "-1", "BIT"],
        ["BITPOS", "s", "1", "10", "2"],
        ["BITPOS", "s", "1", "100"],
        ["BITPOS", "s", "0", "100"],
        ["SET", "ones", "\u{ff}\u{ff}\u{ff}"],
        ["BITPOS", "ones", "0"],
        ["BITPOS", "ones", "0", "1"],
        ["BITPOS", "ones", "0", "0", "-1"],
        ["BITPOS", "ones", "0", "0", "-1", "BIT"],
        ["BITPOS", "ones", "1", "-1"],
        ["SET", "zeros", "\u{0}\u{0}\u{0}"],
        ["BITPOS", "zeros", "1"],
        ["BITPOS", "zeros", "0"],
        ["BITPOS", "missing", "1"],
        ["BITPOS", "missing", "0"],
        ["BITPOS", "missing", "1", "a", "b"],
        ["BITPOS", "s", "2"],
        ["BITPOS", "s", "x"],
        ["BITPOS", "s", "1", "a"],
        ["BITPOS", "s", "1", "0", "a"],
        ["BITPOS", "s", "1", "0", "1", "bits"],
        ["BITPOS", "s", "1", "0", "1", "BIT", "x"],
        ["SET", "empty", ""],
        ["BITPOS", "empty", "0"],
        ["BITPOS", "empty", "1"],
        ["SET", "n", "10"],
        ["BITPOS", "n", "1"],
        ["LPUSH", "list", "a"],
        ["BITPOS", "list", "1"],
        ["SET", "long", String(repeating: "\u{0}", count: 5000) + "\u{1}" + String(repeating: "\u{ff}", count: 5000)],
        ["BITPOS", "long", "1"],
        ["BITPOS", "long", "0", "5000"],
        ["BITPOS", "long", "1", "1", "-2"],
        ["BITPOS", "long", "0", "40000", "80000", "BIT"],
    ])

    static let bitop = Script("bitop", [
        ["SET", "a", "abcdef"],
        ["SET", "b", "xyz"],
        ["BITOP", "AND", "d", "a", "b"],
        ["GET", "d"],
        ["BITOP", "OR", "d", "a", "b"],
        ["GET", "d"],
        ["BITOP", "XOR", "d", "a", "b", "missing"],
        ["GET", "d"],
        ["BITOP", "NOT", "d", "a"],
        ["GET", "d"],
        ["OBJECT", "ENCODING", "d"],
        ["BITOP", "and", "d", "a", "missing"],
        ["GET", "d"],
        ["SET", "n", "12345"],
        ["BITOP", "OR", "d", "n", "a"],
        ["GET", "d"],
        ["BITOP", "AND", "a", "a", "b"],
        ["GET", "a"],
        ["SET", "d", "x", "EX", "1000"],
        ["BITOP", "OR", "d", "b"],
        ["TTL", "d"],
        ["BITOP", "OR", "d", "missing1", "missing2"],
        ["EXISTS", "d"],
        ["BITOP", "OR", "d", "missing1"],
        ["SET", "empty", ""],
        ["BITOP", "NOT", "d", "empty"],
        ["EXISTS", "d"],
        ["LPUSH", "list", "x"],
        ["BITOP", "OR", "d", "a", "list"],
        ["BITOP", "NOT", "d", "a", "b"],
        ["BITOP", "NAND", "d", "a"],
        ["BITOP", "AND", "d"],
        ["SET", "long1", String(repeating: "\u{5a}", count: 10_001)],
        ["SET", "long2", String(repeating: "\u{c3}", count: 9_999)],
        ["BITOP", "XOR", "d", "long1", "long2"],
        ["BITCOUNT", "d"],
        ["BITOP", "AND", "d", "long1", "long2"],
        ["BITCOUNT", "d"],
        ["STRLEN", "d"],
    ])

    static let bitfield = Script("bitfield", [
        ["BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0"],
        ["BITFIELD", "bf", "GET", "u8", "0", "GET", "i4", "0", "GET", "u4", "4", "GET", "i64", "0", "GET", "u63", "1"],
        ["BITFIELD", "bf", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"],
        ["BITFIELD", "bf", "SET", "u8", "#2", "255", "GET", "u8", "16", "GET", "i8", "#2"],
        ["BITFIELD", "bf", "SET", "i64", "64", "-9223372036854775808", "GET", "i64", "64", "GET", "u63", "65"],
        ["GET", "bf"],
        ["OBJECT", "ENCODING", "bf"],
        ["BITFIELD", "bf"],
        ["BITFIELD", "missing", "GET", "u8", "0", "GET", "i5", "100"],
        ["EXISTS", "missing"],
        ["BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i16", "#3"],
        ["BITFIELD_RO", "bf", "GET", "u8", "0", "OVERFLOW", "SAT"],
        ["BITFIELD_RO", "missing", "GET", "u8", "0"],
        ["SET", "n", "42"],
        ["BITFIELD", "n", "GET", "u8", "0", "SET", "u8", "8", "65"],
        ["GET", "n"],
        ["OBJECT", "ENCODING", "n"],
        ["BITFIELD", "fail", "OVERFLOW", "FAIL", "SET", "u8", "0", "300"],
        ["EXISTS", "fail"],
        ["GET", "fail"],
        ["BITFIELD", "ttl", "SET", "u8", "0", "1"],
        ["EXPIRE", "ttl", "1000"],
        ["BITFIELD", "ttl", "INCRBY", "u8", "64", "1"],
        ["TTL", "ttl"],
        ["STRLEN", "ttl"],
        ["LPUSH", "list", "x"],
        ["BITFIELD", "list", "GET", "u8", "0"],
        ["BITFIELD", "list", "SET", "u8", "0", "1"],
        ["BITFIELD_RO", "list", "GET", "u8", "0"],
        ["bitfield", "lower", "set", "U8", "0", "7", "get", "I8", "0", "incrby", "u8", "0", "1", "overflow", "wrap"],
    ])

    static let bitfieldOverflow = Script("bitfield-overflow", [
        // Unsigned: WRAP (default), SAT, FAIL, up and down.
        ["BITFIELD", "u", "SET", "u8", "0", "250", "INCRBY", "u8", "0", "10"],
        ["BITFIELD", "u", "INCRBY", "u8", "0", "-10"],
        ["BITFIELD", "u", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1000", "INCRBY", "u8", "0", "-1000"],
        ["BITFIELD", "u", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000", "INCRBY", "u8", "0", "-1", "GET", "u8", "0"],
        ["BITFIELD", "u", "SET", "u8", "0", "-1", "GET", "u8", "0"],
        ["BITFIELD", "u", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "SET", "u8", "0", "256", "GET", "u8", "0"],
        ["BITFIELD", "u", "OVERFLOW", "FAIL", "SET", "u8", "0", "256", "SET", "u8", "0", "255"],
        ["BITFIELD", "u", "SET", "u63", "8", "9223372036854775807", "INCRBY", "u63", "8", "1", "GET", "u63", "8"],
        ["BITFIELD", "u", "OVERFLOW", "SAT", "INCRBY", "u63", "8", "-9223372036854775808"],
        ["BITFIELD", "u", "INCRBY", "u1", "100", "1", "INCRBY", "u1", "100", "1", "INCRBY", "u1", "100", "-3"],
        // Signed.
        ["BITFIELD", "i", "SET", "i8", "0", "120", "INCRBY", "i8", "0", "10"],
        ["BITFIELD", "i", "INCRBY", "i8", "0", "-300"],
        ["BITFIELD", "i", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "1000", "INCRBY", "i8", "0", "-1000"],
        ["BITFIELD", "i", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1", "INCRBY", "i8", "0", "-1000", "GET", "i8", "0"],
        ["BITFIELD", "i", "SET", "i8", "0", "200", "GET", "i8", "0"],
        ["BITFIELD", "i", "OVERFLOW", "SAT", "SET", "i8", "0", "200", "SET", "i8", "0", "-200", "GET", "i8", "0"],
        ["BITFIELD", "i", "SET", "i64", "8", "9223372036854775807", "INCRBY", "i64", "8", "1", "GET", "i64", "8"],
        ["BITFIELD", "i", "INCRBY", "i64", "8", "-1", "OVERFLOW", "SAT", "INCRBY", "i64", "8", "-9223372036854775808"],
        ["BITFIELD", "i", "OVERFLOW", "SAT", "INCRBY", "i64", "8", "9223372036854775807", "INCRBY", "i64", "8", "9223372036854775807"],
        ["BITFIELD", "i", "OVERFLOW", "FAIL", "INCRBY", "i64", "8", "1"],
        ["BITFIELD", "i", "SET", "i1", "200", "1", "GET", "i1", "200", "INCRBY", "i1", "200", "1", "OVERFLOW", "SAT", "INCRBY", "i1", "200", "-5"],
        ["BITFIELD", "i", "SET", "i5", "3", "-16", "INCRBY", "i5", "3", "-1", "GET", "u5", "3"],
        ["GET", "u"],
        ["GET", "i"],
    ])

    static let bitfieldErrors = Script("bitfield-errors", [
        ["BITFIELD", "k", "GET", "u8"],
        ["BITFIELD", "k", "GET", "u64", "0"],
        ["BITFIELD", "k", "GET", "i65", "0"],
        ["BITFIELD", "k", "GET", "i0", "0"],
        ["BITFIELD", "k", "GET", "x8", "0"],
        ["BITFIELD", "k", "GET", "u", "0"],
        ["BITFIELD", "k", "GET", "u8", "-1"],
        ["BITFIELD", "k", "GET", "u8", "#-1"],
        ["BITFIELD", "k", "GET", "u8", "#a"],
        ["BITFIELD", "k", "GET", "u8", "#536870912"],
        ["BITFIELD", "k", "GET", "u8", "#536870911"],
        ["BITFIELD", "k", "GET", "u8", "4294967296"],
        ["BITFIELD", "k", "SET", "u8", "0", "a"],
        ["BITFIELD", "k", "SET", "u8", "0"],
        ["BITFIELD", "k", "INCRBY", "u8", "0", "1.5"],
        ["BITFIELD", "k", "OVERFLOW", "x"],
        ["BITFIELD", "k", "OVERFLOW"],
        ["BITFIELD", "k", "foo"],
        ["BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u8", "x"],
        ["EXISTS", "k"],
        ["BITFIELD_RO", "k", "SET", "u8", "0", "1"],
        ["BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"],
        ["BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "1"],
        ["BITFIELD_RO", "k", "SET", "u8", "0", "a"],
        ["BITFIELD_RO", "k", "SET", "x8", "0", "1"],
        ["BITFIELD_RO"],
        ["EXISTS", "k"],
    ])

    /// A seeded mix over four keys: writes at offsets up to 4 KB, reads and ranges.
    static func random(seed: UInt64, count: Int) -> [Step] {
        var rng = SplitMix64(seed: seed)
        let keys = ["b0", "b1", "b2", "b3"]
        func key() -> String { keys[Int.random(in: 0..<keys.count, using: &rng)] }
        func offset() -> String { String(Int.random(in: 0..<32_768, using: &rng)) }
        func index() -> String { String(Int.random(in: -600...600, using: &rng)) }
        func type() -> String {
            let signed = Bool.random(using: &rng)
            return (signed ? "i" : "u") + String(Int.random(in: 1...(signed ? 64 : 63), using: &rng))
        }
        var steps: [Step] = []
        for _ in 0..<count {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1: steps.append(["SETBIT", key(), offset(), String(Int.random(in: 0...1, using: &rng))])
            case 2: steps.append(["GETBIT", key(), offset()])
            case 3: steps.append(Step(.command(["BITCOUNT", key(), index(), index()] + (Bool.random(using: &rng) ? ["BIT"] : []))))
            case 4: steps.append(Step(.command(["BITPOS", key(), String(Int.random(in: 0...1, using: &rng)), index()]
                                  + (Bool.random(using: &rng) ? [index(), Bool.random(using: &rng) ? "BIT" : "BYTE"] : []))))
            case 5:
                let op = ["AND", "OR", "XOR", "NOT"][Int.random(in: 0..<4, using: &rng)]
                steps.append(Step(.command(["BITOP", op, key(), key()] + (op == "NOT" ? [] : [key()]))))
            case 6, 7:
                let mode = ["WRAP", "SAT", "FAIL"][Int.random(in: 0..<3, using: &rng)]
                let delta = String(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...62, using: &rng))
                steps.append(["BITFIELD", key(), "OVERFLOW", mode, "INCRBY", type(), offset(), delta, "GET", type(), offset(),
                              "SET", type(), offset(), delta])
            case 8: steps.append(["BITFIELD_RO", key(), "GET", type(), offset(), "GET", type(), "#" + String(Int.random(in: 0..<500, using: &rng))])
            default: steps.append(["BITCOUNT", key()])
            }
        }
        return steps + keys.map { ["GET", $0] }
    }
}
