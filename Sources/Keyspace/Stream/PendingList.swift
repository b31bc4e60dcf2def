/*
 * PendingList: an ordered map from StreamID to a fixed-size record, packed — the pending entries
 * lists of consumer groups (ID -> NACK record) and of consumers (ID alone).
 *
 * Why not IDMap (one skip-list node per element): a PEL can hold millions of entries (consumers
 * that died), and a node plus a separate NACK block cost about 140 bytes per pending entry
 * against Redis's 84 (its rax shares the prefixes of consecutive IDs). Here records sit sorted in
 * leaves of up to 64 (a leaf grows by doubling from 4 records), and an IDMap indexes the leaves
 * by their first ID: a group's NACK record is 40 bytes and a consumer's entry 16, so a pending
 * entry costs about 60 bytes when IDs arrive in order (XREADGROUP appends at the end, and a full
 * last leaf is not split in half but continued in a new one), O(log n) to find, insert, remove.
 *
 * Records move when their leaf changes, so a Position is valid only until the next insertion or
 * removal in this list; callers keep IDs, not positions, across changes.
 */
import CTandem

public struct PendingList: ~Copyable {
    static let leafCapacity = 64
    static let headerSize = 8  // Int32 count, Int32 capacity

    /// Bytes after the 16-byte ID in each record.
    let valueSize: Int
    /// First ID of each leaf -> the leaf.
    let leaves: UnsafeMutablePointer<IDMap>
    public private(set) var count = 0

    init(valueSize: Int) {
        self.valueSize = valueSize
        leaves = IDMap.create()
    }

    public static func create(valueSize: Int) -> UnsafeMutablePointer<PendingList> {
        let p = tandem_malloc(MemoryLayout<PendingList>.stride)!.bindMemory(to: PendingList.self, capacity: 1)
        p.initialize(to: PendingList(valueSize: valueSize))
        return p
    }

    public static func destroy(_ p: UnsafeMutablePointer<PendingList>) {
        var n = p.pointee.leaves.pointee.first
        while let x = n {
            n = p.pointee.leaves.pointee.next(x)
            tandem_free(IDMap.Node.pointer(x))
        }
        IDMap.destroy(p.pointee.leaves)
        p.deinitialize(count: 1)
        tandem_free(p)
    }

    /// A record: the leaf's index node and the record's index in the leaf.
    public struct Position {
        let node: UnsafeMutableRawPointer
        let index: Int
    }

    var recordSize: Int { 16 + valueSize }

    @inline(__always)
    static func leafCount(_ leaf: UnsafeMutableRawPointer) -> Int { Int(leaf.load(as: Int32.self)) }

    @inline(__always)
    static func setLeafCount(_ leaf: UnsafeMutableRawPointer, _ n: Int) { leaf.storeBytes(of: Int32(n), as: Int32.self) }

    @inline(__always)
    static func leafCapacity(_ leaf: UnsafeMutableRawPointer) -> Int { Int(leaf.load(fromByteOffset: 4, as: Int32.self)) }

    @inline(__always)
    func record(_ leaf: UnsafeMutableRawPointer, _ i: Int) -> UnsafeMutableRawPointer {
        leaf + Self.headerSize + i * recordSize
    }

    @inline(__always)
    func recordID(_ leaf: UnsafeMutableRawPointer, _ i: Int) -> StreamID {
        let r = record(leaf, i)
        return StreamID(ms: r.load(as: UInt64.self), seq: r.load(fromByteOffset: 8, as: UInt64.self))
    }

    @inline(__always)
    func leaf(_ node: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer { IDMap.Node.pointer(node) }

    // MARK: - Reading

    public func id(_ p: Position) -> StreamID { recordID(leaf(p.node), p.index) }

    /// The record's value bytes (valueSize of them).
    public func value(_ p: Position) -> UnsafeMutableRawPointer { record(leaf(p.node), p.index) + 16 }

    public var first: Position? {
        guard let n = leaves.pointee.first else { return nil }
        return Position(node: n, index: 0)
    }

    public var last: Position? {
        guard let n = leaves.pointee.last else { return nil }
        return Position(node: n, index: Self.leafCount(leaf(n)) - 1)
    }

    public func next(_ p: Position) -> Position? {
        if p.index + 1 < Self.leafCount(leaf(p.node)) { return Position(node: p.node, index: p.index + 1) }
        guard let n = leaves.pointee.next(p.node) else { return nil }
        return Position(node: n, index: 0)
    }

    /// Index of the first record of `leaf` with ID >= `id` (its count when none).
    func lowerBound(_ leaf: UnsafeMutableRawPointer, _ id: StreamID) -> Int {
        var lo = 0, hi = Self.leafCount(leaf)
        while lo < hi {
            let mid = (lo + hi) / 2
            if recordID(leaf, mid) < id { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The first record with ID >= `id`.
    public func firstNotBefore(_ id: StreamID) -> Position? {
        guard let n = leaves.pointee.lastNotAfter(id) ?? leaves.pointee.first else { return nil }
        let i = lowerBound(leaf(n), id)
        if i < Self.leafCount(leaf(n)) { return Position(node: n, index: i) }
        guard let after = leaves.pointee.next(n) else { return nil }
        return Position(node: after, index: 0)
    }

    public func find(_ id: StreamID) -> Position? {
        guard let p = firstNotBefore(id), self.id(p) == id else { return nil }
        return p
    }

    // MARK: - Writing

    /// Adds `id` (absent) and returns its zeroed value bytes.
    @discardableResult
    public mutating func insert(_ id: StreamID) -> UnsafeMutableRawPointer {
        count += 1
        guard var node = leaves.pointee.lastNotAfter(id) ?? leaves.pointee.first else {
            let l = newLeaf(capacity: 4)
            let n = leaves.pointee.insert(id, pointer: l)
            return place(id, in: n, at: 0)
        }
        var l = leaf(node)
        var i = lowerBound(l, id)
        let n = Self.leafCount(l)
        if n == Self.leafCapacity {
            if i == n && leaves.pointee.next(node) == nil {
                // Appending past a full last leaf: start the next one (in-order inserts stay packed).
                let fresh = newLeaf(capacity: 4)
                let added = leaves.pointee.insert(id, pointer: fresh)
                return place(id, in: added, at: 0)
            }
            // Split in halves; the upper half goes to a new leaf keyed by its first ID.
            let half = n / 2
            let upper = newLeaf(capacity: Self.leafCapacity)
            memcpy(upper + Self.headerSize, record(l, half), (n - half) * recordSize)
            Self.setLeafCount(upper, n - half)
            Self.setLeafCount(l, half)
            let upperNode = leaves.pointee.insert(recordID(upper, 0), pointer: upper)
            if i > half {
                node = upperNode
                l = upper
                i -= half
            }
        }
        if i == 0 {
            // The leaf's first ID changes: re-key it.
            let old = IDMap.Node.id(node)
            leaves.pointee.remove(old)
            node = leaves.pointee.insert(id, pointer: l)
        }
        return place(id, in: node, at: i)
    }

    func newLeaf(capacity: Int) -> UnsafeMutableRawPointer {
        let l = tandem_malloc(Self.headerSize + capacity * recordSize)!
        l.storeBytes(of: Int32(0), as: Int32.self)
        l.storeBytes(of: Int32(capacity), toByteOffset: 4, as: Int32.self)
        return l
    }

    /// Opens a slot at `i` in `node`'s leaf (growing it), writes `id`, returns the value bytes.
    func place(_ id: StreamID, in node: UnsafeMutableRawPointer, at i: Int) -> UnsafeMutableRawPointer {
        var l = leaf(node)
        let n = Self.leafCount(l)
        let capacity = Self.leafCapacity(l)
        if n == capacity {
            let grown = min(capacity * 2, Self.leafCapacity)
            l = tandem_realloc(l, Self.headerSize + grown * recordSize)!
            l.storeBytes(of: Int32(grown), toByteOffset: 4, as: Int32.self)
            IDMap.Node.setValue(node, IDMap.pointerBits(l))
        }
        if i < n { memmove(record(l, i + 1), record(l, i), (n - i) * recordSize) }
        let r = record(l, i)
        r.storeBytes(of: id.ms, as: UInt64.self)
        r.storeBytes(of: id.seq, toByteOffset: 8, as: UInt64.self)
        if valueSize > 0 { memset(r + 16, 0, valueSize) }
        Self.setLeafCount(l, n + 1)
        return r + 16
    }

    /// Removes `id`, copying its value to `out` (valueSize bytes) first when given; false if absent.
    @discardableResult
    public mutating func remove(_ id: StreamID, valueInto out: UnsafeMutableRawPointer? = nil) -> Bool {
        guard let p = find(id) else { return false }
        let l = leaf(p.node)
        if let out, valueSize > 0 { memcpy(out, record(l, p.index) + 16, valueSize) }
        let n = Self.leafCount(l)
        if p.index < n - 1 { memmove(record(l, p.index), record(l, p.index + 1), (n - 1 - p.index) * recordSize) }
        Self.setLeafCount(l, n - 1)
        count -= 1
        let key = IDMap.Node.id(p.node)
        if n == 1 {
            leaves.pointee.remove(key)
            tandem_free(l)
        } else if p.index == 0 {
            leaves.pointee.remove(key)
            leaves.pointee.insert(recordID(l, 0), pointer: l)
        }
        return true
    }

    /// Bytes of malloc'd memory the list holds (MEMORY USAGE).
    public var allocatedBytes: Int {
        var total = MemoryLayout<PendingList>.stride + leaves.pointee.allocatedBytes
        var n = leaves.pointee.first
        while let x = n {
            total += tandem_usable_size(leaf(x))
            n = leaves.pointee.next(x)
        }
        return total
    }
}
