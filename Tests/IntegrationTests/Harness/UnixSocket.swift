/*
 * UnixSocket.swift — connecting a `RawClient` over an AF_UNIX stream socket (`unixsocket` tests).
 *
 *     let c = try RawClient(unixSocketPath: dir + "/t.sock")
 *     #expect(try c.call("PING") == Array("+PONG\r\n".utf8))
 */

import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension RawClient {
    /// A client connected to the Unix domain socket at `path` (at most 107 bytes).
    convenience init(unixSocketPath path: String, timeoutSeconds: Int = 5) throws {
        self.init(connectedDescriptor: try RawClient.connectUnix(path: path), timeoutSeconds: timeoutSeconds)
    }

    /// Opens an AF_UNIX stream connection to `path` and returns the descriptor.
    static func connectUnix(path: String) throws -> Int32 {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw ClientError.io("socket(AF_UNIX)", errno: errno) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            Glibc.close(s)
            throw ClientError.io("connect \(path) (path too long)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(s)
            throw ClientError.io("connect \(path)", errno: e)
        }
        return s
    }
}
