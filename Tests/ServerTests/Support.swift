// Support.swift — helpers for the config tests: a temporary directory with small file
// read/write helpers (plain Glibc), and shortcuts that load a config text and return the
// settings or the ConfigFatal.
import Glibc
@testable import Server

/// A fresh directory under /tmp, removed (with the files written through it) on deinit.
final class TempDir {
    let path: String
    private var names = Set<String>()

    init() {
        var template = Array("/tmp/tandem-servertests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        for n in names { unlink(path + "/" + n) }
        rmdir(path)
    }

    func file(_ name: String) -> String {
        names.insert(name)
        return path + "/" + name
    }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let p = file(name)
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "open \(p) failed")
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            precondition(n > 0)
            done += n
        }
        close(fd)
        return p
    }

    func read(_ name: String) -> String? {
        let fd = open(path + "/" + name, O_RDONLY)
        if fd < 0 { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Loads `text` as a config file (plus command-line `lines`) and returns the settings.
func loadConfig(_ text: String, lines: [String] = []) throws(ConfigFatal) -> Settings {
    let dir = TempDir()
    let p = dir.write("tandem.conf", text)
    return try ConfigLoader.load(file: p, lines: lines).settings
}

/// The error loading `text` (nil: no file) plus `lines` produces, or nil if it loads.
func configError(_ text: String?, lines: [String] = []) -> ConfigFatal? {
    let dir = TempDir()
    let p = text.map { dir.write("tandem.conf", $0) }
    do {
        _ = try ConfigLoader.load(file: p, lines: lines)
        return nil
    } catch {
        return error
    }
}

func saves(_ pairs: [(Int, Int)]) -> [SavePoint] { pairs.map { SavePoint(seconds: $0.0, changes: $0.1) } }
