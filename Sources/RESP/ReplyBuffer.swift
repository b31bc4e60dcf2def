/*
 * ReplyBuffer: a client's output buffer and the RESP2/RESP3 encoders that append to it.
 *
 * One growable malloc'd byte run per client (accounted in used_memory). Replies of every
 * command a client pipelined in one read are appended here and leave in one write from the
 * event loop's before-sleep step; `sent` tracks a partial write so back-pressure is just
 * "keep the rest and wait for EPOLLOUT".
 *
 * Encoders write straight into the buffer: integers are formatted in place, constant replies
 * come from StaticStrings, so producing a reply allocates nothing once the buffer has grown
 * to its working size.
 */
import CTandem
import Platform

public struct ReplyBuffer: ~Copyable {
    public private(set) var base: UnsafeMutablePointer<UInt8>
    public private(set) var capacity: Int
    /// The size set at creation or by the client cron (`resize`); a buffer a burst of replies
    /// grew returns to it (`shrink`).
    public private(set) var restingCapacity: Int
    /// Bytes held (sent or not).
    public var count: Int = 0
    /// Bytes already written to the socket.
    public var sent: Int = 0

    /// The most bytes held at once since the peak was last reset (CLIENT LIST's rbp): the
    /// client cron sizes an idle buffer by it, as Redis sizes a client's reply buffer.
    public var peak: Int = 0
    public var peakResetMillis: Int64 = 0

    /// The client's hard output limit (client-output-buffer-limit; 0: none), set by the
    /// server. Growing past it raises `overLimit`, which the server turns into closing the
    /// client and which commands with unbounded output (KEYS, HRANDFIELD with a huge count)
    /// check to stop early. Growth is where it is checked: free room costs nothing to fill.
    public var hardLimit = 0
    public var overLimit = false

    /// New clients start with Redis's 16 KB buffer; idle ones shrink to what they use (down to
    /// 1 KB), and after a bigger reply a client's buffer goes back to 16 KB once sent.
    public static let initialCapacity = 16 * 1024
    public static let minimumCapacity = 1024

    public init() {
        capacity = Self.initialCapacity
        restingCapacity = capacity
        base = tandem_malloc(capacity).assumingMemoryBound(to: UInt8.self)
    }

    public func deallocate() { tandem_free(base) }

    /// Bytes waiting to be written.
    @inlinable @inline(__always)
    public var pending: Int { count - sent }

    /// Memory held by this buffer, for CLIENT LIST's omem and the output limits.
    public var allocatedBytes: Int { capacity }

    /// Called after a write: forgets sent bytes, and shrinks a buffer that a big reply grew
    /// past `keepUpTo` bytes back to its resting size.
    @inlinable @inline(__always)
    public mutating func didSend(_ n: Int, keepUpTo: Int = 1024 * 1024) {
        sent += n
        if sent == count {
            if count > peak { peak = count }
            sent = 0
            count = 0
            if capacity > keepUpTo { shrink() }
        }
    }

    @usableFromInline
    mutating func shrink() { resize(to: restingCapacity) }

    /// Reallocates an empty buffer to `newCapacity` bytes.
    public mutating func resize(to newCapacity: Int) {
        guard count == 0, newCapacity != capacity else { return }
        tandem_free(base)
        capacity = newCapacity
        restingCapacity = newCapacity
        base = tandem_malloc(capacity).assumingMemoryBound(to: UInt8.self)
    }

    /// From the client cron: an empty buffer whose peak used less than half of it shrinks to
    /// the peak (at least 1 KB); every `resetAfterMillis` (negative: never) the peak restarts.
    public mutating func adjustToPeak(nowMillis: Int64, resetAfterMillis: Int64, resizing: Bool) {
        if resizing && count == 0 && capacity / 2 >= Self.minimumCapacity && peak < capacity / 2 {
            resize(to: max(Self.minimumCapacity, peak + 1))
        }
        if resetAfterMillis >= 0 && nowMillis - peakResetMillis >= resetAfterMillis {
            peak = count
            peakResetMillis = nowMillis
        }
    }

    /// Drops everything (client closing, CLIENT REPLY OFF discarding).
    public mutating func clear() {
        count = 0
        sent = 0
    }

    @inlinable @inline(__always)
    public mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    /// Grows by doubling. Never moves bytes within the buffer, so positions returned by
    /// `reserveDeferredHeader` stay valid.
    @usableFromInline
    mutating func grow(_ needed: Int) {
        if hardLimit > 0 && needed - sent > hardLimit { overLimit = true }
        var c = capacity * 2
        while c < needed { c *= 2 }
        base = tandem_realloc(base, c).assumingMemoryBound(to: UInt8.self)
        capacity = c
    }

    // MARK: - Raw appends

    @inlinable @inline(__always)
    public mutating func append(_ p: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        ByteView.copyBytes(p, to: base + count, n)
        count += n
    }


    @inlinable @inline(__always)
    public mutating func append(_ s: StaticString) {
        append(s.utf8Start, s.utf8CodeUnitCount)
    }

    @inlinable @inline(__always)
    public mutating func append(_ v: ByteView) { append(v.base, v.count) }

    public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0.baseAddress ?? UnsafePointer(base), $0.count) }
    }

    @inlinable @inline(__always)
    public mutating func appendByte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inlinable @inline(__always)
    mutating func appendCRLF() {
        reserve(2)
        base[count] = 13
        base[count + 1] = 10
        count += 2
    }

    /// `<prefix><n>\r\n`, the header of integers, bulks, arrays, maps, sets.
    @inlinable @inline(__always)
    public mutating func appendHeader(_ prefix: UInt8, _ n: Int64) {
        reserve(24)
        if UInt64(bitPattern: n) < 10 {
            // One digit (short values' lengths, small counts and integers): no call.
            base[count] = prefix
            base[count + 1] = 48 &+ UInt8(truncatingIfNeeded: n)
            base[count + 2] = 13
            base[count + 3] = 10
            count += 4
            return
        }
        base[count] = prefix
        count += 1
        count += IntFormat.write(n, to: base + count)
        base[count] = 13
        base[count + 1] = 10
        count += 2
    }

    // MARK: - RESP values

    @inlinable @inline(__always)
    public mutating func appendInteger(_ v: Int64) { appendHeader(58, v) }  // ':'

    @inlinable @inline(__always)
    public mutating func appendBulk(_ p: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n + 24)
        appendHeader(36, Int64(n))  // '$'
        ByteView.copyBytes(p, to: base + count, n)
        count += n
        base[count] = 13
        base[count + 1] = 10
        count += 2
    }

    @inlinable @inline(__always)
    public mutating func appendBulk(_ v: ByteView) { appendBulk(v.base, v.count) }

    public mutating func appendBulk(_ s: String) {
        var s = s
        s.withUTF8 { appendBulk($0.baseAddress ?? UnsafePointer(base), $0.count) }
    }

    /// An integer as a bulk string (GET of an integer-encoded value).
    @inlinable @inline(__always)
    public mutating func appendBulkInteger(_ v: Int64) {
        reserve(48)
        let digits = IntFormat.digits(v)
        appendHeader(36, Int64(digits))
        count += IntFormat.write(v, to: base + count)
        base[count] = 13
        base[count + 1] = 10
        count += 2
    }

    /// `+text\r\n`
    public mutating func appendStatus(_ s: String) {
        appendByte(43)
        append(s)
        appendCRLF()
    }

    /// The null bulk: `$-1` in RESP2, `_` in RESP3.
    @inlinable @inline(__always)
    public mutating func appendNull(resp3: Bool) {
        if resp3 { append("_\r\n" as StaticString) } else { append("$-1\r\n" as StaticString) }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    @inlinable @inline(__always)
    public mutating func appendNullArray(resp3: Bool) {
        if resp3 { append("_\r\n" as StaticString) } else { append("*-1\r\n" as StaticString) }
    }

    @inlinable @inline(__always)
    public mutating func appendArrayHeader(_ n: Int) { appendHeader(42, Int64(n)) }

    /// A map header: `%n` in RESP3, an array of 2n in RESP2.
    @inlinable @inline(__always)
    public mutating func appendMapHeader(_ n: Int, resp3: Bool) {
        if resp3 { appendHeader(37, Int64(n)) } else { appendHeader(42, Int64(n * 2)) }
    }

    /// A set header: `~n` in RESP3, an array in RESP2.
    @inlinable @inline(__always)
    public mutating func appendSetHeader(_ n: Int, resp3: Bool) {
        appendHeader(resp3 ? 126 : 42, Int64(n))
    }

    /// A double: `,<d>` in RESP3, a bulk string in RESP2 ("%.17g", inf, -inf).
    public mutating func appendDouble(_ d: Double, resp3: Bool) {
        var tmp = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let n = Int(tandem_d2string(p, 64, d))
            let u = UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self)
            if resp3 {
                appendByte(44)
                append(u, n)
                appendCRLF()
            } else {
                appendBulk(u, n)
            }
        }
    }

    /// A verbatim string in RESP3 (`=len\r\ntxt:...`), a bulk string in RESP2.
    public mutating func appendVerbatim(_ s: String, resp3: Bool) {
        if !resp3 {
            appendBulk(s)
            return
        }
        var s = s
        s.withUTF8 { u in
            appendHeader(61, Int64(u.count + 4))
            append("txt:" as StaticString)
            append(u.baseAddress ?? UnsafePointer(base), u.count)
            appendCRLF()
        }
    }

    /// Inserts `s` before the byte at `at` (≥ sent), moving what follows: for the rare MULTI
    /// that turns out to be needed in front of commands already written.
    public mutating func insert(_ s: StaticString, at: Int) {
        precondition(at >= sent && at <= count, "insert outside the unsent bytes")
        let n = s.utf8CodeUnitCount
        reserve(n)
        memmove(base + at + n, base + at, count - at)
        memcpy(base + at, s.utf8Start, n)
        count += n
    }

    /// Writes a header whose value is known only later: reserves room, returns its position.
    /// `patchHeader` fills it in. Used for replies whose length is counted while produced.
    public mutating func reserveDeferredHeader() -> Int {
        reserve(32)
        let at = count
        count += 32
        return at
    }

    /// Fills a deferred header by moving the bytes after it back over the unused room.
    public mutating func patchHeader(at: Int, prefix: UInt8, _ n: Int) {
        var tmp = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let len = withUnsafeMutableBytes(of: &tmp) { raw -> Int in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            p[0] = prefix
            var l = 1 + IntFormat.write(Int64(n), to: p + 1)
            p[l] = 13
            p[l + 1] = 10
            l += 2
            memcpy(base + at, p, l)
            return l
        }
        let tail = count - (at + 32)
        if tail > 0 { memmove(base + at + len, base + at + 32, tail) }
        count -= 32 - len
    }
}
