/*
 * Hash commands — Redis 7.0's t_hash.c, replies and errors byte for byte.
 *
 * Storage and the listpack -> hashtable conversion live in Keyspace/HashStore.swift; this
 * file parses arguments, applies Redis's order of checks (argument errors that Redis detects
 * before the key lookup come first here too), and writes replies. Reads hand out views into
 * the hash's memory, which are copied once, into the reply buffer.
 *
 * Order of replies: a listpack replies in insertion order, exactly as Redis; a hashtable in
 * its table order, which (like Redis's) is unspecified. HRANDFIELD and HSCAN follow Redis's
 * strategies (a listpack is returned whole by one HSCAN call, with cursor 0).
 */
import CTandem
import Keyspace
import Platform
import RESP

enum HashCommand: UInt8 {
    case hset, hsetnx, hget, hmset, hmget, hdel, hlen, hstrlen, hexists, hkeys, hvals, hgetall
    case hincrby, hincrbyfloat, hrandfield, hscan
}

enum HashCommands {
    static let k1: (Int, Int, Int) = (1, 1, 1)

    static let specs: [CommandSpec] = [
        .init("hset", .hashes(.hset), -4, [.write, .denyoom, .fast], keys: k1, "hash", "2.0.0",
              "Set the string value of a hash field"),
        .init("hsetnx", .hashes(.hsetnx), 4, [.write, .denyoom, .fast], keys: k1, "hash", "2.0.0",
              "Set the value of a hash field, only if the field does not exist"),
        .init("hget", .hashes(.hget), 3, [.readonly, .fast], keys: k1, "hash", "2.0.0",
              "Get the value of a hash field"),
        .init("hmset", .hashes(.hmset), -4, [.write, .denyoom, .fast], keys: k1, "hash", "2.0.0",
              "Set multiple hash fields to multiple values"),
        .init("hmget", .hashes(.hmget), -3, [.readonly, .fast], keys: k1, "hash", "2.0.0",
              "Get the values of all the given hash fields"),
        .init("hdel", .hashes(.hdel), -3, [.write, .fast], keys: k1, "hash", "2.0.0",
              "Delete one or more hash fields"),
        .init("hlen", .hashes(.hlen), 2, [.readonly, .fast], keys: k1, "hash", "2.0.0",
              "Get the number of fields in a hash"),
        .init("hstrlen", .hashes(.hstrlen), 3, [.readonly, .fast], keys: k1, "hash", "3.2.0",
              "Get the length of the value of a hash field"),
        .init("hexists", .hashes(.hexists), 3, [.readonly, .fast], keys: k1, "hash", "2.0.0",
              "Determine if a hash field exists"),
        .init("hkeys", .hashes(.hkeys), 2, [.readonly], keys: k1, "hash", "2.0.0", "Get all the fields in a hash"),
        .init("hvals", .hashes(.hvals), 2, [.readonly], keys: k1, "hash", "2.0.0", "Get all the values in a hash"),
        .init("hgetall", .hashes(.hgetall), 2, [.readonly], keys: k1, "hash", "2.0.0",
              "Get all the fields and values in a hash"),
        .init("hincrby", .hashes(.hincrby), 4, [.write, .denyoom, .fast], keys: k1, "hash", "2.0.0",
              "Increment the integer value of a hash field by the given number"),
        .init("hincrbyfloat", .hashes(.hincrbyfloat), 4, [.write, .denyoom, .fast], keys: k1, "hash", "2.6.0",
              "Increment the float value of a hash field by the given amount"),
        .init("hrandfield", .hashes(.hrandfield), -2, [.readonly], keys: k1, "hash", "6.2.0",
              "Get one or multiple random fields from a hash"),
        .init("hscan", .hashes(.hscan), -3, [.readonly], keys: k1, "hash", "2.8.0",
              "Incrementally iterate hash fields and associated values"),
    ]
}

extension Server {
    mutating func hashCommand(_ c: ClientRef, _ id: HashCommand) {
        switch id {
        case .hset: hsetCommand(c, hmset: false)
        case .hmset: hsetCommand(c, hmset: true)
        case .hsetnx: hsetnxCommand(c)
        case .hget: hgetCommand(c)
        case .hmget: hmgetCommand(c)
        case .hdel: hdelCommand(c)
        case .hlen: hlenCommand(c)
        case .hstrlen: hstrlenCommand(c)
        case .hexists: hexistsCommand(c)
        case .hkeys: hgetallCommand(c, fields: true, values: false)
        case .hvals: hgetallCommand(c, fields: false, values: true)
        case .hgetall: hgetallCommand(c, fields: true, values: true)
        case .hincrby: hincrbyCommand(c)
        case .hincrbyfloat: hincrbyfloatCommand(c)
        case .hrandfield: hrandfieldCommand(c)
        case .hscan: hscanCommand(c)
        }
    }

    /// Mixes a hash value into a DEBUG DIGEST the way Redis's xorObjectDigest does: per pair,
    /// a digest of the field mixed with the value, XORed into the total (order-independent).
    static func hashDigest(_ e: Entry, _ digest: inout [UInt8]) {
        var pair = [UInt8](repeating: 0, count: 20)
        HashStore.forEach(e) { f, v in
            for i in 0..<20 { pair[i] = 0 }
            f.withBytes { b in mixDigest(&pair, b.base, b.count) }
            v.withBytes { b in mixDigest(&pair, b.base, b.count) }
            pair.withUnsafeBytes { xorDigest(&digest, $0.baseAddress, 20) }
        }
    }

    // MARK: - Helpers

    @inline(__always)
    static func addHashValue(_ c: ClientRef, _ v: PackedValue) {
        switch v {
        case .bytes(let b): c.pointee.reply.appendBulk(b)
        case .int(let i): c.pointee.reply.appendBulkInteger(i)
        }
    }

    /// Redis's hashTypeLookupWriteOrCreate: the hash at argument 1, created empty (listpack)
    /// when absent; nil after replying WRONGTYPE.
    @inline(__always)
    mutating func hashForWrite(_ c: ClientRef) -> Entry? {
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .hash, forWrite: true)
        if !ok { return nil }
        if let found { return found }
        return addAggregate(c.pointee.db, key, .hash, .listpack, payload: HashStore.newListpackPayload())
    }

    /// Sets one field under the server's listpack thresholds.
    @inline(__always)
    @discardableResult
    func hashSet(_ e: Entry, _ field: ByteView, _ value: ByteView) -> Bool {
        HashStore.set(e, field, value, maxEntries: settings.hashMaxListpackEntries,
                      maxValue: settings.hashMaxListpackValue)
    }

    /// The end of every successful write: WATCH/blocking signal and the dirty counter.
    @inline(__always)
    mutating func hashWritten(_ c: ClientRef, changes: Int, event: StaticString) {
        keyModified(c.pointee.db, c.pointee.arg(1))
        notifyKeyspaceEvent(.hash, event, c.pointee.arg(1), c.pointee.db)
        dirty += Int64(changes)
    }

    // MARK: - HSET HMSET HSETNX

    mutating func hsetCommand(_ c: ClientRef, hmset: Bool) {
        let argc = c.pointee.argc
        if argc % 2 == 1 {
            addError(c, hmset ? "-ERR wrong number of arguments for 'hmset' command\r\n"
                : "-ERR wrong number of arguments for 'hset' command\r\n")
            return
        }
        guard let e = hashForWrite(c) else { return }
        var created = 0
        var i = 2
        while i < argc {
            if hashSet(e, c.pointee.arg(i), c.pointee.arg(i + 1)) { created += 1 }
            i += 2
        }
        if hmset { addOK(c) } else { c.pointee.reply.appendInteger(Int64(created)) }
        hashWritten(c, changes: (argc - 2) / 2, event: "hset")
    }

    mutating func hsetnxCommand(_ c: ClientRef) {
        guard let e = hashForWrite(c) else { return }
        let field = c.pointee.arg(2)
        if HashStore.get(e, field) != nil {
            c.pointee.reply.appendInteger(0)
            return
        }
        hashSet(e, field, c.pointee.arg(3))
        c.pointee.reply.appendInteger(1)
        hashWritten(c, changes: 1, event: "hset")
    }

    // MARK: - HGET HMGET HLEN HSTRLEN HEXISTS

    mutating func hgetCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        guard let e, let v = HashStore.get(e, c.pointee.arg(2)) else {
            addNull(c)
            return
        }
        Self.addHashValue(c, v)
    }

    mutating func hmgetCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        let argc = c.pointee.argc
        c.pointee.reply.appendArrayHeader(argc - 2)
        for i in 2..<argc {
            if let e, let v = HashStore.get(e, c.pointee.arg(i)) {
                Self.addHashValue(c, v)
            } else {
                addNull(c)
            }
        }
    }

    mutating func hlenCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        c.pointee.reply.appendInteger(Int64(e.map { HashStore.count($0) } ?? 0))
    }

    mutating func hstrlenCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        var n = 0
        if let e, let v = HashStore.get(e, c.pointee.arg(2)) { n = v.length }
        c.pointee.reply.appendInteger(Int64(n))
    }

    mutating func hexistsCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        var found = false
        if let e { found = HashStore.get(e, c.pointee.arg(2)) != nil }
        c.pointee.reply.appendInteger(found ? 1 : 0)
    }

    // MARK: - HDEL

    mutating func hdelCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        let (e, ok) = lookupTyped(c, key, .hash, forWrite: true)
        if !ok { return }
        guard let e else {
            c.pointee.reply.appendInteger(0)
            return
        }
        var deleted = 0
        var emptied = false
        for i in 2..<c.pointee.argc {
            if HashStore.delete(e, c.pointee.arg(i)) {
                deleted += 1
                if HashStore.count(e) == 0 {
                    emptied = true
                    break
                }
            }
        }
        if deleted > 0 { hashWritten(c, changes: deleted, event: "hdel") }
        if emptied { deleteEmptied(c.pointee.db, key) }
        c.pointee.reply.appendInteger(Int64(deleted))
    }

    // MARK: - HKEYS HVALS HGETALL

    /// HGETALL replies a map (RESP3) or flat pair array; HKEYS and HVALS an array.
    mutating func hgetallCommand(_ c: ClientRef, fields: Bool, values: Bool) {
        let both = fields && values
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        let resp3 = c.pointee.resp3
        let n = e.map { HashStore.count($0) } ?? 0
        if both { c.pointee.reply.appendMapHeader(n, resp3: resp3) } else { c.pointee.reply.appendArrayHeader(n) }
        guard let e else { return }
        HashStore.forEach(e) { f, v in
            if fields { Self.addHashValue(c, f) }
            if values { Self.addHashValue(c, v) }
        }
    }

    // MARK: - HINCRBY HINCRBYFLOAT

    mutating func hincrbyCommand(_ c: ClientRef) {
        guard let incr = c.pointee.arg(3).int64 else {
            addNotInteger(c)
            return
        }
        guard let e = hashForWrite(c) else { return }
        let field = c.pointee.arg(2)
        var value: Int64 = 0
        if let current = HashStore.get(e, field) {
            switch current {
            case .int(let i): value = i
            case .bytes(let b):
                guard let i = b.int64 else {
                    addError(c, "-ERR hash value is not an integer\r\n")
                    return
                }
                value = i
            }
        }
        if (incr < 0 && value < 0 && incr < Int64.min - value) || (incr > 0 && value > 0 && incr > Int64.max - value) {
            addError(c, "-ERR increment or decrement would overflow\r\n")
            return
        }
        value += incr
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = IntFormat.write(value, to: p)
            hashSet(e, field, ByteView(UnsafePointer(p), n))
        }
        c.pointee.reply.appendInteger(value)
        hashWritten(c, changes: 1, event: "hincrby")
    }

    /// Runs tandem_incrbyfloat (long double arithmetic and formatting, as Redis's
    /// INCRBYFLOAT/HINCRBYFLOAT) on `value` (nil for 0) plus `incr`, writing the result into
    /// `out`. Status: 0 ok, 1 unparsable value or increment, 2 NaN or infinite result.
    static func incrByFloat(_ value: ByteView?, _ incr: ByteView, _ out: UnsafeMutableBufferPointer<CChar>,
                            _ length: inout Int) -> Int32 {
        incr.base.withMemoryRebound(to: CChar.self, capacity: incr.count) { ip in
            guard let value else {
                return tandem_incrbyfloat(nil, 0, ip, incr.count, out.baseAddress!, out.count, &length)
            }
            return value.base.withMemoryRebound(to: CChar.self, capacity: value.count) { vp in
                tandem_incrbyfloat(vp, value.count, ip, incr.count, out.baseAddress!, out.count, &length)
            }
        }
    }

    mutating func hincrbyfloatCommand(_ c: ClientRef) {
        let incr = c.pointee.arg(3)
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 5200) { out in
            var length = 0
            // The increment alone first: Redis rejects it before looking at the key.
            switch Self.incrByFloat(nil, incr, out, &length) {
            case 1:
                addError(c, "-ERR value is not a valid float\r\n")
                return
            case 2:
                addError(c, "-ERR value is NaN or Infinity\r\n")
                return
            default: break
            }
            guard let e = hashForWrite(c) else { return }
            let field = c.pointee.arg(2)
            if let current = HashStore.get(e, field) {
                let status = current.withBytes { Self.incrByFloat($0, incr, out, &length) }
                if status == 1 {
                    addError(c, "-ERR hash value is not a float\r\n")
                    return
                }
                if status == 2 {
                    addError(c, "-ERR increment would produce NaN or Infinity\r\n")
                    return
                }
            }
            let result = UnsafeRawPointer(out.baseAddress!).assumingMemoryBound(to: UInt8.self)
            let v = ByteView(result, length)
            hashSet(e, field, v)
            c.pointee.reply.appendBulk(v)
            propagateInstead(c.pointee.db, ByteView("HSET"), c.pointee.arg(1), field, v)
            hashWritten(c, changes: 1, event: "hincrbyfloat")
        }
    }

    // MARK: - HRANDFIELD

    mutating func hrandfieldCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc >= 3 {
            guard let l = c.pointee.arg(2).int64 else {
                addNotInteger(c)
                return
            }
            if l == Int64.min {
                addError(c,
                    "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
                return
            }
            if argc > 4 || (argc == 4 && !c.pointee.arg(3).equalsLowercase("withvalues")) {
                addSyntaxError(c)
                return
            }
            let withValues = argc == 4
            if withValues && (l < -(Int64.max / 2) || l > Int64.max / 2) {
                addError(c, "-ERR value is out of range\r\n")
                return
            }
            hrandfieldWithCount(c, l, withValues: withValues)
            return
        }
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        guard let e else {
            addNull(c)
            return
        }
        if e.encoding == .listpack {
            Self.addHashValue(c, HashStore.randomListpackPair(e).0)
        } else {
            c.pointee.reply.appendBulk(HashStore.randomTablePair(e).0)
        }
    }

    /// One HRANDFIELD element: the field, or with values a [field, value] pair (nested in
    /// RESP3, flat in RESP2).
    @inline(__always)
    static func addRandomPair(_ c: ClientRef, _ f: PackedValue, _ v: PackedValue, withValues: Bool) {
        if withValues && c.pointee.resp3 { c.pointee.reply.appendArrayHeader(2) }
        addHashValue(c, f)
        if withValues { addHashValue(c, v) }
    }

    /// Redis's hrandfieldWithCountCommand: a negative count samples with repetition; a
    /// positive one returns distinct fields, the whole hash when it asks for at least that.
    mutating func hrandfieldWithCount(_ c: ClientRef, _ l: Int64, withValues: Bool) {
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        guard let e = found, l != 0 else {
            c.pointee.reply.append("*0\r\n" as StaticString)
            return
        }
        let unique = l > 0
        let count = Int(l.magnitude)
        let size = HashStore.count(e)
        let flat = withValues && !c.pointee.resp3
        if !unique || count == 1 {
            c.pointee.reply.appendArrayHeader(flat ? count * 2 : count)
            if e.encoding == .listpack {
                let pairs = HashStore.pairs(e)
                // A client past its output limit is closed: stop (a huge count would not end).
                for _ in 0..<count {
                    if c.pointee.reply.overLimit { break }
                    let (f, v) = pairs[HashStore.random(below: pairs.count)]
                    Self.addRandomPair(c, f, v, withValues: withValues)
                }
            } else {
                for _ in 0..<count {
                    if c.pointee.reply.overLimit { break }
                    let (f, v) = HashStore.randomTablePair(e)
                    Self.addRandomPair(c, .bytes(f), .bytes(v), withValues: withValues)
                }
            }
            return
        }
        let replySize = min(count, size)
        c.pointee.reply.appendArrayHeader(flat ? replySize * 2 : replySize)
        if count >= size {
            HashStore.forEach(e) { f, v in Self.addRandomPair(c, f, v, withValues: withValues) }
            return
        }
        if e.encoding == .hashtable && count * 3 <= size {
            // Few of many: random picks until `count` distinct ones (Redis's CASE 4).
            var seen = Set<UnsafeRawPointer>()
            while seen.count < count {
                let (f, v) = HashStore.randomTablePair(e)
                if seen.insert(UnsafeRawPointer(f.base)).inserted {
                    Self.addRandomPair(c, .bytes(f), .bytes(v), withValues: withValues)
                }
            }
            return
        }
        // Selection sampling: each pair is taken with probability needed/remaining, in order.
        var needed = count
        var remaining = size
        HashStore.forEach(e) { f, v in
            if needed > 0 && HashStore.random(below: remaining) < needed {
                Self.addRandomPair(c, f, v, withValues: withValues)
                needed -= 1
            }
            remaining -= 1
        }
    }

    // MARK: - HSCAN

    mutating func hscanCommand(_ c: ClientRef) {
        guard var cursor = Self.parseCursor(c.pointee.arg(2)) else {
            addError(c, "-ERR invalid cursor\r\n")
            return
        }
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .hash, forWrite: false)
        if !ok { return }
        guard let e = found else {
            c.pointee.reply.append("*2\r\n$1\r\n0\r\n*0\r\n" as StaticString)
            return
        }
        guard let options = parseScanOptions(c, from: 3, allowType: false) else { return }
        let count = options.count
        let pattern = options.pattern
        var pairs: [(PackedValue, PackedValue)]
        if e.encoding == .listpack {
            pairs = HashStore.pairs(e)
            cursor = 0
        } else {
            // As Redis: stop at the end, after count*10 bucket visits, or with `count` elements
            // (fields and values both count).
            pairs = []
            var iterations = count * 10
            repeat {
                cursor = HashStore.scan(e, cursor: cursor) { f, v in pairs.append((.bytes(f), .bytes(v))) }
                iterations -= 1
            } while cursor != 0 && iterations >= 0 && pairs.count * 2 < count
        }
        c.pointee.reply.appendArrayHeader(2)
        c.pointee.reply.appendBulk(String(cursor))
        let header = c.pointee.reply.reserveDeferredHeader()
        var n = 0
        for (f, v) in pairs {
            if let pattern, !f.withBytes({ Glob.match(pattern, $0) }) { continue }
            Self.addHashValue(c, f)
            Self.addHashValue(c, v)
            n += 2
        }
        c.pointee.reply.patchHeader(at: header, prefix: 42, n)
    }
}
