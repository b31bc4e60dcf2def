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
            return
        }
        var keys: [ByteView] = []
        for i in 1..<(argc - 1) { keys.append(c.pointee.arg(i)) }
        blockOrGiveUp(c, keys: keys, timeoutAt: timeoutAt, nullArray: true)
    }

    /// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
    mutating func bzmpopCommand(_ c: ClientRef) {
        guard let timeoutAt = parseBlockTimeout(c, c.pointee.arg(1)) else { return }
        let argc = c.pointee.argc
        guard let numkeys = c.pointee.arg(2).int64, numkeys >= 1 else {
            addError(c, "-ERR numkeys should be greater than 0\r\n")
            return
        }
        if numkeys > Int64(argc - 4) {
            addSyntaxError(c)
            return
        }
        let whereIndex = 3 + Int(numkeys)
        let w = c.pointee.arg(whereIndex)
        let max: Bool
        if w.equalsLowercase("min") {
            max = false
        } else if w.equalsLowercase("max") {
            max = true
        } else {
            addSyntaxError(c)
            return
        }
        var count = -1
        var j = whereIndex + 1
        while j < argc {
            if count == -1 && c.pointee.arg(j).equalsLowercase("count") && j + 1 < argc {
                j += 1
                guard let n = c.pointee.arg(j).int64, n >= 1 else {
                    addError(c, "-ERR count should be greater than 0\r\n")
                    return
                }
                count = Int(n)
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }
        let found = firstNonEmptyZSet(c, 3..<whereIndex)
        if found == -2 { return }
        if found >= 0 {
            zsetPop(c, firstKey: found, keyCount: 1, max: max, emitKey: true, count: count == -1 ? 1 : count,
                    nested: true, nilWhenEmpty: true)
            return
        }
        var keys: [ByteView] = []
        for i in 3..<whereIndex { keys.append(c.pointee.arg(i)) }
        blockOrGiveUp(c, keys: keys, timeoutAt: timeoutAt, nullArray: true)
    }
}
