/*
 * LazyFree: what the keyspace hands to the lazy-free thread (CTandem/lazyfree.c) — Redis's
 * lazyfree.c.
 *
 * Freeing a value costs one free() per allocation it owns: a 10M-member set is 10M frees, a
 * stall of seconds on the event loop. A value whose "free effort" (Redis's
 * lazyfreeGetFreeEffort: the nodes of a list, the elements of a hash-table set or hash or of
 * a skiplist sorted set; 1 for a string or a compact encoding) exceeds 64 is unlinked from the
 * keyspace at once and freed by the thread; smaller values are cheaper to free on the spot
 * than to queue. A whole database (FLUSHALL ASYNC) goes as its two bucket arrays.
 *
 * The job functions run on the lazy-free thread. They only walk raw memory and call
 * tandem_free: no Swift arrays, classes or generics, so no Swift runtime state is touched
 * off the event loop.
 */
import CTandem

public enum LazyFree {
    /// Redis's LAZYFREE_THRESHOLD.
    public static let threshold = 64

    /// Queued objects not freed yet (INFO lazyfree_pending_objects).
    public static var pendingObjects: Int { tandem_lazyfree_pending() }
    /// Objects the thread freed since the last CONFIG RESETSTAT (INFO lazyfreed_objects).
    public static var freedObjects: Int { tandem_lazyfreed_objects() }
    public static func resetStats() { tandem_lazyfree_reset_stats() }
    /// Waits for the thread to finish every queued job.
    public static func drain() { tandem_lazyfree_drain() }
}

extension Entry {
    /// Redis's lazyfreeGetFreeEffort: roughly the number of allocations freeing the value takes.
    public var freeEffort: Int {
        switch type {
        case .string: return 1
        case .list: return ListStore.list(self).nodeCount
        case .set: return encoding == .hashtable ? SetValue(self).count : 1
        case .hash: return encoding == .hashtable ? HashStore.count(self) : 1
        case .zset: return encoding == .skiplist ? ZSetStore.count(self) : 1
        case .stream: return Stream.freeEffort(StreamStore.stream(self))
        }
    }

    /// Frees the entry (already unlinked from its table): on the lazy-free thread when
    /// `lazily` and its value is large, here otherwise. Returns whether it went to the thread.
    @discardableResult
    public func release(lazily: Bool) -> Bool {
        if lazily && type != .string && freeEffort > LazyFree.threshold {
            tandem_lazyfree_submit({ raw, _ in Entry(raw!).free() }, raw, nil, 1)
            return true
        }
        free()
        return false
    }
}

extension Dict {
    /// Hands every entry and both bucket arrays to the lazy-free thread and leaves the table
    /// empty. Returns the number of entries handed over.
    @discardableResult
    public mutating func releaseAllLazily() -> Int {
        let n = count
        if n == 0 {
            removeAll { $0.free() }
            return 0
        }
        // The job's argument: [table0, size0, table1, size1], freed by the job.
        let tables = tandem_malloc(4 * MemoryLayout<Int>.stride)!.assumingMemoryBound(to: Int.self)
        tables[0] = Int(bitPattern: table0)
        tables[1] = size0
        tables[2] = Int(bitPattern: table1)
        tables[3] = size1
        forgetTables()
        tandem_lazyfree_submit({ arg, _ in Dict.freeDetachedTables(arg!.assumingMemoryBound(to: Int.self)) },
                               UnsafeMutableRawPointer(tables), nil, n)
        return n
    }

    /// On the lazy-free thread: frees every entry chained from the two bucket arrays, the
    /// arrays, and the descriptor.
    static func freeDetachedTables(_ tables: UnsafeMutablePointer<Int>) {
        drain(Slot(bitPattern: tables[0]), tables[1]) { $0.free() }
        drain(Slot(bitPattern: tables[2]), tables[3]) { $0.free() }
        tandem_free(tables)
    }
}

extension Database {
    /// Unlinks and frees the entry at `slot`, lazily as `release(lazily:)` decides.
    public mutating func delete(at slot: Slot, lazily: Bool) {
        let e = detach(at: slot)
        e.release(lazily: lazily)
    }

    /// Empties the database; with `lazily` its entries are freed by the lazy-free thread.
    public mutating func removeAll(lazily: Bool) {
        if !lazily {
            removeAll()
            return
        }
        dict.releaseAllLazily()
        volatile.removeAll()
        slotKeys.removeAll()
        averageTTL = 0
    }
}
