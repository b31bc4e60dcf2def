/*
 * HashSlot: which of Redis Cluster's 16,384 slots a key belongs to.
 *
 * The slot is CRC16 of the key, modulo 16,384, with the XMODEM flavour of CRC16 (polynomial
 * 0x1021, initial value 0, no reflection, no final XOR) — Redis Cluster's, so that a Tandem
 * node and a redis-server node agree on every key. A hash tag narrows what is hashed: when the
 * key has a `{` and a later `}` with at least one byte between them, only the bytes between the
 * first `{` and the first `}` after it count, so `{user1}.name` and `{user1}.mail` share a slot.
 *
 * The table-driven loop costs about one load and two shifts per byte; keys are short, and it
 * runs only in cluster mode (routing and the per-slot key index).
 */
import Platform

public enum HashSlot {
    public static let count = 16384

    /// The slot of `key`, honouring a hash tag.
    @inline(__always)
    public static func of(_ key: ByteView) -> Int {
        let p = key.base, n = key.count
        var open = 0
        while open < n && p[open] != UInt8(ascii: "{") { open += 1 }
        if open < n {
            var close = open + 1
            while close < n && p[close] != UInt8(ascii: "}") { close += 1 }
            if close < n && close > open + 1 {
                return Int(crc16(p + open + 1, close - open - 1)) & (count - 1)
            }
        }
        return Int(crc16(p, n)) & (count - 1)
    }

    /// CRC16/XMODEM of `n` bytes.
    @inline(__always)
    public static func crc16(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt16 {
        var crc: UInt16 = 0
        table.withUnsafeBufferPointer { t in
            for i in 0..<n {
                crc = (crc << 8) ^ t[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ p[i])]
            }
        }
        return crc
    }

    /// The 256 CRCs of one byte each, computed once from the polynomial.
    static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
