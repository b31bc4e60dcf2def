/*
 * XREAD and XREADGROUP — reading streams, alone or through a consumer group, and blocking for
 * new entries (Redis 7.0's xreadCommand and the stream half of blocked.c).
 *
 * A read serves each stream that has something after the given ID (for a group with `>`,
 * after the group's last delivered ID; with an explicit ID, the consumer's own pending
 * history). Delivering through a group moves the group's last ID and read counter, and adds
 * the entries to the group's and the consumer's pending lists unless NOACK.
 *
 * Blocking uses Blocking.swift: the command is kept and re-run when one of its keys is
 * written. `$` is resolved when blocking (the block state keeps the stream's last ID at that
 * moment for each `$`), so a re-run waits for entries after it. A re-run of XREADGROUP whose key
 * disappeared or changed type answers `-UNBLOCKED`, whose group was destroyed `-NOGROUP`, as
 * Redis's serveClientsBlockedOnStreamKey; an XREAD re-run keeps waiting.
 *
 * Propagation (docs/dev/propagation.md): XREADGROUP never travels as itself. Each delivered
 * entry becomes `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id`;
 * with NOACK, `XGROUP CREATECONSUMER key group consumer` (when it was new) and
 * `XGROUP SETID key group id ENTRIESREAD n`. Reading nothing, or a consumer's history,
 * sends nothing (a consumer created then exists only on the master, as in Redis 7.0).
 */
import Keyspace
import Platform
import RESP

extension Server {
    /// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
    /// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
    mutating func xreadCommand(_ c: ClientRef, group isGroup: Bool) {
        let argc = c.pointee.argc
        var timeoutMs: Int64 = -1
        var count = 0
        var streamsArg = 0
        var streamsCount = 0
        var noack = false
        var groupArg = 0
        var i = 1
        while i < argc {
            let more = argc - i - 1
            let o = c.pointee.arg(i)
            if o.equalsLowercase("block") && more > 0 {
                if c == scriptClient {
                    addErrorString(c, "ERR \(c.pointee.arg(0).string) command is not allowed with BLOCK option from scripts")
                    return
                }
                i += 1
                guard let ms = parseMillisTimeout(c, c.pointee.arg(i)) else { return }
                timeoutMs = ms
            } else if o.equalsLowercase("count") && more > 0 {
                i += 1
                guard let n = c.pointee.arg(i).int64 else {
                    addNotInteger(c)
                    return
                }
                count = n < 0 ? 0 : Int(n)
            } else if o.equalsLowercase("streams") && more > 0 {
                streamsArg = i + 1
                streamsCount = argc - streamsArg
                if streamsCount % 2 != 0 {
                    // Redis 7.0 words it the same for XREADGROUP.
                    addError(c, "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n")
                    return
                }
                streamsCount /= 2
                break
            } else if o.equalsLowercase("group") && more >= 2 {
                if !isGroup {
                    addError(c, "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n")
                    return
                }
                groupArg = i + 1
                i += 2
            } else if o.equalsLowercase("noack") {
                if !isGroup {
                    addError(c, "-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n")
                    return
                }
                noack = true
            } else {
                addSyntaxError(c)
                return
            }
            i += 1
        }
        if streamsArg == 0 {
            addSyntaxError(c)
            return
        }
        if isGroup && groupArg == 0 {
            addError(c, "-ERR Missing GROUP option for XREADGROUP\r\n")
            return
        }
        let rerun = servingBlockedClient
        let db = c.pointee.db
        let groupName = groupArg > 0 ? c.pointee.arg(groupArg) : ByteView("")
        let consumerName = groupArg > 0 ? c.pointee.arg(groupArg + 1) : ByteView("")

        // Resolve the IDs (and the groups), as Redis does before serving anything.
        var ids = [StreamID](repeating: .zero, count: streamsCount)
        var isNew = [Bool](repeating: false, count: streamsCount)
        var resolvedDollar = [Bool](repeating: false, count: streamsCount)
        for k in 0..<streamsCount {
            let key = c.pointee.arg(streamsArg + k)
            let idArg = c.pointee.arg(streamsArg + streamsCount + k)
            var e = lookupRead(c, key)
            if let found = e, found.type != .stream {
                if rerun {
                    if isGroup {
                        addError(c, "-UNBLOCKED the stream key no longer exists\r\n")
                        return
                    }
                    e = nil
                } else {
                    addWrongType(c)
                    return
                }
            }
            if isGroup {
                guard let found = e else {
                    if rerun {
                        addError(c, "-UNBLOCKED the stream key no longer exists\r\n")
                    } else {
                        addErrorString(c, "-NOGROUP No such key '\(key.string)' or consumer group '\(groupName.string)' in XREADGROUP with GROUP option")
                    }
                    return
                }
                if Self.streamOf(found).pointee.lookupGroup(groupName) == nil {
                    if rerun {
                        addError(c, "-NOGROUP the consumer group this client was blocked on no longer exists\r\n")
                    } else {
                        addErrorString(c, "-NOGROUP No such key '\(key.string)' or consumer group '\(groupName.string)' in XREADGROUP with GROUP option")
                    }
                    return
                }
            }
            if idArg.count == 1 && idArg[0] == UInt8(ascii: "$") {
                if isGroup {
                    addError(c, "-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.\r\n")
                    return
                }
                let index = streamsArg + streamsCount + k
                if rerun, let kept = c.pointee.block.streamIDs.first(where: { $0.argument == index }) {
                    ids[k] = kept.id
                } else {
                    ids[k] = e.map { Self.streamOf($0).pointee.lastID } ?? .zero
                }
                resolvedDollar[k] = true
                continue
            }
            if idArg.count == 1 && idArg[0] == UInt8(ascii: ">") {
                if !isGroup {
                    addError(c, "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n")
                    return
                }
                isNew[k] = true
                ids[k] = .max
                continue
            }
            guard let id = streamIDOrReply(c, idArg, strict: true) else { return }
            ids[k] = id
        }

        // Serve what can be served now.
        if rerun && count == 0 { count = 1000 }  // Redis's XREAD_BLOCKED_DEFAULT_COUNT
        var served = 0
        var header = -1
        for k in 0..<streamsCount {
            let key = c.pointee.arg(streamsArg + k)
            guard let e = lookupRead(c, key, notify: false), e.type == .stream else { continue }
            let s = Self.streamOf(e)
            var gt = ids[k]
            var serve = false
            var history = false
            var group: UnsafeMutablePointer<ConsumerGroup>? = nil
            if isGroup {
                group = s.pointee.lookupGroup(groupName)
                guard let g = group else { continue }
                if !isNew[k] {
                    serve = true
                    history = true
                } else if s.pointee.length > 0 {
                    let maxID = Stream.edgeID(s, first: false, skipTombstones: true)
                    if maxID > g.pointee.lastID {
                        serve = true
                        gt = g.pointee.lastID
                    }
                }
            } else if s.pointee.length > 0 {
                serve = Stream.edgeID(s, first: false, skipTombstones: true) > gt
            }
            var consumer: UnsafeMutablePointer<Consumer>? = nil
            var createdConsumer = false
            // As Redis 7.0, a consumer comes into being when something is served to it.
            if let g = group, serve {
                consumer = ConsumerGroup.lookupConsumer(g, consumerName)
                if consumer == nil {
                    consumer = createConsumer(g, consumerName, key: key, db: db)
                    createdConsumer = true
                }
                consumer!.pointee.seenTime = commandTimeMillis
            }
            if !serve { continue }
            served += 1
            if header < 0 { header = c.pointee.reply.reserveDeferredHeader() }
            if !c.pointee.resp3 { c.pointee.reply.appendArrayHeader(2) }
            c.pointee.reply.appendBulk(key)
            let start = gt.successor ?? .max
            if let g = group, let consumer {
                if history {
                    replyFromConsumerPEL(c, s, start: start, count: count, group: g, consumer: consumer)
                } else {
                    replyDeliveringToGroup(c, s, start: start, count: count, group: g, consumer: consumer,
                                           createdConsumer: createdConsumer, noack: noack, key: key,
                                           groupName: groupName, db: db)
                }
                dirty += 1
            } else {
                replyStreamRange(c, s, start, nil, count: count, reverse: false)
            }
        }
        preventCommandPropagation()
        if served > 0 {
            c.pointee.reply.patchHeader(at: header, prefix: c.pointee.resp3 ? 37 : 42, served)
            return
        }
        if rerun { return }  // nothing yet: keep waiting
        if timeoutMs != -1 {
            if inExec || c == scriptClient {
                c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
                return
            }
            var keys: [ByteView] = []
            for k in 0..<streamsCount { keys.append(c.pointee.arg(streamsArg + k)) }
            let at = timeoutMs == 0 ? 0 : Self.deadline(afterMillis: timeoutMs)
            blockClient(c, keys: keys, timeoutAt: at, nullArray: true)
            for k in 0..<streamsCount where resolvedDollar[k] {
                c.pointee.block.streamIDs.append((streamsArg + streamsCount + k, ids[k]))
            }
            return
        }
        c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
    }

    /// A consumer created implicitly (XREADGROUP, XCLAIM, XAUTOCLAIM, XGROUP CREATECONSUMER):
    /// counts as a change and announces `xgroup-createconsumer`, as Redis's streamCreateConsumer.
    mutating func createConsumer(_ g: UnsafeMutablePointer<ConsumerGroup>, _ name: ByteView, key: ByteView, db: Int)
        -> UnsafeMutablePointer<Consumer>
    {
        let consumer = ConsumerGroup.createConsumer(g, name, now: commandTimeMillis)!
        dirty += 1
        notifyKeyspaceEvent(.stream, "xgroup-createconsumer", key, db)
        return consumer
    }

    /// Entries after the group's last ID (from `start`): moves the group forward, records
    /// them as pending for `consumer` unless `noack`, and propagates that as Redis 7.0 does:
    /// an XCLAIM per pending entry (which also creates the consumer and moves the group on a
    /// replica), or, with NOACK, the consumer's creation and the group's new last ID.
    mutating func replyDeliveringToGroup(_ c: ClientRef, _ s: UnsafeMutablePointer<Stream>, start: StreamID, count: Int,
                                         group g: UnsafeMutablePointer<ConsumerGroup>,
                                         consumer: UnsafeMutablePointer<Consumer>, createdConsumer: Bool, noack: Bool,
                                         key: ByteView, groupName: ByteView, db: Int) {
        let header = c.pointee.reply.reserveDeferredHeader()
        var it = StreamIterator(s, start: start, end: nil, reverse: false)
        var n = 0
        var movedLastID = false
        while let (id, fields) = it.nextID() {
            if id > g.pointee.lastID {
                if g.pointee.entriesRead != Stream.invalidEntriesRead && !s.pointee.rangeHasTombstones(id, nil) {
                    g.pointee.entriesRead &+= 1
                } else if s.pointee.entriesAdded > 0 {
                    g.pointee.entriesRead = s.pointee.estimateDistanceFromFirstEverEntry(id)
                }
                g.pointee.lastID = id
                movedLastID = true
            }
            Self.appendEntry(c, &it, id, fields)
            if !noack {
                let nack: UnsafeMutablePointer<NACK>
                if let existing = NACK.find(g.pointee.pel, id) {
                    // Already pending (the group's last ID was set back): it changes hands.
                    nack = existing
                    if let old = nack.pointee.consumer { old.pointee.pel.pointee.remove(id) }
                    nack.pointee.consumer = consumer
                    nack.pointee.deliveryTime = commandTimeMillis
                    nack.pointee.deliveryCount = 1
                } else {
                    nack = NACK.add(g.pointee.pel, id, consumer: consumer, now: commandTimeMillis)
                }
                if consumer.pointee.pel.pointee.find(id) == nil { consumer.pointee.pel.pointee.insert(id) }
                propagateXclaim(db, key, groupName, g, id, nack)
            }
            n += 1
            if count != 0 && n == count { break }
        }
        if noack && movedLastID && propagationEnabled {
            if createdConsumer {
                propagateInstead(db, [Array("XGROUP".utf8), Array("CREATECONSUMER".utf8), key.array, groupName.array,
                                      Consumer.name(consumer).array])
            }
            propagateGroupLastID(db, key, groupName, g)
        }
        c.pointee.reply.patchHeader(at: header, prefix: 42, n)
    }

    /// A consumer's own pending entries from `start` (XREADGROUP with an ID): each delivery
    /// counts again; an entry deleted meanwhile answers `[id, nil]`.
    mutating func replyFromConsumerPEL(_ c: ClientRef, _ s: UnsafeMutablePointer<Stream>, start: StreamID, count: Int,
                                       group g: UnsafeMutablePointer<ConsumerGroup>, consumer: UnsafeMutablePointer<Consumer>) {
        let header = c.pointee.reply.reserveDeferredHeader()
        let pel = consumer.pointee.pel
        var node = pel.pointee.firstNotBefore(start)
        var n = 0
        while let x = node, count == 0 || n < count {
            let id = pel.pointee.id(x)
            var it = StreamIterator(s, start: id, end: id, reverse: false)
            if let (found, fields) = it.nextID() {
                Self.appendEntry(c, &it, found, fields)
                if let nack = NACK.find(g.pointee.pel, id) {
                    nack.pointee.deliveryTime = commandTimeMillis
                    nack.pointee.deliveryCount &+= 1
                }
            } else {
                c.pointee.reply.appendArrayHeader(2)
                addStreamID(c, id)
                c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
            }
            n += 1
            node = consumer.pointee.pel.pointee.next(x)
        }
        c.pointee.reply.patchHeader(at: header, prefix: 42, n)
    }

    // MARK: - Propagation helpers

    /// XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last-id
    mutating func propagateXclaim(_ db: Int, _ key: ByteView, _ groupName: ByteView, _ g: UnsafeMutablePointer<ConsumerGroup>,
                                  _ id: StreamID, _ nack: UnsafeMutablePointer<NACK>) {
        if !propagationEnabled { return }
        let consumerName = nack.pointee.consumer.map { Consumer.name($0).array } ?? []
        propagateInstead(db, [
            Array("XCLAIM".utf8), key.array, groupName.array, consumerName, Array("0".utf8), id.text,
            Array("TIME".utf8), Array(String(nack.pointee.deliveryTime).utf8),
            Array("RETRYCOUNT".utf8), Array(String(nack.pointee.deliveryCount).utf8),
            Array("FORCE".utf8), Array("JUSTID".utf8), Array("LASTID".utf8), g.pointee.lastID.text,
        ])
    }

    /// XGROUP SETID key group last-id ENTRIESREAD n
    mutating func propagateGroupLastID(_ db: Int, _ key: ByteView, _ groupName: ByteView, _ g: UnsafeMutablePointer<ConsumerGroup>) {
        if !propagationEnabled { return }
        propagateInstead(db, [
            Array("XGROUP".utf8), Array("SETID".utf8), key.array, groupName.array, g.pointee.lastID.text,
            Array("ENTRIESREAD".utf8), Array(String(g.pointee.entriesRead).utf8),
        ])
    }
}
