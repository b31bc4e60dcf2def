// BacklogRetentionTests.swift — the ring as Redis 7's shared replication buffer: bytes a reader
// still needs stay past the repl-backlog-size window, only the capacity laps them, released
// pages go back to the kernel (and punching never touches a byte still held, whatever the
// wrap-around), and `release` shrinks a ring without an append.
import Glibc
import Platform
import Replication
import Testing

private let page = 4096

/// The expected state with an explicit start: every byte appended after `base`, and the number
/// of the last byte dropped.
private struct RetentionModel {
    let capacity: Int
    let base: Int64
    var stream: [UInt8] = []
    var start: Int64

    init(capacity: Int, base: Int64) {
        self.capacity = capacity
        self.base = base
        start = base
    }

    var end: Int64 { base + Int64(stream.count) }
    var held: ArraySlice<UInt8> { stream[Int(start - base)...] }

    mutating func append(_ bytes: [UInt8], keepingFrom: Int64) {
        stream += bytes
        start = max(start, end - Int64(capacity), min(keepingFrom - 1, end))
    }

    mutating func release(keepingFrom: Int64) { start = max(start, min(keepingFrom - 1, end)) }
}

private func append(_ ring: inout BacklogRing, _ bytes: [UInt8], keepingFrom: Int64) {
    bytes.withUnsafeBytes { ring.append($0.baseAddress!, count: $0.count, keepingFrom: keepingFrom) }
}

private func held(_ ring: borrowing BacklogRing) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: ring.histlen)
    let n = out.withUnsafeMutableBytes { ring.copy(from: ring.firstByteOffset, maxBytes: $0.count, into: $0.baseAddress!) }
    return n == out.count ? out : nil
}

private func pattern(_ count: Int, _ seed: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) } }

@Test func aReaderKeepsBytesPastTheWindowUntilTheCapacity() throws {
    let capacity = 64 * page, window: Int64 = 4 * Int64(page)
    var ring = try BacklogRing(capacity: capacity, replID: replID(40), startOffset: 0)
    // A reader stuck at byte 1: a burst of 40 pages stays whole.
    for i in 0..<40 { append(&ring, pattern(page, i), keepingFrom: 1) }
    #expect(ring.histlen == 40 * page)
    let holdsTheFirstByte = ring.contains(offset: 1)
    #expect(holdsTheFirstByte)
    // The reader moves to byte 30 pages + 1: what is before it and out of the window goes.
    let reader = Int64(30 * page) + 1
    append(&ring, pattern(10, 99), keepingFrom: min(ring.endOffset + 10 - window + 1, reader))
    #expect(ring.firstByteOffset == reader)
    // Without readers the window alone decides.
    append(&ring, pattern(10, 98), keepingFrom: ring.endOffset + 10 - window + 1)
    #expect(ring.histlen == Int(window))
    // A reader never releases more than the capacity holds: 100 pages keep the last 64.
    for i in 0..<100 { append(&ring, pattern(page, i), keepingFrom: 1) }
    #expect(ring.histlen == capacity)
}

@Test func releasedPagesGoBackToTheKernel() throws {
    let capacity = 1024 * page
    var ring = try BacklogRing(capacity: capacity, replID: replID(41), startOffset: 0)
    #expect(ring.committedBytes == 0, "a new ring commits nothing")
    for i in 0..<512 { append(&ring, pattern(page, i), keepingFrom: 1) }
    #expect(ring.committedBytes >= 512 * page)
    // The reader caught up: release keeps a 16-page window, the rest is punched.
    ring.release(keepingFrom: ring.endOffset - Int64(16 * page) + 1)
    #expect(ring.histlen == 16 * page)
    #expect(ring.committedBytes <= 17 * page, "committed \(ring.committedBytes)")
    // Streaming with a small window around the ring several times commits only about the window
    // plus one release batch.
    for i in 0..<5000 {
        append(&ring, pattern(1000, i), keepingFrom: ring.endOffset + 1000 - Int64(16 * page) + 1)
    }
    #expect(ring.committedBytes <= 16 * page + 256 * 1024 + 2 * page, "committed \(ring.committedBytes)")
    #expect(held(ring)?.count == 16 * page)
}

/// Random appends and releases on a ring of a few pages, wrapping many times, with the ring
/// often full: the held bytes always match the model, so a punch never hit a byte still held.
@Test(arguments: [4, 7])
func punchingNeverTouchesHeldBytes(pages: Int) throws {
    let capacity = pages * page
    var rng = SeededRNG(seed: UInt64(pages) * 104_729)
    var ring = try BacklogRing(capacity: capacity, replID: replID(42), startOffset: 1234)
    var model = RetentionModel(capacity: capacity, base: 1234)
    for step in 0..<3000 {
        let size: Int
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<6: size = Int.random(in: 1...page, using: &rng)
        case 6..<9: size = Int.random(in: page...capacity, using: &rng)
        default: size = Int.random(in: capacity...2 * capacity, using: &rng)
        }
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let newEnd = model.end + Int64(size)
        // A reader somewhere in (or before) the held range, or none.
        let keep: Int64 = Bool.random(using: &rng)
            ? model.start + Int64.random(in: 0...Int64(capacity), using: &rng) : newEnd - Int64(page) + 1
        append(&ring, bytes, keepingFrom: keep)
        model.append(bytes, keepingFrom: keep)
        if step % 7 == 0 {
            let to = model.start + Int64.random(in: 0...Int64(model.held.count), using: &rng)
            ring.release(keepingFrom: to)
            model.release(keepingFrom: to)
        }
        #expect(ring.startOffset == model.start && ring.endOffset == model.end, "step \(step)")
        #expect(held(ring).map { $0[...] } == model.held, "step \(step): held bytes")
        if ring.startOffset != model.start { return }
    }
    #expect(ring.committedBytes <= capacity)
}

@Test func aLappedReaderFailsItsRead() throws {
    let capacity = 4 * page
    var ring = try BacklogRing(capacity: capacity, replID: replID(43), startOffset: 0)
    append(&ring, pattern(page, 1), keepingFrom: 1)
    var buffer = [UInt8](repeating: 0, count: capacity)
    // The reader wants byte 1, but the ring must take 5 more pages: it is lapped.
    for i in 0..<5 { append(&ring, pattern(page, i), keepingFrom: 1) }
    let n = buffer.withUnsafeMutableBytes { ring.copy(from: 1, maxBytes: $0.count, into: $0.baseAddress!) }
    #expect(n == nil)
}
