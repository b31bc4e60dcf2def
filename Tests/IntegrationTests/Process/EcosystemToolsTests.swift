/*
 * EcosystemToolsTests.swift — the Redis ecosystem's tools against Tandem and redis-server, same
 * data, same invocation (issue 12, part 3).
 *
 * redis-cli's modes: --scan --pattern, --bigkeys, --memkeys, --stat, --latency,
 * --latency-history, --pipe (mass insertion of 1M commands), --rdb, --replica, -x, --raw and
 * --no-raw. What can be compared exactly (scan output, bigkeys' summary, pipe's report) is;
 * what holds timings or allocator sizes is compared by shape (the same lines with the numbers
 * blanked).
 *
 * prometheus-redis-exporter (Debian's package; installed by `make test`'s deps) scrapes both
 * servers after the same workload: Tandem must export every metric name it exports for
 * redis-server, except those listed in `exporterDifferences` with the reason.
 */

import Foundation
import Testing

@Suite(.serialized) struct EcosystemToolsTests {
    static let redisCLI = "/usr/bin/redis-cli"

    /// Runs a shell command line (bounded), returning what it printed.
    static func sh(_ line: String, cwd: String, timeout: Double = 60) throws -> RunResult {
        try Harness.run("/bin/sh", ["-c", line], cwd: cwd, timeoutSeconds: timeout)
    }

    /// Both servers with the same small dataset: strings, a big list, a hash, a set, a zset.
    static func withBothServers(_ body: (_ tandem: ServerProcess, _ redis: ServerProcess) throws -> Void) throws {
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        for server in [tandem, redis] {
            let c = try server.connect()
            for i in 0..<200 { _ = try c.callValue("SET", "user:\(i)", String(repeating: "v", count: i)) }
            _ = try c.callValue(["RPUSH", "biglist"] + (0..<500).map(String.init))
            _ = try c.callValue(["HSET", "h"] + (0..<40).flatMap { ["f\($0)", "v\($0)"] })
            _ = try c.callValue(["SADD", "s"] + (0..<30).map { "m\($0)" })
            _ = try c.callValue(["ZADD", "z"] + (0..<20).flatMap { ["\($0)", "e\($0)"] })
        }
        try body(tandem, redis)
    }

    static func cli(_ server: ServerProcess, _ args: String, timeout: Double = 60) throws -> RunResult {
        try sh("\(redisCLI) -p \(server.port) \(args)", cwd: server.dir, timeout: timeout)
    }

    /// Numbers blanked, so lines with timings and sizes compare by shape.
    static func shape(_ text: String) -> [String] {
        text.split(separator: "\n").map { String($0).replacing(try! Regex(#"[0-9]+(\.[0-9]+)?"#), with: "N") }
    }

    @Test func scanBigkeysMemkeysAsRedis() throws {
        try Self.withBothServers { tandem, redis in
            let scan = try [tandem, redis].map { try Self.cli($0, "--scan --pattern 'user:1*'").stdout }
            #expect(Set(scan[0].split(separator: "\n")) == Set(scan[1].split(separator: "\n")))
            #expect(scan[0].split(separator: "\n").count == 111)

            // --bigkeys scans every key: the summary after the progress lines is the same.
            let big = try [tandem, redis].map { try Self.cli($0, "--bigkeys").stdout }
            func summary(_ s: String) -> [String] {
                let lines = s.split(separator: "\n").map(String.init)
                let start = lines.firstIndex { $0.contains("-------- summary -------") } ?? lines.count
                return lines[start...].filter { !$0.contains("Sampled") }
            }
            #expect(summary(big[0]) == summary(big[1]), "tandem:\n\(big[0])\nredis:\n\(big[1])")
            #expect(summary(big[0]).contains { $0.contains("list found '\"biglist\"' has 500 items") })

            // --memkeys: sizes are the allocator's, so the same lines with the numbers blanked.
            let mem = try [tandem, redis].map { try Self.cli($0, "--memkeys").stdout }
            #expect(Self.shape(summary(mem[0]).joined(separator: "\n")) == Self.shape(summary(mem[1]).joined(separator: "\n")),
                    "tandem:\n\(mem[0])\nredis:\n\(mem[1])")
        }
    }

    @Test func statAndLatencyModesAsRedis() throws {
        try Self.withBothServers { tandem, redis in
            // --stat prints a header and a line per interval until stopped.
            // stdbuf: redis-cli's output is block-buffered into a pipe and `timeout` stops it.
            func timed(_ server: ServerProcess, _ args: String, _ seconds: Double) throws -> String {
                try Self.sh("timeout \(seconds) stdbuf -oL \(Self.redisCLI) -p \(server.port) \(args)", cwd: server.dir,
                            timeout: seconds + 5).stdout
            }
            let stat = try [tandem, redis].map { try timed($0, "--stat -i 0.2", 1.5) }
            let headers = stat.map { Self.shape($0).first { $0.contains("keys") } }
            #expect(headers[0] != nil && headers[0] == headers[1], "tandem:\n\(stat[0])\nredis:\n\(stat[1])")
            let rows = stat.map { $0.split(separator: "\n").filter { $0.first?.isNumber == true } }
            #expect(rows[0].count >= 2)
            #expect(rows[0].first?.split(separator: " ").count == rows[1].first?.split(separator: " ").count)

            // --latency with output to a file: one line after a second of sampling.
            let latency = try [tandem, redis].map { try Self.cli($0, "--latency -i 0.5").stdout }
            #expect(Self.shape(latency[0]) == Self.shape(latency[1]), "tandem: \(latency[0]) redis: \(latency[1])")
            let history = try [tandem, redis].map { try timed($0, "--latency-history -i 0.3", 1.2) }
            #expect(Self.shape(history[0]).first == Self.shape(history[1]).first, "tandem: \(history[0]) redis: \(history[1])")
            #expect(history[0].contains("seconds range"), "\(history[0])")
        }
    }

    @Test func rawFormattingAndStdinArgumentAsRedis() throws {
        try Self.withBothServers { tandem, redis in
            for args in ["--raw lrange biglist 0 3", "--no-raw lrange biglist 0 3", "--no-raw hget h f1", "--raw zscore z e3",
                         "--no-raw get nosuchkey", "--no-raw incr user:1", "--raw hello 3"]
            {
                let out = try [tandem, redis].map { try Self.cli($0, args).stdout }
                if args.hasSuffix("hello 3") {
                    #expect(Self.shape(out[0]).count == Self.shape(out[1]).count, "\(args)")
                } else {
                    #expect(out[0] == out[1], "\(args): tandem \(out[0]) redis \(out[1])")
                }
            }
            for server in [tandem, redis] {
                try "from stdin\nwith a newline".write(toFile: server.dir + "/value.txt", atomically: true, encoding: .utf8)
            }
            let x = try [tandem, redis].map { try Self.cli($0, "-x set fromstdin < value.txt").stdout }
            #expect(x[0] == x[1])
            let got = try [tandem, redis].map { try Self.cli($0, "--raw get fromstdin").stdout }
            #expect(got[0] == "from stdin\nwith a newline\n" && got[0] == got[1])
        }
    }

    @Test func pipeMassInsertionOfOneMillionCommands() throws {
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        // 1,000,000 SET commands in RESP, written once and fed to both.
        let file = tandem.dir + "/mass.resp"
        FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        var chunk = [UInt8]()
        for i in 0..<1_000_000 {
            let key = "key:\(i)", value = "value:\(i)"
            chunk += Array("*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(value.utf8.count)\r\n\(value)\r\n".utf8)
            if chunk.count > 1 << 20 {
                handle.write(Data(chunk))
                chunk.removeAll(keepingCapacity: true)
            }
        }
        handle.write(Data(chunk))
        try handle.close()
        let out = try [tandem, redis].map { try Self.cli($0, "--pipe < \(file)", timeout: 120).stdout }
        for (i, o) in out.enumerated() {
            #expect(o.contains("errors: 0, replies: 1000000"), "\(i == 0 ? "tandem" : "redis"): \(o)")
        }
        #expect(Self.shape(out[0]) == Self.shape(out[1]))
        #expect(try tandem.connect().callValue("DBSIZE") == .integer(1_000_000))
        #expect(try tandem.connect().callValue("GET", "key:999999") == .bulk(Array("value:999999".utf8)))
    }

    @Test func rdbAndReplicaModes() throws {
        try Self.withBothServers { tandem, redis in
            for server in [tandem, redis] {
                let out = try Self.cli(server, "--rdb dump-from-cli.rdb")
                #expect(out.output.contains("Transfer finished with success"), "\(server.flavour): \(out.output)")
                let check = try Harness.run("/usr/bin/redis-check-rdb", [server.dir + "/dump-from-cli.rdb"], cwd: server.dir)
                #expect(check.stdout.contains("RDB looks OK!"), "\(server.flavour): \(check.output)")
                #expect(check.stdout.contains("keys read: 204") || check.stdout.contains("204 keys read"), "\(check.stdout)")
            }
            // --replica prints the stream: start it, write, and look for the write in its output.
            for server in [tandem, redis] {
                _ = try server.connect().callValue("CONFIG", "SET", "repl-diskless-sync-delay", "0")
                let out = server.dir + "/replica-out.txt"
                let pid = try Harness.spawn("/bin/sh", ["-c", "stdbuf -oL \(Self.redisCLI) -p \(server.port) --replica > \(out) 2>&1"],
                                            cwd: server.dir, stdout: "/dev/null", stderr: "/dev/null")
                var text = ""
                // The write goes after the snapshot, so it arrives in the stream.
                Harness.waitUntil(milliseconds: 10_000) {
                    text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
                    return text.contains("SYNC done")
                }
                _ = try server.connect().callValue("SET", "seen-by-replica", "yes")
                Harness.waitUntil(milliseconds: 5000) {
                    text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
                    return text.contains("seen-by-replica")
                }
                Harness.killProcesses(withArgumentContaining: "\(server.port) --replica")
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                #expect(text.contains("SYNC with master"), "\(server.flavour): \(text)")
                #expect(text.contains("\"SET\",\"seen-by-replica\",\"yes\""), "\(server.flavour): \(text)")
            }
        }
    }
}

// MARK: - prometheus-redis-exporter

extension EcosystemToolsTests {
    static let exporter = "/usr/bin/prometheus-redis-exporter"

    /// Metric names the exporter finds for redis-server but not for Tandem, with the reason.
    static let exporterDifferences: [String: String] = [:]

    /// The metric names the exporter publishes for `server` after a small workload.
    static func exportedMetricNames(_ server: ServerProcess) throws -> Set<String> {
        let c = try server.connect()
        for i in 0..<100 { _ = try c.callValue("SET", "k\(i)", "v") }
        _ = try c.callValue("GET", "k1")
        _ = try c.callValue("GET", "nosuchkey")
        _ = try c.callValue("LPUSH", "k1", "wrongtype")
        _ = try c.callValue("EXPIRE", "k2", "100")
        _ = try c.callValue("CONFIG", "SET", "latency-monitor-threshold", "1")
        _ = try c.callValue("DEBUG", "SLEEP", "0.01")
        _ = try c.callValue("SLOWLOG", "GET")
        let port = try Harness.freePort()
        let pid = try Harness.spawn(
            Self.exporter,
            ["--redis.addr=redis://127.0.0.1:\(server.port)", "--web.listen-address=127.0.0.1:\(port)"],
            cwd: server.dir, stdout: server.dir + "/exporter.out", stderr: server.dir + "/exporter.err")
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        var text = ""
        Harness.waitUntil(milliseconds: 10_000) {
            text = (try? Self.sh("curl -s http://127.0.0.1:\(port)/metrics", cwd: server.dir, timeout: 5).stdout) ?? ""
            return text.contains("redis_up")
        }
        var names = Set<String>()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            if name.hasPrefix("redis_") { names.insert(String(name)) }
        }
        return names
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: exporter)))
    func prometheusExporterFindsEveryMetric() throws {
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        let t = try Self.exportedMetricNames(tandem)
        let r = try Self.exportedMetricNames(redis)
        #expect(r.count > 50, "the exporter found only \(r.count) metrics for redis-server")
        let missing = r.subtracting(t).filter { Self.exporterDifferences[$0] == nil }
        #expect(missing.isEmpty, "metrics exported for redis-server but not for Tandem: \(missing.sorted())")
    }
}
