// ReplyBufferTests.swift — unit tests for RESP.ReplyBuffer (Sources/RESP/ReplyBuffer.swift).
//
// Covers the exact bytes of every encoder in RESP2 and RESP3 (integers including Int64.min/max,
// bulks, bulk integers, status, nulls, array/map/set headers, doubles with inf/-inf and
// "%.17g", verbatim strings), deferred headers patched after their content (nested, and with
// the buffer growing between reserve and patch), and the didSend/pending/clear accounting
// including the shrink of a buffer a large reply grew.
import Platform
import RESP
import Testing

/// The bytes waiting to be sent.
func pendingBytes(_ b: borrowing ReplyBuffer) -> String {
    String(decoding: UnsafeBufferPointer(start: b.base + b.sent, count: b.pending), as: UTF8.self)
}

/// Runs `body` on a fresh buffer and returns what it appended.
func encode(_ body: (inout ReplyBuffer) -> Void) -> String {
    var b = ReplyBuffer()
    defer { b.deallocate() }
    body(&b)
    return pendingBytes(b)
}

@Test(arguments: [
    (Int64(0), ":0\r\n"), (1, ":1\r\n"), (-1, ":-1\r\n"), (10, ":10\r\n"), (-10, ":-10\r\n"), (123_456_789, ":123456789\r\n"),
    (Int64.max, ":9223372036854775807\r\n"), (Int64.min, ":-9223372036854775808\r\n"),
])
func integers(_ v: Int64, _ expected: String) {
    #expect(encode { $0.appendInteger(v) } == expected)
}

@Test(arguments: [
    (Int64(0), "$1\r\n0\r\n"), (-7, "$2\r\n-7\r\n"), (1234, "$4\r\n1234\r\n"),
    (Int64.max, "$19\r\n9223372036854775807\r\n"), (Int64.min, "$20\r\n-9223372036854775808\r\n"),
])
func bulkIntegers(_ v: Int64, _ expected: String) {
    #expect(encode { $0.appendBulkInteger(v) } == expected)
}

@Test func bulks() {
    #expect(encode { $0.appendBulk("hello") } == "$5\r\nhello\r\n")
    #expect(encode { $0.appendBulk("") } == "$0\r\n\r\n")
    #expect(encode { $0.appendBulk("é") } == "$2\r\né\r\n")
    let binary: [UInt8] = [0, 13, 10, 255]
    let out = encode { b in binary.withUnsafeBufferPointer { b.appendBulk($0.baseAddress!, 4) } }
    #expect(Array(out.utf8.prefix(4)) == Array("$4\r\n".utf8))
    var b = ReplyBuffer()
    defer { b.deallocate() }
    binary.withUnsafeBufferPointer { b.appendBulk(ByteView($0.baseAddress!, 4)) }
    #expect(Array(UnsafeBufferPointer(start: b.base, count: b.count)) == Array("$4\r\n".utf8) + binary + [13, 10])
}

@Test func bulkLargerThanTheInitialCapacity() {
    let big = String(repeating: "x", count: ReplyBuffer.initialCapacity * 3 + 5)
    let out = encode {
        $0.appendStatus("OK")
        $0.appendBulk(big)
    }
    #expect(out == "+OK\r\n$\(big.utf8.count)\r\n\(big)\r\n")
}

@Test func statusAndRawAppends() {
    #expect(encode { $0.appendStatus("OK") } == "+OK\r\n")
    #expect(encode { $0.appendStatus("") } == "+\r\n")
    #expect(encode { $0.append("-ERR x\r\n" as StaticString) } == "-ERR x\r\n")
    #expect(encode { $0.append("") } == "")
    #expect(
        encode {
            $0.appendByte(42)
            $0.append("abc")
        } == "*abc")
}

@Test func nulls() {
    #expect(encode { $0.appendNull(resp3: false) } == "$-1\r\n")
    #expect(encode { $0.appendNull(resp3: true) } == "_\r\n")
    #expect(encode { $0.appendNullArray(resp3: false) } == "*-1\r\n")
    #expect(encode { $0.appendNullArray(resp3: true) } == "_\r\n")
}

@Test func aggregateHeaders() {
    #expect(encode { $0.appendArrayHeader(0) } == "*0\r\n")
    #expect(encode { $0.appendArrayHeader(3) } == "*3\r\n")
    #expect(encode { $0.appendMapHeader(2, resp3: true) } == "%2\r\n")
    #expect(encode { $0.appendMapHeader(2, resp3: false) } == "*4\r\n")
    #expect(encode { $0.appendMapHeader(0, resp3: false) } == "*0\r\n")
    #expect(encode { $0.appendSetHeader(3, resp3: true) } == "~3\r\n")
    #expect(encode { $0.appendSetHeader(3, resp3: false) } == "*3\r\n")
}

@Test(arguments: [
    (Double.infinity, "inf"), (-Double.infinity, "-inf"), (1.5, "1.5"), (0.1, "0.10000000000000001"), (0, "0"),
    (-2.0, "-2"), (100, "100"), (1e300, "1.0000000000000001e+300"), (3.0e-5, "3.0000000000000001e-05"),
])
func doubles(_ d: Double, _ text: String) {
    #expect(encode { $0.appendDouble(d, resp3: true) } == ",\(text)\r\n")
    #expect(encode { $0.appendDouble(d, resp3: false) } == "$\(text.utf8.count)\r\n\(text)\r\n")
}

@Test func verbatim() {
    #expect(encode { $0.appendVerbatim("hello", resp3: true) } == "=9\r\ntxt:hello\r\n")
    #expect(encode { $0.appendVerbatim("hello", resp3: false) } == "$5\r\nhello\r\n")
    #expect(encode { $0.appendVerbatim("", resp3: true) } == "=4\r\ntxt:\r\n")
    #expect(encode { $0.appendVerbatim("a\r\nb", resp3: true) } == "=8\r\ntxt:a\r\nb\r\n")
}

// MARK: - Deferred headers

@Test func deferredHeaderPatchedAfterItsContent() {
    let out = encode { b in
        b.appendStatus("before")
        let at = b.reserveDeferredHeader()
        b.appendBulk("a")
        b.appendInteger(2)
        b.patchHeader(at: at, prefix: 42, 2)
        b.appendStatus("after")
    }
    #expect(out == "+before\r\n*2\r\n$1\r\na\r\n:2\r\n+after\r\n")
}

@Test func deferredHeaderWithNoContentAndLargeCounts() {
    #expect(
        encode { b in
            let at = b.reserveDeferredHeader()
            b.patchHeader(at: at, prefix: 42, 0)
        } == "*0\r\n")
    #expect(
        encode { b in
            let at = b.reserveDeferredHeader()
            b.appendInteger(1)
            b.patchHeader(at: at, prefix: 37, Int.max)
        } == "%9223372036854775807\r\n:1\r\n")
}

@Test func nestedDeferredHeadersPatchedInnerFirst() {
    let out = encode { b in
        let outer = b.reserveDeferredHeader()
        b.appendBulk("x")
        let inner = b.reserveDeferredHeader()
        b.appendInteger(1)
        b.appendInteger(2)
        b.patchHeader(at: inner, prefix: 42, 2)
        b.patchHeader(at: outer, prefix: 42, 2)
    }
    #expect(out == "*2\r\n$1\r\nx\r\n*2\r\n:1\r\n:2\r\n")
}

@Test func deferredHeaderSurvivesBufferGrowth() {
    var b = ReplyBuffer()
    defer { b.deallocate() }
    // Put the reserved room right at the end of the initial capacity, then grow a lot.
    let filler = String(repeating: "f", count: ReplyBuffer.initialCapacity - 40)
    b.append(filler)
    let at = b.reserveDeferredHeader()
    let capacityBefore = b.capacity
    var expected = ""
    for i in 0..<5000 {
        b.appendBulk("element-\(i)")
        expected += "$\("element-\(i)".utf8.count)\r\nelement-\(i)\r\n"
    }
    #expect(b.capacity > capacityBefore)
    b.patchHeader(at: at, prefix: 126, 5000)
    #expect(pendingBytes(b) == filler + "~5000\r\n" + expected)
    #expect(b.count == filler.utf8.count + 7 + expected.utf8.count)
}

// MARK: - Accounting

@Test func didSendAndPending() {
    var b = ReplyBuffer()
    defer { b.deallocate() }
    #expect(b.pending == 0)
    b.append(String(repeating: "a", count: 100))
    #expect(b.count == 100 && b.sent == 0 && b.pending == 100)
    b.didSend(40)
    #expect(b.sent == 40 && b.pending == 60 && b.count == 100)
    #expect(pendingBytes(b) == String(repeating: "a", count: 60))
    b.appendStatus("OK")
    #expect(b.pending == 65)
    b.didSend(65)
    // Everything sent: the buffer starts over.
    #expect(b.count == 0 && b.sent == 0 && b.pending == 0)
    b.appendInteger(5)
    #expect(pendingBytes(b) == ":5\r\n")
}

@Test func fullySentLargeBufferShrinks() {
    var b = ReplyBuffer()
    defer { b.deallocate() }
    #expect(b.capacity == ReplyBuffer.initialCapacity)
    #expect(b.allocatedBytes == b.capacity)
    b.append(String(repeating: "z", count: 3 * 1024 * 1024))
    #expect(b.capacity > 1024 * 1024)
    b.didSend(1024 * 1024)
    #expect(b.capacity > 1024 * 1024)  // not while bytes are pending
    b.didSend(2 * 1024 * 1024)
    #expect(b.capacity == ReplyBuffer.initialCapacity)
    #expect(b.pending == 0)
    b.appendStatus("OK")
    #expect(pendingBytes(b) == "+OK\r\n")
}

@Test func smallBufferDoesNotShrinkAndClearDropsEverything() {
    var b = ReplyBuffer()
    defer { b.deallocate() }
    b.append(String(repeating: "q", count: 100_000))
    let grown = b.capacity
    #expect(grown > ReplyBuffer.initialCapacity)
    b.didSend(100_000)
    #expect(b.capacity == grown)
    b.appendStatus("x")
    b.didSend(1)
    b.clear()
    #expect(b.count == 0 && b.sent == 0 && b.pending == 0)
}
