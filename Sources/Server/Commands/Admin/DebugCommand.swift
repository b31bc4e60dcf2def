/*
 * DEBUG: the subcommands Redis's own test suite and its operators use — Redis's debug.c.
 *
 * DIGEST and DIGEST-VALUE follow Redis's algorithm exactly, so a digest taken on Tandem
 * compares equal with one taken on redis-server holding the same data (tests use this to
 * check replicas). PROTOCOL answers one reply of each RESP3 type (attributes and pushes
 * included) so clients can test their parsers; the rest tune internals for tests
 * (QUICKLIST-PACKED-THRESHOLD, REPLYBUFFER, SET-SKIP-CHECKSUM-VALIDATION) or report them.
 * DEBUG is refused unless enable-debug-command allows it, as in Redis 7.0.
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

extension Server {
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
        } else if sub.equalsLowercase("loadaof") {
            debugLoadAOF(c)
        } else if sub.equalsLowercase("set-disable-deny-scripts") && argc == 3 {
            scriptDenyDisabled = (c.pointee.arg(2).int64 ?? 0) != 0
            addOK(c)
        } else if sub.equalsLowercase("aof-flush-sleep") && argc == 3 {
            aof.flushSleepMicros = Int(c.pointee.arg(2).int64 ?? 0)
            addOK(c)
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
        } else if sub.equalsLowercase("drop-cluster-packet-filter") && argc == 3 {
            guard let type = c.pointee.arg(2).int64 else {
                addNotInteger(c)
                return
            }
            cluster.dropPacketFilter = Int(type)
            addOK(c)
        } else if sub.equalsLowercase("clusterlink") && argc == 5 && c.pointee.arg(2).equalsLowercase("kill") {
            debugKillClusterLink(c)
        } else if sub.equalsLowercase("set-active-expire") && argc == 3 {
            activeExpireEnabled = (c.pointee.arg(2).int64 ?? 0) != 0
            addOK(c)
        } else if sub.equalsLowercase("object") && argc == 3 {
            // The raw table, as Redis: a key that is logically expired but not yet deleted (on a
            // replica, which waits for its master's DEL) is still shown.
            guard let e = dbs[c.pointee.db].find(c.pointee.arg(2)) else {
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
        } else if sub.equalsLowercase("segfault") && argc == 2 {
            Log.warning("DEBUG SEGFAULT: crashing on purpose")
            tandem_segfault()
        } else if sub.equalsLowercase("protocol") && argc == 3 {
            debugProtocol(c, c.pointee.arg(2).string.lowercased())
        } else if sub.equalsLowercase("change-repl-id") && argc == 2 {
            Log.warning("Changing replication IDs after receiving DEBUG change-repl-id")
            changeReplicationID()
            clearReplicationID2()
            addOK(c)
        } else if sub.equalsLowercase("quicklist-packed-threshold") && argc == 3 {
            let text = c.pointee.arg(2).string
            guard let size = ConfigTable.parseMemory(text), size <= (1 << 32) - (1 << 20) else {
                addError(c, "-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n")
                return
            }
            QuickList.packedThreshold = size == 0 ? 1 << 30 : size
            addOK(c)
        } else if sub.equalsLowercase("listpack") && argc == 3 {
            debugListpack(c)
        } else if sub.equalsLowercase("stringmatch-len") && argc == 2 {
            Self.globFuzz()
            c.pointee.reply.appendStatus("Apparently Redis did not crash: test passed")
        } else if sub.equalsLowercase("set-skip-checksum-validation") && argc == 3 {
            skipChecksumValidation = (c.pointee.arg(2).int64 ?? 0) != 0
            addOK(c)
        } else if sub.equalsLowercase("replybuffer") && argc == 4 {
            debugReplyBuffer(c)
        } else if sub.equalsLowercase("pause-cron") && argc == 3 {
            cronPaused = (c.pointee.arg(2).int64 ?? 0) != 0
            addOK(c)
        } else if sub.equalsLowercase("htstats") && argc >= 3 {
            debugHashTableStats(c)
        } else if sub.equalsLowercase("htstats-key") && argc >= 3 {
            debugHashTableStatsOfKey(c)
        } else if sub.equalsLowercase("config-rewrite-force-all") && argc == 2 {
            configRewrite(c)
        } else if sub.equalsLowercase("help") && argc == 2 {
            addHelp(c, Self.debugHelp)
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
                    e.lru = newEntryLRU
                    addKey(db, e)
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
        case .stream: Self.streamDigest(e, &digest)
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

// MARK: - DEBUG PROTOCOL, LISTPACK, REPLYBUFFER, HTSTATS, STRINGMATCH-LEN

extension Server {
    /// One reply of the named RESP3 type, as Redis's DEBUG PROTOCOL sends it (RESP2 clients get
    /// the RESP2 form; attributes are dropped for them, pushes refused).
    mutating func debugProtocol(_ c: ClientRef, _ type: String) {
        let resp3 = c.pointee.resp3
        switch type {
        case "string": c.pointee.reply.appendBulk("Hello World")
        case "integer": c.pointee.reply.appendInteger(12345)
        case "double": c.pointee.reply.appendDouble(3.141, resp3: resp3)
        case "bignum":
            if resp3 {
                c.pointee.reply.append("(1234567999999999999999999999999999999\r\n" as StaticString)
            } else {
                c.pointee.reply.appendBulk("1234567999999999999999999999999999999")
            }
        case "null": c.pointee.reply.appendNull(resp3: resp3)
        case "array", "set":
            if type == "set" { c.pointee.reply.appendSetHeader(3, resp3: resp3) } else { c.pointee.reply.appendArrayHeader(3) }
            for j in 0..<3 { c.pointee.reply.appendInteger(Int64(j)) }
        case "map":
            c.pointee.reply.appendMapHeader(3, resp3: resp3)
            for j in 0..<3 {
                c.pointee.reply.appendInteger(Int64(j))
                Self.appendBool(c, j == 1)
            }
        case "attrib":
            if resp3 {
                c.pointee.reply.append("|1\r\n" as StaticString)
                c.pointee.reply.appendBulk("key-popularity")
                c.pointee.reply.appendArrayHeader(2)
                c.pointee.reply.appendBulk("key:123")
                c.pointee.reply.appendInteger(90)
            }
            c.pointee.reply.appendBulk("Some real reply following the attribute")
        case "push":
            guard resp3 else {
                addError(c, "-ERR RESP2 is not supported by this command\r\n")
                return
            }
            c.pointee.reply.append(">2\r\n" as StaticString)
            c.pointee.reply.appendBulk("server-cpu-usage")
            c.pointee.reply.appendInteger(42)
            c.pointee.reply.appendBulk("Some real reply following the push reply")
        case "true", "false": Self.appendBool(c, type == "true")
        case "verbatim": c.pointee.reply.appendVerbatim("This is a verbatim\nstring", resp3: resp3)
        default:
            addError(c, "-ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n")
        }
    }

    static func appendBool(_ c: ClientRef, _ v: Bool) {
        if c.pointee.resp3 {
            c.pointee.reply.append(v ? "#t\r\n" as StaticString : "#f\r\n" as StaticString)
        } else {
            c.pointee.reply.appendInteger(v ? 1 : 0)
        }
    }

    /// DEBUG LISTPACK key: a summary of a listpack-encoded value on standard output (where Redis
    /// prints its dump), and Redis's status reply.
    mutating func debugListpack(_ c: ClientRef) {
        guard let e = lookupWrite(c.pointee.db, c.pointee.arg(2)) else {
            addError(c, "-ERR no such key\r\n")
            return
        }
        guard e.encoding == .listpack else {
            addError(c, "-ERR Not a listpack encoded object.\r\n")
            return
        }
        let packed = PackedList(raw: e.valuePointer)
        print("{listpack} key: \(c.pointee.arg(2).string) elements: \(packed.count) bytes: \(tandem_usable_size(e.valuePointer))")
        c.pointee.reply.appendStatus("Listpack structure printed on stdout")
    }

    /// DEBUG REPLYBUFFER PEAK-RESET-TIME <never|reset|ms> | RESIZING <0|1>
    mutating func debugReplyBuffer(_ c: ClientRef) {
        let what = c.pointee.arg(2), value = c.pointee.arg(3)
        if what.equalsLowercase("peak-reset-time") {
            if value.equalsLowercase("never") {
                replyBufferPeakResetMillis = -1
            } else if value.equalsLowercase("reset") {
                replyBufferPeakResetMillis = 5000
            } else if let ms = value.int64 {
                replyBufferPeakResetMillis = ms
            } else {
                addNotInteger(c)
                return
            }
        } else if what.equalsLowercase("resizing") {
            replyBufferResizing = (value.int64 ?? 0) != 0
        } else {
            addErrorString(c, "ERR unknown subcommand or wrong number of arguments for 'replybuffer'. Try DEBUG HELP.")
            return
        }
        addOK(c)
    }

    /// DEBUG HTSTATS <dbid>: the main table's and the expires index's statistics.
    mutating func debugHashTableStats(_ c: ClientRef) {
        guard let id = c.pointee.arg(2).int64, id >= 0, id < Int64(dbCount) else {
            addError(c, "-ERR Out of range database\r\n")
            return
        }
        let db = dbs + Int(id)
        var text = "[Dictionary HT]\n" + db.pointee.dict.statsReport()
        let expires = db.pointee.expiresCount
        text += "[Expires HT]\n" + (expires == 0 ? Dict.emptyStatsReport
            : "Hash table 0 stats (main hash table):\n table size: \(expires)\n number of elements: \(expires)\n")
        c.pointee.reply.appendVerbatim(text, resp3: c.pointee.resp3)
    }

    /// DEBUG HTSTATS-KEY <key>: the statistics of a value's own hash table.
    mutating func debugHashTableStatsOfKey(_ c: ClientRef) {
        guard let e = lookupWrite(c.pointee.db, c.pointee.arg(2)) else {
            addError(c, "-ERR no such key\r\n")
            return
        }
        guard let stats = e.hashTableStats else {
            addError(c, "-ERR The value stored at the specified key is not represented using an hash table\r\n")
            return
        }
        c.pointee.reply.appendVerbatim(stats, resp3: c.pointee.resp3)
    }

    /// DEBUG STRINGMATCH-LEN: random patterns against random strings (Redis's
    /// stringmatchlen_fuzz_test), to show the matcher neither crashes nor runs away.
    static func globFuzz() {
        var state = UInt64(truncatingIfNeeded: Clock.monotonicMicros()) | 1
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let alphabet = Array("*?[]^-\\ab".utf8)
        var pattern = [UInt8](repeating: 0, count: 32), subject = [UInt8](repeating: 0, count: 32)
        for _ in 0..<100_000 {
            let pl = Int(next() % 32), sl = Int(next() % 32)
            for i in 0..<pl { pattern[i] = alphabet[Int(next() % UInt64(alphabet.count))] }
            for i in 0..<sl { subject[i] = alphabet[Int(next() % UInt64(alphabet.count))] }
            pattern.withUnsafeBufferPointer { p in
                subject.withUnsafeBufferPointer { s in
                    _ = Glob.match(ByteView(p.baseAddress!, pl), ByteView(s.baseAddress!, sl))
                }
            }
        }
    }

    static let debugHelp = [
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANGE-REPL-ID", "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "CONFIG-REWRITE-FORCE-ALL", "    Like CONFIG REWRITE but writes all configuration options.",
        "DIGEST", "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]", "    Output a hex signature of the values of all the specified keys.",
        "HTSTATS <dbid>", "    Return hash table statistics of the specified Redis database.",
        "HTSTATS-KEY <key>", "    Like HTSTATS but for the hash table stored at <key>'s value.",
        "LISTPACK <key>", "    Show low level info about the listpack encoding of <key>.",
        "LOG <message>", "    Write <message> to the server log.",
        "OBJECT <key>", "    Show low level info about the <key> and associated value.",
        "PAUSE-CRON <0|1>", "    Stop periodic cron job processing.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>", "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,", "    true, false.",
        "QUICKLIST-PACKED-THRESHOLD <size>", "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "LOADAOF", "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "AOF-FLUSH-SLEEP <microsec>", "    Server will sleep before flushing the AOF, this is used for testing.",
        "SET-DISABLE-DENY-SCRIPTS <0|1>", "    Allow scripts to call commands flagged noscript (for tests).",
        "RELOAD [option ...]", "    Save the RDB on disk and reload it back to memory.",
        "REPLICATE <command> [<arg> ...]", "    Send the command to the replicas as part of the replication stream.",
        "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
        "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
        "    In case NEVER is provided the last observed peak will never be reset.",
        "    In case RESET is provided the peak reset time will be restored to the default value.",
        "REPLYBUFFER RESIZING <0|1>", "    Enable or disable the reply buffer resize cron job.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>", "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
        "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
        "STRINGMATCH-LEN", "    Run a fuzz tester against the stringmatchlen() function.",
        "HELP", "    Prints this help.",
    ]
}
