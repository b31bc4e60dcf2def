// DatabaseTests.swift — unit tests for Keyspace.Database and Keyspace.VolatileIndex
// (Sources/Keyspace/Database.swift, VolatileIndex.swift).
//
// Covers keeping the expire index in step with the table: add with expireAt, setExpire on,
// off and changed, replace in all four volatile/non-volatile combinations (the new entry's
// expireAt decides), replace with the same entry, delete, detach, removeAll, moved after a
// resize that relocates the block, a seeded random sequence of all of these checked against a
// model, and VolatileIndex's swap-remove slots and shrinking.
@testable import Keyspace
import Platform
import Testing

func entry(_ key: String, _ value: String = "v", expireAt: Int64 = 0) -> Entry {
    let e = makeEntry(key, value)
    e.expireAt = expireAt
    return e
}

@Test func addIndexesOnlyEntriesWithAnExpire() {
    var db = Database(id: 3, seed: 1)
    defer { db.removeAll() }
    #expect(db.id == 3)
    db.add(entry("plain"))
    let v = entry("volatile", expireAt: 1_000)
    db.add(v)
    #expect(db.count == 2)
    #expect(db.expiresCount == 1)
    #expect(db.volatile.entry(at: v.volatileSlot) == v)
    #expect(db.findString("volatile") == v)
    #expect(db.volatileProblem() == nil)
}

@Test func setExpireOnChangeOff() {
    var db = Database(id: 0, seed: 2)
    defer { db.removeAll() }
    let e = entry("k")
    db.add(e)
    #expect(db.expiresCount == 0)
    db.setExpire(e, at: 5_000)
    #expect(db.expiresCount == 1 && e.expireAt == 5_000)
    db.setExpire(e, at: 6_000)
    #expect(db.expiresCount == 1 && e.expireAt == 6_000)
    #expect(db.volatileProblem() == nil)
    db.setExpire(e, at: 0)
    #expect(db.expiresCount == 0 && e.expireAt == 0)
    db.setExpire(e, at: 0)
    #expect(db.expiresCount == 0)
    #expect(db.volatileProblem() == nil)
}

@Test(arguments: [(Int64(0), Int64(0)), (0, 9_000), (9_000, 0), (9_000, 10_000)])
func replaceKeepsTheIndexConsistent(oldExpire: Int64, newExpire: Int64) {
    var db = Database(id: 0, seed: 3)
    defer { db.removeAll() }
    // Neighbours with expires so that the swap-remove in the index has something to move.
    for i in 0..<5 { db.add(entry("n\(i)", expireAt: 100 + Int64(i))) }
    db.add(entry("k", "old", expireAt: oldExpire))
    for i in 5..<10 { db.add(entry("n\(i)", expireAt: 100 + Int64(i))) }
    let new = entry("k", "new", expireAt: newExpire)
    let slot = db.slot("k")!
    db.replace(at: slot, with: new)
    #expect(db.findString("k") == new)
    #expect(db.findString("k")?.valueString == "new")
    #expect(db.count == 11)
    #expect(db.expiresCount == 10 + (newExpire != 0 ? 1 : 0))
    if newExpire != 0 { #expect(db.volatile.entry(at: new.volatileSlot) == new) }
    #expect(db.volatileProblem() == nil)
}

@Test func replaceWithTheSameEntryChangesNothing() {
    var db = Database(id: 0, seed: 4)
    defer { db.removeAll() }
    let e = entry("k", "v", expireAt: 10)
    db.add(e)
    db.replace(at: db.slot("k")!, with: e)
    #expect(db.findString("k") == e && e.valueString == "v")
    #expect(db.expiresCount == 1)
    #expect(db.volatileProblem() == nil)
}

@Test func deleteRemovesFromTheIndex() {
    var db = Database(id: 0, seed: 5)
    defer { db.removeAll() }
    for i in 0..<50 { db.add(entry("k\(i)", expireAt: i % 2 == 0 ? 1_000 : 0)) }
    #expect(db.expiresCount == 25)
    for i in stride(from: 0, to: 50, by: 3) {
        let deleted = db.deleteString("k\(i)")
        #expect(deleted)
    }
    let deletedVolatile = stride(from: 0, to: 50, by: 3).filter { $0 % 2 == 0 }.count
    #expect(db.expiresCount == 25 - deletedVolatile)
    #expect(db.count == 50 - 17)
    let again = db.deleteString("k0")
    let absent = db.deleteString("nope")
    #expect(!again && !absent)
    db.delete(at: db.slot("k1")!)
    #expect(db.findString("k1") == nil)
    #expect(db.volatileProblem() == nil)
}

@Test func detachUnlinksWithoutFreeing() {
    var db = Database(id: 0, seed: 6)
    var other = Database(id: 1, seed: 6)
    defer {
        db.removeAll()
        other.removeAll()
    }
    for i in 0..<10 { db.add(entry("k\(i)", expireAt: 500)) }
    let e = db.detach(at: db.slot("k4")!)
    #expect(e.keyString == "k4" && e.valueString == "v" && e.expireAt == 500)
    #expect(db.findString("k4") == nil)
    #expect(db.count == 9 && db.expiresCount == 9)
    #expect(db.volatileProblem() == nil)
    other.add(e)  // MOVE: the same block in another database
    #expect(other.findString("k4") == e)
    #expect(other.expiresCount == 1)
    #expect(other.volatileProblem() == nil)
}

@Test func removeAllEmptiesTableAndIndex() {
    var db = Database(id: 0, seed: 7)
    for i in 0..<1000 { db.add(entry("k\(i)", expireAt: i % 3 == 0 ? 42 : 0)) }
    db.averageTTL = 77
    db.removeAll()
    #expect(db.count == 0 && db.expiresCount == 0 && db.averageTTL == 0)
    #expect(db.findString("k0") == nil)
    // Usable again afterwards.
    db.add(entry("again", expireAt: 1))
    #expect(db.count == 1 && db.expiresCount == 1)
    #expect(db.volatileProblem() == nil)
    db.removeAll()
}

/// Two keys that land in the same bucket of a 4-bucket table.
func collidingKeys(_ dict: borrowing Dict) -> (String, String) {
    var byBucket: [UInt64: String] = [:]
    for i in 0... {
        let k = "c\(i)"
        let b = withView(k) { dict.hash($0) } & 3
        if let other = byBucket[b] { return (other, k) }
        byBucket[b] = k
    }
    fatalError()
}

/// `Entry.resized` may move the block; `Database.moved` must then relink it without
/// disturbing its bucket chain (realloc already copied `next`).
@Test(arguments: [true, false])
func movedAfterAResizeThatRelocatesTheBlock(resizeHead: Bool) {
    var db = Database(id: 0, seed: 8)
    defer { db.removeAll() }
    db.dict.resizeAllowed = false
    let (ka, kb) = collidingKeys(db.dict)
    let a = entry(ka, "a", expireAt: 11)
    db.add(a)
    let b = entry(kb, "b", expireAt: 22)
    db.add(b)  // chain: bucket -> b -> a
    #expect(b.next == a.raw && a.next == nil)
    let (target, expectedNext) = resizeHead ? (b, Optional(a.raw)) : (a, nil)
    let targetKey = target.keyString
    let slot = db.slot(targetKey)!
    // Large enough that realloc usually moves the block; glibc may still grow it in place (a chunk
    // at the top of the heap once its mmap threshold rose), and the relink must hold either way.
    let moved = target.resized(valueCapacity: 1 << 20)
    db.moved(at: slot, to: moved)
    let next = moved.next
    #expect(next == expectedNext, "the moved entry's next pointer was overwritten")
    if next != expectedNext { moved.next = expectedNext }  // repair so the rest can run safely
    #expect(db.findString(ka)?.valueString == "a")
    #expect(db.findString(kb)?.valueString == "b")
    #expect(db.findString(targetKey) == moved)
    #expect(db.volatile.entry(at: moved.volatileSlot) == moved)
    #expect(db.volatileProblem() == nil)
}

@Test(arguments: [UInt64(1), 2, 3])
func randomOperationsKeepTableAndIndexInStep(seed: UInt64) {
    var rng = SeededRNG(seed: seed)
    var db = Database(id: 0, seed: seed)
    defer { db.removeAll() }
    var model: [String: (value: String, expire: Int64)] = [:]
    var problems: [String] = []
    for step in 0..<20_000 {
        let key = "k\(Int.random(in: 0..<400, using: &rng))"
        let expire: Int64 = rng.next() % 2 == 0 ? 0 : Int64.random(in: 1...1_000_000, using: &rng)
        let value = "v\(step)"
        switch rng.next() % 7 {
        case 0, 1:  // add or replace
            let e = entry(key, value, expireAt: expire)
            if let slot = db.slot(key) { db.replace(at: slot, with: e) } else { db.add(e) }
            model[key] = (value, expire)
        case 2:
            if db.deleteString(key) != (model.removeValue(forKey: key) != nil) { problems.append("delete \(key)") }
        case 3:
            if let e = db.findString(key) {
                db.setExpire(e, at: expire)
                model[key]!.expire = expire
            }
        case 4:  // detach and re-add (RENAME onto itself)
            if let slot = db.slot(key) {
                let e = db.detach(at: slot)
                db.add(e)
            }
        case 5:
            db.dict.shrinkIfSparse()
            db.dict.rehash(steps: Int.random(in: 1...10, using: &rng))
        default:
            if let e = db.findString(key) {
                if e.valueString != model[key]?.value || e.expireAt != model[key]?.expire { problems.append("value of \(key)") }
            } else if model[key] != nil {
                problems.append("lost \(key)")
            }
        }
        if step % 1000 == 999, let p = db.volatileProblem() { problems.append("step \(step): \(p)") }
    }
    #expect(problems.isEmpty, "\(problems.prefix(5))")
    #expect(db.count == model.count)
    #expect(db.expiresCount == model.values.filter { $0.expire != 0 }.count)
    #expect(db.volatileProblem() == nil)
}

// MARK: - VolatileIndex

@Test func volatileIndexSwapRemoveAndShrink() {
    var index = VolatileIndex()
    var rng = SeededRNG(seed: 44)
    var entries = (0..<300).map { entry("k\($0)", expireAt: 1) }
    defer { for e in entries { e.free() } }
    for e in entries { index.add(e) }
    #expect(index.count == 300)
    #expect(index.capacity == 512)
    for (i, e) in entries.enumerated() { #expect(e.volatileSlot == i && index.entry(at: i) == e) }
    var inIndex = entries
    var capacities = Set<Int>()
    var problems = 0
    while !inIndex.isEmpty {
        let i = Int.random(in: 0..<inIndex.count, using: &rng)
        inIndex.swapAt(i, inIndex.count - 1)
        index.remove(inIndex.removeLast())
        capacities.insert(index.capacity)
        if index.count != inIndex.count { problems += 1 }
        for e in inIndex where index.entry(at: e.volatileSlot) != e { problems += 1 }
    }
    #expect(problems == 0)
    #expect(index.count == 0)
    #expect(capacities.contains(64) && !capacities.contains(32), "shrinks by halves down to 64: \(capacities.sorted())")
    // update() after a move points the slot at the new address.
    let e = entries[0]
    index.add(e)
    let twin = entry("k0", expireAt: 1)
    twin.volatileSlot = e.volatileSlot
    index.update(twin)
    #expect(index.entry(at: 0) == twin)
    entries.append(twin)
    index.removeAll()
    #expect(index.count == 0 && index.capacity == 0)
}
