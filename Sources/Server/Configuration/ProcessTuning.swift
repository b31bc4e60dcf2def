/*
 * ProcessTuning: what Redis 7.0 does to its own process, from redis.conf.
 *
 *  - disable-thp (default yes): when the kernel's transparent huge pages are set to "always",
 *    turn them off for this process and its children (prctl PR_SET_THP_DISABLE). With huge
 *    pages, one write during a fork-based snapshot copies 2 MB instead of 4 KB.
 *  - oom-score-adj / oom-score-adj-values (default no / "0 200 800"): the Linux OOM killer's
 *    preference, per role: a master, a replica, a background child. "yes"/"relative" add the
 *    value to the score the process started with, "absolute" writes it as is, "no" puts the
 *    original back if Tandem had changed it. Applied at start-up, on CONFIG SET, when the role
 *    changes (checked by the cron) and in every fork child.
 *  - shutdown-on-sigint / shutdown-on-sigterm: what the signals' shutdown does (save, nosave,
 *    force; "now" has nothing to skip: Tandem does not wait for replicas at shutdown).
 */
import CTandem
import Glibc
import Platform

/// The OOM-score state Redis keeps in statics: the score the process had before Tandem first
/// changed it, and the last value written (so the cron writes only on a change).
struct OOMScoreState {
    var base: Int? = nil
    var applied: Int? = nil
}

extension Server {
    enum OOMClass: Int { case master = 0, replica = 1, backgroundChild = 2 }

    // MARK: - syslog

    /// syslog-enabled yes: every log line also goes to syslog with syslog-ident and
    /// syslog-facility (fixed at start-up, as in Redis).
    public func openSyslogIfEnabled() {
        guard settings.storedValue("syslog-enabled") == "yes" else { return }
        Log.openSyslog(ident: settings.storedValue("syslog-ident"), facility: settings.storedValue("syslog-facility"))
    }

    // MARK: - Crash report

    /// crash-log-enabled yes (the default): a crash writes Redis's kind of bug report, with a
    /// stack trace, to the log before the process dies.
    public func installCrashHandlerIfEnabled() {
        guard settings.storedValue("crash-log-enabled") == "yes" else { return }
        tandem_install_crash_handler(settings.logfile)
    }

    // MARK: - Transparent huge pages

    /// At start-up, as Redis's linuxMemoryWarnings.
    public func disableTransparentHugePagesIfNeeded() {
        guard let mode = Self.readSmallFile("/sys/kernel/mm/transparent_hugepage/enabled"), mode.contains("[always]") else { return }
        if settings.storedValue("disable-thp") == "yes" && tandem_disable_thp() == 0 { return }
        Log.warning("WARNING you have Transparent Huge Pages (THP) support enabled in your kernel. This will create latency and memory usage issues with Redis. To fix this issue run the command 'echo madvise > /sys/kernel/mm/transparent_hugepage/enabled' as root, and add it to your /etc/rc.local in order to retain the setting after a reboot. Redis must be restarted after THP is disabled (set to 'madvise' or 'never').")
    }

    // MARK: - OOM score

    /// At start-up: the OOM score of the node's role.
    public mutating func applyOOMScoreAdj() { applyOOMScoreAdj(nil) }

    /// Writes the OOM score for `processClass` (nil: the node's role). False (logged) on failure.
    @discardableResult
    mutating func applyOOMScoreAdj(_ processClass: OOMClass?) -> Bool {
        Self.applyOOMScoreAdj(processClass ?? (isReplicaNode ? .replica : .master), settings, &oom)
    }

    /// In a fork child (which has its own copy of the state).
    func applyChildOOMScoreAdj() {
        var state = oom
        Self.applyOOMScoreAdj(.backgroundChild, settings, &state)
    }

    @discardableResult
    static func applyOOMScoreAdj(_ cls: OOMClass, _ settings: Settings, _ oom: inout OOMScoreState) -> Bool {
        let mode = settings.storedValue("oom-score-adj")
        let value: Int
        if mode != "no" {
            if oom.base == nil {
                guard let text = Self.readSmallFile("/proc/self/oom_score_adj"), let v = Int(text.trimmingCharacters(in: " \n")) else {
                    Log.warning("Unable to read oom_score_adj: \(String(cString: strerror(errno)))")
                    return false
                }
                oom.base = v
            }
            let values = settings.storedValue("oom-score-adj-values").split(separator: " ").compactMap { Int($0) }
            var v = values.count == 3 ? values[cls.rawValue] : 0
            if mode != "absolute" { v += oom.base ?? 0 }
            value = min(1000, max(-1000, v))
        } else if let base = oom.base {
            value = base
            oom.base = nil
        } else {
            return true
        }
        if value == oom.applied { return true }
        let fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)
        let text = Array("\(value)\n".utf8)
        if fd < 0 || write(fd, text, text.count) < 0 {
            Log.warning("Unable to write oom_score_adj: \(String(cString: strerror(errno)))")
            if fd >= 0 { close(fd) }
            return false
        }
        close(fd)
        oom.applied = value
        return true
    }

    // MARK: - Signals

    /// The shutdown a SIGINT or SIGTERM asks for (shutdown-on-sigint / shutdown-on-sigterm).
    func shutdownOnSignal(_ signal: Int32) -> (mode: ShutdownSaveMode, force: Bool, now: Bool) {
        let flags = settings.storedValue(signal == SIGINT ? "shutdown-on-sigint" : "shutdown-on-sigterm").split(separator: " ")
        let mode: ShutdownSaveMode = flags.contains("save") ? .save : flags.contains("nosave") ? .noSave : .auto
        return (mode, flags.contains("force"), flags.contains("now"))
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 256)
        let n = read(fd, &buf, buf.count)
        return n > 0 ? String(decoding: buf[..<n], as: UTF8.self) : nil
    }
}

// MARK: - Process title

/// proc-title-template's expansion (Redis's sdstemplate): `{name}` is replaced by the
/// variable's value, `{{` is a literal brace; an unknown name or an unclosed brace makes the
/// template invalid. The result is trimmed of spaces, and must not be empty.
enum ProcTitleTemplate {
    static let names: Set<String> = ["title", "listen-addr", "server-mode", "config-file", "port", "tls-port", "unixsocket"]

    static func expand(_ template: String, _ value: (String) -> String) -> String? {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest.index(after: open)
            guard after < rest.endIndex else { return nil }
            if rest[after] == "{" {
                out += "{"
                rest = rest[rest.index(after: after)...]
                continue
            }
            guard let close = rest[after...].firstIndex(of: "}") else { return nil }
            let name = String(rest[after..<close])
            guard names.contains(name) else { return nil }
            out += value(name)
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        let trimmed = out.trimmingCharacters(in: " ")
        return trimmed.isEmpty ? nil : trimmed
    }

    /// CONFIG SET's and the config file's check: as Redis, expanded with an empty title (the
    /// other variables always have a value).
    static func isValid(_ template: String) -> Bool { expand(template, { $0 == "title" ? "" : "x" }) != nil }
}

extension Server {
    /// Sets the process title from proc-title-template (set-proc-title yes), `title` standing for
    /// {title}: the executable as it was run, or a child's role.
    public func updateProcessTitle(_ title: String? = nil) {
        guard let processTitle, settings.storedValue("set-proc-title") == "yes" else { return }
        let s = settings
        let text = ProcTitleTemplate.expand(s.storedValue("proc-title-template")) { name in
            switch name {
            case "title": return title ?? executableName
            case "listen-addr": return "\(s.bind.first ?? "*"):\(s.port)"
            case "server-mode": return ""
            case "config-file": return configPath ?? "-"
            case "port": return String(s.port)
            case "tls-port": return "0"
            case "unixsocket": return s.unixSocket
            default: return ""
            }
        }
        if let text { processTitle.set(text) }
    }
}
