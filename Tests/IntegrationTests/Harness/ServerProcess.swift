/*
 * ServerProcess.swift — starts and stops real server processes for the integration tests.
 *
 * A `ServerProcess` is one server (Tandem or Debian's redis-server) listening on a free loopback port,
 * running in a fresh temp directory that is removed when the server stops (or in a directory the test owns,
 * `start(_:dir:)`, for restarts on the same dump.rdb). Both flavours get the same arguments (see
 * `commonArguments`) so their replies can be compared byte for byte. `startExpectingExit` runs a server that
 * must refuse to start (a corrupt dump.rdb) and returns how it ended.
 *
 *   .tandem  -> $TANDEM_SERVER, else <package root>/.build/debug/tandem-server
 *   .redis   -> $REDIS_SERVER, else /usr/bin/redis-server
 *
 * Setting TANDEM_SERVER=/usr/bin/redis-server runs every differential test redis-vs-redis, which proves
 * the scripts are deterministic before Tandem exists. A missing binary is a test FAILURE with a message
 * saying where it was looked for, never a silent pass.
 *
 * Every wait is bounded: start-up waits up to 10 s for the port to accept connections, stop sends SIGTERM
 * and then SIGKILL after 5 s. Processes are spawned with posix_spawn (no Foundation.Process) so the
 * child's working directory, signal mask and stdout/stderr files are exactly under our control.
 */

import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum ServerFlavour: String, Sendable, CaseIterable, CustomStringConvertible {
    case tandem
    case redis

    var description: String { rawValue }

    /// Root of the SwiftPM package, found from this file's path (Tests/IntegrationTests/Harness/...).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    var binaryPath: String {
        let env = ProcessInfo.processInfo.environment
        switch self {
        case .tandem:
            if let p = env["TANDEM_SERVER"], !p.isEmpty { return p }
            return ServerFlavour.packageRoot + "/.build/debug/tandem-server"
        case .redis:
            if let p = env["REDIS_SERVER"], !p.isEmpty { return p }
            return "/usr/bin/redis-server"
        }
    }

    /// Throws a descriptive error when the binary for this flavour is not there.
    func checkBinary() throws {
        guard access(binaryPath, X_OK) == 0 else {
            let hint = self == .tandem
                ? "build it with `swift build --product tandem-server`, or set TANDEM_SERVER to its path"
                : "install Debian's redis-server package (apt-get install redis-server), or set REDIS_SERVER"
            throw HarnessError.missingBinary(
                "\(self) server binary not found or not executable at \(binaryPath): \(hint)")
        }
    }
}

enum HarnessError: Error, CustomStringConvertible {
    case missingBinary(String)
    case startFailed(String)
    case system(String)

    var description: String {
        switch self {
        case .missingBinary(let s), .startFailed(let s), .system(let s): return s
        }
    }
}

// MARK: - Helpers shared by process-level tests

enum Harness {
    /// A port that was free a moment ago: bind 127.0.0.1:0, read the port back, close.
    static func freePort() throws -> UInt16 {
        let (fd, port) = try boundLoopbackSocket(listening: false)
        close(fd)
        return port
    }

    /// A TCP socket bound to 127.0.0.1 on a port the kernel chose (listening when asked), and
    /// that port.
    static func boundLoopbackSocket(listening: Bool) throws -> (fd: Int32, port: UInt16) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw HarnessError.system("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, len) == 0 && (!listening || listen(s, 8) == 0) && getsockname(s, $0, &len) == 0
            }
        }
        guard ok else {
            close(s)
            throw HarnessError.system("bind/listen/getsockname: \(String(cString: strerror(errno)))")
        }
        return (s, UInt16(bigEndian: addr.sin_port))
    }

    /// A fresh directory under /tmp; the caller removes it.
    static func makeTempDir(_ prefix: String = "tandem-itest") throws -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw HarnessError.system("mkdtemp failed") }
        return String(cString: p)
    }

    static func removeDir(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    static func readFile(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    static func sleep(milliseconds: Int) {
        usleep(useconds_t(milliseconds * 1000))
    }

    /// Polls `condition` every 20 ms until it holds or `milliseconds` pass. Returns whether it held.
    @discardableResult
    static func waitUntil(milliseconds: Int, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
        while Date() < deadline {
            if condition() { return true }
            sleep(milliseconds: 20)
        }
        return condition()
    }

    /// True when something accepts TCP connections on 127.0.0.1:port.
    static func portAccepts(_ port: UInt16) -> Bool {
        guard let fd = try? RawClient.connectLoopback(port: port) else { return false }
        close(fd)
        return true
    }

    /// True when a server on 127.0.0.1:port answers PING with +PONG within a second. A server listens before
    /// it loads its dump file and answers -LOADING meanwhile, so this is what "the dataset is loaded" means.
    static func answersPing(_ port: UInt16) -> Bool {
        guard let c = try? RawClient(port: port, timeoutSeconds: 1) else { return false }
        defer { c.close() }
        return (try? c.call("PING")) == Array("+PONG\r\n".utf8)
    }

    /// Spawns `path args` with its working directory `cwd` and stdout/stderr redirected to files.
    static func spawn(_ path: String, _ args: [String], cwd: String, stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // glibc ≥ 2.29 has posix_spawn_file_actions_addchdir_np, but Swift's Glibc module does not
        // import it (it is a GNU extension), so look it up at run time.
        guard let addchdir = addChdirAction else {
            throw HarnessError.system("posix_spawn_file_actions_addchdir_np missing")
        }
        _ = addchdir(&actions, cwd)

        // Start the child with an empty signal mask and default dispositions, whatever the test runner has.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, environ)
        guard rc == 0 else { throw HarnessError.startFailed("posix_spawn \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    private typealias AddChdir = @convention(c) (
        UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
    ) -> Int32
    private static let addChdirAction: AddChdir? = {
        guard let sym = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(sym, to: AddChdir.self)
    }()

    /// SIGKILLs every process whose command line has an argument containing `marker` (a unique temp dir of
    /// ours), for processes that escaped their parent: a daemon whose pidfile never appeared, or a child a
    /// server forked and left behind. Returns the pids killed.
    @discardableResult
    static func killProcesses(withArgumentContaining marker: String) -> [pid_t] {
        guard !marker.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return []
        }
        var killed: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { continue }
            let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if args.contains(where: { $0.contains(marker) }) && kill(pid, SIGKILL) == 0 { killed.append(pid) }
        }
        return killed
    }

    /// Non-blocking reap: the exit description if `pid` has ended, nil while it runs.
    static func reap(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { return ExitStatus(raw: status) }
        if r < 0 && errno == ECHILD { return ExitStatus(raw: -1) }
        return nil
    }

    /// Runs a program to completion (bounded by `timeoutSeconds`, then SIGKILL) and returns its exit status
    /// with what it printed. Used for processes expected to exit by themselves (bad config, daemonize).
    static func run(_ path: String, _ args: [String], cwd: String, timeoutSeconds: Double = 10) throws -> RunResult {
        let out = cwd + "/run-stdout.txt", err = cwd + "/run-stderr.txt"
        let pid = try spawn(path, args, cwd: cwd, stdout: out, stderr: err)
        var status: ExitStatus?
        Harness.waitUntil(milliseconds: Int(timeoutSeconds * 1000)) {
            status = reap(pid)
            return status != nil
        }
        if status == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
            return RunResult(status: ExitStatus(raw: raw), timedOut: true, stdout: readFile(out), stderr: readFile(err))
        }
        return RunResult(status: status!, timedOut: false, stdout: readFile(out), stderr: readFile(err))
    }
}

struct ExitStatus: CustomStringConvertible {
    let raw: Int32
    /// Exit code when the process exited normally.
    var code: Int32? { raw >= 0 && (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : nil }
    var signal: Int32? { raw >= 0 && (raw & 0x7f) != 0 && (raw & 0x7f) != 0x7f ? raw & 0x7f : nil }
    var description: String {
        if let c = code { return "exit code \(c)" }
        if let s = signal { return "killed by signal \(s)" }
        return "unknown status \(raw)"
    }
}

struct RunResult {
    let status: ExitStatus
    let timedOut: Bool
    let stdout: String
    let stderr: String
    var output: String { stdout + stderr }
}

// MARK: - Server process

/// A running server on 127.0.0.1:`port`, in its own temp directory. Call `stop()` (deinit does too).
final class ServerProcess {
    let flavour: ServerFlavour
    let port: UInt16
    let dir: String
    private(set) var pid: pid_t
    /// How the process ended, once it has been reaped (nil while it runs, or when `stop()` had to SIGKILL it).
    private(set) var exitStatus: ExitStatus?
    /// False when the caller passed `dir` to `start` and so owns (and removes) the directory.
    private let ownsDir: Bool
    private var stopped = false

    var logPath: String { dir + "/server.log" }
    var log: String { Harness.readFile(logPath) }
    var stdoutText: String { Harness.readFile(dir + "/stdout.txt") }
    var stderrText: String { Harness.readFile(dir + "/stderr.txt") }

    /// The arguments every server gets, whichever flavour, so replies are comparable.
    static func commonArguments(port: UInt16, dir: String) -> [String] {
        [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--protected-mode", "no", "--enable-debug-command", "yes", "--daemonize", "no",
            "--dir", dir, "--logfile", dir + "/server.log",
            // Both default to a 5 s wait before a diskless full sync; tests do not wait.
            "--repl-diskless-sync-delay", "0",
            // The command line stays as launched (children included), so `stop()` finds every
            // process of the test by its directory; ConfigDropInTests turns titles back on.
            "--set-proc-title", "no",
        ]
    }

    private init(flavour: ServerFlavour, port: UInt16, dir: String, pid: pid_t, ownsDir: Bool) {
        self.flavour = flavour
        self.port = port
        self.dir = dir
        self.pid = pid
        self.ownsDir = ownsDir
    }

    deinit { stop() }

    /// Starts a server and waits (≤ 10 s) until its port accepts connections.
    /// - Parameters:
    ///   - configFile: written into the temp dir as `server.conf` and passed as the first argument.
    ///   - extraArgs: appended after the common arguments (so they override them).
    ///   - dir: run in this existing directory (e.g. a second run on the dump.rdb the first one saved); the
    ///     caller owns it and removes it. Nil: a fresh temp dir, removed by `stop()`.
    ///   - prepare: called with the temp dir before launch (e.g. to write files the config refers to, or to
    ///     copy in the dump.rdb the server should load).
    static func start(
        _ flavour: ServerFlavour, extraArgs: [String] = [], configFile: String? = nil, dir existingDir: String? = nil,
        prepare: ((String) throws -> Void)? = nil
    ) throws -> ServerProcess {
        try flavour.checkBinary()
        var lastFailure = ""
        // A port that was free can be taken by someone else before the server binds it: retry a few times.
        for _ in 0..<3 {
            let dir = try existingDir ?? Harness.makeTempDir("tandem-itest-\(flavour)")
            let port = try Harness.freePort()
            do {
                try prepare?(dir)
                var args: [String] = []
                if let configFile {
                    let path = dir + "/server.conf"
                    try configFile.write(toFile: path, atomically: true, encoding: .utf8)
                    args.append(path)
                }
                args += commonArguments(port: port, dir: dir) + extraArgs
                let pid = try Harness.spawn(
                    flavour.binaryPath, args, cwd: dir, stdout: dir + "/stdout.txt", stderr: dir + "/stderr.txt")
                let server = ServerProcess(
                    flavour: flavour, port: port, dir: dir, pid: pid, ownsDir: existingDir == nil)
                if let failure = server.waitReady(seconds: 10) {
                    let portTaken = failure.contains("Address already in use") || failure.contains("Failed listening")
                    server.stop()
                    lastFailure = failure
                    if portTaken { continue }
                    throw HarnessError.startFailed(failure)
                }
                return server
            } catch {
                if existingDir == nil { Harness.removeDir(dir) }
                throw error
            }
        }
        throw HarnessError.startFailed(lastFailure)
    }

    /// Waits until the port accepts connections. Returns nil when ready, or a failure description.
    private func waitReady(seconds: Double) -> String? {
        var exited: ExitStatus?
        let ready = Harness.waitUntil(milliseconds: Int(seconds * 1000)) {
            if let s = Harness.reap(pid) {
                exited = s
                return true
            }
            return Harness.portAccepts(port)
        }
        if let exited {
            stopped = true
            exitStatus = exited
            return "\(flavour) server (\(flavour.binaryPath)) exited during start-up with \(exited)\n"
                + "--- log ---\n\(log.suffix(3000))\n--- stdout ---\n\(stdoutText.suffix(2000))\n"
                + "--- stderr ---\n\(stderrText.suffix(2000))"
        }
        if !ready {
            return "\(flavour) server did not accept connections on 127.0.0.1:\(port) within \(seconds) s\n"
                + "--- log ---\n\(log.suffix(3000))"
        }
        return nil
    }

    /// Waits (≤ `milliseconds`) until the server has loaded its dump file and serves commands (PING answers
    /// +PONG, not -LOADING); throws with the log's tail when it does not.
    func waitUntilLoaded(milliseconds: Int = 10_000) throws {
        guard Harness.waitUntil(milliseconds: milliseconds, { Harness.answersPing(port) }) else {
            throw HarnessError.startFailed(
                "\(flavour) server on port \(port) did not finish loading within \(milliseconds) ms\n"
                    + "--- log ---\n\(log.suffix(3000))")
        }
    }

    /// A new client connection to this server.
    func connect(timeoutSeconds: Int = 5) throws -> RawClient {
        try RawClient(port: port, timeoutSeconds: timeoutSeconds)
    }

    /// Whether the process has exited (reaping it if so).
    var hasExited: Bool {
        if stopped { return true }
        if let status = Harness.reap(pid) {
            stopped = true
            exitStatus = status
            return true
        }
        return false
    }

    /// Waits (bounded) for the process to exit by itself, e.g. after SHUTDOWN.
    func waitForExit(milliseconds: Int) -> Bool {
        Harness.waitUntil(milliseconds: milliseconds) { hasExited }
    }

    /// SIGTERM, then SIGKILL after 5 s; removes the temp dir unless `keepDir` or the caller owns it.
    func stop(keepDir: Bool = false) {
        if !stopped {
            kill(pid, SIGTERM)
            if !waitForExit(milliseconds: 5000) {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            stopped = true
        }
        Harness.killProcesses(withArgumentContaining: dir)
        if !keepDir && ownsDir { Harness.removeDir(dir) }
    }

    // MARK: - Servers that must not start

    /// How a server that was expected to refuse to start ended.
    struct EarlyExit {
        let status: ExitStatus
        /// The log file, stdout and stderr together (Redis logs load errors to its log file and runs
        /// redis-check-rdb on stdout).
        let output: String
    }

    /// Starts a server in `dir` (which the caller owns; the common arguments point `--dir` and the log file
    /// there) expecting it to exit by itself during start-up, e.g. on a corrupt dump.rdb. Waits at most
    /// `seconds`. Returns how it ended, or nil when it came up and served PING instead (or was still starting
    /// when the time ran out); such a server is SIGKILLed at once, so it cannot touch its files. (Accepting
    /// connections proves nothing here: servers listen before they load, and answer -LOADING meanwhile.)
    static func startExpectingExit(
        _ flavour: ServerFlavour, extraArgs: [String] = [], dir: String, seconds: Double = 5
    ) throws -> EarlyExit? {
        try flavour.checkBinary()
        let port = try Harness.freePort()
        let args = commonArguments(port: port, dir: dir) + extraArgs
        let out = dir + "/stdout.txt", err = dir + "/stderr.txt"
        let pid = try Harness.spawn(flavour.binaryPath, args, cwd: dir, stdout: out, stderr: err)
        var status: ExitStatus?
        Harness.waitUntil(milliseconds: Int(seconds * 1000)) {
            status = Harness.reap(pid)
            return status != nil || Harness.answersPing(port)
        }
        guard let status else {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
            Harness.killProcesses(withArgumentContaining: dir)
            return nil
        }
        let output = [dir + "/server.log", out, err].map(Harness.readFile).joined(separator: "\n")
        return EarlyExit(status: status, output: output)
    }
}
