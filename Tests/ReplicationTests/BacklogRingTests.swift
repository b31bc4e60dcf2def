// BacklogRingTests.swift — the backlog ring in one process: appends at every split point and
// seeded random appends against an array model, appends larger than the ring, contains() at
// the exact bounds Redis's masterTryPartialResynchronization uses, partial reads, resize up
// and down, reset and setReplID against a reader's generation, attaching by descriptor, and
// no name left in /dev/shm. The cross-process tests are in BacklogForkTests.swift.
import CTandem
import Glibc
import Platform
import Replication
import Testing

/// The ring's expected state: every byte ever appended after `base`.
struct RingModel {
    let capacity: Int
    let base: Int64
    var stream: [UInt8] = []

    var end: Int64 { base + Int64(stream.count) }
    var start: Int64 { max(base, end - Int64(capacity)) }
    var held: ArraySlice<UInt8> { stream[Int(start - base)...] }

    /// The bytes from stream offset `offset` to the end.
    func bytes(from offset: Int64) -> ArraySlice<UInt8> { stream[Int(offset - 1 - base)...] }
}

/// Checks offsets, histlen and the held bytes, read with `copy` and with `withChunks`.
func expectMatches(_ ring: borrowing BacklogRing, _ model: RingModel, _ note: String) {
    #expect(ring.endOffset == model.end, "\(note): end")
    #expect(ring.startOffset == model.start, "\(note): start")
    #expect(ring.firstByteOffset == model.start + 1, "\(note): first byte")
    #expect(ring.histlen == model.held.count, "\(note): histlen")
    #expect(heldBytes(ring).map { $0[...] } == model.held, "\(note): copy")
    guard let chunks = chunkedBytes(ring, from: ring.firstByteOffset) else {
        Issue.record("\(note): withChunks refused the first byte")
        return
    }
    #expect(chunks.bytes[...] == model.held, "\(note): withChunks")
    // The run wraps exactly when the oldest byte is not at the data index its position implies.
    let firstIndex = Int((model.start + 1) % Int64(model.capacity))
    #expect(chunks.first == min(model.held.count, model.capacity - firstIndex), "\(note): first view")
}

func appendBytes(_ ring: inout BacklogRing, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { ring.append(ByteView($0.baseAddress ?? ByteView("").base, $0.count)) }
}

@Test func appendsAtEverySplitPoint() throws {
    let capacity = 8
    var rng = SeededRNG(seed: 11)
    // The next byte's data index is (start + fill + 1) % capacity: every index, every fill
    // level, every size up to two rings and one.
    for start in Int64(0)..<Int64(capacity) {
        for fill in 0...capacity {
            for size in 0...(2 * capacity + 1) {
                var ring = try BacklogRing(capacity: capacity, replID: replID(1), startOffset: start)
                var model = RingModel(capacity: capacity, base: start)
                for bytes in [fill, size].map({ n in (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }) {
                    appendBytes(&ring, bytes)
                    model.stream += bytes
                }
                expectMatches(ring, model, "start \(start) fill \(fill) size \(size)")
            }
        }
    }
}

@Test(arguments: [1, 2, 3, 5, 13, 64])
func seededAppendsMatchModel(capacity: Int) throws {
    var rng = SeededRNG(seed: UInt64(capacity) * 7919)
    let bases: [Int64] = [0, 7, (1 << 40) + 3]
    for base in bases {
        var ring = try BacklogRing(capacity: capacity, replID: replID(2), startOffset: base)
        var model = RingModel(capacity: capacity, base: base)
        for step in 0..<300 {
            // Mostly small appends, some around the capacity, a few several rings long.
            let size: Int
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6: size = Int.random(in: 0...max(1, capacity / 3), using: &rng)
            case 6..<9: size = Int.random(in: 0...capacity + 1, using: &rng)
            default: size = Int.random(in: capacity...3 * capacity, using: &rng)
            }
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            appendBytes(&ring, bytes)
            model.stream += bytes
            expectMatches(ring, model, "capacity \(capacity) base \(base) step \(step)")
            // Every held offset, the caught-up one, and a bounded read from each.
            for offset in ring.firstByteOffset...(ring.endOffset + 1) {
                let limit = Int.random(in: 0...capacity, using: &rng)
                let read = chunkedBytes(ring, from: offset, maxBytes: limit)
                #expect(read?.bytes[...] == model.bytes(from: offset).prefix(limit), "offset \(offset) max \(limit)")
            }
        }
    }
}

@Test func appendLargerThanCapacityKeepsItsTail() throws {
    var ring = try BacklogRing(capacity: 16, replID: replID(3), startOffset: 500)
    var model = RingModel(capacity: 16, base: 500)
    for size in [5, 100, 16, 17, 1000, 3] {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
        appendBytes(&ring, bytes)
        model.stream += bytes
        expectMatches(ring, model, "after \(size)")
    }
    #expect(ring.endOffset == 500 + 5 + 100 + 16 + 17 + 1000 + 3)
    #expect(ring.histlen == 16)
}

/// The offsets in `range` a PSYNC could continue from.
func accepted(_ ring: borrowing BacklogRing, _ range: ClosedRange<Int64>) -> [Int64] {
    range.filter { ring.contains(offset: $0) }
}

/// Redis's test in masterTryPartialResynchronization, on repl_backlog->offset and histlen.
func redisAccepts(_ psyncOffset: Int64, backlogOff: Int64, histlen: Int) -> Bool {
    psyncOffset >= backlogOff && psyncOffset <= backlogOff + Int64(histlen)
}

@Test func containsMatchesRedisAtTheBounds() throws {
    var ring = try BacklogRing(capacity: 16, replID: replID(4), startOffset: 100)
    // Empty: only a replica that has everything (offset 100, asks for 101) continues.
    #expect(accepted(ring, 90...110) == [101])
    var buffer = [UInt8](repeating: 0, count: 10)
    #expect(buffer.withUnsafeMutableBytes { ring.copy(from: 101, maxBytes: 10, into: $0.baseAddress!) } == 0)
    #expect(chunkedBytes(ring, from: 100) == nil)

    appendBytes(&ring, pattern(101, through: 110))
    #expect(accepted(ring, 90...130) == Array(101...111))

    appendBytes(&ring, pattern(111, through: 120))  // drops 101...104
    #expect(ring.startOffset == 104 && ring.firstByteOffset == 105 && ring.endOffset == 120)
    #expect(accepted(ring, 90...130) == Array(105...121))
    #expect(chunkedBytes(ring, from: 104) == nil)
    #expect(chunkedBytes(ring, from: 122) == nil)
    #expect(chunkedBytes(ring, from: 121)?.bytes == [])
    #expect(chunkedBytes(ring, from: 113)?.bytes == pattern(113, through: 120))

    for offset in Int64(90)...130 {
        let redis = redisAccepts(offset, backlogOff: ring.firstByteOffset, histlen: ring.histlen)
        #expect(ring.contains(offset: offset) == redis, "offset \(offset)")
        #expect((chunkedBytes(ring, from: offset) != nil) == redis, "read at \(offset)")
    }
}

@Test func resizeKeepsTheNewestBytes() throws {
    var ring = try BacklogRing(capacity: 32, replID: replID(5), startOffset: 0)
    var model = RingModel(capacity: 32, base: 0)
    let first = pattern(1, through: 45)  // wrapped: start 13, end 45
    appendBytes(&ring, first)
    model.stream += first
    let generation = ring.generation

    // Up: everything is kept, offsets unchanged, room for more.
    try ring.resize(capacity: 100)
    #expect(ring.capacity == 100)
    #expect(ring.generation == generation && ring.replID == replID(5))
    #expect(ring.startOffset == 13 && ring.endOffset == 45)
    #expect(heldBytes(ring).map { $0[...] } == model.held)
    let more = pattern(46, through: 120)
    appendBytes(&ring, more)
    model.stream += more
    expectMatches(ring, RingModel(capacity: 100, base: 0, stream: model.stream), "after growing")

    // Down: only the newest 10 bytes stay, at the same offsets, and appends wrap in the new size.
    try ring.resize(capacity: 10)
    #expect(ring.startOffset == 110 && ring.endOffset == 120)
    #expect(heldBytes(ring) == pattern(111, through: 120))
    let last = pattern(121, through: 127)
    appendBytes(&ring, last)
    model.stream += last
    expectMatches(ring, RingModel(capacity: 10, base: 0, stream: model.stream), "after shrinking")

    // The same size is a no-op; growing an empty ring keeps it empty.
    try ring.resize(capacity: 10)
    #expect(ring.histlen == 10)
    var empty = try BacklogRing(capacity: 8, replID: replID(6), startOffset: 77)
    try empty.resize(capacity: 3)
    #expect(empty.startOffset == 77 && empty.endOffset == 77 && empty.histlen == 0)
}

@Test func resetAndNewReplIDChangeTheHistory() throws {
    var ring = try BacklogRing(capacity: 64, replID: replID(7), startOffset: 1000)
    appendBytes(&ring, pattern(1001, through: 1040))
    let generation = ring.generation
    #expect(generation & 1 == 0)
    #expect(chunkedBytes(ring, from: 1001)?.bytes == pattern(1001, through: 1040))

    // A promoted replica's new id: same bytes and offsets, but a reader of the old history is refused.
    ring.setReplID(replID(8))
    #expect(ring.replID == replID(8))
    #expect(ring.generation == generation + 2)
    #expect(ring.endOffset == 1040 && ring.histlen == 40)
    var buffer = [UInt8](repeating: 0, count: 64)
    let stale = buffer.withUnsafeMutableBytes {
        ring.copy(from: 1001, maxBytes: 64, into: $0.baseAddress!, generation: generation)
    }
    #expect(stale == nil)
    let current = buffer.withUnsafeMutableBytes {
        ring.copy(from: 1001, maxBytes: 64, into: $0.baseAddress!, generation: generation + 2)
    }
    #expect(current == 40 && Array(buffer[0..<40]) == pattern(1001, through: 1040))

    // A new history: empty, next byte 5001.
    ring.reset(replID: replID(9), startOffset: 5000)
    #expect(ring.replID == replID(9))
    #expect(ring.generation == generation + 4)
    #expect(ring.startOffset == 5000 && ring.endOffset == 5000 && ring.histlen == 0)
    #expect(ring.contains(offset: 5001) && !ring.contains(offset: 1001))
    #expect(ring.withChunks(from: 5001, generation: generation + 2) { _, _ in true } == nil)
    appendBytes(&ring, pattern(5001, through: 5100))
    #expect(heldBytes(ring) == pattern(5037, through: 5100))
}

@Test func attachedReaderSeesTheRingAndItsRetirement() throws {
    var ring = try BacklogRing(capacity: 50, replID: replID(10), startOffset: 20)
    appendBytes(&ring, pattern(21, through: 90))
    let reader = try BacklogRing(attaching: ring.fd)
    #expect(reader.fd == -1)
    #expect(reader.capacity == 50 && reader.replID == replID(10))
    #expect(heldBytes(reader) == pattern(41, through: 90))
    appendBytes(&ring, pattern(91, through: 95))
    #expect(reader.endOffset == 95 && chunkedBytes(reader, from: 91)?.bytes == pattern(91, through: 95))
    #expect(reader.isRetired == false)

    // After a resize the old mapping is frozen and says so; the new descriptor has the data.
    let oldFD = ring.fd
    try ring.resize(capacity: 20)
    #expect(ring.fd != oldFD)
    #expect(reader.isRetired && !ring.isRetired)
    appendBytes(&ring, pattern(96, through: 99))
    #expect(reader.endOffset == 95 && heldBytes(reader) == pattern(46, through: 95))
    let moved = try BacklogRing(attaching: ring.fd)
    #expect(heldBytes(moved) == pattern(80, through: 99))
}

@Test func attachRefusesWhatIsNotARing() throws {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer { fds.forEach { close($0) } }
    #expect(throws: SystemError("attach backlog", errno: EINVAL)) { _ = try BacklogRing(attaching: fds[0]) }

    var template = Array("/tmp/tandem-backlog-test-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    #expect(fd >= 0)
    _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
    defer { close(fd) }
    #expect(ftruncate(fd, 4096) == 0)  // zeros: no magic
    #expect(throws: SystemError("attach backlog", errno: EINVAL)) { _ = try BacklogRing(attaching: fd) }
}

@Test func nothingIsLeftInDevShm() throws {
    var ring = try BacklogRing(capacity: 1 << 16, replID: replID(11), startOffset: 0)
    #expect(leftoverBacklogNames() == [])
    try ring.resize(capacity: 1 << 12)
    #expect(leftoverBacklogNames() == [])
    // The descriptor is close-on-exec: a spawned worker gets it only through SCM_RIGHTS.
    #expect(fcntl(ring.fd, F_GETFD) & FD_CLOEXEC != 0)
}
