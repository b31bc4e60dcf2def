// HashSlotTests.swift — unit tests for HashSlot and SlotKeyIndex (Sources/Keyspace/HashSlot.swift,
// SlotKeyIndex.swift).
//
// The slots are the ones redis-server 7.0.15 gives (CLUSTER KEYSLOT, collected with redis-cli),
// hash tags included; the index is checked against a model through a seeded random sequence of
// adds, replaces, resizes (which move entries) and deletes on a Database in cluster mode.
@testable import Keyspace
import Platform
import Testing

@Test(arguments: [("123456789", 12739), ("foo", 12182), ("{user1000}.following", 3443), ("foo{}{bar}", 8363),
                  ("foo{{bar}}zap", 4015), ("foo{bar}{zap}", 5061), ("{}", 15257), ("{", 4092), ("a{b", 13340),
                  ("}{a}", 15495), ("a", 15495), ("", 0)])
func slotsAsRedis(_ key: String, _ slot: Int) {
    #expect(withView(key) { HashSlot.of($0) } == slot)
}

@Test func crc16CheckValue() {
    #expect(withView("123456789") { HashSlot.crc16($0.base, $0.count) } == 0x31C3)
}

/// 40 hash tags keep slots small (scanned arrays); 2 tags make big slots (position tables, built,
/// grown, and dropped again as keys go).
@Test(arguments: [(40, 30, 4000), (2, 3000, 30000)])
func slotIndexFollowsTheDatabase(tags: Int, keysPerTag: Int, steps: Int) {
    var db = Database(id: 0, seed: 7)
    db.slotKeys.enable()
    defer { db.removeAll() }
    var model: [String: Int] = [:]
    var rng = SeededRNG(seed: 2026_12_07)
    for step in 0..<steps {
        // Mostly adds at first, mostly deletes at the end: slots grow past the table threshold
        // and shrink back below it.
        let key = "{k\(rng.next() % UInt64(tags))}:\(rng.next() % UInt64(keysPerTag))"
        let phase = step * 4 / steps
        if step == steps * 3 / 4 && keysPerTag > 100 {
            for s in Set(model.values) { #expect(db.slotKeys.lists![s].table != nil && db.slotKeys.count(inSlot: s) > 64) }
        }
        switch phase == 3 ? (rng.next() % 8 == 0 ? 0 : 3) : rng.next() % 4 {
        case 0, 1:
            if let slot = db.slot(key) {
                db.replace(at: slot, with: entry(key, "v\(step)"))
            } else {
                db.add(entry(key))
                model[key] = withView(key) { HashSlot.of($0) }
            }
        case 2:
            if let slot = db.slot(key) {
                let moved = Entry(slot.pointee!).resized(valueCapacity: 4096)
                db.moved(at: slot, to: moved)
            }
        default:
            if db.slot(key) != nil {
                _ = withView(key) { db.delete($0) }
                model[key] = nil
            }
        }
    }
    var counts: [Int: Int] = [:]
    for (_, s) in model { counts[s, default: 0] += 1 }
    for s in Set(model.values) {
        #expect(db.slotKeys.count(inSlot: s) == counts[s])
        let keys = db.slotKeys.entries(inSlot: s, limit: 1000).map { $0.key.string }
        #expect(Set(keys) == Set(model.filter { $0.value == s }.map(\.key)))
        #expect(keys.allSatisfy { db.findString($0) != nil })
    }
    #expect(db.slotKeys.entries(inSlot: counts.keys.first!, limit: 1).count == 1)
    db.removeAll()
    #expect(model.values.allSatisfy { db.slotKeys.count(inSlot: $0) == 0 })
}
