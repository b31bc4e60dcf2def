/*
 * PayloadRelay: a diskless full sync for replicas on the TLS port.
 *
 * A diskless sync's fork child writes `$EOF:<mark>`, the RDB and the mark straight into the
 * replicas' sockets (Snapshots.runStreamingChild). It cannot do that for a replica on the TLS
 * port: that replica's TLS session lives in the primary's OpenSSL state, and bytes the child
 * wrote into the socket would not be encrypted by it. So, as Redis 7.0 does (rdbPipeReadHandler),
 * those replicas get the payload through a pipe: the child writes the pipe as one more target,
 * and the primary relays what it reads from the pipe into each of the replicas' output buffers,
 * where their sessions encrypt it on the way out.
 *
 *  - One pipe per kind of payload: plain, and LZ4-compressed for Tandem replicas that agreed on
 *    tandem-lz4-rdb (the child compresses once for all of them).
 *  - Backpressure: the primary stops reading a pipe while one of its replicas has more than
 *    `relayHighWater` bytes unsent, and reads again once all are below `relayLowWater`; the
 *    child meanwhile waits on the full pipe (its end blocks: no timeout there). The primary
 *    drops a relayed replica that stalls for repl-timeout as it drops any diskless target
 *    (dropStalledDisklessTargets), and the relay goes on for the others. Memory stays bounded
 *    by the high-water mark per replica, whatever the dataset's size. As in Redis, the
 *    transfer runs at the pace of the slowest replica.
 *  - The end: the child's last report says which pipes got the whole payload. When the child
 *    is reaped the primary drains what is left in the pipes (at most the pipe's capacity), then
 *    the replicas of a complete pipe wait for their first ACK, as after a socket transfer, and
 *    those of a failed one are dropped.
 *  - A replica that goes away during the transfer simply stops being a target; once a pipe has
 *    none left the primary closes it, and the child's next write fails (EPIPE) like a dropped
 *    replica's.
 */
import Glibc
import Platform

/// The primary's end of one pipe from a diskless sync's child.
struct PayloadRelay {
    var fd: Int32
    /// It carries the LZ4-compressed payload (for replicas with `lz4Payload`).
    var compressed: Bool
    /// Not read while one of its replicas has too much unsent (relayHighWater).
    var paused = false
}

extension Server {
    static let relayBit: UInt64 = 1 << 43
    /// Unsent bytes per replica above which a relay stops reading its pipe, and below which
    /// (for all its replicas) it reads again.
    static let relayHighWater = 1 << 20
    static let relayLowWater = 256 * 1024

    /// The replicas a relay feeds: on the TLS port, waiting for this snapshot's payload.
    func relayTargets(compressed: Bool) -> [ClientRef] {
        repl.replicas.filter {
            $0.pointee.tlsConnection != nil && $0.pointee.replicaInfo.state == .waitBgsaveEnd
                && !$0.pointee.flags.contains(.closeASAP) && $0.pointee.replicaInfo.lz4Payload == compressed
        }
    }

    /// Before the fork of a diskless sync: a pipe for each kind of payload the TLS replicas
    /// take. Returns the write ends, for the child (-1: no such replicas).
    mutating func openPayloadRelays() -> (plain: Int32, compressed: Int32) {
        var ends: (plain: Int32, compressed: Int32) = (-1, -1)
        for compressed in [false, true] where !relayTargets(compressed: compressed).isEmpty {
            guard let pipe = try? Pipe.make(nonBlockingRead: true) else {
                Log.warning("Can't create the pipe to feed TLS replicas: \(String(cString: strerror(errno)))")
                for r in relayTargets(compressed: compressed) { markClosing(r) }
                continue
            }
            let index = repl.relays.count
            repl.relays.append(PayloadRelay(fd: pipe.readEnd, compressed: compressed))
            try? loop.add(pipe.readEnd, events: EventLoop.readable, token: Self.relayBit | UInt64(index))
            if compressed { ends.compressed = pipe.writeEnd } else { ends.plain = pipe.writeEnd }
        }
        return ends
    }

    /// The pipe is readable: the next chunk of the payload into each replica's output buffer.
    mutating func relayPayload(_ index: Int) {
        guard index < repl.relays.count, repl.relays[index].fd >= 0 else { return }
        _ = relayChunk(index)
    }

    /// Reads one chunk from relay `index` and queues it for its replicas. Returns false when
    /// nothing more comes now (the pipe is empty, ended or closed, or the relay paused).
    mutating func relayChunk(_ index: Int, ignoringBackpressure: Bool = false) -> Bool {
        let relay = repl.relays[index]
        let targets = relayTargets(compressed: relay.compressed)
        guard let first = targets.first else {
            closePayloadRelay(index)
            return false
        }
        // Read into the first replica's buffer, then copy to the others.
        let before = first.pointee.reply.count
        first.pointee.reply.reserve(Self.bulkChunk)
        let n = read(relay.fd, first.pointee.reply.base + before, Self.bulkChunk)
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return false }
        if n <= 0 {
            // The child finished or failed: its report says which (syncSnapshotFinished).
            closePayloadRelay(index)
            return false
        }
        first.pointee.reply.count = before + n
        for r in targets.dropFirst() { r.pointee.reply.append(first.pointee.reply.base + before, n) }
        for r in targets { queueWrite(r) }
        if !ignoringBackpressure && targets.contains(where: { $0.pointee.reply.pending > Self.relayHighWater }) {
            repl.relays[index].paused = true
            loop.modify(relay.fd, events: 0, token: Self.relayBit | UInt64(index))
            return false
        }
        return true
    }

    /// From writeToReplica and when a replica goes away: a paused relay reads again once all
    /// its replicas caught up; one with no replica left closes (the child's writes then fail).
    mutating func resumePayloadRelays() {
        for i in repl.relays.indices where repl.relays[i].fd >= 0 {
            let targets = relayTargets(compressed: repl.relays[i].compressed)
            if targets.isEmpty {
                closePayloadRelay(i)
            } else if repl.relays[i].paused && targets.allSatisfy({ $0.pointee.reply.pending < Self.relayLowWater }) {
                repl.relays[i].paused = false
                loop.modify(repl.relays[i].fd, events: EventLoop.readable, token: Self.relayBit | UInt64(i))
            }
        }
    }

    /// Once the child is reaped: what it left in the pipes goes to the replicas.
    mutating func drainPayloadRelays() {
        for i in repl.relays.indices {
            while repl.relays[i].fd >= 0 && relayChunk(i, ignoringBackpressure: true) {}
        }
    }

    mutating func closePayloadRelay(_ index: Int) {
        let fd = repl.relays[index].fd
        guard fd >= 0 else { return }
        loop.remove(fd)
        close(fd)
        repl.relays[index].fd = -1
    }

    /// After the transfer (or when it failed): no pipes left.
    mutating func closePayloadRelays() {
        for i in repl.relays.indices { closePayloadRelay(i) }
        repl.relays.removeAll()
    }
}
