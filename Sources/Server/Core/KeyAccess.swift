/*
 * KeyAccess: how commands reach keys — Redis's lookupKeyRead/lookupKeyWrite, setKey and
 * the lazy half of expiry.
 *
 * Every lookup checks the entry's expire time against `commandTimeMillis` (one clock
 * reading per command, so a command sees a consistent "now"). A logically expired key is
 * deleted on the spot on a master; a replica only hides it and waits for its master's DEL,
 * so master and replica datasets never diverge (Redis 7 semantics; the replica part is
 * wired with replication).
 *
 * LRU stamps (OBJECT IDLETIME) are not written while a fork child exists: a write to every
 * read entry would copy its page in the snapshot child.
 */
import CTandem
import Keyspace
import Platform

extension Server {
    /// Whether this node applies expiry itself (a master) or leaves it to its master. A
    /// writable replica running a client's write command deletes the expired keys it meets
    /// (locally, nothing propagates): the write must not see a value its master considers
    /// gone (Redis's EXPIRE_FORCE_DELETE_EXPIRED).
    /// Nothing expires while an AOF replays (its later commands may refer to the key).
    var expiresLocally: Bool { (iAmMaster || replicaClientWrite) && !aof.loadingCommands }

    @inline(__always)
    func isExpired(_ e: Entry) -> Bool {
        let at = e.expireAt
        return at != 0 && at <= commandTimeMillis
    }

    /// The entry for `key` in the client's database, for a read: counts keyspace hits and
    /// misses, announces a miss ("keymiss", not for `notify: false`: OBJECT, MEMORY USAGE, as
    /// Redis's LOOKUP_NONOTIFY) and touches the LRU stamp (not for `touch: false`: EXISTS,
    /// TYPE, as Redis's LOOKUP_NOTOUCH).
    @inline(__always)
    mutating func lookupRead(_ c: ClientRef, _ key: ByteView, touch: Bool = true, notify: Bool = true) -> Entry? {
        let e = lookupWrite(c.pointee.db, key)
        if let e {
            stats.keyspaceHits += 1
            if touch && childPID < 0 { self.touch(e) }
        } else {
            stats.keyspaceMisses += 1
            if notify { notifyKeyspaceEvent(.keyMiss, "keymiss", key, c.pointee.db) }
        }
        return e
    }

    /// CLIENT PAUSE (or a failover or shutdown pause) is in force.
    var clientsPaused: Bool { pauseMode != 0 && Clock.unixMillis() < pauseEndMillis }

    /// The live entry for `key` in database `db` (expired keys are removed or hidden).
    @inline(__always)
    mutating func lookupWrite(_ db: Int, _ key: ByteView) -> Entry? {
        guard let slot = dbs[db].findSlot(key) else { return nil }
        let e = Entry(slot.pointee!)
        if e.expireAt != 0 && e.expireAt <= commandTimeMillis {
            // While clients are paused the dataset stays as it is (a failover may be under
            // way): the key reads as gone but is deleted later, as in Redis.
            if expiresLocally && !clientsPaused { deleteExpired(db, slot) }
            // A replica hides expired keys from its clients but not from its master, whose
            // DEL (or overwrite) must find them, as in Redis.
            return servingMaster && !expiresLocally ? e : nil
        }
        return e
    }

    /// The slot of the live entry for `key` (nil if absent or expired).
    @inline(__always)
    mutating func lookupSlot(_ db: Int, _ key: ByteView) -> Slot? {
        guard let slot = dbs[db].findSlot(key) else { return nil }
        let e = Entry(slot.pointee!)
        if e.expireAt != 0 && e.expireAt <= commandTimeMillis {
            if expiresLocally { deleteExpired(db, slot) }
            return servingMaster && !expiresLocally ? slot : nil
        }
        return slot
    }

    /// The slot of `key` for a write that replaces its value. A key found expired is deleted
    /// first (its DEL goes out before the write, as Redis's lookupKeyWrite does), so a KEEPTTL
    /// never carries an expired TTL and a replica never keeps one the master dropped.
    @inline(__always)
    mutating func liveSlotForWrite(_ db: Int, _ key: ByteView) -> Slot? {
        guard let slot = dbs[db].findSlot(key) else { return nil }
        let expireAt = Entry(slot.pointee!).expireAt
        if expireAt != 0 && expireAt <= commandTimeMillis && expiresLocally {
            deleteExpired(db, slot)
            return nil
        }
        return slot
    }

    /// Deletes an expired key found through `slot`.
    mutating func deleteExpired(_ db: Int, _ slot: Slot) {
        if propagationEnabled { propagateExpiredDeletion(db, Entry(slot.pointee!).key, lazily: settings.lazyfreeLazyExpire) }
        deleteAnnounced(db, slot, .expired, "expired")
        stats.expiredKeys += 1
    }

    /// Deletes the entry at `slot` and announces `event` on its key (expired, evicted).
    mutating func deleteAnnounced(_ db: Int, _ slot: Slot, _ type: KeyspaceEventFlags, _ event: StaticString) {
        let lazily = type == .expired ? settings.lazyfreeLazyExpire : settings.lazyfreeLazyEviction
        if settings.keyspaceEvents.rawValue & type.rawValue == 0 && !tracking.active {
            dbs[db].delete(at: slot, lazily: lazily)
            return
        }
        // Redis's order: the delete, the notification, then the tracking invalidation.
        let key = Entry(slot.pointee!).key.array
        dbs[db].delete(at: slot, lazily: lazily)
        key.withUnsafeBufferPointer { b in
            let k = ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)
            notifyKeyspaceEvent(type, event, k, db)
            if tracking.active { trackingInvalidateKey(k, byCommand: false) }
        }
    }

    /// Adds a new key (Redis's dbAdd): announces "new" to class n.
    @inline(__always)
    mutating func addKey(_ db: Int, _ e: Entry) {
        dbs[db].add(e)
        notifyKeyspaceEvent(.newKey, "new", e.key, db)
    }

    /// Stores `entry` under its key in `db`, replacing any current value. With `keepTTL`
    /// the old expire carries over (SET KEEPTTL, SETRANGE, APPEND); otherwise the entry's own
    /// expireAt stands.
    @inline(__always)
    mutating func storeEntry(_ db: Int, _ e: Entry, keepTTL: Bool) {
        keyModified(db, e.key)
        if let slot = liveSlotForWrite(db, e.key) {
            let old = Entry(slot.pointee!)
            if keepTTL { e.expireAt = old.expireAt }
            e.lru = overwriteLRU(old)
            dbs[db].replace(at: slot, with: e, lazily: settings.lazyfreeLazyServerDel)
        } else {
            e.lru = newEntryLRU
            addKey(db, e)
        }
    }

    /// SET's fast path: writes a string value for `key`, reusing the existing block when the
    /// value fits (no malloc for same-size overwrites, the common benchmark case).
    @inline(__always)
    mutating func setString(_ db: Int, _ key: ByteView, _ value: ByteView, expireAt: Int64, keepTTL: Bool) {
        keyModified(db, key)
        if let slot = liveSlotForWrite(db, key) {
            let old = Entry(slot.pointee!)
            let newExpire = keepTTL ? old.expireAt : expireAt
            let asInt = value.count <= 20 ? value.int64 : nil
            if old.type == .string && asInt == nil && old.canHoldString(value.count) {
                old.storeString(value)
                dbs[db].setExpire(old, at: newExpire)
                old.lru = overwriteLRU(old)
                return
            }
            let e = asInt != nil ? Entry.makeInteger(key: key, value: asInt!) : Entry.makeString(key: key, value: value, encodeInt: false)
            e.expireAt = newExpire
            e.lru = overwriteLRU(old)
            dbs[db].replace(at: slot, with: e, lazily: settings.lazyfreeLazyServerDel)
            return
        }
        let e = Entry.makeString(key: key, value: value)
        e.expireAt = expireAt
        e.lru = newEntryLRU
        addKey(db, e)
    }

    /// Deletes `key` from `db` if present and live; returns whether it was. `lazily`: a large
    /// value is freed by the lazy-free thread (UNLINK, lazyfree-lazy-user-del / -server-del).
    @discardableResult
    mutating func deleteKey(_ db: Int, _ key: ByteView, lazily: Bool = false) -> Bool {
        guard let slot = lookupSlot(db, key) else { return false }
        dbs[db].delete(at: slot, lazily: lazily)
        keyModified(db, key)
        return true
    }

    // MARK: - Active expiry

    /// Redis's slow active expire cycle: for each database, sample random keys with an
    /// expire and delete the expired ones; repeat while more than `acceptableStale`% of a
    /// sample was expired, within a time budget of 25% of a cron period.
    mutating func activeExpireCycle() {
        if !activeExpireEnabled || !expiresLocally || clientsPaused { return }
        let effort = settings.activeExpireEffort - 1
        let keysPerLoop = 20 + 20 / 4 * effort
        let acceptableStale = 10 - effort
        let start = Clock.monotonicMicros()
        let budget = Int64(25 + 2 * effort) * 1_000_000 / Int64(max(1, settings.hz)) / 100
        commandTimeMillis = Clock.unixMillis()
        var sampledTotal = 0
        var expiredTotal = 0
        for d in 0..<dbCount {
            let db = dbs + d
            var iterations = 0
            while db.pointee.expiresCount > 0 {
                var expired = 0
                var sampled = 0
                var ttlSum: Int64 = 0
                var ttlSamples: Int64 = 0
                let n = min(keysPerLoop, db.pointee.expiresCount)
                for _ in 0..<n {
                    let count = db.pointee.expiresCount
                    if count == 0 { break }
                    let i = Int(db.pointee.dict.random() % UInt64(count))
                    let e = db.pointee.volatile.entry(at: i)
                    sampled += 1
                    if e.expireAt <= commandTimeMillis {
                        if let slot = db.pointee.findSlot(e.key) {
                            if propagationEnabled { propagateExpiredDeletion(d, e.key, lazily: settings.lazyfreeLazyExpire) }
                            deleteAnnounced(d, slot, .expired, "expired")
                            stats.expiredKeys += 1
                            expired += 1
                        }
                    } else {
                        ttlSum += e.expireAt - commandTimeMillis
                        ttlSamples += 1
                    }
                }
                if ttlSamples > 0 {
                    let avg = ttlSum / ttlSamples
                    db.pointee.averageTTL = db.pointee.averageTTL == 0 ? avg : (db.pointee.averageTTL / 50) * 49 + avg / 50
                }
                sampledTotal += sampled
                expiredTotal += expired
                iterations += 1
                if iterations % 16 == 0 && Clock.monotonicMicros() - start > budget {
                    stats.expiredTimeCapReached += 1
                    break
                }
                if sampled == 0 || expired * 100 / sampled <= acceptableStale { break }
            }
        }
        let elapsed = Clock.monotonicMicros() - start
        stats.expireCycleMicros += elapsed
        addLatencySampleIfNeeded("expire-cycle", milliseconds: elapsed / 1000)
        let current = sampledTotal > 0 ? Double(expiredTotal) / Double(sampledTotal) : 0
        stats.expiredStalePercent = current * 0.05 + stats.expiredStalePercent * 0.95
    }

    // MARK: - Writable replicas

    /// After a client's write on a writable replica: its keys that now have an expire are
    /// remembered, so the replica expires them itself (expireReplicaLocalKeys).
    mutating func rememberReplicaLocalExpires(_ c: ClientRef, _ index: Int) {
        let spec = commands.specs[index]
        guard spec.firstKey > 0 else { return }
        let argc = c.pointee.argc
        let last = spec.lastKey < 0 ? argc + spec.lastKey : min(spec.lastKey, argc - 1)
        var k = spec.firstKey
        while k <= last && k < argc {
            let key = c.pointee.arg(k)
            if let e = dbs[c.pointee.db].find(key), e.expireAt != 0 {
                replicaLocalExpires.insert(WatchKey(db: c.pointee.db, key: key.array))
            }
            k += max(1, spec.keyStep)
        }
    }

    /// From the cron on a replica: deletes the remembered local keys whose time came, and
    /// forgets those that are gone or lost their expire (Redis's expireSlaveKeys).
    mutating func expireReplicaLocalKeys() {
        if replicaLocalExpires.isEmpty { return }
        let now = Clock.unixMillis()
        for k in replicaLocalExpires {
            let keep = k.key.withUnsafeBufferPointer { b -> Bool in
                let key = ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)
                guard let slot = dbs[k.db].findSlot(key) else { return false }
                let at = Entry(slot.pointee!).expireAt
                if at == 0 { return false }
                if at > now { return true }
                deleteAnnounced(k.db, slot, .expired, "expired")
                stats.expiredKeys += 1
                return false
            }
            if !keep { replicaLocalExpires.remove(k) }
        }
    }
}
