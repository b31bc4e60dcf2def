/*
 * Set commands — Redis 7.0's t_set.c, replies and errors byte for byte: SADD SREM SMEMBERS
 * SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION
 * SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
 *
 * Values are SetValues (Keyspace/SetStore.swift): an intset while every member is an integer
 * and there are at most `set-max-intset-entries`, a member table otherwise. Replies follow
 * Redis's iteration: intsets in ascending order (observable, so matched exactly), tables in
 * table order (unspecified). Where Redis builds its reply from a fresh result set (SUNION,
 * SDIFF, SPOP of the whole set) so do we, because that result starts as an intset and thus
 * decides both the reply order and the encoding a *STORE leaves behind.
 *
 * RESP3: whole-set replies (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count) are sets
 * (`~`); SRANDMEMBER with a count is an array (it may repeat members); SMISMEMBER an array.
 */
import Keyspace
import Platform
import RESP

enum SetCommand: UInt8 {
    case sadd, srem, smembers, sismember, smismember, scard, spop, srandmember, smove
    case sinter, sintercard, sinterstore, sunion, sunionstore, sdiff, sdiffstore, sscan
}

enum SetCommands {
    static let k1 = CommandTable.k1
    static let kAll = CommandTable.kAll
    static let kStore: (Int, Int, Int) = (1, -1, 1)

    static let specs: [CommandSpec] = [
        .init("sadd", .sets(.sadd), -3, [.write, .denyoom, .fast], keys: k1, "set", "1.0.0",
              "Add one or more members to a set"),
        .init("srem", .sets(.srem), -3, [.write, .fast], keys: k1, "set", "1.0.0",
              "Remove one or more members from a set"),
        .init("smembers", .sets(.smembers), 2, [.readonly], keys: k1, "set", "1.0.0", "Get all the members in a set"),
        .init("sismember", .sets(.sismember), 3, [.readonly, .fast], keys: k1, "set", "1.0.0",
              "Determine if a given value is a member of a set"),
        .init("smismember", .sets(.smismember), -3, [.readonly, .fast], keys: k1, "set", "6.2.0",
              "Returns the membership associated with the given elements for a set"),
        .init("scard", .sets(.scard), 2, [.readonly, .fast], keys: k1, "set", "1.0.0",
              "Get the number of members in a set"),
        .init("spop", .sets(.spop), -2, [.write, .fast], keys: k1, "set", "1.0.0",
              "Remove and return one or multiple random members from a set"),
        .init("srandmember", .sets(.srandmember), -2, [.readonly], keys: k1, "set", "1.0.0",
              "Get one or multiple random members from a set"),
        .init("smove", .sets(.smove), 4, [.write, .fast], keys: (1, 2, 1), "set", "1.0.0",
              "Move a member from one set to another"),
        .init("sinter", .sets(.sinter), -2, [.readonly], keys: kAll, "set", "1.0.0", "Intersect multiple sets"),
        .init("sintercard", .sets(.sintercard), -3, [.readonly, .movableKeys], "set", "7.0.0",
              "Intersect multiple sets and return the cardinality of the result"),
        .init("sinterstore", .sets(.sinterstore), -3, [.write, .denyoom], keys: kStore, "set", "1.0.0",
              "Intersect multiple sets and store the resulting set in a key"),
        .init("sunion", .sets(.sunion), -2, [.readonly], keys: kAll, "set", "1.0.0", "Add multiple sets"),
        .init("sunionstore", .sets(.sunionstore), -3, [.write, .denyoom], keys: kStore, "set", "1.0.0",
              "Add multiple sets and store the resulting set in a key"),
        .init("sdiff", .sets(.sdiff), -2, [.readonly], keys: kAll, "set", "1.0.0", "Subtract multiple sets"),
        .init("sdiffstore", .sets(.sdiffstore), -3, [.write, .denyoom], keys: kStore, "set", "1.0.0",
              "Subtract multiple sets and store the resulting set in a key"),
        .init("sscan", .sets(.sscan), -3, [.readonly], keys: k1, "set", "2.8.0", "Incrementally iterate Set elements"),
    ]
}

extension Server {
    static let outOfRangePositive: StaticString = "-ERR value is out of range, must be positive\r\n"
    static let emptyScan: StaticString = "*2\r\n$1\r\n0\r\n*0\r\n"

    mutating func setTypeCommand(_ c: ClientRef, _ id: SetCommand) {
        let argc = c.pointee.argc
        switch id {
        case .sadd: saddCommand(c)
        case .srem: sremCommand(c)
        case .smembers: sinterGeneric(c, first: 1, count: 1, into: nil)
        case .sismember: sismemberCommand(c)
        case .smismember: smismemberCommand(c)
        case .scard: scardCommand(c)
        case .spop: spopCommand(c)
        case .srandmember: srandmemberCommand(c)
        case .smove: smoveCommand(c)
        case .sinter: sinterGeneric(c, first: 1, count: argc - 1, into: nil)
        case .sintercard: sintercardCommand(c)
        case .sinterstore: sinterGeneric(c, first: 2, count: argc - 2, into: c.pointee.arg(1))
        case .sunion: sunionDiffGeneric(c, first: 1, count: argc - 1, into: nil, diff: false)
        case .sunionstore: sunionDiffGeneric(c, first: 2, count: argc - 2, into: c.pointee.arg(1), diff: false)
        case .sdiff: sunionDiffGeneric(c, first: 1, count: argc - 1, into: nil, diff: true)
        case .sdiffstore: sunionDiffGeneric(c, first: 2, count: argc - 2, into: c.pointee.arg(1), diff: true)
        case .sscan: sscanCommand(c)
        }
    }

    /// Mixes a set value into a DEBUG DIGEST the way Redis's xorObjectDigest does: each
    /// member xor-ed in, so the order does not matter.
    static func setDigest(_ e: Entry, _ digest: inout [UInt8]) {
        SetValue(e).forEach { m in
            m.withBytes { b in xorDigest(&digest, b.base, b.count) }
        }
    }

    // MARK: - Helpers

    @inline(__always)
    func addMember(_ c: ClientRef, _ m: PackedValue) {
        switch m {
        case .int(let v): c.pointee.reply.appendBulkInteger(v)
        case .bytes(let b): c.pointee.reply.appendBulk(b)
        }
    }

    @inline(__always)
    var maxIntset: Int { settings.setMaxIntsetEntries }

    /// The sets named by `count` arguments from `first` (nil for a missing key), looked up as
    /// reads even for the *STORE commands (Redis 7.0 counts keyspace hits for them). Replies
    /// WRONGTYPE and returns nil when one holds another type.
    mutating func lookupSets(_ c: ClientRef, first: Int, count: Int) -> [SetValue?]? {
        var sets: [SetValue?] = []
        sets.reserveCapacity(count)
        for j in 0..<count {
            let (e, ok) = lookupTyped(c, c.pointee.arg(first + j), .set, forWrite: false)
            if !ok { return nil }
            sets.append(e.map { SetValue($0) })
        }
        return sets
    }

    /// Replaces `dst` with `result` (or deletes it when the result is empty), replying the
    /// result's size: the end of every *STORE command. Counts as one change when the
    /// destination was written or deleted.
    mutating func storeSetResult(_ c: ClientRef, _ dst: ByteView, _ result: SetValue, event: StaticString) {
        let db = c.pointee.db
        let deleted = deleteKey(db, dst, lazily: settings.lazyfreeLazyServerDel)
        let n = result.count
        if n > 0 {
            addAggregate(db, dst, .set, result.encoding, payload: result.payload, announceNew: !deleted)
        } else {
            result.free()
        }
        c.pointee.reply.appendInteger(Int64(n))
        if n > 0 || deleted {
            keyModified(db, dst)
            dirty += 1
        }
        if n > 0 {
            notifyKeyspaceEvent(.set, event, dst, db)
        } else if deleted {
            notifyKeyspaceEvent(.generic, "del", dst, db)
        }
    }

    // MARK: - SADD SREM SMOVE

    mutating func saddCommand(_ c: ClientRef) {
        let db = c.pointee.db
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .set, forWrite: true)
        guard ok else { return }
        let e: Entry
        if let found {
            e = found
        } else {
            let v = SetValue.create(for: c.pointee.arg(2))
            e = addAggregate(db, key, .set, v.encoding, payload: v.payload)
        }
        var s = SetValue(e)
        var added: Int64 = 0
        for j in 2..<c.pointee.argc where s.add(c.pointee.arg(j), maxIntsetEntries: maxIntset) {
            added += 1
        }
        s.store(e)
        if added > 0 {
            keyModified(db, key)
            notifyKeyspaceEvent(.set, "sadd", key, db)
        }
        dirty += added
        c.pointee.reply.appendInteger(added)
    }

    mutating func sremCommand(_ c: ClientRef) {
        let db = c.pointee.db
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .set, forWrite: true)
        guard ok else { return }
        guard let e = found else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        var s = SetValue(e)
        var deleted: Int64 = 0
        var emptied = false
        for j in 2..<c.pointee.argc where s.remove(c.pointee.arg(j)) {
            deleted += 1
            if s.count == 0 {
                emptied = true
                break
            }
        }
        s.store(e)
        if deleted > 0 {
            keyModified(db, key)
            notifyKeyspaceEvent(.set, "srem", key, db)
            dirty += deleted
        }
        if emptied { deleteEmptied(db, key) }
        c.pointee.reply.appendInteger(deleted)
    }

    mutating func smoveCommand(_ c: ClientRef) {
        let db = c.pointee.db
        let srcKey = c.pointee.arg(1)
        let dstKey = c.pointee.arg(2)
        let member = c.pointee.arg(3)
        let src = lookupWrite(db, srcKey)
        let dst = lookupWrite(db, dstKey)
        guard let src else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        if src.type != .set || (dst != nil && dst!.type != .set) {
            addWrongType(c)
            return
        }
        if let dst, dst == src {
            c.pointee.reply.append(SetValue(src).contains(member) ? ":1\r\n" : ":0\r\n")
            return
        }
        var s = SetValue(src)
        if !s.remove(member) {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        s.store(src)
        notifyKeyspaceEvent(.set, "srem", srcKey, db)
        if s.count == 0 { deleteEmptied(db, srcKey) }
        let target: Entry
        if let dst {
            target = dst
        } else {
            let v = SetValue.create(for: member)
            target = addAggregate(db, dstKey, .set, v.encoding, payload: v.payload)
        }
        keyModified(db, srcKey)
        dirty += 1
        var d = SetValue(target)
        // The destination changes (and its watchers hear of it) only if the member was new.
        if d.add(member, maxIntsetEntries: maxIntset) {
            dirty += 1
            keyModified(db, dstKey)
            notifyKeyspaceEvent(.set, "sadd", dstKey, db)
        }
        d.store(target)
        c.pointee.reply.append(":1\r\n" as StaticString)
    }

    // MARK: - SISMEMBER SMISMEMBER SCARD

    mutating func sismemberCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .set, forWrite: false)
        guard ok else { return }
        let hit = e.map { SetValue($0).contains(c.pointee.arg(2)) } ?? false
        c.pointee.reply.append(hit ? ":1\r\n" : ":0\r\n")
    }

    mutating func smismemberCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .set, forWrite: false)
        guard ok else { return }
        let argc = c.pointee.argc
        c.pointee.reply.appendArrayHeader(argc - 2)
        let s = e.map { SetValue($0) }
        for j in 2..<argc {
            let hit = s?.contains(c.pointee.arg(j)) ?? false
            c.pointee.reply.append(hit ? ":1\r\n" : ":0\r\n")
        }
    }

    mutating func scardCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .set, forWrite: false)
        guard ok else { return }
        c.pointee.reply.appendInteger(Int64(e.map { SetValue($0).count } ?? 0))
    }

    // MARK: - SPOP

    mutating func spopCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc == 3 {
            spopWithCount(c)
            return
        }
        if argc > 3 {
            addSyntaxError(c)
            return
        }
        let db = c.pointee.db
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .set, forWrite: true)
        guard ok else { return }
        guard let e = found else {
            addNull(c)
            return
        }
        popOneMember(c, db, key, e)
    }

    /// Removes one random member of the set `e` (stored under `key`, non-empty), replies it as
    /// a bulk string, and deletes the key when it became empty. Also the pop step a blocking
    /// layer would call.
    mutating func popOneMember(_ c: ClientRef, _ db: Int, _ key: ByteView, _ e: Entry) {
        var s = SetValue(e)
        let m = s.randomMember()
        addMember(c, m)
        if propagationEnabled { m.withBytes { propagateInstead(db, ByteView("SREM"), key, $0) } }
        _ = s.remove(m)
        s.store(e)
        notifyKeyspaceEvent(.set, "spop", key, db)
        if s.count == 0 { deleteEmptied(db, key) }
        keyModified(db, key)
        dirty += 1
    }

    /// SPOP key count: Redis's three strategies — the whole set; a few random removals; or,
    /// when most of the set goes, keeping a few random members in a new set and replying the
    /// rest (SPOP_MOVE_STRATEGY_MUL = 5).
    mutating func spopWithCount(_ c: ClientRef) {
        guard let n = c.pointee.arg(2).int64, n >= 0 else {
            addError(c, Self.outOfRangePositive)
            return
        }
        let db = c.pointee.db
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .set, forWrite: true)
        guard ok else { return }
        let resp3 = c.pointee.resp3
        guard let e = found, n > 0 else {
            c.pointee.reply.appendSetHeader(0, resp3: resp3)
            return
        }
        var s = SetValue(e)
        let size = s.count
        let count = n >= Int64(size) ? size : Int(n)
        dirty += Int64(count)
        keyModified(db, key)
        notifyKeyspaceEvent(.set, "spop", key, db)
        if count == size {
            // Redis replies through SUNION's code, whose read lookup counts a keyspace hit.
            stats.keyspaceHits += 1
            replySetOperation(c, [s], diff: false)
            deleteEmptied(db, key)
            propagateInstead(db, ByteView("DEL"), key)
            return
        }
        c.pointee.reply.appendSetHeader(count, resp3: resp3)
        let remaining = size - count
        if remaining * 5 > count {
            var removed: [[UInt8]] = []
            for _ in 0..<count {
                let m = s.randomMember()
                addMember(c, m)
                if propagationEnabled { m.withBytes { removed.append($0.array) } }
                _ = s.remove(m)
            }
            // One SREM per member, wrapped in MULTI/EXEC by the batch, as Redis 7.0 sends them.
            for m in removed { propagateInstead(db, [Array("SREM".utf8), key.array, m]) }
            s.store(e)
        } else {
            var kept: SetValue? = nil
            for _ in 0..<remaining {
                let m = s.randomMember()
                if kept == nil {
                    switch m {
                    case .int: kept = SetValue.newIntSet()
                    case .bytes(let b): kept = SetValue.create(for: b)
                    }
                }
                _ = kept!.add(m, maxIntsetEntries: maxIntset)
                _ = s.remove(m)
            }
            var removed: [[UInt8]] = []
            s.forEach { m in
                addMember(c, m)
                if propagationEnabled { m.withBytes { removed.append($0.array) } }
            }
            // One SREM per member, wrapped in MULTI/EXEC by the batch, as Redis 7.0 sends them.
            for m in removed { propagateInstead(db, [Array("SREM".utf8), key.array, m]) }
            s.free()
            kept!.store(e)
        }
    }

    // MARK: - SRANDMEMBER

    mutating func srandmemberCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc == 3 {
            srandmemberWithCount(c)
            return
        }
        if argc > 3 {
            addSyntaxError(c)
            return
        }
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .set, forWrite: false)
        guard ok else { return }
        guard let e = found else {
            addNull(c)
            return
        }
        addMember(c, SetValue(e).randomMember())
    }

    /// SRANDMEMBER key count: a negative count may repeat members; a positive one returns
    /// distinct members, picked by removing from a copy (SRANDMEMBER_SUB_STRATEGY_MUL = 3)
    /// or by sampling until enough distinct ones were seen.
    mutating func srandmemberWithCount(_ c: ClientRef) {
        guard let l = c.pointee.arg(2).int64 else {
            addNotInteger(c)
            return
        }
        if l == Int64.min {
            addError(c, "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
            return
        }
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .set, forWrite: false)
        guard ok else { return }
        guard let e = found, l != 0 else {
            c.pointee.reply.appendArrayHeader(0)
            return
        }
        let s = SetValue(e)
        let count = Int(l.magnitude)
        if l < 0 {
            c.pointee.reply.appendArrayHeader(count)
            for _ in 0..<count {
                if c.pointee.reply.overLimit { break }  // closed for its output limit: stop
                addMember(c, s.randomMember())
            }
            return
        }
        let size = s.count
        if count >= size {
            c.pointee.reply.appendArrayHeader(size)
            s.forEach { addMember(c, $0) }
            return
        }
        var picked: SetValue
        if count * 3 > size {
            picked = s.duplicate()
            while picked.count > count { _ = picked.remove(picked.randomMember()) }
        } else {
            picked = s.isIntSet ? SetValue.newIntSet() : SetValue.newTable()
            while picked.count < count { _ = picked.add(s.randomMember(), maxIntsetEntries: Int.max) }
        }
        c.pointee.reply.appendArrayHeader(count)
        picked.forEach { addMember(c, $0) }
        picked.free()
    }

    // MARK: - SINTER SINTERCARD SINTERSTORE (and SMEMBERS)

    mutating func sintercardCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        guard let numkeys = c.pointee.arg(1).int64, numkeys >= 1 else {
            addError(c, "-ERR numkeys should be greater than 0\r\n")
            return
        }
        if numkeys > Int64(argc - 2) {
            addError(c, "-ERR Number of keys can't be greater than number of args\r\n")
            return
        }
        var limit = 0
        var j = 2 + Int(numkeys)
        while j < argc {
            if c.pointee.arg(j).equalsLowercase("limit") && j < argc - 1 {
                j += 1
                guard let l = c.pointee.arg(j).int64, l >= 0 else {
                    addError(c, "-ERR LIMIT can't be negative\r\n")
                    return
                }
                limit = Int(l)
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }
        sinterGeneric(c, first: 2, count: Int(numkeys), into: nil, cardinalityOnly: true, limit: limit)
    }

    /// Intersection of `count` sets named from argument `first`: replied as a set, counted
    /// (SINTERCARD, stopping at `limit` when non-zero) or stored `into` a key. Walks the
    /// smallest set and keeps the members every other set has.
    mutating func sinterGeneric(_ c: ClientRef, first: Int, count: Int, into dst: ByteView?,
                                cardinalityOnly: Bool = false, limit: Int = 0) {
        guard let found = lookupSets(c, first: first, count: count) else { return }
        let resp3 = c.pointee.resp3
        if found.contains(where: { $0 == nil }) {
            if let dst {
                let db = c.pointee.db
                if deleteKey(db, dst) {
                    keyModified(db, dst)
                    notifyKeyspaceEvent(.generic, "del", dst, db)
                    dirty += 1
                }
                c.pointee.reply.append(":0\r\n" as StaticString)
            } else if cardinalityOnly {
                c.pointee.reply.append(":0\r\n" as StaticString)
            } else {
                c.pointee.reply.appendSetHeader(0, resp3: resp3)
            }
            return
        }
        // Smallest first; ties keep argument order (glibc's qsort is a stable merge sort).
        let sets = found.map { $0! }.enumerated().sorted {
            ($0.element.count, $0.offset) < ($1.element.count, $1.offset)
        }.map(\.element)
        let base = sets[0]
        var result: SetValue? = dst != nil ? SetValue.newIntSet() : nil
        let header = (dst == nil && !cardinalityOnly) ? c.pointee.reply.reserveDeferredHeader() : 0
        var cardinality = 0
        let maxIntset = self.maxIntset
        base.forEachWhile { m in
            for j in 1..<sets.count where sets[j].payload != base.payload {
                if !sets[j].contains(m) { return true }
            }
            if result != nil {
                _ = result!.add(m, maxIntsetEntries: maxIntset)
            } else {
                if !cardinalityOnly { addMember(c, m) }
                cardinality += 1
                if limit > 0 && cardinality >= limit { return false }
            }
            return true
        }
        if let dst, let result {
            storeSetResult(c, dst, result, event: "sinterstore")
        } else if cardinalityOnly {
            c.pointee.reply.appendInteger(Int64(cardinality))
        } else {
            c.pointee.reply.patchHeader(at: header, prefix: resp3 ? 126 : 42, cardinality)
        }
    }

    // MARK: - SUNION SDIFF (and STORE)

    mutating func sunionDiffGeneric(_ c: ClientRef, first: Int, count: Int, into dst: ByteView?, diff: Bool) {
        guard let sets = lookupSets(c, first: first, count: count) else { return }
        let result = unionOrDiff(sets, diff: diff)
        if let dst {
            storeSetResult(c, dst, result, event: diff ? "sdiffstore" : "sunionstore")
        } else {
            c.pointee.reply.appendSetHeader(result.count, resp3: c.pointee.resp3)
            result.forEach { addMember(c, $0) }
            result.free()
        }
    }

    /// Replies the union (or difference) of `sets` as a set, the way Redis's
    /// sunionDiffGenericCommand does (SPOP of a whole set goes through it too).
    func replySetOperation(_ c: ClientRef, _ sets: [SetValue?], diff: Bool) {
        let result = unionOrDiff(sets, diff: diff)
        c.pointee.reply.appendSetHeader(result.count, resp3: c.pointee.resp3)
        result.forEach { addMember(c, $0) }
        result.free()
    }

    /// A new set (starting as an intset, as in Redis) holding the union of `sets`, or the
    /// first minus the others. For the difference, Redis's choice of algorithm is kept —
    /// it decides whether a large intermediate result converted to a table.
    func unionOrDiff(_ sets: [SetValue?], diff: Bool) -> SetValue {
        var result = SetValue.newIntSet()
        let maxIntset = self.maxIntset
        if !diff {
            for s in sets {
                s?.forEach { _ = result.add($0, maxIntsetEntries: maxIntset) }
            }
            return result
        }
        guard let first = sets[0] else { return result }
        var algoOne = 0
        var algoTwo = 0
        for s in sets {
            guard let s else { continue }
            algoOne += first.count
            algoTwo += s.count
        }
        algoOne /= 2
        if algoOne <= algoTwo {
            // Walk the first set, keeping members no other set has. (Redis also orders the
            // others largest first; that changes only how soon a member is rejected.)
            first.forEach { m in
                for j in 1..<sets.count {
                    guard let s = sets[j] else { continue }
                    if s.payload == first.payload || s.contains(m) { return }
                }
                _ = result.add(m, maxIntsetEntries: maxIntset)
            }
        } else {
            // Copy the first set, then remove every member of the others.
            var cardinality = 0
            for (j, s) in sets.enumerated() {
                guard let s else { continue }
                s.forEach { m in
                    if j == 0 {
                        if result.add(m, maxIntsetEntries: maxIntset) { cardinality += 1 }
                    } else if result.remove(m) {
                        cardinality -= 1
                    }
                }
                if cardinality == 0 { break }
            }
        }
        return result
    }

    // MARK: - SSCAN

    mutating func sscanCommand(_ c: ClientRef) {
        guard let cursor = Self.parseCursor(c.pointee.arg(2)) else {
            addError(c, "-ERR invalid cursor\r\n")
            return
        }
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .set, forWrite: false)
        guard ok else { return }
        guard let e = found else {
            c.pointee.reply.append(Self.emptyScan)
            return
        }
        guard let options = parseScanOptions(c, from: 3, allowType: false) else { return }
        let count = options.count
        let pattern = options.pattern
        let s = SetValue(e)
        if s.isIntSet {
            // Small encodings are returned whole in one call, with cursor 0.
            c.pointee.reply.appendArrayHeader(2)
            c.pointee.reply.append("$1\r\n0\r\n" as StaticString)
            let header = c.pointee.reply.reserveDeferredHeader()
            var n = 0
            s.forEach { m in
                m.withBytes { b in
                    if let pattern, !Glob.match(pattern, b) { return }
                    c.pointee.reply.appendBulk(b)
                    n += 1
                }
            }
            c.pointee.reply.patchHeader(at: header, prefix: 42, n)
            return
        }
        var members: [UnsafeMutableRawPointer] = []
        var next = cursor
        var iterations = count * 10
        repeat {
            next = s.scan(cursor: next) { members.append($0.raw) }
            iterations -= 1
        } while next != 0 && iterations > 0 && members.count < count
        c.pointee.reply.appendArrayHeader(2)
        c.pointee.reply.appendBulk(String(next))
        let header = c.pointee.reply.reserveDeferredHeader()
        var n = 0
        for raw in members {
            let m = Entry(raw).key
            if let pattern, !Glob.match(pattern, m) { continue }
            c.pointee.reply.appendBulk(m)
            n += 1
        }
        c.pointee.reply.patchHeader(at: header, prefix: 42, n)
    }
}
