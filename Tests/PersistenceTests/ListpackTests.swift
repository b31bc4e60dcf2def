// ListpackTests.swift — ListpackBuilder and Listpack (Sources/Keyspace/Listpack.swift).
//
// Covers: the exact bytes of one-element listpacks at every encoding boundary (integers at
// the 7/13/16/24/32/64-bit edges, strings at the 6/12/32-bit length edges, strings that are
// and are not canonical integers, and backlens at Redis's 1/2/3-byte thresholds, including
// the 16383 quirk); round trips of mixed elements; the header count saturating at 65535;
// reset and growth; hand-damaged listpacks; and seeded fuzzing (every truncation, 20k
// mutations) against guard pages, so any read outside a blob crashes the test.
@testable import Persistence
@testable import Keyspace
import Keyspace
import Platform
import Testing

enum Element {
    case s(String)
    case n(Int64)
    case raw([UInt8])
}

func buildListpack(_ elements: [Element]) -> [UInt8] {
    var b = ListpackBuilder(capacityHint: 8)
    defer { b.free() }
    for e in elements {
        switch e {
        case .s(let s): withView(s) { b.append($0) }
        case .n(let i): b.append(i)
        case .raw(let r): withView(r) { b.append($0) }
        }
    }
    return b.withBytes { $0.array }
}

/// A listpack holding the given encoded entries (each: encoding, data, backlen).
func listpack(entries: [[UInt8]], count: Int) -> [UInt8] {
    let body = entries.flatMap { $0 }
    let total = 6 + body.count + 1
    return le32(total) + [UInt8(count & 0xFF), UInt8(count >> 8)] + body + [0xFF]
}

func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func le64(_ v: Int64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * Int64($0))) } }

func decodeListpack(_ blob: [UInt8]) -> [String] { decodeTexts(blob, with: Listpack.forEach) }

struct EncodingCase: CustomStringConvertible, Sendable {
    let name: String
    let input: [UInt8]  // appended as a string
    let entry: [UInt8]  // expected encoding + data + backlen
    var description: String { name }
}

func stringCase(_ s: String, _ entry: [UInt8]) -> EncodingCase {
    EncodingCase(name: "\"\(s.prefix(24))\" (\(s.utf8.count))", input: Array(s.utf8), entry: entry)
}

func intCase(_ i: Int64, _ encoded: [UInt8]) -> EncodingCase {
    stringCase(String(i), encoded + [UInt8(encoded.count)])
}

func longString(_ byte: UInt8, _ n: Int, header: [UInt8], backlen: [UInt8]) -> EncodingCase {
    let data = [UInt8](repeating: byte, count: n)
    return EncodingCase(name: "string of \(n)", input: data, entry: header + data + backlen)
}

let encodingCases: [EncodingCase] = [
    intCase(0, [0x00]),
    intCase(1, [0x01]),
    intCase(127, [0x7F]),
    intCase(128, [0xC0, 0x80]),
    intCase(-1, [0xDF, 0xFF]),
    intCase(-128, [0xDF, 0x80]),
    intCase(-4096, [0xD0, 0x00]),
    intCase(4095, [0xCF, 0xFF]),
    intCase(4096, [0xF1, 0x00, 0x10]),
    intCase(-4097, [0xF1, 0xFF, 0xEF]),
    intCase(32767, [0xF1, 0xFF, 0x7F]),
    intCase(-32768, [0xF1, 0x00, 0x80]),
    intCase(32768, [0xF2, 0x00, 0x80, 0x00]),
    intCase(-32769, [0xF2, 0xFF, 0x7F, 0xFF]),
    intCase(8_388_607, [0xF2, 0xFF, 0xFF, 0x7F]),
    intCase(-8_388_608, [0xF2, 0x00, 0x00, 0x80]),
    intCase(8_388_608, [0xF3, 0x00, 0x00, 0x80, 0x00]),
    intCase(-8_388_609, [0xF3, 0xFF, 0xFF, 0x7F, 0xFF]),
    intCase(2_147_483_647, [0xF3, 0xFF, 0xFF, 0xFF, 0x7F]),
    intCase(-2_147_483_648, [0xF3, 0x00, 0x00, 0x00, 0x80]),
    intCase(2_147_483_648, [0xF4] + le64(2_147_483_648)),
    intCase(-2_147_483_649, [0xF4] + le64(-2_147_483_649)),
    intCase(Int64.max, [0xF4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
    intCase(Int64.min, [0xF4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]),
    // Not canonical integers: stored as strings.
    stringCase("", [0x80, 0x01]),
    stringCase("0123", [0x84] + Array("0123".utf8) + [0x05]),
    stringCase("-0", [0x82] + Array("-0".utf8) + [0x03]),
    stringCase(" 1", [0x82] + Array(" 1".utf8) + [0x03]),
    stringCase("1 ", [0x82] + Array("1 ".utf8) + [0x03]),
    stringCase("+1", [0x82] + Array("+1".utf8) + [0x03]),
    stringCase("00", [0x82] + Array("00".utf8) + [0x03]),
    stringCase("-", [0x81] + Array("-".utf8) + [0x02]),
    stringCase("1.5", [0x83] + Array("1.5".utf8) + [0x04]),
    stringCase("9223372036854775808", [0x80 | 19] + Array("9223372036854775808".utf8) + [20]),
    stringCase("-9223372036854775809", [0x80 | 20] + Array("-9223372036854775809".utf8) + [21]),
    stringCase("123", [0x7B, 0x01]),
    // String length edges and backlen sizes.
    longString(0x61, 63, header: [0xBF], backlen: [64]),
    longString(0x62, 64, header: [0xE0, 0x40], backlen: [66]),
    longString(0x63, 125, header: [0xE0, 0x7D], backlen: [127]),
    longString(0x64, 126, header: [0xE0, 0x7E], backlen: [0x01, 0x80]),
    longString(0x65, 4095, header: [0xEF, 0xFF], backlen: [0x20, 0x81]),
    longString(0x66, 4096, header: [0xF0, 0x00, 0x10, 0x00, 0x00], backlen: [0x20, 0x85]),
    longString(0x67, 16377, header: [0xF0] + le32(16377), backlen: [0x7F, 0xFE]),
    // Entry size 16383: Redis's 2-byte threshold is "< 16383", so this takes 3 bytes.
    longString(0x68, 16378, header: [0xF0] + le32(16378), backlen: [0x00, 0xFF, 0xFF]),
    longString(0x69, 16379, header: [0xF0] + le32(16379), backlen: [0x01, 0x80, 0x80]),
]

@Test(arguments: encodingCases)
func listpackEncodesLikeRedis(_ c: EncodingCase) {
    let built = buildListpack([.raw(c.input)])
    #expect(built == listpack(entries: [c.entry], count: 1))
    #expect(withView(built) { Listpack.validate($0) })
    #expect(decodeListpack(built) == [String(decoding: c.input, as: UTF8.self)])
}

@Test func integerAppendMatchesStringAppend() {
    let values: [Int64] = [0, 1, 127, 128, -1, -4096, 4095, 4096, 32767, 32768, -32769, 8_388_607,
                           8_388_608, -8_388_609, 1 << 31, -(1 << 31) - 1, .max, .min]
    #expect(buildListpack(values.map { .n($0) }) == buildListpack(values.map { .s(String($0)) }))
    var b = ListpackBuilder()
    defer { b.free() }
    b.append(PackedValue.int(300))
    withView("300") { b.append(PackedValue.bytes($0)) }
    withView("x") { b.append(PackedValue.bytes($0)) }
    let blob = b.withBytes { $0.array }
    #expect(blob == buildListpack([.n(300), .n(300), .s("x")]))
}

@Test func emptyListpack() {
    let blob = buildListpack([])
    #expect(blob == [7, 0, 0, 0, 0, 0, 0xFF])
    withView(blob) { v in
        #expect(Listpack.validate(v))
        #expect(Listpack.count(v) == 0)
    }
}

@Test func mixedElementsRoundTrip() {
    var rng = SeededRNG(seed: 11)
    for _ in 0..<200 {
        var elements: [Element] = []
        var texts: [String] = []
        for _ in 0..<Int.random(in: 0...40, using: &rng) {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                let i = Int64.random(in: .min ... .max, using: &rng) >> Int64.random(in: 0...63, using: &rng)
                elements.append(.n(i))
                texts.append(String(i))
            case 1:
                let s = String(Int.random(in: -5000...5000, using: &rng))
                elements.append(.s(s))
                texts.append(s)
            default:
                let n = [0, 1, 63, 64, 200, 4095, 4096, 5000].randomElement(using: &rng)!
                let bytes = (0..<n).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
                elements.append(.raw(bytes))
                texts.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        let blob = buildListpack(elements)
        withView(blob) { v in
            #expect(Listpack.validate(v))
            #expect(Listpack.count(v) == elements.count)
        }
        #expect(decodeListpack(blob) == texts)
    }
}

@Test func forEachStopsWhenBodyReturnsFalse() {
    let blob = buildListpack([.s("a"), .s("b"), .s("c")])
    var seen: [String] = []
    withView(blob) { v in
        Listpack.forEach(v) {
            seen.append($0.text)
            return seen.count < 2
        }
    }
    #expect(seen == ["a", "b"])
}

@Test func headerCountSaturatesAt65535() {
    var b = ListpackBuilder()
    defer { b.free() }
    for i in 0..<65534 { b.append(Int64(i % 100)) }
    b.withBytes { v in
        #expect(BlobBytes.u16(v.base, 4) == 65534)
        #expect(Listpack.validate(v) && Listpack.count(v) == 65534)
    }
    b.append(1)
    b.withBytes { v in
        #expect(BlobBytes.u16(v.base, 4) == 65535)
        #expect(Listpack.validate(v) && Listpack.count(v) == 65535)
    }
    for _ in 0..<5000 { b.append(2) }
    #expect(b.count == 70535)
    b.withBytes { v in
        #expect(BlobBytes.u16(v.base, 4) == 65535)
        #expect(Listpack.validate(v) && Listpack.count(v) == 70535)
        #expect(Int(BlobBytes.u32(v.base, 0)) == v.count && v.count == b.byteCount)
    }
}

@Test func resetReusesTheBuilder() {
    var b = ListpackBuilder(capacityHint: 1)
    defer { b.free() }
    withView([UInt8](repeating: 0x41, count: 10_000)) { b.append($0) }
    b.reset()
    #expect(b.count == 0 && b.byteCount == 7)
    withView("hello") { b.append($0) }
    b.append(-5)
    #expect(b.withBytes { $0.array } == buildListpack([.s("hello"), .n(-5)]))
}

// MARK: - Malformed input

@Test func handDamagedListpacksAreRejected() {
    let good = buildListpack([.s("abc"), .n(1000), .s(String(repeating: "z", count: 200))])
    expectEditsRejected(good, by: Listpack.validate, [
        (0, good[0] &+ 1, "total bytes larger than the blob"),
        (-1, 0xFE, "last byte not the terminator"),
        (4, 2, "count says 2, there are 3"),
        (10, 5, "backlen of \"abc\" says 5, not 4"),
        (6, 0xF5, "unknown encoding"),
        (6, 0xF0, "32-bit string length (from \"abc\") runs past the terminator"),
        (6, 0xFF, "terminator in the middle"),
    ])
    expectRejected(Array(good.dropLast()), by: Listpack.validate, "no terminator, total mismatch")
    var unknownCount = good
    unknownCount[4] = 0xFF
    unknownCount[5] = 0xFF
    #expect(withView(unknownCount) { Listpack.validate($0) && Listpack.count($0) == 3 })
}

@Test func listpackSurvivesTruncationAndMutation() {
    let seeds = [
        buildListpack([.s("abc"), .n(-1), .n(1 << 40), .s(""), .s(String(repeating: "q", count: 70))]),
        buildListpack(encodingCases.prefix(38).map { .raw($0.input) }),
        buildListpack([.raw([UInt8](repeating: 0x7A, count: 4100)), .n(7)]),
        buildListpack([]),
    ]
    let accepted = fuzz(seeds, mutations: 20_000, seed: 99) { v in
        var sum = 0
        var n = 0
        Listpack.forEach(v) {
            sum &+= touch($0)
            n += 1
            return true
        }
        guard Listpack.validate(v) else {
            _ = Listpack.count(v)
            return false
        }
        #expect(Listpack.count(v) == n)
        return true
    }
    #expect(accepted >= seeds.count)  // at least the untruncated seeds
}
