// ParserHarness.swift — test support for RequestParserTests: a feeder that drives
// `RequestParser` the way the server's processInputBuffer does (keep a buffer, parse from the
// current command start, append on `.incomplete`, advance by `consumed` and `reset()` after
// `.complete`/`.empty`), optionally moving the unconsumed bytes to a fresh buffer before every
// call (the server's compaction), and a seeded RNG.
import Platform
import RESP

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// What feeding an input produced.
struct FeedResult: Equatable, CustomStringConvertible {
    var commands: [[[UInt8]]] = []
    /// `errorMessage` of the protocol error that stopped parsing, if any.
    var error: String? = nil
    /// Bytes left unconsumed at the end (an incomplete trailing command).
    var leftover = 0

    var description: String {
        let cmds = commands.map { "[" + $0.map { String(decoding: $0, as: UTF8.self).debugDescription }.joined(separator: ", ") + "]" }
        return "commands: \(cmds), error: \(error ?? "nil"), leftover: \(leftover)"
    }
}

/// Drives a RequestParser like the server does.
final class Feeder {
    var parser = RequestParser()
    var buffer: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var start = 0
    var end = 0
    let compact: Bool
    var result = FeedResult()
    /// Contract violations seen (consumed out of range, offsets outside the command, ...).
    var violations: [String] = []
    var parseCalls = 0
    /// bytesNeeded after each `.incomplete` (0 when unknown).
    var bytesNeededLog: [Int] = []

    init(capacity: Int = 64, compact: Bool, authenticated: Bool = true, maxBulkLength: Int? = nil) {
        self.capacity = max(capacity, 1)
        self.buffer = .allocate(capacity: self.capacity)
        self.compact = compact
        parser.authenticated = authenticated
        if let maxBulkLength { parser.maxBulkLength = maxBulkLength }
    }

    deinit {
        buffer.deallocate()
        parser.deallocate()
    }

    var stopped: Bool { result.error != nil }

    /// Appends `chunk` (as one read) and parses everything that is complete.
    func feed(_ chunk: ArraySlice<UInt8>) {
        if stopped { return }
        let live = end - start
        if compact {
            // Move the unconsumed bytes to a new allocation: the parser may only rely on
            // offsets relative to the command start.
            let newCapacity = max(live + chunk.count, 1)
            let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            fresh.update(from: buffer + start, count: live)
            // Scribble over the old buffer so a stale pointer would show up as garbage.
            buffer.update(repeating: 0xEE, count: capacity)
            buffer.deallocate()
            buffer = fresh
            capacity = newCapacity
            start = 0
            end = live
        } else if end + chunk.count > capacity {
            var newCapacity = capacity * 2
            while newCapacity < end + chunk.count { newCapacity *= 2 }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        chunk.withUnsafeBufferPointer { p in
            if let b = p.baseAddress { (buffer + end).update(from: b, count: p.count) }
        }
        end += chunk.count
        process()
    }

    func process() {
        var guardCount = 0
        let limit = end - start + 2
        while start < end {
            guardCount += 1
            if guardCount > limit {
                violations.append("no progress: \(guardCount) parse calls for \(limit - 2) bytes")
                return
            }
            let length = end - start
            let outcome = parser.parse(buffer + start, length)
            parseCalls += 1
            switch outcome {
            case .incomplete:
                let needed = parser.bytesNeeded
                bytesNeededLog.append(needed)
                if needed != 0 && needed <= length {
                    violations.append("bytesNeeded \(needed) <= buffered \(length) on .incomplete")
                }
                return
            case .protocolError:
                result.error = parser.errorMessage
                if parser.errorMessage.isEmpty { violations.append("protocolError with empty message") }
                start = end
                return
            case .complete, .empty:
                let consumed = parser.consumed
                if consumed < 1 || consumed > length {
                    violations.append("consumed \(consumed) outside 1...\(length)")
                    start = end
                    return
                }
                if outcome == .complete {
                    if parser.argc < 1 { violations.append(".complete with argc \(parser.argc)") }
                    var args: [[UInt8]] = []
                    for i in 0..<parser.argc {
                        let off = parser.offsets[2 * i]
                        let len = parser.offsets[2 * i + 1]
                        if off < 0 || len < 0 || off + len > consumed {
                            violations.append("argument \(i) at \(off)+\(len) outside consumed \(consumed)")
                            start = end
                            return
                        }
                        args.append(Array(UnsafeBufferPointer(start: buffer + start + off, count: len)))
                    }
                    result.commands.append(args)
                } else if parser.argc != 0 {
                    violations.append(".empty with argc \(parser.argc)")
                }
                start += consumed
                parser.reset()
                if parser.bytesNeeded != 0 { violations.append("bytesNeeded \(parser.bytesNeeded) after reset") }
            }
        }
        // The server rewinds an empty buffer to offset 0.
        if start == end && !compact {
            start = 0
            end = 0
        }
    }

    func finish() -> FeedResult {
        var r = result
        r.leftover = r.error == nil ? end - start : 0
        return r
    }
}

/// Feeds `input` split at `cuts` (positions in 0...input.count, ascending; duplicates give
/// empty reads) and returns what the parser produced plus any contract violations.
func feed(
    _ input: [UInt8], cuts: [Int] = [], compact: Bool = false, authenticated: Bool = true, maxBulkLength: Int? = nil,
    initialCapacity: Int = 64
) -> (FeedResult, [String]) {
    let f = Feeder(capacity: initialCapacity, compact: compact, authenticated: authenticated, maxBulkLength: maxBulkLength)
    var from = 0
    for c in cuts + [input.count] {
        f.feed(input[from..<c])
        from = c
    }
    return (f.finish(), f.violations)
}

/// Feeds `input` one byte per read.
func feedByteByByte(_ input: [UInt8], compact: Bool = false, authenticated: Bool = true) -> (FeedResult, [String]) {
    let f = Feeder(capacity: 16, compact: compact, authenticated: authenticated)
    for i in 0..<input.count { f.feed(input[i..<(i + 1)]) }
    return (f.finish(), f.violations)
}

/// SplitMix64: small, seeded, deterministic.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Multibulk encoding of one command.
func multibulk(_ args: [[UInt8]]) -> [UInt8] {
    var out = bytes("*\(args.count)\r\n")
    for a in args {
        out += bytes("$\(a.count)\r\n")
        out += a
        out += [13, 10]
    }
    return out
}

func multibulk(_ args: String...) -> [UInt8] { multibulk(args.map(bytes)) }
