/*
 * RESP.swift — the integration tests' own, tiny view of the Redis protocol.
 *
 * The integration target must not depend on any module of the package (it only launches processes and
 * talks TCP), so it carries its own RESP code, kept deliberately small and separate from the server's:
 *   - `RESPReader.parse` finds where ONE complete reply ends in a byte buffer (RESP2 and RESP3 types:
 *     + - : $ * _ , # ! = ( % ~ > |) and decodes it into a `RESPValue`; it returns nil when more bytes
 *     are needed, so `RawClient` can read exactly one reply and keep the rest.
 *   - `RESPValue.encoded` writes a value back to canonical bytes (used by probe steps that synthesise a
 *     reply, and by the `.sorted` comparison).
 *   - `RESP.pretty` renders raw reply bytes readably for failure messages (redis-cli style, plus the
 *     escaped raw bytes so a one-byte difference is visible).
 */

import Foundation

// MARK: - Values

/// One decoded RESP reply. Maps and attributes keep their pairs flattened as [k0, v0, k1, v1, ...].
indirect enum RESPValue: Equatable, Sendable {
    case simple(String)          // +
    case error(String)           // -
    case integer(Int64)          // :
    case bulk([UInt8])           // $n
    case nullBulk                // $-1
    case array([RESPValue])      // *n
    case nullArray               // *-1
    case null                    // _
    case double(String)          // , (kept as text so it round-trips byte for byte)
    case boolean(Bool)           // #
    case bigNumber(String)       // (
    case bulkError([UInt8])      // !
    case verbatim([UInt8])       // = (format prefix "txt:" included)
    case map([RESPValue])        // %n, flattened pairs
    case set([RESPValue])        // ~n
    case push([RESPValue])       // >n
    case attribute([RESPValue], RESPValue)  // |n pairs, then the value they annotate

    /// The RESP type byte this value is written with.
    var typeByte: UInt8 {
        switch self {
        case .simple: return UInt8(ascii: "+")
        case .error: return UInt8(ascii: "-")
        case .integer: return UInt8(ascii: ":")
        case .bulk, .nullBulk: return UInt8(ascii: "$")
        case .array, .nullArray: return UInt8(ascii: "*")
        case .null: return UInt8(ascii: "_")
        case .double: return UInt8(ascii: ",")
        case .boolean: return UInt8(ascii: "#")
        case .bigNumber: return UInt8(ascii: "(")
        case .bulkError: return UInt8(ascii: "!")
        case .verbatim: return UInt8(ascii: "=")
        case .map: return UInt8(ascii: "%")
        case .set: return UInt8(ascii: "~")
        case .push: return UInt8(ascii: ">")
        case .attribute: return UInt8(ascii: "|")
        }
    }

    /// Bulk, simple, verbatim or error payload as text; nil for aggregates and nulls.
    var text: String? {
        switch self {
        case .simple(let s), .error(let s), .double(let s), .bigNumber(let s): return s
        case .bulk(let b), .bulkError(let b), .verbatim(let b): return String(decoding: b, as: UTF8.self)
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    /// Elements of any aggregate (array, set, push, map flattened); nil otherwise.
    var elements: [RESPValue]? {
        switch self {
        case .array(let e), .set(let e), .push(let e), .map(let e): return e
        default: return nil
        }
    }

    var isError: Bool {
        switch self {
        case .error, .bulkError: return true
        default: return false
        }
    }

    /// Canonical RESP bytes of this value.
    var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    func encode(into out: inout [UInt8]) {
        func line(_ s: String) {
            out.append(typeByte)
            out.append(contentsOf: Array(s.utf8))
            out.append(contentsOf: [13, 10])
        }
        func bulkBody(_ b: [UInt8]) {
            line(String(b.count))
            out.append(contentsOf: b)
            out.append(contentsOf: [13, 10])
        }
        func aggregate(_ e: [RESPValue], count: Int) {
            line(String(count))
            for v in e { v.encode(into: &out) }
        }
        switch self {
        case .simple(let s), .error(let s), .double(let s), .bigNumber(let s): line(s)
        case .integer(let i): line(String(i))
        case .bulk(let b), .bulkError(let b), .verbatim(let b): bulkBody(b)
        case .nullBulk, .nullArray: line("-1")
        case .null: line("")
        case .boolean(let b): line(b ? "t" : "f")
        case .array(let e), .set(let e), .push(let e): aggregate(e, count: e.count)
        case .map(let e): aggregate(e, count: e.count / 2)
        case .attribute(let pairs, let value):
            aggregate(pairs, count: pairs.count / 2)
            value.encode(into: &out)
        }
    }

    static func bulk(_ s: String) -> RESPValue { .bulk(Array(s.utf8)) }
}

// MARK: - Reader

enum RESPProtocolError: Error, CustomStringConvertible {
    case malformed(String)
    var description: String {
        switch self {
        case .malformed(let why): return "malformed RESP reply: \(why)"
        }
    }
}

enum RESPReader {
    static let maxDepth = 64

    /// Parses one complete reply starting at `index`. On success returns the value and moves `index` past
    /// it; returns nil (leaving `index` unspecified) when the buffer ends before the reply does; throws on
    /// bytes that cannot be RESP.
    static func parse(_ b: [UInt8], _ index: inout Int, depth: Int = 0) throws -> RESPValue? {
        guard depth < maxDepth else { throw RESPProtocolError.malformed("nesting deeper than \(maxDepth)") }
        guard index < b.count else { return nil }
        let type = b[index]
        index += 1
        guard let header = readLine(b, &index) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simple(header)
        case UInt8(ascii: "-"): return .error(header)
        case UInt8(ascii: ":"): return .integer(try integer(header))
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: ","): return .double(header)
        case UInt8(ascii: "("): return .bigNumber(header)
        case UInt8(ascii: "#"):
            guard header == "t" || header == "f" else { throw RESPProtocolError.malformed("boolean '\(header)'") }
            return .boolean(header == "t")
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            let n = try integer(header)
            if n == -1 && type == UInt8(ascii: "$") { return .nullBulk }
            guard n >= 0 else { throw RESPProtocolError.malformed("bulk length \(n)") }
            guard index + Int(n) + 2 <= b.count else { return nil }
            let body = Array(b[index..<index + Int(n)])
            guard b[index + Int(n)] == 13, b[index + Int(n) + 1] == 10 else {
                throw RESPProtocolError.malformed("bulk body not followed by CRLF")
            }
            index += Int(n) + 2
            if type == UInt8(ascii: "$") { return .bulk(body) }
            return type == UInt8(ascii: "!") ? .bulkError(body) : .verbatim(body)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let n = try integer(header)
            if n == -1 && type == UInt8(ascii: "*") { return .nullArray }
            guard n >= 0 else { throw RESPProtocolError.malformed("aggregate length \(n)") }
            let isPairs = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            var items: [RESPValue] = []
            for _ in 0..<(isPairs ? n * 2 : n) {
                guard let v = try parse(b, &index, depth: depth + 1) else { return nil }
                items.append(v)
            }
            switch type {
            case UInt8(ascii: "*"): return .array(items)
            case UInt8(ascii: "~"): return .set(items)
            case UInt8(ascii: ">"): return .push(items)
            case UInt8(ascii: "%"): return .map(items)
            default:
                guard let annotated = try parse(b, &index, depth: depth + 1) else { return nil }
                return .attribute(items, annotated)
            }
        default:
            throw RESPProtocolError.malformed("unknown type byte 0x\(String(type, radix: 16))")
        }
    }

    /// Decodes a buffer that holds exactly one reply.
    static func decode(_ b: [UInt8]) throws -> RESPValue {
        var i = 0
        guard let v = try parse(b, &i) else { throw RESPProtocolError.malformed("incomplete reply") }
        guard i == b.count else { throw RESPProtocolError.malformed("\(b.count - i) trailing bytes") }
        return v
    }

    private static func readLine(_ b: [UInt8], _ index: inout Int) -> String? {
        var j = index
        while j + 1 < b.count {
            if b[j] == 13 && b[j + 1] == 10 {
                let s = String(decoding: b[index..<j], as: UTF8.self)
                index = j + 2
                return s
            }
            j += 1
        }
        return nil
    }

    private static func integer(_ s: String) throws -> Int64 {
        guard let v = Int64(s) else { throw RESPProtocolError.malformed("'\(s)' is not an integer") }
        return v
    }
}

// MARK: - Encoding commands and pretty printing

enum RESP {
    /// A command as a RESP multibulk array.
    static func command(_ args: [String]) -> [UInt8] { command(bytes: args.map { Array($0.utf8) }) }

    /// A command whose arguments are arbitrary bytes (not necessarily UTF-8) as a RESP multibulk array.
    static func command(bytes args: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(args.count)\r\n".utf8)
        for bytes in args {
            out.append(contentsOf: Array("$\(bytes.count)\r\n".utf8))
            out.append(contentsOf: bytes)
            out.append(contentsOf: [13, 10])
        }
        return out
    }

    /// Escapes bytes the way redis-cli shows them: printable ASCII as is, \r \n \t \" \\ and \xNN.
    static func escape<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = ""
        for c in bytes {
            switch c {
            case 13: s += "\\r"
            case 10: s += "\\n"
            case 9: s += "\\t"
            case UInt8(ascii: "\""): s += "\\\""
            case UInt8(ascii: "\\"): s += "\\\\"
            case 32...126: s.append(Character(UnicodeScalar(c)))
            default: s += String(format: "\\x%02x", c)
            }
        }
        return s
    }

    /// Human-readable rendering of raw reply bytes for failure messages: the structured form, then the raw
    /// bytes escaped (truncated past `rawLimit`).
    static func pretty(_ raw: [UInt8], rawLimit: Int = 400) -> String {
        let rawText = raw.count > rawLimit
            ? "\"\(escape(raw.prefix(rawLimit)))\"... (\(raw.count) bytes)"
            : "\"\(escape(raw))\""
        guard let value = try? RESPReader.decode(raw) else { return "raw: \(rawText)" }
        return render(value, indent: "") + "\n    raw: " + rawText
    }

    /// redis-cli-like rendering of a decoded value.
    static func render(_ v: RESPValue, indent: String) -> String {
        func list(_ items: [RESPValue], empty: String) -> String {
            if items.isEmpty { return empty }
            var lines: [String] = []
            for (i, item) in items.enumerated() {
                let label = "\(i + 1)) "
                let pad = indent + String(repeating: " ", count: label.count)
                lines.append(label + render(item, indent: pad))
            }
            return lines.joined(separator: "\n" + indent)
        }
        switch v {
        case .simple(let s): return s
        case .error(let s): return "(error) \(s)"
        case .integer(let i): return "(integer) \(i)"
        case .bulk(let b): return "\"\(escape(b))\""
        case .nullBulk, .nullArray, .null: return "(nil)"
        case .double(let d): return "(double) \(d)"
        case .boolean(let b): return b ? "(true)" : "(false)"
        case .bigNumber(let n): return "(big number) \(n)"
        case .bulkError(let b): return "(error) \(escape(b))"
        case .verbatim(let b): return "(verbatim) \"\(escape(b))\""
        case .array(let e): return list(e, empty: "(empty array)")
        case .set(let e): return "(set)\n" + indent + list(e, empty: "(empty set)")
        case .push(let e): return "(push)\n" + indent + list(e, empty: "(empty push)")
        case .map(let e): return "(map)\n" + indent + list(e, empty: "(empty map)")
        case .attribute(let a, let value):
            return "(attribute) " + list(a, empty: "") + "\n" + indent + render(value, indent: indent)
        }
    }
}
