/*
 * RequestParser: turns the bytes of a client's query buffer into commands, without copying.
 *
 * Two request forms exist, as in Redis's networking.c:
 *   - multibulk  `*<argc>\r\n` then argc times `$<len>\r\n<bytes>\r\n` (every client library)
 *   - inline     one line of space-separated words with quotes (telnet, redis-cli's inline)
 *
 * Contract: the caller passes the bytes starting at the first unconsumed command. `parse`
 * either finds one complete command (`.complete`; its arguments are (offset, length) pairs
 * relative to that start, and `consumed` says how many bytes it took), needs more bytes
 * (`.incomplete`; progress is kept, so the next call resumes where this one stopped and
 * re-scans nothing), finds nothing to run (`.empty`, e.g. a blank line or `*0`), or fails
 * (`.protocolError`; `errorMessage` holds Redis's exact text and the connection must close).
 *
 * Offsets are relative to the command start, so the caller may move or grow the buffer
 * between calls (compaction, realloc) as long as the unconsumed bytes keep their order.
 *
 * Inline arguments are unescaped in place: an unescaped argument is never longer than its
 * source text, so it is written over the bytes it came from.
 */
import CTandem
import Platform

public enum ParseOutcome: UInt8 {
    case complete, incomplete, empty, protocolError
}

public struct RequestParser: ~Copyable {
    /// Longest header or inline line accepted before a newline shows up (PROTO_INLINE_MAX_SIZE).
    public static let inlineMaxSize = 64 * 1024

    // Progress on the current command.
    @usableFromInline var kind: UInt8 = 0            // 0 not started, 1 multibulk, 2 inline
    var remainingArgs: Int = 0     // multibulk arguments still to read
    var bulkLength: Int = -1       // length of the bulk being read, -1 while reading its header
    var position: Int = 0          // where parsing resumes, relative to the command start

    /// Arguments of the complete command: offsets[2*i] is the start, offsets[2*i+1] the length.
    public private(set) var argc: Int = 0
    public private(set) var offsets: UnsafeMutablePointer<Int>
    var capacity: Int

    /// Bytes of input the last complete (or empty) command took.
    public private(set) var consumed: Int = 0
    /// Redis's text for the last protocol error (without the leading "-ERR ").
    public private(set) var errorMessage: String = ""

    /// proto-max-bulk-len
    public var maxBulkLength: Int = 512 * 1024 * 1024
    /// Unauthenticated clients get tighter limits (Redis: 10 arguments, 16 KB bulks).
    public var authenticated: Bool = true

    public init() {
        capacity = 16
        offsets = .allocate(capacity: 32)
    }

    /// Frees the argument table. The parser must not be used afterwards.
    public func deallocate() { offsets.deallocate() }

    /// Set by `hold()`: the last complete command is handed out again by the next `parse`
    /// without re-reading its bytes (inline arguments were unescaped in place, so the bytes
    /// no longer parse the same way).
    @usableFromInline var held = false

    /// Keeps the complete command just parsed for the next `parse` call (a command that
    /// must wait, e.g. while clients are paused).
    public mutating func hold() { held = true }

    /// Forgets the current command (after it ran, or to start over).
    @inline(__always)
    public mutating func reset() {
        kind = 0
        remainingArgs = 0
        bulkLength = -1
        position = 0
        argc = 0
        held = false
    }

    /// When the parser is inside a bulk of known length, the number of bytes (from the
    /// command start) that the whole bulk needs; lets the reader grow the buffer once for a
    /// large argument instead of many times. 0 when not known.
    public var bytesNeeded: Int {
        kind == 1 && bulkLength >= 0 ? position + bulkLength + 2 : 0
    }

    /// Redis's PROTO_MBULK_BIG_ARG: bulks this long get a query buffer of their exact size.
    public static let bigArgument = 32 * 1024

    /// Inside a big bulk (at least `bigArgument` bytes): where its bytes start, relative to the
    /// command start; 0 otherwise. Redis keeps only such a bulk in its query buffer (CLIENT
    /// LIST's qbuf counts from here).
    public var bigBulkStart: Int {
        kind == 1 && bulkLength >= Self.bigArgument ? position : 0
    }

    @inline(__always)
    mutating func appendArg(_ offset: Int, _ length: Int) {
        if argc == capacity { reserveArguments(capacity * 2) }
        offsets[argc * 2] = offset
        offsets[argc * 2 + 1] = length
        argc += 1
    }

    /// Parses from `start`, which holds `length` bytes. See the contract at the top.
    @inlinable
    public mutating func parse(_ start: UnsafeMutablePointer<UInt8>, _ length: Int) -> ParseOutcome {
        if held {
            held = false
            return .complete
        }
        if kind == 0 {
            if length == 0 { return .incomplete }
            kind = start[0] == 42 ? 1 : 2  // '*'
        }
        return kind == 1 ? parseMultibulk(start, length) : parseInline(start, length)
    }

    // MARK: - Multibulk

    /// Scans a header line's number from `from` up to the '\r' that ends it, in one pass.
    /// Returns the index of the '\r' (-1 if none before `end`) and the number, nil when the
    /// text is not an integer by Redis's rules (string2ll). Short numbers — every real header —
    /// are parsed inline; anything unusual falls back to the exact general parser.
    @inline(__always)
    func scanHeaderNumber(_ start: UnsafeMutablePointer<UInt8>, from: Int, to end: Int) -> (cr: Int, value: Int64?) {
        var i = from
        var v: Int64 = 0
        var simple = true
        while i < end {
            let b = start[i]
            if b == 13 { break }
            let d = b &- 48
            if d > 9 { simple = false } else { v = v &* 10 &+ Int64(d) }
            i += 1
        }
        if i >= end { return (-1, nil) }
        let n = i - from
        if simple && n > 0 && n <= 18 && (start[from] != 48 || n == 1) { return (i, v) }
        return (i, ByteView(start + from, n).int64)
    }

    /// A bulk header `$<n>\r\n` of one or two digits (nearly every argument) read without the
    /// general scan, when its line is complete; nil sends the caller to `parseBulkHeader`.
    @inline(__always)
    static func shortBulkLength(_ start: UnsafeMutablePointer<UInt8>, at p: Int, end: Int) -> (cr: Int, value: Int)? {
        guard p &+ 3 < end && start[p] == 36 else { return nil }  // '$'
        let d0 = Int(start[p &+ 1]) &- 48
        if start[p &+ 2] == 13 {
            return UInt(bitPattern: d0) <= 9 ? (p &+ 2, d0) : nil
        }
        guard p &+ 4 < end && start[p &+ 3] == 13 else { return nil }
        let d1 = Int(start[p &+ 2]) &- 48
        if UInt(bitPattern: d0) <= 9 && d0 != 0 && UInt(bitPattern: d1) <= 9 {
            return (p &+ 3, d0 &* 10 &+ d1)
        }
        return nil
    }

    /// The parser's progress lives in locals while it scans (a field of `self` written per
    /// argument cost ~20 instructions each, issue 20's profile) and is stored back on every
    /// way out: `saveProgress` does that.
    @usableFromInline
    mutating func parseMultibulk(_ start: UnsafeMutablePointer<UInt8>, _ length: Int) -> ParseOutcome {
        var pos = position
        var remaining = remainingArgs
        var bulk = bulkLength
        if remaining == 0 && argc == 0 && length > 3 && start[2] == 13 && start[1] &- 49 < 9 {
            // `*1\r\n` to `*9\r\n`, nearly every command's header, without the general scan.
            remaining = Int(start[1] &- 48)
            pos = 4
            if remaining > capacity { reserveArguments(remaining) }
        } else if remaining == 0 && argc == 0 {
            // The `*<argc>\r\n` header.
            let (cr, number) = scanHeaderNumber(start, from: 1, to: length)
            if cr < 0 {
                if length - pos > Self.inlineMaxSize { return fail("Protocol error: too big mbulk count string") }
                return .incomplete
            }
            if cr + 1 >= length { return .incomplete }
            guard let n = number, n <= Int64(Int32.max) else {
                return fail("Protocol error: invalid multibulk length")
            }
            if n > 10 && !authenticated { return fail("Protocol error: unauthenticated multibulk length") }
            pos = cr + 2
            if n <= 0 {
                position = pos
                consumed = pos
                return .empty
            }
            remaining = Int(n)
            // Room for the arguments at once (at most 1024 ahead, as Redis sizes argv: a
            // header alone must not reserve memory for a billion arguments).
            if remaining > capacity { reserveArguments(min(remaining, 1024)) }
        }
        var count = argc
        var table = offsets
        while remaining > 0 {
            if bulk == -1 {
                let header: (cr: Int, value: Int)
                if let short = Self.shortBulkLength(start, at: pos, end: length) {
                    header = short
                } else {
                    let outcome = parseBulkHeader(start, length, at: pos)
                    guard let general = outcome.header else {
                        saveProgress(pos, remaining, -1, count)
                        return outcome.result
                    }
                    header = general
                }
                pos = header.cr &+ 2
                bulk = header.value
            }
            if length &- pos < bulk &+ 2 {
                saveProgress(pos, remaining, bulk, count)
                return .incomplete
            }
            if count == capacity {
                argc = count
                reserveArguments(capacity * 2)
                table = offsets
            }
            table[count &* 2] = pos
            table[count &* 2 &+ 1] = bulk
            count &+= 1
            pos = pos &+ bulk &+ 2
            bulk = -1
            remaining &-= 1
        }
        saveProgress(pos, 0, -1, count)
        consumed = pos
        return .complete
    }

    @inline(__always)
    mutating func saveProgress(_ pos: Int, _ remaining: Int, _ bulk: Int, _ count: Int) {
        position = pos
        remainingArgs = remaining
        bulkLength = bulk
        argc = count
    }

    /// Grows the argument table to hold `newCapacity` arguments, keeping the first `argc`.
    mutating func reserveArguments(_ newCapacity: Int) {
        if newCapacity <= capacity { return }
        let grown = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity * 2)
        grown.update(from: offsets, count: argc * 2)
        offsets.deallocate()
        offsets = grown
        capacity = newCapacity
    }

    /// A `$<n>\r\n` header by the general rules, at `pos`: its '\r' and length, or the outcome
    /// to return (incomplete, or a protocol error with Redis's text).
    mutating func parseBulkHeader(_ start: UnsafeMutablePointer<UInt8>, _ length: Int, at pos: Int)
        -> (header: (cr: Int, value: Int)?, result: ParseOutcome)
    {
        // A '\r' right where the '$' belongs ends the (empty) header line there.
        let (cr, number) =
            pos < length && start[pos] == 13
            ? (pos, nil) : scanHeaderNumber(start, from: pos + 1, to: length)
        if cr < 0 {
            if length - pos > Self.inlineMaxSize { return (nil, fail("Protocol error: too big bulk count string")) }
            return (nil, .incomplete)
        }
        if cr + 1 >= length { return (nil, .incomplete) }
        if start[pos] != 36 {  // '$'
            let got = String(decoding: [start[pos]], as: UTF8.self)
            return (nil, fail("Protocol error: expected '$', got '\(got)'"))
        }
        guard let n = number, n >= 0, n <= Int64(maxBulkLength) else {
            return (nil, fail("Protocol error: invalid bulk length"))
        }
        if n > 16384 && !authenticated { return (nil, fail("Protocol error: unauthenticated bulk length")) }
        return ((cr, Int(n)), .complete)
    }

    // MARK: - Inline

    @usableFromInline
    mutating func parseInline(_ start: UnsafeMutablePointer<UInt8>, _ length: Int) -> ParseOutcome {
        guard let nl = memchr(start + position, 10, length - position) else {
            position = length
            if length > Self.inlineMaxSize { return fail("Protocol error: too big inline request") }
            return .incomplete
        }
        var lineEnd = start.distance(to: nl.assumingMemoryBound(to: UInt8.self))
        consumed = lineEnd + 1
        if lineEnd > 0 && start[lineEnd - 1] == 13 { lineEnd -= 1 }
        if !splitInline(start, lineEnd) { return fail("Protocol error: unbalanced quotes in request") }
        return argc == 0 ? .empty : .complete
    }

    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }

    /// Splits `line[0..<end]` into arguments with the quoting rules of Redis's sdssplitargs,
    /// writing each unescaped argument over its own source bytes.
    mutating func splitInline(_ line: UnsafeMutablePointer<UInt8>, _ end: Int) -> Bool {
        argc = 0
        var p = 0
        while true {
            while p < end && Self.isSpace(line[p]) { p += 1 }
            if p >= end || line[p] == 0 { return true }
            let argStart = p
            var out = p
            var inDouble = false
            var inSingle = false
            var done = false
            while !done {
                let c: UInt8 = p < end ? line[p] : 0
                let next: UInt8 = p + 1 < end ? line[p + 1] : 0
                if inDouble {
                    if c == 92 && next == 120, p + 3 < end, let h = Self.hexValue(line[p + 2]),
                        let l = Self.hexValue(line[p + 3])
                    {
                        line[out] = h << 4 | l
                        out += 1
                        p += 3
                    } else if c == 92 && next != 0 {
                        p += 1
                        let e: UInt8
                        switch next {
                        case 110: e = 10  // n
                        case 114: e = 13  // r
                        case 116: e = 9  // t
                        case 98: e = 8  // b
                        case 97: e = 7  // a
                        default: e = next
                        }
                        line[out] = e
                        out += 1
                    } else if c == 34 {
                        if next != 0 && !Self.isSpace(next) { return false }
                        done = true
                    } else if c == 0 {
                        return false
                    } else {
                        line[out] = c
                        out += 1
                    }
                } else if inSingle {
                    if c == 92 && next == 39 {
                        p += 1
                        line[out] = 39
                        out += 1
                    } else if c == 39 {
                        if next != 0 && !Self.isSpace(next) { return false }
                        done = true
                    } else if c == 0 {
                        return false
                    } else {
                        line[out] = c
                        out += 1
                    }
                } else {
                    switch c {
                    case 32, 10, 13, 9, 0: done = true
                    case 34: inDouble = true
                    case 39: inSingle = true
                    default:
                        line[out] = c
                        out += 1
                    }
                }
                if p < end { p += 1 }
            }
            appendArg(argStart, out - argStart)
        }
    }

    mutating func fail(_ message: String) -> ParseOutcome {
        errorMessage = message
        return .protocolError
    }
}
