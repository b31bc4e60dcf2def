// BacklogForkTests.swift — the ring across fork(): what a child appends the parent reads
// through its own mapping; a child reads everything the parent appends while both run, with
// flow control so it never falls behind; and a child reading a parent that laps it never
// accepts a torn byte (it may only be told it fell behind). Children report by exit status
// and through a shared page, allocate nothing, and are killed if they outlive their deadline.
import CTandem
import Glibc
import Platform
import Replication
import Testing

/// Exit statuses of the reading children.
enum ChildExit {
    static let ok: Int32 = 0, mismatch: Int32 = 1, refused: Int32 = 2, timedOut: Int32 = 3
}

@Test func parentReadsWhatAChildAppended() throws {
    var ring = try BacklogRing(capacity: 4096, replID: replID(20), startOffset: 1000)
    let source = PatternSource(maxRun: 700)
    let status = runInChild {
        var rng = SeededRNG(seed: 3)
        var end: Int64 = 1000
        while end < 11_000 {
            let n = min(Int.random(in: 1...700, using: &rng), Int(11_000 - end))
            ring.append(source.run(from: end + 1), count: n)
            end += Int64(n)
        }
        return 0
    }
    #expect(status == 0)
    #expect(ring.endOffset == 11_000)
    #expect(ring.startOffset == 11_000 - 4096)
    #expect(heldBytes(ring) == pattern(11_000 - 4095, through: 11_000))
    #expect(chunkedBytes(ring, from: 10_001)?.bytes == pattern(10_001, through: 11_000))
}

@Test func childReadsEverythingTheParentAppends() throws {
    let capacity = 1 << 16
    let total: Int64 = 2 << 20
    var ring = try BacklogRing(capacity: capacity, replID: replID(21), startOffset: 0)
    let source = PatternSource(maxRun: 9000)
    let shared = SharedSlots()
    let consumed = shared.slot(0)  // the child's offset: every byte up to it verified
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 5000, alignment: 8)
    defer { buffer.deallocate() }

    let pid = fork()
    if pid == 0 {
        // Reader: everything from byte 1 on, in reads of up to 5000 bytes, checking each one.
        let deadline = Clock.monotonicMicros() + 4_000_000
        var next: Int64 = 1
        while next <= total {
            guard let n = ring.copy(from: next, maxBytes: 5000, into: buffer) else { _exit(ChildExit.refused) }
            if !source.matches(buffer, n, from: next) { _exit(ChildExit.mismatch) }
            next += Int64(n)
            tandem_store_release_u64(consumed, UInt64(next - 1))
            if n == 0 && Clock.monotonicMicros() > deadline { _exit(ChildExit.timedOut) }
        }
        _exit(ChildExit.ok)
    }
    #expect(pid > 0)
    // Writer: never more than `capacity` bytes ahead of the reader, so it must see every byte.
    var rng = SeededRNG(seed: 21)
    let deadline = Clock.monotonicMicros() + 4_000_000
    var end: Int64 = 0
    while end < total && Clock.monotonicMicros() < deadline {
        let room = Int64(capacity) - (end - Int64(tandem_load_acquire_u64(consumed)))
        let n = min(Int64(Int.random(in: 1...9000, using: &rng)), room, total - end)
        if n <= 0 {
            sched_yield()
            continue
        }
        ring.append(source.run(from: end + 1), count: Int(n))
        end += n
    }
    #expect(end == total)
    #expect(waitForChild(pid, seconds: 5) == ChildExit.ok)
    #expect(Int64(tandem_load_acquire_u64(consumed)) == total)
}

@Test func aLappedReaderNeverAcceptsTornBytes() throws {
    let capacity = 4096
    var ring = try BacklogRing(capacity: capacity, replID: replID(22), startOffset: 0)
    let source = PatternSource(maxRun: capacity)
    let shared = SharedSlots()
    let started = shared.slot(0), finalEnd = shared.slot(1), done = shared.slot(2)
    let verified = shared.slot(3), refusals = shared.slot(4)
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    defer { buffer.deallocate() }

    let pid = fork()
    if pid == 0 {
        // Reader: copies as much as it can; when lapped it starts again a little behind the
        // newest byte. Every byte it is allowed to keep must be the right one.
        let deadline = Clock.monotonicMicros() + 4_000_000
        var next: Int64 = 1
        var good: UInt64 = 0, refused: UInt64 = 0, restart: Int64 = 1
        tandem_store_release_u64(started, 1)
        while Clock.monotonicMicros() < deadline {
            guard let n = ring.copy(from: next, maxBytes: capacity, into: buffer) else {
                refused += 1
                restart = restart % Int64(capacity) + 97
                next = max(ring.firstByteOffset, ring.endOffset + 1 - restart)
                continue
            }
            if !source.matches(buffer, n, from: next) { _exit(ChildExit.mismatch) }
            good += UInt64(n)
            next += Int64(n)
            if n == 0 && tandem_load_acquire_u64(done) != 0 && next > Int64(tandem_load_relaxed_u64(finalEnd)) {
                tandem_store_relaxed_u64(verified, good)
                tandem_store_relaxed_u64(refusals, refused)
                _exit(ChildExit.ok)
            }
        }
        _exit(ChildExit.timedOut)
    }
    #expect(pid > 0)
    // Writer: as fast as it can for 300 ms once the reader runs, lapping it again and again.
    while tandem_load_acquire_u64(started) == 0 { sched_yield() }
    var rng = SeededRNG(seed: 22)
    let stop = Clock.monotonicMicros() + 300_000
    var end: Int64 = 0
    while Clock.monotonicMicros() < stop {
        let n = Int.random(in: 1...3000, using: &rng)
        ring.append(source.run(from: end + 1), count: n)
        end += Int64(n)
    }
    tandem_store_relaxed_u64(finalEnd, UInt64(end))
    tandem_store_release_u64(done, 1)
    #expect(waitForChild(pid, seconds: 5) == ChildExit.ok)
    #expect(tandem_load_acquire_u64(verified) > 0)
    print("lapped reader: \(end) bytes written, \(tandem_load_acquire_u64(verified)) verified, "
        + "\(tandem_load_acquire_u64(refusals)) reads refused")
}
