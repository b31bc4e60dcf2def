// Support.swift — helpers for the backlog ring tests: a seeded RNG, the byte every stream
// offset carries in the fork tests, reading a ring's contents two ways, a child-process
// runner with a deadline, and a page of shared memory for a child to report through.
import Glibc
import Platform
import Replication
import Testing

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

/// A 40-character replication id made from `n`.
func replID(_ n: Int) -> String {
    let hex = String(n, radix: 16)
    return String(repeating: "0", count: 40 - hex.count) + hex
}

/// The byte the stream carries at `offset` in the tests that check bytes by offset alone. It
/// repeats every `PatternSource.period` bytes, a prime, so a byte left from an earlier lap of
/// a ring (whose size is a power of two) does not match the one expected.
@inline(__always)
func patternByte(_ offset: Int64) -> UInt8 {
    UInt8(truncatingIfNeeded: (UInt64(offset % PatternSource.period) &* 0x9E37_79B1) >> 13)
}

/// The bytes numbered `from` … `through` of the pattern stream.
func pattern(_ from: Int64, through: Int64) -> [UInt8] {
    from > through ? [] : (from...through).map(patternByte)
}

/// The pattern stream laid out so that any run of up to `maxRun` bytes is contiguous: what a
/// writer appends and a reader compares with, without building the whole stream. Allocated
/// before a fork, it allocates nothing after.
final class PatternSource {
    static let period: Int64 = 4099
    let maxRun: Int
    private let bytes: UnsafeMutablePointer<UInt8>

    init(maxRun: Int) {
        self.maxRun = maxRun
        let count = Int(Self.period) + maxRun
        bytes = .allocate(capacity: count)
        for i in 0..<count { bytes[i] = patternByte(Int64(i)) }
    }

    deinit { bytes.deallocate() }

    /// The bytes numbered `offset`, `offset + 1`, … (at most `maxRun` of them).
    func run(from offset: Int64) -> UnsafeRawPointer { UnsafeRawPointer(bytes + Int(offset % Self.period)) }

    /// Whether `count` (≤ maxRun) bytes at `buffer` are the stream's from `offset` on.
    func matches(_ buffer: UnsafeRawPointer, _ count: Int, from offset: Int64) -> Bool {
        count == 0 || memcmp(buffer, run(from: offset), count) == 0
    }
}

/// Everything the ring holds, read with `copy` (nil if the read was refused).
func heldBytes(_ ring: borrowing BacklogRing) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: ring.histlen)
    let n = out.withUnsafeMutableBytes {
        ring.copy(from: ring.firstByteOffset, maxBytes: $0.count, into: $0.baseAddress!)
    }
    return n == out.count ? out : nil
}

/// Everything from `offset` on, read with `withChunks`, with the two views' sizes.
func chunkedBytes(_ ring: borrowing BacklogRing, from offset: Int64, maxBytes: Int = .max)
    -> (bytes: [UInt8], first: Int, second: Int)?
{
    ring.withChunks(from: offset, maxBytes: maxBytes) { a, b in (a.array + b.array, a.count, b.count) }
}

/// Runs `child` in a forked process and returns its exit status, or -1 when it did not exit
/// within `seconds` (it is killed then). `child` must not return normally or touch Swift
/// runtime state another thread could hold locked at fork time: compute, then `_exit`.
func runInChild(seconds: Double = 5, _ child: () -> Int32) -> Int32 {
    let pid = fork()
    if pid == 0 { _exit(child()) }
    #expect(pid > 0, "fork failed")
    if pid < 0 { return -1 }
    return waitForChild(pid, seconds: seconds)
}

/// Waits for `pid` up to `seconds`; its exit status, or -1 (killed) on timeout or signal.
func waitForChild(_ pid: pid_t, seconds: Double) -> Int32 {
    let deadline = Clock.monotonicMicros() + Int64(seconds * 1_000_000)
    var status: Int32 = 0
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { return status & 0x7f == 0 ? (status >> 8) & 0xff : -1 }
        if r == -1 && errno != EINTR { return -1 }
        if Clock.monotonicMicros() > deadline {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            return -1
        }
        usleep(1000)
    }
}

/// A page of MAP_SHARED anonymous memory: eight 64-bit slots a child and its parent share.
final class SharedSlots {
    private let page: UnsafeMutableRawPointer

    init() {
        page = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)!
        page.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
    }

    deinit { munmap(page, 4096) }

    /// The slot's address, to use with the CTandem atomics.
    func slot(_ i: Int) -> UnsafeMutablePointer<UInt64> {
        (page + 8 * i).assumingMemoryBound(to: UInt64.self)
    }
}

/// Names in /dev/shm that a ring of this process could have left.
func leftoverBacklogNames() -> [String] {
    let prefix = "tandem-backlog-\(getpid())-"
    guard let dir = opendir("/dev/shm") else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name.hasPrefix(prefix) { names.append(name) }
    }
    return names
}
