/*
 * CommandRegistry: the command table laid out for lookup on the hot path.
 *
 * Specs live in one malloc'd array (trivial structs, no ARC). Names are found through a small
 * open-addressing index hashed case-insensitively, so "GET", "get" and "Get" find the same
 * entry without lowercasing into a temporary. Per-command statistics (INFO commandstats)
 * live in a parallel array, and so do the latency histograms (LatencyHistogram.swift), each
 * allocated when its command first runs with latency-tracking on.
 */
import CTandem
import Platform

struct CommandStats {
    var calls: Int64 = 0
    var microseconds: Int64 = 0
    var rejected: Int64 = 0
    var failed: Int64 = 0
}

struct CommandRegistry {
    let specs: UnsafeMutablePointer<CommandSpec>
    let count: Int
    let stats: UnsafeMutablePointer<CommandStats>
    /// Per-command latency counters, nil until the command is first timed.
    let histograms: UnsafeMutablePointer<UnsafeMutablePointer<Int64>?>
    /// True for entries that have "name|sub" entries.
    let hasSubcommands: UnsafeMutablePointer<Bool>
    /// True for the "name|sub" entries themselves: reachable only through their parent.
    let isSubcommandEntry: UnsafeMutablePointer<Bool>
    let index: UnsafeMutablePointer<Int32>
    let indexMask: Int
    /// rename-command: commands no longer found by their own name, and the names they answer to
    /// instead (lowercased). Only a lookup that missed consults them.
    let renamedAway: UnsafeMutablePointer<Bool>
    var renamedTo: [String: Int] = [:]
    /// Each name in upper case, `upperStride` bytes apart: clients send "SET" and "GET", and a
    /// name matched as words in either case costs a fraction of the byte-by-byte
    /// case-insensitive loop (12 instructions a byte, issue 20's profile).
    let upperNames: UnsafeMutablePointer<UInt8>
    static var upperStride: Int { 48 }

    init() {
        let all = CommandTable.all
        count = all.count
        specs = .allocate(capacity: count)
        specs.initialize(from: all, count: count)
        stats = .allocate(capacity: count)
        stats.initialize(repeating: CommandStats(), count: count)
        histograms = .allocate(capacity: count)
        histograms.initialize(repeating: nil, count: count)
        hasSubcommands = .allocate(capacity: count)
        hasSubcommands.initialize(repeating: false, count: count)
        isSubcommandEntry = .allocate(capacity: count)
        isSubcommandEntry.initialize(repeating: false, count: count)
        var size = 16
        while size < count * 4 { size *= 2 }
        indexMask = size - 1
        index = .allocate(capacity: size)
        index.initialize(repeating: -1, count: size)
        renamedAway = .allocate(capacity: count)
        renamedAway.initialize(repeating: false, count: count)
        upperNames = .allocate(capacity: count * Self.upperStride)
        upperNames.initialize(repeating: 0, count: count * Self.upperStride)
        for i in 0..<count {
            let name = all[i].name
            for j in 0..<min(name.utf8CodeUnitCount, Self.upperStride) {
                let c = name.utf8Start[j]
                upperNames[i * Self.upperStride + j] = c >= 97 && c <= 122 ? c - 32 : c
            }
        }
        for i in 0..<count {
            let name = ByteView(all[i].name)
            var h = Self.hash(name) & indexMask
            while index[h] != -1 { h = (h + 1) & indexMask }
            index[h] = Int32(i)
            if let bar = all[i].nameString.firstIndex(of: "|") {
                isSubcommandEntry[i] = true
                let parent = String(all[i].nameString[..<bar])
                if let p = all.firstIndex(where: { $0.nameString == parent }) { hasSubcommands[p] = true }
            }
        }
    }

    /// FNV-1a over lowercased bytes.
    @inline(__always)
    static func hash(_ name: ByteView) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<name.count {
            h = (h ^ UInt64(name[i] | 0x20)) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: h)
    }

    @inline(__always)
    static func matches(_ spec: StaticString, upper: UnsafePointer<UInt8>, _ name: ByteView) -> Bool {
        if spec.utf8CodeUnitCount != name.count { return false }
        let p = spec.utf8Start
        if ByteView.bytesEqual(name.base, upper, name.count) || ByteView.bytesEqual(name.base, p, name.count) {
            return true
        }
        for i in 0..<name.count {
            var c = name[i]
            if c >= 65 && c <= 90 { c += 32 }
            if c != p[i] { return false }
        }
        return true
    }

    /// The index of the command called `name` (any case), or -1.
    @inline(__always)
    func find(_ name: ByteView) -> Int {
        if name.count == 0 || name.count > 40 { return -1 }
        var h = Self.hash(name) & indexMask
        while true {
            let i = Int(index[h])
            if i < 0 { return renamedTo.isEmpty ? -1 : renamedTo[name.string.lowercased()] ?? -1 }
            if Self.matches(specs[i].name, upper: upperNames + i &* Self.upperStride, name) {
                return renamedAway[i] ? -1 : i
            }
            h = (h + 1) & indexMask
        }
    }

    /// rename-command `old` `new` (an empty `new` disables the command). False when there is no
    /// such command.
    mutating func rename(_ old: String, to new: String) -> Bool {
        let i = Array(old.utf8).withUnsafeBufferPointer { find(ByteView($0.baseAddress!, $0.count)) }
        guard i >= 0, !specs[i].nameString.contains("|") else { return false }
        renamedAway[i] = true
        if !new.isEmpty { renamedTo[new.lowercased()] = i }
        return true
    }

    /// The index of subcommand `sub` of the command at `parent`, or -1.
    func findSubcommand(parent: Int, _ sub: ByteView) -> Int {
        if sub.count > 40 { return -1 }
        var full = Array(specs[parent].nameString.utf8)
        full.append(124)  // '|'
        full.append(contentsOf: UnsafeBufferPointer(start: sub.base, count: sub.count))
        return full.withUnsafeBufferPointer { find(ByteView($0.baseAddress!, $0.count)) }
    }

    func resetStats() {
        for i in 0..<count {
            stats[i] = CommandStats()
            histograms[i]?.deallocate()
            histograms[i] = nil
        }
    }

    /// Counts one call of `index` that took `micros` in its latency histogram.
    @inline(__always)
    func recordLatency(_ index: Int, micros: Int64) {
        let counts: UnsafeMutablePointer<Int64>
        if let existing = histograms[index] {
            counts = existing
        } else {
            counts = LatencyHistogram.allocate()
            histograms[index] = counts
        }
        LatencyHistogram(counts: counts).record(nanoseconds: micros &* 1000)
    }

    /// The histogram of `index`, nil when it never ran since the last reset.
    func histogram(_ index: Int) -> LatencyHistogram? {
        histograms[index].map { LatencyHistogram(counts: $0) }
    }
}
