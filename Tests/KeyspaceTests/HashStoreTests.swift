/*
 * HashStoreTests — hash values in both encodings against a dictionary model: seeded random
 * HSET/HDEL-like operations under several listpack thresholds, checking contents, count,
 * the moment of conversion to hashtable (and that it never converts back), SCAN coverage,
 * deep copies and random sampling (seeded, bounded).
 */
import Platform
import Testing

@testable import Keyspace

@Suite struct HashStoreTests {
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

    static func view<R>(_ s: String, _ body: (ByteView) -> R) -> R {
        var s = s
        return s.withUTF8 { b in body(ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)) }
    }

    static func text(_ v: PackedValue) -> String { v.withBytes { $0.string } }

    static func makeHash() -> Entry {
        let e = view("key") { Entry.allocate(key: $0, valueCapacity: 0) }
        e.type = .hash
        e.encoding = .listpack
        e.payload = HashStore.newListpackPayload()
        return e
    }

    @discardableResult
    static func set(_ e: Entry, _ f: String, _ v: String, entries: Int = 512, value: Int = 64) -> Bool {
        view(f) { fb in view(v) { vb in HashStore.set(e, fb, vb, maxEntries: entries, maxValue: value) } }
    }

    @discardableResult
    static func delete(_ e: Entry, _ f: String) -> Bool { view(f) { HashStore.delete(e, $0) } }

    static func get(_ e: Entry, _ f: String) -> String? { view(f) { HashStore.get(e, $0).map(text) } }

    static func contents(_ e: Entry) -> [String: String] {
        var out: [String: String] = [:]
        HashStore.forEach(e) { f, v in
            let key = text(f)
            #expect(out[key] == nil, "field \(key) visited twice")
            out[key] = text(v)
        }
        return out
    }

    static func randomString(_ rng: inout RNG, maxLength: Int) -> String {
        switch rng.below(6) {
        case 0: return String(Int64(bitPattern: rng.next()))
        case 1: return String(rng.below(300) - 150)
        case 2: return "0" + String(rng.below(10))  // not canonical: stays a string
        case 3: return ""
        default:
            let n = rng.below(maxLength + 1)
            return String((0..<n).map { _ in Character(Unicode.Scalar(UInt8(97 + rng.below(26)))) })
        }
    }

    @Test(arguments: [(512, 64), (4, 8), (16, 16), (0, 64), (64, 0)])
    func randomOperationsMatchModel(_ limits: (Int, Int)) {
        let (maxEntries, maxValue) = limits
        var rng = RNG(state: 0x5EED_0000 &+ UInt64(maxEntries * 100 + maxValue))
        let e = Self.makeHash()
        defer { e.free() }
        var model: [String: String] = [:]
        var converted = false
        for step in 0..<3000 {
            let field = rng.below(4) == 0
                ? Self.randomString(&rng, maxLength: maxValue + 4) : "f\(rng.below(maxEntries + 20))"
            if rng.below(3) == 0 {
                #expect(Self.delete(e, field) == (model.removeValue(forKey: field) != nil))
            } else {
                let value = Self.randomString(&rng, maxLength: maxValue + 4)
                let wouldConvert = field.utf8.count > maxValue || value.utf8.count > maxValue
                let isNew = model.updateValue(value, forKey: field) == nil
                #expect(Self.set(e, field, value, entries: maxEntries, value: maxValue) == isNew)
                if wouldConvert || model.count > maxEntries { converted = true }
            }
            #expect(HashStore.count(e) == model.count)
            #expect(e.encoding == (converted ? .hashtable : .listpack), "step \(step)")
            if step % 97 == 0 { #expect(Self.contents(e) == model) }
        }
        #expect(Self.contents(e) == model)
        for (f, v) in model { #expect(Self.get(e, f) == v) }
        #expect(Self.get(e, "never-set-field") == nil)
    }

    @Test func convertsAtThresholdsAndNeverBack() {
        let e = Self.makeHash()
        defer { e.free() }
        for i in 1...512 { Self.set(e, "f\(i)", "v\(i)") }
        #expect(e.encoding == .listpack)
        Self.set(e, "f1", "again")
        #expect(e.encoding == .listpack)
        Self.set(e, "f513", "v")
        #expect(e.encoding == .hashtable)
        for i in 1...513 { Self.delete(e, "f\(i)") }
        #expect(HashStore.count(e) == 0)
        Self.set(e, "x", "y")
        #expect(e.encoding == .hashtable)

        let v = Self.makeHash()
        defer { v.free() }
        Self.set(v, "f", String(repeating: "a", count: 64))
        Self.set(v, String(repeating: "b", count: 64), "v")
        #expect(v.encoding == .listpack)
        Self.set(v, "f", String(repeating: "a", count: 65))
        #expect(v.encoding == .hashtable)
        #expect(Self.get(v, "f") == String(repeating: "a", count: 65))
        #expect(Self.get(v, String(repeating: "b", count: 64)) == "v")
    }

    @Test func listpackKeepsInsertionOrderAndIntegers() {
        let e = Self.makeHash()
        defer { e.free() }
        let pairs = [("b", "2"), ("a", "-9223372036854775808"), ("12", "007"), ("", ""), ("c", "x")]
        for (f, v) in pairs { Self.set(e, f, v) }
        var seen: [(String, String)] = []
        HashStore.forEach(e) { f, v in seen.append((Self.text(f), Self.text(v))) }
        #expect(seen.map { $0.0 } == pairs.map { $0.0 })
        #expect(seen.map { $0.1 } == pairs.map { $0.1 })
        Self.set(e, "b", "22")
        Self.delete(e, "12")
        HashStore.forEach(e) { f, _ in #expect(Self.text(f) != "12") }
        #expect(Self.get(e, "b") == "22")
        #expect(Self.view("a") { HashStore.get(e, $0)?.length } == 20)
    }

    @Test(arguments: [false, true])
    func duplicateIsDeepAndIndependent(_ big: Bool) {
        let e = Self.makeHash()
        defer { e.free() }
        for i in 0..<(big ? 700 : 20) { Self.set(e, "f\(i)", "value-\(i)") }
        let copy = Self.makeHash()
        defer { copy.free() }
        HashStore.free(copy)
        copy.encoding = e.encoding
        copy.payload = HashStore.duplicate(e)
        #expect(Self.contents(copy) == Self.contents(e))
        Self.set(copy, "f1", "changed")
        Self.delete(copy, "f2")
        #expect(Self.get(e, "f1") == "value-1")
        #expect(Self.get(e, "f2") == "value-2")
        #expect(HashStore.count(copy) == HashStore.count(e) - 1)
    }

    @Test func scanVisitsEveryFieldWhileTheTableChanges() {
        let e = Self.makeHash()
        defer { e.free() }
        for i in 0..<2000 { Self.set(e, "f\(i)", "v\(i)") }
        #expect(e.encoding == .hashtable)
        var seen = Set<String>()
        var cursor: UInt64 = 0
        var calls = 0
        var next = 2000
        repeat {
            cursor = HashStore.scan(e, cursor: cursor) { f, v in
                #expect("v" + f.string.dropFirst() == v.string)
                seen.insert(f.string)
            }
            // Grow the table mid-iteration: fields present throughout must still be seen.
            if calls % 50 == 0 && next < 6000 {
                for _ in 0..<500 {
                    Self.set(e, "f\(next)", "v\(next)")
                    next += 1
                }
            }
            calls += 1
        } while cursor != 0 && calls < 100_000
        #expect(cursor == 0)
        for i in 0..<2000 { #expect(seen.contains("f\(i)")) }
    }

    @Test func randomSamplingCoversTheHash() {
        let e = Self.makeHash()
        defer { e.free() }
        for i in 0..<1000 { Self.set(e, "f\(i)", "v\(i)") }
        var seen = Set<String>()
        for _ in 0..<20_000 {
            let (f, v) = HashStore.randomTablePair(e)
            #expect("v" + f.string.dropFirst() == v.string)
            seen.insert(f.string)
        }
        #expect(seen.count > 900)
        let small = Self.makeHash()
        defer { small.free() }
        for i in 0..<10 { Self.set(small, "f\(i)", "v\(i)") }
        #expect(small.encoding == .listpack)
        var seenSmall = Set<String>()
        for _ in 0..<500 {
            let (f, v) = HashStore.randomListpackPair(small)
            #expect("v" + Self.text(f).dropFirst() == Self.text(v))
            seenSmall.insert(Self.text(f))
        }
        #expect(seenSmall.count == 10)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { counts[HashStore.random(below: 7)] += 1 }
        #expect(counts.allSatisfy { $0 > 700 })
    }
}
