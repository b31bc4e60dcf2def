/*
 * StreamID: a stream entry's identifier, `<ms>-<seq>`, two unsigned 64-bit halves compared as
 * one 128-bit number (ms first). Redis keys its node tree by the big-endian bytes of the pair;
 * here the pair itself is the key of IDMap (IDMap.swift), compared numerically, which orders
 * the same way.
 */
import Platform

public struct StreamID: Comparable, Hashable, Sendable {
    public var ms: UInt64
    public var seq: UInt64

    @inline(__always)
    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    public static let zero = StreamID(ms: 0, seq: 0)
    public static let max = StreamID(ms: .max, seq: .max)

    @inline(__always)
    public static func < (a: StreamID, b: StreamID) -> Bool {
        a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq)
    }

    public var isZero: Bool { ms == 0 && seq == 0 }

    /// The next ID, or nil past the last possible one (Redis's streamIncrID failing).
    public var successor: StreamID? {
        if seq == .max {
            if ms == .max { return nil }
            return StreamID(ms: ms + 1, seq: 0)
        }
        return StreamID(ms: ms, seq: seq + 1)
    }

    /// The previous ID, or nil before 0-0 (streamDecrID failing).
    public var predecessor: StreamID? {
        if seq == 0 {
            if ms == 0 { return nil }
            return StreamID(ms: ms - 1, seq: .max)
        }
        return StreamID(ms: ms, seq: seq - 1)
    }

    /// "ms-seq" as Redis prints it.
    public var text: [UInt8] { Array("\(ms)-\(seq)".utf8) }

    /// Writes "ms-seq" into `p` (room for 41 bytes); returns the length.
    public func write(to p: UnsafeMutablePointer<UInt8>) -> Int {
        var n = Self.writeUnsigned(ms, to: p)
        p[n] = UInt8(ascii: "-")
        n += 1
        n += Self.writeUnsigned(seq, to: p + n)
        return n
    }

    /// Calls `body` with the ID's text in a stack buffer.
    public func withText<R>(_ body: (ByteView) -> R) -> R {
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &scratch) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = write(to: p)
            return body(ByteView(UnsafePointer(p), n))
        }
    }

    static func writeUnsigned(_ v: UInt64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        if v == 0 {
            p[0] = UInt8(ascii: "0")
            return 1
        }
        var digits = 0
        var t = v
        while t > 0 {
            digits += 1
            t /= 10
        }
        t = v
        var i = digits - 1
        while t > 0 {
            p[i] = UInt8(ascii: "0") + UInt8(t % 10)
            t /= 10
            i -= 1
        }
        return digits
    }

    /// Parses an unsigned decimal as Redis's string2ull: digits only, no sign, no spaces, fits.
    public static func parseUnsigned(_ b: ByteView) -> UInt64? {
        if b.count == 0 || b.count > 20 { return nil }
        var v: UInt64 = 0
        for i in 0..<b.count {
            let c = b[i]
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }
}
