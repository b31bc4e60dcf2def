/*
 * MEMORY: USAGE (Keyspace/MemoryUsage.swift), STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, with
 * Redis 7.0's replies. STATS reports the figures Tandem keeps (its allocator is glibc's, so the
 * allocator-specific fields of a jemalloc build are absent, as on a libc build of Redis).
 */
import CTandem
import Glibc
import Keyspace
import Platform

extension Server {
    mutating func memoryCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .memoryUsage: memoryUsageCommand(c)
        case .memoryDoctor:
            // Redis's report for the cases Tandem can judge: too little data, or nothing found.
            let text = max(memoryPeak, tandem_used_memory()) < 5 * 1024 * 1024
                ? "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
                : "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."
            c.pointee.reply.appendVerbatim(text, resp3: c.pointee.resp3)
        case .memoryMallocStats:
            c.pointee.reply.appendVerbatim("Stats not supported for the current allocator", resp3: c.pointee.resp3)
        case .memoryPurge:
            _ = malloc_trim(0)
            addOK(c)
        case .memoryStats: memoryStatsCommand(c)
        default: addHelp(c, HelpText.memory)
        }
    }

    /// MEMORY USAGE key [SAMPLES count]: default 5 samples, 0 for all.
    mutating func memoryUsageCommand(_ c: ClientRef) {
        var samples = 5
        var i = 3
        while i < c.pointee.argc {
            if c.pointee.arg(i).equalsLowercase("samples") && i + 1 < c.pointee.argc {
                guard let n = c.pointee.arg(i + 1).int64 else {
                    addError(c, "-ERR value is not an integer or out of range\r\n")
                    return
                }
                if n < 0 {
                    addSyntaxError(c)
                    return
                }
                samples = n == 0 ? 0 : Int(min(n, Int64(Int32.max)))
                i += 2
            } else {
                addSyntaxError(c)
                return
            }
        }
        guard let e = lookupRead(c, c.pointee.arg(2), touch: false, notify: false) else {
            c.pointee.reply.appendNull(resp3: c.pointee.resp3)
            return
        }
        c.pointee.reply.appendInteger(Int64(e.memoryUsage(samples: samples)))
    }

    mutating func memoryStatsCommand(_ c: ClientRef) {
        let used = Int64(tandem_used_memory())
        var fields: [(String, Int64)] = [
            ("peak.allocated", max(used, Int64(memoryPeak))), ("total.allocated", used),
            ("startup.allocated", 0),
            ("replication.backlog", Int64(replicationBufferBytes())), ("clients.slaves", 0),
            ("clients.normal", 0), ("cluster.links", 0), ("aof.buffer", Int64(aof.buffer.pointee.capacity)),
            ("lua.caches", 0), ("functions.caches", 0),
        ]
        var keys: Int64 = 0
        for i in 0..<dbCount where dbs[i].count > 0 {
            keys += Int64(dbs[i].count)
            fields.append(("db.\(i)", 0))
        }
        c.pointee.reply.appendMapHeader(fields.count + 6 + 11, resp3: c.pointee.resp3)
        for (k, v) in fields {
            c.pointee.reply.appendBulk(k)
            if k.hasPrefix("db.") {
                let db = Int(k.dropFirst(3))!
                c.pointee.reply.appendMapHeader(2, resp3: c.pointee.resp3)
                c.pointee.reply.appendBulk("overhead.hashtable.main")
                c.pointee.reply.appendInteger(Int64(dbs[db].dict.bucketCount * 8))
                c.pointee.reply.appendBulk("overhead.hashtable.expires")
                c.pointee.reply.appendInteger(0)
            } else {
                c.pointee.reply.appendInteger(v)
            }
        }
        let dataset = used
        for (k, v) in [("overhead.total", 0), ("keys.count", keys),
                       ("keys.bytes-per-key", keys > 0 ? dataset / keys : 0), ("dataset.bytes", dataset)] {
            c.pointee.reply.appendBulk(k)
            c.pointee.reply.appendInteger(v)
        }
        c.pointee.reply.appendBulk("dataset.percentage")
        c.pointee.reply.appendDouble(used > 0 ? Double(dataset) * 100 / Double(used) : 0, resp3: c.pointee.resp3)
        c.pointee.reply.appendBulk("peak.percentage")
        let peak = max(used, Int64(memoryPeak))
        c.pointee.reply.appendDouble(peak > 0 ? Double(used) * 100 / Double(peak) : 0, resp3: c.pointee.resp3)
        // The allocator's figures: with glibc's malloc, what is allocated is what is active.
        let rss = Int64(Self.rssBytes())
        let ratio = used > 0 ? Double(rss) / Double(used) : 0
        let rows: [(String, Double?, Int64)] = [
            ("allocator.allocated", nil, used), ("allocator.active", nil, used), ("allocator.resident", nil, rss),
            ("allocator-fragmentation.ratio", 1, 0), ("allocator-fragmentation.bytes", nil, 0),
            ("allocator.rss-ratio", ratio, 0), ("allocator.rss-bytes", nil, rss - used),
            ("rss-overhead.ratio", 1, 0), ("rss-overhead.bytes", nil, 0),
            ("fragmentation", ratio, 0), ("fragmentation.bytes", nil, rss - used),
        ]
        for (k, d, v) in rows {
            c.pointee.reply.appendBulk(k)
            if let d { c.pointee.reply.appendDouble(d, resp3: c.pointee.resp3) } else { c.pointee.reply.appendInteger(v) }
        }
    }
}
