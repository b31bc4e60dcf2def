/*
 * AppendOnlyFile: writing Redis 7.0's multi-part AOF — aof.c's feed, flush and fsync.
 *
 * What goes into the file is exactly what goes to replicas: Propagation.swift builds each
 * write's effect once into `replicationStream`, and when a batch is complete (a command, a
 * transaction, an expired key's DEL) its bytes are copied into `aof.buffer` before the stream
 * moves on to the backlog. SELECTs come from the same stream: whenever the AOF starts a new
 * file the stream's selected database is forgotten, so the next write says SELECT again in
 * both (an extra SELECT is harmless to replicas). With aof-timestamp-enabled a `#TS:<unix
 * time>` annotation precedes the first write of each new second.
 *
 * The buffer is written in beforeSleep, before any reply of the event-loop turn leaves, so a
 * client never sees a write acknowledged that is not at least in the kernel (Redis's
 * flushAppendOnlyFile). Then, by `appendfsync`:
 *
 *  - always: fdatasync on the spot; a failed write or fsync ends the process (the replies are
 *    already in the buffers and cannot be taken back), as Redis does;
 *  - everysec: the fsync goes to the AOF I/O thread (CTandem/aof_io.c) at most once a second;
 *    while one is still running the write is postponed, for up to two seconds, after which it
 *    is written anyway and `aof_delayed_fsync` counts it;
 *  - no: write only, the kernel flushes when it likes.
 *
 * A failed or short write (disk full) is undone with ftruncate, recorded in INFO
 * (`aof_last_write_status:err`) and makes the server refuse writes with -MISCONF until a later
 * flush succeeds (retried by the cron); a failed background fsync does the same.
 *
 * Files, loading and rewriting are in AOFFiles.swift, AOFLoading.swift and AOFRewrite.swift.
 */
import CTandem
import Glibc
import Keyspace
import Persistence
import Platform
import RESP

/// Redis's aof_state.
enum AOFStatus {
    case off
    case on
    /// Turned on at run time: the first rewrite (a base file) must finish before the files
    /// count; writes meanwhile go to a temporary incremental file.
    case waitRewrite
}

/// The AOF's state: INFO persistence reads most of it.
struct AOFState {
    var status = AOFStatus.off
    /// The incremental file being appended to (-1 when none).
    var fd: Int32 = -1
    var manifest = AOFManifest()
    /// This event-loop turn's writes, written in beforeSleep. One buffer for the process.
    let buffer: UnsafeMutablePointer<ReplyBuffer> = {
        let p = UnsafeMutablePointer<ReplyBuffer>.allocate(capacity: 1)
        p.initialize(to: ReplyBuffer())
        return p
    }()
    /// Where the current propagation batch starts in `replicationStream`.
    var batchStart = 0
    /// aof_current_size (base + incremental files) and aof_rewrite_base_size.
    var currentSize: Int64 = 0
    var baseSize: Int64 = 0
    /// Bytes in the current incremental file, and how many of them were fsynced.
    var lastIncrSize: Int64 = 0
    var lastIncrFsyncOffset: Int64 = 0
    var lastFsyncMillis: Int64 = 0
    var flushPostponedStart: Int64 = 0
    var delayedFsync: Int64 = 0
    var lastWriteOK = true
    var lastWriteErrno: Int32 = 0
    var lastWriteErrorLogSeconds: Int64 = 0
    /// The second of the last `#TS:` annotation.
    var currentTimestamp: Int64 = 0
    // Rewrites
    var rewriteChildRunning = false
    /// The running rewrite writes the first base of a just-enabled AOF: writes go to the
    /// temporary incremental file, which becomes the next incremental file when it succeeds.
    var tempIncrOpen = false
    var rewriteScheduled = false
    var rewriteStartSeconds: Int64 = -1
    var lastRewriteSeconds: Int64 = -1
    var lastBgrewriteOK = true
    var rewrites: Int64 = 0
    var consecutiveFailures: Int64 = 0
    var lastCowBytes = 0
    /// Redis's aofRewriteLimited: after 3 failures in a row, automatic rewrites wait 1, 2, 4 …
    /// 60 minutes.
    var limitDelayMinutes = 0
    var limitNextRewriteSeconds: Int64 = 0
    // Loading
    /// Commands are being replayed from a file: nothing expires meanwhile (KeyAccess).
    var loadingCommands = false
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each write (tests).
    var flushSleepMicros = 0
}

extension Server {
    // MARK: - Feeding

    /// From Propagation.swift when a batch is complete: its bytes, from `aof.batchStart` on.
    mutating func feedAppendOnlyFile() {
        guard aof.fd >= 0, aof.status == .on || (aof.status == .waitRewrite && aof.rewriteChildRunning) else { return }
        let count = replicationStream.pointee.count
        let start = min(aof.batchStart, count)
        if count == start { return }
        if settings.aofTimestampEnabled {
            let now = Clock.unixMillis() / 1000
            if aof.currentTimestamp < now {
                aof.currentTimestamp = now
                aof.buffer.pointee.append("#TS:\(now)\r\n")
            }
        }
        if excludedFromAOF.isEmpty {
            aof.buffer.pointee.append(replicationStream.pointee.base + start, count - start)
            return
        }
        // A script's REPL_REPLICA commands are not for the file.
        var at = start
        for r in excludedFromAOF.sorted(by: { $0.lowerBound < $1.lowerBound }) where r.lowerBound >= start {
            if r.lowerBound > at { aof.buffer.pointee.append(replicationStream.pointee.base + at, r.lowerBound - at) }
            at = max(at, r.upperBound)
        }
        if count > at { aof.buffer.pointee.append(replicationStream.pointee.base + at, count - at) }
    }

    /// The AOF starts a new file: its first write must select its database.
    mutating func forgetSelectedDatabase() {
        propagatedDB = -1
    }

    // MARK: - Flushing

    var aofFsyncPolicy: AOFFsyncPolicy {
        switch settings.appendfsync {
        case "always": .always
        case "no": .no
        default: .everysec
        }
    }

    enum AOFFsyncPolicy { case always, everysec, no }

    /// Writes the buffer to the incremental file and fsyncs as the policy says. `force` writes
    /// even while a background fsync runs (shutdown, rewrite start, turning AOF off).
    mutating func flushAppendOnlyFile(force: Bool) {
        guard aof.fd >= 0 else { return }
        let policy = aofFsyncPolicy
        let now = Clock.unixMillis()
        let pending = aof.buffer.pointee.count
        var syncInProgress = false
        if pending == 0 {
            // Data written earlier may still need its fsync (writes stopped within the second,
            // or the policy became `always`).
            guard aof.lastIncrFsyncOffset != aof.lastIncrSize else { return }
            if policy == .everysec && now - aof.lastFsyncMillis >= 1000 {
                syncInProgress = tandem_aof_fsync_in_progress() != 0
                if syncInProgress { return }
            } else if policy != .always {
                return
            }
            fsyncAppendOnlyFile(policy, now: now, syncInProgress: syncInProgress)
            return
        }
        if policy == .everysec { syncInProgress = tandem_aof_fsync_in_progress() != 0 }
        if policy == .everysec && !force && syncInProgress {
            // A write(2) would wait for the running fsync anyway: wait up to two seconds.
            if aof.flushPostponedStart == 0 {
                aof.flushPostponedStart = now
                return
            } else if now - aof.flushPostponedStart < 2000 {
                return
            }
            aof.delayedFsync += 1
            Log.notice("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.")
        }
        if aof.flushSleepMicros > 0 { RDBWriter.debugDelay(aof.flushSleepMicros) }
        let start = Clock.monotonicMicros()
        let written = Self.writeFully(aof.fd, aof.buffer.pointee.base, pending)
        let millis = (Clock.monotonicMicros() - start) / 1000
        addLatencySampleIfNeeded(syncInProgress ? "aof-write-pending-fsync" : hasActiveChild ? "aof-write-active-child" : "aof-write-alone",
                                 milliseconds: millis)
        addLatencySampleIfNeeded("aof-write", milliseconds: millis)
        aof.flushPostponedStart = 0
        if written.count != pending {
            handleAOFWriteError(written: written.count, expected: pending, errno: written.errno, policy: policy)
            return
        }
        if !aof.lastWriteOK {
            Log.notice("AOF write error looks solved, Redis can write again.")
            aof.lastWriteOK = true
        }
        aof.currentSize += Int64(pending)
        aof.lastIncrSize += Int64(pending)
        aof.buffer.pointee.clear()
        if aof.buffer.pointee.capacity > 1 << 20 { aof.buffer.pointee.resize(to: 16 * 1024) }
        fsyncAppendOnlyFile(policy, now: now, syncInProgress: syncInProgress)
    }

    /// The fsync half of flushAppendOnlyFile.
    mutating func fsyncAppendOnlyFile(_ policy: AOFFsyncPolicy, now: Int64, syncInProgress: Bool) {
        // no-appendfsync-on-rewrite: a child is writing a lot; leave the disk to it.
        if settings.noAppendfsyncOnRewrite && hasActiveChild { return }
        switch policy {
        case .always:
            let start = Clock.monotonicMicros()
            if fdatasync(aof.fd) == -1 && errno != EINVAL {
                Log.warning("Can't persist AOF for fsync error when the AOF fsync policy is 'always': \(String(cString: strerror(errno))). Exiting...")
                exit(1)
            }
            addLatencySampleIfNeeded("aof-fsync-always", milliseconds: (Clock.monotonicMicros() - start) / 1000)
            aof.lastIncrFsyncOffset = aof.lastIncrSize
            aof.lastFsyncMillis = now
        case .everysec:
            if now - aof.lastFsyncMillis >= 1000 {
                if !syncInProgress {
                    tandem_aof_fsync_async(aof.fd)
                    aof.lastIncrFsyncOffset = aof.lastIncrSize
                }
                aof.lastFsyncMillis = now
            }
        case .no:
            break
        }
    }

    /// A short or failed write: undo what was written, record the error, keep the buffer for a
    /// retry (with `always` the process ends instead, as Redis).
    mutating func handleAOFWriteError(written: Int, expected: Int, errno err: Int32, policy: AOFFsyncPolicy) {
        let nowSeconds = Clock.unixMillis() / 1000
        let canLog = nowSeconds - aof.lastWriteErrorLogSeconds > 30
        if canLog { aof.lastWriteErrorLogSeconds = nowSeconds }
        var kept = written
        if written <= 0 {
            if canLog { Log.warning("Error writing to the AOF file: \(String(cString: strerror(err)))") }
            aof.lastWriteErrno = err
            kept = 0
        } else {
            if canLog {
                Log.warning("Short write while writing to the AOF file: (nwritten=\(written), expected=\(expected))")
            }
            if ftruncate(aof.fd, off_t(aof.lastIncrSize)) == -1 {
                if canLog {
                    Log.warning("Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: \(String(cString: strerror(errno)))")
                }
            } else {
                kept = 0
            }
            aof.lastWriteErrno = ENOSPC
        }
        if policy == .always {
            Log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
            exit(1)
        }
        aof.lastWriteOK = false
        if kept > 0 {
            // Part of the buffer is in the file and could not be taken back: drop it here.
            aof.currentSize += Int64(kept)
            aof.lastIncrSize += Int64(kept)
            let rest = Array(UnsafeBufferPointer(start: aof.buffer.pointee.base + kept, count: aof.buffer.pointee.count - kept))
            aof.buffer.pointee.clear()
            rest.withUnsafeBufferPointer { aof.buffer.pointee.append($0.baseAddress!, $0.count) }
        }
    }

    /// write(2) until done, retrying short writes and EINTR (Redis's aofWrite). Returns the
    /// bytes written and, when it stopped early, the errno.
    static func writeFully(_ fd: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) -> (count: Int, errno: Int32) {
        var done = 0
        while done < n {
            let w = write(fd, p + done, n - done)
            if w < 0 {
                if errno == EINTR { continue }
                return (done > 0 ? done : -1, errno)
            }
            done += w
        }
        return (done, 0)
    }

    // MARK: - Refusing writes

    /// -MISCONF for the AOF: the last write failed, or a background fsync did (Redis's
    /// writeCommandsDeniedByDiskError, DISK_ERROR_TYPE_AOF). nil: writes may go on.
    func aofWriteRefusal() -> String? {
        guard aof.status != .off else { return nil }
        if !aof.lastWriteOK {
            return "MISCONF Errors writing to the AOF file: \(String(cString: strerror(aof.lastWriteErrno)))"
        }
        let fsyncErrno = tandem_aof_fsync_errno()
        if fsyncErrno != 0 {
            return "MISCONF Errors writing to the AOF file: \(String(cString: strerror(fsyncErrno)))"
        }
        return nil
    }

    // MARK: - The cron's part

    /// Redis's serverCron AOF duties: a postponed flush, a retry after a write error, a
    /// scheduled rewrite, the automatic rewrite when the file grew by auto-aof-rewrite-percentage.
    mutating func appendOnlyCron() {
        if aof.status == .off && !aof.rewriteScheduled { return }
        if aof.status != .off && (aof.flushPostponedStart != 0 || !aof.lastWriteOK) {
            flushAppendOnlyFile(force: false)
        }
        if aof.status == .on && aof.lastIncrFsyncOffset != aof.lastIncrSize { flushAppendOnlyFile(force: false) }
        if !hasActiveChild && aof.rewriteScheduled && !aofRewriteLimited() {
            _ = rewriteAppendOnlyFileBackground()
            return
        }
        if aof.status == .on && !hasActiveChild && settings.autoAofRewritePercentage > 0
            && aof.currentSize > Int64(settings.autoAofRewriteMinSize)
        {
            let base = aof.baseSize > 0 ? aof.baseSize : 1
            let growth = (aof.currentSize * 100 / base) - 100
            if growth >= Int64(settings.autoAofRewritePercentage) && !aofRewriteLimited() {
                Log.notice("Starting automatic rewriting of AOF on \(growth)% growth")
                _ = rewriteAppendOnlyFileBackground()
            }
        }
    }

    /// After repeated failures automatic rewrites back off (BGREWRITEAOF still runs at once).
    mutating func aofRewriteLimited() -> Bool {
        if aof.consecutiveFailures < 3 {
            aof.limitDelayMinutes = 0
            aof.limitNextRewriteSeconds = 0
            return false
        }
        let now = Clock.unixMillis() / 1000
        if aof.limitNextRewriteSeconds != 0 {
            if now < aof.limitNextRewriteSeconds { return true }
            aof.limitNextRewriteSeconds = 0
            return false
        }
        aof.limitDelayMinutes = aof.limitDelayMinutes == 0 ? 1 : min(60, aof.limitDelayMinutes * 2)
        aof.limitNextRewriteSeconds = now + Int64(aof.limitDelayMinutes) * 60
        Log.warning("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in \(aof.limitDelayMinutes) minutes")
        return true
    }

    // MARK: - INFO

    func appendOnlyInfoFields() -> [(String, String)] {
        let now = Clock.unixMillis() / 1000
        var f: [(String, String)] = [
            ("aof_enabled", aof.status != .off ? "1" : "0"),
            ("aof_rewrite_in_progress", aof.rewriteChildRunning ? "1" : "0"),
            ("aof_rewrite_scheduled", aof.rewriteScheduled ? "1" : "0"),
            ("aof_last_rewrite_time_sec", "\(aof.lastRewriteSeconds)"),
            ("aof_current_rewrite_time_sec", aof.rewriteStartSeconds >= 0 ? "\(now - aof.rewriteStartSeconds)" : "-1"),
            ("aof_last_bgrewrite_status", aof.lastBgrewriteOK ? "ok" : "err"),
            ("aof_rewrites", "\(aof.rewrites)"),
            ("aof_rewrites_consecutive_failures", "\(aof.consecutiveFailures)"),
            ("aof_last_write_status", aof.lastWriteOK && tandem_aof_fsync_errno() == 0 ? "ok" : "err"),
            ("aof_last_cow_size", "\(aof.lastCowBytes)"),
            ("module_fork_in_progress", "0"), ("module_fork_last_cow_size", "0"),
        ]
        if aof.status != .off {
            f += [
                ("aof_current_size", "\(aof.currentSize)"),
                ("aof_base_size", "\(aof.baseSize)"),
                ("aof_pending_rewrite", aof.rewriteScheduled ? "1" : "0"),
                ("aof_buffer_length", "\(aof.buffer.pointee.count)"),
                ("aof_pending_bio_fsync", tandem_aof_fsync_in_progress() != 0 ? "1" : "0"),
                ("aof_delayed_fsync", "\(aof.delayedFsync)"),
            ]
        }
        return f
    }
}
