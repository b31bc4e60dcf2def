/*
 * Settings: every configuration value, typed, as the server reads it.
 *
 * The directive table in ConfigTable.swift maps redis.conf names to these fields; parsing,
 * CONFIG GET/SET and CONFIG REWRITE go through that table. Code elsewhere just reads
 * `settings.hz` and friends. Defaults are Redis 7.0's.
 */

struct SavePoint: Equatable, Sendable {
    var seconds: Int
    var changes: Int
}

struct OutputBufferLimit: Equatable, Sendable {
    var hard: Int
    var soft: Int
    var softSeconds: Int
}

public struct Settings: Sendable {
    // Network
    public var port = 6379
    var bind = ["*", "-::*"]
    var protectedMode = true
    var tcpBacklog = 511
    var timeout = 0
    var tcpKeepalive = 300
    var unixSocket = ""
    var unixSocketPerm = 0
    var maxclients = 10000

    // Process
    public var daemonize = false
    var supervised = "no"
    public var pidfile = ""
    public var loglevel = "notice"
    public var logfile = ""
    var databases = 16
    public var alwaysShowLogo = false
    var hz = 10
    var dynamicHz = true
    var activeRehashing = true
    var activeExpireEffort = 1
    var ioThreads = 1
    var enableDebugCommand = "no"
    var enableProtectedConfigs = "no"
    var enableModuleCommand = "no"
    var propagationErrorBehavior = "ignore"
    /// Seconds SHUTDOWN waits for lagging replicas (accepted; Tandem's SHUTDOWN does not wait yet).
    var shutdownTimeout = 10
    var useExitOnPanic = false
    var loadingProcessEventsIntervalBytes = 2 * 1024 * 1024
    /// notify-keyspace-events as CONFIG GET prints it (which, as in Redis, omits "n" next to "A").
    var notifyKeyspaceEvents: String {
        get { keyspaceEvents.description }
        set { keyspaceEvents = KeyspaceEventFlags(parsing: newValue) ?? [] }
    }
    /// notify-keyspace-events parsed (every write tests it).
    var keyspaceEvents: KeyspaceEventFlags = []
    var appendfsync = "everysec"
    var noAppendfsyncOnRewrite = false

    // Persistence
    var save: [SavePoint] = [
        SavePoint(seconds: 3600, changes: 1), SavePoint(seconds: 300, changes: 100),
        SavePoint(seconds: 60, changes: 10000),
    ]
    var stopWritesOnBgsaveError = true
    var rdbCompression = true
    var rdbChecksum = true
    var dbfilename = "dump.rdb"
    /// Set once a config file gave its own `save` lines (they replace the defaults).
    var saveFromFileSeen = false
    var appendonly = false
    // The append-only file (Sources/Server/AppendOnly/)
    var appendfilename = "appendonly.aof"
    var appenddirname = "appendonlydir"
    var autoAofRewritePercentage = 100
    var autoAofRewriteMinSize = 64 * 1024 * 1024
    var aofLoadTruncated = true
    var aofUseRdbPreamble = true
    var aofTimestampEnabled = false
    var aofRewriteIncrementalFsync = true
    var aofDisableAutoGC = false
    var rdbKeySaveDelay = 0
    /// watchdog-period in milliseconds (0: off).
    var watchdogPeriod = 0
    var keyLoadDelay = 0

    // Security
    var requirepass = ""
    var aclfile = ""
    var acllogMaxLen = 128
    var aclPubsubDefault = "resetchannels"
    /// `user` lines of the config file: the name, then its rules (selectors merged), loaded at
    /// start-up (Security/ACLFile.swift).
    var users: [[[UInt8]]] = []

    // Replication
    public var replicaOf: (host: String, port: Int)? = nil
    var masteruser = ""
    var masterauth = ""
    var replicaServeStaleData = true
    var replicaReadOnly = true
    var replDisklessSync = true
    var replDisklessSyncDelay = 5
    var replDisklessSyncMaxReplicas = 0
    var replDisklessLoad = "disabled"
    var replPingReplicaPeriod = 10
    var replTimeout = 60
    var replBacklogSize = 1024 * 1024
    var replBacklogTTL = 3600
    var replicaPriority = 100
    var replicaAnnounceIP = ""
    var replicaAnnouncePort = 0
    var replicaAnnounced = true
    var minReplicasToWrite = 0
    var minReplicasMaxLag = 10
    var replCompression = "lz4"
    var replSenderWorkers = 2
    var replSenderWorkersMinReplicas = 3
    var replicaLazyFlush = false

    // Limits
    var maxmemory = 0
    var maxmemoryPolicy = "noeviction" { didSet { evictionPolicy = EvictionPolicy(maxmemoryPolicy) } }
    /// maxmemory-policy parsed (the hot paths test it per access).
    var evictionPolicy = EvictionPolicy.noEviction
    var maxmemorySamples = 5
    var trackingTableMaxKeys = 1_000_000
    var protoMaxBulkLen = 512 * 1024 * 1024
    var clientQueryBufferLimit = 1024 * 1024 * 1024
    var outputLimitNormal = OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0)
    var outputLimitReplica = OutputBufferLimit(hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60)
    var outputLimitPubsub = OutputBufferLimit(hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60)

    // Lazy freeing: large values deleted this way are freed by the lazy-free thread
    // (Keyspace/LazyFree.swift)
    var lazyfreeLazyEviction = false
    var lazyfreeLazyExpire = false
    var lazyfreeLazyServerDel = false
    var lazyfreeLazyUserDel = false
    var lazyfreeLazyUserFlush = false

    // Observability
    var slowlogLogSlowerThan = 10000
    var slowlogMaxLen = 128
    var latencyMonitorThreshold = 0
    var latencyTracking = true

    // Encodings (used by the data types)
    var listMaxListpackSize = -2
    var listCompressDepth = 0
    var hashMaxListpackEntries = 512
    var hashMaxListpackValue = 64
    var setMaxIntsetEntries = 512
    var zsetMaxListpackEntries = 128
    var zsetMaxListpackValue = 64
    var streamNodeMaxBytes = 4096
    var hllSparseMaxBytes = 3000
    var streamNodeMaxEntries = 100

    // LFU/LRU tuning (accepted)
    var lfuLogFactor = 10
    var lfuDecayTime = 1
    /// rename-command lines, in order (an empty new name disables the command).
    var renamedCommands: [RenamedCommand] = []
    /// The directives of StoredDirectives that were set (name -> value as CONFIG GET prints it).
    var stored: [String: String] = [:]

    init() {}
}

struct RenamedCommand: Sendable {
    var name: String
    var newName: String
}
