/*
 * AckReader: what a replica sends its master once it follows the stream — `REPLCONF ACK
 * <offset>` every second (Redis 7 may add `FACK <offset>`), and bare newlines while it loads.
 * A sender worker reads the replica's socket with this and publishes the offsets.
 *
 * The input is RESP multibulk, parsed incrementally: `feed` takes the bytes read and returns the
 * offsets acknowledged by every complete command in them; an incomplete command waits for more
 * bytes. Other commands are ignored (a replica sends none). Anything that is not RESP, or a
 * length past the limits, is a protocol error: the worker drops the replica, as Redis closes a
 * client that sends garbage.
 */
public struct AckReader {
    public enum Failure: Error, Equatable { case protocolError(String) }

    static let maxArguments = 16
    static let maxArgumentLength = 64 * 1024
    private var buffer: [UInt8] = []

    public init() {}

    /// Adds `bytes` and returns the ACK offsets of the complete commands now buffered.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [Int64] {
        buffer.append(contentsOf: bytes)
        var offsets: [Int64] = []
        var start = 0
        while start < buffer.count {
            guard let (args, used) = try Self.parseCommand(buffer, from: start) else { break }
            start += used
            if let offset = Self.ackOffset(args) { offsets.append(offset) }
        }
        buffer.removeFirst(start)
        if buffer.count > Self.maxArgumentLength * 2 { throw .protocolError("too big a command from replica") }
        return offsets
    }

    /// The offset of `REPLCONF ACK <offset> ...`, nil for anything else.
    static func ackOffset(_ args: [ArraySlice<UInt8>]) -> Int64? {
        guard args.count >= 3, lowercased(args[0]) == "replconf", lowercased(args[1]) == "ack" else { return nil }
        return Int64(String(decoding: args[2], as: UTF8.self))
    }

    static func lowercased(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self).lowercased() }

    /// One command from `start`: its arguments and the bytes it used (an empty line is a
    /// command with no arguments); nil when it is not complete yet.
    static func parseCommand(_ b: [UInt8], from start: Int) throws(Failure) -> ([ArraySlice<UInt8>], Int)? {
        if b[start] == 10 { return ([], 1) }
        if b[start] == 13 {
            guard start + 1 < b.count else { return nil }
            guard b[start + 1] == 10 else { throw .protocolError("bare CR from replica") }
            return ([], 2)
        }
        guard b[start] == UInt8(ascii: "*") else { throw .protocolError("expected '*', got '\(Character(UnicodeScalar(b[start])))'") }
        guard let (count, afterHeader) = try number(b, from: start + 1) else { return nil }
        guard count >= 1 && count <= Int64(maxArguments) else { throw .protocolError("invalid multibulk length") }
        var at = afterHeader
        var args: [ArraySlice<UInt8>] = []
        for _ in 0..<count {
            guard at < b.count else { return nil }
            guard b[at] == UInt8(ascii: "$") else { throw .protocolError("expected '$'") }
            guard let (length, afterLength) = try number(b, from: at + 1) else { return nil }
            guard length >= 0 && length <= Int64(maxArgumentLength) else { throw .protocolError("invalid bulk length") }
            let end = afterLength + Int(length)
            guard end + 2 <= b.count else { return nil }
            guard b[end] == 13 && b[end + 1] == 10 else { throw .protocolError("bulk not terminated by CRLF") }
            args.append(b[afterLength..<end])
            at = end + 2
        }
        return (args, at - start)
    }

    /// A decimal number ending in CRLF at `from`; nil when the line is not complete.
    static func number(_ b: [UInt8], from: Int) throws(Failure) -> (Int64, Int)? {
        var value: Int64 = 0
        var i = from
        var digits = 0
        while i < b.count {
            let c = b[i]
            if c == 13 {
                guard i + 1 < b.count else { return nil }
                guard b[i + 1] == 10, digits > 0 else { throw .protocolError("bad number line") }
                return (value, i + 2)
            }
            guard c >= 48 && c <= 57, digits < 18 else { throw .protocolError("bad number") }
            value = value * 10 + Int64(c - 48)
            digits += 1
            i += 1
        }
        return nil
    }
}
