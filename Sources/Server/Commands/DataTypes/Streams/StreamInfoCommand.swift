/*
 * XINFO STREAM [FULL [COUNT n]] | GROUPS | CONSUMERS, and the stream's DEBUG DIGEST — what
 * Redis 7.0 reports about a stream, field for field.
 *
 * `radix-tree-keys` is the number of nodes. `radix-tree-nodes` counts the nodes Redis's rax
 * would have for these node keys: Tandem keeps nodes in a skip list (Keyspace/Stream/IDMap.swift),
 * so the figure is computed from the keys — the rax of a set of 16-byte keys is their
 * compressed trie: the root, one node per child of every branching point, and one node where a
 * single-child chain ends (at a branching point or a key).
 */
import Keyspace
import Platform
import RESP

extension HelpText {
    static let xinfo = [
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ]
}

extension Server {
    mutating func xinfoCommand(_ c: ClientRef, _ sub: StreamCommand) {
        if sub == .xinfoHelp {
            addHelp(c, HelpText.xinfo)
            return
        }
        let key = c.pointee.arg(2)
        let (found, ok) = lookupTyped(c, key, .stream, forWrite: false)
        guard ok else { return }
        guard let e = found else {
            addError(c, "-ERR no such key\r\n")
            return
        }
        let s = Self.streamOf(e)
        let resp3 = c.pointee.resp3
        switch sub {
        case .xinfoConsumers:
            let groupName = c.pointee.arg(3)
            guard let g = s.pointee.lookupGroup(groupName) else {
                addErrorString(c, "-NOGROUP No such consumer group '\(groupName.string)' for key name '\(key.string)'")
                return
            }
            let cs = g.pointee.consumers
            c.pointee.reply.appendArrayHeader(cs.pointee.count)
            let now = Clock.unixMillis()
            for i in 0..<cs.pointee.count {
                let consumer = cs.pointee.item(i).assumingMemoryBound(to: Consumer.self)
                c.pointee.reply.appendMapHeader(3, resp3: resp3)
                c.pointee.reply.appendBulk("name")
                c.pointee.reply.appendBulk(Consumer.name(consumer))
                c.pointee.reply.appendBulk("pending")
                c.pointee.reply.appendInteger(Int64(consumer.pointee.pel.pointee.count))
                c.pointee.reply.appendBulk("idle")
                c.pointee.reply.appendInteger(max(now &- consumer.pointee.seenTime, 0))
            }
        case .xinfoGroups:
            let n = s.pointee.groupCount
            c.pointee.reply.appendArrayHeader(n)
            for i in 0..<n {
                let g = s.pointee.group(at: i)
                c.pointee.reply.appendMapHeader(6, resp3: resp3)
                c.pointee.reply.appendBulk("name")
                c.pointee.reply.appendBulk(ConsumerGroup.name(g))
                c.pointee.reply.appendBulk("consumers")
                c.pointee.reply.appendInteger(Int64(g.pointee.consumers.pointee.count))
                c.pointee.reply.appendBulk("pending")
                c.pointee.reply.appendInteger(Int64(g.pointee.pel.pointee.count))
                c.pointee.reply.appendBulk("last-delivered-id")
                addStreamID(c, g.pointee.lastID)
                appendGroupCounters(c, s, g, withPEL: false)
            }
        default:
            xinfoStream(c, s)
        }
    }

    /// `entries-read` and `lag`, null when unknown.
    func appendGroupCounters(_ c: ClientRef, _ s: UnsafeMutablePointer<Stream>, _ g: UnsafeMutablePointer<ConsumerGroup>,
                             withPEL: Bool) {
        c.pointee.reply.appendBulk("entries-read")
        if g.pointee.entriesRead != Stream.invalidEntriesRead {
            c.pointee.reply.appendInteger(g.pointee.entriesRead)
        } else {
            addNull(c)
        }
        c.pointee.reply.appendBulk("lag")
        if let lag = s.pointee.lag(of: g) { c.pointee.reply.appendInteger(lag) } else { addNull(c) }
    }

    mutating func xinfoStream(_ c: ClientRef, _ s: UnsafeMutablePointer<Stream>) {
        let argc = c.pointee.argc
        var full = true
        var count: Int64 = 10
        if argc == 3 {
            full = false
        } else {
            let syntaxError = "ERR unknown subcommand or wrong number of arguments for '\(c.pointee.arg(1).string)'. Try XINFO HELP."
            if !c.pointee.arg(3).equalsLowercase("full") {
                addErrorString(c, syntaxError)
                return
            }
            if argc > 4 {
                if argc != 6 || !c.pointee.arg(4).equalsLowercase("count") {
                    addErrorString(c, syntaxError)
                    return
                }
                guard let n = c.pointee.arg(5).int64 else {
                    addNotInteger(c)
                    return
                }
                count = n < 0 ? 10 : n
            }
        }
        let resp3 = c.pointee.resp3
        let reply = { (s: StaticString) in c.pointee.reply.appendBulk(ByteView(s)) }
        c.pointee.reply.appendMapHeader(full ? 9 : 10, resp3: resp3)
        reply("length")
        c.pointee.reply.appendInteger(Int64(s.pointee.length))
        reply("radix-tree-keys")
        c.pointee.reply.appendInteger(Int64(s.pointee.nodes.pointee.count))
        reply("radix-tree-nodes")
        c.pointee.reply.appendInteger(Int64(Self.raxNodeCount(s)))
        reply("last-generated-id")
        addStreamID(c, s.pointee.lastID)
        reply("max-deleted-entry-id")
        addStreamID(c, s.pointee.maxDeletedID)
        reply("entries-added")
        c.pointee.reply.appendInteger(Int64(bitPattern: s.pointee.entriesAdded))
        reply("recorded-first-entry-id")
        addStreamID(c, s.pointee.firstID)
        if !full {
            reply("groups")
            c.pointee.reply.appendInteger(Int64(s.pointee.groupCount))
            reply("first-entry")
            if replyStreamRange(c, s, nil, nil, count: 1, reverse: false, raw: true) == 0 { addNull(c) }
            reply("last-entry")
            if replyStreamRange(c, s, nil, nil, count: 1, reverse: true, raw: true) == 0 { addNull(c) }
            return
        }
        reply("entries")
        replyStreamRange(c, s, nil, nil, count: Int(count), reverse: false)
        reply("groups")
        let groups = s.pointee.groupCount
        c.pointee.reply.appendArrayHeader(groups)
        for i in 0..<groups {
            let g = s.pointee.group(at: i)
            c.pointee.reply.appendMapHeader(7, resp3: resp3)
            reply("name")
            c.pointee.reply.appendBulk(ConsumerGroup.name(g))
            reply("last-delivered-id")
            addStreamID(c, g.pointee.lastID)
            appendGroupCounters(c, s, g, withPEL: true)
            reply("pel-count")
            c.pointee.reply.appendInteger(Int64(g.pointee.pel.pointee.count))
            reply("pending")
            var header = c.pointee.reply.reserveDeferredHeader()
            var n = 0
            let pel = g.pointee.pel
            var node = pel.pointee.first
            while let x = node, count == 0 || n < count {
                let nack = NACK.at(pel, x)
                c.pointee.reply.appendArrayHeader(4)
                addStreamID(c, pel.pointee.id(x))
                c.pointee.reply.appendBulk(nack.pointee.consumer.map { Consumer.name($0) } ?? ByteView(""))
                c.pointee.reply.appendInteger(nack.pointee.deliveryTime)
                c.pointee.reply.appendInteger(Int64(bitPattern: nack.pointee.deliveryCount))
                n += 1
                node = g.pointee.pel.pointee.next(x)
            }
            c.pointee.reply.patchHeader(at: header, prefix: 42, n)
            reply("consumers")
            let cs = g.pointee.consumers
            c.pointee.reply.appendArrayHeader(cs.pointee.count)
            for j in 0..<cs.pointee.count {
                let consumer = cs.pointee.item(j).assumingMemoryBound(to: Consumer.self)
                c.pointee.reply.appendMapHeader(4, resp3: resp3)
                reply("name")
                c.pointee.reply.appendBulk(Consumer.name(consumer))
                reply("seen-time")
                c.pointee.reply.appendInteger(consumer.pointee.seenTime)
                reply("pel-count")
                c.pointee.reply.appendInteger(Int64(consumer.pointee.pel.pointee.count))
                reply("pending")
                header = c.pointee.reply.reserveDeferredHeader()
                n = 0
                var cn = consumer.pointee.pel.pointee.first
                while let x = cn, count == 0 || n < count {
                    let id = consumer.pointee.pel.pointee.id(x)
                    let nack = NACK.find(pel, id)
                    c.pointee.reply.appendArrayHeader(3)
                    addStreamID(c, id)
                    c.pointee.reply.appendInteger(nack?.pointee.deliveryTime ?? 0)
                    c.pointee.reply.appendInteger(Int64(bitPattern: nack?.pointee.deliveryCount ?? 0))
                    n += 1
                    cn = consumer.pointee.pel.pointee.next(x)
                }
                c.pointee.reply.patchHeader(at: header, prefix: 42, n)
            }
        }
    }

    /// The node count of the rax Redis would hold for this stream's node keys (see the top).
    static func raxNodeCount(_ s: UnsafeMutablePointer<Stream>) -> Int {
        var keys: [[UInt8]] = []
        var n = s.pointee.nodes.pointee.first
        while let x = n {
            let id = IDMap.Node.id(x)
            var k = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 {
                k[i] = UInt8(truncatingIfNeeded: id.ms >> (56 - 8 * i))
                k[8 + i] = UInt8(truncatingIfNeeded: id.seq >> (56 - 8 * i))
            }
            keys.append(k)
            n = s.pointee.nodes.pointee.next(x)
        }
        if keys.isEmpty { return 1 }
        // Branching prefixes: the common prefix of each pair of neighbours (keys are sorted).
        var branching = Set<[UInt8]>()
        for i in 0..<(keys.count - 1) {
            var l = 0
            while l < 16 && keys[i][l] == keys[i + 1][l] { l += 1 }
            branching.insert(Array(keys[i][0..<l]))
        }
        // Root, every child of a branching point (one per key beyond the first, plus one per
        // branching point), and every branching point or key whose parent does not branch.
        var count = 1 + branching.count + (keys.count - 1)
        for b in branching where !b.isEmpty && !branching.contains(Array(b.dropLast())) { count += 1 }
        for k in keys where !branching.contains(Array(k.dropLast())) { count += 1 }
        return count
    }

    /// DEBUG DIGEST of a stream, as Redis's xorObjectDigest: each entry's "ms.seq" and its
    /// fields and values mixed in order.
    static func streamDigest(_ e: Entry, _ digest: inout [UInt8]) {
        var it = StreamIterator(streamOf(e), start: nil, end: nil, reverse: false)
        while let (id, fields) = it.nextID() {
            let text = Array("\(id.ms).\(id.seq)".utf8)
            text.withUnsafeBytes { mixDigest(&digest, $0.baseAddress, $0.count) }
            for _ in 0..<fields {
                let (f, v) = it.nextField()
                f.withBytes { mixDigest(&digest, $0.base, $0.count) }
                v.withBytes { mixDigest(&digest, $0.base, $0.count) }
            }
        }
    }
}
