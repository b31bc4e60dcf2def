/*
 * Eviction: maxmemory and its policies — Redis 7.0's evict.c.
 *
 * Before a command that may grow memory (flagged denyoom) runs, and from the cron, the memory
 * counted for maxmemory — what the allocator holds minus the replicas' reply buffers
 * (mem_not_counted_for_evict; the backlog ring is a shared mapping the allocator never counted)
 * — is brought back under the limit by deleting keys the policy
 * chooses. When that is impossible (noeviction, or nothing left to evict) the command gets
 * `-OOM command not allowed when used memory > 'maxmemory'.`
 *
 * The choice is Redis's approximation. The random policies take a random key (of all, or of those
 * with a TTL). The others sample maxmemory-samples keys of each database into a pool of the 16
 * best candidates kept across calls — best meaning most idle (LRU), least frequently used (LFU)
 * or nearest to expiring (TTL) — and evict the best of the pool that still exists. The pool keeps
 * copies of the keys, never entry pointers: an entry may be gone by the next call.
 *
 * Each entry's `lru` field (in its own block, no side table) is Redis's 24-bit clock: seconds for
 * LRU, or for LFU the minutes of the last decrement (16 bits) and a logarithmic access counter
 * (8 bits), decayed every lfu-decay-time minutes and incremented with probability
 * 1/((counter-5) * lfu-log-factor + 1).
 *
 * Replicas never evict on their own (replica-ignore-maxmemory yes): their master's DELs come in
 * the stream. A master propagates each eviction as a DEL.
 */
import CTandem
import Glibc
import Keyspace
import Platform

/// maxmemory-policy, parsed once when it is set.
enum EvictionPolicy: UInt8 {
    case noEviction, allKeysLRU, allKeysLFU, allKeysRandom, volatileLRU, volatileLFU, volatileRandom, volatileTTL

    init(_ name: String) {
        switch name {
        case "allkeys-lru": self = .allKeysLRU
        case "allkeys-lfu": self = .allKeysLFU
        case "allkeys-random": self = .allKeysRandom
        case "volatile-lru": self = .volatileLRU
        case "volatile-lfu": self = .volatileLFU
        case "volatile-random": self = .volatileRandom
        case "volatile-ttl": self = .volatileTTL
        default: self = .noEviction
        }
    }

    var isLFU: Bool { self == .allKeysLFU || self == .volatileLFU }
    var isVolatile: Bool { self == .volatileLRU || self == .volatileLFU || self == .volatileRandom || self == .volatileTTL }
    var isRandom: Bool { self == .allKeysRandom || self == .volatileRandom }
}

/// One candidate of the eviction pool: its score (higher evicts first), database and a copy of
/// its key (a buffer of its own, grown when a key is longer).
struct EvictionCandidate {
    var score: UInt64 = 0
    var db = -1
    var keyLength = 0
    var buffer: UnsafeMutablePointer<UInt8>
    var capacity: Int

    init() {
        capacity = 255
        buffer = .allocate(capacity: capacity)
    }

    var isEmpty: Bool { db < 0 }
    var key: ByteView { ByteView(UnsafePointer(buffer), keyLength) }

    mutating func set(score: UInt64, db: Int, key: ByteView) {
        if key.count > capacity {
            buffer.deallocate()
            capacity = key.count
            buffer = .allocate(capacity: capacity)
        }
        if key.count > 0 { buffer.update(from: key.base, count: key.count) }
        keyLength = key.count
        self.score = score
        self.db = db
    }
}

/// The 16 best candidates, in ascending score order; empty slots at the end have db -1.
struct EvictionPool: ~Copyable {
    static let size = 16
    var slots: UnsafeMutablePointer<EvictionCandidate>

    init() {
        slots = .allocate(capacity: Self.size)
        for i in 0..<Self.size { (slots + i).initialize(to: EvictionCandidate()) }
    }

    deinit {
        for i in 0..<Self.size { slots[i].buffer.deallocate() }
        slots.deinitialize(count: Self.size)
        slots.deallocate()
    }

    /// Inserts a sampled key unless the pool is full of better ones (Redis's evictionPoolPopulate).
    mutating func offer(score: UInt64, db: Int, key: ByteView) {
        var filled = 0
        while filled < Self.size && !slots[filled].isEmpty { filled += 1 }
        // Where it goes: after every candidate with a lower score.
        var at = 0
        while at < filled && slots[at].score < score { at += 1 }
        // The same key already pooled: keep the one there.
        for i in 0..<filled where slots[i].db == db && slots[i].key.equals(key) { return }
        if at == 0 && filled == Self.size { return }  // worse than all of a full pool
        if filled < Self.size {
            // Shift right to make room (the spare buffer of the last empty slot moves to `at`).
            let spare = slots[filled]
            var i = filled
            while i > at {
                slots[i] = slots[i - 1]
                i -= 1
            }
            slots[at] = spare
        } else {
            // Full: drop the worst (slot 0) and shift left up to `at - 1`.
            at -= 1
            let spare = slots[0]
            for i in 0..<at { slots[i] = slots[i + 1] }
            slots[at] = spare
        }
        slots[at].set(score: score, db: db, key: key)
    }

    /// Empties slot `i` (its key was evicted or is gone), keeping the order of the others.
    mutating func remove(at i: Int) {
        let spare = slots[i]
        var j = i
        while j + 1 < Self.size && !slots[j + 1].isEmpty {
            slots[j] = slots[j + 1]
            j += 1
        }
        slots[j] = spare
        slots[j].db = -1
        slots[j].keyLength = 0
    }

    mutating func clear() {
        for i in 0..<Self.size { slots[i].db = -1 }
    }
}

extension Server {
    static let oomError: StaticString = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

    // MARK: - The LRU/LFU field

    /// The `lru` field of a new entry: the LRU clock, or for LFU the minutes and the initial
    /// count (Redis's LFU_INIT_VAL, 5), so a new key is not the first to go.
    @inline(__always)
    var newEntryLRU: UInt32 { settings.evictionPolicy.isLFU ? Self.lfuMinutes() << 8 | 5 : lruClock }

    /// An access to `e`: the LRU clock, or the LFU counter decayed then incremented.
    @inline(__always)
    mutating func touch(_ e: Entry) {
        if settings.evictionPolicy.isLFU {
            let counter = lfuLogIncrement(lfuDecayed(e.lru))
            e.lru = Self.lfuMinutes() << 8 | UInt32(counter)
        } else {
            e.lru = lruClock
        }
    }

    /// The field of a value that replaces `old` under the same key: a fresh LRU clock, or for LFU
    /// the old key's frequency after this access (Redis keeps it across overwrites).
    @inline(__always)
    mutating func overwriteLRU(_ old: Entry) -> UInt32 {
        if !settings.evictionPolicy.isLFU { return lruClock }
        touch(old)
        return old.lru
    }

    static func lfuMinutes() -> UInt32 { UInt32(truncatingIfNeeded: Clock.unixMillis() / 60_000) & 0xFFFF }

    /// The counter of an LFU field after the decay periods elapsed since its last decrement.
    func lfuDecayed(_ field: UInt32) -> UInt8 {
        let stamp = field >> 8 & 0xFFFF
        var counter = Int(field & 0xFF)
        let now = Self.lfuMinutes()
        let elapsed = now >= stamp ? now - stamp : 65535 - stamp + now
        let periods = settings.lfuDecayTime > 0 ? Int(elapsed) / settings.lfuDecayTime : 0
        if periods > 0 { counter = periods > counter ? 0 : counter - periods }
        return UInt8(counter)
    }

    /// Redis's LFULogIncr: the higher the counter, the less likely it grows.
    mutating func lfuLogIncrement(_ counter: UInt8) -> UInt8 {
        if counter == 255 { return 255 }
        let r = Double(scripting.pointee.nextRandom()) / Double(Int32.max)
        let base = max(0, Double(counter) - 5)
        let p = 1.0 / (base * Double(settings.lfuLogFactor) + 1)
        return r < p ? counter + 1 : counter
    }

    // MARK: - Memory

    /// What replication holds in the allocator's count and maxmemory does not count (Redis's
    /// freeMemoryGetNotCountedMemory): the replicas' own reply buffers. The backlog ring is a
    /// shared mapping outside that count already (used_memory never included it).
    var memoryNotCountedForEviction: Int {
        var n = 0
        for r in repl.replicas { n += r.pointee.reply.allocatedBytes }
        return n
    }

    var memoryForEviction: Int { max(0, tandem_used_memory() - memoryNotCountedForEviction) }

    /// Whether maxmemory applies here (a replica ignores it by default: its master evicts).
    var evictionApplies: Bool {
        settings.maxmemory > 0 && !(isReplicaNode && settings.storedValue("replica-ignore-maxmemory") != "no")
    }

    // MARK: - Evicting

    /// Evicts until memory is under maxmemory. False when it is still over and nothing more can
    /// go (the caller refuses a denyoom command). A run stops after a time slice set by
    /// maxmemory-eviction-tenacity; the cron goes on from there.
    mutating func performEvictions() -> Bool {
        guard evictionApplies else {
            tandem_set_expand_limit(0)
            return true
        }
        let limit = settings.maxmemory
        let notCounted = memoryNotCountedForEviction
        // Table growth respects the same limit (Dict.growthFitsInMemory).
        tandem_set_expand_limit(limit + notCounted)
        if tandem_used_memory() - notCounted <= limit { return true }
        let policy = settings.evictionPolicy
        if policy == .noEviction { return false }
        let tenacity = Int(settings.storedValue("maxmemory-eviction-tenacity")) ?? 10
        let sliceMicros: Int64 = tenacity >= 100 ? Int64.max : tenacity <= 10 ? 50 * Int64(max(tenacity, 1)) : 500 * Int64(pow(1.15, Double(tenacity - 10)))
        let start = Clock.monotonicMicros()
        var evicted = 0
        // As Redis: the goal is freeing what was over the limit at the start, counted as what
        // the deletions themselves released. Re-reading used_memory instead would count the
        // invalidation messages and notifications the evictions queue for clients, and
        // evicting to make room for them would evict everything (a feedback loop).
        let toFree = memoryForEviction - limit
        var freed = 0
        while freed < toFree {
            evictionFreedBytes = 0
            guard pickAndEvict(policy) else {
                // Nothing left to evict: what the lazy-free thread is still releasing may be
                // enough; wait one time slice for it, as Redis does.
                if LazyFree.pendingObjects > 0 {
                    usleep(UInt32(clamping: min(sliceMicros, 1_000_000)))
                    return memoryForEviction <= limit
                }
                return false
            }
            freed += evictionFreedBytes
            evicted += 1
            if evicted & 15 == 0 {
                // Values freed lazily release their memory later: look at the real figure.
                if settings.lazyfreeLazyEviction && memoryForEviction <= limit { return true }
                if Clock.monotonicMicros() - start > sliceMicros { return true }
            }
        }
        return true
    }

    /// Deletes one key the policy chooses; false when there is none.
    mutating func pickAndEvict(_ policy: EvictionPolicy) -> Bool {
        if policy.isRandom {
            for i in 0..<dbCount {
                let db = (evictionNextDB + i) % dbCount
                if let e = randomCandidate(db, volatileOnly: policy.isVolatile) {
                    evictionNextDB = db + 1
                    evict(db, e.key)
                    return true
                }
            }
            return false
        }
        for _ in 0..<4 {
            let pool = evictionPool
            var sampled = 0
            for db in 0..<dbCount where (policy.isVolatile ? dbs[db].volatile.count : dbs[db].count) > 0 {
                sampled += sampleIntoPool(db, policy, pool)
            }
            if sampled == 0 { return false }
            // The best candidate that still exists.
            var i = EvictionPool.size - 1
            while i >= 0 {
                if pool.pointee.slots[i].isEmpty {
                    i -= 1
                    continue
                }
                let db = pool.pointee.slots[i].db
                let key = pool.pointee.slots[i].key
                let exists = dbs[db].find(key).map { !policy.isVolatile || $0.expireAt != 0 } ?? false
                if exists {
                    evict(db, key)
                    pool.pointee.remove(at: i)
                    return true
                }
                pool.pointee.remove(at: i)
                i -= 1
            }
        }
        return false
    }

    /// A random key of `db` (of those with an expire for the volatile-* policies); nil if none.
    mutating func randomCandidate(_ db: Int, volatileOnly: Bool) -> Entry? {
        if !volatileOnly { return dbs[db].dict.randomEntry() }
        let n = dbs[db].volatile.count
        return n > 0 ? dbs[db].volatile.entry(at: Int(UInt32(bitPattern: scripting.pointee.nextRandom())) % n) : nil
    }

    /// maxmemory-samples keys of `db` offered to the pool; returns how many were sampled.
    mutating func sampleIntoPool(_ db: Int, _ policy: EvictionPolicy, _ pool: UnsafeMutablePointer<EvictionPool>) -> Int {
        let samples = max(1, settings.maxmemorySamples)
        var n = 0
        for _ in 0..<samples {
            guard let e = randomCandidate(db, volatileOnly: policy.isVolatile) else { break }
            n += 1
            let score: UInt64
            switch policy {
            case .allKeysLFU, .volatileLFU: score = 255 - UInt64(lfuDecayed(e.lru))
            case .volatileTTL: score = UInt64.max - UInt64(max(0, e.expireAt))
            default: score = UInt64(lruClock &- e.lru) & 0xFFFF_FFFF
            }
            pool.pointee.offer(score: score, db: db, key: e.key)
        }
        return n
    }

    /// Deletes an evicted key: WATCHers see it change, replicas get a DEL, INFO counts it.
    mutating func evict(_ db: Int, _ key: ByteView) {
        keyModified(db, key)
        if propagationEnabled { propagateExpiredDeletion(db, key, lazily: settings.lazyfreeLazyEviction) }
        // Announced before the delete: `key` may point into the entry (what subscribers see
        // is the same as Redis's delete-then-notify).
        notifyKeyspaceEvent(.evicted, "evicted", key, db)
        let before = tandem_used_memory()
        if let slot = dbs[db].findSlot(key) { dbs[db].delete(at: slot, lazily: settings.lazyfreeLazyEviction) }
        evictionFreedBytes += before - tandem_used_memory()
        stats.evictedKeys += 1
        dirty += 1
    }
}
