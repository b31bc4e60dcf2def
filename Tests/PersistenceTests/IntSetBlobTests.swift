// IntSetBlobTests.swift — IntSetBlob (Sources/Persistence/IntSetBlob.swift).
//
// Covers: IntSet's block at each width (2, 4, 8, including after an upgrade) is byte for byte
// the intset Redis writes, built here independently from the format; validate, forEach and
// makeIntSet round trips; rejection of empty, unsorted, duplicate, wrong-width and wrong-size
// blobs; and seeded fuzzing against guard pages.
@testable import Persistence
import Keyspace
import Platform
import Testing

/// Redis's intset encoding of `members` (sorted here) at `width`, built from the format.
func redisIntset(_ members: [Int64], width: Int) -> [UInt8] {
    var out = le32(width) + le32(members.count)
    for m in members.sorted() { out += le64(m).prefix(width) }
    return out
}

func intSet(_ members: [Int64]) -> IntSet {
    var s = IntSet()
    for m in members { s.insert(m) }
    return s
}

func blobMembers(_ blob: [UInt8]) -> [Int64] {
    withView(blob) { v in
        var out: [Int64] = []
        IntSetBlob.forEach(v) { out.append($0) }
        return out
    }
}

@Test(arguments: [
    ([5, -3, 0, 32767, -32768] as [Int64], 2),
    ([1, 32768, -40000, 7] as [Int64], 4),
    ([Int64.min, -1, 0, 1 << 40, Int64.max] as [Int64], 8),
])
func intSetBlockIsRedisIntset(_ members: [Int64], _ width: Int) {
    var s = intSet(members)
    defer { s.free() }
    let expected = redisIntset(members, width: width)
    #expect(IntSetBlob.bytes(of: s).array == expected)
    #expect(withView(expected) { IntSetBlob.validate($0) })
    #expect(blobMembers(expected) == members.sorted())
    // The width stays after the wide member goes, as in Redis.
    if width > 2, let wide = members.first(where: { IntSet.width(for: $0) == width }) {
        s.remove(wide)
        let rest = members.filter { $0 != wide }
        #expect(IntSetBlob.bytes(of: s).array == redisIntset(rest, width: width))
    }
}

@Test func makeIntSetCopiesAValidatedBlob() {
    let blob = redisIntset([-70000, 3, 9], width: 4)
    var s = withView(blob) { IntSetBlob.makeIntSet($0) }
    defer { s.free() }
    #expect(s.count == 3 && s.width == 4 && s.contains(9) && !s.contains(4))
    s.insert(1 << 50)
    #expect(IntSetBlob.bytes(of: s).array == redisIntset([-70000, 3, 9, 1 << 50], width: 8))
}

@Test func malformedIntsetsAreRejected() {
    func rejects(_ blob: [UInt8], _ why: Comment) { expectRejected(blob, by: IntSetBlob.validate, why) }
    rejects(redisIntset([], width: 2), "empty")
    rejects([2, 0, 0, 0, 1, 0, 0], "shorter than the header")
    rejects(redisIntset([1, 2], width: 3), "width 3")
    rejects(le32(16) + le32(1) + le64(1) + le64(0), "width 16")
    rejects(redisIntset([1, 2], width: 2) + [0, 0], "trailing bytes")
    rejects(Array(redisIntset([1, 2], width: 2).dropLast()), "cut short")
    rejects(le32(2) + le32(2) + [5, 0, 5, 0], "duplicate")
    rejects(le32(4) + le32(2) + le32(5) + le32(4), "descending")
    rejects(le32(2) + le32(0x4000_0000) + [1, 0], "count far beyond the blob")
}

@Test func intsetSurvivesTruncationAndMutation() {
    let seeds = [
        redisIntset([-5, 0, 7, 300], width: 2),
        redisIntset([-70000, 1, 70000], width: 4),
        redisIntset([.min, 0, .max], width: 8),
    ]
    fuzz(seeds, mutations: 20_000, seed: 3) { v in
        var members: [Int64] = []
        IntSetBlob.forEach(v) { members.append($0) }
        guard IntSetBlob.validate(v) else { return false }
        #expect(members == members.sorted() && Set(members).count == members.count && !members.isEmpty)
        return true
    }
}
