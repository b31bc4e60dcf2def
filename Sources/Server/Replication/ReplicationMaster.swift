/*
 * ReplicationMaster: the master side of replication — Redis's replication.c for a node
 * that has replicas (a master, or a replica with replicas of its own).
 *
 *  - A replica connects as a client and speaks the handshake: PING, AUTH, REPLCONF
 *    listening-port / capa, then PSYNC <replid> <offset> (or the old SYNC).
 *  - The first replica creates the backlog: the shared-memory BacklogRing (Replication
 *    module) holding the last `repl-backlog-size` bytes of the stream and whatever replicas
 *    still need (Redis 7's shared replication buffer), numbered by master_repl_offset. From then on every propagated write (Propagation.swift) is
 *    appended to the ring and the offset advances.
 *  - PSYNC with our replid and an offset the ring still holds: +CONTINUE and the missing
 *    bytes. Otherwise +FULLRESYNC <replid> <offset>: a BGSAVE is forked (or the running one
 *    for sync is shared) with `offset` = master_repl_offset at the fork; when the child
 *    succeeds the dump is sent as `$<len>\r\n<bytes>`, then the ring from offset+1 — the
 *    writes made while the child ran — and the replica is online.
 *  - Online replicas get each propagated write as it is appended, a PING every
 *    repl-ping-replica-period seconds, and answer with REPLCONF ACK <offset>.
 *
 *  - Diskless (repl-diskless-sync yes, replicas that announced capa eof): the first replica
 *    to ask waits repl-diskless-sync-delay seconds for others (or until
 *    repl-diskless-sync-max-replicas asked), then one child writes `$EOF:<mark>`, the RDB and
 *    the mark to every waiting socket at once. The stream starts at each replica's first ACK.
 *  - WAIT (REPLCONF GETACK * through the stream, released by REPLCONF ACK or its timeout) and
 *    min-replicas-to-write (-NOREPLICAS while fewer online replicas than that have ACKed
 *    within min-replicas-max-lag seconds).
 *
 * A replica serves its own replicas with the same code: its history is its master's
 * (ReplicationState.swift), so what it forwards and what it snapshots carry the top master's
 * id and offsets.
 *
 * Elsewhere: the replication buffer's retention (ReplicationState.swift), the sender workers
 * that take over the fan-out from 3 replicas (ReplicationSenders.swift), LZ4 (LZ4Frames.swift;
 * a diskless payload is compressed by the snapshot child, Snapshots.swift), FAILOVER
 * (Failover.swift).
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP
import Replication

/// Where a replica is in its synchronization (Redis's SLAVE_STATE_*).
enum ReplicaSyncState: Equatable {
    case waitBgsaveStart, waitBgsaveEnd, online

    var name: String {
        switch self {
        case .waitBgsaveStart: "wait_bgsave"
        case .waitBgsaveEnd: "wait_bgsave"
        case .online: "online"
        }
    }
}

/// What the master knows of one replica connection (the replica's own link to its master is
/// ReplicaLink).
/// What a replica's snapshot holds: REPLCONF rdb-filter-only (redis-cli --functions-rdb asks
/// for the function libraries alone; an empty filter keeps neither).
struct SnapshotFilter: Equatable {
    var data = true
    var functions = true

    static let everything = SnapshotFilter()
    var isEverything: Bool { self == .everything }
}

struct AttachedReplica {
    var state: ReplicaSyncState = .waitBgsaveStart
    /// REPLCONF rdb-filter-only: a filtered snapshot is its own, always sent to the socket.
    var filter = SnapshotFilter.everything
    var listeningPort = 0
    var announcedIP = ""
    /// REPLCONF capa eof (takes a diskless `$EOF:` payload) and capa psync2 (+CONTINUE <id>).
    var capaEOF = false
    var capaPsync2 = false
    /// It asked with PSYNC (answered +FULLRESYNC first), not the old SYNC (the payload at once).
    var usedPsync = false
    /// REPLCONF capa tandem-lz4: a Tandem replica that reads the stream as LZ4 frames.
    var capaLZ4 = false
    /// REPLCONF capa tandem-lz4-rdb: it also takes the snapshot payload as one LZ4 frame;
    /// `lz4Payload`: this full sync's payload is sent that way (+FULLRESYNC ... tandem-lz4-rdb):
    /// `$EOF:<mark>`, the dump and the mark, compressed by the diskless child or, for a disk
    /// sync, by the primary as it reads the dump (`payloadMark` ends it).
    var capaLZ4RDB = false
    var lz4Payload = false
    var payloadMark: [UInt8] = []
    /// Its stream is compressed (negotiated on +FULLRESYNC/+CONTINUE); the primary's compressor
    /// while the primary feeds it.
    var lz4: UnsafeMutablePointer<LZ4FrameWriter>? = nil
    var ackOffset: Int64 = 0
    var ackMillis: Int64 = 0
    /// When it asked for a full sync (repl-diskless-sync-delay counts from the first one).
    var askedMillis: Int64 = 0
    /// A diskless child writes its snapshot: what TCP said it acknowledged, and when that last
    /// moved (the primary's view of a transfer it does not write; replicationCron).
    var transferAcked: Int64 = -1
    var transferProgressMillis: Int64 = 0
    /// master_repl_offset its full sync's snapshot stands for.
    var syncOffset: Int64 = 0
    /// Its snapshot went straight to its socket: the stream starts at its first ACK, since a
    /// replica reading an `$EOF:` payload may read past the end mark (Redis does the same).
    var streamOnFirstAck = false
    /// Its stream has started (after its snapshot). Until then the stream produced since its
    /// snapshot's fork waits in the ring, which keeps it for the replica (Redis's shared
    /// replication buffer): no copy per replica, and the output limit counts those bytes.
    var streaming = false
    /// A disk snapshot being sent to it (Redis's SEND_BULK): the open dump, how far it went and
    /// its size. Sent with sendfile from the event loop, so the dump never sits in memory.
    var bulkFD: Int32 = -1
    var bulkOffset: Int64 = 0
    var bulkSize: Int64 = 0
    /// Handed to a sender worker: its ReplicaTable slot (-1: the primary feeds it).
    var slot = -1
    /// Waiting to be handed over once its output buffer is empty, which holds the stream up to
    /// this offset (-1: not waiting).
    var handoffOffset: Int64 = -1
    var softLimitSinceMillis: Int64 = 0
    /// Stream bytes up to this offset do not count against its output limit: the backlog it
    /// came back for with +CONTINUE (Handoff.graceThrough).
    var graceThrough: Int64 = 0
    /// The offset it had when it joined (its snapshot's, or the one before its +CONTINUE): the
    /// ring keeps what follows until its ACKs move past it (ReplicationState, Retention).
    var ackFloor: Int64 = 0
}

extension Server {
    // MARK: - Commands

    mutating func replconfCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc % 2 == 0 {
            addSyntaxError(c)
            return
        }
        var i = 1
        while i < argc {
            let opt = c.pointee.arg(i)
            let value = c.pointee.arg(i + 1)
            if opt.equalsLowercase("listening-port") {
                guard let p = value.int64, p >= 0, p <= 65535 else {
                    addError(c, "-ERR value is not an integer or out of range\r\n")
                    return
                }
                c.pointee.replicaInfo.listeningPort = Int(p)
            } else if opt.equalsLowercase("ip-address") {
                c.pointee.replicaInfo.announcedIP = value.string
            } else if opt.equalsLowercase("capa") {
                if value.equalsLowercase("eof") { c.pointee.replicaInfo.capaEOF = true }
                if value.equalsLowercase("psync2") { c.pointee.replicaInfo.capaPsync2 = true }
                if value.equalsLowercase("tandem-lz4") { c.pointee.replicaInfo.capaLZ4 = true }
                if value.equalsLowercase("tandem-lz4-rdb") { c.pointee.replicaInfo.capaLZ4RDB = true }
            } else if opt.equalsLowercase("rdb-only") {
                // Accepted: such a client (redis-cli --rdb) closes after its snapshot anyway.
            } else if opt.equalsLowercase("rdb-filter-only") {
                // Everything is left out but what the filter names (only "functions" exists).
                var filter = SnapshotFilter(data: false, functions: false)
                for name in ConfigLine.split(value.string) ?? [] {
                    if name.lowercased() != "functions" {
                        addErrorString(c, "ERR Unsupported rdb-filter-only option: \(name)")
                        return
                    }
                    filter.functions = true
                }
                c.pointee.replicaInfo.filter = filter
            } else if opt.equalsLowercase("ack") || opt.equalsLowercase("fack") {
                // Replicas are not answered for ACKs.
                if let o = value.int64, c.pointee.isReplica { replicaAcknowledged(c, o) }
                return
            } else if opt.equalsLowercase("getack") {
                if c.pointee.isMaster { sendAck(c.pointee.fd) }
                return
            } else {
                addErrorString(c, "ERR Unrecognized REPLCONF option: \(opt.string)")
                return
            }
            i += 2
        }
        addOK(c)
    }

    mutating func replicaAcknowledged(_ c: ClientRef, _ offset: Int64) {
        if offset > c.pointee.replicaInfo.ackOffset {
            c.pointee.replicaInfo.ackOffset = offset
            repl.retentionStale = true
        }
        c.pointee.replicaInfo.ackMillis = Clock.unixMillis()
        if c.pointee.replicaInfo.streamOnFirstAck && c.pointee.replicaInfo.state == .online {
            c.pointee.replicaInfo.streamOnFirstAck = false
            startStreaming(c)
            if !c.pointee.flags.contains(.closeASAP) { Log.notice("Synchronization with replica \(replicaName(c)) succeeded") }
        }
        if repl.waitingClients > 0 { serveWaitingClients() }
    }

    /// PSYNC <replid> <offset> and SYNC.
    mutating func syncCommand(_ c: ClientRef, psync: Bool) {
        if c.pointee.isReplica { return }
        if psync && c.pointee.argc > 3 && c.pointee.arg(3).equalsLowercase("failover") {
            guard acceptFailoverRequest(c) else { return }
        }
        if failover.state != .none {
            addError(c, "-NOMASTERLINK Can't SYNC while failing over\r\n")
            return
        }
        if isReplicaNode && link.state != .connected {
            addError(c, "-NOMASTERLINK Can't SYNC while not connected with my master\r\n")
            return
        }
        if c.pointee.reply.pending > 0 || c.pointee.flags.contains(.multi) {
            addError(c, "-ERR SYNC and PSYNC are invalid with pending output\r\n")
            return
        }
        let peer = replicaName(c)
        Log.notice("Replica \(peer) asks for synchronization")
        if psync && c.pointee.arg(2).int64 == nil {
            Log.warning("Replica \(peer) asks for synchronization but with a wrong offset")
            addNotInteger(c)
            return
        }
        if psync && tryPartialResync(c, peer) { return }
        if psync && !c.pointee.arg(1).equalsLowercase("?") { repl.syncPartialErr += 1 }
        repl.syncFull += 1
        let previous = c.pointee.replicaInfo
        c.pointee.isReplica = true
        // repl-disable-tcp-nodelay yes: fewer, bigger packets to replicas, at some latency.
        if settings.storedValue("repl-disable-tcp-nodelay") == "yes" && !c.pointee.flags.contains(.unixSocket) {
            Socket.setNoDelay(c.pointee.fd, false)
        }
        c.pointee.replicaInfo = AttachedReplica(listeningPort: previous.listeningPort, announcedIP: previous.announcedIP,
                                                capaEOF: previous.capaEOF, capaPsync2: previous.capaPsync2,
                                                usedPsync: psync, capaLZ4: previous.capaLZ4, capaLZ4RDB: previous.capaLZ4RDB,
                                                askedMillis: Clock.unixMillis())
        c.pointee.replicaInfo.filter = previous.filter
        repl.replicas.append(c)
        if repl.backlog == nil {
            // A new history: a replica must never continue an older one under this id.
            changeReplicationID()
            clearReplicationID2()
            createBacklog()
            Log.notice("Replication backlog created, my new replication IDs are '\(repl.replID)' and '\(repl.replID2)'")
        }
        if hasActiveChild && repl.syncForkOffset >= 0 && !repl.syncToSockets && c.pointee.replicaInfo.filter.isEverything {
            // Share the snapshot already being written to disk for another replica.
            Log.notice("Waiting for end of BGSAVE for SYNC")
            attachToSyncSnapshot(c)
        } else if hasActiveChild {
            Log.notice(repl.syncToSockets ? "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC"
                       : "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
        } else if settings.replDisklessSync && wantsDisklessSync && settings.replDisklessSyncDelay > 0 {
            // The cron forks once the delay has let other replicas arrive.
            Log.notice("Delay next BGSAVE for diskless SYNC")
        } else {
            startSyncSnapshot()
        }
    }

    /// The replica's address as it announced it (REPLCONF ip-address) or as we see it.
    func replicaIP(_ c: ClientRef) -> String {
        if !c.pointee.replicaInfo.announcedIP.isEmpty { return c.pointee.replicaInfo.announcedIP }
        return c.pointee.address.split(separator: ":").dropLast().joined(separator: ":")
    }

    func replicaName(_ c: ClientRef) -> String { "\(replicaIP(c)):\(c.pointee.replicaInfo.listeningPort)" }

    mutating func tryPartialResync(_ c: ClientRef, _ peer: String) -> Bool {
        let requested = c.pointee.arg(1).string
        guard let offset = c.pointee.arg(2).int64 else {
            Log.notice("Full resync requested by replica \(peer)")
            return false
        }
        if let refusal = partialResyncRefusal(requested, offset, peer) {
            for line in refusal { Log.notice(line) }
            return false
        }
        c.pointee.isReplica = true
        c.pointee.replicaInfo.state = .online
        c.pointee.replicaInfo.ackMillis = Clock.unixMillis()
        repl.replicas.append(c)
        c.pointee.replicaInfo.usedPsync = true
        // The backlog it came for is held already: only what it falls behind by from now counts
        // against its output limit.
        c.pointee.replicaInfo.graceThrough = repl.offset
        c.pointee.replicaInfo.ackFloor = offset - 1
        c.pointee.replicaInfo.streaming = true
        retain(from: offset)
        if c.pointee.replicaInfo.capaPsync2 {
            let lz4 = startCompressionIfNegotiated(c) ? " tandem-lz4" : ""
            c.pointee.reply.append("+CONTINUE \(repl.replID)\(lz4)\r\n")
        } else {
            c.pointee.reply.append("+CONTINUE\r\n" as StaticString)
        }
        let sent: Int
        if c.pointee.tlsConnection == nil && feedsThroughWorkers() {
            // A worker sends the backlog from the ring once +CONTINUE has left.
            sent = Int(repl.offset - offset + 1)
            c.pointee.replicaInfo.handoffOffset = offset - 1
            endCompressedFrame(c)
        } else {
            sent = appendBacklog(to: c, from: offset) ?? 0
        }
        repl.syncPartialOK += 1
        queueWrite(c)
        moveReplicasToWorkersIfFanOut()
        Log.notice("Partial resynchronization request from \(peer) accepted. Sending \(sent) bytes of backlog starting from offset \(offset).")
        return true
    }

    /// Why a PSYNC cannot continue, in Redis 7.0's words (masterTryPartialResynchronization);
    /// nil when it can.
    func partialResyncRefusal(_ requested: String, _ offset: Int64, _ peer: String) -> [String]? {
        let ours = requested == repl.replID
        let previous = requested == repl.replID2 && requested != ReplicationState.noID
        if !ours && !(previous && offset <= repl.secondReplOffset) {
            if requested == "?" { return ["Full resync requested by replica \(peer)"] }
            if !ours && !previous {
                return ["Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '\(requested)', my replication IDs are '\(repl.replID)' and '\(repl.replID2)')"]
            }
            return ["Partial resynchronization not accepted: Requested offset for second ID was \(offset), but I can reply up to \(repl.secondReplOffset)"]
        }
        guard let ring = repl.backlog, ring.pointee.contains(offset: offset) else {
            var lines = ["Unable to partial resync with replica \(peer) for lack of backlog (Replica request was: \(offset))."]
            if offset > repl.offset {
                lines.append("Warning: replica \(peer) tried to PSYNC with an offset that is greater than the master replication offset.")
            }
            return lines
        }
        return nil
    }

    // MARK: - Backlog and stream

    /// Appends the ring's bytes from `offset` (the first byte wanted) to `c`'s output; nil when
    /// the ring no longer holds them.
    @discardableResult
    mutating func appendBacklog(to c: ClientRef, from offset: Int64) -> Int? {
        guard let ring = repl.backlog else { return nil }
        return ring.pointee.withChunks(from: offset) { a, b in
            sendStream(c, a)
            sendStream(c, b)
            return a.count + b.count
        }
    }

    /// Called after this master's own writes were added to `replicationStream`: moves them into
    /// the backlog and to every online replica.
    mutating func feedReplicationStream() {
        guard repl.backlog != nil, replicationStream.pointee.pending > 0, !replStreamRecording else { return }
        appendToStream(ByteView(UnsafePointer(replicationStream.pointee.base + replicationStream.pointee.sent), replicationStream.pointee.pending))
        replicationStream.pointee.clear()
    }

    /// A replica that received its snapshot gets the writes made since the snapshot's fork,
    /// then the live stream.
    mutating func startStreaming(_ r: ClientRef) {
        r.pointee.replicaInfo.streaming = true
        let from = r.pointee.replicaInfo.syncOffset + 1
        // A TLS replica stays with the primary, which owns its session (docs/dev/acl.md).
        if r.pointee.tlsConnection == nil && feedsThroughWorkers() {
            // Its worker starts at the first write after the snapshot, straight from the ring.
            r.pointee.replicaInfo.handoffOffset = from - 1
            endCompressedFrame(r)
        } else if appendBacklog(to: r, from: from) == nil {
            Log.warning("The replication buffer no longer holds the writes since replica \(replicaName(r))'s snapshot; dropping it")
            markClosing(r)
            return
        }
        if !checkReplicaOutputLimit(r) { queueWrite(r) }
        moveReplicasToWorkersIfFanOut()
    }

    // MARK: - Full sync

    /// repl-diskless-sync applies to the replicas waiting now: all of them take `$EOF:`.
    var wantsDisklessSync: Bool {
        let waiting = repl.replicas.filter { $0.pointee.replicaInfo.state == .waitBgsaveStart }
        // A filtered snapshot is never the shared dump on disk (Redis forces a socket target).
        if let first = waiting.first, !first.pointee.replicaInfo.filter.isEverything { return true }
        return settings.replDisklessSync && waiting.allSatisfy { $0.pointee.replicaInfo.capaEOF }
    }

    /// rdb-del-sync-files: with persistence off (no save points; there is no AOF yet), the RDB
    /// files made or received only for a full sync are deleted once used, as Redis 7.0 does.
    var deletesSyncFiles: Bool { settings.storedValue("rdb-del-sync-files") == "yes" && settings.save.isEmpty }

    /// From the cron: the dump written for replicas goes once none is still being sent it.
    mutating func removeRDBUsedToSyncReplicas() {
        guard repl.syncDumpOnDisk, deletesSyncFiles, !hasActiveChild,
              !repl.replicas.contains(where: { $0.pointee.replicaInfo.state != .online || $0.pointee.replicaInfo.bulkFD >= 0 })
        else { return }
        repl.syncDumpOnDisk = false
        Log.notice("Removing the RDB file used to feed replicas in a persistence-less instance")
        unlink(settings.dbfilename)
    }

    mutating func startSyncSnapshot() {
        let toSockets = wantsDisklessSync
        if !toSockets { repl.syncDumpOnDisk = true }
        Log.notice("Starting BGSAVE for SYNC with target: \(toSockets ? "replicas sockets" : "disk")")
        let forkOffset = repl.offset
        // The stream after the fork must start with a SELECT: the replica knows nothing of the
        // database the stream had selected before (Redis resets slaveseldb the same way).
        if !isReplicaNode { propagatedDB = -1 }
        repl.syncForkOffset = forkOffset
        repl.syncToSockets = toSockets
        // Replicas that ask while a disk snapshot runs take the writes since its fork from the ring.
        if !toSockets { retain(from: forkOffset + 1) }
        // One snapshot serves the replicas that want the same contents (the first waiting one's);
        // the others wait for the next.
        let filter = repl.replicas.first { $0.pointee.replicaInfo.state == .waitBgsaveStart }?.pointee.replicaInfo.filter
            ?? .everything
        repl.syncFilter = filter
        var sockets: [Int32] = []
        for r in repl.replicas where r.pointee.replicaInfo.state == .waitBgsaveStart && r.pointee.replicaInfo.filter == filter {
            attachToSyncSnapshot(r)
        }
        // The child writes the sockets of plain-TCP replicas itself; replicas on the TLS port
        // take the payload through a pipe the primary relays into their sessions (PayloadRelay).
        let childWrites: (ClientRef) -> Bool = {
            !$0.pointee.flags.contains(.closeASAP) && $0.pointee.replicaInfo.state == .waitBgsaveEnd && $0.pointee.tlsConnection == nil
        }
        if toSockets {
            // The child owns these sockets until it exits: +FULLRESYNC must have left first.
            for r in repl.replicas where childWrites(r) {
                writeToClient(r)
                if r.pointee.reply.pending > 0 { markClosing(r) }
            }
            sockets = repl.replicas.filter { childWrites($0) && !$0.pointee.replicaInfo.lz4Payload }.map { $0.pointee.fd }
        }
        let compressed = repl.replicas.filter { childWrites($0) && $0.pointee.replicaInfo.lz4Payload }.map { $0.pointee.fd }
        let relays = toSockets ? openPayloadRelays() : (plain: -1, compressed: -1)
        let started = toSockets ? startBackgroundSave(toSockets: sockets, compressed: compressed, relays: relays) : startBackgroundSave()
        for fd in [relays.plain, relays.compressed] where fd >= 0 { close(fd) }
        if !started {
            closePayloadRelays()
            repl.syncForkOffset = -1
            for r in repl.replicas where r.pointee.replicaInfo.state != .online { markClosing(r) }
        }
    }

    mutating func attachToSyncSnapshot(_ c: ClientRef) {
        c.pointee.replicaInfo.state = .waitBgsaveEnd
        c.pointee.replicaInfo.syncOffset = repl.syncForkOffset
        retain(from: repl.syncForkOffset + 1)
        // The writes since the fork stay in the ring until its snapshot is delivered.
        if let ring = repl.backlog, !ring.pointee.contains(offset: repl.syncForkOffset + 1) {
            Log.warning("The backlog no longer holds the writes since the running snapshot for SYNC; dropping replica \(replicaName(c))")
            markClosing(c)
        }
        if c.pointee.replicaInfo.usedPsync {
            var lz4 = startCompressionIfNegotiated(c) ? " tandem-lz4" : ""
            if !lz4.isEmpty && c.pointee.replicaInfo.capaLZ4RDB {
                // The payload compresses too: one LZ4 frame, written by a diskless snapshot's
                // child, or by the primary as it sends a disk snapshot (compressBulkChunk).
                c.pointee.replicaInfo.lz4Payload = true
                lz4 = " tandem-lz4-rdb"
            }
            c.pointee.reply.append("+FULLRESYNC \(repl.replID) \(repl.syncForkOffset)\(lz4)\r\n")
        }
        queueWrite(c)
    }

    /// After a background save ends: send the dump to the replicas that waited for it (a
    /// diskless child already did), and start another save for replicas that came too late.
    mutating func syncSnapshotFinished(ok: Bool) {
        let forkOffset = repl.syncForkOffset
        let toSockets = repl.syncToSockets
        repl.syncForkOffset = -1
        repl.syncToSockets = false
        // What the child left in the relay pipes goes to the TLS replicas before they count as
        // served (their output buffers keep it in order).
        let relayed = !repl.relays.isEmpty
        if ok { drainPayloadRelays() }
        closePayloadRelays()
        if relayed && ok {
            let relayedUp = repl.replicas.filter {
                $0.pointee.tlsConnection != nil && $0.pointee.replicaInfo.state == .waitBgsaveEnd && !$0.pointee.flags.contains(.closeASAP)
                    && persistence.childRelaysDelivered & ($0.pointee.replicaInfo.lz4Payload ? 2 : 1) != 0
            }.count
            Log.notice("Diskless rdb transfer, done reading from pipe, \(relayedUp + Int(persistence.childSocketsDelivered)) replicas still up.")
        }
        guard !repl.replicas.isEmpty else { return }
        for r in repl.replicas where r.pointee.replicaInfo.state == .waitBgsaveEnd && !r.pointee.flags.contains(.closeASAP) {
            if !ok || forkOffset < 0 || (!toSockets && !openDumpForBulk(r)) {
                Log.warning("SYNC failed. BGSAVE child returned an error")
                markClosing(r)
                continue
            }
            if toSockets && r.pointee.tlsConnection != nil
                && persistence.childRelaysDelivered & (r.pointee.replicaInfo.lz4Payload ? 2 : 1) == 0
            {
                Log.warning("Diskless rdb transfer to replica \(replicaName(r)) failed: the pipe from the child broke")
                markClosing(r)
                continue
            }
            // A replica that already acknowledged has loaded the payload (replicas ACK only once
            // they follow the stream): no need to wait for its next ACK.
            let alreadyAcked = r.pointee.replicaInfo.ackMillis > 0
            r.pointee.replicaInfo.state = .online
            r.pointee.replicaInfo.ackMillis = Clock.unixMillis()
            r.pointee.replicaInfo.ackFloor = forkOffset
            retain(from: forkOffset + 1)
            if toSockets {
                Log.notice("Streamed RDB transfer with replica \(replicaName(r)) succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming")
                if alreadyAcked {
                    startStreaming(r)
                    Log.notice("Synchronization with replica \(replicaName(r)) succeeded")
                } else {
                    r.pointee.replicaInfo.streamOnFirstAck = true
                }
                continue
            }
            if r.pointee.replicaInfo.lz4Payload {
                startCompressedBulk(r)
            } else {
                // The dump follows its `$<len>` line from writeToClient (sendBulk); the stream after it.
                r.pointee.reply.append("$\(r.pointee.replicaInfo.bulkSize)\r\n")
            }
            queueWrite(r)
        }
        if repl.replicas.contains(where: { $0.pointee.replicaInfo.state == .waitBgsaveStart })
            && (!wantsDisklessSync || !settings.replDisklessSync)
        {
            startSyncSnapshot()
        }
    }

    /// Opens the dump just written for sending to `r`; false (logged) when it cannot be read.
    mutating func openDumpForBulk(_ r: ClientRef) -> Bool {
        let fd = open(settings.dbfilename, O_RDONLY | O_CLOEXEC)
        var st = stat()
        if fd < 0 || fstat(fd, &st) != 0 {
            Log.warning("SYNC failed. Can't open/stat DB after BGSAVE: \(String(cString: strerror(errno)))")
            if fd >= 0 { close(fd) }
            return false
        }
        r.pointee.replicaInfo.bulkFD = fd
        r.pointee.replicaInfo.bulkOffset = 0
        r.pointee.replicaInfo.bulkSize = Int64(st.st_size)
        return true
    }

    /// writeToClient for a replica: nothing while a sender worker owns the socket's writing side;
    /// otherwise its output buffer, then (disk sync) its snapshot with sendfile and what was
    /// held behind it, and once everything the primary held for it is out, the handoff.
    mutating func writeToReplica(_ r: ClientRef) {
        if r.pointee.replicaInfo.slot >= 0 {
            // A reply to whatever the replica sent: the worker writes this socket now.
            r.pointee.reply.clear()
            return
        }
        while true {
            let (written, ok) = drainReply(r)
            repl.netOutputBytes += Int64(written)
            if !ok { return }
            if r.pointee.reply.pending > 0 || r.pointee.replicaInfo.bulkFD < 0 { break }
            if r.pointee.replicaInfo.lz4Payload {
                if !compressBulkChunk(r) { return }
                continue
            }
            if r.pointee.tlsConnection != nil {
                // sendfile cannot encrypt: the dump goes through the output buffer.
                if !copyBulkChunk(r) { return }
                continue
            }
            if !sendBulk(r) {
                if !r.pointee.flags.contains(.closeASAP) { registerForWrite(r) }
                return
            }
            // The dump is out: the writes held during the sync are in the buffer now.
        }
        if !repl.relays.isEmpty && r.pointee.replicaInfo.state == .waitBgsaveEnd { resumePayloadRelays() }
        if r.pointee.reply.pending == 0 && r.pointee.replicaInfo.handoffOffset >= 0 {
            stats.writesProcessed += 1
            handOff(r)
            return
        }
        finishWrite(r)
    }

    /// From writeToReplica, once the replica's output buffer is empty: sends more of its dump.
    /// Returns true when the dump is all sent (the stream follows in the output buffer), false
    /// when the socket is full or the replica was dropped.
    mutating func sendBulk(_ r: ClientRef) -> Bool {
        while r.pointee.replicaInfo.bulkOffset < r.pointee.replicaInfo.bulkSize {
            var offset = off_t(r.pointee.replicaInfo.bulkOffset)
            let left = r.pointee.replicaInfo.bulkSize - r.pointee.replicaInfo.bulkOffset
            let n = sendfile(r.pointee.fd, r.pointee.replicaInfo.bulkFD, &offset, Int(min(left, 1 << 20)))
            if n > 0 {
                r.pointee.replicaInfo.bulkOffset += Int64(n)
                repl.netOutputBytes += Int64(n)
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                return false
            } else {
                Log.warning("Write error sending DB to replica: \(n < 0 ? String(cString: strerror(errno)) : "unexpected end of file")")
                markClosing(r)
                return false
            }
        }
        finishBulk(r)
        return true
    }

    /// The whole dump is out: the stream follows.
    mutating func finishBulk(_ r: ClientRef) {
        closeBulk(r)
        // It loads the dump now and acknowledges afterwards: the timeout counts from here.
        r.pointee.replicaInfo.ackMillis = Clock.unixMillis()
        startStreaming(r)
        Log.notice("Synchronization with replica \(replicaName(r)) succeeded")
    }

    /// A disk snapshot for a replica that takes it compressed: `$EOF:<mark>` opens its LZ4 frame
    /// (the replica's stream compressor, which starts a new frame for the stream afterwards).
    mutating func startCompressedBulk(_ r: ClientRef) {
        guard startCompressionIfNegotiated(r), let lz4 = r.pointee.replicaInfo.lz4 else {
            markClosing(r)
            return
        }
        r.pointee.replicaInfo.payloadMark = Array(Self.randomHex(40).utf8)
        let header = Array("$EOF:".utf8) + r.pointee.replicaInfo.payloadMark + [13, 10]
        let ok = header.withUnsafeBytes { h in
            lz4.pointee.write(h.baseAddress!, h.count) { p, n in r.pointee.reply.append(p.assumingMemoryBound(to: UInt8.self), n) }
        }
        if !ok { markClosing(r) }
    }

    /// From writeToReplica, once the output buffer is empty: compresses the next chunk of the
    /// dump into it (sendfile cannot compress); after the last one, the mark and the frame's
    /// end. As for a diskless payload, the stream then waits for the replica's first ACK: the
    /// replica reads the frame to its end and nothing after it. False when the replica was
    /// dropped.
    mutating func compressBulkChunk(_ r: ClientRef) -> Bool {
        guard let lz4 = r.pointee.replicaInfo.lz4 else {
            markClosing(r)
            return false
        }
        let sink: (UnsafeRawPointer, Int) -> Void = { p, n in r.pointee.reply.append(p.assumingMemoryBound(to: UInt8.self), n) }
        let left = r.pointee.replicaInfo.bulkSize - r.pointee.replicaInfo.bulkOffset
        if left > 0 {
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(min(left, Int64(Self.bulkChunk))), alignment: 16)
            defer { chunk.deallocate() }
            let n = pread(r.pointee.replicaInfo.bulkFD, chunk.baseAddress!, chunk.count, off_t(r.pointee.replicaInfo.bulkOffset))
            guard n > 0, lz4.pointee.write(chunk.baseAddress!, n, to: sink) else {
                Log.warning("Write error sending DB to replica: \(n < 0 ? String(cString: strerror(errno)) : n == 0 ? "unexpected end of file" : "LZ4 compression failed")")
                markClosing(r)
                return false
            }
            r.pointee.replicaInfo.bulkOffset += Int64(n)
            return true
        }
        let mark = r.pointee.replicaInfo.payloadMark
        let ok = mark.withUnsafeBytes { lz4.pointee.write($0.baseAddress!, $0.count, to: sink) }
        lz4.pointee.end(to: sink)
        closeBulk(r)
        if !ok {
            markClosing(r)
            return false
        }
        r.pointee.replicaInfo.ackMillis = Clock.unixMillis()
        r.pointee.replicaInfo.streamOnFirstAck = true
        return true
    }

    /// For a replica on the TLS port: the next chunk of the dump into its output buffer (the TLS
    /// session encrypts it there); after the last one, the stream follows as after sendBulk.
    /// False when the replica was dropped.
    mutating func copyBulkChunk(_ r: ClientRef) -> Bool {
        let left = r.pointee.replicaInfo.bulkSize - r.pointee.replicaInfo.bulkOffset
        if left > 0 {
            let count = Int(min(left, Int64(Self.bulkChunk)))
            let before = r.pointee.reply.count
            r.pointee.reply.reserve(count)
            let n = pread(r.pointee.replicaInfo.bulkFD, r.pointee.reply.base + before, count, off_t(r.pointee.replicaInfo.bulkOffset))
            guard n > 0 else {
                Log.warning("Write error sending DB to replica: \(n < 0 ? String(cString: strerror(errno)) : "unexpected end of file")")
                markClosing(r)
                return false
            }
            r.pointee.reply.count = before + n
            r.pointee.replicaInfo.bulkOffset += Int64(n)
            return true
        }
        finishBulk(r)
        return true
    }

    /// How much of a dump is compressed at a time: small enough that other clients wait little.
    static let bulkChunk = 256 * 1024

    func closeBulk(_ r: ClientRef) {
        if r.pointee.replicaInfo.bulkFD >= 0 { close(r.pointee.replicaInfo.bulkFD) }
        r.pointee.replicaInfo.bulkFD = -1
    }

    // MARK: - Cron and teardown

    /// Once per cron tick: start a delayed diskless sync, drop replicas that stopped
    /// acknowledging, PING online replicas every repl-ping-replica-period seconds (through the
    /// stream, so offsets move as Redis's do; a replica forwards its master's PINGs instead),
    /// newlines to replicas waiting for a disk snapshot.
    mutating func replicationCron() {
        backlogCron()
        removeRDBUsedToSyncReplicas()
        guard repl.backlog != nil, !repl.replicas.isEmpty else { return }
        let now = Clock.unixMillis()
        startDelayedDisklessSync(now)
        let timeout = Int64(max(1, settings.replTimeout)) * 1000
        if repl.syncToSockets && childPID >= 0 { dropStalledDisklessTargets(now, timeout: timeout) }
        for r in repl.replicas where r.pointee.replicaInfo.state == .online && !r.pointee.replicaInfo.streamOnFirstAck
            && r.pointee.replicaInfo.bulkFD < 0 && now - r.pointee.replicaInfo.ackMillis > timeout
        {
            Log.warning("Disconnecting timedout replica (streaming sync): \(replicaName(r))")
            markClosing(r)
        }
        for r in repl.replicas where r.pointee.replicaInfo.state == .online {
            _ = checkReplicaOutputLimit(r)
        }
        if now - repl.lastPingMillis >= Int64(max(1, settings.replPingReplicaPeriod)) * 1000 && failover.state == .none {
            repl.lastPingMillis = now
            if !isReplicaNode && repl.replicas.contains(where: { !$0.pointee.flags.contains(.closeASAP) }) {
                replicationStream.pointee.append("*1\r\n$4\r\nPING\r\n" as StaticString)
                feedReplicationStream()
            }
        }
        // Replicas waiting for a snapshot get a newline every second (Redis's keep-alive),
        // except those whose socket a diskless child is writing.
        if now - repl.lastKeepAliveMillis >= 1000 {
            repl.lastKeepAliveMillis = now
            for r in repl.replicas where r.pointee.replicaInfo.state == .waitBgsaveStart
                || (r.pointee.replicaInfo.state == .waitBgsaveEnd && !repl.syncToSockets)
            {
                r.pointee.reply.append("\n" as StaticString)
                queueWrite(r)
            }
        }
    }

    /// A replica that acknowledged nothing of a diskless snapshot for repl-timeout while bytes
    /// wait for it (stopped, or its network gone) is cut off: the child, which writes the socket,
    /// then goes on with the others. Redis's parent sees this on its own writes; here TCP tells.
    mutating func dropStalledDisklessTargets(_ now: Int64, timeout: Int64) {
        for r in repl.replicas where r.pointee.replicaInfo.state == .waitBgsaveEnd && !r.pointee.flags.contains(.closeASAP) {
            var acked: Int64 = 0, queued: Int64 = 0
            if tandem_tcp_progress(r.pointee.fd, &acked, &queued) != 0 { continue }
            if acked != r.pointee.replicaInfo.transferAcked || queued == 0 {
                r.pointee.replicaInfo.transferAcked = acked
                r.pointee.replicaInfo.transferProgressMillis = now
            } else if now - r.pointee.replicaInfo.transferProgressMillis > timeout {
                Log.warning("Disconnecting timedout replica (full sync): \(replicaName(r))")
                markClosing(r)
            }
        }
    }

    /// Forks the diskless snapshot once repl-diskless-sync-delay has passed since the first
    /// waiting replica asked, or repl-diskless-sync-max-replicas are waiting.
    mutating func startDelayedDisklessSync(_ now: Int64) {
        guard !hasActiveChild else { return }
        let waiting = repl.replicas.filter { $0.pointee.replicaInfo.state == .waitBgsaveStart }
        guard let oldest = waiting.map({ $0.pointee.replicaInfo.askedMillis }).min() else { return }
        let maxReplicas = settings.replDisklessSyncMaxReplicas
        // (Without repl-diskless-sync only a filtered snapshot goes to sockets: no delay.)
        let delay = settings.replDisklessSync ? Int64(settings.replDisklessSyncDelay) * 1000 : 0
        if now - oldest >= delay || (maxReplicas > 0 && waiting.count >= maxReplicas) {
            startSyncSnapshot()
        }
    }

    /// Online replicas whose last ACK is at most min-replicas-max-lag seconds old (Redis's
    /// repl_good_slaves_count, computed when asked: replicas are few).
    func goodReplicaCount() -> Int {
        let now = Clock.unixMillis()
        let maxLag = Int64(settings.minReplicasMaxLag) * 1000
        var n = 0
        for r in repl.replicas where r.pointee.replicaInfo.state == .online && now - r.pointee.replicaInfo.ackMillis <= maxLag {
            n += 1
        }
        return n
    }

    // MARK: - ROLE

    /// ROLE on a master: "master", the offset, and [ip, port, acknowledged offset] per online replica.
    func roleCommand(_ c: ClientRef) {
        if isReplicaNode {
            c.pointee.reply.appendArrayHeader(5)
            c.pointee.reply.appendBulk("slave")
            c.pointee.reply.appendBulk(link.host)
            c.pointee.reply.appendInteger(Int64(link.port))
            let state: String
            switch link.state {
            case .connected: state = "connected"
            case .transfer: state = "sync"
            case .connecting: state = "connecting"
            case .handshake: state = "handshake"
            default: state = "connect"
            }
            c.pointee.reply.appendBulk(state)
            c.pointee.reply.appendInteger(repl.offset)
            return
        }
        let online = repl.replicas.filter { $0.pointee.replicaInfo.state == .online }
        c.pointee.reply.appendArrayHeader(3)
        c.pointee.reply.appendBulk("master")
        c.pointee.reply.appendInteger(repl.offset)
        c.pointee.reply.appendArrayHeader(online.count)
        for r in online {
            let l = r.pointee.replicaInfo
            let ip = replicaIP(r)
            c.pointee.reply.appendArrayHeader(3)
            c.pointee.reply.appendBulk(ip)
            c.pointee.reply.appendBulk(String(l.listeningPort))
            c.pointee.reply.appendBulk(String(l.ackOffset))
        }
    }

    // MARK: - WAIT

    /// WAIT numreplicas timeout: blocks until `numreplicas` replicas acknowledged this client's
    /// last write (a client that wrote nothing is answered at once), or `timeout` ms passed;
    /// answers how many did.
    mutating func waitCommand(_ c: ClientRef) {
        if isReplicaNode {
            addError(c, "-ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.\r\n")
            return
        }
        guard let wanted = c.pointee.arg(1).int64 else {
            addError(c, "-ERR value is not an integer or out of range\r\n")
            return
        }
        guard let timeout = parseMillisTimeout(c, c.pointee.arg(2)) else { return }
        let target = c.pointee.writeOffset
        let acked = replicasAcknowledging(target)
        if Int64(acked) >= wanted || c.pointee.flags.contains(.multi) || inExec {
            c.pointee.reply.appendInteger(Int64(acked))
            return
        }
        blockClient(c, keys: [], timeoutAt: timeout == 0 ? 0 : Self.deadline(afterMillis: timeout), nullArray: false)
        c.pointee.block.isWait = true
        c.pointee.block.waitOffset = target
        c.pointee.block.waitReplicas = Int(min(wanted, Int64(Int.max)))
        repl.waitingClients += 1
        repl.getAckPending = true
    }

    /// From beforeSleep, when clients blocked in WAIT during this iteration: one REPLCONF
    /// GETACK * through the stream (so it follows the writes they wait for) for all of them.
    mutating func requestAcksFromReplicas() {
        repl.getAckPending = false
        guard repl.backlog != nil, !isReplicaNode, failover.state == .none else { return }
        replicationStream.pointee.append("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n" as StaticString)
        feedReplicationStream()
    }

    /// Online replicas whose acknowledged offset has reached `offset`
    /// (replicationCountAcksByOffset).
    func replicasAcknowledging(_ offset: Int64) -> Int {
        var n = 0
        for r in repl.replicas where r.pointee.replicaInfo.state == .online && r.pointee.replicaInfo.ackOffset >= offset { n += 1 }
        return n
    }

    /// After an ACK: release WAITing clients whose condition now holds.
    mutating func serveWaitingClients() {
        for w in allClients() where w.pointee.flags.contains(.blocked) && w.pointee.block.isWait {
            let acked = replicasAcknowledging(w.pointee.block.waitOffset)
            if acked >= w.pointee.block.waitReplicas {
                w.pointee.reply.appendInteger(Int64(acked))
                countUnblockedCall(w, failed: false)
                unblockClient(w)
                queueWrite(w)
                resumeAfterUnblock(w)
            }
        }
    }

    /// A replica connection is going away.
    mutating func forgetReplica(_ c: ClientRef) {
        guard c.pointee.isReplica else { return }
        repl.replicas.removeAll { $0 == c }
        repl.retentionStale = true
        if c.pointee.replicaInfo.state == .waitBgsaveEnd && repl.syncToSockets {
            // The diskless child writes this socket too: end the connection itself, or the
            // replica would go on receiving the snapshot after we dropped it.
            shutdown(c.pointee.fd, Int32(SHUT_RDWR))
            if childPID >= 0 && persistence.childToSockets
                && !repl.replicas.contains(where: { $0.pointee.replicaInfo.state == .waitBgsaveEnd && !$0.pointee.flags.contains(.closeASAP) })
            {
                // Nobody is left to receive it: stop the child (reaped by the cron as a kill).
                Log.warning("Diskless rdb transfer, last replica dropped, killing fork child.")
                kill(childPID, SIGUSR1)
            }
        }
        if !repl.relays.isEmpty { resumePayloadRelays() }
        if c.pointee.replicaInfo.state == .waitBgsaveEnd && !repl.syncToSockets && childPID >= 0
            && repl.syncForkOffset >= 0 && settings.save.isEmpty
            && !repl.replicas.contains(where: { $0.pointee.replicaInfo.state != .online })
        {
            // A dump only replicas wanted, and none waits for it any more (no save point wants it
            // either): stop writing it, as Redis does.
            Log.notice("Killing the RDB child: no replica waits for its dump any more")
            kill(childPID, SIGUSR1)
        }
        closeBulk(c)
        _ = collectWorkerDrop(c)
        releaseHandedOff(c)
        freeCompressor(c)
        trimBacklog()  // what only it still needed goes now, as in Redis
        Log.notice("Connection with replica \(replicaName(c)) lost.")
    }

    /// INFO replication, both roles, in Redis's order.
    func replicationInfoFields() -> [(String, String)] {
        var f: [(String, String)] = isReplicaNode ? replicaLinkFields() : [("role", "master")]
        f.append(("connected_slaves", "\(repl.replicas.count)"))
        if settings.minReplicasToWrite > 0 && settings.minReplicasMaxLag > 0 {
            f.append(("min_slaves_good_slaves", "\(goodReplicaCount())"))
        }
        let now = Clock.unixMillis()
        for (i, r) in repl.replicas.enumerated() {
            let l = r.pointee.replicaInfo
            let ip = replicaIP(r)
            let lag = l.ackMillis > 0 ? (now - l.ackMillis) / 1000 : 0
            f.append(("slave\(i)", "ip=\(ip),port=\(l.listeningPort),state=\(l.bulkFD >= 0 ? "send_bulk" : l.state.name),offset=\(l.ackOffset),lag=\(lag)"))
        }
        let ring = repl.backlog
        f += [
            ("master_failover_state", failover.state.name), ("master_replid", repl.replID),
            ("master_replid2", repl.replID2), ("master_repl_offset", "\(repl.offset)"),
            ("second_repl_offset", "\(repl.secondReplOffset)"), ("repl_backlog_active", ring == nil ? "0" : "1"),
            ("repl_backlog_size", "\(settings.replBacklogSize)"),
            ("repl_backlog_first_byte_offset", "\(ring.map { $0.pointee.firstByteOffset } ?? 0)"),
            ("repl_backlog_histlen", "\(ring.map { $0.pointee.histlen } ?? 0)"),
        ]
        return f
    }
}
