// EntryTests.swift — unit tests for Keyspace.Entry (Sources/Keyspace/Entry.swift).
//
// Covers makeString's choice of encoding (int only for Redis-canonical integers; embstr up to
// 44 bytes; raw from 45), encodeInt/forceRaw, makeInteger, the zeroed header fields,
// copy(withKey:), storeString, canHoldString and resized.
@testable import Keyspace
import Platform
import Testing

@Test(arguments: [
    ("123", "int"), ("-5", "int"), ("0", "int"), ("9223372036854775807", "int"), ("-9223372036854775808", "int"),
    ("012", "embstr"), ("+1", "embstr"), ("-0", "embstr"), (" 1", "embstr"), ("1 ", "embstr"), ("-", "embstr"),
    ("9223372036854775808", "embstr"), ("-9223372036854775809", "embstr"), ("1.5", "embstr"), ("1e3", "embstr"),
    ("0x10", "embstr"), ("", "embstr"), ("abc", "embstr"), (String(repeating: "1", count: 21), "embstr"),
    (String(repeating: "a", count: 44), "embstr"), (String(repeating: "a", count: 45), "raw"),
    (String(repeating: "7", count: 45), "raw"), (String(repeating: "b", count: 1000), "raw"),
])
func makeStringEncoding(_ value: String, _ encoding: String) {
    let e = makeEntry("key", value)
    defer { e.free() }
    #expect("\(e.encoding.name)" == encoding)
    #expect(e.type == .string)
    #expect(e.keyString == "key")
    #expect(e.valueString == value)
    #expect(e.expireAt == 0 && e.next == nil && e.lru == 0)
    if encoding == "int" {
        #expect(e.payload == Int64(value)!)
        #expect(!e.isInlineString)
    } else {
        #expect(e.payload == Int64(value.utf8.count))
        #expect(e.isInlineString)
        #expect(e.canHoldString(value.utf8.count))
    }
}

@Test func encodeIntAndForceRawFlags() {
    let a = makeEntry("k", "123", encodeInt: false)
    #expect(a.encoding == .embstr && a.valueString == "123")
    let b = makeEntry("k", "abc", forceRaw: true)
    #expect(b.encoding == .raw && b.valueString == "abc")
    let c = makeEntry("k", "42", forceRaw: true)
    #expect(c.encoding == .int && c.payload == 42)
    for e in [a, b, c] { e.free() }
}

@Test(arguments: [Int64.min, -1, 0, 1, Int64.max])
func makeInteger(_ v: Int64) {
    let e = withView("counter") { Entry.makeInteger(key: $0, value: v) }
    defer { e.free() }
    #expect(e.encoding == .int && e.type == .string)
    #expect(e.payload == v)
    #expect(e.keyString == "counter")
    #expect(e.expireAt == 0 && e.next == nil)
}

@Test func emptyKeyAndBinaryKey() {
    let e = makeEntry("", "v")
    #expect(e.keyLength == 0 && e.keyString == "" && e.valueString == "v")
    e.free()
    let bytes: [UInt8] = [0, 13, 10, 255]
    let f = bytes.withUnsafeBufferPointer { k in
        withView("val") { Entry.makeString(key: ByteView(k.baseAddress!, 4), value: $0) }
    }
    #expect(f.key.array == bytes && f.valueString == "val")
    f.free()
}

@Test(arguments: ["hello", "77", String(repeating: "r", count: 300)])
func copyWithKey(_ value: String) {
    let e = makeEntry("original", value)
    e.expireAt = 123_456
    e.lru = 99
    let c = withView("renamed") { e.copy(withKey: $0) }
    #expect(c != e)
    #expect(c.keyString == "renamed")
    #expect(c.valueString == value)
    #expect(c.type == e.type && c.encoding == e.encoding && c.payload == e.payload)
    #expect(c.lru == 99)
    #expect(c.expireAt == 0, "the caller decides the copy's expire")
    #expect(c.next == nil)
    if c.isInlineString {
        // Independent storage.
        c.mutableStringBytes[0] = 33
        #expect(e.valueString == value)
    }
    e.free()
    c.free()
}

@Test func storeStringInPlace() {
    let e = makeEntry("k", String(repeating: "x", count: 60))
    defer { e.free() }
    #expect(e.encoding == .raw)
    e.storeString(ByteView("short" as StaticString))
    #expect(e.encoding == .embstr && e.valueString == "short")
    e.storeString(ByteView("" as StaticString))
    #expect(e.valueString == "" && e.payload == 0)
    e.storeString(ByteView("tiny" as StaticString), forceRaw: true)
    #expect(e.encoding == .raw && e.valueString == "tiny")
}

@Test func canHoldStringAndResized() {
    let e = makeEntry("key", "abc")
    #expect(e.canHoldString(3))
    #expect(e.canHoldString(0))
    let room = e.allocatedSize - Entry.headerSize - 3
    #expect(room >= 3)
    #expect(e.canHoldString(room))
    #expect(!e.canHoldString(room + 1))
    e.expireAt = 555
    e.lru = 7
    let r = e.resized(valueCapacity: 10_000)
    defer { r.free() }
    #expect(r.canHoldString(10_000))
    #expect(r.keyString == "key" && r.valueString == "abc")
    #expect(r.expireAt == 555 && r.lru == 7 && r.encoding == .embstr)
    r.storeString(ByteView("0123456789" as StaticString))
    #expect(r.valueString == "0123456789")
}

@Test func typeAndEncodingNames() {
    #expect("\(ObjectType.string.name)" == "string")
    #expect("\(ObjectType.hash.name)" == "hash")
    #expect("\(ObjectEncoding.embstr.name)" == "embstr")
    #expect("\(ObjectEncoding.listpack.name)" == "listpack")
    #expect(ObjectEncoding.embstr.rawValue == 8 && ObjectEncoding.int.rawValue == 1)
}

/// The header byte's decoding (written out for speed) says what init(rawValue:) says.
@Test func storedEncodingMatchesRawValue() {
    for b in 0...255 {
        let byte = UInt8(b)
        #expect(ObjectEncoding(stored: byte) == (ObjectEncoding(rawValue: byte) ?? .raw), "\(b)")
    }
}
