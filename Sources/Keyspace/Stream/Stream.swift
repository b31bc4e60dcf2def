/*
 * Stream: the append-only log type, laid out as Redis 7.0 lays it out (t_stream.c), so that
 * an RDB node or a DUMP payload is a copy of memory and XINFO STREAM FULL, trimming and
 * deletion behave entry for entry as redis-server's.
 *
 * A stream is a header block (`Stream`, below) holding the counters Redis keeps (length, last
 * ID, first ID, max deleted ID, entries added), an ordered map of nodes (IDMap: master ID ->
 * listpack) and the consumer groups (StreamGroups.swift). Each node is a Redis listpack
 * (StreamNode.swift) that starts with a master entry and continues with entries:
 *
 *     master:  count | deleted | nfields | field_1 ... field_N | 0
 *     entry:   flags | ms-delta | seq-delta | [nfields | field value ...] or [value ...] | lp-count
 *
 * `count` and `deleted` are the node's live and tombstoned entries. An entry's ID is stored
 * as its difference from the node's master ID. An entry whose fields equal the master
 * entry's (the common case: every XADD of one producer has the same fields) carries only its
 * values and the SAMEFIELDS flag. `lp-count` is the number of elements of the entry before
 * it, so the node can be walked backward (XREVRANGE). XDEL and trimming inside a node set the
 * DELETED flag (a tombstone); a node whose entries are all deleted is freed.
 *
 * A new node starts when the tail node reaches `stream-node-max-bytes` (counting the new
 * entry's strings) or holds `stream-node-max-entries` entries, live or deleted.
 *
 * Nothing here is reference counted: the header, the map and the nodes are malloc blocks
 * owned by the key's entry, freed by `destroy`, so a fork snapshot reads them without writing.
 */
import CTandem
import Platform

public struct Stream: ~Copyable {
    static let flagDeleted: Int64 = 1
    static let flagSameFields: Int64 = 2
    /// Redis's STREAM_LISTPACK_MAX_SIZE and STREAM_LISTPACK_MAX_PRE_ALLOCATE.
    static let listpackMaxSize = 1 << 30
    static let maxPreallocate = 4096
    /// SCG_INVALID_ENTRIES_READ.
    public static let invalidEntriesRead: Int64 = -1

    public var nodes: UnsafeMutablePointer<IDMap>
    public var length: UInt64 = 0
    public var lastID = StreamID.zero
    public var firstID = StreamID.zero
    public var maxDeletedID = StreamID.zero
    public var entriesAdded: UInt64 = 0
    /// Consumer groups by name, created with the first group.
    public var groups: UnsafeMutablePointer<NameIndex>? = nil

    init() { nodes = IDMap.create() }

    /// A new empty stream.
    public static func create() -> UnsafeMutablePointer<Stream> {
        let p = tandem_malloc(MemoryLayout<Stream>.stride)!.bindMemory(to: Stream.self, capacity: 1)
        p.initialize(to: Stream())
        return p
    }

    /// Frees the stream with its nodes and groups.
    public static func destroy(_ s: UnsafeMutablePointer<Stream>) {
        let nodes = s.pointee.nodes
        var n = nodes.pointee.first
        while let x = n {
            tandem_free(IDMap.Node.pointer(x))
            n = nodes.pointee.next(x)
        }
        IDMap.destroy(nodes)
        if let g = s.pointee.groups {
            for i in 0..<g.pointee.count { ConsumerGroup.destroy(g.pointee.item(i).assumingMemoryBound(to: ConsumerGroup.self)) }
            NameIndex.destroy(g)
        }
        s.deinitialize(count: 1)
        tandem_free(s)
    }

    /// A deep copy (COPY): nodes byte for byte, groups with their PELs and consumers.
    public static func duplicate(_ s: UnsafeMutablePointer<Stream>) -> UnsafeMutablePointer<Stream> {
        let c = create()
        var n = s.pointee.nodes.pointee.first
        while let x = n {
            let lp = StreamNode.duplicate(IDMap.Node.pointer(x).assumingMemoryBound(to: UInt8.self))
            c.pointee.nodes.pointee.insert(IDMap.Node.id(x), pointer: UnsafeMutableRawPointer(lp))
            n = s.pointee.nodes.pointee.next(x)
        }
        c.pointee.length = s.pointee.length
        c.pointee.lastID = s.pointee.lastID
        c.pointee.firstID = s.pointee.firstID
        c.pointee.maxDeletedID = s.pointee.maxDeletedID
        c.pointee.entriesAdded = s.pointee.entriesAdded
        if let g = s.pointee.groups {
            for i in 0..<g.pointee.count {
                let src = g.pointee.item(i).assumingMemoryBound(to: ConsumerGroup.self)
                let dst = c.pointee.createGroup(ConsumerGroup.name(src), lastID: src.pointee.lastID,
                                                entriesRead: src.pointee.entriesRead)!
                ConsumerGroup.copyContents(from: src, to: dst)
            }
        }
        return c
    }

    // MARK: - Appending

    public enum AppendError: Error { case idNotGreater, tooLarge }

    /// Adds an entry of `fieldCount` pairs read through `arg` (field i at 2i, value at 2i+1),
    /// Redis's streamAppendItem. `useID` is an explicit ID (with `seqGiven` false for `ms-*`);
    /// nil generates one from `nowMs`.
    public mutating func append(fieldCount: Int, _ arg: (Int) -> ByteView, useID: StreamID?, seqGiven: Bool,
                                nowMs: UInt64, nodeMaxBytes: Int, nodeMaxEntries: Int) -> Result<StreamID, AppendError> {
        var total = 0
        for i in 0..<(fieldCount * 2) { total += arg(i).count }
        if total > Self.listpackMaxSize { return .failure(.tooLarge) }

        var id: StreamID
        if let use = useID {
            if seqGiven {
                id = use
            } else if lastID.ms == use.ms {
                if lastID.seq == .max { return .failure(.idNotGreater) }
                id = StreamID(ms: use.ms, seq: lastID.seq + 1)
            } else {
                id = use
            }
        } else if nowMs > lastID.ms {
            id = StreamID(ms: nowMs, seq: 0)
        } else {
            guard let next = lastID.successor else { return .failure(.idNotGreater) }
            id = next
        }
        if !(lastID < id) { return .failure(.idNotGreater) }

        var tail = nodes.pointee.last
        if let t = tail {
            let lp = IDMap.Node.pointer(t).assumingMemoryBound(to: UInt8.self)
            var maxBytes = nodeMaxBytes
            if maxBytes == 0 || maxBytes > Self.listpackMaxSize { maxBytes = Self.listpackMaxSize }
            var full = StreamNode.bytes(lp) + total >= maxBytes
            if !full && nodeMaxEntries > 0 {
                let first = Listpack.headerSize
                let entries = StreamNode.int(lp, first) + StreamNode.int(lp, StreamNode.next(lp, first)!)
                full = entries >= Int64(nodeMaxEntries)
            }
            if full {
                IDMap.Node.setValue(t, IDMap.pointerBits(UnsafeMutableRawPointer(StreamNode.shrinkToFit(lp))))
                tail = nil
            }
        }

        var flags: Int64 = 0
        var lp: StreamNode.Blob
        let master: StreamID
        let node: UnsafeMutableRawPointer
        if let t = tail {
            node = t
            master = IDMap.Node.id(t)
            lp = IDMap.Node.pointer(t).assumingMemoryBound(to: UInt8.self)
            let countOff = Listpack.headerSize
            lp = StreamNode.replaceInt(lp, countOff, StreamNode.int(lp, countOff) + 1).0
            var off = StreamNode.next(lp, countOff)!  // deleted
            off = StreamNode.next(lp, off)!  // master field count
            let masterFields = Int(StreamNode.int(lp, off))
            if masterFields == fieldCount {
                var same = true
                for i in 0..<masterFields {
                    off = StreamNode.next(lp, off)!
                    if !StreamNode.value(lp, off).equals(arg(2 * i)) {
                        same = false
                        break
                    }
                }
                if same { flags |= Self.flagSameFields }
            }
        } else {
            master = id
            var prealloc = Self.maxPreallocate
            if nodeMaxBytes > 0 && nodeMaxBytes < prealloc { prealloc = nodeMaxBytes }
            lp = StreamNode.create(capacity: prealloc)
            lp = StreamNode.append(lp, Int64(1))
            lp = StreamNode.append(lp, Int64(0))
            lp = StreamNode.append(lp, Int64(fieldCount))
            for i in 0..<fieldCount { lp = StreamNode.append(lp, arg(2 * i)) }
            lp = StreamNode.append(lp, Int64(0))
            node = nodes.pointee.insert(id, pointer: UnsafeMutableRawPointer(lp))
            flags |= Self.flagSameFields
        }

        let same = flags & Self.flagSameFields != 0
        lp = StreamNode.append(lp, flags)
        lp = StreamNode.append(lp, Int64(bitPattern: id.ms &- master.ms))
        lp = StreamNode.append(lp, Int64(bitPattern: id.seq &- master.seq))
        if !same { lp = StreamNode.append(lp, Int64(fieldCount)) }
        for i in 0..<fieldCount {
            if !same { lp = StreamNode.append(lp, arg(2 * i)) }
            lp = StreamNode.append(lp, arg(2 * i + 1))
        }
        var lpCount = Int64(fieldCount) + 3
        if !same { lpCount += Int64(fieldCount) + 1 }
        lp = StreamNode.append(lp, lpCount)
        IDMap.Node.setValue(node, IDMap.pointerBits(UnsafeMutableRawPointer(lp)))

        length += 1
        entriesAdded &+= 1
        lastID = id
        if length == 1 { firstID = id }
        return .success(id)
    }

    // MARK: - Edges, distances, lag

    /// The first or last entry's ID (tombstones included unless `skipTombstones`); for an
    /// empty range the maximal ID (first) or 0-0 (last), as streamGetEdgeID.
    public static func edgeID(_ s: UnsafeMutablePointer<Stream>, first: Bool, skipTombstones: Bool) -> StreamID {
        var it = StreamIterator(s, start: nil, end: nil, reverse: !first)
        it.skipTombstones = skipTombstones
        if let (id, _) = it.nextID() { return id }
        return first ? .max : .zero
    }

    /// Redis's streamRangeHasTombstones.
    public func rangeHasTombstones(_ start: StreamID?, _ end: StreamID?) -> Bool {
        if length == 0 || maxDeletedID.isZero { return false }
        if firstID > maxDeletedID { return false }
        let s = start ?? .zero
        let e = end ?? .max
        return s <= maxDeletedID && maxDeletedID <= e
    }

    /// Redis's streamEstimateDistanceFromFirstEverEntry: an ID's logical read counter, or
    /// `invalidEntriesRead` when it cannot be known.
    public func estimateDistanceFromFirstEverEntry(_ id: StreamID) -> Int64 {
        if entriesAdded == 0 { return 0 }
        // Counters come from RDB files and XSETID: wrapping arithmetic, never a trap.
        let added = Int64(bitPattern: entriesAdded)
        if length == 0 && id <= lastID { return added }
        if id == lastID { return added }
        if id > lastID { return Self.invalidEntriesRead }
        if maxDeletedID.isZero || maxDeletedID < firstID {
            if id < firstID { return added &- Int64(bitPattern: length) }
            if id == firstID { return added &- Int64(bitPattern: length) &+ 1 }
        }
        return Self.invalidEntriesRead
    }

    /// Redis's streamCGLag: nil when the lag cannot be known.
    public func lag(of g: UnsafeMutablePointer<ConsumerGroup>) -> Int64? {
        if entriesAdded == 0 { return 0 }
        if g.pointee.entriesRead != Self.invalidEntriesRead && !rangeHasTombstones(g.pointee.lastID, nil) {
            return Int64(bitPattern: entriesAdded) &- g.pointee.entriesRead
        }
        let read = estimateDistanceFromFirstEverEntry(g.pointee.lastID)
        if read != Self.invalidEntriesRead { return Int64(bitPattern: entriesAdded) &- read }
        return nil
    }

    // MARK: - Deleting and trimming

    /// Deletes the entry `id` (a tombstone; the node goes when it was its last live entry).
    public static func deleteEntry(_ s: UnsafeMutablePointer<Stream>, _ id: StreamID) -> Bool {
        var it = StreamIterator(s, start: id, end: id, reverse: false)
        guard let (found, _) = it.nextID() else { return false }
        it.removeCurrent(found)
        return true
    }

    /// XDEL's bookkeeping around deleteEntry: the max deleted ID and the first ID.
    public static func deleteEntries(_ s: UnsafeMutablePointer<Stream>, _ ids: [StreamID]) -> Int {
        deleteEntries(s, count: ids.count) { ids[$0] }
    }

    /// The same for `count` IDs read through `id` (XDEL reads them from its arguments).
    public static func deleteEntries(_ s: UnsafeMutablePointer<Stream>, count: Int, _ idAt: (Int) -> StreamID) -> Int {
        var deleted = 0
        var firstDeleted = false
        for i in 0..<count {
            let id = idAt(i)
            if !deleteEntry(s, id) { continue }
            if id == s.pointee.firstID { firstDeleted = true }
            if id > s.pointee.maxDeletedID { s.pointee.maxDeletedID = id }
            deleted += 1
        }
        if deleted > 0 {
            if s.pointee.length == 0 {
                s.pointee.firstID = .zero
            } else if firstDeleted {
                s.pointee.firstID = edgeID(s, first: true, skipTombstones: true)
            }
        }
        return deleted
    }

    public enum TrimStrategy { case none, maxLength(Int64), minID(StreamID) }

    /// Redis's streamTrim: removes whole nodes from the head while they are entirely out of
    /// bounds, then (unless `approx`) tombstones entries of the next node. `limit` (0: none)
    /// bounds the entries removed. Returns the number removed.
    public static func trim(_ s: UnsafeMutablePointer<Stream>, _ strategy: TrimStrategy, approx: Bool, limit: Int64) -> Int64 {
        if case .none = strategy { return 0 }
        var deleted: Int64 = 0
        var node = s.pointee.nodes.pointee.first
        while let n = node {
            if case .maxLength(let maxlen) = strategy, Int64(s.pointee.length) <= maxlen { break }
            var lp = IDMap.Node.pointer(n).assumingMemoryBound(to: UInt8.self)
            let entries = StreamNode.int(lp, Listpack.headerSize)
            if limit != 0 && deleted + entries > limit { break }
            let masterID = IDMap.Node.id(n)
            let removeNode: Bool
            switch strategy {
            case .maxLength(let maxlen): removeNode = Int64(s.pointee.length) - entries >= maxlen
            case .minID(let minID): removeNode = lastEntryID(lp, masterID) < minID
            case .none: removeNode = false
            }
            if removeNode {
                node = s.pointee.nodes.pointee.next(n)
                tandem_free(lp)
                s.pointee.nodes.pointee.remove(masterID)
                s.pointee.length -= UInt64(entries)
                deleted += entries
                continue
            }
            if approx { break }

            // Tombstone entries inside this node.
            var fromNode: Int64 = 0
            var p = StreamNode.next(lp, Listpack.headerSize)!  // deleted
            p = StreamNode.next(lp, p)!  // master field count
            let masterFields = Int(StreamNode.int(lp, p))
            for _ in 0...masterFields { p = StreamNode.next(lp, p)! }  // fields, then the 0 terminator
            var cursor = StreamNode.next(lp, p)
            while let flagsOff = cursor {
                var q = flagsOff
                var flags = StreamNode.int(lp, q)
                q = StreamNode.next(lp, q)!
                let msDelta = StreamNode.int(lp, q)
                q = StreamNode.next(lp, q)!
                let seqDelta = StreamNode.int(lp, q)
                q = StreamNode.next(lp, q)!
                let stop: Bool
                switch strategy {
                case .maxLength(let maxlen): stop = Int64(s.pointee.length) <= maxlen
                case .minID(let minID):
                    let cur = StreamID(ms: masterID.ms &+ UInt64(bitPattern: msDelta),
                                       seq: masterID.seq &+ UInt64(bitPattern: seqDelta))
                    stop = cur >= minID
                case .none: stop = true
                }
                if stop { break }
                var skip: Int
                if flags & flagSameFields != 0 {
                    skip = masterFields
                } else {
                    skip = Int(StreamNode.int(lp, q)) * 2
                    q = StreamNode.next(lp, q)!
                }
                for _ in 0..<skip { q = StreamNode.next(lp, q)! }
                // q is at lp-count; the next entry follows it.
                if flags & flagDeleted == 0 {
                    flags |= flagDeleted
                    let (moved, delta) = StreamNode.replaceInt(lp, flagsOff, flags)
                    lp = moved
                    q += delta
                    fromNode += 1
                    s.pointee.length -= 1
                }
                cursor = StreamNode.next(lp, q)
            }
            deleted += fromNode
            let countOff = Listpack.headerSize
            lp = StreamNode.replaceInt(lp, countOff, entries - fromNode).0
            let delOff = StreamNode.next(lp, countOff)!
            lp = StreamNode.replaceInt(lp, delOff, StreamNode.int(lp, delOff) + fromNode).0
            IDMap.Node.setValue(n, IDMap.pointerBits(UnsafeMutableRawPointer(lp)))
            break
        }
        if s.pointee.length == 0 {
            s.pointee.firstID = .zero
        } else if deleted > 0 {
            s.pointee.firstID = edgeID(s, first: true, skipTombstones: true)
        }
        return deleted
    }

    /// The ID of the last entry (live or not) of node `lp` with master `master` (lpGetEdgeStreamID).
    static func lastEntryID(_ lp: StreamNode.Blob, _ master: StreamID) -> StreamID {
        guard var p = StreamNode.last(lp) else { return .zero }
        let lpCount = StreamNode.int(lp, p)
        if lpCount == 0 { return .zero }
        for _ in 0..<lpCount { p = StreamNode.prev(lp, p)! }
        p = StreamNode.next(lp, p)!
        let ms = StreamNode.int(lp, p)
        p = StreamNode.next(lp, p)!
        let seq = StreamNode.int(lp, p)
        return StreamID(ms: master.ms &+ UInt64(bitPattern: ms), seq: master.seq &+ UInt64(bitPattern: seq))
    }

    // MARK: - Sizes

    /// Bytes the stream holds (MEMORY USAGE; `sampleNodes` 0 walks every node).
    public static func allocatedBytes(_ s: UnsafeMutablePointer<Stream>) -> Int {
        var total = tandem_usable_size(s) + s.pointee.nodes.pointee.allocatedBytes
        var n = s.pointee.nodes.pointee.first
        while let x = n {
            total += tandem_usable_size(IDMap.Node.pointer(x))
            n = s.pointee.nodes.pointee.next(x)
        }
        if let g = s.pointee.groups {
            total += g.pointee.allocatedBytes
            for i in 0..<g.pointee.count {
                total += ConsumerGroup.allocatedBytes(g.pointee.item(i).assumingMemoryBound(to: ConsumerGroup.self))
            }
        }
        return total
    }

    /// Redis's lazyfreeGetFreeEffort for a stream: nodes plus, per group, its PEL entries.
    public static func freeEffort(_ s: UnsafeMutablePointer<Stream>) -> Int {
        var effort = s.pointee.nodes.pointee.count
        if let g = s.pointee.groups {
            for i in 0..<g.pointee.count {
                effort += g.pointee.item(i).assumingMemoryBound(to: ConsumerGroup.self).pointee.pel.pointee.count
            }
        }
        return effort
    }
}
