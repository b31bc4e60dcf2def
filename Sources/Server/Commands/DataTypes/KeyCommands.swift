/*
 * Generic key commands — Redis's db.c and expire.c: DEL, EXISTS, TYPE, RENAME, KEYS, SCAN,
 * RANDOMKEY, the EXPIRE and TTL families, PERSIST, MOVE, COPY, TOUCH, OBJECT.
 */
import CTandem
import Keyspace
import Platform
import RESP

extension Server {
    static let noSuchKey: StaticString = "-ERR no such key\r\n"
    static let sameObject: StaticString = "-ERR source and destination objects are the same\r\n"
    static let dbOutOfRange: StaticString = "-ERR DB index is out of range\r\n"

    /// DEL and UNLINK (which always frees large values on the lazy-free thread; DEL does with
    /// lazyfree-lazy-user-del).
    mutating func delCommand(_ c: ClientRef, unlink: Bool) {
        var deleted: Int64 = 0
        let lazily = unlink || settings.lazyfreeLazyUserDel
        for i in 1..<c.pointee.argc where deleteKey(c.pointee.db, c.pointee.arg(i), lazily: lazily) {
            notifyKeyspaceEvent(.generic, "del", c.pointee.arg(i), c.pointee.db)
            deleted += 1
        }
        dirty += deleted
        c.pointee.reply.appendInteger(deleted)
    }

    mutating func existsCommand(_ c: ClientRef) {
        var n: Int64 = 0
        for i in 1..<c.pointee.argc where lookupRead(c, c.pointee.arg(i), touch: false) != nil {
            n += 1
        }
        c.pointee.reply.appendInteger(n)
    }

    mutating func typeCommand(_ c: ClientRef) {
        guard let e = lookupRead(c, c.pointee.arg(1), touch: false) else {
            c.pointee.reply.append("+none\r\n" as StaticString)
            return
        }
        c.pointee.reply.appendByte(43)
        c.pointee.reply.append(e.type.name)
        c.pointee.reply.append("\r\n" as StaticString)
    }

    mutating func renameCommand(_ c: ClientRef, onlyIfAbsent nx: Bool) {
        let src = c.pointee.arg(1)
        let dst = c.pointee.arg(2)
        let db = c.pointee.db
        guard let slot = lookupSlot(db, src) else {
            addError(c, Self.noSuchKey)
            return
        }
        if src.equals(dst) {
            c.pointee.reply.append(nx ? ":0\r\n" : "+OK\r\n")
            return
        }
        _ = slot
        if let dslot = lookupSlot(db, dst) {
            if nx {
                c.pointee.reply.append(":0\r\n" as StaticString)
                return
            }
            dbs[db].delete(at: dslot, lazily: settings.lazyfreeLazyServerDel)
        }
        // Slots are invalidated by any change to the table: find the source again.
        guard let sslot = dbs[db].findSlot(src) else { return }
        let moved = dbs[db].detach(at: sslot).rekeyed(dst)
        addKey(db, moved)
        keyModified(db, src)
        keyModified(db, dst)
        notifyKeyspaceEvent(.generic, "rename_from", src, db)
        notifyKeyspaceEvent(.generic, "rename_to", dst, db)
        dirty += 1
        c.pointee.reply.append(nx ? ":1\r\n" : "+OK\r\n")
    }

    mutating func keysCommand(_ c: ClientRef) {
        let pattern = c.pointee.arg(1)
        let all = pattern.count == 1 && pattern[0] == 42
        let header = c.pointee.reply.reserveDeferredHeader()
        var n = 0
        let now = commandTimeMillis
        dbs[c.pointee.db].dict.forEach { e in
            // Past the client's output limit it is closed anyway: stop producing (as Redis).
            if c.pointee.reply.overLimit { return }
            if e.expireAt != 0 && e.expireAt <= now { return }
            if all || Glob.match(pattern, e.key) {
                c.pointee.reply.appendBulk(e.key)
                n += 1
            }
        }
        c.pointee.reply.patchHeader(at: header, prefix: 42, n)
    }

    /// Parses a SCAN cursor as Redis does (strtoul: an unsigned decimal, "-1" wraps).
    static func parseCursor(_ v: ByteView) -> UInt64? {
        if v.count == 0 || v.count > 21 { return nil }
        var i = 0
        var negative = false
        if v[0] == 45 || v[0] == 43 {
            negative = v[0] == 45
            i = 1
            if v.count == 1 { return nil }
        }
        var r: UInt64 = 0
        while i < v.count {
            let d = v[i] &- 48
            if d > 9 { return nil }
            let (m, o1) = r.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            r = a
            i += 1
        }
        return negative ? 0 &- r : r
    }

    /// COUNT, MATCH and (SCAN only) TYPE of the SCAN family, parsed from argument `from`.
    struct ScanOptions {
        var count = 10
        /// nil for no pattern (or "*", which matches everything).
        var pattern: ByteView? = nil
        var typeName: ByteView? = nil
    }

    /// Parses SCAN options as Redis does; replies the error and returns nil on bad input.
    mutating func parseScanOptions(_ c: ClientRef, from: Int, allowType: Bool) -> ScanOptions? {
        var o = ScanOptions()
        var i = from
        let argc = c.pointee.argc
        while i < argc {
            let opt = c.pointee.arg(i)
            let remaining = argc - i
            if opt.equalsLowercase("count") && remaining >= 2 {
                guard let n = c.pointee.arg(i + 1).int64 else {
                    addNotInteger(c)
                    return nil
                }
                if n < 1 {
                    addSyntaxError(c)
                    return nil
                }
                o.count = Int(min(n, Int64(Int32.max)))
            } else if opt.equalsLowercase("match") && remaining >= 2 {
                let p = c.pointee.arg(i + 1)
                o.pattern = (p.count == 1 && p[0] == 42) ? nil : p
            } else if allowType && opt.equalsLowercase("type") && remaining >= 2 {
                o.typeName = c.pointee.arg(i + 1)
            } else {
                addSyntaxError(c)
                return nil
            }
            i += 2
        }
        return o
    }

    mutating func scanCommand(_ c: ClientRef) {
        guard let cursor = Self.parseCursor(c.pointee.arg(1)) else {
            addError(c, "-ERR invalid cursor\r\n")
            return
        }
        guard let options = parseScanOptions(c, from: 2, allowType: true) else { return }
        let count = options.count
        let pattern = options.pattern
        let typeName = options.typeName
        let db = c.pointee.db
        var found: [UnsafeMutableRawPointer] = []
        var next = cursor
        var iterations = count * 10
        repeat {
            next = dbs[db].dict.scan(cursor: next) { found.append($0.raw) }
            iterations -= 1
        } while next != 0 && iterations > 0 && found.count < count
        // Filter after the walk: expiring a key frees it, which must not happen mid-scan.
        var keys: [[UInt8]] = []
        keys.reserveCapacity(found.count)
        var expired: [[UInt8]] = []
        for raw in found {
            let e = Entry(raw)
            if let pattern, !Glob.match(pattern, e.key) { continue }
            if let typeName {
                let name = ByteView(e.type.name)
                if !(name.count == typeName.count && name.string.lowercased() == typeName.string.lowercased()) {
                    continue
                }
            }
            if isExpired(e) {
                expired.append(e.key.array)
                continue
            }
            keys.append(e.key.array)
        }
        for k in expired {
            k.withUnsafeBufferPointer { b in _ = lookupWrite(db, ByteView(b.baseAddress!, b.count)) }
        }
        c.pointee.reply.appendArrayHeader(2)
        c.pointee.reply.appendBulk(String(next))
        c.pointee.reply.appendArrayHeader(keys.count)
        for k in keys {
            k.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress!, $0.count) }
        }
    }

    mutating func randomkeyCommand(_ c: ClientRef) {
        let db = c.pointee.db
        var tries = 0
        while let e = dbs[db].dict.randomEntry() {
            if isExpired(e) {
                if expiresLocally {
                    let key = e.key.array
                    key.withUnsafeBufferPointer { b in _ = lookupWrite(db, ByteView(b.baseAddress!, b.count)) }
                    continue
                }
                tries += 1
                if tries < 100 && dbs[db].expiresCount != dbs[db].count { continue }
            }
            c.pointee.reply.appendBulk(e.key)
            return
        }
        addNull(c)
    }

    // MARK: - Expire

    mutating func expireCommand(_ c: ClientRef, unitMillis: Bool, absolute: Bool) {
        var nx = false, xx = false, gt = false, lt = false
        for j in 3..<max(3, c.pointee.argc) {
            let opt = c.pointee.arg(j)
            if opt.equalsLowercase("nx") {
                nx = true
            } else if opt.equalsLowercase("xx") {
                xx = true
            } else if opt.equalsLowercase("gt") {
                gt = true
            } else if opt.equalsLowercase("lt") {
                lt = true
            } else {
                addErrorString(c, "ERR Unsupported option \(opt.string)")
                return
            }
        }
        if nx && (xx || gt || lt) {
            addError(c, "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n")
            return
        }
        if gt && lt {
            addError(c, "-ERR GT and LT options at the same time are not compatible\r\n")
            return
        }
        guard var when = c.pointee.arg(2).int64 else {
            addNotInteger(c)
            return
        }
        let name = commands.specs[c.pointee.lastCommand].nameString
        if !unitMillis {
            if when > Int64.max / 1000 || when < Int64.min / 1000 {
                addErrorString(c, "ERR invalid expire time in '\(name)' command")
                return
            }
            when *= 1000
        }
        let base = absolute ? 0 : commandTimeMillis
        if when > Int64.max - base {
            addErrorString(c, "ERR invalid expire time in '\(name)' command")
            return
        }
        when += base
        let db = c.pointee.db
        let key = c.pointee.arg(1)
        guard let slot = lookupSlot(db, key) else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        let e = Entry(slot.pointee!)
        let current: Int64 = e.expireAt == 0 ? -1 : e.expireAt
        if (nx && current != -1) || (xx && current == -1) || (gt && (when <= current || current == -1))
            || (lt && current != -1 && when >= current)
        {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        if when <= commandTimeMillis && expiresLocally {
            dbs[db].delete(at: slot)
            propagateInstead(db, ByteView("DEL"), key)
            notifyKeyspaceEvent(.generic, "del", key, db)
        } else {
            notifyKeyspaceEvent(.generic, "expire", key, db)
            // 0 means "no expire" in an entry; a real expire time of 0 ms is already past.
            dbs[db].setExpire(e, at: when == 0 ? -1 : when)
            if propagationEnabled {
                // The absolute form, its condition (NX/XX/GT/LT) kept as Redis 7.0 keeps it.
                var args = [Array("PEXPIREAT".utf8), key.array, Self.argBytes(when)]
                for i in 3..<max(3, c.pointee.argc) { args.append(c.pointee.arg(i).array) }
                propagateInstead(db, args)
            }
        }
        dirty += 1
        keyModified(db, key)
        c.pointee.reply.append(":1\r\n" as StaticString)
    }

    mutating func ttlCommand(_ c: ClientRef, unitMillis: Bool, absolute: Bool) {
        guard let e = lookupRead(c, c.pointee.arg(1), touch: false) else {
            c.pointee.reply.append(":-2\r\n" as StaticString)
            return
        }
        if e.expireAt == 0 {
            c.pointee.reply.append(":-1\r\n" as StaticString)
            return
        }
        var ttl = absolute ? e.expireAt : e.expireAt - commandTimeMillis
        if ttl < 0 { ttl = 0 }
        c.pointee.reply.appendInteger(unitMillis ? ttl : (ttl + 500) / 1000)
    }

    mutating func persistCommand(_ c: ClientRef) {
        guard let e = lookupWrite(c.pointee.db, c.pointee.arg(1)), e.expireAt != 0 else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        dbs[c.pointee.db].setExpire(e, at: 0)
        dirty += 1
        keyModified(c.pointee.db, c.pointee.arg(1))
        notifyKeyspaceEvent(.generic, "persist", c.pointee.arg(1), c.pointee.db)
        c.pointee.reply.append(":1\r\n" as StaticString)
    }

    /// Parses a database index argument: not an integer, or out of range, replies an error.
    mutating func parseDBIndex(_ c: ClientRef, _ v: ByteView) -> Int? {
        guard let n = v.int64, n >= Int64(Int32.min), n <= Int64(Int32.max) else {
            addNotInteger(c)
            return nil
        }
        if n < 0 || n >= Int64(dbCount) {
            addError(c, Self.dbOutOfRange)
            return nil
        }
        return Int(n)
    }

    mutating func moveCommand(_ c: ClientRef) {
        guard let target = parseDBIndex(c, c.pointee.arg(2)) else { return }
        let src = c.pointee.db
        if target == src {
            addError(c, Self.sameObject)
            return
        }
        let key = c.pointee.arg(1)
        guard let slot = lookupSlot(src, key) else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        if lookupWrite(target, key) != nil {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        // The lookup in the target may have rehashed only the target table; the source
        // slot is still valid.
        let e = dbs[src].detach(at: slot)
        addKey(target, e)
        dirty += 1
        keyModified(src, key)
        keyModified(target, key)
        notifyKeyspaceEvent(.generic, "move_from", key, src)
        notifyKeyspaceEvent(.generic, "move_to", key, target)
        c.pointee.reply.append(":1\r\n" as StaticString)
    }

    mutating func copyCommand(_ c: ClientRef) {
        let src = c.pointee.db
        var dst = src
        var replace = false
        var j = 3
        while j < c.pointee.argc {
            let opt = c.pointee.arg(j)
            if opt.equalsLowercase("replace") {
                replace = true
            } else if opt.equalsLowercase("db") && c.pointee.argc - j - 1 >= 1 {
                guard let n = c.pointee.arg(j + 1).int64 else {
                    addNotInteger(c)
                    return
                }
                if n < 0 || n >= Int64(dbCount) {
                    addError(c, Self.dbOutOfRange)
                    return
                }
                dst = Int(n)
                j += 1
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }
        let key = c.pointee.arg(1)
        let newKey = c.pointee.arg(2)
        if src == dst && key.equals(newKey) {
            addError(c, Self.sameObject)
            return
        }
        guard lookupRead(c, key) != nil else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        if let dslot = lookupSlot(dst, newKey) {
            if !replace {
                c.pointee.reply.append(":0\r\n" as StaticString)
                return
            }
            dbs[dst].delete(at: dslot, lazily: settings.lazyfreeLazyServerDel)
        }
        // The delete may have freed nothing of the source, but re-read it to be safe.
        guard let source = lookupWrite(src, key) else { return }
        let copy = source.copy(withKey: newKey)
        copy.expireAt = source.expireAt
        addKey(dst, copy)
        keyModified(dst, newKey)
        notifyKeyspaceEvent(.generic, "copy_to", newKey, dst)
        dirty += 1
        c.pointee.reply.append(":1\r\n" as StaticString)
    }

    mutating func touchCommand(_ c: ClientRef) {
        var n: Int64 = 0
        // Unlike EXISTS, TOUCH's lookup is what sets the keys' access time.
        for i in 1..<c.pointee.argc where lookupRead(c, c.pointee.arg(i)) != nil {
            n += 1
        }
        c.pointee.reply.appendInteger(n)
    }

    // MARK: - OBJECT

    var lfuPolicy: Bool { settings.evictionPolicy.isLFU }

    mutating func objectCommand(_ c: ClientRef, _ id: CommandID) {
        guard let e = lookupRead(c, c.pointee.arg(2), touch: false, notify: false) else {
            addNull(c)
            return
        }
        switch id {
        case .objectEncoding:
            c.pointee.reply.appendBulk(ByteView(e.encoding.name))
        case .objectRefcount:
            let shared = e.encoding == .int && e.payload >= 0 && e.payload < 10000 && !sharedIntegersDisabled
            c.pointee.reply.appendInteger(shared ? Int64(Int32.max) : 1)
        case .objectIdletime:
            if lfuPolicy {
                addError(c, "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n")
                return
            }
            let idle = Int64(lruClock &- e.lru)
            c.pointee.reply.appendInteger(idle < 0 || idle > 1 << 30 ? 0 : idle)
        default:
            if !lfuPolicy {
                addError(c, "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n")
                return
            }
            c.pointee.reply.appendInteger(Int64(lfuDecayed(e.lru)))
        }
    }

    /// Redis stops sharing small integers when maxmemory evicts by LRU/LFU.
    var sharedIntegersDisabled: Bool {
        settings.maxmemory != 0 && (settings.maxmemoryPolicy.hasSuffix("lru") || settings.maxmemoryPolicy.hasSuffix("lfu"))
    }

    func objectHelpCommand(_ c: ClientRef) { addHelp(c, HelpText.object) }

    func addHelp(_ c: ClientRef, _ lines: [String]) {
        c.pointee.reply.appendArrayHeader(lines.count)
        for l in lines { c.pointee.reply.appendStatus(l) }
    }
}
