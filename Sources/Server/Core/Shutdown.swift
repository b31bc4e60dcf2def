/*
 * Shutdown: SHUTDOWN and the termination signals — Redis 7.0's prepareForShutdown,
 * finishShutdown, abortShutdown.
 *
 * A shutdown first lets the replicas catch up, so a failover or a restart loses none of the
 * last writes: unless NOW is given (or shutdown-timeout is 0), the server pauses writes, asks
 * every replica for an acknowledgement, and waits until all of them report the master's offset
 * or shutdown-timeout seconds pass. SHUTDOWN clients block meanwhile (INFO shows
 * shutdown_in_milliseconds); SHUTDOWN ABORT cancels. Then the lagging replicas are logged,
 * the final save runs (by default when save points exist), and the loop ends. A failed save
 * without FORCE cancels the shutdown: waiting SHUTDOWN clients get Redis's error and writes
 * resume.
 */
import CTandem
import Keyspace
import Platform
import RESP

enum ShutdownSaveMode { case auto, save, noSave }

/// A shutdown waiting for replicas.
struct PendingShutdown {
    var mode: ShutdownSaveMode
    var force: Bool
    var deadlineMillis: Int64
    /// The write pause in place before (restored if the shutdown is cancelled).
    var previousPauseMode: Int
    var previousPauseEnd: Int64
}

extension Server {
    mutating func shutdownCommand(_ c: ClientRef) {
        var mode = ShutdownSaveMode.auto
        var force = false, now = false, abort = false
        for i in 1..<c.pointee.argc {
            let o = c.pointee.arg(i)
            if o.equalsLowercase("nosave") {
                mode = .noSave
            } else if o.equalsLowercase("save") {
                mode = .save
            } else if o.equalsLowercase("force") {
                force = true
            } else if o.equalsLowercase("now") {
                now = true
            } else if o.equalsLowercase("abort") {
                abort = true
            } else {
                addSyntaxError(c)
                return
            }
        }
        if scriptTimedOut && !abort {
            shutdownDuringBusyScript(c, noSave: mode == .noSave)
            return
        }
        if abort {
            if c.pointee.argc != 2 {
                addSyntaxError(c)
            } else if abortShutdown() {
                addOK(c)
            } else {
                addError(c, "-ERR No shutdown in progress.\r\n")
            }
            return
        }
        switch requestShutdown(mode, force: force, now: now) {
        case .exiting:
            break  // Like Redis, the client gets no reply: the connection closes with the server.
        case .waiting:
            blockClient(c, keys: [], timeoutAt: 0, nullArray: false)
            c.pointee.block.isShutdown = true
        case .failed:
            addError(c, Self.shutdownError)
        }
    }

    static let shutdownError: StaticString = "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"

    enum ShutdownOutcome { case exiting, waiting, failed }

    /// Starts a shutdown (SHUTDOWN, SIGTERM, SIGINT): waits for lagging replicas first unless
    /// `now`, else finishes at once.
    mutating func requestShutdown(_ mode: ShutdownSaveMode, force: Bool, now: Bool) -> ShutdownOutcome {
        if pendingShutdown != nil { return .waiting }
        Log.warning("User requested shutdown...")
        // Loading: nothing complete to save.
        let mode = persistence.loading ? .noSave : mode
        if !now && settings.shutdownTimeout != 0 && !replicasInSync() {
            pendingShutdown = PendingShutdown(
                mode: mode, force: force, deadlineMillis: Clock.unixMillis() + Int64(settings.shutdownTimeout) * 1000,
                previousPauseMode: pauseMode, previousPauseEnd: pauseEndMillis)
            pauseMode = max(pauseMode, 1)
            pauseEndMillis = Int64.max
            repl.getAckPending = true
            Log.notice("Waiting for replicas before shutting down.")
            return .waiting
        }
        return finishShutdownSteps(mode, force: force) ? .exiting : .failed
    }

    /// Every replica acknowledged the master's offset (or there is none).
    func replicasInSync() -> Bool {
        repl.replicas.allSatisfy { $0.pointee.replicaInfo.ackOffset == repl.offset }
    }

    /// From the cron: a waiting shutdown goes on once the replicas caught up or time is up.
    mutating func checkPendingShutdown() {
        guard let pending = pendingShutdown else { return }
        if Clock.unixMillis() < pending.deadlineMillis && !replicasInSync() { return }
        if !finishShutdownSteps(pending.mode, force: pending.force) { return }
        pendingShutdown = nil
    }

    /// Logs the replicas' state, runs the final save; false (the shutdown is cancelled) when
    /// the save failed without FORCE.
    mutating func finishShutdownSteps(_ mode: ShutdownSaveMode, force: Bool) -> Bool {
        let replicas = repl.replicas
        var lagging = 0
        for r in replicas where r.pointee.replicaInfo.ackOffset != repl.offset {
            lagging += 1
            let info = r.pointee.replicaInfo
            let lag = info.state == .online ? (Clock.unixMillis() - info.ackMillis) / 1000 : 0
            Log.warning("Lagging replica \(replicaName(r)) reported offset \(repl.offset - info.ackOffset) behind master, lag=\(lag), state=\(info.state.name).")
        }
        if !replicas.isEmpty {
            Log.notice("\(replicas.count - lagging) of \(replicas.count) replicas are in sync when shutting down.")
        }
        if !prepareForShutdown(mode, force: force) {
            Log.warning("Errors trying to shut down the server. Check the logs for more information.")
            cancelShutdown()
            return false
        }
        shutdownRequested = true
        return true
    }

    /// The final save before exiting: with SAVE, or by default when save points exist.
    /// Returns false when the save failed and the server must keep running.
    mutating func prepareForShutdown(_ mode: ShutdownSaveMode, force: Bool) -> Bool {
        if hasActiveChild && !aof.rewriteChildRunning {
            Log.warning("There is a child saving an .rdb. Killing it!")
            killSnapshotChild()
        }
        if !prepareAppendOnlyForShutdown(force: force) { return false }
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

    /// Ends a waiting shutdown: SHUTDOWN clients get the error, writes resume.
    mutating func cancelShutdown() {
        tandem_clear_shutdown_signal()
        if let pending = pendingShutdown {
            pauseMode = pending.previousPauseMode
            pauseEndMillis = pending.previousPauseEnd
            pendingShutdown = nil
            if pauseMode == 0 { unpauseClients() }
        }
        for c in allClients() where c.pointee.flags.contains(.blocked) && c.pointee.block.isShutdown {
            addError(c, Self.shutdownError)
            countUnblockedCall(c, failed: true)
            unblockClient(c)
            queueWrite(c)
        }
    }

    /// SHUTDOWN ABORT: cancels a shutdown waiting for replicas, or a SIGTERM/SIGINT the cron
    /// has not acted on yet. False when there is none.
    mutating func abortShutdown() -> Bool {
        if pendingShutdown != nil {
            cancelShutdown()
        } else if tandem_shutdown_signal() != 0 {
            tandem_clear_shutdown_signal()
        } else {
            return false
        }
        Log.notice("Shutdown manually aborted.")
        return true
    }

    /// INFO shutdown_in_milliseconds: time left before a waiting shutdown gives up on replicas.
    var shutdownInMilliseconds: Int64 {
        guard let pending = pendingShutdown else { return 0 }
        return max(0, pending.deadlineMillis - Clock.unixMillis())
    }
}
