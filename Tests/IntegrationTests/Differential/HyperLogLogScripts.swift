/*
 * HyperLogLogScripts.swift — differential scripts for the HyperLogLog commands (issue 18):
 * PFADD PFCOUNT PFMERGE PFDEBUG, their errors, and above all the bytes they leave (GET and
 * DUMP of sparse, promoted and dense values, the cached cardinality in the header), plus
 * seeded random PFADD/PFMERGE/PFCOUNT sequences compared step by step and by DUMP bytes.
 */

import Foundation
import Testing

@Suite struct HyperLogLogTests {
    @Test(arguments: HyperLogLogScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }

    /// Seeded random PFADD / PFMERGE / PFCOUNT over six keys (ITEST_SEED_HLL), DUMPs at the end.
    @Test func seededRandomSequences() throws {
        let seed = ProcessInfo.processInfo.environment["ITEST_SEED_HLL"].flatMap { UInt64($0) } ?? 20_261_207
        try Differential.run(Script("random hll seed=\(seed)", HyperLogLogScripts.random(seed: seed)))
    }
}

enum HyperLogLogScripts {
    static let all: [Script] = [basics, promotion, merge, errors, debug]

    static func elements(_ prefix: String, _ range: Range<Int>) -> [String] { range.map { "\(prefix)\($0)" } }

    static let basics = Script("pfadd-pfcount", [
        ["PFADD", "h"],
        ["GET", "h"],
        ["PFADD", "h"],
        ["PFADD", "h", "a", "b", "c"],
        ["PFADD", "h", "a"],
        ["GET", "h"],
        ["PFCOUNT", "h"],
        ["GET", "h"],
        ["PFCOUNT", "h"],
        ["OBJECT", "ENCODING", "h"],
        ["PFADD", "h", ""],
        ["PFCOUNT", "h"],
        ["PFCOUNT", "missing"],
        ["PFCOUNT", "h", "missing"],
        Step(.command(["PFADD", "big"] + elements("e", 0..<1000))),
        ["PFCOUNT", "big"],
        ["DUMP", "big"],
        ["PFCOUNT", "h", "big"],
        ["SET", "ttl", "x"], ["DEL", "ttl"],
        ["PFADD", "ttl", "a"], ["EXPIRE", "ttl", "1000"], ["PFADD", "ttl", "b"], ["TTL", "ttl"],
    ])

    static let promotion = Script("pfadd-promotion", [
        // By size: the sparse form outgrows hll-sparse-max-bytes (3000).
        Step(.command(["PFADD", "s"] + elements("x", 0..<3000))),
        ["PFDEBUG", "ENCODING", "s"],
        ["STRLEN", "s"],
        ["PFCOUNT", "s"],
        ["DUMP", "s"],
        Step(.command(["PFADD", "s"] + elements("y", 0..<5000))),
        ["PFCOUNT", "s"],
        ["DUMP", "s"],
        // By value: a register above 32.
        ["PFADD", "v", "v13429669817"],
        ["PFDEBUG", "ENCODING", "v"],
        ["PFCOUNT", "v"],
        ["CONFIG", "SET", "hll-sparse-max-bytes", "100"],
        Step(.command(["PFADD", "small"] + elements("z", 0..<40))),
        ["PFDEBUG", "ENCODING", "small"],
        ["GET", "small"],
        ["CONFIG", "SET", "hll-sparse-max-bytes", "3000"],
    ])

    static let merge = Script("pfmerge", [
        Step(.command(["PFADD", "a"] + elements("a", 0..<50))),
        Step(.command(["PFADD", "b"] + elements("b", 0..<80))),
        Step(.command(["PFADD", "d"] + elements("d", 0..<5000))),
        ["PFCOUNT", "a"],
        ["PFMERGE", "m", "a", "b"],
        ["GET", "m"],
        ["PFCOUNT", "m"],
        ["PFMERGE", "m2", "a", "d"],
        ["PFDEBUG", "ENCODING", "m2"],
        ["DUMP", "m2"],
        ["PFMERGE", "a", "b"],
        ["GET", "a"],
        ["PFMERGE", "empty"],
        ["GET", "empty"],
        ["PFMERGE", "empty2", "missing1", "missing2"],
        ["GET", "empty2"],
        ["PFCOUNT", "a", "b", "d", "missing"],
        ["PFMERGE", "d", "a"],
        ["DUMP", "d"],
    ])

    static let errors = Script("hll-errors", [
        ["SET", "str", "not an hll"],
        ["PFADD", "str", "a"],
        ["PFCOUNT", "str"],
        ["PFCOUNT", "missing", "str"],
        ["PFMERGE", "dst", "str"],
        ["EXISTS", "dst"],
        ["PFMERGE", "str", "missing"],
        ["LPUSH", "list", "a"],
        ["PFADD", "list", "a"],
        ["PFCOUNT", "list"],
        ["SET", "n", "123"],
        ["PFADD", "n", "a"],
        ["SET", "fakesparse", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{7f}\u{ff}"],
        ["PFCOUNT", "fakesparse"],
        ["PFADD", "fakesparse", "a"],
        ["SET", "baddense", "HYLL\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}abc"],
        ["PFCOUNT", "baddense"],
        ["SET", "badenc", "HYLL\u{2}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}"],
        ["PFCOUNT", "badenc"],
        ["PFCOUNT"],
    ])

    static let debug = Script("pfdebug", [
        Step(.command(["PFADD", "h"] + elements("q", 0..<20))),
        ["PFDEBUG", "DECODE", "h"],
        ["PFDEBUG", "ENCODING", "h"],
        ["PFDEBUG", "encoding", "h"],
        ["PFDEBUG", "FOO", "h"],
        ["PFDEBUG", "GETREG", "missing"],
        ["PFDEBUG", "GETREG", "h"],
        ["PFDEBUG", "ENCODING", "h"],
        ["PFDEBUG", "DECODE", "h"],
        ["PFDEBUG", "TODENSE", "h"],
        ["PFADD", "h2", "x"],
        ["PFDEBUG", "TODENSE", "h2"],
        ["PFDEBUG", "ENCODING", "h2"],
        ["SET", "str", "x"],
        ["PFDEBUG", "ENCODING", "str"],
        ["PFDEBUG", "ENCODING"],
        ["PFSELFTEST", "x"],
    ])

    /// PFADD of random elements from a few pools (so registers repeat), PFMERGE of random keys,
    /// PFCOUNT of one and several; every key's DUMP at the end.
    static func random(seed: UInt64) -> [Step] {
        var rng = SplitMix64(seed: seed)
        let keys = ["h0", "h1", "h2", "h3", "h4", "h5"]
        func key() -> String { keys[Int.random(in: 0..<keys.count, using: &rng)] }
        var steps: [Step] = []
        for _ in 0..<400 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...5:
                let n = Int.random(in: 0...(Bool.random(using: &rng) ? 5 : 200), using: &rng)
                let pool = Int.random(in: 1...100_000, using: &rng)
                let elements = (0..<n).map { _ in "el\(Int.random(in: 0..<pool, using: &rng))" }
                steps.append(Step(.command(["PFADD", key()] + elements)))
            case 6: steps.append(Step(.command(["PFMERGE", key(), key(), key()])))
            case 7: steps.append(["PFCOUNT", key()])
            case 8: steps.append(Step(.command(["PFCOUNT", key(), key(), key()])))
            default: steps.append(["PFDEBUG", "ENCODING", key()])
            }
        }
        return steps + keys.map { ["DUMP", $0] }
    }
}
