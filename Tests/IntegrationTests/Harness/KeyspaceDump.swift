/*
 * KeyspaceDump.swift — every key of a server with its type, encoding, whole value and expire time, so that two
 * datasets can be compared: after loading the same RDB file, after SAVE and a load by the other server,
 * DEBUG RELOAD, a restart, or DUMP/RESTORE.
 *
 * `Probes.dump` (Differential.swift) covers strings and a has-TTL flag for differential scripts; this one
 * covers every type, reads values with the type's own commands (GET, LRANGE, SMEMBERS, ZRANGE WITHSCORES,
 * HGETALL), works with binary keys, and keeps the absolute expire time (PEXPIRETIME, Redis 7.0), which is
 * exact when both sides have the same data: RDB stores absolute times, so nothing needs a tolerance.
 *
 * Orders: lists and sorted sets as the server returns them; sets and hashes in the server's order when their
 * encoding is listpack or intset (that order is stored in the RDB and clients can see it), else sorted.
 *
 * String encodings `raw` and `embstr` compare equal unless asked otherwise: Redis keeps a string that APPEND
 * or SETRANGE made `raw` and loads the same bytes back from an RDB as `embstr`, so a live dataset and its
 * reloaded copy legitimately differ there. Two servers that loaded the same file must agree exactly.
 */

import Foundation
import Testing

struct KeyspaceDump: Equatable {
    struct Entry: Equatable {
        let db: Int
        let key: [UInt8]
        let type: String
        /// OBJECT ENCODING, or "" when the dump was taken without encodings.
        let encoding: String
        let value: RESPValue
        /// PEXPIRETIME: absolute Unix time in ms, -1 without an expire.
        let expireAt: Int64

        var name: String { "db \(db) \"\(RESP.escape(key))\"" }
    }

    let entries: [Entry]

    var count: Int { entries.count }

    /// Dumps databases `dbs` (every key of each, sorted by key). Leaves the connection on db 0.
    static func take(_ c: RawClient, dbs: ClosedRange<Int> = 0...15, encodings: Bool = true) throws -> KeyspaceDump {
        var entries: [Entry] = []
        for db in dbs {
            try expectOK(c.callValue("SELECT", String(db)), "SELECT \(db)")
            guard case .array(let keys) = try c.callValue("KEYS", "*") else {
                throw HarnessError.system("KEYS * in db \(db) did not answer an array")
            }
            let sortedKeys = keys.compactMap { k -> [UInt8]? in
                if case .bulk(let b) = k { return b }
                return nil
            }.sorted { $0.lexicographicallyPrecedes($1) }
            for key in sortedKeys { entries.append(try entry(c, db: db, key: key, encodings: encodings)) }
        }
        try expectOK(c.callValue("SELECT", "0"), "SELECT 0")
        return KeyspaceDump(entries: entries)
    }

    /// One key of the currently selected database `db`.
    static func entry(_ c: RawClient, db: Int, key: [UInt8], encodings: Bool = true) throws -> Entry {
        guard case .simple(let type) = try c.callValue(bytes: [Array("TYPE".utf8), key]) else {
            throw HarnessError.system("TYPE \(RESP.escape(key)) did not answer a status")
        }
        var encoding = ""
        if encodings {
            let reply = try c.callValue(bytes: [Array("OBJECT".utf8), Array("ENCODING".utf8), key])
            encoding = reply.text ?? RESP.render(reply, indent: "")
        }
        let ordered = encodings && (encoding == "listpack" || encoding == "intset")
        let value: RESPValue
        /// `command key rest...`
        func read(_ command: String, _ rest: String...) throws -> RESPValue {
            try c.callValue(bytes: [Array(command.utf8), key] + rest.map { Array($0.utf8) })
        }
        switch type {
        case "string": value = try read("GET")
        case "list": value = try read("LRANGE", "0", "-1")
        case "zset": value = try read("ZRANGE", "0", "-1", "WITHSCORES")
        case "set":
            let members = try read("SMEMBERS")
            value = ordered ? members : sortedElements(members)
        case "hash":
            let pairs = try read("HGETALL")
            value = ordered ? pairs : sortedPairs(pairs)
        case "stream": value = .array([try read("XRANGE", "-", "+"), try read("XINFO", "GROUPS")])
        default: value = .null
        }
        guard case .integer(let expireAt) = try read("PEXPIRETIME") else {
            throw HarnessError.system("PEXPIRETIME \(RESP.escape(key)) did not answer an integer")
        }
        return Entry(db: db, key: key, type: type, encoding: encoding, value: value, expireAt: expireAt)
    }

    private static func expectOK(_ reply: RESPValue, _ what: String) throws {
        guard reply == .simple("OK") else {
            throw HarnessError.system("\(what) answered \(RESP.render(reply, indent: ""))")
        }
    }

    private static func sortedElements(_ v: RESPValue) -> RESPValue {
        guard let e = v.elements else { return v }
        return .array(e.sorted { $0.encoded.lexicographicallyPrecedes($1.encoded) })
    }

    private static func sortedPairs(_ v: RESPValue) -> RESPValue {
        guard let e = v.elements, e.count % 2 == 0 else { return v }
        let pairs = stride(from: 0, to: e.count, by: 2).map { (e[$0], e[$0 + 1]) }
            .sorted { $0.0.encoded.lexicographicallyPrecedes($1.0.encoded) }
        return .array(pairs.flatMap { [$0.0, $0.1] })
    }

    // MARK: - Comparing

    /// What differs between this dump and `reference`, one line a difference, at most `limit` lines (plus a
    /// count of the rest). Empty when they are equal.
    func differences(
        from reference: KeyspaceDump, name: String = "tandem", referenceName: String = "redis",
        exactStringEncodings: Bool = false, limit: Int = 8
    ) -> [String] {
        func sameEncoding(_ a: String, _ b: String) -> Bool {
            a == b || (!exactStringEncodings && Set([a, b]).isSubset(of: ["raw", "embstr"]))
        }
        struct ID: Hashable {
            let db: Int
            let key: [UInt8]
        }
        func index(_ e: [Entry]) -> [ID: Entry] {
            Dictionary(e.map { (ID(db: $0.db, key: $0.key), $0) }, uniquingKeysWith: { a, _ in a })
        }
        let mine = index(entries), theirs = index(reference.entries)
        var out: [String] = []
        for r in reference.entries {
            guard let m = mine[ID(db: r.db, key: r.key)] else {
                out.append("\(r.name): missing on \(name) (\(referenceName) has a \(r.type))")
                continue
            }
            if m.type != r.type { out.append("\(r.name): type \(m.type) on \(name), \(r.type) on \(referenceName)") }
            if !sameEncoding(m.encoding, r.encoding) {
                out.append("\(r.name): encoding \(m.encoding) on \(name), \(r.encoding) on \(referenceName)")
            }
            if m.expireAt != r.expireAt {
                out.append("\(r.name): PEXPIRETIME \(m.expireAt) on \(name), \(r.expireAt) on \(referenceName)")
            }
            if m.type == r.type && m.value != r.value {
                out.append("\(r.name): value differs\n    \(name): \(Self.show(m.value))\n"
                    + "    \(referenceName): \(Self.show(r.value))")
            }
        }
        for m in entries where theirs[ID(db: m.db, key: m.key)] == nil {
            out.append("\(m.name): only on \(name) (a \(m.type))")
        }
        if out.count > limit { return Array(out.prefix(limit)) + ["... and \(out.count - limit) more differences"] }
        return out
    }

    /// Records a test issue listing the differences when `actual` is not `expected`.
    static func expectSame(
        _ actual: KeyspaceDump, _ expected: KeyspaceDump, _ what: String, name: String = "tandem",
        referenceName: String = "redis", exactStringEncodings: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let diff = actual.differences(
            from: expected, name: name, referenceName: referenceName, exactStringEncodings: exactStringEncodings)
        if diff.isEmpty { return }
        Issue.record(
            Comment(rawValue: "\(what): datasets differ (\(actual.count) keys on \(name), \(expected.count) on "
                + "\(referenceName)):\n  " + diff.joined(separator: "\n  ")),
            sourceLocation: sourceLocation)
    }

    /// A value, rendered on one line and cut to a readable length.
    private static func show(_ v: RESPValue) -> String {
        let text = RESP.render(v, indent: "").replacingOccurrences(of: "\n", with: " ")
        return text.count > 300 ? String(text.prefix(300)) + "... (\(text.count) chars)" : text
    }
}
