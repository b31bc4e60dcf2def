/*
 * ConfigLoader: builds Settings from a redis.conf-style file plus `--directive value`
 * command-line arguments (which override the file), as redis-server does.
 *
 * Errors are fatal at start-up and reported in Redis's format, naming the line:
 *
 *     *** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***
 *     Reading the configuration file, at line 3
 *     >>> 'foo bar'
 *     Bad directive or wrong number of arguments
 */
import Glibc
import Platform

public struct ConfigFatal: Error, CustomStringConvertible {
    let line: Int
    let text: String
    let message: String

    public var description: String {
        "\n*** FATAL CONFIG FILE ERROR (Redis \(ServerInfo.redisVersion)) ***\n"
            + "Reading the configuration file, at line \(line)\n>>> '\(text)'\n\(message)\n"
    }
}

public struct LoadedConfig {
    public var settings: Settings
    /// Absolute path of the config file, nil when started without one.
    public var path: String?
}

public enum ConfigLoader {
    /// Splits argv into the config file path and directive lines (`--port 1 --save ""` →
    /// `port 1`, `save ""`).
    public static func parseArguments(_ args: [String]) -> (file: String?, lines: [String]) {
        var file: String? = nil
        var i = 0
        if let first = args.first, !first.hasPrefix("--") {
            file = first
            i = 1
        }
        // As redis-server: "--name" starts a directive; the word after a bare name is always
        // its value even if it starts with "--", except that "--save" directly followed by
        // another option (or last) means `save ""`.
        var lines: [String] = []
        var current: [String] = []
        var lastHasValue = true
        while i < args.count {
            let a = args[i]
            if lastHasValue && a.hasPrefix("--") && a.count > 2 {
                if !current.isEmpty { lines.append(current.joined(separator: " ")) }
                let name = String(a.dropFirst(2))
                current = [name]
                if name.contains(" ") {
                    lastHasValue = true
                } else {
                    lastHasValue = false
                    let isSave = name.lowercased() == "save"
                    if isSave && (i == args.count - 1 || args[i + 1].hasPrefix("--")) {
                        current.append("\"\"")
                        lastHasValue = true
                    }
                }
            } else if !current.isEmpty {
                current.append(repr(a))
                lastHasValue = true
            }
            i += 1
        }
        if !current.isEmpty { lines.append(current.joined(separator: " ")) }
        return (file, lines)
    }

    /// Quotes an argument the way Redis does when it turns argv into config lines.
    static func repr(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    public static func load(file: String?, lines extra: [String]) throws(ConfigFatal) -> LoadedConfig {
        var settings = Settings()
        var path: String? = nil
        var lines: [String] = []
        if let file {
            guard let text = readFile(file) else {
                throw ConfigFatal(line: 0, text: file, message: "Fatal error, can't open config file '\(file)': \(String(cString: strerror(errno)))")
            }
            path = absolute(file)
            lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        }
        // Like Redis, command-line directives are appended to the file's text after a
        // newline, which decides the line numbers that errors report.
        if file == nil && !extra.isEmpty { lines.append("") }
        lines.append(contentsOf: extra)
        try apply(lines: lines, to: &settings, depth: 0)
        return LoadedConfig(settings: settings, path: path)
    }

    static func apply(lines: [String], to settings: inout Settings, depth: Int) throws(ConfigFatal) {
        for (n, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: " \t\r\n")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let words = ConfigLine.split(line) else {
                throw ConfigFatal(line: n + 1, text: line, message: "Unbalanced quotes in configuration line")
            }
            if words.isEmpty { continue }
            let name = words[0].lowercased()
            let args = Array(words.dropFirst())
            if name == "include" {
                guard args.count == 1, depth < 16 else {
                    throw ConfigFatal(line: n + 1, text: line, message: "Bad directive or wrong number of arguments")
                }
                guard let text = readFile(args[0]) else {
                    throw ConfigFatal(line: n + 1, text: line,
                                      message: "Fatal error, can't open config file '\(args[0])': \(String(cString: strerror(errno)))")
                }
                let sub = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
                try apply(lines: sub, to: &settings, depth: depth + 1)
                continue
            }
            if let refusal = applyNonConfigDirective(name, args, to: &settings) {
                throw ConfigFatal(line: n + 1, text: line, message: refusal)
            }
            if name == "rename-command" || name == "user" { continue }
            guard let d = ConfigTable.find(name) else {
                throw ConfigFatal(line: n + 1, text: line, message: "Bad directive or wrong number of arguments")
            }
            // `save` takes any even number of arguments, none included (a bare `save` line clears
            // the points, as Redis 7.0's multi-argument configs do); the other multi-argument
            // configs validate an empty list themselves; others need at least one.
            if args.isEmpty && name != "save" && !ConfigTable.takesManyArguments(d) {
                throw ConfigFatal(line: n + 1, text: line, message: "wrong number of arguments")
            }
            do throws(ConfigError) {
                if name == "save" {
                    try addSaveLine(args, to: &settings)
                } else {
                    try ConfigTable.apply(d, args, to: &settings, fromFile: true)
                }
            } catch {
                throw ConfigFatal(line: n + 1, text: line, message: error.message)
            }
        }
    }

    /// The redis.conf lines that are not configs (no CONFIG GET): rename-command is applied,
    /// `user` lines kept for start-up; modules and sentinel lines are refused with the reason
    /// (nil: nothing to say).
    static func applyNonConfigDirective(_ name: String, _ args: [String], to settings: inout Settings) -> String? {
        switch name {
        case "rename-command":
            guard args.count == 2 else { return "wrong number of arguments" }
            guard CommandTable.all.contains(where: { $0.nameString == args[0].lowercased() }) else {
                return "No such command in rename-command"
            }
            settings.renamedCommands.append(RenamedCommand(name: args[0], newName: args[1]))
            return nil
        case "loadmodule":
            return "Tandem does not support Redis modules: remove the loadmodule line"
        case "user":
            return ACLConfigUsers.append(args, to: &settings)
        case "sentinel":
            return "sentinel directive while not in sentinel mode"
        default:
            return nil
        }
    }

    /// One `save` line: the first replaces the defaults, later ones add points; `save ""`
    /// clears them. A line may hold several pairs, or one quoted argument with them.
    static func addSaveLine(_ args: [String], to settings: inout Settings) throws(ConfigError) {
        if !settings.saveFromFileSeen {
            settings.saveFromFileSeen = true
            settings.save = []
        }
        let words = args.count == 1 ? args[0].split(separator: " ").map(String.init) : args
        if words.isEmpty {
            settings.save = []
            return
        }
        guard words.count % 2 == 0 else { throw ConfigError("Invalid save parameters") }
        var i = 0
        while i < words.count {
            guard let s = ConfigTable.parseInt(words[i]), let c = ConfigTable.parseInt(words[i + 1]), s >= 1, c >= 0
            else { throw ConfigError("Invalid save parameters") }
            settings.save.append(SavePoint(seconds: s, changes: c))
            i += 2
        }
    }

    static func readFile(_ path: String) -> String? {
        readFileBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func readFileBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd == -1 { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buf[0..<n])
        }
        return bytes
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return path }
        return String(cString: buf) + "/" + path
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set.unicodeScalars)
        var s = Substring(self).unicodeScalars
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(String.UnicodeScalarView(s))
    }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        if target.isEmpty { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) {
                return i..<index(i, offsetBy: target.count)
            }
            i = index(after: i)
        }
        return nil
    }
}
