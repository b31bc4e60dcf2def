/*
 * Multi: MULTI / EXEC / DISCARD / WATCH / UNWATCH — Redis's multi.c.
 *
 * Inside MULTI every command except EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is checked
 * (unknown command, arity, no-multi flag: any failure marks the transaction so EXEC answers
 * -EXECABORT) and then copied into the client's CommandQueue, because the query buffer it
 * came from will be reused. EXEC replays the queue through the normal call path with one
 * fixed "now" for expiry, so the transaction sees a consistent clock.
 *
 * WATCH records (db, key) pairs. Any write to a watched key (keyModified), FLUSHDB,
 * FLUSHALL, SWAPDB or the key's expiry before EXEC marks every watching client dirty; EXEC
 * then replies with a null array and runs nothing.
 */
import CTandem
import Keyspace
import Platform
import RESP

/// A queued command's arguments, copied into one growable block:
/// [argc: UInt32] then argc times [length: UInt32][bytes].
struct CommandQueue: ~Copyable {
    var base: UnsafeMutableRawPointer? = nil
    var used = 0
    var capacity = 0
    private(set) var count = 0

    init() {}

    mutating func reserve(_ n: Int) {
        if used + n <= capacity { return }
        // Doubling, or exactly what a big command needs (a queue of a few large values must
        // not hold twice their size: it counts toward maxmemory-clients).
        var cap = max(256, capacity * 2)
        if cap < used + n { cap = used + n }
        base = tandem_realloc(base, cap)
        capacity = cap
    }

    mutating func append(argc: Int, _ arg: (Int) -> ByteView) {
        var total = 4
        for i in 0..<argc { total += 4 + arg(i).count }
        reserve(total)
        let p = base!
        p.storeBytes(of: UInt32(argc), toByteOffset: used, as: UInt32.self)
        used += 4
        for i in 0..<argc {
            let a = arg(i)
            p.storeBytes(of: UInt32(a.count), toByteOffset: used, as: UInt32.self)
            used += 4
            if a.count > 0 { memcpy(p + used, a.base, a.count) }
            used += a.count
        }
        count += 1
    }

    /// Calls `body` with each queued command's offset; `load` reads one into argv.
    func forEach(_ body: (Int) -> Void) {
        var off = 0
        var n = 0
        while n < count {
            body(off)
            let argc = Int(base!.loadUnaligned(fromByteOffset: off, as: UInt32.self))
            off += 4
            for _ in 0..<argc {
                off += 4 + Int(base!.loadUnaligned(fromByteOffset: off, as: UInt32.self))
            }
            n += 1
        }
    }

    /// Fills `argv` (capacity permitting) with views of the command at `offset`.
    func load(at offset: Int, into argv: inout UnsafeMutablePointer<ByteView>, capacity: inout Int) -> Int {
        var off = offset
        let argc = Int(base!.loadUnaligned(fromByteOffset: off, as: UInt32.self))
        off += 4
        if argc > capacity {
            argv.deallocate()
            capacity = argc
            argv = .allocate(capacity: argc)
        }
        for i in 0..<argc {
            let len = Int(base!.loadUnaligned(fromByteOffset: off, as: UInt32.self))
            off += 4
            argv[i] = ByteView(UnsafePointer((base! + off).assumingMemoryBound(to: UInt8.self)), len)
            off += len
        }
        return argc
    }

    mutating func clear() {
        used = 0
        count = 0
        if capacity > 64 * 1024 {
            tandem_free(base)
            base = nil
            capacity = 0
        }
    }

    func deallocate() { tandem_free(base) }
}

struct WatchedKey {
    var db: Int
    var key: [UInt8]
    /// Expire time seen at WATCH (0 for none); a key that expires before EXEC breaks it.
    var expireAt: Int64
}

struct WatchKey: Hashable {
    var db: Int
    var key: [UInt8]
}

extension Server {
    /// Inside MULTI, decides whether this command is queued (returns true after replying
    /// +QUEUED) or runs now.
    mutating func queueIfInMulti(_ c: ClientRef, _ index: Int) -> Bool {
        let spec = commands.specs + index
        switch spec.pointee.id {
        case .exec, .discard, .multi, .watch, .quit, .reset: return false
        default: break
        }
        if spec.pointee.flags.contains(.noMulti) {
            addError(c, "-ERR Command not allowed inside a transaction\r\n")
            c.pointee.flags.insert(.dirtyExec)
            return true
        }
        let argc = c.pointee.argc
        let argv = c.pointee.argv
        c.pointee.multiQueue.append(argc: argc) { argv[$0] }
        if mayWriteOrReplicate(c, spec.pointee.id, spec.pointee.flags) { c.pointee.multiQueuedWrite = true }
        if spec.pointee.flags.contains(.denyoom) { c.pointee.multiQueuedDenyOOM = true }
        if !spec.pointee.flags.contains(.stale) { c.pointee.multiQueuedNonStale = true }
        c.pointee.reply.append("+QUEUED\r\n" as StaticString)
        return true
    }

    mutating func multiCommand(_ c: ClientRef) {
        if c.pointee.flags.contains(.multi) {
            addError(c, "-ERR MULTI calls can not be nested\r\n")
            return
        }
        c.pointee.flags.insert(.multi)
        addOK(c)
    }

    mutating func discardCommand(_ c: ClientRef) {
        if !c.pointee.flags.contains(.multi) {
            addError(c, "-ERR DISCARD without MULTI\r\n")
            return
        }
        discardTransaction(c)
        addOK(c)
    }

    mutating func discardTransaction(_ c: ClientRef) {
        c.pointee.multiQueue.clear()
        c.pointee.multiQueuedWrite = false
        c.pointee.multiQueuedDenyOOM = false
        c.pointee.multiQueuedNonStale = false
        c.pointee.flags.remove([.multi, .dirtyCAS, .dirtyExec])
        unwatchAll(c)
    }

    mutating func execCommand(_ c: ClientRef) {
        if !c.pointee.flags.contains(.multi) {
            addError(c, "-ERR EXEC without MULTI\r\n")
            return
        }
        if watchedKeyExpired(c) { c.pointee.flags.insert(.dirtyCAS) }
        if c.pointee.flags.contains(.dirtyExec) {
            addError(c, "-EXECABORT Transaction discarded because of previous errors.\r\n")
            discardTransaction(c)
            return
        }
        if c.pointee.flags.contains(.dirtyCAS) {
            c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
            discardTransaction(c)
            return
        }
        unwatchAll(c)
        // The transaction's commands move out of the client (it may queue anew meanwhile).
        var queue = CommandQueue()
        swap(&queue, &c.pointee.multiQueue)
        c.pointee.multiQueuedWrite = false
        c.pointee.multiQueuedDenyOOM = false
        c.pointee.multiQueuedNonStale = false
        c.pointee.flags.remove(.multi)
        c.pointee.reply.appendArrayHeader(queue.count)
        inExec = true
        queue.forEach { offset in
            c.pointee.argc = queue.load(at: offset, into: &c.pointee.argv, capacity: &c.pointee.argvCapacity)
            var index = commands.find(c.pointee.arg(0))
            if index >= 0 && commands.hasSubcommands[index] && c.pointee.argc >= 2 {
                let sub = commands.findSubcommand(parent: index, c.pointee.arg(1))
                if sub >= 0 { index = sub }
            }
            if index >= 0 {
                // The rules may have changed since the command was queued (Redis re-checks too).
                if let refusal = execDenial(c, index) {
                    addErrorString(c, refusal)
                } else {
                    call(c, index)
                }
            } else {
                addError(c, "-ERR unknown command\r\n")
            }
        }
        inExec = false
        queue.deallocate()
        c.pointee.argc = 0
    }

    // MARK: - WATCH

    mutating func watchCommand(_ c: ClientRef) {
        if c.pointee.flags.contains(.multi) {
            addError(c, "-ERR WATCH inside MULTI is not allowed\r\n")
            return
        }
        let db = c.pointee.db
        for i in 1..<c.pointee.argc {
            let key = c.pointee.arg(i).array
            if c.pointee.watched.contains(where: { $0.db == db && $0.key == key }) { continue }
            let expire = key.withUnsafeBufferPointer { b in
                lookupWrite(db, ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count))?.expireAt ?? 0
            }
            c.pointee.watched.append(WatchedKey(db: db, key: key, expireAt: expire))
            watchers[WatchKey(db: db, key: key), default: []].append(c)
            watchCount += 1
        }
        addOK(c)
    }

    mutating func unwatchCommand(_ c: ClientRef) {
        unwatchAll(c)
        c.pointee.flags.remove(.dirtyCAS)
        addOK(c)
    }

    mutating func unwatchAll(_ c: ClientRef) {
        if c.pointee.watched.isEmpty { return }
        for w in c.pointee.watched {
            let k = WatchKey(db: w.db, key: w.key)
            watchers[k]?.removeAll { $0 == c }
            if watchers[k]?.isEmpty == true { watchers[k] = nil }
            watchCount -= 1
        }
        c.pointee.watched.removeAll()
    }

    /// A key watched with a TTL that has passed since WATCH (Redis 7's isWatchedKeyExpired).
    func watchedKeyExpired(_ c: ClientRef) -> Bool {
        let now = Clock.unixMillis()
        return c.pointee.watched.contains { $0.expireAt != 0 && $0.expireAt <= now }
    }

    /// Marks every client watching (db, key) dirty. Called through keyModified.
    mutating func touchWatchedKey(_ db: Int, _ key: ByteView) {
        guard let clients = watchers[WatchKey(db: db, key: key.array)] else { return }
        for w in clients { w.pointee.flags.insert(.dirtyCAS) }
    }
}
