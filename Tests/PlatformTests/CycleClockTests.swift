// CycleClock (Platform): the cycle-counter clock commands are timed with. Its arithmetic on
// given readings, and against the kernel's clocks where this machine lets it run.
import Glibc
import Platform
import Testing

@Suite struct CycleClockTests {
    /// A counter at 3 GHz: `cycles(µs)` is the count after that many microseconds.
    func cycles(_ micros: Int64) -> UInt64 { 1_000_000 + UInt64(micros) * 3000 }

    @Test func readsTheKernelClockUntilTheRateIsMeasured() {
        var clock = CycleClock(usable: true)
        #expect(clock.microsPerCycle == 0)
        clock.tick(cycles: cycles(0), monotonicMicros: 0, unixMicros: 1_700_000_000_000_000)
        clock.tick(cycles: cycles(10_000), monotonicMicros: 10_000, unixMicros: 1_700_000_000_010_000)
        #expect(clock.microsPerCycle == 0)  // a 10 ms window is too short
        let now = Clock.unixMicros()
        #expect(abs(clock.unixMicros() - now) < 1_000_000)
    }

    @Test func measuresTheRateOverAWindow() {
        var clock = CycleClock(usable: true)
        clock.tick(cycles: cycles(0), monotonicMicros: 0, unixMicros: 0)
        clock.tick(cycles: cycles(100_000), monotonicMicros: 100_000, unixMicros: 100_000)
        // 1/3000 µs per cycle in 32.32 fixed point.
        #expect(clock.microsPerCycle == (UInt64(100_000) << 32) / (UInt64(100_000) * 3000))
    }

    @Test func aRateThatMovesMoreThanOnePercentTurnsItOff() {
        var clock = CycleClock(usable: true)
        clock.tick(cycles: cycles(0), monotonicMicros: 0, unixMicros: 0)
        clock.tick(cycles: cycles(100_000), monotonicMicros: 100_000, unixMicros: 100_000)
        #expect(clock.microsPerCycle != 0)
        // The counter now runs at half the rate it did (the window's cycles say 50 ms more
        // where the kernel saw 100 ms).
        clock.tick(cycles: cycles(100_000) + 150_000_000, monotonicMicros: 200_000, unixMicros: 200_000)
        #expect(clock.microsPerCycle == 0)
        clock.tick(cycles: cycles(400_000), monotonicMicros: 400_000, unixMicros: 400_000)
        #expect(clock.microsPerCycle == 0)  // for good
    }

    @Test func anUnusableCounterIsNeverUsed() {
        var clock = CycleClock(usable: false)
        clock.tick(cycles: cycles(0), monotonicMicros: 0, unixMicros: 0)
        clock.tick(cycles: cycles(100_000), monotonicMicros: 100_000, unixMicros: 100_000)
        #expect(clock.microsPerCycle == 0)
    }

    /// With this machine's counter: after a measured window the clock agrees with
    /// CLOCK_REALTIME to well under a millisecond, and never runs backwards between ticks.
    @Test func agreesWithTheKernelsClock() {
        var clock = CycleClock()
        clock.tick()
        var spent: Int64 = 0
        while clock.microsPerCycle == 0 && spent < 2_000_000 {
            usleep(20_000)
            spent += 20_000
            clock.tick()
        }
        if clock.microsPerCycle == 0 { return }  // the kernel keeps time with another source here
        var last = clock.unixMicros()
        for _ in 0..<5 {
            usleep(10_000)
            let fast = clock.unixMicros()
            let kernel = Clock.unixMicros()
            #expect(abs(fast - kernel) < 500, "cycle clock \(fast), kernel \(kernel)")
            #expect(fast >= last)
            last = fast
        }
    }
}
