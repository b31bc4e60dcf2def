// ZiplistTests.swift — Ziplist and Zipmap (Sources/Persistence/Ziplist.swift).
//
// Covers: hand-built ziplists with every encoding (the three string lengths, Int8/16/24/32/64
// and the 0...12 immediates, 5-byte prevlens both needed and oversized), header checks (zltail,
// zllen, 65535), hand-damaged blobs; zipmaps with free bytes, 5-byte lengths, zmlen 254 and the
// example from Redis's zipmap documentation; and seeded fuzzing against guard pages.
@testable import Persistence
import Keyspace
import Platform
import Testing

// MARK: - Building test ziplists

struct ZEntry {
    let encoded: [UInt8]  // encoding, length and data
    let text: String  // what forEach should yield
    var bigPrevlen = false  // write a 5-byte prevlen even when one byte would do
}

func zstr(_ s: String) -> ZEntry {
    let d = Array(s.utf8)
    let n = d.count
    let head: [UInt8] =
        n < 64 ? [UInt8(n)]
        : n < 16384 ? [0x40 | UInt8(n >> 8), UInt8(n & 0xFF)]
        : [0x80, UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
    return ZEntry(encoded: head + d, text: s)
}

func zint(_ encoding: UInt8, _ data: [UInt8], _ value: Int64) -> ZEntry {
    ZEntry(encoded: [encoding] + data, text: String(value))
}

/// Assembles a ziplist; `count` overrides zllen, `tail` overrides zltail.
func ziplist(_ entries: [ZEntry], count: Int? = nil, tail: Int? = nil) -> [UInt8] {
    var body: [UInt8] = []
    var previousSize = 0
    var lastOffset = 10
    for e in entries {
        lastOffset = 10 + body.count
        let prevlen: [UInt8] =
            previousSize < 254 && !e.bigPrevlen ? [UInt8(previousSize)] : [0xFE] + le32(previousSize)
        body += prevlen + e.encoded
        previousSize = prevlen.count + e.encoded.count
    }
    let total = 10 + body.count + 1
    let n = count ?? entries.count
    return le32(total) + le32(tail ?? lastOffset) + [UInt8(n & 0xFF), UInt8(n >> 8)] + body + [0xFF]
}

func decodeZiplist(_ blob: [UInt8]) -> [String] { decodeTexts(blob, with: Ziplist.forEach) }

let everyZiplistEncoding: [ZEntry] = [
    zstr(""), zstr("abc"), zstr(String(repeating: "a", count: 63)), zstr(String(repeating: "b", count: 64)),
    zstr(String(repeating: "c", count: 300)), zstr(String(repeating: "d", count: 16383)),
    zstr(String(repeating: "e", count: 16384)),
    zint(0xFE, [0x80], -128), zint(0xFE, [0x7F], 127),
    zint(0xC0, [0x00, 0x80], -32768), zint(0xC0, [0xFF, 0x7F], 32767),
    zint(0xF0, [0x00, 0x00, 0x80], -8_388_608), zint(0xF0, [0xFF, 0xFF, 0x7F], 8_388_607),
    zint(0xF0, [0xFF, 0xFF, 0xFF], -1),
    zint(0xD0, [0x00, 0x00, 0x00, 0x80], -2_147_483_648), zint(0xD0, [0x01, 0x00, 0x00, 0x00], 1),
    zint(0xE0, le64(.min), .min), zint(0xE0, le64(.max), .max), zint(0xE0, le64(1 << 40), 1 << 40),
    zint(0xF1, [], 0), zint(0xF7, [], 6), zint(0xFD, [], 12),
]

@Test func ziplistDecodesEveryEncoding() {
    let blob = ziplist(everyZiplistEncoding)
    #expect(withView(blob) { Ziplist.validate($0) })
    #expect(decodeZiplist(blob) == everyZiplistEncoding.map(\.text))
}

@Test func ziplistStringLengthIgnoresLowBitsOf32BitEncoding() {
    // Redis masks string encodings to their top two bits: 0x81 is read as 0x80.
    var e = zstr(String(repeating: "x", count: 16384))
    e = ZEntry(encoded: [0x81] + e.encoded.dropFirst(), text: e.text)
    let blob = ziplist([e])
    #expect(withView(blob) { Ziplist.validate($0) })
    #expect(decodeZiplist(blob) == [e.text])
}

@Test func ziplistAcceptsOversizedPrevlenAndUnknownCount() {
    var entries = [zstr("a"), zint(0xF2, [], 1), zstr("b")]
    entries[1].bigPrevlen = true  // a 5-byte prevlen holding 3, as cascade updates leave behind
    #expect(withView(ziplist(entries)) { Ziplist.validate($0) })
    #expect(decodeZiplist(ziplist(entries)) == ["a", "1", "b"])
    #expect(withView(ziplist(entries, count: 65535)) { Ziplist.validate($0) })
    #expect(withView(ziplist([])) { Ziplist.validate($0) })
    #expect(decodeZiplist(ziplist([])) == [])
}

@Test func handDamagedZiplistsAreRejected() {
    let entries = [zstr("abc"), zint(0xC0, [1, 2], 513), zstr(String(repeating: "z", count: 260)), zstr("end")]
    let good = ziplist(entries)
    func rejects(_ blob: [UInt8], _ why: Comment) { expectRejected(blob, by: Ziplist.validate, why) }
    rejects(ziplist(entries, count: 3), "zllen says 3, there are 4")
    rejects(ziplist(entries, tail: 10), "zltail at the first entry, not the last")
    rejects(ziplist(entries, tail: good.count), "zltail past the terminator")
    // "abc" is prevlen 10, encoding 11, data 12...14; the next entry's prevlen is at 15.
    expectEditsRejected(good, by: Ziplist.validate, [
        (0, good[0] &+ 1, "zlbytes larger than the blob"),
        (-1, 0, "no terminator"),
        (10, 1, "first entry's prevlen is not 0"),
        (15, 4, "second entry's prevlen does not match the first entry's size"),
        (16, 0xC1, "undefined integer encoding"),
        (11, 0x3F, "string length changed: the walk loses step"),
        (11, 0x80, "32-bit string length runs past the terminator"),
        (15, 0xFF, "a terminator before the end"),
    ])
}

@Test func ziplistSurvivesTruncationAndMutation() {
    let seeds = [
        ziplist(Array(everyZiplistEncoding.prefix(5)) + Array(everyZiplistEncoding.suffix(15))),
        ziplist([zstr("k"), zstr(String(repeating: "v", count: 300)), zint(0xFE, [3], 3)]),
        ziplist([]),
    ]
    fuzz(seeds, mutations: 20_000, seed: 5) { v in
        var sum = 0
        Ziplist.forEach(v) {
            sum &+= touch($0)
            return true
        }
        return Ziplist.validate(v)
    }
}

// MARK: - Zipmap

/// Assembles a zipmap; `free` gives the free bytes after each value, `big` forces 5-byte lengths.
func zipmap(_ pairs: [(String, String)], free: [Int] = [], big: Bool = false, zmlen: Int? = nil) -> [UInt8] {
    func length(_ n: Int) -> [UInt8] { n < 254 && !big ? [UInt8(n)] : [0xFE] + le32(n) }
    var out: [UInt8] = [UInt8(zmlen ?? pairs.count)]
    for (i, (f, v)) in pairs.enumerated() {
        let extra = i < free.count ? free[i] : 0
        out += length(f.utf8.count) + Array(f.utf8)
        out += length(v.utf8.count) + [UInt8(extra)] + Array(v.utf8) + [UInt8](repeating: 0xAA, count: extra)
    }
    return out + [0xFF]
}

func decodeZipmap(_ blob: [UInt8]) -> [String] {
    withView(blob) { v in
        var out: [String] = []
        Zipmap.forEach(v) { f, value in
            out += [f.string, value.string]
            return true
        }
        return out
    }
}

@Test func zipmapDocumentedExample() {
    let blob = Array("\u{02}\u{03}foo\u{03}\u{00}bar\u{05}hello\u{05}\u{00}world".utf8) + [0xFF]
    #expect(blob == zipmap([("foo", "bar"), ("hello", "world")]))
    #expect(withView(blob) { Zipmap.validate($0) })
    #expect(decodeZipmap(blob) == ["foo", "bar", "hello", "world"])
}

@Test func zipmapFreeBytesLongLengthsAndUnknownCount() {
    let long = String(repeating: "L", count: 300)
    let pairs = [("a", ""), (long, "x"), ("", long), ("n", "12")]
    let expected = ["a", "", long, "x", "", long, "n", "12"]
    for blob in [zipmap(pairs), zipmap(pairs, free: [3, 0, 4, 1]), zipmap(pairs, big: true), zipmap(pairs, zmlen: 254)] {
        #expect(withView(blob) { Zipmap.validate($0) })
        #expect(decodeZipmap(blob) == expected)
    }
}

@Test func handDamagedZipmapsAreRejected() {
    let good = zipmap([("foo", "bar"), ("k", "v")], free: [2])
    expectRejected([0, 0xFF], by: Zipmap.validate, "empty")
    expectRejected([0xFF], by: Zipmap.validate, "shorter than count + terminator")
    expectRejected(zipmap([("foo", "bar"), ("k", "v")], zmlen: 3), by: Zipmap.validate, "zmlen says 3, there are 2")
    // count 0, "foo" at 1...4, value length 5, free count 6.
    expectEditsRejected(good, by: Zipmap.validate, [
        (-1, 0, "no terminator"),
        (6, 200, "free count runs past the end"),
        (1, 0xFE, "5-byte field length runs past the end"),
    ])
}

@Test func zipmapSurvivesTruncationAndMutation() {
    let seeds = [
        zipmap([("foo", "bar"), ("hello", "world")], free: [0, 2]),
        zipmap([(String(repeating: "f", count: 260), "v"), ("k", String(repeating: "w", count: 254))]),
        zipmap([("a", "b")], big: true),
    ]
    fuzz(seeds, mutations: 20_000, seed: 9) { v in
        var sum = 0
        Zipmap.forEach(v) { f, value in
            sum &+= touch(f) &+ touch(value)
            return true
        }
        return Zipmap.validate(v)
    }
}
