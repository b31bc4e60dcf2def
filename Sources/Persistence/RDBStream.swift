/*
 * RDBStream: streams in RDB files and DUMP payloads, as Redis 7.0 writes them
 * (RDB_TYPE_STREAM_LISTPACKS_2, type 19) and reads them (also type 15 from Redis 5/6).
 *
 *     node count, then per node: master ID (16-byte big-endian string), listpack (string)
 *     length, last ID (ms, seq), first ID, max deleted ID, entries added      [15: only last ID]
 *     group count, then per group:
 *         name, last ID (ms, seq), entries read                                 [15: no entries read]
 *         PEL count, then per entry: raw 16-byte ID, delivery time (ms, 8 bytes LE), delivery count
 *         consumer count, then per consumer:
 *             name, seen time (ms, 8 bytes LE), PEL count, raw 16-byte IDs
 *
 * Nodes are Redis listpacks in memory too (Keyspace/Stream), so writing one is writing its
 * bytes and loading one is validating and keeping them. Every untrusted node is checked as
 * Redis's deep sanitization does (streamValidateListpackIntegrity): a valid listpack whose
 * elements form a master entry and exactly `count + deleted` well-formed entries. Tandem also
 * checks what Redis trusts and would later assert on: the node counters agree with the entries'
 * flags and the stream's length with the nodes' live entries.
 */
import CTandem
import Keyspace
import Platform

extension RDBWriter {
    mutating func writeStream(_ e: Entry) {
        let s = StreamStore.stream(e)
        let nodes = s.pointee.nodes
        writeLength(UInt64(nodes.pointee.count))
        var n = nodes.pointee.first
        while let x = n {
            writeRawID(IDMap.Node.id(x), asString: true)
            let lp = IDMap.Node.pointer(x).assumingMemoryBound(to: UInt8.self)
            writeString(ByteView(UnsafePointer(lp), StreamNode.bytes(lp)))
            n = nodes.pointee.next(x)
        }
        writeLength(s.pointee.length)
        writeLength(s.pointee.lastID.ms)
        writeLength(s.pointee.lastID.seq)
        writeLength(s.pointee.firstID.ms)
        writeLength(s.pointee.firstID.seq)
        writeLength(s.pointee.maxDeletedID.ms)
        writeLength(s.pointee.maxDeletedID.seq)
        writeLength(s.pointee.entriesAdded)
        let groups = s.pointee.groupCount
        writeLength(UInt64(groups))
        for i in 0..<groups {
            let g = s.pointee.group(at: i)
            writeString(ConsumerGroup.name(g))
            writeLength(g.pointee.lastID.ms)
            writeLength(g.pointee.lastID.seq)
            writeLength(UInt64(bitPattern: g.pointee.entriesRead))
            writePEL(g.pointee.pel, withNACKs: true)
            let cs = g.pointee.consumers
            writeLength(UInt64(cs.pointee.count))
            for j in 0..<cs.pointee.count {
                let c = cs.pointee.item(j).assumingMemoryBound(to: Consumer.self)
                writeString(Consumer.name(c))
                writeMillis(c.pointee.seenTime)
                writePEL(c.pointee.pel, withNACKs: false)
            }
        }
    }

    private mutating func writePEL(_ pel: UnsafeMutablePointer<PendingList>, withNACKs: Bool) {
        writeLength(UInt64(pel.pointee.count))
        var n = pel.pointee.first
        while let x = n {
            writeRawID(pel.pointee.id(x), asString: false)
            if withNACKs {
                let nack = NACK.at(pel, x)
                writeMillis(nack.pointee.deliveryTime)
                writeLength(nack.pointee.deliveryCount)
            }
            n = pel.pointee.next(x)
        }
    }

    private mutating func writeRawID(_ id: StreamID, asString: Bool) {
        var raw = (id.ms.bigEndian, id.seq.bigEndian)
        withUnsafeBytes(of: &raw) { b in
            let v = ByteView(b.baseAddress!.assumingMemoryBound(to: UInt8.self), 16)
            if asString { writeString(v) } else { out.write(v) }
        }
    }

    private mutating func writeMillis(_ ms: Int64) {
        var le = ms.littleEndian
        withUnsafeBytes(of: &le) { out.write($0.baseAddress!, 8) }
    }
}

extension RDBLoader {
    static func readStream(_ input: inout RDBInput, type: UInt8, key: ByteView,
                           scratch: inout LoadScratch) throws(RDBError) -> Entry? {
        let s = Stream.create()
        let e = try filling(newEntry(key, .stream, .stream, StreamStore.payload(s))) { (_) throws(RDBError) in
            let nodeCount = try readCount(&input)
            var live: UInt64 = 0
            for _ in 0..<nodeCount {
                let keyView = try readString(&input, &scratch)
                if keyView.count != 16 {
                    throw input.error("Stream node key entry is not the size of a stream ID")
                }
                let master = rawID(keyView.base)
                let start = input.offset
                let blob = try readString(&input, &scratch)
                guard let count = validateStreamNode(blob) else {
                    throw RDBError("Stream listpack integrity check failed.", offset: start)
                }
                live &+= UInt64(count)
                let lp = tandem_malloc(blob.count)!.assumingMemoryBound(to: UInt8.self)
                memcpy(lp, blob.base, blob.count)
                if s.pointee.nodes.pointee.find(master) != nil {
                    tandem_free(lp)
                    throw input.error("Listpack re-added with existing key")
                }
                s.pointee.nodes.pointee.insert(master, pointer: UnsafeMutableRawPointer(lp))
            }
            s.pointee.length = try readLength(&input)
            s.pointee.lastID = StreamID(ms: try readLength(&input), seq: try readLength(&input))
            if type >= RDBFormat.typeStreamListpacks2 {
                s.pointee.firstID = StreamID(ms: try readLength(&input), seq: try readLength(&input))
                s.pointee.maxDeletedID = StreamID(ms: try readLength(&input), seq: try readLength(&input))
                s.pointee.entriesAdded = try readLength(&input)
            } else {
                s.pointee.entriesAdded = s.pointee.length
                s.pointee.firstID = Stream.edgeID(s, first: true, skipTombstones: true)
            }
            if s.pointee.length > 0 && s.pointee.nodes.pointee.isEmpty {
                throw input.error("Stream length inconsistent with rax entries")
            }
            if s.pointee.length != live {
                throw input.error("Stream length inconsistent with its listpacks' entries")
            }
            // The last ID is at least the last live entry and the last node's master ID (XADD
            // would otherwise re-create an existing node or an entry out of order).
            if let tail = s.pointee.nodes.pointee.last, s.pointee.lastID < IDMap.Node.id(tail) {
                throw input.error("Stream last ID smaller than its last node")
            }
            if s.pointee.length > 0 && s.pointee.lastID < Stream.edgeID(s, first: false, skipTombstones: true) {
                throw input.error("Stream last ID smaller than its last entry")
            }
            let groupCount = try readCount(&input)
            for _ in 0..<groupCount {
                let nameView = try readString(&input, &scratch)
                let name = nameView.array
                let lastID = StreamID(ms: try readLength(&input), seq: try readLength(&input))
                let entriesRead: Int64
                if type >= RDBFormat.typeStreamListpacks2 {
                    entriesRead = Int64(bitPattern: try readLength(&input))
                } else {
                    entriesRead = s.pointee.estimateDistanceFromFirstEverEntry(lastID)
                }
                let created = name.withUnsafeBufferPointer {
                    s.pointee.createGroup(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count),
                                          lastID: lastID, entriesRead: entriesRead)
                }
                guard let g = created else { throw input.error("Duplicated consumer group name \(String(decoding: name, as: UTF8.self))") }
                let pelCount = try readCount(&input)
                for _ in 0..<pelCount {
                    let id = rawID(try input.read(16).base)
                    let time = try input.readLE(Int64.self)
                    let count = try readLength(&input)
                    if g.pointee.pel.pointee.find(id) != nil {
                        throw input.error("Duplicated global PEL entry loading stream consumer group")
                    }
                    NACK.add(g.pointee.pel, id, consumer: nil, now: time).pointee.deliveryCount = count
                }
                let consumerCount = try readCount(&input)
                for _ in 0..<consumerCount {
                    let cname = try readString(&input, &scratch)
                    guard let c = ConsumerGroup.createConsumer(g, cname, now: 0) else {
                        throw input.error("Duplicate stream consumer detected.")
                    }
                    c.pointee.seenTime = try input.readLE(Int64.self)
                    let n = try readCount(&input)
                    for _ in 0..<n {
                        let id = rawID(try input.read(16).base)
                        guard let nack = NACK.find(g.pointee.pel, id) else {
                            throw input.error("Consumer entry not found in group global PEL")
                        }
                        // A NACK belongs to one consumer: a second claim on it is corrupt.
                        if nack.pointee.consumer != nil {
                            throw input.error("Duplicated consumer PEL entry loading a stream consumer group")
                        }
                        nack.pointee.consumer = c
                        c.pointee.pel.pointee.insert(id)
                    }
                }
                var orphan = g.pointee.pel.pointee.first
                while let x = orphan {
                    if NACK.at(g.pointee.pel, x).pointee.consumer == nil { throw input.error("Stream CG PEL entry without consumer") }
                    orphan = g.pointee.pel.pointee.next(x)
                }
            }
        }
        return e
    }

    static func rawID(_ p: UnsafePointer<UInt8>) -> StreamID {
        let raw = UnsafeRawPointer(p)
        return StreamID(ms: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
                        seq: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// Redis's streamValidateListpackIntegrity in deep mode, and the node's counters agreeing with
    /// its entries' flags (see the file comment). Returns the node's live entries, nil when invalid.
    static func validateStreamNode(_ blob: ByteView) -> Int64? {
        guard Listpack.validate(blob) else { return nil }
        let p = UnsafeMutablePointer(mutating: blob.base)
        guard var at = StreamNode.first(p) else { return nil }
        func integer(_ off: Int) -> Int64? {
            switch StreamNode.value(p, off) {
            case .int(let i): return i
            case .bytes(let b): return b.int64
            }
        }
        func advance(_ off: inout Int) -> Bool {
            guard let n = StreamNode.next(p, off) else { return false }
            off = n
            return true
        }
        guard let count = integer(at), count >= 0, advance(&at), let deleted = integer(at), deleted >= 0,
            advance(&at), let masterFields = integer(at), masterFields >= 0
        else { return nil }
        for _ in 0...masterFields { if !advance(&at) { return nil } }
        guard integer(at) == 0 else { return nil }
        var remaining = count &+ deleted
        var flaggedDeleted: Int64 = 0
        var more = StreamNode.next(p, at)
        while remaining > 0 {
            remaining -= 1
            guard var q = more, let flags = integer(q), advance(&q), integer(q) != nil, advance(&q),
                integer(q) != nil, advance(&q)
            else { return nil }
            if flags & 1 != 0 { flaggedDeleted += 1 }
            var fields = masterFields
            var extra: Int64 = 3
            if flags & 2 == 0 {
                guard let f = integer(q), f >= 0, advance(&q) else { return nil }
                fields = f
                for _ in 0..<f { if !advance(&q) { return nil } }
                extra += f + 1
            }
            for _ in 0..<fields { if !advance(&q) { return nil } }
            guard integer(q) == fields + extra else { return nil }
            more = StreamNode.next(p, q)
        }
        guard more == nil, flaggedDeleted == deleted else { return nil }
        return count
    }
}
