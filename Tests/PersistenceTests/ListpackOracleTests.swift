// ListpackOracleTests.swift — ListpackBuilder against the real redis-server (7.0, Debian).
//
// Redis is started with compression off and listpack limits raised, so a hash, a sorted set
// and a list holding every boundary value (integer encodings, canonical and non-canonical
// integer strings, string lengths 0...16379 around the backlen thresholds) stay listpacks.
// DUMP returns each object's listpack verbatim; the builder, fed the same elements in the same
// order, must produce the same bytes. Each DUMP's CRC64 also checks tandem_crc64 against Redis.
@testable import Persistence
@testable import Keyspace
import CTandem
import Keyspace
import Platform
import Testing

let oracleValues: [String] = [
    "0", "1", "127", "128", "-1", "-128", "-4096", "4095", "4096", "-4097", "32767", "32768", "-32768",
    "-32769", "8388607", "8388608", "-8388608", "-8388609", "2147483647", "2147483648", "-2147483648",
    "-2147483649", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
    "-9223372036854775809", "12345678901234567890", "", "123", "0123", "-0", " 1", "1 ", "+1", "00", "-",
    "1.5", "hello",
] + [(63, "a"), (64, "b"), (125, "c"), (126, "d"), (4095, "e"), (4096, "f")].map {
    String(repeating: $0.1, count: $0.0)
}
let oracleLongValues = [16377, 16378, 16379].map { String(repeating: "L", count: $0) }

/// (ZADD score argument, the score text Redis stores in the listpack), ascending. Note -0:
/// Redis 7.0 formats a zero score as "0" (so the integer 0) whatever its sign.
let oracleScores: [(String, String)] = [
    ("-2147483649", "-2147483649"), ("-8388609", "-8388609"), ("-4097", "-4097"), ("-1", "-1"),
    ("-0", "0"), ("0.25", "0.25"), ("1.5", "1.5"), ("127", "127"), ("128", "128"), ("4095", "4095"),
    ("4096", "4096"), ("32768", "32768"), ("8388608", "8388608"), ("2147483648", "2147483648"),
    ("1e15", "1000000000000000"),
]

func startOracle() throws -> RedisOracle {
    try RedisOracle([
        "--rdbcompression", "no",
        "--hash-max-listpack-entries", "1000", "--hash-max-listpack-value", "20000",
        "--zset-max-listpack-entries", "1000", "--zset-max-listpack-value", "20000",
        "--list-max-listpack-size", "-5",
    ])
}

/// DUMPs `key` and checks the payload's version and CRC64.
func dump(_ redis: RedisOracle, _ key: String) throws -> DumpPayload {
    guard case .bulk(let bytes?) = try redis.call("DUMP", key) else { throw OracleError("DUMP \(key) failed") }
    let payload = try DumpPayload(bytes)
    #expect(payload.version == RDBFormat.version)
    let crc = bytes.withUnsafeBytes { tandem_crc64(0, $0.baseAddress, bytes.count - 8) }
    #expect(crc == payload.crc, "CRC64 of the DUMP payload of \(key)")
    return payload
}

/// Compares without printing 40 KB arrays: sizes and the first differing offset.
func expectSameBytes(_ built: [UInt8], _ redis: [UInt8], _ what: String) {
    let common = Swift.min(built.count, redis.count)
    let firstDifference = (0..<common).first { built[$0] != redis[$0] } ?? common
    let same = built == redis  // not inside #expect, which would print both arrays
    #expect(
        same,
        "\(what): built \(built.count) bytes, redis \(redis.count); first difference at \(firstDifference)")
}

@Test func hashListpackMatchesRedis() throws {
    let redis = try startOracle()
    defer { redis.stop() }
    let values = oracleValues + oracleLongValues
    var args = ["HSET", "h"].map { Array($0.utf8) }
    var elements: [Element] = []
    for (i, field) in values.enumerated() {
        let value = values[(i + 1) % values.count]
        args += [Array(field.utf8), Array(value.utf8)]
        elements += [.s(field), .s(value)]
    }
    #expect(try redis.call(args) == .integer(values.count))
    #expect(try redis.call("OBJECT", "ENCODING", "h") == .bulk(Array("listpack".utf8)))
    var payload = try dump(redis, "h")
    #expect(payload.type == RDBFormat.typeHashListpack)
    let blob = try payload.string()
    #expect(payload.atEnd)
    expectSameBytes(buildListpack(elements), blob, "hash")
    #expect(withView(blob) { Listpack.validate($0) })
    #expect(decodeListpack(blob) == elements.map { if case .s(let s) = $0 { s } else { "" } })
}

@Test func zsetListpackMatchesRedis() throws {
    let redis = try startOracle()
    defer { redis.stop() }
    let members = Array(oracleValues.reversed().prefix(oracleScores.count - 1)) + [oracleLongValues[1]]
    var args = ["ZADD", "z"].map { Array($0.utf8) }
    var elements: [Element] = []
    for (member, (score, stored)) in zip(members, oracleScores) {
        args += [Array(score.utf8), Array(member.utf8)]
        elements += [.s(member), .s(stored)]
    }
    #expect(try redis.call(args) == .integer(members.count))
    #expect(try redis.call("OBJECT", "ENCODING", "z") == .bulk(Array("listpack".utf8)))
    var payload = try dump(redis, "z")
    #expect(payload.type == RDBFormat.typeZSetListpack)
    let blob = try payload.string()
    #expect(payload.atEnd)
    expectSameBytes(buildListpack(elements), blob, "zset")
}

@Test func listNodeListpackMatchesRedis() throws {
    let redis = try startOracle()
    defer { redis.stop() }
    let args = [Array("RPUSH".utf8), Array("l".utf8)] + oracleValues.map { Array($0.utf8) }
    #expect(try redis.call(args) == .integer(oracleValues.count))
    var payload = try dump(redis, "l")
    #expect(payload.type == RDBFormat.typeListQuicklist2)
    #expect(try payload.length() == 1, "one quicklist node")
    #expect(try payload.length() == RDBFormat.quicklistNodePacked)
    let blob = try payload.string()
    #expect(payload.atEnd)
    expectSameBytes(buildListpack(oracleValues.map { .s($0) }), blob, "list node")
}
