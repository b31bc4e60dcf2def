/*
 * StoredDirectives: the redis.conf directives whose feature Tandem does not have yet, or that
 * cannot matter with Tandem's allocator and process model — accepted with Redis 7.0's syntax and
 * validation, kept as text in `Settings.stored`, returned by CONFIG GET and written by CONFIG
 * REWRITE, so that an existing redis.conf starts Tandem unchanged.
 *
 * None is silently ignored where a user relies on it: a value that would need the missing
 * feature (cluster-enabled yes, a TLS port, active defragmentation) is refused with a message
 * saying so, and docs/compatibility.md lists every one of them with the issue that brings it.
 * Directives that Tandem applies live in ConfigTable with a typed field of their own.
 */

/// How a stored directive's value is checked and printed (Redis 7.0's config types).
enum StoredFormat {
    case bool
    case int(min: Int, max: Int)
    case memory(min: Int, max: Int)
    case enumeration([String])
    case string
    /// Three integers in -2000...2000 (oom-score-adj-values).
    case oomValues
    /// Percentiles in 0...100 (latency-tracking-info-percentiles).
    case percentiles
    /// A memory value or a percentage of maxmemory (maxmemory-clients).
    case memoryOrPercent
    /// shutdown-on-sigint/-sigterm: "default", or any of save|nosave, now, force.
    case shutdownFlags
}

struct StoredDirective {
    let name: String
    let aliases: [String]
    let format: StoredFormat
    let defaultValue: String
    let mutable: Bool
    /// Why a value cannot be taken yet (nil: it can).
    let refusal: (String) -> String?

    init(_ name: String, _ format: StoredFormat, _ defaultValue: String, aliases: [String] = [], mutable: Bool = true,
         refusal: @escaping (String) -> String? = { _ in nil }) {
        self.name = name
        self.aliases = aliases
        self.format = format
        self.defaultValue = defaultValue
        self.mutable = mutable
        self.refusal = refusal
    }
}

enum StoredDirectives {
    static let maxInt = ConfigTable.maxInt
    static let maxLong = ConfigTable.maxLong

    nonisolated(unsafe) static let all: [StoredDirective] = [
        // Active defragmentation needs jemalloc; Tandem uses glibc's allocator (Redis refuses it the same way).
        .init("activedefrag", .bool, "no", refusal: {
            $0 == "yes" ? "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution" : nil
        }),
        .init("active-defrag-cycle-min", .int(min: 1, max: 99), "1"),
        .init("active-defrag-cycle-max", .int(min: 1, max: 99), "25"),
        .init("active-defrag-ignore-bytes", .memory(min: 1, max: maxLong), "104857600"),
        .init("active-defrag-max-scan-fields", .int(min: 1, max: maxLong), "1000"),
        .init("active-defrag-threshold-lower", .int(min: 0, max: 1000), "10"),
        .init("active-defrag-threshold-upper", .int(min: 0, max: 1000), "100"),
        .init("jemalloc-bg-thread", .bool, "yes"),
        // Snapshots fsync every 4 MB while writing (Snapshots.swift reads it).
        .init("rdb-save-incremental-fsync", .bool, "yes"),
        // CPU affinity of threads and children Tandem does not have in that form.
        .init("server_cpulist", .string, "", mutable: false),
        .init("bio_cpulist", .string, "", mutable: false),
        .init("aof_rewrite_cpulist", .string, "", mutable: false),
        .init("bgsave_cpulist", .string, "", mutable: false),
        // Cluster (issue 19)
        .init("cluster-enabled", .bool, "no", mutable: false),
        .init("cluster-config-file", .string, "nodes.conf", mutable: false),
        .init("cluster-port", .int(min: 0, max: 65535), "0", mutable: false),
        .init("cluster-node-timeout", .int(min: 0, max: maxLong), "15000"),
        .init("cluster-announce-ip", .string, ""),
        .init("cluster-announce-hostname", .string, "", refusal: { value in
            if value.utf8.count >= 256 { return "Hostnames must be less than 256 characters" }
            let allowed = value.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E
            }
            return allowed ? nil : "Hostnames may only contain alphanumeric characters, hyphens or dots"
        }),
        .init("cluster-announce-port", .int(min: 0, max: 65535), "0"),
        .init("cluster-announce-bus-port", .int(min: 0, max: 65535), "0"),
        .init("cluster-announce-tls-port", .int(min: 0, max: 65535), "0"),
        .init("cluster-require-full-coverage", .bool, "yes"),
        .init("cluster-replica-no-failover", .bool, "no", aliases: ["cluster-slave-no-failover"]),
        .init("cluster-replica-validity-factor", .int(min: 0, max: maxInt), "10", aliases: ["cluster-slave-validity-factor"]),
        .init("cluster-migration-barrier", .int(min: 0, max: maxInt), "1"),
        .init("cluster-allow-replica-migration", .bool, "yes"),
        .init("cluster-allow-reads-when-down", .bool, "no"),
        .init("cluster-allow-pubsubshard-when-down", .bool, "yes"),
        .init("cluster-link-sendbuf-limit", .memory(min: 0, max: maxLong), "0"),
        .init("cluster-preferred-endpoint-type", .enumeration(["ip", "hostname", "unknown-endpoint"]), "ip"),
        // TLS (issue 17)
        // TLS: applied by Security/TLS.swift from these stored values; tls-replication is read
        // by the replica link, tls-cluster by the cluster bus's links, MIGRATE and the cluster
        // port announcements.
        .init("tls-port", .int(min: 0, max: 65535), "0"),
        .init("tls-cert-file", .string, ""),
        .init("tls-key-file", .string, ""),
        .init("tls-key-file-pass", .string, ""),
        .init("tls-client-cert-file", .string, ""),
        .init("tls-client-key-file", .string, ""),
        .init("tls-client-key-file-pass", .string, ""),
        .init("tls-dh-params-file", .string, ""),
        .init("tls-ca-cert-file", .string, ""),
        .init("tls-ca-cert-dir", .string, ""),
        .init("tls-auth-clients", .enumeration(["no", "yes", "optional"]), "yes"),
        .init("tls-replication", .bool, "no"),
        .init("tls-cluster", .bool, "no"),
        .init("tls-protocols", .string, ""),
        .init("tls-ciphers", .string, ""),
        .init("tls-ciphersuites", .string, ""),
        .init("tls-prefer-server-ciphers", .bool, "no"),
        .init("tls-session-caching", .bool, "yes"),
        .init("tls-session-cache-size", .int(min: 0, max: maxInt), "20480"),
        .init("tls-session-cache-timeout", .int(min: 0, max: maxLong), "300"),
        // Scripting (issue 13)
        .init("busy-reply-threshold", .int(min: 0, max: maxLong), "5000", aliases: ["lua-time-limit"]),
        // Eviction and client memory (issue 14)
        .init("maxmemory-clients", .memoryOrPercent, "0"),
        .init("maxmemory-eviction-tenacity", .int(min: 0, max: 100), "10"),
        .init("replica-ignore-maxmemory", .bool, "yes", aliases: ["slave-ignore-maxmemory"]),
        // Data types of later issues (HyperLogLog: 18)
        // The rest of Redis 7.0's table
        .init("sanitize-dump-payload", .enumeration(["no", "yes", "clients"]), "no"),
        .init("replica-ignore-disk-write-errors", .bool, "no"),
        .init("io-threads-do-reads", .bool, "no", mutable: false),
        .init("crash-log-enabled", .bool, "yes"),
        .init("crash-memcheck-enabled", .bool, "yes"),
        .init("latency-tracking-info-percentiles", .percentiles, "50 99 99.9"),
        .init("syslog-enabled", .bool, "no", mutable: false),
        .init("syslog-ident", .string, "redis", mutable: false),
        .init("syslog-facility", .enumeration(["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]),
              "local0", mutable: false),
        .init("socket-mark-id", .int(min: 0, max: Int(UInt32.max)), "0"),
        .init("ignore-warnings", .string, ""),
        .init("shutdown-on-sigint", .shutdownFlags, "default"),
        .init("shutdown-on-sigterm", .shutdownFlags, "default"),
        .init("set-proc-title", .bool, "yes", mutable: false),
        .init("proc-title-template", .string, "{title} {listen-addr} {server-mode}", refusal: {
            ProcTitleTemplate.isValid($0) ? nil : "template format is invalid or contains unknown variables"
        }),
        .init("oom-score-adj", .enumeration(["no", "yes", "relative", "absolute"]), "no"),
        .init("oom-score-adj-values", .oomValues, "0 200 800"),
        .init("disable-thp", .bool, "yes", mutable: false),
        .init("rdb-del-sync-files", .bool, "no"),
        .init("repl-disable-tcp-nodelay", .bool, "no"),
        .init("bind-source-addr", .string, ""),
    ]

    /// Checks `text` against the directive's format; returns the value as CONFIG GET prints it.
    static func normalize(_ d: StoredDirective, _ text: String) throws(ConfigError) -> String {
        let value: String
        switch d.format {
        case .bool: value = try ConfigTable.boolArgument(text) ? "yes" : "no"
        case .int(let min, let max): value = String(try ConfigTable.intArgument(text, min: min, max: max))
        case .memory(let min, let max): value = String(try ConfigTable.memoryArgument(text, min: min, max: max))
        case .enumeration(let values): value = try ConfigTable.enumArgument(text, values)
        case .string:
            value = text
        case .oomValues:
            let words = text.split(separator: " ")
            guard words.count == 3 else { throw ConfigError("wrong number of arguments") }
            for w in words {
                guard let v = Int(w) else { throw ConfigError("Invalid oom-score-adj-values, elements must be integers.") }
                guard v >= -2000 && v <= 2000 else {
                    throw ConfigError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
                }
            }
            value = words.joined(separator: " ")
        case .percentiles:
            let words = text.split(separator: " ")
            for w in words {
                guard let p = Double(w), p >= 0, p <= 100 else {
                    throw ConfigError("latency-tracking-info-percentiles values must be between 0 and 100")
                }
            }
            value = words.map { Self.formatPercentile(Double($0)!) }.joined(separator: " ")
        case .memoryOrPercent:
            if text.hasSuffix("%") {
                guard let p = Int(text.dropLast()), p >= 0, p <= 100 else {
                    throw ConfigError("percentage argument must be less or equal to 100")
                }
                value = "\(p)%"
            } else {
                guard let v = ConfigTable.parseMemory(text) else { throw ConfigError("argument must be a memory or percent value") }
                value = String(v)
            }
        case .shutdownFlags:
            let words = text.lowercased().split(separator: " ").map(String.init)
            if words == ["default"] {
                value = "default"
            } else {
                let known = ["save", "nosave", "now", "force"]
                guard !words.isEmpty, words.allSatisfy({ known.contains($0) }), !(words.contains("save") && words.contains("nosave"))
                else { throw ConfigError("argument(s) must be one of the following: default, save, nosave, now, force") }
                value = known.filter { words.contains($0) }.joined(separator: " ")
            }
        }
        if let reason = d.refusal(value) { throw ConfigError(reason) }
        return value
    }

    /// 99.9 -> "99.9", 50 -> "50", as Redis prints them.
    static func formatPercentile(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : String(p)
    }
}

extension Settings {
    /// A stored directive's value (its default until set).
    public func storedValue(_ name: String) -> String {
        stored[name] ?? StoredDirectives.all.first { $0.name == name }?.defaultValue ?? ""
    }
}
