/*
 * Database: one of the `databases` numbered keyspaces (SELECT n): the hash table of entries
 * plus the index of keys with an expire.
 *
 * This layer keeps the two structures consistent and knows nothing of replication or
 * clients; the server decides *when* a key is logically expired (a replica never deletes on
 * its own, it only hides) and calls down here to do it.
 *
 * Every function that replaces or frees an entry keeps `volatile` in step: an entry with
 * `expireAt != 0` is in the index exactly once, at `volatileSlot`. In cluster mode the same
 * functions keep `slotKeys` (the keys of each hash slot) in step too.
 */
import CTandem
import Platform

public struct Database: ~Copyable {
    public var id: Int
    public var dict: Dict
    public var volatile = VolatileIndex()
    /// Cluster mode's keys per hash slot (SlotKeyIndex); disabled otherwise.
    public var slotKeys = SlotKeyIndex()
    /// Running average of TTLs seen by the expire cycle, for INFO keyspace's avg_ttl.
    public var averageTTL: Int64 = 0

    public init(id: Int, seed: UInt64) {
        self.id = id
        self.dict = Dict(seed: seed &+ UInt64(id) &* 0x9E37_79B9_7F4A_7C15)
        dict.growthLimitedByMemory = true
    }

    deinit {
        slotKeys.deallocate()
    }

    public var count: Int { dict.count }
    public var expiresCount: Int { volatile.count }

    // MARK: - Lookup

    @inline(__always)
    public mutating func find(_ key: ByteView) -> Entry? { dict.find(key) }

    @inline(__always)
    public mutating func findSlot(_ key: ByteView) -> Slot? { dict.findSlot(key) }

    // MARK: - Add, replace, delete

    /// Adds an entry whose key is absent. Its expireAt (if any) is indexed.
    public mutating func add(_ e: Entry) {
        dict.insert(e)
        if e.expireAt != 0 { volatile.add(e) }
        if slotKeys.isEnabled { slotKeys.add(e) }
    }

    /// Puts `new` where `slot`'s entry is and frees the old one (on the lazy-free thread when
    /// `lazily` and it is large: lazyfree-lazy-server-del). `new.expireAt` decides whether the
    /// key stays in the expire index.
    public mutating func replace(at slot: Slot, with new: Entry, lazily: Bool = false) {
        let old = Entry(slot.pointee!)
        if old == new {
            return
        }
        let oldVolatile = old.expireAt != 0
        dict.replace(at: slot, with: new)
        if oldVolatile { volatile.remove(old) }
        if new.expireAt != 0 { volatile.add(new) }
        if slotKeys.isEnabled { slotKeys.replace(old.raw, with: new) }
        old.release(lazily: lazily)
    }

    /// After `Entry.resized` moved the entry that `slot` points at.
    public mutating func moved(at slot: Slot, to new: Entry) {
        // realloc kept `next`; the old block is gone, so only the link is rewritten.
        if slotKeys.isEnabled { slotKeys.replace(slot.pointee!, with: new) }
        slot.pointee = new.raw
        if new.expireAt != 0 { volatile.update(new) }
    }

    /// Sets or clears (at == 0) an entry's expire.
    public mutating func setExpire(_ e: Entry, at: Int64) {
        let was = e.expireAt != 0
        e.expireAt = at
        if was && at == 0 {
            volatile.remove(e)
        } else if !was && at != 0 {
            volatile.add(e)
        }
    }

    /// Unlinks and frees the entry `slot` points at (from the last findSlot).
    public mutating func delete(at slot: Slot) {
        let e = dict.unlink(at: slot)
        if e.expireAt != 0 { volatile.remove(e) }
        if slotKeys.isEnabled { slotKeys.remove(e) }
        e.free()
    }

    /// Unlinks the entry `slot` points at without freeing it (MOVE, RENAME keep the value).
    public mutating func detach(at slot: Slot) -> Entry {
        let e = dict.unlink(at: slot)
        if e.expireAt != 0 { volatile.remove(e) }
        if slotKeys.isEnabled { slotKeys.remove(e) }
        return e
    }

    /// Deletes `key`; returns whether it existed.
    @discardableResult
    public mutating func delete(_ key: ByteView) -> Bool {
        guard let s = dict.findSlot(key) else { return false }
        delete(at: s)
        return true
    }

    /// Frees every entry.
    public mutating func removeAll() {
        dict.removeAll { $0.free() }
        volatile.removeAll()
        slotKeys.removeAll()
        averageTTL = 0
    }
}
