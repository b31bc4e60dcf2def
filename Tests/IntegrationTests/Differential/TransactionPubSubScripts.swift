/*
 * TransactionPubSubScripts.swift — differential scripts for MULTI/EXEC/DISCARD/WATCH/UNWATCH and
 * SUBSCRIBE/PSUBSCRIBE/PUBLISH/PUBSUB, including RESP2's subscribed-mode restrictions and RESP3 pushes.
 *
 * Several connections are used (`.use(n)`): WATCH is broken from another connection, and published
 * messages are read from the subscriber's connection with `.read()`.
 */

import Foundation
import Testing

@Suite struct TransactionPubSubTests {
    @Test(arguments: TransactionPubSubScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }
}

enum TransactionPubSubScripts {
    static let all: [Script] = [multiBasics, multiErrors, watchBroken, watchFlushAndSwap, watchExpire, pubsub,
                                pubsubPatterns, pubsubResp3, pubsubIntrospection]

    static let multiBasics = Script("multi-basics", [
        ["MULTI"],
        ["SET", "a", "1"],
        ["INCR", "a"],
        ["GET", "a"],
        // (Not LASTSAVE: the two servers may start on either side of a second's boundary.)
        ["DBSIZE"],
        ["EXEC"],
        ["MULTI"],
        ["EXEC"],
        ["MULTI"],
        ["SET", "b", "x"],
        ["INCR", "b"],
        ["GET", "b"],
        ["EXEC"],
        ["MULTI"],
        ["SET", "c", "1"],
        ["DISCARD"],
        ["GET", "c"],
        ["EXEC"],
        ["DISCARD"],
        ["MULTI"],
        ["PING"],
        ["ECHO", "hi"],
        ["EXEC"],
    ])

    static let multiErrors = Script("multi-errors", [
        ["MULTI"],
        ["MULTI"],
        ["WATCH", "a"],
        ["SET", "a", "1"],
        ["GET"],
        ["EXEC"],
        ["GET", "a"],
        ["MULTI"],
        ["NOSUCHCOMMAND", "x"],
        ["SET", "a", "1"],
        ["EXEC"],
        ["MULTI"],
        ["CLIENT", "NOSUCH"],
        ["EXEC"],
        ["MULTI"],
        ["SHUTDOWN"],
        ["EXEC"],
        ["MULTI"],
        ["SET", "a", "1"],
        ["RESET"],
        ["EXEC"],
        ["GET", "a"],
    ])

    static let watchBroken = Script("watch-broken-by-other-client", [
        ["SET", "w", "1"],
        ["WATCH", "w"],
        .use(1),
        ["SET", "w", "2"],
        .use(0),
        ["MULTI"],
        ["SET", "w", "3"],
        ["EXEC"],
        ["GET", "w"],
        ["WATCH", "w"],
        ["MULTI"],
        ["SET", "w", "4"],
        ["EXEC"],
        ["GET", "w"],
        ["WATCH", "w", "other"],
        ["UNWATCH"],
        .use(1),
        ["SET", "w", "5"],
        .use(0),
        ["MULTI"],
        ["SET", "w", "6"],
        ["EXEC"],
        ["WATCH", "missing"],
        .use(1),
        ["SET", "missing", "now"],
        .use(0),
        ["MULTI"],
        ["GET", "missing"],
        ["EXEC"],
        ["WATCH", "w"],
        .use(1),
        ["DEL", "w"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
        ["SET", "n", "1"],
        ["WATCH", "n"],
        .use(1),
        ["INCR", "n"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
        ["WATCH", "n"],
        .use(1),
        ["EXPIRE", "n", "100"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
        ["WATCH", "n"],
        .use(1),
        ["GET", "n"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
    ])

    static let watchFlushAndSwap = Script("watch-flush-swapdb", [
        ["SET", "k", "1"],
        ["WATCH", "k"],
        .use(1),
        ["FLUSHALL"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
        ["WATCH", "absent"],
        .use(1),
        ["FLUSHDB"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
        ["SET", "k", "1"],
        ["WATCH", "k"],
        .use(1),
        ["SWAPDB", "0", "1"],
        .use(0),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
    ])

    static let watchExpire = Script("watch-expire", [
        ["SET", "e", "1", "PX", "100"],
        ["WATCH", "e"],
        .sleep(250),
        ["MULTI"],
        ["PING"],
        ["EXEC"],
    ])

    static let pubsub = Script("pubsub-basics", [
        ["SUBSCRIBE", "news", "sport"],
        .read(),
        ["GET", "x"],
        ["PING"],
        ["PING", "hello"],
        .use(1),
        ["PUBLISH", "news", "hi"],
        ["PUBLISH", "nobody", "hi"],
        .use(0),
        .read(),
        ["UNSUBSCRIBE", "news"],
        ["UNSUBSCRIBE"],
        ["UNSUBSCRIBE"],
        ["PING"],
        ["GET", "x"],
        .use(1),
        ["PUBLISH", "news", "gone"],
    ])

    static let pubsubPatterns = Script("pubsub-patterns", [
        ["PSUBSCRIBE", "n*", "s?ort"],
        .read(),
        ["SUBSCRIBE", "news"],
        .use(1),
        ["PUBLISH", "news", "both"],
        ["PUBLISH", "sport", "one"],
        ["PUBSUB", "NUMPAT"],
        .use(0),
        .read(),
        .read(),
        .read(),
        ["PUNSUBSCRIBE", "n*"],
        ["PUNSUBSCRIBE"],
        ["PUNSUBSCRIBE"],
        ["UNSUBSCRIBE"],
        ["SET", "x", "1"],
    ])

    static let pubsubResp3 = Script("pubsub-resp3", [
        .mapExcept(["id"], "HELLO", "3"),
        ["SUBSCRIBE", "ch"],
        ["GET", "x"],
        ["SET", "x", "1"],
        .use(1),
        ["PUBLISH", "ch", "m"],
        .use(0),
        .read(),
        ["PING"],
        ["UNSUBSCRIBE", "ch"],
        ["RESET"],
        ["SUBSCRIBE", "ch"],
        ["RESET"],
        ["GET", "x"],
    ])

    static let pubsubIntrospection = Script("pubsub-introspection", [
        ["PUBSUB", "CHANNELS"],
        ["PUBSUB", "NUMSUB"],
        ["PUBSUB", "NUMSUB", "a"],
        ["PUBSUB", "NUMPAT"],
        ["SUBSCRIBE", "alpha"],
        .use(1),
        ["SUBSCRIBE", "alpha", "beta"],
        .read(),
        .use(2),
        .sorted("PUBSUB", "CHANNELS"),
        ["PUBSUB", "CHANNELS", "a*"],
        ["PUBSUB", "NUMSUB", "alpha", "beta", "gamma"],
        ["PUBSUB", "NUMPAT"],
        ["PUBLISH", "alpha", "x"],
        ["PUBSUB", "FOO"],
        ["PUBSUB", "HELP"],
    ])
}
