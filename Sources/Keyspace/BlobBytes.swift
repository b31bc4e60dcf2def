/*
 * BlobBytes: little-endian reads at arbitrary (unaligned) offsets of a serialized blob, for
 * the listpack, ziplist, zipmap and intset codecs.
 *
 * Redis writes every multi-byte field of these formats little-endian (except the ziplist's
 * 32-bit string length, which is big-endian: see Ziplist.swift), and a field can sit at any
 * offset, so each read is an unaligned load converted from little-endian — a no-op on the
 * little-endian machines Tandem runs on, and still right on a big-endian one.
 *
 * Callers bounds-check before they read; these functions do not.
 */

public enum BlobBytes {
    @inline(__always)
    public static func u16(_ p: UnsafePointer<UInt8>, _ off: Int) -> UInt16 {
        UInt16(littleEndian: UnsafeRawPointer(p + off).loadUnaligned(as: UInt16.self))
    }

    @inline(__always)
    public static func u32(_ p: UnsafePointer<UInt8>, _ off: Int) -> UInt32 {
        UInt32(littleEndian: UnsafeRawPointer(p + off).loadUnaligned(as: UInt32.self))
    }

    @inline(__always)
    public static func u64(_ p: UnsafePointer<UInt8>, _ off: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p + off).loadUnaligned(as: UInt64.self))
    }

    /// The 24-bit two's complement integer in the three bytes at `off`, sign-extended.
    @inline(__always)
    public static func i24(_ p: UnsafePointer<UInt8>, _ off: Int) -> Int64 {
        let u = Int64(p[off]) | Int64(p[off + 1]) << 8 | Int64(p[off + 2]) << 16
        return u >= 1 << 23 ? u - (1 << 24) : u
    }
}
