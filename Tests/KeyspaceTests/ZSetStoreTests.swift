/*
 * ZSetStoreTests — the sorted set structures against a simple model: random inserts, score
 * updates, deletes and range removals in both encodings, checking order, ranks, spans and
 * range answers after every step (seeded, bounded).
 */
import Platform
import Testing

@testable import Keyspace

@Suite struct ZSetStoreTests {
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static func withBytes<R>(_ s: String, _ body: (ByteView) -> R) -> R {
        var s = s
        return s.withUTF8 { b in body(ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)) }
    }

    static func makeEntry(listpack: Bool) -> Entry {
        let e = withBytes("k") { Entry.allocate(key: $0, valueCapacity: 0) }
        let (enc, payload) = ZSetStore.makeEmpty(listpack: listpack)
        e.type = .zset
        e.encoding = enc
        e.payload = payload
        return e
    }

    static func contents(_ e: Entry) -> [(String, Double)] {
        var out: [(String, Double)] = []
        let n = ZSetStore.count(e)
        ZSetStore.forEach(e, from: 0, to: n - 1, reverse: false) { m, s in out.append((m.string, s)) }
        return out
    }

    static func sortedModel(_ model: [String: Double]) -> [(String, Double)] {
        model.map { ($0.key, $0.value) }.sorted {
            $0.1 != $1.1 ? $0.1 < $1.1 : Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8))
        }
    }

    @Test(arguments: [true, false], [UInt64(1), 7, 42])
    func randomOperationsMatchModel(listpack: Bool, seed: UInt64) {
        var rng = RNG(state: seed | 1)
        let e = Self.makeEntry(listpack: listpack)
        defer { e.free() }
        var model: [String: Double] = [:]
        for step in 0..<1500 {
            let member = "m\(rng.below(200))"
            let score = Double(rng.below(50)) / 2
            switch rng.below(10) {
            case 0...5:
                let r = Self.withBytes(member) {
                    ZSetStore.add(e, $0, score, [], maxEntries: listpack ? 1_000_000 : 0, maxValue: 64)
                }
                switch r {
                case .added: #expect(model[member] == nil)
                case .updated, .unchanged: #expect(model[member] != nil)
                default: Issue.record("unexpected outcome")
                }
                model[member] = score
            case 6...7:
                let removed = Self.withBytes(member) { ZSetStore.remove(e, $0) }
                #expect(removed == (model.removeValue(forKey: member) != nil))
            case 8:
                let range = ScoreRange(min: 5, max: 10, minExclusive: true, maxExclusive: false)
                let (lo, hi) = ZSetStore.ranks(e, range)
                let expected = Self.sortedModel(model).enumerated().filter { range.aboveMin($0.element.1) && range.belowMax($0.element.1) }
                #expect(max(0, hi - lo + 1) == expected.count)
                if let f = expected.first { #expect(lo == f.offset) }
            default:
                if model.count > 20 {
                    let removed = ZSetStore.removeRanks(e, from: 3, to: 7)
                    #expect(removed == 5)
                    for (m, _) in Self.sortedModel(model)[3...7] { model.removeValue(forKey: m) }
                }
            }
            #expect(ZSetStore.count(e) == model.count)
            #expect(ZSetStore.validate(e))
            if step % 50 == 0 {
                let got = Self.contents(e)
                let want = Self.sortedModel(model)
                #expect(got.map(\.0) == want.map(\.0))
                #expect(got.map(\.1) == want.map(\.1))
                for (i, (m, s)) in want.enumerated() {
                    #expect(Self.withBytes(m) { ZSetStore.rank(e, $0) } == i)
                    #expect(Self.withBytes(m) { ZSetStore.score(e, $0) } == s)
                }
            }
        }
        #expect(e.encoding == (listpack ? .listpack : .skiplist))
    }

    @Test func conversionKeepsOrderAndScores() {
        let e = Self.makeEntry(listpack: true)
        defer { e.free() }
        for i in 0..<10 {
            _ = Self.withBytes("x\(9 - i)") { ZSetStore.add(e, $0, Double(i % 3) + 0.1, [], maxEntries: 128, maxValue: 64) }
        }
        let before = Self.contents(e)
        _ = Self.withBytes("y") { ZSetStore.add(e, $0, -0.0, [], maxEntries: 10, maxValue: 64) }
        #expect(e.encoding == .skiplist)
        #expect(Array(Self.contents(e).dropFirst()).map(\.0) == before.map(\.0))
        _ = Self.withBytes("y") { ZSetStore.remove(e, $0) }
        ZSetStore.convertToListpackIfNeeded(e, maxEntries: 128, maxValue: 64)
        #expect(e.encoding == .listpack)
        #expect(Self.contents(e).map(\.0) == before.map(\.0))
        let copy = Entry(e.raw)
        let dup = ZSetStore.duplicate(copy)
        #expect(dup != e.payload)
        PackedList(raw: UnsafeMutableRawPointer(bitPattern: Int(dup))!).free()
    }

    @Test func flagsAndPop() {
        let e = Self.makeEntry(listpack: false)
        defer { e.free() }
        let add = { (m: String, s: Double, f: ZAddFlags) in Self.withBytes(m) { ZSetStore.add(e, $0, s, f, maxEntries: 0, maxValue: 64) } }
        if case .added = add("a", 1, []) {} else { Issue.record("add") }
        if case .skipped = add("a", 5, [.nx]) {} else { Issue.record("nx") }
        if case .skipped = add("a", 0, [.gt]) {} else { Issue.record("gt") }
        if case .updated(let s) = add("a", 2, [.incr]) { #expect(s == 3) } else { Issue.record("incr") }
        _ = add("b", .infinity, [])
        if case .nan = add("b", -.infinity, [.incr]) {} else { Issue.record("nan") }
        var popped: [String] = []
        #expect(ZSetStore.pop(e, max: true, count: 5) { m, _ in popped.append(m.string) } == 2)
        #expect(popped == ["b", "a"])
        #expect(ZSetStore.count(e) == 0)
    }

    @Test func lexRanges() {
        let e = Self.makeEntry(listpack: false)
        defer { e.free() }
        for m in ["a", "b", "bb", "c", "d"] { _ = Self.withBytes(m) { ZSetStore.add(e, $0, 0, [], maxEntries: 0, maxValue: 64) } }
        Self.withBytes("b") { b in
            Self.withBytes("d") { d in
                let r = LexRange(min: LexBound(kind: .value, value: b, exclusive: false),
                                 max: LexBound(kind: .value, value: d, exclusive: true))
                let (lo, hi) = ZSetStore.ranks(e, r)
                #expect(lo == 1 && hi == 3)
            }
        }
    }
}
