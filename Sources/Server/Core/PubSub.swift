/*
 * PubSub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB and the shard
 * channels of 7.0 (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH) — Redis's pubsub.c.
 *
 * Channels map to their subscribers; patterns are kept with their subscribers and matched
 * with Glob (Redis's stringmatchlen) on every PUBLISH. Messages and subscription
 * confirmations are arrays in RESP2 and push frames (`>`) in RESP3. A RESP2 client with at
 * least one subscription may only run the subscription commands, PING, QUIT and RESET.
 * Replicas accept PUBLISH like any command (redis-sentinel relies on it).
 *
 * Shard channels are a second namespace: outside cluster mode they behave as channels whose
 * messages arrive as "smessage", counted apart ("ssubscribe" replies count shard
 * subscriptions only), and SPUBLISH reaches replicas through the stream as PUBLISH does.
 * In cluster mode they are confined to the shard owning the channel's slot (routing), and
 * when the shard loses the slot its subscribers are unsubscribed with a "sunsubscribe" message
 * each (Redis's removeChannelsInSlot).
 */
import Keyspace
import Platform
import RESP

extension Server {
    /// The number of channels plus patterns `c` is subscribed to.
    func subscriptionCount(_ c: ClientRef) -> Int { c.pointee.channels.count + c.pointee.patterns.count }

    /// `*3 kind name count` (or `>3` in RESP3); shard replies count shard channels only.
    func addSubscriptionReply(_ c: ClientRef, _ kind: StaticString, _ name: [UInt8]?, shard: Bool = false) {
        c.pointee.reply.appendHeader(c.pointee.resp3 ? 62 : 42, 3)
        c.pointee.reply.appendBulk(ByteView(kind))
        if let name {
            name.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        } else {
            c.pointee.reply.appendNull(resp3: c.pointee.resp3)
        }
        c.pointee.reply.appendInteger(Int64(shard ? c.pointee.shardChannels.count : subscriptionCount(c)))
    }

    func updatePubsubFlag(_ c: ClientRef) {
        if subscriptionCount(c) + c.pointee.shardChannels.count > 0 { c.pointee.flags.insert(.pubsub) } else { c.pointee.flags.remove(.pubsub) }
    }

    mutating func subscribeCommand(_ c: ClientRef) { subscribeChannels(c, shard: false) }

    /// SUBSCRIBE / SSUBSCRIBE: joins each named channel, one confirmation each.
    mutating func subscribeChannels(_ c: ClientRef, shard: Bool) {
        for i in 1..<c.pointee.argc {
            let ch = c.pointee.arg(i).array
            if shard {
                Self.join(c, ch, &c.pointee.shardChannels, &shardChannelSubscribers)
            } else {
                Self.join(c, ch, &c.pointee.channels, &channelSubscribers)
            }
            updatePubsubFlag(c)
            addSubscriptionReply(c, shard ? "ssubscribe" : "subscribe", ch, shard: shard)
        }
    }

    /// Adds `c` to a channel's subscribers (`mine`: the client's own set of such channels).
    static func join(_ c: ClientRef, _ ch: [UInt8], _ mine: inout Set<[UInt8]>, _ table: inout [[UInt8]: [ClientRef]]) {
        if mine.insert(ch).inserted { table[ch, default: []].append(c) }
    }

    /// Removes `c` from a channel's subscribers, dropping a channel nobody listens to.
    static func leave(_ c: ClientRef, _ ch: [UInt8], _ mine: inout Set<[UInt8]>, _ table: inout [[UInt8]: [ClientRef]]) {
        guard mine.remove(ch) != nil else { return }
        table[ch]?.removeAll { $0 == c }
        if table[ch]?.isEmpty == true { table[ch] = nil }
    }

    mutating func unsubscribeCommand(_ c: ClientRef) { unsubscribeChannels(c, shard: false) }

    /// UNSUBSCRIBE / SUNSUBSCRIBE: the named channels, or every channel of the client (in
    /// order), or one reply with no channel when it has none.
    mutating func unsubscribeChannels(_ c: ClientRef, shard: Bool) {
        let current = shard ? c.pointee.shardChannels : c.pointee.channels
        let names = c.pointee.argc == 1 ? current.sorted(by: { $0.lexicographicallyPrecedes($1) })
            : (1..<c.pointee.argc).map { c.pointee.arg($0).array }
        if names.isEmpty {
            addSubscriptionReply(c, shard ? "sunsubscribe" : "unsubscribe", nil, shard: shard)
            return
        }
        for ch in names { unsubscribe(c, channel: ch, shard: shard, notify: true) }
    }

    mutating func unsubscribe(_ c: ClientRef, channel ch: [UInt8], shard: Bool = false, notify: Bool) {
        if shard {
            Self.leave(c, ch, &c.pointee.shardChannels, &shardChannelSubscribers)
        } else {
            Self.leave(c, ch, &c.pointee.channels, &channelSubscribers)
        }
        updatePubsubFlag(c)
        if notify { addSubscriptionReply(c, shard ? "sunsubscribe" : "unsubscribe", ch, shard: shard) }
    }

    mutating func psubscribeCommand(_ c: ClientRef) {
        for i in 1..<c.pointee.argc {
            let p = c.pointee.arg(i).array
            if !c.pointee.patterns.contains(p) {
                c.pointee.patterns.append(p)
                if patternSubscribers[p] == nil { patternOrder.append(p) }
                patternSubscribers[p, default: []].append(c)
            }
            updatePubsubFlag(c)
            addSubscriptionReply(c, "psubscribe", p)
        }
    }

    mutating func punsubscribeCommand(_ c: ClientRef) {
        if c.pointee.argc == 1 {
            if c.pointee.patterns.isEmpty {
                addSubscriptionReply(c, "punsubscribe", nil)
                return
            }
            for p in c.pointee.patterns { punsubscribe(c, pattern: p, notify: true) }
            return
        }
        for i in 1..<c.pointee.argc {
            punsubscribe(c, pattern: c.pointee.arg(i).array, notify: true)
        }
    }

    mutating func punsubscribe(_ c: ClientRef, pattern p: [UInt8], notify: Bool) {
        if let i = c.pointee.patterns.firstIndex(of: p) {
            c.pointee.patterns.remove(at: i)
            patternSubscribers[p]?.removeAll { $0 == c }
            if patternSubscribers[p]?.isEmpty == true {
                patternSubscribers[p] = nil
                patternOrder.removeAll { $0 == p }
            }
        }
        updatePubsubFlag(c)
        if notify { addSubscriptionReply(c, "punsubscribe", p) }
    }

    /// Drops every subscription of a client that is closing or RESET.
    mutating func unsubscribeAll(_ c: ClientRef) {
        for ch in c.pointee.channels { unsubscribe(c, channel: ch, notify: false) }
        for p in c.pointee.patterns { punsubscribe(c, pattern: p, notify: false) }
        for ch in c.pointee.shardChannels { unsubscribe(c, channel: ch, shard: true, notify: false) }
    }

    // MARK: - Shard channels

    mutating func ssubscribeCommand(_ c: ClientRef) {
        if inExec {
            addError(c, "-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n")
            return
        }
        subscribeChannels(c, shard: true)
    }

    mutating func sunsubscribeCommand(_ c: ClientRef) { unsubscribeChannels(c, shard: true) }

    mutating func spublishCommand(_ c: ClientRef) {
        let channel = c.pointee.arg(1), message = c.pointee.arg(2)
        var receivers = 0
        if let subs = shardChannelSubscribers[channel.array] {
            deliver(to: subs, "smessage", channel: channel, message: message)
            receivers = subs.count
        }
        c.pointee.reply.appendInteger(Int64(receivers))
        // In a cluster the message reaches the shard's other nodes over the bus, not the stream.
        if cluster.enabled { clusterPublish(channel: channel, message: message, shard: true) } else { forcePropagation(replicasOnly: true) }
    }

    /// Cluster mode, after a configuration change: shard channels whose slot neither we nor our
    /// master serve any more (nor import) lose their subscribers, each told with sunsubscribe.
    /// Returns whether anyone was told.
    mutating func dropUnservedShardChannels() -> Bool {
        guard !shardChannelSubscribers.isEmpty else { return false }
        let shard = cluster.me.isReplica ? cluster.me.master : cluster.myself
        var told = false
        for (channel, subscribers) in shardChannelSubscribers {
            let slot = channel.withUnsafeBufferPointer { HashSlot.of(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count)) }
            if Int(cluster.owner[slot]) == shard || cluster.importingFrom[slot] >= 0 { continue }
            for c in subscribers {
                unsubscribe(c, channel: channel, shard: true, notify: true)
                queueWrite(c)
                told = true
            }
        }
        return told
    }

    /// `*3 kind channel message` (`>3` in RESP3) to each subscriber.
    mutating func deliver(to subscribers: [ClientRef], _ kind: StaticString, channel: ByteView, message: ByteView) {
        for s in subscribers {
            s.pointee.reply.appendHeader(s.pointee.resp3 ? 62 : 42, 3)
            s.pointee.reply.appendBulk(ByteView(kind))
            s.pointee.reply.appendBulk(channel)
            s.pointee.reply.appendBulk(message)
            queueWrite(s)
        }
    }

    /// Delivers `message` on `channel`; returns the number of receivers.
    @discardableResult
    mutating func publish(channel: ByteView, message: ByteView) -> Int {
        var receivers = 0
        if !channelSubscribers.isEmpty, let subs = channelSubscribers[channel.array] {
            deliver(to: subs, "message", channel: channel, message: message)
            receivers += subs.count
        }
        for p in patternOrder {
            let matched = p.withUnsafeBufferPointer { b in
                Glob.match(ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count), channel)
            }
            guard matched, let subs = patternSubscribers[p] else { continue }
            for s in subs {
                s.pointee.reply.appendHeader(s.pointee.resp3 ? 62 : 42, 4)
                s.pointee.reply.appendBulk(ByteView("pmessage"))
                p.withUnsafeBufferPointer { s.pointee.reply.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
                s.pointee.reply.appendBulk(channel)
                s.pointee.reply.appendBulk(message)
                queueWrite(s)
                receivers += 1
            }
        }
        return receivers
    }

    mutating func publishCommand(_ c: ClientRef) {
        let n = publish(channel: c.pointee.arg(1), message: c.pointee.arg(2))
        c.pointee.reply.appendInteger(Int64(n))
        // Subscribers of replicas hear it too, as in Redis: through the stream, or in a cluster
        // through the bus to every node.
        if cluster.enabled {
            clusterPublish(channel: c.pointee.arg(1), message: c.pointee.arg(2), shard: false)
        } else {
            forcePropagation(replicasOnly: true)
        }
    }

    mutating func pubsubCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .pubsubChannels, .pubsubShardchannels:
            let pattern = c.pointee.argc == 3 ? c.pointee.arg(2) : nil
            var names: [[UInt8]] = []
            for ch in (id == .pubsubChannels ? channelSubscribers : shardChannelSubscribers).keys {
                let ok = pattern.map { p in ch.withUnsafeBufferPointer { Glob.match(p, ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count)) } } ?? true
                if ok { names.append(ch) }
            }
            c.pointee.reply.appendArrayHeader(names.count)
            for n in names { n.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) } }
        case .pubsubNumsub, .pubsubShardnumsub:
            let n = c.pointee.argc - 2
            c.pointee.reply.appendMapHeader(n, resp3: c.pointee.resp3)
            for i in 2..<c.pointee.argc {
                let ch = c.pointee.arg(i)
                c.pointee.reply.appendBulk(ch)
                let table = id == .pubsubNumsub ? channelSubscribers : shardChannelSubscribers
                c.pointee.reply.appendInteger(Int64(table[ch.array]?.count ?? 0))
            }
        case .pubsubNumpat:
            c.pointee.reply.appendInteger(Int64(patternSubscribers.count))
        default:
            addHelp(c, [
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
                "HELP",
                "    Prints this help.",
            ])
        }
    }
}
