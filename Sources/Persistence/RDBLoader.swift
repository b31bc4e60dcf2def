/*
 * RDBLoader: reads an RDB stream (a dump.rdb, a full-sync payload, a RESTORE payload) into
 * keyspace entries.
 *
 * It accepts every type Redis 7.0 writes or still loads: strings; lists as quicklist 2
 * (listpack nodes), quicklist 1 (ziplist nodes), plain and ziplist lists; sets as plain,
 * intset or listpack; sorted sets as plain (text or binary scores), ziplist or listpack;
 * hashes as plain, zipmap, ziplist or listpack. Values are rebuilt with the same store
 * functions the commands use, so the encodings chosen follow this server's thresholds
 * (hash-max-listpack-entries, ...) exactly as Redis's loader converts on load. Streams,
 * module values and functions are refused with a message that says so.
 *
 * Every length is checked before it is trusted: a value is built only from bytes that were
 * actually read, blobs (listpack, ziplist, intset, zipmap) are fully validated before they
 * are walked, and any failure is an RDBError naming the problem and the byte offset. A
 * value being built when an error strikes is freed, so a rejected RESTORE payload or a
 * corrupt file leaves nothing behind. The final CRC64 is compared when present.
 */
import CLZF
import CTandem
import Glibc
import Keyspace
import Platform

public struct RDBLoadOptions: Sendable {
    public var hashMaxListpackEntries = 512
    public var hashMaxListpackValue = 64
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    public var setMaxIntsetEntries = 512
    public var listMaxListpackSize = -2
    /// Unix ms used to decide whether a key with an expire is already gone.
    public var nowMillis: Int64 = 0
    /// A master drops keys that expired while on disk; a replica keeps them (its master
    /// will send the DEL).
    public var discardExpired = true
    /// loading-process-events-interval-bytes: how often `progress` is called (clients are
    /// served while loading).
    public var progressIntervalBytes = 2 * 1024 * 1024
    /// Also list the keys dropped that way (RDBLoadSummary.expiredKeys).
    public var collectExpired = false
    /// rdbchecksum: compare the trailer (a zero trailer means "saved without checksum").
    public var verifyChecksum = true
    /// A key already in the database is replaced instead of failing the load (DEBUG RELOAD
    /// MERGE, Redis's RDBFLAGS_ALLOW_DUP).
    public var replaceDuplicateKeys = false
    /// key-load-delay: microseconds to sleep after each key (a testing aid, as in Redis).
    public var keyLoadDelayMicros = 0
    /// Seconds clock stamped into loaded entries (OBJECT IDLETIME).
    public var lruClock: UInt32 = 0
    /// With an LFU policy: the LFU minutes clock (entries get the FREQ opcode's counter, or
    /// Redis's initial 5); -1 for LRU (entries get the IDLE opcode's age).
    public var lfuMinutes = -1

    public init() {}
}

/// What a load found besides keys: aux fields and counts.
public struct RDBLoadSummary: Sendable {
    public var version = 0
    public var keysLoaded = 0
    public var expiredSkipped = 0
    /// The keys dropped as expired, with their database, when asked (collectExpired).
    public var expiredKeys: [(Int, [UInt8])] = []
    public var emptySkipped = 0
    public var aux: [(String, String)] = []
    /// The code of each function library (RDB_OPCODE_FUNCTION2), in file order: the server
    /// compiles them once the load is done.
    public var functionLibraries: [[UInt8]] = []
    public var redisVersion: String? { value("redis-ver") }
    public var replID: String? { value("repl-id") }
    public var replOffset: Int64? { value("repl-offset").flatMap { Int64($0) } }
    public var replStreamDB: Int? { value("repl-stream-db").flatMap { Int($0) } }

    func value(_ key: String) -> String? { aux.last { $0.0 == key }?.1 }
}

/// Scratch memory for strings that must outlive the next read (a key while its value is
/// read, a hash field while its value is read) and for decompressed or formatted strings.
struct LoadScratch: ~Copyable {
    private var slots: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private var sizes: UnsafeMutablePointer<Int>
    static let count = 3
    static let key = 0, element = 1, decoded = 2

    init() {
        slots = .allocate(capacity: Self.count)
        sizes = .allocate(capacity: Self.count)
        for i in 0..<Self.count {
            slots[i] = tandem_malloc(256)!
            sizes[i] = 256
        }
    }

    deinit {
        for i in 0..<Self.count { tandem_free(slots[i]) }
        slots.deallocate()
        sizes.deallocate()
    }

    /// Slot `i` with room for `n` bytes (its old contents are not kept); nil when memory
    /// cannot be had (the slot keeps its old buffer).
    mutating func room(_ i: Int, _ n: Int) -> UnsafeMutableRawPointer? {
        if sizes[i] < n {
            let size = max(n, sizes[i] * 2)
            guard let p = tandem_malloc(size) else { return nil }
            tandem_free(slots[i])
            slots[i] = p
            sizes[i] = size
        }
        return slots[i]
    }

    /// Copies `v` (bytes already in memory, so the size is real) into slot `i`.
    mutating func hold(_ v: ByteView, in i: Int) -> ByteView {
        let p = room(i, v.count)!
        if v.count > 0 { memcpy(p, v.base, v.count) }
        return ByteView(UnsafePointer(p.assumingMemoryBound(to: UInt8.self)), v.count)
    }
}

public enum RDBLoader {
    // MARK: - Files

    /// Loads a whole RDB stream into `dbs` (which should be empty). `progress` is called
    /// every 2 MB or 1024 keys with the stream offset (the server answers clients meanwhile).
    public static func load(_ input: inout RDBInput, into dbs: UnsafeMutablePointer<Database>, count dbCount: Int,
                            options: RDBLoadOptions, progress: (Int64) -> Void) throws(RDBError) -> RDBLoadSummary
    {
        var summary = RDBLoadSummary()
        summary.version = try readHeader(&input)
        var scratch = LoadScratch()
        var db = 0
        var expireAt: Int64 = 0
        // The next key's IDLE / FREQ opcodes (-1: none), applied as the policy wants.
        var idleSeconds: Int64 = -1
        var frequency = -1
        let every = Int64(max(1024, options.progressIntervalBytes))
        var nextProgress = input.offset + every
        while true {
            let type = try input.readByte()
            switch type {
            case RDBFormat.opExpireTimeMS:
                expireAt = try input.readLE(Int64.self)
                continue
            case RDBFormat.opExpireTime:
                expireAt = Int64(try input.readLE(Int32.self)) * 1000
                continue
            case RDBFormat.opIdle:
                idleSeconds = Int64(clamping: try readLength(&input))
                continue
            case RDBFormat.opFreq:
                frequency = Int(try input.readByte())
                continue
            case RDBFormat.opSelectDB:
                let n = try readLength(&input)
                if n >= UInt64(dbCount) {
                    throw input.error("FATAL: Data file was created with a Redis server configured to handle more than \(dbCount) databases")
                }
                db = Int(n)
                continue
            case RDBFormat.opResizeDB:
                let size = try readLength(&input)
                _ = try readLength(&input)
                // A hint only: capped, so a corrupt size cannot allocate gigabytes up front.
                dbs[db].dict.reserve(Int(min(size, 1 << 22)))
                continue
            case RDBFormat.opAux:
                let k = try readString(&input, &scratch)
                let key = String(decoding: UnsafeBufferPointer(start: scratch.hold(k, in: LoadScratch.key).base, count: k.count), as: UTF8.self)
                let v = try readString(&input, &scratch)
                summary.aux.append((key, String(decoding: UnsafeBufferPointer(start: v.base, count: v.count), as: UTF8.self)))
                continue
            case RDBFormat.opModuleAux:
                throw input.error("The RDB file contains AUX module data I can't load: no matching module")
            case RDBFormat.opFunction:
                throw input.error("Pre-release function format not supported.")
            case RDBFormat.opFunction2:
                let code = try readString(&input, &scratch)
                summary.functionLibraries.append(Array(UnsafeBufferPointer(start: code.base, count: code.count)))
                continue
            case RDBFormat.opEOF:
                try readTrailer(&input, version: summary.version, options: options)
                return summary
            default:
                break
            }
            // A key and its value.
            let keyView = try readString(&input, &scratch)
            let key = scratch.hold(keyView, in: LoadScratch.key)
            let entry = try readValue(&input, type: type, key: key, options: options, scratch: &scratch)
            let expire = expireAt
            expireAt = 0
            guard let entry else {
                // An empty collection (older Redis versions could write one): skipped, and the
                // first ten named in the log as Redis does.
                if summary.emptySkipped < 10 {
                    let printable = String(decoding: UnsafeBufferPointer(start: key.base, count: key.count), as: UTF8.self)
                    Log.warning("rdbLoadObject skipping empty key: \(printable)")
                }
                summary.emptySkipped += 1
                continue
            }
            if expire != 0 && options.discardExpired && expire < options.nowMillis {
                entry.free()
                summary.expiredSkipped += 1
                if options.collectExpired {
                    summary.expiredKeys.append((db, Array(UnsafeBufferPointer(start: key.base, count: key.count))))
                }
                continue
            }
            if options.replaceDuplicateKeys {
                _ = dbs[db].delete(key)
            } else if dbs[db].find(key) != nil {
                entry.free()
                let printable = String(decoding: UnsafeBufferPointer(start: key.base, count: key.count), as: UTF8.self)
                throw input.error("RDB has duplicated key '\(printable)' in DB \(db)")
            }
            entry.expireAt = expire
            if options.lfuMinutes >= 0 {
                entry.lru = UInt32(options.lfuMinutes) << 8 | UInt32(frequency >= 0 ? frequency : 5)
            } else {
                entry.lru = idleSeconds >= 0 ? options.lruClock &- UInt32(truncatingIfNeeded: idleSeconds) : options.lruClock
            }
            idleSeconds = -1
            frequency = -1
            dbs[db].add(entry)
            summary.keysLoaded += 1
            if options.keyLoadDelayMicros > 0 { usleep(UInt32(min(options.keyLoadDelayMicros, 1_000_000))) }
            // Serve clients every 2 MB or 1024 keys (every key when key-load-delay slows
            // loading down on purpose), so -LOADING answers come promptly.
            if input.offset >= nextProgress || summary.keysLoaded & 1023 == 0 || options.keyLoadDelayMicros > 0 {
                progress(input.offset)
                nextProgress = input.offset + every
            }
        }
    }

    /// The libraries of a FUNCTION DUMP payload whose version and checksum were checked: the
    /// body without its 10-byte trailer, each library a FUNCTION2 opcode and its code. Errors
    /// carry Redis's texts.
    public static func readFunctionLibraries(_ body: ByteView) -> Result<[[UInt8]], RDBError> {
        var input = RDBInput(memory: body)
        var scratch = LoadScratch()
        var codes: [[UInt8]] = []
        while !input.atEnd() {
            guard let type = try? input.readByte() else { return .failure(RDBError("can not read data type", offset: 0)) }
            if type == RDBFormat.opFunction { return .failure(RDBError("Pre-GA function format not supported", offset: 0)) }
            if type != RDBFormat.opFunction2 { return .failure(RDBError("given type is not a function", offset: 0)) }
            guard let code = try? readString(&input, &scratch) else {
                return .failure(RDBError("failed loading the given functions payload", offset: 0))
            }
            codes.append(Array(UnsafeBufferPointer(start: code.base, count: code.count)))
        }
        return .success(codes)
    }

    /// "REDIS" and four digits; returns the version.
    static func readHeader(_ input: inout RDBInput) throws(RDBError) -> Int {
        let h = try input.read(9)
        let magic: [UInt8] = Array("REDIS".utf8)
        for i in 0..<5 where h[i] != magic[i] {
            throw RDBError("Wrong signature trying to load DB from file", offset: 0)
        }
        var version = 0
        for i in 5..<9 {
            let d = h[i]
            guard d >= 48 && d <= 57 else { throw RDBError("Wrong signature trying to load DB from file", offset: 0) }
            version = version * 10 + Int(d - 48)
        }
        if version < 1 || version > RDBFormat.version {
            throw RDBError("Can't handle RDB format version \(version)", offset: 5)
        }
        return version
    }

    static func readTrailer(_ input: inout RDBInput, version: Int, options: RDBLoadOptions) throws(RDBError) {
        if version < 5 { return }
        let expected = input.checksum()
        let stored = try input.readLE(UInt64.self)
        if options.verifyChecksum && stored != 0 && stored != expected {
            throw RDBError("Wrong RDB checksum expected: (\(hex(stored))) but got (\(hex(expected))). Aborting now.",
                           offset: input.offset - 8)
        }
    }

    static func hex(_ v: UInt64) -> String { String(v, radix: 16) }

    // MARK: - Primitives

    /// Redis's length encoding; `isEncoded` reports the 11xxxxxx special string forms.
    static func readLength(_ input: inout RDBInput, isEncoded: UnsafeMutablePointer<Bool>? = nil) throws(RDBError) -> UInt64 {
        let b = try input.readByte()
        switch b >> 6 {
        case 0: return UInt64(b & 0x3F)
        case 1: return UInt64(b & 0x3F) << 8 | UInt64(try input.readByte())
        case 3:
            guard let isEncoded else { throw input.error("Unknown length encoding \(b >> 6) in rdbLoadLen()") }
            isEncoded.pointee = true
            return UInt64(b & 0x3F)
        default:
            if b == RDBFormat.len32Bit { return UInt64(try input.readBE(UInt32.self)) }
            if b == RDBFormat.len64Bit { return try input.readBE(UInt64.self) }
            throw input.error("Unknown length encoding \(b) in rdbLoadLen()")
        }
    }

    /// A length used as a count or size: must fit comfortably in memory arithmetic.
    static func readCount(_ input: inout RDBInput) throws(RDBError) -> Int {
        let n = try readLength(&input)
        if n > UInt64(Int32.max) * 64 { throw input.error("Length \(n) is out of range") }
        return Int(n)
    }

    /// An RDB string as a view valid until the next read (into the input buffer or into
    /// the `decoded` scratch slot).
    static func readString(_ input: inout RDBInput, _ scratch: inout LoadScratch) throws(RDBError) -> ByteView {
        var encoded = false
        let n = try readLength(&input, isEncoded: &encoded)
        if !encoded {
            if n > UInt64(Int.max / 2) { throw input.error("Unexpected EOF reading RDB file") }
            return try input.read(Int(n))
        }
        switch UInt8(n) {
        case RDBFormat.encodingInt8: return format(Int64(Int8(bitPattern: try input.readByte())), &scratch)
        case RDBFormat.encodingInt16: return format(Int64(try input.readLE(Int16.self)), &scratch)
        case RDBFormat.encodingInt32: return format(Int64(try input.readLE(Int32.self)), &scratch)
        case RDBFormat.encodingLZF:
            let clen = try readCount(&input)
            let len = try readCount(&input)
            let compressed = try input.read(clen)
            // LZF expands at most ~100x (a 3-byte back-reference copies 264 bytes): a larger
            // claim is corruption, and must not become a giant allocation.
            if len > clen * 100 + 64 || clen > Int(UInt32.max) || len > Int(UInt32.max) {
                throw input.error("Invalid LZF compressed string")
            }
            guard let out = scratch.room(LoadScratch.decoded, max(len, 1)) else {
                throw input.error("Out of memory decompressing a \(len)-byte LZF string")
            }
            if len > 0 {
                let got = lzf_decompress(UnsafeRawPointer(compressed.base), UInt32(clen), out, UInt32(len))
                if Int(got) != len { throw input.error("Invalid LZF compressed string") }
            }
            return ByteView(UnsafePointer(out.assumingMemoryBound(to: UInt8.self)), len)
        default:
            throw input.error("Unknown RDB string encoding type \(n)")
        }
    }

    static func format(_ v: Int64, _ scratch: inout LoadScratch) -> ByteView {
        let p = scratch.room(LoadScratch.decoded, 24)!.assumingMemoryBound(to: UInt8.self)
        return ByteView(UnsafePointer(p), IntFormat.write(v, to: p))
    }

    /// A text double of the old ZSET type: a length byte (253 nan, 254 +inf, 255 -inf).
    static func readTextDouble(_ input: inout RDBInput) throws(RDBError) -> Double {
        let n = try input.readByte()
        switch n {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default: return parseDouble(try input.read(Int(n)))
        }
    }

    /// strtod over at most 127 bytes, as Redis's loaders do.
    static func parseDouble(_ v: ByteView) -> Double {
        var buf = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                   UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &buf) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let n = min(v.count, 127)
            if n > 0 { memcpy(p, v.base, n) }
            p[n] = 0
            return strtod(p, nil)
        }
    }

    // MARK: - Values

    /// Reads one value of RDB `type` for `key` as a new, unlinked entry; nil when the
    /// stored value is empty (Redis skips such keys). On error nothing is left allocated.
    public static func readValue(_ input: inout RDBInput, type: UInt8, key: ByteView,
                                 options: RDBLoadOptions) throws(RDBError) -> Entry? {
        var scratch = LoadScratch()
        return try readValue(&input, type: type, key: key, options: options, scratch: &scratch)
    }

    static func readValue(_ input: inout RDBInput, type: UInt8, key: ByteView, options: RDBLoadOptions,
                          scratch: inout LoadScratch) throws(RDBError) -> Entry? {
        switch type {
        case RDBFormat.typeString:
            let v = try readString(&input, &scratch)
            return Entry.makeString(key: key, value: v)
        case RDBFormat.typeList, RDBFormat.typeListZiplist, RDBFormat.typeListQuicklist, RDBFormat.typeListQuicklist2:
            return try readList(&input, type: type, key: key, options: options, scratch: &scratch)
        case RDBFormat.typeSet, RDBFormat.typeSetIntset, RDBFormat.typeSetListpack:
            return try readSet(&input, type: type, key: key, options: options, scratch: &scratch)
        case RDBFormat.typeZSet, RDBFormat.typeZSet2, RDBFormat.typeZSetZiplist, RDBFormat.typeZSetListpack:
            return try readZSet(&input, type: type, key: key, options: options, scratch: &scratch)
        case RDBFormat.typeHash, RDBFormat.typeHashZipmap, RDBFormat.typeHashZiplist, RDBFormat.typeHashListpack:
            return try readHash(&input, type: type, key: key, options: options, scratch: &scratch)
        case RDBFormat.typeModule, RDBFormat.typeModule2:
            throw input.error("The RDB file contains module data I can't load: no matching module")
        case RDBFormat.typeStreamListpacks, RDBFormat.typeStreamListpacks2, RDBFormat.typeStreamListpacks3:
            if type == RDBFormat.typeStreamListpacks3 {
                throw input.error("Unknown RDB encoding type \(type)")
            }
            return try readStream(&input, type: type, key: key, scratch: &scratch)
        default:
            throw input.error("Unknown RDB encoding type \(type)")
        }
    }

    static func newEntry(_ key: ByteView, _ type: ObjectType, _ encoding: ObjectEncoding, _ payload: Int64) -> Entry {
        let e = Entry.allocate(key: key, valueCapacity: 0)
        e.type = type
        e.encoding = encoding
        e.payload = payload
        return e
    }

    /// Runs `body` to fill `e`; frees `e` if it throws.
    static func filling(_ e: Entry, _ body: (Entry) throws(RDBError) -> Void) throws(RDBError) -> Entry {
        do {
            try body(e)
        } catch {
            e.free()
            throw error
        }
        return e
    }

    /// A validated blob (listpack, ziplist, intset, zipmap) read as an RDB string.
    static func readBlob(_ input: inout RDBInput, _ scratch: inout LoadScratch, _ what: String,
                         validate: (ByteView) -> Bool) throws(RDBError) -> ByteView {
        let start = input.offset
        let blob = try readString(&input, &scratch)
        if !validate(blob) { throw RDBError("\(what) integrity check failed.", offset: start) }
        return blob
    }

    // MARK: Lists

    static func readList(_ input: inout RDBInput, type: UInt8, key: ByteView, options: RDBLoadOptions,
                         scratch: inout LoadScratch) throws(RDBError) -> Entry? {
        let ql = QuickList.create(fill: options.listMaxListpackSize)
        let e = try filling(newEntry(key, .list, .quicklist, ql.payload)) { (e) throws(RDBError) in
            switch type {
            case RDBFormat.typeList:
                let n = try readCount(&input)
                for _ in 0..<n { ql.push(try readString(&input, &scratch), head: false) }
            case RDBFormat.typeListZiplist:
                let blob = try readBlob(&input, &scratch, "Ziplist", validate: Ziplist.validate)
                Ziplist.forEach(blob) { v in v.withBytes { ql.push($0, head: false) }; return true }
            default:
                let nodes = try readCount(&input)
                for _ in 0..<nodes {
                    var container = RDBFormat.quicklistNodePacked
                    if type == RDBFormat.typeListQuicklist2 {
                        let kind = try readLength(&input)
                        if kind != UInt64(RDBFormat.quicklistNodePacked) && kind != UInt64(RDBFormat.quicklistNodePlain) {
                            throw input.error("Quicklist integrity check failed.")
                        }
                        container = Int(kind)
                    }
                    if container == RDBFormat.quicklistNodePlain {
                        // A plain node holds one big element: an empty one is corrupt (Redis
                        // answers Bad data format).
                        let element = try readString(&input, &scratch)
                        if element.count == 0 { throw input.error("Quicklist integrity check failed.") }
                        ql.push(element, head: false)
                        continue
                    }
                    if type == RDBFormat.typeListQuicklist {
                        let blob = try readBlob(&input, &scratch, "Ziplist", validate: Ziplist.validate)
                        Ziplist.forEach(blob) { v in v.withBytes { ql.push($0, head: false) }; return true }
                    } else {
                        let blob = try readBlob(&input, &scratch, "Listpack", validate: Listpack.validate)
                        Listpack.forEach(blob) { v in v.withBytes { ql.push($0, head: false) }; return true }
                    }
                }
            }
        }
        if ql.count == 0 {
            e.free()
            return nil
        }
        return e
    }

    // MARK: Sets

    static func readSet(_ input: inout RDBInput, type: UInt8, key: ByteView, options: RDBLoadOptions,
                        scratch: inout LoadScratch) throws(RDBError) -> Entry? {
        let maxIntset = options.setMaxIntsetEntries
        if type == RDBFormat.typeSetIntset {
            let blob = try readBlob(&input, &scratch, "Intset", validate: IntSetBlob.validate)
            let members = blob.count >= 8 ? Int(UnsafeRawPointer(blob.base).loadUnaligned(fromByteOffset: 4, as: UInt32.self)) : 0
            if members == 0 { return nil }
            if members <= maxIntset {
                // The blob is Tandem's IntSet layout already (little endian): copy it.
                let p = tandem_malloc(blob.count)!
                memcpy(p, blob.base, blob.count)
                return newEntry(key, .set, .intset, Int64(Int(bitPattern: p)))
            }
            var set = SetValue.newTable(capacity: members)
            IntSetBlob.forEach(blob) { _ = set.add($0, maxIntsetEntries: maxIntset) }
            return newEntry(key, .set, set.encoding, set.payload)
        }
        if type == RDBFormat.typeSetListpack {
            let blob = try readBlob(&input, &scratch, "Listpack", validate: Listpack.validate)
            let n = Listpack.count(blob)
            if n == 0 { return nil }
            var set = n > maxIntset ? SetValue.newTable(capacity: n) : SetValue.newIntSet()
            var duplicate = false
            Listpack.forEach(blob) { v in
                if !set.add(v, maxIntsetEntries: maxIntset) { duplicate = true }
                return !duplicate
            }
            let e = newEntry(key, .set, set.encoding, set.payload)
            if duplicate {
                e.free()
                throw input.error("Duplicate set members detected")
            }
            return e
        }
        let n = try readCount(&input)
        if n == 0 { return nil }
        let initial = n > maxIntset ? SetValue.newTable(capacity: min(n, 1 << 20)) : SetValue.newIntSet()
        return try filling(newEntry(key, .set, initial.encoding, initial.payload)) { (e) throws(RDBError) in
            for _ in 0..<n {
                let m = try readString(&input, &scratch)
                var set = SetValue(e)
                let added = set.add(m, maxIntsetEntries: maxIntset)
                set.store(e)
                if !added { throw input.error("Duplicate set members detected") }
            }
        }
    }

    // MARK: Sorted sets

    static func readZSet(_ input: inout RDBInput, type: UInt8, key: ByteView, options: RDBLoadOptions,
                         scratch: inout LoadScratch) throws(RDBError) -> Entry? {
        let maxEntries = options.zsetMaxListpackEntries
        let maxValue = options.zsetMaxListpackValue
        if type == RDBFormat.typeZSetZiplist || type == RDBFormat.typeZSetListpack {
            let isListpack = type == RDBFormat.typeZSetListpack
            let blob = isListpack
                ? try readBlob(&input, &scratch, "Listpack", validate: Listpack.validate)
                : try readBlob(&input, &scratch, "Zset ziplist", validate: Ziplist.validate)
            let (enc, payload) = ZSetStore.makeEmpty(listpack: true)
            let e = newEntry(key, .zset, enc, payload)
            var member: ByteView? = nil
            var bad = false
            func visit(_ v: PackedValue) -> Bool {
                if let m = member {
                    let score: Double
                    switch v {
                    case .int(let i): score = Double(i)
                    case .bytes(let b): score = parseDouble(b)
                    }
                    if score.isNaN { bad = true }
                    if case .added = ZSetStore.add(e, m, score, .nx, maxEntries: maxEntries, maxValue: maxValue) {} else { bad = true }
                    member = nil
                } else {
                    member = v.withBytes { scratch.hold($0, in: LoadScratch.element) }
                }
                return !bad
            }
            if isListpack { Listpack.forEach(blob, visit) } else { Ziplist.forEach(blob, visit) }
            if bad || member != nil {
                e.free()
                throw input.error(member != nil ? "Zset listpack has an odd number of elements" : "Duplicate zset fields detected")
            }
            if ZSetStore.count(e) == 0 {
                e.free()
                return nil
            }
            return e
        }
        let n = try readCount(&input)
        if n == 0 { return nil }
        let (enc, payload) = ZSetStore.makeEmpty(listpack: n <= maxEntries)
        return try filling(newEntry(key, .zset, enc, payload)) { (e) throws(RDBError) in
            for _ in 0..<n {
                let m = scratch.hold(try readString(&input, &scratch), in: LoadScratch.element)
                let score = type == RDBFormat.typeZSet2 ? Double(bitPattern: try input.readLE(UInt64.self))
                    : try readTextDouble(&input)
                if score.isNaN { throw input.error("Zset with NAN score detected") }
                guard case .added = ZSetStore.add(e, m, score, .nx, maxEntries: maxEntries, maxValue: maxValue) else {
                    throw input.error("Duplicate zset fields detected")
                }
            }
        }
    }

    // MARK: Hashes

    static func readHash(_ input: inout RDBInput, type: UInt8, key: ByteView, options: RDBLoadOptions,
                         scratch: inout LoadScratch) throws(RDBError) -> Entry? {
        let maxEntries = options.hashMaxListpackEntries
        let maxValue = options.hashMaxListpackValue
        if type == RDBFormat.typeHash {
            let n = try readCount(&input)
            if n == 0 { return nil }
            let e = newEntry(key, .hash, .listpack, HashStore.newListpackPayload())
            if n > maxEntries { HashStore.convertToHashtable(e) }
            return try filling(e) { (e) throws(RDBError) in
                for _ in 0..<n {
                    let f = scratch.hold(try readString(&input, &scratch), in: LoadScratch.element)
                    let v = try readString(&input, &scratch)
                    if !HashStore.set(e, f, v, maxEntries: maxEntries, maxValue: maxValue) {
                        throw input.error("Duplicate hash fields detected")
                    }
                }
            }
        }
        let blob: ByteView
        switch type {
        case RDBFormat.typeHashZipmap: blob = try readBlob(&input, &scratch, "Zipmap", validate: Zipmap.validate)
        case RDBFormat.typeHashZiplist: blob = try readBlob(&input, &scratch, "Ziplist", validate: Ziplist.validate)
        default: blob = try readBlob(&input, &scratch, "Listpack", validate: Listpack.validate)
        }
        let e = newEntry(key, .hash, .listpack, HashStore.newListpackPayload())
        var bad = false
        if type == RDBFormat.typeHashZipmap {
            Zipmap.forEach(blob) { f, v in
                let field = scratch.hold(f, in: LoadScratch.element)
                if !HashStore.set(e, field, v, maxEntries: maxEntries, maxValue: maxValue) { bad = true }
                return !bad
            }
        } else {
            var field: ByteView? = nil
            func visit(_ v: PackedValue) -> Bool {
                if let f = field {
                    v.withBytes { if !HashStore.set(e, f, $0, maxEntries: maxEntries, maxValue: maxValue) { bad = true } }
                    field = nil
                } else {
                    field = v.withBytes { scratch.hold($0, in: LoadScratch.element) }
                }
                return !bad
            }
            if type == RDBFormat.typeHashZiplist { Ziplist.forEach(blob, visit) } else { Listpack.forEach(blob, visit) }
            if field != nil { bad = true }
        }
        if bad {
            e.free()
            throw input.error("Hash ziplist/listpack integrity check failed (duplicate field or odd count)")
        }
        if HashStore.count(e) == 0 {
            e.free()
            return nil
        }
        return e
    }
}

