/*
 * BlockingScripts.swift — differential scripts for the blocking list commands (BLPOP BRPOP BRPOPLPUSH BLMOVE
 * BLMPOP): served at once when data exists, blocking until another connection pushes, FIFO order among
 * waiters, timeouts (fractional), errors, WRONGTYPE, the null replies inside MULTI/EXEC, a push inside MULTI
 * waking a waiter only after EXEC, CLIENT UNBLOCK, and a killed waiter leaving no trace.
 *
 * A blocked command is sent with `.noReply` (nothing may come back within 100 ms); its reply is read later
 * with `.read()` on the same connection after another connection made data available.
 */

import Foundation
import Testing

@Suite struct BlockingCommandTests {
    @Test(arguments: BlockingScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }
}

enum BlockingScripts {
    static let all: [Script] = [immediate, blockThenPush, fifoOrder, timeouts, errors, multiNeverBlocks,
                                pushInsideMulti, blmoveAndBrpoplpush, blmpop, unblockAndKill]

    static let immediate = Script("blocking-served-immediately", [
        ["RPUSH", "q", "a", "b", "c"],
        ["BLPOP", "empty", "q", "0"],
        ["BRPOP", "q", "0"],
        ["BLPOP", "q", "1"],
        ["EXISTS", "q"],
        ["RPUSH", "src", "x", "y"],
        ["BRPOPLPUSH", "src", "dst", "0"],
        ["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"],
        ["LRANGE", "dst", "0", "-1"],
        ["EXISTS", "src"],
    ])

    static let blockThenPush = Script("blocking-wakes-on-push", [
        .noReply("BLPOP", "q1", "q2", "0"),
        .use(1),
        ["RPUSH", "q2", "v1", "v2"],
        .use(0),
        .read(),
        ["LRANGE", "q2", "0", "-1"],
        .noReply("BRPOP", "q3", "0"),
        .use(1),
        ["SET", "q3", "not a list"],
        ["DEL", "q3"],
        ["LPUSH", "q3", "late"],
        .use(0),
        .read(),
        ["EXISTS", "q3"],
    ])

    static let fifoOrder = Script("blocking-fifo-order", [
        .noReply("BLPOP", "f", "0"),
        .use(1),
        .noReply("BLPOP", "f", "0"),
        .use(2),
        ["RPUSH", "f", "first"],
        ["RPUSH", "f", "second"],
        .use(0),
        .read(),
        .use(1),
        .read(),
        .use(2),
        ["LLEN", "f"],
        ["INFO", "keyspace"],
    ])

    static let timeouts = Script("blocking-timeouts", [
        ["BLPOP", "none", "0.1"],
        ["BRPOP", "none", "0.05"],
        ["BLMOVE", "none", "d", "LEFT", "LEFT", "0.1"],
        ["BRPOPLPUSH", "none", "d", "0.1"],
        ["BLMPOP", "0.1", "1", "none", "LEFT"],
        .mapExcept(["id"], "HELLO", "3"),
        ["BLPOP", "none", "0.05"],
        ["BLMOVE", "none", "d", "LEFT", "LEFT", "0.05"],
    ])

    static let errors = Script("blocking-errors", [
        ["BLPOP", "q", "abc"],
        ["BLPOP", "q", "-1"],
        ["BLPOP", "q"],
        ["SET", "s", "x"],
        ["BLPOP", "s", "0"],
        ["BLPOP", "none", "s", "0"],
        ["BRPOPLPUSH", "s", "d", "0"],
        ["RPUSH", "l", "1"],
        ["BRPOPLPUSH", "l", "s", "0"],
        ["LLEN", "l"],
        ["BLMOVE", "l", "d", "UP", "LEFT", "0"],
        ["BLMPOP", "0", "0", "l", "LEFT"],
        ["BLMPOP", "0", "1", "l", "MIDDLE"],
        ["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"],
        ["BLMPOP", "0", "3", "l", "LEFT"],
        ["BLMPOP", "x", "1", "l", "LEFT"],
    ])

    static let multiNeverBlocks = Script("blocking-inside-multi", [
        ["MULTI"],
        ["BLPOP", "none", "0"],
        ["BRPOPLPUSH", "none", "d", "0"],
        ["BLMPOP", "0", "1", "none", "RIGHT"],
        ["RPUSH", "m", "x"],
        ["BLPOP", "m", "0"],
        ["EXEC"],
    ])

    static let pushInsideMulti = Script("blocking-push-inside-multi", [
        .noReply("BLPOP", "t", "0"),
        .use(1),
        ["MULTI"],
        ["RPUSH", "t", "a"],
        ["RPUSH", "t", "b"],
        ["LLEN", "t"],
        ["EXEC"],
        .use(0),
        .read(),
        ["LRANGE", "t", "0", "-1"],
    ])

    static let blmoveAndBrpoplpush = Script("blocking-move", [
        .noReply("BLMOVE", "from", "to", "RIGHT", "LEFT", "0"),
        .use(1),
        .noReply("BRPOPLPUSH", "to", "final", "0"),
        .use(2),
        ["LPUSH", "from", "item"],
        .use(0),
        .read(),
        .use(1),
        .read(),
        .use(2),
        ["LRANGE", "final", "0", "-1"],
        ["EXISTS", "from", "to"],
    ])

    static let blmpop = Script("blocking-blmpop", [
        .noReply("BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2"),
        .use(1),
        ["RPUSH", "b", "1", "2", "3"],
        .use(0),
        .read(),
        ["LRANGE", "b", "0", "-1"],
    ])

    static let unblockAndKill = Script("blocking-unblock-and-kill", [
        ["CLIENT", "SETNAME", "waiter"],
        .noReply("BLPOP", "u", "0"),
        .use(1),
        ["CLIENT", "UNBLOCK", "999999"],
        ["CLIENT", "UNBLOCK", "abc"],
        .use(0),
        .use(1),
        ["CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal"],
        ["RPUSH", "u", "x"],
        ["LLEN", "u"],
        ["INFO", "clients"].count > 0 ? .typeOnly("INFO", "clients") : .typeOnly("PING"),
    ])
}

/// The sorted-set side: BZPOPMIN, BZPOPMAX, BZMPOP.
@Suite struct BlockingZSetCommandTests {
    @Test(arguments: BlockingZSetScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }
}

enum BlockingZSetScripts {
    static let all: [Script] = [zImmediate, zBlockThenAdd, zErrorsAndTimeouts]

    static let zImmediate = Script("bzpop-served-immediately", [
        ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        ["BZPOPMIN", "none", "z", "0"],
        ["BZPOPMAX", "z", "0"],
        ["BZMPOP", "0", "2", "none", "z", "MIN", "COUNT", "5"],
        ["EXISTS", "z"],
        .mapExcept(["id"], "HELLO", "3"),
        ["ZADD", "z", "1.5", "x"],
        ["BZPOPMIN", "z", "0"],
    ])

    static let zBlockThenAdd = Script("bzpop-wakes-on-zadd", [
        .noReply("BZPOPMAX", "w1", "w2", "0"),
        .use(1),
        .noReply("BZMPOP", "0", "1", "w2", "MIN", "COUNT", "2"),
        .use(2),
        ["ZADD", "w2", "5", "five", "6", "six", "7", "seven"],
        .use(0),
        .read(),
        .use(1),
        .read(),
        .use(2),
        ["ZRANGE", "w2", "0", "-1", "WITHSCORES"],
    ])

    static let zErrorsAndTimeouts = Script("bzpop-errors-timeouts", [
        ["BZPOPMIN", "z", "x"],
        ["BZPOPMIN", "z", "-1"],
        ["SET", "s", "1"],
        ["BZPOPMIN", "s", "0"],
        ["BZPOPMIN", "none", "0.05"],
        ["BZMPOP", "0.05", "1", "none", "MAX"],
        ["BZMPOP", "0", "0", "z", "MIN"],
        ["BZMPOP", "0", "1", "z", "UP"],
        ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"],
        ["MULTI"],
        ["BZPOPMIN", "none", "0"],
        ["BZMPOP", "0", "1", "none", "MIN"],
        ["EXEC"],
    ])
}
