/*
 * Listpack: Redis's listpack serialization, byte for byte — what Redis 7.0 stores in an RDB
 * file for a small hash (type 16), a small sorted set (17) and each node of a list (18), and
 * the in-memory format of a stream's nodes (Stream/StreamNode.swift edits them in place).
 *
 * Why a second packed format next to Keyspace's PackedList: PackedList is Tandem's in-memory
 * layout, chosen for fast forward scans; an RDB file must carry Redis's exact bytes so that
 * redis-server and redis-check-rdb accept what Tandem writes, and Tandem loads what Redis
 * writes. The writer streams a PackedList's values into a `ListpackBuilder`; the loader runs
 * `Listpack.validate` on the untrusted blob, then `Listpack.forEach` to rebuild the value.
 * It lives in Keyspace (not Persistence) because stream nodes keep these exact bytes in memory.
 *
 * Layout (all multi-byte fields little-endian):
 *
 *     0  total bytes     UInt32   the whole blob, header and terminator included
 *     4  element count   UInt16   65535 = "too many, walk to count"
 *     6  entries, each:  encoding [length] data, then backlen
 *        terminator      0xFF
 *
 *     encoding byte          entry
 *     0xxxxxxx               integer 0...127 in the byte itself
 *     10xxxxxx               string of 0...63 bytes
 *     110xxxxx yyyyyyyy      13-bit two's complement integer, -4096...4095
 *     1110xxxx yyyyyyyy      string of 64...4095 bytes (12-bit length, high bits first)
 *     0xF0 + UInt32          string of 4096 bytes or more
 *     0xF1/F2/F3/F4          16/24/32/64-bit integer follows
 *
 * A string that is an integer by Redis's strict rules (lpStringToInt64: no sign but '-', no
 * leading zero, no spaces, fits Int64 — exactly ByteView.int64) is stored as the smallest
 * integer encoding, so "123" costs one byte. Reading gives back the integer; its decimal text
 * is the original string, which is why only canonical strings qualify.
 *
 * backlen is the size of encoding+length+data, written so it can be read right to left: the
 * last byte holds the lowest 7 bits, each byte before it 7 more, and every byte but the first
 * has its high bit set ("more bytes to the left"). It lets Redis walk a listpack backwards.
 * Its size thresholds are Redis's own and not quite powers of two: 1 byte up to 127, 2 bytes
 * below 16383, 3 below 2097151, 4 below 268435455, else 5. So an entry of exactly 16383 bytes
 * gets a 3-byte backlen; copying the thresholds, not the idea, is what makes output identical.
 */
import CTandem

import Platform

// MARK: - Builder

/// Builds one listpack by appending elements; the bytes are read with `withBytes`.
///
/// A plain struct over one growable block from tandem_malloc (no per-element allocation):
/// like Keyspace's PackedList it must not be copied while in use (copies would share and
/// then invalidate the block), and its owner calls `free()` when done. `reset()` empties it
/// for the next key while keeping the block, so a snapshot reuses one builder throughout.
public struct ListpackBuilder {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written so far: header and entries, not the terminator.
    private var used = Listpack.headerSize
    /// Elements appended (the header stores at most 65534 of them; see `withBytes`).
    public private(set) var count = 0

    public init(capacityHint: Int = 64) {
        capacity = Swift.max(capacityHint, 16)
        base = tandem_malloc(capacity)!.assumingMemoryBound(to: UInt8.self)
    }

    /// Size of the finished listpack, terminator included.
    public var byteCount: Int { used + 1 }

    /// Empties the builder for the next listpack, keeping its block.
    public mutating func reset() {
        used = Listpack.headerSize
        count = 0
    }

    /// Releases the block. The builder must not be used afterwards.
    public func free() { tandem_free(base) }

    /// Appends a string, stored as an integer when Redis would (see the file comment).
    public mutating func append(_ v: ByteView) {
        if let i = v.int64 {
            append(i)
            return
        }
        let n = v.count
        let head = Listpack.stringHeaderSize(n)
        reserve(head + n + Listpack.maxBacklenSize)
        let p = base + used
        Listpack.writeStringHeader(n, at: p)
        if n > 0 { memcpy(p + head, v.base, n) }
        finishEntry(encodedSize: head + n)
    }

    /// Appends an integer in the smallest encoding that holds it.
    public mutating func append(_ v: Int64) {
        reserve(Listpack.maxIntSize + 1)
        finishEntry(encodedSize: Listpack.writeInt(v, at: base + used))
    }

    /// Appends a value read from a PackedList (or any other packed source).
    public mutating func append(_ v: PackedValue) {
        switch v {
        case .bytes(let b): append(b)
        case .int(let i): append(i)
        }
    }

    /// Calls `body` with the finished listpack: header filled in, terminator written. The
    /// view is valid only inside `body`; appending afterwards continues the same listpack.
    public func withBytes<R>(_ body: (ByteView) -> R) -> R {
        let total = used + 1
        precondition(total <= Int(UInt32.max), "listpack over 4 GiB; callers keep values under the limits")
        base[used] = Listpack.terminator
        let header = UnsafeMutableRawPointer(base)
        header.storeBytes(of: UInt32(total).littleEndian, as: UInt32.self)
        let n = UInt16(Swift.min(count, Int(Listpack.countUnknown)))
        header.storeBytes(of: n.littleEndian, toByteOffset: 4, as: UInt16.self)
        return body(ByteView(UnsafePointer(base), total))
    }

    /// Writes the backlen after the `encodedSize` bytes just written at `used`, and counts the entry.
    private mutating func finishEntry(encodedSize: Int) {
        let end = used + encodedSize
        used = end + Listpack.writeBacklen(encodedSize, at: base + end)
        count += 1
    }

    /// Makes room for `extra` more bytes plus the terminator.
    private mutating func reserve(_ extra: Int) {
        let needed = used + extra + 1
        if needed <= capacity { return }
        var cap = capacity * 2
        while cap < needed { cap *= 2 }
        base = tandem_realloc(base, cap)!.assumingMemoryBound(to: UInt8.self)
        capacity = cap
    }
}

// MARK: - Reading

public enum Listpack {
    static let headerSize = 6
    static let terminator: UInt8 = 0xFF
    static let countUnknown: UInt16 = 65535
    static let maxIntSize = 9
    static let maxBacklenSize = 5

    /// Whether `blob` is a well-formed listpack, checked entry by entry as Redis's
    /// lpValidateIntegrity(deep) does: the header's total equals the blob's size, the last
    /// byte is the terminator, every entry has a known encoding and lies wholly before the
    /// terminator, every backlen matches its entry, the entries end exactly at the
    /// terminator, and the header's count (unless 65535) equals the entries found.
    ///
    /// Never reads outside `blob`, whatever it holds. An empty listpack is valid here, as in
    /// Redis; whether an empty key is acceptable is the loader's decision.
    public static func validate(_ blob: ByteView) -> Bool {
        let size = blob.count
        guard size >= headerSize + 1 else { return false }
        let p = blob.base
        guard Int(BlobBytes.u32(p, 0)) == size, p[size - 1] == terminator else { return false }
        let end = size - 1
        var off = headerSize
        var found = 0
        while p[off] != terminator {
            guard let next = entry(p, at: off, end: end)?.next else { return false }
            off = next
            found += 1
        }
        if off != end { return false }
        let header = BlobBytes.u16(p, 4)
        return header == countUnknown || Int(header) == found
    }

    /// Calls `body` with each element in order until it returns false. Strings are views into
    /// `blob`, valid as long as it is. Meant for validated blobs; on any other input it stops
    /// at the first malformed entry and never reads outside `blob`.
    public static func forEach(_ blob: ByteView, _ body: (PackedValue) -> Bool) {
        guard blob.count >= headerSize + 1 else { return }
        let p = blob.base
        let end = blob.count - 1
        var off = headerSize
        while p[off] != terminator, let (value, next) = entry(p, at: off, end: end) {
            if !body(value) { return }
            off = next
        }
    }

    /// Number of elements: the header's count, or a walk when it says 65535.
    public static func count(_ blob: ByteView) -> Int {
        guard blob.count >= headerSize + 1 else { return 0 }
        let header = BlobBytes.u16(blob.base, 4)
        if header != countUnknown { return Int(header) }
        var n = 0
        forEach(blob) { _ in
            n += 1
            return true
        }
        return n
    }

    // MARK: - Entries

    /// Decodes the entry at `off`, which must be before `end` (the terminator's offset).
    /// Returns its value and the offset after its backlen, or nil when the encoding is
    /// unknown, the entry runs past `end`, or its backlen disagrees with its size.
    static func entry(_ p: UnsafePointer<UInt8>, at off: Int, end: Int) -> (value: PackedValue, next: Int)? {
        guard off < end, let lengthBytes = lengthBytes(p[off]), off + lengthBytes <= end else { return nil }
        let size = encodedSize(p, at: off)
        let next = off + size + backlenSize(size)
        guard next <= end, decodeBacklen(p, last: next - 1) == size else { return nil }
        return (value(p, at: off), next)
    }

    /// Bytes of encoding and length before an entry's data (what must be readable to learn
    /// its size), or nil for a byte that starts no entry.
    static func lengthBytes(_ first: UInt8) -> Int? {
        if first < 0x80 { return 1 }  // 7-bit integer
        if first & 0xC0 == 0x80 { return 1 }  // 6-bit string
        if first & 0xE0 == 0xC0 { return 1 }  // 13-bit integer
        if first & 0xF0 == 0xE0 { return 2 }  // 12-bit string
        switch first {
        case 0xF0: return 5  // 32-bit string
        case 0xF1, 0xF2, 0xF3, 0xF4: return 1  // 16/24/32/64-bit integer
        default: return nil
        }
    }

    /// Size of the entry's encoding, length and data (not its backlen). Needs `lengthBytes`.
    static func encodedSize(_ p: UnsafePointer<UInt8>, at off: Int) -> Int {
        let first = p[off]
        if first < 0x80 { return 1 }
        if first & 0xC0 == 0x80 { return 1 + Int(first & 0x3F) }
        if first & 0xE0 == 0xC0 { return 2 }
        if first & 0xF0 == 0xE0 { return 2 + (Int(first & 0x0F) << 8 | Int(p[off + 1])) }
        switch first {
        case 0xF0: return 5 + Int(BlobBytes.u32(p, off + 1))
        case 0xF1: return 3
        case 0xF2: return 4
        case 0xF3: return 5
        default: return 9
        }
    }

    /// The value of a well-formed entry at `off`.
    static func value(_ p: UnsafePointer<UInt8>, at off: Int) -> PackedValue {
        let first = p[off]
        if first < 0x80 { return .int(Int64(first)) }
        if first & 0xC0 == 0x80 { return .bytes(ByteView(p + off + 1, Int(first & 0x3F))) }
        if first & 0xE0 == 0xC0 {
            let u = Int64(first & 0x1F) << 8 | Int64(p[off + 1])
            return .int(u >= 4096 ? u - 8192 : u)
        }
        if first & 0xF0 == 0xE0 {
            return .bytes(ByteView(p + off + 2, Int(first & 0x0F) << 8 | Int(p[off + 1])))
        }
        switch first {
        case 0xF0: return .bytes(ByteView(p + off + 5, Int(BlobBytes.u32(p, off + 1))))
        case 0xF1: return .int(Int64(Int16(bitPattern: BlobBytes.u16(p, off + 1))))
        case 0xF2: return .int(BlobBytes.i24(p, off + 1))
        case 0xF3: return .int(Int64(Int32(bitPattern: BlobBytes.u32(p, off + 1))))
        default: return .int(Int64(bitPattern: BlobBytes.u64(p, off + 1)))
        }
    }

    // MARK: - Backlen

    /// Bytes of backlen for an entry of `size` bytes (Redis's thresholds, see the file comment).
    static func backlenSize(_ size: Int) -> Int {
        if size <= 127 { return 1 }
        if size < 16383 { return 2 }
        if size < 2_097_151 { return 3 }
        if size < 268_435_455 { return 4 }
        return 5
    }

    /// Writes the backlen of `size` at `p`; returns its length.
    static func writeBacklen(_ size: Int, at p: UnsafeMutablePointer<UInt8>) -> Int {
        let n = backlenSize(size)
        // Most significant group first, without the continuation bit; the rest with it.
        p[0] = UInt8(truncatingIfNeeded: size >> (7 * (n - 1)))
        var i = 1
        while i < n {
            p[i] = UInt8(truncatingIfNeeded: size >> (7 * (n - 1 - i))) & 0x7F | 0x80
            i += 1
        }
        return n
    }

    /// Reads a backlen right to left from its last byte at `last`, as Redis's lpDecodeBacklen:
    /// at most 5 bytes, nil when longer or when it would read before the blob.
    static func decodeBacklen(_ p: UnsafePointer<UInt8>, last: Int) -> Int? {
        var value = 0
        var shift = 0
        var i = last
        while i >= 0 {
            let b = p[i]
            value |= Int(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
            if shift > 28 { return nil }
            i -= 1
        }
        return nil
    }

    // MARK: - Encoding

    /// Bytes of encoding and length before a string of `n` bytes.
    static func stringHeaderSize(_ n: Int) -> Int {
        n < 64 ? 1 : n < 4096 ? 2 : 5
    }

    static func writeStringHeader(_ n: Int, at p: UnsafeMutablePointer<UInt8>) {
        if n < 64 {
            p[0] = 0x80 | UInt8(n)
        } else if n < 4096 {
            p[0] = 0xE0 | UInt8(n >> 8)
            p[1] = UInt8(n & 0xFF)
        } else {
            p[0] = 0xF0
            UnsafeMutableRawPointer(p + 1).storeBytes(of: UInt32(n).littleEndian, as: UInt32.self)
        }
    }

    /// Writes `v` in its smallest integer encoding at `p`; returns the bytes written.
    static func writeInt(_ v: Int64, at p: UnsafeMutablePointer<UInt8>) -> Int {
        let raw = UnsafeMutableRawPointer(p + 1)
        switch v {
        case 0...127:
            p[0] = UInt8(v)
            return 1
        case -4096...4095:
            let u = v < 0 ? v + 8192 : v
            p[0] = 0xC0 | UInt8(u >> 8)
            p[1] = UInt8(u & 0xFF)
            return 2
        case Int64(Int16.min)...Int64(Int16.max):
            p[0] = 0xF1
            raw.storeBytes(of: Int16(v).littleEndian, as: Int16.self)
            return 3
        case -8_388_608...8_388_607:
            p[0] = 0xF2
            p[1] = UInt8(truncatingIfNeeded: v)
            p[2] = UInt8(truncatingIfNeeded: v >> 8)
            p[3] = UInt8(truncatingIfNeeded: v >> 16)
            return 4
        case Int64(Int32.min)...Int64(Int32.max):
            p[0] = 0xF3
            raw.storeBytes(of: Int32(v).littleEndian, as: Int32.self)
            return 5
        default:
            p[0] = 0xF4
            raw.storeBytes(of: v.littleEndian, as: Int64.self)
            return 9
        }
    }
}
