/*
 * LatencyHistogram: per-command latency distributions for INFO latencystats and
 * LATENCY HISTOGRAM (latency-tracking) — what Redis keeps in an HdrHistogram per command.
 *
 * Redis records each call's duration in nanoseconds into an HdrHistogram tracking 1 ns .. 1 s
 * with two significant digits. There is no C HdrHistogram in Debian, so this file implements
 * the same bucket layout (the layout decides which values INFO prints, so it must match):
 * values are grouped in power-of-two buckets, each split into 128 linear sub-buckets (256
 * for the first), which keeps every recorded value within 1% of its true value. Recording is
 * a count-leading-zeros, two shifts and an increment: cheap enough for every call, and the
 * 3,072 counters of a command are allocated only when it first runs.
 *
 * Values above the range are clamped to 1 s as Redis does. Percentiles are reported as the
 * highest value equivalent to the bucket holding the requested rank (the lowest, for p0),
 * which is what hdr_value_at_percentile answers.
 */

/// A view over one command's counters; `CommandRegistry` owns the memory.
struct LatencyHistogram {
    /// 1 ns .. 1 s, 2 significant digits: 256 sub-buckets, 23 buckets.
    static let subBucketHalfCountMagnitude = 7
    static let subBucketHalfCount = 1 << subBucketHalfCountMagnitude
    static let subBucketMask: Int64 = 255
    static let bucketCount = 23
    static let countsLength = (bucketCount + 1) * subBucketHalfCount
    /// The slot after the counters holds the total.
    static let allocationLength = countsLength + 1
    static let lowestValue: Int64 = 1
    static let highestValue: Int64 = 1_000_000_000

    let counts: UnsafeMutablePointer<Int64>

    static func allocate() -> UnsafeMutablePointer<Int64> {
        let p = UnsafeMutablePointer<Int64>.allocate(capacity: allocationLength)
        p.initialize(repeating: 0, count: allocationLength)
        return p
    }

    var totalCount: Int64 { counts[Self.countsLength] }

    @inline(__always)
    static func bucketIndex(_ value: Int64) -> Int {
        let pow2Ceiling = 64 - (value | subBucketMask).leadingZeroBitCount
        return pow2Ceiling - (subBucketHalfCountMagnitude + 1)
    }

    @inline(__always)
    static func countsIndex(_ value: Int64) -> Int {
        let bucket = bucketIndex(value)
        let subBucket = Int(value >> Int64(bucket))
        return ((bucket + 1) << subBucketHalfCountMagnitude) + subBucket - subBucketHalfCount
    }

    @inline(__always)
    func record(nanoseconds: Int64) {
        let v = min(max(nanoseconds, Self.lowestValue), Self.highestValue)
        counts[Self.countsIndex(v)] += 1
        counts[Self.countsLength] += 1
    }

    /// The lowest value counted at `index`.
    static func value(atIndex index: Int) -> Int64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            subBucket -= subBucketHalfCount
            bucket = 0
        }
        return Int64(subBucket) << Int64(bucket)
    }

    /// The width of the range of values counted together with `value`.
    static func equivalentRange(_ value: Int64) -> Int64 {
        let bucket = bucketIndex(value)
        let subBucket = Int(value >> Int64(bucket))
        let adjusted = bucket + (subBucket >= 2 * subBucketHalfCount ? 1 : 0)
        return Int64(1) << Int64(adjusted)
    }

    static func lowestEquivalent(_ value: Int64) -> Int64 {
        let bucket = bucketIndex(value)
        let subBucket = value >> Int64(bucket)
        return subBucket << Int64(bucket)
    }

    static func highestEquivalent(_ value: Int64) -> Int64 {
        lowestEquivalent(value) + equivalentRange(value) - 1
    }

    /// The value below which `percentile` percent of the recorded values fall.
    func value(atPercentile percentile: Double) -> Int64 {
        let total = totalCount
        if total == 0 { return 0 }
        let requested = min(percentile, 100)
        let rank = max(Int64((requested / 100) * Double(total) + 0.5), 1)
        var seen: Int64 = 0
        var found: Int64 = 0
        for i in 0..<Self.countsLength {
            seen += counts[i]
            if seen >= rank {
                found = Self.value(atIndex: i)
                break
            }
        }
        return percentile == 0 ? Self.lowestEquivalent(found) : Self.highestEquivalent(found)
    }

    /// LATENCY HISTOGRAM's "histogram_usec": cumulative counts at 1, 2, 4, ... µs (powers of
    /// two of 1024 ns, each reported as its bucket's highest value), only where the count grew.
    func cumulativeMicrosecondBuckets() -> [(micros: Int64, cumulative: Int64)] {
        var out: [(Int64, Int64)] = []
        let total = totalCount
        var level: Int64 = 1024
        var index = 0
        var cumulative: Int64 = 0
        var previous: Int64 = 0
        while previous < total && level <= Self.highestValue * 2 {
            let limit = Self.highestEquivalent(level)
            while index < Self.countsLength && Self.value(atIndex: index) <= limit {
                cumulative += counts[index]
                index += 1
            }
            if cumulative > previous { out.append((limit / 1000, cumulative)) }
            previous = cumulative
            level *= 2
        }
        return out
    }
}
