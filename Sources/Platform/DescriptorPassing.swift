/*
 * DescriptorPassing: messages with file descriptors attached (SCM_RIGHTS) over a Unix socket —
 * how the primary hands a replica's socket and the backlog ring to a sender worker process.
 * The C side (CMSG_* macros) is in CTandem; this is the typed wrapper.
 */
import CTandem
import Glibc

public enum DescriptorPassing {
    /// A connected SOCK_SEQPACKET pair: each send arrives as one message.
    public static func messagePair() throws(SystemError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        if tandem_seqpacket_pair(&fds) != 0 { throw SystemError("socketpair") }
        return (fds[0], fds[1])
    }

    /// Sends `bytes` with `fds` attached (at most 8). False on failure (errno is set).
    public static func send(_ socket: Int32, _ bytes: UnsafeRawBufferPointer, fds: [Int32]) -> Bool {
        let n = fds.withUnsafeBufferPointer { f in
            tandem_send_with_fds(socket, bytes.baseAddress, bytes.count, f.baseAddress, Int32(f.count))
        }
        return n == bytes.count
    }

    public enum Received {
        /// A message of `count` bytes and the descriptors that came with it (the receiver owns them).
        case message(count: Int, fds: [Int32])
        case wouldBlock
        case closed
    }

    /// Receives one message into `buffer`.
    public static func receive(_ socket: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Received {
        var fds = [Int32](repeating: -1, count: 8)
        var count: Int32 = 0
        let n = fds.withUnsafeMutableBufferPointer { f in
            tandem_recv_with_fds(socket, buffer.baseAddress, buffer.count, f.baseAddress, 8, &count)
        }
        if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .closed }
        if n == 0 { return .closed }
        return .message(count: n, fds: Array(fds.prefix(Int(count))))
    }
}
