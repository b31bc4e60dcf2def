/*
 * RawClient.swift — a blocking TCP client that speaks bytes, not a client library.
 *
 * Integration tests compare servers byte for byte, so this client never interprets more than it must: it
 * sends raw bytes (a RESP multibulk built from arguments, an inline command, or anything at all) and reads
 * back exactly ONE complete reply, returned as the raw bytes the server wrote. Bytes after that reply stay
 * buffered for the next read. Every read is bounded by SO_RCVTIMEO (5 s by default), so a server that
 * never answers fails the test instead of hanging it. Loopback (127.0.0.1) only.
 */

import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum ClientError: Error, CustomStringConvertible {
    case connect(port: UInt16, errno: Int32)
    case timeout(partial: [UInt8])
    case closed(partial: [UInt8])
    case io(String, errno: Int32)

    var description: String {
        switch self {
        case .connect(let port, let e): return "connect to 127.0.0.1:\(port) failed: \(String(cString: strerror(e)))"
        case .timeout(let p): return "timed out waiting for a reply (partial: \"\(RESP.escape(p))\")"
        case .closed(let p): return "connection closed by server (partial: \"\(RESP.escape(p))\")"
        case .io(let what, let e): return "\(what) failed: \(String(cString: strerror(e)))"
        }
    }
}

/// One TCP connection to a server on 127.0.0.1. Not thread-safe; a test owns it.
final class RawClient {
    let port: UInt16
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16, timeoutSeconds: Int = 5) throws {
        self.port = port
        fd = try RawClient.connectLoopback(port: port)
        setReceiveTimeout(milliseconds: timeoutSeconds * 1000)
    }

    /// Wraps an already connected stream socket (a Unix domain socket, see UnixSocket.swift); `port` is 0.
    init(connectedDescriptor: Int32, timeoutSeconds: Int = 5) {
        port = 0
        fd = connectedDescriptor
        setReceiveTimeout(milliseconds: timeoutSeconds * 1000)
    }

    deinit { close() }

    /// Opens a TCP connection to 127.0.0.1:port and returns the descriptor.
    static func connectLoopback(port: UInt16) throws -> Int32 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw ClientError.io("socket", errno: errno) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(s)
            throw ClientError.connect(port: port, errno: e)
        }
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return s
    }

    func setReceiveTimeout(milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    // MARK: - Sending

    func sendRaw(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { p in
                Glibc.send(fd, p.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError.io("send", errno: errno)
            }
            sent += n
        }
    }

    /// Sends a command as a RESP multibulk array.
    func send(_ args: [String]) throws { try sendRaw(RESP.command(args)) }

    /// Sends a command whose arguments are raw bytes (binary keys and values).
    func send(bytes args: [[UInt8]]) throws { try sendRaw(RESP.command(bytes: args)) }

    /// Sends an inline command; "\r\n" is appended unless the line already ends with "\n".
    func sendInline(_ line: String) throws {
        try sendRaw(Array((line.hasSuffix("\n") ? line : line + "\r\n").utf8))
    }

    // MARK: - Receiving

    /// Reads exactly one complete reply and returns its raw bytes.
    func readReply() throws -> [UInt8] {
        while true {
            var end = 0
            if try RESPReader.parse(buffer, &end) != nil {
                let reply = Array(buffer[0..<end])
                buffer.removeFirst(end)
                return reply
            }
            try fill()
        }
    }

    /// After SYNC: skips the keep-alive newlines and the `$<len>` snapshot (disk payload, which has no
    /// trailing CRLF), leaving the connection at the first command of the stream.
    func skipSyncPayload() throws {
        while true {
            while buffer.first == UInt8(ascii: "\n") { buffer.removeFirst() }
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")), buffer.first == UInt8(ascii: "$") {
                guard let len = Int(String(decoding: buffer[1..<(nl - 1)], as: UTF8.self)) else {
                    throw ClientError.io("sync payload header", errno: EINVAL)
                }
                while buffer.count < nl + 1 + len { try fill() }
                buffer.removeFirst(nl + 1 + len)
                return
            }
            try fill()
        }
    }

    /// Reads one reply and decodes it.
    func readValue() throws -> RESPValue { try RESPReader.decode(try readReply()) }

    /// Sends a command and reads its reply (raw bytes).
    func call(_ args: [String]) throws -> [UInt8] {
        try send(args)
        return try readReply()
    }

    func call(_ args: String...) throws -> [UInt8] { try call(args) }

    /// Sends a command and decodes its reply.
    func callValue(_ args: [String]) throws -> RESPValue { try RESPReader.decode(try call(args)) }

    /// Sends a command with raw-byte arguments and decodes its reply.
    func callValue(bytes args: [[UInt8]]) throws -> RESPValue {
        try send(bytes: args)
        return try readValue()
    }

    func callValue(_ args: String...) throws -> RESPValue { try callValue(args) }

    /// Waits (bounded) for the server to close the connection. Returns true on EOF, false if bytes arrived
    /// or the wait timed out. Any bytes that arrive are discarded.
    func waitForClose(milliseconds: Int = 2000) -> Bool {
        setReceiveTimeout(milliseconds: milliseconds)
        defer { setReceiveTimeout(milliseconds: 5000) }
        guard buffer.isEmpty else { return false }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
        if n == 0 { return true }
        if n < 0 { return errno == ECONNRESET }
        return false
    }

    /// True when a reply (or some bytes) arrives within `milliseconds`; used to check that nothing comes.
    func hasPendingBytes(milliseconds: Int) -> Bool {
        if !buffer.isEmpty { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(milliseconds)) > 0
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 16384, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return
            }
            if n == 0 { throw ClientError.closed(partial: buffer) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.timeout(partial: buffer) }
            if errno == ECONNRESET { throw ClientError.closed(partial: buffer) }
            throw ClientError.io("recv", errno: errno)
        }
    }
}
