/*
 * SetStoreTests — IntSet (Sources/Keyspace/IntSet.swift) and SetValue (SetStore.swift) against a
 * Swift Set model: seeded random adds/removes at every integer width (checking sorted order and
 * the width upgrades), the conversion to a table exactly past the intset threshold or on the first
 * non-integer member (and never back), deep copies, iteration with early stop, random sampling and
 * SCAN coverage of tables (seeded, bounded).
 */
import Platform
import Testing

@testable import Keyspace

@Suite struct SetStoreTests {
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

    static func members(_ s: SetValue) -> [String] {
        var out: [String] = []
        s.forEach { out.append(text($0)) }
        return out
    }

    static func intMembers(_ s: IntSet) -> [Int64] {
        var out: [Int64] = []
        s.forEach { out.append($0) }
        return out
    }

    /// A value drawn from a range that exercises width `w` (2, 4 or 8 bytes).
    static func value(_ rng: inout RNG, width w: Int) -> Int64 {
        switch w {
        case 2: return Int64(rng.below(200)) - 100
        case 4: return Int64(rng.below(200_000)) - 100_000
        default: return Int64(bitPattern: rng.next()) / Int64(1 + rng.below(1000))
        }
    }

    // MARK: - IntSet

    @Test func emptyIntSet() {
        var s = IntSet()
        defer { s.free() }
        #expect(s.count == 0 && s.width == 2)
        #expect(!s.contains(0))
        #expect(s.search(5) == (false, 0))
        let removed = s.remove(1)
        #expect(!removed)
    }

    @Test(arguments: [2, 4, 8])
    func intSetMatchesModel(width: Int) {
        var rng = RNG(state: 0x5EED_0000 + UInt64(width))
        var s = IntSet()
        defer { s.free() }
        var model = Set<Int64>()
        for step in 0..<4000 {
            let v = Self.value(&rng, width: rng.below(4) == 0 ? 2 : width)
            if rng.below(3) == 0 {
                let r = s.remove(v)
                #expect(r == (model.remove(v) != nil))
            } else {
                let r = s.insert(v)
                #expect(r == model.insert(v).inserted)
            }
            if step % 500 == 0 || step == 3999 {
                #expect(Self.intMembers(s) == model.sorted())
                #expect(s.count == model.count)
            }
            #expect(s.contains(v) == model.contains(v))
        }
        let widest = model.map { IntSet.width(for: $0) }.max() ?? 2
        #expect(s.width >= widest)
    }

    @Test func upgradesKeepOrderAndPlaceTheNewValueAtAnEnd() {
        var s = IntSet()
        defer { s.free() }
        for v: Int64 in [5, -3, 100, 0] { s.insert(v) }
        #expect(s.width == 2)
        s.insert(40_000)
        #expect(s.width == 4)
        #expect(Self.intMembers(s) == [-3, 0, 5, 100, 40_000])
        s.insert(-40_000)
        #expect(Self.intMembers(s) == [-40_000, -3, 0, 5, 100, 40_000])
        s.insert(Int64.min)
        #expect(s.width == 8)
        #expect(Self.intMembers(s) == [Int64.min, -40_000, -3, 0, 5, 100, 40_000])
        s.insert(Int64.max)
        #expect(s[s.count - 1] == Int64.max && s[0] == Int64.min)
        // The width never shrinks.
        let r1 = s.remove(Int64.min), r2 = s.remove(Int64.max)
        #expect(r1 && r2)
        #expect(s.width == 8)
        #expect(s.contains(40_000) && !s.contains(Int64.max))
        // Values wider than the set cannot be members.
        var narrow = IntSet()
        defer { narrow.free() }
        narrow.insert(1)
        let r3 = narrow.remove(1 << 40)
        #expect(!narrow.contains(1 << 40) && !r3)
    }

    @Test func boundariesOfEachWidth() {
        #expect(IntSet.width(for: Int64(Int16.max)) == 2 && IntSet.width(for: Int64(Int16.min)) == 2)
        #expect(IntSet.width(for: Int64(Int16.max) + 1) == 4 && IntSet.width(for: Int64(Int16.min) - 1) == 4)
        #expect(IntSet.width(for: Int64(Int32.max)) == 4 && IntSet.width(for: Int64(Int32.min)) == 4)
        #expect(IntSet.width(for: Int64(Int32.max) + 1) == 8 && IntSet.width(for: Int64(Int32.min) - 1) == 8)
    }

    @Test func intSetDuplicateIsIndependent() {
        var s = IntSet()
        for v: Int64 in 0..<300 { s.insert(v * 7) }
        var d = s.duplicate()
        s.insert(1)
        d.remove(0)
        #expect(s.count == 301 && d.count == 299)
        #expect(s.contains(0) && !d.contains(0) && !d.contains(1))
        s.free()
        d.free()
    }

    // MARK: - SetValue encodings

    @Test(arguments: [0, 1, 3, 16, 512])
    func convertsExactlyPastTheThreshold(max: Int) {
        var s = SetValue.newIntSet()
        defer { s.free() }
        for i in 0..<max {
            let r = Self.view(String(i)) { s.add($0, maxIntsetEntries: max) }
            #expect(r)
            #expect(s.encoding == .intset)
        }
        let last = Self.view(String(max)) { s.add($0, maxIntsetEntries: max) }
        #expect(last)
        #expect(s.encoding == .hashtable)
        #expect(s.count == max + 1)
        // Never back, even when it shrinks to a single integer.
        for i in 0..<max {
            let r = Self.view(String(i)) { s.remove($0) }
            #expect(r)
        }
        #expect(s.count == 1 && s.encoding == .hashtable)
        #expect(Self.members(s) == [String(max)])
    }

    @Test func nonIntegerMemberConvertsAndKeepsEveryMember() {
        var s = SetValue.newIntSet()
        defer { s.free() }
        for v in ["3", "-1", "70000", "9223372036854775807"] {
            let r = Self.view(v) { s.add($0, maxIntsetEntries: 512) }
            #expect(r)
        }
        #expect(Self.members(s) == ["-1", "3", "70000", "9223372036854775807"])
        for v in ["01", "+1", "-0", " 1", "1.0", "9223372036854775808", ""] {
            var t = SetValue.newIntSet()
            let r = Self.view(v) { t.add($0, maxIntsetEntries: 512) }
            #expect(r)
            #expect(t.encoding == .hashtable, "\(v) is not a canonical integer")
            t.free()
        }
        let rx = Self.view("x") { s.add($0, maxIntsetEntries: 512) }
        #expect(rx)
        #expect(s.encoding == .hashtable)
        #expect(Set(Self.members(s)) == ["-1", "3", "70000", "9223372036854775807", "x"])
        // Integers are found in a table by their text.
        #expect(s.contains(Int64(70000)) && Self.view("70000") { s.contains($0) })
        #expect(!Self.view("070000") { s.contains($0) })
        let again = s.add(Int64(3), maxIntsetEntries: 512)
        let gone = s.remove(Int64(3)), goneAgain = s.remove(Int64(3))
        #expect(!again && gone && !goneAgain)
    }

    @Test func createPicksTheEncodingOfTheFirstMember() {
        let a = Self.view("12") { SetValue.create(for: $0) }
        let b = Self.view("x") { SetValue.create(for: $0) }
        #expect(a.encoding == .intset && b.encoding == .hashtable)
        #expect(a.count == 0 && b.count == 0)
        a.free()
        b.free()
    }

    @Test(arguments: [4, 64, 512])
    func randomOperationsMatchModel(max: Int) {
        var rng = RNG(state: 0xC0FFEE + UInt64(max))
        var s = SetValue.newIntSet()
        defer { s.free() }
        var model = Set<String>()
        var wasTable = false
        for step in 0..<3000 {
            let m = rng.below(10) == 0 ? "m\(rng.below(50))" : String(Int(rng.below(2 * max + 10)) - 5)
            if rng.below(3) == 0 {
                let r = Self.view(m) { s.remove($0) }
                #expect(r == (model.remove(m) != nil))
            } else {
                let r = Self.view(m) { s.add($0, maxIntsetEntries: max) }
                #expect(r == model.insert(m).inserted)
            }
            #expect(Self.view(m) { s.contains($0) } == model.contains(m))
            #expect(s.count == model.count)
            if wasTable { #expect(s.encoding == .hashtable) }
            wasTable = s.encoding == .hashtable
            if s.encoding == .intset {
                #expect(model.count <= max && model.allSatisfy { Int64($0) != nil })
            }
            if step % 300 == 0 {
                let listed = Self.members(s)
                #expect(Set(listed) == model && listed.count == model.count)
                if s.encoding == .intset { #expect(listed.map { Int64($0)! } == listed.map { Int64($0)! }.sorted()) }
            }
        }
    }

    // MARK: - Copies, iteration, sampling, memory

    @Test(arguments: [false, true])
    func duplicateIsDeepAndIndependent(table: Bool) {
        var s = SetValue.newIntSet()
        for i in 0..<100 { _ = s.add(Int64(i), maxIntsetEntries: 512) }
        if table { _ = Self.view("x") { s.add($0, maxIntsetEntries: 512) } }
        var d = s.duplicate()
        #expect(d.encoding == s.encoding && d.payload != s.payload)
        #expect(Set(Self.members(d)) == Set(Self.members(s)))
        _ = d.remove(Int64(5))
        _ = s.add(Int64(1000), maxIntsetEntries: 512)
        #expect(s.contains(Int64(5)) && !d.contains(Int64(5)) && !d.contains(Int64(1000)))
        s.free()
        d.free()
    }

    @Test(arguments: [false, true])
    func forEachWhileStops(table: Bool) {
        var s = SetValue.newIntSet()
        defer { s.free() }
        for i in 0..<50 { _ = s.add(Int64(i), maxIntsetEntries: table ? 10 : 512) }
        var seen = 0
        s.forEachWhile { _ in
            seen += 1
            return seen < 7
        }
        #expect(seen == 7)
        var all = 0
        s.forEachWhile { _ in
            all += 1
            return true
        }
        #expect(all == 50)
    }

    @Test(arguments: [false, true])
    func randomMembersAreMembersAndCoverSmallSets(table: Bool) {
        var s = SetValue.newIntSet()
        defer { s.free() }
        for i in 0..<8 { _ = s.add(Int64(i * 3), maxIntsetEntries: table ? 2 : 512) }
        var seen = Set<String>()
        for _ in 0..<2000 {
            let m = Self.text(s.randomMember())
            #expect(Self.view(m) { s.contains($0) })
            seen.insert(m)
        }
        #expect(seen.count == 8)
    }

    @Test func scanVisitsEveryTableMember() {
        var s = SetValue.newTable()
        defer { s.free() }
        for i in 0..<1000 { _ = Self.view("k\(i)") { s.add($0, maxIntsetEntries: 512) } }
        var seen = Set<String>()
        var cursor: UInt64 = 0
        var calls = 0
        repeat {
            cursor = s.scan(cursor: cursor) { seen.insert($0.key.string) }
            calls += 1
        } while cursor != 0 && calls < 100_000
        #expect(seen.count == 1000)
    }
}
