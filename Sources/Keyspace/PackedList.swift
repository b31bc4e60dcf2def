/*
 * PackedList: a compact sequence of small strings and integers in one malloc'd block —
 * Tandem's counterpart of Redis's listpack, used for small lists (and the nodes of large
 * ones), small hashes (field, value, field, value, ...) and small sorted sets (member,
 * score, ...).
 *
 * Why: a hash of 10 short fields stored as 10 hash-table entries costs several hundred
 * bytes of headers and pointers; packed, it costs little more than its text. Operations
 * are linear in the block, which is why callers convert to a real table past the
 * `*-max-listpack-*` thresholds, as Redis does.
 *
 * Layout:
 *
 *     0  totalBytes  UInt32   bytes used, header included
 *     4  count       UInt32   number of elements
 *     8  elements, each:  tag [extra length bytes] payload
 *
 *     tag 0x00...0x7F    string of 0...127 bytes follows
 *     tag 0x80...0xBF    string, length = (tag & 0x3F) << 8 | next byte (up to 16383)
 *     tag 0xE0           string, UInt32 length follows
 *     tag 0xF0/F1/F2/F3  integer in 1/2/4/8 bytes (little endian, signed)
 *
 * Strings that are canonical integers (Redis's string2ll rules) are stored as integers,
 * so "123" costs 2 bytes; reading one back formats it, giving the same bytes.
 *
 * Elements are addressed by byte offset (from `firstOffset`); `next(after:)` walks forward.
 * There is no backward link: blocks are kept small, so a forward scan is cheap.
 */
import CTandem
import Platform

public enum PackedValue {
    case bytes(ByteView)
    case int(Int64)

    /// Calls `body` with the value as bytes (integers formatted into a stack buffer).
    @inline(__always)
    public func withBytes<R>(_ body: (ByteView) -> R) -> R {
        switch self {
        case .bytes(let v): return body(v)
        case .int(let i):
            var scratch = (UInt64(0), UInt64(0), UInt64(0))
            return withUnsafeMutableBytes(of: &scratch) { raw in
                let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let n = IntFormat.write(i, to: p)
                return body(ByteView(UnsafePointer(p), n))
            }
        }
    }

    /// Byte-wise equality with `other` (integers compare by their decimal text).
    public func equals(_ other: ByteView) -> Bool {
        switch self {
        case .bytes(let v): return v.equals(other)
        case .int(let i):
            if other.count > 20 { return false }
            return other.int64 == i
        }
    }

    /// Length of the value's text.
    public var length: Int {
        switch self {
        case .bytes(let v): return v.count
        case .int(let i): return IntFormat.digits(i)
        }
    }
}

public struct PackedList {
    public private(set) var raw: UnsafeMutableRawPointer
    public static let headerSize = 8
    public static let firstOffset = 8

    public init() {
        raw = tandem_malloc(64)!
        raw.storeBytes(of: UInt32(Self.headerSize), as: UInt32.self)
        raw.storeBytes(of: UInt32(0), toByteOffset: 4, as: UInt32.self)
    }

    public init(raw: UnsafeMutableRawPointer) { self.raw = raw }

    public func free() { tandem_free(raw) }

    /// A byte-for-byte copy.
    public func duplicate() -> PackedList {
        let n = byteSize
        let p = tandem_malloc(max(n, 64))!
        memcpy(p, raw, n)
        return PackedList(raw: p)
    }

    @inline(__always)
    public var byteSize: Int { Int(raw.load(as: UInt32.self)) }

    @inline(__always)
    public var count: Int { Int(raw.load(fromByteOffset: 4, as: UInt32.self)) }

    /// Bytes allocated for the block (for memory accounting decisions).
    public var allocatedSize: Int { tandem_usable_size(raw) }

    @inline(__always)
    func setByteSize(_ n: Int) { raw.storeBytes(of: UInt32(n), as: UInt32.self) }

    @inline(__always)
    func setCount(_ n: Int) { raw.storeBytes(of: UInt32(n), toByteOffset: 4, as: UInt32.self) }

    /// The offset just past the last element (where an append goes).
    @inline(__always)
    public var endOffset: Int { byteSize }

    // MARK: - Reading

    @inline(__always)
    func byte(_ off: Int) -> UInt8 { raw.load(fromByteOffset: off, as: UInt8.self) }

    /// Decodes the element at `offset`: its value and the offset of the next element.
    @inline(__always)
    public func element(at offset: Int) -> (value: PackedValue, next: Int) {
        let tag = byte(offset)
        let base = UnsafePointer(raw.assumingMemoryBound(to: UInt8.self))
        if tag < 0x80 {
            let n = Int(tag)
            return (.bytes(ByteView(base + offset + 1, n)), offset + 1 + n)
        }
        if tag < 0xC0 {
            let n = Int(tag & 0x3F) << 8 | Int(byte(offset + 1))
            return (.bytes(ByteView(base + offset + 2, n)), offset + 2 + n)
        }
        switch tag {
        case 0xE0:
            let n = Int(raw.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self))
            return (.bytes(ByteView(base + offset + 5, n)), offset + 5 + n)
        case 0xF0:
            return (.int(Int64(Int8(bitPattern: byte(offset + 1)))), offset + 2)
        case 0xF1:
            return (.int(Int64(raw.loadUnaligned(fromByteOffset: offset + 1, as: Int16.self))), offset + 3)
        case 0xF2:
            return (.int(Int64(raw.loadUnaligned(fromByteOffset: offset + 1, as: Int32.self))), offset + 5)
        default:
            return (.int(raw.loadUnaligned(fromByteOffset: offset + 1, as: Int64.self)), offset + 9)
        }
    }

    @inline(__always)
    public func value(at offset: Int) -> PackedValue { element(at: offset).value }

    @inline(__always)
    public func next(after offset: Int) -> Int {
        // A short string's tag is its length: no need to decode it.
        let tag = byte(offset)
        return tag < 0x80 ? offset + 1 + Int(tag) : element(at: offset).next
    }

    /// Byte offset of element `index` (0-based), or `endOffset` when index == count.
    public func offset(ofIndex index: Int) -> Int {
        var off = Self.firstOffset
        var i = 0
        while i < index {
            off = next(after: off)
            i += 1
        }
        return off
    }

    /// Calls `body` for each element in order until it returns false.
    public func forEach(_ body: (PackedValue) -> Bool) {
        var off = Self.firstOffset
        let end = endOffset
        while off < end {
            let (v, n) = element(at: off)
            if !body(v) { return }
            off = n
        }
    }

    /// Offset of the first element equal to `needle`, searching every `step`-th element from
    /// `from` (step 2 finds hash fields and zset members), or nil.
    public func find(_ needle: ByteView, from: Int = PackedList.firstOffset, step: Int = 1) -> Int? {
        var off = from
        let end = endOffset
        let asInt = needle.count <= 20 ? needle.int64 : nil
        let base = UnsafePointer(raw.assumingMemoryBound(to: UInt8.self))
        while off < end {
            let tag = byte(off)
            if tag < 0x80 {
                // A short string (its tag is its length), compared without decoding it.
                if Int(tag) == needle.count && ByteView.bytesEqual(base + off + 1, needle.base, needle.count) {
                    return off
                }
                off += 1 + Int(tag)
            } else {
                let (v, n) = element(at: off)
                if tag >= 0xF0 {
                    if let asInt, case .int(let i) = v, i == asInt { return off }
                } else if case .bytes(let b) = v, b.equals(needle) {
                    return off
                }
                off = n
            }
            var s = 1
            while s < step && off < end {
                off = next(after: off)
                s += 1
            }
        }
        return nil
    }

    // MARK: - Encoding

    /// Bytes needed to encode `v`.
    @inline(__always)
    static func encodedSize(_ v: ByteView) -> Int {
        if v.count <= 20, let i = v.int64 { return intSize(i) }
        if v.count < 0x80 { return 1 + v.count }
        if v.count < 0x4000 { return 2 + v.count }
        return 5 + v.count
    }

    @inline(__always)
    static func intSize(_ i: Int64) -> Int {
        if i >= -128 && i <= 127 { return 2 }
        if i >= -32768 && i <= 32767 { return 3 }
        if i >= Int64(Int32.min) && i <= Int64(Int32.max) { return 5 }
        return 9
    }

    /// Writes `v` at `p`; returns bytes written.
    @inline(__always)
    static func encode(_ v: ByteView, at p: UnsafeMutableRawPointer) -> Int {
        if v.count <= 20, let i = v.int64 { return encodeInt(i, at: p) }
        let n = v.count
        var h = 0
        if n < 0x80 {
            p.storeBytes(of: UInt8(n), as: UInt8.self)
            h = 1
        } else if n < 0x4000 {
            p.storeBytes(of: UInt8(0x80 | (n >> 8)), as: UInt8.self)
            p.storeBytes(of: UInt8(n & 0xFF), toByteOffset: 1, as: UInt8.self)
            h = 2
        } else {
            p.storeBytes(of: UInt8(0xE0), as: UInt8.self)
            p.storeBytes(of: UInt32(n), toByteOffset: 1, as: UInt32.self)
            h = 5
        }
        ByteView.copyBytes(v.base, to: p + h, n)
        return h + n
    }

    @inline(__always)
    static func encodeInt(_ i: Int64, at p: UnsafeMutableRawPointer) -> Int {
        switch intSize(i) {
        case 2:
            p.storeBytes(of: UInt8(0xF0), as: UInt8.self)
            p.storeBytes(of: Int8(i), toByteOffset: 1, as: Int8.self)
            return 2
        case 3:
            p.storeBytes(of: UInt8(0xF1), as: UInt8.self)
            p.storeBytes(of: Int16(i), toByteOffset: 1, as: Int16.self)
            return 3
        case 5:
            p.storeBytes(of: UInt8(0xF2), as: UInt8.self)
            p.storeBytes(of: Int32(i), toByteOffset: 1, as: Int32.self)
            return 5
        default:
            p.storeBytes(of: UInt8(0xF3), as: UInt8.self)
            p.storeBytes(of: i, toByteOffset: 1, as: Int64.self)
            return 9
        }
    }

    // MARK: - Writing

    /// Makes room for `extra` more bytes.
    mutating func reserve(_ extra: Int) {
        let need = byteSize + extra
        if need > tandem_usable_size(raw) {
            var cap = max(64, tandem_usable_size(raw))
            while cap < need { cap = cap < 4096 ? cap * 2 : cap + cap / 2 }
            raw = tandem_realloc(raw, cap)!
        }
    }

    /// Inserts `v` before the element at `offset` (or at the end when offset == endOffset).
    public mutating func insert(_ v: ByteView, at offset: Int) {
        let size = Self.encodedSize(v)
        reserve(size)
        let end = byteSize
        if offset < end { memmove(raw + offset + size, raw + offset, end - offset) }
        _ = Self.encode(v, at: raw + offset)
        setByteSize(end + size)
        setCount(count + 1)
    }

    @inline(__always)
    public mutating func append(_ v: ByteView) { insert(v, at: endOffset) }

    /// Removes `n` consecutive elements starting at `offset`.
    public mutating func remove(at offset: Int, count n: Int) {
        var stop = offset
        var removed = 0
        let end = byteSize
        while removed < n && stop < end {
            stop = next(after: stop)
            removed += 1
        }
        if stop < end { memmove(raw + offset, raw + stop, end - stop) }
        setByteSize(end - (stop - offset))
        setCount(count - removed)
        shrinkIfWasteful()
    }

    /// Replaces the element at `offset` with `v`.
    public mutating func replace(at offset: Int, with v: ByteView) {
        let oldNext = next(after: offset)
        let oldSize = oldNext - offset
        let newSize = Self.encodedSize(v)
        if newSize > oldSize { reserve(newSize - oldSize) }
        let end = byteSize
        if newSize != oldSize { memmove(raw + offset + newSize, raw + oldNext, end - oldNext) }
        _ = Self.encode(v, at: raw + offset)
        setByteSize(end - oldSize + newSize)
        if newSize < oldSize { shrinkIfWasteful() }
    }

    mutating func shrinkIfWasteful() {
        let cap = tandem_usable_size(raw)
        if cap > 256 && byteSize < cap / 4 {
            raw = tandem_realloc(raw, max(64, byteSize * 2))!
        }
    }
}
