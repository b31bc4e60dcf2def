/*
 * SystemError: errno as a Swift error, and the one choke point every syscall goes through.
 *
 * Like swift-nio's System.swift: `retryingEINTR` repeats a call interrupted by a signal,
 * `EAGAIN`/`EWOULDBLOCK` become a distinct outcome the caller can test cheaply, and any other
 * failure becomes a typed `SystemError` naming the call that failed.
 */
import Glibc

public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let errno: Int32

    public init(_ call: String, errno: Int32 = Glibc.errno) {
        self.call = call
        self.errno = errno
    }

    /// The C library's message for this errno, e.g. "Address already in use".
    public var message: String { String(cString: strerror(errno)) }

    public var description: String { "\(call): \(message)" }
}

/// Calls `body` until it does not fail with EINTR; returns its result or -1 with errno set.
@inline(__always)
public func retryingEINTR<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let r = body()
        if r == -1 && errno == EINTR { continue }
        return r
    }
}

/// True when the last failed call would have blocked.
@inline(__always)
public var lastCallWouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }
