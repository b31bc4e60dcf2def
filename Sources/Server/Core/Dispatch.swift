/*
 * Dispatch: from a parsed command to its implementation — Redis's processCommand() and
 * call().
 *
 * Order of checks, as Redis: unknown command, arity, authentication, memory, disk errors
 * (-MISCONF for RDB, then AOF) and replication state, pub/sub context, -LOADING, -BUSY, MULTI
 * queueing, CLIENT PAUSE, then the call itself, timed for INFO commandstats and the slow log, and
 * echoed to MONITOR clients. A rejected command counts as `rejected_calls`; one that ran and
 * replied with an error counts as `failed_calls`.
 *
 * Error replies go through `addError*` so that `total_error_replies` and INFO errorstats
 * (keyed by the first word: ERR, WRONGTYPE, ...) stay exact.
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

extension Server {
    /// Executes the command in `c.argv`. Returns false when the command must wait (the
    /// client is paused) and stays in the query buffer. (Inlined into its two callers.)
    @inline(__always)
    mutating func processCommand(_ c: ClientRef) -> Bool {
        let replyMark = c.pointee.reply.count
        let errorsBefore = stats.errorReplies
        // A client that is a replica already (not the one whose SYNC made it one).
        let fromReplica = c.pointee.isReplica
        let ran = dispatchCommand(c)
        // ASKING is good for the next command only (a transaction keeps it until EXEC).
        if ran && c.pointee.flags.contains(.asking) && !c.pointee.flags.contains(.multi)
            && (c.pointee.lastCommand < 0 || commands.specs[c.pointee.lastCommand].id != .asking)
        {
            c.pointee.flags.remove(.asking)
        }
        if ran && stats.errorReplies != errorsBefore && (c.pointee.isMaster || fromReplica) {
            logErrorOnReplicationLink(c, mark: replyMark)
        }
        if ran && c.pointee.flags.rawValue & (ClientFlags.replyOff.rawValue | ClientFlags.replySkip.rawValue
            | ClientFlags.replySkipNext.rawValue) != 0
        {
            applyReplySilence(c, mark: replyMark)
        }
        // (REPLCONF ACK has no reply, but the first one starts the stream into this buffer.)
        if ran && fromReplica && c.pointee.reply.count > replyMark
            && (c.pointee.lastCommand < 0 || commands.specs[c.pointee.lastCommand].id != .replconf)
        {
            dropReplyingReplica(c, mark: replyMark)
        }
        return ran
    }

    // MARK: - Replies on a replication link

    /// The name Redis logs for the client's last command ("slowlog|get"), or "<unknown>".
    func lastCommandName(_ c: ClientRef) -> String {
        let i = c.pointee.lastCommand
        return i >= 0 && i < commands.count ? commands.specs[i].nameString : "<unknown>"
    }

    /// An error on the replication link means the two nodes' datasets may differ: Redis logs it
    /// as critical and counts it in unexpected_error_replies (the reply itself never reaches the
    /// master; a replica that gets one is being dropped, below).
    mutating func logErrorOnReplicationLink(_ c: ClientRef, mark: Int) {
        var n = 0
        let start = c.pointee.reply.base + mark
        while mark + n < c.pointee.reply.count && start[n] != 13 && n < 4096 { n += 1 }
        let text = n > 1 ? ByteView(start + 1, n - 1).string : ""
        let (from, to) = c.pointee.isMaster ? ("replica", "master") : ("master", "replica")
        Log.warning("== CRITICAL == This \(from) is sending an error to its \(to): '\(text)' after processing the command '\(lastCommandName(c))'")
        stats.unexpectedErrorReplies += 1
        // propagation-error-behavior panic / panic-on-replicas: a read-only replica stops rather
        // than go on with a dataset that may differ from its master's.
        if c.pointee.isMaster && settings.replicaReadOnly && settings.propagationErrorBehavior != "ignore" {
            Self.panic("This \(from) panicked sending an error to its \(to) after processing the command '\(lastCommandName(c))'")
        }
    }

    /// A replica's connection carries the stream only: a command of its that produced a reply
    /// (a rogue or confused client that sent SYNC) gets the connection closed instead, so the
    /// reply never mixes into the stream (Redis's _addReplyToBufferOrList).
    mutating func dropReplyingReplica(_ c: ClientRef, mark: Int) {
        c.pointee.reply.count = mark
        if c.pointee.flags.contains(.closeASAP) { return }
        Log.warning("Replica generated a reply to command '\(lastCommandName(c))', disconnecting it: \(clientDescription(c))")
        markClosing(c)
    }

    /// Checks and runs one command; see the order at the top of the file.
    mutating func dispatchCommand(_ c: ClientRef) -> Bool {
        let name = c.pointee.arg(0)
        var index = commands.find(name)
        // "config|get" is not a command name clients may send (Redis: unknown command).
        if index < 0 || commands.isSubcommandEntry[index] {
            c.pointee.lastCommand = -1
            rejectUnknownCommand(c)
            flagTransaction(c)
            return true
        }
        if commands.hasSubcommands[index] && c.pointee.argc >= 2 {
            let sub = commands.findSubcommand(parent: index, c.pointee.arg(1))
            if sub >= 0 {
                index = sub
            } else if commands.specs[index].flags.contains(.container) || commands.specs[index].id == .command {
                let subName = c.pointee.arg(1).string
                let upper = commands.specs[index].nameString.uppercased()
                return reject(c, index, "ERR unknown subcommand '\(subName.prefix(128))'. Try \(upper) HELP.")
            }
        }
        let spec = commands.specs + index
        c.pointee.lastCommand = index
        let arity = spec.pointee.arity
        if (arity > 0 && c.pointee.argc != arity) || c.pointee.argc < -arity {
            return reject(c, index, "ERR wrong number of arguments for '\(spec.pointee.nameString)' command")
        }
        // Authentication and ACLs: one byte for the default user with no password (AccessControl.swift).
        if c.pointee.checkAccess && !passesAccessChecks(c, index) { return true }
        // Cluster mode: the keys' slot decides where the command runs (ClusterRouting.swift).
        if cluster.enabled && !c.pointee.isMaster, let redirect = clusterRedirection(c, index) {
            return rejectRedirected(c, index, redirect)
        }
        if clientEvictionLimit > 0 {
            // Before key eviction, as Redis: the clients' memory may be over maxmemory-clients
            // (this one's query buffer included); a client evicted here runs nothing more.
            updateClientMemory(c)
            evictClientsIfNeeded()
            if c.pointee.flags.contains(.closeASAP) { return false }
        }
        if settings.maxmemory > 0 {
            if !scriptTimedOut && refusedForMemory(c, spec) { return reject(c, index, Self.oomError) }
        } else if tandem_expand_limit() != 0 {
            tandem_set_expand_limit(0)
        }
        if tracking.clients > 0 { trackingLimitUsedSlots() }
        if let refusal = replicationStateRefusal(c, spec) { return reject(c, index, refusal) }
        if aof.status != .off, let refusal = aofDiskErrorRefusal(c, spec) { return reject(c, index, refusal) }
        if c.pointee.isReplica && (spec.pointee.flags.contains(.write) || spec.pointee.flags.contains(.readonly)
            || spec.pointee.id == .publish || spec.pointee.id == .spublish)
        {
            return reject(c, index, "-ERR Replica can't interact with the keyspace\r\n" as StaticString)
        }
        if c.pointee.flags.contains(.pubsub) && !c.pointee.resp3 && !allowedWhileSubscribed(spec.pointee.id) {
            return reject(c, index, "ERR Can't execute '\(spec.pointee.nameString)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        }
        if persistence.loading
            && (persistence.asyncLoading ? spec.pointee.flags.contains(.noAsyncLoading) : !spec.pointee.flags.contains(.loading))
        {
            return reject(c, index, "-LOADING Redis is loading the dataset in memory\r\n" as StaticString)
        }
        // After -LOADING, as Redis orders them: a slow script replayed from the AOF answers
        // -LOADING, a client's slow script -BUSY.
        if scriptTimedOut && !spec.pointee.flags.contains(.allowBusy) && !c.pointee.isMaster {
            return reject(c, index, busyError)
        }
        if c.pointee.flags.contains(.multi) && queueIfInMulti(c, index) { return true }
        if pauseMode != 0 && mustHold(c, spec) {
            c.pointee.flags.insert(.pausedInput)
            pausedClientsWaiting += 1
            return false
        }
        call(c, index)
        return true
    }

    /// A command cluster routing sends elsewhere (-MOVED, -ASK ...): counted as rejected; an
    /// EXEC's transaction is discarded and the redirection itself is the reply, as Redis.
    mutating func rejectRedirected(_ c: ClientRef, _ index: Int, _ error: String) -> Bool {
        if commands.specs[index].id == .exec && c.pointee.flags.contains(.multi) { discardTransaction(c) }
        addErrorString(c, error)
        commands.stats[index].rejected += 1
        flagTransaction(c)
        return true
    }

    /// maxmemory before a command (Redis's processCommand): evict what the policy allows; if
    /// memory is still over, refuse a denyoom command, an EXEC of queued ones, and anything
    /// but EXEC/DISCARD/QUIT/RESET inside MULTI (queuing grows memory). The state is kept for
    /// the scripts the command may run.
    mutating func refusedForMemory(_ c: ClientRef, _ spec: UnsafeMutablePointer<CommandSpec>) -> Bool {
        let outOfMemory = !performEvictions()
        preCommandOutOfMemory = outOfMemory
        if !outOfMemory || c.pointee.isMaster { return false }
        let id = spec.pointee.id
        if spec.pointee.flags.contains(.denyoom) || (id == .exec && c.pointee.multiQueuedDenyOOM) { return true }
        if c.pointee.flags.contains(.multi) && id != .exec && id != .discard && id != .quit && id != .reset { return true }
        return false
    }

    /// Refuses a command the node's persistence or replication state forbids, with Redis's
    /// error: -MISCONF after a failed save, -READONLY on a replica, -NOREPLICAS without enough
    /// good replicas, -MASTERDOWN while stale data may not be served. nil: go on.
    /// `mutating` although it changes nothing: called as a plain method from dispatchCommand,
    /// Swift copied the whole Server struct (3.6 KB, ~375 instructions) to the stack for it on
    /// every command (issue 20's profile); an inout self is passed by address.
    /// Only a failed bgsave, a replica or min-replicas-to-write can refuse: testing those three
    /// is all a master with none of them pays (the full check was ~50 instructions a command).
    @inline(__always)
    mutating func replicationStateRefusal(_ c: ClientRef, _ spec: UnsafeMutablePointer<CommandSpec>) -> StaticString? {
        guard !persistence.lastBgsaveOK || link.state != .none || settings.minReplicasToWrite > 0 else { return nil }
        return replicationStateRefusalChecked(c, spec)
    }

    mutating func replicationStateRefusalChecked(_ c: ClientRef, _ spec: UnsafeMutablePointer<CommandSpec>) -> StaticString? {
        let flags = spec.pointee.flags
        // EXEC stands for what it queued (Redis's mstate.cmd_flags / cmd_inv_flags).
        let exec = spec.pointee.id == .exec && c.pointee.flags.contains(.multi)
        let write = flags.contains(.write) || (exec && c.pointee.multiQueuedWrite)
        let stale = flags.contains(.stale) && !(exec && c.pointee.multiQueuedNonStale)
        if refusesWritesAfterSaveError && (write || spec.pointee.id == .ping) {
            if !c.pointee.isMaster { return Self.misconfError }
            if write { masterWriteDespiteDiskError() }
        }
        if isReplicaNode {
            if c.pointee.isMaster { return nil }
            if settings.replicaReadOnly && write { return "-READONLY You can't write against a read only replica.\r\n" }
            if link.state != .connected && !settings.replicaServeStaleData && !stale {
                return "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
            }
        } else if write && settings.minReplicasToWrite > 0 && settings.minReplicasMaxLag > 0
            && goodReplicaCount() < settings.minReplicasToWrite
        {
            return "-NOREPLICAS Not enough good replicas to write.\r\n"
        }
        return nil
    }

    /// -MISCONF while the AOF cannot be written (after the RDB's check, as Redis orders them).
    mutating func aofDiskErrorRefusal(_ c: ClientRef, _ spec: UnsafeMutablePointer<CommandSpec>) -> String? {
        let exec = spec.pointee.id == .exec && c.pointee.flags.contains(.multi)
        let write = spec.pointee.flags.contains(.write) || (exec && c.pointee.multiQueuedWrite)
        guard write || spec.pointee.id == .ping, let refusal = aofWriteRefusal() else { return nil }
        if c.pointee.isMaster {
            if write { masterWriteDespiteDiskError() }
            return nil
        }
        return refusal
    }

    /// The master's stream writes while this replica cannot save: with
    /// replica-ignore-disk-write-errors no (the default) the replica stops, as Redis's does,
    /// rather than diverge from what it could persist; with yes it says so every 10 seconds.
    func masterWriteDespiteDiskError() {
        if settings.storedValue("replica-ignore-disk-write-errors") == "no" {
            Self.panic("Replica was unable to write command to disk.")
        }
        let now = Clock.unixMillis()
        if now > Self.lastDiskErrorLogMillis + 10_000 {
            Self.lastDiskErrorLogMillis = now
            Log.warning("Replica is applying a command even though it is unable to write to disk.")
        }
    }

    nonisolated(unsafe) static var lastDiskErrorLogMillis: Int64 = 0

    /// Logs a fatal condition as Redis's serverPanic does and stops the process (a crash
    /// report follows), or exits with status 1 under use-exit-on-panic.
    static func panic(_ message: String) -> Never {
        Log.warning("------------------------------------------------")
        Log.warning("!!! Software Failure. Press left mouse button to continue")
        Log.warning("Guru Meditation: \(message)")
        Log.warning("------------------------------------------------")
        if exitOnPanic { exit(1) }
        abort()
    }

    /// use-exit-on-panic, copied where `panic` (static) can read it.
    nonisolated(unsafe) static var exitOnPanic = false

    /// Answers `error` instead of running the command (counted as rejected; aborts a MULTI).
    @inline(__always)
    mutating func reject(_ c: ClientRef, _ index: Int, _ error: StaticString) -> Bool {
        if commands.specs[index].id == .exec && c.pointee.flags.contains(.multi) {
            return rejectExec(c, index, String(error.description.dropFirst().dropLast(2)))
        }
        addError(c, error)
        commands.stats[index].rejected += 1
        flagTransaction(c)
        return true
    }

    mutating func reject(_ c: ClientRef, _ index: Int, _ error: String) -> Bool {
        if commands.specs[index].id == .exec && c.pointee.flags.contains(.multi) { return rejectExec(c, index, error) }
        addErrorString(c, error)
        commands.stats[index].rejected += 1
        flagTransaction(c)
        return true
    }

    /// An EXEC refused before it runs (busy script, OOM, LOADING ...) ends the transaction, as
    /// Redis's execCommandAbort: the queued commands are dropped and the error names the cause.
    mutating func rejectExec(_ c: ClientRef, _ index: Int, _ error: String) -> Bool {
        commands.stats[index].rejected += 1
        discardTransaction(c)
        let cause = error.hasPrefix("-") ? String(error.dropFirst()) : error
        addErrorString(c, "EXECABORT Transaction discarded because of: \(cause)")
        return true
    }

    static let misconfError: StaticString = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n"

    @inline(__always)
    func flagTransaction(_ c: ClientRef) {
        if c.pointee.flags.contains(.multi) { c.pointee.flags.insert(.dirtyExec) }
    }

    static func repliesWithPushes(_ id: CommandID) -> Bool {
        switch id {
        case .subscribe, .unsubscribe, .psubscribe, .punsubscribe, .ssubscribe, .sunsubscribe: return true
        default: return false
        }
    }

    func allowedWhileSubscribed(_ id: CommandID) -> Bool {
        switch id {
        case .ping, .subscribe, .unsubscribe, .psubscribe, .punsubscribe, .ssubscribe, .sunsubscribe, .quit, .reset:
            return true
        default: return false
        }
    }

    /// True when CLIENT PAUSE applies to this command. (`mutating`: see replicationStateRefusal.)
    mutating func mustHold(_ c: ClientRef, _ spec: UnsafeMutablePointer<CommandSpec>) -> Bool {
        if Clock.unixMillis() >= pauseEndMillis { return false }
        if pauseMode == 2 { return true }
        let id = spec.pointee.id
        return mayWriteOrReplicate(c, id, spec.pointee.flags) || (id == .exec && c.pointee.multiQueuedWrite)
    }

    /// Redis 7.0's may-replicate commands: they reach replicas without writing keys, so
    /// CLIENT PAUSE WRITE holds them too.
    static func mayReplicate(_ id: CommandID) -> Bool {
        switch id {
        case .publish, .spublish, .scripting(.scriptFlush), .scripting(.functionFlush), .hyperloglog(.pfcount): return true
        default: return false
        }
    }

    @inline(__always)
    mutating func call(_ c: ClientRef, _ index: Int) {
        let errorsBefore = stats.errorReplies
        // One wall-clock read gives the command's time and its start, as Redis's call() takes
        // one ustime() for both; from the cycle counter (CycleClock: ~8 instructions where
        // clock_gettime was ~50, issue 20's profile).
        let start = commandClock.unixMicros()
        // The time of the outermost command: EXEC's and a script's commands share it.
        if !inExec && callDepth == 0 { commandTimeMillis = start / 1000 }
        let dirtyBefore = dirty
        let db = c.pointee.db
        c.pointee.flags.insert(.executing)
        c.pointee.lastCommand = index
        servingMaster = c.pointee.isMaster
        if settings.replicaOf != nil {
            replicaClientWrite = !c.pointee.isMaster && !settings.replicaReadOnly
                && commands.specs[index].flags.contains(.write)
        }
        let outermost = callDepth == 0
        if outermost { commandClient = c }
        callDepth += 1
        execute(c, commands.specs[index].id)
        if tracking.clients > 0 && commands.specs[index].flags.contains(.readonly) { trackingRememberKeys(c, index) }
        if replicaClientWrite {
            rememberReplicaLocalExpires(c, index)
            replicaClientWrite = false
        }
        servingMaster = false
        c.pointee.flags.remove(.executing)
        if propagationEnabled {
            let offsetBefore = repl.offset
            finishPropagation(c, index, db: db, dirtyBefore: dirtyBefore)
            if callDepth == 1 { closePropagationBatch(wrap: !commands.specs[index].flags.contains(.readonly)) }
            if repl.offset != offsetBefore { c.pointee.writeOffset = repl.offset }
        }
        callDepth -= 1
        if outermost {
            commandClient = nil
            if !tracking.pending.isEmpty { flushTrackingPending(c) }
            checkOutputLimits(c)
            // CLIENT CACHING applies to the next command only (kept through MULTI and by CLIENT's
            // own subcommands, as Redis's resetClient).
            if c.pointee.tracking.flags.contains(.caching) && !c.pointee.flags.contains(.multi)
                && !commands.specs[index].nameString.hasPrefix("client|") {
                c.pointee.tracking.flags.remove(.caching)
            }
        }
        let duration = max(0, commandClock.unixMicros() - start)  // (a wall-clock step back counts as 0)
        if settings.latencyMonitorThreshold > 0 {
            let event = commands.specs[index].flags.contains(.fast) ? "fast-command" : "command"
            addLatencySampleIfNeeded(event, milliseconds: duration / 1000)
        }
        if c.pointee.flags.contains(.blocked) || servingBlockedClient {
            // A blocking command is counted once, when it is answered (countUnblockedCall).
            c.pointee.block.micros += duration
        } else {
            // Errors of commands nested in this one (EXEC's) were counted against them already.
            let failed = stats.errorReplies > max(errorsBefore, errorsAttributed)
            errorsAttributed = stats.errorReplies
            countCall(index, micros: duration, failed: failed)
            // Each error reply counted earlier (a script passing on a command's error) is one
            // more failure, as Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE.
            if failedWithoutErrorStats > 0 {
                commands.stats[index].failed += Int64(failedWithoutErrorStats)
                failedWithoutErrorStats = 0
            }
            if isSlow(duration) { recordSlow(c, index, duration) }
        }
        // A blocked command's re-runs are not new commands.
        if servingBlockedClient { return }
        stats.commandsProcessed += 1
        c.pointee.totalCommands += 1
        if monitorCount > 0 { feedMonitors(c, index) }
    }

    /// slowlog-log-slower-than: a negative value logs nothing, 0 everything.
    @inline(__always)
    func isSlow(_ micros: Int64) -> Bool {
        settings.slowlogLogSlowerThan >= 0 && micros >= settings.slowlogLogSlowerThan
    }

    /// INFO commandstats and latencystats for one answered call.
    @inline(__always)
    mutating func countCall(_ index: Int, micros: Int64, failed: Bool) {
        let st = commands.stats + index
        st.pointee.calls += 1
        st.pointee.microseconds += micros
        if failed { st.pointee.failed += 1 }
        if settings.latencyTracking { commands.recordLatency(index, micros: micros) }
    }

    /// A blocked command was answered (served, timed out, unblocked): it counts as one call
    /// taking the time its runs took, as Redis's updateStatsOnUnblock.
    mutating func countUnblockedCall(_ c: ClientRef, failed: Bool) {
        let index = c.pointee.block.commandIndex
        if index < 0 || index >= commands.count { return }
        countCall(index, micros: c.pointee.block.micros, failed: failed)
        if isSlow(c.pointee.block.micros) {
            // Logged with the blocked command's own arguments, held since it blocked.
            let load = c.pointee.argc == 0
            if load { c.pointee.argc = c.pointee.block.command.load(at: 0, into: &c.pointee.argv, capacity: &c.pointee.argvCapacity) }
            recordSlow(c, index, c.pointee.block.micros)
            if load { c.pointee.argc = 0 }
        }
    }

    /// CLIENT REPLY OFF/SKIP: drop what the command produced — except subscription
    /// confirmations, which Redis 7.0 delivers whatever the reply mode (its CLIENT_PUSHING).
    mutating func applyReplySilence(_ c: ClientRef, mark: Int) {
        let pushOnly = c.pointee.lastCommand >= 0
            && Self.repliesWithPushes(commands.specs[c.pointee.lastCommand].id)
        if (c.pointee.flags.contains(.replyOff) || c.pointee.flags.contains(.replySkip)) && !pushOnly {
            if c.pointee.reply.count > mark { c.pointee.reply.count = mark }
        }
        if c.pointee.flags.contains(.replySkip) { c.pointee.flags.remove(.replySkip) }
        if c.pointee.flags.contains(.replySkipNext) {
            c.pointee.flags.remove(.replySkipNext)
            c.pointee.flags.insert(.replySkip)
        }
    }

    /// The one switch from command ids to implementations.
    mutating func execute(_ c: ClientRef, _ id: CommandID) {
        switch id {
        // Strings
        case .get: getCommand(c)
        case .set: setCommand(c)
        case .setnx: setnxCommand(c)
        case .setex: setexCommand(c, unitMillis: false)
        case .psetex: setexCommand(c, unitMillis: true)
        case .getset: getsetCommand(c)
        case .getdel: getdelCommand(c)
        case .getex: getexCommand(c)
        case .mget: mgetCommand(c)
        case .mset: msetCommand(c, onlyIfNoneExist: false)
        case .msetnx: msetCommand(c, onlyIfNoneExist: true)
        case .append: appendCommand(c)
        case .strlen: strlenCommand(c)
        case .getrange, .substr: getrangeCommand(c)
        case .setrange: setrangeCommand(c)
        case .incr: incrCommand(c, by: 1)
        case .decr: incrCommand(c, by: -1)
        case .incrby: incrbyCommand(c, negate: false)
        case .decrby: incrbyCommand(c, negate: true)
        case .incrbyfloat: incrbyfloatCommand(c)
        case .lcs: lcsCommand(c)
        // Keys
        case .del: delCommand(c, unlink: false)
        case .unlink: delCommand(c, unlink: true)
        case .exists: existsCommand(c)
        case .type: typeCommand(c)
        case .rename: renameCommand(c, onlyIfAbsent: false)
        case .renamenx: renameCommand(c, onlyIfAbsent: true)
        case .keys: keysCommand(c)
        case .scan: scanCommand(c)
        case .randomkey: randomkeyCommand(c)
        case .expire: expireCommand(c, unitMillis: false, absolute: false)
        case .pexpire: expireCommand(c, unitMillis: true, absolute: false)
        case .expireat: expireCommand(c, unitMillis: false, absolute: true)
        case .pexpireat: expireCommand(c, unitMillis: true, absolute: true)
        case .ttl: ttlCommand(c, unitMillis: false, absolute: false)
        case .pttl: ttlCommand(c, unitMillis: true, absolute: false)
        case .expiretime: ttlCommand(c, unitMillis: false, absolute: true)
        case .pexpiretime: ttlCommand(c, unitMillis: true, absolute: true)
        case .persist: persistCommand(c)
        case .move: moveCommand(c)
        case .copy: copyCommand(c)
        case .touch: touchCommand(c)
        case .objectEncoding, .objectRefcount, .objectIdletime, .objectFreq: objectCommand(c, id)
        case .objectHelp: objectHelpCommand(c)
        // Connection
        case .ping: pingCommand(c)
        case .echo: c.pointee.reply.appendBulk(c.pointee.arg(1))
        case .quit: quitCommand(c)
        case .select: selectCommand(c)
        case .auth: authCommand(c)
        case .hello: helloCommand(c)
        case .reset: resetCommand(c)
        case .readonly, .readwrite, .asking: clusterClientFlagCommand(c, id)
        case .cluster(let sub): clusterCommand(c, sub)
        case .clientID, .clientSetname, .clientGetname, .clientList, .clientInfo, .clientKill, .clientPause,
            .clientUnpause, .clientNoEvict, .clientReply, .clientHelp, .clientUnblock, .clientTrackinginfo, .clientGetredir,
            .clientTracking, .clientCaching:
            clientCommand(c, id)
        // Server
        case .dbsize: c.pointee.reply.appendInteger(Int64(dbs[c.pointee.db].count))
        case .flushdb: flushCommand(c, all: false)
        case .flushall: flushCommand(c, all: true)
        case .time: timeCommand(c)
        case .swapdb: swapdbCommand(c)
        case .shutdown: shutdownCommand(c)
        case .monitor: monitorCommand(c)
        case .info: infoCommand(c)
        case .debug: debugCommand(c)
        case .lastsave: c.pointee.reply.appendInteger(lastSaveTime)
        case .replconf: replconfCommand(c)
        case .wait: waitCommand(c)
        case .role: roleCommand(c)
        case .replicaof: replicaofCommand(c)
        case .failover: failoverCommand(c)
        case .psync: syncCommand(c, psync: true)
        case .sync: syncCommand(c, psync: false)
        case .save: saveCommand(c)
        case .bgsave: bgsaveCommand(c)
        case .bgrewriteaof: bgrewriteaofCommand(c)
        case .dump: dumpCommand(c)
        case .restore, .restoreAsking: restoreCommand(c)
        case .migrate: migrateCommand(c)
        case .command, .commandCount, .commandInfo, .commandDocs, .commandList, .commandGetkeys, .commandGetkeysandflags,
            .commandHelp:
            commandCommand(c, id)
        case .configGet, .configSet, .configResetstat, .configRewrite, .configHelp: configCommand(c, id)
        case .aclCat, .aclDeluser, .aclDryrun, .aclGenpass, .aclGetuser, .aclHelp, .aclList, .aclLoad, .aclLog, .aclSave,
            .aclSetuser, .aclUsers, .aclWhoami:
            aclCommand(c, id)
        case .slowlogGet, .slowlogLen, .slowlogReset, .slowlogHelp: slowlogCommand(c, id)
        case .latencyLatest, .latencyReset, .latencyHelp, .latencyHistory, .latencyDoctor, .latencyGraph,
            .latencyHistogram:
            latencyCommand(c, id)
        case .moduleList, .moduleLoad, .moduleLoadex, .moduleUnload, .moduleHelp: moduleCommand(c, id)
        case .memoryUsage, .memoryStats, .memoryDoctor, .memoryMallocStats, .memoryPurge, .memoryHelp: memoryCommand(c, id)
        case .multi: multiCommand(c)
        case .exec: execCommand(c)
        case .discard: discardCommand(c)
        case .watch: watchCommand(c)
        case .unwatch: unwatchCommand(c)
        case .subscribe: subscribeCommand(c)
        case .unsubscribe: unsubscribeCommand(c)
        case .psubscribe: psubscribeCommand(c)
        case .punsubscribe: punsubscribeCommand(c)
        case .publish: publishCommand(c)
        case .ssubscribe: ssubscribeCommand(c)
        case .sunsubscribe: sunsubscribeCommand(c)
        case .spublish: spublishCommand(c)
        case .pubsubChannels, .pubsubNumsub, .pubsubNumpat, .pubsubShardchannels, .pubsubShardnumsub, .pubsubHelp:
            pubsubCommand(c, id)
        case .sort: sortCommand(c, readOnly: false)
        case .sortRO: sortCommand(c, readOnly: true)
        case .scripting(let id): scriptingCommand(c, id)
        case .lists(let id): listCommand(c, id)
        case .hashes(let id): hashCommand(c, id)
        case .sets(let id): setTypeCommand(c, id)
        case .sortedSets(let id): zsetCommand(c, id)
        case .streams(let id): streamCommand(c, id)
        case .bitmaps(let id): bitmapCommand(c, id)
        case .geo(let id): geoCommand(c, id)
        case .hyperloglog(let id): hyperloglogCommand(c, id)
        case .container: addError(c, "-ERR unknown subcommand\r\n")
        }
    }

    // MARK: - Errors

    mutating func rejectUnknownCommand(_ c: ClientRef) {
        var args = ""
        var i = 1
        while i < c.pointee.argc && args.utf8.count < 128 {
            let room = 128 - args.utf8.count
            let a = c.pointee.arg(i)
            args += "'" + ByteView(a.base, min(a.count, room)).string + "' "
            i += 1
        }
        let name = c.pointee.arg(0)
        let shown = ByteView(name.base, min(name.count, 128)).string
        addErrorString(c, "ERR unknown command '\(shown)', with args beginning with: \(args)")
    }

    /// Appends `-<message>\r\n`, sanitising newlines as Redis does.
    static func appendError(_ c: ClientRef, _ message: String) {
        var bytes = Array((message.hasPrefix("-") ? message : "-" + message).utf8)
        for i in bytes.indices where bytes[i] == 13 || bytes[i] == 10 { bytes[i] = 32 }
        bytes.withUnsafeBufferPointer { c.pointee.reply.append($0.baseAddress!, $0.count) }
        c.pointee.reply.append("\r\n" as StaticString)
    }

    static func errorCode(_ message: String) -> String {
        let m = message.hasPrefix("-") ? message.dropFirst() : Substring(message)
        return String(m.prefix { $0 != " " })
    }

    /// Sends an error whose full RESP text (with "-" and CRLF) is a constant.
    @inline(__always)
    mutating func addError(_ c: ClientRef, _ resp: StaticString) {
        c.pointee.reply.append(resp)
        countError(ByteView(resp))
    }

    /// Sends `-<message>\r\n` for a message built at run time ("ERR ..." or "WRONGPASS ...").
    mutating func addErrorString(_ c: ClientRef, _ message: String) {
        Self.appendError(c, message)
        stats.errorReplies += 1
        errorStats[Self.errorCode(message), default: 0] += 1
    }

    mutating func countError(_ resp: ByteView) {
        stats.errorReplies += 1
        var n = 1
        while n < resp.count && resp[n] != 32 && resp[n] != 13 { n += 1 }
        let code = ByteView(resp.base + 1, n - 1).string
        errorStats[code, default: 0] += 1
    }

    // MARK: - Common replies

    @inline(__always)
    func addOK(_ c: ClientRef) { c.pointee.reply.append("+OK\r\n" as StaticString) }

    @inline(__always)
    func addNull(_ c: ClientRef) { c.pointee.reply.appendNull(resp3: c.pointee.resp3) }

    @inline(__always)
    mutating func addSyntaxError(_ c: ClientRef) { addError(c, "-ERR syntax error\r\n") }

    @inline(__always)
    mutating func addNotInteger(_ c: ClientRef) { addError(c, "-ERR value is not an integer or out of range\r\n") }

    // MARK: - Slow log and MONITOR

    mutating func recordSlow(_ c: ClientRef, _ index: Int, _ duration: Int64) {
        let spec = commands.specs[index]
        // EXEC is skipped: its commands are logged one by one (Redis's skip-slowlog flag).
        if spec.id == .exec { return }
        let redacted = redactedArguments(c, spec.id)
        var args: [[UInt8]] = []
        let argc = c.pointee.argc
        for i in 0..<min(argc, 32) {
            if i == 31 && argc > 32 {
                args.append(Array("... (\(argc - 31) more arguments)".utf8))
                break
            }
            let a = c.pointee.arg(i)
            if redacted.contains(i) {
                args.append(Array("(redacted)".utf8))
            } else if a.count > 128 {
                args.append(Array(UnsafeBufferPointer(start: a.base, count: 128))
                    + Array("... (\(a.count - 128) more bytes)".utf8))
            } else {
                args.append(a.array)
            }
        }
        slowlog.insert(SlowlogEntry(id: slowlogNextID, time: commandTimeMillis / 1000, durationMicros: duration,
                                    args: args, address: c == scriptClient ? "?:0" : c.pointee.address,
                                    name: c.pointee.nameString), at: 0)
        slowlogNextID += 1
        while slowlog.count > settings.slowlogMaxLen { slowlog.removeLast() }
    }

    /// The arguments MONITOR and SLOWLOG show as "(redacted)", as Redis 7.0: passwords of AUTH,
    /// HELLO ... AUTH, ACL SETUSER's rules, MIGRATE ... AUTH/AUTH2 and the values of CONFIG SET's sensitive configs.
    func redactedArguments(_ c: ClientRef, _ id: CommandID) -> Set<Int> {
        let argc = c.pointee.argc
        var out = Set<Int>()
        switch id {
        case .auth:
            out = Set(1..<max(1, argc))
        case .aclSetuser:
            // Rules may hold passwords: all of them, the user name too, as Redis.
            out = Set(2..<max(2, argc))
        case .hello:
            for i in 1..<max(1, argc) where c.pointee.arg(i).equalsLowercase("auth") {
                out.formUnion([i + 1, i + 2].filter { $0 < argc })
                break
            }
        case .migrate:
            var i = 6
            while i < argc {
                let a = c.pointee.arg(i)
                if a.equalsLowercase("auth") {
                    out.insert(i + 1)
                    i += 1
                } else if a.equalsLowercase("auth2") {
                    out.formUnion([i + 1, i + 2])
                    i += 2
                } else if a.equalsLowercase("keys") {
                    break
                }
                i += 1
            }
        case .configSet:
            var i = 2
            while i + 1 < argc {
                if Self.sensitiveConfigs.contains(c.pointee.arg(i).string.lowercased()) { out.insert(i + 1) }
                i += 2
            }
        default:
            break
        }
        return out
    }

    static let sensitiveConfigs: Set<String> = ["requirepass", "masterauth", "tls-key-file-pass", "tls-client-key-file-pass"]

    /// `force`: EVAL and friends (skip_monitor) show themselves before the commands they run.
    mutating func feedMonitors(_ c: ClientRef, _ index: Int, force: Bool = false) {
        let spec = commands.specs[index]
        if !force && (spec.flags.contains(.admin) || spec.flags.contains(.skipMonitor)) { return }
        let micros = Clock.unixMicros()
        var line = "+\(micros / 1_000_000)."
        let frac = String(micros % 1_000_000)
        line += String(repeating: "0", count: 6 - frac.count) + frac
        let origin = c.pointee.flags.contains(.unixSocket) ? "unix:\(settings.unixSocket)" : c.pointee.address
        line += " [\(c.pointee.db) \(origin)]"
        let redacted = redactedArguments(c, spec.id)
        // EXEC's arguments are gone once its queued commands ran: it shows as its name.
        if c.pointee.argc == 0 { line += " \"\(spec.nameString)\"" }
        for i in 0..<c.pointee.argc {
            line += " " + (redacted.contains(i) ? "\"(redacted)\"" : Self.quotedRepr(c.pointee.arg(i)))
        }
        line += "\r\n"
        for m in monitors where m != c {
            m.pointee.reply.append(line)
            queueWrite(m)
        }
    }

    /// Redis's sdscatrepr: a double-quoted string with C escapes.
    static func quotedRepr(_ v: ByteView) -> String {
        var out = "\""
        for i in 0..<v.count {
            let b = v[i]
            switch b {
            case 92: out += "\\\\"
            case 34: out += "\\\""
            case 10: out += "\\n"
            case 13: out += "\\r"
            case 9: out += "\\t"
            case 7: out += "\\a"
            case 8: out += "\\b"
            default:
                if b >= 32 && b < 127 {
                    out.unicodeScalars.append(Unicode.Scalar(b))
                } else {
                    let hex = Array("0123456789abcdef")
                    out += "\\x" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
                }
            }
        }
        return out + "\""
    }
}
