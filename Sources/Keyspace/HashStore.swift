/*
 * HashStore: hash values (HSET and friends) in Redis 7.0's two encodings.
 *
 *  - listpack: a PackedList of field, value, field, value, ... in insertion order, while the
 *    hash has at most hash-max-listpack-entries fields and no field or value longer than
 *    hash-max-listpack-value bytes. Lookups are linear scans of every other element, which
 *    is cheap at that size and costs a few bytes per pair instead of a table entry.
 *  - hashtable: a Dict (Dict.swift) of Entry blocks, one per field: the entry's key is the
 *    field and its inline string bytes are the value. The Dict struct itself lives in a
 *    malloc'd block that the key's `valuePointer` points at, so nothing here is an ARC
 *    object (see docs/performance.md on fork and copy-on-write).
 *
 * A hash converts to hashtable when a write would break either limit, and never converts
 * back, as in Redis (OBJECT ENCODING must agree with redis-server at every size). The
 * thresholds are the caller's: the server passes its current settings to `set`.
 *
 * Values in a listpack come back as PackedValue (integers are stored packed and formatted
 * on the way out); values in the table come back as `.bytes`. Every view returned points
 * into the hash's own memory and is valid until the hash is next modified.
 */
import CTandem
import Platform

public enum HashStore {
    /// Seed of every field table's hash function: random per process, like the keyspace's.
    public static let seed: UInt64 = UInt64.random(in: 0 ... UInt64.max)

    /// State of the sampler used on listpacks (HRANDFIELD); tables carry their own.
    @exclusivity(unchecked) nonisolated(unsafe) static var rng: UInt64 = seed | 1

    // MARK: - Creation and teardown

    /// The payload of a new, empty listpack-encoded hash.
    public static func newListpackPayload() -> Int64 {
        Int64(Int(bitPattern: PackedList().raw))
    }

    @inline(__always)
    static func packed(_ e: Entry) -> PackedList { PackedList(raw: e.valuePointer) }

    /// The field table of a hashtable-encoded hash.
    @inline(__always)
    static func table(_ e: Entry) -> UnsafeMutablePointer<Dict> {
        e.valuePointer.assumingMemoryBound(to: Dict.self)
    }

    static func newTable() -> UnsafeMutablePointer<Dict> {
        let p = tandem_malloc(MemoryLayout<Dict>.stride)!.bindMemory(to: Dict.self, capacity: 1)
        p.initialize(to: Dict(seed: seed))
        return p
    }

    static func freeTable(_ d: UnsafeMutablePointer<Dict>) {
        d.pointee.removeAll { $0.free() }
        d.deinitialize(count: 1)
        tandem_free(d)
    }

    static func free(_ e: Entry) {
        switch e.encoding {
        case .listpack: packed(e).free()
        case .hashtable: freeTable(table(e))
        default: break
        }
    }

    /// A deep copy of the value as a new payload (COPY).
    static func duplicate(_ e: Entry) -> Int64 {
        switch e.encoding {
        case .listpack:
            return Int64(Int(bitPattern: packed(e).duplicate().raw))
        case .hashtable:
            let src = table(e)
            let dst = newTable()
            dst.pointee.reserve(src.pointee.count)
            src.pointee.forEach { f in
                dst.pointee.insert(Entry.makeString(key: f.key, value: f.stringBytes, encodeInt: false))
            }
            return Int64(Int(bitPattern: UnsafeMutableRawPointer(dst)))
        default:
            return e.payload
        }
    }

    // MARK: - Reading

    /// Number of fields.
    public static func count(_ e: Entry) -> Int {
        e.encoding == .listpack ? packed(e).count / 2 : table(e).pointee.count
    }

    /// The value of `field`, or nil.
    public static func get(_ e: Entry, _ field: ByteView) -> PackedValue? {
        if e.encoding == .listpack {
            let pl = packed(e)
            guard let f = pl.find(field, step: 2) else { return nil }
            return pl.value(at: pl.next(after: f))
        }
        guard let entry = table(e).pointee.find(field) else { return nil }
        return .bytes(entry.stringBytes)
    }

    /// Calls `body` with every (field, value) pair: insertion order for a listpack, table
    /// order for a hashtable. `body` must not modify the hash.
    public static func forEach(_ e: Entry, _ body: (PackedValue, PackedValue) -> Void) {
        if e.encoding == .listpack {
            let pl = packed(e)
            var off = PackedList.firstOffset
            let end = pl.endOffset
            while off < end {
                let (f, valueOffset) = pl.element(at: off)
                let (v, next) = pl.element(at: valueOffset)
                body(f, v)
                off = next
            }
            return
        }
        table(e).pointee.forEach { entry in body(.bytes(entry.key), .bytes(entry.stringBytes)) }
    }

    /// Every pair in `forEach` order, as a temporary array (HRANDFIELD's sampling).
    public static func pairs(_ e: Entry) -> [(PackedValue, PackedValue)] {
        var out: [(PackedValue, PackedValue)] = []
        out.reserveCapacity(count(e))
        forEach(e) { f, v in out.append((f, v)) }
        return out
    }

    /// One SCAN step over a hashtable-encoded hash: visits the bucket(s) at `cursor`, calling
    /// `body` per pair, and returns the next cursor (0 at the end). See Dict.scan for the
    /// guarantee across resizes.
    public static func scan(_ e: Entry, cursor: UInt64, _ body: (ByteView, ByteView) -> Void) -> UInt64 {
        table(e).pointee.scan(cursor: cursor) { entry in body(entry.key, entry.stringBytes) }
    }

    /// A uniformly random pair of a hashtable-encoded, non-empty hash.
    public static func randomTablePair(_ e: Entry) -> (ByteView, ByteView) {
        let entry = table(e).pointee.randomEntry()!
        return (entry.key, entry.stringBytes)
    }

    /// A uniformly random pair of a listpack-encoded, non-empty hash.
    public static func randomListpackPair(_ e: Entry) -> (PackedValue, PackedValue) {
        let pl = packed(e)
        let (f, valueOffset) = pl.element(at: pl.offset(ofIndex: 2 * random(below: pl.count / 2)))
        return (f, pl.value(at: valueOffset))
    }

    /// A random number below `n` (n > 0), for sampling listpacks.
    public static func random(below n: Int) -> Int {
        rng ^= rng >> 12
        rng ^= rng << 25
        rng ^= rng >> 27
        return Int((rng &* 2_685_821_657_736_338_717) % UInt64(n))
    }

    // MARK: - Writing

    /// Sets `field` to `value`; returns true when the field is new. Converts to hashtable
    /// first when either is longer than `maxValue` (Redis's hashTypeSet, which HINCRBY*
    /// relies on), and after inserting when the hash has more than `maxEntries` fields.
    @discardableResult
    public static func set(_ e: Entry, _ field: ByteView, _ value: ByteView, maxEntries: Int, maxValue: Int) -> Bool {
        if e.encoding == .listpack && (field.count > maxValue || value.count > maxValue) {
            convertToHashtable(e)
        }
        if e.encoding == .listpack {
            var pl = packed(e)
            if let f = pl.find(field, step: 2) {
                pl.replace(at: pl.next(after: f), with: value)
                e.valuePointer = pl.raw
                return false
            }
            pl.append(field)
            pl.append(value)
            e.valuePointer = pl.raw
            if pl.count / 2 > maxEntries { convertToHashtable(e) }
            return true
        }
        let d = table(e)
        if let slot = d.pointee.findSlot(field) {
            let old = Entry(slot.pointee!)
            // Reuse the block unless it would hold the new value with much room to spare.
            if old.canHoldString(value.count)
                && old.allocatedSize <= Entry.headerSize + field.count + value.count * 2 + 64
            {
                old.storeString(value)
            } else {
                let new = Entry.makeString(key: field, value: value, encodeInt: false)
                d.pointee.replace(at: slot, with: new)
                old.free()
            }
            return false
        }
        d.pointee.insert(Entry.makeString(key: field, value: value, encodeInt: false))
        return true
    }

    /// Removes `field`; returns whether it existed. A table is shrunk when it falls under
    /// 10% full, as Redis does after every hash delete.
    @discardableResult
    public static func delete(_ e: Entry, _ field: ByteView) -> Bool {
        if e.encoding == .listpack {
            var pl = packed(e)
            guard let f = pl.find(field, step: 2) else { return false }
            pl.remove(at: f, count: 2)
            e.valuePointer = pl.raw
            return true
        }
        let d = table(e)
        guard let old = d.pointee.remove(field) else { return false }
        old.free()
        d.pointee.shrinkIfSparse()
        return true
    }

    /// Moves a listpack-encoded hash into a field table (no-op for a hashtable).
    public static func convertToHashtable(_ e: Entry) {
        guard e.encoding == .listpack else { return }
        let pl = packed(e)
        let d = newTable()
        d.pointee.reserve(pl.count / 2)
        forEach(e) { f, v in
            f.withBytes { fb in
                v.withBytes { vb in d.pointee.insert(Entry.makeString(key: fb, value: vb, encodeInt: false)) }
            }
        }
        pl.free()
        e.encoding = .hashtable
        e.valuePointer = UnsafeMutableRawPointer(d)
    }
}
