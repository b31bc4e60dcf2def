/*
 * AOFCommandReader: reads the commands of an append-only file (RESP arrays of bulk strings)
 * exactly as Redis 7.0's loadSingleAppendOnlyFile reads them, so a file loads, stops or is
 * truncated at the same byte in Tandem as in redis-server:
 *
 *  - lines are read as fgets reads them into a 1024-byte buffer (at most 1023 bytes, through
 *    the newline); a line starting with `#` is an annotation (`#TS:<unix time>` written with
 *    aof-timestamp-enabled) and is skipped;
 *  - a command is `*<argc>` then, per argument, `$<len>`, `len` bytes and two bytes that are
 *    skipped unchecked (Redis discards the CRLF without looking at it);
 *  - a line that is not what the grammar needs there is a format error; a file that ends in
 *    the middle of a command is truncated (`aof-load-truncated` decides what follows), and
 *    `validOffset` says where the last whole command ended.
 *
 * Arguments are views into one buffer that is refilled from the file and grows only for
 * arguments that do not fit: they are valid until the next call to `next()`.
 */
import CTandem
import Glibc
import Platform

public struct AOFCommandReader: ~Copyable {
    public enum Step: Equatable {
        /// A whole command: `argc` arguments in `argv`.
        case command
        /// The file ended cleanly, between commands.
        case end
        /// The file ended inside a command.
        case truncated
        /// Bytes that are not the AOF grammar.
        case formatError
        /// read(2) failed with this errno.
        case readError(Int32)
    }

    private let fd: Int32
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Unparsed bytes are buffer[position..<end]; buffer[0] is at file offset `bufferOffset`.
    private var position = 0
    private var end = 0
    /// Where the command being read starts: kept (moved to the front) when the buffer refills.
    private var commandStart = 0
    private var bufferOffset: Int64
    private var atEOF = false
    /// The file's size when opened: a length past it is a truncation, not an allocation.
    private let fileSize: Int64
    private var readErrno: Int32 = 0
    /// Argument offsets (into `buffer`) and lengths of the command being read.
    private var argOffsets: [Int] = []
    private var argLengths: [Int] = []
    public private(set) var argv: UnsafeMutablePointer<ByteView>
    private var argvCapacity = 16
    public private(set) var argc = 0
    /// File offset just after the last whole command (or annotation) read.
    public private(set) var validOffset: Int64

    /// Redis's AOF_ANNOTATION_LINE_MAX_LEN: fgets reads at most this minus one byte.
    static let lineBuffer = 1024

    /// Reads `fd` from `offset` on (after an RDB preamble, the offset where it ended).
    public init(fd: Int32, startingAt offset: Int64 = 0, bufferSize: Int = 64 * 1024) {
        self.fd = fd
        capacity = bufferSize
        buffer = .allocate(capacity: bufferSize)
        argv = .allocate(capacity: 16)
        bufferOffset = offset
        validOffset = offset
        var st = stat()
        fileSize = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : Int64.max
        if offset != 0 { lseek(fd, off_t(offset), SEEK_SET) }
    }

    deinit {
        buffer.deallocate()
        argv.deallocate()
    }

    /// The file offset of the next byte to parse.
    public var offset: Int64 { bufferOffset + Int64(position) }

    /// Reads the next command.
    public mutating func next() -> Step {
        while true {
            commandStart = position
            guard let header = readLine() else { return endOfInput(midCommand: false) }
            let first = buffer[header.start]
            if first == UInt8(ascii: "#") {
                validOffset = offset
                continue
            }
            if first != UInt8(ascii: "*") { return .formatError }
            // "*" as the file's last byte: fgets gave one byte, Redis's buf[1] is the NUL.
            if header.length == 1 { return endOfInput(midCommand: true) }
            let count = Self.atoi(buffer + header.start + 1, header.length - 1)
            if count < 1 { return .formatError }
            argOffsets.removeAll(keepingCapacity: true)
            argLengths.removeAll(keepingCapacity: true)
            for _ in 0..<count {
                guard let line = readLine() else { return endOfInput(midCommand: true) }
                if buffer[line.start] != UInt8(ascii: "$") { return .formatError }
                let length = Self.atoi(buffer + line.start + 1, line.length - 1)
                // Redis would try to allocate a negative (huge unsigned) length and fail.
                if length < 0 || length > Int.max - 2 { return .formatError }
                // The argument, then the two bytes Redis discards.
                guard fill(length + 2) else { return endOfInput(midCommand: true) }
                argOffsets.append(position - commandStart)
                argLengths.append(length)
                position += length + 2
            }
            // The buffer may have moved while reading: views are made at the end.
            let base = buffer + commandStart
            if count > argvCapacity {
                argv.deallocate()
                argvCapacity = max(count, argvCapacity * 2)
                argv = .allocate(capacity: argvCapacity)
            }
            for i in 0..<count { argv[i] = ByteView(UnsafePointer(base + argOffsets[i]), argLengths[i]) }
            argc = count
            validOffset = offset
            return .command
        }
    }

    private func endOfInput(midCommand: Bool) -> Step {
        if readErrno != 0 { return .readError(readErrno) }
        return midCommand ? .truncated : .end
    }

    /// fgets into a 1024-byte buffer: through the newline, at most 1023 bytes, or what is left
    /// at the end of the file; nil when nothing is left. Returns where the line is in `buffer`.
    private mutating func readLine() -> (start: Int, length: Int)? {
        var scanned = 0
        while true {
            let available = end - position
            let limit = min(available, Self.lineBuffer - 1)
            while scanned < limit {
                if buffer[position + scanned] == 10 {
                    let start = position
                    position += scanned + 1
                    return (start, scanned + 1)
                }
                scanned += 1
            }
            if limit == Self.lineBuffer - 1 || (atEOF && available > 0) {
                let start = position
                position += limit
                return (start, limit)
            }
            if atEOF { return nil }
            readMore()
        }
    }

    /// Makes `n` bytes available at `position`. False when the file ends first.
    private mutating func fill(_ n: Int) -> Bool {
        if Int64(n) > fileSize - offset {
            readErrno = 0
            atEOF = true
            return false
        }
        while end - position < n {
            if atEOF { return false }
            readMore(atLeast: n)
        }
        return true
    }

    /// Reads more of the file, first moving the command being read to the front (and growing
    /// the buffer when even that leaves no room for `atLeast` bytes past `position`).
    @discardableResult
    private mutating func readMore(atLeast: Int = 0) -> Bool {
        let keep = commandStart
        if keep > 0 {
            let live = end - keep
            buffer.update(from: buffer + keep, count: live)
            position -= keep
            commandStart = 0
            end = live
            bufferOffset += Int64(keep)
        }
        let needed = position + max(atLeast, 4096)
        if needed > capacity || end == capacity {
            let grown = max(capacity * 2, needed)
            let b = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            b.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = b
            capacity = grown
        }
        while true {
            let n = read(fd, buffer + end, capacity - end)
            if n > 0 {
                end += n
                return true
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { readErrno = errno }
            atEOF = true
            return false
        }
    }

    /// C's atoi/strtol on a line: blanks, a sign, digits; stops at anything else.
    static func atoi(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var i = 0
        while i < n && (p[i] == 32 || p[i] == 9) { i += 1 }
        var negative = false
        if i < n && (p[i] == 45 || p[i] == 43) {
            negative = p[i] == 45
            i += 1
        }
        var v = 0
        while i < n && p[i] >= 48 && p[i] <= 57 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(p[i] - 48))
            if o1 || o2 { return negative ? Int.min : Int.max }
            v = a
            i += 1
        }
        return negative ? -v : v
    }
}
