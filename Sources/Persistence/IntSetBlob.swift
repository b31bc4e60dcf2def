/*
 * IntSetBlob: Redis's intset as it appears in an RDB file (type 11, a set of integers).
 *
 * Layout (little-endian):
 *
 *     0  encoding  UInt32   bytes per member: 2, 4 or 8
 *     4  length    UInt32   number of members
 *     8  members, each `encoding` bytes, two's complement, strictly ascending
 *
 * Why there is no encoder here: Keyspace's IntSet keeps exactly this layout in its block —
 * width and count as native UInt32, members native-endian ascending at one width that never
 * narrows, as in Redis — and Tandem runs on little-endian machines only (a big-endian build
 * stops below). So the first `byteSize` bytes of an IntSet already are the blob Redis would
 * write for the same set, and `bytes(of:)` just views them. The same holds in reverse:
 * `makeIntSet` copies a validated blob into a new IntSet block.
 *
 * The loader validates the untrusted blob first, as Redis's intsetValidateIntegrity (deep)
 * does; an empty intset is invalid there, so it is here.
 */
import CTandem
import Keyspace
import Platform

#if _endian(big)
#error("IntSetBlob views IntSet's native-endian block as Redis's little-endian intset")
#endif

public enum IntSetBlob {
    static let headerSize = 8

    /// Whether `blob` is a well-formed, non-empty intset: a known width, a size that matches
    /// the count exactly, and members strictly ascending. Never reads outside `blob`.
    public static func validate(_ blob: ByteView) -> Bool {
        guard let (width, count) = shape(blob), count > 0,
              headerSize + count * width == blob.count
        else { return false }
        var previous = member(blob.base, 0, width: width)
        var i = 1
        while i < count {
            let current = member(blob.base, i, width: width)
            if current <= previous { return false }
            previous = current
            i += 1
        }
        return true
    }

    /// Calls `body` with each member in order. Meant for validated blobs; on any other input
    /// it reads only the whole members that fit in `blob`.
    public static func forEach(_ blob: ByteView, _ body: (Int64) -> Void) {
        guard let (width, count) = shape(blob) else { return }
        let n = Swift.min(count, (blob.count - headerSize) / width)
        var i = 0
        while i < n {
            body(member(blob.base, i, width: width))
            i += 1
        }
    }

    /// The Redis intset encoding of `set`: a view of the set's own block (see the file
    /// comment), valid until the set is next modified or freed.
    public static func bytes(of set: IntSet) -> ByteView {
        ByteView(UnsafePointer(set.raw.assumingMemoryBound(to: UInt8.self)), set.byteSize)
    }

    /// A new IntSet holding the members of a validated blob (a copy; the caller owns it).
    public static func makeIntSet(_ blob: ByteView) -> IntSet {
        let p = tandem_malloc(blob.count)!
        memcpy(p, blob.base, blob.count)
        return IntSet(raw: p)
    }

    /// Width and count from the header, or nil when the blob is shorter than the header or
    /// the width is not 2, 4 or 8.
    private static func shape(_ blob: ByteView) -> (width: Int, count: Int)? {
        guard blob.count >= headerSize else { return nil }
        let width = Int(BlobBytes.u32(blob.base, 0))
        guard width == 2 || width == 4 || width == 8 else { return nil }
        return (width, Int(BlobBytes.u32(blob.base, 4)))
    }

    private static func member(_ p: UnsafePointer<UInt8>, _ i: Int, width: Int) -> Int64 {
        let off = headerSize + i * width
        switch width {
        case 2: return Int64(Int16(bitPattern: BlobBytes.u16(p, off)))
        case 4: return Int64(Int32(bitPattern: BlobBytes.u32(p, off)))
        default: return Int64(bitPattern: BlobBytes.u64(p, off))
        }
    }
}
