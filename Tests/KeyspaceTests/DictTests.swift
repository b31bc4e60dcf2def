// DictTests.swift — unit tests for Keyspace.Dict (Sources/Keyspace/Dict.swift).
//
// Covers insert/find/remove of 100k keys with incremental rehashing (keys findable while the
// rehash is in progress), shrinking after mass deletion, `resizeAllowed = false` holding growth
// until the table is 5x overloaded, `reserve`, SCAN's guarantee (every key present for the
// whole scan is returned at least once) on a stable table, while it grows, while it shrinks,
// mid-rehash and under seeded random churn, and randomEntry (only present entries; every key
// of a small table eventually drawn, and every member of long chains), and a rehash held back
// by a fork child unless the sizes differ five times.
//
// Dict is ~Copyable and #expect cannot take a bare property of a noncopyable value, hence the
// `#expect(d.isRehashing == true)` form.
@testable import Keyspace
import CTandem
import Platform
import Testing

// MARK: - Growth, lookup, shrink

@Test func hundredThousandKeysWithIncrementalRehash() {
    var d = Dict(seed: 1)
    defer { d.freeAll() }
    var rng = SeededRNG(seed: 11)
    let n = 100_000
    var rehashSeen = 0
    var lookupsWhileRehashing = 0
    var missing: [String] = []
    var fullCheckDone = false
    for i in 0..<n {
        d.insertString("key:\(i)", "value-\(i)")
        if d.isRehashing {
            rehashSeen += 1
            // A random earlier key must be findable mid-rehash.
            let j = Int.random(in: 0...i, using: &rng)
            if d.isRehashing { lookupsWhileRehashing += 1 }
            if d.findString("key:\(j)")?.valueString != "value-\(j)" { missing.append("key:\(j)") }
            // Once, look up every key while a large rehash is in progress.
            if !fullCheckDone && i > 20_000 {
                fullCheckDone = true
                var rehashingDuringCheck = 0
                for j in 0...i {
                    if d.isRehashing { rehashingDuringCheck += 1 }
                    if d.findString("key:\(j)")?.valueString != "value-\(j)" { missing.append("key:\(j)") }
                }
                #expect(rehashingDuringCheck > 1000)
            }
        }
    }
    #expect(rehashSeen > 0)
    #expect(fullCheckDone)
    #expect(lookupsWhileRehashing > 1000)
    #expect(missing.isEmpty, "\(missing.count) keys not found, first \(missing.prefix(3))")
    #expect(d.count == n)
    d.finishRehash()
    #expect(!(d.isRehashing == true))
    #expect(d.bucketCount == 131_072)
    for i in 0..<n where d.findString("key:\(i)")?.valueString != "value-\(i)" { missing.append("key:\(i)") }
    #expect(missing.isEmpty)
    #expect(d.findString("key:\(n)") == nil)
    #expect(d.findString("") == nil)
    #expect(Set(d.allKeys()).count == n)

    // Delete 95%, then shrink.
    var removedOK = 0
    for i in 0..<n where i % 20 != 0 && d.removeString("key:\(i)") { removedOK += 1 }
    #expect(removedOK == n - n / 20)
    #expect(d.count == n / 20)
    let removedTwice = d.removeString("key:1")
    #expect(!removedTwice)
    d.finishRehash()
    #expect(d.bucketCount == 131_072)
    d.shrinkIfSparse()
    #expect((d.isRehashing == true))
    // Lookups work while shrinking.
    var wrong = 0
    for i in stride(from: 0, to: n, by: 7) {
        let found = d.findString("key:\(i)") != nil
        if found != (i % 20 == 0) { wrong += 1 }
    }
    #expect(wrong == 0)
    d.finishRehash()
    #expect(d.bucketCount == 8192)
    for i in 0..<n {
        let e = d.findString("key:\(i)")
        if (e != nil) != (i % 20 == 0) || (e != nil && e!.valueString != "value-\(i)") { wrong += 1 }
    }
    #expect(wrong == 0)
    // Not sparse any more: nothing to do.
    d.shrinkIfSparse()
    #expect(!d.isRehashing && d.bucketCount == 8192)
}

@Test func emptyDict() {
    var d = Dict(seed: 3)
    #expect(d.count == 0 && d.bucketCount == 0 && !d.isRehashing)
    #expect(d.findString("a") == nil)
    let removed = d.removeString("a")
    #expect(!removed)
    #expect(d.randomEntry() == nil)
    #expect(d.scan(cursor: 0) { _ in Issue.record("visited an entry of an empty dict") } == 0)
    d.shrinkIfSparse()
    #expect(d.bucketCount == 0)
    d.freeAll()
    #expect(d.count == 0)
}

@Test func firstInsertAllocatesFourBucketsAndGrowthDoubles() {
    var d = Dict(seed: 5)
    defer { d.freeAll() }
    d.insertString("a", "1")
    #expect(d.bucketCount == 4 && !d.isRehashing)
    for i in 0..<3 { d.insertString("k\(i)", "v") }
    #expect(d.bucketCount == 4 && !d.isRehashing)  // 4 keys in 4 buckets
    d.insertString("k3", "v")
    #expect(d.isRehashing && d.bucketCount == 4 + 8)
    d.finishRehash()
    #expect(d.bucketCount == 8 && d.count == 5)
}

@Test func resizeNotAllowedHoldsGrowthUntilFiveTimesOverloaded() {
    var d = Dict(seed: 9)
    defer { d.freeAll() }
    d.resizeAllowed = false
    // The very first table is still allocated.
    d.insertString("k0", "v")
    #expect(d.bucketCount == 4)
    for i in 1..<24 { d.insertString("k\(i)", "v") }
    #expect(d.count == 24 && d.bucketCount == 4 && !d.isRehashing)  // 6 per bucket, not yet "> 5"
    d.insertString("k24", "v")
    #expect((d.isRehashing == true))
    #expect(d.bucketCount == 4 + 32)
    d.finishRehash()
    #expect(d.bucketCount == 32)
    for i in 0..<25 { #expect(d.findString("k\(i)") != nil) }

    // Shrinking and reserve are also held while resizing is not allowed.
    for i in 1..<25 { d.removeString("k\(i)") }
    d.shrinkIfSparse()
    #expect(!d.isRehashing && d.bucketCount == 32)
    d.reserve(1000)
    #expect(!d.isRehashing && d.bucketCount == 32)
    d.resizeAllowed = true
    d.shrinkIfSparse()
    #expect((d.isRehashing == true))
    d.finishRehash()
    #expect(d.bucketCount == 4)
}

@Test func resizeNotAllowedDoesNotGrowAnOverloadedTableBelowTheRatio() {
    var d = Dict(seed: 10)
    defer { d.freeAll() }
    for i in 0..<64 { d.insertString("k\(i)", "v") }
    d.finishRehash()
    #expect(d.bucketCount == 64)
    d.resizeAllowed = false
    for i in 64..<384 { d.insertString("k\(i)", "v") }
    #expect(d.bucketCount == 64 && !d.isRehashing)  // 384 = 6 x 64, grows on the next insert
    d.insertString("k384", "v")
    #expect(d.isRehashing && d.bucketCount == 64 + 512)
}

@Test func reserveGrowsAheadOfABulkInsert() {
    var d = Dict(seed: 12)
    defer { d.freeAll() }
    d.reserve(1000)
    #expect(d.bucketCount == 1024 && !d.isRehashing)
    for i in 0..<1000 { d.insertString("k\(i)", "v") }
    #expect(d.bucketCount == 1024 && !d.isRehashing)
    d.reserve(5000)
    #expect(d.isRehashing && d.bucketCount == 1024 + 8192)
    d.finishRehash()
    for i in 0..<1000 { #expect(d.findString("k\(i)") != nil) }
}

@Test func replaceAndUnlinkInsideABucketChain() {
    var d = Dict(seed: 13)
    defer { d.freeAll() }
    d.resizeAllowed = false
    // Many keys in 4 buckets: long chains.
    for i in 0..<20 { d.insertString("c\(i)", "old\(i)") }
    #expect(d.bucketCount == 4)
    for i in stride(from: 0, to: 20, by: 3) {
        let slot = withView("c\(i)") { d.findSlot($0) }!
        let new = makeEntry("c\(i)", "new\(i)")
        let old = Entry(slot.pointee!)
        d.replace(at: slot, with: new)
        old.free()
    }
    for i in stride(from: 1, to: 20, by: 4) {
        let slot = withView("c\(i)") { d.findSlot($0) }!
        d.unlink(at: slot).free()
    }
    for i in 0..<20 {
        let e = d.findString("c\(i)")
        if i % 4 == 1 {
            #expect(e == nil)
        } else {
            #expect(e?.valueString == (i % 3 == 0 ? "new\(i)" : "old\(i)"))
        }
    }
    #expect(d.count == 15)
    #expect(d.allKeys().count == 15)
}

// MARK: - SCAN

/// A dict plus the set of keys it holds, for scan tests.
struct ScanWorld: ~Copyable {
    var d: Dict
    var present = Set<String>()
    var sawRehashingScan = false
    var bucketCounts: [Int] = []

    init(seed: UInt64) { d = Dict(seed: seed) }

    mutating func add(_ k: String) {
        if present.insert(k).inserted { d.insertString(k, "v") }
    }

    mutating func remove(_ k: String) {
        if present.remove(k) != nil {
            let removed = d.removeString(k)
            #expect(removed)
        }
    }

    /// A full scan from cursor 0 until 0, running `between` after every call that returns a
    /// non-zero cursor. Returns every key returned, and keys returned that were not present.
    mutating func scanAll(maxCalls: Int = 2_000_000, between: (inout ScanWorld, Int) -> Void) -> (
        seen: Set<String>, bogus: [String], calls: Int
    ) {
        var cursor: UInt64 = 0
        var seen = Set<String>()
        var bogus: [String] = []
        var calls = 0
        repeat {
            let presentNow = present
            if d.isRehashing { sawRehashingScan = true }
            bucketCounts.append(d.bucketCount)
            cursor = d.scan(cursor: cursor) { e in
                let k = e.keyString
                seen.insert(k)
                if !presentNow.contains(k) { bogus.append(k) }
            }
            calls += 1
            if cursor != 0 { between(&self, calls) }
        } while cursor != 0 && calls < maxCalls
        #expect(cursor == 0, "scan did not finish in \(maxCalls) calls")
        return (seen, bogus, calls)
    }
}

@Test func scanStableTable() {
    var w = ScanWorld(seed: 21)
    defer { w.d.freeAll() }
    for i in 0..<1000 { w.add("s\(i)") }
    w.d.finishRehash()
    let (seen, bogus, calls) = w.scanAll { _, _ in }
    #expect(seen == w.present)
    #expect(bogus.isEmpty)
    #expect(calls == w.d.bucketCount)
}

@Test func scanWhileTheTableGrows() {
    var w = ScanWorld(seed: 22)
    defer { w.d.freeAll() }
    for i in 0..<100 { w.add("stable:\(i)") }
    w.d.finishRehash()
    let stable = w.present
    var next = 0
    let (seen, bogus, _) = w.scanAll { w, _ in
        guard next < 40_000 else { return }
        for _ in 0..<50 {
            w.add("grow:\(next)")
            next += 1
        }
    }
    #expect(stable.isSubset(of: seen), "missing \(stable.subtracting(seen).sorted().prefix(5))")
    #expect(bogus.isEmpty)
    #expect(w.bucketCounts.max()! >= 8 * w.bucketCounts.first!, "the table did not grow during the scan")
    #expect(w.sawRehashingScan == true)
}

@Test func scanWhileTheTableShrinks() {
    var w = ScanWorld(seed: 23)
    defer { w.d.freeAll() }
    for i in 0..<100 { w.add("stable:\(i)") }
    for i in 0..<20_000 { w.add("tmp:\(i)") }
    w.d.finishRehash()
    let stable = Set((0..<100).map { "stable:\($0)" })
    var next = 0
    let (seen, bogus, _) = w.scanAll { w, _ in
        for _ in 0..<300 where next < 20_000 {
            w.remove("tmp:\(next)")
            next += 1
        }
        w.d.shrinkIfSparse()
        w.d.rehash(steps: 20)
    }
    #expect(stable.isSubset(of: seen), "missing \(stable.subtracting(seen).sorted().prefix(5))")
    #expect(bogus.isEmpty)
    #expect(w.bucketCounts.last! < w.bucketCounts.first!, "the table did not shrink during the scan")
    #expect(w.sawRehashingScan == true)
}

@Test func scanMidRehashWhileGrowing() {
    var w = ScanWorld(seed: 24)
    defer { w.d.freeAll() }
    for i in 0..<1024 { w.add("k\(i)") }
    w.d.finishRehash()
    w.add("k1024")  // starts a rehash 1024 -> 2048
    #expect((w.d.isRehashing == true))
    // Scan never steps the rehash: the whole scan runs on two tables.
    let (seen, bogus, _) = w.scanAll { _, _ in }
    #expect((w.d.isRehashing == true))
    #expect(seen == w.present)
    #expect(bogus.isEmpty)
    // And a scan during which the rehash progresses and completes.
    let (seen2, bogus2, _) = w.scanAll { w, _ in w.d.rehash(steps: 3) }
    #expect(!(w.d.isRehashing == true))
    #expect(seen2 == w.present)
    #expect(bogus2.isEmpty)
}

@Test func scanMidRehashWhileShrinking() {
    var w = ScanWorld(seed: 25)
    defer { w.d.freeAll() }
    for i in 0..<2000 { w.add("k\(i)") }
    w.d.finishRehash()
    for i in 50..<2000 { w.remove("k\(i)") }
    w.d.finishRehash()
    let before = w.d.bucketCount
    w.d.shrinkIfSparse()
    #expect(w.d.isRehashing && w.d.bucketCount == before + 64)
    let (seen, bogus, _) = w.scanAll { _, _ in }
    #expect((w.d.isRehashing == true))
    #expect(seen == w.present)
    #expect(bogus.isEmpty)
    // A scan during which the rehash progresses and completes.
    var states = Set<Bool>()
    let (seen2, _, _) = w.scanAll { w, _ in
        w.d.rehash(steps: 5)
        states.insert(w.d.isRehashing)
    }
    #expect(seen2 == w.present)
    #expect(states == [true, false], "the rehash should finish during the scan")
    #expect(!w.d.isRehashing && w.d.bucketCount == 64)
}

@Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
func scanUnderRandomChurn(seed: UInt64) {
    var rng = SeededRNG(seed: seed)
    var w = ScanWorld(seed: seed &* 7)
    defer { w.d.freeAll() }
    let stableCount = Int.random(in: 1...300, using: &rng)
    for i in 0..<stableCount { w.add("stable:\(i)") }
    for i in 0..<Int.random(in: 0...5000, using: &rng) { w.add("tmp:\(i)") }
    if rng.next() % 2 == 0 { w.d.finishRehash() }
    let stable = Set((0..<stableCount).map { "stable:\($0)" })
    var tmpNext = 10_000
    var tmpKeys = w.present.subtracting(stable).sorted()
    var sizes = Set<Int>()
    let (seen, bogus, _) = w.scanAll { w, calls in
        guard calls < 3000 else { return }
        sizes.insert(w.d.bucketCount)
        switch rng.next() % 6 {
        case 0, 1:  // a burst of inserts
            for _ in 0..<Int.random(in: 1...400, using: &rng) {
                w.add("tmp:\(tmpNext)")
                tmpKeys.append("tmp:\(tmpNext)")
                tmpNext += 1
            }
        case 2, 3:  // a burst of deletes, then maybe a shrink
            for _ in 0..<Int.random(in: 1...600, using: &rng) where !tmpKeys.isEmpty {
                let i = Int.random(in: 0..<tmpKeys.count, using: &rng)
                tmpKeys.swapAt(i, tmpKeys.count - 1)
                w.remove(tmpKeys.removeLast())
            }
            w.d.shrinkIfSparse()
        case 4:
            w.d.rehash(steps: Int.random(in: 1...50, using: &rng))
        default:
            w.d.resizeAllowed.toggle()
        }
    }
    #expect(stable.isSubset(of: seen), "missing \(stable.subtracting(seen).sorted().prefix(5))")
    #expect(bogus.isEmpty, "returned absent keys \(bogus.prefix(5))")
    #expect(sizes.count > 1, "the table never changed size")
}

// MARK: - randomEntry

@Test func randomEntryDrawsOnlyPresentKeysAndEventuallyAll() {
    var d = Dict(seed: 31)
    defer { d.freeAll() }
    let keys = Set((0..<20).map { "r\($0)" })
    for k in keys { d.insertString(k, "v") }
    var drawn: [String: Int] = [:]
    for _ in 0..<4000 {
        guard let e = d.randomEntry() else {
            Issue.record("nil from a non-empty dict")
            return
        }
        drawn[e.keyString, default: 0] += 1
    }
    #expect(Set(drawn.keys) == keys)
    // Remove half: only the rest may come back.
    for i in 0..<10 { d.removeString("r\(i)") }
    var after = Set<String>()
    for _ in 0..<2000 { after.insert(d.randomEntry()!.keyString) }
    #expect(after == Set((10..<20).map { "r\($0)" }))
    for i in 10..<20 { d.removeString("r\(i)") }
    #expect(d.randomEntry() == nil)
}

@Test func randomEntryWhileRehashing() {
    var d = Dict(seed: 32)
    defer { d.freeAll() }
    for i in 0..<4096 { d.insertString("k\(i)", "v") }
    d.finishRehash()
    d.insertString("k4096", "v")
    #expect((d.isRehashing == true))
    var drawsWhileRehashing = 0
    var bad = 0
    var drawn = Set<String>()
    for _ in 0..<3000 {
        if d.isRehashing { drawsWhileRehashing += 1 }
        let k = d.randomEntry()!.keyString
        drawn.insert(k)
        if d.findString(k) == nil { bad += 1 }
    }
    #expect(drawsWhileRehashing > 100)
    #expect(bad == 0)
    #expect(drawn.count > 1000)
}

/// Redis's "SRANDMEMBER with a dict containing long chain" in small: SSCAN+SREM while a fork
/// child forbids shrinking leaves the survivors in a few buckets; the shrink that follows puts
/// them in chains far longer than the sampler's window. Every member must still come out.
@Test func randomEntryReachesEveryMemberOfLongChains() {
    var d = Dict(seed: 33)
    defer { d.freeAll() }
    for i in 0..<100_000 { d.insertString("m:\(i)", "v") }
    d.finishRehash()
    d.resizeAllowed = false
    var order: [String] = []
    var cursor: UInt64 = 0
    repeat { cursor = d.scan(cursor: cursor) { order.append($0.keyString) } } while cursor != 0
    for k in order.dropLast(500) { d.removeString(k) }
    d.shrinkIfSparse()
    #expect(!(d.isRehashing == true), "no shrink while a child exists")
    d.resizeAllowed = true
    d.shrinkIfSparse()
    d.finishRehash()
    #expect(d.count == 500 && d.bucketCount == 512)
    let longest = d.statsReport().split(separator: "\n")
        .first { $0.contains("max chain length") }.flatMap { Int($0.split(separator: " ").last!) } ?? 0
    #expect(longest > 40, "the scenario builds long chains (longest \(longest))")
    // 40 000 draws, 80 expected per member (standard deviation about 9).
    var drawn: [String: Int] = [:]
    for _ in 0..<40_000 { drawn[d.randomEntry()!.keyString, default: 0] += 1 }
    let counts = drawn.values.sorted()
    #expect(drawn.count == 500, "\(500 - drawn.count) members never drawn")
    #expect(counts.first! >= 35 && counts.last! <= 140, "uneven draws: \(counts.first!) to \(counts.last!)")
}

/// While a fork child exists a rehash under way moves only when the tables differ 5x in size.
@Test func rehashWaitsForTheChildUnlessTheRatioIsExtreme() {
    var d = Dict(seed: 34)
    defer { d.freeAll() }
    for i in 0..<64 { d.insertString("k\(i)", "v") }
    d.finishRehash()
    d.insertString("k64", "v")  // starts growing 64 -> 128
    #expect((d.isRehashing == true))
    d.resizeAllowed = false
    #expect(!d.rehash(steps: 100) && d.isRehashing, "a 2x rehash waits")
    d.resizeAllowed = true
    d.finishRehash()
    for i in 0..<60 { d.removeString("k\(i)") }
    d.shrinkIfSparse()  // 128 -> 8: a 16x difference
    #expect((d.isRehashing == true))
    d.resizeAllowed = false
    d.finishRehash()
    #expect(!d.isRehashing && d.bucketCount == 8, "an extreme rehash goes on")
}

/// A keyspace table does not grow past the maxmemory limit while its load factor is at most
/// 1.618 (Redis's dictExpandAllowed), and grows anyway beyond that.
@Test func growthWaitsForMemoryUntilTheTableIsTooFull() {
    var d = Dict(seed: 35)
    defer {
        tandem_set_expand_limit(0)
        d.freeAll()
    }
    d.growthLimitedByMemory = true
    for i in 0..<64 { d.insertString("k\(i)", "v") }
    d.finishRehash()
    #expect(d.bucketCount == 64)
    tandem_set_expand_limit(1)  // any allocation is over the limit
    for i in 64..<100 { d.insertString("k\(i)", "v") }
    #expect(d.bucketCount == 64 && !d.isRehashing, "grew at a load factor of \(d.count) / 64")
    for i in 100..<110 { d.insertString("k\(i)", "v") }  // past 1.618
    d.finishRehash()
    #expect(d.bucketCount == 128)
    tandem_set_expand_limit(0)
    for i in 110..<300 { d.insertString("k\(i)", "v") }
    d.finishRehash()
    #expect(d.bucketCount == 512 && d.count == 300)
}
