/*
 * LATENCY: the latency monitor's events (LatencyMonitor.swift) and the per-command latency
 * histograms (LatencyHistogram.swift), with Redis 7.0's replies.
 */
import Platform
import RESP

extension Server {
    mutating func latencyCommand(_ c: ClientRef, _ id: CommandID) {
        let now = Clock.unixMillis() / 1000
        switch id {
        case .latencyLatest:
            c.pointee.reply.appendArrayHeader(latency.order.count)
            for name in latency.order {
                let series = latency.events[name]!
                c.pointee.reply.appendArrayHeader(4)
                c.pointee.reply.appendBulk(name)
                c.pointee.reply.appendInteger(series.latest.time)
                c.pointee.reply.appendInteger(series.latest.latency)
                c.pointee.reply.appendInteger(series.max)
            }
        case .latencyReset:
            let names = (2..<max(2, c.pointee.argc)).map { c.pointee.arg($0).string }
            c.pointee.reply.appendInteger(Int64(latency.reset(names)))
        case .latencyHistory:
            let samples = latency.events[c.pointee.arg(2).string]?.chronological ?? []
            c.pointee.reply.appendArrayHeader(samples.count)
            for s in samples {
                c.pointee.reply.appendArrayHeader(2)
                c.pointee.reply.appendInteger(s.time)
                c.pointee.reply.appendInteger(s.latency)
            }
        case .latencyDoctor:
            let report = latency.doctorReport(threshold: settings.latencyMonitorThreshold)
            c.pointee.reply.appendVerbatim(report, resp3: c.pointee.resp3)
        case .latencyGraph:
            let name = c.pointee.arg(2).string
            guard let series = latency.events[name] else {
                addErrorString(c, "ERR No samples available for event '\(name)'")
                return
            }
            c.pointee.reply.appendVerbatim(LatencyMonitor.graph(name, series, now: now), resp3: c.pointee.resp3)
        case .latencyHistogram:
            latencyHistogramCommand(c)
        default: addHelp(c, HelpText.latency)
        }
    }

    /// LATENCY HISTOGRAM [command ...]: every timed command, or the named ones (a parent name
    /// stands for its subcommands); unknown and never-run names are skipped.
    mutating func latencyHistogramCommand(_ c: ClientRef) {
        var indices: [Int] = []
        if c.pointee.argc == 2 {
            indices = (0..<commands.count).filter { commands.histogram($0) != nil }
        } else {
            for i in 2..<c.pointee.argc {
                let index = commands.find(c.pointee.arg(i))
                if index < 0 { continue }
                if commands.hasSubcommands[index] {
                    indices += subcommands(of: index)
                } else {
                    indices.append(index)
                }
            }
        }
        var seen = Set<Int>()
        indices = indices.filter { commands.histogram($0) != nil && seen.insert($0).inserted }
        let resp3 = c.pointee.resp3
        c.pointee.reply.appendMapHeader(indices.count, resp3: resp3)
        for index in indices {
            let histogram = commands.histogram(index)!
            let buckets = histogram.cumulativeMicrosecondBuckets()
            c.pointee.reply.appendBulk(commands.specs[index].nameString)
            c.pointee.reply.appendMapHeader(2, resp3: resp3)
            c.pointee.reply.appendBulk("calls")
            c.pointee.reply.appendInteger(histogram.totalCount)
            c.pointee.reply.appendBulk("histogram_usec")
            c.pointee.reply.appendMapHeader(buckets.count, resp3: resp3)
            for b in buckets {
                c.pointee.reply.appendInteger(b.micros)
                c.pointee.reply.appendInteger(b.cumulative)
            }
        }
    }

    /// INFO latencystats: "latency_percentiles_usec_<command>:p50=…,p99=…,p99.9=…" for every
    /// command timed since the last CONFIG RESETSTAT.
    func latencyStatsSection() -> String {
        let percentiles = settings.storedValue("latency-tracking-info-percentiles").split(separator: " ")
            .compactMap { Double($0) }
        var out = "# Latencystats\r\n"
        for index in 0..<commands.count {
            guard let histogram = commands.histogram(index) else { continue }
            let name = commands.specs[index].nameString
            let values = percentiles.map { p -> String in
                let micros = Double(histogram.value(atPercentile: p)) / 1000
                return "p\(StoredDirectives.formatPercentile(p))=\(String(format3: micros))"
            }
            out += "latency_percentiles_usec_\(name):" + values.joined(separator: ",") + "\r\n"
        }
        return out
    }
}
