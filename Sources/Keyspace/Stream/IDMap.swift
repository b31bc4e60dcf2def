/*
 * IDMap: an ordered map from StreamID to one machine word, off-heap — what Redis keeps in a
 * rax keyed by 128-bit big-endian IDs: a stream's nodes (master ID -> listpack), a consumer
 * group's pending entries list and each consumer's (ID -> NACK).
 *
 * Why a skip list and not a radix tree: the keys are fixed-size numbers, so ordering by
 * comparison is all a rax gives these maps; a skip list gives O(log n) lookup, insertion and
 * removal, seeks (first >= id, last <= id) and walks in both directions with one small block
 * per element (key, value, backward link, 1.33 forward links on average). Redis's rax
 * compresses shared prefixes of the 16-byte keys; for PELs of consecutive IDs the memory is
 * about the same (docs/dev/streams.md has the figures).
 *
 * Node layout (bytes): 0 ms, 8 seq, 16 value, 24 backward, 32 level (UInt32), 40 forward[level].
 * Nodes are plain malloc blocks; nothing is reference counted. The owner (a `~Copyable`
 * IDMap held through a pointer) frees them with `destroy`.
 */
import CTandem

public struct IDMap: ~Copyable {
    static let maxLevel = 32
    /// 1/4 promotion, as Redis's skiplists.
    static let promoteThreshold: UInt64 = 0x4000

    /// Sentinel head node with maxLevel forward links; its key and value are unused.
    let head: UnsafeMutableRawPointer
    public private(set) var tail: UnsafeMutableRawPointer?
    public private(set) var count = 0
    var level = 1
    var rng: UInt64 = 0x9E37_79B9_7F4A_7C15

    init() {
        head = Node.allocate(StreamID.zero, 0, level: Self.maxLevel)
    }

    /// A new empty map in its own block.
    public static func create() -> UnsafeMutablePointer<IDMap> {
        let p = tandem_malloc(MemoryLayout<IDMap>.stride)!.bindMemory(to: IDMap.self, capacity: 1)
        p.initialize(to: IDMap())
        return p
    }

    /// Frees every node and the map (values are the caller's: free them first if they own memory).
    public static func destroy(_ p: UnsafeMutablePointer<IDMap>) {
        var n = Node.forward(p.pointee.head, 0)
        while let x = n {
            n = Node.forward(x, 0)
            tandem_free(x)
        }
        tandem_free(p.pointee.head)
        p.deinitialize(count: 1)
        tandem_free(p)
    }

    // MARK: - Nodes

    public enum Node {
        static func allocate(_ id: StreamID, _ value: UInt64, level: Int) -> UnsafeMutableRawPointer {
            let n = tandem_malloc(40 + 8 * level)!
            n.storeBytes(of: id.ms, as: UInt64.self)
            n.storeBytes(of: id.seq, toByteOffset: 8, as: UInt64.self)
            n.storeBytes(of: value, toByteOffset: 16, as: UInt64.self)
            n.storeBytes(of: nil, toByteOffset: 24, as: UnsafeMutableRawPointer?.self)
            n.storeBytes(of: UInt32(level), toByteOffset: 32, as: UInt32.self)
            for i in 0..<level { n.storeBytes(of: nil, toByteOffset: 40 + 8 * i, as: UnsafeMutableRawPointer?.self) }
            return n
        }

        @inline(__always)
        public static func id(_ n: UnsafeMutableRawPointer) -> StreamID {
            StreamID(ms: n.load(as: UInt64.self), seq: n.load(fromByteOffset: 8, as: UInt64.self))
        }

        @inline(__always)
        public static func value(_ n: UnsafeMutableRawPointer) -> UInt64 { n.load(fromByteOffset: 16, as: UInt64.self) }

        @inline(__always)
        public static func setValue(_ n: UnsafeMutableRawPointer, _ v: UInt64) {
            n.storeBytes(of: v, toByteOffset: 16, as: UInt64.self)
        }

        /// The value as a pointer (maps whose values are blocks).
        @inline(__always)
        public static func pointer(_ n: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
            UnsafeMutableRawPointer(bitPattern: UInt(value(n)))!
        }

        @inline(__always)
        static func backward(_ n: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
            n.load(fromByteOffset: 24, as: UnsafeMutableRawPointer?.self)
        }

        @inline(__always)
        static func setBackward(_ n: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer?) {
            n.storeBytes(of: b, toByteOffset: 24, as: UnsafeMutableRawPointer?.self)
        }

        @inline(__always)
        static func level(_ n: UnsafeMutableRawPointer) -> Int { Int(n.load(fromByteOffset: 32, as: UInt32.self)) }

        @inline(__always)
        static func forward(_ n: UnsafeMutableRawPointer, _ i: Int) -> UnsafeMutableRawPointer? {
            n.load(fromByteOffset: 40 + 8 * i, as: UnsafeMutableRawPointer?.self)
        }

        @inline(__always)
        static func setForward(_ n: UnsafeMutableRawPointer, _ i: Int, _ f: UnsafeMutableRawPointer?) {
            n.storeBytes(of: f, toByteOffset: 40 + 8 * i, as: UnsafeMutableRawPointer?.self)
        }
    }

    static func pointerBits(_ p: UnsafeMutableRawPointer) -> UInt64 { UInt64(UInt(bitPattern: p)) }

    mutating func randomLevel() -> Int {
        var l = 1
        while l < Self.maxLevel {
            rng ^= rng << 13
            rng ^= rng >> 7
            rng ^= rng << 17
            if rng & 0xFFFF >= Self.promoteThreshold { break }
            l += 1
        }
        return l
    }

    // MARK: - Reading

    public var first: UnsafeMutableRawPointer? { Node.forward(head, 0) }
    public var last: UnsafeMutableRawPointer? { tail }
    public var isEmpty: Bool { count == 0 }

    @inline(__always)
    public func next(_ n: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? { Node.forward(n, 0) }

    @inline(__always)
    public func prev(_ n: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? { Node.backward(n) }

    /// The last node whose ID is < `id` (the head sentinel when none).
    func lastBefore(_ id: StreamID) -> UnsafeMutableRawPointer {
        var x = head
        var i = level - 1
        while i >= 0 {
            while let f = Node.forward(x, i), Node.id(f) < id { x = f }
            i -= 1
        }
        return x
    }

    /// The node with exactly `id`.
    public func find(_ id: StreamID) -> UnsafeMutableRawPointer? {
        guard let n = Node.forward(lastBefore(id), 0), Node.id(n) == id else { return nil }
        return n
    }

    /// The first node with ID >= `id`.
    public func firstNotBefore(_ id: StreamID) -> UnsafeMutableRawPointer? {
        Node.forward(lastBefore(id), 0)
    }

    /// The last node with ID <= `id`.
    public func lastNotAfter(_ id: StreamID) -> UnsafeMutableRawPointer? {
        if let n = Node.forward(lastBefore(id), 0), Node.id(n) == id { return n }
        let b = lastBefore(id)
        return b == head ? nil : b
    }

    /// The first node with ID > `id`.
    public func firstAfter(_ id: StreamID) -> UnsafeMutableRawPointer? {
        guard let n = firstNotBefore(id) else { return nil }
        return Node.id(n) == id ? Node.forward(n, 0) : n
    }

    // MARK: - Writing

    /// Walks down to the last node before `id` at every level, recording each in `update`.
    func descend(to id: StreamID, _ update: UnsafeMutableBufferPointer<UnsafeMutableRawPointer>) -> UnsafeMutableRawPointer {
        var x = head
        var i = level - 1
        while i >= 0 {
            while let f = Node.forward(x, i), Node.id(f) < id { x = f }
            update[i] = x
            i -= 1
        }
        return x
    }

    /// Sets `id` to `value`, inserting it when absent (an existing node's value is replaced:
    /// the caller owns what it pointed to). Returns the node and whether it is new.
    @discardableResult
    public mutating func insert(_ id: StreamID, _ value: UInt64) -> (node: UnsafeMutableRawPointer, inserted: Bool) {
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: Self.maxLevel) { update in
            let x = descend(to: id, update)
            if let f = Node.forward(x, 0), Node.id(f) == id {
                Node.setValue(f, value)
                return (f, false)
            }
            let lvl = randomLevel()
            if lvl > level {
                for j in level..<lvl { update[j] = head }
                level = lvl
            }
            let n = Node.allocate(id, value, level: lvl)
            for j in 0..<lvl {
                Node.setForward(n, j, Node.forward(update[j], j))
                Node.setForward(update[j], j, n)
            }
            Node.setBackward(n, update[0] == head ? nil : update[0])
            if let f = Node.forward(n, 0) { Node.setBackward(f, n) } else { tail = n }
            count += 1
            return (n, true)
        }
    }

    /// Inserts a value given as a pointer.
    @discardableResult
    public mutating func insert(_ id: StreamID, pointer: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        insert(id, Self.pointerBits(pointer)).node
    }

    /// Removes `id`; returns its value, or nil when absent.
    @discardableResult
    public mutating func remove(_ id: StreamID) -> UInt64? {
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: Self.maxLevel) { update in
            let x = descend(to: id, update)
            guard let n = Node.forward(x, 0), Node.id(n) == id else { return nil }
            for j in 0..<level where Node.forward(update[j], j) == n {
                Node.setForward(update[j], j, Node.forward(n, j))
            }
            if let f = Node.forward(n, 0) { Node.setBackward(f, Node.backward(n)) } else { tail = Node.backward(n) }
            while level > 1 && Node.forward(head, level - 1) == nil { level -= 1 }
            count -= 1
            let v = Node.value(n)
            tandem_free(n)
            return v
        }
    }

    /// Bytes of malloc'd memory the map holds (MEMORY USAGE).
    public var allocatedBytes: Int {
        var total = tandem_usable_size(head) + MemoryLayout<IDMap>.stride
        var n = first
        while let x = n {
            total += tandem_usable_size(x)
            n = Node.forward(x, 0)
        }
        return total
    }
}
