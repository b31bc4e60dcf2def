/*
 * String commands — Redis's t_string.c, replies and errors byte for byte.
 *
 * Values are stored by KeyAccess (inline bytes or an int encoding, reported as embstr, raw
 * or int exactly when Redis would). Arguments are ByteViews into the query buffer, so SET
 * copies the value once, into its entry, and GET copies it once, into the reply buffer.
 */
import CTandem
import Keyspace
import Platform
import RESP

/// SET/GETEX option bits (Redis's OBJ_SET_* flags).
struct SetFlags: OptionSet {
    let rawValue: UInt16
    static let nx = SetFlags(rawValue: 1 << 0)
    static let xx = SetFlags(rawValue: 1 << 1)
    static let ex = SetFlags(rawValue: 1 << 2)
    static let px = SetFlags(rawValue: 1 << 3)
    static let keepTTL = SetFlags(rawValue: 1 << 4)
    static let get = SetFlags(rawValue: 1 << 5)
    static let exat = SetFlags(rawValue: 1 << 6)
    static let pxat = SetFlags(rawValue: 1 << 7)
    static let persist = SetFlags(rawValue: 1 << 8)

    static let anyExpire: SetFlags = [.ex, .px, .exat, .pxat]
}

extension Server {
    static let wrongType: StaticString = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

    @inline(__always)
    mutating func addWrongType(_ c: ClientRef) { addError(c, Self.wrongType) }

    /// Appends a string entry's value as a bulk reply.
    @inline(__always)
    func addStringValue(_ c: ClientRef, _ e: Entry) {
        if e.encoding == .int {
            c.pointee.reply.appendBulkInteger(e.payload)
        } else {
            c.pointee.reply.appendBulk(e.stringBytes)
        }
    }

    // MARK: - GET family

    mutating func getCommand(_ c: ClientRef) {
        if let e = lookupStringOrReply(c, c.pointee.arg(1)) { addStringValue(c, e) }
    }

    /// The string entry for `key`; replies null (missing) or WRONGTYPE and returns nil otherwise.
    @inline(__always)
    mutating func lookupStringOrReply(_ c: ClientRef, _ key: ByteView) -> Entry? {
        guard let e = lookupRead(c, key) else {
            addNull(c)
            return nil
        }
        if e.type != .string {
            addWrongType(c)
            return nil
        }
        return e
    }

    // MARK: - SET family

    /// Parses SET's (command == set) or GETEX's options from argument `from` on. Returns nil
    /// after replying with an error.
    mutating func parseSetOptions(_ c: ClientRef, from: Int, forGetex: Bool) -> (SetFlags, ByteView?)? {
        var flags: SetFlags = []
        var expire: ByteView? = nil
        var j = from
        let argc = c.pointee.argc
        while j < argc {
            let opt = c.pointee.arg(j)
            let hasNext = j < argc - 1
            if !forGetex && opt.equalsLowercase("nx") && !flags.contains(.xx) {
                flags.insert(.nx)
            } else if !forGetex && opt.equalsLowercase("xx") && !flags.contains(.nx) {
                flags.insert(.xx)
            } else if !forGetex && opt.equalsLowercase("get") {
                flags.insert(.get)
            } else if !forGetex && opt.equalsLowercase("keepttl") && flags.isDisjoint(with: [.persist, .ex, .exat, .px, .pxat]) {
                flags.insert(.keepTTL)
            } else if forGetex && opt.equalsLowercase("persist") && flags.isDisjoint(with: [.ex, .exat, .px, .pxat, .keepTTL]) {
                flags.insert(.persist)
            } else if opt.equalsLowercase("ex") && flags.isDisjoint(with: [.keepTTL, .persist, .exat, .px, .pxat]) && hasNext {
                flags.insert(.ex)
                expire = c.pointee.arg(j + 1)
                j += 1
            } else if opt.equalsLowercase("px") && flags.isDisjoint(with: [.keepTTL, .persist, .ex, .exat, .pxat]) && hasNext {
                flags.insert(.px)
                expire = c.pointee.arg(j + 1)
                j += 1
            } else if opt.equalsLowercase("exat") && flags.isDisjoint(with: [.keepTTL, .persist, .ex, .px, .pxat]) && hasNext {
                flags.insert(.exat)
                expire = c.pointee.arg(j + 1)
                j += 1
            } else if opt.equalsLowercase("pxat") && flags.isDisjoint(with: [.keepTTL, .persist, .ex, .exat, .px]) && hasNext {
                flags.insert(.pxat)
                expire = c.pointee.arg(j + 1)
                j += 1
            } else {
                addSyntaxError(c)
                return nil
            }
            j += 1
        }
        return (flags, expire)
    }

    /// Converts an expire argument to absolute Unix ms. Returns nil after replying.
    mutating func expireMillis(_ c: ClientRef, _ arg: ByteView, seconds: Bool, relative: Bool, command: String) -> Int64? {
        guard var ms = arg.int64 else {
            addNotInteger(c)
            return nil
        }
        if ms <= 0 || (seconds && ms > Int64.max / 1000) {
            addErrorString(c, "ERR invalid expire time in '\(command)' command")
            return nil
        }
        if seconds { ms *= 1000 }
        if relative {
            if ms > Int64.max - commandTimeMillis {
                addErrorString(c, "ERR invalid expire time in '\(command)' command")
                return nil
            }
            ms += commandTimeMillis
        }
        return ms
    }

    mutating func setCommand(_ c: ClientRef) {
        guard let (flags, expireArg) = parseSetOptions(c, from: 3, forGetex: false) else { return }
        var expireAt: Int64 = 0
        if let expireArg {
            guard
                let ms = expireMillis(c, expireArg, seconds: flags.contains(.ex) || flags.contains(.exat),
                                      relative: flags.contains(.ex) || flags.contains(.px), command: "set")
            else { return }
            expireAt = ms
        }
        setGeneric(c, flags: flags, key: c.pointee.arg(1), value: c.pointee.arg(2), expireAt: expireAt,
                   okReply: "+OK\r\n", abortReply: nil)
    }

    /// The core of SET, SETNX, SETEX, PSETEX. `abortReply` nil means the null reply.
    @inline(__always)
    mutating func setGeneric(_ c: ClientRef, flags: SetFlags, key: ByteView, value: ByteView, expireAt: Int64,
                             okReply: StaticString, abortReply: StaticString?) {
        let db = c.pointee.db
        if flags.contains(.get) {
            if let old = lookupRead(c, key) {
                if old.type != .string {
                    addWrongType(c)
                    return
                }
                addStringValue(c, old)
            } else {
                addNull(c)
            }
        }
        if flags.contains(.nx) || flags.contains(.xx) {
            let found = lookupWrite(db, key) != nil
            if (flags.contains(.nx) && found) || (flags.contains(.xx) && !found) {
                if !flags.contains(.get) {
                    if let abortReply { c.pointee.reply.append(abortReply) } else { addNull(c) }
                }
                return
            }
        }
        setString(db, key, value, expireAt: expireAt, keepTTL: flags.contains(.keepTTL))
        notifyKeyspaceEvent(.string, "set", key, db)
        if expireAt != 0 { notifyKeyspaceEvent(.generic, "expire", key, db) }
        if expireAt != 0 && propagationEnabled {
            // Relative and absolute expires travel as one absolute form (docs/dev/propagation.md).
            propagateInstead(db, [Array("SET".utf8), key.array, value.array, Array("PXAT".utf8), Self.argBytes(expireAt)])
        } else if flags.contains(.get) && propagationEnabled {
            // Replicas need no reply: SET ... GET travels as SET without its GETs (Redis 7.0).
            var args: [[UInt8]] = []
            for i in 0..<c.pointee.argc where i < 3 || !c.pointee.arg(i).equalsLowercase("get") {
                args.append(c.pointee.arg(i).array)
            }
            propagateInstead(db, args)
        }
        dirty += 1
        if !flags.contains(.get) { c.pointee.reply.append(okReply) }
    }

    mutating func setnxCommand(_ c: ClientRef) {
        setGeneric(c, flags: .nx, key: c.pointee.arg(1), value: c.pointee.arg(2), expireAt: 0, okReply: ":1\r\n",
                   abortReply: ":0\r\n")
    }

    mutating func setexCommand(_ c: ClientRef, unitMillis: Bool) {
        guard
            let at = expireMillis(c, c.pointee.arg(2), seconds: !unitMillis, relative: true,
                                  command: unitMillis ? "psetex" : "setex")
        else { return }
        setGeneric(c, flags: unitMillis ? .px : .ex, key: c.pointee.arg(1), value: c.pointee.arg(3), expireAt: at,
                   okReply: "+OK\r\n", abortReply: nil)
    }

    mutating func getsetCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        if let old = lookupRead(c, key) {
            if old.type != .string {
                addWrongType(c)
                return
            }
            addStringValue(c, old)
        } else {
            addNull(c)
        }
        setString(c.pointee.db, key, c.pointee.arg(2), expireAt: 0, keepTTL: false)
        notifyKeyspaceEvent(.string, "set", key, c.pointee.db)
        propagateInstead(c.pointee.db, ByteView("SET"), key, c.pointee.arg(2))  // as Redis 7.0
        dirty += 1
    }

    mutating func getdelCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        guard let e = lookupStringOrReply(c, key) else { return }
        addStringValue(c, e)
        deleteKey(c.pointee.db, key)  // signals keyModified
        notifyKeyspaceEvent(.generic, "del", key, c.pointee.db)
        propagateInstead(c.pointee.db, ByteView("DEL"), key)
        dirty += 1
    }

    mutating func getexCommand(_ c: ClientRef) {
        guard let (flags, expireArg) = parseSetOptions(c, from: 2, forGetex: true) else { return }
        var expireAt: Int64 = 0
        if let expireArg {
            guard
                let ms = expireMillis(c, expireArg, seconds: flags.contains(.ex) || flags.contains(.exat),
                                      relative: flags.contains(.ex) || flags.contains(.px), command: "getex")
            else { return }
            expireAt = ms
        }
        let key = c.pointee.arg(1)
        guard let e = lookupStringOrReply(c, key) else { return }
        addStringValue(c, e)
        let db = c.pointee.db
        if expireArg != nil {
            if expireAt <= commandTimeMillis && expiresLocally {
                deleteKey(db, key)
                propagateInstead(db, ByteView("DEL"), key)
                notifyKeyspaceEvent(.generic, "del", key, db)
            } else {
                dbs[db].setExpire(e, at: expireAt)
                notifyKeyspaceEvent(.generic, "expire", key, db)
                if propagationEnabled {
                    propagateInstead(db, [Array("PEXPIREAT".utf8), key.array, Self.argBytes(expireAt)])
                }
            }
            dirty += 1
            keyModified(db, key)
        } else if flags.contains(.persist) && e.expireAt != 0 {
            dbs[db].setExpire(e, at: 0)
            propagateInstead(db, ByteView("PERSIST"), key)
            notifyKeyspaceEvent(.generic, "persist", key, db)
            dirty += 1
            keyModified(db, key)
        }
    }

    mutating func mgetCommand(_ c: ClientRef) {
        let n = c.pointee.argc - 1
        c.pointee.reply.appendArrayHeader(n)
        for i in 1...n {
            if let e = lookupRead(c, c.pointee.arg(i)), e.type == .string {
                addStringValue(c, e)
            } else {
                addNull(c)
            }
        }
    }

    mutating func msetCommand(_ c: ClientRef, onlyIfNoneExist: Bool) {
        let argc = c.pointee.argc
        if argc % 2 == 0 {
            addErrorString(c, "ERR wrong number of arguments for '\(onlyIfNoneExist ? "msetnx" : "mset")' command")
            return
        }
        let db = c.pointee.db
        if onlyIfNoneExist {
            var j = 1
            while j < argc {
                if lookupWrite(db, c.pointee.arg(j)) != nil {
                    c.pointee.reply.append(":0\r\n" as StaticString)
                    return
                }
                j += 2
            }
        }
        var j = 1
        while j < argc {
            setString(db, c.pointee.arg(j), c.pointee.arg(j + 1), expireAt: 0, keepTTL: false)
            notifyKeyspaceEvent(.string, "set", c.pointee.arg(j), db)
            j += 2
        }
        dirty += Int64((argc - 1) / 2)
        if onlyIfNoneExist {
            c.pointee.reply.append(":1\r\n" as StaticString)
        } else {
            addOK(c)
        }
    }

    // MARK: - APPEND, STRLEN, ranges

    /// Rejects a string that would grow past proto-max-bulk-len.
    mutating func checkStringLength(_ c: ClientRef, _ size: Int, _ append: Int) -> Bool {
        let (total, overflow) = size.addingReportingOverflow(append)
        if overflow || total > settings.protoMaxBulkLen {
            addError(c, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
            return false
        }
        return true
    }

    /// The bytes of a string entry, formatting an int encoding into `scratch` (needs 24 bytes).
    @inline(__always)
    func stringBytes(_ e: Entry, _ scratch: UnsafeMutablePointer<UInt8>) -> ByteView {
        if e.encoding == .int {
            let n = IntFormat.write(e.payload, to: scratch)
            return ByteView(scratch, n)
        }
        return e.stringBytes
    }

    /// Replaces `key`'s string entry with one holding `total` bytes (zero-filled past the
    /// old value), raw-encoded, keeping the TTL; returns the new entry. For APPEND/SETRANGE
    /// and bit writes; `greedy` (bit writes) leaves room to grow, as Redis's sdsMakeRoomFor:
    /// twice the size up to 1 MB, 1 MB more beyond.
    mutating func unshareString(_ db: Int, _ slot: Slot, capacity total: Int, greedy: Bool = false) -> Entry {
        let old = Entry(slot.pointee!)
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &scratch) { raw -> Entry in
            let current = stringBytes(old, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            if old.encoding != .int && old.canHoldString(total) {
                let p = old.mutableStringBytes
                if total > current.count { memset(p + current.count, 0, total - current.count) }
                old.payload = Int64(max(total, current.count))
                old.encoding = .raw
                return old
            }
            let room = greedy && total > current.count ? (total < 1 << 20 ? total * 2 : total + 1 << 20) : total
            let e = Entry.allocate(key: old.key, valueCapacity: room)
            let p = e.mutableStringBytes
            memcpy(p, current.base, current.count)
            if total > current.count { memset(p + current.count, 0, total - current.count) }
            e.type = .string
            e.encoding = .raw
            e.payload = Int64(max(total, current.count))
            e.expireAt = old.expireAt
            e.lru = old.lru
            dbs[db].replace(at: slot, with: e)
            return e
        }
    }

    mutating func appendCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        let value = c.pointee.arg(2)
        let db = c.pointee.db
        guard let slot = lookupSlot(db, key) else {
            let e = Entry.makeString(key: key, value: value)
            e.lru = newEntryLRU
            addKey(db, e)
            dirty += 1
            keyModified(db, key)
            notifyKeyspaceEvent(.string, "append", key, db)
            c.pointee.reply.appendInteger(Int64(value.count))
            return
        }
        let old = Entry(slot.pointee!)
        if old.type != .string {
            addWrongType(c)
            return
        }
        let oldLength = old.encoding == .int ? IntFormat.digits(old.payload) : Int(old.payload)
        if !checkStringLength(c, oldLength, value.count) { return }
        let total = oldLength + value.count
        let e = unshareString(db, slot, capacity: total)
        memcpy(e.mutableStringBytes + oldLength, value.base, value.count)
        e.payload = Int64(total)
        dirty += 1
        keyModified(db, key)
        notifyKeyspaceEvent(.string, "append", key, db)
        c.pointee.reply.appendInteger(Int64(total))
    }

    mutating func strlenCommand(_ c: ClientRef) {
        guard let e = lookupRead(c, c.pointee.arg(1)) else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        if e.type != .string {
            addWrongType(c)
            return
        }
        let n = e.encoding == .int ? IntFormat.digits(e.payload) : Int(e.payload)
        c.pointee.reply.appendInteger(Int64(n))
    }

    mutating func getrangeCommand(_ c: ClientRef) {
        guard var start = c.pointee.arg(2).int64, var end = c.pointee.arg(3).int64 else {
            addNotInteger(c)
            return
        }
        guard let e = lookupRead(c, c.pointee.arg(1)) else {
            c.pointee.reply.append("$0\r\n\r\n" as StaticString)
            return
        }
        if e.type != .string {
            addWrongType(c)
            return
        }
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            let s = stringBytes(e, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            let len = Int64(s.count)
            if start < 0 && end < 0 && start > end {
                c.pointee.reply.append("$0\r\n\r\n" as StaticString)
                return
            }
            if start < 0 { start = len + start }
            if end < 0 { end = len + end }
            if start < 0 { start = 0 }
            if end < 0 { end = 0 }
            if end >= len { end = len - 1 }
            if start > end || len == 0 {
                c.pointee.reply.append("$0\r\n\r\n" as StaticString)
            } else {
                c.pointee.reply.appendBulk(s.base + Int(start), Int(end - start + 1))
            }
        }
    }

    mutating func setrangeCommand(_ c: ClientRef) {
        guard let offset64 = c.pointee.arg(2).int64 else {
            addNotInteger(c)
            return
        }
        if offset64 < 0 {
            addError(c, "-ERR offset is out of range\r\n")
            return
        }
        let offset = Int(offset64)
        let key = c.pointee.arg(1)
        let value = c.pointee.arg(3)
        let db = c.pointee.db
        guard let slot = lookupSlot(db, key) else {
            if value.count == 0 {
                c.pointee.reply.append(":0\r\n" as StaticString)
                return
            }
            if !checkStringLength(c, offset, value.count) { return }
            let e = Entry.allocate(key: key, valueCapacity: offset + value.count)
            e.type = .string
            e.encoding = .raw
            e.payload = Int64(offset + value.count)
            memset(e.mutableStringBytes, 0, offset)
            memcpy(e.mutableStringBytes + offset, value.base, value.count)
            e.lru = newEntryLRU
            addKey(db, e)
            dirty += 1
            keyModified(db, key)
            notifyKeyspaceEvent(.string, "setrange", key, db)
            c.pointee.reply.appendInteger(Int64(offset + value.count))
            return
        }
        let old = Entry(slot.pointee!)
        if old.type != .string {
            addWrongType(c)
            return
        }
        let oldLength = old.encoding == .int ? IntFormat.digits(old.payload) : Int(old.payload)
        if value.count == 0 {
            c.pointee.reply.appendInteger(Int64(oldLength))
            return
        }
        if !checkStringLength(c, offset, value.count) { return }
        let total = max(oldLength, offset + value.count)
        let e = unshareString(db, slot, capacity: total)
        memcpy(e.mutableStringBytes + offset, value.base, value.count)
        e.payload = Int64(total)
        dirty += 1
        keyModified(db, key)
        notifyKeyspaceEvent(.string, "setrange", key, db)
        c.pointee.reply.appendInteger(Int64(total))
    }

    // MARK: - Counters

    mutating func incrCommand(_ c: ClientRef, by delta: Int64) {
        incrementBy(c, delta)
    }

    mutating func incrbyCommand(_ c: ClientRef, negate: Bool) {
        guard var delta = c.pointee.arg(2).int64 else {
            addNotInteger(c)
            return
        }
        if negate {
            if delta == Int64.min {
                addError(c, "-ERR decrement would overflow\r\n")
                return
            }
            delta = -delta
        }
        incrementBy(c, delta)
    }

    @inline(__always)
    mutating func incrementBy(_ c: ClientRef, _ delta: Int64) {
        let key = c.pointee.arg(1)
        let db = c.pointee.db
        let slot = lookupSlot(db, key)
        var value: Int64 = 0
        if let slot {
            let e = Entry(slot.pointee!)
            if e.type != .string {
                addWrongType(c)
                return
            }
            if e.encoding == .int {
                value = e.payload
            } else {
                guard let v = e.stringBytes.int64 else {
                    addNotInteger(c)
                    return
                }
                value = v
            }
        }
        if (delta < 0 && value < 0 && delta < Int64.min - value) || (delta > 0 && value > 0 && delta > Int64.max - value) {
            addError(c, "-ERR increment or decrement would overflow\r\n")
            return
        }
        value += delta
        if let slot {
            let e = Entry(slot.pointee!)
            if e.encoding == .int {
                e.payload = value
            } else {
                let n = Entry.makeInteger(key: key, value: value)
                n.expireAt = e.expireAt
                n.lru = newEntryLRU
                dbs[db].replace(at: slot, with: n)
            }
        } else {
            let n = Entry.makeInteger(key: key, value: value)
            n.lru = newEntryLRU
            addKey(db, n)
        }
        dirty += 1
        keyModified(db, key)
        notifyKeyspaceEvent(.string, "incrby", key, db)
        c.pointee.reply.appendInteger(value)
    }

    mutating func incrbyfloatCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        let incr = c.pointee.arg(2)
        let db = c.pointee.db
        let slot = lookupSlot(db, key)
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        var out = [UInt8](repeating: 0, count: 5200)
        var outLength = 0
        var status: Int32 = 0
        if let slot {
            let e = Entry(slot.pointee!)
            if e.type != .string {
                addWrongType(c)
                return
            }
            status = withUnsafeMutableBytes(of: &scratch) { raw in
                let v = stringBytes(e, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                return v.base.withMemoryRebound(to: CChar.self, capacity: v.count) { vp in
                    incr.base.withMemoryRebound(to: CChar.self, capacity: incr.count) { ip in
                        out.withUnsafeMutableBufferPointer { o in
                            o.baseAddress!.withMemoryRebound(to: CChar.self, capacity: o.count) { op in
                                tandem_incrbyfloat(vp, v.count, ip, incr.count, op, o.count, &outLength)
                            }
                        }
                    }
                }
            }
        } else {
            status = incr.base.withMemoryRebound(to: CChar.self, capacity: incr.count) { ip in
                out.withUnsafeMutableBufferPointer { o in
                    o.baseAddress!.withMemoryRebound(to: CChar.self, capacity: o.count) { op in
                        tandem_incrbyfloat(nil, 0, ip, incr.count, op, o.count, &outLength)
                    }
                }
            }
        }
        if status == 1 {
            addError(c, "-ERR value is not a valid float\r\n")
            return
        }
        if status == 2 {
            addError(c, "-ERR increment would produce NaN or Infinity\r\n")
            return
        }
        out.withUnsafeBufferPointer { o in
            let v = ByteView(o.baseAddress!, outLength)
            let n = Entry.makeString(key: key, value: v, encodeInt: false)
            n.lru = newEntryLRU
            if let slot {
                n.expireAt = Entry(slot.pointee!).expireAt
                dbs[db].replace(at: slot, with: n)
            } else {
                addKey(db, n)
            }
            c.pointee.reply.appendBulk(v)
            propagateInstead(db, ByteView("SET"), key, v, ByteView("KEEPTTL"))
        }
        dirty += 1
        keyModified(db, key)
        notifyKeyspaceEvent(.string, "incrbyfloat", key, db)
    }
}
