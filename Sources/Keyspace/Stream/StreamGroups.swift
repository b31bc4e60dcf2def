/*
 * StreamGroups: consumer groups, consumers and pending entries — the second half of Redis's
 * stream type (t_stream.c's streamCG, streamConsumer, streamNACK).
 *
 * A group has a last-delivered ID, a logical read counter (`entries-read`, -1 when unknown),
 * its pending entries list (PEL: ID -> NACK record, ordered; PendingList.swift) and its
 * consumers by name. Each consumer has its own PEL of IDs; the NACK in the group's names its
 * owner, so XPENDING per consumer and XCLAIM's ownership change are O(log n). Groups and consumers are kept in
 * NameIndex, a sorted array of blocks searched by name — Redis's rax keyed by name gives the
 * same (byte-wise) order, which XINFO GROUPS / CONSUMERS and RDB files show.
 *
 * Every structure is a malloc block; a group or consumer block carries its name right after
 * its fields. Nothing is reference counted.
 */
import CTandem
import Platform

/// A sorted array of blocks that start with their name's length (Int) and carry the name's
/// bytes at `nameOffset`.
public struct NameIndex: ~Copyable {
    var items: UnsafeMutablePointer<UnsafeMutableRawPointer>
    public private(set) var count = 0
    var capacity = 4
    let nameOffset: Int

    init(nameOffset: Int) {
        self.nameOffset = nameOffset
        items = tandem_malloc(4 * 8)!.bindMemory(to: UnsafeMutableRawPointer.self, capacity: 4)
    }

    public static func create(nameOffset: Int) -> UnsafeMutablePointer<NameIndex> {
        let p = tandem_malloc(MemoryLayout<NameIndex>.stride)!.bindMemory(to: NameIndex.self, capacity: 1)
        p.initialize(to: NameIndex(nameOffset: nameOffset))
        return p
    }

    /// Frees the index (not the blocks it lists).
    public static func destroy(_ p: UnsafeMutablePointer<NameIndex>) {
        tandem_free(p.pointee.items)
        p.deinitialize(count: 1)
        tandem_free(p)
    }

    @inline(__always)
    public func item(_ i: Int) -> UnsafeMutableRawPointer { items[i] }

    @inline(__always)
    func name(_ block: UnsafeMutableRawPointer) -> ByteView {
        ByteView(UnsafePointer(block.assumingMemoryBound(to: UInt8.self) + nameOffset), block.load(as: Int.self))
    }

    /// Position of `name`, or where it would be inserted.
    func search(_ name: ByteView) -> (found: Bool, index: Int) {
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = self.name(items[mid]).compare(name)
            if c == 0 { return (true, mid) }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return (false, lo)
    }

    public func find(_ name: ByteView) -> UnsafeMutableRawPointer? {
        let (found, i) = search(name)
        return found ? items[i] : nil
    }

    /// Adds a block whose name is absent.
    mutating func insert(_ block: UnsafeMutableRawPointer) {
        let (_, i) = search(name(block))
        if count == capacity {
            capacity *= 2
            items = tandem_realloc(items, capacity * 8)!.bindMemory(to: UnsafeMutableRawPointer.self, capacity: capacity)
        }
        if i < count { (items + i + 1).update(from: items + i, count: count - i) }
        items[i] = block
        count += 1
    }

    /// Removes the block named `name` from the index and returns it.
    mutating func remove(_ name: ByteView) -> UnsafeMutableRawPointer? {
        let (found, i) = search(name)
        guard found else { return nil }
        let b = items[i]
        if i < count - 1 { (items + i).update(from: items + i + 1, count: count - i - 1) }
        count -= 1
        return b
    }

    public var allocatedBytes: Int { tandem_usable_size(items) + MemoryLayout<NameIndex>.stride }
}

/// A pending entry: delivered to `consumer`, not yet acknowledged. It is the record of the
/// group's PendingList (24 bytes after the ID); pointers to it last until the list changes.
public struct NACK {
    public var deliveryTime: Int64
    public var deliveryCount: UInt64
    public var consumer: UnsafeMutablePointer<Consumer>?

    static let size = 24

    /// The NACK at a position of a group's PEL.
    @inline(__always)
    public static func at(_ pel: UnsafeMutablePointer<PendingList>, _ p: PendingList.Position) -> UnsafeMutablePointer<NACK> {
        pel.pointee.value(p).assumingMemoryBound(to: NACK.self)
    }

    /// Adds `id` to the group's PEL (absent) as delivered now to `consumer`.
    @discardableResult
    public static func add(_ pel: UnsafeMutablePointer<PendingList>, _ id: StreamID, consumer: UnsafeMutablePointer<Consumer>?,
                           now: Int64) -> UnsafeMutablePointer<NACK> {
        let p = pel.pointee.insert(id).bindMemory(to: NACK.self, capacity: 1)
        p.initialize(to: NACK(deliveryTime: now, deliveryCount: 1, consumer: consumer))
        return p
    }

    /// The NACK of `id` in the group's PEL.
    @inline(__always)
    public static func find(_ pel: UnsafeMutablePointer<PendingList>, _ id: StreamID) -> UnsafeMutablePointer<NACK>? {
        pel.pointee.find(id).map { at(pel, $0) }
    }
}

public struct Consumer {
    var nameLength: Int
    public var seenTime: Int64
    /// The IDs it has pending (their NACKs are in the group's PEL).
    public var pel: UnsafeMutablePointer<PendingList>

    public static func name(_ c: UnsafeMutablePointer<Consumer>) -> ByteView {
        ByteView(UnsafePointer(UnsafeMutableRawPointer(c).assumingMemoryBound(to: UInt8.self) + MemoryLayout<Consumer>.stride),
                 c.pointee.nameLength)
    }

    static func create(_ name: ByteView, seenTime: Int64) -> UnsafeMutablePointer<Consumer> {
        let raw = tandem_malloc(MemoryLayout<Consumer>.stride + name.count)!
        let p = raw.bindMemory(to: Consumer.self, capacity: 1)
        p.initialize(to: Consumer(nameLength: name.count, seenTime: seenTime, pel: PendingList.create(valueSize: 0)))
        if name.count > 0 { memcpy(raw + MemoryLayout<Consumer>.stride, name.base, name.count) }
        return p
    }

    static func destroy(_ c: UnsafeMutablePointer<Consumer>) {
        PendingList.destroy(c.pointee.pel)
        c.deinitialize(count: 1)
        tandem_free(c)
    }
}

public struct ConsumerGroup {
    var nameLength: Int
    public var lastID: StreamID
    public var entriesRead: Int64
    /// ID -> NACK.
    public var pel: UnsafeMutablePointer<PendingList>
    public var consumers: UnsafeMutablePointer<NameIndex>

    public static func name(_ g: UnsafeMutablePointer<ConsumerGroup>) -> ByteView {
        ByteView(UnsafePointer(UnsafeMutableRawPointer(g).assumingMemoryBound(to: UInt8.self) + MemoryLayout<ConsumerGroup>.stride),
                 g.pointee.nameLength)
    }

    static func create(_ name: ByteView, lastID: StreamID, entriesRead: Int64) -> UnsafeMutablePointer<ConsumerGroup> {
        let raw = tandem_malloc(MemoryLayout<ConsumerGroup>.stride + name.count)!
        let p = raw.bindMemory(to: ConsumerGroup.self, capacity: 1)
        p.initialize(to: ConsumerGroup(nameLength: name.count, lastID: lastID, entriesRead: entriesRead,
                                       pel: PendingList.create(valueSize: NACK.size),
                                       consumers: NameIndex.create(nameOffset: MemoryLayout<Consumer>.stride)))
        if name.count > 0 { memcpy(raw + MemoryLayout<ConsumerGroup>.stride, name.base, name.count) }
        return p
    }

    /// Frees the group, its NACKs and its consumers.
    static func destroy(_ g: UnsafeMutablePointer<ConsumerGroup>) {
        PendingList.destroy(g.pointee.pel)
        let cs = g.pointee.consumers
        for i in 0..<cs.pointee.count { Consumer.destroy(cs.pointee.item(i).assumingMemoryBound(to: Consumer.self)) }
        NameIndex.destroy(cs)
        g.deinitialize(count: 1)
        tandem_free(g)
    }

    /// Copies PEL and consumers of `src` into the empty group `dst` (COPY).
    static func copyContents(from src: UnsafeMutablePointer<ConsumerGroup>, to dst: UnsafeMutablePointer<ConsumerGroup>) {
        let pel = src.pointee.pel
        var n = pel.pointee.first
        while let x = n {
            let old = NACK.at(pel, x)
            let nack = NACK.add(dst.pointee.pel, pel.pointee.id(x), consumer: nil, now: old.pointee.deliveryTime)
            nack.pointee.deliveryCount = old.pointee.deliveryCount
            n = pel.pointee.next(x)
        }
        let cs = src.pointee.consumers
        for i in 0..<cs.pointee.count {
            let c = cs.pointee.item(i).assumingMemoryBound(to: Consumer.self)
            let nc = createConsumer(dst, Consumer.name(c), now: c.pointee.seenTime)!
            var m = c.pointee.pel.pointee.first
            while let x = m {
                let id = c.pointee.pel.pointee.id(x)
                if let nack = NACK.find(dst.pointee.pel, id) {
                    nack.pointee.consumer = nc
                    nc.pointee.pel.pointee.insert(id)
                }
                m = c.pointee.pel.pointee.next(x)
            }
        }
    }

    public static func lookupConsumer(_ g: UnsafeMutablePointer<ConsumerGroup>, _ name: ByteView) -> UnsafeMutablePointer<Consumer>? {
        g.pointee.consumers.pointee.find(name)?.assumingMemoryBound(to: Consumer.self)
    }

    /// A new consumer, or nil when one with this name exists.
    public static func createConsumer(_ g: UnsafeMutablePointer<ConsumerGroup>, _ name: ByteView, now: Int64)
        -> UnsafeMutablePointer<Consumer>?
    {
        if g.pointee.consumers.pointee.find(name) != nil { return nil }
        let c = Consumer.create(name, seenTime: now)
        g.pointee.consumers.pointee.insert(UnsafeMutableRawPointer(c))
        return c
    }

    /// Deletes a consumer and its pending entries from the group; returns how many it had.
    @discardableResult
    public static func deleteConsumer(_ g: UnsafeMutablePointer<ConsumerGroup>, _ c: UnsafeMutablePointer<Consumer>) -> Int {
        let pending = c.pointee.pel.pointee.count
        var n = c.pointee.pel.pointee.first
        while let x = n {
            g.pointee.pel.pointee.remove(c.pointee.pel.pointee.id(x))
            n = c.pointee.pel.pointee.next(x)
        }
        _ = g.pointee.consumers.pointee.remove(Consumer.name(c))
        Consumer.destroy(c)
        return pending
    }

    static func allocatedBytes(_ g: UnsafeMutablePointer<ConsumerGroup>) -> Int {
        var total = tandem_usable_size(g) + g.pointee.pel.pointee.allocatedBytes + g.pointee.consumers.pointee.allocatedBytes
        let cs = g.pointee.consumers
        for i in 0..<cs.pointee.count {
            let c = cs.pointee.item(i).assumingMemoryBound(to: Consumer.self)
            total += tandem_usable_size(c) + c.pointee.pel.pointee.allocatedBytes
        }
        return total
    }
}

extension Stream {
    public func lookupGroup(_ name: ByteView) -> UnsafeMutablePointer<ConsumerGroup>? {
        groups?.pointee.find(name)?.assumingMemoryBound(to: ConsumerGroup.self)
    }

    /// A new group, or nil when one with this name exists.
    public mutating func createGroup(_ name: ByteView, lastID: StreamID, entriesRead: Int64) -> UnsafeMutablePointer<ConsumerGroup>? {
        if groups == nil { groups = NameIndex.create(nameOffset: MemoryLayout<ConsumerGroup>.stride) }
        if groups!.pointee.find(name) != nil { return nil }
        let g = ConsumerGroup.create(name, lastID: lastID, entriesRead: entriesRead)
        groups!.pointee.insert(UnsafeMutableRawPointer(g))
        return g
    }

    /// Deletes a group; false when absent.
    public mutating func destroyGroup(_ name: ByteView) -> Bool {
        guard let g = groups?.pointee.remove(name) else { return false }
        ConsumerGroup.destroy(g.assumingMemoryBound(to: ConsumerGroup.self))
        return true
    }

    public var groupCount: Int { groups?.pointee.count ?? 0 }

    public func group(at i: Int) -> UnsafeMutablePointer<ConsumerGroup> {
        groups!.pointee.item(i).assumingMemoryBound(to: ConsumerGroup.self)
    }
}
