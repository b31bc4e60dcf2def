// RequestParserTests.swift — unit tests for RESP.RequestParser (Sources/RESP/RequestParser.swift).
//
// Covers: a table of valid inputs (multibulk with empty/binary/large arguments, pipelines,
// inline commands with quotes and escapes, CRLF and bare LF, `*0`, `*-1`, blank lines) fed
// split at every byte boundary, every pair of boundaries, and one byte at a time, with and
// without moving the unconsumed bytes to a new buffer between reads (see ParserHarness.swift);
// every protocol error with Redis's exact text, including the unauthenticated limits and
// the 64 KiB line limits; `bytesNeeded` for large bulks; seeded round-trip tests of random
// multibulk and inline commands; and a seeded fuzz of random and mutated inputs checking that
// the parser never consumes more than it was given, always makes progress, and terminates.
import Platform
import RESP
import Testing

// MARK: - Tables

func cmd(_ args: String...) -> [[UInt8]] { args.map(bytes) }

struct ValidCase: Sendable, CustomTestStringConvertible {
    let name: String
    let input: [UInt8]
    let expected: [[[UInt8]]]
    init(_ name: String, _ input: [UInt8], _ expected: [[[UInt8]]]) {
        self.name = name
        self.input = input
        self.expected = expected
    }
    var testDescription: String { name }
}

let validCases: [ValidCase] = [
    .init("multibulk with an empty argument", multibulk("SET", "k", ""), [cmd("SET", "k", "")]),
    .init("multibulk with only empty arguments", multibulk("", ""), [cmd("", "")]),
    .init(
        "binary arguments with CRLF and NUL",
        multibulk([bytes("ECHO"), [97, 13, 10, 0, 98, 0], [0], [13, 10], [13], [10]]),
        [[bytes("ECHO"), [97, 13, 10, 0, 98, 0], [0], [13, 10], [13], [10]]]),
    .init(
        "pipelined multibulk commands",
        multibulk("PING") + multibulk("ECHO", "hi") + multibulk("GET", "key"),
        [cmd("PING"), cmd("ECHO", "hi"), cmd("GET", "key")]),
    .init(
        "multibulk, inline, multibulk pipelined",
        multibulk("SET", "a", "1") + bytes("GET a\r\n") + multibulk("DEL", "a"),
        [cmd("SET", "a", "1"), cmd("GET", "a"), cmd("DEL", "a")]),
    .init(
        "a 300-byte bulk", multibulk("SET", "k", String(repeating: "v", count: 300)),
        [cmd("SET", "k", String(repeating: "v", count: 300))]),
    .init(
        "40 arguments (argument table growth)", multibulk((0..<40).map { bytes("a\($0)") }),
        [(0..<40).map { bytes("a\($0)") }]),
    .init(
        "inline double quotes", bytes("SET \"a b\" \"c\\\"d\" \"\"\r\n"), [cmd("SET", "a b", "c\"d", "")]),
    .init(
        "inline single quotes", bytes("SET 'a b' 'it\\'s' 'x\\ny' ''\r\n"),
        [cmd("SET", "a b", "it's", "x\\ny", "")]),
    .init(
        "inline hex escapes", bytes("ECHO \"\\x41\\x42\\x7a\\x00\\xfF\"\r\n"),
        [[bytes("ECHO"), [0x41, 0x42, 0x7A, 0x00, 0xFF]]]),
    .init("inline invalid hex escapes", bytes("ECHO \"\\x4g\" \"\\xZ\" \"\\x\"\r\n"), [cmd("ECHO", "x4g", "xZ", "x")]),
    .init(
        "inline backslash escapes", bytes("ECHO \"a\\nb\\tc\\\\d\\re\\bf\\ag\\qh\"\r\n"),
        [cmd("ECHO", "a\nb\tc\\d\re\u{8}f\u{7}gqh")]),
    .init("inline quotes glued to a word", bytes("ECHO ab\"c d\"\r\n"), [cmd("ECHO", "abc d")]),
    .init("inline bare LF endings", bytes("PING\nECHO x\n"), [cmd("PING"), cmd("ECHO", "x")]),
    .init("inline CRLF with extra whitespace", bytes("  SET\tk   v  \r\n"), [cmd("SET", "k", "v")]),
    .init("*0 and *-1 are skipped", bytes("*0\r\n*-1\r\nPING\r\n"), [cmd("PING")]),
    .init("blank inline lines are skipped", bytes("\r\n\n   \r\n\t\nPING\r\n\r\n"), [cmd("PING")]),
    .init(
        "inline argument bigger than the parser's first table", bytes((0..<20).map { "w\($0)" }.joined(separator: " ") + "\n"),
        [(0..<20).map { bytes("w\($0)") }]),
]

/// Runs `input` through the feeder and describes the first failure, if any.
func check(_ input: [UInt8], expected: [[[UInt8]]], cuts: [Int], compact: Bool) -> String? {
    let (r, v) = feed(input, cuts: cuts, compact: compact)
    if !v.isEmpty { return "cuts \(cuts) compact \(compact): violations \(v)" }
    let want = FeedResult(commands: expected, error: nil, leftover: 0)
    if r != want { return "cuts \(cuts) compact \(compact): got \(r), want \(want)" }
    return nil
}

// MARK: - Valid inputs

@Test(arguments: validCases)
func validInputSplitAtEveryByte(_ c: ValidCase) {
    var failures: [String] = []
    for compact in [false, true] {
        for k in 0...c.input.count {
            if let f = check(c.input, expected: c.expected, cuts: [k], compact: compact) { failures.append(f) }
        }
    }
    #expect(failures.isEmpty, "\(failures.count) failing splits, first: \(failures.first ?? "")")
}

@Test(arguments: validCases.filter { $0.input.count <= 64 })
func validInputSplitAtEveryPairOfBytes(_ c: ValidCase) {
    var failures: [String] = []
    let n = c.input.count
    for i in 0...n {
        for j in i...n {
            if let f = check(c.input, expected: c.expected, cuts: [i, j], compact: (i + j) % 2 == 0) {
                failures.append(f)
            }
        }
    }
    #expect(failures.isEmpty, "\(failures.count) failing splits, first: \(failures.first ?? "")")
}

@Test(arguments: [false, true])
func allValidInputsConcatenatedOneByteAtATime(compact: Bool) {
    let input = validCases.flatMap(\.input)
    let expected = validCases.flatMap(\.expected)
    let (r, v) = feedByteByByte(input, compact: compact)
    #expect(v.isEmpty)
    #expect(r == FeedResult(commands: expected, error: nil, leftover: 0))
}

@Test(arguments: [false, true])
func largeBinaryBulkAcrossManyReads(compact: Bool) {
    // 200 000 bytes containing CR, LF and NUL, more than the 64 KiB line limit.
    var rng = SeededRNG(seed: 7)
    let big = (0..<200_000).map { _ in [13, 10, 0, 36, 42, 65][Int(rng.next() % 6)] as UInt8 }
    let input = multibulk([bytes("SET"), bytes("k"), big]) + multibulk("GET", "k")
    let expected: [[[UInt8]]] = [[bytes("SET"), bytes("k"), big], cmd("GET", "k")]
    var cutSets: [[Int]] = [[], [5], [20], [21], [22], [input.count - 20]]
    cutSets.append(Array(stride(from: 0, to: input.count, by: 4099)))
    cutSets.append(Array(stride(from: 3, to: input.count, by: 65_536)))
    for cuts in cutSets {
        let (r, v) = feed(input, cuts: cuts, compact: compact)
        #expect(v.isEmpty, "cuts \(cuts.prefix(3))…: \(v)")
        #expect(r.error == nil && r.leftover == 0 && r.commands == expected, "cuts \(cuts.prefix(3))…")
    }
    if !compact {
        let (r, v) = feedByteByByte(input)
        #expect(v.isEmpty)
        #expect(r.commands == expected && r.error == nil && r.leftover == 0)
    }
}

@Test func offsetsAreRelativeToTheCommandStartAcrossBufferMoves() {
    var p = RequestParser()
    defer { p.deallocate() }
    let input = bytes("garbage") + multibulk("SET", "key", "value")
    let first = 7 + 17  // "garbage" + "*3\r\n$3\r\nSET\r\n$3\r\nk"
    let a = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    input.withUnsafeBufferPointer { a.update(from: $0.baseAddress!, count: first) }
    #expect(p.parse(a + 7, first - 7) == .incomplete)
    // The caller compacts: the unconsumed bytes move to the start of another buffer.
    let b = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    a.update(repeating: 0, count: 64)
    input.withUnsafeBufferPointer { b.update(from: $0.baseAddress! + 7, count: input.count - 7) }
    a.deallocate()
    defer { b.deallocate() }
    #expect(p.parse(b, input.count - 7) == .complete)
    #expect(p.consumed == input.count - 7)
    #expect(p.argc == 3)
    let args = (0..<p.argc).map { Array(UnsafeBufferPointer(start: b + p.offsets[2 * $0], count: p.offsets[2 * $0 + 1])) }
    #expect(args == cmd("SET", "key", "value"))
}

@Test func incompleteInputLeavesBytesUnconsumed() {
    let partials = [
        bytes("*2\r\n$3\r\nGET\r\n$1\r\nk\r"), bytes("PING"), bytes("*"), bytes("*1\r\n$4\r\nPING"), bytes("ECHO \"x"),
        bytes("*1\r"), bytes("*1\r\n$4"),
    ]
    for partial in partials {
        for compact in [false, true] {
            let (r, v) = feed(multibulk("PING") + partial, cuts: [1], compact: compact)
            #expect(v.isEmpty)
            #expect(r.error == nil)
            #expect(r.commands == [cmd("PING")])
            #expect(r.leftover == partial.count, "\(String(decoding: partial, as: UTF8.self).debugDescription)")
        }
    }
}

// MARK: - Protocol errors

struct ErrorCase: Sendable, CustomTestStringConvertible {
    let name: String
    let input: [UInt8]
    let message: String
    var authenticated = true
    var maxBulkLength: Int? = nil
    var testDescription: String { name }
}

let errorCases: [ErrorCase] = [
    .init(name: "*abc", input: bytes("*abc\r\n"), message: "Protocol error: invalid multibulk length"),
    .init(name: "*-5x", input: bytes("*-5x\r\n"), message: "Protocol error: invalid multibulk length"),
    .init(name: "*3000000000", input: bytes("*3000000000\r\n"), message: "Protocol error: invalid multibulk length"),
    .init(name: "* with no digits", input: bytes("*\r\n"), message: "Protocol error: invalid multibulk length"),
    .init(name: "*+1", input: bytes("*+1\r\n$1\r\na\r\n"), message: "Protocol error: invalid multibulk length"),
    .init(name: "*01", input: bytes("*01\r\n$1\r\na\r\n"), message: "Protocol error: invalid multibulk length"),
    .init(name: "$abc", input: bytes("*1\r\n$abc\r\n"), message: "Protocol error: invalid bulk length"),
    .init(name: "$-1 inside multibulk", input: bytes("*2\r\n$3\r\nGET\r\n$-1\r\n"), message: "Protocol error: invalid bulk length"),
    .init(name: "$ with no digits", input: bytes("*1\r\n$\r\n"), message: "Protocol error: invalid bulk length"),
    .init(
        name: "bulk over proto-max-bulk-len", input: bytes("*1\r\n$1025\r\n"), message: "Protocol error: invalid bulk length",
        maxBulkLength: 1024),
    .init(
        name: "bulk over the default proto-max-bulk-len", input: bytes("*1\r\n$536870913\r\n"),
        message: "Protocol error: invalid bulk length"),
    .init(name: "+ instead of $", input: bytes("*1\r\n+OK\r\n"), message: "Protocol error: expected '$', got '+'"),
    .init(name: ": instead of $", input: bytes("*2\r\n$1\r\na\r\n:1\r\n"), message: "Protocol error: expected '$', got ':'"),
    .init(name: "SET k \"abc", input: bytes("SET k \"abc\r\n"), message: "Protocol error: unbalanced quotes in request"),
    .init(name: "SET k \"a\"b", input: bytes("SET k \"a\"b\r\n"), message: "Protocol error: unbalanced quotes in request"),
    .init(name: "SET k 'abc", input: bytes("SET k 'abc\n"), message: "Protocol error: unbalanced quotes in request"),
    .init(name: "SET k 'a'b", input: bytes("SET k 'a'b\n"), message: "Protocol error: unbalanced quotes in request"),
    .init(name: "trailing escape in quotes", input: bytes("ECHO \"a\\\"\r\n"), message: "Protocol error: unbalanced quotes in request"),
    .init(
        name: "error after a good command", input: bytes("PING\r\n") + multibulk("GET", "k") + bytes("*1\r\n$x\r\n"),
        message: "Protocol error: invalid bulk length"),
    .init(
        name: "unauthenticated: 11 arguments", input: bytes("*11\r\n"), message: "Protocol error: unauthenticated multibulk length",
        authenticated: false),
    .init(
        name: "unauthenticated: 16385-byte bulk", input: bytes("*2\r\n$4\r\nAUTH\r\n$16385\r\n"),
        message: "Protocol error: unauthenticated bulk length", authenticated: false),
]

@Test(arguments: errorCases)
func protocolErrorSplitAtEveryByte(_ c: ErrorCase) {
    var failures: [String] = []
    for compact in [false, true] {
        for k in 0...c.input.count {
            let (r, v) = feed(
                c.input, cuts: [k], compact: compact, authenticated: c.authenticated, maxBulkLength: c.maxBulkLength)
            if !v.isEmpty { failures.append("cut \(k): \(v)") }
            if r.error != c.message { failures.append("cut \(k) compact \(compact): \(r)") }
        }
    }
    #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.first ?? "")")
}

@Test func errorAfterGoodCommandsStillRunsThem() {
    let (r, _) = feed(bytes("PING\r\n") + multibulk("GET", "k") + bytes("*1\r\n$x\r\n"))
    #expect(r.commands == [cmd("PING"), cmd("GET", "k")])
    #expect(r.error == "Protocol error: invalid bulk length")
}

@Test func unauthenticatedLimitsAreInclusive() {
    let tenArgs = multibulk((0..<10).map { bytes("\($0)") })
    let (r1, _) = feed(tenArgs, authenticated: false)
    #expect(r1.error == nil && r1.commands.count == 1 && r1.commands[0].count == 10)
    let bigAuth = multibulk([bytes("AUTH"), [UInt8](repeating: 120, count: 16384)])
    let (r2, _) = feed(bigAuth, cuts: [100], authenticated: false)
    #expect(r2.error == nil && r2.commands.count == 1 && r2.commands[0][1].count == 16384)
    // The same inputs over the limits are fine once authenticated.
    let (r3, _) = feed(multibulk((0..<11).map { bytes("\($0)") }), authenticated: true)
    #expect(r3.error == nil && r3.commands.count == 1)
    let (r4, _) = feed(multibulk([bytes("SET"), [UInt8](repeating: 120, count: 16385)]), authenticated: true)
    #expect(r4.error == nil && r4.commands.count == 1)
}

@Test func maxBulkLengthIsInclusive() {
    let (r, v) = feed(multibulk([[UInt8](repeating: 1, count: 1024)]), maxBulkLength: 1024)
    #expect(v.isEmpty)
    #expect(r.error == nil && r.commands.count == 1)
}

@Test(arguments: [1, 4096])
func tooBigInlineRequest(chunk: Int) {
    // Exactly 64 KiB without a newline is still waiting; one more byte is an error.
    let limit = RequestParser.inlineMaxSize
    #expect(limit == 65_536)
    let f = Feeder(capacity: 1024, compact: false)
    var sent = 0
    let a = [UInt8](repeating: 97, count: limit + 1)
    while sent < limit {
        let n = min(chunk, limit - sent)
        f.feed(a[sent..<(sent + n)])
        sent += n
    }
    #expect(f.result.error == nil)
    f.feed(a[limit...])
    #expect(f.result.error == "Protocol error: too big inline request")
    #expect(f.violations.isEmpty)
}

@Test func inlineLineOfExactly64KiBCompletes() {
    let word = [UInt8](repeating: 97, count: RequestParser.inlineMaxSize)
    let (r, v) = feed(word + [13, 10], cuts: [RequestParser.inlineMaxSize])
    #expect(v.isEmpty)
    #expect(r.error == nil && r.commands == [[word]])
}

@Test func tooBigCountStrings() {
    let digits = [UInt8](repeating: 49, count: 70_000)
    let cuts = Array(stride(from: 1, to: 70_000, by: 8192))
    let (r1, _) = feed([42] + digits, cuts: cuts)
    #expect(r1.error == "Protocol error: too big mbulk count string")
    let (r2, _) = feed(bytes("*1\r\n$") + digits, cuts: cuts)
    #expect(r2.error == "Protocol error: too big bulk count string")
    // A long header line that does end in time is just an (invalid) number, not "too big".
    let (r3, _) = feed([42] + [UInt8](repeating: 49, count: 60_000) + [13, 10])
    #expect(r3.error == "Protocol error: invalid multibulk length")
}

// MARK: - bytesNeeded

@Test(arguments: [false, true])
func bytesNeededReportsTheWholeBulk(compact: Bool) {
    let bulk = 100_000
    let header = bytes("*2\r\n$3\r\nSET\r\n$\(bulk)\r\n")
    let input = header + [UInt8](repeating: 122, count: bulk) + [13, 10]
    let f = Feeder(capacity: 64, compact: compact)
    // Until the bulk header is complete the size is unknown.
    f.feed(input[0..<(header.count - 1)])
    #expect(f.bytesNeededLog.last == 0)
    f.feed(input[(header.count - 1)..<(header.count + 10)])
    #expect(f.bytesNeededLog.last == header.count + bulk + 2)
    f.feed(input[(header.count + 10)..<(input.count - 1)])
    #expect(f.bytesNeededLog.last == header.count + bulk + 2)
    f.feed(input[(input.count - 1)...])
    #expect(f.result.commands.count == 1 && f.result.commands.first?[1].count == bulk)
    #expect(f.violations.isEmpty)
}

@Test func bytesNeededIsRelativeToTheCommandStart() {
    // A complete command before the partial one must not count.
    let first = multibulk("PING")
    let second = bytes("*1\r\n$1000\r\n") + [UInt8](repeating: 1, count: 10)
    let f = Feeder(capacity: 64, compact: false)
    f.feed((first + second)[...])
    #expect(f.result.commands == [cmd("PING")])
    #expect(f.bytesNeededLog.last == 11 + 1000 + 2)
}

@Test func bytesNeededIsZeroForInline() {
    var p = RequestParser()
    defer { p.deallocate() }
    var line = bytes("SET key value")
    line.withUnsafeMutableBufferPointer { b in
        #expect(p.parse(b.baseAddress!, b.count) == .incomplete)
    }
    #expect(p.bytesNeeded == 0)
}

// MARK: - Seeded round trips

@Test func randomMultibulkPipelinesRoundTrip() {
    var rng = SeededRNG(seed: 0xC0FFEE)
    var failures: [String] = []
    for round in 0..<1500 {
        var commands: [[[UInt8]]] = []
        var input: [UInt8] = []
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let args = (0..<Int.random(in: 1...5, using: &rng)).map { _ -> [UInt8] in
                let maxLength = rng.next() % 8 == 0 ? 300 : 12
                let n = Int.random(in: 0...maxLength, using: &rng)
                return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            commands.append(args)
            input += multibulk(args)
        }
        var cuts = (0..<Int.random(in: 0...4, using: &rng)).map { _ in Int.random(in: 0...input.count, using: &rng) }
        cuts.sort()
        let (r, v) = feed(input, cuts: cuts, compact: round % 2 == 0)
        if !v.isEmpty || r != FeedResult(commands: commands, error: nil, leftover: 0) {
            failures.append("round \(round): \(v) \(r)")
        }
    }
    #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.first ?? "")")
}

/// Encodes an argument the way a careful client would for an inline command.
func inlineQuoted(_ arg: [UInt8], using rng: inout SeededRNG) -> [UInt8] {
    var out: [UInt8] = [34]
    for b in arg {
        switch b {
        case 34: out += [92, 34]
        case 92: out += [92, 92]
        case 10: out += [92, 110]
        case 13: out += [92, 114]
        case 9: out += [92, 116]
        case 32...126: out.append(b)
        default:
            let hex = Array("0123456789abcdef".utf8)
            out += [92, 120, hex[Int(b >> 4)], hex[Int(b & 15)]]
        }
    }
    out.append(34)
    return out
}

@Test func randomInlineCommandsRoundTrip() {
    var rng = SeededRNG(seed: 99)
    var failures: [String] = []
    for round in 0..<1500 {
        var commands: [[[UInt8]]] = []
        var input: [UInt8] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let args = (0..<Int.random(in: 1...4, using: &rng)).map { _ -> [UInt8] in
                (0..<Int.random(in: 0...10, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            commands.append(args)
            let words = args.map { inlineQuoted($0, using: &rng) }
            var line: [UInt8] = []
            for (i, w) in words.enumerated() {
                if i > 0 { line += Array(repeating: 32, count: Int.random(in: 1...3, using: &rng)) }
                line += w
            }
            input += line + (rng.next() % 2 == 0 ? [13, 10] : [10])
        }
        let cut = Int.random(in: 0...input.count, using: &rng)
        let (r, v) = feed(input, cuts: [cut], compact: round % 3 == 0)
        if !v.isEmpty || r != FeedResult(commands: commands, error: nil, leftover: 0) {
            failures.append("round \(round) input \(String(decoding: input, as: UTF8.self).debugDescription): \(v) \(r)")
        }
    }
    #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.first ?? "")")
}

// MARK: - Fuzz

@Test func fuzzNeverOverconsumesAndAlwaysTerminates() {
    var rng = SeededRNG(seed: 20_240_611)
    let alphabet = Array("*$\r\n0123456789-+ \"'\\xaAbZ\t:".utf8)
    let templates: [[UInt8]] = [
        multibulk("SET", "key", "value"), multibulk("PING"), bytes("*0\r\n"), bytes("*-1\r\n"),
        bytes("SET \"a b\" 'c d' \"\\x41\\n\"\r\n"), bytes("PING\n"), bytes("\r\n"), multibulk("", "\r\n", "\0"),
        bytes("*2\r\n$3\r\nGET\r\n$100\r\n"), bytes("ECHO 'it\\'s'\r\n"),
    ]
    var violations: [String] = []
    var totalCalls = 0
    for round in 0..<20_000 {
        var input: [UInt8]
        if rng.next() % 5 < 2 {
            input = (0..<Int.random(in: 0...48, using: &rng)).map { _ in
                rng.next() % 8 == 0 ? UInt8.random(in: 0...255, using: &rng) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
        } else {
            input = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) { input += templates[Int(rng.next() % UInt64(templates.count))] }
            for _ in 0..<Int.random(in: 1...3, using: &rng) where !input.isEmpty {
                let i = Int.random(in: 0..<input.count, using: &rng)
                switch rng.next() % 5 {
                case 0: input[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: input.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                case 2: input.remove(at: i)
                case 3: input = Array(input[..<i])
                default: input[i] = UInt8.random(in: 0...255, using: &rng)
                }
            }
        }
        var cuts = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Int.random(in: 0...input.count, using: &rng) }
        cuts.sort()
        let f = Feeder(
            capacity: 8, compact: rng.next() % 2 == 0, authenticated: rng.next() % 5 != 0,
            maxBulkLength: [nil, 16, 1024][Int(rng.next() % 3)])
        var from = 0
        for c in cuts + [input.count] {
            f.feed(input[from..<c])
            from = c
        }
        totalCalls += f.parseCalls
        if !f.violations.isEmpty { violations.append("round \(round) input \(input): \(f.violations)") }
        if f.parseCalls > input.count + cuts.count + 2 { violations.append("round \(round): \(f.parseCalls) calls") }
    }
    #expect(violations.isEmpty, "\(violations.count) violations, first: \(violations.first ?? "")")
    #expect(totalCalls > 20_000)
}

// MARK: - A held command

/// The server holds back a command while clients are paused: it calls `hold()` and leaves the
/// bytes in the buffer. The next `parse` must hand out the very same command without re-reading
/// its bytes — in-place unescaping of inline quotes means the bytes no longer parse the same.
@Test(arguments: [
    "SET k \"a b\"\r\n", "SET k 'a b'\r\n", "SET k \"\\x41\"\r\n", "SET k v\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n",
])
func aHeldCommandIsHandedOutAgainUnchanged(_ input: String) {
    var p = RequestParser()
    defer { p.deallocate() }
    var buffer = bytes(input)
    func parseOnce() -> (ParseOutcome, [[UInt8]], Int) {
        buffer.withUnsafeMutableBufferPointer { b in
            let outcome = p.parse(b.baseAddress!, b.count)
            let args = (0..<p.argc).map { Array(b[p.offsets[2 * $0]..<(p.offsets[2 * $0] + p.offsets[2 * $0 + 1])]) }
            return (outcome, args, p.consumed)
        }
    }
    let (o1, a1, c1) = parseOnce()
    p.hold()
    let (o2, a2, c2) = parseOnce()
    #expect(o1 == .complete)
    #expect(o2 == o1, "second parse: \(p.errorMessage)")
    #expect(a2 == a1)
    #expect(c2 == c1)
}
