/*
 * Blocking sorted-set commands: BZPOPMIN, BZPOPMAX, BZMPOP, on Blocking.swift and the
 * zsetPop primitive of ZSetCommands.swift. Same shape as BlockingListCommands.swift.
 */
import Keyspace
import Platform
import RESP

extension Server {
    /// The index of the first argument in `range` naming a sorted set, skipping missing keys
    /// (and, when re-run for a waiter, keys of another type). Returns -2 after a WRONGTYPE
    /// reply, -1 when none has data.
    mutating func firstNonEmptyZSet(_ c: ClientRef, _ range: Range<Int>) -> Int {
        let db = c.pointee.db
        for i in range {
            guard let e = lookupWrite(db, c.pointee.arg(i)) else { continue }
            if e.type != .zset {
                if servingBlockedClient { continue }
                addWrongType(c)
                return -2
            }
            return i
        }
        return -1
    }

    /// BZPOPMIN / BZPOPMAX key [key ...] timeout
    mutating func bzpopCommand(_ c: ClientRef, max: Bool) {
        let argc = c.pointee.argc
        guard let timeoutAt = parseBlockTimeout(c, c.pointee.arg(argc - 1)) else { return }
        let found = firstNonEmptyZSet(c, 1..<(argc - 1))
        if found == -2 { return }
        if found >= 0 {
            zsetPop(c, firstKey: found, keyCount: 1, max: max, emitKey: true, count: -1, nested: false,
                    nilWhenEmpty: true)
            propagateInstead(c.pointee.db, ByteView(max ? "ZPOPMAX" : "ZPOPMIN"), c.pointee.arg(found))
            return
        }
        var keys: [ByteView] = []
        for i in 1..<(argc - 1) { keys.append(c.pointee.arg(i)) }
        blockOrGiveUp(c, keys: keys, timeoutAt: timeoutAt, nullArray: true)
    }

    /// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
    mutating func bzmpopCommand(_ c: ClientRef) {
        guard let timeoutAt = parseBlockTimeout(c, c.pointee.arg(1)) else { return }
        guard let a = parseMultiPop(c, numkeysAt: 2, directions: ("min", "max")) else { return }
        let found = firstNonEmptyZSet(c, a.keys)
        if found == -2 { return }
        if found >= 0 {
            zsetPop(c, firstKey: found, keyCount: 1, max: !a.firstDirection, emitKey: true, count: a.count,
                    nested: true, nilWhenEmpty: true)
            return
        }
        blockOrGiveUp(c, keys: a.keys.map { c.pointee.arg($0) }, timeoutAt: timeoutAt, nullArray: true)
    }
}
