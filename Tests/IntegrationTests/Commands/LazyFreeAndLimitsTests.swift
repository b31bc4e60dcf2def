/*
 * LazyFreeAndLimitsTests.swift — lazy free and client output limits (issue 14).
 *
 * Lazy free: UNLINK and FLUSHALL ASYNC of a large set return at once, the lazy-free thread
 * gives the memory back (used_memory falls), and INFO counts what it freed; a small value is
 * freed on the spot. Output limits: a normal client whose reply breaks the hard limit is closed
 * without a reply, a subscriber that does not read is closed at the pubsub hard limit, and a
 * huge HRANDFIELD count stops early instead of building gigabytes. Client eviction: a client
 * whose query buffer takes the clients' memory over maxmemory-clients is closed, one with CLIENT
 * NO-EVICT is not. The same checks run on redis-server, so the test states Redis's behaviour
 * rather than ours.
 */

import Foundation
import Testing

@Suite struct LazyFreeAndLimitsTests {
    static func info(_ c: RawClient, _ section: String, _ field: String) throws -> Int {
        Int(try InfoReply.fetch(c, section)[field] ?? "-1") ?? -1
    }

    static func fillSet(_ c: RawClient, _ key: String, members: Int) throws {
        var j = 0
        while j < members {
            let batch = (j..<min(members, j + 1000)).map { "m\($0)" }
            _ = try c.call(["SADD", key] + batch)
            j += 1000
        }
    }

    @Test(arguments: [ServerFlavour.tandem, .redis])
    func unlinkAndFlushAsyncFreeInTheBackground(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect()
        let base = try Self.info(c, "memory", "used_memory")
        try Self.fillSet(c, "big", members: 200_000)
        let peak = try Self.info(c, "memory", "used_memory")
        #expect(peak > base + 4_000_000)
        #expect(try c.callValue(["UNLINK", "big"]) == .integer(1))
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            (try? Self.info(c, "memory", "lazyfree_pending_objects")) == 0
                && ((try? Self.info(c, "memory", "used_memory")) ?? Int.max) < base + 1_000_000
        }, "\(flavour)")
        #expect(try Self.info(c, "memory", "lazyfreed_objects") == 1, "\(flavour)")
        // A small value is freed on the spot: nothing more for the thread.
        _ = try c.call(["SADD", "small", "a", "b"])
        _ = try c.call(["UNLINK", "small"])
        #expect(try Self.info(c, "memory", "lazyfreed_objects") == 1, "\(flavour)")
        try Self.fillSet(c, "big", members: 200_000)
        _ = try c.call(["SET", "other", "x"])
        #expect(try c.callValue(["FLUSHALL", "ASYNC"]) == .simple("OK"))
        #expect(try c.callValue(["DBSIZE"]) == .integer(0))
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            ((try? Self.info(c, "memory", "used_memory")) ?? Int.max) < base + 1_000_000
        }, "\(flavour)")
        #expect(try Self.info(c, "memory", "lazyfreed_objects") == 3, "\(flavour)")  // the set and "other"
        _ = try c.call(["CONFIG", "RESETSTAT"])
        #expect(try Self.info(c, "memory", "lazyfreed_objects") == 0)
    }

    @Test(arguments: [ServerFlavour.tandem, .redis])
    func outputLimitsCloseClients(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect()
        _ = try c.call(["CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0 pubsub 100000 0 0"])
        let item = String(repeating: "x", count: 1000)
        for _ in 0..<150 { _ = try c.call(["RPUSH", "list", item]) }
        // A reply over the hard limit: the client is closed and gets nothing.
        let big = try server.connect()
        _ = try big.call(["CLIENT", "SETNAME", "big"])
        try big.send(["LRANGE", "list", "0", "-1"])
        #expect(big.waitForClose(milliseconds: 3000), "\(flavour)")
        let list = try c.callValue(["CLIENT", "LIST"]).text ?? ""
        #expect(!list.contains("name=big "), "\(flavour)")
        // A huge HRANDFIELD count stops once the limit is passed.
        _ = try c.call(["CONFIG", "SET", "client-output-buffer-limit", "normal 1000000 0 0"])
        _ = try c.call(["HSET", "h", "a", "b"])
        let greedy = try server.connect(timeoutSeconds: 10)
        try greedy.send(["HRANDFIELD", "h", "-999999999"])
        #expect(greedy.waitForClose(milliseconds: 10_000), "\(flavour)")
        // A subscriber that never reads is closed at the pubsub hard limit.
        let sub = try server.connect()
        _ = try sub.call(["SUBSCRIBE", "ch"])
        let payload = String(repeating: "p", count: 10_000)
        var closed = false
        for _ in 0..<5000 {
            _ = try c.call(["PUBLISH", "ch", payload])
            if try c.callValue(["PUBSUB", "NUMSUB", "ch"]).elements?.last == .integer(0) {
                closed = true
                break
            }
        }
        #expect(closed, "\(flavour)")
    }

    @Test(arguments: [ServerFlavour.tandem, .redis])
    func clientEvictionClosesTheBiggestClient(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect()
        _ = try c.call(["CLIENT", "NO-EVICT", "on"])
        _ = try c.call(["CONFIG", "SET", "maxmemory-clients", "3000000"])
        let size = 3_000_001
        let partial = Array("*1\r\n$\(size)\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "v"), count: size - 10)
        // A client with NO-EVICT may go over the limit.
        let kept = try server.connect()
        _ = try kept.call(["CLIENT", "SETNAME", "kept"])
        _ = try kept.call(["CLIENT", "NO-EVICT", "on"])
        try kept.sendRaw(partial)
        #expect(Harness.waitUntil(milliseconds: 5000) {
            ((try? c.callValue(["CLIENT", "LIST"]).text) ?? "").contains("name=kept ")
                && ((try? Self.info(c, "stats", "evicted_clients")) ?? -1) == 0
        }, "\(flavour)")
        kept.close()
        #expect(Harness.waitUntil(milliseconds: 5000) {
            !(((try? c.callValue(["CLIENT", "LIST"]).text) ?? "name=kept ").contains("name=kept "))
        })
        // Without it, the client is evicted.
        let big = try server.connect()
        _ = try big.call(["CLIENT", "SETNAME", "big"])
        try? big.sendRaw(partial)  // the server may close it before the last byte is sent
        #expect(big.waitForClose(milliseconds: 5000), "\(flavour)")
        #expect(try Self.info(c, "stats", "evicted_clients") == 1, "\(flavour)")
        #expect(try c.callValue(["PING"]) == .simple("PONG"))
    }
}
