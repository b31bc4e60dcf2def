/*
 * StreamIterator: walks a stream's entries between two IDs, forward or backward — Redis's
 * streamIterator. `nextID()` returns each live entry's ID and field count (tombstones too
 * when `skipTombstones` is false); `nextField()` then reads its pairs in order.
 *
 * Forward, a node is entered at its first entry (after the master entry) and walked with
 * next(); backward it is entered at its last element, the last entry's lp-count, which says
 * how many elements to step back to reach the entry's flags. The start node is the last one
 * whose master ID is <= the range's edge (falling back to the first/last node), as Redis
 * seeks its rax, so entries before the range in that node are skipped one by one.
 *
 * Unlike Redis's iterator, moving on does not depend on the caller having read every field:
 * the iterator remembers where the current entry starts and what it holds.
 *
 * The iterator holds raw pointers into the stream: any change to the stream other than
 * `removeCurrent` invalidates it.
 */
import CTandem
import Platform

public struct StreamIterator {
    let stream: UnsafeMutablePointer<Stream>
    var start: StreamID
    var end: StreamID
    let reverse: Bool
    public var skipTombstones = true

    /// The node the walk begins with (nil: empty), used on the first call.
    var seekNode: UnsafeMutableRawPointer?
    var started = false
    var node: UnsafeMutableRawPointer?
    var lp: StreamNode.Blob?
    var masterID = StreamID.zero
    var masterFieldCount = 0
    /// Offset of the master entry's first field.
    var masterFieldsStart = 0
    /// Offset of the current entry's flags (0: positioned at the node's start).
    var flagsOff = 0
    /// Offset of the current entry's first field (or value), and its shape.
    var valuesOff = 0
    var entryFieldCount = 0
    public private(set) var entryFlags: Int64 = 0
    /// Cursors for nextField().
    var fieldCursor = 0
    var masterFieldCursor = 0

    public init(_ s: UnsafeMutablePointer<Stream>, start: StreamID?, end: StreamID?, reverse: Bool) {
        stream = s
        self.start = start ?? .zero
        self.end = end ?? .max
        self.reverse = reverse
        let nodes = s.pointee.nodes
        if !reverse {
            if let st = start, !st.isZero {
                seekNode = nodes.pointee.lastNotAfter(st) ?? nodes.pointee.first
            } else {
                seekNode = nodes.pointee.first
            }
        } else {
            if let e = end, !e.isZero {
                seekNode = nodes.pointee.lastNotAfter(e) ?? nodes.pointee.last
            } else {
                seekNode = nodes.pointee.last
            }
        }
    }

    /// True when the current entry is a tombstone.
    public var currentIsDeleted: Bool { entryFlags & Stream.flagDeleted != 0 }

    /// Moves to the next node; false when there is none.
    mutating func enterNextNode() -> Bool {
        if !started {
            started = true
            node = seekNode
        } else if let n = node {
            node = reverse ? stream.pointee.nodes.pointee.prev(n) : stream.pointee.nodes.pointee.next(n)
        }
        guard let n = node else { return false }
        masterID = IDMap.Node.id(n)
        let blob = IDMap.Node.pointer(n).assumingMemoryBound(to: UInt8.self)
        lp = blob
        var off = StreamNode.next(blob, Listpack.headerSize)!  // deleted
        off = StreamNode.next(blob, off)!  // master field count
        masterFieldCount = Int(StreamNode.int(blob, off))
        off = StreamNode.next(blob, off)!
        masterFieldsStart = off
        flagsOff = 0
        return true
    }

    /// The next entry in range: its ID and number of fields, or nil at the end.
    public mutating func nextID() -> (StreamID, Int)? {
        while true {
            if lp == nil {
                if !enterNextNode() { return nil }
            }
            let blob = lp!
            // Find the next entry's flags offset within this node.
            var cursor: Int?
            if !reverse {
                var at: Int
                if flagsOff == 0 {
                    // After the master fields comes the master's 0 terminator.
                    at = masterFieldsStart
                    for _ in 0..<masterFieldCount { at = StreamNode.next(blob, at)! }
                } else {
                    at = valuesOff
                    let skip = entryFlags & Stream.flagSameFields != 0 ? entryFieldCount : entryFieldCount * 2
                    for _ in 0..<skip { at = StreamNode.next(blob, at)! }
                }
                cursor = StreamNode.next(blob, at)
            } else {
                let countOff = flagsOff == 0 ? StreamNode.last(blob)! : StreamNode.prev(blob, flagsOff)!
                let lpCount = StreamNode.int(blob, countOff)
                if lpCount == 0 {
                    cursor = nil
                } else {
                    var at = countOff
                    for _ in 0..<lpCount { at = StreamNode.prev(blob, at)! }
                    cursor = at
                }
            }
            guard let f = cursor else {
                lp = nil
                continue
            }
            flagsOff = f
            let flags = StreamNode.int(blob, f)
            var at = StreamNode.next(blob, f)!
            let msDelta = StreamNode.int(blob, at)
            at = StreamNode.next(blob, at)!
            let seqDelta = StreamNode.int(blob, at)
            let id = StreamID(ms: masterID.ms &+ UInt64(bitPattern: msDelta),
                              seq: masterID.seq &+ UInt64(bitPattern: seqDelta))
            entryFlags = flags
            if flags & Stream.flagSameFields != 0 {
                entryFieldCount = masterFieldCount
                valuesOff = StreamNode.next(blob, at) ?? 0
            } else {
                at = StreamNode.next(blob, at)!
                entryFieldCount = Int(StreamNode.int(blob, at))
                valuesOff = StreamNode.next(blob, at) ?? 0
            }
            let visible = !skipTombstones || flags & Stream.flagDeleted == 0
            if !reverse {
                if id >= start && visible {
                    if id > end { return nil }
                    prepareFields()
                    return (id, entryFieldCount)
                }
            } else {
                if id <= end && visible {
                    if id < start { return nil }
                    prepareFields()
                    return (id, entryFieldCount)
                }
            }
        }
    }

    mutating func prepareFields() {
        fieldCursor = valuesOff
        masterFieldCursor = masterFieldsStart
    }

    /// The next field and value of the entry nextID() returned.
    public mutating func nextField() -> (field: PackedValue, value: PackedValue) {
        let blob = lp!
        let field: PackedValue
        if entryFlags & Stream.flagSameFields != 0 {
            field = StreamNode.value(blob, masterFieldCursor)
            masterFieldCursor = StreamNode.next(blob, masterFieldCursor) ?? 0
        } else {
            field = StreamNode.value(blob, fieldCursor)
            fieldCursor = StreamNode.next(blob, fieldCursor)!
        }
        let value = StreamNode.value(blob, fieldCursor)
        fieldCursor = StreamNode.next(blob, fieldCursor) ?? 0
        return (field, value)
    }

    /// Deletes the entry nextID() returned (Redis's streamIteratorRemoveEntry) and re-seeks
    /// so that iteration continues after it.
    public mutating func removeCurrent(_ current: StreamID) {
        guard let n = node, var blob = lp else { return }
        blob = StreamNode.replaceInt(blob, flagsOff, entryFlags | Stream.flagDeleted).0
        let countOff = Listpack.headerSize
        let live = StreamNode.int(blob, countOff)
        if live == 1 {
            tandem_free(blob)
            stream.pointee.nodes.pointee.remove(masterID)
        } else {
            blob = StreamNode.replaceInt(blob, countOff, live - 1).0
            let delOff = StreamNode.next(blob, countOff)!
            blob = StreamNode.replaceInt(blob, delOff, StreamNode.int(blob, delOff) + 1).0
            IDMap.Node.setValue(n, IDMap.pointerBits(UnsafeMutableRawPointer(blob)))
        }
        stream.pointee.length -= 1
        let skip = skipTombstones
        if reverse {
            self = StreamIterator(stream, start: start, end: current, reverse: true)
        } else {
            self = StreamIterator(stream, start: current, end: end, reverse: false)
        }
        skipTombstones = skip
    }
}
