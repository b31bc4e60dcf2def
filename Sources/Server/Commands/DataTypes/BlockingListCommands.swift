/*
 * Blocking list commands: BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP — the list side of
 * Redis's blocked.c, on top of Blocking.swift and the list primitives in ListCommands.swift.
 *
 * Each command first tries to serve itself like its non-blocking form. Finding nothing it
 * either blocks the client on its keys, answers null at once (inside MULTI/EXEC, where
 * nothing may block), or — when re-run for a waiting client — returns without replying, so
 * the client keeps waiting.
 */
import Keyspace
import Platform
import RESP

extension Server {
    /// What a blocking command does when there is nothing to serve yet.
    /// `nullArray` is the reply inside MULTI (null array or null bulk); a timeout always
    /// answers a null array for the list commands, as Redis 7.0 does.
    mutating func blockOrGiveUp(_ c: ClientRef, keys: [ByteView], timeoutAt: Int64, nullArray: Bool) {
        if servingBlockedClient { return }
        if inExec {
            if nullArray { c.pointee.reply.appendNullArray(resp3: c.pointee.resp3) } else { addNull(c) }
            return
        }
        blockClient(c, keys: keys, timeoutAt: timeoutAt, nullArray: true)
    }

    /// BLPOP / BRPOP key [key ...] timeout
    mutating func blockingPopCommand(_ c: ClientRef, left: Bool) {
        let argc = c.pointee.argc
        guard let timeoutAt = parseBlockTimeout(c, c.pointee.arg(argc - 1)) else { return }
        let db = c.pointee.db
        var keys: [ByteView] = []
        for i in 1..<(argc - 1) {
            let key = c.pointee.arg(i)
            if let e = lookupWrite(db, key) {
                if e.type != .list {
                    // A waiter re-run because the key changed type keeps waiting (Redis serves
                    // blocked clients only from lists).
                    if servingBlockedClient { continue }
                    addWrongType(c)
                    return
                }
                popFromList(c, db: db, key: key, entry: e, left: left, count: nil, withKey: true)
                propagateInstead(db, ByteView(left ? "LPOP" : "RPOP"), key)
                return
            }
            keys.append(key)
        }
        blockOrGiveUp(c, keys: keys, timeoutAt: timeoutAt, nullArray: true)
    }

    /// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
    mutating func blmoveCommand(_ c: ClientRef) {
        guard let from = listSide(c, 3), let to = listSide(c, 4) else { return }
        blockingMoveCommand(c, fromLeft: from, toLeft: to, timeoutIndex: 5)
    }

    mutating func blockingMoveCommand(_ c: ClientRef, fromLeft: Bool, toLeft: Bool, timeoutIndex: Int) {
        guard let timeoutAt = parseBlockTimeout(c, c.pointee.arg(timeoutIndex)) else { return }
        let srcKey = c.pointee.arg(1)
        if servingBlockedClient, let e = lookupWrite(c.pointee.db, srcKey), e.type != .list { return }
        let (se, ok) = lookupTyped(c, srcKey, .list, forWrite: true)
        guard ok else { return }
        guard se != nil else {
            blockOrGiveUp(c, keys: [srcKey], timeoutAt: timeoutAt, nullArray: false)
            return
        }
        lmoveCommand(c, fromLeft: fromLeft, toLeft: toLeft)
        if propagationEnabled {
            let db = c.pointee.db
            if timeoutIndex == 3 {
                propagateInstead(db, ByteView("RPOPLPUSH"), srcKey, c.pointee.arg(2))
            } else {
                propagateInstead(db, ByteView("LMOVE"), srcKey, c.pointee.arg(2), c.pointee.arg(3), c.pointee.arg(4))
            }
        }
    }

    /// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
    mutating func blmpopCommand(_ c: ClientRef) {
        guard let timeoutAt = parseBlockTimeout(c, c.pointee.arg(1)) else { return }
        guard let a = parseMultiPop(c, numkeysAt: 2, directions: ("left", "right")) else { return }
        let db = c.pointee.db
        var keys: [ByteView] = []
        for k in a.keys {
            let key = c.pointee.arg(k)
            if let e = lookupWrite(db, key) {
                if e.type != .list {
                    if servingBlockedClient { continue }
                    addWrongType(c)
                    return
                }
                popFromList(c, db: db, key: key, entry: e, left: a.firstDirection, count: a.count, withKey: true)
                return
            }
            keys.append(key)
        }
        blockOrGiveUp(c, keys: keys, timeoutAt: timeoutAt, nullArray: true)
    }
}
