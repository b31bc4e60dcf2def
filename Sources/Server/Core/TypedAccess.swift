/*
 * TypedAccess: the helpers every aggregate-type command uses — typed lookups that answer
 * WRONGTYPE, creating a key holding a new aggregate value, deleting a key whose aggregate
 * became empty (Redis never keeps an empty list, hash, set or sorted set), and the
 * "key modified" signal that WATCH and blocked clients listen to.
 */
import Keyspace
import Platform

extension Server {
    /// The entry for `key` if it holds `type`. On a type mismatch replies WRONGTYPE and
    /// returns ok == false; a missing key is (nil, true).
    @inline(__always)
    mutating func lookupTyped(_ c: ClientRef, _ key: ByteView, _ type: ObjectType, forWrite: Bool) -> (Entry?, ok: Bool) {
        let e = forWrite ? lookupWrite(c.pointee.db, key) : lookupRead(c, key)
        guard let e else { return (nil, true) }
        if e.type != type {
            addWrongType(c)
            return (nil, false)
        }
        return (e, true)
    }

    /// Adds `key` holding a new aggregate value (the key must be absent). `announceNew` false:
    /// the key replaces one the command just deleted (Redis's setKey overwrites, no "new").
    @discardableResult
    mutating func addAggregate(_ db: Int, _ key: ByteView, _ type: ObjectType, _ encoding: ObjectEncoding,
                               payload: Int64, announceNew: Bool = true) -> Entry {
        let e = Entry.allocate(key: key, valueCapacity: 0)
        e.type = type
        e.encoding = encoding
        e.payload = payload
        e.lru = newEntryLRU
        if announceNew { addKey(db, e) } else { dbs[db].add(e) }
        return e
    }

    /// Deletes `key` (after its value became empty) and announces "del", as Redis does after
    /// the command's own event.
    mutating func deleteEmptied(_ db: Int, _ key: ByteView) {
        if let slot = dbs[db].findSlot(key) { dbs[db].delete(at: slot) }
        notifyKeyspaceEvent(.generic, "del", key, db)
    }

    /// Every write to a key calls this: it invalidates WATCHes on the key, wakes clients
    /// blocked on it and tells the clients caching it (CLIENT TRACKING).
    @inline(__always)
    mutating func keyModified(_ db: Int, _ key: ByteView) {
        if watchCount > 0 { touchWatchedKey(db, key) }
        if blockedClients > 0 { signalKeyAsReady(db, key) }
        if tracking.active { trackingInvalidateKey(key) }
    }
}
