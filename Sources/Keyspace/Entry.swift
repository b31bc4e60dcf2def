/*
 * Entry: one key and its value in a single malloc'd block, the unit of the keyspace.
 *
 * Why not Swift objects: a forked snapshot child walks the whole keyspace, and retaining a
 * Swift object writes its header, which would copy every page of the dataset (see
 * docs/performance.md: 83% of RSS copied with a Swift Dictionary, 0.09% with raw blocks). So an
 * entry is raw memory read through this non-owning view; nothing here is reference counted.
 *
 * Layout (byte offsets):
 *
 *     0  next           pointer to the next entry in the same hash bucket (or nil)
 *     8  expireAt       Unix ms, 0 when the key has no expire
 *    16  payload        int value (encoding int), value length (embstr/raw), or a pointer
 *                       to the value's own structure (lists, sets, hashes, sorted sets)
 *    24  keyLength      UInt32
 *    28  lru            seconds clock of the last access (OBJECT IDLETIME)
 *    32  volatileSlot   position in the database's VolatileIndex when expireAt != 0
 *    36  type           Redis's OBJ_* numbering: 0 string, 1 list, 2 set, 3 zset, 4 hash, 6 stream
 *    37  encoding       ObjectEncoding raw value
 *    38  key bytes, then (for strings stored inline) the value bytes
 *
 * A string of 100 bytes under a 10-byte key is one 148-byte allocation; Redis spends a
 * dictEntry, an sds key and a robj + sds value on the same pair.
 */
import CTandem
import Platform

public enum ObjectType: UInt8 {
    case string = 0, list = 1, set = 2, zset = 3, hash = 4, stream = 6

    public var name: StaticString {
        switch self {
        case .string: "string"
        case .list: "list"
        case .set: "set"
        case .zset: "zset"
        case .hash: "hash"
        case .stream: "stream"
        }
    }
}

/// What OBJECT ENCODING reports; values shared with Redis's OBJ_ENCODING_* where they exist.
public enum ObjectEncoding: UInt8 {
    case raw = 0, int = 1, hashtable = 2, intset = 6, skiplist = 7, embstr = 8, quicklist = 9,
        stream = 10, listpack = 11

    /// The encoding an entry's header byte stores (an unknown byte reads as raw). Written out
    /// rather than `init(rawValue:)`, which is a call on every type check (issue 20).
    @inlinable @inline(__always)
    public init(stored r: UInt8) {
        switch r {
        case 1: self = .int
        case 2: self = .hashtable
        case 6: self = .intset
        case 7: self = .skiplist
        case 8: self = .embstr
        case 9: self = .quicklist
        case 10: self = .stream
        case 11: self = .listpack
        default: self = .raw
        }
    }

    public var name: StaticString {
        switch self {
        case .raw: "raw"
        case .int: "int"
        case .hashtable: "hashtable"
        case .intset: "intset"
        case .skiplist: "skiplist"
        case .embstr: "embstr"
        case .quicklist: "quicklist"
        case .stream: "stream"
        case .listpack: "listpack"
        }
    }
}

public struct Entry: Equatable {
    public static let headerSize = 38
    /// Strings up to this length report the embstr encoding, as in Redis.
    public static let embstrLimit = 44

    public let raw: UnsafeMutableRawPointer

    @inline(__always)
    public init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

    // MARK: - Fields

    @inline(__always)
    public var next: UnsafeMutableRawPointer? {
        get { raw.load(as: UnsafeMutableRawPointer?.self) }
        nonmutating set { raw.storeBytes(of: newValue, as: UnsafeMutableRawPointer?.self) }
    }

    /// Unix milliseconds of expiry, 0 for none.
    @inline(__always)
    public var expireAt: Int64 {
        get { raw.load(fromByteOffset: 8, as: Int64.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 8, as: Int64.self) }
    }

    @inline(__always)
    public var payload: Int64 {
        get { raw.load(fromByteOffset: 16, as: Int64.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 16, as: Int64.self) }
    }

    @inline(__always)
    public var keyLength: Int { Int(raw.load(fromByteOffset: 24, as: UInt32.self)) }

    @inline(__always)
    public var lru: UInt32 {
        get { raw.load(fromByteOffset: 28, as: UInt32.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 28, as: UInt32.self) }
    }

    @inline(__always)
    public var volatileSlot: Int {
        get { Int(raw.load(fromByteOffset: 32, as: UInt32.self)) }
        nonmutating set { raw.storeBytes(of: UInt32(truncatingIfNeeded: newValue), toByteOffset: 32, as: UInt32.self) }
    }

    @inlinable @inline(__always)
    public var type: ObjectType {
        get { ObjectType(rawValue: raw.load(fromByteOffset: 36, as: UInt8.self)) ?? .string }
        nonmutating set { raw.storeBytes(of: newValue.rawValue, toByteOffset: 36, as: UInt8.self) }
    }

    @inlinable @inline(__always)
    public var encoding: ObjectEncoding {
        get { ObjectEncoding(stored: raw.load(fromByteOffset: 37, as: UInt8.self)) }
        nonmutating set { raw.storeBytes(of: newValue.rawValue, toByteOffset: 37, as: UInt8.self) }
    }

    @inline(__always)
    public var key: ByteView {
        ByteView(UnsafePointer(raw.assumingMemoryBound(to: UInt8.self) + Entry.headerSize), keyLength)
    }

    // MARK: - String values

    /// True for strings kept as bytes after the key (embstr and raw).
    @inline(__always)
    public var isInlineString: Bool { type == .string && encoding != .int }

    /// The bytes of an inline string value.
    @inline(__always)
    public var stringBytes: ByteView {
        ByteView(
            UnsafePointer(raw.assumingMemoryBound(to: UInt8.self) + Entry.headerSize + keyLength),
            Int(payload))
    }

    /// Mutable access to an inline string's bytes (SETRANGE in place).
    @inline(__always)
    public var mutableStringBytes: UnsafeMutablePointer<UInt8> {
        raw.assumingMemoryBound(to: UInt8.self) + Entry.headerSize + keyLength
    }

    /// Bytes this entry's block can hold, as malloc reports it.
    public var allocatedSize: Int { tandem_usable_size(raw) }

    // MARK: - Creation

    /// Allocates an entry for `key` with room for `valueCapacity` value bytes after it.
    /// Fields other than the key are zero: no expire, type string, encoding raw.
    public static func allocate(key: ByteView, valueCapacity: Int) -> Entry {
        let size = headerSize + key.count + valueCapacity
        let p = tandem_malloc(size)!
        memset(p, 0, headerSize)
        p.storeBytes(of: UInt32(key.count), toByteOffset: 24, as: UInt32.self)
        if key.count > 0 { memcpy(p + headerSize, key.base, key.count) }
        return Entry(p)
    }

    /// A new string entry: int-encoded when `encodeInt` and the value is an integer Redis would
    /// encode as one, else inline bytes reported as embstr or raw.
    public static func makeString(key: ByteView, value: ByteView, encodeInt: Bool = true, forceRaw: Bool = false)
        -> Entry
    {
        if encodeInt, value.count <= 20, let v = value.int64 {
            let e = allocate(key: key, valueCapacity: 0)
            e.encoding = .int
            e.payload = v
            return e
        }
        let e = allocate(key: key, valueCapacity: value.count)
        e.storeString(value, forceRaw: forceRaw)
        return e
    }

    /// A new int-encoded string entry.
    public static func makeInteger(key: ByteView, value: Int64) -> Entry {
        let e = allocate(key: key, valueCapacity: 0)
        e.encoding = .int
        e.payload = value
        return e
    }

    /// Writes `value` as this entry's inline string. The block must have room.
    @inline(__always)
    public func storeString(_ value: ByteView, forceRaw: Bool = false) {
        type = .string
        encoding = (value.count <= Entry.embstrLimit && !forceRaw) ? .embstr : .raw
        payload = Int64(value.count)
        if value.count > 0 { memcpy(mutableStringBytes, value.base, value.count) }
    }

    /// True when this block can hold an inline string of `count` bytes without reallocating.
    @inline(__always)
    public func canHoldString(_ count: Int) -> Bool {
        allocatedSize >= Entry.headerSize + keyLength + count
    }

    /// Grows the block to hold `valueCapacity` value bytes; the entry may move.
    public func resized(valueCapacity: Int) -> Entry {
        Entry(tandem_realloc(raw, Entry.headerSize + keyLength + valueCapacity)!)
    }

    /// Frees the block and whatever the value owns.
    public func free() {
        if type != .string { freeAggregateValue() }
        tandem_free(raw)
    }

    /// Frees only the block, leaving the value's own structure alive (it was handed over to
    /// another entry).
    public func freeBlockOnly() {
        tandem_free(raw)
    }
}

extension Entry {
    /// A new, independent entry holding a deep copy of this value under `key` (COPY).
    public func copy(withKey key: ByteView) -> Entry {
        let e = blockCopy(withKey: key)
        if type != .string { e.payload = duplicateAggregateValue() }
        return e
    }

    /// Moves this value under `key` (RENAME): the value's structure is handed over, this
    /// block is freed. The entry must already be unlinked from its table.
    public func rekeyed(_ key: ByteView) -> Entry {
        let e = blockCopy(withKey: key)
        e.expireAt = expireAt
        freeBlockOnly()
        return e
    }

    /// A new block with this entry's header fields and inline string bytes under `key`.
    func blockCopy(withKey key: ByteView) -> Entry {
        let valueBytes = isInlineString ? Int(payload) : 0
        let e = Entry.allocate(key: key, valueCapacity: valueBytes)
        e.type = type
        e.encoding = encoding
        e.payload = payload
        e.lru = lru
        if valueBytes > 0 { memcpy(e.mutableStringBytes, stringBytes.base, valueBytes) }
        return e
    }

    /// The aggregate value's root pointer (lists, hashes, sets, sorted sets).
    @inline(__always)
    public var valuePointer: UnsafeMutableRawPointer {
        get { UnsafeMutableRawPointer(bitPattern: Int(payload))! }
        nonmutating set { payload = Int64(Int(bitPattern: newValue)) }
    }
}
