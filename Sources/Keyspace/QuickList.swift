/*
 * QuickList: the structure behind every list value — Tandem's counterpart of Redis's
 * quicklist (quicklist.c): a doubly linked list of nodes, each holding a run of elements
 * packed into one malloc'd block.
 *
 * Why this shape: a linked list of single elements costs two pointers and an allocation per
 * element; one packed block makes pushes in the middle of a big list O(n) memmoves. Packing
 * a few kilobytes per node keeps both costs small, and pushes/pops at either end touch only
 * the end node. Redis 7.0 reports every list as "quicklist" (a small list is simply a
 * quicklist of one node), so there is no separate small encoding to convert from.
 *
 * Memory (all through tandem_malloc, nothing reference counted, so a fork child walking the
 * keyspace copies no pages):
 *
 *     QLHeader  head, tail, count (elements), nodes, fill       one block per list
 *     QLNode    prev, next, data, bytes, capacity, count, front one block per node
 *     block     [front: free] data: elements back to back [free], each element:
 *                   <PackedList element: tag [length] payload> <back-length>
 *
 * A node's elements start `front` bytes into its block. A push at the head takes its bytes
 * from that front room instead of moving every element (Redis's listpack memmoves the whole
 * node, ~4 KB on average, for each LPUSH: a third of an LPUSH's instructions in issue 20's
 * profile), and a pop at the head gives its bytes to it. When a head push finds no front
 * room, the elements move once to split the block's free bytes between both ends (growing
 * the block by doubling if there are none), so a run of head pushes pays one move per
 * doubling, as tail pushes do; the block never holds more free bytes than growth by
 * doubling leaves, and a mostly empty block shrinks back as before.
 *
 * The element encoding is PackedList's (see PackedList.swift: small strings with a 1-2 byte
 * header, canonical integers as 1-8 byte ints), decoded with PackedList.element(at:). The
 * back-length after each element is the element's encoded size in 7-bit groups, read from
 * its last byte backwards (high bit set = another group precedes), as Redis's listpack does,
 * so a node can be walked from its end too: RPOP and LINDEX -1 are O(1), not a scan.
 *
 * Node size: `fill` is list-max-listpack-size as it was when the list was created (as
 * Redis's quicklistCreate takes it): negative -1..-5 bounds a node's bytes to 4/8/16/32/64
 * KB, positive bounds its element count (and its bytes to 8 KB, Redis's safety limit). An
 * element larger than the bound gets a node of its own. So does any element of
 * `packedThreshold` bytes or more (1 GB, as Redis's plain nodes; DEBUG
 * QUICKLIST-PACKED-THRESHOLD lowers it for tests): such a "plain" node never takes a second
 * element, and LSET of a big value into a shared node splits the value out into its own.
 *
 * Positions (QLPos) are a node and a byte offset in it. Offsets stay valid when a node's
 * block is reallocated; a PackedValue read from a node is a view into the block and is
 * valid only until the next write to the list.
 */
import CTandem
import Platform

public typealias QLNodeRef = UnsafeMutablePointer<QLNode>

public struct QLNode {
    var prev: QLNodeRef?
    var next: QLNodeRef?
    var data: UnsafeMutableRawPointer
    /// Bytes of `data` in use.
    var bytes: Int
    /// Bytes of the block from `data` to its end.
    var capacity: Int
    /// Elements in this node (always >= 1 for a linked node).
    var count: Int
    /// Free bytes of the block before `data` (head pushes fill them).
    var front: Int

    /// The malloc'd block `data` lies in.
    var block: UnsafeMutableRawPointer { data - front }
    /// The block's size.
    var allocation: Int { front + capacity }
}

public struct QLHeader {
    var head: QLNodeRef?
    var tail: QLNodeRef?
    var count: Int
    var nodes: Int
    var fill: Int
}

/// An element's place in a list: its node and its byte offset in the node's data.
public struct QLPos {
    public var node: QLNodeRef
    public var offset: Int
}

public struct QuickList {
    public let header: UnsafeMutablePointer<QLHeader>

    @inline(__always)
    public init(raw: UnsafeMutableRawPointer) { header = raw.assumingMemoryBound(to: QLHeader.self) }

    /// The list's root block, stored in its Entry's payload.
    @inline(__always)
    public var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(header) }

    /// The payload value for an Entry holding this list.
    public var payload: Int64 { Int64(Int(bitPattern: raw)) }

    /// Redis's byte bounds per node for list-max-listpack-size -1...-5.
    @inline(__always)
    static func sizeLimit(_ level: Int) -> Int { 4096 << (level - 1) }

    /// Redis's SIZE_SAFETY_LIMIT: the byte bound of a node when fill counts elements.
    static let safetyLimit = 8192

    /// A new, empty list. `fill` is list-max-listpack-size (clamped to -5...32767 as Redis does).
    public static func create(fill: Int) -> QuickList {
        let p = tandem_malloc(MemoryLayout<QLHeader>.stride)!.bindMemory(to: QLHeader.self, capacity: 1)
        p.initialize(to: QLHeader(head: nil, tail: nil, count: 0, nodes: 0, fill: min(max(fill, -5), 32767)))
        return QuickList(raw: UnsafeMutableRawPointer(p))
    }

    @inline(__always)
    public var count: Int { header.pointee.count }

    /// Number of nodes (for tests and memory reports).
    public var nodeCount: Int { header.pointee.nodes }

    @inline(__always)
    public var head: QLNodeRef? { header.pointee.head }

    @inline(__always)
    public var tail: QLNodeRef? { header.pointee.tail }

    /// Frees every node and the header.
    public func free() {
        var n = header.pointee.head
        var freed = 0
        while let node = n {
            n = node.pointee.next
            Self.freeNode(node)
            freed += 1
            if freed & 255 == 0 { tandem_lazyfree_progress() }
        }
        tandem_free(raw)
    }

    /// A deep copy (COPY): same elements, same fill, nodes packed as they are here.
    public func duplicate() -> QuickList {
        let copy = QuickList.create(fill: header.pointee.fill)
        var n = header.pointee.head
        while let node = n {
            let c = Self.makeNode(capacity: node.pointee.bytes)
            memcpy(c.pointee.data, node.pointee.data, node.pointee.bytes)
            c.pointee.bytes = node.pointee.bytes
            c.pointee.count = node.pointee.count
            copy.link(c, after: copy.header.pointee.tail)
            n = node.pointee.next
        }
        copy.header.pointee.count = header.pointee.count
        return copy
    }
}

// MARK: - Back-lengths and element sizes

extension QuickList {
    @inline(__always)
    static func backlenSize(_ n: Int) -> Int {
        if n < 128 { return 1 }
        if n < 16384 { return 2 }
        if n < 2_097_152 { return 3 }
        if n < 268_435_456 { return 4 }
        return 5
    }

    /// Writes `n` as a back-length at `p`: 7-bit groups, most significant first; every byte
    /// after the first has its high bit set, so reading backwards knows when to stop.
    @inline(__always)
    static func writeBacklen(_ n: Int, at p: UnsafeMutableRawPointer) {
        let size = backlenSize(n)
        if size == 1 {
            p.storeBytes(of: UInt8(n), as: UInt8.self)
            return
        }
        var i = 0
        while i < size {
            var b = UInt8(truncatingIfNeeded: (n >> (7 * (size - 1 - i))) & 127)
            if i > 0 { b |= 128 }
            p.storeBytes(of: b, toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }

    /// Reads the back-length that ends just before `end`: (value, bytes it occupies).
    @inline(__always)
    static func readBacklen(endingAt end: UnsafeRawPointer) -> (value: Int, size: Int) {
        var q = end - 1
        var b = q.load(as: UInt8.self)
        if b & 128 == 0 { return (Int(b), 1) }
        var v = 0
        var shift = 0
        var size = 0
        while true {
            v |= Int(b & 127) << shift
            size += 1
            if b & 128 == 0 { break }
            shift += 7
            q -= 1
            b = q.load(as: UInt8.self)
        }
        return (v, size)
    }

    /// Encoded size of `v` as a node element: (PackedList encoding, total with back-length).
    @inline(__always)
    static func elementSize(_ v: ByteView) -> (encoded: Int, total: Int) {
        let enc = PackedList.encodedSize(v)
        return (enc, enc + backlenSize(enc))
    }
}

// MARK: - Nodes

extension QuickList {
    static func makeNode(capacity: Int) -> QLNodeRef {
        let cap = max(capacity, 16)
        let n = tandem_malloc(MemoryLayout<QLNode>.stride)!.bindMemory(to: QLNode.self, capacity: 1)
        n.initialize(to: QLNode(prev: nil, next: nil, data: tandem_malloc(cap)!, bytes: 0, capacity: cap, count: 0, front: 0))
        return n
    }

    static func freeNode(_ n: QLNodeRef) {
        tandem_free(n.pointee.block)
        tandem_free(UnsafeMutableRawPointer(n))
    }

    /// Links `n` after `prev` (nil: at the head).
    func link(_ n: QLNodeRef, after prev: QLNodeRef?) {
        let h = header
        n.pointee.prev = prev
        if let prev {
            n.pointee.next = prev.pointee.next
            prev.pointee.next = n
        } else {
            n.pointee.next = h.pointee.head
            h.pointee.head = n
        }
        if let next = n.pointee.next { next.pointee.prev = n } else { h.pointee.tail = n }
        h.pointee.nodes += 1
    }

    /// Unlinks and frees `n`; the caller adjusts the element count.
    func unlinkAndFree(_ n: QLNodeRef) {
        let h = header
        if let p = n.pointee.prev { p.pointee.next = n.pointee.next } else { h.pointee.head = n.pointee.next }
        if let x = n.pointee.next { x.pointee.prev = n.pointee.prev } else { h.pointee.tail = n.pointee.prev }
        h.pointee.nodes -= 1
        Self.freeNode(n)
    }

    /// Whether an element of `total` bytes may join node `n` (Redis's _quicklistNodeAllowInsert).
    @inline(__always)
    func allowInsert(_ n: QLNodeRef, _ total: Int) -> Bool {
        let threshold = Self.packedThreshold
        if total >= threshold || (n.pointee.count == 1 && Self.isPlain(n, threshold)) { return false }
        let newSize = n.pointee.bytes + total
        let fill = header.pointee.fill
        if fill < 0 { return newSize <= Self.sizeLimit(-fill) }
        return newSize <= Self.safetyLimit && n.pointee.count < fill
    }

    /// Elements this long or longer get a node of their own (Redis's packed_threshold, 1 GB;
    /// process-wide as in Redis, changed only by DEBUG QUICKLIST-PACKED-THRESHOLD).
    @exclusivity(unchecked) nonisolated(unsafe) public static var packedThreshold = 1 << 30

    /// A single-element node whose element reaches the threshold.
    static func isPlain(_ n: QLNodeRef, _ threshold: Int) -> Bool {
        n.pointee.bytes >= threshold && PackedList(raw: n.pointee.data).element(at: 0).value.length >= threshold
    }

    /// Makes room for `extra` more bytes after the elements of `n`: the front room if it is
    /// enough (the elements move to the block's start, keeping half of what is left in front),
    /// else a block twice as big.
    @inline(__always)
    static func reserve(_ n: QLNodeRef, _ extra: Int) {
        if n.pointee.bytes + extra <= n.pointee.capacity { return }
        let free = n.pointee.allocation - n.pointee.bytes
        if free >= extra {
            relayout(n, front: (free - extra) / 2, allocation: n.pointee.allocation)
        } else {
            let allocation = max(n.pointee.front + n.pointee.bytes + extra, n.pointee.allocation * 2)
            relayout(n, front: n.pointee.front, allocation: allocation)
        }
    }

    /// Makes room for `extra` bytes before the elements of `n` (a head push): half the
    /// block's free bytes (at least `extra`), after doubling the block if it has too few.
    static func reserveFront(_ n: QLNodeRef, _ extra: Int) {
        var allocation = n.pointee.allocation
        if allocation - n.pointee.bytes < extra { allocation = max(n.pointee.bytes + extra, allocation * 2) }
        relayout(n, front: max(extra, (allocation - n.pointee.bytes) / 2), allocation: allocation)
    }

    /// Re-lays node `n`'s block: `allocation` bytes, the elements starting `front` bytes in.
    static func relayout(_ n: QLNodeRef, front: Int, allocation: Int) {
        var block = n.pointee.block
        let old = n.pointee.allocation
        // Grow before moving the elements up, shrink after moving them down.
        if allocation > old { block = tandem_realloc(block, allocation)! }
        if front != n.pointee.front { memmove(block + front, block + n.pointee.front, n.pointee.bytes) }
        if allocation < old { block = tandem_realloc(block, allocation)! }
        n.pointee.data = block + front
        n.pointee.front = front
        n.pointee.capacity = allocation - front
    }

    /// Gives memory back when a node's block is mostly empty.
    @inline(__always)
    static func shrinkIfWasteful(_ n: QLNodeRef) {
        let allocation = n.pointee.allocation
        if allocation > 256 && n.pointee.bytes < allocation / 4 {
            relayout(n, front: 0, allocation: max(64, n.pointee.bytes * 2))
        }
    }

    /// Writes `v` (whose sizes are `size`) at byte `off` of node `n`, shifting what follows
    /// (at the head, into the front room instead: nothing moves).
    @inline(__always)
    static func insertInNode(_ n: QLNodeRef, at off: Int, _ v: ByteView, _ size: (encoded: Int, total: Int)) {
        if off == 0 && n.pointee.bytes > 0 {
            if n.pointee.front < size.total { reserveFront(n, size.total) }
            n.pointee.data -= size.total
            n.pointee.front -= size.total
            n.pointee.capacity += size.total
            _ = PackedList.encode(v, at: n.pointee.data)
            writeBacklen(size.encoded, at: n.pointee.data + size.encoded)
            n.pointee.bytes += size.total
            n.pointee.count += 1
            return
        }
        reserve(n, size.total)
        let data = n.pointee.data
        let end = n.pointee.bytes
        if off < end { memmove(data + off + size.total, data + off, end - off) }
        _ = PackedList.encode(v, at: data + off)
        writeBacklen(size.encoded, at: data + off + size.encoded)
        n.pointee.bytes = end + size.total
        n.pointee.count += 1
    }

    /// Removes `k` elements starting at byte `off` of node `n`.
    static func removeInNode(_ n: QLNodeRef, at off: Int, count k: Int) {
        var stop = off
        var i = 0
        while i < k {
            stop = nextOffset(n, stop)
            i += 1
        }
        let end = n.pointee.bytes
        if off == 0 {
            // From the head: the bytes join the front room, nothing moves.
            n.pointee.data += stop
            n.pointee.front += stop
            n.pointee.capacity -= stop
        } else if stop < end {
            memmove(n.pointee.data + off, n.pointee.data + stop, end - stop)
        }
        n.pointee.bytes = end - (stop - off)
        n.pointee.count -= k
        shrinkIfWasteful(n)
    }

    /// Offset of the element after the one at `off` (== bytes past the last one).
    @inline(__always)
    static func nextOffset(_ n: QLNodeRef, _ off: Int) -> Int {
        let next = PackedList(raw: n.pointee.data).element(at: off).next
        return next + backlenSize(next - off)
    }

    /// Offset of the element before the one at `off` (off > 0; off == bytes gives the last).
    @inline(__always)
    static func prevOffset(_ n: QLNodeRef, _ off: Int) -> Int {
        let (len, size) = readBacklen(endingAt: UnsafeRawPointer(n.pointee.data + off))
        return off - size - len
    }

    @inline(__always)
    static func lastOffset(_ n: QLNodeRef) -> Int { prevOffset(n, n.pointee.bytes) }

    /// Offset of element `idx` (0-based) inside node `n`, walking from the nearer end.
    static func offset(in n: QLNodeRef, index idx: Int) -> Int {
        if idx < n.pointee.count / 2 {
            var off = 0
            var i = 0
            while i < idx {
                off = nextOffset(n, off)
                i += 1
            }
            return off
        }
        var off = n.pointee.bytes
        var i = n.pointee.count
        while i > idx {
            off = prevOffset(n, off)
            i -= 1
        }
        return off
    }
}

// MARK: - Ends: push, pop, trim

extension QuickList {
    /// Adds `v` at the head (LPUSH) or the tail (RPUSH).
    public func push(_ v: ByteView, head atHead: Bool) {
        let size = Self.elementSize(v)
        let h = header
        if atHead {
            if let n = h.pointee.head, allowInsert(n, size.total) {
                Self.insertInNode(n, at: 0, v, size)
            } else {
                let n = Self.makeNode(capacity: max(size.total, 64))
                Self.insertInNode(n, at: 0, v, size)
                link(n, after: nil)
            }
        } else {
            if let n = h.pointee.tail, allowInsert(n, size.total) {
                Self.insertInNode(n, at: n.pointee.bytes, v, size)
            } else {
                let n = Self.makeNode(capacity: max(size.total, 64))
                Self.insertInNode(n, at: 0, v, size)
                link(n, after: h.pointee.tail)
            }
        }
        h.pointee.count += 1
    }

    /// The first (head) or last element; the list must not be empty. A view, valid until the
    /// next write.
    @inline(__always)
    public func peek(head atHead: Bool) -> PackedValue {
        let n = atHead ? header.pointee.head! : header.pointee.tail!
        let off = atHead ? 0 : Self.lastOffset(n)
        return PackedList(raw: n.pointee.data).element(at: off).value
    }

    /// Removes the first `k` elements (k <= count).
    public func deleteHead(_ k: Int) {
        var left = k
        let h = header
        while left > 0, let n = h.pointee.head {
            let c = n.pointee.count
            if c <= left {
                left -= c
                h.pointee.count -= c
                unlinkAndFree(n)
            } else {
                Self.removeInNode(n, at: 0, count: left)
                h.pointee.count -= left
                left = 0
            }
        }
    }

    /// Removes the last `k` elements (k <= count).
    public func deleteTail(_ k: Int) {
        var left = k
        let h = header
        while left > 0, let n = h.pointee.tail {
            let c = n.pointee.count
            if c <= left {
                left -= c
                h.pointee.count -= c
                unlinkAndFree(n)
            } else {
                var off = n.pointee.bytes
                var i = 0
                while i < left {
                    off = Self.prevOffset(n, off)
                    i += 1
                }
                n.pointee.bytes = off
                n.pointee.count -= left
                Self.shrinkIfWasteful(n)
                h.pointee.count -= left
                left = 0
            }
        }
    }
}

// MARK: - Positions and iteration

extension QuickList {
    /// The position of element `index` (negative counts from the tail), or nil when out of
    /// range. Walks nodes from the nearer end, then inside the node from its nearer end.
    public func position(ofIndex index: Int) -> QLPos? {
        let total = count
        var i = index
        if i < 0 { i = total &+ i }
        if i < 0 || i >= total { return nil }
        if i < total / 2 {
            var n = header.pointee.head!
            while i >= n.pointee.count {
                i -= n.pointee.count
                n = n.pointee.next!
            }
            return QLPos(node: n, offset: Self.offset(in: n, index: i))
        }
        var fromEnd = total - 1 - i
        var n = header.pointee.tail!
        while fromEnd >= n.pointee.count {
            fromEnd -= n.pointee.count
            n = n.pointee.prev!
        }
        return QLPos(node: n, offset: Self.offset(in: n, index: n.pointee.count - 1 - fromEnd))
    }

    @inline(__always)
    public func value(at p: QLPos) -> PackedValue {
        PackedList(raw: p.node.pointee.data).element(at: p.offset).value
    }

    /// The next element towards the tail, or nil.
    @inline(__always)
    public func next(_ p: QLPos) -> QLPos? {
        let off = Self.nextOffset(p.node, p.offset)
        if off < p.node.pointee.bytes { return QLPos(node: p.node, offset: off) }
        guard let n = p.node.pointee.next else { return nil }
        return QLPos(node: n, offset: 0)
    }

    /// The next element towards the head, or nil.
    @inline(__always)
    public func previous(_ p: QLPos) -> QLPos? {
        if p.offset > 0 { return QLPos(node: p.node, offset: Self.prevOffset(p.node, p.offset)) }
        guard let n = p.node.pointee.prev else { return nil }
        return QLPos(node: n, offset: Self.lastOffset(n))
    }

    /// Calls `body` for up to `limit` elements from `start`, towards the tail (`forward`) or the
    /// head. The list must not change meanwhile.
    @inline(__always)
    public func forEach(from start: QLPos, forward: Bool, limit: Int, _ body: (PackedValue) -> Void) {
        var n = start.node
        var off = start.offset
        var left = limit
        while left > 0 {
            let (v, next) = PackedList(raw: n.pointee.data).element(at: off)
            body(v)
            left -= 1
            if forward {
                off = next + Self.backlenSize(next - off)
                if off >= n.pointee.bytes {
                    guard let nn = n.pointee.next else { return }
                    n = nn
                    off = 0
                }
            } else if off > 0 {
                off = Self.prevOffset(n, off)
            } else {
                guard let pn = n.pointee.prev else { return }
                n = pn
                off = Self.lastOffset(pn)
            }
        }
    }

    /// Calls `body` for every element from head to tail.
    public func forEach(_ body: (PackedValue) -> Void) {
        guard let n = header.pointee.head else { return }
        forEach(from: QLPos(node: n, offset: 0), forward: true, limit: count, body)
    }
}

// MARK: - Middle: replace, insert, delete

extension QuickList {
    /// Deletes the element at `p`; returns the position of the element that followed it in
    /// the iteration direction (towards the tail when `forward`), or nil at the end.
    @discardableResult
    public func delete(at p: QLPos, forward: Bool) -> QLPos? {
        let n = p.node
        let h = header
        h.pointee.count -= 1
        if n.pointee.count == 1 {
            let following = forward ? n.pointee.next : n.pointee.prev
            unlinkAndFree(n)
            guard let f = following else { return nil }
            return QLPos(node: f, offset: forward ? 0 : Self.lastOffset(f))
        }
        let before = p.offset > 0 ? Self.prevOffset(n, p.offset) : -1
        Self.removeInNode(n, at: p.offset, count: 1)
        if forward {
            if p.offset < n.pointee.bytes { return QLPos(node: n, offset: p.offset) }
            guard let nn = n.pointee.next else { return nil }
            return QLPos(node: nn, offset: 0)
        }
        if before >= 0 { return QLPos(node: n, offset: before) }
        guard let pn = n.pointee.prev else { return nil }
        return QLPos(node: pn, offset: Self.lastOffset(pn))
    }

    /// Replaces the element at `p` with `v` (in place; the node may outgrow its bound by
    /// one element, which the next pushes respect).
    public func replace(at p: QLPos, with v: ByteView) {
        let n = p.node
        if n.pointee.count > 1 && v.count >= Self.packedThreshold {
            replaceWithPlainNode(at: p, v)
            return
        }
        let oldNext = Self.nextOffset(n, p.offset)
        let oldSize = oldNext - p.offset
        let size = Self.elementSize(v)
        if size.total > oldSize { Self.reserve(n, size.total - oldSize) }
        let data = n.pointee.data
        let end = n.pointee.bytes
        if size.total != oldSize { memmove(data + p.offset + size.total, data + oldNext, end - oldNext) }
        _ = PackedList.encode(v, at: data + p.offset)
        Self.writeBacklen(size.encoded, at: data + p.offset + size.encoded)
        n.pointee.bytes = end - oldSize + size.total
        if size.total < oldSize { Self.shrinkIfWasteful(n) }
    }

    /// LSET of a value past the packed threshold in a shared node: the node is split at the
    /// element, which is replaced by a node of its own between the two halves.
    func replaceWithPlainNode(at p: QLPos, _ v: ByteView) {
        let n = p.node
        let size = Self.elementSize(v)
        if p.offset == 0 {
            Self.removeInNode(n, at: 0, count: 1)
            insertNewNode(v, size, after: n.pointee.prev)
            return
        }
        let right = split(n, at: p.offset)
        Self.removeInNode(right, at: 0, count: 1)
        if right.pointee.count == 0 { unlinkAndFree(right) }
        insertNewNode(v, size, after: n)
    }

    /// Inserts `v` just before or after the element at `p` (LINSERT). A full node is split at
    /// the insertion point; a neighbour with room takes elements added at a node's edge.
    public func insert(_ v: ByteView, at p: QLPos, after: Bool) {
        let n = p.node
        let off = after ? Self.nextOffset(n, p.offset) : p.offset
        let size = Self.elementSize(v)
        header.pointee.count += 1
        if allowInsert(n, size.total) {
            Self.insertInNode(n, at: off, v, size)
            return
        }
        if off == n.pointee.bytes {
            if let nn = n.pointee.next, allowInsert(nn, size.total) {
                Self.insertInNode(nn, at: 0, v, size)
            } else {
                insertNewNode(v, size, after: n)
            }
            return
        }
        if off == 0 {
            if let pn = n.pointee.prev, allowInsert(pn, size.total) {
                Self.insertInNode(pn, at: pn.pointee.bytes, v, size)
            } else {
                insertNewNode(v, size, after: n.pointee.prev)
            }
            return
        }
        let right = split(n, at: off)
        if allowInsert(n, size.total) {
            Self.insertInNode(n, at: n.pointee.bytes, v, size)
        } else if allowInsert(right, size.total) {
            Self.insertInNode(right, at: 0, v, size)
        } else {
            insertNewNode(v, size, after: n)
        }
    }

    func insertNewNode(_ v: ByteView, _ size: (encoded: Int, total: Int), after prev: QLNodeRef?) {
        let nn = Self.makeNode(capacity: max(size.total, 64))
        Self.insertInNode(nn, at: 0, v, size)
        link(nn, after: prev)
    }

    /// Moves the elements of `n` from byte `off` on into a new node linked after it.
    func split(_ n: QLNodeRef, at off: Int) -> QLNodeRef {
        var moved = 0
        var o = off
        while o < n.pointee.bytes {
            o = Self.nextOffset(n, o)
            moved += 1
        }
        let length = n.pointee.bytes - off
        let right = Self.makeNode(capacity: length + 64)
        memcpy(right.pointee.data, n.pointee.data + off, length)
        right.pointee.bytes = length
        right.pointee.count = moved
        n.pointee.bytes = off
        n.pointee.count -= moved
        link(right, after: n)
        return right
    }

    /// Checks the structure's invariants (tests): links, per-node counts and sizes, back-lengths.
    public func verify() -> Bool {
        var total = 0
        var nodes = 0
        var prev: QLNodeRef? = nil
        var n = header.pointee.head
        while let node = n {
            if node.pointee.prev != prev || node.pointee.count < 1 { return false }
            if node.pointee.bytes > node.pointee.capacity || node.pointee.front < 0 { return false }
            var off = 0
            var c = 0
            while off < node.pointee.bytes {
                let next = Self.nextOffset(node, off)
                if Self.prevOffset(node, next) != off { return false }
                off = next
                c += 1
            }
            if off != node.pointee.bytes || c != node.pointee.count { return false }
            total += c
            nodes += 1
            prev = node
            n = node.pointee.next
        }
        return prev == header.pointee.tail && total == count && nodes == header.pointee.nodes
    }
}

// MARK: - Node walk (RDB writer)

extension QuickList {
    /// Calls `body` for every node from head to tail with the node's element count and a
    /// function that walks the node's elements. The RDB writer stores each node as one
    /// listpack, as Redis's quicklist 2 format does. The list must not change meanwhile.
    public func forEachNode(_ body: (_ count: Int, _ elements: ((PackedValue) -> Void) -> Void) -> Void) {
        var n = header.pointee.head
        while let node = n {
            body(node.pointee.count) { visit in
                var off = 0
                let data = PackedList(raw: node.pointee.data)
                while off < node.pointee.bytes {
                    let (v, next) = data.element(at: off)
                    visit(v)
                    off = next + Self.backlenSize(next - off)
                }
            }
            n = node.pointee.next
        }
    }
}
