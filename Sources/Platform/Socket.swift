/*
 * Socket: typed wrappers over the socket calls the server makes. Every call goes through
 * `retryingEINTR`; failures become `SystemError`. Descriptors are plain Int32s because they
 * are stored in malloc'd client structs, where a Swift class would cost an ARC object.
 */
import CTandem
import Glibc

public enum Socket {
    /// Whether `s` is an IPv4 or IPv6 address literal (no name resolution).
    public static func isNumericAddress(_ s: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }

    /// Opens a non-blocking listening TCP socket bound to `host:port` (IPv4 or IPv6 literal,
    /// "*" for every IPv4 address, "::*" for every IPv6 address).
    public static func listenTCP(host: String, port: Int, backlog: Int32) throws(SystemError) -> Int32 {
        let isV6 = host.contains(":")
        let fd = tandem_socket_stream(isV6 ? AF_INET6 : AF_INET)
        if fd == -1 { throw SystemError("socket") }
        _ = tandem_set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        var result: Int32
        if isV6 {
            _ = tandem_set_int_option(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = in_port_t(UInt16(port).bigEndian)
            let literal = host == "::*" ? "::" : host
            if inet_pton(AF_INET6, literal, &addr.sin6_addr) != 1 {
                close(fd)
                throw SystemError("inet_pton", errno: EINVAL)
            }
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            let literal = host == "*" ? "0.0.0.0" : host
            if inet_pton(AF_INET, literal, &addr.sin_addr) != 1 {
                close(fd)
                throw SystemError("inet_pton", errno: EINVAL)
            }
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if result == -1 {
            let e = SystemError("bind")
            close(fd)
            throw e
        }
        if Glibc.listen(fd, backlog) == -1 {
            let e = SystemError("listen")
            close(fd)
            throw e
        }
        return fd
    }

    /// Opens a non-blocking listening Unix domain socket at `path` with permissions `perm`.
    public static func listenUnix(path: String, perm: mode_t, backlog: Int32) throws(SystemError) -> Int32 {
        let fd = tandem_socket_stream(AF_UNIX)
        if fd == -1 { throw SystemError("socket") }
        unlink(path)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let maxLen = MemoryLayout.size(ofValue: addr.sun_path) - 1
        if bytes.count > maxLen {
            close(fd)
            throw SystemError("bind", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if r == -1 || Glibc.listen(fd, backlog) == -1 {
            let e = SystemError("bind")
            close(fd)
            throw e
        }
        if perm != 0 { chmod(path, perm) }
        return fd
    }

    /// Accepts one connection. Returns nil when none is pending.
    public static func accept(_ listener: Int32) -> (fd: Int32, peer: String, isUnix: Bool, isLoopback: Bool)? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                retryingEINTR { tandem_accept4(listener, sa, &len) }
            }
        }
        if fd == -1 { return nil }
        let (peer, loopback) = describe(&storage)
        return (fd, peer, Int32(storage.ss_family) == AF_UNIX, loopback)
    }

    /// "ip:port" of the local end of `fd`.
    public static func localAddress(_ fd: Int32) -> String { address(fd, getsockname) }

    /// "ip:port" of the remote end of `fd`.
    public static func peerAddress(_ fd: Int32) -> String { address(fd, getpeername) }

    /// The peer's "ip:port", nil when the socket has no peer any more (getpeername fails).
    public static func connectedPeerAddress(_ fd: Int32) -> String? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) }
        }
        return r == 0 ? describe(&storage).0 : nil
    }

    static func address(_ fd: Int32, _ query: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> String {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { query(fd, $0, &len) }
        }
        return describe(&storage).0
    }

    /// Formats an address as Redis does in CLIENT LIST: "ip:port", "[v6]:port" is not used
    /// by Redis either (it prints "::1:port"), and "/path:0" for Unix sockets.
    static func describe(_ storage: inout sockaddr_storage) -> (String, Bool) {
        var buf = [CChar](repeating: 0, count: 64)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var a = sin.pointee.sin_addr
                    inet_ntop(AF_INET, &a, &buf, 64)
                    let ip = String(cString: buf)
                    let port = UInt16(bigEndian: sin.pointee.sin_port)
                    return ("\(ip):\(port)", ip.hasPrefix("127."))
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    var a = sin.pointee.sin6_addr
                    inet_ntop(AF_INET6, &a, &buf, 64)
                    let ip = String(cString: buf)
                    let port = UInt16(bigEndian: sin.pointee.sin6_port)
                    return ("\(ip):\(port)", ip == "::1")
                }
            }
        default:
            return ("/unixsocket:0", true)
        }
    }

    public static func setNoDelay(_ fd: Int32, _ enabled: Bool = true) {
        _ = tandem_set_int_option(fd, Int32(IPPROTO_TCP), TCP_NODELAY, enabled ? 1 : 0)
    }

    public static func setKeepAlive(_ fd: Int32, interval: Int) {
        _ = tandem_set_keepalive(fd, Int32(interval))
    }

    /// Reads into `buffer`; returns bytes read, 0 at end of stream, -1 would block, -2 error.
    @inline(__always)
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        let n = retryingEINTR { Glibc.read(fd, buffer, count) }
        if n >= 0 { return n }
        return lastCallWouldBlock ? -1 : -2
    }

    /// Writes from `buffer`; returns bytes written, -1 would block, -2 error.
    @inline(__always)
    public static func write(_ fd: Int32, from buffer: UnsafeRawPointer, count: Int) -> Int {
        let n = retryingEINTR { Glibc.write(fd, buffer, count) }
        if n >= 0 { return n }
        return lastCallWouldBlock ? -1 : -2
    }

    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Starts a non-blocking connection to `host:port` (a name or a literal, resolved with
    /// getaddrinfo; the first address that does not fail at once) and returns the socket:
    /// writable means done, and `connectError` tells how it went.
    /// `source`: a local address to bind first (bind-source-addr), "" for any.
    public static func startConnectTCP(host: String, port: Int, source: String = "") throws(SystemError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        if getaddrinfo(host, String(port), &hints, &list) != 0 || list == nil {
            throw SystemError("getaddrinfo", errno: EHOSTUNREACH)
        }
        defer { freeaddrinfo(list) }
        var last = SystemError("connect", errno: ECONNREFUSED)
        var ai = list
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = tandem_socket_stream(a.pointee.ai_family)
            if fd == -1 { continue }
            if !source.isEmpty && !bindSource(fd, source, family: a.pointee.ai_family) {
                last = SystemError("bind")
                Glibc.close(fd)
                continue
            }
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 || errno == EINPROGRESS { return fd }
            last = SystemError("connect")
            Glibc.close(fd)
        }
        throw last
    }

    /// Binds `fd` to the local address `source` (any port), for a connection that must leave
    /// from it.
    static func bindSource(_ fd: Int32, _ source: String, family: Int32) -> Bool {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(source, nil, &hints, &list) == 0, let a = list else { return false }
        defer { freeaddrinfo(list) }
        return Glibc.bind(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0
    }

    /// Waits up to `timeoutMillis` for `fd` to become readable (or writable): true when it
    /// did, false on timeout or error. For the few synchronous exchanges (MIGRATE).
    public static func waitReady(_ fd: Int32, writable: Bool, timeoutMillis: Int) -> Bool {
        var p = pollfd(fd: fd, events: Int16(writable ? POLLOUT : POLLIN), revents: 0)
        while true {
            let r = poll(&p, 1, Int32(clamping: max(0, timeoutMillis)))
            if r < 0 && errno == EINTR { continue }
            return r == 1 && p.revents & Int16(POLLNVAL) == 0
        }
    }

    /// The outcome of a non-blocking connect once the socket is writable: 0 or an errno.
    public static func connectError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 { return errno }
        return err
    }
}
