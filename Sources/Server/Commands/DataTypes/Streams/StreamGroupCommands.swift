/*
 * Consumer group commands — XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, as Redis 7.0's
 * t_stream.c answers them. The group structures are in Keyspace/Stream/StreamGroups.swift.
 *
 * XCLAIM and XAUTOCLAIM propagate one `XCLAIM ... JUSTID` per entry they transfer (or drop,
 * for entries deleted from the stream) and never themselves, so a replica ends with the
 * same pending lists whatever the clock says.
 */
import CTandem
import Keyspace
import Platform
import RESP

extension HelpText {
    static let xgroup = [
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]
}

extension Server {
    // MARK: - XGROUP

    mutating func xgroupCommand(_ c: ClientRef, _ sub: StreamCommand) {
        if sub == .xgroupHelp {
            addHelp(c, HelpText.xgroup)
            return
        }
        let argc = c.pointee.argc
        let subName = c.pointee.arg(1).string
        var mkstream = false
        var entriesRead = Stream.invalidEntriesRead
        func subcommandSyntaxError(_ s: inout Server) {
            s.addErrorString(c, "ERR unknown subcommand or wrong number of arguments for '\(subName)'. Try XGROUP HELP.")
        }
        if sub == .xgroupCreate {
            var i = 5
            while i < argc {
                let a = c.pointee.arg(i)
                if a.equalsLowercase("mkstream") {
                    mkstream = true
                    i += 1
                } else if a.equalsLowercase("entriesread") && i + 1 < argc {
                    guard let n = c.pointee.arg(i + 1).int64 else {
                        addNotInteger(c)
                        return
                    }
                    if n < 0 && n != Stream.invalidEntriesRead {
                        addError(c, "-ERR value for ENTRIESREAD must be positive or -1\r\n")
                        return
                    }
                    entriesRead = n
                    i += 2
                } else {
                    subcommandSyntaxError(&self)
                    return
                }
            }
        } else if sub == .xgroupSetid {
            if argc == 7 {
                if c.pointee.arg(5).equalsLowercase("entriesread") {
                    guard let n = c.pointee.arg(6).int64 else {
                        addNotInteger(c)
                        return
                    }
                    if n < 0 && n != Stream.invalidEntriesRead {
                        addError(c, "-ERR value for ENTRIESREAD must be positive or -1\r\n")
                        return
                    }
                    entriesRead = n
                } else {
                    subcommandSyntaxError(&self)
                    return
                }
            } else if argc != 5 {
                subcommandSyntaxError(&self)
                return
            }
        }
        let db = c.pointee.db
        let key = c.pointee.arg(2)
        let groupName = c.pointee.arg(3)
        let (found, ok) = lookupTyped(c, key, .stream, forWrite: true)
        guard ok else { return }
        var stream = found.map { Self.streamOf($0) }
        if stream == nil && !(sub == .xgroupCreate && mkstream) {
            addError(c, "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n")
            return
        }
        let group = stream.flatMap { $0.pointee.lookupGroup(groupName) }
        if stream != nil && group == nil && (sub == .xgroupSetid || sub == .xgroupCreateconsumer || sub == .xgroupDelconsumer) {
            addErrorString(c, "-NOGROUP No such consumer group '\(groupName.string)' for key name '\(key.string)'")
            return
        }
        switch sub {
        case .xgroupCreate:
            if argc > 8 {
                subcommandSyntaxError(&self)
                return
            }
            let idArg = c.pointee.arg(4)
            let id: StreamID
            if idArg.count == 1 && idArg[0] == UInt8(ascii: "$") {
                id = stream?.pointee.lastID ?? .zero
            } else {
                guard let parsed = streamIDOrReply(c, idArg, strict: true) else { return }
                id = parsed
            }
            if stream == nil {
                let e = addAggregate(db, key, .stream, .stream, payload: StreamStore.payload(Stream.create()))
                stream = Self.streamOf(e)
                keyModified(db, key)
            }
            if stream!.pointee.createGroup(groupName, lastID: id, entriesRead: entriesRead) != nil {
                addOK(c)
                dirty += 1
                notifyKeyspaceEvent(.stream, "xgroup-create", key, db)
            } else {
                addError(c, "-BUSYGROUP Consumer Group name already exists\r\n")
            }
        case .xgroupSetid:
            let idArg = c.pointee.arg(4)
            let id: StreamID
            if idArg.count == 1 && idArg[0] == UInt8(ascii: "$") {
                id = stream!.pointee.lastID
            } else {
                guard let parsed = streamIDOrReply(c, idArg, strict: false) else { return }
                id = parsed
            }
            group!.pointee.lastID = id
            group!.pointee.entriesRead = entriesRead
            addOK(c)
            dirty += 1
            notifyKeyspaceEvent(.stream, "xgroup-setid", key, db)
        case .xgroupDestroy:
            if group != nil {
                _ = stream!.pointee.destroyGroup(groupName)
                c.pointee.reply.appendInteger(1)
                dirty += 1
                notifyKeyspaceEvent(.stream, "xgroup-destroy", key, db)
                // Clients blocked in XREADGROUP on this group get -NOGROUP.
                if blockedClients > 0 { signalKeyAsReady(db, key) }
            } else {
                c.pointee.reply.appendInteger(0)
            }
        case .xgroupCreateconsumer:
            if ConsumerGroup.lookupConsumer(group!, c.pointee.arg(4)) != nil {
                c.pointee.reply.appendInteger(0)
            } else {
                _ = createConsumer(group!, c.pointee.arg(4), key: key, db: db)
                c.pointee.reply.appendInteger(1)
            }
        case .xgroupDelconsumer:
            var pending = 0
            if let consumer = ConsumerGroup.lookupConsumer(group!, c.pointee.arg(4)) {
                pending = ConsumerGroup.deleteConsumer(group!, consumer)
                dirty += 1
                notifyKeyspaceEvent(.stream, "xgroup-delconsumer", key, db)
            }
            c.pointee.reply.appendInteger(Int64(pending))
        default:
            subcommandSyntaxError(&self)
        }
    }

    /// The stream at argument 1 and its group named by argument 2, replying WRONGTYPE or Redis's
    /// NOGROUP error (XPENDING, XCLAIM, XAUTOCLAIM).
    mutating func streamAndGroupOrReply(_ c: ClientRef) -> (UnsafeMutablePointer<Stream>, UnsafeMutablePointer<ConsumerGroup>)? {
        let key = c.pointee.arg(1)
        let groupName = c.pointee.arg(2)
        let (found, ok) = lookupTyped(c, key, .stream, forWrite: false)
        guard ok else { return nil }
        guard let e = found, let g = Self.streamOf(e).pointee.lookupGroup(groupName) else {
            addErrorString(c, "-NOGROUP No such key '\(key.string)' or consumer group '\(groupName.string)'")
            return nil
        }
        return (Self.streamOf(e), g)
    }

    // MARK: - XACK

    /// XACK key group id [id ...]
    mutating func xackCommand(_ c: ClientRef) {
        let (found, ok) = lookupTyped(c, c.pointee.arg(1), .stream, forWrite: false)
        guard ok else { return }
        guard let e = found, let g = Self.streamOf(e).pointee.lookupGroup(c.pointee.arg(2)) else {
            c.pointee.reply.appendInteger(0)
            return
        }
        // All or nothing: every ID is checked before any is acknowledged (parsed twice rather
        // than kept in an array).
        for j in 3..<c.pointee.argc where streamIDOrReply(c, c.pointee.arg(j), strict: true) == nil { return }
        var acknowledged = 0
        for j in 3..<c.pointee.argc {
            let id = Self.parseStreamID(c.pointee.arg(j), missingSeq: 0, strict: true)!.id
            if removePending(g, id) {
                acknowledged += 1
                dirty += 1
            }
        }
        c.pointee.reply.appendInteger(Int64(acknowledged))
    }

    // MARK: - XPENDING

    /// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
    mutating func xpendingCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        let summary = argc == 3
        if argc != 3 && (argc < 6 || argc > 9) {
            addSyntaxError(c)
            return
        }
        var start = StreamID.zero, end = StreamID.max
        var count: Int64 = 0
        var minIdle: Int64 = 0
        var consumerArg = 0
        if argc >= 6 {
            var startIndex = 3
            if c.pointee.arg(3).equalsLowercase("idle") {
                guard let n = c.pointee.arg(4).int64 else {
                    addNotInteger(c)
                    return
                }
                minIdle = n
                if argc < 8 {
                    addSyntaxError(c)
                    return
                }
                startIndex += 2
            }
            guard let n = c.pointee.arg(startIndex + 2).int64 else {
                addNotInteger(c)
                return
            }
            count = max(n, 0)
            guard let s = streamRangeStartOrReply(c, c.pointee.arg(startIndex)),
                let e = streamRangeEndOrReply(c, c.pointee.arg(startIndex + 1))
            else { return }
            start = s
            end = e
            if startIndex + 3 < argc { consumerArg = startIndex + 3 }
        }
        guard let (_, g) = streamAndGroupOrReply(c) else { return }
        let pel = g.pointee.pel
        if summary {
            c.pointee.reply.appendArrayHeader(4)
            c.pointee.reply.appendInteger(Int64(pel.pointee.count))
            guard let first = pel.pointee.first, let last = pel.pointee.last else {
                addNull(c)
                addNull(c)
                c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
                return
            }
            addStreamID(c, pel.pointee.id(first))
            addStreamID(c, pel.pointee.id(last))
            let header = c.pointee.reply.reserveDeferredHeader()
            var n = 0
            let cs = g.pointee.consumers
            for i in 0..<cs.pointee.count {
                let consumer = cs.pointee.item(i).assumingMemoryBound(to: Consumer.self)
                let pending = consumer.pointee.pel.pointee.count
                if pending == 0 { continue }
                c.pointee.reply.appendArrayHeader(2)
                c.pointee.reply.appendBulk(Consumer.name(consumer))
                c.pointee.reply.appendBulkInteger(Int64(pending))
                n += 1
            }
            c.pointee.reply.patchHeader(at: header, prefix: 42, n)
            return
        }
        var list = pel
        if consumerArg > 0 {
            guard let consumer = ConsumerGroup.lookupConsumer(g, c.pointee.arg(consumerArg)) else {
                c.pointee.reply.appendArrayHeader(0)
                return
            }
            list = consumer.pointee.pel
        }
        let now = commandTimeMillis
        let header = c.pointee.reply.reserveDeferredHeader()
        var n = 0
        var node = list.pointee.firstNotBefore(start)
        while count > 0, let x = node, list.pointee.id(x) <= end {
            node = list.pointee.next(x)
            let id = list.pointee.id(x)
            guard let nack = NACK.find(pel, id) else { continue }
            if minIdle != 0 && now &- nack.pointee.deliveryTime < minIdle { continue }
            n += 1
            count -= 1
            c.pointee.reply.appendArrayHeader(4)
            addStreamID(c, id)
            c.pointee.reply.appendBulk(nack.pointee.consumer.map { Consumer.name($0) } ?? ByteView(""))
            c.pointee.reply.appendInteger(max(now &- nack.pointee.deliveryTime, 0))
            c.pointee.reply.appendInteger(Int64(bitPattern: nack.pointee.deliveryCount))
        }
        c.pointee.reply.patchHeader(at: header, prefix: 42, n)
    }

    // MARK: - XCLAIM

    /// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
    ///        [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
    mutating func xclaimCommand(_ c: ClientRef) {
        let key = c.pointee.arg(1)
        let groupName = c.pointee.arg(2)
        guard let (s, g) = streamAndGroupOrReply(c) else { return }
        guard var minIdle = c.pointee.arg(4).int64 else {
            addError(c, "-ERR Invalid min-idle-time argument for XCLAIM\r\n")
            return
        }
        if minIdle < 0 { minIdle = 0 }
        let argc = c.pointee.argc
        var ids: [StreamID] = []
        var j = 5
        while j < argc, let r = Self.parseStreamID(c.pointee.arg(j), missingSeq: 0, strict: true) {
            ids.append(r.id)
            j += 1
        }
        let now = commandTimeMillis
        var deliveryTime: Int64 = -1
        var retryCount: Int64 = -1
        var force = false, justID = false
        var lastID = StreamID.zero
        while j < argc {
            let more = argc - 1 - j
            let opt = c.pointee.arg(j)
            if opt.equalsLowercase("force") {
                force = true
            } else if opt.equalsLowercase("justid") {
                justID = true
            } else if opt.equalsLowercase("idle") && more > 0 {
                j += 1
                guard let v = c.pointee.arg(j).int64 else {
                    addError(c, "-ERR Invalid IDLE option argument for XCLAIM\r\n")
                    return
                }
                deliveryTime = now &- v
            } else if opt.equalsLowercase("time") && more > 0 {
                j += 1
                guard let v = c.pointee.arg(j).int64 else {
                    addError(c, "-ERR Invalid TIME option argument for XCLAIM\r\n")
                    return
                }
                deliveryTime = v
            } else if opt.equalsLowercase("retrycount") && more > 0 {
                j += 1
                guard let v = c.pointee.arg(j).int64 else {
                    addError(c, "-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n")
                    return
                }
                retryCount = v
            } else if opt.equalsLowercase("lastid") && more > 0 {
                j += 1
                guard let id = streamIDOrReply(c, c.pointee.arg(j), strict: true) else { return }
                lastID = id
            } else {
                addErrorString(c, "ERR Unrecognized XCLAIM option '\(opt.string)'")
                return
            }
            j += 1
        }
        let db = c.pointee.db
        var propagateLastID = false
        if lastID > g.pointee.lastID {
            g.pointee.lastID = lastID
            propagateLastID = true
        }
        if deliveryTime != -1 {
            if deliveryTime < 0 || deliveryTime > now { deliveryTime = now }
        } else {
            deliveryTime = now
        }
        let consumerName = c.pointee.arg(3)
        var consumer: UnsafeMutablePointer<Consumer>? = nil
        let header = c.pointee.reply.reserveDeferredHeader()
        var n = 0
        for id in ids {
            let pending = NACK.find(g.pointee.pel, id)
            var it = StreamIterator(s, start: id, end: id, reverse: false)
            let entry = it.nextID()
            if entry == nil {
                // The entry is gone: drop it from the PEL too, and say so to the replicas.
                if let nack = pending {
                    propagateXclaim(db, key, groupName, g, id, nack)
                    propagateLastID = false
                    dirty += 1
                    removePending(g, id)
                }
                continue
            }
            // Valid until the group's PEL changes: only consumers' lists change below.
            var nack: UnsafeMutablePointer<NACK>
            if let pending {
                nack = pending
            } else if force {
                nack = NACK.add(g.pointee.pel, id, consumer: nil, now: now)
            } else {
                continue
            }
            if nack.pointee.consumer != nil && minIdle != 0 && now &- nack.pointee.deliveryTime < minIdle { continue }
            if consumer == nil {
                consumer = ConsumerGroup.lookupConsumer(g, consumerName)
                    ?? createConsumer(g, consumerName, key: key, db: db)
            }
            let owner = consumer!
            assignPending(nack, id, to: owner, time: deliveryTime, retryCount: retryCount, justID: justID)
            if justID {
                addStreamID(c, id)
            } else {
                let (found, fields) = entry!
                Self.appendEntry(c, &it, found, fields)
            }
            n += 1
            owner.pointee.seenTime = now
            propagateXclaim(db, key, groupName, g, id, nack)
            propagateLastID = false
            dirty += 1
        }
        if propagateLastID {
            propagateGroupLastID(db, key, groupName, g)
            dirty += 1
        }
        c.pointee.reply.patchHeader(at: header, prefix: 42, n)
        preventCommandPropagation()
    }

    /// Gives the pending entry `id` to `owner` (XCLAIM, XAUTOCLAIM): moves it between the
    /// consumers' lists and sets its delivery time; its delivery count becomes `retryCount`
    /// when given (≥ 0), else grows by one unless `justID`.
    func assignPending(_ nack: UnsafeMutablePointer<NACK>, _ id: StreamID, to owner: UnsafeMutablePointer<Consumer>,
                       time: Int64, retryCount: Int64, justID: Bool) {
        if nack.pointee.consumer != owner, let old = nack.pointee.consumer { old.pointee.pel.pointee.remove(id) }
        nack.pointee.deliveryTime = time
        if retryCount >= 0 {
            nack.pointee.deliveryCount = UInt64(bitPattern: retryCount)
        } else if !justID {
            nack.pointee.deliveryCount &+= 1
        }
        if nack.pointee.consumer != owner {
            owner.pointee.pel.pointee.insert(id)
            nack.pointee.consumer = owner
        }
    }

    /// Removes `id` from the group's PEL and its owner's; false when absent.
    @discardableResult
    func removePending(_ g: UnsafeMutablePointer<ConsumerGroup>, _ id: StreamID) -> Bool {
        guard let nack = NACK.find(g.pointee.pel, id) else { return false }
        let owner = nack.pointee.consumer
        g.pointee.pel.pointee.remove(id)
        owner?.pointee.pel.pointee.remove(id)
        return true
    }

    // MARK: - XAUTOCLAIM

    /// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
    mutating func xautoclaimCommand(_ c: ClientRef) {
        guard var minIdle = c.pointee.arg(4).int64 else {
            addError(c, "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n")
            return
        }
        if minIdle < 0 { minIdle = 0 }
        guard let start = streamRangeStartOrReply(c, c.pointee.arg(5)) else { return }
        var count: Int64 = 100
        var justID = false
        let argc = c.pointee.argc
        var j = 6
        let attemptsFactor: Int64 = 10
        while j < argc {
            let more = argc - 1 - j
            let opt = c.pointee.arg(j)
            if opt.equalsLowercase("count") && more > 0 {
                let maxCount = Int64.max / max(16, attemptsFactor)
                guard let v = c.pointee.arg(j + 1).int64, v >= 1, v <= maxCount else {
                    addError(c, "-ERR COUNT must be > 0\r\n")
                    return
                }
                count = v
                j += 1
            } else if opt.equalsLowercase("justid") {
                justID = true
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }
        let key = c.pointee.arg(1)
        let groupName = c.pointee.arg(2)
        guard let (s, g) = streamAndGroupOrReply(c) else { return }
        let db = c.pointee.db
        let now = commandTimeMillis
        let consumerName = c.pointee.arg(3)
        var consumer: UnsafeMutablePointer<Consumer>? = nil
        var attempts = count * attemptsFactor
        var deleted: [StreamID] = []
        // The cursor comes first in the reply but is known last: claim first, then reply
        // (claiming changes pending lists, never the entries themselves).
        var claimed: [StreamID] = []
        // Walked by ID: removing a pending entry moves the others in the list.
        let pel = g.pointee.pel
        func pendingID(from id: StreamID?) -> StreamID? {
            id.flatMap { pel.pointee.firstNotBefore($0) }.map { pel.pointee.id($0) }
        }
        var nextID = pendingID(from: start)
        while attempts > 0 && count > 0, let id = nextID, let nack = NACK.find(pel, id) {
            attempts -= 1
            nextID = pendingID(from: id.successor)
            var it = StreamIterator(s, start: id, end: id, reverse: false)
            guard it.nextID() != nil else {
                propagateXclaim(db, key, groupName, g, id, nack)
                dirty += 1
                removePending(g, id)
                deleted.append(id)
                count -= 1
                continue
            }
            if minIdle != 0 && now &- nack.pointee.deliveryTime < minIdle { continue }
            if consumer == nil {
                consumer = ConsumerGroup.lookupConsumer(g, consumerName)
                    ?? createConsumer(g, consumerName, key: key, db: db)
            }
            assignPending(nack, id, to: consumer!, time: now, retryCount: -1, justID: justID)
            claimed.append(id)
            count -= 1
            propagateXclaim(db, key, groupName, g, id, nack)
            dirty += 1
        }
        c.pointee.reply.appendArrayHeader(3)
        addStreamID(c, nextID ?? .zero)
        c.pointee.reply.appendArrayHeader(claimed.count)
        for id in claimed {
            if justID {
                addStreamID(c, id)
            } else {
                var it = StreamIterator(s, start: id, end: id, reverse: false)
                if let (found, fields) = it.nextID() { Self.appendEntry(c, &it, found, fields) }
            }
        }
        c.pointee.reply.appendArrayHeader(deleted.count)
        for id in deleted { addStreamID(c, id) }
        preventCommandPropagation()
    }
}
