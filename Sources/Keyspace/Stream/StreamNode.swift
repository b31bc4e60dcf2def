/*
 * StreamNode: a stream node is one listpack in Redis's exact format (Listpack.swift), edited
 * in place — what Redis's listpack.c does for t_stream.c: append an element at the end,
 * replace an integer (the entry flags and the node's counters), and walk forward and
 * backward (the backlen of each element makes XREVRANGE possible).
 *
 * Elements are addressed by byte offset from the blob's start (the first is at 6, the
 * header's size). A node is a tandem_malloc block that may be larger than its listpack:
 * appends grow it geometrically, as Redis's allocator rounds up, and a node that stopped
 * growing (a newer node took over the tail) is shrunk to fit.
 *
 * What a node holds, as Redis lays it out (see Stream.swift): a master entry
 * `count deleted nfields field... 0`, then entries `flags ms-delta seq-delta [nfields
 * field value ...| value ...] lp-count`.
 */
import CTandem
import Platform

public enum StreamNode {
    public typealias Blob = UnsafeMutablePointer<UInt8>

    /// Total bytes of the listpack (its header), terminator included.
    @inline(__always)
    public static func bytes(_ lp: Blob) -> Int { Int(BlobBytes.u32(lp, 0)) }

    /// An empty listpack in a block of at least `capacity` bytes.
    public static func create(capacity: Int) -> Blob {
        let lp = tandem_malloc(Swift.max(capacity, Listpack.headerSize + 1))!.assumingMemoryBound(to: UInt8.self)
        setBytes(lp, Listpack.headerSize + 1)
        UnsafeMutableRawPointer(lp).storeBytes(of: UInt16(0), toByteOffset: 4, as: UInt16.self)
        lp[Listpack.headerSize] = Listpack.terminator
        return lp
    }

    /// A copy of `lp` in a block of exactly its size (COPY, RDB loading keeps the loaded blob).
    public static func duplicate(_ lp: Blob) -> Blob {
        let n = bytes(lp)
        let c = tandem_malloc(n)!.assumingMemoryBound(to: UInt8.self)
        memcpy(c, lp, n)
        return c
    }

    /// Gives back the block's unused tail.
    public static func shrinkToFit(_ lp: Blob) -> Blob {
        let n = bytes(lp)
        if tandem_usable_size(lp) <= n + 64 { return lp }
        return tandem_realloc(lp, n)!.assumingMemoryBound(to: UInt8.self)
    }

    @inline(__always)
    static func setBytes(_ lp: Blob, _ n: Int) {
        UnsafeMutableRawPointer(lp).storeBytes(of: UInt32(n).littleEndian, as: UInt32.self)
    }

    static func incrementCount(_ lp: Blob) {
        let n = BlobBytes.u16(lp, 4)
        if n != Listpack.countUnknown {
            UnsafeMutableRawPointer(lp).storeBytes(of: (n + 1).littleEndian, toByteOffset: 4, as: UInt16.self)
        }
    }

    // MARK: - Walking

    /// Offset of the first element, nil when empty.
    @inline(__always)
    public static func first(_ lp: Blob) -> Int? {
        lp[Listpack.headerSize] == Listpack.terminator ? nil : Listpack.headerSize
    }

    /// Offset of the element after the one at `off`, nil at the end.
    @inline(__always)
    public static func next(_ lp: Blob, _ off: Int) -> Int? {
        let size = Listpack.encodedSize(lp, at: off)
        let n = off + size + Listpack.backlenSize(size)
        return lp[n] == Listpack.terminator ? nil : n
    }

    /// Offset of the element before the one at `off`, nil at the first.
    @inline(__always)
    public static func prev(_ lp: Blob, _ off: Int) -> Int? {
        if off <= Listpack.headerSize { return nil }
        let size = Listpack.decodeBacklen(lp, last: off - 1)!
        return off - Listpack.backlenSize(size) - size
    }

    /// Offset of the last element, nil when empty.
    public static func last(_ lp: Blob) -> Int? {
        prev(lp, bytes(lp) - 1)
    }

    @inline(__always)
    public static func value(_ lp: Blob, _ off: Int) -> PackedValue { Listpack.value(lp, at: off) }

    /// The element as an integer (Redis's lpGetInteger; stream counters are always integers).
    @inline(__always)
    public static func int(_ lp: Blob, _ off: Int) -> Int64 {
        switch Listpack.value(lp, at: off) {
        case .int(let i): return i
        case .bytes(let b): return b.int64 ?? 0
        }
    }

    // MARK: - Editing

    /// Makes room for `extra` more bytes; the node may move.
    static func reserve(_ lp: Blob, _ extra: Int) -> Blob {
        let need = bytes(lp) + extra
        let have = tandem_usable_size(lp)
        if need <= have { return lp }
        let grown = Swift.max(need, Swift.min(have * 2, have + 65536))
        return tandem_realloc(lp, grown)!.assumingMemoryBound(to: UInt8.self)
    }

    /// Appends a string (as an integer when it is a canonical one, as lpAppend does).
    public static func append(_ lp: Blob, _ v: ByteView) -> Blob {
        if let i = v.int64 { return append(lp, i) }
        let n = v.count
        let head = Listpack.stringHeaderSize(n)
        let lp = reserve(lp, head + n + Listpack.maxBacklenSize)
        let at = bytes(lp) - 1
        Listpack.writeStringHeader(n, at: lp + at)
        if n > 0 { memcpy(lp + at + head, v.base, n) }
        return finishAppend(lp, at: at, size: head + n)
    }

    /// Appends a value read from another listpack.
    public static func append(_ lp: Blob, _ v: PackedValue) -> Blob {
        switch v {
        case .int(let i): return append(lp, i)
        case .bytes(let b): return append(lp, b)
        }
    }

    /// Appends an integer in its smallest encoding.
    public static func append(_ lp: Blob, _ v: Int64) -> Blob {
        let lp = reserve(lp, Listpack.maxIntSize + 1)
        let at = bytes(lp) - 1
        let size = Listpack.writeInt(v, at: lp + at)
        return finishAppend(lp, at: at, size: size)
    }

    static func finishAppend(_ lp: Blob, at: Int, size: Int) -> Blob {
        let end = at + size + Listpack.writeBacklen(size, at: lp + at + size)
        lp[end] = Listpack.terminator
        setBytes(lp, end + 1)
        incrementCount(lp)
        return lp
    }

    /// Replaces the element at `off` with the integer `v` (sizes may differ: the rest moves).
    /// Offsets after `off` shift by the returned delta.
    public static func replaceInt(_ lp: Blob, _ off: Int, _ v: Int64) -> (Blob, delta: Int) {
        let oldSize = Listpack.encodedSize(lp, at: off)
        let oldTotal = oldSize + Listpack.backlenSize(oldSize)
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        let newSize = withUnsafeMutableBytes(of: &scratch) { raw in
            Listpack.writeInt(v, at: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        let newTotal = newSize + Listpack.backlenSize(newSize)
        let delta = newTotal - oldTotal
        var lp = lp
        let total = bytes(lp)
        if delta > 0 { lp = reserve(lp, delta) }
        if delta != 0 {
            memmove(lp + off + newTotal, lp + off + oldTotal, total - off - oldTotal)
        }
        _ = Listpack.writeInt(v, at: lp + off)
        _ = Listpack.writeBacklen(newSize, at: lp + off + newSize)
        setBytes(lp, total + delta)
        return (lp, delta)
    }
}
