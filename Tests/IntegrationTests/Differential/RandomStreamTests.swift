/*
 * RandomStreamTests.swift — a seeded random differential test over streams with consumer groups.
 *
 * A fixed seed (override with ITEST_SEED_STREAM=<n>, length with ITEST_RANDOM_STREAM_STEPS=<n>, default
 * 3000) generates XADD (explicit, `ms-*` and partial IDs; fields that repeat the node's master fields or
 * not; values that are integers, short and long strings; MAXLEN/MINID trims, exact and `~`), XDEL, XTRIM,
 * XRANGE/XREVRANGE (exclusive bounds, COUNT), XREAD, XLEN, XSETID, XINFO STREAM [FULL], and on the group
 * key XGROUP CREATE/SETID/CREATECONSUMER/DELCONSUMER, XREADGROUP (new and history, NOACK), XACK,
 * XCLAIM ... JUSTID / with entries, XAUTOCLAIM and XPENDING's summary — on servers with small nodes
 * (stream-node-max-entries 5, stream-node-max-bytes 160) so nodes fill, split, empty and get trimmed.
 *
 * Every reply is compared exactly except the few that carry times (XINFO STREAM FULL with groups,
 * XINFO CONSUMERS: by shape). At the end, DUMP of the group-less streams must be byte-identical (node
 * bytes, counters, XINFO figures), and DEBUG DIGEST-VALUE / XINFO GROUPS of every key equal.
 */

import Foundation
import Testing

@Suite struct RandomStreamTests {
    @Test func seededStreams() throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["ITEST_SEED_STREAM"].flatMap { UInt64($0) } ?? 20_261_207
        let count = env["ITEST_RANDOM_STREAM_STEPS"].flatMap { Int($0) } ?? 3000
        var g = StreamScriptGenerator(seed: seed)
        let steps = g.steps(count: count)
        try Differential.run(Script("streams seed=\(seed) steps=\(count)",
                                    serverArgs: ["--stream-node-max-entries", "5", "--stream-node-max-bytes", "160"],
                                    steps))
    }
}

struct StreamScriptGenerator {
    var state: UInt64
    var ms: UInt64 = 1

    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    mutating func pick<T>(_ a: [T]) -> T { a[int(a.count)] }

    static let fields = ["a", "b", "c", "longer-field-name", "123", "-7"]

    mutating func value() -> String {
        switch int(4) {
        case 0: return "\(int(200_000) - 100_000)"
        case 1: return String(repeating: "x", count: int(90))
        case 2: return "v"
        default: return "value-\(int(1000))"
        }
    }

    mutating func trimOptions() -> [String] {
        switch int(6) {
        case 0: return ["MAXLEN", "\(int(30))"]
        case 1: return ["MAXLEN", "~", "\(int(30))"]
        case 2: return ["MINID", "\(ms > 20 ? ms - 20 : 0)"]
        case 3: return ["MINID", "~", "\(ms > 25 ? ms - 25 : 0)"]
        case 4: return ["MAXLEN", "~", "\(int(30))", "LIMIT", "\(int(12))"]
        default: return ["MAXLEN", "=", "\(int(40))"]
        }
    }

    mutating func xadd(_ key: String) -> Step {
        ms += UInt64(pick([0, 0, 1, 3]))
        var args = ["XADD", key]
        if chance(15) { args += trimOptions() }
        args.append(pick(["\(ms)-*", "\(ms)-\(int(4))", "\(ms)"]))
        let n = pick([1, 1, 2, 3])
        let names = chance(70) ? Array(Self.fields.prefix(n)) : (0..<n).map { _ in pick(Self.fields) }
        for f in names { args += [f, value()] }
        return Step(.command(args))
    }

    mutating func someID() -> String { "\(int(Int(ms) + 2))-\(int(4))" }

    mutating func steps(count: Int) -> [Step] {
        var steps: [Step] = [["XGROUP", "CREATE", "g1", "grp", "0", "MKSTREAM"]]
        let consumers = ["alice", "bob", "carol"]
        for _ in 0..<count {
            let key = pick(["s1", "s2", "g1"])
            let r = int(100)
            switch r {
            case 0..<40: steps.append(xadd(key))
            case 40..<47: steps.append(Step(.command(["XDEL", key] + (0..<(1 + int(3))).map { _ in someID() })))
            case 47..<52: steps.append(Step(.command(["XTRIM", key] + trimOptions())))
            case 52..<60:
                let (a, b) = (int(Int(ms) + 2), int(Int(ms) + 2))
                let (lo, hi) = (min(a, b), max(a, b))
                var start = "\(lo)", end = "\(hi)"
                if chance(25) { start = "(\(lo)-0" }
                if chance(20) { end = "+" }
                let rev = chance(40)
                var args = rev ? ["XREVRANGE", key, end, start] : ["XRANGE", key, start, end]
                if chance(40) { args += ["COUNT", "\(int(6) - 1)"] }
                steps.append(Step(.command(args)))
            case 60..<63:
                steps.append(Step(.command(["XREAD", "COUNT", "\(1 + int(4))", "STREAMS", "s1", "s2", someID(), someID()])))
            case 63..<65: steps.append(Step(.command(["XLEN", key])))
            case 65..<67:
                let full = chance(50)
                let args = ["XINFO", "STREAM", key] + (full ? ["FULL", "COUNT", "\(int(5))"] : [])
                steps.append(Step(.command(args), key == "g1" && full ? .typeOnly : .exact))
            case 67..<69: steps.append(Step(.command(["XSETID", key, "\(Int(ms) + int(5) - 2)-\(int(3))"])))
            case 69..<78:
                var args = ["XREADGROUP", "GROUP", "grp", pick(consumers), "COUNT", "\(1 + int(4))"]
                if chance(20) { args.append("NOACK") }
                args += ["STREAMS", "g1", chance(75) ? ">" : "0"]
                steps.append(Step(.command(args)))
            case 78..<83: steps.append(Step(.command(["XACK", "g1", "grp"] + (0..<(1 + int(3))).map { _ in someID() })))
            case 83..<87:
                var args = ["XCLAIM", "g1", "grp", pick(consumers), "0", someID(), someID()]
                if chance(60) { args.append("JUSTID") }
                if chance(20) { args += ["RETRYCOUNT", "\(int(5))"] }
                if chance(10) { args.append("FORCE") }
                steps.append(Step(.command(args)))
            case 87..<90:
                var args = ["XAUTOCLAIM", "g1", "grp", pick(consumers), "0", chance(50) ? "0" : someID(), "COUNT", "\(1 + int(4))"]
                if chance(50) { args.append("JUSTID") }
                steps.append(Step(.command(args)))
            case 90..<93: steps.append(Step(.command(["XPENDING", "g1", "grp"])))
            case 93..<95: steps.append(Step(.command(["XINFO", "GROUPS", "g1"])))
            case 95: steps.append(Step(.command(["XGROUP", "SETID", "g1", "grp", chance(50) ? "$" : someID()])))
            case 96: steps.append(Step(.command(["XGROUP", "CREATECONSUMER", "g1", "grp", pick(consumers + ["dave"])])))
            case 97: steps.append(Step(.command(["XGROUP", "DELCONSUMER", "g1", "grp", pick(consumers + ["dave"])])))
            case 98: steps.append(Step(.command(["XINFO", "CONSUMERS", "g1", "grp"]), .typeOnly))
            default: steps.append(Step(.command(["XGROUP", "CREATE", key, "grp2", "$", "MKSTREAM"])))
            }
        }
        for key in ["s1", "s2"] {
            steps.append(Step(.command(["XGROUP", "DESTROY", key, "grp2"])))
            steps.append(Step(.command(["DUMP", key])))
        }
        for key in ["s1", "s2", "g1"] {
            steps.append(Step(.command(["DEBUG", "DIGEST-VALUE", key])))
            steps.append(Step(.command(["XINFO", "GROUPS", key])))
            steps.append(Step(.command(["XRANGE", key, "-", "+"])))
        }
        return steps
    }
}
