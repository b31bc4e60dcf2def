/*
 * Clocks. The server needs two: a monotonic one for timers and durations (never jumps) and
 * the wall clock for expiry, which Redis defines in Unix milliseconds so that expire times
 * survive restarts and travel to replicas.
 */
import Glibc

public enum Clock {
    /// Monotonic microseconds.
    @inline(__always)
    public static func monotonicMicros() -> Int64 { micros(CLOCK_MONOTONIC) }

    /// Monotonic milliseconds.
    @inline(__always)
    public static func monotonicMillis() -> Int64 { monotonicMicros() / 1000 }

    /// Monotonic milliseconds from the kernel's tick-granular clock (CLOCK_MONOTONIC_COARSE:
    /// a few milliseconds of resolution, a fifth of a precise read's time). For the event
    /// loop's timer, which waits whole milliseconds anyway.
    @inline(__always)
    public static func monotonicMillisCoarse() -> Int64 { micros(CLOCK_MONOTONIC_COARSE) / 1000 }

    /// Unix time in microseconds.
    @inline(__always)
    public static func unixMicros() -> Int64 { micros(CLOCK_REALTIME) }

    /// Unix time in milliseconds.
    @inline(__always)
    public static func unixMillis() -> Int64 { unixMicros() / 1000 }

    @inline(__always)
    static func micros(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
