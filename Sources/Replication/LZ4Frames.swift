/*
 * LZ4Frames: the replication stream between Tandem nodes that negotiated `capa tandem-lz4`,
 * as a standard LZ4 frame stream (liblz4's lz4frame.h), so any `lz4 -d` decodes a capture.
 *
 * A writer compresses each batch it is given and flushes at once (a replica must be able to
 * apply everything it received), in linked 64 KB blocks so later batches reuse earlier ones as
 * their dictionary. Whoever stops writing a stream ends its frame; the next writer (the primary
 * hands a replica to a sender worker mid-stream) starts a new one: concatenated frames are one
 * valid stream, and the reader takes them one after the other.
 *
 * Offsets are never affected: they count the uncompressed stream on both ends.
 */
import CLZ4
import Glibc

/// Compresses one outgoing stream.
public struct LZ4FrameWriter: ~Copyable {
    private var context: OpaquePointer?
    private var preferences = LZ4F_preferences_t()
    private var scratch: UnsafeMutablePointer<UInt8>
    private let scratchCapacity: Int
    private var started = false
    static let chunk = 64 * 1024
    /// Uncompressed bytes taken and compressed bytes produced, for INFO.
    public private(set) var bytesIn: Int64 = 0
    public private(set) var bytesOut: Int64 = 0

    public init() {
        var ctx: OpaquePointer? = nil
        _ = LZ4F_createCompressionContext(&ctx, UInt32(LZ4F_VERSION))
        context = ctx
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockLinked
        preferences.compressionLevel = 0
        scratchCapacity = max(LZ4F_compressBound(Self.chunk, &preferences), Int(LZ4F_HEADER_SIZE_MAX)) + 64
        scratch = .allocate(capacity: scratchCapacity)
    }

    deinit {
        if let context { _ = LZ4F_freeCompressionContext(context) }
        scratch.deallocate()
    }

    public var isValid: Bool { context != nil }

    /// Compresses `n` bytes and flushes them; `sink` receives the compressed bytes (possibly in
    /// several calls). Returns false when liblz4 reports an error.
    public mutating func write(_ bytes: UnsafeRawPointer, _ n: Int, to sink: (UnsafeRawPointer, Int) -> Void) -> Bool {
        guard let context else { return false }
        if !started {
            let h = LZ4F_compressBegin(context, scratch, scratchCapacity, &preferences)
            if LZ4F_isError(h) != 0 { return false }
            emit(h, sink)
            started = true
        }
        var done = 0
        while done < n {
            let take = min(Self.chunk, n - done)
            let c = LZ4F_compressUpdate(context, scratch, scratchCapacity, bytes + done, take, nil)
            if LZ4F_isError(c) != 0 { return false }
            emit(c, sink)
            done += take
        }
        let f = LZ4F_flush(context, scratch, scratchCapacity, nil)
        if LZ4F_isError(f) != 0 { return false }
        emit(f, sink)
        bytesIn += Int64(n)
        return true
    }

    /// Ends the frame (the next writer starts its own).
    public mutating func end(to sink: (UnsafeRawPointer, Int) -> Void) {
        guard let context, started else { return }
        let e = LZ4F_compressEnd(context, scratch, scratchCapacity, nil)
        if LZ4F_isError(e) == 0 { emit(e, sink) }
        started = false
    }

    private mutating func emit(_ count: Int, _ sink: (UnsafeRawPointer, Int) -> Void) {
        if count > 0 {
            sink(UnsafeRawPointer(scratch), count)
            bytesOut += Int64(count)
        }
    }
}

/// Decompresses one incoming stream (any number of concatenated frames).
public struct LZ4FrameReader: ~Copyable {
    public struct Failure: Error { public let message: String }

    private var context: OpaquePointer?
    private var scratch: UnsafeMutablePointer<UInt8>
    static let scratchCapacity = 256 * 1024
    /// Where a caller reads compressed bytes before handing them to `read`: one buffer for the
    /// stream's life, so reading it allocates nothing.
    public let input: UnsafeMutableRawBufferPointer
    public private(set) var bytesIn: Int64 = 0
    public private(set) var bytesOut: Int64 = 0
    /// The last `read` ended exactly at the end of a frame (its end mark and checksum taken).
    public private(set) var atFrameEnd = false

    public init(inputCapacity: Int = 16 * 1024) {
        var ctx: OpaquePointer? = nil
        _ = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        context = ctx
        scratch = .allocate(capacity: Self.scratchCapacity)
        input = .allocate(byteCount: inputCapacity, alignment: 8)
    }

    deinit {
        if let context { _ = LZ4F_freeDecompressionContext(context) }
        scratch.deallocate()
        input.deallocate()
    }

    /// Decompresses all `n` bytes; `sink` receives the plain bytes. Throws on a damaged stream
    /// (the link must then be dropped: nothing after it can be trusted).
    public mutating func read(_ bytes: UnsafeRawPointer, _ n: Int, to sink: (UnsafeRawPointer, Int) -> Void) throws(Failure) {
        guard let context else { throw Failure(message: "no LZ4 decompression context") }
        bytesIn += Int64(n)
        var consumed = 0
        while true {
            var outSize = Self.scratchCapacity
            var inSize = n - consumed
            let r = LZ4F_decompress(context, scratch, &outSize, bytes + consumed, &inSize, nil)
            if LZ4F_isError(r) != 0 {
                throw Failure(message: String(cString: LZ4F_getErrorName(r)))
            }
            consumed += inSize
            atFrameEnd = r == 0
            if outSize > 0 {
                sink(UnsafeRawPointer(scratch), outSize)
                bytesOut += Int64(outSize)
            }
            // Done when the input is used up and nothing more came out of the context.
            if consumed >= n && outSize == 0 { return }
            if consumed >= n && outSize < Self.scratchCapacity { return }
        }
    }
}
