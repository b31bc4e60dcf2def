/*
 * ClientEviction: maxmemory-clients — Redis 7.0's client eviction (evictClients and the
 * client memory usage buckets of networking.c / server.c).
 *
 * Every connection's memory is estimated as Redis's getClientMemoryUsage does: its query
 * buffer, reply buffer, the Client block itself, the MULTI queue, the watched keys, the
 * channels and patterns it is subscribed to and its tracking prefixes (CLIENT LIST's tot-mem).
 * The estimate is refreshed where it changes (after reading, after each command, when output
 * is queued for it, in the client cron) and the sum over normal and pubsub clients is kept.
 * When that sum reaches maxmemory-clients (bytes, or a percentage of maxmemory), clients are
 * closed, biggest size class first (classes are powers of two from 32 KB, as Redis's buckets;
 * within a class the oldest first), until the sum is below the limit. Our master, replicas,
 * clients with CLIENT NO-EVICT and clients already closing are never chosen; the memory of
 * no-evict clients still counts, as in Redis.
 */
import Platform
import RESP

extension Server {
    /// maxmemory-clients in bytes (0: client eviction off), from its stored text.
    func configuredClientEvictionLimit() -> Int {
        let text = settings.storedValue("maxmemory-clients")
        if text.hasSuffix("%") {
            let percent = Int(text.dropLast()) ?? 0
            return Int(Double(settings.maxmemory) * Double(percent) / 100)
        }
        return Int(text) ?? 0
    }

    /// Redis's getClientMemoryUsage: what `c` holds (CLIENT LIST's tot-mem).
    func clientMemory(_ c: ClientRef) -> Int {
        var total = MemoryLayout<Client>.size + c.pointee.queryCapacity + c.pointee.reply.allocatedBytes
            + c.pointee.multiQueue.capacity + collectionsMemory(c)
        if c.pointee.flags.contains(.executing) {
            // The arguments of the running command (Redis frees its argv after each command).
            total += c.pointee.argvCapacity * MemoryLayout<ByteView>.stride
            for i in 0..<c.pointee.argc { total += c.pointee.argv[i].count }
        }
        return total
    }

    /// The watched keys, subscriptions and tracking prefixes: about 48 bytes of bookkeeping per
    /// item beside its bytes. Summed again only when the number of items changed (a client
    /// with many subscriptions pays once per change, not once per command).
    func collectionsMemory(_ c: ClientRef) -> Int {
        let items = c.pointee.watched.count + c.pointee.channels.count + c.pointee.patterns.count
            + c.pointee.shardChannels.count + c.pointee.tracking.prefixes.count
        if items == c.pointee.collectionItems { return c.pointee.collectionBytes }
        var total = 0
        for w in c.pointee.watched { total += w.key.count + 48 }
        for ch in c.pointee.channels { total += ch.count + 48 }
        for p in c.pointee.patterns { total += p.count + 48 }
        for ch in c.pointee.shardChannels { total += ch.count + 48 }
        for p in c.pointee.tracking.prefixes { total += p.count + 48 }
        c.pointee.collectionItems = items
        c.pointee.collectionBytes = total
        return total
    }

    /// Whether `c`'s memory counts toward maxmemory-clients (normal and pubsub clients).
    @inline(__always)
    func countsForClientEviction(_ c: ClientRef) -> Bool {
        !c.pointee.isMaster && !c.pointee.isReplica && !c.pointee.flags.contains(.closeASAP)
    }

    /// Refreshes `c`'s share of the clients' memory total.
    @inline(__always)
    mutating func updateClientMemory(_ c: ClientRef) {
        if clientEvictionLimit == 0 && c.pointee.memoryCounted == 0 { return }
        let now = countsForClientEviction(c) && clientEvictionLimit > 0 ? clientMemory(c) : 0
        clientsMemory += now - c.pointee.memoryCounted
        c.pointee.memoryCounted = now
    }

    /// Takes `c` out of the total (it is closing).
    mutating func forgetClientMemory(_ c: ClientRef) {
        clientsMemory -= c.pointee.memoryCounted
        c.pointee.memoryCounted = 0
    }

    /// After CONFIG SET and in the cron: the limit may have changed (maxmemory-clients, or
    /// maxmemory for a percentage); when it is turned on, every client is counted again.
    mutating func refreshClientEvictionLimit() {
        let limit = configuredClientEvictionLimit()
        if limit == clientEvictionLimit { return }
        let wasOff = clientEvictionLimit == 0
        clientEvictionLimit = limit
        if limit == 0 {
            for c in allClients() { c.pointee.memoryCounted = 0 }
            clientsMemory = 0
        } else if wasOff {
            for c in allClients() { updateClientMemory(c) }
        }
    }

    /// Redis's evictClients: closes the biggest evictable clients while the clients' memory is
    /// at or over maxmemory-clients.
    mutating func evictClientsIfNeeded() {
        let limit = clientEvictionLimit
        if limit == 0 || clientsMemory < limit { return }
        // Over the limit with nothing evictable (every client NO-EVICT): look again only when
        // the total moved, not on every command.
        if clientsMemory == clientEvictionNothingAt { return }
        // Refresh every estimate first: a client's memory may have moved since its last update.
        var candidates: [(bucket: Int, id: Int64, c: ClientRef)] = []
        for c in allClients() {
            updateClientMemory(c)
            if c.pointee.flags.contains(.noEvict) || !countsForClientEviction(c) { continue }
            let bucket = max(0, (Int.bitWidth - c.pointee.memoryCounted.leadingZeroBitCount) - 15)  // 32 KB: bucket 0
            candidates.append((bucket, c.pointee.id, c))
        }
        candidates.sort { $0.bucket != $1.bucket ? $0.bucket > $1.bucket : $0.id < $1.id }
        for candidate in candidates {
            if clientsMemory < limit { break }
            let c = candidate.c
            Log.notice("Evicting client: \(clientInfoLine(c))")
            stats.evictedClients += 1
            markClosing(c)
            // Redis frees an evicted client at once; ours is freed before the next sleep, so its
            // output goes now: commands of other clients in this turn must not find the memory
            // still taken (and evict keys for it).
            c.pointee.reply.clear()
            c.pointee.reply.resize(to: ReplyBuffer.minimumCapacity)
        }
        if clientsMemory >= limit {
            clientEvictionNothingAt = clientsMemory
            if !candidates.isEmpty { Log.warning("Over client maxmemory after evicting all evictable clients") }
        }
    }
}
