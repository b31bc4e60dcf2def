// Support.swift — helpers for the Persistence tests: String/[UInt8] ⇄ ByteView, a seeded RNG,
// decoded values as strings, and a guard-page buffer that turns any read outside a blob into
// a crash, so the malformed-input tests catch out-of-bounds reads without a sanitizer.
import Glibc
import Testing
import Keyspace
import Platform

/// Calls `body` with a view of `bytes` (valid only inside `body`).
func withView<R>(_ bytes: [UInt8], _ body: (ByteView) throws -> R) rethrows -> R {
    try bytes.withUnsafeBufferPointer { p in
        try body(ByteView(p.baseAddress ?? ByteView("" as StaticString).base, p.count))
    }
}

func withView<R>(_ s: String, _ body: (ByteView) throws -> R) rethrows -> R {
    try withView(Array(s.utf8), body)
}

extension PackedValue {
    /// The value's text, as Redis would reply it.
    var text: String {
        switch self {
        case .bytes(let b): return b.string
        case .int(let i): return String(i)
        }
    }
}

/// xorshift64*: the same sequence on every run.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// Pages of readable memory with an inaccessible page on each side. `atEnd` places a blob so
/// its last byte is the last readable one (an over-read faults); `atStart` so its first byte
/// is the first readable one (an under-read faults).
final class GuardedBuffer {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let dataSize: Int
    private let region: UnsafeMutableRawPointer

    init(capacity: Int) {
        dataSize = (capacity + page - 1) / page * page
        let total = dataSize + 2 * page
        region = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        mprotect(region, page, PROT_NONE)
        mprotect(region + page + dataSize, page, PROT_NONE)
    }

    deinit { munmap(region, dataSize + 2 * page) }

    private var data: UnsafeMutablePointer<UInt8> { (region + page).assumingMemoryBound(to: UInt8.self) }

    func atEnd<R>(_ bytes: [UInt8], _ body: (ByteView) -> R) -> R {
        precondition(bytes.count <= dataSize)
        let p = data + (dataSize - bytes.count)
        bytes.withUnsafeBufferPointer { if $0.count > 0 { p.update(from: $0.baseAddress!, count: $0.count) } }
        return body(ByteView(UnsafePointer(p), bytes.count))
    }

    func atStart<R>(_ bytes: [UInt8], _ body: (ByteView) -> R) -> R {
        precondition(bytes.count <= dataSize)
        bytes.withUnsafeBufferPointer { if $0.count > 0 { data.update(from: $0.baseAddress!, count: $0.count) } }
        return body(ByteView(UnsafePointer(data), bytes.count))
    }
}

/// Feeds `check` every truncation of each seed blob, then `mutations` randomly damaged copies
/// (bytes overwritten, bits flipped, cut short, bytes inserted), each placed against both guard
/// pages. `check` returns whether the codec accepted the input; returns how many were accepted.
@discardableResult
func fuzz(_ seeds: [[UInt8]], mutations: Int, seed: UInt64, _ check: (ByteView) -> Bool) -> Int {
    let capacity = (seeds.map(\.count).max() ?? 0) + 64
    let guarded = GuardedBuffer(capacity: capacity)
    var accepted = 0
    func run(_ bytes: [UInt8]) {
        if guarded.atEnd(bytes, check) { accepted += 1 }
        _ = guarded.atStart(bytes, check)
    }
    for blob in seeds {
        for n in 0...blob.count { run(Array(blob[0..<n])) }
    }
    var rng = SeededRNG(seed: seed)
    for i in 0..<mutations {
        var b = seeds[i % seeds.count]
        let edits = Int.random(in: 1...4, using: &rng)
        for _ in 0..<edits where !b.isEmpty {
            let at = Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: b[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: b[at] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case 2: b.removeLast(Int.random(in: 0...Swift.min(4, b.count), using: &rng))
            default: b.insert(UInt8.random(in: 0...255, using: &rng), at: at)
            }
        }
        run(b)
    }
    return accepted
}

/// Reads every byte of `v` (so a view past the blob faults) and folds it into a number.
func touch(_ v: ByteView) -> Int {
    var sum = 0
    for i in 0..<v.count { sum &+= Int(v[i]) }
    return sum
}

func touch(_ v: PackedValue) -> Int {
    switch v {
    case .bytes(let b): return touch(b)
    case .int(let i): return Int(truncatingIfNeeded: i)
    }
}

/// The elements a codec's forEach yields from `blob`, as text.
func decodeTexts(_ blob: [UInt8], with forEach: (ByteView, (PackedValue) -> Bool) -> Void) -> [String] {
    withView(blob) { v in
        var out: [String] = []
        forEach(v) {
            out.append($0.text)
            return true
        }
        return out
    }
}

/// Expects `validate` to accept `good` and to reject each copy of it with one byte changed:
/// (offset — negative counts from the end —, new value, why it is malformed).
func expectEditsRejected(_ good: [UInt8], by validate: (ByteView) -> Bool, _ edits: [(Int, UInt8, Comment)]) {
    let valid = withView(good) { validate($0) }
    #expect(valid, "the unedited blob is valid")
    for (offset, value, why) in edits {
        var b = good
        b[offset < 0 ? b.count + offset : offset] = value
        let rejected = withView(b) { !validate($0) }
        #expect(rejected, why)
    }
}

func expectRejected(_ blob: [UInt8], by validate: (ByteView) -> Bool, _ why: Comment) {
    let rejected = withView(blob) { !validate($0) }
    #expect(rejected, why)
}
