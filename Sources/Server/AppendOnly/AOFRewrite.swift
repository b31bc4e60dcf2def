/*
 * AOFRewrite: BGREWRITEAOF, the automatic rewrite, and switching the AOF on and off at run
 * time — Redis 7.0's multi-part design, where no rewrite buffer is piped to the child:
 *
 *  1. The parent flushes the buffer and opens a new incremental file (seq + 1, recorded in
 *     the manifest at once), so every write after the fork lands in a file of its own.
 *  2. A forked child writes the copy-on-write dataset to `temp-rewriteaof-bg-<pid>.aof` in `dir`
 *     (an RDB file with aof-use-rdb-preamble yes, commands otherwise), fsyncs and exits.
 *  3. The parent, reaping it, renames the file to the next base name in the AOF directory,
 *     marks the old base and the incremental files before the new one as history, saves the
 *     manifest and deletes the history files.
 *
 * Turning the AOF on (CONFIG SET appendonly yes, or a replica after a full sync) starts in
 * `waitRewrite`: writes go to `temp-<appendfilename>.incr` while the first rewrite runs; when
 * it succeeds the temporary file becomes the next incremental file and the AOF is on. A
 * rewrite that fails in that state is retried by the cron. Turning it off flushes, fsyncs and
 * closes the file and stops a running rewrite.
 */
import CTandem
import Glibc
import Keyspace
import Persistence
import Platform

extension Server {
    // MARK: - BGREWRITEAOF

    mutating func bgrewriteaofCommand(_ c: ClientRef) {
        if aof.rewriteChildRunning {
            addError(c, "-ERR Background append only file rewriting already in progress\r\n")
        } else if hasActiveChild || inExec {
            aof.rewriteScheduled = true
            // A manual rewrite is not held back by earlier failures.
            aof.consecutiveFailures = 0
            c.pointee.reply.appendStatus("Background append only file rewriting scheduled")
        } else if rewriteAppendOnlyFileBackground() {
            c.pointee.reply.appendStatus("Background append only file rewriting started")
        } else {
            addError(c, "-ERR Can't execute an AOF background rewriting. Please check the server logs for more information.\r\n")
        }
    }

    /// Starts a background rewrite (steps 1 and 2 above). False (logged) when it cannot.
    mutating func rewriteAppendOnlyFileBackground() -> Bool {
        if hasActiveChild { return false }
        if let error = createAOFDirectoryIfMissing() {
            Log.warning("Can't open or create append-only dir \(aofDirectory): \(error)")
            aof.lastBgrewriteOK = false
            return false
        }
        forgetSelectedDatabase()
        flushAppendOnlyFile(force: true)
        if aof.status != .off && aof.buffer.pointee.count > 0 {
            // The writes that failed to reach the old file would go to the new one after the
            // fork, and the new base holds them already: loading would apply them twice.
            Log.warning("Can't rewrite append only file in background: the AOF buffer could not be written")
            aof.lastBgrewriteOK = false
            return false
        }
        if !openNewIncrementalForRewrite() {
            aof.lastBgrewriteOK = false
            return false
        }
        aof.rewrites += 1
        let reports: Pipe
        do {
            reports = try Pipe.make(nonBlockingRead: true)
        } catch {
            Log.warning("Can't rewrite append only file in background: \(error)")
            aof.lastBgrewriteOK = false
            return false
        }
        let start = Clock.monotonicMicros()
        let pid: pid_t
        switch ChildProcess.fork() {
        case .child:
            close(reports.readEnd)
            runAOFRewriteChild(reportFD: reports.writeEnd)
        case .failed(let error):
            close(reports.readEnd)
            close(reports.writeEnd)
            aof.lastBgrewriteOK = false
            Log.warning("Can't rewrite append only file in background: fork: \(error)")
            return false
        case .parent(let child):
            close(reports.writeEnd)
            pid = child
        }
        childStarted(pid, reports: reports.readEnd, forkStartMicros: start)
        aof.rewriteChildRunning = true
        aof.rewriteScheduled = false
        aof.rewriteStartSeconds = Clock.unixMillis() / 1000
        Log.notice("Background append only file rewriting started by pid \(pid)")
        return true
    }

    /// Step 1: writes after the fork go to a file of their own — the next incremental file
    /// (in the manifest at once), or the temporary one while waiting for the first rewrite.
    mutating func openNewIncrementalForRewrite() -> Bool {
        if aof.status == .off { return true }
        var manifest = aof.manifest
        let name = aof.status == .waitRewrite ? aofTempIncrName : manifest.startNewIncremental(filename: settings.appendfilename)
        // O_APPEND: after a short write is cut back (ftruncate), the next write lands at the end.
        let fd = open(aofPath(name), O_WRONLY | O_APPEND | O_TRUNC | O_CREAT | O_CLOEXEC, 0o644)
        if fd == -1 {
            Log.warning("Can't open the append-only file \(name): \(String(cString: strerror(errno)))")
            return false
        }
        aof.tempIncrOpen = aof.status == .waitRewrite
        if aof.status == .on && !persistAOFManifest(manifest) {
            close(fd)
            unlink(aofPath(name))
            return false
        }
        Log.notice("Creating AOF incr file \(name) on background rewrite")
        if aof.fd != -1 {
            // everysec may still owe the old file its fsync; `always` synced it already.
            tandem_aof_fsync_and_close_async(aof.fd)
            aof.lastFsyncMillis = Clock.unixMillis()
        }
        aof.fd = fd
        aof.lastIncrSize = 0
        aof.lastIncrFsyncOffset = 0
        if aof.status == .on { aof.manifest = manifest }
        return true
    }

    /// In the child: write the base, report, exit. Never returns.
    func runAOFRewriteChild(reportFD: Int32) -> Never {
        becomeSnapshotChild(title: "redis-aof-rewrite")
        let temp = "temp-rewriteaof-bg-\(getpid()).aof"
        var progress = ChildProgress(reportFD: reportFD)
        let error = writeAOFBase(to: temp) { progress.keysWritten($0) }
        var samples = progress.samples
        if let error {
            Log.warning(error)
            _exit(1)
        }
        Log.notice("Successfully created the temporary AOF base file \(temp)")
        let cow = samples.take()
        let mb = 1024 * 1024
        Log.notice("Fork CoW for AOF rewrite: current \(cow / mb) MB, peak \(samples.peak / mb) MB, average \(samples.average / mb) MB")
        var report = ChildReport(kind: ChildReport.done, keys: 0, cowBytes: Int64(cow), bytesWritten: 0)
        _ = withUnsafeBytes(of: &report) { write(reportFD, $0.baseAddress, $0.count) }
        _exit(0)
    }

    /// Writes the dataset as an AOF base to `temp-rewriteaof-<pid>.aof`, fsyncs it and renames
    /// it to `path` (Redis's rewriteAppendOnlyFile). nil on success, else the message to log.
    func writeAOFBase(to path: String, progress: ((Int) -> Void)? = nil) -> String? {
        let temp = "temp-rewriteaof-\(getpid()).aof"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            return "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): \(String(cString: strerror(errno)))"
        }
        var errorNumber: Int32 = 0
        if settings.aofUseRdbPreamble {
            var aux = auxInfo()
            aux.replID = nil
            aux.aofBase = true
            var w = RDBWriter(out: RDBOutput(fd: fd), options: rdbWriteOptions)
            if settings.aofRewriteIncrementalFsync { w.out.autoSyncBytes = RDBOutput.incrementalFsyncBytes }
            w.onProgress = progress
            w.writeSnapshot(dbs: dbs, count: dbCount, aux: aux, functions: functionsEngine.pointee.libraryCodes)
            errorNumber = w.out.errorNumber
        } else {
            var w = AOFDatasetWriter(out: RDBOutput(fd: fd), keySaveDelayMicros: settings.rdbKeySaveDelay)
            if settings.aofRewriteIncrementalFsync { w.out.autoSyncBytes = RDBOutput.incrementalFsyncBytes }
            w.onProgress = progress
            w.writeDataset(dbs: dbs, count: dbCount, functions: functionsEngine.pointee.libraryCodes,
                           timestamp: settings.aofTimestampEnabled ? Clock.unixMillis() / 1000 : nil)
            errorNumber = w.out.errorNumber
        }
        if errorNumber == 0 && fsync(fd) != 0 { errorNumber = errno }
        close(fd)
        if errorNumber != 0 {
            unlink(temp)
            return "Write error writing append only file on disk: \(String(cString: strerror(errorNumber)))"
        }
        if rename(temp, path) == -1 {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            return "Error moving temp append only file on the final destination: \(reason)"
        }
        return nil
    }

    /// Step 3, from the cron when the rewrite child exits.
    mutating func finishAOFRewrite(pid: Int32, ok: Bool, signal: Int) {
        aof.rewriteChildRunning = false
        if ok {
            Log.notice("Background AOF rewrite terminated with success")
            installRewrittenBase(childPID: pid)
        } else if signal == 0 {
            aof.lastBgrewriteOK = false
            aof.consecutiveFailures += 1
            Log.warning("Background AOF rewrite terminated with error")
        } else {
            // SIGUSR1 is how Tandem and Redis stop a child on purpose: not an error.
            if signal != Int(SIGUSR1) {
                aof.lastBgrewriteOK = false
                aof.consecutiveFailures += 1
            }
            Log.warning("Background AOF rewrite terminated by signal \(signal)")
        }
        unlink("temp-rewriteaof-bg-\(pid).aof")
        unlink("temp-rewriteaof-\(pid).aof")
        if aof.status == .waitRewrite && aof.tempIncrOpen {
            // The temporary incremental file served this attempt only.
            aof.buffer.pointee.clear()
            Log.notice("Removing the temp incr aof file \(aofTempIncrName) in the background")
            tandem_unlink_async(aofPath(aofTempIncrName))
            aof.tempIncrOpen = false
        }
        aof.lastRewriteSeconds = aof.rewriteStartSeconds >= 0 ? Clock.unixMillis() / 1000 - aof.rewriteStartSeconds : -1
        aof.rewriteStartSeconds = -1
        if aof.status == .waitRewrite { aof.rewriteScheduled = true }
        readChildReports()
        aof.lastCowBytes = persistence.lastCowBytes
        endChild()
        // Replicas that asked for a full sync meanwhile get their snapshot now.
        if repl.replicas.contains(where: { $0.pointee.replicaInfo.state == .waitBgsaveStart })
            && (!wantsDisklessSync || !settings.replDisklessSync || settings.replDisklessSyncDelay == 0)
        {
            startSyncSnapshot()
        }
    }

    /// A successful rewrite's file becomes the base; what it covers becomes history.
    mutating func installRewrittenBase(childPID pid: Int32) {
        let temp = "temp-rewriteaof-bg-\(pid).aof"
        var manifest = aof.manifest
        let baseName = manifest.startNewBase(filename: settings.appendfilename, rdbFormat: settings.aofUseRdbPreamble)
        if rename(temp, aofPath(baseName)) == -1 {
            Log.warning("Error trying to rename the temporary AOF base file \(temp) into \(aofPath(baseName)): \(String(cString: strerror(errno)))")
            aof.lastBgrewriteOK = false
            aof.consecutiveFailures += 1
            return
        }
        Log.notice("Successfully renamed the temporary AOF base file \(temp) into \(baseName)")
        var incrName: String? = nil
        if aof.status == .waitRewrite && aof.tempIncrOpen {
            let name = manifest.startNewIncremental(filename: settings.appendfilename)
            if rename(aofPath(aofTempIncrName), aofPath(name)) == -1 {
                Log.warning("Error trying to rename the temporary AOF incr file \(aofPath(aofTempIncrName)) into \(aofPath(name)): \(String(cString: strerror(errno)))")
                tandem_unlink_async(aofPath(baseName))
                aof.lastBgrewriteOK = false
                aof.consecutiveFailures += 1
                return
            }
            Log.notice("Successfully renamed the temporary AOF incr file \(aofTempIncrName) into \(name)")
            incrName = name
        }
        manifest.markRewrittenIncrementalsAsHistory(keepingLast: aof.fd != -1)
        if !persistAOFManifest(manifest) {
            tandem_unlink_async(aofPath(baseName))
            if let incrName { tandem_unlink_async(aofPath(incrName)) }
            aof.lastBgrewriteOK = false
            aof.consecutiveFailures += 1
            return
        }
        aof.manifest = manifest
        if aof.status != .off {
            aof.currentSize = (aofFileSize(baseName)?.size ?? 0) + aof.lastIncrSize
            aof.baseSize = aof.currentSize
        }
        deleteAOFHistoryFiles()
        aof.lastBgrewriteOK = true
        aof.consecutiveFailures = 0
        Log.notice("Background AOF rewrite finished successfully")
        if aof.status == .waitRewrite && aof.tempIncrOpen {
            aof.status = .on
            aof.tempIncrOpen = false
            updatePropagation()
        }
    }

    /// Kills a running rewrite and waits for it (turning the AOF off, SHUTDOWN, a new
    /// rewrite for a just-enabled AOF).
    mutating func killAppendOnlyChild() {
        guard aof.rewriteChildRunning, childPID >= 0 else { return }
        let pid = childPID
        Log.notice("Killing running AOF rewrite child: \(pid)")
        kill(pid, SIGUSR1)
        ChildProcess.wait(pid)
        unlink("temp-rewriteaof-bg-\(pid).aof")
        unlink("temp-rewriteaof-\(pid).aof")
        aof.rewriteChildRunning = false
        aof.rewriteStartSeconds = -1
        endChild()
    }

    // MARK: - appendonly yes | no at run time

    /// CONFIG SET appendonly: start (a rewrite writes the first base) or stop.
    mutating func applyAppendOnlyConfig() -> Bool {
        if !settings.appendonly && aof.status != .off {
            stopAppendOnly()
        } else if settings.appendonly && aof.status == .off {
            return startAppendOnly()
        }
        return true
    }

    mutating func startAppendOnly() -> Bool {
        aof.status = .waitRewrite
        if hasActiveChild && !aof.rewriteChildRunning {
            aof.rewriteScheduled = true
            Log.notice("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
        } else if inExec {
            aof.rewriteScheduled = true
            Log.notice("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.")
        } else {
            if aof.rewriteChildRunning {
                Log.notice("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.")
                killAppendOnlyChild()
            }
            if !rewriteAppendOnlyFileBackground() {
                aof.status = .off
                Log.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.")
                return false
            }
        }
        aof.lastFsyncMillis = Clock.unixMillis()
        if tandem_aof_fsync_errno() != 0 {
            Log.warning("AOF reopen, just ignore the AOF fsync error in bio job")
            tandem_aof_fsync_clear_errno()
        }
        if !aof.lastWriteOK {
            Log.warning("AOF reopen, just ignore the last error.")
            aof.lastWriteOK = true
        }
        updatePropagation()
        return true
    }

    mutating func stopAppendOnly() {
        flushAppendOnlyFile(force: true)
        if aof.fd != -1 {
            if fsync(aof.fd) == -1 {
                Log.warning("Fail to fsync the AOF file: \(String(cString: strerror(errno)))")
            } else {
                aof.lastFsyncMillis = Clock.unixMillis()
            }
            close(aof.fd)
        }
        aof.fd = -1
        aof.status = .off
        aof.rewriteScheduled = false
        if aof.tempIncrOpen {
            unlink(aofPath(aofTempIncrName))
            aof.tempIncrOpen = false
        }
        aof.lastIncrSize = 0
        aof.lastIncrFsyncOffset = 0
        killAppendOnlyChild()
        aof.buffer.pointee.clear()
        updatePropagation()
    }

    /// SHUTDOWN: stop a rewrite (the files on disk already hold everything), write and fsync
    /// the buffer. False when the AOF's first rewrite has not finished (the data would be lost)
    /// and the shutdown is not forced.
    mutating func prepareAppendOnlyForShutdown(force: Bool) -> Bool {
        guard aof.status != .off else { return true }
        if aof.rewriteChildRunning {
            if aof.status == .waitRewrite {
                if force {
                    Log.warning("Writing initial AOF. Exit anyway.")
                } else {
                    Log.warning("Writing initial AOF, can't exit.")
                    return false
                }
            }
            Log.warning("There is a child rewriting the AOF. Killing it!")
            killAppendOnlyChild()
        }
        Log.notice("Calling fsync() on the AOF file.")
        flushAppendOnlyFile(force: true)
        if aof.fd != -1 && fsync(aof.fd) == -1 {
            Log.warning("Fail to fsync the AOF file: \(String(cString: strerror(errno))).")
        }
        tandem_aof_io_drain()
        return true
    }
}
