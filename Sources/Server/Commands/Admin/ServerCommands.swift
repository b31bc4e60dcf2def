/*
 * Server commands: FLUSHDB/FLUSHALL, TIME, SWAPDB, MONITOR, SLOWLOG, MODULE.
 * (SHUTDOWN, LATENCY and DEBUG have files of their own.)
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

extension Server {
    mutating func flushCommand(_ c: ClientRef, all: Bool) {
        if c.pointee.argc > 2 {
            addSyntaxError(c)
            return
        }
        // ASYNC (or lazyfree-lazy-user-flush without SYNC): the lazy-free thread frees the data.
        var lazily = settings.lazyfreeLazyUserFlush
        if c.pointee.argc == 2 {
            let mode = c.pointee.arg(1)
            if mode.equalsLowercase("sync") {
                lazily = false
            } else if mode.equalsLowercase("async") {
                lazily = true
            } else {
                addSyntaxError(c)
                return
            }
        }
        if watchCount > 0 { touchWatchersOfExistingKeys(all ? -1 : c.pointee.db) }
        trackingInvalidateAll()
        if all {
            for i in 0..<dbCount {
                dirty += Int64(dbs[i].count)
                dbs[i].removeAll(lazily: lazily)
            }
            // As Redis: a running snapshot is obsolete, and with save points the empty
            // dataset is saved at once (so a restart does not bring the keys back).
            killSnapshotChild()
            if !settings.save.isEmpty {
                // The save resets changes_since_last_save to 0, as in Redis 7.0; the flush still
                // reaches replicas.
                _ = saveInForeground()
            } else {
                dirty += 1
            }
            forcePropagation()
        } else {
            dirty += Int64(dbs[c.pointee.db].count)
            dbs[c.pointee.db].removeAll(lazily: lazily)
            forcePropagation()  // even of an empty database, as Redis 7.0
        }
        signalBlockedKeys(inDatabase: all ? -1 : c.pointee.db)
        addOK(c)
    }

    /// Before FLUSH*/SWAPDB: every watched key that exists in `db` (-1: any) changes.
    /// With `replacedBy` (SWAPDB), a watched key also changes when the database taking this
    /// one's place holds it (a missing key appears), as Redis's touchAllWatchedKeysInDb.
    mutating func touchWatchersOfExistingKeys(_ db: Int, replacedBy other: Int? = nil) {
        let now = Clock.unixMillis()
        var touched: [WatchKey] = []
        func live(_ d: Int, _ key: [UInt8]) -> Bool {
            key.withUnsafeBufferPointer { b -> Bool in
                guard let e = dbs[d].find(ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)) else {
                    return false
                }
                return e.expireAt == 0 || e.expireAt > now
            }
        }
        for k in watchers.keys where db < 0 || k.db == db {
            if live(k.db, k.key) || (other.map { live($0, k.key) } ?? false) { touched.append(k) }
        }
        for k in touched {
            for w in watchers[k] ?? [] { w.pointee.flags.insert(.dirtyCAS) }
        }
    }

    func timeCommand(_ c: ClientRef) {
        let us = Clock.unixMicros()
        c.pointee.reply.appendArrayHeader(2)
        c.pointee.reply.appendBulkInteger(us / 1_000_000)
        c.pointee.reply.appendBulkInteger(us % 1_000_000)
    }

    mutating func swapdbCommand(_ c: ClientRef) {
        guard let a = c.pointee.arg(1).int64, a >= Int64(Int32.min), a <= Int64(Int32.max) else {
            addError(c, "-ERR invalid first DB index\r\n")
            return
        }
        guard let b = c.pointee.arg(2).int64, b >= Int64(Int32.min), b <= Int64(Int32.max) else {
            addError(c, "-ERR invalid second DB index\r\n")
            return
        }
        if a < 0 || a >= Int64(dbCount) || b < 0 || b >= Int64(dbCount) {
            addError(c, Self.dbOutOfRange)
            return
        }
        if a != b {
            if watchCount > 0 {
                touchWatchersOfExistingKeys(Int(a), replacedBy: Int(b))
                touchWatchersOfExistingKeys(Int(b), replacedBy: Int(a))
            }
            swap(&dbs[Int(a)], &dbs[Int(b)])
            dbs[Int(a)].id = Int(a)
            dbs[Int(b)].id = Int(b)
            // Clients blocked on a key of either database may be served, or (XREADGROUP on a
            // stream that is gone) answered (Redis's scanDatabaseForReadyKeys and
            // scanDatabaseForDeletedKeys).
            signalBlockedKeys(inDatabase: Int(a))
            signalBlockedKeys(inDatabase: Int(b))
        }
        dirty += 1  // SWAPDB n n too: Redis counts (and propagates) it
        addOK(c)
    }

    mutating func monitorCommand(_ c: ClientRef) {
        if c.pointee.flags.contains(.monitor) { return }
        c.pointee.flags.insert(.monitor)
        monitors.append(c)
        monitorCount = monitors.count
        addOK(c)
    }

    /// SCRIPT FLUSH and FUNCTION FLUSH [ASYNC|SYNC]: both free at once (see flushScripts and
    /// flushFunctions); FUNCTION FLUSH is a change of data, propagated and counted.
    mutating func scriptingFlushCommand(_ c: ClientRef, function: Bool) {
        let argc = c.pointee.argc
        if function && argc > 3 {
            addErrorString(c, "ERR unknown subcommand or wrong number of arguments for '\(c.pointee.arg(1).string)'. Try FUNCTION HELP.")
            return
        }
        let validMode = argc == 3 && (c.pointee.arg(2).equalsLowercase("sync") || c.pointee.arg(2).equalsLowercase("async"))
        if argc > 2 && !validMode {
            addErrorString(c, function ? "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
                                       : "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
            return
        }
        if function {
            flushFunctions()
            dirty += 1
        } else {
            flushScripts()
        }
        addOK(c)
    }

    // MARK: - SLOWLOG

    mutating func slowlogCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .slowlogGet:
            var count = 10
            if c.pointee.argc == 3 {
                guard let n = c.pointee.arg(2).int64, n >= -1 else {
                    addError(c, "-ERR count should be greater than or equal to -1\r\n")
                    return
                }
                count = n == -1 ? slowlog.count : Int(min(n, Int64(Int32.max)))
            } else if c.pointee.argc > 3 {
                addErrorString(c, "ERR wrong number of arguments for 'slowlog|get' command")
                return
            }
            let n = min(count, slowlog.count)
            c.pointee.reply.appendArrayHeader(n)
            for e in slowlog.prefix(n) {
                c.pointee.reply.appendArrayHeader(6)
                c.pointee.reply.appendInteger(e.id)
                c.pointee.reply.appendInteger(e.time)
                c.pointee.reply.appendInteger(e.durationMicros)
                c.pointee.reply.appendArrayHeader(e.args.count)
                for a in e.args { a.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) } }
                c.pointee.reply.appendBulk(e.address)
                c.pointee.reply.appendBulk(e.name)
            }
        case .slowlogLen: c.pointee.reply.appendInteger(Int64(slowlog.count))
        case .slowlogReset:
            slowlog.removeAll()
            addOK(c)
        default: addHelp(c, HelpText.slowlog)
        }
    }

    // MARK: - MODULE

    /// Tandem has no module API: MODULE LIST is empty and loading fails as a missing library does
    /// in Redis (with the reason in the log).
    mutating func moduleCommand(_ c: ClientRef, _ id: CommandID) {
        // LOAD, LOADEX and UNLOAD are protected commands (7.0): enable-module-command gates them.
        if (id == .moduleLoad || id == .moduleLoadex || id == .moduleUnload) && !Self.localOptionAllows(settings.enableModuleCommand, c) {
            addError(c, "-ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n")
            return
        }
        switch id {
        case .moduleList: c.pointee.reply.appendArrayHeader(0)
        case .moduleLoad, .moduleLoadex:
            Log.warning("Module \(c.pointee.arg(2).string) failed to load: Tandem does not support Redis modules")
            addError(c, "-ERR Error loading the extension. Please check the server logs.\r\n")
        case .moduleUnload: addError(c, "-ERR Error unloading module: no such module with that name\r\n")
        default: addHelp(c, HelpText.module)
        }
    }

    /// enable-debug-command, enable-module-command, enable-protected-configs: "yes", "no", or
    /// "local" (connections from loopback or the Unix socket only).
    static func localOptionAllows(_ value: String, _ c: ClientRef) -> Bool {
        value == "yes" || (value == "local" && c.pointee.isLoopback)
    }
}
