/*
 * AOFManifest: the manifest of Redis 7.0's multi-part append-only file (`appendonly.aof.manifest`
 * in `appenddirname`), read and written as redis-server reads and writes it — the first piece of
 * the server's append-only file (Sources/Server/AppendOnly/) keeps one and edits it with the
 * helpers at the end, which follow Redis's naming and sequence rules.
 *
 * One line per file, key/value pairs split as Redis's sdssplitargs splits them:
 *
 *     file appendonly.aof.1.base.rdb seq 1 type b
 *     file appendonly.aof.1.incr.aof seq 1 type i
 *
 * `type` is b (base, at most one), h (history, kept until deleted) or i (incremental, sequence
 * numbers strictly increasing). Unknown keys are skipped (Redis keeps them for forward
 * compatibility), `#` lines are comments, lines longer than 1024 bytes, blank lines, a file with
 * no line at all, a path instead of a bare file name are errors, each with Redis's message.
 * Written back: the base first, then history, then incremental files, a name that needs quoting
 * written as Redis's sdscatrepr writes it.
 */
import Platform

public struct AOFManifest: Equatable, Sendable {
    public enum FileType: UInt8, Sendable {
        case base = 98  // "b"
        case history = 104  // "h"
        case incremental = 105  // "i"
    }

    public struct File: Equatable, Sendable {
        public var name: [UInt8]
        public var sequence: Int64
        public var type: FileType

        public init(name: [UInt8], sequence: Int64, type: FileType) {
            self.name = name
            self.sequence = sequence
            self.type = type
        }
    }

    public var base: File?
    public var history: [File] = []
    public var incremental: [File] = []
    /// The sequence numbers the last base and incremental files were given (Redis's
    /// curr_base_file_seq / curr_incr_file_seq): a new file takes the next one.
    public var baseSequence: Int64 = 0
    public var incrementalSequence: Int64 = 0

    public init() {}

    /// Redis's AOF_MANIFEST_MAX_LINE.
    static let maxLine = 1024

    /// A manifest that cannot be loaded: Redis's message, and the offending line (1-based, with
    /// its text) when there is one.
    public struct LoadError: Error, Equatable {
        public var message: String
        public var line: Int?
        public var text: [UInt8]?
    }

    /// Parses a manifest file's bytes.
    public static func parse(_ bytes: [UInt8]) -> Result<AOFManifest, LoadError> {
        var manifest = AOFManifest()
        var maxSequence: Int64 = 0
        var lineNumber = 0
        var start = 0
        if bytes.isEmpty { return .failure(LoadError(message: "Found an empty AOF manifest")) }
        while start < bytes.count {
            // fgets: up to 1024 bytes or through the newline.
            var end = start
            while end < bytes.count && end - start < maxLine && bytes[end] != 10 { end += 1 }
            let hasNewline = end < bytes.count && bytes[end] == 10
            let raw = Array(bytes[start..<end])
            start = hasNewline ? end + 1 : end
            lineNumber += 1
            if raw.first == UInt8(ascii: "#") {
                // A comment; when longer than the buffer, fgets returns its rest as the next line.
                continue
            }
            if !hasNewline {
                return .failure(LoadError(message: "The AOF manifest file contains too long line"))
            }
            let line = trimmed(raw)
            func fail(_ message: String) -> Result<AOFManifest, LoadError> {
                .failure(LoadError(message: message, line: lineNumber, text: line))
            }
            if line.isEmpty { return fail("Invalid AOF manifest file format") }
            guard let args = SplitArgs.split(line), args.count >= 6, args.count % 2 == 0 else {
                return fail("Invalid AOF manifest file format")
            }
            var name: [UInt8]? = nil
            var sequence: Int64 = 0
            var typeByte: UInt8 = 0
            var i = 0
            while i < args.count {
                let key = String(decoding: args[i], as: UTF8.self).lowercased()
                let value = args[i + 1]
                switch key {
                case "file":
                    if value.contains(UInt8(ascii: "/")) || value.contains(UInt8(ascii: "\\")) {
                        return fail("File can't be a path, just a filename")
                    }
                    name = value
                case "seq":
                    // (A number that leaves no room for the next file's is refused too.)
                    guard let n = Int64(String(decoding: value, as: UTF8.self)), n < Int64.max else {
                        return fail("Invalid AOF manifest file format")
                    }
                    sequence = n
                case "type":
                    typeByte = value.first ?? 0
                default:
                    break
                }
                i += 2
            }
            guard let name, sequence != 0, typeByte != 0 else { return fail("Invalid AOF manifest file format") }
            guard let type = FileType(rawValue: typeByte) else { return fail("Unknown AOF file type") }
            let file = File(name: name, sequence: sequence, type: type)
            switch type {
            case .base:
                if manifest.base != nil { return fail("Found duplicate base file information") }
                manifest.base = file
                manifest.baseSequence = sequence
            case .history:
                manifest.history.append(file)
            case .incremental:
                if sequence <= maxSequence { return fail("Found a non-monotonic sequence number") }
                manifest.incremental.append(file)
                manifest.incrementalSequence = sequence
                maxSequence = sequence
            }
        }
        if lineNumber == 0 { return .failure(LoadError(message: "Found an empty AOF manifest")) }
        return .success(manifest)
    }

    /// The manifest as Redis writes it.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        for f in (base.map { [$0] } ?? []) + history + incremental {
            out += Array("file ".utf8) + Self.quotedIfNeeded(f.name)
            out += Array(" seq \(f.sequence) type ".utf8) + [f.type.rawValue, 10]
        }
        return out
    }

    // MARK: - Editing, as Redis 7.0 names and numbers files

    /// A new base file `<filename>.<seq>.base.rdb|aof`; the previous base becomes history
    /// (first in the history list). Returns its name.
    public mutating func startNewBase(filename: String, rdbFormat: Bool) -> String {
        if var old = base {
            old.type = .history
            history.insert(old, at: 0)
        }
        baseSequence += 1
        let name = "\(filename).\(baseSequence).base.\(rdbFormat ? "rdb" : "aof")"
        base = File(name: Array(name.utf8), sequence: baseSequence, type: .base)
        return name
    }

    /// A new incremental file `<filename>.<seq>.incr.aof` at the end of the list. Returns its name.
    public mutating func startNewIncremental(filename: String) -> String {
        incrementalSequence += 1
        let name = "\(filename).\(incrementalSequence).incr.aof"
        incremental.append(File(name: Array(name.utf8), sequence: incrementalSequence, type: .incremental))
        return name
    }

    /// After a rewrite: the incremental files it covers become history (newest first, as
    /// Redis lists them); with `keepingLast` the file being written now stays.
    public mutating func markRewrittenIncrementalsAsHistory(keepingLast: Bool) {
        var moved = keepingLast && !incremental.isEmpty ? Array(incremental.dropLast()) : incremental
        incremental = keepingLast && !incremental.isEmpty ? [incremental.last!] : []
        for i in moved.indices { moved[i].type = .history }
        history.insert(contentsOf: moved.reversed(), at: 0)
    }

    /// The base and incremental files, in loading order.
    public var filesToLoad: [File] { (base.map { [$0] } ?? []) + incremental }

    // MARK: - Redis's string helpers

    /// sdstrim(" \t\r\n").
    static func trimmed(_ b: [UInt8]) -> [UInt8] {
        let ws: Set<UInt8> = [32, 9, 13, 10]
        var lo = 0, hi = b.count
        while lo < hi && ws.contains(b[lo]) { lo += 1 }
        while hi > lo && ws.contains(b[hi - 1]) { hi -= 1 }
        return Array(b[lo..<hi])
    }

    /// The name as is, or quoted as sdscatrepr quotes when it holds a blank, a double quote, a
    /// backslash or a byte that is not printable (Redis's sdsneedsrepr).
    static func quotedIfNeeded(_ name: [UInt8]) -> [UInt8] {
        let needs = name.contains { c in c == 92 || c == 34 || c == 32 || c < 32 || c > 126 }
        if !needs { return name }
        var out: [UInt8] = [34]
        for c in name {
            switch c {
            case 92, 34: out += [92, c]
            case 10: out += [92, 110]
            case 13: out += [92, 114]
            case 9: out += [92, 116]
            case 7: out += [92, 97]
            case 8: out += [92, 98]
            default:
                if c >= 32 && c <= 126 {
                    out.append(c)
                } else {
                    let digits = Array("0123456789abcdef".utf8)
                    out += [92, 120, digits[Int(c >> 4)], digits[Int(c & 15)]]
                }
            }
        }
        out.append(34)
        return out
    }
}
