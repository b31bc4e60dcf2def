/*
 * ConfigTable: the redis.conf directives Tandem understands, as data.
 *
 * Each directive has a name (plus the old names Redis still accepts, such as
 * `hash-max-ziplist-entries` or `slaveof`), a kind that says how its text is parsed and
 * printed, and whether CONFIG SET may change it at run time. The same table serves the
 * config file, `--directive value` arguments, CONFIG GET, CONFIG SET and CONFIG REWRITE, so
 * a value is parsed and printed the same way everywhere. Error texts are Redis's.
 */
import Glibc
import Platform

struct ConfigError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

enum ConfigKind {
    case bool(WritableKeyPath<Settings, Bool>)
    case int(WritableKeyPath<Settings, Int>, min: Int, max: Int)
    case memory(WritableKeyPath<Settings, Int>, min: Int, max: Int)
    case enumeration(WritableKeyPath<Settings, String>, [String])
    case string(WritableKeyPath<Settings, String>)
    case octal(WritableKeyPath<Settings, Int>)
    /// Values with their own syntax: save, bind, client-output-buffer-limit, replicaof, dir,
    /// appendonly.
    case special
    /// Kept as text in Settings.stored (StoredDirectives.all[index]): a feature Tandem does not
    /// have yet, or one that cannot matter here.
    case stored(Int)
}

struct ConfigDirective {
    let name: String
    let aliases: [String]
    let kind: ConfigKind
    let mutable: Bool
    /// Debugging aids Redis hides from `CONFIG GET <pattern>`: only their exact name finds them.
    let hidden: Bool

    init(_ name: String, _ kind: ConfigKind, aliases: [String] = [], mutable: Bool = true, hidden: Bool = false) {
        self.name = name
        self.aliases = aliases
        self.kind = kind
        self.mutable = mutable
        self.hidden = hidden
    }
}

enum ConfigTable {
    static let maxInt = Int(Int32.max)
    static let maxLong = Int.max

    nonisolated(unsafe) static let directives: [ConfigDirective] = applied + StoredDirectives.all.indices.map { i in
        let s = StoredDirectives.all[i]
        return ConfigDirective(s.name, .stored(i), aliases: s.aliases, mutable: s.mutable)
    }

    /// The directives Tandem applies.
    nonisolated(unsafe) static let applied: [ConfigDirective] = [
        // Network
        .init("port", .int(\.port, min: 0, max: 65535)),
        .init("bind", .special),
        .init("protected-mode", .bool(\.protectedMode)),
        .init("tcp-backlog", .int(\.tcpBacklog, min: 0, max: maxInt), mutable: false),
        .init("timeout", .int(\.timeout, min: 0, max: maxInt)),
        .init("tcp-keepalive", .int(\.tcpKeepalive, min: 0, max: maxInt)),
        .init("unixsocket", .string(\.unixSocket), mutable: false),
        .init("unixsocketperm", .octal(\.unixSocketPerm), mutable: false),
        .init("maxclients", .int(\.maxclients, min: 1, max: maxInt)),
        // Process
        .init("daemonize", .bool(\.daemonize), mutable: false),
        .init("supervised", .enumeration(\.supervised, ["upstart", "systemd", "auto", "no"]), mutable: false),
        .init("pidfile", .string(\.pidfile), mutable: false),
        .init("loglevel", .enumeration(\.loglevel, ["debug", "verbose", "notice", "warning"])),
        .init("logfile", .string(\.logfile), mutable: false),
        .init("databases", .int(\.databases, min: 1, max: maxInt), mutable: false),
        .init("always-show-logo", .bool(\.alwaysShowLogo), mutable: false),
        .init("hz", .int(\.hz, min: 0, max: maxInt)),
        .init("dynamic-hz", .bool(\.dynamicHz)),
        .init("activerehashing", .bool(\.activeRehashing)),
        .init("active-expire-effort", .int(\.activeExpireEffort, min: 1, max: 10)),
        .init("io-threads", .int(\.ioThreads, min: 1, max: 128), mutable: false),
        .init("enable-debug-command", .enumeration(\.enableDebugCommand, ["no", "yes", "local"]), mutable: false),
        // Accepted with Redis's syntax; their features come with later issues (conf/tandem.conf
        // says which): modules do not exist, the AOF and keyspace notifications are not built,
        // and a command that fails while applying the master's stream is always ignored.
        .init("enable-protected-configs", .enumeration(\.enableProtectedConfigs, ["no", "yes", "local"]), mutable: false),
        .init("enable-module-command", .enumeration(\.enableModuleCommand, ["no", "yes", "local"]), mutable: false),
        .init("shutdown-timeout", .int(\.shutdownTimeout, min: 0, max: maxInt)),
        .init("propagation-error-behavior",
              .enumeration(\.propagationErrorBehavior, ["ignore", "panic", "panic-on-replicas"])),
        .init("notify-keyspace-events", .special),
        // Persistence
        .init("save", .special),
        .init("stop-writes-on-bgsave-error", .bool(\.stopWritesOnBgsaveError)),
        .init("rdbcompression", .bool(\.rdbCompression)),
        .init("rdbchecksum", .bool(\.rdbChecksum), mutable: false),
        .init("dbfilename", .string(\.dbfilename)),
        .init("dir", .special),
        .init("appendonly", .special),
        .init("appendfsync", .enumeration(\.appendfsync, ["everysec", "always", "no"])),
        .init("no-appendfsync-on-rewrite", .bool(\.noAppendfsyncOnRewrite)),
        .init("appendfilename", .special, mutable: false),
        .init("appenddirname", .special, mutable: false),
        .init("auto-aof-rewrite-percentage", .int(\.autoAofRewritePercentage, min: 0, max: maxInt)),
        .init("auto-aof-rewrite-min-size", .memory(\.autoAofRewriteMinSize, min: 0, max: maxLong)),
        .init("aof-load-truncated", .bool(\.aofLoadTruncated)),
        .init("aof-use-rdb-preamble", .bool(\.aofUseRdbPreamble)),
        .init("aof-timestamp-enabled", .bool(\.aofTimestampEnabled)),
        .init("aof-rewrite-incremental-fsync", .bool(\.aofRewriteIncrementalFsync)),
        .init("aof-disable-auto-gc", .bool(\.aofDisableAutoGC)),
        .init("rdb-key-save-delay", .int(\.rdbKeySaveDelay, min: Int(Int32.min), max: maxInt), hidden: true),
        .init("loading-process-events-interval-bytes",
              .int(\.loadingProcessEventsIntervalBytes, min: 1024, max: maxInt), hidden: true),
        .init("key-load-delay", .int(\.keyLoadDelay, min: Int(Int32.min), max: maxInt), hidden: true),
        // The software watchdog (Cron.swift), a debugging aid hidden as in Redis.
        .init("watchdog-period", .int(\.watchdogPeriod, min: 0, max: maxInt), hidden: true),
        // Redis's test suite runs servers with it (valgrind): a panic exits with status 1.
        .init("use-exit-on-panic", .bool(\.useExitOnPanic), mutable: false, hidden: true),
        // Security
        .init("requirepass", .string(\.requirepass)),
        .init("aclfile", .string(\.aclfile), mutable: false),
        .init("acllog-max-len", .int(\.acllogMaxLen, min: 0, max: maxLong)),
        .init("acl-pubsub-default", .enumeration(\.aclPubsubDefault, ["allchannels", "resetchannels"])),
        // Replication
        .init("replicaof", .special, aliases: ["slaveof"]),
        .init("masteruser", .string(\.masteruser)),
        .init("masterauth", .string(\.masterauth)),
        .init("replica-serve-stale-data", .bool(\.replicaServeStaleData), aliases: ["slave-serve-stale-data"]),
        .init("replica-read-only", .bool(\.replicaReadOnly), aliases: ["slave-read-only"]),
        .init("repl-diskless-sync", .bool(\.replDisklessSync)),
        .init("repl-diskless-sync-delay", .int(\.replDisklessSyncDelay, min: 0, max: maxInt)),
        .init("repl-diskless-sync-max-replicas", .int(\.replDisklessSyncMaxReplicas, min: 0, max: maxInt)),
        .init("repl-diskless-load", .enumeration(\.replDisklessLoad, ["disabled", "on-empty-db", "swapdb"])),
        .init("repl-ping-replica-period", .int(\.replPingReplicaPeriod, min: 1, max: maxInt),
              aliases: ["repl-ping-slave-period"]),
        .init("repl-timeout", .int(\.replTimeout, min: 1, max: maxInt)),
        .init("repl-backlog-size", .memory(\.replBacklogSize, min: 1, max: maxLong)),
        .init("repl-backlog-ttl", .int(\.replBacklogTTL, min: 0, max: maxInt)),
        .init("replica-priority", .int(\.replicaPriority, min: 0, max: maxInt), aliases: ["slave-priority"]),
        .init("replica-announce-ip", .string(\.replicaAnnounceIP), aliases: ["slave-announce-ip"]),
        .init("replica-announce-port", .int(\.replicaAnnouncePort, min: 0, max: 65535),
              aliases: ["slave-announce-port"]),
        .init("replica-announced", .bool(\.replicaAnnounced)),
        .init("min-replicas-to-write", .int(\.minReplicasToWrite, min: 0, max: maxInt),
              aliases: ["min-slaves-to-write"]),
        .init("min-replicas-max-lag", .int(\.minReplicasMaxLag, min: 0, max: maxInt),
              aliases: ["min-slaves-max-lag"]),
        .init("repl-compression", .enumeration(\.replCompression, ["lz4", "no"])),
        .init("repl-sender-workers", .int(\.replSenderWorkers, min: 0, max: 64), mutable: false),
        .init("repl-sender-workers-min-replicas", .int(\.replSenderWorkersMinReplicas, min: 1, max: maxInt)),
        .init("replica-lazy-flush", .bool(\.replicaLazyFlush), aliases: ["slave-lazy-flush"]),
        // Limits
        .init("maxmemory", .memory(\.maxmemory, min: 0, max: maxLong)),
        .init("maxmemory-policy", .enumeration(\.maxmemoryPolicy, [
            "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu",
            "allkeys-random", "noeviction",
        ])),
        .init("maxmemory-samples", .int(\.maxmemorySamples, min: 1, max: maxInt)),
        .init("tracking-table-max-keys", .int(\.trackingTableMaxKeys, min: 0, max: maxInt)),
        .init("proto-max-bulk-len", .memory(\.protoMaxBulkLen, min: 1024 * 1024, max: maxLong)),
        .init("client-query-buffer-limit", .memory(\.clientQueryBufferLimit, min: 1024 * 1024, max: maxLong)),
        .init("client-output-buffer-limit", .special),
        .init("lazyfree-lazy-eviction", .bool(\.lazyfreeLazyEviction)),
        .init("lazyfree-lazy-expire", .bool(\.lazyfreeLazyExpire)),
        .init("lazyfree-lazy-server-del", .bool(\.lazyfreeLazyServerDel)),
        .init("lazyfree-lazy-user-del", .bool(\.lazyfreeLazyUserDel)),
        .init("lazyfree-lazy-user-flush", .bool(\.lazyfreeLazyUserFlush)),
        // Observability
        .init("slowlog-log-slower-than", .int(\.slowlogLogSlowerThan, min: -1, max: maxLong)),
        .init("slowlog-max-len", .int(\.slowlogMaxLen, min: 0, max: maxLong)),
        .init("latency-monitor-threshold", .int(\.latencyMonitorThreshold, min: 0, max: maxLong)),
        .init("latency-tracking", .bool(\.latencyTracking)),
        // Encodings
        .init("list-max-listpack-size", .int(\.listMaxListpackSize, min: Int(Int32.min), max: maxInt),
              aliases: ["list-max-ziplist-size"]),
        .init("list-compress-depth", .int(\.listCompressDepth, min: 0, max: maxInt)),
        .init("hash-max-listpack-entries", .int(\.hashMaxListpackEntries, min: 0, max: maxLong),
              aliases: ["hash-max-ziplist-entries"]),
        .init("hash-max-listpack-value", .int(\.hashMaxListpackValue, min: 0, max: maxLong),
              aliases: ["hash-max-ziplist-value"]),
        .init("set-max-intset-entries", .int(\.setMaxIntsetEntries, min: 0, max: maxLong)),
        .init("zset-max-listpack-entries", .int(\.zsetMaxListpackEntries, min: 0, max: maxLong),
              aliases: ["zset-max-ziplist-entries"]),
        .init("zset-max-listpack-value", .int(\.zsetMaxListpackValue, min: 0, max: maxLong),
              aliases: ["zset-max-ziplist-value"]),
        .init("hll-sparse-max-bytes", .memory(\.hllSparseMaxBytes, min: 0, max: maxLong)),
        .init("stream-node-max-bytes", .memory(\.streamNodeMaxBytes, min: 0, max: maxLong)),
        .init("stream-node-max-entries", .int(\.streamNodeMaxEntries, min: 0, max: maxLong)),
        .init("lfu-log-factor", .int(\.lfuLogFactor, min: 0, max: maxInt)),
        .init("lfu-decay-time", .int(\.lfuDecayTime, min: 0, max: maxInt)),
    ]

    static let byName: [String: Int] = {
        var m: [String: Int] = [:]
        for (i, d) in directives.enumerated() {
            m[d.name] = i
            for a in d.aliases { m[a] = i }
        }
        return m
    }()

    static func find(_ name: String) -> ConfigDirective? {
        byName[name.lowercased()].map { directives[$0] }
    }

    // MARK: - Parsing values

    /// An integer by Redis's string2ll rules (no leading zeros, no '+', no spaces).
    static func parseInt(_ text: String) -> Int? {
        var t = text
        return t.withUTF8 { b -> Int? in
            guard let base = b.baseAddress else { return nil }
            return ByteView(base, b.count).int64.map { Int($0) }
        }
    }

    /// Redis's memtoll: an integer with an optional unit (b, k, kb, m, mb, g, gb).
    static func parseMemory(_ text: String) -> Int? {
        if text.hasPrefix("-") { return nil }
        let lower = text.lowercased()
        let units: [(String, Int)] = [
            ("gb", 1024 * 1024 * 1024), ("mb", 1024 * 1024), ("kb", 1024), ("g", 1_000_000_000),
            ("m", 1_000_000), ("k", 1000), ("b", 1),
        ]
        var digits = Substring(lower)
        var multiplier = 1
        for (u, m) in units where lower.hasSuffix(u) {
            digits = lower.dropLast(u.count)
            multiplier = m
            break
        }
        guard let v = Int(digits), !digits.hasPrefix("+") else { return nil }
        let (r, o) = v.multipliedReportingOverflow(by: multiplier)
        return o ? nil : r
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes": true
        case "no": false
        default: nil
        }
    }

    // Each kind's check, with Redis's error texts.
    static func boolArgument(_ text: String) throws(ConfigError) -> Bool {
        guard let b = parseBool(text) else { throw ConfigError("argument must be 'yes' or 'no'") }
        return b
    }

    static func intArgument(_ text: String, min: Int, max: Int) throws(ConfigError) -> Int {
        guard let v = parseInt(text) else { throw ConfigError("argument couldn't be parsed into an integer") }
        guard v >= min && v <= max else { throw ConfigError("argument must be between \(min) and \(max) inclusive") }
        return v
    }

    static func memoryArgument(_ text: String, min: Int, max: Int) throws(ConfigError) -> Int {
        guard let v = parseMemory(text) else { throw ConfigError("argument must be a memory value") }
        guard v >= min && v <= max else { throw ConfigError("argument must be between \(min) and \(max) inclusive") }
        return v
    }

    static func enumArgument(_ text: String, _ values: [String]) throws(ConfigError) -> String {
        guard values.contains(text.lowercased()) else {
            throw ConfigError("argument(s) must be one of the following: " + values.joined(separator: ", "))
        }
        return text.lowercased()
    }

    /// Redis 7.0's MULTI_ARG configs (other than save): their words come as separate arguments.
    static func takesManyArguments(_ d: ConfigDirective) -> Bool {
        guard case .stored(let i) = d.kind else { return false }
        switch StoredDirectives.all[i].format {
        case .oomValues, .percentiles, .shutdownFlags: return true
        default: return false
        }
    }

    /// Applies `args` (the words after the directive name) to `settings`.
    static func apply(_ d: ConfigDirective, _ args: [String], to settings: inout Settings, fromFile: Bool) throws(
        ConfigError
    ) {
        switch d.kind {
        case .bool(let kp):
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            settings[keyPath: kp] = try boolArgument(args[0])
        case .int(let kp, let min, let max):
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            settings[keyPath: kp] = try intArgument(args[0], min: min, max: max)
        case .memory(let kp, let min, let max):
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            settings[keyPath: kp] = try memoryArgument(args[0], min: min, max: max)
        case .enumeration(let kp, let values):
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            settings[keyPath: kp] = try enumArgument(args[0], values)
        case .string(let kp):
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            settings[keyPath: kp] = args[0]
        case .octal(let kp):
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            guard let v = Int(args[0], radix: 8), v >= 0, v <= 0o777 else {
                throw ConfigError("argument couldn't be parsed as an octal number")
            }
            settings[keyPath: kp] = v
        case .special:
            try applySpecial(d.name, args, to: &settings, fromFile: fromFile)
        case .stored(let i):
            let s = StoredDirectives.all[i]
            // The list-valued ones take their words as separate arguments in a file.
            switch s.format {
            case .oomValues, .percentiles, .shutdownFlags: break
            default: guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            }
            settings.stored[s.name] = try StoredDirectives.normalize(s, args.joined(separator: " "))
        }
    }

    static func applySpecial(_ name: String, _ args: [String], to s: inout Settings, fromFile: Bool) throws(ConfigError) {
        switch name {
        case "save":
            // In a file each `save` line adds a point; `save ""` clears them all.
            let words = args.count == 1 ? args[0].split(separator: " ").map(String.init) : args
            if words.isEmpty || (words.count == 1 && words[0].isEmpty) {
                s.save = []
                return
            }
            guard words.count % 2 == 0 else { throw ConfigError("Invalid save parameters") }
            var points: [SavePoint] = []
            var i = 0
            while i < words.count {
                guard let secs = Int(words[i]), let changes = Int(words[i + 1]), secs >= 1, changes >= 0 else {
                    throw ConfigError("Invalid save parameters")
                }
                points.append(SavePoint(seconds: secs, changes: changes))
                i += 2
            }
            s.save = points
        case "bind":
            // An empty list is allowed: no TCP listener (the Unix socket only), as in Redis 7.0.
            let words = args.count == 1 ? args[0].split(separator: " ").map(String.init) : args
            guard words.count <= 16 else { throw ConfigError("Too many bind addresses specified.") }
            s.bind = words
        case "dir":
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            if chdir(args[0]) == -1 { throw ConfigError(String(cString: strerror(errno))) }
        case "appendonly":
            guard args.count == 1, let b = parseBool(args[0]) else { throw ConfigError("argument must be 'yes' or 'no'") }
            s.appendonly = b
        case "appendfilename", "appenddirname":
            // Both live inside `dir` (Redis 7.0's isValidAOFfilename / isValidAOFdirname).
            guard args.count == 1 else { throw ConfigError("wrong number of arguments") }
            let what = name == "appendfilename" ? "appendfilename" : "appenddirname"
            if args[0].isEmpty { throw ConfigError("\(what) can't be empty") }
            if args[0].contains("/") || args[0] == "." || args[0] == ".." {
                throw ConfigError(name == "appendfilename" ? "appendfilename can't be a path, just a filename"
                                  : "appenddirname can't be a path, just a dirname")
            }
            if name == "appendfilename" { s.appendfilename = args[0] } else { s.appenddirname = args[0] }
        case "notify-keyspace-events":
            guard args.count == 1, let flags = KeyspaceEventFlags(parsing: args[0]) else {
                throw ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
            }
            s.keyspaceEvents = flags
        case "replicaof":
            guard args.count == 2 else { throw ConfigError("wrong number of arguments") }
            if args[0].lowercased() == "no" && args[1].lowercased() == "one" {
                s.replicaOf = nil
                return
            }
            guard let p = Int(args[1]), p >= 0, p <= 65535 else { throw ConfigError("Invalid master port") }
            s.replicaOf = (args[0], p)
        case "client-output-buffer-limit":
            let words = args.count == 1 ? args[0].split(separator: " ").map(String.init) : args
            guard words.count % 4 == 0, !words.isEmpty else { throw ConfigError("Wrong number of arguments in buffer limit configuration.") }
            var i = 0
            var copy = s
            while i < words.count {
                guard let hard = parseMemory(words[i + 1]), let soft = parseMemory(words[i + 2]),
                    let secs = Int(words[i + 3]), hard >= 0, soft >= 0, secs >= 0
                else { throw ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") }
                let limit = OutputBufferLimit(hard: hard, soft: soft, softSeconds: secs)
                switch words[i].lowercased() {
                case "normal": copy.outputLimitNormal = limit
                case "replica", "slave": copy.outputLimitReplica = limit
                case "pubsub": copy.outputLimitPubsub = limit
                default: throw ConfigError("Invalid client class specified in buffer limit configuration.")
                }
                i += 4
            }
            s = copy
        default:
            throw ConfigError("Bad directive or wrong number of arguments")
        }
    }

    // MARK: - Printing values

    /// The value as CONFIG GET prints it.
    static func value(_ d: ConfigDirective, _ s: Settings) -> String {
        switch d.kind {
        case .bool(let kp): return s[keyPath: kp] ? "yes" : "no"
        case .int(let kp, _, _), .memory(let kp, _, _): return String(s[keyPath: kp])
        case .enumeration(let kp, _), .string(let kp): return s[keyPath: kp]
        case .octal(let kp): return String(s[keyPath: kp], radix: 8)
        case .stored(let i): return s.storedValue(StoredDirectives.all[i].name)
        case .special:
            switch d.name {
            case "save": return s.save.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ")
            case "bind": return s.bind.joined(separator: " ")
            case "dir":
                var buf = [CChar](repeating: 0, count: 4096)
                return getcwd(&buf, buf.count) != nil ? String(cString: buf) : ""
            case "appendonly": return s.appendonly ? "yes" : "no"
            case "appendfilename": return s.appendfilename
            case "appenddirname": return s.appenddirname
            case "notify-keyspace-events": return s.notifyKeyspaceEvents
            case "replicaof": return s.replicaOf.map { "\($0.host) \($0.port)" } ?? ""
            case "client-output-buffer-limit":
                func f(_ l: OutputBufferLimit) -> String { "\(l.hard) \(l.soft) \(l.softSeconds)" }
                return "normal \(f(s.outputLimitNormal)) slave \(f(s.outputLimitReplica)) pubsub \(f(s.outputLimitPubsub))"
            default: return ""
            }
        }
    }

    /// A byte count as CONFIG REWRITE writes it: in gb, mb or kb when it divides evenly, as Redis.
    static func formatMemory(_ bytes: Int) -> String {
        for (unit, size) in [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)] where bytes != 0 && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes)"
    }

    /// The lines CONFIG REWRITE writes for a directive (several for save and output limits).
    static func rewriteLines(_ d: ConfigDirective, _ s: Settings) -> [String] {
        func quoted(_ v: String) -> String {
            if v.isEmpty { return "\"\"" }
            if v.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == "\\" }) {
                return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            }
            return v
        }
        switch d.name {
        case "save":
            if s.save.isEmpty { return ["save \"\""] }
            return s.save.map { "save \($0.seconds) \($0.changes)" }
        case "client-output-buffer-limit":
            func f(_ l: OutputBufferLimit) -> String { "\(formatMemory(l.hard)) \(formatMemory(l.soft)) \(l.softSeconds)" }
            return [
                "client-output-buffer-limit normal \(f(s.outputLimitNormal))",
                "client-output-buffer-limit replica \(f(s.outputLimitReplica))",
                "client-output-buffer-limit pubsub \(f(s.outputLimitPubsub))",
            ]
        case "replicaof":
            // A cluster node's master comes from nodes.conf; Redis refuses the directive there.
            guard let r = s.replicaOf, s.storedValue("cluster-enabled") != "yes" else { return [] }
            return ["replicaof \(r.host) \(r.port)"]
        case "bind":
            return [s.bind.isEmpty ? "bind \"\"" : "bind " + s.bind.joined(separator: " ")]
        case "dir":
            return ["dir " + quoted(value(d, s))]
        default:
            if case .memory(let path, _, _) = d.kind { return ["\(d.name) \(formatMemory(s[keyPath: path]))"] }
            if case .stored(let i) = d.kind, case .memory = StoredDirectives.all[i].format, let v = Int(value(d, s)) {
                return ["\(d.name) \(formatMemory(v))"]
            }
            return ["\(d.name) \(quoted(value(d, s)))"]
        }
    }
}

// MARK: - Splitting lines

enum ConfigLine {
    /// Splits a line into words with redis.conf's quoting rules ("..." with escapes, '...').
    /// Returns nil for unbalanced quotes.
    static func split(_ line: String) -> [String]? {
        SplitArgs.split(Array(line.utf8))?.map { String(decoding: $0, as: UTF8.self) }
    }
}

