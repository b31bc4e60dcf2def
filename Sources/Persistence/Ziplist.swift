/*
 * Ziplist and Zipmap: the packed formats of RDB files written before Redis 7.0, read-only.
 *
 * Why: Redis 7.0 still loads files from older versions, converting these blobs to listpacks
 * as it goes, and users upgrade by pointing the new server at the old dump.rdb. Tandem never
 * writes them. The loader validates the untrusted blob, then walks it:
 *
 *   ziplist  lists (RDB type 10, and each node of a type 14 quicklist), hashes (13) and
 *            sorted sets (12) from Redis 2.6 to 6.2
 *   zipmap   hashes (type 9) from Redis before 2.6
 *
 * Both validators follow Redis's own deep integrity checks (ziplistValidateIntegrity,
 * zipmapValidateIntegrity) so that Tandem accepts what Redis accepts, and neither reads
 * outside the blob whatever it holds. The forEach functions are meant for validated blobs and
 * are safe on any other: they stop at the first entry that does not fit.
 *
 * Ziplist layout (little-endian, except the 32-bit string length):
 *
 *     0  zlbytes  UInt32   the whole blob
 *     4  zltail   UInt32   offset of the last entry
 *     8  zllen    UInt16   entry count; 65535 = "walk to count"
 *    10  entries, each: prevlen, encoding [length], data
 *        zlend    0xFF
 *
 *   prevlen: size of the previous entry; one byte when below 254, else 0xFE and a UInt32.
 *   (A 5-byte prevlen may hold a small value: Redis never shrinks it, to avoid cascades.)
 *
 *     encoding          data
 *     00xxxxxx          string of up to 63 bytes
 *     01xxxxxx yyyyyyyy string, 14-bit length, high bits first
 *     10______ + 4      string, 32-bit length, BIG-endian (the low 6 bits are ignored)
 *     0xC0 / 0xD0 / 0xE0   Int16 / Int32 / Int64
 *     0xF0              24-bit integer
 *     0xFE              Int8
 *     0xF1...0xFD       the integer 0...12 in the byte itself (value = low nibble - 1)
 *
 * Zipmap layout:
 *
 *     zmlen (1 byte: the pair count, or 254 = "walk to count"), then per pair
 *     len field, len free value [free bytes], and 0xFF at the end
 *
 *   len: one byte when below 254, else that byte and a little-endian UInt32 (Redis reads
 *   0xFF there as a long length too, except where a field would start: there it ends the map).
 *   free: one byte, the count of unused bytes after the value, skipped.
 */
import Keyspace
import Platform

// MARK: - Ziplist

public enum Ziplist {
    static let headerSize = 10
    static let end: UInt8 = 0xFF
    static let bigPrevlen: UInt8 = 254
    static let countUnknown: UInt16 = 65535

    /// One decoded entry: where its data starts, its own size, and the prevlen it claims.
    struct Entry {
        var dataOffset: Int
        var encoding: UInt8
        var dataLength: Int
        var size: Int
        var prevlen: Int
    }

    /// Whether `blob` is a well-formed ziplist, checked as Redis's ziplistValidateIntegrity
    /// (deep): size and terminator, every entry's header and data before the terminator, each
    /// prevlen equal to the previous entry's size, the entries ending exactly at the
    /// terminator, zltail at the last entry, and zllen (unless 65535) equal to the count.
    public static func validate(_ blob: ByteView) -> Bool {
        let size = blob.count
        guard size >= headerSize + 1 else { return false }
        let p = blob.base
        let last = size - 1
        let tail = Int(BlobBytes.u32(p, 4))
        guard Int(BlobBytes.u32(p, 0)) == size, p[last] == end, tail <= last else { return false }
        var off = headerSize
        var previous: Int?
        var previousSize = 0
        var found = 0
        while p[off] != end {
            guard let e = entry(p, at: off, last: last), e.prevlen == previousSize,
                  off - e.prevlen >= headerSize
            else { return false }
            previous = off
            previousSize = e.size
            off += e.size
            found += 1
        }
        guard off == last else { return false }
        if let previous, previous != tail { return false }
        let header = BlobBytes.u16(p, 8)
        return header == countUnknown || Int(header) == found
    }

    /// Calls `body` with each element in order until it returns false; strings are views
    /// into `blob`. Stops at the first malformed entry; never reads outside `blob`.
    public static func forEach(_ blob: ByteView, _ body: (PackedValue) -> Bool) {
        guard blob.count >= headerSize + 1 else { return }
        let p = blob.base
        let last = blob.count - 1
        var off = headerSize
        while p[off] != end, let e = entry(p, at: off, last: last) {
            if !body(value(p, e)) { return }
            off += e.size
        }
    }

    /// Decodes the entry at `off` when its header and data all lie before `last` (the
    /// terminator's offset), as Redis's zipEntrySafe; nil otherwise or for an unknown encoding.
    static func entry(_ p: UnsafePointer<UInt8>, at off: Int, last: Int) -> Entry? {
        let prevlenSize = p[off] < bigPrevlen ? 1 : 5
        let encodingOffset = off + prevlenSize
        guard encodingOffset <= last else { return nil }
        let encoding = p[encodingOffset] < 0xC0 ? p[encodingOffset] & 0xC0 : p[encodingOffset]
        guard let headSize = lengthBytes(encoding), encodingOffset + headSize <= last else { return nil }
        let prevlen = prevlenSize == 1 ? Int(p[off]) : Int(BlobBytes.u32(p, off + 1))
        let dataLength = Self.dataLength(p, encoding, at: encodingOffset)
        let dataOffset = encodingOffset + headSize
        guard dataOffset + dataLength <= last else { return nil }
        return Entry(
            dataOffset: dataOffset, encoding: encoding, dataLength: dataLength,
            size: dataOffset + dataLength - off, prevlen: prevlen)
    }

    /// Bytes of encoding and length for an encoding (string encodings masked to their top
    /// two bits), or nil for one Redis does not define.
    static func lengthBytes(_ encoding: UInt8) -> Int? {
        switch encoding {
        case 0x00: return 1
        case 0x40: return 2
        case 0x80: return 5
        case 0xC0, 0xD0, 0xE0, 0xF0, 0xFE, 0xF1...0xFD: return 1
        default: return nil
        }
    }

    /// Length of the data after the encoding at `off` (string bytes, or integer width).
    static func dataLength(_ p: UnsafePointer<UInt8>, _ encoding: UInt8, at off: Int) -> Int {
        switch encoding {
        case 0x00: return Int(p[off] & 0x3F)
        case 0x40: return Int(p[off] & 0x3F) << 8 | Int(p[off + 1])
        case 0x80: return Int(UInt32(bigEndian: UnsafeRawPointer(p + off + 1).loadUnaligned(as: UInt32.self)))
        case 0xC0: return 2
        case 0xD0: return 4
        case 0xE0: return 8
        case 0xF0: return 3
        case 0xFE: return 1
        default: return 0  // 0xF1...0xFD: the value is in the encoding byte
        }
    }

    static func value(_ p: UnsafePointer<UInt8>, _ e: Entry) -> PackedValue {
        let d = e.dataOffset
        switch e.encoding {
        case 0x00, 0x40, 0x80: return .bytes(ByteView(p + d, e.dataLength))
        case 0xC0: return .int(Int64(Int16(bitPattern: BlobBytes.u16(p, d))))
        case 0xD0: return .int(Int64(Int32(bitPattern: BlobBytes.u32(p, d))))
        case 0xE0: return .int(Int64(bitPattern: BlobBytes.u64(p, d)))
        case 0xF0: return .int(BlobBytes.i24(p, d))
        case 0xFE: return .int(Int64(Int8(bitPattern: p[d])))
        default: return .int(Int64(e.encoding & 0x0F) - 1)
        }
    }
}

// MARK: - Zipmap

public enum Zipmap {
    static let end: UInt8 = 0xFF
    static let bigLength: UInt8 = 254

    /// Whether `blob` is a well-formed zipmap, checked as Redis's zipmapValidateIntegrity
    /// (deep): the last byte is the terminator, every field, value and free run lies before
    /// it, the map is not empty, and zmlen (unless 254) equals the pair count.
    ///
    /// Like Redis, a 0xFF where a field would start ends the map even before the last byte;
    /// forEach stops there too, so bytes after it are ignored, never read as pairs.
    public static func validate(_ blob: ByteView) -> Bool {
        let size = blob.count
        guard size >= 2, blob.base[size - 1] == end else { return false }
        var pairs = 0
        var complete = true
        walk(blob) { _, _ in
            pairs += 1
            return true
        } malformed: {
            complete = false
        }
        guard complete, pairs > 0 else { return false }
        let header = blob.base[0]
        return header == bigLength || Int(header) == pairs
    }

    /// Calls `body` with each (field, value) pair until it returns false; both are views into
    /// `blob`. Stops at the first malformed pair; never reads outside `blob`.
    public static func forEach(_ blob: ByteView, _ body: (ByteView, ByteView) -> Bool) {
        guard blob.count >= 2 else { return }
        walk(blob, body) {}
    }

    /// Walks the pairs of `blob` (at least 2 bytes), calling `malformed` and stopping when a
    /// pair runs past the last byte.
    private static func walk(
        _ blob: ByteView, _ body: (ByteView, ByteView) -> Bool, malformed: () -> Void
    ) {
        let p = blob.base
        let last = blob.count - 1
        var off = 1
        while p[off] != end {
            guard let field = string(p, at: off, last: last, freeByte: false),
                  let value = string(p, at: field.next, last: last, freeByte: true)
            else { return malformed() }
            if !body(field.view, value.view) { return }
            off = value.next
        }
    }

    /// The length-prefixed string at `off` (with the value's free-count byte and free run
    /// when `freeByte`) and the offset after it, or nil when it runs past `last`.
    private static func string(
        _ p: UnsafePointer<UInt8>, at off: Int, last: Int, freeByte: Bool
    ) -> (view: ByteView, next: Int)? {
        let lengthSize = p[off] < bigLength ? 1 : 5
        guard off + lengthSize <= last else { return nil }
        let length = lengthSize == 1 ? Int(p[off]) : Int(BlobBytes.u32(p, off + 1))
        var start = off + lengthSize
        var free = 0
        if freeByte {
            free = Int(p[start])  // start <= last: at worst this reads the terminator
            start += 1
        }
        let next = start + length + free
        guard next <= last else { return nil }
        return (ByteView(p + start, length), next)
    }
}
