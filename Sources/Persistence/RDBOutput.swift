/*
 * RDBOutput: where an RDB stream goes — Redis's `rio` idea, reduced to the two sinks the
 * server needs: a file descriptor (a temp file for BGSAVE, a socket or pipe for a diskless
 * full sync) and memory (DUMP, tests).
 *
 * Bytes are gathered in one malloc'd buffer and leave in large writes; the CRC64 of
 * everything written is kept as the buffer drains (Redis checksums the whole stream, so
 * the trailer can be produced without reading anything back). A write error is sticky:
 * the first errno is kept, later writes are dropped, and the caller checks `failed` once at
 * the end instead of after every field.
 *
 * Nothing here is reference counted: this struct lives in a forked child that must touch
 * as few pages as possible.
 */
import CTandem
import Glibc
import Platform

public struct RDBOutput: ~Copyable {
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var used = 0
    /// Bytes of `buffer` already folded into `crc`.
    private var hashed = 0
    private var crc: UInt64 = 0
    private let fd: Int32
    /// A diskless full sync writes the same bytes to every replica socket (`fd` is -1 then).
    private var sockets: [Int32] = []
    /// Sockets that receive the bytes encoded (LZ4 frames between Tandem nodes): `encode` turns
    /// each chunk into what they get, handing the result to its sink.
    private var encodedSockets: [Int32] = []
    private var encode: ((UnsafeRawPointer, Int, (UnsafeRawPointer, Int) -> Void) -> Void)? = nil
    private var socketTimeoutMillis: Int32 = 0
    private let toMemory: Bool
    /// Bytes handed to the sink so far (flushed or not).
    public private(set) var bytesWritten: Int64 = 0
    /// The first write error's errno, 0 when none.
    public private(set) var errorNumber: Int32 = 0
    /// rdb-save-incremental-fsync / aof-rewrite-incremental-fsync: fdatasync the file every this
    /// many bytes (Redis's REDIS_AUTOSYNC_BYTES, 4 MB), so a big dump does not pile up in the page
    /// cache and stall the final fsync. 0: only the caller's fsync at the end.
    public var autoSyncBytes = 0
    private var unsyncedBytes = 0

    /// An output writing to `fd` (blocking or not; EAGAIN waits in poll()).
    public init(fd: Int32, bufferSize: Int = 64 * 1024) {
        self.fd = fd
        toMemory = false
        capacity = bufferSize
        buffer = tandem_malloc(bufferSize)!.assumingMemoryBound(to: UInt8.self)
    }

    /// An output writing the same bytes to several non-blocking sockets: a diskless full sync's
    /// replicas. A socket that fails, or takes nothing for `timeoutMillis`, is shut down and
    /// dropped (its peer sees the connection end; the others go on); the output fails only
    /// when no socket is left.
    public init(sockets: [Int32], encodedSockets: [Int32] = [],
                encode: ((UnsafeRawPointer, Int, (UnsafeRawPointer, Int) -> Void) -> Void)? = nil,
                timeoutMillis: Int32, bufferSize: Int = 64 * 1024) {
        fd = -1
        self.sockets = sockets
        self.encodedSockets = encode == nil ? [] : encodedSockets
        self.encode = encode
        socketTimeoutMillis = max(1, timeoutMillis)
        toMemory = false
        capacity = bufferSize
        buffer = tandem_malloc(bufferSize)!.assumingMemoryBound(to: UInt8.self)
    }

    /// The sockets still being written (a diskless sync's replicas that did not fail).
    public var liveSockets: [Int32] { sockets.filter { $0 >= 0 } }
    public var liveEncodedSockets: [Int32] { encodedSockets.filter { $0 >= 0 } }

    /// An output gathering everything in memory (read it with `withBytes`).
    public init(memoryCapacity: Int = 256) {
        fd = -1
        toMemory = true
        capacity = max(16, memoryCapacity)
        buffer = tandem_malloc(capacity)!.assumingMemoryBound(to: UInt8.self)
    }

    deinit { tandem_free(buffer) }

    public var failed: Bool { errorNumber != 0 }

    // MARK: - Writing

    @inline(__always)
    public mutating func write(_ p: UnsafeRawPointer, _ n: Int) {
        if n == 0 { return }
        bytesWritten += Int64(n)
        if used + n > capacity { makeRoom(n) }
        if n > capacity {
            // Only file sinks get here (memory sinks grow): send the large block directly.
            writeToFD(p, n, hash: true)
            return
        }
        memcpy(buffer + used, p, n)
        used += n
    }

    @inline(__always)
    public mutating func write(_ v: ByteView) {
        if v.count > 0 { write(UnsafeRawPointer(v.base), v.count) }
    }

    @inline(__always)
    public mutating func writeByte(_ b: UInt8) {
        bytesWritten += 1
        if used == capacity { makeRoom(1) }
        buffer[used] = b
        used += 1
    }

    public mutating func write(_ s: StaticString) {
        write(UnsafeRawPointer(s.utf8Start), s.utf8CodeUnitCount)
    }

    /// A file sink flushes the buffer; a memory sink grows it to hold `n` more bytes.
    private mutating func makeRoom(_ n: Int) {
        if toMemory {
            var c = capacity
            while c < used + n { c *= 2 }
            buffer = tandem_realloc(buffer, c)!.assumingMemoryBound(to: UInt8.self)
            capacity = c
        } else {
            flush()
        }
    }

    /// The CRC64 of every byte written so far.
    public mutating func checksum() -> UInt64 {
        if hashed < used {
            crc = tandem_crc64(crc, buffer + hashed, used - hashed)
            hashed = used
        }
        return crc
    }

    /// Sends buffered bytes to the file descriptor (no-op for memory sinks).
    public mutating func flush() {
        if toMemory || used == 0 { return }
        _ = checksum()
        writeToFD(buffer, used, hash: false)
        used = 0
        hashed = 0
    }

    private mutating func writeToFD(_ p: UnsafeRawPointer, _ n: Int, hash: Bool) {
        if hash { crc = tandem_crc64(crc, p, n) }
        if errorNumber != 0 { return }
        if !sockets.isEmpty || !encodedSockets.isEmpty {
            writeToSockets(p, n)
            return
        }
        let failure = Self.writeFully(fd, p, n, timeoutMillis: -1)
        if failure != 0 {
            errorNumber = failure
            return
        }
        if autoSyncBytes > 0 {
            unsyncedBytes += n
            if unsyncedBytes >= autoSyncBytes {
                unsyncedBytes = 0
                if fdatasync(fd) == -1 && errno != EINVAL { errorNumber = errno }
            }
        }
    }

    /// Redis's REDIS_AUTOSYNC_BYTES.
    public static let incrementalFsyncBytes = 4 * 1024 * 1024

    private mutating func writeToSockets(_ p: UnsafeRawPointer, _ n: Int) {
        Self.writeToAll(&sockets, p, n, timeoutMillis: socketTimeoutMillis)
        if let encode, !liveEncodedSockets.isEmpty {
            let timeout = socketTimeoutMillis
            encode(p, n) { q, m in Self.writeToAll(&encodedSockets, q, m, timeoutMillis: timeout) }
        }
        if liveSockets.isEmpty && liveEncodedSockets.isEmpty { errorNumber = EPIPE }
    }

    /// Writes the bytes to every live socket of `list`; one that fails or stalls is shut down
    /// and marked -1 (a stalled one with Redis's line: it is a replica that stopped reading).
    public static func writeToAll(_ list: inout [Int32], _ p: UnsafeRawPointer, _ n: Int, timeoutMillis: Int32) {
        for i in 0..<list.count where list[i] >= 0 {
            let failure = writeFully(list[i], p, n, timeoutMillis: timeoutMillis)
            if failure == ETIMEDOUT {
                Log.warning("Disconnecting timedout replica (full sync): \(Socket.peerAddress(list[i]))")
            }
            if failure != 0 {
                shutdown(list[i], Int32(SHUT_RDWR))
                list[i] = -1
            }
        }
    }

    /// Writes `n` bytes to a non-blocking socket, waiting in poll() while it is full; false on
    /// an error or when no byte could be written for `timeoutMillis`.
    public static func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, timeoutMillis: Int32) -> Bool {
        writeFully(fd, p, n, timeoutMillis: timeoutMillis) == 0
    }

    /// Writes all `n` bytes to `fd` (blocking or not: EAGAIN waits in poll()). Returns 0, the
    /// errno of a failed write, or ETIMEDOUT when `timeoutMillis` (≥ 0) passed with no progress.
    static func writeFully(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, timeoutMillis: Int32) -> Int32 {
        var done = 0
        while done < n {
            let r = Glibc.write(fd, p + done, n - done)
            if r > 0 {
                done += r
            } else if r < 0 && errno == EINTR {
                continue
            } else if r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&pfd, 1, timeoutMillis < 0 ? 1000 : timeoutMillis) == 0 && timeoutMillis >= 0 { return ETIMEDOUT }
            } else {
                return r < 0 ? errno : EIO
            }
        }
        return 0
    }

    /// The bytes of a memory sink.
    public func withBytes<R>(_ body: (ByteView) -> R) -> R {
        body(ByteView(UnsafePointer(buffer), used))
    }
}
