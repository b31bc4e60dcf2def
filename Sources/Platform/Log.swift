/*
 * Log: Redis's log line format, so operators' tooling and test harnesses that grep
 * redis-server logs read Tandem's too:
 *
 *     <pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> <message>
 *
 * role is M (master), S (replica) or C (forked child); level is . (debug), - (verbose),
 * * (notice) or # (warning). Logging is never on the per-command path, so its state may live
 * in static properties.
 */
import Glibc

public enum LogLevel: Int, Sendable {
    case debug = 0, verbose, notice, warning, nothing

    public init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "verbose": self = .verbose
        case "notice": self = .notice
        case "warning": self = .warning
        case "nothing": self = .nothing
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .debug: "debug"
        case .verbose: "verbose"
        case .notice: "notice"
        case .warning: "warning"
        case .nothing: "nothing"
        }
    }

    var mark: Character {
        switch self {
        case .debug: "."
        case .verbose: "-"
        case .notice: "*"
        case .warning, .nothing: "#"
        }
    }
}

public enum Log {
    @exclusivity(unchecked) nonisolated(unsafe) public static var level: LogLevel = .notice
    /// Empty means standard output.
    nonisolated(unsafe) public static var path: String = ""
    nonisolated(unsafe) public static var role: Character = "M"

    public static func debug(_ message: @autoclosure () -> String) { write(.debug, message()) }
    public static func verbose(_ message: @autoclosure () -> String) { write(.verbose, message()) }
    public static func notice(_ message: @autoclosure () -> String) { write(.notice, message()) }
    public static func warning(_ message: @autoclosure () -> String) { write(.warning, message()) }

    public static func write(_ l: LogLevel, _ message: String) {
        guard l.rawValue >= level.rawValue, level != .nothing else { return }
        raw(prefixed(l, message))
        if syslogOpen { toSyslog(l, message) }
    }

    // MARK: - syslog (syslog-enabled, syslog-ident, syslog-facility)

    nonisolated(unsafe) static var syslogOpen = false

    /// Also sends every logged message to syslog, as Redis does with syslog-enabled yes.
    /// `facility`: "user" or "local0" ... "local7".
    public static func openSyslog(ident: String, facility: String) {
        let facilities: [String: Int32] = [
            "user": LOG_USER, "local0": LOG_LOCAL0, "local1": LOG_LOCAL1, "local2": LOG_LOCAL2, "local3": LOG_LOCAL3,
            "local4": LOG_LOCAL4, "local5": LOG_LOCAL5, "local6": LOG_LOCAL6, "local7": LOG_LOCAL7,
        ]
        // openlog keeps the pointer: the copy lives as long as the process.
        openlog(strdup(ident), LOG_PID | LOG_NDELAY | LOG_NOWAIT, facilities[facility] ?? LOG_USER)
        syslogOpen = true
    }

    static func toSyslog(_ l: LogLevel, _ message: String) {
        let priority: Int32
        switch l {
        case .debug: priority = LOG_DEBUG
        case .verbose: priority = LOG_INFO
        case .notice: priority = LOG_NOTICE
        case .warning, .nothing: priority = LOG_WARNING
        }
        message.withCString { text in
            withVaList([text]) { vsyslog(priority, "%s", $0) }
        }
    }

    /// Writes text as is (the start-up logo), with no prefix.
    public static func raw(_ text: String) {
        var bytes = Array(text.utf8)
        if bytes.last != 10 { bytes.append(10) }
        if path.isEmpty {
            bytes.withUnsafeBytes { _ = Glibc.write(1, $0.baseAddress, $0.count) }
            return
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd == -1 { return }
        bytes.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func prefixed(_ l: LogLevel, _ message: String) -> String {
        let micros = Clock.unixMicros()
        var secs = time_t(micros / 1_000_000)
        var tmv = tm()
        localtime_r(&secs, &tmv)
        let ms = Int(micros / 1000 % 1000)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        let date = "\(two(tmv.tm_mday)) \(months[Int(tmv.tm_mon)]) \(tmv.tm_year + 1900) "
            + "\(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec)).\(msText)"
        return "\(getpid()):\(role) \(date) \(l.mark) \(message)"
    }
}
