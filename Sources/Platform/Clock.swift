/*
 * Clocks. The server needs two: a monotonic one for timers and durations (never jumps) and
 * the wall clock for expiry, which Redis defines in Unix milliseconds so that expire times
 * survive restarts and travel to replicas.
 */
import Glibc

public enum Clock {
    /// Monotonic microseconds.
    @inlinable @inline(__always)
    public static func monotonicMicros() -> Int64 { micros(CLOCK_MONOTONIC) }

    /// Monotonic milliseconds.
    @inlinable @inline(__always)
    public static func monotonicMillis() -> Int64 { millis(CLOCK_MONOTONIC) }

    /// Monotonic milliseconds from the kernel's tick-granular clock (CLOCK_MONOTONIC_COARSE:
    /// a few milliseconds of resolution, a fifth of a precise read's time). For the event
    /// loop's timer, which waits whole milliseconds anyway.
    @inlinable @inline(__always)
    public static func monotonicMillisCoarse() -> Int64 { millis(CLOCK_MONOTONIC_COARSE) }

    /// Unix time in microseconds.
    @inlinable @inline(__always)
    public static func unixMicros() -> Int64 { micros(CLOCK_REALTIME) }

    /// Unix time in milliseconds.
    @inlinable @inline(__always)
    public static func unixMillis() -> Int64 { millis(CLOCK_REALTIME) }

    @inlinable @inline(__always)
    static func millis(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    @inlinable @inline(__always)
    static func micros(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
