/*
 * Settings: every configuration value, typed, as the server reads it.
 *
 * The directive table in ConfigTable.swift maps redis.conf names to these fields; parsing,
 * CONFIG GET/SET and CONFIG REWRITE go through that table. Code elsewhere just reads
 * `settings.hz` and friends. Defaults are Redis 7.0's.
 */

public struct SavePoint: Equatable, Sendable {
    public var seconds: Int
    public var changes: Int
}

public struct OutputBufferLimit: Equatable, Sendable {
    public var hard: Int
    public var soft: Int
    public var softSeconds: Int
}

public struct Settings: Sendable {
    // Network
    public var port = 6379
    public var bind = ["*", "-::*"]
    public var protectedMode = true
    public var tcpBacklog = 511
    public var timeout = 0
    public var tcpKeepalive = 300
    public var unixSocket = ""
    public var unixSocketPerm = 0
    public var maxclients = 10000

    // Process
    public var daemonize = false
    public var supervised = "no"
    public var pidfile = ""
    public var loglevel = "notice"
    public var logfile = ""
    public var databases = 16
    public var alwaysShowLogo = false
    public var hz = 10
    public var dynamicHz = true
    public var activeRehashing = true
    public var activeExpireEffort = 1
    public var ioThreads = 1
    public var enableDebugCommand = "no"
    public var enableProtectedConfigs = "no"
    public var enableModuleCommand = "no"
    public var propagationErrorBehavior = "ignore"
    /// Seconds SHUTDOWN waits for lagging replicas (accepted; Tandem's SHUTDOWN does not wait yet).
    public var shutdownTimeout = 10
    public var loadingProcessEventsIntervalBytes = 2 * 1024 * 1024
    public var notifyKeyspaceEvents = ""
    public var appendfsync = "everysec"
    public var noAppendfsyncOnRewrite = false

    // Persistence
    public var save: [SavePoint] = [
        SavePoint(seconds: 3600, changes: 1), SavePoint(seconds: 300, changes: 100),
        SavePoint(seconds: 60, changes: 10000),
    ]
    public var stopWritesOnBgsaveError = true
    public var rdbCompression = true
    public var rdbChecksum = true
    public var dbfilename = "dump.rdb"
    /// Set once a config file gave its own `save` lines (they replace the defaults).
    var saveFromFileSeen = false
    public var appendonly = false
    public var rdbKeySaveDelay = 0
    public var keyLoadDelay = 0

    // Security
    public var requirepass = ""

    // Replication
    public var replicaOf: (host: String, port: Int)? = nil
    public var masteruser = ""
    public var masterauth = ""
    public var replicaServeStaleData = true
    public var replicaReadOnly = true
    public var replDisklessSync = true
    public var replDisklessSyncDelay = 5
    public var replDisklessSyncMaxReplicas = 0
    public var replDisklessLoad = "disabled"
    public var replPingReplicaPeriod = 10
    public var replTimeout = 60
    public var replBacklogSize = 1024 * 1024
    public var replBacklogTTL = 3600
    public var replicaPriority = 100
    public var replicaAnnounceIP = ""
    public var replicaAnnouncePort = 0
    public var replicaAnnounced = true
    public var minReplicasToWrite = 0
    public var minReplicasMaxLag = 10
    public var replCompression = "lz4"
    public var replSenderWorkers = 2
    public var replSenderWorkersMinReplicas = 3
    public var replicaLazyFlush = false

    // Limits
    public var maxmemory = 0
    public var maxmemoryPolicy = "noeviction"
    public var maxmemorySamples = 5
    public var protoMaxBulkLen = 512 * 1024 * 1024
    public var clientQueryBufferLimit = 1024 * 1024 * 1024
    public var outputLimitNormal = OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0)
    public var outputLimitReplica = OutputBufferLimit(hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60)
    public var outputLimitPubsub = OutputBufferLimit(hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60)

    // Lazy freeing (accepted; Tandem frees synchronously for now)
    public var lazyfreeLazyEviction = false
    public var lazyfreeLazyExpire = false
    public var lazyfreeLazyServerDel = false
    public var lazyfreeLazyUserDel = false
    public var lazyfreeLazyUserFlush = false

    // Observability
    public var slowlogLogSlowerThan = 10000
    public var slowlogMaxLen = 128
    public var latencyMonitorThreshold = 0
    public var latencyTracking = true

    // Encodings (used by the data types)
    public var listMaxListpackSize = -2
    public var listCompressDepth = 0
    public var hashMaxListpackEntries = 512
    public var hashMaxListpackValue = 64
    public var setMaxIntsetEntries = 512
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64

    // LFU/LRU tuning (accepted)
    public var lfuLogFactor = 10
    public var lfuDecayTime = 1
    /// rename-command lines, in order (an empty new name disables the command).
    public var renamedCommands: [RenamedCommand] = []
    /// The directives of StoredDirectives that were set (name -> value as CONFIG GET prints it).
    public var stored: [String: String] = [:]

    public init() {}
}

public struct RenamedCommand: Sendable {
    public var name: String
    public var newName: String
}
