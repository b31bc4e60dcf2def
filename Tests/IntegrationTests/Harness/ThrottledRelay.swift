/*
 * ThrottledRelay.swift — a TCP relay on a loopback port that forwards to a server, with the
 * server→client direction limited to a rate that can change while it runs: a replica behind it
 * becomes a "slow replica" (a thin link, a congested relay) without stopping its process.
 * Each accepted connection gets two pump threads; `stop()` closes everything.
 */

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class ThrottledRelay: @unchecked Sendable {
    let port: UInt16
    private let target: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var sockets: [Int32] = []
    private var stopped = false
    /// Bytes per second from the server to the client (0: unlimited).
    private var rate = 0

    init(to target: UInt16, bytesPerSecond: Int) throws {
        let (fd, port) = try Harness.boundLoopbackSocket(listening: true)
        self.target = target
        rate = bytesPerSecond
        listener = fd
        self.port = port
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func setRate(bytesPerSecond: Int) {
        lock.lock()
        rate = bytesPerSecond
        lock.unlock()
    }

    func stop() {
        lock.lock()
        stopped = true
        let all = sockets
        sockets = []
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in all { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            guard let upstream = try? RawClient.connectLoopback(port: target) else {
                close(client)
                continue
            }
            lock.lock()
            if stopped {
                lock.unlock()
                close(client)
                close(upstream)
                return
            }
            sockets += [client, upstream]
            lock.unlock()
            Thread.detachNewThread { [self] in pump(from: upstream, to: client, throttled: true) }
            Thread.detachNewThread { [self] in pump(from: client, to: upstream, throttled: false) }
        }
    }

    /// Copies until either side closes; the throttled direction sends at most `rate` bytes per
    /// second, in 10 ms slices.
    private func pump(from: Int32, to: Int32, throttled: Bool) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        defer {
            shutdown(from, Int32(SHUT_RDWR))
            shutdown(to, Int32(SHUT_RDWR))
        }
        while true {
            lock.lock()
            let limit = throttled ? rate : 0
            lock.unlock()
            let chunk = limit > 0 ? max(1, min(buffer.count, limit / 100)) : buffer.count
            let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, chunk, 0) }
            if n <= 0 { return }
            var sent = 0
            while sent < n {
                let w = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                if w <= 0 { return }
                sent += w
            }
            if limit > 0 { usleep(10_000) }
        }
    }
}
