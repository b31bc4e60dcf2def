/*
 * EventLoop: a thin wrapper over one epoll instance, as ae.c is over epoll in Redis.
 *
 * The loop itself (what to do with ready descriptors, timers, the before-sleep step) belongs
 * to the server; this type only registers interest and waits. Each registration carries a
 * 64-bit token chosen by the caller (the server uses the descriptor number), so a ready event
 * maps back to its owner without a lookup table here.
 *
 * Interest is level-triggered: a client with unread input stays ready, which keeps the read
 * path simple (read once per wake, never starve other clients).
 */
import CTandem
import Glibc

public struct EventLoop {
    // The Linux ABI's values as literals: `static let x = tandem_EPOLLIN()` was a lazily
    // initialised global, read through an addressor and swift_once on every event (~70
    // instructions per request, issue 20's profile). init checks them against the C headers.
    @inlinable public static var readable: UInt32 { 0x001 }  // EPOLLIN
    @inlinable public static var writable: UInt32 { 0x004 }  // EPOLLOUT
    @inlinable public static var error: UInt32 { 0x008 | 0x010 }  // EPOLLERR | EPOLLHUP

    public let epollFD: Int32
    public let capacity: Int
    /// Ready events of the last `wait`, valid until the next call.
    public let readyEvents: UnsafeMutablePointer<UInt32>
    public let readyTokens: UnsafeMutablePointer<UInt64>

    public init(capacity: Int = 256) throws(SystemError) {
        precondition(Self.readable == tandem_EPOLLIN() && Self.writable == tandem_EPOLLOUT()
            && Self.error == tandem_EPOLLERR() | tandem_EPOLLHUP())
        let fd = tandem_epoll_create()
        if fd == -1 { throw SystemError("epoll_create1") }
        self.epollFD = fd
        self.capacity = capacity
        self.readyEvents = .allocate(capacity: capacity)
        self.readyTokens = .allocate(capacity: capacity)
    }

    /// Starts watching `fd` for `events`.
    public func add(_ fd: Int32, events: UInt32, token: UInt64) throws(SystemError) {
        if tandem_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, events, token) == -1 {
            throw SystemError("epoll_ctl(ADD)")
        }
    }

    /// Changes the events watched on `fd`.
    public func modify(_ fd: Int32, events: UInt32, token: UInt64) {
        _ = tandem_epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, events, token)
    }

    /// Stops watching `fd` (closing it does the same, but only once no dup is left).
    public func remove(_ fd: Int32) {
        _ = tandem_epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Waits up to `timeoutMillis` (-1 forever) and returns the number of ready events.
    public func wait(timeoutMillis: Int32) -> Int {
        let n = tandem_epoll_wait(epollFD, readyEvents, readyTokens, Int32(capacity), timeoutMillis)
        return n < 0 ? 0 : Int(n)
    }
}
