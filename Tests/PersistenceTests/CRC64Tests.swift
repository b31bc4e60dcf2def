// CRC64Tests.swift — tandem_crc64 (Sources/CTandem/crc64.c): the CRC-64/Jones check value,
// agreement with the bit-at-a-time definition at every length and alignment around the
// 8-byte fold, and incremental (chunked) checksums equal to one-shot ones. The oracle test in
// ListpackOracleTests.swift also checks it against the CRC redis-server puts in DUMP payloads.
import CTandem
import Testing

/// The definition: reflected polynomial, one bit at a time.
func referenceCRC64(_ crc: UInt64, _ bytes: some Sequence<UInt8>) -> UInt64 {
    var c = crc
    for b in bytes {
        c ^= UInt64(b)
        for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x95AC_9329_AC4B_C9B5 : c >> 1 }
    }
    return c
}

func crc64(_ bytes: ArraySlice<UInt8>, from crc: UInt64 = 0) -> UInt64 {
    bytes.withUnsafeBytes { tandem_crc64(crc, $0.baseAddress, $0.count) }
}

@Test func crc64CheckValue() {
    #expect(crc64(ArraySlice("123456789".utf8)) == 0xE9C6_D914_C4B8_D9CA)
    #expect(crc64(ArraySlice([])) == 0)
    #expect(tandem_crc64(0, nil, 0) == 0)
}

@Test func crc64MatchesDefinitionAtEveryAlignment() {
    var rng = SeededRNG(seed: 64)
    let data = (0..<600).map { _ in UInt8.random(in: 0...255, using: &rng) }
    for start in 0..<9 {
        for length in 0..<80 {
            let slice = data[start..<start + length]
            #expect(crc64(slice) == referenceCRC64(0, slice), "start \(start) length \(length)")
        }
    }
    #expect(crc64(data[...]) == referenceCRC64(0, data))
}

@Test func crc64IncrementalEqualsOneShot() {
    var rng = SeededRNG(seed: 7)
    let data = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
    let whole = crc64(data[...])
    for _ in 0..<200 {
        var crc: UInt64 = 0
        var at = 0
        while at < data.count {
            let n = Swift.min(Int.random(in: 0...37, using: &rng), data.count - at)
            crc = crc64(data[at..<at + n], from: crc)
            at += n
        }
        #expect(crc == whole)
    }
}
