/*
 * AOFFiles: the AOF directory on disk — the manifest, the files it names, and the steps that
 * change them, each as Redis 7.0 does it so a directory moves freely between Tandem and
 * redis-server.
 *
 *  - `appenddirname` (inside `dir`) holds `<appendfilename>.manifest`, one base file and the
 *    incremental files; the manifest is written to `temp-<name>.manifest`, fsynced, renamed
 *    over the real one and the directory fsynced, so a crash leaves the old or the new.
 *  - Start-up with AOF on (aofOpenIfNeededOnServerStart): an empty directory gets a base file
 *    written first (the empty dataset), then the last incremental file is opened for append
 *    (or a new one is created) and the manifest saved.
 *  - An old single-file `appendonly.aof` in `dir` is moved into the directory as its base
 *    (aofUpgradePrepare) before loading.
 *  - History files (a rewrite's predecessors) are deleted by the AOF I/O thread unless
 *    aof-disable-auto-gc.
 */
import CTandem
import Glibc
import Persistence
import Platform

extension Server {
    var aofDirectory: String { settings.appenddirname }

    func aofPath(_ name: String) -> String { "\(settings.appenddirname)/\(name)" }

    var aofManifestName: String { "\(settings.appendfilename).manifest" }
    var aofTempIncrName: String { "temp-\(settings.appendfilename).incr" }

    static func fileExists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    static func directoryExists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates the AOF directory if needed. Returns the error text on failure.
    func createAOFDirectoryIfMissing() -> String? {
        if mkdir(aofDirectory, 0o755) == -1 && errno != EEXIST { return String(cString: strerror(errno)) }
        return nil
    }

    /// The size of a file in the AOF directory (nil when it cannot be stat'ed: logged).
    func aofFileSize(_ name: String, logging: Bool = true) -> (size: Int64, missing: Bool)? {
        var st = stat()
        if stat(aofPath(name), &st) == -1 {
            let missing = errno == ENOENT
            if logging {
                Log.warning("Unable to obtain the AOF file \(name) length. stat: \(String(cString: strerror(errno)))")
            }
            return missing ? (0, true) : nil
        }
        return (Int64(st.st_size), false)
    }

    // MARK: - The manifest

    /// Reads the manifest at start-up (none is fine: an empty directory or an upgrade). A bad
    /// manifest ends the process with Redis's messages.
    mutating func loadAOFManifestFromDisk() {
        aof.manifest = AOFManifest()
        if !Self.directoryExists(aofDirectory) { return }
        let path = aofPath(aofManifestName)
        if !Self.fileExists(path) { return }
        guard let bytes = ConfigLoader.readFileBytes(path) else {
            Log.warning("Fatal error: can't open the AOF manifest file \(path) for reading: \(String(cString: strerror(errno)))")
            exit(1)
        }
        switch AOFManifest.parse(bytes) {
        case .success(let m):
            aof.manifest = m
        case .failure(let e):
            Log.warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n")
            if let line = e.line {
                Log.warning("Reading the manifest file, at line \(line)\n")
                Log.warning(">>> '\(String(decoding: e.text ?? [], as: UTF8.self))'\n")
            }
            Log.warning("\(e.message)\n")
            exit(1)
        }
    }

    /// Writes `manifest` as the directory's manifest, atomically. False (logged) on failure.
    func persistAOFManifest(_ manifest: AOFManifest) -> Bool {
        let temp = "temp-\(aofManifestName)"
        let fd = open(aofPath(temp), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0o644)
        if fd == -1 {
            Log.warning("Can't open the AOF manifest file \(temp): \(String(cString: strerror(errno)))")
            return false
        }
        defer { close(fd) }
        let bytes = manifest.serialized()
        let written = bytes.withUnsafeBufferPointer { Self.writeFully(fd, $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        if written.count != bytes.count {
            Log.warning("Error trying to write the temporary AOF manifest file \(temp): \(String(cString: strerror(written.errno)))")
            return false
        }
        if fsync(fd) == -1 {
            Log.warning("Fail to fsync the temp AOF file \(temp): \(String(cString: strerror(errno))).")
            return false
        }
        if rename(aofPath(temp), aofPath(aofManifestName)) != 0 {
            Log.warning("Error trying to rename the temporary AOF manifest file \(temp) into \(aofManifestName): \(String(cString: strerror(errno)))")
            return false
        }
        if !Self.fsyncDirectory(aofDirectory) {
            Log.warning("Fail to fsync AOF directory \(aofPath(aofManifestName)): \(String(cString: strerror(errno))).")
            return false
        }
        return true
    }

    static func fsyncDirectory(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd == -1 { return false }
        defer { close(fd) }
        return fsync(fd) == 0 || errno == EINVAL || errno == EBADF
    }

    /// Deletes the history files in the background and saves the manifest without them.
    @discardableResult
    mutating func deleteAOFHistoryFiles() -> Bool {
        if settings.aofDisableAutoGC || aof.manifest.history.isEmpty { return true }
        for f in aof.manifest.history {
            let name = String(decoding: f.name, as: UTF8.self)
            Log.notice("Removing the history file \(name) in the background")
            tandem_unlink_async(aofPath(name))
        }
        aof.manifest.history = []
        return persistAOFManifest(aof.manifest)
    }

    // MARK: - Start-up

    /// An old single `appendonly.aof` in `dir` and no usable directory: move it in as the base
    /// (the three cases of Redis 7.0's loadAppendOnlyFiles). Exits on failure, as Redis.
    mutating func upgradeOldAppendOnlyFileIfNeeded() {
        let old = settings.appendfilename
        guard Self.fileExists(old) else { return }
        let m = aof.manifest
        let upgrade = !Self.directoryExists(aofDirectory)
            || (m.base == nil && m.incremental.isEmpty)
            || (m.base != nil && m.incremental.isEmpty && m.base!.name == Array(old.utf8) && !Self.fileExists(aofPath(old)))
        guard upgrade else { return }
        if let error = createAOFDirectoryIfMissing() {
            Log.warning("Can't open or create append-only dir \(aofDirectory): \(error)")
            exit(1)
        }
        var manifest = m
        manifest.base = AOFManifest.File(name: Array(old.utf8), sequence: 1, type: .base)
        manifest.baseSequence = 1
        if !persistAOFManifest(manifest) { exit(1) }
        if rename(old, aofPath(old)) == -1 {
            Log.warning("Error trying to move the old AOF file \(old) into dir \(aofDirectory): \(String(cString: strerror(errno)))")
            exit(1)
        }
        aof.manifest = manifest
        Log.notice("Successfully migrated an old-style AOF file (\(old)) into the AOF directory (\(aofDirectory)).")
    }

    /// After loading, with appendonly yes: make sure there is a base (an empty start writes
    /// one), open the last incremental file for append or create one, save the manifest.
    mutating func openAppendOnlyFileOnStart() {
        guard settings.appendonly else { return }
        if let error = createAOFDirectoryIfMissing() {
            Log.warning("Can't open or create append-only dir \(aofDirectory): \(error)")
            exit(1)
        }
        let hadIncremental = !aof.manifest.incremental.isEmpty
        if aof.manifest.base == nil && !hadIncremental {
            let name = aof.manifest.startNewBase(filename: settings.appendfilename, rdbFormat: settings.aofUseRdbPreamble)
            if let error = writeAOFBase(to: aofPath(name)) {
                Log.warning(error)
                exit(1)
            }
            Log.notice("Creating AOF base file \(name) on server start")
        }
        let name: String
        if let last = aof.manifest.incremental.last {
            name = String(decoding: last.name, as: UTF8.self)
        } else {
            name = aof.manifest.startNewIncremental(filename: settings.appendfilename)
        }
        let fd = open(aofPath(name), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd == -1 {
            Log.warning("Can't open the append-only file \(name): \(String(cString: strerror(errno)))")
            exit(1)
        }
        if !persistAOFManifest(aof.manifest) { exit(1) }
        aof.fd = fd
        aof.status = .on
        aof.lastIncrSize = aofFileSize(name)?.size ?? 0
        aof.lastIncrFsyncOffset = aof.lastIncrSize
        aof.lastFsyncMillis = Clock.unixMillis()
        forgetSelectedDatabase()
        updatePropagation()
        Log.notice(hadIncremental ? "Opening AOF incr file \(name) on server start" : "Creating AOF incr file \(name) on server start")
    }
}
