/*
 * ByteView: a borrowed run of bytes (pointer + length), the currency of the hot path.
 *
 * Command arguments are ByteViews into a client's query buffer; keys and values in the
 * keyspace are read through ByteViews into their malloc'd entries. A ByteView owns nothing
 * and is valid only while the memory it points into is: for arguments, until the command
 * returns; for keyspace entries, until the next write to that key. It is a plain struct so
 * passing one around costs no reference counting.
 *
 * Also here: Redis's exact number parsing (string2ll, whose rules decide what is "an
 * integer" for INCR and friends) and allocation-free integer formatting.
 */
import CTandem

public struct ByteView {
    public var base: UnsafePointer<UInt8>
    public var count: Int

    @inline(__always)
    public init(_ base: UnsafePointer<UInt8>, _ count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always)
    public subscript(i: Int) -> UInt8 { base[i] }

    /// Views a static string's bytes (they live for the whole program).
    @inline(__always)
    public init(_ s: StaticString) {
        self.base = s.utf8Start
        self.count = s.utf8CodeUnitCount
    }

    /// Case-insensitive comparison with an ASCII literal written in lowercase.
    @inline(__always)
    public func equalsLowercase(_ s: StaticString) -> Bool {
        if count != s.utf8CodeUnitCount { return false }
        let p = s.utf8Start
        for i in 0..<count where base[i] | 0x20 != p[i] | 0x20 {
            return false
        }
        return true
    }

    /// Byte-exact comparison.
    @inlinable @inline(__always)
    public func equals(_ other: ByteView) -> Bool {
        count == other.count && Self.bytesEqual(base, other.base, count)
    }

    /// Copies `count` bytes; short runs (most values, fields and replies) by a loop, where a
    /// call to memcpy costs more than the copy (issue 20).
    @inlinable @inline(__always)
    public static func copyBytes(_ from: UnsafeRawPointer, to: UnsafeMutableRawPointer, _ count: Int) {
        if count > 16 {
            memcpy(to, from, count)
            return
        }
        let f = from.assumingMemoryBound(to: UInt8.self)
        let t = to.assumingMemoryBound(to: UInt8.self)
        var i = 0
        while i < count {
            t[i] = f[i]
            i += 1
        }
    }

    /// Whether `count` bytes at `a` and `b` are equal. Up to 32 bytes (most keys, fields,
    /// members and command names) as overlapping word loads instead of a call to memcmp
    /// (issue 20: ~15 instructions of a GET's key lookup).
    @inlinable @inline(__always)
    public static func bytesEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        if count > 16 {
            if count > 32 { return memcmp(a, b, count) == 0 }
            // 17-32 bytes ("element:__rand_int__"): the first and the last 16.
            return endsEqual(a, b, 16, as: UInt64.self) && endsEqual(a + count - 16, b + count - 16, 16, as: UInt64.self)
        }
        if count >= 8 { return endsEqual(a, b, count, as: UInt64.self) }
        if count >= 4 { return endsEqual(a, b, count, as: UInt32.self) }
        if count >= 2 { return endsEqual(a, b, count, as: UInt16.self) }
        return count == 0 || a.load(as: UInt8.self) == b.load(as: UInt8.self)
    }

    /// Whether `count` bytes (one to two words of `T`) are equal: the first word and the last,
    /// which overlap when `count` is less than two words.
    @inlinable @inline(__always)
    static func endsEqual<T: FixedWidthInteger>(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int, as: T.Type) -> Bool {
        let last = count - MemoryLayout<T>.size
        return a.loadUnaligned(as: T.self) == b.loadUnaligned(as: T.self)
            && a.loadUnaligned(fromByteOffset: last, as: T.self) == b.loadUnaligned(fromByteOffset: last, as: T.self)
    }

    /// Lexicographic comparison, as memcmp then length (Redis's sdscmp).
    public func compare(_ other: ByteView) -> Int {
        let n = Swift.min(count, other.count)
        if n > 0 {
            let r = memcmp(base, other.base, n)
            if r != 0 { return Int(r) }
        }
        return count - other.count
    }

    /// A copy as a Swift String (lossy for invalid UTF-8). Not for the hot path.
    public var string: String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// A copy as an array. Not for the hot path.
    public var array: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Redis's string2ll: an optional '-', then digits with no leading zero (except "0"),
    /// no spaces, no '+', fits in Int64. Anything else is not an integer.
    /// (The first byte is tested inline: most values that are not integers fail there,
    /// without a call. A SET of "xxx" paid ~30 instructions to learn it.)
    @inlinable @inline(__always)
    public var int64: Int64? {
        if count == 0 || count > 20 { return nil }
        let first = base[0]
        if first &- 48 > 9 && first != 45 { return nil }
        return parsedInt64
    }

    @usableFromInline
    var parsedInt64: Int64? {
        // Fast path: up to 18 digits cannot overflow.
        if count <= 18 && base[0] != 48 {
            var i = base[0] == 45 ? 1 : 0
            if i == 1 && (count == 1 || base[1] == 48) { return nil }
            var v: Int64 = 0
            while i < count {
                let d = base[i] &- 48
                if d > 9 { return nil }
                v = v &* 10 &+ Int64(d)
                i += 1
            }
            return base[0] == 45 ? -v : v
        }
        if count == 1 && base[0] == 48 { return 0 }
        var i = 0
        var negative = false
        if base[0] == 45 {
            negative = true
            i = 1
            if count == 1 { return nil }
        }
        guard base[i] >= 49 && base[i] <= 57 else { return nil }
        var v: UInt64 = 0
        while i < count {
            let d = base[i] &- 48
            if d > 9 { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        if negative {
            if v > UInt64(Int64.max) + 1 { return nil }
            return v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
        }
        if v > UInt64(Int64.max) { return nil }
        return Int64(v)
    }

    /// Parses a double as Redis's string2d does (strtod, whole string, no NaN).
    public var double: Double? {
        // An integer of up to 15 characters (most scores: counts, timestamps, ranks) is exact
        // in a Double, the very value strtod returns, without strtod's ~400 instructions
        // (issue 20's ZADD profile). string2ll's rules refuse "-0" and leading zeros, so those
        // take strtod's path, as does anything else.
        if count <= 15, let v = int64 { return Double(v) }
        var d = 0.0
        let ok = base.withMemoryRebound(to: CChar.self, capacity: count) { tandem_string2d($0, count, &d) }
        return ok == 1 ? d : nil
    }
}

// MARK: - Integer formatting

public enum IntFormat {
    /// Writes the decimal digits of `value` at `out` (needs 20 bytes); returns the length.
    /// Two digits per division, from a table, written straight to their place (as Redis's
    /// ll2string): an integer reply cost ~100 instructions with one digit per division and a
    /// reversed copy (issue 20's LPUSH profile).
    @inline(__always)
    public static func write(_ value: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var u = value < 0 ? 0 &- UInt64(bitPattern: value) : UInt64(value)  // (Int64.min too)
        let sign = value < 0 ? 1 : 0
        if sign == 1 { out[0] = 45 }  // '-'
        let length = sign + digits(unsigned: u)
        // "00" ... "99", a literal in the function: no lazily initialised global on the hot path.
        let table: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        let pairs = table.utf8Start
        var p = length
        while u >= 100 {
            let r = Int(truncatingIfNeeded: u % 100) &* 2
            u /= 100
            p &-= 2
            out[p] = pairs[r]
            out[p &+ 1] = pairs[r &+ 1]
        }
        if u >= 10 {
            let r = Int(truncatingIfNeeded: u) &* 2
            out[p &- 2] = pairs[r]
            out[p &- 1] = pairs[r &+ 1]
        } else {
            out[p &- 1] = UInt8(truncatingIfNeeded: u) &+ 48
        }
        return length
    }

    /// Number of decimal characters `value` needs.
    @inline(__always)
    public static func digits(_ value: Int64) -> Int {
        value < 0 ? 1 + digits(unsigned: 0 &- UInt64(bitPattern: value)) : digits(unsigned: UInt64(value))
    }

    /// (A ladder of comparisons up to ten digits, a loop past them: a reply's lengths and
    /// counts are short, and the loop cost ~5 instructions a digit.)
    @inline(__always)
    static func digits(unsigned u: UInt64) -> Int {
        if u < 100_000 {
            if u < 100 { return u < 10 ? 1 : 2 }
            if u < 10_000 { return u < 1_000 ? 3 : 4 }
            return 5
        }
        if u < 10_000_000_000 {
            if u < 10_000_000 { return u < 1_000_000 ? 6 : 7 }
            if u < 100_000_000 { return 8 }
            return u < 1_000_000_000 ? 9 : 10
        }
        var n = 11
        var bound: UInt64 = 100_000_000_000
        while n < 20 && u >= bound {
            n &+= 1
            bound = bound &* 10
        }
        return n
    }
}
