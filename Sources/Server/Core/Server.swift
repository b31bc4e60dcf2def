/*
 * Server: the primary process's state and its event loop.
 *
 * One `Server` struct, allocated once and reached through a pointer (see Client.swift for
 * why not a class). The loop is Redis's: wait on epoll until the next cron tick; for each
 * ready descriptor accept, read-and-execute, or flush; run the cron at `hz`; and before
 * sleeping again, write every reply produced in this iteration (so all the replies to one
 * pipelined read leave in one write) and free clients marked for closing.
 *
 * Files split the rest by concern: Networking.swift (accept/read/write/close), Dispatch.swift
 * (from parsed arguments to a command), Cron.swift (timers, expiry, rehashing), and one file
 * per command group under Commands/.
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

public enum ServerInfo {
    public static let redisVersion = "7.0.15"
    /// 0x00MMmmpp, as redis.REDIS_VERSION_NUM.
    public static let redisVersionNumber = 0x00_07_00_0F
    public static let tandemVersion = "0.1.0"
}

struct ServerStats {
    var connectionsReceived: Int64 = 0
    var commandsProcessed: Int64 = 0
    var netInputBytes: Int64 = 0
    var netOutputBytes: Int64 = 0
    var rejectedConnections: Int64 = 0
    var expiredKeys: Int64 = 0
    var evictedKeys: Int64 = 0
    var evictedClients: Int64 = 0
    var expiredStalePercent: Double = 0
    var expiredTimeCapReached: Int64 = 0
    var expireCycleMicros: Int64 = 0
    var keyspaceHits: Int64 = 0
    var keyspaceMisses: Int64 = 0
    var errorReplies: Int64 = 0
    /// Errors sent on a replication link (INFO unexpected_error_replies).
    var unexpectedErrorReplies: Int64 = 0
    var readsProcessed: Int64 = 0
    var writesProcessed: Int64 = 0
    // Instantaneous metrics, sampled every 100 ms over the last 16 samples.
    var opsSamples = [Int64](repeating: 0, count: 16)
    var inputSamples = [Int64](repeating: 0, count: 16)
    var outputSamples = [Int64](repeating: 0, count: 16)
    var sampleIndex = 0
    var lastSampleMillis: Int64 = 0
    var lastSampleCommands: Int64 = 0
    var lastSampleInput: Int64 = 0
    var lastSampleOutput: Int64 = 0
}

struct SlowlogEntry {
    var id: Int64
    var time: Int64
    var durationMicros: Int64
    var args: [[UInt8]]
    var address: String
    var name: String
}

public struct Server {
    var settings: Settings
    var configPath: String?
    var executable: String = ""

    // Keyspace
    var dbs: UnsafeMutablePointer<Database>
    var dbCount: Int

    // Event loop and listeners
    var loop: EventLoop
    var listeners: [Int32] = []
    var unixListener: Int32 = -1

    // Clients
    var clientsByFD: UnsafeMutablePointer<ClientRef?>
    var clientsCapacity: Int
    var clientCount = 0
    var nextClientID: Int64 = 1
    var pendingWrites: UnsafeMutablePointer<ClientRef>
    var pendingCount = 0
    var pendingCapacity: Int
    var closeCount = 0
    var monitors: [ClientRef] = []
    // Transactions and pub/sub
    var watchers: [WatchKey: [ClientRef]] = [:]
    var watchCount = 0
    var inExec = false
    var channelSubscribers: [[UInt8]: [ClientRef]] = [:]
    /// Every connected client by CLIENT ID (tracking redirection and tables name clients by ID).
    var clientsByID: [Int64: ClientRef] = [:]
    /// CLIENT TRACKING's tables (Tracking.swift).
    var tracking = TrackingTables()
    /// The connection whose command is running (set by the outermost call()): its own
    /// tracking invalidations wait for its reply.
    var commandClient: ClientRef? = nil
    /// SSUBSCRIBE's channels, a namespace of their own (PubSub.swift).
    var shardChannelSubscribers: [[UInt8]: [ClientRef]] = [:]
    var patternSubscribers: [[UInt8]: [ClientRef]] = [:]
    var patternOrder: [[UInt8]] = []
    // Blocked clients
    var blockedByKey: [WatchKey: [ClientRef]] = [:]
    var readyKeys: [WatchKey] = []
    var blockedClients = 0
    var servingBlockedClient = false
    // Propagation (see Propagation.swift)
    var propagationEnabled = false
    var propagationOverridden = false
    /// The running command propagates even though it changed nothing (Redis's
    /// forceCommandPropagation: PUBLISH, FLUSHDB of an empty database).
    var propagationForced = false
    var propagationForcedReplicasOnly = false
    var pendingPropagation: [(Int, [[UInt8]])] = []
    var propagatedDB = -1
    /// Where the running command's effects go: the AOF (1), replicas (2), both (3). Only a
    /// script's redis.set_repl narrows it; the byte ranges meant for one side only are kept in
    /// the excluded lists of the other until the batch is fed (Propagation.swift).
    var propagationTargets = 3
    var partialCommandStart = 0
    var excludedFromAOF: [Range<Int>] = []
    var excludedFromReplicas: [Range<Int>] = []
    /// The propagation batch of the outermost call() (Redis's also_propagate): how deep call()
    /// is nested (EXEC calls its commands), how many commands the batch emitted, and where the
    /// first one starts in replicationStream (a MULTI goes there when a second one follows).
    /// FAILOVER's progress (Failover.swift).
    var failover = FailoverStatus()
    var callDepth = 0
    var batchCommands = 0
    var batchFirstCommandAt = -1
    /// One buffer for the life of the process (the Server value is copied nowhere: a pointer
    /// keeps the buffer's single owner explicit).
    let replicationStream: UnsafeMutablePointer<ReplyBuffer> = {
        let p = UnsafeMutablePointer<ReplyBuffer>.allocate(capacity: 1)
        p.initialize(to: ReplyBuffer())
        return p
    }()
    /// EVAL's Lua VM and script cache, and the client its commands run on (Scripting/).
    let scripting: UnsafeMutablePointer<LuaEngine> = {
        let p = UnsafeMutablePointer<LuaEngine>.allocate(capacity: 1)
        p.initialize(to: LuaEngine())
        return p
    }()
    /// Redis Functions: their own Lua VM and the libraries loaded into it (Scripting/).
    let functionsEngine: UnsafeMutablePointer<FunctionsEngine> = {
        let p = UnsafeMutablePointer<FunctionsEngine>.allocate(capacity: 1)
        p.initialize(to: FunctionsEngine())
        return p
    }()
    /// The script or function running now, whichever VM it runs on (Redis's scriptRunCtx).
    let scriptRun: UnsafeMutablePointer<ScriptRun> = {
        let p = UnsafeMutablePointer<ScriptRun>.allocate(capacity: 1)
        p.initialize(to: ScriptRun())
        return p
    }()
    let scriptClient: ClientRef = Client.create(fd: -1, id: Int64.max, address: "lua", localAddress: "",
                                                isLoopback: true, authenticated: true, now: Clock.unixMillis())
    /// DEBUG REPLSTREAM START keeps the stream for READ instead of feeding replicas.
    var replStreamRecording = false
    var repl: ReplicationState
    var link = ReplicaLink()
    /// The command running came from our master (KeyAccess lets it see expired keys).
    var servingMaster = false
    /// A client's write command runs on a writable replica (KeyAccess.expiresLocally), and the
    /// keys such commands left with an expire, which the replica expires itself (Redis's
    /// slaveKeysWithExpire: its master knows nothing of them).
    var replicaClientWrite = false
    var replicaLocalExpires: Set<WatchKey> = []
    var monitorCount = 0
    /// The watchdog's SIGALRM handler is installed (watchdog-period > 0).
    var watchdogArmed = false
    /// Eviction (Eviction.swift): the candidate pool kept across calls, where the random
    /// policies resume, and whether memory was over maxmemory when the current command began
    /// (its scripts refuse denyoom commands then, as Redis's script_oom).
    let evictionPool: UnsafeMutablePointer<EvictionPool> = {
        let p = UnsafeMutablePointer<EvictionPool>.allocate(capacity: 1)
        p.initialize(to: EvictionPool())
        return p
    }()
    var evictionNextDB = 0
    /// maxmemory-clients in bytes (0: off) and the memory of the clients it applies to
    /// (ClientEviction.swift).
    var clientEvictionLimit = 0
    var clientsMemory = 0
    /// The total at which the last eviction pass found nothing more to evict.
    var clientEvictionNothingAt = -1
    /// Bytes the deletions of the current eviction step released (Eviction.swift).
    var evictionFreedBytes = 0
    var preCommandOutOfMemory = false
    var pausedClientsWaiting = 0

    // Commands
    let commands: CommandRegistry
    /// TLS contexts, listeners and buffered input (Security/TLS.swift).
    var tls = TLSState()
    /// ACL users and log (Security/), and the users compiled for the per-command check.
    var acl = ACLState()
    let aclCompiled: UnsafeMutablePointer<ACLCompiledUsers> = {
        let p = UnsafeMutablePointer<ACLCompiledUsers>.allocate(capacity: 1)
        p.initialize(to: ACLCompiledUsers())
        return p
    }()
    var stats = ServerStats()
    var errorStats: [String: Int64] = [:]
    var slowlog: [SlowlogEntry] = []
    var slowlogNextID: Int64 = 0

    // Time
    var startMillis: Int64
    var startMonotonicMicros: Int64
    /// Unix ms at the start of the current command: every expiry decision in one command
    /// sees the same "now".
    var commandTimeMillis: Int64 = 0
    /// Seconds clock for LRU stamps (OBJECT IDLETIME), refreshed by the cron.
    var lruClock: UInt32 = 0
    /// oom-score-adj (ProcessTuning.swift).
    var oom = OOMScoreState()
    /// The memory `ps` shows (set-proc-title), claimed by main; the executable as it was run.
    public var processTitle: ProcessTitle? = nil
    public var executableName = ""
    var nextCronMillis: Int64 = 0
    /// This turn of the loop (coarse monotonic ms, read once per epoll_wait) and the wall
    /// clock's offset from it (refreshed every cron tick): a client's last interaction is
    /// their sum, so reading a client costs no clock read of its own (issue 20).
    var turnMillis: Int64 = 0
    var wallOffsetMillis: Int64 = 0
    /// The clock commands are timed with (Platform/CycleClock.swift), re-anchored with the
    /// wall offset every cron tick.
    var commandClock = CycleClock()
    /// Milliseconds until the nearest blocked-client timeout, -1 when none.
    var nextBlockTimeoutMillis: Int64 = -1
    var cronLoops: Int64 = 0

    // State
    var runID: String
    var pauseEndMillis: Int64 = 0
    /// 0 no pause, 1 WRITE, 2 ALL.
    var pauseMode = 0
    var activeExpireEnabled = true
    /// pid of a fork child (RDB, later), -1 when none. Pauses rehashing while set.
    var childPID: Int32 = -1
    var dirty: Int64 = 0
    var lastSaveTime: Int64
    var persistence = PersistenceState()
    /// The append-only file (AppendOnly/).
    var aof = AOFState()
    var shutdownRequested = false
    /// A shutdown waiting for replicas to catch up (Shutdown.swift).
    var pendingShutdown: PendingShutdown? = nil
    var shutdownExitCode: Int32 = 0
    var memoryPeak = 0
    /// DEBUG REPLYBUFFER: how often a client's reply-buffer peak restarts (ms, -1 never), and
    /// whether buffers are resized at all.
    var replyBufferPeakResetMillis: Int64 = 5000
    var replyBufferResizing = true
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE accepts payloads with a wrong CRC.
    var skipChecksumValidation = false
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call commands flagged noscript (tests).
    var scriptDenyDisabled = false
    /// total_error_replies when the last command finished: a command fails (failed_calls) only
    /// by errors after that, so EXEC is not blamed for its queued commands' errors.
    var errorsAttributed: Int64 = 0
    /// Error replies of the running command that were counted earlier (a script passing on a
    /// command's error): each still counts as a failed call (Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE).
    var failedWithoutErrorStats = 0
    /// MIGRATE's cached connections by "host:port" (MigrateCommand.swift).
    var migrateSockets: [String: MigrateSocket] = [:]
    /// DEBUG PAUSE-CRON: the periodic tasks stop until it is cleared.
    var cronPaused = false
    /// LATENCY's spikes by event (LatencyMonitor.swift).
    var latency = LatencyMonitor()
    /// Cluster mode (Cluster/): the nodes, the slots, nodes.conf.
    var cluster = ClusterState()

    public init(config: LoadedConfig, executable: String) throws(SystemError) {
        settings = config.settings
        configPath = config.path
        Self.exitOnPanic = settings.useExitOnPanic
        self.executable = executable
        dbCount = settings.databases
        let seed = Self.randomSeed()
        dbs = .allocate(capacity: dbCount)
        for i in 0..<dbCount { (dbs + i).initialize(to: Database(id: i, seed: seed)) }
        loop = try EventLoop()
        clientsCapacity = 1024
        clientsByFD = .allocate(capacity: clientsCapacity)
        clientsByFD.initialize(repeating: nil, count: clientsCapacity)
        pendingCapacity = 256
        pendingWrites = .allocate(capacity: pendingCapacity)
        var registry = CommandRegistry()
        for r in config.settings.renamedCommands { _ = registry.rename(r.name, to: r.newName) }
        commands = registry
        startMillis = Clock.unixMillis()
        startMonotonicMicros = Clock.monotonicMicros()
        lastSaveTime = startMillis / 1000
        runID = Self.randomHex(40)
        repl = ReplicationState(replID: Self.randomHex(40))
        lruClock = UInt32(truncatingIfNeeded: startMillis / 1000)
    }

    static func randomSeed() -> UInt64 {
        var v: UInt64 = 0
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = read(fd, &v, 8)
            close(fd)
        }
        return v ^ UInt64(bitPattern: Clock.monotonicMicros())
    }

    static func randomHex(_ n: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: n / 2)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = read(fd, &bytes, bytes.count)
            close(fd)
        }
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    @inline(__always)
    func db(_ i: Int) -> UnsafeMutablePointer<Database> { dbs + i }

    // MARK: - Listening

    /// Opens every `bind` address on `port` (and the Unix socket). Addresses prefixed with
    /// "-" are optional: failing to bind them is not fatal, as in Redis.
    public mutating func listen() throws(SystemError) {
        // The Unix socket first: a client that sees the TCP port answer finds it there too.
        if !settings.unixSocket.isEmpty {
            let fd = try Socket.listenUnix(path: settings.unixSocket, perm: mode_t(settings.unixSocketPerm),
                                           backlog: Int32(settings.tcpBacklog))
            try loop.add(fd, events: EventLoop.readable, token: Self.listenerToken(fd))
            unixListener = fd
        }
        try listenTCP()
    }

    /// The TCP listeners of `bind` on `port` (none for an empty bind or port 0).
    mutating func listenTCP() throws(SystemError) {
        if settings.port != 0 {
            for address in settings.bind {
                let optional = address.hasPrefix("-")
                let host = optional ? String(address.dropFirst()) : address
                do {
                    let fd = try Socket.listenTCP(host: host, port: settings.port, backlog: Int32(settings.tcpBacklog))
                    applySocketMark(fd)
                    try loop.add(fd, events: EventLoop.readable, token: Self.listenerToken(fd))
                    listeners.append(fd)
                } catch {
                    if optional || error.errno == EAFNOSUPPORT || error.errno == EADDRNOTAVAIL && optional { continue }
                    Log.warning("Warning: Could not create server TCP listening socket \(host):\(settings.port): \(error.message)")
                    throw error
                }
            }
        }
    }

    /// socket-mark-id: the listening sockets (and so the connections they accept) carry this
    /// firewall mark (SO_MARK, needs CAP_NET_ADMIN), as in Redis 7.0.
    func applySocketMark(_ fd: Int32) {
        guard let mark = Int32(exactly: Int(settings.storedValue("socket-mark-id")) ?? 0), mark != 0 else { return }
        if tandem_set_int_option(fd, SOL_SOCKET, 36 /* SO_MARK */, mark) != 0 {
            Log.warning("Failed to set socket mark id \(mark): \(String(cString: strerror(errno)))")
        }
    }

    static let listenerBit: UInt64 = 1 << 40

    @inline(__always)
    static func listenerToken(_ fd: Int32) -> UInt64 { listenerBit | UInt64(UInt32(bitPattern: fd)) }

    /// Closes the TCP listeners and reopens them on `port` and `bind` (CONFIG SET port / bind),
    /// the TLS port's too. False when one could not be opened; the new ones are closed again then.
    mutating func rebind() -> Bool {
        closeTCPListeners()
        do {
            try listenTCP()
            try listenTLS()
            return true
        } catch {
            closeTCPListeners()
            return false
        }
    }

    mutating func closeTCPListeners() {
        for fd in listeners {
            loop.remove(fd)
            Socket.close(fd)
        }
        listeners = []
    }

    // MARK: - The loop

    /// Runs until SHUTDOWN or a termination signal. Returns the process exit code.
    /// The cron's timer counts from the turn's coarse monotonic time (a tick of a few
    /// milliseconds, read once per epoll_wait in handleReadyEvents): two precise reads per turn
    /// were ~100 of a request's ~2,500 instructions (issue 20), and a cron of hz 10 does not
    /// care about 4 ms. (Measured from the turn's start, the wait can be late by the time the
    /// turn took, as Redis's, which reads the clock before its beforeSleep.)
    public mutating func run() -> Int32 {
        nextCronMillis = Clock.monotonicMillisCoarse()
        refreshWallOffset()
        refreshClientEvictionLimit()
        while !shutdownRequested {
            beforeSleep()
            var wait = max(0, nextCronMillis - turnMillis)
            if nextBlockTimeoutMillis >= 0 { wait = min(wait, nextBlockTimeoutMillis) }
            handleReadyEvents(loop.wait(timeoutMillis: Int32(min(wait, 1000))))
            if turnMillis >= nextCronMillis {
                cron()
                refreshWallOffset()  // (reads the clock: turnMillis is after the cron now)
                nextCronMillis = turnMillis + Int64(1000 / max(1, min(500, settings.hz)))
            }
        }
        beforeSleep()
        return finishShutdown()
    }

    /// The wall clock against the loop's coarse monotonic one (see turnMillis).
    mutating func refreshWallOffset() {
        turnMillis = Clock.monotonicMillisCoarse()
        wallOffsetMillis = Clock.unixMillis() - turnMillis
        commandClock.tick()
    }

    /// The wall clock in ms as of this turn of the loop (a client's last interaction).
    var turnWallMillis: Int64 { turnMillis + wallOffsetMillis }

    /// Routes the `n` events epoll reported: a listener accepts, the replica link's snapshot
    /// socket reads its payload, a client reads or writes.
    mutating func handleReadyEvents(_ n: Int) {
        // (Here, so that the loops that run events while loading or while a script is busy
        // keep the turn's time current too.)
        turnMillis = Clock.monotonicMillisCoarse()
        for i in 0..<n {
            let token = loop.readyTokens[i]
            let events = loop.readyEvents[i]
            if token & Self.listenerBit != 0 {
                acceptClients(Int32(truncatingIfNeeded: token & 0xFFFF_FFFF))
            } else if token & Self.linkBit != 0 {
                linkEvent(events)
            } else if token & Self.senderBit != 0 {
                senderWorkerNotified(Int(token & 0xFFFF))
            } else if token & Self.relayBit != 0 {
                relayPayload(Int(token & 0xFFFF))
            } else if token & Self.clusterBit != 0 {
                clusterBusEvent(token, events)
            } else {
                handleClientEvent(fd: Int32(truncatingIfNeeded: token), events: events)
            }
        }
    }

    /// Writes pending replies and frees clients marked for closing.
    mutating func beforeSleep() {
        if !readyKeys.isEmpty { serveReadyKeys() }
        nextBlockTimeoutMillis = handleBlockedTimeouts()
        if repl.getAckPending { requestAcksFromReplicas() }
        if failover.state == .waitingForSync { updateFailoverStatus() }
        // BCAST invalidations go out with this turn's replies (Redis sends them before writing).
        if !tracking.prefixes.isEmpty { broadcastTrackingInvalidations() }
        // The AOF before the replies: an acknowledged write is in the file (appendfsync always:
        // on disk).
        if aof.status != .off { flushAppendOnlyFile(force: false) }
        if !tls.pendingReads.isEmpty { readTLSPending() }
        flushPendingWrites()
        // After the writes (which shrink reply buffers), before closed clients are freed.
        if clientEvictionLimit > 0 { evictClientsIfNeeded() }
        if closeCount > 0 { freeClosingClients() }
        if link.reconnectNow { reconnectIfLinkLost() }
        if repl.wakeWorkers { wakeSenderWorkers() }
        if cluster.enabled { clusterBeforeSleep() }
        let used = tandem_used_memory()
        if used > memoryPeak { memoryPeak = used }
    }

    // MARK: - Shutdown

    /// Removes the pidfile, closes listeners, logs Redis's farewell. Returns the exit code.
    mutating func finishShutdown() -> Int32 {
        if !settings.pidfile.isEmpty {
            Log.notice("Removing the pid file.")
            unlink(settings.pidfile)
        }
        for fd in listeners { Socket.close(fd) }
        for fd in tls.listeners { Socket.close(fd) }
        stopSenderWorkers()
        if unixListener >= 0 {
            Socket.close(unixListener)
            unlink(settings.unixSocket)
        }
        Log.warning("Redis is now ready to exit, bye bye...")
        return shutdownExitCode
    }
}
