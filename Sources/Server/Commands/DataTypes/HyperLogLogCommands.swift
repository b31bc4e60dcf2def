/*
 * HyperLogLog commands — Redis 7.0's hyperloglog.c commands, replies and errors byte for byte:
 * PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.
 *
 * A HyperLogLog is a string in Redis's format (Keyspace/HyperLogLog.swift: header, sparse or
 * dense registers, cached cardinality), so it travels through GET/SET, DUMP/RESTORE, RDB and
 * replication as the same bytes as Redis's. Here is how the commands use those bytes:
 *
 *  - A dense value (12304 bytes) is edited in place in its entry: PFADD to it and PFCOUNT of
 *    it allocate nothing. A sparse value (at most hll-sparse-max-bytes, 3000 by default) is
 *    edited as a copy and written back once per command, resized as needed; it turns dense
 *    for good when it outgrows the limit or needs a register above 32.
 *  - PFCOUNT of one key writes the cardinality it computed into the value's header, as Redis
 *    does, and that counts as a change that is propagated although PFCOUNT is a read command:
 *    the replica's bytes stay the master's. PFCOUNT of several keys merges them in a scratch
 *    register array and writes nothing.
 *  - Values are made raw-encoded before they are written (Redis's dbUnshareStringValue), so
 *    OBJECT ENCODING reports what Redis reports.
 */
import Glibc
import Keyspace
import Platform
import RESP

enum HyperLogLogCommand: UInt8 {
    case pfadd, pfcount, pfmerge, pfdebug, pfselftest
}

enum HyperLogLogCommands {
    static let specs: [CommandSpec] = [
        .init("pfadd", .hyperloglog(.pfadd), -2, [.write, .denyoom, .fast], keys: CommandTable.k1, "hyperloglog", "2.8.9",
              "Adds the specified elements to the specified HyperLogLog."),
        .init("pfcount", .hyperloglog(.pfcount), -2, [.readonly], keys: CommandTable.kAll, "hyperloglog", "2.8.9",
              "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s)."),
        .init("pfmerge", .hyperloglog(.pfmerge), -2, [.write, .denyoom], keys: CommandTable.kAll, "hyperloglog", "2.8.9",
              "Merge N different HyperLogLogs into a single one."),
        .init("pfdebug", .hyperloglog(.pfdebug), 3, [.write, .denyoom, .admin], keys: (2, 2, 1), "hyperloglog", "2.8.9",
              "Internal commands for debugging HyperLogLog values"),
        .init("pfselftest", .hyperloglog(.pfselftest), 1, [.admin], "hyperloglog", "2.8.9",
              "An internal command for testing HyperLogLog values"),
    ]
}

extension Server {
    static let notHyperLogLog: StaticString = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"
    static let corruptHyperLogLog: StaticString = "-INVALIDOBJ Corrupted HLL object detected\r\n"

    mutating func hyperloglogCommand(_ c: ClientRef, _ id: HyperLogLogCommand) {
        switch id {
        case .pfadd: pfaddCommand(c)
        case .pfcount: pfcountCommand(c)
        case .pfmerge: pfmergeCommand(c)
        case .pfdebug: pfdebugCommand(c)
        case .pfselftest: pfselftestCommand(c)
        }
    }

    // MARK: - Shared pieces

    /// The HyperLogLog at `slot` made raw for writing (its bytes stay where they are unless
    /// the entry had to be replaced); nil after replying WRONGTYPE when it is not one.
    mutating func hyperLogLogForWrite(_ c: ClientRef, _ slot: Slot) -> (Entry, HyperLogLog.Encoding)? {
        let old = Entry(slot.pointee!)
        guard let encoding = hyperLogLogEncoding(c, old) else { return nil }
        if old.encoding == .raw { return (old, encoding) }
        return (unshareString(c.pointee.db, slot, capacity: Int(old.payload)), encoding)
    }

    /// Redis's isHLLObjectOrReply: the entry's HyperLogLog encoding, or nil after replying
    /// WRONGTYPE (the generic text for another type, the HyperLogLog one for a bad string).
    mutating func hyperLogLogEncoding(_ c: ClientRef, _ e: Entry) -> HyperLogLog.Encoding? {
        if e.type != .string {
            addWrongType(c)
            return nil
        }
        guard e.encoding != .int,
              let encoding = HyperLogLog.encoding(of: UnsafeRawBufferPointer(start: e.stringBytes.base, count: e.stringBytes.count))
        else {
            addError(c, Self.notHyperLogLog)
            return nil
        }
        return encoding
    }

    /// The bytes of a HyperLogLog entry, writable in place.
    func hyperLogLogBytes(_ e: Entry) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: e.mutableStringBytes, count: Int(e.payload))
    }

    /// A HyperLogLog for reading: nil when missing; `ok` false after replying WRONGTYPE.
    mutating func lookupHyperLogLog(_ c: ClientRef, _ key: ByteView) -> (Entry?, ok: Bool) {
        guard let e = lookupRead(c, key) else { return (nil, true) }
        return hyperLogLogEncoding(c, e) == nil ? (nil, false) : (e, true)
    }

    /// Writes `bytes` as the value of `key` (created raw when missing, else replacing the
    /// value and keeping its TTL).
    mutating func storeHyperLogLog(_ c: ClientRef, _ key: ByteView, _ bytes: [UInt8]) {
        let db = c.pointee.db
        if let slot = lookupSlot(db, key) {
            let e = unshareString(db, slot, capacity: bytes.count)
            bytes.withUnsafeBufferPointer { memcpy(e.mutableStringBytes, $0.baseAddress!, $0.count) }
            e.payload = Int64(bytes.count)
            return
        }
        let e = bytes.withUnsafeBufferPointer { b in
            Entry.makeString(key: key, value: ByteView(b.baseAddress!, b.count), encodeInt: false, forceRaw: true)
        }
        e.lru = newEntryLRU
        addKey(db, e)
    }

    /// An argument as raw bytes for hashing.
    @inline(__always)
    static func elementBytes(_ v: ByteView) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: v.base, count: v.count)
    }

    // MARK: - PFADD

    mutating func pfaddCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        let db = c.pointee.db
        let argc = c.pointee.argc
        var updated = 0
        var corrupt = false
        if let slot = lookupSlot(db, key) {
            guard let (e, encoding) = hyperLogLogForWrite(c, slot) else { return }
            if encoding == .dense {
                // In place: no copy, no allocation.
                let hll = hyperLogLogBytes(e)
                for i in 2..<max(2, argc) where HyperLogLog.addDense(hll, Self.elementBytes(c.pointee.arg(i))) {
                    updated += 1
                }
            } else {
                var bytes = Array(UnsafeRawBufferPointer(hyperLogLogBytes(e)))
                corrupt = !addElements(c, to: &bytes, &updated)
                if updated > 0 { storeHyperLogLog(c, key, bytes) }
            }
        } else {
            // A new key counts as a change even without elements: its cache reads stale.
            var bytes = HyperLogLog.makeEmpty()
            updated = 1
            corrupt = !addElements(c, to: &bytes, &updated)
            bytes.withUnsafeMutableBytes { HyperLogLog.invalidateCache($0) }
            storeHyperLogLog(c, key, bytes)
        }
        if corrupt {
            addError(c, Self.corruptHyperLogLog)
            return
        }
        if updated > 0 {
            keyModified(db, key)
            notifyKeyspaceEvent(.string, "pfadd", key, db)
            dirty += Int64(updated)
        }
        c.pointee.reply.append(updated > 0 ? ":1\r\n" as StaticString : ":0\r\n" as StaticString)
    }

    /// Adds arguments 2... to a copied HyperLogLog (promoting it when needed), counting the
    /// changes; false when it turns out corrupt (the edits made so far are kept, as Redis).
    mutating func addElements(_ c: ClientRef, to bytes: inout [UInt8], _ updated: inout Int) -> Bool {
        let limit = settings.hllSparseMaxBytes
        for i in 2..<max(2, c.pointee.argc) {
            switch HyperLogLog.add(&bytes, Self.elementBytes(c.pointee.arg(i)), sparseMaxBytes: limit) {
            case .changed: updated += 1
            case .unchanged: break
            case .invalid: return false
            }
        }
        return true
    }

    // MARK: - PFCOUNT

    mutating func pfcountCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc > 2 {
            pfcountUnion(c)
            return
        }
        let key = c.pointee.arg(1)
        let (found, ok) = lookupHyperLogLog(c, key)
        guard ok else { return }
        guard var e = found else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        if e.encoding != .raw, let slot = lookupSlot(c.pointee.db, key) {
            e = unshareString(c.pointee.db, slot, capacity: Int(e.payload))
        }
        guard let (count, cacheUpdated) = HyperLogLog.count(hyperLogLogBytes(e)) else {
            addError(c, Self.corruptHyperLogLog)
            return
        }
        if cacheUpdated {
            // The cached value changed the string: it goes to replicas and the AOF.
            keyModified(c.pointee.db, key)
            dirty += 1
            forcePropagation()
        }
        c.pointee.reply.appendInteger(Int64(bitPattern: count))
    }

    /// PFCOUNT of several keys: the cardinality of their union; nothing is written.
    mutating func pfcountUnion(_ c: ClientRef) {
        let registers = UnsafeMutablePointer<UInt8>.allocate(capacity: HyperLogLog.registerCount)
        registers.initialize(repeating: 0, count: HyperLogLog.registerCount)
        defer { registers.deallocate() }
        for i in 1..<c.pointee.argc {
            let (found, ok) = lookupHyperLogLog(c, c.pointee.arg(i))
            guard ok else { return }
            guard let e = found else { continue }
            if !HyperLogLog.merge(into: registers, from: UnsafeRawBufferPointer(hyperLogLogBytes(e))) {
                addError(c, Self.corruptHyperLogLog)
                return
            }
        }
        c.pointee.reply.appendInteger(Int64(bitPattern: HyperLogLog.count(registers: registers)))
    }

    // MARK: - PFMERGE

    mutating func pfmergeCommand(_ c: ClientRef) {
        let registers = UnsafeMutablePointer<UInt8>.allocate(capacity: HyperLogLog.registerCount)
        registers.initialize(repeating: 0, count: HyperLogLog.registerCount)
        defer { registers.deallocate() }
        // The destination is a source too; a dense source makes the result dense.
        var anyDense = false
        for i in 1..<c.pointee.argc {
            let (found, ok) = lookupHyperLogLog(c, c.pointee.arg(i))
            guard ok else { return }
            guard let e = found else { continue }
            let bytes = UnsafeRawBufferPointer(hyperLogLogBytes(e))
            if HyperLogLog.encoding(of: bytes) == .dense { anyDense = true }
            if !HyperLogLog.merge(into: registers, from: bytes) {
                addError(c, Self.corruptHyperLogLog)
                return
            }
        }
        let key = c.pointee.arg(1)
        let db = c.pointee.db
        var bytes: [UInt8]
        if let e = lookupWrite(db, key) {
            bytes = Array(UnsafeRawBufferPointer(hyperLogLogBytes(e)))
        } else {
            bytes = HyperLogLog.makeEmpty()
        }
        if !HyperLogLog.storeMerged(registers, into: &bytes, anyDenseSource: anyDense, sparseMaxBytes: settings.hllSparseMaxBytes) {
            addError(c, Self.corruptHyperLogLog)
            return
        }
        storeHyperLogLog(c, key, bytes)
        keyModified(db, key)
        notifyKeyspaceEvent(.string, "pfadd", key, db)
        dirty += 1
        addOK(c)
    }

    // MARK: - PFDEBUG, PFSELFTEST

    /// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
    mutating func pfdebugCommand(_ c: ClientRef) {
        let key = c.pointee.arg(2)
        let db = c.pointee.db
        guard let slot = lookupSlot(db, key) else {
            addError(c, "-ERR The specified key does not exist\r\n")
            return
        }
        guard let (e, encoding) = hyperLogLogForWrite(c, slot) else { return }
        let sub = c.pointee.arg(1)
        if sub.equalsLowercase("getreg") || sub.equalsLowercase("todense") {
            var dense = Array(UnsafeRawBufferPointer(hyperLogLogBytes(e)))
            if encoding == .sparse {
                guard HyperLogLog.promote(&dense) else {
                    addError(c, Self.corruptHyperLogLog)
                    return
                }
                storeHyperLogLog(c, key, dense)
                dirty += 1  // the encoding changed: propagate it
            }
            if sub.equalsLowercase("todense") {
                c.pointee.reply.append(encoding == .sparse ? ":1\r\n" as StaticString : ":0\r\n" as StaticString)
                return
            }
            let values = dense.withUnsafeBytes { HyperLogLog.registers(ofDense: $0) } ?? []
            c.pointee.reply.appendArrayHeader(values.count)
            for v in values { c.pointee.reply.appendInteger(Int64(v)) }
        } else if sub.equalsLowercase("decode") {
            guard let text = HyperLogLog.decodeSparse(UnsafeRawBufferPointer(hyperLogLogBytes(e))) else {
                addError(c, encoding == .sparse ? Self.corruptHyperLogLog : "-ERR HLL encoding is not sparse\r\n")
                return
            }
            c.pointee.reply.appendBulk(text)
        } else if sub.equalsLowercase("encoding") {
            c.pointee.reply.append(encoding == .dense ? "+dense\r\n" as StaticString : "+sparse\r\n" as StaticString)
        } else {
            addErrorString(c, "ERR Unknown PFDEBUG subcommand '\(sub.string)'")
        }
    }

    mutating func pfselftestCommand(_ c: ClientRef) {
        if let failure = HyperLogLog.selfTest(sparseMaxBytes: settings.hllSparseMaxBytes) {
            addErrorString(c, "ERR TESTFAILED " + failure)
        } else {
            addOK(c)
        }
    }
}
