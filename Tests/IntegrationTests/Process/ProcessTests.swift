/*
 * ProcessTests.swift — process-level behaviour of the server binary: start-up, daemonize, pidfile, log
 * lines, config file errors, CONFIG REWRITE, and a port that is already taken.
 *
 * These are not byte-for-byte comparisons; each test states what Redis does and checks it. Every test runs
 * for both flavours (`ServerFlavour.allCases`): the redis-server run proves the test itself is right, the
 * Tandem run is the real check (and fails with a clear message while the binary does not exist).
 * Every wait is bounded (pidfile, log lines, exits: ≤ 10 s), and every process started is stopped.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProcessTests {
    // MARK: - Start-up log

    @Test(arguments: ServerFlavour.allCases)
    func startupLogLines(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let ready = Harness.waitUntil(milliseconds: 5000) { server.log.contains("Ready to accept connections") }
        #expect(ready, "\(flavour): log has no 'Ready to accept connections':\n\(server.log)")
        let log = server.log
        #expect(log.contains("pid=\(server.pid), just started"), "\(flavour): no start line with the pid:\n\(log)")
        #expect(log.contains("Server initialized"), "\(flavour): no 'Server initialized':\n\(log)")
        // `<pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> <message>`
        let shape = try Regex(#"^\d+:[MSCX] \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} [.\-*#] .+$"#)
        let lines = log.split(separator: "\n").filter { $0.contains("Ready to accept connections") }
        #expect(!lines.isEmpty && lines.allSatisfy { $0.wholeMatch(of: shape) != nil },
                "\(flavour): log line does not have Redis's shape: \(lines)")
        let client = try server.connect()
        #expect(try client.call("PING") == Array("+PONG\r\n".utf8))
    }

    // MARK: - Daemonize and pidfile

    @Test(arguments: ServerFlavour.allCases)
    func daemonizeWithPidfileThenShutdown(_ flavour: ServerFlavour) throws {
        try daemonize(flavour, stopWithSignal: false)
    }

    @Test(arguments: ServerFlavour.allCases)
    func daemonizeWithPidfileThenSIGTERM(_ flavour: ServerFlavour) throws {
        try daemonize(flavour, stopWithSignal: true)
    }

    private func daemonize(_ flavour: ServerFlavour, stopWithSignal: Bool) throws {
        try flavour.checkBinary()
        let dir = try Harness.makeTempDir("tandem-itest-daemon")
        defer { Harness.removeDir(dir) }
        let port = try Harness.freePort()
        let pidfile = dir + "/server.pid", logfile = dir + "/server.log"
        let args = ServerProcess.commonArguments(port: port, dir: dir)
            + ["--daemonize", "yes", "--pidfile", pidfile, "--logfile", logfile]
        var daemonPid: pid_t = 0
        defer {
            if daemonPid > 0 && !Self.processGone(daemonPid) { kill(daemonPid, SIGKILL) }
            Harness.killProcesses(withArgumentContaining: dir)  // a daemon whose pidfile never appeared
        }

        let launcher = try Harness.run(flavour.binaryPath, args, cwd: dir, timeoutSeconds: 10)
        try #require(!launcher.timedOut, "\(flavour): the launching process did not return within 10 s")
        #expect(launcher.status.code == 0, "\(flavour): launcher ended with \(launcher.status): \(launcher.output)")

        let pidAppeared = Harness.waitUntil(milliseconds: 5000) { Self.pid(in: pidfile) != nil }
        try #require(pidAppeared, "\(flavour): pidfile \(pidfile) did not appear; log:\n\(Harness.readFile(logfile))")
        daemonPid = Self.pid(in: pidfile)!
        #expect(kill(daemonPid, 0) == 0, "\(flavour): pid \(daemonPid) from the pidfile is not running")

        try #require(Harness.waitUntil(milliseconds: 10_000) { Harness.portAccepts(port) },
                     "\(flavour): daemon does not accept connections; log:\n\(Harness.readFile(logfile))")
        let client = try RawClient(port: port)
        #expect(try client.call("PING") == Array("+PONG\r\n".utf8))
        #expect(try client.callValue("CONFIG", "GET", "pidfile") == .array([.bulk("pidfile"), .bulk(pidfile)]))
        #expect(try client.callValue("CONFIG", "GET", "daemonize") == .array([.bulk("daemonize"), .bulk("yes")]))
        let ready = Harness.waitUntil(milliseconds: 5000) {
            Harness.readFile(logfile).contains("Ready to accept connections")
        }
        #expect(ready, "\(flavour): log lacks 'Ready to accept connections':\n\(Harness.readFile(logfile))")

        if stopWithSignal {
            kill(daemonPid, SIGTERM)
        } else {
            try client.send(["SHUTDOWN"])
            #expect(client.waitForClose(milliseconds: 5000), "\(flavour): SHUTDOWN did not close the connection")
        }
        let gone = Harness.waitUntil(milliseconds: 10_000) { Self.processGone(daemonPid) }
        #expect(gone, "\(flavour): daemon \(daemonPid) still running after shutdown")
        let removed = Harness.waitUntil(milliseconds: 5000) { !FileManager.default.fileExists(atPath: pidfile) }
        #expect(removed, "\(flavour): pidfile not removed on shutdown")
        #expect(Harness.readFile(logfile).contains("ready to exit, bye bye"),
                "\(flavour): log lacks Redis's last line 'Redis is now ready to exit, bye bye...'")
    }

    static func pid(in pidfile: String) -> pid_t? {
        let text = Harness.readFile(pidfile).trimmingCharacters(in: .whitespacesAndNewlines)
        return pid_t(text)
    }

    /// True when `pid` no longer runs (absent, or a zombie waiting for a parent that is not us).
    static func processGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        let stat = Harness.readFile("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    // MARK: - Config file errors

    @Test(arguments: ServerFlavour.allCases)
    func unknownDirectiveInConfigFileIsFatal(_ flavour: ServerFlavour) throws {
        let conf = "# first line is a comment\nhz 10\n\nnosuch-directive yes\ntimeout 0\n"
        let result = try runWithConfig(flavour, conf)
        #expect(result.status.code.map { $0 != 0 } ?? true, "\(flavour): exited with \(result.status)")
        #expect(!result.timedOut, "\(flavour): did not exit within 10 s")
        let out = result.output
        #expect(out.contains("*** FATAL CONFIG FILE ERROR"), "\(flavour) printed:\n\(out)")
        #expect(out.contains("at line 4"), "\(flavour) printed:\n\(out)")
        #expect(out.contains(">>> 'nosuch-directive yes'"), "\(flavour) printed:\n\(out)")
        #expect(out.contains("Bad directive or wrong number of arguments"), "\(flavour) printed:\n\(out)")
    }

    @Test(arguments: ServerFlavour.allCases)
    func badValueInConfigFileIsFatal(_ flavour: ServerFlavour) throws {
        let result = try runWithConfig(flavour, "# comment\nhz abc\n")
        #expect(result.status.code.map { $0 != 0 } ?? true, "\(flavour): exited with \(result.status)")
        let out = result.output
        #expect(out.contains("*** FATAL CONFIG FILE ERROR"), "\(flavour) printed:\n\(out)")
        #expect(out.contains("at line 2"), "\(flavour) printed:\n\(out)")
        #expect(out.contains(">>> 'hz abc'"), "\(flavour) printed:\n\(out)")
        #expect(out.contains("argument couldn't be parsed into an integer"), "\(flavour) printed:\n\(out)")
    }

    @Test(arguments: ServerFlavour.allCases)
    func unknownDirectiveOnCommandLineIsFatal(_ flavour: ServerFlavour) throws {
        try flavour.checkBinary()
        let dir = try Harness.makeTempDir("tandem-itest-badarg")
        defer { Harness.removeDir(dir) }
        let result = try Harness.run(flavour.binaryPath, ["--port", "0", "--nosuch-directive", "yes"], cwd: dir)
        #expect(result.status.code.map { $0 != 0 } ?? true, "\(flavour): exited with \(result.status)")
        #expect(result.output.contains("*** FATAL CONFIG FILE ERROR"), "\(flavour) printed:\n\(result.output)")
        #expect(result.output.contains(">>> 'nosuch-directive \"yes\"'"), "\(flavour) printed:\n\(result.output)")
    }

    /// Runs the binary with `conf` as its config file; it is expected to exit by itself.
    private func runWithConfig(_ flavour: ServerFlavour, _ conf: String) throws -> RunResult {
        try flavour.checkBinary()
        let dir = try Harness.makeTempDir("tandem-itest-conf")
        defer { Harness.removeDir(dir) }
        let path = dir + "/bad.conf"
        try conf.write(toFile: path, atomically: true, encoding: .utf8)
        let port = try Harness.freePort()
        return try Harness.run(flavour.binaryPath, [path, "--port", String(port), "--bind", "127.0.0.1"], cwd: dir)
    }

    // MARK: - Port already in use

    @Test(arguments: ServerFlavour.allCases)
    func portInUseExitsNonZero(_ flavour: ServerFlavour) throws {
        try flavour.checkBinary()
        let (listener, port) = try Self.listenOnFreePort()
        defer { close(listener) }
        let dir = try Harness.makeTempDir("tandem-itest-busy")
        defer { Harness.removeDir(dir) }
        let result = try Harness.run(flavour.binaryPath, ServerProcess.commonArguments(port: port, dir: dir), cwd: dir)
        #expect(!result.timedOut, "\(flavour): still running 10 s after failing to bind")
        #expect(result.status.code.map { $0 != 0 } ?? true, "\(flavour): exited with \(result.status)")
        let log = Harness.readFile(dir + "/server.log")
        #expect(log.contains("Failed listening on port \(port)"), "\(flavour): log:\n\(log)")
        #expect(log.contains("Address already in use"), "\(flavour): log:\n\(log)")
    }

    /// A listening socket on 127.0.0.1 with a kernel-chosen port.
    static func listenOnFreePort() throws -> (Int32, UInt16) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, len) == 0 && listen(s, 1) == 0 && getsockname(s, $0, &len) == 0
            }
        }
        guard ok else {
            close(s)
            throw HarnessError.system("could not listen on 127.0.0.1")
        }
        return (s, UInt16(bigEndian: addr.sin_port))
    }

    // MARK: - CONFIG REWRITE

    static let rewriteSource = """
        # Tandem integration test config.
        # This header comment must survive CONFIG REWRITE.

        hz 12
        # comment between directives
        timeout 30

        # maxmemory-policy comes next
        maxmemory-policy noeviction
        # trailing comment

        """

    @Test(arguments: ServerFlavour.allCases)
    func configRewriteKeepsCommentsAndPersistsValues(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, configFile: Self.rewriteSource)
        defer { server.stop() }
        let c = try server.connect()
        #expect(try c.callValue("CONFIG", "GET", "hz") == .array([.bulk("hz"), .bulk("12")]))
        #expect(try c.call("CONFIG", "SET", "hz", "25") == Array("+OK\r\n".utf8))
        #expect(try c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == Array("+OK\r\n".utf8))
        #expect(try c.call("CONFIG", "REWRITE") == Array("+OK\r\n".utf8))
        let rewritten = Harness.readFile(server.dir + "/server.conf")
        let lines = rewritten.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

        // Comments survive, in their original order.
        let comments = Self.rewriteSource.split(separator: "\n").map(String.init).filter { $0.hasPrefix("#") }
        let positions = comments.map { comment in lines.firstIndex(of: comment) }
        #expect(positions.allSatisfy { $0 != nil }, "\(flavour): comments lost:\n\(rewritten)")
        let found = positions.compactMap { $0 }
        #expect(found == found.sorted(), "\(flavour): comments reordered:\n\(rewritten)")
        // New values replace the old lines in place; untouched directives stay.
        #expect(lines.contains("hz 25") && !lines.contains("hz 12"), "\(flavour):\n\(rewritten)")
        #expect(lines.contains("maxmemory-policy allkeys-lru"), "\(flavour):\n\(rewritten)")
        #expect(lines.contains("timeout 30"), "\(flavour):\n\(rewritten)")
        if let hz = lines.firstIndex(of: "hz 25"), let between = lines.firstIndex(of: "# comment between directives") {
            #expect(hz < between, "\(flavour): 'hz' was not rewritten in place:\n\(rewritten)")
        }

        // A restart with the rewritten file (new port and dir from the command line) shows the new values.
        let restarted = try ServerProcess.start(flavour, configFile: rewritten)
        defer { restarted.stop() }
        let r = try restarted.connect()
        #expect(try r.callValue("CONFIG", "GET", "hz") == .array([.bulk("hz"), .bulk("25")]))
        #expect(try r.callValue("CONFIG", "GET", "maxmemory-policy")
                == .array([.bulk("maxmemory-policy"), .bulk("allkeys-lru")]))
        #expect(try r.callValue("CONFIG", "GET", "timeout") == .array([.bulk("timeout"), .bulk("30")]))
    }

    @Test(arguments: ServerFlavour.allCases)
    func configRewriteWithoutConfigFileFails(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect()
        #expect(try c.call("CONFIG", "REWRITE")
                == Array("-ERR The server is running without a config file\r\n".utf8))
    }

    // MARK: - protected-mode

    @Test(arguments: ServerFlavour.allCases)
    func protectedModeYesStillServesLoopback(_ flavour: ServerFlavour) throws {
        // Protected mode only refuses non-loopback clients when no password is set; tests may only use
        // 127.0.0.1, so check that loopback is served and that the setting reads back.
        let server = try ServerProcess.start(flavour, extraArgs: ["--protected-mode", "yes"])
        defer { server.stop() }
        let c = try server.connect()
        #expect(try c.call("PING") == Array("+PONG\r\n".utf8))
        #expect(try c.callValue("CONFIG", "GET", "protected-mode") == .array([.bulk("protected-mode"), .bulk("yes")]))
    }
}
