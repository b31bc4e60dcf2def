/*
 * SetStore: storage of set values — Redis's t_set.c "setType*" layer.
 *
 * A set entry's `payload` points at one of two structures, chosen by `encoding`, exactly as
 * in Redis 7.0 (which has no listpack sets yet):
 *
 *     intset     IntSet block (IntSet.swift): while every member is a canonical integer
 *                (Redis's string2ll rules: "12" yes, "012", "+1", " 1" no) and there are at
 *                most `set-max-intset-entries` (512) of them.
 *     hashtable  a Dict (Dict.swift) held in its own malloc'd block; each member is an Entry
 *                whose key is the member and whose value is empty.
 *
 * A set converts from intset to hashtable the moment a non-integer member is added or the
 * count passes the threshold, and never converts back (except where Redis builds a fresh set:
 * SPOP's "keep the few remaining" strategy and the *STORE commands, which start from an empty
 * intset).
 *
 * `SetValue` is a plain (encoding, payload) pair so the same code serves sets that live in a
 * key and temporary result sets (SUNION, SDIFF) that are only replied or later stored.
 * Members are handed out as `PackedValue` (.int for intset members, .bytes for table members),
 * whose ByteViews point into the set and are valid until the set is next modified.
 */
import CTandem
import Platform

public enum SetStore {
    /// Seed of every set's member table (per process, random: hash flooding resistance).
    static let hashSeed: UInt64 = UInt64.random(in: 1...UInt64.max)

    /// State of the generator that picks random intset members (SPOP, SRANDMEMBER).
    @exclusivity(unchecked) nonisolated(unsafe) static var rngState: UInt64 = hashSeed ^ 0x9E37_79B9_7F4A_7C15

    /// A pseudo-random number (xorshift64*).
    @inline(__always)
    static func random() -> UInt64 {
        var x = rngState
        x ^= x >> 12
        x ^= x << 25
        x ^= x >> 27
        rngState = x
        return x &* 2_685_821_657_736_338_717
    }

    static func free(_ e: Entry) { SetValue(e).free() }

    static func duplicate(_ e: Entry) -> Int64 { SetValue(e).duplicate().payload }
}

public struct SetValue {
    public var encoding: ObjectEncoding
    public var payload: Int64

    @inline(__always)
    public init(encoding: ObjectEncoding, payload: Int64) {
        self.encoding = encoding
        self.payload = payload
    }

    /// The value of a set entry.
    @inline(__always)
    public init(_ e: Entry) {
        encoding = e.encoding
        payload = e.payload
    }

    /// Writes this value (after changes that may have moved or converted it) into `e`.
    @inline(__always)
    public func store(_ e: Entry) {
        e.encoding = encoding
        e.payload = payload
    }

    // MARK: - Creation

    public static func newIntSet() -> SetValue {
        SetValue(encoding: .intset, payload: Int64(Int(bitPattern: IntSet().raw)))
    }

    /// An empty member table, presized for `capacity` members.
    public static func newTable(capacity: Int = 0) -> SetValue {
        let p = tandem_malloc(MemoryLayout<Dict>.stride)!.bindMemory(to: Dict.self, capacity: 1)
        var d = Dict(seed: SetStore.hashSeed)
        d.rng = SetStore.random() | 1
        if capacity > 0 { d.reserve(capacity) }
        p.initialize(to: d)
        return SetValue(encoding: .hashtable, payload: Int64(Int(bitPattern: p)))
    }

    /// Redis's setTypeCreate: an empty set that can hold `member` — an intset when it is an
    /// integer, else a table.
    public static func create(for member: ByteView) -> SetValue {
        member.count <= 20 && member.int64 != nil ? newIntSet() : newTable()
    }

    // MARK: - Structures

    @inline(__always)
    var pointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: Int(payload))! }

    @inline(__always)
    public var intset: IntSet { IntSet(raw: pointer) }

    @inline(__always)
    public var table: UnsafeMutablePointer<Dict> { pointer.assumingMemoryBound(to: Dict.self) }

    @inline(__always)
    public var isIntSet: Bool { encoding == .intset }

    public var count: Int { isIntSet ? intset.count : table.pointee.count }

    /// Frees the structure and every member.
    public func free() {
        if isIntSet {
            intset.free()
        } else {
            table.pointee.removeAll { $0.free() }
            tandem_free(pointer)
        }
    }

    /// A deep copy.
    public func duplicate() -> SetValue {
        if isIntSet {
            return SetValue(encoding: .intset, payload: Int64(Int(bitPattern: intset.duplicate().raw)))
        }
        let copy = SetValue.newTable(capacity: count)
        let t = copy.table
        table.pointee.forEach { m in
            t.pointee.insert(Entry.allocate(key: m.key, valueCapacity: 0))
        }
        return copy
    }

    // MARK: - Membership

    public func contains(_ member: ByteView) -> Bool {
        if isIntSet {
            guard member.count <= 20, let v = member.int64 else { return false }
            return intset.contains(v)
        }
        return table.pointee.findSlot(member) != nil
    }

    public func contains(_ v: Int64) -> Bool {
        if isIntSet { return intset.contains(v) }
        return PackedValue.int(v).withBytes { table.pointee.findSlot($0) != nil }
    }

    @inline(__always)
    public func contains(_ m: PackedValue) -> Bool {
        switch m {
        case .int(let v): return contains(v)
        case .bytes(let b): return contains(b)
        }
    }

    // MARK: - Adding

    /// Adds `member` (Redis's setTypeAdd); returns false when it was already present.
    /// Converts to a table when the member is not an integer or the intset grows past
    /// `maxIntsetEntries`.
    public mutating func add(_ member: ByteView, maxIntsetEntries: Int) -> Bool {
        if isIntSet {
            if member.count <= 20, let v = member.int64 {
                return addToIntSet(v, maxIntsetEntries)
            }
            convertToTable()
        }
        return addToTable(member)
    }

    public mutating func add(_ v: Int64, maxIntsetEntries: Int) -> Bool {
        if isIntSet { return addToIntSet(v, maxIntsetEntries) }
        return PackedValue.int(v).withBytes { addToTable($0) }
    }

    @inline(__always)
    public mutating func add(_ m: PackedValue, maxIntsetEntries: Int) -> Bool {
        switch m {
        case .int(let v): return add(v, maxIntsetEntries: maxIntsetEntries)
        case .bytes(let b): return add(b, maxIntsetEntries: maxIntsetEntries)
        }
    }

    mutating func addToIntSet(_ v: Int64, _ maxIntsetEntries: Int) -> Bool {
        var s = intset
        let added = s.insert(v)
        payload = Int64(Int(bitPattern: s.raw))
        if added && s.count > maxIntsetEntries { convertToTable() }
        return added
    }

    func addToTable(_ member: ByteView) -> Bool {
        let t = table
        if t.pointee.findSlot(member) != nil { return false }
        t.pointee.insert(Entry.allocate(key: member, valueCapacity: 0))
        return true
    }

    /// Turns an intset into a table holding the same members (Redis's setTypeConvert).
    public mutating func convertToTable() {
        guard isIntSet else { return }
        let s = intset
        let converted = SetValue.newTable(capacity: s.count)
        let t = converted.table
        s.forEach { v in
            PackedValue.int(v).withBytes { t.pointee.insert(Entry.allocate(key: $0, valueCapacity: 0)) }
        }
        s.free()
        self = converted
    }

    // MARK: - Removing

    /// Removes `member`; returns false when it was not present. A table that became sparse
    /// shrinks, as Redis's setTypeRemove does.
    public mutating func remove(_ member: ByteView) -> Bool {
        if isIntSet {
            guard member.count <= 20, let v = member.int64 else { return false }
            return removeFromIntSet(v)
        }
        let t = table
        guard let e = t.pointee.remove(member) else { return false }
        e.free()
        t.pointee.shrinkIfSparse()
        return true
    }

    public mutating func remove(_ v: Int64) -> Bool {
        if isIntSet { return removeFromIntSet(v) }
        return PackedValue.int(v).withBytes { remove($0) }
    }

    @inline(__always)
    public mutating func remove(_ m: PackedValue) -> Bool {
        switch m {
        case .int(let v): return remove(v)
        case .bytes(let b): return remove(b)
        }
    }

    mutating func removeFromIntSet(_ v: Int64) -> Bool {
        var s = intset
        let removed = s.remove(v)
        payload = Int64(Int(bitPattern: s.raw))
        return removed
    }

    // MARK: - Iteration and sampling

    /// Calls `body` on every member: intsets in ascending order, tables in table order.
    /// `body` must not modify this set.
    public func forEach(_ body: (PackedValue) -> Void) {
        if isIntSet {
            intset.forEach { body(.int($0)) }
        } else {
            table.pointee.forEach { body(.bytes($0.key)) }
        }
    }

    /// Like `forEach`, stopping as soon as `body` returns false (SINTERCARD's LIMIT).
    public func forEachWhile(_ body: (PackedValue) -> Bool) {
        if isIntSet {
            let s = intset
            let n = s.count
            var i = 0
            while i < n {
                if !body(.int(s[i])) { return }
                i += 1
            }
            return
        }
        let d = table
        if !Self.walk(d.pointee.table0, d.pointee.size0, body) { return }
        _ = Self.walk(d.pointee.table1, d.pointee.size1, body)
    }

    static func walk(_ table: Slot?, _ size: Int, _ body: (PackedValue) -> Bool) -> Bool {
        guard let table else { return true }
        for i in 0..<size {
            var p = table[i]
            while let cur = p {
                let e = Entry(cur)
                p = e.next
                if !body(.bytes(e.key)) { return false }
            }
        }
        return true
    }

    /// A random member of a non-empty set (uniform for intsets; for tables uniform over
    /// buckets, then over the chain, like Redis's dictGetRandomKey).
    public func randomMember() -> PackedValue {
        if isIntSet {
            let s = intset
            return .int(s[Int(SetStore.random() % UInt64(s.count))])
        }
        return .bytes(table.pointee.randomEntry()!.key)
    }

    /// SSCAN over a table: visits the bucket(s) at `cursor`, returns the next cursor.
    public func scan(cursor: UInt64, _ body: (Entry) -> Void) -> UInt64 {
        table.pointee.scan(cursor: cursor, body)
    }
}
