/*
 * SenderWorker: a process that feeds replicas from the shared-memory backlog, so the primary
 * writes the replication stream once (into the ring) however many replicas follow it.
 *
 * The primary forks its workers when the fan-out first needs them, and keeps per
 * worker: a SOCK_SEQPACKET control socket, a "wake" eventfd it writes when the ring grew, and a
 * "notify" eventfd the worker writes when an ACK arrived or a replica went away. Once a replica
 * has its snapshot (or its +CONTINUE) and the primary's output buffer for it is empty, the
 * primary sends a `Handoff` over the control socket with two descriptors attached: the
 * replica's socket and the ring's shared memory. From then on the primary never writes to that
 * socket (it still reads it: the replica's REPLCONF ACKs go straight to the primary, which needs
 * them for INFO, WAIT and min-replicas-to-write, without another process hop); the worker:
 *
 *  - sends the ring's bytes from the handoff's offset on, as fast as the socket takes them, and
 *    publishes how far it got in the ReplicaTable;
 *  - drops the replica (marking its slot closed, with the reason) when the connection fails or
 *    is shut down by the primary, when the ring lapped it, or when it leaves more unsent bytes
 *    than its client-output-buffer-limit allows — Redis's output buffer limit, counted as
 *    Redis 7 counts a replica's share of the shared replication buffer. The ring keeps every
 *    byte a replica has not been sent (the primary passes the lowest sent offset as the
 *    ring's retention floor), so a replica is never dropped merely for being a burst behind.
 *
 * A change of history (the ring's generation moves: promotion, a new master) makes every
 * replica's next read fail, so it is dropped and reconnects with PSYNC, as Redis's
 * disconnectSlaves does. When the ring is resized the primary sends the new mapping and the
 * replicas move to it (offsets and generation are kept). The worker exits when the control
 * socket closes (the primary is gone).
 */
import CTandem
import Glibc
import Platform

/// The fixed-size message that hands a replica to a worker (slot -1: only a new ring mapping).
public struct Handoff {
    public var slot: Int64
    /// The number of the first stream byte to send.
    public var startOffset: Int64
    /// The ring generation the replica's history belongs to.
    public var generation: UInt64
    /// client-output-buffer-limit replica: hard bytes, soft bytes, soft seconds (0: none).
    public var hardLimit: Int64
    public var softLimit: Int64
    public var softSeconds: Int64
    /// 1: the replica negotiated tandem-lz4 (the worker sends LZ4 frames).
    public var compress: Int64 = 0
    /// Stream bytes numbered up to this do not count against the output limit: the backlog a
    /// replica came back for with +CONTINUE is already held in the ring (it costs no memory of
    /// its own), so only what it falls behind by afterwards counts (docs/operations.md).
    public var graceThrough: Int64 = 0

    public init(slot: Int64, startOffset: Int64, generation: UInt64, hardLimit: Int64, softLimit: Int64, softSeconds: Int64) {
        self.slot = slot
        self.startOffset = startOffset
        self.generation = generation
        self.hardLimit = hardLimit
        self.softLimit = softLimit
        self.softSeconds = softSeconds
    }
}

public struct SenderWorker {
    /// One replica being fed.
    struct Feed {
        var fd: Int32
        var slot: Int
        var next: Int64
        var generation: UInt64
        var limits: Handoff
        var softSinceMillis: Int64 = 0
        var waitingWritable = false
        /// The epoll interest registered for it (changed only when it must: one syscall saved
        /// per wake-up).
        var interest: UInt32 = 0
        /// LZ4 replicas: the compressor and the compressed bytes the socket has not taken yet.
        var lz4: UnsafeMutablePointer<LZ4FrameWriter>? = nil
        var pending: [UInt8] = []
        /// Bytes written to the socket, for total_net_repl_output_bytes.
        var wireBytes: Int64 = 0
    }

    let control: Int32
    let wake: Int32
    let notify: Int32
    let table: ReplicaTable
    var loop: EventLoop
    var ring: UnsafeMutablePointer<BacklogRing>? = nil
    var ringInode: UInt64 = 0
    var feeds: [Int32: Feed] = [:]
    var notifyPending = false

    static let controlToken: UInt64 = 1 << 40
    static let wakeToken: UInt64 = 1 << 41
    static let maxBatch = 1 << 20

    /// Runs the worker loop in this (forked) process; never returns.
    public static func run(control: Int32, wake: Int32, notify: Int32, table: ReplicaTable) -> Never {
        guard let loop = try? EventLoop() else { _exit(1) }
        _ = fcntl(control, F_SETFL, fcntl(control, F_GETFL) | O_NONBLOCK)
        var w = SenderWorker(control: control, wake: wake, notify: notify, table: table, loop: loop)
        do {
            try w.loop.add(control, events: EventLoop.readable, token: controlToken)
            try w.loop.add(wake, events: EventLoop.readable, token: wakeToken)
        } catch {
            _exit(1)
        }
        w.serve()
    }

    mutating func serve() -> Never {
        while true {
            let n = loop.wait(timeoutMillis: 100)
            for i in 0..<n {
                let token = loop.readyTokens[i]
                if token == Self.controlToken {
                    readControl()
                } else if token == Self.wakeToken {
                    var value: UInt64 = 0
                    _ = read(wake, &value, 8)
                } else {
                    replicaEvent(Int32(truncatingIfNeeded: token), loop.readyEvents[i])
                }
            }
            pumpAll()
            if notifyPending {
                notifyPending = false
                var one: UInt64 = 1
                _ = write(notify, &one, 8)
            }
        }
    }

    // MARK: - Control

    mutating func readControl() {
        var message = Handoff(slot: 0, startOffset: 0, generation: 0, hardLimit: 0, softLimit: 0, softSeconds: 0)
        while true {
            let received = withUnsafeMutableBytes(of: &message) { DescriptorPassing.receive(control, into: $0) }
            switch received {
            case .closed:
                _exit(0)  // the primary is gone
            case .wouldBlock:
                return
            case .message(let count, let fds):
                guard count == MemoryLayout<Handoff>.size, fds.count == 2 else {
                    for fd in fds { Glibc.close(fd) }
                    continue
                }
                adoptRing(fds[1])
                if message.slot >= 0 { adopt(replica: fds[0], message) } else { Glibc.close(fds[0]) }
            }
        }
    }

    /// Maps the ring behind `fd` unless it is the one already mapped. Replicas move to a resized
    /// ring (same history); a ring that replaced a live one starts a new history, so they go.
    mutating func adoptRing(_ fd: Int32) {
        var st = stat()
        if fstat(fd, &st) != 0 {
            Glibc.close(fd)
            return
        }
        if ring != nil && UInt64(st.st_ino) == ringInode {
            Glibc.close(fd)
            return
        }
        guard let attached = try? BacklogRing(attaching: fd) else {
            Glibc.close(fd)
            return
        }
        if let old = ring {
            if !old.pointee.isRetired {
                for slot in feeds.values.map({ $0.slot }) { drop(slotOf: slot, .disconnected) }
            }
            old.deinitialize(count: 1)
            old.deallocate()
        }
        Glibc.close(fd)  // the mapping stays
        let p = UnsafeMutablePointer<BacklogRing>.allocate(capacity: 1)
        p.initialize(to: attached)
        ring = p
        ringInode = UInt64(st.st_ino)
    }

    mutating func adopt(replica fd: Int32, _ h: Handoff) {
        let slot = Int(h.slot)
        // No read interest: errors and hang-ups are always reported; the primary reads the ACKs.
        guard slot < table.capacity, (try? loop.add(fd, events: 0, token: UInt64(UInt32(bitPattern: fd)))) != nil
        else {
            Glibc.close(fd)
            if slot < table.capacity { table.close(slot, reason: .disconnected) }
            notifyPending = true
            return
        }
        // The primary's sockets are non-blocking already; a worker must never block on one.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var feed = Feed(fd: fd, slot: slot, next: h.startOffset, generation: h.generation, limits: h)
        if h.compress != 0 {
            feed.lz4 = .allocate(capacity: 1)
            feed.lz4!.initialize(to: LZ4FrameWriter())
        }
        feeds[fd] = feed
    }

    // MARK: - Replicas

    mutating func replicaEvent(_ fd: Int32, _ events: UInt32) {
        guard feeds[fd] != nil else { return }
        if events & EventLoop.error != 0 {
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            logLoss(fd, events & tandem_EPOLLHUP() != 0 && err == 0 ? "connection closed" : String(cString: strerror(err)))
            drop(fd, .disconnected)
            return
        }
        if events & EventLoop.writable != 0 { feeds[fd]!.waitingWritable = false }
    }

    mutating func pumpAll() {
        guard let ring else { return }
        let end = ring.pointee.endOffset
        for fd in Array(feeds.keys) {
            guard let feed = feeds[fd] else { continue }
            if !feed.waitingWritable {
                pump(fd, ring)
            } else if overLimit(fd, unsent: counted(feed, end)) {
                // It reads nothing while the stream piles up behind it.
                drop(fd, .outputLimit)
            }
        }
    }

    /// Sends the ring's bytes the replica lacks, until the socket is full.
    mutating func pump(_ fd: Int32, _ ring: UnsafeMutablePointer<BacklogRing>) {
        if feeds[fd]?.lz4 != nil {
            pumpCompressed(fd, ring)
            return
        }
        guard var feed = feeds[fd] else { return }
        let end = ring.pointee.endOffset
        while feed.next <= end {
            let result = ring.pointee.withChunks(from: feed.next, maxBytes: Self.maxBatch, generation: feed.generation) { a, b in
                Self.writeChunks(fd, a, b)
            }
            guard let written = result else {
                feeds[fd] = feed
                drop(fd, .fellBehind)
                return
            }
            if written < 0 {
                feeds[fd] = feed
                logLoss(fd, String(cString: strerror(errno)))
                drop(fd, .disconnected)
                return
            }
            if written == 0 { break }
            feed.next += Int64(written)
            feed.wireBytes += Int64(written)
        }
        table.recordSent(feed.slot, offset: feed.next - 1, wireBytes: feed.wireBytes)
        feed.waitingWritable = feed.next <= end
        setInterest(fd, &feed)
        feeds[fd] = feed
        if overLimit(fd, unsent: counted(feed, end)) { drop(fd, .outputLimit) }
    }

    /// The same for a replica that takes LZ4 frames: a batch is compressed from the ring, then
    /// written; what the socket does not take waits in `pending` before the next batch.
    mutating func pumpCompressed(_ fd: Int32, _ ring: UnsafeMutablePointer<BacklogRing>) {
        guard var feed = feeds[fd], let lz4 = feed.lz4 else { return }
        let end = ring.pointee.endOffset
        while true {
            if !feed.pending.isEmpty {
                let n = feed.pending.withUnsafeBytes { Socket.write(fd, from: $0.baseAddress!, count: $0.count) }
                if n == -1 { break }
                if n <= 0 {
                    feeds[fd] = feed
                    logLoss(fd, String(cString: strerror(errno)))
                    drop(fd, .disconnected)
                    return
                }
                feed.pending.removeFirst(n)
                feed.wireBytes += Int64(n)
                continue
            }
            if feed.next > end { break }
            var batch: [UInt8] = []
            let taken = ring.pointee.withChunks(from: feed.next, maxBytes: 256 * 1024, generation: feed.generation) { a, b in
                for chunk in [a, b] where chunk.count > 0 {
                    _ = lz4.pointee.write(UnsafeRawPointer(chunk.base), chunk.count) { p, n in
                        batch.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
                    }
                }
                return a.count + b.count
            }
            guard let taken else {
                feeds[fd] = feed
                drop(fd, .fellBehind)
                return
            }
            feed.next += Int64(taken)
            feed.pending = batch
        }
        table.recordSent(feed.slot, offset: feed.next - 1, wireBytes: feed.wireBytes)
        table.recordCompression(feed.slot, bytesIn: lz4.pointee.bytesIn, bytesOut: lz4.pointee.bytesOut)
        feed.waitingWritable = !feed.pending.isEmpty
        setInterest(fd, &feed)
        feeds[fd] = feed
        if overLimit(fd, unsent: counted(feed, end) + Int64(feed.pending.count)) { drop(fd, .outputLimit) }
    }

    /// Writable interest while the socket is full, none otherwise (errors are always reported).
    func setInterest(_ fd: Int32, _ feed: inout Feed) {
        let wanted = feed.waitingWritable ? EventLoop.writable : 0
        if wanted != feed.interest {
            loop.modify(fd, events: wanted, token: UInt64(UInt32(bitPattern: fd)))
            feed.interest = wanted
        }
    }

    /// The unsent bytes that count against the output limit: those after the grace.
    func counted(_ feed: Feed, _ end: Int64) -> Int64 {
        end + 1 - max(feed.next, feed.limits.graceThrough + 1)
    }

    /// client-output-buffer-limit replica applied to the bytes the replica has not taken yet.
    mutating func overLimit(_ fd: Int32, unsent: Int64) -> Bool {
        guard var feed = feeds[fd] else { return false }
        defer { feeds[fd] = feed }
        let l = feed.limits
        return OutputLimitRule.exceeded(used: unsent, hard: l.hardLimit, soft: l.softLimit, softSeconds: l.softSeconds,
                                        softSince: &feed.softSinceMillis, nowMillis: Clock.unixMillis())
    }

    /// Writes as much of a then b as the socket takes: the count, 0 when it is full, -1 on error.
    static func writeChunks(_ fd: Int32, _ a: ByteView, _ b: ByteView) -> Int {
        let first = writeChunk(fd, a)
        if first < a.count { return first }
        let second = writeChunk(fd, b)
        return second < 0 ? -1 : first + second
    }

    /// Writes as much of `chunk` as the socket takes: the count, or -1 on error.
    static func writeChunk(_ fd: Int32, _ chunk: ByteView) -> Int {
        var done = 0
        while done < chunk.count {
            let n = Socket.write(fd, from: UnsafeRawPointer(chunk.base + done), count: chunk.count - done)
            if n == -1 { break }
            if n <= 0 { return -1 }
            done += n
        }
        return done
    }

    /// Why a replica's connection ended in this worker (the primary then logs the loss itself).
    func logLoss(_ fd: Int32, _ why: String) {
        guard let feed = feeds[fd] else { return }
        Log.verbose("Sender worker: connection with the replica in slot \(feed.slot) failed: \(why)")
    }

    mutating func drop(slotOf slot: Int, _ reason: ReplicaTable.CloseReason) {
        if let fd = feeds.first(where: { $0.value.slot == slot })?.key { drop(fd, reason) }
    }

    mutating func drop(_ fd: Int32, _ reason: ReplicaTable.CloseReason) {
        guard let feed = feeds.removeValue(forKey: fd) else { return }
        if let lz4 = feed.lz4 {
            lz4.deinitialize(count: 1)
            lz4.deallocate()
        }
        // The reason first: the shutdown ends the connection for the primary's reads too, and
        // the primary must find why when it sees that (a replica dropped for its output limit
        // keeps its offset only if the primary knows).
        table.close(feed.slot, reason: reason)
        loop.remove(fd)
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        notifyPending = true
    }
}
