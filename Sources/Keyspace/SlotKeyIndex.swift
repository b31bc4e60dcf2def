/*
 * SlotKeyIndex: in cluster mode, the keys of each of the 16,384 hash slots.
 *
 * CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT (what `redis-cli --cluster reshard` calls for every
 * slot it moves), SETSLOT NODE's "still hold keys" check and the start-up claim of slots with
 * keys need the keys of one slot without walking the keyspace. Redis 7.0 threads a linked list
 * through its dictEntries for this; a Tandem entry has no spare header bytes, and adding some
 * would cost every key of every standalone server. So the index lives beside the table: per
 * slot, a dense array of entry pointers, kept by Database wherever an entry is added, moved,
 * replaced or freed (swap-remove keeps it dense).
 *
 * Finding an entry's place in its slot's array (to remove or repoint it) is a scan while the
 * slot is small — keys/16,384 entries on average, 61 at a million keys, one cache line's worth
 * of pointers a few times over. A slot that grows past `tableThreshold` (hash tags gather whole
 * datasets in one slot; `redis-benchmark --cluster` does exactly that) gets a position table:
 * open addressing from entry pointer to array index, linear probing with backward-shift
 * deletion, at most half full. So every operation stays O(1), and only big slots pay the
 * table's 16 bytes per key. A standalone server pays one predictable branch (`isEnabled`).
 * Only database 0 is indexed: cluster mode has no other.
 */
import CTandem
import Platform

public struct SlotKeyIndex {
    static let tableThreshold: Int32 = 64

    struct Position {
        var entry: UnsafeMutableRawPointer?
        var index: Int
    }

    struct List {
        var items: UnsafeMutablePointer<UnsafeMutableRawPointer>?
        var count: Int32
        var capacity: Int32
        /// The position table of a big slot (nil while it is small), its size a power of two.
        var table: UnsafeMutablePointer<Position>?
        var tableSize: Int

        static var empty: List { List(items: nil, count: 0, capacity: 0, table: nil, tableSize: 0) }
    }

    var lists: UnsafeMutablePointer<List>? = nil

    public init() {}

    @inline(__always)
    public var isEnabled: Bool { lists != nil }

    /// Starts indexing (an empty database): 16,384 empty lists.
    public mutating func enable() {
        guard lists == nil else { return }
        let p = tandem_malloc(HashSlot.count * MemoryLayout<List>.stride)!.bindMemory(to: List.self, capacity: HashSlot.count)
        p.initialize(repeating: .empty, count: HashSlot.count)
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
        let l = lists! + HashSlot.of(e.key)
        if l.pointee.count == l.pointee.capacity {
            let capacity = max(4, l.pointee.capacity * 2)
            l.pointee.items = tandem_realloc(l.pointee.items, Int(capacity) * MemoryLayout<UnsafeMutableRawPointer>.stride)!
                .bindMemory(to: UnsafeMutableRawPointer.self, capacity: Int(capacity))
            l.pointee.capacity = capacity
        }
        let index = Int(l.pointee.count)
        l.pointee.items![index] = e.raw
        l.pointee.count += 1
        if l.pointee.table != nil {
            if Int(l.pointee.count) * 2 > l.pointee.tableSize { Self.rebuildTable(l) } else { Self.insert(e.raw, index, l) }
        } else if l.pointee.count > Self.tableThreshold {
            Self.rebuildTable(l)
        }
    }

    public mutating func remove(_ e: Entry) {
        let l = lists! + HashSlot.of(e.key)
        let i = Self.position(of: e.raw, in: l)
        l.pointee.count -= 1
        let last = Int(l.pointee.count)
        if l.pointee.table != nil {
            Self.delete(e.raw, l)
            if i != last { Self.update(l.pointee.items![last], to: i, l) }
        }
        l.pointee.items![i] = l.pointee.items![last]
        if l.pointee.count == 0 {
            tandem_free(l.pointee.items)
            tandem_free(l.pointee.table)
            l.pointee = .empty
        } else if l.pointee.table != nil && l.pointee.count < Self.tableThreshold / 2 {
            tandem_free(l.pointee.table)
            l.pointee.table = nil
            l.pointee.tableSize = 0
        }
    }

    /// `old`'s block was replaced by `new` (the same key): the list points at the new one.
    public mutating func replace(_ old: UnsafeMutableRawPointer, with new: Entry) {
        let l = lists! + HashSlot.of(new.key)
        let i = Self.position(of: old, in: l)
        l.pointee.items![i] = new.raw
        if l.pointee.table != nil {
            Self.delete(old, l)
            Self.insert(new.raw, i, l)
        }
    }

    // MARK: - Positions

    static func position(of raw: UnsafeMutableRawPointer, in l: UnsafeMutablePointer<List>) -> Int {
        if let table = l.pointee.table {
            var k = bucket(raw, l.pointee.tableSize)
            while let e = table[k].entry {
                if e == raw { return table[k].index }
                k = (k + 1) & (l.pointee.tableSize - 1)
            }
            preconditionFailure("slot key index out of sync")
        }
        var i = 0
        let n = Int(l.pointee.count)
        while i < n && l.pointee.items![i] != raw { i += 1 }
        precondition(i < n, "slot key index out of sync")
        return i
    }

    @inline(__always)
    static func bucket(_ raw: UnsafeMutableRawPointer, _ size: Int) -> Int {
        // Blocks are 16-byte aligned: drop those bits, then spread (Fibonacci hashing).
        Int(truncatingIfNeeded: ((UInt64(UInt(bitPattern: raw)) >> 4) &* 0x9E37_79B9_7F4A_7C15) >> 20) & (size - 1)
    }

    static func insert(_ raw: UnsafeMutableRawPointer, _ index: Int, _ l: UnsafeMutablePointer<List>) {
        let table = l.pointee.table!
        var k = bucket(raw, l.pointee.tableSize)
        while table[k].entry != nil { k = (k + 1) & (l.pointee.tableSize - 1) }
        table[k] = Position(entry: raw, index: index)
    }

    static func update(_ raw: UnsafeMutableRawPointer, to index: Int, _ l: UnsafeMutablePointer<List>) {
        let table = l.pointee.table!
        var k = bucket(raw, l.pointee.tableSize)
        while table[k].entry != raw { k = (k + 1) & (l.pointee.tableSize - 1) }
        table[k].index = index
    }

    /// Removes `raw` and shifts the following run back so no probe sequence is broken.
    static func delete(_ raw: UnsafeMutableRawPointer, _ l: UnsafeMutablePointer<List>) {
        let table = l.pointee.table!
        let mask = l.pointee.tableSize - 1
        var hole = bucket(raw, l.pointee.tableSize)
        while table[hole].entry != raw { hole = (hole + 1) & mask }
        var k = (hole + 1) & mask
        while let e = table[k].entry {
            let home = bucket(e, l.pointee.tableSize)
            // Move it back if its home is not in (hole, k] (cyclically).
            let between = hole <= k ? (home > hole && home <= k) : (home > hole || home <= k)
            if !between {
                table[hole] = table[k]
                hole = k
            }
            k = (k + 1) & mask
        }
        table[hole] = Position(entry: nil, index: 0)
    }

    /// A table for the slot's current entries, at most a quarter full.
    static func rebuildTable(_ l: UnsafeMutablePointer<List>) {
        tandem_free(l.pointee.table)
        var size = 16
        while size < Int(l.pointee.count) * 4 { size *= 2 }
        let table = tandem_malloc(size * MemoryLayout<Position>.stride)!.bindMemory(to: Position.self, capacity: size)
        table.initialize(repeating: Position(entry: nil, index: 0), count: size)
        l.pointee.table = table
        l.pointee.tableSize = size
        for i in 0..<Int(l.pointee.count) { insert(l.pointee.items![i], i, l) }
    }

    // MARK: - Emptying

    /// Frees the lists (the database goes away; the index is not used again).
    public func deallocate() {
        guard let lists else { return }
        for s in 0..<HashSlot.count where lists[s].items != nil {
            tandem_free(lists[s].items)
            tandem_free(lists[s].table)
        }
        tandem_free(lists)
    }

    /// Forgets every key (the database was emptied); stays enabled.
    public mutating func removeAll() {
        guard let lists else { return }
        for s in 0..<HashSlot.count where lists[s].items != nil {
            tandem_free(lists[s].items)
            tandem_free(lists[s].table)
            lists[s] = .empty
        }
    }
}
