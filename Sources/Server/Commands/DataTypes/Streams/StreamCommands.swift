/*
 * Stream commands — Redis 7.0's t_stream.c: the command table, ID parsing, entry replies, and
 * the commands on the log itself (XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID).
 * Reading (XREAD, XREADGROUP) is in StreamReadCommands.swift, consumer groups (XGROUP, XACK,
 * XPENDING, XCLAIM, XAUTOCLAIM) in StreamGroupCommands.swift, XINFO in StreamInfoCommand.swift.
 *
 * Storage is Keyspace/Stream (Redis's node layout, so the replies, trimming and RDB bytes
 * match redis-server's). Replies and errors are Redis's, byte for byte, and so is the order
 * of checks (argument errors Redis finds before the key lookup come first here too).
 *
 * Propagation follows Redis (docs/dev/propagation.md): XADD travels with its ID made explicit
 * and a `~` trim made exact (`=` and the resulting length or first ID); XTRIM likewise.
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

enum StreamCommand: UInt8 {
    case xadd, xrange, xrevrange, xlen, xdel, xtrim, xsetid, xread, xreadgroup
    case xgroupCreate, xgroupSetid, xgroupDestroy, xgroupCreateconsumer, xgroupDelconsumer, xgroupHelp
    case xack, xpending, xclaim, xautoclaim
    case xinfoStream, xinfoGroups, xinfoConsumers, xinfoHelp
}

enum StreamCommands {
    static let k1: (Int, Int, Int) = (1, 1, 1)
    static let k2: (Int, Int, Int) = (2, 2, 1)
    static let none: (Int, Int, Int) = (0, 0, 0)

    static let specs: [CommandSpec] = [
        .init("xadd", .streams(.xadd), -5, [.write, .denyoom, .fast], keys: k1, "stream", "5.0.0",
              "Appends a new entry to a stream"),
        .init("xrange", .streams(.xrange), -4, [.readonly], keys: k1, "stream", "5.0.0",
              "Return a range of elements in a stream, with IDs matching the specified IDs interval"),
        .init("xrevrange", .streams(.xrevrange), -4, [.readonly], keys: k1, "stream", "5.0.0",
              "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE"),
        .init("xlen", .streams(.xlen), 2, [.readonly, .fast], keys: k1, "stream", "5.0.0",
              "Return the number of entries in a stream"),
        .init("xdel", .streams(.xdel), -3, [.write, .fast], keys: k1, "stream", "5.0.0",
              "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist."),
        .init("xtrim", .streams(.xtrim), -4, [.write], keys: k1, "stream", "5.0.0",
              "Trims the stream to (approximately if '~' is passed) a certain size"),
        .init("xsetid", .streams(.xsetid), -3, [.write, .denyoom, .fast], keys: k1, "stream", "5.0.0",
              "An internal command for replicating stream values"),
        .init("xread", .streams(.xread), -4, [.readonly, .blocking, .movableKeys], keys: none, "stream", "5.0.0",
              "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block."),
        .init("xreadgroup", .streams(.xreadgroup), -7, [.write, .blocking, .movableKeys], keys: none, "stream", "5.0.0",
              "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block."),
        .init("xgroup", .container, -2, [.container], "stream", "5.0.0", "A container for consumer groups commands"),
        .init("xgroup|create", .streams(.xgroupCreate), -5, [.write, .denyoom], keys: k2, "stream", "5.0.0",
              "Create a consumer group."),
        .init("xgroup|setid", .streams(.xgroupSetid), -5, [.write], keys: k2, "stream", "5.0.0",
              "Set a consumer group to an arbitrary last delivered ID value."),
        .init("xgroup|destroy", .streams(.xgroupDestroy), 4, [.write], keys: k2, "stream", "5.0.0",
              "Destroy a consumer group."),
        .init("xgroup|createconsumer", .streams(.xgroupCreateconsumer), 5, [.write, .denyoom], keys: k2, "stream",
              "6.2.0", "Create a consumer in a consumer group."),
        .init("xgroup|delconsumer", .streams(.xgroupDelconsumer), 5, [.write], keys: k2, "stream", "5.0.0",
              "Delete a consumer from a consumer group."),
        .init("xgroup|help", .streams(.xgroupHelp), 2, [.loading, .stale], "stream", "5.0.0",
              "Show helpful text about the different subcommands"),
        .init("xack", .streams(.xack), -4, [.write, .fast], keys: k1, "stream", "5.0.0",
              "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL."),
        .init("xpending", .streams(.xpending), -3, [.readonly], keys: k1, "stream", "5.0.0",
              "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged."),
        .init("xclaim", .streams(.xclaim), -6, [.write, .fast], keys: k1, "stream", "5.0.0",
              "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer."),
        .init("xautoclaim", .streams(.xautoclaim), -6, [.write, .fast], keys: k1, "stream", "6.2.0",
              "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer."),
        .init("xinfo", .container, -2, [.container], "stream", "5.0.0", "A container for stream introspection commands"),
        .init("xinfo|stream", .streams(.xinfoStream), -3, [.readonly], keys: k2, "stream", "5.0.0",
              "Get information about a stream"),
        .init("xinfo|groups", .streams(.xinfoGroups), 3, [.readonly], keys: k2, "stream", "5.0.0",
              "List the consumer groups of a stream"),
        .init("xinfo|consumers", .streams(.xinfoConsumers), 4, [.readonly], keys: k2, "stream", "5.0.0",
              "List the consumers in a consumer group"),
        .init("xinfo|help", .streams(.xinfoHelp), 2, [.loading, .stale], "stream", "5.0.0",
              "Show helpful text about the different subcommands"),
    ]
}

extension Server {
    mutating func streamCommand(_ c: ClientRef, _ id: StreamCommand) {
        switch id {
        case .xadd: xaddCommand(c)
        case .xrange: xrangeCommand(c, reverse: false)
        case .xrevrange: xrangeCommand(c, reverse: true)
        case .xlen: xlenCommand(c)
        case .xdel: xdelCommand(c)
        case .xtrim: xtrimCommand(c)
        case .xsetid: xsetidCommand(c)
        case .xread: xreadCommand(c, group: false)
        case .xreadgroup: xreadCommand(c, group: true)
        case .xgroupCreate, .xgroupSetid, .xgroupDestroy, .xgroupCreateconsumer, .xgroupDelconsumer, .xgroupHelp:
            xgroupCommand(c, id)
        case .xack: xackCommand(c)
        case .xpending: xpendingCommand(c)
        case .xclaim: xclaimCommand(c)
        case .xautoclaim: xautoclaimCommand(c)
        case .xinfoStream, .xinfoGroups, .xinfoConsumers, .xinfoHelp: xinfoCommand(c, id)
        }
    }

    // MARK: - IDs

    static let invalidStreamID: StaticString = "-ERR Invalid stream ID specified as stream command argument\r\n"

    /// Redis's string2ull: a canonical integer that is not negative, else what strtoull accepts
    /// in full (leading blanks, a sign).
    static func parseUnsignedLikeRedis(_ b: ByteView) -> UInt64? {
        if let v = b.int64 { return v < 0 ? nil : UInt64(v) }
        if b.count == 0 { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: b.count + 1) { buf -> UInt64? in
            for i in 0..<b.count { buf[i] = CChar(bitPattern: b[i]) }
            buf[b.count] = 0
            errno = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtoull(buf.baseAddress!, &end, 10)
            if errno == EINVAL || errno == ERANGE { return nil }
            guard let end, end == buf.baseAddress! + b.count, buf[0] != 0 else { return nil }
            return UInt64(v)
        }
    }

    /// Redis's streamGenericParseIDOrReply without the reply: `-`/`+` (unless strict), `ms`,
    /// `ms-seq`, and `ms-*` when `seqGiven` is asked for. Returns the ID and whether its
    /// sequence was given.
    static func parseStreamID(_ b: ByteView, missingSeq: UInt64, strict: Bool, allowStarSeq: Bool = false)
        -> (id: StreamID, seqGiven: Bool)?
    {
        if b.count > 127 { return nil }
        // Redis copies into a C string: an embedded NUL ends it.
        var n = 0
        while n < b.count && b[n] != 0 { n += 1 }
        let s = ByteView(b.base, n)
        if n == 1 && (s[0] == UInt8(ascii: "-") || s[0] == UInt8(ascii: "+")) {
            if strict { return nil }
            return (s[0] == UInt8(ascii: "-") ? .zero : .max, true)
        }
        var dash = -1
        for i in 0..<n where s[i] == UInt8(ascii: "-") {
            dash = i
            break
        }
        guard let ms = parseUnsignedLikeRedis(ByteView(s.base, dash < 0 ? n : dash)) else { return nil }
        if dash < 0 { return (StreamID(ms: ms, seq: missingSeq), true) }
        let seqText = ByteView(s.base + dash + 1, n - dash - 1)
        if allowStarSeq && seqText.count == 1 && seqText[0] == UInt8(ascii: "*") {
            return (StreamID(ms: ms, seq: 0), false)
        }
        guard let seq = parseUnsignedLikeRedis(seqText) else { return nil }
        return (StreamID(ms: ms, seq: seq), true)
    }

    /// Parses an ID, replying Redis's error on failure.
    mutating func streamIDOrReply(_ c: ClientRef, _ b: ByteView, missingSeq: UInt64 = 0, strict: Bool) -> StreamID? {
        guard let r = Self.parseStreamID(b, missingSeq: missingSeq, strict: strict) else {
            addError(c, Self.invalidStreamID)
            return nil
        }
        return r.id
    }

    /// Redis's streamParseIntervalIDOrReply: `(id` is exclusive (parsed strictly). Returns the
    /// ID and whether it was exclusive.
    mutating func streamIntervalIDOrReply(_ c: ClientRef, _ b: ByteView, missingSeq: UInt64) -> (StreamID, Bool)? {
        if b.count > 1 && b[0] == UInt8(ascii: "(") {
            guard let id = streamIDOrReply(c, ByteView(b.base + 1, b.count - 1), missingSeq: missingSeq, strict: true)
            else { return nil }
            return (id, true)
        }
        guard let id = streamIDOrReply(c, b, missingSeq: missingSeq, strict: false) else { return nil }
        return (id, false)
    }

    /// The first ID of an interval (`(id` excludes `id`), replying Redis's errors.
    mutating func streamRangeStartOrReply(_ c: ClientRef, _ b: ByteView) -> StreamID? {
        guard let (id, exclusive) = streamIntervalIDOrReply(c, b, missingSeq: 0) else { return nil }
        if !exclusive { return id }
        guard let next = id.successor else {
            addError(c, "-ERR invalid start ID for the interval\r\n")
            return nil
        }
        return next
    }

    /// The last ID of an interval (`(id` excludes `id`; a bare `ms` means `ms-<max>`).
    mutating func streamRangeEndOrReply(_ c: ClientRef, _ b: ByteView) -> StreamID? {
        guard let (id, exclusive) = streamIntervalIDOrReply(c, b, missingSeq: .max) else { return nil }
        if !exclusive { return id }
        guard let prev = id.predecessor else {
            addError(c, "-ERR invalid end ID for the interval\r\n")
            return nil
        }
        return prev
    }

    /// The stream in `e` (type already checked).
    @inline(__always)
    static func streamOf(_ e: Entry) -> UnsafeMutablePointer<Stream> { StreamStore.stream(e) }

    // MARK: - Replies

    func addStreamID(_ c: ClientRef, _ id: StreamID) {
        id.withText { c.pointee.reply.appendBulk($0) }
    }

    static func appendPacked(_ c: ClientRef, _ v: PackedValue) {
        switch v {
        case .bytes(let b): c.pointee.reply.appendBulk(b)
        case .int(let i): c.pointee.reply.appendBulkInteger(i)
        }
    }

    /// Writes the entry the iterator just returned: `[id, [field, value, ...]]`.
    static func appendEntry(_ c: ClientRef, _ it: inout StreamIterator, _ id: StreamID, _ fields: Int) {
        c.pointee.reply.appendArrayHeader(2)
        id.withText { c.pointee.reply.appendBulk($0) }
        c.pointee.reply.appendArrayHeader(fields * 2)
        for _ in 0..<fields {
            let (f, v) = it.nextField()
            appendPacked(c, f)
            appendPacked(c, v)
        }
    }

    /// The entries from `start` to `end` (at most `count`, 0 for all), as an array, or bare
    /// when `raw` (the caller writes the header). Returns how many were written.
    @discardableResult
    mutating func replyStreamRange(_ c: ClientRef, _ s: UnsafeMutablePointer<Stream>, _ start: StreamID?, _ end: StreamID?,
                                   count: Int, reverse: Bool, raw: Bool = false) -> Int {
        let header = raw ? -1 : c.pointee.reply.reserveDeferredHeader()
        var it = StreamIterator(s, start: start, end: end, reverse: reverse)
        var n = 0
        while let (id, fields) = it.nextID() {
            Self.appendEntry(c, &it, id, fields)
            n += 1
            if count != 0 && n == count { break }
        }
        if header >= 0 { c.pointee.reply.patchHeader(at: header, prefix: 42, n) }
        return n
    }

    /// The stream at argument 1 for writing, created empty when absent unless `noCreate`
    /// (then a null reply, as NOMKSTREAM); nil after replying.
    mutating func streamForWrite(_ c: ClientRef, noCreate: Bool) -> Entry? {
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .stream, forWrite: true)
        if !ok { return nil }
        if let found { return found }
        if noCreate {
            addNull(c)
            return nil
        }
        return addAggregate(c.pointee.db, key, .stream, .stream, payload: StreamStore.payload(Stream.create()))
    }

    // MARK: - XADD / XTRIM arguments

    struct StreamTrimArguments {
        var strategy = Stream.TrimStrategy.none
        var approx = false
        var limit: Int64 = 0
        /// Argument index of the MAXLEN/MINID value (rewritten for propagation).
        var valueIndex = 0
        var noMakeStream = false
        var id: StreamID? = nil
        var seqGiven = true
    }

    /// Redis's streamParseAddOrTrimArgsOrReply: returns the trimming arguments and, for XADD,
    /// the index of the ID argument; nil after replying an error.
    mutating func parseStreamAddOrTrim(_ c: ClientRef, xadd: Bool) -> (StreamTrimArguments, Int)? {
        var a = StreamTrimArguments()
        let argc = c.pointee.argc
        var i = 2
        var limitGiven = false
        var sawStrategy = false
        while i < argc {
            let more = argc - 1 - i
            let opt = c.pointee.arg(i)
            if xadd && opt.count == 1 && opt[0] == UInt8(ascii: "*") {
                break
            } else if (opt.equalsLowercase("maxlen") || opt.equalsLowercase("minid")) && more > 0 {
                let isMaxlen = opt.equalsLowercase("maxlen")
                if sawStrategy {
                    addError(c, "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n")
                    return nil
                }
                a.approx = false
                let next = c.pointee.arg(i + 1)
                if more >= 2 && next.count == 1 && next[0] == UInt8(ascii: "~") {
                    a.approx = true
                    i += 1
                } else if more >= 2 && next.count == 1 && next[0] == UInt8(ascii: "=") {
                    i += 1
                }
                if isMaxlen {
                    guard let n = c.pointee.arg(i + 1).int64 else {
                        addNotInteger(c)
                        return nil
                    }
                    if n < 0 {
                        addError(c, "-ERR The MAXLEN argument must be >= 0.\r\n")
                        return nil
                    }
                    a.strategy = .maxLength(n)
                } else {
                    guard let id = streamIDOrReply(c, c.pointee.arg(i + 1), strict: true) else { return nil }
                    a.strategy = .minID(id)
                }
                sawStrategy = true
                i += 1
                a.valueIndex = i
            } else if opt.equalsLowercase("limit") && more > 0 {
                guard let n = c.pointee.arg(i + 1).int64 else {
                    addNotInteger(c)
                    return nil
                }
                if n < 0 {
                    addError(c, "-ERR The LIMIT argument must be >= 0.\r\n")
                    return nil
                }
                a.limit = n
                limitGiven = true
                i += 1
            } else if xadd && opt.equalsLowercase("nomkstream") {
                a.noMakeStream = true
            } else if xadd {
                guard let parsed = Self.parseStreamID(opt, missingSeq: 0, strict: true, allowStarSeq: true) else {
                    addError(c, Self.invalidStreamID)
                    return nil
                }
                a.id = parsed.id
                a.seqGiven = parsed.seqGiven
                break
            } else {
                addSyntaxError(c)
                return nil
            }
            i += 1
        }
        if a.limit != 0 && !sawStrategy {
            addError(c, "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n")
            return nil
        }
        if !xadd && !sawStrategy {
            addError(c, "-ERR syntax error, XTRIM must be called with a trimming strategy\r\n")
            return nil
        }
        if c.pointee.isMaster {
            // The master already made its trim exact (see the file comment).
            a.limit = 0
        } else if limitGiven {
            if !a.approx {
                addError(c, "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n")
                return nil
            }
        } else if a.approx {
            var limit = Int64(100) &* Int64(settings.streamNodeMaxEntries)
            if limit <= 0 { limit = 10000 }
            if limit > 1_000_000 { limit = 1_000_000 }
            a.limit = limit
        } else {
            a.limit = 0
        }
        return (a, i)
    }

    /// The arguments to propagate after an approximate trim: `~` becomes `=` and the value
    /// the resulting length (MAXLEN) or first ID (MINID); `idIndex` gets the added ID.
    func exactTrimArguments(_ c: ClientRef, _ a: StreamTrimArguments, _ s: UnsafeMutablePointer<Stream>,
                            idIndex: Int = -1, addedID: StreamID? = nil) -> [[UInt8]] {
        var args: [[UInt8]] = []
        for i in 0..<c.pointee.argc {
            if a.approx && i == a.valueIndex - 1 {
                args.append(Array("=".utf8))
            } else if a.approx && i == a.valueIndex {
                switch a.strategy {
                case .maxLength: args.append(Array(String(s.pointee.length).utf8))
                default: args.append(s.pointee.firstID.text)
                }
            } else if i == idIndex, let addedID {
                args.append(addedID.text)
            } else {
                args.append(c.pointee.arg(i).array)
            }
        }
        return args
    }

    // MARK: - XADD

    /// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
    mutating func xaddCommand(_ c: ClientRef) {
        guard let (a, idIndex) = parseStreamAddOrTrim(c, xadd: true) else { return }
        let fieldPos = idIndex + 1
        let argc = c.pointee.argc
        if argc - fieldPos < 2 || (argc - fieldPos) % 2 == 1 {
            addErrorString(c, "ERR wrong number of arguments for 'xadd' command")
            return
        }
        if let id = a.id, a.seqGiven, id.isZero {
            addError(c, "-ERR The ID specified in XADD must be greater than 0-0\r\n")
            return
        }
        guard let e = streamForWrite(c, noCreate: a.noMakeStream) else { return }
        let s = Self.streamOf(e)
        if s.pointee.lastID == .max {
            addError(c, "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n")
            return
        }
        let argv = c.pointee.argv
        let result = s.pointee.append(fieldCount: (argc - fieldPos) / 2, { argv[fieldPos + $0] }, useID: a.id,
                                      seqGiven: a.seqGiven, nowMs: UInt64(max(commandTimeMillis, 0)),
                                      nodeMaxBytes: settings.streamNodeMaxBytes,
                                      nodeMaxEntries: settings.streamNodeMaxEntries)
        let id: StreamID
        switch result {
        case .failure(.idNotGreater):
            addError(c, "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n")
            return
        case .failure(.tooLarge):
            addError(c, "-ERR Elements are too large to be stored\r\n")
            return
        case .success(let added): id = added
        }
        addStreamID(c, id)
        let db = c.pointee.db
        let key = c.pointee.arg(1)
        keyModified(db, key)
        notifyKeyspaceEvent(.stream, "xadd", key, db)
        dirty += 1
        var trimmed: Int64 = 0
        if case .none = a.strategy {} else {
            trimmed = Stream.trim(s, a.strategy, approx: a.approx, limit: a.limit)
            if trimmed > 0 { notifyKeyspaceEvent(.stream, "xtrim", key, db) }
        }
        if propagationEnabled && (a.approx || a.id == nil || !a.seqGiven) {
            propagateInstead(db, exactTrimArguments(c, a, s, idIndex: idIndex, addedID: id))
        }
    }

    // MARK: - XRANGE / XREVRANGE

    /// XRANGE key start end [COUNT count] / XREVRANGE key end start [COUNT count]
    mutating func xrangeCommand(_ c: ClientRef, reverse: Bool) {
        let startArg = c.pointee.arg(reverse ? 3 : 2)
        let endArg = c.pointee.arg(reverse ? 2 : 3)
        guard let start = streamRangeStartOrReply(c, startArg), let end = streamRangeEndOrReply(c, endArg) else { return }
        var count: Int64 = -1
        var j = 4
        let argc = c.pointee.argc
        while j < argc {
            if c.pointee.arg(j).equalsLowercase("count") && j + 1 < argc {
                guard let n = c.pointee.arg(j + 1).int64 else {
                    addNotInteger(c)
                    return
                }
                count = max(n, 0)
                j += 2
            } else {
                addSyntaxError(c)
                return
            }
        }
        guard let e = lookupRead(c, c.pointee.arg(1)) else {
            c.pointee.reply.appendArrayHeader(0)
            return
        }
        if e.type != .stream {
            addWrongType(c)
            return
        }
        if count == 0 {
            c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
            return
        }
        replyStreamRange(c, Self.streamOf(e), start, end, count: count == -1 ? 0 : Int(count), reverse: reverse)
    }

    // MARK: - XLEN, XDEL, XTRIM, XSETID

    mutating func xlenCommand(_ c: ClientRef) {
        let (e, ok) = lookupTyped(c, c.pointee.arg(1), .stream, forWrite: false)
        guard ok else { return }
        c.pointee.reply.appendInteger(e.map { Int64(Self.streamOf($0).pointee.length) } ?? 0)
    }

    /// XDEL key id [id ...]
    mutating func xdelCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .stream, forWrite: true)
        guard ok else { return }
        guard let e = found else {
            c.pointee.reply.appendInteger(0)
            return
        }
        // All or nothing: every ID is checked before any entry goes (parsed twice rather than
        // kept in an array).
        for j in 2..<c.pointee.argc where streamIDOrReply(c, c.pointee.arg(j), strict: true) == nil { return }
        let argv = c.pointee.argv
        let deleted = Stream.deleteEntries(Self.streamOf(e), count: c.pointee.argc - 2) {
            Self.parseStreamID(argv[2 + $0], missingSeq: 0, strict: true)!.id
        }
        if deleted > 0 {
            let db = c.pointee.db
            keyModified(db, key)
            notifyKeyspaceEvent(.stream, "xdel", key, db)
            dirty += Int64(deleted)
        }
        c.pointee.reply.appendInteger(Int64(deleted))
    }

    /// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
    mutating func xtrimCommand(_ c: ClientRef) {
        guard let (a, _) = parseStreamAddOrTrim(c, xadd: false) else { return }
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .stream, forWrite: true)
        guard ok else { return }
        guard let e = found else {
            c.pointee.reply.appendInteger(0)
            return
        }
        let s = Self.streamOf(e)
        let deleted = Stream.trim(s, a.strategy, approx: a.approx, limit: a.limit)
        if deleted > 0 {
            let db = c.pointee.db
            notifyKeyspaceEvent(.stream, "xtrim", key, db)
            if a.approx && propagationEnabled { propagateInstead(db, exactTrimArguments(c, a, s)) }
            keyModified(db, key)
            dirty += deleted
        }
        c.pointee.reply.appendInteger(deleted)
    }

    /// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
    mutating func xsetidCommand(_ c: ClientRef) {
        guard let id = streamIDOrReply(c, c.pointee.arg(2), strict: true) else { return }
        var entriesAdded: Int64 = -1
        var maxDeleted = StreamID.zero
        var i = 3
        let argc = c.pointee.argc
        while i < argc {
            let more = argc - 1 - i
            let opt = c.pointee.arg(i)
            if opt.equalsLowercase("entriesadded") && more > 0 {
                guard let n = c.pointee.arg(i + 1).int64 else {
                    addNotInteger(c)
                    return
                }
                if n < 0 {
                    addError(c, "-ERR entries_added must be positive\r\n")
                    return
                }
                entriesAdded = n
                i += 2
            } else if opt.equalsLowercase("maxdeletedid") && more > 0 {
                guard let m = streamIDOrReply(c, c.pointee.arg(i + 1), strict: true) else { return }
                if id < m {
                    addError(c, "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n")
                    return
                }
                maxDeleted = m
                i += 2
            } else {
                addSyntaxError(c)
                return
            }
        }
        let key = c.pointee.arg(1)
        let (found, ok) = lookupTyped(c, key, .stream, forWrite: true)
        guard ok else { return }
        guard let e = found else {
            addError(c, "-ERR no such key\r\n")
            return
        }
        let s = Self.streamOf(e)
        if s.pointee.length > 0 {
            let top = Stream.edgeID(s, first: false, skipTombstones: true)
            if id < top {
                addError(c, "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n")
                return
            }
            if entriesAdded != -1 && Int64(s.pointee.length) > entriesAdded {
                addError(c, "-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n")
                return
            }
        }
        s.pointee.lastID = id
        if entriesAdded != -1 { s.pointee.entriesAdded = UInt64(entriesAdded) }
        if !maxDeleted.isZero { s.pointee.maxDeletedID = maxDeleted }
        addOK(c)
        let db = c.pointee.db
        keyModified(db, key)
        notifyKeyspaceEvent(.stream, "xsetid", key, db)
        dirty += 1
    }
}
