/*
 * RDBFormat: the constants of Redis's RDB file format, version 10 (what Redis 7.0 writes).
 *
 * A file is "REDIS" + four ASCII digits of version, then a sequence of records each
 * introduced by one byte: an object type (a key follows) or an opcode (AUX, SELECTDB,
 * RESIZEDB, EXPIRETIME_MS, ...), then EOF and an 8-byte little-endian CRC64 of everything
 * before it (zero when `rdbchecksum no`). Lengths use Redis's variable encoding: two top
 * bits 00 = 6-bit length, 01 = 14-bit, 10 = 32/64-bit follows (0x80/0x81), 11 = a special
 * string encoding (integer in 8/16/32 bits, or LZF-compressed).
 */

public enum RDBFormat {
    /// The version this server writes; it loads files up to this version.
    public static let version = 10

    // Object types (the byte before a key).
    public static let typeString: UInt8 = 0
    public static let typeList: UInt8 = 1
    public static let typeSet: UInt8 = 2
    public static let typeZSet: UInt8 = 3
    public static let typeHash: UInt8 = 4
    public static let typeZSet2: UInt8 = 5
    public static let typeModule: UInt8 = 6
    public static let typeModule2: UInt8 = 7
    public static let typeHashZipmap: UInt8 = 9
    public static let typeListZiplist: UInt8 = 10
    public static let typeSetIntset: UInt8 = 11
    public static let typeZSetZiplist: UInt8 = 12
    public static let typeHashZiplist: UInt8 = 13
    public static let typeListQuicklist: UInt8 = 14
    public static let typeStreamListpacks: UInt8 = 15
    public static let typeHashListpack: UInt8 = 16
    public static let typeZSetListpack: UInt8 = 17
    public static let typeListQuicklist2: UInt8 = 18
    public static let typeStreamListpacks2: UInt8 = 19
    public static let typeSetListpack: UInt8 = 20
    public static let typeStreamListpacks3: UInt8 = 21

    // Opcodes.
    public static let opFunction2: UInt8 = 245
    public static let opFunction: UInt8 = 246
    public static let opModuleAux: UInt8 = 247
    public static let opIdle: UInt8 = 248
    public static let opFreq: UInt8 = 249
    public static let opAux: UInt8 = 250
    public static let opResizeDB: UInt8 = 251
    public static let opExpireTimeMS: UInt8 = 252
    public static let opExpireTime: UInt8 = 253
    public static let opSelectDB: UInt8 = 254
    public static let opEOF: UInt8 = 255

    // Length encodings.
    public static let len6Bit: UInt8 = 0
    public static let len14Bit: UInt8 = 1
    public static let len32Bit: UInt8 = 0x80
    public static let len64Bit: UInt8 = 0x81
    public static let encodingValue: UInt8 = 3

    // Special string encodings (after the 11 length prefix).
    public static let encodingInt8: UInt8 = 0
    public static let encodingInt16: UInt8 = 1
    public static let encodingInt32: UInt8 = 2
    public static let encodingLZF: UInt8 = 3

    // Quicklist 2 node containers.
    public static let quicklistNodePlain = 1
    public static let quicklistNodePacked = 2
}
