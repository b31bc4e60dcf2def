/*
 * RDBInput: where an RDB stream comes from — a file descriptor (dump.rdb at start-up, a
 * replica's socket for a diskless load, read through its TLS session when it has one) or a
 * block of memory (RESTORE payloads, tests).
 *
 * The loader asks for `n` contiguous bytes and gets a view into one malloc'd buffer that
 * is refilled from the descriptor as it drains. The buffer only grows while real data
 * arrives, so a corrupt length of 2^60 fails with a short read after the file's last byte
 * instead of an impossible allocation. Every failure is an RDBError carrying the byte
 * offset where reading stopped, which the server logs.
 *
 * The CRC64 of consumed bytes is folded in lazily (before the buffer is compacted and
 * when asked for), so per-field reads cost a bounds check and a pointer bump.
 */
import CTandem
import Glibc
import Platform

/// A reason the RDB stream cannot be loaded, and where.
public struct RDBError: Error, CustomStringConvertible {
    public var message: String
    public var offset: Int64

    public init(_ message: String, offset: Int64) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) (at byte offset \(offset))" }
}

public struct RDBInput: ~Copyable {
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Next byte to hand out.
    private var start = 0
    /// End of valid bytes.
    private var end: Int
    /// Bytes of the buffer already folded into `crc`.
    private var hashed = 0
    private var crc: UInt64 = 0
    /// Stream offset of buffer[0].
    private var base: Int64 = 0
    private let fd: Int32
    private let ownsBuffer: Bool
    /// Bytes still allowed from the descriptor (a disk-mode full sync knows its length); -1 = to EOF.
    private var remainingLimit: Int64
    private var sawEOF = false
    /// A socket that stays silent this long (ms) ends the load with an error; -1 waits forever
    /// (files and pipes). A replica loading straight from its master's socket sets repl-timeout.
    public var timeoutMillis: Int32 = -1
    /// Reads instead of read(2) when set (a TLS session over `fd`).
    private let source: ReadFunction?

    /// A reader over `fd` other than read(2), such as SSL_read: bytes read, 0 at EOF, -1 when
    /// it would block (the input then polls `fd` for input), -2 on an error.
    public typealias ReadFunction = (UnsafeMutableRawPointer, Int) -> Int

    /// Reads from `fd` (regular file, pipe or blocking socket) until EOF, or at most `limit` bytes;
    /// through `source` when given (which must be drained before `fd` is polled: a TLS session
    /// may hold decrypted bytes the socket no longer shows).
    public init(fd: Int32, limit: Int64 = -1, bufferSize: Int = 64 * 1024, readingWith source: ReadFunction? = nil) {
        self.fd = fd
        self.source = source
        ownsBuffer = true
        capacity = bufferSize
        buffer = tandem_malloc(bufferSize)!.assumingMemoryBound(to: UInt8.self)
        end = 0
        remainingLimit = limit
    }

    /// Reads the bytes of `memory`, which must outlive this input. Nothing is copied.
    public init(memory: ByteView) {
        fd = -1
        source = nil
        ownsBuffer = false
        buffer = UnsafeMutablePointer(mutating: memory.base)
        capacity = memory.count
        end = memory.count
        remainingLimit = 0
        sawEOF = true
    }

    deinit {
        if ownsBuffer { tandem_free(buffer) }
    }

    /// Stream offset of the next byte to be read.
    public var offset: Int64 { base + Int64(start) }

    /// Bytes available without reading from the descriptor.
    public var buffered: Int { end - start }

    /// True when every byte has been consumed and the source has no more.
    public mutating func atEnd() -> Bool {
        if start < end { return false }
        if sawEOF { return true }
        _ = try? fill(1)
        return start >= end
    }

    public func error(_ message: String) -> RDBError { RDBError(message, offset: offset) }

    // MARK: - Reading

    /// A view of the next `n` bytes, consumed; valid until the next read.
    @inline(__always)
    public mutating func read(_ n: Int) throws(RDBError) -> ByteView {
        if n > end - start { try fill(n) }
        let v = ByteView(UnsafePointer(buffer + start), n)
        start += n
        return v
    }

    @inline(__always)
    public mutating func readByte() throws(RDBError) -> UInt8 {
        if start == end { try fill(1) }
        let b = buffer[start]
        start += 1
        return b
    }

    /// A little-endian fixed-width integer.
    @inline(__always)
    public mutating func readLE<T: FixedWidthInteger>(_: T.Type) throws(RDBError) -> T {
        let v = try read(MemoryLayout<T>.size)
        return T(littleEndian: UnsafeRawPointer(v.base).loadUnaligned(as: T.self))
    }

    /// A big-endian fixed-width integer.
    @inline(__always)
    public mutating func readBE<T: FixedWidthInteger>(_: T.Type) throws(RDBError) -> T {
        let v = try read(MemoryLayout<T>.size)
        return T(bigEndian: UnsafeRawPointer(v.base).loadUnaligned(as: T.self))
    }

    /// The CRC64 of every byte consumed so far.
    public mutating func checksum() -> UInt64 {
        if hashed < start {
            crc = tandem_crc64(crc, buffer + hashed, start - hashed)
            hashed = start
        }
        return crc
    }

    /// Hands out (and consumes) the bytes read from the descriptor but not yet used: what came
    /// after the RDB's trailer, such as a diskless payload's end mark.
    public mutating func takeBuffered() -> [UInt8] {
        let out = Array(UnsafeBufferPointer(start: buffer + start, count: end - start))
        start = end
        return out
    }

    /// Makes `n` bytes available at `start`, reading from the descriptor as needed.
    private mutating func fill(_ n: Int) throws(RDBError) {
        if fd < 0 || sawEOF && end - start < n {
            throw error("Unexpected EOF reading RDB file")
        }
        _ = checksum()
        // Compact: move the unread tail to the front.
        if start > 0 {
            let left = end - start
            if left > 0 { memmove(buffer, buffer + start, left) }
            base += Int64(start)
            end = left
            start = 0
            hashed = 0
        }
        while end < n {
            if end == capacity {
                // Grow only as data actually arrives (a bogus length cannot allocate ahead).
                capacity *= 2
                buffer = tandem_realloc(buffer, capacity)!.assumingMemoryBound(to: UInt8.self)
            }
            var want = capacity - end
            if remainingLimit >= 0 { want = Int(min(Int64(want), remainingLimit)) }
            if want == 0 {
                sawEOF = true
                throw error("Unexpected EOF reading RDB file")
            }
            switch readSome(into: buffer + end, want) {
            case .bytes(let r):
                end += r
                if remainingLimit >= 0 { remainingLimit -= Int64(r) }
            case .wouldBlock:
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, timeoutMillis < 0 ? 1000 : timeoutMillis) == 0 && timeoutMillis >= 0 {
                    sawEOF = true
                    throw error("Timeout reading the RDB stream")
                }
            case .end:
                sawEOF = true
                throw error("Unexpected EOF reading RDB file")
            case .failed(let reason):
                sawEOF = true
                throw error(reason)
            }
        }
    }

    private enum ReadOutcome {
        case bytes(Int), wouldBlock, end, failed(String)
    }

    /// One read from the source or the descriptor (EINTR retried).
    private func readSome(into p: UnsafeMutablePointer<UInt8>, _ want: Int) -> ReadOutcome {
        if let source {
            let r = source(p, want)
            return r > 0 ? .bytes(r) : r == 0 ? .end : r == -1 ? .wouldBlock : .failed("TLS read error")
        }
        while true {
            let r = Glibc.read(fd, p, want)
            if r > 0 { return .bytes(r) }
            if r == 0 { return .end }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .failed(String(cString: strerror(errno)))
        }
    }
}
