/*
 * CycleClock: the wall clock in microseconds from the processor's cycle counter, for timing
 * commands.
 *
 * Every command reads the clock twice, as Redis's call() does: once for its start (the "now"
 * its expiry decisions use) and once for its duration (INFO commandstats, the slow log,
 * latency tracking). Through clock_gettime each read was ~50 of a SET's ~2,150 user-space
 * instructions (issue 20's profile). The kernel's own clock is the cycle counter scaled and
 * offset (the vDSO reads rdtsc too), so this does the same with fewer steps: one counter read,
 * one multiply, one shift, one add.
 *
 * The scale and offset come from the kernel's clocks, read at each `tick()` (the server calls
 * it every cron tick):
 *  - the offset is re-anchored to CLOCK_REALTIME at every tick, so between ticks (100 ms at
 *    hz 10) the clock can drift from the kernel's only by the rate's error over that span, and
 *    a step of the wall clock (settimeofday) is picked up at the next tick;
 *  - the rate (microseconds per cycle, 32.32 fixed point) is measured against
 *    CLOCK_MONOTONIC over a window of at least 50 ms, renewed every 10 s. Until the first
 *    window closes the clock reads clock_gettime.
 * It is used only where the kernel itself keeps time with the counter (the current
 * clocksource is `tsc` or `arch_sys_counter`): then the counter is invariant and synchronised
 * across cores, or the kernel would have left it. A new window whose rate differs from the
 * last by more than 1% (a clocksource change behind our back) turns it off for good.
 */
import CTandem
import Glibc

public struct CycleClock {
    /// Microseconds per counter cycle, 32.32 fixed point; 0 until measured (or when the
    /// counter cannot be trusted): `unixMicros()` then reads the kernel's clock.
    public private(set) var microsPerCycle: UInt64 = 0
    @usableFromInline var anchorCycles: UInt64 = 0
    @usableFromInline var anchorUnixMicros: Int64 = 0
    var windowCycles: UInt64 = 0
    var windowMonotonicMicros: Int64 = 0
    var usable: Bool

    /// The shortest window the rate is measured over, and the longest before it starts again.
    static let minimumWindowMicros: Int64 = 50_000
    static let maximumWindowMicros: Int64 = 10_000_000
    /// Past this many cycles since the anchor (minutes at GHz rates; the cron re-anchors every
    /// tick) the product could overflow: read the kernel's clock instead.
    @usableFromInline static var maximumCyclesSinceAnchor: UInt64 { 1 << 40 }

    /// `usable: nil` checks the kernel's clocksource; tests pass true or false.
    public init(usable: Bool? = nil) {
        self.usable = usable ?? Self.kernelKeepsTimeWithCycleCounter()
    }

    /// The wall clock in microseconds, as `Clock.unixMicros()`. (Inlined into the server's
    /// call(): a cross-module call would cost a third of what this saves.)
    @inlinable @inline(__always)
    public func unixMicros() -> Int64 {
        if microsPerCycle == 0 { return Clock.unixMicros() }
        let elapsed = tandem_cycle_counter() &- anchorCycles
        if elapsed > Self.maximumCyclesSinceAnchor { return Clock.unixMicros() }
        return anchorUnixMicros &+ Int64(truncatingIfNeeded: (elapsed &* microsPerCycle) >> 32)
    }

    /// Re-anchors to the kernel's clocks and refines the rate (every cron tick).
    public mutating func tick() {
        guard usable else { return }
        tick(cycles: tandem_cycle_counter(), monotonicMicros: Clock.monotonicMicros(), unixMicros: Clock.unixMicros())
    }

    /// `tick()` with the readings given (tests).
    public mutating func tick(cycles: UInt64, monotonicMicros: Int64, unixMicros: Int64) {
        guard usable else { return }
        anchorCycles = cycles
        anchorUnixMicros = unixMicros
        if windowCycles == 0 || cycles <= windowCycles || monotonicMicros < windowMonotonicMicros {
            startWindow(cycles, monotonicMicros)
            return
        }
        let span = monotonicMicros - windowMonotonicMicros
        if span < Self.minimumWindowMicros { return }
        let rate = (UInt64(span) << 32) / (cycles - windowCycles)
        if microsPerCycle != 0 && (rate > microsPerCycle + microsPerCycle / 100 || rate < microsPerCycle - microsPerCycle / 100) {
            turnOff()
            return
        }
        microsPerCycle = max(1, rate)
        if span >= Self.maximumWindowMicros { startWindow(cycles, monotonicMicros) }
    }

    mutating func startWindow(_ cycles: UInt64, _ monotonicMicros: Int64) {
        windowCycles = cycles
        windowMonotonicMicros = monotonicMicros
    }

    mutating func turnOff() {
        usable = false
        microsPerCycle = 0
    }

    /// The counter is worth using where the kernel keeps time with it.
    static func kernelKeepsTimeWithCycleCounter() -> Bool {
        if tandem_cycle_counter() == 0 { return false }
        guard let f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r") else { return false }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), f) != nil else { return false }
        let name = String(cString: line).split(whereSeparator: \.isWhitespace).first
        return name == "tsc" || name == "arch_sys_counter"
    }
}
