/*
 * CommandTable: every command as data — name, arity, flags, key positions, group, docs —
 * the equivalent of the JSON command files in Redis (src/commands).
 *
 * Dispatch reads the flags (a read-only replica refuses `write`, `-LOADING` spares
 * `loading`, CLIENT PAUSE WRITE holds `write`, MONITOR skips `admin`), COMMAND INFO and
 * COMMAND DOCS print them, and INFO commandstats counts per entry. Container commands
 * (CLIENT, CONFIG, OBJECT, ...) have one entry per subcommand, named "client|kill" as in
 * Redis, so subcommands get their own arity check and statistics.
 *
 * Arity follows Redis: positive means exactly that many arguments (command name included),
 * negative means at least that many.
 */

struct CommandFlags: OptionSet, Sendable {
    let rawValue: UInt32
    init(rawValue: UInt32) { self.rawValue = rawValue }

    static let write = CommandFlags(rawValue: 1 << 0)
    static let readonly = CommandFlags(rawValue: 1 << 1)
    static let denyoom = CommandFlags(rawValue: 1 << 2)
    static let admin = CommandFlags(rawValue: 1 << 3)
    static let pubsub = CommandFlags(rawValue: 1 << 4)
    static let noscript = CommandFlags(rawValue: 1 << 5)
    static let loading = CommandFlags(rawValue: 1 << 6)
    static let stale = CommandFlags(rawValue: 1 << 7)
    static let fast = CommandFlags(rawValue: 1 << 8)
    static let noAuth = CommandFlags(rawValue: 1 << 9)
    static let skipMonitor = CommandFlags(rawValue: 1 << 10)
    static let noMulti = CommandFlags(rawValue: 1 << 11)
    static let allowBusy = CommandFlags(rawValue: 1 << 12)
    /// A container whose real entries are its subcommands.
    static let container = CommandFlags(rawValue: 1 << 13)
    static let blocking = CommandFlags(rawValue: 1 << 14)
    static let movableKeys = CommandFlags(rawValue: 1 << 15)
    static let noMandatoryKeys = CommandFlags(rawValue: 1 << 16)
    /// Refused while a replica loads its master's snapshot in the background (async loading).
    static let noAsyncLoading = CommandFlags(rawValue: 1 << 17)
    /// Served for a slot being imported without ASKING (RESTORE-ASKING, what MIGRATE sends in
    /// cluster mode).
    static let asking = CommandFlags(rawValue: 1 << 18)

    static let names: [(CommandFlags, String)] = [
        (.write, "write"), (.readonly, "readonly"), (.denyoom, "denyoom"), (.admin, "admin"),
        (.pubsub, "pubsub"), (.noscript, "noscript"), (.loading, "loading"), (.stale, "stale"),
        (.skipMonitor, "skip_monitor"), (.asking, "asking"), (.fast, "fast"), (.noAuth, "no_auth"), (.noMandatoryKeys, "no_mandatory_keys"),
        (.noAsyncLoading, "no_async_loading"), (.noMulti, "no_multi"),
        (.allowBusy, "allow_busy"), (.blocking, "blocking"), (.movableKeys, "movablekeys"),
    ]
}

/// What a command runs; dispatch switches over this (no closures, no ARC on the hot path).
/// Each data type owns its own id enum and spec table in its command file, so the types can
/// grow independently: `.lists(.lpush)`, `.hashes(.hset)`, ...
enum CommandID: Equatable {
    case lists(ListCommand)
    case hashes(HashCommand)
    case sets(SetCommand)
    case sortedSets(ZSetCommand)
    case streams(StreamCommand)
    case bitmaps(BitmapCommand)
    case geo(GeoCommand)
    case hyperloglog(HyperLogLogCommand)
    case scripting(ScriptingCommand)
    // Connection
    case ping, echo, quit, select, auth, hello, reset
    // Cluster (Cluster/ClusterCommand.swift)
    case readonly, readwrite, asking
    case cluster(ClusterSubcommand)
    // Server
    case dbsize, flushdb, flushall, time, swapdb, shutdown, monitor, info, debug, lastsave
    case save, bgsave, bgrewriteaof, dump, restore, restoreAsking, migrate
    case replconf, psync, sync, wait, role, replicaof, failover
    case command, commandCount, commandInfo, commandDocs, commandList, commandGetkeys, commandGetkeysandflags, commandHelp
    case clientID, clientSetname, clientGetname, clientList, clientInfo, clientKill, clientPause
    case clientUnpause, clientNoEvict, clientReply, clientHelp, clientUnblock, clientTrackinginfo, clientGetredir
    case clientTracking, clientCaching
    case configGet, configSet, configResetstat, configRewrite, configHelp
    case aclCat, aclDeluser, aclDryrun, aclGenpass, aclGetuser, aclHelp, aclList, aclLoad, aclLog, aclSave
    case aclSetuser, aclUsers, aclWhoami
    case slowlogGet, slowlogLen, slowlogReset, slowlogHelp
    case sort, sortRO
    // Transactions and pub/sub
    case multi, exec, discard, watch, unwatch
    case subscribe, unsubscribe, psubscribe, punsubscribe, publish
    case ssubscribe, sunsubscribe, spublish
    case pubsubChannels, pubsubNumsub, pubsubNumpat, pubsubShardchannels, pubsubShardnumsub, pubsubHelp
    case latencyLatest, latencyReset, latencyHelp, latencyHistory, latencyDoctor, latencyGraph, latencyHistogram
    case moduleList, moduleLoad, moduleLoadex, moduleUnload, moduleHelp
    case memoryUsage, memoryStats, memoryDoctor, memoryMallocStats, memoryPurge, memoryHelp
    // Strings
    case get, set, setnx, setex, psetex, getset, getdel, getex, mget, mset, msetnx, append, strlen
    case getrange, substr, setrange, incr, decr, incrby, decrby, incrbyfloat, lcs
    // Keys
    case del, unlink, exists, type, rename, renamenx, keys, scan, randomkey, expire, pexpire
    case expireat, pexpireat, ttl, pttl, expiretime, pexpiretime, persist, move, copy, touch
    case objectEncoding, objectRefcount, objectIdletime, objectFreq, objectHelp
    /// Container entries: never executed, they route to subcommands.
    case container
}

struct CommandSpec {
    let name: StaticString
    let id: CommandID
    let arity: Int
    let flags: CommandFlags
    let firstKey: Int
    let lastKey: Int
    let keyStep: Int
    let group: StaticString
    let summary: StaticString
    let since: StaticString

    init(
        _ name: StaticString, _ id: CommandID, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (0, 0, 0),
        _ group: StaticString, _ since: StaticString, _ summary: StaticString
    ) {
        self.name = name
        self.id = id
        self.arity = arity
        self.flags = flags
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.keyStep = keys.2
        self.group = group
        self.summary = summary
        self.since = since
    }

    var nameString: String { name.description }
    var isSubcommand: Bool { nameString.contains("|") }
}

enum CommandTable {
    static let k1: (Int, Int, Int) = (1, 1, 1)
    static let kAll: (Int, Int, Int) = (1, -1, 1)

    static let all: [CommandSpec] =
        core + ListCommands.specs + HashCommands.specs + SetCommands.specs + ZSetCommands.specs + StreamCommands.specs
        + ScriptingCommands.specs + BitmapCommands.specs + GeoCommands.specs
        + HyperLogLogCommands.specs + ClusterCommands.specs

    static let core: [CommandSpec] = [
        // MARK: Connection
        .init("ping", .ping, -1, [.fast], "connection", "1.0.0", "Ping the server"),
        .init("echo", .echo, 2, [.fast], "connection", "1.0.0", "Echo the given string"),
        .init("quit", .quit, -1, [.allowBusy, .noscript, .loading, .stale, .fast, .noAuth], "connection", "1.0.0",
              "Close the connection"),
        .init("select", .select, 2, [.loading, .stale, .fast], "connection", "1.0.0",
              "Change the selected database for the current connection"),
        .init("auth", .auth, -2, [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy],
              "connection", "1.0.0", "Authenticate to the server"),
        .init("hello", .hello, -1, [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy],
              "connection", "6.0.0", "Handshake with Redis"),
        .init("reset", .reset, 1, [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy], "connection", "6.2.0",
              "Reset the connection"),
        .init("readonly", .readonly, 1, [.loading, .stale, .fast], "cluster", "3.0.0",
              "Enables read queries for a connection to a cluster replica node"),
        .init("readwrite", .readwrite, 1, [.loading, .stale, .fast], "cluster", "3.0.0",
              "Disables read queries for a connection to a cluster replica node"),
        .init("client", .container, -2, [.container], "connection", "2.4.0", "A container for client connection commands"),
        .init("client|id", .clientID, 2, [.noscript, .loading, .stale], "connection", "5.0.0",
              "Returns the client ID for the current connection"),
        .init("client|setname", .clientSetname, 3, [.noscript, .loading, .stale], "connection", "2.6.9",
              "Set the current connection name"),
        .init("client|getname", .clientGetname, 2, [.noscript, .loading, .stale], "connection", "2.6.9",
              "Get the current connection name"),
        .init("client|list", .clientList, -2, [.admin, .noscript, .loading, .stale], "connection", "2.4.0",
              "Get the list of client connections"),
        .init("client|info", .clientInfo, 2, [.noscript, .loading, .stale], "connection", "6.2.0",
              "Returns information about the current client connection."),
        .init("client|kill", .clientKill, -3, [.admin, .noscript, .loading, .stale], "connection", "2.4.0",
              "Kill the connection of a client"),
        .init("client|pause", .clientPause, -3, [.admin, .noscript, .loading, .stale], "connection", "2.9.50",
              "Stop processing commands from clients for some time"),
        .init("client|unpause", .clientUnpause, 2, [.admin, .noscript, .loading, .stale], "connection", "6.2.0",
              "Resume processing of clients that were paused"),
        .init("client|no-evict", .clientNoEvict, 3, [.admin, .noscript, .loading, .stale], "connection", "7.0.0",
              "Set client eviction mode for the current connection"),
        .init("client|reply", .clientReply, 3, [.noscript, .loading, .stale], "connection", "3.2.0",
              "Instruct the server whether to reply to commands"),
        .init("client|unblock", .clientUnblock, -3, [.admin, .noscript, .loading, .stale], "connection", "5.0.0",
              "Unblock a client blocked in a blocking command from a different connection"),
        .init("client|trackinginfo", .clientTrackinginfo, 2, [.noscript, .loading, .stale], "connection", "6.2.0",
              "Return information about server assisted client side caching for the current connection"),
        .init("client|getredir", .clientGetredir, 2, [.noscript, .loading, .stale], "connection", "6.0.0",
              "Get tracking notifications redirection client ID if any"),
        .init("client|tracking", .clientTracking, -3, [.noscript, .loading, .stale], "connection", "6.0.0",
              "Enable or disable server assisted client side caching support"),
        .init("client|caching", .clientCaching, 3, [.noscript, .loading, .stale], "connection", "6.0.0",
              "Instruct the server about tracking or not keys in the next request"),
        .init("client|help", .clientHelp, 2, [.loading, .stale], "connection", "5.0.0", "Show helpful text about the different subcommands"),

        // MARK: Server
        .init("dbsize", .dbsize, 1, [.readonly, .fast], "server", "1.0.0",
              "Return the number of keys in the selected database"),
        .init("flushdb", .flushdb, -1, [.write], "server", "1.0.0", "Remove all keys from the current database"),
        .init("flushall", .flushall, -1, [.write], "server", "1.0.0", "Remove all keys from all databases"),
        .init("time", .time, 1, [.loading, .stale, .fast], "server", "2.6.0", "Return the current server time"),
        .init("swapdb", .swapdb, 3, [.write, .fast], "server", "4.0.0", "Swaps two Redis databases"),
        .init("shutdown", .shutdown, -1, [.admin, .noscript, .loading, .stale, .noMulti, .allowBusy], "server",
              "1.0.0", "Synchronously save the dataset to disk and then shut down the server"),
        .init("monitor", .monitor, 1, [.admin, .noscript, .loading, .stale], "server", "1.0.0",
              "Listen for all requests received by the server in real time"),
        .init("info", .info, -1, [.loading, .stale], "server", "1.0.0",
              "Get information and statistics about the server"),
        .init("debug", .debug, -2, [.admin, .noscript, .loading, .stale], "server", "1.0.0",
              "A container for debugging commands"),
        .init("lastsave", .lastsave, 1, [.loading, .stale, .fast], "server", "1.0.0",
              "Get the UNIX time stamp of the last successful save to disk"),
        .init("replconf", .replconf, -1, [.admin, .noscript, .loading, .stale, .allowBusy], "server", "3.0.0",
              "An internal command for configuring the replication stream"),
        .init("psync", .psync, -3, [.admin, .noscript, .noMulti, .noAsyncLoading], "server", "2.8.0",
              "Internal command used for replication"),
        .init("sync", .sync, 1, [.admin, .noscript, .noMulti, .noAsyncLoading], "server", "1.0.0",
              "Internal command used for replication"),
        .init("replicaof", .replicaof, 3, [.admin, .noscript, .stale, .noAsyncLoading], "server", "5.0.0",
              "Make the server a replica of another instance, or promote it as master."),
        .init("slaveof", .replicaof, 3, [.admin, .noscript, .stale, .noAsyncLoading], "server", "1.0.0",
              "Make the server a replica of another instance, or promote it as master."),
        .init("failover", .failover, -1, [.admin, .noscript, .stale], "server", "6.2.0",
              "Start a coordinated failover between this server and one of its replicas."),
        .init("role", .role, 1, [.noscript, .loading, .stale, .fast], "server", "2.8.12",
              "Return the role of the instance in the context of replication"),
        .init("wait", .wait, 3, [.noscript], "generic", "3.0.0",
              "Wait for the synchronous replication of all the write commands sent in the context of the current connection"),
        .init("save", .save, 1, [.admin, .noscript, .noMulti, .noAsyncLoading], "server", "1.0.0",
              "Synchronously save the dataset to disk"),
        .init("bgsave", .bgsave, -1, [.admin, .noscript, .noAsyncLoading], "server", "1.0.0",
              "Asynchronously save the dataset to disk"),
        .init("bgrewriteaof", .bgrewriteaof, 1, [.admin, .noscript, .noAsyncLoading], "server", "1.0.0",
              "Asynchronously rewrite the append-only file"),
        .init("dump", .dump, 2, [.readonly], keys: (1, 1, 1), "generic", "2.6.0",
              "Return a serialized version of the value stored at the specified key."),
        .init("migrate", .migrate, -6, [.write, .movableKeys], keys: (3, 3, 1), "generic", "2.6.0",
              "Atomically transfer a key from a Redis instance to another one."),
        .init("restore", .restore, -4, [.write, .denyoom], keys: (1, 1, 1), "generic", "2.6.0",
              "Create a key using the provided serialized value, previously obtained using DUMP."),
        .init("restore-asking", .restoreAsking, -4, [.write, .denyoom, .asking], keys: (1, 1, 1), "server", "3.0.0",
              "An internal command for migrating keys in a cluster"),
        .init("command", .command, -1, [.loading, .stale], "server", "2.8.13", "Get array of Redis command details"),
        .init("command|count", .commandCount, 2, [.loading, .stale], "server", "2.8.13",
              "Get total number of Redis commands"),
        .init("command|info", .commandInfo, -2, [.loading, .stale], "server", "2.8.13",
              "Get array of specific Redis command details, or all when no argument is given."),
        .init("command|docs", .commandDocs, -2, [.loading, .stale], "server", "7.0.0",
              "Get array of specific Redis command documentation"),
        .init("command|list", .commandList, -2, [.loading, .stale], "server", "7.0.0",
              "Get an array of Redis command names"),
        .init("command|getkeysandflags", .commandGetkeysandflags, -4, [.loading, .stale], "server", "7.0.0",
              "Extract keys and access flags given a full Redis command"),
        .init("command|getkeys", .commandGetkeys, -4, [.loading, .stale], "server", "2.8.13",
              "Extract keys given a full Redis command"),
        .init("command|help", .commandHelp, 2, [.loading, .stale], "server", "5.0.0", "Show helpful text about the different subcommands"),
        .init("acl", .container, -2, [.container], "server", "6.0.0", "A container for Access List Control commands "),
        .init("acl|cat", .aclCat, -2, [.noscript, .loading, .stale], "server", "6.0.0",
              "List the ACL categories or the commands inside a category"),
        .init("acl|deluser", .aclDeluser, -3, [.admin, .noscript, .loading, .stale], "server", "6.0.0",
              "Remove the specified ACL users and the associated rules"),
        .init("acl|dryrun", .aclDryrun, -4, [.admin, .noscript, .loading, .stale], "server", "7.0.0",
              "Returns whether the user can execute the given command without executing the command."),
        .init("acl|genpass", .aclGenpass, -2, [.noscript, .loading, .stale], "server", "6.0.0",
              "Generate a pseudorandom secure password to use for ACL users"),
        .init("acl|getuser", .aclGetuser, 3, [.admin, .noscript, .loading, .stale], "server", "6.0.0",
              "Get the rules for a specific ACL user"),
        .init("acl|help", .aclHelp, 2, [.loading, .stale], "server", "6.0.0", "Show helpful text about the different subcommands"),
        .init("acl|list", .aclList, 2, [.admin, .noscript, .loading, .stale], "server", "6.0.0",
              "List the current ACL rules in ACL config file format"),
        .init("acl|load", .aclLoad, 2, [.admin, .noscript, .loading, .stale], "server", "6.0.0",
              "Reload the ACLs from the configured ACL file"),
        .init("acl|log", .aclLog, -2, [.admin, .noscript, .loading, .stale], "server", "6.0.0",
              "List latest events denied because of ACLs in place"),
        .init("acl|save", .aclSave, 2, [.admin, .noscript, .loading, .stale], "server", "6.0.0",
              "Save the current ACL rules in the configured ACL file"),
        .init("acl|setuser", .aclSetuser, -3, [.admin, .noscript, .loading, .stale], "server", "6.0.0",
              "Modify or create the rules for a specific ACL user"),
        .init("acl|users", .aclUsers, 2, [.admin, .noscript, .loading, .stale], "server", "6.0.0",
              "List the username of all the configured ACL rules"),
        .init("acl|whoami", .aclWhoami, 2, [.noscript, .loading, .stale], "server", "6.0.0",
              "Return the name of the user associated to the current connection"),
        .init("config", .container, -2, [.container], "server", "2.0.0", "A container for server configuration commands"),
        .init("config|get", .configGet, -3, [.admin, .noscript, .loading, .stale], "server", "2.0.0",
              "Get the values of configuration parameters"),
        .init("config|set", .configSet, -4, [.admin, .noscript, .loading, .stale], "server", "2.0.0",
              "Set configuration parameters to the given values"),
        .init("config|resetstat", .configResetstat, 2, [.admin, .noscript, .loading, .stale], "server", "2.0.0",
              "Reset the stats returned by INFO"),
        .init("config|rewrite", .configRewrite, 2, [.admin, .noscript, .loading, .stale], "server", "2.8.0",
              "Rewrite the configuration file with the in memory configuration"),
        .init("config|help", .configHelp, 2, [.loading, .stale], "server", "5.0.0", "Show helpful text about the different subcommands"),
        .init("slowlog", .container, -2, [.container], "server", "2.2.12", "A container for slow log commands"),
        .init("slowlog|get", .slowlogGet, -2, [.admin, .loading, .stale], "server", "2.2.12", "Get the slow log's entries"),
        .init("slowlog|len", .slowlogLen, 2, [.admin, .loading, .stale], "server", "2.2.12", "Get the slow log's length"),
        .init("slowlog|reset", .slowlogReset, 2, [.admin, .loading, .stale], "server", "2.2.12",
              "Clear all entries from the slow log"),
        .init("slowlog|help", .slowlogHelp, 2, [.loading, .stale], "server", "6.2.0", "Show helpful text about the different subcommands"),
        .init("memory", .container, -2, [.container], "server", "4.0.0", "A container for memory diagnostics commands"),
        .init("memory|usage", .memoryUsage, -3, [.readonly], keys: (2, 2, 1), "server", "4.0.0",
              "Estimate the memory usage of a key"),
        .init("memory|stats", .memoryStats, 2, [], "server", "4.0.0", "Show memory usage details"),
        .init("memory|doctor", .memoryDoctor, 2, [], "server", "4.0.0", "Outputs memory problems report"),
        .init("memory|malloc-stats", .memoryMallocStats, 2, [], "server", "4.0.0", "Show allocator internal stats"),
        .init("memory|purge", .memoryPurge, 2, [], "server", "4.0.0", "Ask the allocator to release memory"),
        .init("memory|help", .memoryHelp, 2, [.loading, .stale], "server", "4.0.0", "Show helpful text about the different subcommands"),
        .init("module", .container, -2, [.container], "server", "4.0.0", "A container for module commands"),
        .init("module|list", .moduleList, 2, [.admin, .noscript], "server", "4.0.0", "List all modules loaded by the server"),
        .init("module|load", .moduleLoad, -3, [.admin, .noscript], "server", "4.0.0", "Load a module"),
        .init("module|loadex", .moduleLoadex, -3, [.admin, .noscript], "server", "7.0.0",
              "Load a module with extended parameters"),
        .init("module|unload", .moduleUnload, 3, [.admin, .noscript], "server", "4.0.0", "Unload a module"),
        .init("module|help", .moduleHelp, 2, [.loading, .stale], "server", "5.0.0", "Show helpful text about the different subcommands"),
        .init("latency", .container, -2, [.container], "server", "2.8.13", "A container for latency diagnostics commands"),
        .init("latency|latest", .latencyLatest, 2, [.admin, .noscript, .loading, .stale], "server", "2.8.13",
              "Return the latest latency samples for all events."),
        .init("latency|reset", .latencyReset, -2, [.admin, .noscript, .loading, .stale], "server", "2.8.13",
              "Reset latency data for one or more events."),
        .init("latency|history", .latencyHistory, 3, [.admin, .noscript, .loading, .stale], "server", "2.8.13",
              "Return timestamp-latency samples for the event."),
        .init("latency|doctor", .latencyDoctor, 2, [.admin, .noscript, .loading, .stale], "server", "2.8.13",
              "Return a human readable latency analysis report."),
        .init("latency|graph", .latencyGraph, 3, [.admin, .noscript, .loading, .stale], "server", "2.8.13",
              "Return a latency graph for the event."),
        .init("latency|histogram", .latencyHistogram, -2, [.admin, .noscript, .loading, .stale], "server", "7.0.0",
              "Return the cumulative distribution of latencies of a subset of commands or all."),
        .init("latency|help", .latencyHelp, 2, [.loading, .stale], "server", "2.8.13", "Show helpful text about the different subcommands."),

        // MARK: Transactions
        .init("multi", .multi, 1, [.noscript, .loading, .stale, .fast, .allowBusy], "transactions", "1.2.0",
              "Mark the start of a transaction block"),
        .init("exec", .exec, 1, [.noscript, .loading, .stale], "transactions", "1.2.0",
              "Execute all commands issued after MULTI"),
        .init("discard", .discard, 1, [.noscript, .loading, .stale, .fast, .allowBusy], "transactions", "2.0.0",
              "Discard all commands issued after MULTI"),
        .init("watch", .watch, -2, [.noscript, .loading, .stale, .fast, .allowBusy], keys: kAll, "transactions",
              "2.2.0", "Watch the given keys to determine execution of the MULTI/EXEC block"),
        .init("unwatch", .unwatch, 1, [.noscript, .loading, .stale, .fast, .allowBusy], "transactions", "2.2.0",
              "Forget about all watched keys"),
        // MARK: Pub/Sub
        .init("subscribe", .subscribe, -2, [.pubsub, .noscript, .loading, .stale], "pubsub", "2.0.0",
              "Listen for messages published to the given channels"),
        .init("unsubscribe", .unsubscribe, -1, [.pubsub, .noscript, .loading, .stale], "pubsub", "2.0.0",
              "Stop listening for messages posted to the given channels"),
        .init("psubscribe", .psubscribe, -2, [.pubsub, .noscript, .loading, .stale], "pubsub", "2.0.0",
              "Listen for messages published to channels matching the given patterns"),
        .init("punsubscribe", .punsubscribe, -1, [.pubsub, .noscript, .loading, .stale], "pubsub", "2.0.0",
              "Stop listening for messages posted to channels matching the given patterns"),
        .init("publish", .publish, 3, [.pubsub, .loading, .stale, .fast], "pubsub", "2.0.0",
              "Post a message to a channel"),
        .init("ssubscribe", .ssubscribe, -2, [.pubsub, .noscript, .loading, .stale], keys: kAll, "pubsub", "7.0.0",
              "Listen for messages published to the given shard channels"),
        .init("sunsubscribe", .sunsubscribe, -1, [.pubsub, .noscript, .loading, .stale], keys: kAll, "pubsub", "7.0.0",
              "Stop listening for messages posted to the given shard channels"),
        .init("spublish", .spublish, 3, [.pubsub, .loading, .stale, .fast], keys: k1, "pubsub", "7.0.0",
              "Post a message to a shard channel"),
        .init("pubsub", .container, -2, [.container], "pubsub", "2.8.0", "A container for Pub/Sub commands"),
        .init("pubsub|channels", .pubsubChannels, -2, [.pubsub, .loading, .stale], "pubsub", "2.8.0",
              "List active channels"),
        .init("pubsub|numsub", .pubsubNumsub, -2, [.pubsub, .loading, .stale], "pubsub", "2.8.0",
              "Get the count of subscribers for channels"),
        .init("pubsub|shardchannels", .pubsubShardchannels, -2, [.pubsub, .loading, .stale], "pubsub", "7.0.0",
              "List active shard channels"),
        .init("pubsub|shardnumsub", .pubsubShardnumsub, -2, [.pubsub, .loading, .stale], "pubsub", "7.0.0",
              "Get the count of subscribers for shard channels"),
        .init("pubsub|numpat", .pubsubNumpat, 2, [.pubsub, .loading, .stale], "pubsub", "2.8.0",
              "Get the count of unique patterns pattern subscriptions"),
        .init("pubsub|help", .pubsubHelp, 2, [.loading, .stale], "pubsub", "6.2.0",
              "Show helpful text about the different subcommands"),
        .init("sort", .sort, -2, [.write, .denyoom, .movableKeys], keys: (1, 1, 1), "generic", "1.0.0",
              "Sort the elements in a list, set or sorted set"),
        .init("sort_ro", .sortRO, -2, [.readonly, .movableKeys], keys: (1, 1, 1), "generic", "7.0.0",
              "Sort the elements in a list, set or sorted set. Read-only variant of SORT."),

        // MARK: Strings
        .init("get", .get, 2, [.readonly, .fast], keys: k1, "string", "1.0.0", "Get the value of a key"),
        .init("set", .set, -3, [.write, .denyoom], keys: k1, "string", "1.0.0", "Set the string value of a key"),
        .init("setnx", .setnx, 3, [.write, .denyoom, .fast], keys: k1, "string", "1.0.0",
              "Set the value of a key, only if the key does not exist"),
        .init("setex", .setex, 4, [.write, .denyoom], keys: k1, "string", "2.0.0",
              "Set the value and expiration of a key"),
        .init("psetex", .psetex, 4, [.write, .denyoom], keys: k1, "string", "2.6.0",
              "Set the value and expiration in milliseconds of a key"),
        .init("getset", .getset, 3, [.write, .denyoom, .fast], keys: k1, "string", "1.0.0",
              "Set the string value of a key and return its old value"),
        .init("getdel", .getdel, 2, [.write, .fast], keys: k1, "string", "6.2.0", "Get the value of a key and delete the key"),
        .init("getex", .getex, -2, [.write, .fast], keys: k1, "string", "6.2.0",
              "Get the value of a key and optionally set its expiration"),
        .init("mget", .mget, -2, [.readonly, .fast], keys: kAll, "string", "1.0.0", "Get the values of all the given keys"),
        .init("mset", .mset, -3, [.write, .denyoom], keys: (1, -1, 2), "string", "1.0.1",
              "Set multiple keys to multiple values"),
        .init("msetnx", .msetnx, -3, [.write, .denyoom], keys: (1, -1, 2), "string", "1.0.1",
              "Set multiple keys to multiple values, only if none of the keys exist"),
        .init("append", .append, 3, [.write, .denyoom, .fast], keys: k1, "string", "2.0.0", "Append a value to a key"),
        .init("strlen", .strlen, 2, [.readonly, .fast], keys: k1, "string", "2.2.0",
              "Get the length of the value stored in a key"),
        .init("getrange", .getrange, 4, [.readonly], keys: k1, "string", "2.4.0",
              "Get a substring of the string stored at a key"),
        .init("substr", .substr, 4, [.readonly], keys: k1, "string", "1.0.0",
              "Get a substring of the string stored at a key"),
        .init("setrange", .setrange, 4, [.write, .denyoom], keys: k1, "string", "2.2.0",
              "Overwrite part of a string at key starting at the specified offset"),
        .init("incr", .incr, 2, [.write, .denyoom, .fast], keys: k1, "string", "1.0.0",
              "Increment the integer value of a key by one"),
        .init("decr", .decr, 2, [.write, .denyoom, .fast], keys: k1, "string", "1.0.0",
              "Decrement the integer value of a key by one"),
        .init("incrby", .incrby, 3, [.write, .denyoom, .fast], keys: k1, "string", "1.0.0",
              "Increment the integer value of a key by the given amount"),
        .init("decrby", .decrby, 3, [.write, .denyoom, .fast], keys: k1, "string", "1.0.0",
              "Decrement the integer value of a key by the given number"),
        .init("incrbyfloat", .incrbyfloat, 3, [.write, .denyoom, .fast], keys: k1, "string", "2.6.0",
              "Increment the float value of a key by the given amount"),
        .init("lcs", .lcs, -3, [.readonly], keys: (1, 2, 1), "string", "7.0.0", "Find longest common substring"),

        // MARK: Keys
        .init("del", .del, -2, [.write], keys: kAll, "generic", "1.0.0", "Delete a key"),
        .init("unlink", .unlink, -2, [.write, .fast], keys: kAll, "generic", "4.0.0",
              "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking."),
        .init("exists", .exists, -2, [.readonly, .fast], keys: kAll, "generic", "1.0.0", "Determine if a key exists"),
        .init("type", .type, 2, [.readonly, .fast], keys: k1, "generic", "1.0.0", "Determine the type stored at key"),
        .init("rename", .rename, 3, [.write], keys: (1, 2, 1), "generic", "1.0.0", "Rename a key"),
        .init("renamenx", .renamenx, 3, [.write, .fast], keys: (1, 2, 1), "generic", "1.0.0",
              "Rename a key, only if the new key does not exist"),
        .init("keys", .keys, 2, [.readonly], "generic", "1.0.0", "Find all keys matching the given pattern"),
        .init("scan", .scan, -2, [.readonly], "generic", "2.8.0", "Incrementally iterate the keys space"),
        .init("randomkey", .randomkey, 1, [.readonly], "generic", "1.0.0", "Return a random key from the keyspace"),
        .init("expire", .expire, -3, [.write, .fast], keys: k1, "generic", "1.0.0",
              "Set a key's time to live in seconds"),
        .init("pexpire", .pexpire, -3, [.write, .fast], keys: k1, "generic", "2.6.0",
              "Set a key's time to live in milliseconds"),
        .init("expireat", .expireat, -3, [.write, .fast], keys: k1, "generic", "1.2.0",
              "Set the expiration for a key as a UNIX timestamp"),
        .init("pexpireat", .pexpireat, -3, [.write, .fast], keys: k1, "generic", "2.6.0",
              "Set the expiration for a key as a UNIX timestamp specified in milliseconds"),
        .init("ttl", .ttl, 2, [.readonly, .fast], keys: k1, "generic", "1.0.0", "Get the time to live for a key in seconds"),
        .init("pttl", .pttl, 2, [.readonly, .fast], keys: k1, "generic", "2.6.0",
              "Get the time to live for a key in milliseconds"),
        .init("expiretime", .expiretime, 2, [.readonly, .fast], keys: k1, "generic", "7.0.0",
              "Get the expiration Unix timestamp for a key"),
        .init("pexpiretime", .pexpiretime, 2, [.readonly, .fast], keys: k1, "generic", "7.0.0",
              "Get the expiration Unix timestamp for a key in milliseconds"),
        .init("persist", .persist, 2, [.write, .fast], keys: k1, "generic", "2.2.0", "Remove the expiration from a key"),
        .init("move", .move, 3, [.write, .fast], keys: k1, "generic", "1.0.0", "Move a key to another database"),
        .init("copy", .copy, -3, [.write, .denyoom], keys: (1, 2, 1), "generic", "6.2.0", "Copy a key"),
        .init("touch", .touch, -2, [.readonly, .fast], keys: kAll, "generic", "3.2.1",
              "Alters the last access time of a key(s). Returns the number of existing keys specified."),
        .init("object", .container, -2, [.container], "generic", "2.2.3", "A container for object introspection commands"),
        .init("object|encoding", .objectEncoding, 3, [.readonly], keys: (2, 2, 1), "generic", "2.2.3",
              "Inspect the internal encoding of a Redis object"),
        .init("object|refcount", .objectRefcount, 3, [.readonly], keys: (2, 2, 1), "generic", "2.2.3",
              "Get the number of references to the value of the key"),
        .init("object|idletime", .objectIdletime, 3, [.readonly], keys: (2, 2, 1), "generic", "2.2.3",
              "Get the time since a Redis object was last accessed"),
        .init("object|freq", .objectFreq, 3, [.readonly], keys: (2, 2, 1), "generic", "4.0.0",
              "Get the logarithmic access frequency counter of a Redis object"),
        .init("object|help", .objectHelp, 2, [.loading, .stale], "generic", "6.2.0", "Show helpful text about the different subcommands"),
    ]
}
