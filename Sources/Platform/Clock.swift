/*
 * Clocks. The server needs two: a monotonic one for timers and durations (never jumps) and
 * the wall clock for expiry, which Redis defines in Unix milliseconds so that expire times
 * survive restarts and travel to replicas.
 */
import Glibc

public enum Clock {
    /// Monotonic microseconds.
    @inline(__always)
    public static func monotonicMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Monotonic milliseconds.
    @inline(__always)
    public static func monotonicMillis() -> Int64 { monotonicMicros() / 1000 }

    /// Unix time in microseconds.
    @inline(__always)
    public static func unixMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Unix time in milliseconds.
    @inline(__always)
    public static func unixMillis() -> Int64 { unixMicros() / 1000 }
}
