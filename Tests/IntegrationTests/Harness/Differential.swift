/*
 * Differential.swift — run one script against Tandem and redis-server and compare every reply.
 *
 * A script is a Swift array of `Step`s. A plain array of strings is a command whose reply must match byte
 * for byte:
 *
 *     let script = Script("set-get", [
 *         ["SET", "k", "v"],
 *         ["GET", "k"],
 *         .sorted("KEYS", "*"),            // array reply compared as a multiset
 *         .typeOnly("TIME"),               // only the RESP type byte must match
 *         .sleep(200),                     // pause (expiry tests)
 *     ])
 *     try Differential.run(script)
 *
 * Each script gets a fresh pair of servers (same arguments, plus `Script.serverArgs`), and each side gets
 * its own connections. Steps run in lock-step: the step goes to Tandem, then to redis-server, then the two
 * outcomes are compared according to the step's `Mode`. A mismatch is recorded as a test issue naming the
 * script, the step number, the command and both replies pretty-printed; the script goes on (up to
 * `maxMismatches`) unless a connection is out of sync (a read timed out), where it stops.
 *
 * Set ITEST_TRANSCRIPT=1 to print every step with the reference reply (handy when writing scripts).
 *
 * Probe steps (`Step.probe`) run a small Swift routine against each side's connection and compare the
 * RESP value it synthesises: used for full SCAN iterations and keyspace dumps, whose page boundaries may
 * legitimately differ while their union may not.
 */

import Foundation
import Testing

// MARK: - Comparison modes

enum Mode: Sendable, CustomStringConvertible {
    /// Byte-for-byte equality (the default).
    case exact
    /// Aggregate replies compared as multisets of their (encoded) elements; other replies exactly.
    case sorted
    /// Only the RESP type byte must match (TIME, CLIENT ID, RANDOMKEY on a non-empty db).
    case typeOnly
    /// Read the reply but compare nothing.
    case ignore
    /// Both must be errors whose first word (e.g. "ERR", "WRONGTYPE") is the same.
    case errorPrefix
    /// Both integers within `tolerance` of each other; negative values (-1, -2) must match exactly.
    case approx(Int64)
    /// Both map-like replies (RESP3 map or RESP2 flat pair array) with the same keys in the same order;
    /// values equal except for the listed keys, whose values need only the same RESP type.
    case mapExcept(Set<String>)
    /// Both map-like replies with the same set of pairs, in any order (CONFIG GET with a glob).
    case unorderedMap

    var description: String {
        switch self {
        case .exact: return "exact"
        case .sorted: return "sorted"
        case .typeOnly: return "typeOnly"
        case .ignore: return "ignore"
        case .errorPrefix: return "errorPrefix"
        case .approx(let t): return "approx(±\(t))"
        case .mapExcept(let k): return "mapExcept(\(k.sorted().joined(separator: ",")))"
        case .unorderedMap: return "unorderedMap"
        }
    }
}

// MARK: - Steps

struct Step: Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    enum Action: Sendable {
        /// Send a multibulk command, read one reply.
        case command([String])
        /// Send an inline command line, read one reply.
        case inline(String)
        /// Send raw bytes, read one reply.
        case raw([UInt8])
        /// Read one more reply without sending anything (after a pipelined raw send).
        case read
        /// Send a command and expect NO reply (CLIENT REPLY OFF/SKIP); checks nothing arrives for 100 ms.
        case noReply([String])
        /// Sleep on the test side.
        case sleep(milliseconds: Int)
        /// Switch to connection number n (opened on first use); connection 0 is the default.
        case use(Int)
        /// Close and reopen the current connection.
        case reconnect
        /// Expect the server to close the current connection (after QUIT, protocol errors).
        case expectClosed
        /// Run a routine against the current connection; its result is compared like a reply.
        case probe(String, @Sendable (RawClient) throws -> RESPValue)
    }

    var action: Action
    var mode: Mode = .exact

    init(_ action: Action, _ mode: Mode = .exact) {
        self.action = action
        self.mode = mode
    }

    init(arrayLiteral elements: String...) { self.init(.command(elements)) }

    var description: String {
        switch action {
        case .command(let a): return a.map(Step.quote).joined(separator: " ")
        case .inline(let l): return "inline \"\(RESP.escape(Array(l.utf8)))\""
        case .raw(let b): return "raw \"\(RESP.escape(b))\""
        case .read: return "read next reply"
        case .noReply(let a): return a.map(Step.quote).joined(separator: " ") + "   (no reply expected)"
        case .sleep(let ms): return "sleep \(ms) ms"
        case .use(let n): return "use connection \(n)"
        case .reconnect: return "reconnect"
        case .expectClosed: return "expect connection closed"
        case .probe(let name, _): return "probe: \(name)"
        }
    }

    static func quote(_ s: String) -> String {
        let plain = !s.isEmpty && s.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "\"") }
        return plain ? s : "\"\(RESP.escape(Array(s.utf8)))\""
    }

    // MARK: DSL

    static func cmd(_ mode: Mode, _ args: String...) -> Step { Step(.command(args), mode) }
    static func sorted(_ args: String...) -> Step { Step(.command(args), .sorted) }
    static func typeOnly(_ args: String...) -> Step { Step(.command(args), .typeOnly) }
    static func ignore(_ args: String...) -> Step { Step(.command(args), .ignore) }
    static func errorPrefix(_ args: String...) -> Step { Step(.command(args), .errorPrefix) }
    static func approx(_ tolerance: Int64, _ args: String...) -> Step { Step(.command(args), .approx(tolerance)) }
    static func mapExcept(_ keys: Set<String>, _ args: String...) -> Step { Step(.command(args), .mapExcept(keys)) }
    static func unorderedMap(_ args: String...) -> Step { Step(.command(args), .unorderedMap) }
    static func inline(_ line: String, _ mode: Mode = .exact) -> Step { Step(.inline(line), mode) }
    static func raw(_ bytes: String, _ mode: Mode = .exact) -> Step { Step(.raw(Array(bytes.utf8)), mode) }
    static func noReply(_ args: String...) -> Step { Step(.noReply(args)) }
    static func read(_ mode: Mode = .exact) -> Step { Step(.read, mode) }
    static func sleep(_ milliseconds: Int) -> Step { Step(.sleep(milliseconds: milliseconds)) }
    static func use(_ connection: Int) -> Step { Step(.use(connection)) }
    static var reconnect: Step { Step(.reconnect) }
    static var closed: Step { Step(.expectClosed) }
    static func probe(
        _ name: String, _ mode: Mode = .exact, _ body: @escaping @Sendable (RawClient) throws -> RESPValue
    ) -> Step {
        Step(.probe(name, body), mode)
    }

    /// Full SCAN iteration (cursor 0 until 0, ≤ 10 000 calls) with the given options; compared as the
    /// sorted set of keys seen, so different page boundaries do not matter. SCAN errors are compared exactly.
    static func scanAll(_ options: String...) -> Step {
        probe("SCAN full iteration " + options.joined(separator: " ")) { c in try Probes.scanAll(c, options) }
    }
}

/// A named list of steps plus extra server arguments, e.g. ["--requirepass", "secret"].
struct Script: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    let name: String
    let serverArgs: [String]
    let steps: [Step]

    init(_ name: String, serverArgs: [String] = [], _ steps: [Step]) {
        self.name = name
        self.serverArgs = serverArgs
        self.steps = steps
    }

    var testDescription: String { name }
    var description: String { name }
}

// MARK: - Probes

enum Probes {
    /// Iterates SCAN to the end and returns the sorted, de-duplicated keys as an array, or the first error.
    static func scanAll(_ c: RawClient, _ options: [String]) throws -> RESPValue {
        var cursor = "0"
        var keys = Set<[UInt8]>()
        for _ in 0..<10_000 {
            let reply = try c.callValue(["SCAN", cursor] + options)
            if reply.isError { return reply }
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text,
                  let page = parts[1].elements
            else { return .error("probe: unexpected SCAN reply \(RESP.escape(reply.encoded))") }
            for k in page {
                if case .bulk(let b) = k { keys.insert(b) }
            }
            cursor = next
            if cursor == "0" { return .array(keys.sorted { $0.lexicographicallyPrecedes($1) }.map { .bulk($0) }) }
        }
        return .error("probe: SCAN did not finish within 10000 calls")
    }

    /// Dump of databases `dbs`: for each db, its keys sorted, each with its value (GET) and whether it has a
    /// TTL (PTTL > 0). Leaves the connection on the last db dumped.
    static func dump(_ c: RawClient, dbs: ClosedRange<Int>) throws -> RESPValue {
        var out: [RESPValue] = []
        for db in dbs {
            _ = try c.call(["SELECT", String(db)])
            guard case .array(let keys) = try c.callValue(["KEYS", "*"]) else { return .error("probe: KEYS failed") }
            let sortedKeys = keys.compactMap { k -> [UInt8]? in
                if case .bulk(let b) = k { return b }
                return nil
            }.sorted { $0.lexicographicallyPrecedes($1) }
            for key in sortedKeys {
                let name = String(decoding: key, as: UTF8.self)
                let value = try c.callValue(["GET", name])
                guard case .integer(let pttl) = try c.callValue(["PTTL", name]) else { return .error("probe: PTTL") }
                out.append(.array([.integer(Int64(db)), .bulk(key), value, .simple(pttl > 0 ? "ttl" : "no-ttl")]))
            }
        }
        return .array(out)
    }
}

// MARK: - Runner

enum Outcome: Equatable, CustomStringConvertible {
    case reply([UInt8])
    case nothing                 // the step produces no reply (sleep, use, noReply that got none)
    case unexpectedReply([UInt8])// noReply step that got bytes anyway
    case closed
    case notClosed
    case failure(String)         // timeout or I/O error: the connection is out of sync

    var description: String {
        switch self {
        case .reply(let b): return RESP.pretty(b)
        case .nothing: return "(no reply)"
        case .unexpectedReply(let b): return "unexpected reply: " + RESP.pretty(b)
        case .closed: return "(connection closed)"
        case .notClosed: return "(connection NOT closed)"
        case .failure(let s): return "(failure: \(s))"
        }
    }
}

/// One side of a differential run: a server and its numbered connections.
final class Side {
    let server: ServerProcess
    private var connections: [Int: RawClient] = [:]
    private var current = 0

    init(_ server: ServerProcess) { self.server = server }

    func client() throws -> RawClient {
        if let c = connections[current] { return c }
        let c = try server.connect()
        connections[current] = c
        return c
    }

    func close() {
        for c in connections.values { c.close() }
        connections = [:]
    }

    func perform(_ action: Step.Action) -> Outcome {
        do {
            switch action {
            case .command(let args):
                return .reply(try client().call(args))
            case .inline(let line):
                let c = try client()
                try c.sendInline(line)
                return .reply(try c.readReply())
            case .raw(let bytes):
                let c = try client()
                try c.sendRaw(bytes)
                return .reply(try c.readReply())
            case .read:
                return .reply(try client().readReply())
            case .noReply(let args):
                let c = try client()
                try c.send(args)
                if c.hasPendingBytes(milliseconds: 100) { return .unexpectedReply(try c.readReply()) }
                return .nothing
            case .sleep(let ms):
                Harness.sleep(milliseconds: ms)
                return .nothing
            case .use(let n):
                current = n
                return .nothing
            case .reconnect:
                connections[current]?.close()
                connections[current] = nil
                _ = try client()
                return .nothing
            case .expectClosed:
                let closed = try client().waitForClose()
                connections[current]?.close()
                connections[current] = nil
                return closed ? .closed : .notClosed
            case .probe(_, let body):
                return .reply(try body(try client()).encoded)
            }
        } catch let e as ClientError {
            if case .closed = e { return .closed }
            return .failure(e.description)
        } catch {
            return .failure("\(error)")
        }
    }
}

enum Differential {
    static let maxMismatches = 5

    /// Runs an unnamed-list script: `try Differential.run("name", [["PING"], ["GET", "k"]])`.
    static func run(
        _ name: String, serverArgs: [String] = [], _ steps: [Step], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try run(Script(name, serverArgs: serverArgs, steps), sourceLocation: sourceLocation)
    }

    /// The reference side is always redis-server; the side under test is Tandem (or whatever
    /// TANDEM_SERVER names).
    static func run(_ script: Script, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tandem = try ServerProcess.start(.tandem, extraArgs: script.serverArgs)
        defer { tandem.stop() }
        let redis = try ServerProcess.start(.redis, extraArgs: script.serverArgs)
        defer { redis.stop() }
        let a = Side(tandem), b = Side(redis)
        defer { a.close(); b.close() }
        var mismatches = 0
        let transcript = ProcessInfo.processInfo.environment["ITEST_TRANSCRIPT"] != nil
        for (i, step) in script.steps.enumerated() {
            let x = a.perform(step.action)
            let y = b.perform(step.action)
            if transcript {
                var shown = y.description
                if case .reply(let r) = y { shown = "\"" + RESP.escape(r.prefix(300)) + "\"" }
                print("[\(script.name)] \(i + 1): \(step)  ->  \(shown)")
            }
            if let why = compare(x, y, step.mode) {
                mismatches += 1
                Issue.record(
                    Comment(rawValue: """
                        [\(script.name)] step \(i + 1): \(step)
                          mode: \(step.mode) — \(why)
                          tandem: \(indent(x.description))
                          redis:  \(indent(y.description))
                        """), sourceLocation: sourceLocation)
                if mismatches >= maxMismatches { return }
            }
            if case .failure = x { return }
            if case .failure = y { return }
        }
    }

    private static func indent(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: "\n          ") }

    /// Nil when the outcomes agree under `mode`, else the reason they do not.
    static func compare(_ x: Outcome, _ y: Outcome, _ mode: Mode) -> String? {
        guard case .reply(let rx) = x, case .reply(let ry) = y else {
            if case .failure = y { return "the reference server failed: the script itself is wrong" }
            return x == y ? nil : "outcomes differ"
        }
        if case .ignore = mode { return nil }
        if case .exact = mode { return rx == ry ? nil : "replies differ" }
        guard let vx = try? RESPReader.decode(rx), let vy = try? RESPReader.decode(ry) else {
            return rx == ry ? nil : "undecodable replies differ"
        }
        switch mode {
        case .exact, .ignore:
            return nil
        case .typeOnly:
            return vx.typeByte == vy.typeByte ? nil : "RESP types differ"
        case .errorPrefix:
            guard vx.isError, vy.isError else { return "both replies must be errors" }
            let wx = vx.text?.split(separator: " ").first, wy = vy.text?.split(separator: " ").first
            return wx == wy ? nil : "error codes differ"
        case .sorted:
            guard vx.typeByte == vy.typeByte, let ex = vx.elements, let ey = vy.elements else {
                return rx == ry ? nil : "replies differ"
            }
            let sx = ex.map(\.encoded).sorted { $0.lexicographicallyPrecedes($1) }
            let sy = ey.map(\.encoded).sorted { $0.lexicographicallyPrecedes($1) }
            return sx == sy ? nil : "elements differ as multisets"
        case .approx(let tolerance):
            guard case .integer(let ix) = vx, case .integer(let iy) = vy else {
                return rx == ry ? nil : "replies differ (not both integers)"
            }
            if ix < 0 || iy < 0 { return ix == iy ? nil : "negative integers differ" }
            return abs(ix - iy) <= tolerance ? nil : "integers differ by more than \(tolerance)"
        case .mapExcept(let loose):
            guard vx.typeByte == vy.typeByte, let ex = vx.elements, let ey = vy.elements,
                  ex.count == ey.count, ex.count % 2 == 0
            else { return "not comparable map replies" }
            for i in stride(from: 0, to: ex.count, by: 2) {
                guard ex[i] == ey[i] else { return "key \(i / 2 + 1) differs" }
                let key = ex[i].text ?? ""
                if loose.contains(key) {
                    if ex[i + 1].typeByte != ey[i + 1].typeByte { return "type of '\(key)' differs" }
                } else if ex[i + 1] != ey[i + 1] {
                    return "value of '\(key)' differs"
                }
            }
            return nil
        case .unorderedMap:
            guard vx.typeByte == vy.typeByte, let ex = vx.elements, let ey = vy.elements,
                  ex.count % 2 == 0, ey.count % 2 == 0
            else { return rx == ry ? nil : "not comparable map replies" }
            func pairs(_ e: [RESPValue]) -> [[UInt8]] {
                stride(from: 0, to: e.count, by: 2).map { e[$0].encoded + e[$0 + 1].encoded }
                    .sorted { $0.lexicographicallyPrecedes($1) }
            }
            return pairs(ex) == pairs(ey) ? nil : "pairs differ"
        }
    }
}
