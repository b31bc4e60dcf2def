/*
 * Snapshots: the server's side of RDB persistence — Redis's rdb.c outside the format.
 *
 *  - SAVE writes the dataset in the foreground; BGSAVE, `save` points and disk-mode full
 *    syncs fork a child that writes it while the parent keeps serving (a diskless sync's
 *    child writes the replicas' sockets instead, runStreamingChild). Both write
 *    `temp-<pid>.rdb` in `dir`, fsync it and rename it over `dbfilename`, so a failed or
 *    killed save never leaves a half-written dump under the real name.
 *  - The child reports through a pipe: its copy-on-write size now and then, and a final
 *    record (bytes written, keys, COW) before it exits. The parent reads the pipe and reaps
 *    the child with waitpid(WNOHANG) from the cron: it never blocks on the child. While the
 *    child exists, hash tables stop resizing (Database/Dict consult the global switch), so
 *    the parent dirties as few shared pages as possible.
 *  - A failed background save sets `rdb_last_bgsave_status:err`; with
 *    `stop-writes-on-bgsave-error yes` and save points configured, writes are then refused
 *    with -MISCONF until a save succeeds (Dispatch checks `refusesWritesAfterSaveError`).
 *  - Start-up loading reads `dir/dbfilename` after the listeners are open, answering
 *    -LOADING to clients meanwhile, as Redis does.
 *
 * The fork is safe at any moment: the primary's only other thread, the lazy-free thread, works
 * on values already unlinked from the keyspace and holds no lock a child needs (glibc keeps
 * malloc consistent across fork).
 */
import CTandem
import Glibc
import Keyspace
import Persistence
import Platform
import Replication

/// Persistence state: what INFO persistence reports and what the cron needs.
struct PersistenceState {
    var childPipe: Int32 = -1
    var childStartMillis: Int64 = 0
    var childDirtyAtStart: Int64 = 0
    /// The running child streams to replica sockets (a diskless sync) instead of writing a file.
    var childToSockets = false
    var lastBgsaveOK = true
    var lastBgsaveSeconds: Int64 = -1
    var lastBgsaveTryMillis: Int64 = 0
    var bgsaveScheduled = false
    var saves: Int64 = 0
    var currentCowBytes = 0
    var currentCowUpdatedMillis: Int64 = 0
    var currentCowPeak = 0
    var lastCowBytes = 0
    /// What the last child reported writing (a diskless transfer's payload, per replica).
    var childBytesWritten: Int64 = 0
    /// What the last diskless child reported of its relay pipes and sockets (ChildReport).
    var childRelaysDelivered: Int64 = 0
    var childSocketsDelivered: Int64 = 0
    var currentSaveKeysProcessed = 0
    var currentSaveKeysTotal = 0
    var latestForkMicros: Int64 = 0
    var totalForks: Int64 = 0
    // Loading
    var loading = false
    /// A replica loads its master's snapshot into a fresh set while still serving its old data
    /// (repl-diskless-load swapdb, same history: Redis 7.0's async loading). `loading` is set too.
    var asyncLoading = false
    var loadingStartSeconds: Int64 = 0
    var loadingTotalBytes: Int64 = 0
    var loadingLoadedBytes: Int64 = 0
    var lastLoadKeysLoaded = 0
    var lastLoadKeysExpired = 0
}

/// The fixed-size record a snapshot child sends to its parent.
struct ChildReport {
    static let progress: Int64 = 1
    static let done: Int64 = 2
    var kind: Int64 = 0
    var keys: Int64 = 0
    var cowBytes: Int64 = 0
    var bytesWritten: Int64 = 0
    /// A diskless sync's child: which relay pipes got the whole payload (1: plain, 2: LZ4), and
    /// how many replica sockets it wrote itself got it.
    var relaysDelivered: Int64 = 0
    var socketsDelivered: Int64 = 0
}

extension Server {
    // MARK: - Writing a snapshot

    var rdbWriteOptions: RDBWriteOptions {
        var o = RDBWriteOptions(compression: settings.rdbCompression, checksum: settings.rdbChecksum,
                                keySaveDelayMicros: settings.rdbKeySaveDelay)
        // As Redis: the LRU/LFU field travels in the file when a policy uses it.
        switch settings.evictionPolicy {
        case .allKeysLRU, .volatileLRU: o.savesIdleAt = lruClock
        case .allKeysLFU, .volatileLFU: o.savesFrequency = true
        default: break
        }
        return o
    }

    func auxInfo() -> RDBAuxInfo {
        // The database the stream has selected: a replica continuing from this snapshot
        // selects it for its master client (the stream after the fork may not say SELECT).
        let streamDB = isReplicaNode ? (link.masterClient?.pointee.db ?? link.masterDB) : max(0, propagatedDB)
        return RDBAuxInfo(redisVersion: ServerInfo.redisVersion, createdAt: Clock.unixMillis() / 1000,
                   usedMemory: tandem_used_memory(), replStreamDB: streamDB,
                   replID: isReplicaNode || repl.backlog != nil ? repl.replID : nil,
                   replOffset: repl.offset)
    }

    /// Writes the dataset to `temp-<pid>.rdb`, fsyncs and renames it over `dbfilename`.
    /// Returns nil on success, else the reason (the old dump is untouched).
    func writeSnapshotFile(progress: ((Int) -> Void)? = nil) -> (error: String?, bytes: Int64, keys: Int) {
        let temp = "temp-\(getpid()).rdb"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            let reason = String(cString: strerror(errno))
            var dir = "?"
            if let p = getcwd(nil, 0) {
                dir = String(cString: p)
                free(p)
            }
            return ("Failed opening the temp RDB file \(temp) (in server root dir \(dir)) for saving: \(reason)", 0, 0)
        }
        var w = RDBWriter(out: RDBOutput(fd: fd), options: rdbWriteOptions)
        if settings.storedValue("rdb-save-incremental-fsync") == "yes" { w.out.autoSyncBytes = RDBOutput.incrementalFsyncBytes }
        w.onProgress = progress
        w.writeSnapshot(dbs: dbs, count: dbCount, aux: auxInfo(), functions: functionsEngine.pointee.libraryCodes)
        let bytes = w.out.bytesWritten
        let keys = w.keysWritten
        var failure: String? = nil
        if w.out.failed {
            failure = "Write error saving DB on disk: \(String(cString: strerror(w.out.errorNumber)))"
        } else if fsync(fd) != 0 {
            failure = "Write error saving DB on disk: \(String(cString: strerror(errno)))"
        }
        close(fd)
        if failure == nil && rename(temp, settings.dbfilename) != 0 {
            failure = "Error moving temp DB file \(temp) on the final destination \(settings.dbfilename) (in server root dir): \(String(cString: strerror(errno)))"
        }
        if failure != nil { unlink(temp) }
        return (failure, bytes, keys)
    }

    /// SAVE and the shutdown save: in the foreground. Returns success.
    mutating func saveInForeground() -> Bool {
        let result = writeSnapshotFile()
        if let error = result.error {
            // Unlike a failed BGSAVE this does not stop writes (MISCONF), as in Redis.
            Log.warning(error)
            return false
        }
        Log.notice("DB saved on disk")
        dirty = 0
        lastSaveTime = Clock.unixMillis() / 1000
        persistence.lastBgsaveOK = true
        persistence.saves += 1
        return true
    }

    // MARK: - Background saves

    var hasActiveChild: Bool { childPID >= 0 }

    /// Forks a child that writes the snapshot to `dbfilename`, or, given `sockets`, streams it
    /// to those replica sockets as a diskless payload. Returns false (and logs) when fork fails.
    @discardableResult
    mutating func startBackgroundSave(toSockets sockets: [Int32]? = nil, compressed: [Int32] = [],
                                      relays: (plain: Int32, compressed: Int32) = (-1, -1)) -> Bool {
        let reports: Pipe
        do {
            reports = try Pipe.make(nonBlockingRead: true)
        } catch {
            Log.warning("Can't save in background: \(error)")
            return false
        }
        let fds = (reports.readEnd, reports.writeEnd)
        persistence.lastBgsaveTryMillis = Clock.unixMillis()
        persistence.childDirtyAtStart = dirty
        persistence.childBytesWritten = 0
        persistence.childRelaysDelivered = 0
        persistence.childSocketsDelivered = 0
        let start = Clock.monotonicMicros()
        let pid: pid_t
        switch ChildProcess.fork() {
        case .child:
            close(fds.0)
            if let sockets { runStreamingChild(sockets, compressed: compressed, relays: relays, reportFD: fds.1) }
            runSnapshotChild(reportFD: fds.1)
        case .failed(let error):
            close(fds.0)
            close(fds.1)
            persistence.lastBgsaveOK = false
            Log.warning("Can't save in background: \(error)")
            return false
        case .parent(let child):
            close(fds.1)
            pid = child
        }
        childStarted(pid, reports: fds.0, forkStartMicros: start)
        persistence.childToSockets = sockets != nil
        Log.notice(sockets == nil ? "Background saving started by pid \(pid)" : "Background RDB transfer started by pid \(pid)")
        return true
    }

    /// The parent's bookkeeping for a child just forked (a snapshot or an AOF rewrite): INFO's
    /// fork and progress fields, its report pipe, no table resizing while it lives.
    mutating func childStarted(_ pid: pid_t, reports: Int32, forkStartMicros start: Int64) {
        persistence.latestForkMicros = Clock.monotonicMicros() - start
        addLatencySampleIfNeeded("fork", milliseconds: persistence.latestForkMicros / 1000)
        persistence.totalForks += 1
        persistence.childPipe = reports
        persistence.childStartMillis = Clock.unixMillis()
        persistence.currentCowBytes = 0
        persistence.currentCowPeak = 0
        persistence.currentSaveKeysProcessed = 0
        persistence.currentSaveKeysTotal = (0..<dbCount).reduce(0) { $0 + dbs[$1].count }
        childPID = pid
        pauseResizing(true)
    }

    /// The parent's bookkeeping when any child is gone.
    mutating func endChild() {
        if persistence.childPipe >= 0 {
            close(persistence.childPipe)
            persistence.childPipe = -1
        }
        childPID = -1
        persistence.currentCowBytes = 0
        pauseResizing(false)
    }

    /// In a fork child, first: log as a child, and let go of the listening sockets.
    func becomeSnapshotChild(title: String = "redis-rdb-bgsave") {
        // A child whose parent was killed (the OOM killer, kill -9) stops too, as Redis's does
        // when its reports to the parent fail: nobody would take its file or feed its replicas.
        tandem_die_with_parent()
        Log.role = "C"
        applyChildOOMScoreAdj()
        updateProcessTitle(title)
        for fd in listeners { close(fd) }
        if unixListener >= 0 { close(unixListener) }
        // The sender workers exit when the primary's end of their control socket closes: a
        // child holding a copy would keep them alive after the primary died.
        for w in repl.workers where w.control >= 0 { close(w.control) }
        // The primary's ends of the relay pipes: once the primary closes its end, a write to
        // the pipe must fail here rather than wait.
        for r in repl.relays where r.fd >= 0 { close(r.fd) }
    }

    /// In a fork child, last: log the copy-on-write it caused (the last sample, the largest and
    /// their average, as Redis) and send the final report.
    func reportChildDone(keys: Int, bytesWritten: Int64, reportFD: Int32, samples: CowSamples = CowSamples(),
                         relaysDelivered: Int64 = 0, socketsDelivered: Int64 = 0) {
        var samples = samples
        let cow = samples.take()
        if cow > 0 {
            let mb = 1024 * 1024
            Log.notice("Fork CoW for RDB: current \(cow / mb) MB, peak \(samples.peak / mb) MB, average \(samples.average / mb) MB")
        }
        var report = ChildReport(kind: ChildReport.done, keys: Int64(keys), cowBytes: Int64(cow), bytesWritten: bytesWritten,
                                 relaysDelivered: relaysDelivered, socketsDelivered: socketsDelivered)
        _ = withUnsafeBytes(of: &report) { write(reportFD, $0.baseAddress, $0.count) }
    }

    /// In the child: write, report, exit. Never returns.
    func runSnapshotChild(reportFD: Int32) -> Never {
        becomeSnapshotChild()
        var progress = ChildProgress(reportFD: reportFD)
        let result = writeSnapshotFile { progress.keysWritten($0) }
        let samples = progress.samples
        if let error = result.error {
            Log.warning(error)
            _exit(1)
        }
        Log.notice("DB saved on disk")
        reportChildDone(keys: result.keys, bytesWritten: result.bytes, reportFD: reportFD, samples: samples)
        _exit(0)
    }

    /// In the child of a diskless sync: `$EOF:<mark>`, the RDB and the mark to every socket at
    /// once. A replica that fails or stalls for repl-timeout is shut down (the parent sees its
    /// connection end) and the others go on. `relays` are pipes the parent relays to replicas
    /// on the TLS port (PayloadRelay), written like sockets. Exits 0 when at least one replica
    /// (or relay) got it all.
    func runStreamingChild(_ sockets: [Int32], compressed: [Int32], relays: (plain: Int32, compressed: Int32),
                           reportFD: Int32) -> Never {
        becomeSnapshotChild(title: "redis-rdb-to-slaves")
        let timeout = Int32(clamping: max(1, settings.replTimeout) * 1000)
        let mark = Array(Self.randomHex(40).utf8)
        let header = Array("$EOF:".utf8) + mark + [13, 10]
        // Replicas that agreed on tandem-lz4-rdb get the same payload as one LZ4 frame, compressed
        // once for all of them.
        let lz4 = UnsafeMutablePointer<LZ4FrameWriter>.allocate(capacity: 1)
        lz4.initialize(to: LZ4FrameWriter())
        let encode: (UnsafeRawPointer, Int, (UnsafeRawPointer, Int) -> Void) -> Void = { p, n, sink in
            _ = lz4.pointee.write(p, n, to: sink)
        }
        var plain = sockets, encoded = compressed
        if relays.plain >= 0 { plain.append(relays.plain) }
        if relays.compressed >= 0 { encoded.append(relays.compressed) }
        header.withUnsafeBytes { h in
            RDBOutput.writeToAll(&plain, h.baseAddress!, h.count, timeoutMillis: timeout)
            if !encoded.isEmpty { encode(h.baseAddress!, h.count) { RDBOutput.writeToAll(&encoded, $0, $1, timeoutMillis: timeout) } }
        }
        plain = plain.filter { $0 >= 0 }
        encoded = encoded.filter { $0 >= 0 }
        if plain.isEmpty && encoded.isEmpty { _exit(1) }
        var w = RDBWriter(out: RDBOutput(sockets: plain, encodedSockets: encoded, encode: encoded.isEmpty ? nil : encode,
                                         timeoutMillis: timeout), options: rdbWriteOptions)
        let filter = repl.syncFilter
        w.writeSnapshot(dbs: dbs, count: filter.data ? dbCount : 0, aux: auxInfo(),
                        functions: filter.functions ? functionsEngine.pointee.libraryCodes : [])
        if w.out.failed { _exit(1) }
        plain = w.out.liveSockets
        encoded = w.out.liveEncodedSockets
        mark.withUnsafeBytes { m in
            RDBOutput.writeToAll(&plain, m.baseAddress!, m.count, timeoutMillis: timeout)
            if !encoded.isEmpty {
                encode(m.baseAddress!, m.count) { RDBOutput.writeToAll(&encoded, $0, $1, timeoutMillis: timeout) }
                lz4.pointee.end { RDBOutput.writeToAll(&encoded, $0, $1, timeoutMillis: timeout) }
            }
        }
        // The relays' bytes are counted by the parent as it writes them to the replicas.
        let relayFDs = [relays.plain, relays.compressed].filter { $0 >= 0 }
        let plainDelivered = plain.filter { $0 >= 0 && !relayFDs.contains($0) }.count
        let encodedDelivered = encoded.filter { $0 >= 0 && !relayFDs.contains($0) }.count
        let relaysDelivered = Int64((relays.plain >= 0 && plain.contains(relays.plain) ? 1 : 0)
            | (relays.compressed >= 0 && encoded.contains(relays.compressed) ? 2 : 0))
        for fd in relayFDs { close(fd) }
        // Redis's parent logs this when its pipe from the child ends; here the child writes the
        // sockets itself and knows best which are still up. With relays (TLS replicas) the
        // parent logs it, counting both kinds, once it has read the pipes to their end.
        if relayFDs.isEmpty {
            Log.notice("Diskless rdb transfer, done reading from pipe, \(plainDelivered + encodedDelivered) replicas still up.")
        }
        let payload = w.out.bytesWritten + Int64(header.count + mark.count)
        let wire = payload * Int64(plainDelivered) + lz4.pointee.bytesOut * Int64(encodedDelivered)
        reportChildDone(keys: w.keysWritten, bytesWritten: wire, reportFD: reportFD, relaysDelivered: relaysDelivered,
                        socketsDelivered: Int64(plainDelivered + encodedDelivered))
        _exit(plainDelivered + encodedDelivered > 0 || relaysDelivered != 0 ? 0 : 1)
    }

    /// This process's private dirty memory: what copy-on-write has duplicated so far.
    static func privateDirtyBytes() -> Int {
        guard let f = fopen("/proc/self/smaps_rollup", "r") else { return 0 }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        var total = 0
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(cString: line)
            if s.hasPrefix("Private_Dirty:") {
                let kb = s.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
                total += kb * 1024
            }
        }
        return total
    }

    mutating func pauseResizing(_ paused: Bool) {
        tandem_set_resize_allowed(paused ? 0 : 1)
        for i in 0..<dbCount { dbs[i].dict.resizeAllowed = !paused }
    }

    /// From the cron: drain the child's reports and reap it when it has exited.
    mutating func checkChildDone() {
        guard childPID >= 0 else { return }
        readChildReports()
        guard let exit = ChildProcess.reap(childPID) else { return }
        readChildReports()
        if aof.rewriteChildRunning {
            finishAOFRewrite(pid: childPID, ok: exit.succeeded, signal: Int(exit.signal))
        } else {
            finishBackgroundSave(pid: childPID, ok: exit.succeeded, signal: Int(exit.signal))
        }
    }

    mutating func readChildReports() {
        var report = ChildReport()
        while persistence.childPipe >= 0 {
            let n = withUnsafeMutableBytes(of: &report) { read(persistence.childPipe, $0.baseAddress, $0.count) }
            if n != MemoryLayout<ChildReport>.size { return }
            persistence.currentSaveKeysProcessed = Int(report.keys)
            persistence.currentCowBytes = Int(report.cowBytes)
            persistence.currentCowPeak = max(persistence.currentCowPeak, Int(report.cowBytes))
            persistence.currentCowUpdatedMillis = Clock.unixMillis()
            if report.kind == ChildReport.done {
                persistence.lastCowBytes = Int(report.cowBytes)
                persistence.childBytesWritten = report.bytesWritten
                persistence.childRelaysDelivered = report.relaysDelivered
                persistence.childSocketsDelivered = report.socketsDelivered
            }
        }
    }

    mutating func finishBackgroundSave(pid: Int32, ok: Bool, signal: Int) {
        let toSockets = persistence.childToSockets
        persistence.childToSockets = false
        if toSockets {
            // A transfer, not a save: the dump on disk and the save counters are untouched.
            if ok { repl.netOutputBytes += persistence.childBytesWritten }
            Log.notice(ok ? "Background RDB transfer terminated with success"
                       : signal != 0 ? "Background transfer terminated by signal \(signal)" : "Background transfer error")
        } else if ok {
            Log.notice("Background saving terminated with success")
            dirty -= persistence.childDirtyAtStart
            if dirty < 0 { dirty = 0 }
            lastSaveTime = Clock.unixMillis() / 1000
            persistence.lastBgsaveOK = true
            persistence.saves += 1
        } else if signal != 0 {
            Log.warning("Background saving terminated by signal \(signal)")
            let unlinkStart = Clock.monotonicMicros()
            unlink("temp-\(pid).rdb")
            addLatencySampleIfNeeded("rdb-unlink-temp-file", milliseconds: (Clock.monotonicMicros() - unlinkStart) / 1000)
            // A child killed on purpose (SIGUSR1, as Redis uses) is not an error.
            if signal != Int(SIGUSR1) { persistence.lastBgsaveOK = false }
        } else {
            Log.warning("Background saving error")
            persistence.lastBgsaveOK = false
        }
        persistence.lastBgsaveSeconds = (Clock.unixMillis() - persistence.childStartMillis + 500) / 1000
        endChild()
        if repl.syncForkOffset >= 0 || repl.replicas.contains(where: { $0.pointee.replicaInfo.state == .waitBgsaveStart }) {
            syncSnapshotFinished(ok: ok)
        }
    }

    /// Stops a running snapshot child (FLUSHALL, SHUTDOWN) and waits for it.
    mutating func killSnapshotChild() {
        guard childPID >= 0, !aof.rewriteChildRunning else { return }
        let pid = childPID
        kill(pid, SIGUSR1)
        ChildProcess.wait(pid)
        finishBackgroundSave(pid: pid, ok: false, signal: Int(SIGUSR1))
    }

    /// From the cron: start a BGSAVE when a save point is reached (or one was scheduled).
    mutating func checkSavePoints() {
        if childPID >= 0 { return }
        let now = Clock.unixMillis()
        if persistence.bgsaveScheduled {
            persistence.bgsaveScheduled = false
            startBackgroundSave()
            return
        }
        let retryAllowed = persistence.lastBgsaveOK || now - persistence.lastBgsaveTryMillis > 5000
        guard retryAllowed else { return }
        for point in settings.save where dirty >= Int64(point.changes) && now / 1000 - lastSaveTime > Int64(point.seconds) {
            Log.notice("\(point.changes) changes in \(point.seconds) seconds. Saving...")
            startBackgroundSave()
            return
        }
    }

    /// -MISCONF applies: the last background save failed and it matters.
    var refusesWritesAfterSaveError: Bool {
        settings.stopWritesOnBgsaveError && !settings.save.isEmpty && !persistence.lastBgsaveOK
    }

    // MARK: - Loading

    /// Loads `dbfilename` at start-up. A missing file is an empty dataset; any other
    /// failure is fatal and leaves the file as it is.
    public mutating func loadDataFromDisk() -> Bool {
        // The manifest is read whatever appendonly says (BGREWRITEAOF with the AOF off continues
        // its numbering), as Redis 7.0; with appendonly yes the AOF is the dataset.
        loadAOFManifestFromDisk()
        if settings.appendonly { return loadAppendOnlyFilesOnStart() }
        defer { deleteAOFHistoryFiles() }
        let fd = open(settings.dbfilename, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return true }
            Log.warning("Fatal error loading the DB: \(String(cString: strerror(errno))). Exiting.")
            return false
        }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let start = Clock.monotonicMicros()
        // A master drops the keys that expired on disk and remembers them: their DELs go into
        // the restored backlog, so its replicas continue and drop them too. A replica keeps
        // them: its master's DELs will come (Redis 7.0's iAmMaster test in rdbLoad).
        switch loadSnapshot(fd: fd, size: Int64(st.st_size), discardExpired: iAmMaster, serveClients: true,
                            collectExpired: iAmMaster) {
        case .success(let summary):
            let seconds = Double(Clock.monotonicMicros() - start) / 1_000_000
            if summary.emptySkipped > 0 {
                Log.warning("Done loading RDB, keys loaded: \(summary.keysLoaded), keys expired: \(summary.expiredSkipped), empty keys skipped: \(summary.emptySkipped).")
            } else {
                Log.notice("Done loading RDB, keys loaded: \(summary.keysLoaded), keys expired: \(summary.expiredSkipped).")
            }
            Log.notice("DB loaded from disk: \(String(format3: seconds)) seconds")
            restoreReplicationHistory(summary)
            return true
        case .failure(let error):
            logLoadFailure(error)
            // Redis's words for a dump that cannot be read to its end (rdbCheckThenExit).
            Log.warning("Terminating server after rdb file reading failure.")
            return false
        }
    }

    /// Redis's iAmMaster: a cluster node that nodes.conf makes a replica is one from start-up,
    /// before the cron starts its replication.
    var iAmMaster: Bool { cluster.enabled ? !cluster.me.isReplica : settings.replicaOf == nil }

    /// The history recorded in the dump (repl-id, repl-offset): a replica offers it to its
    /// master (PSYNC continues after a restart); a master keeps it as replid2 with a backlog, so
    /// its replicas can continue after the master restarted (Redis 7.0 does both).
    mutating func restoreReplicationHistory(_ summary: RDBLoadSummary) {
        guard let id = summary.replID, id.utf8.count == 40, let offset = summary.replOffset, offset >= 0 else { return }
        if !iAmMaster {
            repl.replID = id
            repl.offset = offset
            link.hasCachedMaster = true
            link.masterDB = summary.replStreamDB.map { $0 >= 0 && $0 < dbCount ? $0 : 0 } ?? 0
        } else {
            repl.replID2 = id
            repl.secondReplOffset = offset + 1
            repl.offset = offset
            createBacklog()
            for (db, key) in summary.expiredKeys { emitPropagated(db, [Array("DEL".utf8), key]) }
        }
    }

    /// Redis's wording for a dump that cannot be loaded, with the byte offset.
    func logLoadFailure(_ error: RDBError) {
        if error.message.hasPrefix("Unexpected EOF") {
            Log.warning("Short read or OOM loading DB. Unrecoverable error, aborting now.")
        }
        if error.message.hasPrefix("Wrong RDB checksum") {
            // Redis logs the checksums, then reports the corruption as "RDB CRC error".
            Log.warning(error.message)
            Log.warning("Internal error in RDB reading offset \(error.offset), function at RDBLoader -> RDB CRC error")
            return
        }
        Log.warning("Internal error in RDB reading offset \(error.offset), function at RDBLoader -> \(error.message)")
        // Redis then checks the whole file (redis-check-rdb, in process) and logs its verdict.
        Log.warning("--- RDB ERROR DETECTED ---")
        Log.warning("[offset \(error.offset)] \(error.message)")
    }

    var rdbLoadOptions: RDBLoadOptions {
        var o = RDBLoadOptions()
        o.hashMaxListpackEntries = settings.hashMaxListpackEntries
        o.progressIntervalBytes = settings.loadingProcessEventsIntervalBytes
        o.hashMaxListpackValue = settings.hashMaxListpackValue
        o.zsetMaxListpackEntries = settings.zsetMaxListpackEntries
        o.zsetMaxListpackValue = settings.zsetMaxListpackValue
        o.setMaxIntsetEntries = settings.setMaxIntsetEntries
        o.listMaxListpackSize = settings.listMaxListpackSize
        o.nowMillis = Clock.unixMillis()
        o.verifyChecksum = settings.rdbChecksum
        o.keyLoadDelayMicros = settings.keyLoadDelay
        o.lruClock = lruClock
        if settings.evictionPolicy.isLFU { o.lfuMinutes = Int(Self.lfuMinutes()) }
        return o
    }

    /// Reads an RDB stream from `fd` into the (empty) databases, answering clients with
    /// -LOADING meanwhile when `serveClients` (not from inside a command: DEBUG RELOAD).
    /// On failure the databases are emptied again.
    mutating func loadSnapshot(fd: Int32, size: Int64, discardExpired: Bool, serveClients: Bool,
                               collectExpired: Bool = false, libraries: LoadedLibraries = .replaceAll,
                               replaceDuplicateKeys: Bool = false) -> Result<RDBLoadSummary, RDBError>
    {
        var input = RDBInput(fd: fd)
        return loadSnapshot(from: &input, into: dbs, size: size, discardExpired: discardExpired, serveClients: serveClients,
                            collectExpired: collectExpired, libraries: libraries, replaceDuplicateKeys: replaceDuplicateKeys)
    }

    /// The same from any input into any set of `dbCount` databases (a replica's swapdb load
    /// fills a fresh set while the live one keeps serving).
    /// The function libraries a load finds replace the current ones, or are added to them.
    mutating func loadSnapshot(from input: inout RDBInput, into target: UnsafeMutablePointer<Database>, size: Int64,
                               discardExpired: Bool, serveClients: Bool, collectExpired: Bool = false,
                               libraries: LoadedLibraries = .replaceAll, replaceDuplicateKeys: Bool = false,
                               async: Bool = false)
        -> Result<RDBLoadSummary, RDBError>
    {
        persistence.asyncLoading = async
        defer { persistence.asyncLoading = false }
        var options = rdbLoadOptions
        options.replaceDuplicateKeys = replaceDuplicateKeys
        options.discardExpired = discardExpired
        options.collectExpired = collectExpired
        persistence.loading = true
        persistence.loadingStartSeconds = Clock.unixMillis() / 1000
        persistence.loadingTotalBytes = size
        persistence.loadingLoadedBytes = 0
        defer { persistence.loading = false }
        do {
            let summary = try RDBLoader.load(&input, into: target, count: dbCount, options: options) { offset in
                persistence.loadingLoadedBytes = offset
                if serveClients { processEventsWhileLoading() }
            }
            if let v = summary.redisVersion { Log.notice("Loading RDB produced by version \(v)") }
            let merge: Bool
            switch libraries {
            case .replaceAll: merge = false
            case .add(let replacing): merge = replacing
            }
            if let error = adoptLoadedLibraries(summary.functionLibraries, merge: merge,
                                                keepCurrent: libraries != .replaceAll) {
                for i in 0..<dbCount { target[i].removeAll() }
                return .failure(RDBError(error, offset: input.offset))
            }
            persistence.lastLoadKeysLoaded = summary.keysLoaded
            persistence.lastLoadKeysExpired = summary.expiredSkipped
            return .success(summary)
        } catch {
            for i in 0..<dbCount { target[i].removeAll() }
            return .failure(error)
        }
    }

    /// What a load does with the function libraries it finds.
    enum LoadedLibraries: Equatable {
        /// They become the only ones (a startup, a full sync, DEBUG RELOAD).
        case replaceAll
        /// They are added to the current ones; one of the same name is replaced or is an error
        /// (DEBUG RELOAD NOFLUSH [MERGE]).
        case add(replacing: Bool)
    }

    /// One non-blocking turn of the event loop while a load is running: accept, read and
    /// answer clients (commands not flagged `loading` get -LOADING), flush replies.
    mutating func processEventsWhileLoading() {
        // SIGTERM/SIGINT while loading: the data is not ours to save yet, so the process ends
        // at once without saving, as Redis does (its whileBlockedCron).
        let sig = tandem_shutdown_signal()
        if sig != 0 {
            Log.warning("Received \(sig == SIGINT ? "SIGINT" : "SIGTERM") scheduling shutdown...")
            _ = finishShutdownSteps(.noSave, force: true)
            exit(finishShutdown())
        }
        // (The replica link's socket is out of the loop while its own snapshot loads.) Up to
        // four turns, as Redis's processEventsWhileBlocked: a turn that finds nothing also clears
        // the clients epoll kept listed from the turn before, so the next call sees commands in
        // the order they came (a busy script started during async loading must meet the PING
        // sent after it).
        for _ in 0..<4 {
            let n = loop.wait(timeoutMillis: 0)
            if n == 0 { break }
            handleReadyEvents(n)
            flushPendingWrites()
        }
        if closeCount > 0 { freeClosingClients() }
    }
}

extension String {
    init(format3 v: Double) {
        let scaled = Int64((v * 1000).rounded())
        let frac = String(scaled % 1000)
        self = "\(scaled / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}

/// A fork child's progress reports to its parent, about once a second: keys written and
/// copy-on-write so far, for INFO persistence.
struct ChildProgress {
    let reportFD: Int32
    var samples = CowSamples()
    var lastReportMillis = Clock.monotonicMillis()

    init(reportFD: Int32) { self.reportFD = reportFD }

    mutating func keysWritten(_ keys: Int) {
        let now = Clock.monotonicMillis()
        if now - lastReportMillis < 1000 { return }
        lastReportMillis = now
        var report = ChildReport(kind: ChildReport.progress, keys: Int64(keys),
                                 cowBytes: Int64(samples.take()), bytesWritten: 0)
        _ = withUnsafeBytes(of: &report) { write(reportFD, $0.baseAddress, $0.count) }
    }
}

/// The copy-on-write samples a snapshot child takes (about once a second), for its closing line.
struct CowSamples {
    private(set) var peak = 0
    private var total = 0
    private var count = 0

    /// Samples the child's private dirty memory now; returns it.
    mutating func take() -> Int {
        let current = Server.privateDirtyBytes()
        peak = max(peak, current)
        total += current
        count += 1
        return current
    }

    var average: Int { count > 0 ? total / count : 0 }
}
