/*
 * AOFLoading: replaying the AOF at start-up and for DEBUG LOADAOF — aof.c's loadAppendOnlyFiles
 * and loadSingleAppendOnlyFile, with their outcomes and log lines.
 *
 * The manifest's base file is loaded first (an RDB file, recognised by its `REDIS` magic, or
 * commands), then each incremental file. A file of commands is read by AOFCommandReader and
 * each command is run on a private client flagged as the master's (no authentication, memory
 * or replication checks apply, and replies are dropped), with propagation off and nothing
 * expiring while the files load (the active expire cycle takes over afterwards). MULTI/EXEC
 * blocks are queued and run as the file says; an EXEC missing at the end reverts to the MULTI.
 *
 * A file that ends inside a command is truncated at the last whole command when
 * `aof-load-truncated yes` and it is the last file; otherwise loading fails with Redis's
 * message naming redis-check-aof. A command Tandem does not know, or bytes that are not the
 * AOF grammar, fail the load: the process exits rather than start with part of the data.
 */
import CTandem
import Glibc
import Keyspace
import Persistence
import Platform

/// Redis's AOF_OK ... AOF_TRUNCATED.
enum AOFLoadResult: Equatable {
    case ok, notExist, empty, openError, failed, truncated
}

extension Server {
    /// Start-up with appendonly yes: load the files the manifest names, open the incremental
    /// file, drop history files. False when the server must not start.
    mutating func loadAppendOnlyFilesOnStart() -> Bool {
        let start = Clock.monotonicMicros()
        let result = loadAppendOnlyFiles(serveClients: true)
        if result == .failed || result == .openError { return false }
        if result != .notExist {
            Log.notice("DB loaded from append only file: \(String(format3: Double(Clock.monotonicMicros() - start) / 1_000_000)) seconds")
        }
        openAppendOnlyFileOnStart()
        deleteAOFHistoryFiles()
        return true
    }

    /// Loads the base and incremental files into the (empty) databases.
    mutating func loadAppendOnlyFiles(serveClients: Bool) -> AOFLoadResult {
        upgradeOldAppendOnlyFileIfNeeded()
        let files = aof.manifest.filesToLoad
        if files.isEmpty { return .notExist }
        var total: Int64 = 0
        for f in files {
            // A file the manifest names but the disk lacks is fatal.
            guard let s = aofFileSize(String(decoding: f.name, as: UTF8.self)) else { return .openError }
            if s.missing { return .failed }
            total += s.size
        }
        if total == 0 { return .empty }
        // No writes reach a file, the replicas or the stream while replaying.
        let savedStatus = aof.status
        let savedPropagation = propagationEnabled
        aof.status = .off
        propagationEnabled = false
        defer {
            aof.status = savedStatus
            propagationEnabled = savedPropagation
        }
        var result = AOFLoadResult.ok
        var baseSize: Int64 = 0
        var loadedBefore: Int64 = 0
        for (i, f) in files.enumerated() {
            let name = String(decoding: f.name, as: UTF8.self)
            let last = i == files.count - 1
            let start = Clock.monotonicMicros()
            result = loadSingleAppendOnlyFile(name, serveClients: serveClients, totalBytes: total, loadedBefore: loadedBefore)
            let isBase = f.type == .base
            if result == .ok || (result == .truncated && last) {
                let seconds = String(format3: Double(Clock.monotonicMicros() - start) / 1_000_000)
                Log.notice("DB loaded from \(isBase ? "base" : "incr") file \(name): \(seconds) seconds")
            }
            // An empty incremental file is nothing to load, not an empty AOF.
            if !isBase && result == .empty { result = .ok }
            if result == .truncated && !last {
                Log.warning("Fatal error: the truncated file is not the last file")
                result = .failed
            }
            if result == .openError || result == .failed {
                for d in 0..<dbCount { dbs[d].removeAll() }
                return result
            }
            let size = aofFileSize(name, logging: false)?.size ?? 0
            if isBase { baseSize = size }
            loadedBefore += size
        }
        aof.currentSize = total
        aof.baseSize = baseSize
        return result
    }

    /// Loads one file of the directory.
    mutating func loadSingleAppendOnlyFile(_ name: String, serveClients: Bool, totalBytes: Int64,
                                           loadedBefore: Int64) -> AOFLoadResult {
        let path = aofPath(name)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let err = errno
            var st = stat()
            if stat(path, &st) == 0 || errno != ENOENT {
                Log.warning("Fatal error: can't open the append log file \(name) for reading: \(String(cString: strerror(err)))")
                return .openError
            }
            Log.warning("The append log file \(name) doesn't exist: \(String(cString: strerror(errno)))")
            return .notExist
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_size == 0 { return .empty }

        // An RDB base, or an old AOF that starts with an RDB preamble.
        var magic = [UInt8](repeating: 0, count: 5)
        var commandsStart: Int64 = 0
        if pread(fd, &magic, 5, 0) == 5 && magic == Array("REDIS".utf8) {
            let oldStyle = name == settings.appendfilename
            Log.notice(oldStyle ? "Reading RDB preamble from AOF file..." : "Reading RDB base file on AOF loading...")
            lseek(fd, 0, SEEK_SET)
            var input = RDBInput(fd: fd)
            // Keys already expired stay: the commands after them may still refer to them.
            let loaded = loadSnapshot(from: &input, into: dbs, size: totalBytes, discardExpired: false,
                                      serveClients: serveClients)
            if case .failure(let error) = loaded {
                logLoadFailure(error)
                Log.warning(oldStyle ? "Error reading the RDB preamble of the AOF file \(name), AOF loading aborted"
                            : "Error reading the RDB base file \(name), AOF loading aborted")
                return .failed
            }
            commandsStart = input.offset
            if oldStyle { Log.notice("Reading the remaining AOF tail...") }
        }
        return replayCommands(fd: fd, name: name, path: path, from: commandsStart, serveClients: serveClients,
                              totalBytes: totalBytes, loadedBefore: loadedBefore)
    }

    /// The commands part of a file, on a private client.
    mutating func replayCommands(fd: Int32, name: String, path: String, from offset: Int64, serveClients: Bool,
                                 totalBytes: Int64, loadedBefore: Int64) -> AOFLoadResult {
        var reader = AOFCommandReader(fd: fd, startingAt: offset)
        let c = Client.create(fd: -1, id: Int64.max - 1, address: "", localAddress: "", isLoopback: true,
                              authenticated: true, now: Clock.unixMillis())
        c.pointee.isMaster = true
        persistence.loading = true
        persistence.loadingTotalBytes = totalBytes
        aof.loadingCommands = true
        defer {
            aof.loadingCommands = false
            persistence.loading = false
            Client.destroy(c)
        }
        var validBeforeMulti = offset
        var loops = 0
        loop: while true {
            if loops & 1023 == 0 {
                persistence.loadingLoadedBytes = loadedBefore + reader.offset
                if serveClients { processEventsWhileLoading() }
            }
            loops += 1
            let before = reader.validOffset
            switch reader.next() {
            case .end:
                break loop
            case .truncated:
                return loadedTruncated(name: name, path: path, validUpTo: reader.validOffset)
            case .formatError:
                Log.warning("Bad file format reading the append only file \(name): make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>")
                return .failed
            case .readError(let err):
                Log.warning("Unrecoverable error reading the append only file \(name): \(String(cString: strerror(err)))")
                return .failed
            case .command:
                switch runLoadedCommand(c, &reader) {
                case .unknown:
                    Log.warning("Unknown command '\(reader.argv[0].string)' reading the append only file \(name)")
                    return .failed
                case .wrongArity:
                    // Redis would run it and read past its arguments; Tandem refuses the file.
                    Log.warning("Wrong number of arguments for '\(reader.argv[0].string)' reading the append only file \(name)")
                    return .failed
                case .multi:
                    validBeforeMulti = before
                case .ran:
                    break
                }
                if settings.keyLoadDelay != 0 { RDBWriter.debugDelay(settings.keyLoadDelay) }
            }
        }
        if c.pointee.flags.contains(.multi) {
            Log.warning("Revert incomplete MULTI/EXEC transaction in AOF file \(name)")
            discardTransaction(c)
            return loadedTruncated(name: name, path: path, validUpTo: validBeforeMulti)
        }
        persistence.loadingLoadedBytes = loadedBefore + reader.offset
        return .ok
    }

    enum LoadedCommandOutcome { case ran, multi, unknown, wrongArity }

    /// Runs (or queues, inside MULTI) one command read from a file.
    mutating func runLoadedCommand(_ c: ClientRef, _ reader: inout AOFCommandReader) -> LoadedCommandOutcome {
        let argc = reader.argc
        if argc > c.pointee.argvCapacity {
            c.pointee.argv.deallocate()
            c.pointee.argvCapacity = max(argc, c.pointee.argvCapacity * 2)
            c.pointee.argv = .allocate(capacity: c.pointee.argvCapacity)
        }
        for i in 0..<argc { c.pointee.argv[i] = reader.argv[i] }
        c.pointee.argc = argc
        defer {
            c.pointee.argc = 0
            c.pointee.reply.clear()
        }
        var index = commands.find(c.pointee.arg(0))
        if index < 0 || commands.isSubcommandEntry[index] { return .unknown }
        if commands.hasSubcommands[index] && argc >= 2 {
            let sub = commands.findSubcommand(parent: index, c.pointee.arg(1))
            if sub >= 0 { index = sub }
        }
        let arity = commands.specs[index].arity
        if (arity > 0 && argc != arity) || argc < -arity { return .wrongArity }
        let id = commands.specs[index].id
        if c.pointee.flags.contains(.multi) && id != .exec {
            c.pointee.multiQueue.append(argc: argc) { c.pointee.argv[$0] }
            return .ran
        }
        // Redis runs the command's procedure directly: no checks, no statistics.
        commandTimeMillis = Clock.unixMillis()
        servingMaster = true
        callDepth += 1
        c.pointee.lastCommand = index
        execute(c, id)
        callDepth -= 1
        servingMaster = false
        return id == .multi ? .multi : .ran
    }

    /// The file ended early: truncate it at the last whole command (aof-load-truncated yes) or
    /// fail with Redis's advice.
    mutating func loadedTruncated(name: String, path: String, validUpTo: Int64) -> AOFLoadResult {
        if settings.aofLoadTruncated {
            Log.warning("!!! Warning: short read while loading the AOF file \(name)!!!")
            Log.warning("!!! Truncating the AOF \(name) at offset \(validUpTo) !!!")
            if truncate(path, off_t(validUpTo)) == -1 {
                Log.warning("Error truncating the AOF file \(name): \(String(cString: strerror(errno)))")
            } else {
                if aof.fd != -1 && lseek(aof.fd, 0, SEEK_END) == -1 {
                    Log.warning("Can't seek the end of the AOF file \(name): \(String(cString: strerror(errno)))")
                } else {
                    Log.warning("AOF \(name) loaded anyway because aof-load-truncated is enabled")
                    return .truncated
                }
            }
        }
        Log.warning("Unexpected end of file reading the append only file \(name). You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.")
        return .failed
    }

    // MARK: - DEBUG LOADAOF

    /// Flush the AOF, empty the dataset, load the files back (the process exits if they cannot
    /// be loaded, as Redis).
    mutating func debugLoadAOF(_ c: ClientRef) {
        if aof.status == .on { flushAppendOnlyFile(force: true) }
        for i in 0..<dbCount { dbs[i].removeAll() }
        loadAOFManifestFromDisk()
        deleteAOFHistoryFiles()
        let result = loadAppendOnlyFiles(serveClients: false)
        if result != .ok && result != .empty { exit(1) }
        dirty = 0
        Log.warning("Append Only File loaded by DEBUG LOADAOF")
        addOK(c)
    }
}
