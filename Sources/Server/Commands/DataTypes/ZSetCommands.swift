/*
 * Sorted set commands — Redis 7.0's t_zset.c, replies and errors byte for byte.
 *
 * Storage and the two encodings are in Keyspace/ZSetStore.swift and SkipList.swift; every
 * range here is reduced to a rank interval there, then walked or removed.
 *
 * Parsing follows Redis's order exactly (it decides which error a bad command gets):
 * options and numbers first, then the key lookup (WRONGTYPE), then the work.
 *
 * The blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP) live with the blocking layer; they serve a
 * client through `zsetPop` below, which carries the whole "pop, reply, delete if emptied,
 * signal, count" sequence, so blocking and non-blocking pops cannot drift apart.
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

enum ZSetCommand: UInt8 {
    case zadd, zincrby, zrem, zcard, zscore, zmscore, zrank, zrevrank
    case zrange, zrangebyscore, zrevrangebyscore, zrangebylex, zrevrangebylex, zrevrange, zrangestore
    case zcount, zlexcount, zpopmin, zpopmax, zmpop
    case bzpopmin, bzpopmax, bzmpop
    case zremrangebyrank, zremrangebyscore, zremrangebylex, zscan, zrandmember
    case zunionstore, zinterstore, zdiffstore, zunion, zinter, zdiff, zintercard
}

enum ZSetCommands {
    static let k1: (Int, Int, Int) = (1, 1, 1)
    static let none: (Int, Int, Int) = (0, 0, 0)

    static let specs: [CommandSpec] = [
        .init("zadd", .sortedSets(.zadd), -4, [.write, .denyoom, .fast], keys: k1, "sorted-set", "1.2.0",
              "Add one or more members to a sorted set, or update its score if it already exists"),
        .init("zincrby", .sortedSets(.zincrby), 4, [.write, .denyoom, .fast], keys: k1, "sorted-set", "1.2.0",
              "Increment the score of a member in a sorted set"),
        .init("zrem", .sortedSets(.zrem), -3, [.write, .fast], keys: k1, "sorted-set", "1.2.0",
              "Remove one or more members from a sorted set"),
        .init("zcard", .sortedSets(.zcard), 2, [.readonly, .fast], keys: k1, "sorted-set", "1.2.0",
              "Get the number of members in a sorted set"),
        .init("zscore", .sortedSets(.zscore), 3, [.readonly, .fast], keys: k1, "sorted-set", "1.2.0",
              "Get the score associated with the given member in a sorted set"),
        .init("zmscore", .sortedSets(.zmscore), -3, [.readonly, .fast], keys: k1, "sorted-set", "6.2.0",
              "Get the score associated with the given members in a sorted set"),
        .init("zrank", .sortedSets(.zrank), 3, [.readonly, .fast], keys: k1, "sorted-set", "2.0.0",
              "Determine the index of a member in a sorted set"),
        .init("zrevrank", .sortedSets(.zrevrank), 3, [.readonly, .fast], keys: k1, "sorted-set", "2.0.0",
              "Determine the index of a member in a sorted set, with scores ordered from high to low"),
        .init("zrange", .sortedSets(.zrange), -4, [.readonly], keys: k1, "sorted-set", "1.2.0",
              "Return a range of members in a sorted set"),
        .init("zrangebyscore", .sortedSets(.zrangebyscore), -4, [.readonly], keys: k1, "sorted-set", "1.0.5",
              "Return a range of members in a sorted set, by score"),
        .init("zrevrangebyscore", .sortedSets(.zrevrangebyscore), -4, [.readonly], keys: k1, "sorted-set", "2.2.0",
              "Return a range of members in a sorted set, by score, with scores ordered from high to low"),
        .init("zrangebylex", .sortedSets(.zrangebylex), -4, [.readonly], keys: k1, "sorted-set", "2.8.9",
              "Return a range of members in a sorted set, by lexicographical range"),
        .init("zrevrangebylex", .sortedSets(.zrevrangebylex), -4, [.readonly], keys: k1, "sorted-set", "2.8.9",
              "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings."),
        .init("zrevrange", .sortedSets(.zrevrange), -4, [.readonly], keys: k1, "sorted-set", "1.2.0",
              "Return a range of members in a sorted set, by index, with scores ordered from high to low"),
        .init("zrangestore", .sortedSets(.zrangestore), -5, [.write, .denyoom], keys: (1, 2, 1), "sorted-set",
              "6.2.0", "Store a range of members from sorted set into another key"),
        .init("zcount", .sortedSets(.zcount), 4, [.readonly, .fast], keys: k1, "sorted-set", "2.0.0",
              "Count the members in a sorted set with scores within the given values"),
        .init("zlexcount", .sortedSets(.zlexcount), 4, [.readonly, .fast], keys: k1, "sorted-set", "2.8.9",
              "Count the number of members in a sorted set between a given lexicographical range"),
        .init("zpopmin", .sortedSets(.zpopmin), -2, [.write, .fast], keys: k1, "sorted-set", "5.0.0",
              "Remove and return members with the lowest scores in a sorted set"),
        .init("zpopmax", .sortedSets(.zpopmax), -2, [.write, .fast], keys: k1, "sorted-set", "5.0.0",
              "Remove and return members with the highest scores in a sorted set"),
        .init("bzpopmin", .sortedSets(.bzpopmin), -3, [.write, .noscript, .fast, .blocking], keys: (1, -2, 1),
              "sorted-set", "5.0.0",
              "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available"),
        .init("bzpopmax", .sortedSets(.bzpopmax), -3, [.write, .noscript, .fast, .blocking], keys: (1, -2, 1),
              "sorted-set", "5.0.0",
              "Remove and return the member with the highest score from one or more sorted sets, or block until one is available"),
        .init("bzmpop", .sortedSets(.bzmpop), -5, [.write, .blocking, .movableKeys], keys: (0, 0, 0), "sorted-set",
              "7.0.0", "Remove and return members with scores in a sorted set or block until one is available"),
        .init("zmpop", .sortedSets(.zmpop), -4, [.write, .movableKeys], keys: none, "sorted-set", "7.0.0",
              "Remove and return members with scores in a sorted set"),
        .init("zremrangebyrank", .sortedSets(.zremrangebyrank), 4, [.write], keys: k1, "sorted-set", "2.0.0",
              "Remove all members in a sorted set within the given indexes"),
        .init("zremrangebyscore", .sortedSets(.zremrangebyscore), 4, [.write], keys: k1, "sorted-set", "1.2.0",
              "Remove all members in a sorted set within the given scores"),
        .init("zremrangebylex", .sortedSets(.zremrangebylex), 4, [.write], keys: k1, "sorted-set", "2.8.9",
              "Remove all members in a sorted set between the given lexicographical range"),
        .init("zscan", .sortedSets(.zscan), -3, [.readonly], keys: k1, "sorted-set", "2.8.0",
              "Incrementally iterate sorted sets elements and associated scores"),
        .init("zrandmember", .sortedSets(.zrandmember), -2, [.readonly], keys: k1, "sorted-set", "6.2.0",
              "Get one or multiple random elements from a sorted set"),
        .init("zunionstore", .sortedSets(.zunionstore), -4, [.write, .denyoom, .movableKeys], keys: k1, "sorted-set", "2.0.0",
              "Add multiple sorted sets and store the resulting sorted set in a new key"),
        .init("zinterstore", .sortedSets(.zinterstore), -4, [.write, .denyoom, .movableKeys], keys: k1, "sorted-set", "2.0.0",
              "Intersect multiple sorted sets and store the resulting sorted set in a new key"),
        .init("zdiffstore", .sortedSets(.zdiffstore), -4, [.write, .denyoom, .movableKeys], keys: k1, "sorted-set", "6.2.0",
              "Subtract multiple sorted sets and store the resulting sorted set in a new key"),
        .init("zunion", .sortedSets(.zunion), -3, [.readonly, .movableKeys], keys: none, "sorted-set", "6.2.0",
              "Add multiple sorted sets"),
        .init("zinter", .sortedSets(.zinter), -3, [.readonly, .movableKeys], keys: none, "sorted-set", "6.2.0",
              "Intersect multiple sorted sets"),
        .init("zdiff", .sortedSets(.zdiff), -3, [.readonly, .movableKeys], keys: none, "sorted-set", "6.2.0",
              "Subtract multiple sorted sets"),
        .init("zintercard", .sortedSets(.zintercard), -3, [.readonly, .movableKeys], keys: none, "sorted-set", "7.0.0",
              "Intersect multiple sorted sets and return the cardinality of the result"),
    ]
}

extension Server {
    mutating func zsetCommand(_ c: ClientRef, _ id: ZSetCommand) {
        switch id {
        case .zadd: zaddGeneric(c, incr: false)
        case .zincrby: zaddGeneric(c, incr: true)
        case .zrem: zremCommand(c)
        case .zcard: zcardCommand(c)
        case .zscore: zscoreCommand(c)
        case .zmscore: zmscoreCommand(c)
        case .zrank: zrankCommand(c, reverse: false)
        case .zrevrank: zrankCommand(c, reverse: true)
        case .zrange: zrangeGeneric(c, from: 1, store: false, type: .auto, reverse: nil)
        case .zrangestore: zrangeGeneric(c, from: 2, store: true, type: .auto, reverse: nil)
        case .zrevrange: zrangeGeneric(c, from: 1, store: false, type: .rank, reverse: true)
        case .zrangebyscore: zrangeGeneric(c, from: 1, store: false, type: .score, reverse: false)
        case .zrevrangebyscore: zrangeGeneric(c, from: 1, store: false, type: .score, reverse: true)
        case .zrangebylex: zrangeGeneric(c, from: 1, store: false, type: .lex, reverse: false)
        case .zrevrangebylex: zrangeGeneric(c, from: 1, store: false, type: .lex, reverse: true)
        case .zcount: zcountCommand(c, lex: false)
        case .zlexcount: zcountCommand(c, lex: true)
        case .bzpopmin: bzpopCommand(c, max: false)
        case .bzpopmax: bzpopCommand(c, max: true)
        case .bzmpop: bzmpopCommand(c)
        case .zpopmin: zpopCommand(c, max: false)
        case .zpopmax: zpopCommand(c, max: true)
        case .zmpop: zmpopCommand(c)
        case .zremrangebyrank: zremrangeCommand(c, .rank)
        case .zremrangebyscore: zremrangeCommand(c, .score)
        case .zremrangebylex: zremrangeCommand(c, .lex)
        case .zscan: zscanCommand(c)
        case .zrandmember: zrandmemberCommand(c)
        case .zunionstore: zsetOperation(c, .union, numkeysAt: 2, store: true, cardinalityOnly: false)
        case .zinterstore: zsetOperation(c, .inter, numkeysAt: 2, store: true, cardinalityOnly: false)
        case .zdiffstore: zsetOperation(c, .diff, numkeysAt: 2, store: true, cardinalityOnly: false)
        case .zunion: zsetOperation(c, .union, numkeysAt: 1, store: false, cardinalityOnly: false)
        case .zinter: zsetOperation(c, .inter, numkeysAt: 1, store: false, cardinalityOnly: false)
        case .zdiff: zsetOperation(c, .diff, numkeysAt: 1, store: false, cardinalityOnly: false)
        case .zintercard: zsetOperation(c, .inter, numkeysAt: 1, store: false, cardinalityOnly: true)
        }
    }

    /// Mixes a zset value into a DEBUG DIGEST the way Redis's xorObjectDigest does: per
    /// member, eledigest = mix(member), mix("%.17g" of score); digest ^= eledigest.
    static func zsetDigest(_ e: Entry, _ digest: inout [UInt8]) {
        let n = ZSetStore.count(e)
        var buf = [CChar](repeating: 0, count: 64)
        ZSetStore.forEach(e, from: 0, to: n - 1, reverse: false) { member, score in
            var ele = [UInt8](repeating: 0, count: 20)
            mixDigest(&ele, member.base, member.count)
            let len = buf.withUnsafeMutableBufferPointer { b in
                withVaList([score]) { vsnprintf(b.baseAddress!, 64, "%.17g", $0) }
            }
            buf.withUnsafeBytes { mixDigest(&ele, $0.baseAddress, Int(len)) }
            ele.withUnsafeBytes { xorDigest(&digest, $0.baseAddress, 20) }
        }
    }

    // MARK: - Parsing

    /// strtod over the argument as a C string (stops at an embedded NUL, as Redis does);
    /// nil unless it consumed everything up to there and is not NaN.
    static func zStrtod(_ v: ByteView, from: Int) -> Double? {
        var len = v.count - from
        if let nul = memchr(v.base + from, 0, len) { len = UnsafeRawPointer(nul) - UnsafeRawPointer(v.base + from) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: len + 1) { buf -> Double? in
            let p = buf.baseAddress!
            if len > 0 { memcpy(p, v.base + from, len) }
            p[len] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let d = strtod(p, &end)
            if end!.pointee != 0 || d.isNaN { return nil }
            return d
        }
    }

    /// Redis's zslParseRange: "1.5", "(1.5", "-inf", "+inf".
    static func zParseScoreRange(_ minArg: ByteView, _ maxArg: ByteView) -> ScoreRange? {
        func bound(_ v: ByteView) -> (Double, Bool)? {
            if v.count > 0 && v[0] == 40 {  // '('
                guard let d = zStrtod(v, from: 1) else { return nil }
                return (d, true)
            }
            guard let d = zStrtod(v, from: 0) else { return nil }
            return (d, false)
        }
        guard let lo = bound(minArg), let hi = bound(maxArg) else { return nil }
        return ScoreRange(min: lo.0, max: hi.0, minExclusive: lo.1, maxExclusive: hi.1)
    }

    /// Redis's zslParseLexRange: "-", "+", "[x", "(x".
    static func zParseLexRange(_ minArg: ByteView, _ maxArg: ByteView) -> LexRange? {
        func bound(_ v: ByteView) -> LexBound? {
            if v.count == 0 { return nil }
            let rest = ByteView(v.base + 1, v.count - 1)
            switch v[0] {
            case 43: return v.count == 1 ? LexBound(kind: .plusInfinity, value: rest, exclusive: true) : nil
            case 45: return v.count == 1 ? LexBound(kind: .minusInfinity, value: rest, exclusive: true) : nil
            case 40: return LexBound(kind: .value, value: rest, exclusive: true)
            case 91: return LexBound(kind: .value, value: rest, exclusive: false)
            default: return nil
            }
        }
        guard let lo = bound(minArg), let hi = bound(maxArg) else { return nil }
        return LexRange(min: lo, max: hi)
    }

    /// The encoding a new key gets for a first member of `firstLength` bytes (7.0's ZADD).
    func zNewIsListpack(_ firstLength: Int) -> Bool {
        settings.zsetMaxListpackEntries != 0 && firstLength <= settings.zsetMaxListpackValue
    }

    @inline(__always)
    func zReplyDouble(_ c: ClientRef, _ d: Double) { c.pointee.reply.appendDouble(d, resp3: c.pointee.resp3) }

    /// One element of a range reply: [member, score] pairs in RESP3, flat in RESP2.
    @inline(__always)
    func zEmit(_ c: ClientRef, _ member: ByteView, _ score: Double, withScores: Bool) {
        if withScores && c.pointee.resp3 { c.pointee.reply.appendArrayHeader(2) }
        c.pointee.reply.appendBulk(member)
        if withScores { c.pointee.reply.appendDouble(score, resp3: c.pointee.resp3) }
    }

    @inline(__always)
    func zArrayHeader(_ c: ClientRef, _ n: Int, withScores: Bool) {
        c.pointee.reply.appendArrayHeader(withScores && !c.pointee.resp3 ? n * 2 : n)
    }

    /// After a write: signal, count, and delete the key if the set became empty.
    mutating func zWritten(_ c: ClientRef, _ e: Entry, _ key: ByteView, changes: Int, event: StaticString) {
        if changes == 0 { return }
        let db = c.pointee.db
        notifyKeyspaceEvent(.zset, event, key, db)
        if ZSetStore.count(e) == 0 { deleteEmptied(db, key) }
        keyModified(db, key)
        dirty += Int64(changes)
    }

    // MARK: - ZADD ZINCRBY ZREM

    /// ZADD and ZINCRBY (Redis's zaddGenericCommand).
    mutating func zaddGeneric(_ c: ClientRef, incr: Bool) {
        var flags: ZAddFlags = incr ? [.incr] : []
        var ch = false
        var scoreIdx = 2
        let argc = c.pointee.argc
        while scoreIdx < argc {
            let o = c.pointee.arg(scoreIdx)
            if o.equalsLowercase("nx") { flags.insert(.nx) }
            else if o.equalsLowercase("xx") { flags.insert(.xx) }
            else if o.equalsLowercase("ch") { ch = true }
            else if o.equalsLowercase("incr") { flags.insert(.incr) }
            else if o.equalsLowercase("gt") { flags.insert(.gt) }
            else if o.equalsLowercase("lt") { flags.insert(.lt) }
            else { break }
            scoreIdx += 1
        }
        let elements = argc - scoreIdx
        if elements % 2 != 0 || elements == 0 {
            addSyntaxError(c)
            return
        }
        let pairs = elements / 2
        if flags.contains(.nx) && flags.contains(.xx) {
            addError(c, "-ERR XX and NX options at the same time are not compatible\r\n")
            return
        }
        if (flags.contains(.gt) && flags.contains(.nx)) || (flags.contains(.lt) && flags.contains(.nx))
            || (flags.contains(.gt) && flags.contains(.lt)) {
            addError(c, "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n")
            return
        }
        if flags.contains(.incr) && pairs > 1 {
            addError(c, "-ERR INCR option supports a single increment-element pair\r\n")
            return
        }
        // Validate every score before changing anything (all or nothing).
        var j = 0
        while j < pairs {
            if c.pointee.arg(scoreIdx + j * 2).double == nil {
                addError(c, "-ERR value is not a valid float\r\n")
                return
            }
            j += 1
        }
        let key = c.pointee.arg(1)
        let db = c.pointee.db
        let (found, ok) = lookupTyped(c, key, .zset, forWrite: true)
        guard ok else { return }
        var added = 0, updated = 0, processed = 0
        var last = 0.0
        if let e = found ?? createZSet(c, key, flags: flags, firstMember: c.pointee.arg(scoreIdx + 1)) {
            let maxEntries = settings.zsetMaxListpackEntries
            let maxValue = settings.zsetMaxListpackValue
            j = 0
            while j < pairs {
                let score = c.pointee.arg(scoreIdx + j * 2).double!
                switch ZSetStore.add(e, c.pointee.arg(scoreIdx + j * 2 + 1), score, flags,
                                     maxEntries: maxEntries, maxValue: maxValue) {
                case .added(let s): added += 1; processed += 1; last = s
                case .updated(let s): updated += 1; processed += 1; last = s
                case .unchanged(let s): processed += 1; last = s
                case .skipped: break
                case .nan:
                    addError(c, "-ERR resulting score is not a number (NaN)\r\n")
                    if added + updated > 0 {
                        keyModified(db, key)
                        notifyKeyspaceEvent(.zset, flags.contains(.incr) ? "zincr" : "zadd", key, db)
                    }
                    return
                }
                j += 1
            }
        }
        if added + updated > 0 {
            keyModified(db, key)
            notifyKeyspaceEvent(.zset, flags.contains(.incr) ? "zincr" : "zadd", key, db)
            dirty += Int64(added + updated)
        }
        if flags.contains(.incr) {
            if processed > 0 { zReplyDouble(c, last) } else { addNull(c) }
        } else {
            c.pointee.reply.appendInteger(Int64(ch ? added + updated : added))
        }
    }

    /// Creates the key for ZADD/ZINCRBY unless XX makes that pointless.
    mutating func createZSet(_ c: ClientRef, _ key: ByteView, flags: ZAddFlags, firstMember: ByteView) -> Entry? {
        if flags.contains(.xx) { return nil }
        let (enc, payload) = ZSetStore.makeEmpty(listpack: zNewIsListpack(firstMember.count))
        return addAggregate(c.pointee.db, key, .zset, enc, payload: payload)
    }

    mutating func zremCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .zset, forWrite: true)
        guard ok else { return }
        guard let e = found else {
            c.pointee.reply.appendInteger(0)
            return
        }
        var deleted = 0
        var i = 2
        while i < c.pointee.argc {
            if ZSetStore.remove(e, c.pointee.arg(i)) {
                deleted += 1
                if ZSetStore.count(e) == 0 { break }
            }
            i += 1
        }
        zWritten(c, e, key, changes: deleted, event: "zrem")
        c.pointee.reply.appendInteger(Int64(deleted))
    }

    // MARK: - ZCARD ZSCORE ZMSCORE ZRANK

    mutating func zcardCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .zset, forWrite: false)
        guard ok else { return }
        c.pointee.reply.appendInteger(Int64(e.map { ZSetStore.count($0) } ?? 0))
    }

    mutating func zscoreCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .zset, forWrite: false)
        guard ok else { return }
        if let e, let s = ZSetStore.score(e, c.pointee.arg(2)) { zReplyDouble(c, s) } else { addNull(c) }
    }

    mutating func zmscoreCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .zset, forWrite: false)
        guard ok else { return }
        let argc = c.pointee.argc
        c.pointee.reply.appendArrayHeader(argc - 2)
        for i in 2..<argc {
            if let e, let s = ZSetStore.score(e, c.pointee.arg(i)) { zReplyDouble(c, s) } else { addNull(c) }
        }
    }

    mutating func zrankCommand(_ c: ClientRef, reverse: Bool) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .zset, forWrite: false)
        guard ok else { return }
        guard let e, let r = ZSetStore.rank(e, c.pointee.arg(2)) else {
            addNull(c)
            return
        }
        c.pointee.reply.appendInteger(Int64(reverse ? ZSetStore.count(e) - 1 - r : r))
    }

    // MARK: - ZRANGE family

    enum ZRangeType { case auto, rank, score, lex }

    /// Redis's zrangeGenericCommand for ZRANGE, ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBYSCORE
    /// and Z[REV]RANGEBYLEX. `from` is the source key's argument index.
    mutating func zrangeGeneric(_ c: ClientRef, from: Int, store: Bool, type fixedType: ZRangeType, reverse fixedReverse: Bool?) {
        var type = fixedType
        var reverse = fixedReverse
        var withScores = false
        var offset: Int64 = 0
        var limit: Int64 = -1
        let argc = c.pointee.argc
        var j = from + 3
        while j < argc {
            let o = c.pointee.arg(j)
            let left = argc - j - 1
            if !store && o.equalsLowercase("withscores") {
                withScores = true
            } else if o.equalsLowercase("limit") && left >= 2 {
                guard let off = c.pointee.arg(j + 1).int64, let lim = c.pointee.arg(j + 2).int64 else {
                    addNotInteger(c)
                    return
                }
                offset = off
                limit = lim
                j += 2
            } else if reverse == nil && o.equalsLowercase("rev") {
                reverse = true
            } else if type == .auto && o.equalsLowercase("bylex") {
                type = .lex
            } else if type == .auto && o.equalsLowercase("byscore") {
                type = .score
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }
        let rev = reverse ?? false
        if type == .auto { type = .rank }
        if limit != -1 && type == .rank {
            addError(c, "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n")
            return
        }
        if withScores && type == .lex {
            addError(c, "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n")
            return
        }
        var minArg = c.pointee.arg(from + 1)
        var maxArg = c.pointee.arg(from + 2)
        if rev && type != .rank { swap(&minArg, &maxArg) }
        var start: Int64 = 0, end: Int64 = 0
        var scoreRange: ScoreRange? = nil
        var lexRange: LexRange? = nil
        switch type {
        case .auto, .rank:
            guard let s = minArg.int64, let e = maxArg.int64 else {
                addNotInteger(c)
                return
            }
            start = s
            end = e
        case .score:
            guard let r = Self.zParseScoreRange(minArg, maxArg) else {
                addError(c, "-ERR min or max is not a float\r\n")
                return
            }
            scoreRange = r
        case .lex:
            guard let r = Self.zParseLexRange(minArg, maxArg) else {
                addError(c, "-ERR min or max not valid string range item\r\n")
                return
            }
            lexRange = r
        }
        let (found, ok) = lookupTyped(c, c.pointee.arg(from), .zset, forWrite: false)
        guard ok else { return }
        // The selected ranks, in reply order.
        var lo = 0, hi = -1
        if let e = found {
            let n = ZSetStore.count(e)
            switch type {
            case .auto, .rank:
                var s = start < 0 ? Int64(n) + start : start
                var t = end < 0 ? Int64(n) + end : end
                if s < 0 { s = 0 }
                if !(s > t || s >= Int64(n)) {
                    if t >= Int64(n) { t = Int64(n) - 1 }
                    lo = Int(s)
                    hi = Int(t)
                    if rev { (lo, hi) = (n - 1 - hi, n - 1 - lo) }
                }
            case .score:
                (lo, hi) = ZSetStore.ranks(e, scoreRange!)
            case .lex:
                (lo, hi) = ZSetStore.ranks(e, lexRange!, walk: rev ? .reverse : .forward)
            }
            if type != .rank && lo <= hi {
                // LIMIT offset count: a negative offset selects nothing, a negative count everything.
                if offset < 0 || offset > Int64(hi - lo) {
                    hi = lo - 1
                } else if rev {
                    hi -= Int(offset)
                    if limit >= 0 && limit < Int64(hi - lo + 1) { lo = hi - Int(limit) + 1 }
                } else {
                    lo += Int(offset)
                    if limit >= 0 && limit < Int64(hi - lo + 1) { hi = lo + Int(limit) - 1 }
                }
            }
        }
        if store {
            zstoreRanks(c, found, lo, hi, reverse: rev)
            return
        }
        let count = max(0, hi - lo + 1)
        zArrayHeader(c, count, withScores: withScores)
        if let e = found, count > 0 {
            ZSetStore.forEach(e, from: lo, to: hi, reverse: rev) { m, s in zEmit(c, m, s, withScores: withScores) }
        }
    }

    /// ZRANGESTORE's result: ranks lo...hi of `src` into the destination (argument 1).
    mutating func zstoreRanks(_ c: ClientRef, _ src: Entry?, _ lo: Int, _ hi: Int, reverse: Bool) {
        let dst = c.pointee.arg(1)
        let db = c.pointee.db
        let n = max(0, hi - lo + 1)
        guard let src, n > 0 else {
            if deleteKey(db, dst) {
                keyModified(db, dst)
                notifyKeyspaceEvent(.generic, "del", dst, db)
                dirty += 1
            }
            c.pointee.reply.appendInteger(0)
            return
        }
        let (enc, payload) = ZSetStore.makeEmpty(listpack: settings.zsetMaxListpackEntries != 0)
        let e = Entry.allocate(key: dst, valueCapacity: 0)
        e.type = .zset
        e.encoding = enc
        e.payload = payload
        let maxEntries = settings.zsetMaxListpackEntries
        let maxValue = settings.zsetMaxListpackValue
        ZSetStore.forEach(src, from: lo, to: hi, reverse: reverse) { m, s in
            _ = ZSetStore.add(e, m, s, [], maxEntries: maxEntries, maxValue: maxValue)
        }
        storeEntry(db, e, keepTTL: false)
        keyModified(db, dst)
        notifyKeyspaceEvent(.zset, "zrangestore", dst, db)
        dirty += 1
        c.pointee.reply.appendInteger(Int64(n))
    }

    // MARK: - ZCOUNT ZLEXCOUNT

    mutating func zcountCommand(_ c: ClientRef, lex: Bool) {
        var lo = 0, hi = -1
        var scoreRange: ScoreRange? = nil
        var lexRange: LexRange? = nil
        if lex {
            guard let r = Self.zParseLexRange(c.pointee.arg(2), c.pointee.arg(3)) else {
                addError(c, "-ERR min or max not valid string range item\r\n")
                return
            }
            lexRange = r
        } else {
            guard let r = Self.zParseScoreRange(c.pointee.arg(2), c.pointee.arg(3)) else {
                addError(c, "-ERR min or max is not a float\r\n")
                return
            }
            scoreRange = r
        }
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .zset, forWrite: false)
        guard ok else { return }
        if let e = found {
            (lo, hi) = lex ? ZSetStore.ranks(e, lexRange!) : ZSetStore.ranks(e, scoreRange!)
        }
        c.pointee.reply.appendInteger(Int64(max(0, hi - lo + 1)))
    }

    // MARK: - ZREMRANGEBY*

    mutating func zremrangeCommand(_ c: ClientRef, _ type: ZRangeType) {
        var start: Int64 = 0, end: Int64 = 0
        var scoreRange: ScoreRange? = nil
        var lexRange: LexRange? = nil
        switch type {
        case .score:
            guard let r = Self.zParseScoreRange(c.pointee.arg(2), c.pointee.arg(3)) else {
                addError(c, "-ERR min or max is not a float\r\n")
                return
            }
            scoreRange = r
        case .lex:
            guard let r = Self.zParseLexRange(c.pointee.arg(2), c.pointee.arg(3)) else {
                addError(c, "-ERR min or max not valid string range item\r\n")
                return
            }
            lexRange = r
        default:
            guard let s = c.pointee.arg(2).int64, let t = c.pointee.arg(3).int64 else {
                addNotInteger(c)
                return
            }
            start = s
            end = t
        }
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .zset, forWrite: true)
        guard ok else { return }
        guard let e = found else {
            c.pointee.reply.appendInteger(0)
            return
        }
        let n = ZSetStore.count(e)
        var lo = 0, hi = -1
        switch type {
        case .score: (lo, hi) = ZSetStore.ranks(e, scoreRange!)
        case .lex: (lo, hi) = ZSetStore.ranks(e, lexRange!, walk: .forward)
        default:
            var s = start < 0 ? Int64(n) + start : start
            var t = end < 0 ? Int64(n) + end : end
            if s < 0 { s = 0 }
            if !(s > t || s >= Int64(n)) {
                if t >= Int64(n) { t = Int64(n) - 1 }
                lo = Int(s)
                hi = Int(t)
            }
        }
        let removed = ZSetStore.removeRanks(e, from: lo, to: hi)
        let event: StaticString = type == .score ? "zremrangebyscore" : type == .lex ? "zremrangebylex" : "zremrangebyrank"
        zWritten(c, e, key, changes: removed, event: event)
        c.pointee.reply.appendInteger(Int64(removed))
    }

    // MARK: - ZPOPMIN ZPOPMAX ZMPOP

    mutating func zpopCommand(_ c: ClientRef, max: Bool) {
        if c.pointee.argc > 3 {
            addSyntaxError(c)
            return
        }
        var count = -1
        if c.pointee.argc == 3 {
            guard let n = c.pointee.arg(2).int64, n >= 0 else {
                addError(c, "-ERR value is out of range, must be positive\r\n")
                return
            }
            count = Int(n)
        }
        zsetPop(c, firstKey: 1, keyCount: 1, max: max, emitKey: false, count: count,
                nested: c.pointee.resp3 && count != -1, nilWhenEmpty: false)
    }

    mutating func zmpopCommand(_ c: ClientRef) {
        guard let a = parseMultiPop(c, numkeysAt: 1, directions: ("min", "max")) else { return }
        zsetPop(c, firstKey: a.firstKey, keyCount: a.keyCount, max: !a.firstDirection, emitKey: true, count: a.count,
                nested: true, nilWhenEmpty: true)
    }

    /// The one pop routine (Redis's genericZpopCommand), for ZPOPMIN/ZPOPMAX, ZMPOP and the
    /// blocking layer's BZPOPMIN/BZPOPMAX/BZMPOP.
    ///
    /// Looks at the keys in arguments firstKey..<firstKey+keyCount and pops from the first
    /// non-empty sorted set (WRONGTYPE stops at the first non-zset key), up to `count`
    /// members (-1: one, the single-element form) from the low end or the `max` end. Replies:
    ///  - emitKey false, nested false: flat [m, s, m, s...]        (ZPOPMIN, RESP2 or no count)
    ///  - emitKey false, nested true:  [[m, s], ...]               (ZPOPMIN count, RESP3)
    ///  - emitKey true,  nested false: [key, m, s, ...]            (BZPOPMIN)
    ///  - emitKey true,  nested true:  [key, [[m, s], ...]]        (ZMPOP, BZMPOP)
    /// With no candidate: a null array when `nilWhenEmpty`, else an empty array. Deletes the
    /// key when emptied, signals it and counts `dirty`. Returns the number popped (0 when
    /// nothing was found — a blocking caller then blocks; it must check types itself or rely
    /// on the WRONGTYPE reply already sent, signalled by returning -1).
    @discardableResult
    mutating func zsetPop(_ c: ClientRef, firstKey: Int, keyCount: Int, max: Bool, emitKey: Bool, count: Int,
                          nested: Bool, nilWhenEmpty: Bool) -> Int {
        let db = c.pointee.db
        var found: Entry? = nil
        var keyIdx = firstKey
        while keyIdx < firstKey + keyCount {
            let (e, ok) = lookupTyped(c, c.pointee.arg(keyIdx), .zset, forWrite: true)
            if !ok { return -1 }
            if let e {
                found = e
                break
            }
            keyIdx += 1
        }
        guard let e = found else {
            if nilWhenEmpty { c.pointee.reply.appendNullArray(resp3: c.pointee.resp3) } else {
                c.pointee.reply.appendArrayHeader(0)
            }
            return 0
        }
        if count == 0 {
            c.pointee.reply.appendArrayHeader(0)
            return 0
        }
        let key = c.pointee.arg(keyIdx)
        let want = count == -1 ? 1 : count
        let n = Swift.min(want, ZSetStore.count(e))
        switch (emitKey, nested) {
        case (false, false): c.pointee.reply.appendArrayHeader(n * 2)
        case (false, true): c.pointee.reply.appendArrayHeader(n)
        case (true, false):
            c.pointee.reply.appendArrayHeader(n * 2 + 1)
            c.pointee.reply.appendBulk(key)
        case (true, true):
            c.pointee.reply.appendArrayHeader(2)
            c.pointee.reply.appendBulk(key)
            c.pointee.reply.appendArrayHeader(n)
        }
        let resp3 = c.pointee.resp3
        ZSetStore.pop(e, max: max, count: n) { m, s in
            if nested { c.pointee.reply.appendArrayHeader(2) }
            c.pointee.reply.appendBulk(m)
            c.pointee.reply.appendDouble(s, resp3: resp3)
        }
        notifyKeyspaceEvent(.zset, max ? "zpopmax" : "zpopmin", key, db)
        if ZSetStore.count(e) == 0 { deleteEmptied(db, key) }
        keyModified(db, key)
        dirty += Int64(n)
        if emitKey && nested && propagationEnabled {
            // ZMPOP / BZMPOP travel as what they did: ZPOPMIN|ZPOPMAX key <popped> (Redis 7.0).
            propagateInstead(db, [Array((max ? "ZPOPMAX" : "ZPOPMIN").utf8), key.array, Self.argBytes(Int64(n))])
        }
        return n
    }

    // MARK: - ZSCAN ZRANDMEMBER

    mutating func zscanCommand(_ c: ClientRef) {
        guard let cursor = Self.parseCursor(c.pointee.arg(2)) else {
            addError(c, "-ERR invalid cursor\r\n")
            return
        }
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .zset, forWrite: false)
        guard ok else { return }
        guard let e = found else {
            c.pointee.reply.append("*2\r\n$1\r\n0\r\n*0\r\n" as StaticString)
            return
        }
        guard let options = parseScanOptions(c, from: 3, allowType: false) else { return }
        let count = options.count
        let pattern = options.pattern
        var items: [([UInt8], Double)] = []
        var next = cursor
        var iterations = count * 10
        repeat {
            next = ZSetStore.scan(e, cursor: next) { m, s in items.append((m.array, s)) }
            iterations -= 1
        } while next != 0 && iterations > 0 && items.count * 2 < count
        if let pattern {
            items.removeAll { item in
                item.0.withUnsafeBufferPointer { !Glob.match(pattern, ByteView($0.baseAddress ?? pattern.base, $0.count)) }
            }
        }
        c.pointee.reply.appendArrayHeader(2)
        c.pointee.reply.appendBulkInteger(Int64(bitPattern: next))
        c.pointee.reply.appendArrayHeader(items.count * 2)
        var buf = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        for (m, s) in items {
            if m.isEmpty {
                c.pointee.reply.append("$0\r\n\r\n" as StaticString)
            } else {
                m.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress!, $0.count) }
            }
            withUnsafeMutableBytes(of: &buf) { raw in
                let p = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                let len = Int(tandem_d2string(p, 64, s))
                c.pointee.reply.appendBulk(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), len)
            }
        }
    }

    mutating func zrandmemberCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc >= 3 {
            guard let l = c.pointee.arg(2).int64 else {
                addNotInteger(c)
                return
            }
            if l == Int64.min {
                addError(c, "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
                return
            }
            var withScores = false
            if argc > 4 || (argc == 4 && !c.pointee.arg(3).equalsLowercase("withscores")) {
                addSyntaxError(c)
                return
            } else if argc == 4 {
                withScores = true
                if l < -Int64.max / 2 || l > Int64.max / 2 {
                    addError(c, "-ERR value is out of range\r\n")
                    return
                }
            }
            zrandmemberWithCount(c, l, withScores: withScores)
            return
        }
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .zset, forWrite: false)
        guard ok else { return }
        guard let e = found else {
            addNull(c)
            return
        }
        ZSetStore.withElement(e, atRank: ZSetStore.randomRank(e)) { m, _ in c.pointee.reply.appendBulk(m) }
    }

    mutating func zrandmemberWithCount(_ c: ClientRef, _ l: Int64, withScores: Bool) {
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .zset, forWrite: false)
        guard ok else { return }
        guard let e = found, l != 0 else {
            c.pointee.reply.appendArrayHeader(0)
            return
        }
        let size = ZSetStore.count(e)
        let uniq = l > 0
        let count = Int(l > 0 ? l : -l)
        if !uniq || count == 1 {
            zArrayHeader(c, count, withScores: withScores)
            for _ in 0..<count {
                if c.pointee.reply.overLimit { break }
                ZSetStore.withElement(e, atRank: ZSetStore.randomRank(e)) { m, s in zEmit(c, m, s, withScores: withScores) }
            }
            return
        }
        if count >= size {
            zArrayHeader(c, size, withScores: withScores)
            // The whole set, highest first (as Redis 7.0 replies here).
            ZSetStore.forEach(e, from: 0, to: size - 1, reverse: true) { m, s in zEmit(c, m, s, withScores: withScores) }
            return
        }
        // Distinct random ranks.
        var picked = Set<Int>()
        while picked.count < count { picked.insert(ZSetStore.randomRank(e)) }
        zArrayHeader(c, count, withScores: withScores)
        for r in picked {
            ZSetStore.withElement(e, atRank: r) { m, s in zEmit(c, m, s, withScores: withScores) }
        }
    }
}

// MARK: - ZUNION ZINTER ZDIFF (and STORE), ZINTERCARD

extension Server {
    enum ZSetOp { case union, inter, diff }
    enum ZAggregate { case sum, min, max }

    /// One input of a set operation: a sorted set (or a missing key, which is empty).
    struct ZSource {
        var entry: Entry?
        var weight: Double = 1
        var count: Int { entry.map { ZSetStore.count($0) } ?? 0 }
    }

    /// A detached sorted-set entry holding every member of the set `e` with score 1.
    static func sortedSetFromSet(_ e: Entry) -> Entry {
        let list = SkipList.create()
        SetValue(e).forEach { m in m.withBytes { _ = list.pointee.insert($0, 1) } }
        let t = Entry.allocate(key: ByteView(""), valueCapacity: 0)
        t.type = .zset
        t.encoding = .skiplist
        t.valuePointer = UnsafeMutableRawPointer(list)
        return t
    }

    @inline(__always)
    static func zAggregate(_ target: inout Double, _ v: Double, _ how: ZAggregate) {
        switch how {
        case .sum:
            target += v
            if target.isNaN { target = 0 }
        case .min: if v < target { target = v }
        case .max: if v > target { target = v }
        }
    }

    /// Redis's zunionInterDiffGenericCommand.
    mutating func zsetOperation(_ c: ClientRef, _ op: ZSetOp, numkeysAt: Int, store: Bool, cardinalityOnly: Bool) {
        let argc = c.pointee.argc
        guard let setnum = c.pointee.arg(numkeysAt).int64 else {
            addNotInteger(c)
            return
        }
        if setnum < 1 {
            let name = c.pointee.arg(0).string.lowercased()
            addErrorString(c, "ERR at least 1 input key is needed for '\(name)' command")
            return
        }
        if setnum > Int64(argc - (numkeysAt + 1)) {
            addSyntaxError(c)
            return
        }
        let n = Int(setnum)
        var sources: [ZSource] = []
        sources.reserveCapacity(n)
        // Plain sets are valid inputs (every member scores 1): they are copied into temporary
        // sorted sets, freed when the operation ends.
        var temporaries: [Entry] = []
        defer { for t in temporaries { t.free() } }
        var j = numkeysAt + 1
        for _ in 0..<n {
            let key = c.pointee.arg(j)
            var e = lookupRead(c, key)
            if let found = e, found.type == .set {
                let t = Self.sortedSetFromSet(found)
                temporaries.append(t)
                e = t
            } else if let found = e, found.type != .zset {
                addWrongType(c)
                return
            }
            sources.append(ZSource(entry: e))
            j += 1
        }
        var aggregate = ZAggregate.sum
        var withScores = false
        var limit: Int64 = 0
        while j < argc {
            let remaining = argc - j
            let o = c.pointee.arg(j)
            if op != .diff && !cardinalityOnly && remaining >= n + 1 && o.equalsLowercase("weights") {
                j += 1
                for i in 0..<n {
                    guard let w = c.pointee.arg(j).double else {
                        addError(c, "-ERR weight value is not a float\r\n")
                        return
                    }
                    sources[i].weight = w
                    j += 1
                }
            } else if op != .diff && !cardinalityOnly && remaining >= 2 && o.equalsLowercase("aggregate") {
                let a = c.pointee.arg(j + 1)
                if a.equalsLowercase("sum") { aggregate = .sum }
                else if a.equalsLowercase("min") { aggregate = .min }
                else if a.equalsLowercase("max") { aggregate = .max }
                else {
                    addSyntaxError(c)
                    return
                }
                j += 2
            } else if !store && !cardinalityOnly && o.equalsLowercase("withscores") {
                withScores = true
                j += 1
            } else if cardinalityOnly && remaining >= 2 && o.equalsLowercase("limit") {
                guard let l = c.pointee.arg(j + 1).int64, l >= 0 else {
                    addError(c, "-ERR LIMIT can't be negative\r\n")
                    return
                }
                limit = l
                j += 2
            } else {
                addSyntaxError(c)
                return
            }
        }
        if op != .diff {
            let counts = sources.map(\.count)
            let order = counts.indices.sorted { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }
            sources = order.map { sources[$0] }
        }
        if cardinalityOnly {
            c.pointee.reply.appendInteger(Int64(zInterCard(sources, limit: Int(limit))))
            return
        }
        let acc = SkipList.create()
        switch op {
        case .inter: zInter(sources, aggregate, into: acc)
        case .union: zUnion(sources, aggregate, into: acc)
        case .diff: zDiff(sources, into: acc)
        }
        if store {
            zStoreResult(c, acc, event: op == .union ? "zunionstore" : op == .inter ? "zinterstore" : "zdiffstore")
            return
        }
        let length = acc.pointee.length
        zArrayHeader(c, length, withScores: withScores)
        var node = acc.pointee.first
        while let x = node {
            zEmit(c, SkipList.Node.member(x), SkipList.Node.score(x), withScores: withScores)
            node = SkipList.Node.forward(x, 0)
        }
        SkipList.destroy(acc)
    }

    func zInter(_ src: [ZSource], _ how: ZAggregate, into acc: UnsafeMutablePointer<SkipList>) {
        guard let first = src[0].entry, src[0].count > 0 else { return }
        ZSetStore.forEach(first, from: 0, to: src[0].count - 1, reverse: false) { m, s in
            var score = src[0].weight * s
            if score.isNaN { score = 0 }
            for k in 1..<src.count {
                guard let e = src[k].entry else { return }
                let v: Double
                if e == first { v = s * src[k].weight } else {
                    guard let found = ZSetStore.score(e, m) else { return }
                    v = found * src[k].weight
                }
                Self.zAggregate(&score, v, how)
            }
            acc.pointee.insert(m, score)
        }
    }

    func zInterCard(_ src: [ZSource], limit: Int) -> Int {
        guard let first = src[0].entry, src[0].count > 0 else { return 0 }
        var card = 0
        var n = 0
        let total = src[0].count
        while n < total {
            let hit = ZSetStore.withElement(first, atRank: n) { m, _ -> Bool in
                for k in 1..<src.count {
                    guard let e = src[k].entry else { return false }
                    if e != first && ZSetStore.score(e, m) == nil { return false }
                }
                return true
            }
            if hit {
                card += 1
                if limit > 0 && card >= limit { break }
            }
            n += 1
        }
        return card
    }

    func zUnion(_ src: [ZSource], _ how: ZAggregate, into acc: UnsafeMutablePointer<SkipList>) {
        for k in 0..<src.count {
            guard let e = src[k].entry, src[k].count > 0 else { continue }
            let w = src[k].weight
            ZSetStore.forEach(e, from: 0, to: src[k].count - 1, reverse: false) { m, s in
                var score = w * s
                if score.isNaN { score = 0 }
                if let node = acc.pointee.find(m) {
                    var cur = SkipList.Node.score(node)
                    Self.zAggregate(&cur, score, how)
                    acc.pointee.updateScore(node, cur)
                } else {
                    acc.pointee.insert(m, score)
                }
            }
        }
    }

    func zDiff(_ src: [ZSource], into acc: UnsafeMutablePointer<SkipList>) {
        guard let first = src[0].entry, src[0].count > 0 else { return }
        ZSetStore.forEach(first, from: 0, to: src[0].count - 1, reverse: false) { m, s in
            for k in 1..<src.count {
                if let e = src[k].entry, e == first || ZSetStore.score(e, m) != nil { return }
            }
            acc.pointee.insert(m, s)
        }
    }

    /// Stores a set operation's result under `dest` (argument 1 by default), or deletes it when
    /// empty; `changes` counts as the writes made (GEORADIUS ... STORE: one per member).
    mutating func zStoreResult(_ c: ClientRef, _ acc: UnsafeMutablePointer<SkipList>, event: StaticString,
                               dest: ByteView? = nil, changes: Int = 1) {
        let dst = dest ?? c.pointee.arg(1)
        let db = c.pointee.db
        let length = acc.pointee.length
        if length == 0 {
            SkipList.destroy(acc)
            c.pointee.reply.appendInteger(0)
            if deleteKey(db, dst) {
                keyModified(db, dst)
                notifyKeyspaceEvent(.generic, "del", dst, db)
                dirty += 1
            }
            return
        }
        let e = Entry.allocate(key: dst, valueCapacity: 0)
        e.type = .zset
        e.encoding = .skiplist
        e.valuePointer = UnsafeMutableRawPointer(acc)
        ZSetStore.convertToListpackIfNeeded(e, maxEntries: settings.zsetMaxListpackEntries,
                                            maxValue: settings.zsetMaxListpackValue)
        storeEntry(db, e, keepTTL: false)
        keyModified(db, dst)
        notifyKeyspaceEvent(.zset, event, dst, db)
        dirty += Int64(changes)
        c.pointee.reply.appendInteger(Int64(length))
    }
}
