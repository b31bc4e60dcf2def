/*
 * Persistence commands: SAVE, BGSAVE, DUMP, RESTORE and DEBUG RELOAD, with Redis 7.0's
 * replies and error strings. The snapshot machinery itself is in Snapshots.swift; the
 * format is in the Persistence module.
 */
import CTandem
import Glibc
import Keyspace
import Persistence
import Platform
import RESP

extension Server {
    mutating func saveCommand(_ c: ClientRef) {
        if hasActiveChild && !aof.rewriteChildRunning {
            addError(c, "-ERR Background save already in progress\r\n")
            return
        }
        if saveInForeground() { addOK(c) } else { addError(c, "-ERR\r\n") }
    }

    mutating func bgsaveCommand(_ c: ClientRef) {
        var schedule = false
        if c.pointee.argc > 1 {
            if c.pointee.argc == 2 && c.pointee.arg(1).equalsLowercase("schedule") {
                schedule = true
            } else {
                addSyntaxError(c)
                return
            }
        }
        if hasActiveChild && !aof.rewriteChildRunning {
            addError(c, "-ERR Background save already in progress\r\n")
            return
        }
        if hasActiveChild || inExec {
            // An AOF rewrite runs (or a transaction): the save can wait for it.
            if schedule || inExec {
                persistence.bgsaveScheduled = true
                c.pointee.reply.appendStatus("Background saving scheduled")
            } else {
                addError(c, "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n")
            }
            return
        }
        if startBackgroundSave() {
            c.pointee.reply.appendStatus("Background saving started")
        } else {
            addError(c, "-ERR\r\n")
        }
    }

    // MARK: - DUMP and RESTORE

    mutating func dumpCommand(_ c: ClientRef) {
        guard let e = lookupRead(c, c.pointee.arg(1)) else {
            addNull(c)
            return
        }
        let payload = RDBWriter.dumpPayload(e, compression: settings.rdbCompression)
        payload.withUnsafeBufferPointer {
            c.pointee.reply.appendBulk(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count))
        }
    }

    /// Checks a DUMP payload's footer: RDB version it was written with, then CRC64.
    static func verifyDumpPayload(_ p: ByteView, skipChecksum: Bool = false) -> Bool {
        if p.count < 10 { return false }
        let footer = UnsafeRawPointer(p.base + p.count - 10)
        let version = UInt16(littleEndian: footer.loadUnaligned(as: UInt16.self))
        if Int(version) > RDBFormat.version { return false }
        let stored = UInt64(littleEndian: footer.loadUnaligned(fromByteOffset: 2, as: UInt64.self))
        if skipChecksum { return true }
        return tandem_crc64(0, p.base, p.count - 8) == stored
    }

    mutating func restoreCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        let key = c.pointee.arg(1)
        var replace = false
        var absTTL = false
        var idleSeconds: Int64 = -1
        var lfuSeen = false
        var frequency: Int64 = -1
        var i = 4
        while i < argc {
            let opt = c.pointee.arg(i)
            let more = i + 1 < argc
            if opt.equalsLowercase("replace") {
                replace = true
            } else if opt.equalsLowercase("absttl") {
                absTTL = true
            } else if opt.equalsLowercase("idletime") && more && !lfuSeen {
                guard let v = c.pointee.arg(i + 1).int64 else {
                    addError(c, "-ERR value is not an integer or out of range\r\n")
                    return
                }
                if v < 0 {
                    addError(c, "-ERR Invalid IDLETIME value, must be >= 0\r\n")
                    return
                }
                idleSeconds = v
                i += 1
            } else if opt.equalsLowercase("freq") && more && idleSeconds < 0 {
                guard let v = c.pointee.arg(i + 1).int64 else {
                    addError(c, "-ERR value is not an integer or out of range\r\n")
                    return
                }
                if v < 0 || v > 255 {
                    addError(c, "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n")
                    return
                }
                lfuSeen = true
                frequency = v
                i += 1
            } else {
                addSyntaxError(c)
                return
            }
            i += 1
        }
        // Redis's order of checks: options, existing key, TTL, payload.
        let db = c.pointee.db
        if !replace && lookupWrite(db, key) != nil {
            addError(c, "-BUSYKEY Target key name already exists.\r\n")
            return
        }
        guard var ttl = c.pointee.arg(2).int64 else {
            addError(c, "-ERR value is not an integer or out of range\r\n")
            return
        }
        if ttl < 0 {
            addError(c, "-ERR Invalid TTL value, must be >= 0\r\n")
            return
        }
        let payload = c.pointee.arg(3)
        if !Self.verifyDumpPayload(payload, skipChecksum: skipChecksumValidation) {
            addError(c, "-ERR DUMP payload version or checksum are wrong\r\n")
            return
        }
        var input = RDBInput(memory: ByteView(payload.base, payload.count - 10))
        let entry: Entry?
        do {
            let type = try input.readByte()
            entry = try RDBLoader.readValue(&input, type: type, key: key, options: rdbLoadOptions)
            if !input.atEnd() {
                entry?.free()
                Log.warning("Internal error in RDB reading offset 0, function at rdb.c:0 -> Trailing bytes after the value in a DUMP payload")
                addError(c, "-ERR Bad data format\r\n")
                return
            }
        } catch {
            // Logged as Redis's rdbReportCorruptRDB does, so the reason is in the log.
            Log.warning("Internal error in RDB reading offset \(error.offset), function at rdb.c:0 -> \(error.message)")
            addError(c, "-ERR Bad data format\r\n")
            return
        }
        guard let entry else {
            addError(c, "-ERR Bad data format\r\n")
            return
        }
        if ttl > 0 && !absTTL { ttl += commandTimeMillis }
        var deleted = false
        if replace, let slot = dbs[db].findSlot(key) {
            dbs[db].delete(at: slot, lazily: settings.lazyfreeLazyServerDel)
            deleted = true
        }
        if ttl > 0 && ttl <= commandTimeMillis {
            // Already expired: the key is gone (and replicas are told so).
            entry.free()
            if deleted {
                keyModified(db, key)
                notifyKeyspaceEvent(.generic, "del", key, db)
                dirty += 1
                propagateInstead(db, ByteView("DEL"), key)
            }
            addOK(c)
            return
        }
        entry.expireAt = ttl
        // IDLETIME sets the LRU clock, FREQ the LFU counter, whichever the policy uses (Redis's
        // objectSetLRUOrLFU); otherwise a new key's.
        if settings.evictionPolicy.isLFU {
            entry.lru = frequency >= 0 ? Self.lfuMinutes() << 8 | UInt32(frequency) : newEntryLRU
        } else {
            entry.lru = idleSeconds >= 0 ? lruClock &- UInt32(truncatingIfNeeded: idleSeconds) : lruClock
        }
        addKey(db, entry)
        keyModified(db, key)
        notifyKeyspaceEvent(.generic, "restore", key, db)
        dirty += 1
        if ttl > 0 && !absTTL {
            var args = (0..<argc).map { c.pointee.arg($0).array }
            args[2] = Array(String(ttl).utf8)
            args.append(Array("ABSTTL".utf8))
            propagateInstead(db, args)
        }
        addOK(c)
    }

    // MARK: - DEBUG RELOAD

    /// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the dataset, load the dump back.
    mutating func debugReload(_ c: ClientRef) {
        var save = true
        var flush = true
        var merge = false
        for i in 2..<c.pointee.argc {
            let o = c.pointee.arg(i)
            if o.equalsLowercase("nosave") {
                save = false
            } else if o.equalsLowercase("noflush") {
                flush = false
            } else if o.equalsLowercase("merge") {
                merge = true
            } else {
                addError(c, "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n")
                return
            }
        }
        if save && !saveInForeground() {
            addError(c, "-ERR Error trying to save the DB\r\n")
            return
        }
        if flush {
            for i in 0..<dbCount { dbs[i].removeAll() }
        }
        let fd = open(settings.dbfilename, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            addError(c, "-ERR Error trying to load the RDB dump, check server logs.\r\n")
            return
        }
        defer { close(fd) }
        switch loadSnapshot(fd: fd, size: 0, discardExpired: true, serveClients: false,
                            libraries: flush ? .replaceAll : .add(replacing: merge), replaceDuplicateKeys: merge) {
        case .success:
            Log.notice("DB reloaded by DEBUG RELOAD")
            addOK(c)
        case .failure(let error):
            logLoadFailure(error)
            addError(c, "-ERR Error trying to load the RDB dump, check server logs.\r\n")
        }
    }
}
