// RedisOracle.swift — Debian's redis-server as an oracle for the Persistence tests: start it
// on a free loopback port, send commands, and take DUMP payloads apart.
//
// Kept small on purpose (test targets cannot share the IntegrationTests harness): a blocking
// socket with a 5 s receive timeout, and a reply reader for the four reply kinds these tests
// use (+, -, :, $). A missing /usr/bin/redis-server (or $REDIS_SERVER) fails the test.
// Stopping is SIGKILL: see stop().
import Foundation
import Glibc

struct OracleError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum Reply: Equatable {
    case status(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8]?)
}

final class RedisOracle {
    private let process: Process
    private let dir: String
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    /// Starts redis-server with `args` added, and connects to it (waiting up to 10 s).
    init(_ args: [String]) throws {
        let path = ProcessInfo.processInfo.environment["REDIS_SERVER"] ?? "/usr/bin/redis-server"
        guard access(path, X_OK) == 0 else {
            throw OracleError("redis-server not found at \(path): apt-get install redis-server, or set REDIS_SERVER")
        }
        var template = Array("/tmp/tandem-ptest-XXXXXX".utf8CString)
        guard let d = mkdtemp(&template) else { throw OracleError("mkdtemp failed") }
        dir = String(cString: d)
        let port = try Self.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", dir, "--logfile", dir + "/redis.log",
        ] + args
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while fd < 0 {
            fd = Self.connect(port: port)
            if fd >= 0 { break }
            if !process.isRunning || Date() > deadline {
                let log = (try? String(contentsOfFile: dir + "/redis.log", encoding: .utf8)) ?? ""
                stop()
                throw OracleError("redis-server did not start on port \(port):\n\(log.suffix(2000))")
            }
            usleep(20_000)
        }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { stop() }

    func stop() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        // SIGKILL, not terminate(): Process starts the child with the test runner's signal
        // mask, in which SIGTERM is blocked. Nothing of this server's needs a clean exit.
        // Bounded: Foundation's waitUntilExit() was seen to hang here after the child died.
        if process.isRunning {
            let pid = process.processIdentifier
            kill(pid, SIGKILL)
            var status: Int32 = 0
            for _ in 0..<300 where waitpid(pid, &status, WNOHANG) == 0 { usleep(10_000) }
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Sends one command (a RESP array of bulk strings) and reads its reply.
    func call(_ args: [[UInt8]]) throws -> Reply {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args { out += Array("$\(a.count)\r\n".utf8) + a + [13, 10] }
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeBytes { send(fd, $0.baseAddress! + sent, out.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw OracleError("send failed: errno \(errno)") }
            sent += n
        }
        return try readReply()
    }

    func call(_ args: String...) throws -> Reply { try call(args.map { Array($0.utf8) }) }

    private func readReply() throws -> Reply {
        let line = try readLine()
        let rest = String(decoding: line.dropFirst(), as: UTF8.self)
        switch line.first {
        case UInt8(ascii: "+"): return .status(rest)
        case UInt8(ascii: "-"): return .error(rest)
        case UInt8(ascii: ":"): return .integer(Int(rest) ?? 0)
        case UInt8(ascii: "$"):
            guard let n = Int(rest), n >= 0 else { return .bulk(nil) }
            let body = try readBytes(n + 2)
            return .bulk(Array(body.prefix(n)))
        default: throw OracleError("unexpected reply \(rest)")
        }
    }

    private func readLine() throws -> [UInt8] {
        while true {
            if let i = buffer.firstIndex(of: 10), i > 0, buffer[i - 1] == 13 {
                let line = Array(buffer[0..<i - 1])
                buffer.removeFirst(i + 1)
                return line
            }
            try fill()
        }
    }

    private func readBytes(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { try fill() }
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
        guard n > 0 else { throw OracleError("recv failed or timed out: errno \(errno)") }
        buffer += chunk[0..<n]
    }

    private static func freePort() throws -> UInt16 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
        }
        guard ok else { throw OracleError("could not find a free port") }
        return UInt16(bigEndian: addr.sin_port)
    }

    private static func connect(port: UInt16) -> Int32 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc == 0 { return s }
        close(s)
        return -1
    }
}

// MARK: - DUMP payloads

/// A DUMP payload: object type byte, the serialized object, RDB version (2 bytes LE), CRC64
/// (8 bytes LE) of everything before it. Reads the uncompressed RDB strings inside the object.
struct DumpPayload {
    let bytes: [UInt8]
    private(set) var at = 1

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 11 else { throw OracleError("DUMP payload too short") }
        self.bytes = bytes
    }

    var type: UInt8 { bytes[0] }
    var version: Int { Int(bytes[bytes.count - 10]) | Int(bytes[bytes.count - 9]) << 8 }
    var crc: UInt64 { bytes.suffix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    /// Whether the object was read up to the version field exactly.
    var atEnd: Bool { at == bytes.count - 10 }

    /// An RDB length: 6-bit, 14-bit, or 32/64-bit big-endian.
    mutating func length() throws -> Int {
        let first = bytes[at]
        at += 1
        switch first >> 6 {
        case 0: return Int(first & 0x3F)
        case 1:
            at += 1
            return Int(first & 0x3F) << 8 | Int(bytes[at - 1])
        default:
            let n = first == 0x80 ? 4 : first == 0x81 ? 8 : 0
            guard n > 0 else { throw OracleError("encoded (compressed?) string, byte \(first)") }
            let v = bytes[at..<at + n].reduce(0) { $0 << 8 | Int($1) }
            at += n
            return v
        }
    }

    /// A plain (not integer-encoded, not compressed) RDB string.
    mutating func string() throws -> [UInt8] {
        let n = try length()
        defer { at += n }
        return Array(bytes[at..<at + n])
    }
}
