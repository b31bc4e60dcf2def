/*
 * MultiPopArguments: the argument tail shared by LMPOP, BLMPOP, ZMPOP and BZMPOP —
 *
 *     numkeys key [key ...] LEFT|RIGHT (or MIN|MAX) [COUNT count]
 *
 * parsed once, with Redis's errors, so the four commands cannot drift apart.
 */
import Platform

struct MultiPopArguments {
    /// Index of the first key argument.
    var firstKey: Int
    var keyCount: Int
    /// True for the first of the two direction words (LEFT, MIN).
    var firstDirection: Bool
    /// COUNT, 1 when absent.
    var count: Int

    var keys: Range<Int> { firstKey..<(firstKey + keyCount) }
}

extension Server {
    /// Parses the tail starting with numkeys at argument `numkeysAt`. Replies the error and
    /// returns nil on bad input.
    mutating func parseMultiPop(_ c: ClientRef, numkeysAt: Int, directions: (StaticString, StaticString))
        -> MultiPopArguments?
    {
        let argc = c.pointee.argc
        guard let numkeys = c.pointee.arg(numkeysAt).int64, numkeys >= 1 else {
            addError(c, "-ERR numkeys should be greater than 0\r\n")
            return nil
        }
        if numkeys > Int64(argc - numkeysAt - 2) {
            addSyntaxError(c)
            return nil
        }
        let whereIndex = numkeysAt + 1 + Int(numkeys)
        let word = c.pointee.arg(whereIndex)
        let first: Bool
        if word.equalsLowercase(directions.0) {
            first = true
        } else if word.equalsLowercase(directions.1) {
            first = false
        } else {
            addSyntaxError(c)
            return nil
        }
        var count = -1
        var j = whereIndex + 1
        while j < argc {
            if count == -1 && c.pointee.arg(j).equalsLowercase("count") && j + 1 < argc {
                j += 1
                guard let n = c.pointee.arg(j).int64, n >= 1 else {
                    addError(c, "-ERR count should be greater than 0\r\n")
                    return nil
                }
                count = Int(n)
            } else {
                addSyntaxError(c)
                return nil
            }
            j += 1
        }
        return MultiPopArguments(firstKey: numkeysAt + 1, keyCount: Int(numkeys), firstDirection: first,
                                 count: count == -1 ? 1 : count)
    }
}
