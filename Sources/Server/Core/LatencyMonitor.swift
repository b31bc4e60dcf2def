/*
 * LatencyMonitor: the latency spikes the server observed, by event — Redis's latency.c.
 *
 * With `latency-monitor-threshold` N > 0, any operation that blocks the event loop N ms or
 * more is recorded under its event's name: "command" (a slow command), "fast-command" (a
 * command flagged O(1) or O(log N) that was slow anyway), "fork", "expire-cycle",
 * "rdb-unlink-temp-file". Each event keeps its last 160 samples, one per second at most (a
 * second spike in the same second only raises that second's sample), plus its all-time max.
 * Nothing is allocated until an event first crosses the threshold, and the check on the
 * command path is one comparison.
 *
 * LATENCY LATEST / HISTORY / RESET answer from here; GRAPH draws an event's samples as a
 * small ASCII chart and DOCTOR writes a report with per-event statistics and advice.
 */
import Platform

struct LatencySample {
    var time: Int64
    var latency: Int64
}

/// One event's samples: a ring of 160 seconds with a spike, oldest overwritten first.
struct LatencyTimeSeries {
    static let length = 160
    var samples = [LatencySample](repeating: LatencySample(time: 0, latency: 0), count: length)
    var next = 0
    var max: Int64 = 0

    mutating func add(_ latency: Int64, now: Int64) {
        if latency > max { max = latency }
        let previous = (next + Self.length - 1) % Self.length
        if samples[previous].time == now {
            if latency > samples[previous].latency { samples[previous].latency = latency }
            return
        }
        samples[next] = LatencySample(time: now, latency: latency)
        next = (next + 1) % Self.length
    }

    /// Oldest first, unused slots skipped.
    var chronological: [LatencySample] {
        (0..<Self.length).map { samples[(next + $0) % Self.length] }.filter { $0.time != 0 }
    }

    var latest: LatencySample { samples[(next + Self.length - 1) % Self.length] }
}

struct LatencyMonitor {
    /// Event name -> samples, in the order events first appeared.
    var events: [String: LatencyTimeSeries] = [:]
    var order: [String] = []

    mutating func add(_ event: String, milliseconds: Int64, now: Int64) {
        if events[event] == nil {
            events[event] = LatencyTimeSeries()
            order.append(event)
        }
        events[event]!.add(milliseconds, now: now)
    }

    /// Forgets the named events (all when `names` is empty); answers how many there were.
    mutating func reset(_ names: [String]) -> Int {
        if names.isEmpty {
            let n = events.count
            events.removeAll()
            order.removeAll()
            return n
        }
        var n = 0
        for name in names where events.removeValue(forKey: name) != nil {
            order.removeAll { $0 == name }
            n += 1
        }
        return n
    }

    // MARK: - GRAPH

    /// The event's samples as a chart four rows high, one column per sample (newest right),
    /// each labelled below with how long ago it happened, written downwards.
    static func graph(_ name: String, _ series: LatencyTimeSeries, now: Int64) -> String {
        let samples = series.chronological.suffix(80)
        let low = samples.map(\.latency).min() ?? 0
        let high = samples.map(\.latency).max() ?? 0
        var out = "\(name) - high \(high) ms, low \(low) ms (all time high \(series.max) ms)\n"
        out += String(repeating: "-", count: 80) + "\n"
        let rows = 4
        // Height in half-rows, at least one so every sample shows.
        let heights = samples.map { s -> Int in
            if high == low { return rows * 2 }
            return 1 + Int((s.latency - low) * Int64(rows * 2 - 1) / (high - low))
        }
        for row in stride(from: rows - 1, through: 0, by: -1) {
            var line = ""
            for h in heights {
                let filled = h - row * 2
                line += filled >= 2 ? "#" : filled == 1 ? "_" : " "
            }
            out += line + "\n"
        }
        let labels = samples.map { Self.ago(now - $0.time) }
        let depth = labels.map(\.count).max() ?? 0
        for i in 0..<depth {
            var line = ""
            for l in labels { line += i < l.count ? String(Array(l)[i]) : " " }
            out += line + "\n"
        }
        return out
    }

    /// "12s", "3m", "5h", "2d".
    static func ago(_ seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }

    // MARK: - DOCTOR

    func doctorReport(threshold: Int) -> String {
        if events.isEmpty {
            if threshold == 0 {
                return "Dave, the latency monitor is off in this instance, so I have nothing to report. "
                    + "Enable it with \"CONFIG SET latency-monitor-threshold <milliseconds>\" and ask me again.\n"
            }
            return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n"
        }
        var out = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n"
        var advice: [String] = []
        for (n, name) in order.enumerated() {
            guard let series = events[name] else { continue }
            let samples = series.chronological
            let count = Int64(max(samples.count, 1))
            let sum = samples.reduce(Int64(0)) { $0 + $1.latency }
            let average = sum / count
            let deviation = samples.reduce(Int64(0)) { $0 + abs($1.latency - average) } / count
            let span = (samples.last?.time ?? 0) - (samples.first?.time ?? 0)
            let period = samples.count > 1 ? Double(span) / Double(samples.count - 1) : 0
            out += "\(n + 1). \(name): \(samples.count) latency spikes (average \(average)ms, mean deviation \(deviation)ms, "
                + "period \(String(format2: period)) sec). Worst all time event \(series.max)ms.\n"
            advice += Self.advice(for: name, threshold: threshold)
        }
        out += "\nI have a few advices for you:\n\n"
        if threshold > 0 && threshold < 10 {
            advice.insert("- latency-monitor-threshold is \(threshold) ms: spikes this short are often the machine, not the server. A threshold of 10 ms or more keeps the report to what matters.", at: 0)
        }
        for line in advice where !line.isEmpty { out += line + "\n" }
        return out
    }

    static func advice(for event: String, threshold: Int) -> [String] {
        switch event {
        case "command", "fast-command":
            return [
                "- Commands took \(threshold) ms or more: SLOWLOG GET lists which ones and with what arguments. "
                    + "Commands over big collections (KEYS, SMEMBERS, LRANGE 0 -1, SORT, ...) block every other client while they run; SCAN and its siblings walk a keyspace in small steps.",
            ]
        case "fork":
            return [
                "- fork() is slow when the process is big or transparent huge pages are on: "
                    + "INFO persistence shows latest_fork_usec; keep disable-thp yes and leave memory headroom for copy-on-write.",
            ]
        case "expire-cycle":
            return [
                "- The active expire cycle took long: many keys expiring at the same time make it work harder; spread expiry times with some randomness.",
            ]
        case "rdb-unlink-temp-file":
            return ["- Deleting the temporary dump file blocked: the file system is slow to free large files."]
        default:
            return []
        }
    }
}

extension Server {
    /// Records `milliseconds` under `event` when the latency monitor is on and the value
    /// reaches its threshold (Redis's latencyAddSampleIfNeeded).
    @inline(__always)
    mutating func addLatencySampleIfNeeded(_ event: String, milliseconds: Int64) {
        let threshold = settings.latencyMonitorThreshold
        if threshold > 0 && milliseconds >= Int64(threshold) {
            latency.add(event, milliseconds: milliseconds, now: Clock.unixMillis() / 1000)
        }
    }
}
