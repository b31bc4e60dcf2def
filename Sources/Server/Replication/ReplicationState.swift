/*
 * ReplicationState: where this node stands in a replication history — PSYNC2's replication
 * ids, master_repl_offset and the backlog — shared by both roles (Redis keeps the same
 * fields in `server`: replid, replid2, second_replid_offset, master_repl_offset).
 *
 * One history, whatever the role:
 *  - A master appends its own propagated writes (Propagation.swift) to the backlog ring and
 *    numbers them with `offset`.
 *  - A replica appends the bytes its master sent, unchanged, after applying each command
 *    (processInputBuffer, as Redis's replicationFeedStreamFromMasterStream), so its `offset`, replid and backlog are its master's. That is
 *    what makes chains work: a sub-replica receives the top master's stream byte for byte and
 *    can continue (+CONTINUE) from any node of the chain, or from a promoted one.
 *  - Promotion (REPLICAOF NO ONE) keeps the history: the old id becomes replid2, valid up to
 *    second_repl_offset = offset + 1, and a new id starts. A replica that asks to continue the
 *    old history up to that point is accepted (canContinue), so re-pointing the other replicas
 *    after a failover costs a partial resync, not a full one.
 *  - A replica following a new master with +CONTINUE <new id> shifts the same way; after a full
 *    sync it takes the master's id and offset and clears replid2.
 *
 * Every change of id or of history disconnects this node's own replicas (Redis's
 * disconnectSlaves): they reconnect at once and learn the new id through PSYNC.
 *
 * Retention (Redis 7's shared replication buffer). The ring keeps the newest repl-backlog-size
 * bytes, and beyond them every byte an online replica has not acknowledged yet — whether a
 * sender worker or the primary feeds it, and Redis keeps less: only what it has not *sent* —
 * plus, while a disk snapshot for SYNC runs, the writes since its fork (later replicas attach
 * to it from the ring). Going beyond Redis this way means a replica that loses its connection
 * (dropped for its output limit, a network cut, a killed sender worker) finds everything it
 * did not process, including what sat unread in its socket, and continues with a partial
 * resync. A replica dropped for its output limit keeps its offset held for a while (`pins`),
 * until it is back. The lowest needed offset is cached in `retainFrom`, recomputed only when
 * trimming would pass it and an ACK or a departure may have moved it (`retentionStale`). The
 * ring's capacity bounds all this (ringCapacity): sized past the replica output limit, so the
 * limit, not the ring, is what drops a slow replica, as in Redis.
 */
import CTandem
import Glibc
import Keyspace
import Platform
import Replication

/// The node's replication history and its attached replicas.
struct ReplicationState {
    static let noID = String(repeating: "0", count: 40)

    /// master_replid: the history this node's dataset belongs to.
    var replID: String
    /// master_replid2 and second_repl_offset: the history before the last promotion or master
    /// switch, which replicas may still continue up to `secondReplOffset`.
    var replID2 = ReplicationState.noID
    var secondReplOffset: Int64 = -1
    /// master_repl_offset: bytes of the stream this node has produced or applied.
    var offset: Int64 = 0
    var backlog: UnsafeMutablePointer<BacklogRing>? = nil
    /// The first ring byte a reader still needs (Int64.max: none known); only ever too low,
    /// never too high (see Retention above).
    var retainFrom: Int64 = .max
    var retentionStale = false
    /// Offsets of replicas dropped for their output limit, kept until `untilMillis`.
    var pins: [(offset: Int64, untilMillis: Int64)] = []
    /// When the last replica went away (repl-backlog-ttl frees the backlog of a master after it).
    var noReplicasSinceMillis: Int64 = 0

    var replicas: [ClientRef] = []
    /// master_repl_offset at the fork of the running snapshot for sync, -1 when none.
    var syncForkOffset: Int64 = -1
    /// The dump on disk was written for a full sync (rdb-del-sync-files may remove it).
    var syncDumpOnDisk = false
    /// The running snapshot for sync streams straight to the replicas' sockets (diskless).
    var syncToSockets = false
    /// Pipes from a diskless sync's child that the primary relays to TLS replicas (PayloadRelay).
    var relays: [PayloadRelay] = []
    /// What the running snapshot for replicas holds (everything but for rdb-filter-only).
    var syncFilter = SnapshotFilter.everything
    var lastPingMillis: Int64 = 0
    var lastKeepAliveMillis: Int64 = 0
    var syncFull: Int64 = 0
    var syncPartialOK: Int64 = 0
    var syncPartialErr: Int64 = 0
    /// total_net_repl_input_bytes / total_net_repl_output_bytes.
    var netInputBytes: Int64 = 0
    var netOutputBytes: Int64 = 0
    /// Clients blocked in WAIT, and whether beforeSleep sends REPLCONF GETACK (once per event
    /// loop iteration however many clients blocked in it, as Redis's get_ack_from_slaves).
    var waitingClients = 0
    var getAckPending = false
    /// The sender worker processes (ReplicationSenders.swift), the table they report in, slots
    /// of replicas forgotten but not yet closed by their worker, and whether the ring grew since
    /// the workers were last woken.
    var workers: [SenderWorkerHandle] = []
    /// The workers were forked (the first time the fan-out needed them).
    var workersStarted = false
    var table: ReplicaTable? = nil
    var orphanSlots: [Int] = []
    var wakeWorkers = false
    /// Stream bytes compressed for tandem-lz4 replicas by the primary, and what they became
    /// (the workers' figures are in the ReplicaTable; released slots are added here).
    var lz4BytesIn: Int64 = 0
    var lz4BytesOut: Int64 = 0

    /// PINGs go every repl-ping-replica-period counted from start-up, as Redis's cron loops, so
    /// a replica that just synced does not see the stream's offset move at once.
    init(replID: String) {
        self.replID = replID
        lastPingMillis = Clock.unixMillis()
    }
}

extension Server {
    // MARK: - Replication ids

    /// Starts a new history on this node (Redis's changeReplicationId).
    mutating func changeReplicationID() {
        repl.replID = Self.randomHex(40)
        repl.backlog?.pointee.setReplID(repl.replID)
    }

    mutating func clearReplicationID2() {
        repl.replID2 = ReplicationState.noID
        repl.secondReplOffset = -1
    }

    /// The current history becomes the secondary one, valid up to the next byte, and a new
    /// id starts: promotion, or a master that continues us under another id.
    mutating func shiftReplicationID(to newID: String? = nil) {
        repl.replID2 = repl.replID
        repl.secondReplOffset = repl.offset + 1
        repl.replID = newID ?? Self.randomHex(40)
        repl.backlog?.pointee.setReplID(repl.replID)
        Log.notice("Setting secondary replication ID to \(repl.replID2), valid up to offset: \(repl.secondReplOffset). New replication ID is \(repl.replID)")
    }

    /// PSYNC2's rule: `requested` names our history (or the previous one, up to where it ended)
    /// and the backlog still holds `offset`, the first byte the replica lacks.
    func canContinue(_ requested: String, from offset: Int64) -> Bool {
        guard let ring = repl.backlog else { return false }
        let ours = requested == repl.replID
            || (requested == repl.replID2 && requested != ReplicationState.noID && offset <= repl.secondReplOffset)
        return ours && ring.pointee.contains(offset: offset)
    }

    // MARK: - The backlog

    /// Creates the backlog ring for the current history, starting after `offset`.
    mutating func createBacklog() {
        guard repl.backlog == nil else { return }
        do {
            let ring = try BacklogRing(capacity: ringCapacity, replID: repl.replID, startOffset: repl.offset)
            let p = UnsafeMutablePointer<BacklogRing>.allocate(capacity: 1)
            p.initialize(to: ring)
            repl.backlog = p
            forgetRetention()
            repl.noReplicasSinceMillis = Clock.unixMillis()
            announceRingToAll()
        } catch {
            Log.warning("Can't create the replication backlog: \(error)")
        }
        updatePropagation()
    }

    /// repl-backlog-size, with Redis's 16 KB minimum: the bytes kept for PSYNC whatever the
    /// readers need.
    var backlogSize: Int { max(16 * 1024, settings.replBacklogSize) }

    /// The ring's hard bound (address space: the memfd is sparse). A replica is dropped by its
    /// output limit (at most the hard limit, or repl-backlog-size when larger, as Redis 7.0
    /// raises it) long before the ring laps it, with room for a replica dropped that way to
    /// come back and continue: another hard limit's worth of writes, and 64 MB for what sat in
    /// the socket buffers unread when it was dropped. Without a hard limit, Redis buffers
    /// without bound; the ring stops at 8 GB of stream behind the newest byte.
    var ringCapacity: Int {
        let page = 4096, socketSlack = 64 << 20
        let hard = settings.outputLimitReplica.hard
        let wanted = hard == 0 ? 8 << 30 : backlogSize + 2 * max(hard, backlogSize) + socketSlack
        return (wanted + page - 1) / page * page
    }

    mutating func freeBacklog() {
        guard let p = repl.backlog else { return }
        p.deinitialize(count: 1)
        p.deallocate()
        repl.backlog = nil
        updatePropagation()
    }

    /// Empties the backlog for a history that starts after `repl.offset` (a full sync).
    mutating func resetBacklog() {
        forgetRetention()
        if let ring = repl.backlog {
            ring.pointee.reset(replID: repl.replID, startOffset: repl.offset)
        } else {
            createBacklog()
        }
    }

    /// A node derives a stream from its own writes only as a master with a backlog (or while
    /// DEBUG REPLSTREAM records); a replica forwards its master's bytes instead.
    mutating func updatePropagation() {
        let wasEnabled = propagationEnabled
        propagationEnabled = replStreamRecording || (repl.backlog != nil && !isReplicaNode) || aof.status != .off
        if propagationEnabled && !wasEnabled { propagatedDB = -1 }
        if wasEnabled && !propagationEnabled {
            // Turned off inside a command (CONFIG SET appendonly no in a transaction): the open
            // batch has nowhere to go, and must not reach a stream turned on later.
            batchCommands = 0
            batchFirstCommandAt = -1
            excludedFromAOF.removeAll()
            excludedFromReplicas.removeAll()
            replicationStream.pointee.clear()
        }
    }

    /// From the cron: follow CONFIG SET repl-backlog-size, and free a master's backlog after
    /// repl-backlog-ttl seconds without replicas (a replica keeps it: it may be promoted).
    mutating func backlogCron() {
        guard let ring = repl.backlog else { return }
        trimBacklog()
        if ring.pointee.capacity != ringCapacity {
            do {
                try ring.pointee.resize(capacity: ringCapacity)
                announceRingToAll()
            } catch {
                Log.warning("Can't resize the replication backlog: \(error)")
            }
        }
        let now = Clock.unixMillis()
        if !repl.replicas.isEmpty || isReplicaNode {
            repl.noReplicasSinceMillis = now
        } else if settings.replBacklogTTL > 0 && now - repl.noReplicasSinceMillis > Int64(settings.replBacklogTTL) * 1000 {
            // A later replica cannot continue a history whose backlog is gone: start a new one.
            changeReplicationID()
            clearReplicationID2()
            freeBacklog()
            Log.notice("Replication backlog freed after \(settings.replBacklogTTL) seconds without connected replicas.")
        }
    }

    // MARK: - Retention

    /// The first byte the ring must keep once it ends at `end`: the repl-backlog-size window,
    /// or older when a reader still needs it.
    @inline(__always)
    mutating func keepingFrom(end: Int64) -> Int64 {
        let window = end - Int64(backlogSize) + 1
        if window <= repl.retainFrom { return window }
        if repl.retentionStale {
            repl.retentionStale = false
            repl.retainFrom = oldestNeededByte()
        }
        return min(window, repl.retainFrom)
    }

    /// A new history: no offset of the old one means anything to the ring any more.
    mutating func forgetRetention() {
        repl.pins = []
        repl.retainFrom = .max
        repl.retentionStale = true
    }

    /// A new reader needs the ring's bytes from `offset` on.
    mutating func retain(from offset: Int64) {
        repl.retainFrom = min(repl.retainFrom, offset)
    }

    /// The first byte any reader needs now (Int64.max: none); expired pins go. An online
    /// replica needs the byte after the last it acknowledged (never less than where it joined:
    /// `ackFloor`); what it was sent but did not acknowledge may still be lost with its socket.
    mutating func oldestNeededByte() -> Int64 {
        var oldest = Int64.max
        for r in repl.replicas {
            let info = r.pointee.replicaInfo
            switch info.state {
            case .online: oldest = min(oldest, max(info.ackOffset, info.ackFloor) + 1)
            // In its full sync: the writes since its snapshot's fork, as in Redis's shared buffer.
            case .waitBgsaveEnd: oldest = min(oldest, info.syncOffset + 1)
            case .waitBgsaveStart: break
            }
        }
        if repl.syncForkOffset >= 0 && !repl.syncToSockets { oldest = min(oldest, repl.syncForkOffset + 1) }
        if !repl.pins.isEmpty {
            let now = Clock.unixMillis()
            repl.pins.removeAll { $0.untilMillis < now }
            for pin in repl.pins { oldest = min(oldest, pin.offset) }
        }
        return oldest
    }

    /// A replica dropped for its output limit finds its offset still held when it reconnects
    /// (for twice repl-timeout, at least a minute, within the ring's capacity). It will ask
    /// for the byte after the last one it processed, which its last ACK tells (what sat unread
    /// in its socket is lost with the connection).
    mutating func pinDroppedReplica(_ r: ClientRef) {
        let offset = max(r.pointee.replicaInfo.ackOffset, r.pointee.replicaInfo.ackFloor) + 1
        let seconds = Int64(max(60, 2 * settings.replTimeout))
        repl.pins.append((offset, Clock.unixMillis() + seconds * 1000))
        retain(from: offset)
    }

    /// From the cron: release what no reader needs any more (a slow replica caught up, a pin
    /// expired), so the memory of a burst goes back without waiting for the next write.
    mutating func trimBacklog() {
        guard let ring = repl.backlog else { return }
        repl.retainFrom = oldestNeededByte()
        ring.pointee.release(keepingFrom: min(repl.offset - Int64(backlogSize) + 1, repl.retainFrom))
    }

    /// Bytes of the stream held for replicas and the backlog (Redis's repl_buffer_mem, INFO
    /// mem_total_replication_buffers): the ring's, which holds everything a replica still needs.
    /// (Copies the primary makes for the replicas it feeds itself are transient and not counted.)
    func replicationBufferBytes() -> Int { repl.backlog?.pointee.histlen ?? 0 }

    // MARK: - Feeding the stream

    /// Appends stream bytes to the backlog and to every online replica, and advances the offset.
    mutating func appendToStream(_ bytes: ByteView) {
        if let ring = repl.backlog {
            ring.pointee.append(bytes, keepingFrom: keepingFrom(end: repl.offset + Int64(bytes.count)))
        }
        repl.offset += Int64(bytes.count)
        if repl.table != nil { repl.wakeWorkers = true }
        for r in repl.replicas where r.pointee.replicaInfo.state != .waitBgsaveStart
            && r.pointee.replicaInfo.slot < 0 && r.pointee.replicaInfo.handoffOffset < 0
        {
            if !r.pointee.replicaInfo.streaming {
                // Its snapshot is not delivered yet: the ring keeps the bytes until it is.
                _ = checkReplicaOutputLimit(r)
            } else {
                sendStream(r, bytes)
                if !checkReplicaOutputLimit(r) { queueWrite(r) }
            }
        }
    }

    /// Adds stream bytes to a replica's output, as LZ4 frames when it negotiated tandem-lz4.
    mutating func sendStream(_ r: ClientRef, _ bytes: ByteView) {
        guard bytes.count > 0 else { return }
        guard let lz4 = r.pointee.replicaInfo.lz4 else {
            r.pointee.reply.append(bytes)
            return
        }
        let before = lz4.pointee.bytesOut
        let ok = lz4.pointee.write(UnsafeRawPointer(bytes.base), bytes.count) { p, n in
            r.pointee.reply.append(p.assumingMemoryBound(to: UInt8.self), n)
        }
        if !ok {
            Log.warning("LZ4 compression failed for replica \(replicaName(r)); dropping it")
            markClosing(r)
        }
        repl.lz4BytesIn += Int64(bytes.count)
        repl.lz4BytesOut += lz4.pointee.bytesOut - before
    }

    /// tandem-lz4 applies when the replica asked, with PSYNC, and repl-compression is lz4: the
    /// stream after the snapshot (or after +CONTINUE) is then LZ4 frames.
    mutating func startCompressionIfNegotiated(_ r: ClientRef) -> Bool {
        guard r.pointee.replicaInfo.capaLZ4, r.pointee.replicaInfo.usedPsync, settings.replCompression == "lz4" else {
            return false
        }
        if r.pointee.replicaInfo.lz4 == nil {
            let w = UnsafeMutablePointer<LZ4FrameWriter>.allocate(capacity: 1)
            w.initialize(to: LZ4FrameWriter())
            r.pointee.replicaInfo.lz4 = w
        }
        return true
    }

    /// Ends the primary's frame before a sender worker continues the stream with its own.
    mutating func endCompressedFrame(_ r: ClientRef) {
        guard let lz4 = r.pointee.replicaInfo.lz4 else { return }
        lz4.pointee.end { p, n in r.pointee.reply.append(p.assumingMemoryBound(to: UInt8.self), n) }
    }

    func freeCompressor(_ r: ClientRef) {
        guard let lz4 = r.pointee.replicaInfo.lz4 else { return }
        lz4.deinitialize(count: 1)
        lz4.deallocate()
        r.pointee.replicaInfo.lz4 = nil
    }

    /// Drops every attached replica: they reconnect and learn the new history through PSYNC.
    mutating func disconnectReplicas() {
        for r in repl.replicas { markClosing(r) }
    }

    // MARK: - Output buffer limits

    /// client-output-buffer-limit replica: drops a replica whose pending stream passed the hard
    /// limit, or stayed over the soft limit for its seconds. The snapshot is sent from its file
    /// and does not count, as in Redis; the stream held for a replica still in its full sync
    /// does.
    /// Returns true when the replica was dropped.
    mutating func checkReplicaOutputLimit(_ r: ClientRef) -> Bool {
        let limit = settings.outputLimitReplica
        if limit.hard == 0 && limit.soft == 0 { return false }
        var used = Int64(r.pointee.reply.pending)
        if !r.pointee.replicaInfo.streaming { used += repl.offset - r.pointee.replicaInfo.syncOffset }
        if r.pointee.replicaInfo.graceThrough > 0 { used = min(used, repl.offset - r.pointee.replicaInfo.graceThrough) }
        let over = OutputLimitRule.exceeded(used: used, hard: effectiveHardLimit, soft: Int64(limit.soft),
                                            softSeconds: Int64(limit.softSeconds),
                                            softSince: &r.pointee.replicaInfo.softLimitSinceMillis,
                                            nowMillis: Clock.unixMillis())
        if !over || r.pointee.flags.contains(.closeASAP) { return over }
        Log.warning("Client \(clientDescription(r)) scheduled to be closed ASAP for overcoming of output buffer limits.")
        if r.pointee.replicaInfo.state == .online { pinDroppedReplica(r) }
        markClosing(r)
        return true
    }

    /// The replica hard limit as Redis 7.0 applies it: never below repl-backlog-size (a
    /// replica could otherwise be dropped by a partial resync the backlog allows).
    var effectiveHardLimit: Int64 {
        let hard = settings.outputLimitReplica.hard
        return hard == 0 ? 0 : Int64(max(hard, backlogSize))
    }
}
