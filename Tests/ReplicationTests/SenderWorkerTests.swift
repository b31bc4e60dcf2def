// SenderWorkerTests.swift — the pieces of the sender workers: the ReplicaTable's slot life;
// descriptors passed over a SOCK_SEQPACKET pair; and a forked SenderWorker that is handed a
// "replica" (one end of a socketpair) and the ring: it sends the ring's bytes from the handoff
// offset and publishes how far it got, drops a replica whose connection ends, falls behind the
// ring or exceeds its output limit, and exits when its control socket closes.
import CTandem
import Glibc
import Platform
import Replication
import Testing

// MARK: - ReplicaTable and descriptor passing

@Suite struct ReplicaTableTests {
    @Test func slotsGoFreeActiveClosedFree() throws {
        let table = try ReplicaTable(capacity: 2)
        let a = try #require(table.claim(worker: 1, sentOffset: 0))
        let b = try #require(table.claim(worker: 0, sentOffset: 0))
        #expect(a != b)
        #expect(table.claim(worker: 0, sentOffset: 0) == nil, "full")
        #expect(table.state(a) == .active && table.worker(a) == 1)
        table.recordSent(a, offset: 50, wireBytes: 20)
        table.recordCompression(a, bytesIn: 50, bytesOut: 20)
        #expect(table.sentOffset(a) == 50 && table.wireBytes(a) == 20 && table.compression(a).bytesOut == 20)
        table.close(a, reason: .outputLimit)
        #expect(table.state(a) == .closed && table.reason(a) == .outputLimit)
        table.release(a)
        #expect(table.state(a) == .free)
        #expect(table.claim(worker: 0, sentOffset: 0) == a)
        #expect(table.sentOffset(a) == 0 && table.wireBytes(a) == 0, "a claimed slot starts clean")
    }

    @Test func outputLimitRuleIsRedisRule() {
        var since: Int64 = 0
        // Hard limit: at once.
        #expect(OutputLimitRule.exceeded(used: 100, hard: 100, soft: 0, softSeconds: 0, softSince: &since, nowMillis: 1))
        // Soft limit: only after staying over it for longer than its seconds; dipping under resets.
        #expect(!OutputLimitRule.exceeded(used: 50, hard: 100, soft: 40, softSeconds: 2, softSince: &since, nowMillis: 1000))
        #expect(since == 1000)
        #expect(!OutputLimitRule.exceeded(used: 50, hard: 100, soft: 40, softSeconds: 2, softSince: &since, nowMillis: 3000))
        #expect(!OutputLimitRule.exceeded(used: 10, hard: 100, soft: 40, softSeconds: 2, softSince: &since, nowMillis: 3500))
        #expect(since == 0)
        #expect(!OutputLimitRule.exceeded(used: 50, hard: 100, soft: 40, softSeconds: 2, softSince: &since, nowMillis: 4000))
        #expect(OutputLimitRule.exceeded(used: 50, hard: 100, soft: 40, softSeconds: 2, softSince: &since, nowMillis: 6001))
        // Zero disables both.
        var unused: Int64 = 0
        #expect(!OutputLimitRule.exceeded(used: 1 << 40, hard: 0, soft: 0, softSeconds: 0, softSince: &unused, nowMillis: 1))
    }

    @Test func descriptorsCrossAMessageSocket() throws {
        let (left, right) = try DescriptorPassing.messagePair()
        // `left` is closed below (the end of the channel is part of the test); only `right` here,
        // so no descriptor is closed twice (another test's could have taken its number by then).
        defer { close(right) }
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
            _ = table.claim(worker: 0, sentOffset: 0)
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

    @Test func sendsFromTheHandoffOffsetAndDropsAGoneReplica() throws {
        var h = try Harness()
        defer { h.stop() }
        h.append("0123456789")  // bytes 101...110
        let replica = try h.handOff(slot: 0, start: 104)
        #expect(Self.readExactly(replica, 7) == "3456789")
        h.append("abc")
        #expect(Self.readExactly(replica, 3) == "abc")
        #expect(h.waitFor { h.table.sentOffset(0) == 113 && h.table.wireBytes(0) == 10 })
        close(replica)
        h.append("more")  // the write fails (or the hang-up is seen): the slot closes
        #expect(h.waitFor { h.table.state(0) == .closed }, "a disconnected replica keeps its slot")
        #expect(h.table.reason(0) == .disconnected)
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
