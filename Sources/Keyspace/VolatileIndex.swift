/*
 * VolatileIndex: the keys that have an expire, as a dense array of entry pointers.
 *
 * Redis keeps a second dict (`db->expires`) for this. Tandem stores the expire time inside
 * the entry (so TTL checks need no second lookup) and needs the set of volatile keys only for
 * two things: counting them (INFO keyspace `expires=`) and sampling them at random for the
 * active expire cycle. A dense array does both in O(1): each entry remembers its position
 * (`Entry.volatileSlot`), removal swaps the last element into the hole, and a random sample
 * is a random index.
 */
import CTandem

public struct VolatileIndex {
    var items: UnsafeMutablePointer<UnsafeMutableRawPointer>? = nil
    var capacity = 0
    public private(set) var count = 0

    public init() {}

    public func entry(at i: Int) -> Entry { Entry(items![i]) }

    public mutating func add(_ e: Entry) {
        if count == capacity {
            let newCapacity = Swift.max(16, capacity * 2)
            items = tandem_realloc(items, newCapacity * MemoryLayout<UnsafeMutableRawPointer>.stride)!
                .bindMemory(to: UnsafeMutableRawPointer.self, capacity: newCapacity)
            capacity = newCapacity
        }
        items![count] = e.raw
        e.volatileSlot = count
        count += 1
    }

    public mutating func remove(_ e: Entry) {
        let i = e.volatileSlot
        precondition(i < count && items![i] == e.raw, "volatile index out of sync")
        count -= 1
        if i != count {
            let moved = items![count]
            items![i] = moved
            Entry(moved).volatileSlot = i
        }
        if capacity > 64 && count < capacity / 4 { shrink() }
    }

    /// The entry moved (realloc): point its slot at the new address.
    @inline(__always)
    public func update(_ e: Entry) {
        items![e.volatileSlot] = e.raw
    }

    mutating func shrink() {
        let newCapacity = capacity / 2
        items = tandem_realloc(items, newCapacity * MemoryLayout<UnsafeMutableRawPointer>.stride)!
            .bindMemory(to: UnsafeMutableRawPointer.self, capacity: newCapacity)
        capacity = newCapacity
    }

    public mutating func removeAll() {
        tandem_free(items)
        items = nil
        capacity = 0
        count = 0
    }
}
