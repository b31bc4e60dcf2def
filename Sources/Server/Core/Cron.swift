/*
 * Cron: what runs `hz` times a second — Redis's serverCron.
 *
 *  - clocks: the LRU seconds clock;
 *  - signals: a pending SIGTERM/SIGINT starts the shutdown;
 *  - clients: idle `timeout`, shrinking query buffers, the end of CLIENT PAUSE;
 *  - databases: the active expire cycle, shrinking sparse tables, ~1 ms of incremental
 *    rehashing per database (`activerehashing`), all paused for tables while a fork child
 *    exists;
 *  - persistence: reaping a snapshot child, starting BGSAVE at `save` points;
 *  - instantaneous metrics for INFO (ops/sec, kbps), sampled every 100 ms.
 */
import CTandem
import Glibc
import Keyspace
import Platform

extension Server {
    mutating func cron() {
        if cronPaused { return }  // DEBUG PAUSE-CRON
        cronLoops += 1
        let now = Clock.unixMillis()
        lruClock = UInt32(truncatingIfNeeded: now / 1000)
        let sig = tandem_shutdown_signal()
        if sig != 0 && pendingShutdown == nil {
            Log.warning("Received \(sig == SIGINT ? "SIGINT" : "SIGTERM") scheduling shutdown...")
            let how = shutdownOnSignal(sig)
            // The signal stays recorded while the final save runs: a second SIGINT then exits
            // at once (csystem.c).
            let outcome = requestShutdown(how.mode, force: how.force, now: how.now)
            if outcome == .failed { tandem_clear_shutdown_signal() }
            return
        }
        if pendingShutdown != nil { checkPendingShutdown() }
        refreshClientEvictionLimit()
        clientsCron(now)
        // Also before each command; here too so a CONFIG SET of tracking-table-max-keys takes
        // effect on an idle server (as Redis's serverCron).
        if tracking.clients > 0 { trackingLimitUsedSlots() }
        if !migrateSockets.isEmpty { closeIdleMigrateSockets(now) }
        if cluster.enabled { clusterCron(now) }
        checkChildDone()
        appendOnlyCron()
        checkSavePoints()
        replicationCron()
        senderWorkersCron()
        replicaCron()
        if settings.storedValue("oom-score-adj") != "no" || oom.base != nil { applyOOMScoreAdj() }  // the role may have changed
        databasesCron()
        // Evictions a command's time slice left to do (Redis's evictionTimeProc).
        if settings.maxmemory > 0 { _ = performEvictions() } else { tandem_set_expand_limit(0) }
        sampleMetrics(now)
        watchdogCron()
    }

    /// watchdog-period: the SIGALRM timer is pushed back every tick, so it fires (and logs
    /// "WATCHDOG TIMER EXPIRED" with the stack) only while the main thread is stuck for longer
    /// than the period — at least two ticks, as Redis rounds it.
    mutating func watchdogCron() {
        let period = settings.watchdogPeriod
        if period > 0 {
            if !watchdogArmed {
                tandem_watchdog_enable()
                watchdogArmed = true
            }
            tandem_watchdog_schedule(Int32(max(period, 2000 / max(1, settings.hz))))
        } else if watchdogArmed {
            tandem_watchdog_disable()
            watchdogArmed = false
        }
    }

    mutating func clientsCron(_ now: Int64) {
        if pauseMode != 0 && now >= pauseEndMillis { unpauseClients() }
        let timeoutMillis = Int64(settings.timeout) * 1000
        // Visit a slice of the table each tick so a large client count costs little per tick.
        let perTick = max(1, clientsCapacity / max(1, settings.hz))
        let start = Int(cronLoops % Int64(max(1, settings.hz))) * perTick
        for fd in start..<min(clientsCapacity, start + perTick) {
            guard let c = clientsByFD[fd], !c.pointee.flags.contains(.closeASAP) else { continue }
            if timeoutMillis > 0 && !c.pointee.flags.contains(.monitor) && !c.pointee.isReplica && !c.pointee.isMaster
                && now - c.pointee.lastInteractionMillis > timeoutMillis
            {
                Log.verbose("Closing idle client")
                markClosing(c)
                continue
            }
            if c.pointee.softLimitSinceMillis != 0 && enforceOutputLimits(c, now: now) { continue }
            updateClientMemory(c)
            c.pointee.shrinkQueryIfIdle(idleMillis: now - c.pointee.lastInteractionMillis)
            if !c.pointee.isReplica {
                c.pointee.reply.adjustToPeak(nowMillis: now, resetAfterMillis: replyBufferPeakResetMillis,
                                             resizing: replyBufferResizing)
            }
        }
    }

    mutating func unpauseClients() {
        pauseMode = 0
        pauseEndMillis = 0
        if pausedClientsWaiting == 0 { return }
        pausedClientsWaiting = 0
        for c in allClients() where c.pointee.flags.contains(.pausedInput) {
            c.pointee.flags.remove(.pausedInput)
            processInputBuffer(c)
        }
    }

    mutating func databasesCron() {
        activeExpireCycle()
        if isReplicaNode { expireReplicaLocalKeys() } else if !replicaLocalExpires.isEmpty { replicaLocalExpires = [] }
        let resizeAllowed = childPID < 0
        tandem_set_resize_allowed(resizeAllowed ? 1 : 0)
        for i in 0..<dbCount {
            dbs[i].dict.resizeAllowed = resizeAllowed
            if resizeAllowed { dbs[i].dict.shrinkIfSparse() }
        }
        if settings.activeRehashing && resizeAllowed {
            for i in 0..<dbCount where dbs[i].dict.isRehashing {
                let start = Clock.monotonicMicros()
                while dbs[i].dict.rehash(steps: 100) {
                    if Clock.monotonicMicros() - start > 1000 { break }
                }
                break  // at most one database per tick, as Redis
            }
        }
    }

    mutating func sampleMetrics(_ now: Int64) {
        if now - stats.lastSampleMillis < 100 { return }
        let elapsed = max(1, now - stats.lastSampleMillis)
        let i = stats.sampleIndex % 16
        stats.opsSamples[i] = (stats.commandsProcessed - stats.lastSampleCommands) * 1000 / elapsed
        stats.inputSamples[i] = (stats.netInputBytes - stats.lastSampleInput) * 1000 / elapsed
        stats.outputSamples[i] = (stats.netOutputBytes - stats.lastSampleOutput) * 1000 / elapsed
        stats.sampleIndex += 1
        stats.lastSampleMillis = now
        stats.lastSampleCommands = stats.commandsProcessed
        stats.lastSampleInput = stats.netInputBytes
        stats.lastSampleOutput = stats.netOutputBytes
    }
}
