/*
 * List commands — Redis 7.0's t_list.c, replies and errors byte for byte.
 *
 * Every list is a QuickList (Keyspace/QuickList.swift) and reports the "quicklist" encoding at
 * every size, as Redis 7.0 does. Elements are read as views into the list's nodes and
 * copied once, into the reply buffer; pushes copy each argument once, into a node.
 *
 * The blocking commands (BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH) live with the blocking
 * layer; they serve a client through the two entry points below, `popFromList` and
 * `moveListElement`, which carry the whole "pop, reply, delete if emptied, signal, count"
 * sequence so that blocking and non-blocking pops cannot drift apart.
 */
import CTandem
import Keyspace
import Platform
import RESP

enum ListCommand: UInt8 {
    case lpush, rpush, lpushx, rpushx, lpop, rpop, llen, lrange, lindex, lset, linsert, lrem, ltrim, lpos
    case rpoplpush, lmove, lmpop
    case blpop, brpop, brpoplpush, blmove, blmpop
}

enum ListCommands {
    static let k1: (Int, Int, Int) = (1, 1, 1)

    static let specs: [CommandSpec] = [
        .init("lpush", .lists(.lpush), -3, [.write, .denyoom, .fast], keys: k1, "list", "1.0.0",
              "Prepend one or multiple elements to a list"),
        .init("rpush", .lists(.rpush), -3, [.write, .denyoom, .fast], keys: k1, "list", "1.0.0",
              "Append one or multiple elements to a list"),
        .init("lpushx", .lists(.lpushx), -3, [.write, .denyoom, .fast], keys: k1, "list", "2.2.0",
              "Prepend an element to a list, only if the list exists"),
        .init("rpushx", .lists(.rpushx), -3, [.write, .denyoom, .fast], keys: k1, "list", "2.2.0",
              "Append an element to a list, only if the list exists"),
        .init("lpop", .lists(.lpop), -2, [.write, .fast], keys: k1, "list", "1.0.0",
              "Remove and get the first elements in a list"),
        .init("rpop", .lists(.rpop), -2, [.write, .fast], keys: k1, "list", "1.0.0",
              "Remove and get the last elements in a list"),
        .init("llen", .lists(.llen), 2, [.readonly, .fast], keys: k1, "list", "1.0.0", "Get the length of a list"),
        .init("lrange", .lists(.lrange), 4, [.readonly], keys: k1, "list", "1.0.0",
              "Get a range of elements from a list"),
        .init("lindex", .lists(.lindex), 3, [.readonly], keys: k1, "list", "1.0.0",
              "Get an element from a list by its index"),
        .init("lset", .lists(.lset), 4, [.write, .denyoom], keys: k1, "list", "1.0.0",
              "Set the value of an element in a list by its index"),
        .init("linsert", .lists(.linsert), 5, [.write, .denyoom], keys: k1, "list", "2.2.0",
              "Insert an element before or after another element in a list"),
        .init("lrem", .lists(.lrem), 4, [.write], keys: k1, "list", "1.0.0", "Remove elements from a list"),
        .init("ltrim", .lists(.ltrim), 4, [.write], keys: k1, "list", "1.0.0", "Trim a list to the specified range"),
        .init("lpos", .lists(.lpos), -3, [.readonly], keys: k1, "list", "6.0.6",
              "Return the index of matching elements on a list"),
        .init("rpoplpush", .lists(.rpoplpush), 3, [.write, .denyoom], keys: (1, 2, 1), "list", "1.2.0",
              "Remove the last element in a list, prepend it to another list and return it"),
        .init("lmove", .lists(.lmove), 5, [.write, .denyoom], keys: (1, 2, 1), "list", "6.2.0",
              "Pop an element from a list, push it to another list and return it"),
        // Redis also flags LMPOP "movablekeys" (its keys follow numkeys).
        .init("lmpop", .lists(.lmpop), -4, [.write, .movableKeys], keys: (0, 0, 0), "list", "7.0.0",
              "Pop elements from a list"),
        .init("blpop", .lists(.blpop), -3, [.write, .noscript, .blocking], keys: (1, -2, 1), "list", "2.0.0",
              "Remove and get the first element in a list, or block until one is available"),
        .init("brpop", .lists(.brpop), -3, [.write, .noscript, .blocking], keys: (1, -2, 1), "list", "2.0.0",
              "Remove and get the last element in a list, or block until one is available"),
        .init("brpoplpush", .lists(.brpoplpush), 4, [.write, .denyoom, .noscript, .blocking], keys: (1, 2, 1),
              "list", "2.2.0",
              "Pop an element from a list, push it to another list and return it; or block until one is available"),
        .init("blmove", .lists(.blmove), 6, [.write, .denyoom, .noscript, .blocking], keys: (1, 2, 1), "list",
              "6.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available"),
        .init("blmpop", .lists(.blmpop), -5, [.write, .blocking, .movableKeys], keys: (0, 0, 0), "list", "7.0.0",
              "Pop elements from a list, or block until one is available"),
    ]
}

extension Server {
    mutating func listCommand(_ c: ClientRef, _ id: ListCommand) {
        switch id {
        case .lpush: listPushCommand(c, left: true, onlyIfExists: false)
        case .rpush: listPushCommand(c, left: false, onlyIfExists: false)
        case .lpushx: listPushCommand(c, left: true, onlyIfExists: true)
        case .rpushx: listPushCommand(c, left: false, onlyIfExists: true)
        case .lpop: listPopCommand(c, left: true)
        case .rpop: listPopCommand(c, left: false)
        case .llen: llenCommand(c)
        case .lrange: lrangeCommand(c)
        case .lindex: lindexCommand(c)
        case .lset: lsetCommand(c)
        case .linsert: linsertCommand(c)
        case .lrem: lremCommand(c)
        case .ltrim: ltrimCommand(c)
        case .lpos: lposCommand(c)
        case .rpoplpush: lmoveCommand(c, fromLeft: false, toLeft: true)
        case .lmove: lmoveParsedCommand(c)
        case .lmpop: lmpopCommand(c)
        case .blpop: blockingPopCommand(c, left: true)
        case .brpop: blockingPopCommand(c, left: false)
        case .brpoplpush: blockingMoveCommand(c, fromLeft: false, toLeft: true, timeoutIndex: 3)
        case .blmove: blmoveCommand(c)
        case .blmpop: blmpopCommand(c)
        }
    }

    /// Mixes a list value into a DEBUG DIGEST the way Redis's xorObjectDigest does: every
    /// element in order, integers as their decimal text.
    static func listDigest(_ e: Entry, _ digest: inout [UInt8]) {
        ListStore.list(e).forEach { v in
            v.withBytes { b in mixDigest(&digest, b.base, b.count) }
        }
    }

    // MARK: - Replies

    /// One element as a bulk string.
    @inline(__always)
    static func addListValue(_ c: ClientRef, _ v: PackedValue) {
        switch v {
        case .bytes(let b): c.pointee.reply.appendBulk(b)
        case .int(let i): c.pointee.reply.appendBulkInteger(i)
        }
    }

    /// Redis's addListRangeReply: elements start...end (negative from the tail, clamped) as an
    /// array, from `end` down to `start` when `reverse`.
    mutating func addListRange(_ c: ClientRef, _ list: QuickList, _ start: Int, _ end: Int, reverse: Bool) {
        let llen = list.count
        var s = start
        var e = end
        if s < 0 { s = llen &+ s }
        if e < 0 { e = llen &+ e }
        if s < 0 { s = 0 }
        if s > e || s >= llen {
            c.pointee.reply.append("*0\r\n" as StaticString)
            return
        }
        if e >= llen { e = llen - 1 }
        let n = e - s + 1
        c.pointee.reply.appendArrayHeader(n)
        guard let from = list.position(ofIndex: reverse ? e : s) else { return }
        list.forEach(from: from, forward: !reverse, limit: n) { v in Self.addListValue(c, v) }
    }

    /// Parses an integer argument; replies "not an integer" and returns nil otherwise.
    @inline(__always)
    mutating func listIntArg(_ c: ClientRef, _ i: Int) -> Int? {
        guard let v = c.pointee.arg(i).int64 else {
            addNotInteger(c)
            return nil
        }
        return Int(v)
    }

    /// LEFT / RIGHT (any case): true for left; replies a syntax error and returns nil otherwise.
    mutating func listSide(_ c: ClientRef, _ i: Int) -> Bool? {
        let a = c.pointee.arg(i)
        if a.equalsLowercase("left") { return true }
        if a.equalsLowercase("right") { return false }
        addSyntaxError(c)
        return nil
    }

    // MARK: - Entry points shared with the blocking commands

    /// Pops from the head (`left`) or tail of the non-empty list held by `entry` (the live
    /// entry of `key` in `db`) and replies:
    ///
    ///     count nil, withKey false   the element as a bulk              LPOP / RPOP
    ///     count nil, withKey true    [key, element]                     BLPOP / BRPOP
    ///     count n,   withKey false   up to n elements, popping order    LPOP / RPOP key n
    ///     count n,   withKey true    [key, [up to n elements]]          LMPOP / BLMPOP
    ///
    /// Then signals `keyModified`, deletes the key if the list became empty and adds the
    /// number of popped elements to `dirty`. `count` must be >= 1 when given.
    mutating func popFromList(_ c: ClientRef, db: Int, key: ByteView, entry: Entry, left: Bool, count: Int?,
                              withKey: Bool) {
        let list = ListStore.list(entry)
        var popped = 1
        if withKey {
            c.pointee.reply.appendArrayHeader(2)
            c.pointee.reply.appendBulk(key)
        }
        if let count {
            popped = min(count, list.count)
            if left {
                addListRange(c, list, 0, popped - 1, reverse: false)
                list.deleteHead(popped)
            } else {
                addListRange(c, list, -popped, -1, reverse: true)
                list.deleteTail(popped)
            }
        } else {
            Self.addListValue(c, list.peek(head: left))
            if left { list.deleteHead(1) } else { list.deleteTail(1) }
        }
        keyModified(db, key)
        notifyKeyspaceEvent(.list, left ? "lpop" : "rpop", key, db)
        if list.count == 0 { deleteEmptied(db, key) }
        dirty += Int64(popped)
        if withKey && count != nil && propagationEnabled {
            // LMPOP / BLMPOP travel as what they did: LPOP|RPOP key <popped> (Redis 7.0).
            propagateInstead(db, [Array((left ? "LPOP" : "RPOP").utf8), key.array, Self.argBytes(Int64(popped))])
        }
    }

    /// Moves one element from the non-empty list `source` (entry of `sourceKey`) to the list
    /// `destination` (entry of `destinationKey`, or nil: a new list is created), from the
    /// head or tail to the head or tail, and replies with the element as a bulk. The caller
    /// has checked both types (Redis replies WRONGTYPE for a non-list destination before
    /// popping). Source and destination may be the same list. Signals both keys, deletes an
    /// emptied source, dirty += 1.
    mutating func moveListElement(_ c: ClientRef, db: Int, sourceKey: ByteView, source: Entry,
                                  destinationKey: ByteView, destination: Entry?, fromLeft: Bool, toLeft: Bool) {
        let src = ListStore.list(source)
        Self.withDetachedValue(src.peek(head: fromLeft)) { v in
            if fromLeft { src.deleteHead(1) } else { src.deleteTail(1) }
            let dst: QuickList
            if let destination {
                dst = ListStore.list(destination)
            } else {
                dst = QuickList.create(fill: settings.listMaxListpackSize)
                addAggregate(db, destinationKey, .list, .quicklist, payload: dst.payload)
            }
            dst.push(v, head: toLeft)
            keyModified(db, destinationKey)
            notifyKeyspaceEvent(.list, toLeft ? "lpush" : "rpush", destinationKey, db)
            c.pointee.reply.appendBulk(v)
        }
        keyModified(db, sourceKey)
        notifyKeyspaceEvent(.list, fromLeft ? "lpop" : "rpop", sourceKey, db)
        if src.count == 0 { deleteEmptied(db, sourceKey) }
        dirty += 1
    }

    /// Calls `body` with a copy of `v` that stays valid while its list changes.
    static func withDetachedValue(_ v: PackedValue, _ body: (ByteView) -> Void) {
        switch v {
        case .int:
            v.withBytes(body)
        case .bytes(let b):
            let p = tandem_malloc(max(b.count, 1))!
            if b.count > 0 { memcpy(p, b.base, b.count) }
            body(ByteView(UnsafePointer(p.assumingMemoryBound(to: UInt8.self)), b.count))
            tandem_free(p)
        }
    }

    // MARK: - Push

    /// LPUSH RPUSH LPUSHX RPUSHX
    mutating func listPushCommand(_ c: ClientRef, left: Bool, onlyIfExists: Bool) {
        let db = c.pointee.db
        let key = c.pointee.arg(1)
        let list: QuickList
        if let e = lookupWrite(db, key) {
            if e.type != .list {
                addWrongType(c)
                return
            }
            list = ListStore.list(e)
        } else {
            if onlyIfExists {
                c.pointee.reply.append(":0\r\n" as StaticString)
                return
            }
            list = QuickList.create(fill: settings.listMaxListpackSize)
            addAggregate(db, key, .list, .quicklist, payload: list.payload)
        }
        let argc = c.pointee.argc
        var j = 2
        while j < argc {
            list.push(c.pointee.arg(j), head: left)
            j += 1
        }
        dirty += Int64(argc - 2)
        c.pointee.reply.appendInteger(Int64(list.count))
        keyModified(db, key)
        notifyKeyspaceEvent(.list, left ? "lpush" : "rpush", key, db)
    }

    // MARK: - Pop

    /// LPOP / RPOP key [count]
    mutating func listPopCommand(_ c: ClientRef, left: Bool) {
        let argc = c.pointee.argc
        if argc > 3 {
            addErrorString(c, "ERR wrong number of arguments for '\(left ? "lpop" : "rpop")' command")
            return
        }
        let hasCount = argc == 3
        var count = 0
        if hasCount {
            guard let n = c.pointee.arg(2).int64, n >= 0 else {
                addError(c, "-ERR value is out of range, must be positive\r\n")
                return
            }
            count = Int(n)
        }
        let key = c.pointee.arg(1)
        let (e, ok) = lookupTyped(c, key, .list, forWrite: true)
        guard ok else { return }
        guard let e else {
            if hasCount { c.pointee.reply.appendNullArray(resp3: c.pointee.resp3) } else { addNull(c) }
            return
        }
        if hasCount && count == 0 {
            c.pointee.reply.append("*0\r\n" as StaticString)
            return
        }
        popFromList(c, db: c.pointee.db, key: key, entry: e, left: left, count: hasCount ? count : nil, withKey: false)
    }

    /// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
    mutating func lmpopCommand(_ c: ClientRef) {
        guard let a = parseMultiPop(c, numkeysAt: 1, directions: ("left", "right")) else { return }
        let db = c.pointee.db
        for k in a.keys {
            let key = c.pointee.arg(k)
            if let e = lookupWrite(db, key) {
                if e.type != .list {
                    addWrongType(c)
                    return
                }
                popFromList(c, db: db, key: key, entry: e, left: a.firstDirection, count: a.count, withKey: true)
                return
            }
        }
        c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
    }

    // MARK: - Move

    /// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
    mutating func lmoveParsedCommand(_ c: ClientRef) {
        guard let from = listSide(c, 3), let to = listSide(c, 4) else { return }
        lmoveCommand(c, fromLeft: from, toLeft: to)
    }

    /// LMOVE / RPOPLPUSH after parsing: source and destination are arguments 1 and 2.
    mutating func lmoveCommand(_ c: ClientRef, fromLeft: Bool, toLeft: Bool) {
        let srcKey = c.pointee.arg(1)
        let dstKey = c.pointee.arg(2)
        let (se, ok) = lookupTyped(c, srcKey, .list, forWrite: true)
        guard ok else { return }
        guard let se else {
            addNull(c)
            return
        }
        let (de, dstOK) = lookupTyped(c, dstKey, .list, forWrite: true)
        guard dstOK else { return }
        moveListElement(c, db: c.pointee.db, sourceKey: srcKey, source: se, destinationKey: dstKey, destination: de,
                        fromLeft: fromLeft, toLeft: toLeft)
    }

    // MARK: - Reading

    mutating func llenCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .list, forWrite: false)
        guard ok else { return }
        c.pointee.reply.appendInteger(Int64(e.map { ListStore.list($0).count } ?? 0))
    }

    mutating func lrangeCommand(_ c: ClientRef) {
        guard let start = listIntArg(c, 2), let end = listIntArg(c, 3) else { return }
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .list, forWrite: false)
        guard ok else { return }
        guard let e else {
            c.pointee.reply.append("*0\r\n" as StaticString)
            return
        }
        addListRange(c, ListStore.list(e), start, end, reverse: false)
    }

    mutating func lindexCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .list, forWrite: false)
        guard ok else { return }
        guard let e else {
            addNull(c)
            return
        }
        guard let index = listIntArg(c, 2) else { return }
        let list = ListStore.list(e)
        if let p = list.position(ofIndex: index) {
            Self.addListValue(c, list.value(at: p))
        } else {
            addNull(c)
        }
    }

    /// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
    mutating func lposCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        var rank = 1
        var count = -1
        var maxlen = 0
        var j = 3
        while j < argc {
            let opt = c.pointee.arg(j)
            let more = j + 1 < argc
            if opt.equalsLowercase("rank") && more {
                j += 1
                guard let v = listIntArg(c, j) else { return }
                if v == 0 {
                    addError(c, "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n")
                    return
                }
                rank = v
            } else if opt.equalsLowercase("count") && more {
                j += 1
                guard let v = c.pointee.arg(j).int64, v >= 0 else {
                    addError(c, "-ERR COUNT can't be negative\r\n")
                    return
                }
                count = Int(v)
            } else if opt.equalsLowercase("maxlen") && more {
                j += 1
                guard let v = c.pointee.arg(j).int64, v >= 0 else {
                    addError(c, "-ERR MAXLEN can't be negative\r\n")
                    return
                }
                maxlen = Int(v)
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }
        var forward = true
        if rank < 0 {
            rank = 0 &- rank  // Int.min stays negative, as in Redis: every match then counts
            forward = false
        }
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .list, forWrite: false)
        guard ok else { return }
        guard let e else {
            if count != -1 { c.pointee.reply.append("*0\r\n" as StaticString) } else { addNull(c) }
            return
        }
        let element = c.pointee.arg(2)
        let list = ListStore.list(e)
        let deferred = count != -1 ? c.pointee.reply.reserveDeferredHeader() : -1
        let llen = list.count
        var pos = list.position(ofIndex: forward ? 0 : -1)
        var index = 0
        var matches = 0
        var matchIndex = -1
        var arrayLength = 0
        while let p = pos, maxlen == 0 || index < maxlen {
            if list.value(at: p).equals(element) {
                matches += 1
                matchIndex = forward ? index : llen - index - 1
                if matches >= rank {
                    if deferred < 0 { break }
                    c.pointee.reply.appendInteger(Int64(matchIndex))
                    arrayLength += 1
                    if count != 0 && matches &- rank &+ 1 >= count { break }
                }
            }
            index += 1
            matchIndex = -1
            pos = forward ? list.next(p) : list.previous(p)
        }
        if deferred >= 0 {
            c.pointee.reply.patchHeader(at: deferred, prefix: 42, arrayLength)
        } else if matchIndex != -1 {
            c.pointee.reply.appendInteger(Int64(matchIndex))
        } else {
            addNull(c)
        }
    }

    // MARK: - Writing in the middle

    mutating func lsetCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        let (e, ok) = lookupTyped(c, key, .list, forWrite: true)
        guard ok else { return }
        guard let e else {
            addError(c, "-ERR no such key\r\n")
            return
        }
        guard let index = listIntArg(c, 2) else { return }
        let list = ListStore.list(e)
        guard let p = list.position(ofIndex: index) else {
            addError(c, "-ERR index out of range\r\n")
            return
        }
        list.replace(at: p, with: c.pointee.arg(3))
        addOK(c)
        keyModified(c.pointee.db, key)
        notifyKeyspaceEvent(.list, "lset", key, c.pointee.db)
        dirty += 1
    }

    /// LINSERT key BEFORE|AFTER pivot element
    mutating func linsertCommand(_ c: ClientRef) {
        let side = c.pointee.arg(2)
        let after: Bool
        if side.equalsLowercase("after") {
            after = true
        } else if side.equalsLowercase("before") {
            after = false
        } else {
            addSyntaxError(c)
            return
        }
        let key = c.pointee.arg(1)
        let (e, ok) = lookupTyped(c, key, .list, forWrite: true)
        guard ok else { return }
        guard let e else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        let pivot = c.pointee.arg(3)
        let list = ListStore.list(e)
        var pos = list.position(ofIndex: 0)
        while let p = pos {
            if list.value(at: p).equals(pivot) {
                list.insert(c.pointee.arg(4), at: p, after: after)
                keyModified(c.pointee.db, key)
                notifyKeyspaceEvent(.list, "linsert", key, c.pointee.db)
                dirty += 1
                c.pointee.reply.appendInteger(Int64(list.count))
                return
            }
            pos = list.next(p)
        }
        c.pointee.reply.append(":-1\r\n" as StaticString)
    }

    /// LREM key count element
    mutating func lremCommand(_ c: ClientRef) {
        guard var toRemove = listIntArg(c, 2) else { return }
        let key = c.pointee.arg(1)
        let db = c.pointee.db
        let (e, ok) = lookupTyped(c, key, .list, forWrite: true)
        guard ok else { return }
        guard let e else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        let element = c.pointee.arg(3)
        let list = ListStore.list(e)
        let forward = toRemove >= 0
        if !forward { toRemove = 0 &- toRemove }
        var pos = list.position(ofIndex: forward ? 0 : -1)
        var removed = 0
        while let p = pos {
            if list.value(at: p).equals(element) {
                pos = list.delete(at: p, forward: forward)
                removed += 1
                if toRemove != 0 && removed == toRemove { break }
            } else {
                pos = forward ? list.next(p) : list.previous(p)
            }
        }
        dirty += Int64(removed)
        if removed > 0 {
            keyModified(db, key)
            notifyKeyspaceEvent(.list, "lrem", key, db)
        }
        if list.count == 0 { deleteEmptied(db, key) }
        c.pointee.reply.appendInteger(Int64(removed))
    }

    /// LTRIM key start stop
    mutating func ltrimCommand(_ c: ClientRef) {
        guard var start = listIntArg(c, 2), var end = listIntArg(c, 3) else { return }
        let key = c.pointee.arg(1)
        let db = c.pointee.db
        let (e, ok) = lookupTyped(c, key, .list, forWrite: true)
        guard ok else { return }
        guard let e else {
            addOK(c)
            return
        }
        let list = ListStore.list(e)
        let llen = list.count
        if start < 0 { start = llen &+ start }
        if end < 0 { end = llen &+ end }
        if start < 0 { start = 0 }
        var ltrim = llen
        var rtrim = 0
        if !(start > end || start >= llen) {
            if end >= llen { end = llen - 1 }
            ltrim = start
            rtrim = llen - end - 1
        }
        list.deleteHead(ltrim)
        list.deleteTail(rtrim)
        keyModified(db, key)
        notifyKeyspaceEvent(.list, "ltrim", key, db)
        if list.count == 0 { deleteEmptied(db, key) }
        dirty += Int64(ltrim + rtrim)
        addOK(c)
    }
}
