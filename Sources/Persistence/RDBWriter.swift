/*
 * RDBWriter: serializes the keyspace in Redis 7.0's RDB format (version 10), so that
 * redis-server loads what Tandem writes and the two produce files of the same size.
 *
 * Each value is written in the form Redis 7.0 itself writes for the same encoding:
 *
 *     string          an RDB string: integer-encoded (8/16/32 bits) when it is a canonical
 *                     integer that fits, LZF-compressed when longer than 20 bytes and
 *                     compression saves at least 4 bytes, else length + bytes
 *     list            quicklist 2: node count, then per node a PACKED container holding the
 *                     node's elements as one Redis listpack
 *     set  intset     the intset blob (Tandem's IntSet block is byte-identical on LE)
 *          hashtable  member count, members
 *     zset listpack   one listpack of member, score-as-text pairs (Redis's d2string)
 *          skiplist   ZSET_2: count, then member + binary double from the highest score
 *                     down (so a loader inserting at the head stays O(1))
 *     hash listpack   one listpack of field, value pairs
 *          hashtable  pair count, field, value, ...
 *
 * Tandem's in-memory packed encodings (PackedList) are not Redis's listpack byte format,
 * so listpacks are rebuilt here element by element into a reused builder; that costs a
 * pass over small values and lets the keyspace keep the layout that suits it.
 *
 * The writer only reads the keyspace: it runs in a forked child (BGSAVE, full sync) and
 * must not write to any page it does not own (see docs/performance.md on copy-on-write).
 */
import CLZF
import CTandem
import Glibc
import Keyspace
import Platform

public struct RDBWriteOptions: Sendable {
    public var compression: Bool
    public var checksum: Bool
    /// rdb-key-save-delay: microseconds to sleep after each key (a testing aid, as in Redis).
    public var keySaveDelayMicros: Int
    /// With an LRU policy, the seconds clock: each key's idle time is saved (RDB_OPCODE_IDLE).
    public var savesIdleAt: UInt32? = nil
    /// With an LFU policy: each key's access counter is saved (RDB_OPCODE_FREQ).
    public var savesFrequency = false

    public init(compression: Bool = true, checksum: Bool = true, keySaveDelayMicros: Int = 0) {
        self.compression = compression
        self.checksum = checksum
        self.keySaveDelayMicros = keySaveDelayMicros
    }
}

/// The aux fields written after the header.
public struct RDBAuxInfo: Sendable {
    public var redisVersion: String
    public var createdAt: Int64
    public var usedMemory: Int
    /// The replication fields are written only when set: as in Redis, a master that is in no
    /// replication chain (no backlog) records no history.
    public var replStreamDB: Int
    public var replID: String?
    public var replOffset: Int64
    /// The file is an AOF base (Redis's aof-base aux field is 1; no replication fields).
    public var aofBase = false

    public init(redisVersion: String, createdAt: Int64, usedMemory: Int, replStreamDB: Int, replID: String?,
                replOffset: Int64) {
        self.redisVersion = redisVersion
        self.createdAt = createdAt
        self.usedMemory = usedMemory
        self.replStreamDB = replStreamDB
        self.replID = replID
        self.replOffset = replOffset
    }
}

public struct RDBWriter: ~Copyable {
    public var out: RDBOutput
    public let options: RDBWriteOptions
    private var listpack = ListpackBuilder()
    /// Scratch space for LZF output.
    private var scratch: UnsafeMutableRawPointer
    private var scratchSize = 0
    /// Keys written so far (progress for INFO and the parent).
    public private(set) var keysWritten = 0
    /// Called every 1024 keys with `keysWritten` (the snapshot child reports progress).
    public var onProgress: ((Int) -> Void)? = nil

    public init(out: consuming RDBOutput, options: RDBWriteOptions) {
        self.out = out
        self.options = options
        scratchSize = 1024
        scratch = tandem_malloc(scratchSize)!
    }

    deinit {
        tandem_free(scratch)
        listpack.free()
    }

    // MARK: - Whole files

    /// Writes a complete RDB file: header, aux fields, every non-empty database, EOF and
    /// checksum. The caller flushes and checks `out.failed`.
    public mutating func writeSnapshot(dbs: UnsafeMutablePointer<Database>, count: Int, aux: RDBAuxInfo,
                                       functions: [[UInt8]] = []) {
        writeHeader()
        writeAuxFields(aux)
        writeFunctionLibraries(functions)
        for i in 0..<count where dbs[i].count > 0 {
            writeDatabase(dbs + i)
            if out.failed { return }
        }
        writeTrailer()
    }

    public mutating func writeHeader() {
        out.write("REDIS0010")
    }

    public mutating func writeAuxFields(_ aux: RDBAuxInfo) {
        writeAux("redis-ver", aux.redisVersion)
        writeAux("redis-bits", 64)
        writeAux("ctime", aux.createdAt)
        writeAux("used-mem", Int64(aux.usedMemory))
        if let replID = aux.replID {
            writeAux("repl-stream-db", Int64(aux.replStreamDB))
            writeAux("repl-id", replID)
            writeAux("repl-offset", aux.replOffset)
        }
        writeAux("aof-base", aux.aofBase ? 1 : 0)
    }

    /// Each function library's code after a FUNCTION2 opcode (before the databases, as Redis).
    public mutating func writeFunctionLibraries(_ codes: [[UInt8]]) {
        for code in codes {
            out.writeByte(RDBFormat.opFunction2)
            code.withUnsafeBufferPointer { writeString(ByteView($0.baseAddress!, $0.count)) }
        }
    }

    public mutating func writeAux(_ key: String, _ value: String) {
        out.writeByte(RDBFormat.opAux)
        writeString(key)
        writeString(value)
    }

    public mutating func writeAux(_ key: String, _ value: Int64) {
        out.writeByte(RDBFormat.opAux)
        writeString(key)
        writeInteger(value)
    }

    /// SELECTDB, RESIZEDB and every key of one database.
    public mutating func writeDatabase(_ db: UnsafeMutablePointer<Database>) {
        out.writeByte(RDBFormat.opSelectDB)
        writeLength(UInt64(db.pointee.id))
        out.writeByte(RDBFormat.opResizeDB)
        writeLength(UInt64(db.pointee.count))
        writeLength(UInt64(db.pointee.expiresCount))
        let delay = options.keySaveDelayMicros
        db.pointee.dict.forEach { e in
            writeKey(e)
            if delay != 0 { Self.debugDelay(delay) }
            if keysWritten & 1023 == 0, let report = onProgress { report(keysWritten) }
        }
    }

    /// rdb-key-save-delay as Redis applies it: n > 0 sleeps n microseconds per key; n < 0 sleeps
    /// 1 microsecond for one key in -n on average (even the shortest sleep costs a system call).
    /// Long delays are honoured in full (the test suite sets INT_MAX to keep a child alive until
    /// it kills it); usleep refuses a second or more, so this sleeps with nanosleep.
    public static func debugDelay(_ micros: Int) {
        let sleep = micros > 0 ? micros : (Int.random(in: 0..<(-max(micros, -1_000_000))) == 0 ? 1 : 0)
        if sleep <= 0 { return }
        var request = timespec(tv_sec: sleep / 1_000_000, tv_nsec: (sleep % 1_000_000) * 1000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// EOF opcode and the CRC64 trailer (zero when checksums are off), then a flush.
    public mutating func writeTrailer() {
        out.writeByte(RDBFormat.opEOF)
        var crc = options.checksum ? out.checksum() : 0
        withUnsafeBytes(of: &crc) { out.write($0.baseAddress!, 8) }
        out.flush()
    }

    /// One key: its expire (if any), type, name and value.
    public mutating func writeKey(_ e: Entry) {
        if e.expireAt != 0 {
            out.writeByte(RDBFormat.opExpireTimeMS)
            var ms = e.expireAt
            withUnsafeBytes(of: &ms) { out.write($0.baseAddress!, 8) }
        }
        if let clock = options.savesIdleAt {
            out.writeByte(RDBFormat.opIdle)
            writeLength(UInt64(clock &- e.lru))
        } else if options.savesFrequency {
            out.writeByte(RDBFormat.opFreq)
            out.writeByte(UInt8(e.lru & 0xFF))
        }
        out.writeByte(Self.objectType(e))
        writeString(e.key)
        writeValue(e)
        keysWritten += 1
    }

    // MARK: - Values

    /// The RDB object type byte for an entry's type and encoding.
    public static func objectType(_ e: Entry) -> UInt8 {
        switch (e.type, e.encoding) {
        case (.string, _): RDBFormat.typeString
        case (.list, _): RDBFormat.typeListQuicklist2
        case (.set, .intset): RDBFormat.typeSetIntset
        case (.set, _): RDBFormat.typeSet
        case (.zset, .listpack): RDBFormat.typeZSetListpack
        case (.zset, _): RDBFormat.typeZSet2
        case (.hash, .listpack): RDBFormat.typeHashListpack
        case (.hash, _): RDBFormat.typeHash
        case (.stream, _): RDBFormat.typeStreamListpacks2
        }
    }

    /// The value of an entry, in the form `objectType` announced.
    public mutating func writeValue(_ e: Entry) {
        switch e.type {
        case .string:
            if e.encoding == .int { writeInteger(e.payload) } else { writeString(e.stringBytes) }
        case .list: writeList(e)
        case .set: writeSet(e)
        case .zset: writeZSet(e)
        case .hash: writeHash(e)
        case .stream: writeStream(e)
        }
    }

    private mutating func writeList(_ e: Entry) {
        let ql = ListStore.list(e)
        writeLength(UInt64(ql.nodeCount))
        ql.forEachNode { _, elements in
            writeLength(UInt64(RDBFormat.quicklistNodePacked))
            listpack.reset()
            elements { listpack.append($0) }
            writeBuiltListpack()
        }
    }

    private mutating func writeSet(_ e: Entry) {
        let set = SetValue(e)
        if set.isIntSet {
            writeString(IntSetBlob.bytes(of: set.intset))
            return
        }
        writeLength(UInt64(set.count))
        set.forEach { writePackedValue($0) }
    }

    private mutating func writeZSet(_ e: Entry) {
        if e.encoding == .listpack {
            listpack.reset()
            ZSetStore.forEach(e, from: 0, to: ZSetStore.count(e) - 1, reverse: false) { member, score in
                listpack.append(member)
                var text = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
                withUnsafeMutableBytes(of: &text) { raw in
                    let p = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                    let n = Int(tandem_d2string(p, 32, score))
                    listpack.append(ByteView(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), n))
                }
            }
            writeBuiltListpack()
            return
        }
        let n = ZSetStore.count(e)
        writeLength(UInt64(n))
        ZSetStore.forEach(e, from: 0, to: n - 1, reverse: true) { member, score in
            writeString(member)
            writeBinaryDouble(score)
        }
    }

    private mutating func writeHash(_ e: Entry) {
        if e.encoding == .listpack {
            listpack.reset()
            HashStore.forEach(e) { f, v in
                listpack.append(f)
                listpack.append(v)
            }
            writeBuiltListpack()
            return
        }
        writeLength(UInt64(HashStore.count(e)))
        HashStore.forEach(e) { f, v in
            writePackedValue(f)
            writePackedValue(v)
        }
    }

    private mutating func writeBuiltListpack() {
        // The builder is a stored property: take its bytes into a local view first so the
        // string write does not overlap an access to `listpack`.
        let bytes = listpack.withBytes { $0 }
        writeString(bytes)
    }

    // MARK: - Primitives

    /// Redis's length encoding: 6 bits, 14 bits, or a 32/64-bit big-endian number.
    public mutating func writeLength(_ n: UInt64) {
        if n < 64 {
            out.writeByte(UInt8(n))
        } else if n < 16384 {
            out.writeByte(UInt8(0x40 | (n >> 8)))
            out.writeByte(UInt8(n & 0xFF))
        } else if n <= UInt64(UInt32.max) {
            out.writeByte(RDBFormat.len32Bit)
            var be = UInt32(n).bigEndian
            withUnsafeBytes(of: &be) { out.write($0.baseAddress!, 4) }
        } else {
            out.writeByte(RDBFormat.len64Bit)
            var be = n.bigEndian
            withUnsafeBytes(of: &be) { out.write($0.baseAddress!, 8) }
        }
    }

    /// A binary double, little endian (ZSET_2 scores).
    public mutating func writeBinaryDouble(_ d: Double) {
        var bits = d.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { out.write($0.baseAddress!, 8) }
    }

    /// An integer as an RDB string object: 8/16/32-bit encoded when it fits, else its
    /// decimal text (Redis's rdbSaveLongLongAsStringObject).
    public mutating func writeInteger(_ v: Int64) {
        if writeEncodedInteger(v) { return }
        var text = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &text) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = IntFormat.write(v, to: p)
            writeLength(UInt64(n))
            out.write(p, n)
        }
    }

    /// The 11xxxxxx special encodings for integers that fit in 32 bits.
    private mutating func writeEncodedInteger(_ v: Int64) -> Bool {
        if v >= -(1 << 7) && v <= (1 << 7) - 1 {
            out.writeByte(0xC0 | RDBFormat.encodingInt8)
            out.writeByte(UInt8(truncatingIfNeeded: v))
        } else if v >= -(1 << 15) && v <= (1 << 15) - 1 {
            out.writeByte(0xC0 | RDBFormat.encodingInt16)
            var le = Int16(v).littleEndian
            withUnsafeBytes(of: &le) { out.write($0.baseAddress!, 2) }
        } else if v >= -(1 << 31) && v <= (1 << 31) - 1 {
            out.writeByte(0xC0 | RDBFormat.encodingInt32)
            var le = Int32(v).littleEndian
            withUnsafeBytes(of: &le) { out.write($0.baseAddress!, 4) }
        } else {
            return false
        }
        return true
    }

    public mutating func writePackedValue(_ v: PackedValue) {
        switch v {
        case .bytes(let b): writeString(b)
        case .int(let i): writeInteger(i)
        }
    }

    public mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { writeString(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count)) }
    }

    /// An RDB string (Redis's rdbSaveRawString): integer-encoded when short and a canonical
    /// 32-bit integer, LZF-compressed when long and compressible, else length + bytes.
    public mutating func writeString(_ s: ByteView) {
        if s.count <= 11, s.count > 0, let v = s.int64, writeEncodedInteger(v) { return }
        if options.compression && s.count > 20 && writeCompressed(s) { return }
        writeLength(UInt64(s.count))
        out.write(s)
    }

    /// LZF, worth it only when it saves at least 4 bytes (Redis's rule).
    private mutating func writeCompressed(_ s: ByteView) -> Bool {
        let limit = s.count - 4
        if scratchSize < limit + 1 {
            scratchSize = max(limit + 1, scratchSize * 2)
            tandem_free(scratch)
            scratch = tandem_malloc(scratchSize)!
        }
        let n = Int(lzf_compress(UnsafeRawPointer(s.base), UInt32(s.count), scratch, UInt32(limit)))
        if n == 0 { return false }
        out.writeByte(0xC0 | RDBFormat.encodingLZF)
        writeLength(UInt64(n))
        writeLength(UInt64(s.count))
        out.write(scratch, n)
        return true
    }
}

// MARK: - DUMP payloads

extension RDBWriter {
    /// FUNCTION DUMP's payload: the libraries as in an RDB, then the version and CRC64 trailer.
    public static func functionsPayload(_ codes: [[UInt8]], compression: Bool) -> [UInt8] {
        var w = RDBWriter(out: RDBOutput(memoryCapacity: 256), options: RDBWriteOptions(compression: compression))
        w.writeFunctionLibraries(codes)
        return w.finishPayload()
    }

    /// A DUMP payload: type byte, value, then the 2-byte RDB version and the CRC64 of
    /// everything before it, all little endian (Redis's createDumpPayload).
    public static func dumpPayload(_ e: Entry, compression: Bool) -> [UInt8] {
        var w = RDBWriter(out: RDBOutput(memoryCapacity: 256), options: RDBWriteOptions(compression: compression))
        w.out.writeByte(objectType(e))
        w.writeValue(e)
        return w.finishPayload()
    }

    /// The 2-byte RDB version and the CRC64 of everything before, little endian; the bytes.
    mutating func finishPayload() -> [UInt8] {
        var version = UInt16(RDBFormat.version).littleEndian
        withUnsafeBytes(of: &version) { out.write($0.baseAddress!, 2) }
        var crc = out.checksum().littleEndian
        withUnsafeBytes(of: &crc) { out.write($0.baseAddress!, 8) }
        return out.withBytes { Array(UnsafeBufferPointer(start: $0.base, count: $0.count)) }
    }
}
