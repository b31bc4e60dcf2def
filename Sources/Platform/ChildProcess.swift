/*
 * ChildProcess: fork, waitpid and pipes as typed values — what snapshots and sender workers
 * are built on.
 *
 * `fork()` answers which side of it the caller is on; `reap` (never blocks) and `wait` decode
 * the exit status into exited-with-code or killed-by-signal, so callers stop shifting status
 * bits themselves. `Pipe` makes a close-on-exec pipe, optionally with a non-blocking read end
 * (a child's progress reports, read from the cron). `FileDescriptor.writeAll` writes a whole
 * buffer to a file, retrying short writes.
 */
import Glibc

public enum ChildProcess {
    public enum ForkOutcome {
        /// In the new process.
        case child
        /// In the caller, with the child's pid.
        case parent(pid_t)
        case failed(SystemError)
    }

    /// How a child ended.
    public enum Exit: Equatable, CustomStringConvertible {
        case exited(code: Int32)
        case signaled(Int32)

        public init(status: Int32) {
            let signal = status & 0x7F
            self = signal == 0 ? .exited(code: (status >> 8) & 0xFF) : .signaled(signal)
        }

        public var succeeded: Bool { self == .exited(code: 0) }

        /// The signal that killed it, 0 when it exited.
        public var signal: Int32 {
            if case .signaled(let s) = self { return s }
            return 0
        }

        public var description: String {
            switch self {
            case .exited(let code): "exit code \(code)"
            case .signaled(let s): "signal \(s)"
            }
        }
    }

    public static func fork() -> ForkOutcome {
        let pid = Glibc.fork()
        if pid == 0 { return .child }
        if pid < 0 { return .failed(SystemError("fork")) }
        return .parent(pid)
    }

    /// The child's exit if it has ended (and is now reaped), nil while it runs. A pid that is
    /// not our child (already reaped) reads as exited with code -1.
    public static func reap(_ pid: pid_t) -> Exit? {
        var status: Int32 = 0
        let r = retryingEINTR { waitpid(pid, &status, WNOHANG) }
        if r == 0 { return nil }
        if r != pid { return .exited(code: -1) }
        return Exit(status: status)
    }

    /// Waits for the child to end.
    @discardableResult
    public static func wait(_ pid: pid_t) -> Exit {
        var status: Int32 = 0
        let r = retryingEINTR { waitpid(pid, &status, 0) }
        return r == pid ? Exit(status: status) : .exited(code: -1)
    }
}

/// Both ends of a pipe, close-on-exec.
public struct Pipe {
    public let readEnd: Int32
    public let writeEnd: Int32

    public static func make(nonBlockingRead: Bool = false) throws(SystemError) -> Pipe {
        var fds: [Int32] = [-1, -1]
        if Glibc.pipe(&fds) != 0 { throw SystemError("pipe") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        if nonBlockingRead { _ = fcntl(fds[0], F_SETFL, O_NONBLOCK) }
        return Pipe(readEnd: fds[0], writeEnd: fds[1])
    }
}

public enum FileDescriptor {
    /// Writes all of `bytes` to `fd` (a file: short writes are retried). False on an error.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = retryingEINTR { Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done) }
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}
