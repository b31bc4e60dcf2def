/*
 * ReplicationMaster: the master side of replication — Redis's replication.c for a node
 * that has replicas. First slice: disk full sync and the command stream, fed from the
 * main process.
 *
 *  - A replica connects as a client and speaks the handshake: PING, AUTH, REPLCONF
 *    listening-port / capa, then PSYNC <replid> <offset> (or the old SYNC).
 *  - The first replica creates the backlog: the shared-memory BacklogRing (Replication
 *    module) holding the last `repl-backlog-size` bytes of the stream, numbered by
 *    master_repl_offset. From then on every propagated write (Propagation.swift) is
 *    appended to the ring and the offset advances.
 *  - PSYNC with our replid and an offset the ring still holds: +CONTINUE and the missing
 *    bytes. Otherwise +FULLRESYNC <replid> <offset>: a BGSAVE is forked (or the running one
 *    for sync is shared) with `offset` = master_repl_offset at the fork; when the child
 *    succeeds the dump is sent as `$<len>\r\n<bytes>`, then the ring from offset+1 — the
 *    writes made while the child ran — and the replica is online.
 *  - Online replicas get each propagated write as it is appended, a PING every
 *    repl-ping-replica-period seconds, and answer with REPLCONF ACK <offset>.
 *
 * Not yet here (see the replication issue): diskless sync, the sender worker processes
 * that will read the ring instead of copying it into each replica's output buffer, LZ4,
 * and the replica side (REPLICAOF). WAIT is here (REPLCONF GETACK * through the stream,
 * released by REPLCONF ACK or its timeout), and so is min-replicas-to-write: writes are refused
 * with -NOREPLICAS while fewer online replicas than that have ACKed within
 * min-replicas-max-lag seconds.
 */
import CSystem
import Glibc
import Keyspace
import Platform
import Replication

/// Where a replica is in its synchronization (Redis's SLAVE_STATE_*).
public enum ReplicaSyncState: Equatable {
    case waitBgsaveStart, waitBgsaveEnd, online

    var name: String {
        switch self {
        case .waitBgsaveStart: "wait_bgsave"
        case .waitBgsaveEnd: "wait_bgsave"
        case .online: "online"
        }
    }
}

/// What the master knows of one replica connection (the replica's own link to its master will
/// be ReplicaLink).
public struct AttachedReplica {
    var state: ReplicaSyncState = .waitBgsaveStart
    var listeningPort = 0
    var announcedIP = ""
    var ackOffset: Int64 = 0
    var ackMillis: Int64 = 0
    /// master_repl_offset its full sync's snapshot stands for.
    var syncOffset: Int64 = 0
}

/// The master's replication state.
public struct MasterReplication {
    var backlog: UnsafeMutablePointer<BacklogRing>? = nil
    var replicas: [ClientRef] = []
    var offset: Int64 = 0
    /// master_repl_offset at the fork of the running BGSAVE for sync, -1 when none.
    var syncForkOffset: Int64 = -1
    var lastPingMillis: Int64 = 0
    var syncFull: Int64 = 0
    var syncPartialOK: Int64 = 0
    var syncPartialErr: Int64 = 0
    /// Clients blocked in WAIT.
    var waitingClients = 0
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
            } else if opt.equalsLowercase("capa") || opt.equalsLowercase("rdb-only")
                || opt.equalsLowercase("rdb-filter-only")
            {
                // Capabilities: this master sends disk snapshots, which every replica accepts.
            } else if opt.equalsLowercase("ack") || opt.equalsLowercase("fack") {
                // Replicas are not answered for ACKs.
                if let o = value.int64, c.pointee.isReplica {
                    if o > c.pointee.replicaInfo.ackOffset { c.pointee.replicaInfo.ackOffset = o }
                    c.pointee.replicaInfo.ackMillis = Clock.unixMillis()
                    if master.waitingClients > 0 { serveWaitingClients() }
                }
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

    /// PSYNC <replid> <offset> and SYNC.
    mutating func syncCommand(_ c: ClientRef, psync: Bool) {
        if c.pointee.isReplica { return }
        if c.pointee.reply.pending > 0 || c.pointee.flags.contains(.multi) {
            addError(c, "-ERR SYNC and PSYNC are invalid with pending output\r\n")
            return
        }
        let peer = replicaName(c)
        Log.notice("Replica \(peer) asks for synchronization")
        createBacklogIfNeeded()
        if psync && tryPartialResync(c, peer) { return }
        if psync {
            let requested = c.pointee.arg(1)
            if !requested.equalsLowercase("?") {
                master.syncPartialErr += 1
                Log.notice("Partial resynchronization not accepted: Replication ID mismatch or offset out of range (Replica asked for '\(requested.string)')")
            }
        }
        master.syncFull += 1
        Log.notice("Full resync requested by replica \(peer)")
        c.pointee.isReplica = true
        c.pointee.replicaInfo = AttachedReplica(listeningPort: c.pointee.replicaInfo.listeningPort,
                                            announcedIP: c.pointee.replicaInfo.announcedIP)
        master.replicas.append(c)
        if hasActiveChild && master.syncForkOffset >= 0 {
            // Share the snapshot already being written for another replica.
            attachToSyncSnapshot(c, psync: psync)
        } else if !hasActiveChild {
            startSyncSnapshot()
        } else {
            Log.notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
        }
    }

    /// The replica's address as it announced it (REPLCONF ip-address) or as we see it.
    func replicaIP(_ c: ClientRef) -> String {
        if !c.pointee.replicaInfo.announcedIP.isEmpty { return c.pointee.replicaInfo.announcedIP }
        return c.pointee.address.split(separator: ":").dropLast().joined(separator: ":")
    }

    func replicaName(_ c: ClientRef) -> String { "\(replicaIP(c)):\(c.pointee.replicaInfo.listeningPort)" }

    mutating func tryPartialResync(_ c: ClientRef, _ peer: String) -> Bool {
        guard let ring = master.backlog, let offset = c.pointee.arg(2).int64 else { return false }
        let requested = c.pointee.arg(1)
        guard requested.string == replID && ring.pointee.contains(offset: offset) else { return false }
        c.pointee.isReplica = true
        c.pointee.replicaInfo.state = .online
        c.pointee.replicaInfo.ackMillis = Clock.unixMillis()
        master.replicas.append(c)
        c.pointee.reply.append("+CONTINUE \(replID)\r\n")
        let sent = appendBacklog(to: c, from: offset)
        master.syncPartialOK += 1
        queueWrite(c)
        Log.notice("Partial resynchronization request from \(peer) accepted. Sending \(sent) bytes of backlog starting from offset \(offset).")
        return true
    }

    // MARK: - Backlog and stream

    mutating func createBacklogIfNeeded() {
        if master.backlog != nil { return }
        // A new history: a replica must never continue an older one under this id.
        replID = Self.randomHex(40)
        do {
            let ring = try BacklogRing(capacity: max(16 * 1024, settings.replBacklogSize), replID: replID,
                                       startOffset: master.offset)
            let p = UnsafeMutablePointer<BacklogRing>.allocate(capacity: 1)
            p.initialize(to: ring)
            master.backlog = p
            propagationEnabled = true
            propagatedDB = -1
        } catch {
            Log.warning("Can't create the replication backlog: \(error)")
        }
    }

    /// Appends the ring's bytes from `offset` (the first byte wanted) to `c`'s output.
    @discardableResult
    mutating func appendBacklog(to c: ClientRef, from offset: Int64) -> Int {
        guard let ring = master.backlog else { return 0 }
        let n = ring.pointee.withChunks(from: offset) { a, b in
            c.pointee.reply.append(a)
            c.pointee.reply.append(b)
            return a.count + b.count
        }
        return n ?? 0
    }

    /// Called after bytes were added to `replicationStream`: moves them into the backlog and
    /// to every online replica.
    mutating func feedReplicationStream() {
        guard let ring = master.backlog, replicationStream.pending > 0, !replStreamRecording else { return }
        let bytes = ByteView(UnsafePointer(replicationStream.base + replicationStream.sent), replicationStream.pending)
        ring.pointee.append(bytes)
        master.offset += Int64(bytes.count)
        for r in master.replicas where r.pointee.replicaInfo.state == .online {
            r.pointee.reply.append(bytes)
            queueWrite(r)
        }
        replicationStream.clear()
    }

    // MARK: - Full sync

    mutating func startSyncSnapshot() {
        Log.notice("Starting BGSAVE for SYNC with target: disk")
        let forkOffset = master.offset
        // The stream after the fork must start with a SELECT: the replica knows nothing of the
        // database the stream had selected before (Redis resets slaveseldb the same way).
        propagatedDB = -1
        guard startBackgroundSave() else {
            for r in master.replicas where r.pointee.replicaInfo.state != .online { markClosing(r) }
            return
        }
        master.syncForkOffset = forkOffset
        for r in master.replicas where r.pointee.replicaInfo.state == .waitBgsaveStart {
            attachToSyncSnapshot(r, psync: true)
        }
    }

    mutating func attachToSyncSnapshot(_ c: ClientRef, psync: Bool) {
        c.pointee.replicaInfo.state = .waitBgsaveEnd
        c.pointee.replicaInfo.syncOffset = master.syncForkOffset
        if psync { c.pointee.reply.append("+FULLRESYNC \(replID) \(master.syncForkOffset)\r\n") }
        queueWrite(c)
    }

    /// After a background save ends: send the dump to the replicas that waited for it, and
    /// start another save for replicas that came too late for this one.
    mutating func syncSnapshotFinished(ok: Bool) {
        let forkOffset = master.syncForkOffset
        master.syncForkOffset = -1
        guard !master.replicas.isEmpty else { return }
        var dump: [UInt8]? = nil
        if ok && forkOffset >= 0 { dump = readDumpFile() }
        for r in master.replicas where r.pointee.replicaInfo.state == .waitBgsaveEnd {
            guard let dump else {
                Log.warning("SYNC failed. BGSAVE child returned an error")
                markClosing(r)
                continue
            }
            r.pointee.reply.append("$\(dump.count)\r\n")
            dump.withUnsafeBufferPointer { b in
                if b.count > 0 { r.pointee.reply.append(b.baseAddress!, b.count) }
            }
            // Writes made while the child ran, from the ring.
            appendBacklog(to: r, from: r.pointee.replicaInfo.syncOffset + 1)
            r.pointee.replicaInfo.state = .online
            r.pointee.replicaInfo.ackMillis = Clock.unixMillis()
            queueWrite(r)
            Log.notice("Synchronization with replica \(replicaName(r)) succeeded")
        }
        if master.replicas.contains(where: { $0.pointee.replicaInfo.state == .waitBgsaveStart }) {
            startSyncSnapshot()
        }
    }

    func readDumpFile() -> [UInt8]? {
        let fd = open(settings.dbfilename, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { return nil }
            done += n
        }
        return bytes
    }

    // MARK: - Cron and teardown

    /// Once per cron tick: PING online replicas every repl-ping-replica-period seconds (through
    /// the stream, so offsets move as Redis's do), newlines to replicas waiting for a snapshot.
    mutating func replicationCron() {
        guard master.backlog != nil, !master.replicas.isEmpty else { return }
        let now = Clock.unixMillis()
        // Online replicas that stopped acknowledging for repl-timeout seconds are dropped.
        let timeout = Int64(max(1, settings.replTimeout)) * 1000
        for r in master.replicas where r.pointee.replicaInfo.state == .online && now - r.pointee.replicaInfo.ackMillis > timeout {
            Log.warning("Disconnecting timedout replica (streaming sync): \(replicaName(r))")
            markClosing(r)
        }
        if now - master.lastPingMillis >= Int64(max(1, settings.replPingReplicaPeriod)) * 1000 {
            master.lastPingMillis = now
            replicationStream.append("*1\r\n$4\r\nPING\r\n" as StaticString)
            feedReplicationStream()
            for r in master.replicas where r.pointee.replicaInfo.state != .online {
                r.pointee.reply.append("\n" as StaticString)
                queueWrite(r)
            }
        }
    }

    /// Online replicas whose last ACK is at most min-replicas-max-lag seconds old (Redis's
    /// repl_good_slaves_count, computed when asked: replicas are few).
    func goodReplicaCount() -> Int {
        let now = Clock.unixMillis()
        let maxLag = Int64(settings.minReplicasMaxLag) * 1000
        var n = 0
        for r in master.replicas where r.pointee.replicaInfo.state == .online && now - r.pointee.replicaInfo.ackMillis <= maxLag {
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
            default: state = "connect"
            }
            c.pointee.reply.appendBulk(state)
            c.pointee.reply.appendInteger(link.offset)
            return
        }
        let online = master.replicas.filter { $0.pointee.replicaInfo.state == .online }
        c.pointee.reply.appendArrayHeader(3)
        c.pointee.reply.appendBulk("master")
        c.pointee.reply.appendInteger(master.offset)
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

    /// WAIT numreplicas timeout: blocks until `numreplicas` replicas acknowledged every write
    /// made so far, or `timeout` ms passed; answers how many did.
    mutating func waitCommand(_ c: ClientRef) {
        guard let wanted = c.pointee.arg(1).int64 else {
            addError(c, "-ERR value is not an integer or out of range\r\n")
            return
        }
        guard let timeout = parseMillisTimeout(c, c.pointee.arg(2)) else { return }
        let target = master.offset
        let acked = replicasAcknowledging(target)
        if Int64(acked) >= wanted || c.pointee.flags.contains(.multi) || inExec {
            c.pointee.reply.appendInteger(Int64(acked))
            return
        }
        blockClient(c, keys: [], timeoutAt: timeout == 0 ? 0 : Clock.unixMillis() + timeout, nullArray: false)
        c.pointee.block.isWait = true
        c.pointee.block.waitOffset = target
        c.pointee.block.waitReplicas = Int(min(wanted, Int64(Int.max)))
        master.waitingClients += 1
        // Ask every replica for its offset now (through the stream, as Redis does).
        replicationStream.append("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n" as StaticString)
        feedReplicationStream()
    }

    /// Replicas whose acknowledged offset has reached `offset`.
    func replicasAcknowledging(_ offset: Int64) -> Int {
        master.replicas.reduce(0) { $0 + ($1.pointee.replicaInfo.ackOffset >= offset ? 1 : 0) }
    }

    /// After an ACK: release WAITing clients whose condition now holds.
    mutating func serveWaitingClients() {
        for w in allClients() where w.pointee.flags.contains(.blocked) && w.pointee.block.isWait {
            let acked = replicasAcknowledging(w.pointee.block.waitOffset)
            if acked >= w.pointee.block.waitReplicas {
                w.pointee.reply.appendInteger(Int64(acked))
                unblockClient(w)
                queueWrite(w)
                resumeAfterUnblock(w)
            }
        }
    }

    /// A replica connection is going away.
    mutating func forgetReplica(_ c: ClientRef) {
        guard c.pointee.isReplica else { return }
        master.replicas.removeAll { $0 == c }
        Log.notice("Connection with replica \(replicaName(c)) lost.")
    }

    /// INFO replication for a master.
    func masterReplicationFields() -> [(String, String)] {
        var f: [(String, String)] = [("role", "master"), ("connected_slaves", "\(master.replicas.count)")]
        if settings.minReplicasToWrite > 0 && settings.minReplicasMaxLag > 0 {
            f.append(("min_slaves_good_slaves", "\(goodReplicaCount())"))
        }
        let now = Clock.unixMillis()
        for (i, r) in master.replicas.enumerated() {
            let l = r.pointee.replicaInfo
            let ip = replicaIP(r)
            let lag = l.ackMillis > 0 ? (now - l.ackMillis) / 1000 : 0
            f.append(("slave\(i)", "ip=\(ip),port=\(l.listeningPort),state=\(l.state.name),offset=\(l.ackOffset),lag=\(lag)"))
        }
        let ring = master.backlog
        f += [
            ("master_failover_state", "no-failover"), ("master_replid", replID),
            ("master_replid2", String(repeating: "0", count: 40)), ("master_repl_offset", "\(master.offset)"),
            ("second_repl_offset", "-1"), ("repl_backlog_active", ring == nil ? "0" : "1"),
            ("repl_backlog_size", "\(settings.replBacklogSize)"),
            ("repl_backlog_first_byte_offset", "\(ring.map { $0.pointee.firstByteOffset } ?? 0)"),
            ("repl_backlog_histlen", "\(ring.map { $0.pointee.histlen } ?? 0)"),
        ]
        return f
    }
}
