// SenderWorkerTests.swift — the pieces of the sender workers: AckReader on well-formed,
// split and malformed input; the ReplicaTable's slot life; descriptors passed over a
// SOCK_SEQPACKET pair; and a forked SenderWorker that is handed a "replica" (one end of a
// socketpair) and the ring: it sends the ring's bytes from the handoff offset, publishes the
// ACKs it reads, drops a replica that sends garbage or falls behind the ring, and exits when
// its control socket closes.
import CSystem
import Glibc
import Platform
import Replication
import Testing

// MARK: - AckReader

@Suite struct AckReaderTests {
    static func ack(_ offset: String, extra: [String] = []) -> [UInt8] {
        let args = ["REPLCONF", "ACK", offset] + extra
        var s = "*\(args.count)\r\n"
        for a in args { s += "$\(a.utf8.count)\r\n\(a)\r\n" }
        return Array(s.utf8)
    }

    static func feed(_ r: inout AckReader, _ bytes: [UInt8]) throws -> [Int64] {
        try bytes.withUnsafeBytes { try r.feed($0) }
    }

    @Test func readsAcksWholeAndSplitAtEveryByte() throws {
        let stream = Self.ack("10") + Array("\n".utf8) + Self.ack("12345", extra: ["FACK", "12000"])
            + Array("*3\r\n$8\r\nreplconf\r\n$3\r\nack\r\n$2\r\n99\r\n".utf8)
        var whole = AckReader()
        #expect(try Self.feed(&whole, stream) == [10, 12345, 99])
        for cut in 1..<stream.count {
            var r = AckReader()
            let first = try Self.feed(&r, Array(stream[..<cut]))
            let second = try Self.feed(&r, Array(stream[cut...]))
            #expect(first + second == [10, 12345, 99], "cut at \(cut)")
        }
    }

    @Test func ignoresOtherCommands() throws {
        var r = AckReader()
        let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)
        let getack = Array("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n".utf8)
        #expect(try Self.feed(&r, ping + getack + Self.ack("7")) == [7])
    }

    @Test(arguments: [
        "hello\r\n", "*x\r\n", "*0\r\n", "*99\r\n", "*1\r\n+OK\r\n", "*1\r\n$-1\r\n", "*1\r\n$3\r\nabcde",
        "*1\r\n$99999999\r\n", "\r\r", "*1\r\n$1x\r\n", "*12345678901234567890\r\n",
    ])
    func refusesMalformedInput(_ text: String) {
        var r = AckReader()
        #expect(throws: AckReader.Failure.self) { _ = try Self.feed(&r, Array(text.utf8)) }
    }

    @Test func anEndlessCommandIsRefused() {
        var r = AckReader()
        let header = Array("*1\r\n$65536\r\n".utf8)
        #expect(throws: AckReader.Failure.self) {
            _ = try Self.feed(&r, header)
            for _ in 0..<4 { _ = try Self.feed(&r, [UInt8](repeating: 65, count: 40_000)) }
        }
    }
}

// MARK: - ReplicaTable and descriptor passing

@Suite struct ReplicaTableTests {
    @Test func slotsGoFreeActiveClosedFree() throws {
        let table = try ReplicaTable(capacity: 2)
        let a = try #require(table.claim(worker: 1, ackOffset: 5, nowMillis: 100))
        let b = try #require(table.claim(worker: 0, ackOffset: 0, nowMillis: 100))
        #expect(a != b)
        #expect(table.claim(worker: 0, ackOffset: 0, nowMillis: 0) == nil, "full")
        #expect(table.state(a) == .active && table.worker(a) == 1 && table.ackOffset(a) == 5)
        table.recordAck(a, offset: 50, nowMillis: 200)
        table.recordAck(a, offset: 40, nowMillis: 300)  // an older ACK never moves it back
        #expect(table.ackOffset(a) == 50 && table.ackMillis(a) == 300)
        table.close(a, reason: .outputLimit)
        #expect(table.state(a) == .closed && table.reason(a) == .outputLimit)
        table.release(a)
        #expect(table.state(a) == .free)
        #expect(table.claim(worker: 0, ackOffset: 0, nowMillis: 0) == a)
    }

    @Test func descriptorsCrossAMessageSocket() throws {
        let (left, right) = try DescriptorPassing.messagePair()
        defer { close(left); close(right) }
        var pipeFDs: [Int32] = [-1, -1]
        #expect(pipe(&pipeFDs) == 0)
        let payload: [UInt8] = [1, 2, 3]
        #expect(payload.withUnsafeBytes { DescriptorPassing.send(left, $0, fds: [pipeFDs[1]]) })
        close(pipeFDs[1])
        var buffer = [UInt8](repeating: 0, count: 16)
        let received = buffer.withUnsafeMutableBytes { DescriptorPassing.receive(right, into: $0) }
        guard case .message(let count, let fds) = received, fds.count == 1 else {
            Issue.record("no message: \(received)")
            return
        }
        #expect(count == 3 && Array(buffer[..<3]) == payload)
        // The received descriptor is the pipe's write end: what goes in comes out of the read end.
        var byte: UInt8 = 42
        #expect(write(fds[0], &byte, 1) == 1)
        close(fds[0])
        var got: UInt8 = 0
        #expect(read(pipeFDs[0], &got, 1) == 1 && got == 42)
        close(pipeFDs[0])
        close(left)
        let end = buffer.withUnsafeMutableBytes { DescriptorPassing.receive(right, into: $0) }
        if case .closed = end {} else { Issue.record("expected the end of the channel, got \(end)") }
    }
}

// MARK: - A worker process

@Suite(.serialized) struct SenderWorkerProcessTests {
    /// A forked worker with its channels, a ring and a table; `stop()` closes the control
    /// socket and checks that the worker exits by itself.
    struct Harness: ~Copyable {
        var ring: BacklogRing
        let table: ReplicaTable
        let control: Int32, wake: Int32, notify: Int32
        let pid: pid_t

        init() throws {
            let t = try ReplicaTable(capacity: 8)
            let (mine, theirs) = try DescriptorPassing.messagePair()
            // Last throwing step: nothing may fail once the ring (noncopyable) exists.
            ring = try BacklogRing(capacity: 64 * 1024, replID: replID(7), startOffset: 100)
            table = t
            let wakeFD = tandem_eventfd(), notifyFD = tandem_eventfd()
            let child = fork()
            if child == 0 {
                close(mine)
                SenderWorker.run(control: theirs, wake: wakeFD, notify: notifyFD, table: t)
            }
            close(theirs)
            control = mine
            wake = wakeFD
            notify = notifyFD
            pid = child
        }

        /// Hands one end of a new socketpair to the worker as a replica starting at `start`.
        func handOff(slot: Int, start: Int64, hardLimit: Int64 = 0, sendBuffer: Int32 = 0) throws -> Int32 {
            var pair: [Int32] = [-1, -1]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
            if sendBuffer > 0 {
                var size = sendBuffer
                setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(4))
                setsockopt(pair[0], SOL_SOCKET, SO_RCVBUF, &size, socklen_t(4))
            }
            _ = table.claim(worker: 0, ackOffset: 0, nowMillis: 0)
            var message = Handoff(slot: Int64(slot), startOffset: start, generation: ring.generation,
                                  hardLimit: hardLimit, softLimit: 0, softSeconds: 0)
            let ok = withUnsafeBytes(of: &message) { DescriptorPassing.send(control, $0, fds: [pair[1], ring.fd]) }
            #expect(ok)
            close(pair[1])
            var tv = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            return pair[0]
        }

        mutating func append(_ text: String) {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { ring.append($0.baseAddress!, count: $0.count) }
            var one: UInt64 = 1
            _ = write(wake, &one, 8)
        }

        func waitFor(_ condition: () -> Bool) -> Bool {
            let deadline = Clock.monotonicMillis() + 3000
            while Clock.monotonicMillis() < deadline {
                if condition() { return true }
                usleep(2000)
            }
            return false
        }

        func stop() {
            close(control)
            let exited = waitFor {
                var status: Int32 = 0
                return waitpid(pid, &status, WNOHANG) == pid
            }
            if !exited {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            #expect(exited, "the worker did not exit when its control socket closed")
            close(wake)
            close(notify)
        }
    }

    static func readExactly(_ fd: Int32, _ count: Int) -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while out.count < count {
            let n = read(fd, &buffer, min(buffer.count, count - out.count))
            if n <= 0 { break }
            out += buffer[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func sendsFromTheHandoffOffsetAndPublishesAcks() throws {
        var h = try Harness()
        defer { h.stop() }
        h.append("0123456789")  // bytes 101...110
        let replica = try h.handOff(slot: 0, start: 104)
        #expect(Self.readExactly(replica, 7) == "3456789")
        h.append("abc")
        #expect(Self.readExactly(replica, 3) == "abc")
        let ack = Array("*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$3\r\n113\r\n".utf8)
        #expect(write(replica, ack, ack.count) == ack.count)
        #expect(h.waitFor { h.table.ackOffset(0) == 113 }, "ack never published")
        #expect(h.waitFor { h.table.sentOffset(0) == 113 })
        close(replica)
        #expect(h.waitFor { h.table.state(0) == .closed }, "a disconnected replica keeps its slot")
        #expect(h.table.reason(0) == .disconnected)
    }

    @Test func dropsAReplicaThatSendsGarbage() throws {
        var h = try Harness()
        defer { h.stop() }
        h.append("x")
        let replica = try h.handOff(slot: 0, start: 101)
        #expect(Self.readExactly(replica, 1) == "x")
        let garbage = Array("GET k\r\n".utf8)
        _ = write(replica, garbage, garbage.count)
        #expect(h.waitFor { h.table.state(0) == .closed })
        #expect(h.table.reason(0) == .protocolError)
        close(replica)
    }

    @Test func dropsAReplicaBehindTheRingOrOverItsLimit() throws {
        var h = try Harness()
        defer { h.stop() }
        // The ring holds 64 KB: 100 KB later, byte 101 is gone.
        h.append(String(repeating: "y", count: 100_000))
        let behind = try h.handOff(slot: 0, start: 101)
        #expect(h.waitFor { h.table.state(0) == .closed })
        #expect(h.table.reason(0) == .fellBehind)
        close(behind)
        // A replica that reads nothing while more than its hard limit waits is dropped.
        let stalled = try h.handOff(slot: 1, start: h.ring.endOffset + 1, hardLimit: 16 * 1024, sendBuffer: 4096)
        for _ in 0..<8 { h.append(String(repeating: "z", count: 8000)) }
        #expect(h.waitFor { h.table.state(1) == .closed })
        #expect(h.table.reason(1) == .outputLimit)
        close(stalled)
    }
}
