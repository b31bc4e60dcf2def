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
 */
import CSystem
import Glibc
import Keyspace
import Platform
import Replication

/// The node's replication history and its attached replicas.
public struct ReplicationState {
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
    /// When the last replica went away (repl-backlog-ttl frees the backlog of a master after it).
    var noReplicasSinceMillis: Int64 = 0

    var replicas: [ClientRef] = []
    /// master_repl_offset at the fork of the running snapshot for sync, -1 when none.
    var syncForkOffset: Int64 = -1
    /// The running snapshot for sync streams straight to the replicas' sockets (diskless).
    var syncToSockets = false
    var lastPingMillis: Int64 = 0
    var lastKeepAliveMillis: Int64 = 0
    var syncFull: Int64 = 0
    var syncPartialOK: Int64 = 0
    var syncPartialErr: Int64 = 0
    /// total_net_repl_input_bytes / total_net_repl_output_bytes.
    var netInputBytes: Int64 = 0
    var netOutputBytes: Int64 = 0
    /// Clients blocked in WAIT.
    var waitingClients = 0
    /// The sender worker processes (ReplicationSenders.swift), the table they report in, slots
    /// of replicas forgotten but not yet closed by their worker, and whether the ring grew since
    /// the workers were last woken.
    var workers: [SenderWorkerHandle] = []
    var table: ReplicaTable? = nil
    var orphanSlots: [Int] = []
    var wakeWorkers = false
    /// Stream bytes compressed for tandem-lz4 replicas by the primary, and what they became
    /// (the workers' figures are in the ReplicaTable; released slots are added here).
    var lz4BytesIn: Int64 = 0
    var lz4BytesOut: Int64 = 0

    init(replID: String) { self.replID = replID }
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
            let ring = try BacklogRing(capacity: backlogCapacity, replID: repl.replID, startOffset: repl.offset)
            let p = UnsafeMutablePointer<BacklogRing>.allocate(capacity: 1)
            p.initialize(to: ring)
            repl.backlog = p
            repl.noReplicasSinceMillis = Clock.unixMillis()
            announceRingToAll()
        } catch {
            Log.warning("Can't create the replication backlog: \(error)")
        }
        updatePropagation()
    }

    var backlogCapacity: Int { max(16 * 1024, settings.replBacklogSize) }

    mutating func freeBacklog() {
        guard let p = repl.backlog else { return }
        p.deinitialize(count: 1)
        p.deallocate()
        repl.backlog = nil
        updatePropagation()
    }

    /// Empties the backlog for a history that starts after `repl.offset` (a full sync).
    mutating func resetBacklog() {
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
        propagationEnabled = replStreamRecording || (repl.backlog != nil && !isReplicaNode)
        if propagationEnabled && !wasEnabled { propagatedDB = -1 }
    }

    /// From the cron: follow CONFIG SET repl-backlog-size, and free a master's backlog after
    /// repl-backlog-ttl seconds without replicas (a replica keeps it: it may be promoted).
    mutating func backlogCron() {
        guard let ring = repl.backlog else { return }
        if ring.pointee.capacity != backlogCapacity {
            do {
                try ring.pointee.resize(capacity: backlogCapacity)
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

    // MARK: - Feeding the stream

    /// Appends stream bytes to the backlog and to every online replica, and advances the offset.
    mutating func appendToStream(_ bytes: ByteView) {
        repl.backlog?.pointee.append(bytes)
        repl.offset += Int64(bytes.count)
        if repl.table != nil { repl.wakeWorkers = true }
        for r in repl.replicas where r.pointee.replicaInfo.state != .waitBgsaveStart
            && r.pointee.replicaInfo.slot < 0 && r.pointee.replicaInfo.handoffOffset < 0
        {
            if r.pointee.replicaInfo.catchUp != nil {
                // Its snapshot is not delivered yet: hold the bytes until it is.
                r.pointee.replicaInfo.catchUp!.append(bytes)
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
        let used = r.pointee.reply.pending + (r.pointee.replicaInfo.catchUp?.pending ?? 0)
        let over = OutputLimitRule.exceeded(used: Int64(used), hard: Int64(limit.hard), soft: Int64(limit.soft),
                                            softSeconds: Int64(limit.softSeconds),
                                            softSince: &r.pointee.replicaInfo.softLimitSinceMillis,
                                            nowMillis: Clock.unixMillis())
        if !over || r.pointee.flags.contains(.closeASAP) { return over }
        Log.warning("Client \(clientDescription(r)) scheduled to be closed ASAP for overcoming of output buffer limits.")
        markClosing(r)
        return true
    }
}
