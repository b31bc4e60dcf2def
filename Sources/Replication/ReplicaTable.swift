/*
 * ReplicaTable: what the sender workers tell the primary about the replicas they feed, in
 * memory shared by both (an anonymous MAP_SHARED mapping made before the workers are forked).
 *
 * One 128-byte slot per replica handed to a worker. The slot's life is a small state machine,
 * and each transition has one writer, so no lock is needed:
 *
 *     free --(primary: hands a replica over)--> active --(worker: replica gone)--> closed
 *       ^                                                                            |
 *       +-------------------------(primary: forgets the replica)---------------------+
 *
 * While a slot is active only its worker writes its figures (how far it sent, bytes on the wire,
 * LZ4 bytes); the primary reads them for INFO. (REPLCONF ACKs go to the primary directly: it
 * keeps reading the replica's socket.) Values are published with release stores and read with acquire loads,
 * so the primary never sees a state change before the figures written ahead of it. The
 * primary frees a slot only after the worker closed it, so a late write from a worker can never
 * land in a slot given to another replica.
 */
import CTandem
import Glibc
import Platform

public struct ReplicaTable {
    public enum State: UInt64 { case free = 0, active = 1, closed = 2 }

    public static let slotSize = 128
    public let capacity: Int
    private let base: UnsafeMutableRawPointer

    private enum Field {
        static let state = 0, worker = 8, sentOffset = 32, reason = 40
        static let lz4In = 48, lz4Out = 56, wire = 64
    }

    /// Maps a table of `capacity` slots shared with processes forked afterwards.
    public init(capacity: Int) throws(SystemError) {
        let size = capacity * Self.slotSize
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            throw SystemError("mmap")
        }
        memset(p, 0, size)
        self.capacity = capacity
        base = p
    }

    private func word(_ slot: Int, _ field: Int) -> UnsafeMutablePointer<UInt64> {
        precondition(slot >= 0 && slot < capacity, "replica table slot out of range")
        return (base + slot * Self.slotSize + field).assumingMemoryBound(to: UInt64.self)
    }

    // MARK: - Primary

    /// A free slot for a replica about to be handed to `worker`, marked active; nil when full.
    /// `sentOffset` is the last byte it already has (the worker starts after it): the primary
    /// keeps the ring's bytes after the lowest sent offset.
    public func claim(worker: Int, sentOffset: Int64) -> Int? {
        for slot in 0..<capacity where state(slot) == .free {
            tandem_store_relaxed_u64(word(slot, Field.worker), UInt64(worker))
            tandem_store_relaxed_u64(word(slot, Field.sentOffset), UInt64(bitPattern: sentOffset))
            tandem_store_relaxed_u64(word(slot, Field.reason), 0)
            tandem_store_relaxed_u64(word(slot, Field.lz4In), 0)
            tandem_store_relaxed_u64(word(slot, Field.lz4Out), 0)
            tandem_store_relaxed_u64(word(slot, Field.wire), 0)
            tandem_store_release_u64(word(slot, Field.state), State.active.rawValue)
            return slot
        }
        return nil
    }

    /// Returns a closed slot to the pool.
    public func release(_ slot: Int) {
        tandem_store_release_u64(word(slot, Field.state), State.free.rawValue)
    }

    public func state(_ slot: Int) -> State { State(rawValue: tandem_load_acquire_u64(word(slot, Field.state))) ?? .free }
    public func worker(_ slot: Int) -> Int { Int(tandem_load_relaxed_u64(word(slot, Field.worker))) }
    public func sentOffset(_ slot: Int) -> Int64 { Int64(bitPattern: tandem_load_acquire_u64(word(slot, Field.sentOffset))) }
    /// Stream bytes the worker compressed for this replica, and what they became.
    public func compression(_ slot: Int) -> (bytesIn: Int64, bytesOut: Int64) {
        (Int64(bitPattern: tandem_load_acquire_u64(word(slot, Field.lz4In))),
         Int64(bitPattern: tandem_load_acquire_u64(word(slot, Field.lz4Out))))
    }

    /// Bytes the worker wrote to the replica's socket (compressed or not).
    public func wireBytes(_ slot: Int) -> Int64 { Int64(bitPattern: tandem_load_acquire_u64(word(slot, Field.wire))) }

    /// Why the worker closed the slot (a `CloseReason`).
    public func reason(_ slot: Int) -> CloseReason {
        CloseReason(rawValue: tandem_load_acquire_u64(word(slot, Field.reason))) ?? .disconnected
    }

    // MARK: - Worker

    public enum CloseReason: UInt64 { case disconnected = 0, fellBehind = 1, outputLimit = 2 }

    public func recordSent(_ slot: Int, offset: Int64, wireBytes: Int64) {
        tandem_store_relaxed_u64(word(slot, Field.wire), UInt64(bitPattern: wireBytes))
        tandem_store_release_u64(word(slot, Field.sentOffset), UInt64(bitPattern: offset))
    }

    public func recordCompression(_ slot: Int, bytesIn: Int64, bytesOut: Int64) {
        tandem_store_release_u64(word(slot, Field.lz4In), UInt64(bitPattern: bytesIn))
        tandem_store_release_u64(word(slot, Field.lz4Out), UInt64(bitPattern: bytesOut))
    }

    public func close(_ slot: Int, reason: CloseReason) {
        tandem_store_relaxed_u64(word(slot, Field.reason), reason.rawValue)
        tandem_store_release_u64(word(slot, Field.state), State.closed.rawValue)
    }
}
