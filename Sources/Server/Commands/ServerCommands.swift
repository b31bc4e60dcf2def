/*
 * Server commands: FLUSHDB/FLUSHALL, TIME, SWAPDB, SHUTDOWN, MONITOR, SLOWLOG, LATENCY and
 * DEBUG (with Redis's DEBUG DIGEST algorithm, so digests compare equal across servers).
 */
import CSystem
import Glibc
import Keyspace
import Platform
import RESP

extension Server {
    mutating func flushCommand(_ c: ClientRef, all: Bool) {
        if c.pointee.argc > 2 {
            addSyntaxError(c)
            return
        }
        if c.pointee.argc == 2 {
            let mode = c.pointee.arg(1)
            if !mode.equalsLowercase("sync") && !mode.equalsLowercase("async") {
                addSyntaxError(c)
                return
            }
        }
        if watchCount > 0 { touchWatchersOfExistingKeys(all ? -1 : c.pointee.db) }
        if all {
            for i in 0..<dbCount {
                dirty += Int64(dbs[i].count)
                dbs[i].removeAll()
            }
            // As Redis: a running snapshot is obsolete, and with save points the empty
            // dataset is saved at once (so a restart does not bring the keys back).
            killSnapshotChild()
            if !settings.save.isEmpty {
                let saved = dirty
                _ = saveInForeground()
                dirty = saved
            }
            dirty += 1
        } else {
            dirty += Int64(dbs[c.pointee.db].count)
            dbs[c.pointee.db].removeAll()
            forcePropagation()  // even of an empty database, as Redis 7.0
        }
        addOK(c)
    }

    /// Before FLUSH*/SWAPDB: every watched key that exists in `db` (-1: any) changes.
    mutating func touchWatchersOfExistingKeys(_ db: Int) {
        let now = Clock.unixMillis()
        var touched: [WatchKey] = []
        for k in watchers.keys where db < 0 || k.db == db {
            let exists = k.key.withUnsafeBufferPointer { b -> Bool in
                guard let e = dbs[k.db].find(ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)) else {
                    return false
                }
                return e.expireAt == 0 || e.expireAt > now
            }
            if exists { touched.append(k) }
        }
        for k in touched {
            for w in watchers[k] ?? [] { w.pointee.flags.insert(.dirtyCAS) }
        }
    }

    func timeCommand(_ c: ClientRef) {
        let us = Clock.unixMicros()
        c.pointee.reply.appendArrayHeader(2)
        c.pointee.reply.appendBulkInteger(us / 1_000_000)
        c.pointee.reply.appendBulkInteger(us % 1_000_000)
    }

    mutating func swapdbCommand(_ c: ClientRef) {
        guard let a = c.pointee.arg(1).int64, a >= Int64(Int32.min), a <= Int64(Int32.max) else {
            addError(c, "-ERR invalid first DB index\r\n")
            return
        }
        guard let b = c.pointee.arg(2).int64, b >= Int64(Int32.min), b <= Int64(Int32.max) else {
            addError(c, "-ERR invalid second DB index\r\n")
            return
        }
        if a < 0 || a >= Int64(dbCount) || b < 0 || b >= Int64(dbCount) {
            addError(c, Self.dbOutOfRange)
            return
        }
        if a != b {
            if watchCount > 0 {
                touchWatchersOfExistingKeys(Int(a))
                touchWatchersOfExistingKeys(Int(b))
            }
            swap(&dbs[Int(a)], &dbs[Int(b)])
            dbs[Int(a)].id = Int(a)
            dbs[Int(b)].id = Int(b)
        }
        dirty += 1  // SWAPDB n n too: Redis counts (and propagates) it
        addOK(c)
    }

    mutating func shutdownCommand(_ c: ClientRef) {
        var mode = ShutdownSaveMode.auto
        var force = false
        for i in 1..<c.pointee.argc {
            let o = c.pointee.arg(i)
            if o.equalsLowercase("nosave") { mode = .noSave }
            if o.equalsLowercase("save") { mode = .save }
            if o.equalsLowercase("force") { force = true }
            if !(o.equalsLowercase("nosave") || o.equalsLowercase("save") || o.equalsLowercase("now")
                || o.equalsLowercase("force") || o.equalsLowercase("abort"))
            {
                addSyntaxError(c)
                return
            }
            if o.equalsLowercase("abort") {
                addError(c, "-ERR No shutdown in progress.\r\n")
                return
            }
        }
        if !prepareForShutdown(mode, force: force) {
            addError(c, "-ERR Errors trying to SHUTDOWN. Check logs.\r\n")
            return
        }
        shutdownRequested = true
        // Like Redis, the client gets no reply: the connection closes with the server.
    }

    enum ShutdownSaveMode { case auto, save, noSave }

    /// The final save before exiting: with SAVE, or by default when save points exist.
    /// Returns false when the save failed and the server must keep running.
    mutating func prepareForShutdown(_ mode: ShutdownSaveMode, force: Bool) -> Bool {
        if hasActiveChild {
            Log.warning("There is a child saving an .rdb. Killing it!")
            killSnapshotChild()
        }
        let wantSave = mode == .save || (mode == .auto && !settings.save.isEmpty)
        if wantSave {
            Log.notice("Saving the final RDB snapshot before exiting.")
            if !saveInForeground() && !force {
                Log.warning("Error trying to save the DB, can't exit.")
                return false
            }
        }
        return true
    }

    mutating func monitorCommand(_ c: ClientRef) {
        if c.pointee.flags.contains(.monitor) { return }
        c.pointee.flags.insert(.monitor)
        monitors.append(c)
        monitorCount = monitors.count
        addOK(c)
    }

    /// FUNCTION FLUSH / SCRIPT FLUSH: nothing is ever loaded until scripting exists, so
    /// only the argument check remains.
    mutating func scriptingFlushCommand(_ c: ClientRef, function: Bool) {
        let argc = c.pointee.argc
        if function && argc > 3 {
            addErrorString(c, "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.")
            return
        }
        let validMode = argc == 3 && (c.pointee.arg(2).equalsLowercase("sync") || c.pointee.arg(2).equalsLowercase("async"))
        if argc > 2 && !validMode {
            addErrorString(c, function ? "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
                                       : "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
            return
        }
        addOK(c)
    }

    mutating func functionListCommand(_ c: ClientRef) {
        var j = 2
        while j < c.pointee.argc {
            let opt = c.pointee.arg(j)
            if opt.equalsLowercase("withcode") {
                j += 1
            } else if opt.equalsLowercase("libraryname") && j + 1 < c.pointee.argc {
                j += 2
            } else {
                addErrorString(c, "ERR Unknown argument \(opt.string)")
                return
            }
        }
        c.pointee.reply.appendArrayHeader(0)
    }

    // MARK: - SLOWLOG, LATENCY

    mutating func slowlogCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .slowlogGet:
            var count = 10
            if c.pointee.argc == 3 {
                guard let n = c.pointee.arg(2).int64, n >= -1 else {
                    addError(c, "-ERR count should be greater than or equal to -1\r\n")
                    return
                }
                count = n == -1 ? slowlog.count : Int(min(n, Int64(Int32.max)))
            } else if c.pointee.argc > 3 {
                addErrorString(c, "ERR wrong number of arguments for 'slowlog|get' command")
                return
            }
            let n = min(count, slowlog.count)
            c.pointee.reply.appendArrayHeader(n)
            for e in slowlog.prefix(n) {
                c.pointee.reply.appendArrayHeader(6)
                c.pointee.reply.appendInteger(e.id)
                c.pointee.reply.appendInteger(e.time)
                c.pointee.reply.appendInteger(e.durationMicros)
                c.pointee.reply.appendArrayHeader(e.args.count)
                for a in e.args { a.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) } }
                c.pointee.reply.appendBulk(e.address)
                c.pointee.reply.appendBulk(e.name)
            }
        case .slowlogLen: c.pointee.reply.appendInteger(Int64(slowlog.count))
        case .slowlogReset:
            slowlog.removeAll()
            addOK(c)
        default: addHelp(c, HelpText.slowlog)
        }
    }

    mutating func latencyCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .latencyLatest:
            c.pointee.reply.appendArrayHeader(latencyEvents.count)
            for (name, e) in latencyEvents.sorted(by: { $0.key < $1.key }) {
                c.pointee.reply.appendArrayHeader(4)
                c.pointee.reply.appendBulk(name)
                c.pointee.reply.appendInteger(e.time)
                c.pointee.reply.appendInteger(e.latest)
                c.pointee.reply.appendInteger(e.max)
            }
        case .latencyReset:
            var n = 0
            if c.pointee.argc == 2 {
                n = latencyEvents.count
                latencyEvents.removeAll()
            } else {
                for i in 2..<c.pointee.argc where latencyEvents.removeValue(forKey: c.pointee.arg(i).string) != nil {
                    n += 1
                }
            }
            c.pointee.reply.appendInteger(Int64(n))
        case .latencyHistory:
            c.pointee.reply.appendArrayHeader(0)
        case .latencyDoctor:
            c.pointee.reply.appendVerbatim("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n", resp3: c.pointee.resp3)
        case .latencyGraph:
            addErrorString(c, "ERR No samples available for event '\(c.pointee.arg(2).string)'")
        case .latencyHistogram:
            c.pointee.reply.appendMapHeader(0, resp3: c.pointee.resp3)
        default: addHelp(c, HelpText.latency)
        }
    }

    // MARK: - MODULE

    /// Tandem has no module API: MODULE LIST is empty and loading fails as a missing library does
    /// in Redis (with the reason in the log).
    mutating func moduleCommand(_ c: ClientRef, _ id: CommandID) {
        // LOAD, LOADEX and UNLOAD are protected commands (7.0): enable-module-command gates them.
        if (id == .moduleLoad || id == .moduleLoadex || id == .moduleUnload) && !Self.localOptionAllows(settings.enableModuleCommand, c) {
            addError(c, "-ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n")
            return
        }
        switch id {
        case .moduleList: c.pointee.reply.appendArrayHeader(0)
        case .moduleLoad, .moduleLoadex:
            Log.warning("Module \(c.pointee.arg(2).string) failed to load: Tandem does not support Redis modules")
            addError(c, "-ERR Error loading the extension. Please check the server logs.\r\n")
        case .moduleUnload: addError(c, "-ERR Error unloading module: no such module with that name\r\n")
        default: addHelp(c, HelpText.module)
        }
    }

    /// enable-debug-command, enable-module-command, enable-protected-configs: "yes", "no", or
    /// "local" (connections from loopback or the Unix socket only).
    static func localOptionAllows(_ value: String, _ c: ClientRef) -> Bool {
        value == "yes" || (value == "local" && c.pointee.isLoopback)
    }

    // MARK: - DEBUG

    mutating func debugCommand(_ c: ClientRef) {
        if !debugAllowed(c) {
            addError(c, "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n")
            return
        }
        let sub = c.pointee.arg(1)
        let argc = c.pointee.argc
        if sub.equalsLowercase("sleep") && argc == 3 {
            let seconds = c.pointee.arg(2).double ?? 0
            var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
            var rest = timespec()
            while nanosleep(&ts, &rest) == -1 && errno == EINTR { ts = rest }
            addOK(c)
        } else if sub.equalsLowercase("reload") {
            debugReload(c)
        } else if sub.equalsLowercase("replicate") && argc >= 3 {
            // Sends the rest of the arguments to the replicas as a command (tests use it to
            // feed them one they will refuse).
            if propagationEnabled { emitPropagated(c.pointee.db, (2..<argc).map { c.pointee.arg($0).array }) }
            addOK(c)
        } else if sub.equalsLowercase("populate") && argc >= 3 && argc <= 5 {
            debugPopulate(c)
        } else if sub.equalsLowercase("digest") && argc == 2 {
            let d = datasetDigest()
            c.pointee.reply.appendStatus(Self.hex(d))
        } else if sub.equalsLowercase("digest-value") && argc >= 2 {
            c.pointee.reply.appendArrayHeader(argc - 2)
            for i in 2..<argc {
                var d = [UInt8](repeating: 0, count: 20)
                if let e = lookupWrite(c.pointee.db, c.pointee.arg(i)) { Self.xorObjectDigest(e, into: &d) }
                c.pointee.reply.appendStatus(Self.hex(d))
            }
        } else if sub.equalsLowercase("set-active-expire") && argc == 3 {
            activeExpireEnabled = (c.pointee.arg(2).int64 ?? 0) != 0
            addOK(c)
        } else if sub.equalsLowercase("object") && argc == 3 {
            guard let e = lookupWrite(c.pointee.db, c.pointee.arg(2)) else {
                addError(c, "-ERR no such key\r\n")
                return
            }
            let len = e.encoding == .int ? IntFormat.digits(e.payload) : Int(e.payload)
            let idle = Int64(lruClock &- e.lru)
            c.pointee.reply.appendStatus(
                "Value at:0x\(String(UInt(bitPattern: e.raw), radix: 16)) refcount:1 encoding:\(e.encoding.name) serializedlength:\(len + 1) lru:\(e.lru & 0xFFFFFF) lru_seconds_idle:\(idle < 0 ? 0 : idle)")
        } else if sub.equalsLowercase("replstream") && argc == 3 {
            debugReplStream(c)
        } else if sub.equalsLowercase("log") && argc == 3 {
            Log.warning("DEBUG LOG: \(c.pointee.arg(2).string)")
            addOK(c)
        } else if sub.equalsLowercase("help") && argc == 2 {
            addHelp(c, [
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DIGEST", "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]", "    Output a hex signature of the values of all the specified keys.",
                "LOG <message>", "    Write <message> to the server log.",
                "OBJECT <key>", "    Show low level info about the <key> and associated value.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                "    it is used instead of the 'key' prefix. These are not propagated to",
                "    replicas. Cluster slots are not respected so keys not belonging to the",
                "    current node can be created in cluster mode.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
                "HELP", "    Prints this help.",
            ])
        } else {
            addErrorString(c, "ERR unknown subcommand or wrong number of arguments for '\(sub.string)'. Try DEBUG HELP.")
        }
    }

    func debugAllowed(_ c: ClientRef) -> Bool { Self.localOptionAllows(settings.enableDebugCommand, c) }

    mutating func debugPopulate(_ c: ClientRef) {
        guard let count = c.pointee.arg(2).int64, count >= 0 else {
            addError(c, "-ERR value is out of range, must be positive\r\n")
            return
        }
        var size = 0
        if c.pointee.argc == 5 {
            guard let s = c.pointee.arg(4).int64, s >= 0 else {
                addError(c, "-ERR value is out of range, must be positive\r\n")
                return
            }
            size = Int(s)
        }
        let prefix = c.pointee.argc >= 4 ? c.pointee.arg(3).array : Array("key".utf8)
        let db = c.pointee.db
        dbs[db].dict.reserve(dbs[db].count + Int(count))
        var key = prefix + [58]
        let keyBase = key.count
        var value = [UInt8](repeating: 0, count: max(size, 32))
        let valuePrefix = Array("value:".utf8)
        value.replaceSubrange(0..<6, with: valuePrefix)
        var digits = [UInt8](repeating: 0, count: 24)
        for j in 0..<count {
            let n = digits.withUnsafeMutableBufferPointer { IntFormat.write(j, to: $0.baseAddress!) }
            key.removeSubrange(keyBase...)
            key.append(contentsOf: digits[0..<n])
            let exists = key.withUnsafeBufferPointer { lookupWrite(db, ByteView($0.baseAddress!, $0.count)) != nil }
            if exists { continue }
            let vlen: Int
            if size == 0 {
                vlen = 6 + n
                for i in 0..<n { value[6 + i] = digits[i] }
            } else {
                // "value:<n>" truncated or zero-padded to `size`.
                for i in 0..<size { value[i] = 0 }
                for i in 0..<min(size, 6) { value[i] = valuePrefix[i] }
                for i in 0..<n where 6 + i < size { value[6 + i] = digits[i] }
                vlen = size
            }
            key.withUnsafeBufferPointer { k in
                value.withUnsafeBufferPointer { v in
                    let e = Entry.makeString(key: ByteView(k.baseAddress!, k.count), value: ByteView(v.baseAddress!, vlen),
                                             encodeInt: false)
                    e.lru = lruClock
                    dbs[db].add(e)
                }
            }
        }
        addOK(c)
    }

    // MARK: - Digest (Redis's DEBUG DIGEST algorithm)

    static func hex(_ d: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(d.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    static func sha1(_ p: UnsafeRawPointer?, _ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        out.withUnsafeMutableBufferPointer { o in tandem_sha1(p, n, o.baseAddress!) }
        return out
    }

    /// digest = SHA1(digest xor SHA1(bytes)): order-sensitive mixing.
    static func mixDigest(_ digest: inout [UInt8], _ p: UnsafeRawPointer?, _ n: Int) {
        xorDigest(&digest, p, n)
        digest = digest.withUnsafeBytes { sha1($0.baseAddress, 20) }
    }

    /// digest ^= SHA1(bytes)
    static func xorDigest(_ digest: inout [UInt8], _ p: UnsafeRawPointer?, _ n: Int) {
        let h = sha1(p, n)
        for i in 0..<20 { digest[i] ^= h[i] }
    }

    static func xorObjectDigest(_ e: Entry, into digest: inout [UInt8]) {
        var type = UInt32(e.type.rawValue).bigEndian
        withUnsafeBytes(of: &type) { mixDigest(&digest, $0.baseAddress, 4) }
        switch e.type {
        case .string:
            if e.encoding == .int {
                let s = Array(String(e.payload).utf8)
                s.withUnsafeBytes { mixDigest(&digest, $0.baseAddress, $0.count) }
            } else {
                let v = e.stringBytes
                mixDigest(&digest, v.base, v.count)
            }
        case .list: Self.listDigest(e, &digest)
        case .hash: Self.hashDigest(e, &digest)
        case .set: Self.setDigest(e, &digest)
        case .zset: Self.zsetDigest(e, &digest)
        }
        if e.expireAt != 0 {
            let mark = Array("!!expire!!".utf8)
            mark.withUnsafeBytes { xorDigest(&digest, $0.baseAddress, $0.count) }
        }
    }

    mutating func datasetDigest() -> [UInt8] {
        var final = [UInt8](repeating: 0, count: 20)
        commandTimeMillis = Clock.unixMillis()
        for j in 0..<dbCount where dbs[j].count > 0 {
            var aux = UInt32(j).bigEndian
            withUnsafeBytes(of: &aux) { Self.mixDigest(&final, $0.baseAddress, 4) }
            dbs[j].dict.forEach { e in
                var d = [UInt8](repeating: 0, count: 20)
                let k = e.key
                Self.mixDigest(&d, k.base, k.count)
                Self.xorObjectDigest(e, into: &d)
                d.withUnsafeBytes { Self.xorDigest(&final, $0.baseAddress, 20) }
            }
        }
        return final
    }
}
