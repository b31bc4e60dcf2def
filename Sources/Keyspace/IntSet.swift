/*
 * IntSet: a sorted array of distinct 64-bit integers in one malloc'd block — Redis's intset,
 * the compact encoding of sets whose members are all integers (OBJECT ENCODING "intset").
 *
 * Why: a set of small numbers (ids, flags) stored as hash-table entries costs a bucket
 * pointer plus an entry header per member; here it costs 2, 4 or 8 bytes. Members are kept in
 * ascending order, so lookups are binary searches, and iteration (SMEMBERS, SINTER, ...) yields
 * ascending order — which is what Redis replies and clients may observe.
 *
 * Every member is stored at one width: the narrowest of 2, 4 or 8 bytes that holds them all.
 * Adding a value that does not fit upgrades the whole array to the wider width (the new value
 * is then necessarily the smallest or the largest, so it goes at one end). The width never
 * goes back down, as in Redis.
 *
 * Layout:
 *
 *     0  width   UInt32   bytes per member: 2, 4 or 8
 *     4  count   UInt32   number of members
 *     8  members, ascending, each `width` bytes, native endian
 *
 * The block may be larger than needed (capacity is malloc's usable size); inserting and
 * removing are memmoves, so sets convert to a hash table past `set-max-intset-entries`.
 */
import CTandem
import Platform

public struct IntSet {
    public private(set) var raw: UnsafeMutableRawPointer
    public static let headerSize = 8

    /// An empty set of width 2.
    public init() {
        raw = tandem_malloc(Self.headerSize + 8)!
        raw.storeBytes(of: UInt32(2), as: UInt32.self)
        raw.storeBytes(of: UInt32(0), toByteOffset: 4, as: UInt32.self)
    }

    public init(raw: UnsafeMutableRawPointer) { self.raw = raw }

    public func free() { tandem_free(raw) }

    /// A byte-for-byte copy.
    public func duplicate() -> IntSet {
        let n = byteSize
        let p = tandem_malloc(n)!
        memcpy(p, raw, n)
        return IntSet(raw: p)
    }

    // MARK: - Header

    @inline(__always)
    public var width: Int { Int(raw.load(as: UInt32.self)) }

    @inline(__always)
    public var count: Int { Int(raw.load(fromByteOffset: 4, as: UInt32.self)) }

    @inline(__always)
    func setWidth(_ w: Int) { raw.storeBytes(of: UInt32(w), as: UInt32.self) }

    @inline(__always)
    func setCount(_ n: Int) { raw.storeBytes(of: UInt32(n), toByteOffset: 4, as: UInt32.self) }

    /// Bytes in use, header included.
    @inline(__always)
    public var byteSize: Int { Self.headerSize + count * width }

    /// The narrowest width (2, 4 or 8) that holds `v`.
    @inline(__always)
    public static func width(for v: Int64) -> Int {
        if v >= Int64(Int16.min) && v <= Int64(Int16.max) { return 2 }
        if v >= Int64(Int32.min) && v <= Int64(Int32.max) { return 4 }
        return 8
    }

    // MARK: - Reading

    /// Member at position `i` (0 = smallest), read at width `w`.
    @inline(__always)
    func read(_ i: Int, width w: Int) -> Int64 {
        let off = Self.headerSize + i * w
        switch w {
        case 2: return Int64(raw.loadUnaligned(fromByteOffset: off, as: Int16.self))
        case 4: return Int64(raw.loadUnaligned(fromByteOffset: off, as: Int32.self))
        default: return raw.loadUnaligned(fromByteOffset: off, as: Int64.self)
        }
    }

    @inline(__always)
    func write(_ i: Int, _ v: Int64, width w: Int) {
        let off = Self.headerSize + i * w
        switch w {
        case 2: raw.storeBytes(of: Int16(truncatingIfNeeded: v), toByteOffset: off, as: Int16.self)
        case 4: raw.storeBytes(of: Int32(truncatingIfNeeded: v), toByteOffset: off, as: Int32.self)
        default: raw.storeBytes(of: v, toByteOffset: off, as: Int64.self)
        }
    }

    /// The member at position `i` (0-based, ascending order).
    @inline(__always)
    public subscript(i: Int) -> Int64 { read(i, width: width) }

    /// Binary search: whether `v` is present, and the position where it is or would be inserted.
    public func search(_ v: Int64) -> (found: Bool, position: Int) {
        let n = count
        if n == 0 { return (false, 0) }
        let w = width
        // Values outside the range of the array end up at either end (the common case when
        // members are added in increasing order).
        if v > read(n - 1, width: w) { return (false, n) }
        if v < read(0, width: w) { return (false, 0) }
        var lo = 0
        var hi = n - 1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            let m = read(mid, width: w)
            if m < v {
                lo = mid + 1
            } else if m > v {
                hi = mid - 1
            } else {
                return (true, mid)
            }
        }
        return (false, lo)
    }

    @inline(__always)
    public func contains(_ v: Int64) -> Bool {
        if Self.width(for: v) > width { return false }
        return search(v).found
    }

    /// Calls `body` on each member in ascending order.
    @inline(__always)
    public func forEach(_ body: (Int64) -> Void) {
        let n = count
        let w = width
        var i = 0
        while i < n {
            body(read(i, width: w))
            i += 1
        }
    }

    // MARK: - Writing

    /// Makes room for `bytes` bytes in total (header included).
    mutating func reserve(totalBytes bytes: Int) {
        if bytes > tandem_usable_size(raw) {
            var cap = Swift.max(16, tandem_usable_size(raw))
            while cap < bytes { cap = cap < 4096 ? cap * 2 : cap + cap / 2 }
            raw = tandem_realloc(raw, cap)!
        }
    }

    /// Adds `v`; returns false when it was already a member.
    @discardableResult
    public mutating func insert(_ v: Int64) -> Bool {
        let w = width
        if Self.width(for: v) > w {
            upgradeAndAdd(v)
            return true
        }
        let (found, pos) = search(v)
        if found { return false }
        let n = count
        reserve(totalBytes: Self.headerSize + (n + 1) * w)
        if pos < n {
            let from = raw + Self.headerSize + pos * w
            memmove(from + w, from, (n - pos) * w)
        }
        write(pos, v, width: w)
        setCount(n + 1)
        return true
    }

    /// Widens every member to hold `v` (which is out of the current width's range, so it is
    /// the new minimum or maximum) and adds it.
    mutating func upgradeAndAdd(_ v: Int64) {
        let old = width
        let new = Self.width(for: v)
        let n = count
        let prepend = v < 0 ? 1 : 0
        reserve(totalBytes: Self.headerSize + (n + 1) * new)
        // Back to front, so no member is overwritten before it is moved.
        var i = n - 1
        while i >= 0 {
            write(i + prepend, read(i, width: old), width: new)
            i -= 1
        }
        setWidth(new)
        write(prepend == 1 ? 0 : n, v, width: new)
        setCount(n + 1)
    }

    /// Removes `v`; returns false when it was not a member.
    @discardableResult
    public mutating func remove(_ v: Int64) -> Bool {
        let w = width
        if Self.width(for: v) > w { return false }
        let (found, pos) = search(v)
        if !found { return false }
        removeAt(pos)
        return true
    }

    /// Removes the member at position `pos`.
    public mutating func removeAt(_ pos: Int) {
        let w = width
        let n = count
        if pos < n - 1 {
            let to = raw + Self.headerSize + pos * w
            memmove(to, to + w, (n - pos - 1) * w)
        }
        setCount(n - 1)
        let cap = tandem_usable_size(raw)
        if cap > 256 && byteSize < cap / 4 {
            raw = tandem_realloc(raw, Swift.max(16, byteSize * 2))!
        }
    }
}
