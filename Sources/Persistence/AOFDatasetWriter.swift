/*
 * AOFDatasetWriter: the dataset as commands — an AOF base file written with
 * `aof-use-rdb-preamble no` (Redis's rewriteAppendOnlyFileRio).
 *
 * The same commands Redis writes, in the same shapes, so redis-check-aof and redis-server read
 * the file as their own: FUNCTION LOAD per library, SELECT per non-empty database, then per key
 * SET, or RPUSH / SADD / ZADD / HMSET with at most 64 items per command, or for a stream its
 * XADDs (an empty stream as `XADD key MAXLEN 0 0-1 x y`), XSETID with ENTRIESADDED and
 * MAXDELETEDID, XGROUP CREATE … ENTRIESREAD per group, XCLAIM … JUSTID FORCE per pending entry
 * and XGROUP CREATECONSUMER for consumers without any; PEXPIREAT after a key with a TTL.
 * Scores are written with %.17g, as Redis's rioWriteBulkDouble.
 */
import CTandem
import Glibc
import Keyspace
import Platform

public struct AOFDatasetWriter: ~Copyable {
    public var out: RDBOutput
    /// Redis's AOF_REWRITE_ITEMS_PER_CMD.
    static let itemsPerCommand = 64
    public private(set) var keysWritten = 0
    public var onProgress: ((Int) -> Void)? = nil
    let keySaveDelayMicros: Int

    public init(out: consuming RDBOutput, keySaveDelayMicros: Int = 0) {
        self.out = out
        self.keySaveDelayMicros = keySaveDelayMicros
    }

    /// Everything, then a flush; the caller checks `out.failed`. `timestamp`: the `#TS:`
    /// annotation that starts a rewrite with aof-timestamp-enabled.
    public mutating func writeDataset(dbs: UnsafeMutablePointer<Database>, count: Int, functions: [[UInt8]],
                                      timestamp: Int64? = nil) {
        if let timestamp { text("#TS:\(timestamp)\r\n") }
        for code in functions {
            out.write("*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n")
            code.withUnsafeBufferPointer { bulk(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count)) }
        }
        for i in 0..<count where dbs[i].count > 0 {
            out.write("*2\r\n$6\r\nSELECT\r\n")
            bulk(Int64(i))
            dbs[i].dict.forEach { e in
                writeKey(e)
                if keySaveDelayMicros != 0 { RDBWriter.debugDelay(keySaveDelayMicros) }
                if keysWritten & 1023 == 0, let report = onProgress { report(keysWritten) }
            }
            if out.failed { return }
        }
        out.flush()
    }

    mutating func writeKey(_ e: Entry) {
        switch e.type {
        case .string:
            out.write("*3\r\n$3\r\nSET\r\n")
            bulk(e.key)
            if e.encoding == .int { bulk(e.payload) } else { bulk(e.stringBytes) }
        case .list:
            var items = ListStore.list(e).count
            var inCommand = 0
            ListStore.list(e).forEach { v in
                if inCommand == 0 { header("RPUSH", e.key, items: min(items, Self.itemsPerCommand)) }
                bulk(v)
                items -= 1
                inCommand = inCommand + 1 == Self.itemsPerCommand ? 0 : inCommand + 1
            }
        case .set:
            let set = SetValue(e)
            var items = set.count
            var inCommand = 0
            set.forEach { v in
                if inCommand == 0 { header("SADD", e.key, items: min(items, Self.itemsPerCommand)) }
                bulk(v)
                items -= 1
                inCommand = inCommand + 1 == Self.itemsPerCommand ? 0 : inCommand + 1
            }
        case .zset:
            let n = ZSetStore.count(e)
            var items = n
            var inCommand = 0
            ZSetStore.forEach(e, from: 0, to: n - 1, reverse: false) { member, score in
                if inCommand == 0 { header("ZADD", e.key, items: min(items, Self.itemsPerCommand) * 2) }
                bulk(score: score)
                bulk(member)
                items -= 1
                inCommand = inCommand + 1 == Self.itemsPerCommand ? 0 : inCommand + 1
            }
        case .hash:
            var items = HashStore.count(e)
            var inCommand = 0
            HashStore.forEach(e) { f, v in
                if inCommand == 0 { header("HMSET", e.key, items: min(items, Self.itemsPerCommand) * 2) }
                bulk(f)
                bulk(v)
                items -= 1
                inCommand = inCommand + 1 == Self.itemsPerCommand ? 0 : inCommand + 1
            }
        case .stream:
            writeStream(e)
        }
        if e.expireAt != 0 {
            out.write("*3\r\n$9\r\nPEXPIREAT\r\n")
            bulk(e.key)
            bulk(e.expireAt)
        }
        keysWritten += 1
    }

    mutating func writeStream(_ e: Entry) {
        let s = StreamStore.stream(e)
        if s.pointee.length > 0 {
            var it = StreamIterator(s, start: nil, end: nil, reverse: false)
            while let (id, fields) = it.nextID() {
                arrayHeader(3 + fields * 2)
                bulk("XADD")
                bulk(e.key)
                bulk(id: id)
                for _ in 0..<fields {
                    let (f, v) = it.nextField()
                    bulk(f)
                    bulk(v)
                }
            }
        } else {
            arrayHeader(7)
            bulk("XADD")
            bulk(e.key)
            bulk("MAXLEN")
            bulk("0")
            bulk(id: StreamID(ms: 0, seq: 1))
            bulk("x")
            bulk("y")
        }
        arrayHeader(7)
        bulk("XSETID")
        bulk(e.key)
        bulk(id: s.pointee.lastID)
        bulk("ENTRIESADDED")
        bulk(Int64(bitPattern: s.pointee.entriesAdded))
        bulk("MAXDELETEDID")
        bulk(id: s.pointee.maxDeletedID)
        for i in 0..<s.pointee.groupCount {
            let g = s.pointee.group(at: i)
            let group = ConsumerGroup.name(g)
            arrayHeader(7)
            bulk("XGROUP")
            bulk("CREATE")
            bulk(e.key)
            bulk(group)
            bulk(id: g.pointee.lastID)
            bulk("ENTRIESREAD")
            bulk(g.pointee.entriesRead)
            let cs = g.pointee.consumers
            for j in 0..<cs.pointee.count {
                let c = cs.pointee.item(j).assumingMemoryBound(to: Consumer.self)
                let consumer = Consumer.name(c)
                if c.pointee.pel.pointee.count == 0 {
                    arrayHeader(5)
                    bulk("XGROUP")
                    bulk("CREATECONSUMER")
                    bulk(e.key)
                    bulk(group)
                    bulk(consumer)
                    continue
                }
                var p = c.pointee.pel.pointee.first
                while let x = p {
                    let id = c.pointee.pel.pointee.id(x)
                    var time: Int64 = 0, count: UInt64 = 0
                    if let gp = g.pointee.pel.pointee.find(id) {
                        let nack = NACK.at(g.pointee.pel, gp)
                        time = nack.pointee.deliveryTime
                        count = nack.pointee.deliveryCount
                    }
                    arrayHeader(12)
                    bulk("XCLAIM")
                    bulk(e.key)
                    bulk(group)
                    bulk(consumer)
                    bulk("0")
                    bulk(id: id)
                    bulk("TIME")
                    bulk(time)
                    bulk("RETRYCOUNT")
                    bulk(Int64(bitPattern: count))
                    bulk("JUSTID")
                    bulk("FORCE")
                    p = c.pointee.pel.pointee.next(x)
                }
            }
        }
    }

    // MARK: - RESP pieces

    mutating func header(_ command: StaticString, _ key: ByteView, items: Int) {
        arrayHeader(2 + items)
        bulk(command)
        bulk(key)
    }

    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { out.write(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count)) }
    }

    mutating func arrayHeader(_ n: Int) {
        text("*\(n)\r\n")
    }

    mutating func bulk(_ v: ByteView) {
        text("$\(v.count)\r\n")
        out.write(v)
        out.write("\r\n")
    }

    mutating func bulk(_ s: StaticString) {
        bulk(ByteView(s))
    }

    mutating func bulk(_ s: String) {
        var s = s
        s.withUTF8 { bulk(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count)) }
    }

    mutating func bulk(_ v: Int64) {
        bulk(String(v))
    }

    mutating func bulk(_ v: PackedValue) {
        switch v {
        case .bytes(let b): bulk(b)
        case .int(let i): bulk(i)
        }
    }

    mutating func bulk(id: StreamID) {
        bulk("\(id.ms)-\(id.seq)")
    }

    /// %.17g, as Redis's rioWriteBulkDouble.
    mutating func bulk(score: Double) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) { buf in
            let n = Int(snprintf17g(buf.baseAddress!, 128, score))
            buf.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: n) { bulk(ByteView($0, n)) }
        }
    }
}

/// snprintf("%.17g") (Swift cannot call the variadic C function directly).
func snprintf17g(_ buf: UnsafeMutablePointer<CChar>, _ size: Int, _ d: Double) -> Int32 {
    withVaList([d]) { vsnprintf(buf, size, "%.17g", $0) }
}
