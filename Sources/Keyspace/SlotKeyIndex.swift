/*
 * SlotKeyIndex: in cluster mode, the keys of each of the 16,384 hash slots.
 *
 * CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT (what `redis-cli --cluster reshard` calls for every
 * slot it moves), SETSLOT NODE's "still hold keys" check and the start-up claim of slots with
 * keys need the keys of one slot without walking the keyspace. Redis 7.0 threads a linked list
 * through its dictEntries for this; a Tandem entry has no spare header bytes, and adding some
 * would cost every key of every standalone server. So the index lives beside the table: per
 * slot, a dense array of entry pointers, kept by Database wherever an entry is added, moved,
 * replaced or freed.
 *
 * Removal finds the entry by a linear search of its slot's array and swaps the last one into
 * the hole. Slots hold keys/16,384 entries on average (61 at a million keys), a scan of
 * contiguous pointers, and a standalone server pays one predictable branch (`isEnabled`).
 * Only database 0 is indexed: cluster mode has no other.
 */
import CSystem
import Platform

public struct SlotKeyIndex {
    struct List {
        var items: UnsafeMutablePointer<UnsafeMutableRawPointer>?
        var count: Int32
        var capacity: Int32
    }

    var lists: UnsafeMutablePointer<List>? = nil

    public init() {}

    @inline(__always)
    public var isEnabled: Bool { lists != nil }

    /// Starts indexing (an empty database): 16,384 empty lists.
    public mutating func enable() {
        guard lists == nil else { return }
        let p = tandem_malloc(HashSlot.count * MemoryLayout<List>.stride)!.bindMemory(to: List.self, capacity: HashSlot.count)
        p.initialize(repeating: List(items: nil, count: 0, capacity: 0), count: HashSlot.count)
        lists = p
    }

    public func count(inSlot slot: Int) -> Int { Int(lists![slot].count) }

    /// Up to `limit` entries of `slot`, newest first (Redis's list order while nothing in the
    /// slot was deleted).
    public func entries(inSlot slot: Int, limit: Int) -> [Entry] {
        let l = lists![slot]
        let n = Int(l.count)
        return (0..<min(limit, n)).map { Entry(l.items![n - 1 - $0]) }
    }

    public mutating func add(_ e: Entry) {
        let slot = HashSlot.of(e.key)
        let l = lists! + slot
        if l.pointee.count == l.pointee.capacity {
            let capacity = max(4, l.pointee.capacity * 2)
            l.pointee.items = tandem_realloc(l.pointee.items, Int(capacity) * MemoryLayout<UnsafeMutableRawPointer>.stride)!
                .bindMemory(to: UnsafeMutableRawPointer.self, capacity: Int(capacity))
            l.pointee.capacity = capacity
        }
        l.pointee.items![Int(l.pointee.count)] = e.raw
        l.pointee.count += 1
    }

    public mutating func remove(_ e: Entry) {
        let l = lists! + HashSlot.of(e.key)
        let i = position(of: e.raw, in: l)
        l.pointee.count -= 1
        l.pointee.items![i] = l.pointee.items![Int(l.pointee.count)]
        if l.pointee.count == 0 {
            tandem_free(l.pointee.items)
            l.pointee = List(items: nil, count: 0, capacity: 0)
        }
    }

    /// `old`'s block was replaced by `new` (the same key): the list points at the new one.
    public mutating func replace(_ old: UnsafeMutableRawPointer, with new: Entry) {
        let l = lists! + HashSlot.of(new.key)
        l.pointee.items![position(of: old, in: l)] = new.raw
    }

    func position(of raw: UnsafeMutableRawPointer, in l: UnsafeMutablePointer<List>) -> Int {
        var i = 0
        let n = Int(l.pointee.count)
        while i < n && l.pointee.items![i] != raw { i += 1 }
        precondition(i < n, "slot key index out of sync")
        return i
    }

    /// Frees the lists (the database goes away; the index is not used again).
    public func deallocate() {
        guard let lists else { return }
        for s in 0..<HashSlot.count where lists[s].items != nil { tandem_free(lists[s].items) }
        tandem_free(lists)
    }

    /// Forgets every key (the database was emptied); stays enabled.
    public mutating func removeAll() {
        guard let lists else { return }
        for s in 0..<HashSlot.count where lists[s].items != nil {
            tandem_free(lists[s].items)
            lists[s] = List(items: nil, count: 0, capacity: 0)
        }
    }
}
