/*
 * ReplicaLink: this server as a replica of another — Redis's replication.c, replica side.
 *
 *  - REPLICAOF host port (or `replicaof` in the config) arms the link; the cron connects
 *    (retrying every second) and runs the handshake from the event loop (ReplicaHandshake.swift):
 *    PING, AUTH when masterauth is set,
 *    REPLCONF listening-port and capa eof psync2 (tandem-lz4, tandem-lz4-rdb to a Tandem master), PSYNC <replid> <offset+1> (our history, which
 *    is the master's: see ReplicationState.swift) or PSYNC ? -1 when we have none.
 *  - +FULLRESYNC: the payload — `$<len>` (disk) or `$EOF:<mark>` ... `<mark>` (diskless) — is
 *    read from the event loop into a temp file (newline keep-alives skipped), renamed over
 *    dbfilename, and loaded after the old data is flushed (and our own replicas dropped:
 *    they must follow the new history); then the socket becomes the "master client" whose
 *    commands are executed without replies. +CONTINUE: the socket becomes the master client
 *    at once; +CONTINUE <other id> means our master was promoted, so our history shifts.
 *  - Every command the master client runs is appended, as received, to our backlog and to
 *    our own replicas (chained replication), and advances master_repl_offset; REPLCONF ACK
 *    <offset> goes back every second and on REPLCONF GETACK.
 *  - When the link drops, the history is kept (Redis's cached master) so the next connection
 *    asks for a partial resync; a master turned replica asks to continue its own history,
 *    and a restarted replica the one recorded in its RDB.
 *  - Writes from normal clients get -READONLY (replica-read-only yes); keys are never
 *    expired here, only hidden: the master's DEL does it (KeyAccess.expiresLocally).
 *
 * A master silent for repl-timeout seconds (it PINGs every repl-ping-replica-period) is
 * dropped and reconnected to.
 *
 * With replica-serve-stale-data no, commands not flagged `stale` get -MASTERDOWN while the
 * link is not up.
 *
 * REPLICAOF NO ONE promotes: the history shifts to replid2 so the other replicas of the old
 * master can continue from us.
 *
 * repl-diskless-load swapdb / on-empty-db parse the payload straight from the socket
 * (loadFromSocket, through the link's TLS session on a TLS link); swapdb keeps the old
 * dataset until the new one loaded.
 */
import CTandem
import Glibc
import Keyspace
import Persistence
import Platform
import Replication

/// Where the link to the master is (Redis's repl_state, with the handshake steps folded into
/// `handshake`; ReplicaHandshake.swift has the diagram).
enum LinkState: Equatable { case none, connect, connecting, handshake, transfer, connected }

struct ReplicaLink {
    var state: LinkState = .none
    var host = ""
    public var port = 0
    /// The socket during the snapshot transfer (then owned by the master client).
    var fd: Int32 = -1
    /// The link's TLS session (tls-replication yes), until the master client takes it over.
    var tls: UnsafeMutableRawPointer? = nil
    var tlsHandshaking = false
    /// The id and offset of a +FULLRESYNC: our history once its snapshot is loaded.
    var fullSyncReplID = ""
    var fullSyncOffset: Int64 = 0
    /// We hold a history the master may continue (PSYNC <replid> <offset+1>).
    var hasCachedMaster = false
    /// The database the master's stream has selected (kept across reconnections; a snapshot's
    /// repl-stream-db sets it).
    var masterDB = 0
    /// A diskless payload ends with these 40 bytes; `tail` holds the last bytes received.
    var eofMark: [UInt8] = []
    var tail: [UInt8] = []
    var transferSize: Int64 = -1
    var transferRead: Int64 = 0
    var tempFD: Int32 = -1
    var tempName = ""
    var headerLine: [UInt8] = []
    var masterClient: ClientRef? = nil
    var lastIOMillis: Int64 = 0
    var downSinceMillis: Int64 = 0
    /// When the master client was marked for closing (CLIENT KILL, an error): the link is down
    /// from then, not from when the loop frees it (a DEBUG SLEEP may come in between).
    var masterClosingMillis: Int64 = 0
    var lastAckMillis: Int64 = 0
    /// The offset our last REPLCONF ACK carried.
    var ackedOffset: Int64 = 0
    /// An ACK the socket took only part of, and how much of it went out: the rest goes first,
    /// byte for byte (a TLS session must be handed the same bytes again after WANT_WRITE).
    var pendingAck: [UInt8] = []
    var pendingAckSent = 0
    var nextConnectMillis: Int64 = 0
    var reconnectNow = false
    /// The reconnection follows a failed transfer (logged "after failure", as Redis).
    var reconnectAfterFailure = false
    /// The handshake must be over by then (repl-timeout), and the replies it still expects.
    var handshakeDeadlineMillis: Int64 = 0
    var expectedReplies: [HandshakeReply] = []
    /// The master agreed to send the stream as LZ4 frames; the reader that undoes them, and its
    /// totals (compressed in, plain out) for INFO.
    var lz4Negotiated = false
    /// The snapshot payload itself comes as an LZ4 frame (+FULLRESYNC ... tandem-lz4-rdb): its
    /// decompressor, for the transfer only.
    var payloadReader: UnsafeMutablePointer<LZ4FrameReader>? = nil
    /// Bytes of that frame read so far (0: only keep-alive newlines yet).
    var payloadFrameBytes: Int64 = 0
    var lz4Reader: UnsafeMutablePointer<LZ4FrameReader>? = nil
    var lz4BytesIn: Int64 = 0
    var lz4BytesOut: Int64 = 0
}

extension Server {
    static let linkBit: UInt64 = 1 << 41

    var isReplicaNode: Bool { link.state != .none }

    // MARK: - REPLICAOF

    mutating func replicaofCommand(_ c: ClientRef) {
        if cluster.enabled {
            addError(c, "-ERR REPLICAOF not allowed in cluster mode.\r\n")
            return
        }
        let host = c.pointee.arg(1), portArg = c.pointee.arg(2)
        if host.equalsLowercase("no") && portArg.equalsLowercase("one") {
            if isReplicaNode {
                promoteToMaster()
                Log.notice("MASTER MODE enabled (user request from '\(clientDescription(c))')")
                applyOOMScoreAdj()
            }
            addOK(c)
            return
        }
        guard let port = portArg.int64, port >= 0, port <= 65535 else {
            addError(c, "-ERR Invalid master port\r\n")
            return
        }
        if isReplicaNode && link.host == host.string && link.port == Int(port) {
            c.pointee.reply.appendStatus("OK Already connected to specified master")
            return
        }
        startReplication(host: host.string, port: Int(port))
        Log.notice("REPLICAOF \(host.string):\(port) enabled (user request from '\(clientDescription(c))')")
        applyOOMScoreAdj()
        addOK(c)
    }

    /// REPLICAOF NO ONE: keep the data and the history (as replid2), start a new id; our own
    /// replicas reconnect and continue from us with a partial resync.
    mutating func promoteToMaster() {
        dropMasterLink()
        link = ReplicaLink()
        settings.replicaOf = nil
        Log.role = "M"
        shiftReplicationID()
        disconnectReplicas()
        if repl.backlog == nil { createBacklog() }
        // The stream we now write ourselves starts with a SELECT (Redis resets slaveseldb); with
        // the AOF on, propagation was on already and would not reset it.
        propagatedDB = -1
        updatePropagation()
        restartAppendOnlyAfterSync()
    }

    /// Arms the link to `host:port`; the cron connects. A master turning replica offers its own
    /// history to the new master (Redis's replicationCacheMasterUsingMyself), so a demoted
    /// master can continue from its promoted replica; `atStartUp` (replicaof in the config)
    /// offers only a history loaded from the RDB.
    public mutating func startReplication(host: String, port: Int, atStartUp: Bool = false) {
        let wasMaster = !isReplicaNode
        dropMasterLink()
        if wasMaster { disconnectBlockedClients() }
        if wasMaster && !atStartUp {
            link.hasCachedMaster = true
            link.masterDB = 0
        }
        link.host = host
        link.port = port
        link.state = .connect
        link.nextConnectMillis = 0
        link.downSinceMillis = Clock.unixMillis()
        settings.replicaOf = (host, port)
        Log.role = "S"
        updatePropagation()
    }

    /// A master turning replica fails its blocked clients (a BLPOP must not pop what the new
    /// master's stream pushes), as Redis's disconnectAllBlockedClients does.
    mutating func disconnectBlockedClients() {
        for c in allClients() where c.pointee.flags.contains(.blocked) {
            addErrorString(c, "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)")
            countUnblockedCall(c, failed: true)
            unblockClient(c)
            c.pointee.flags.insert(.closeAfterReply)
            queueWrite(c)
        }
    }

    /// Closes the master client or the transfer socket; keeps replid and offset cached.
    mutating func dropMasterLink() {
        if let m = link.masterClient {
            // The database its stream had selected goes with the cached history: a partial
            // resync continues the stream where it left off, without a new SELECT.
            link.masterDB = m.pointee.db
            link.masterClient = nil
            markClosing(m)
        }
        if link.fd >= 0 {
            loop.remove(link.fd)
            closeLinkSocket(link.fd)
            link.fd = -1
        }
        if link.tempFD >= 0 {
            close(link.tempFD)
            unlink(link.tempName)
            link.tempFD = -1
        }
        freePayloadReader()
    }

    // MARK: - Connecting and the handshake

    mutating func replicaCron() {
        guard isReplicaNode else { return }
        let now = Clock.unixMillis()
        checkHandshakeTimeout(now)
        if link.state == .connect && now >= link.nextConnectMillis {
            link.nextConnectMillis = now + 1000
            connectToMaster()
        }
        // repl-timeout: a master that sends nothing (not even its periodic PING) is gone.
        let timeout = Int64(max(1, settings.replTimeout)) * 1000
        if (link.state == .connected || link.state == .transfer) && now - link.lastIOMillis > timeout {
            Log.warning(link.state == .transfer ? "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
                        : "MASTER timeout: no data nor PING received...")
            dropMasterLink()
            link.state = .connect
            link.downSinceMillis = now
            return
        }
        if link.state == .connected, let m = link.masterClient, now - link.lastAckMillis >= 1000 {
            link.lastAckMillis = now
            sendAck(m.pointee.fd)
        }
    }

    // MARK: - The snapshot transfer

    /// Readable event on the transfer socket.
    mutating func readSyncPayload() {
        guard link.state == .transfer, link.fd >= 0 else { return }
        link.lastIOMillis = Clock.unixMillis()
        if link.payloadReader != nil {
            readCompressedPayload()
            return
        }
        if link.transferSize < 0 {
            var byte: UInt8 = 0
            while true {
                let n = linkRead(link.fd, into: &byte, count: 1)
                if n == -1 { return }
                if n <= 0 {
                    transferFailed("I/O error reading bulk count from MASTER")
                    return
                }
                if byte != 10 {
                    link.headerLine.append(byte)
                    continue
                }
                if link.headerLine.isEmpty || link.headerLine == [13] {
                    link.headerLine = []
                    continue  // keep-alive
                }
                let line = String(decoding: link.headerLine.filter { $0 != 13 }, as: UTF8.self)
                link.headerLine = []
                if line.hasPrefix("-") {
                    transferFailed("MASTER aborted replication with an error: \(line.dropFirst())")
                    return
                }
                var size: Int64 = 0
                if line.hasPrefix("$EOF:") && line.utf8.count == 45 {
                    link.eofMark = Array(line.utf8.dropFirst(5))
                } else if line.hasPrefix("$"), let n = Int64(line.dropFirst()), n >= 0 {
                    size = n
                } else {
                    transferFailed("Bad protocol from MASTER, the first byte is not '$' (we received '\(line)')")
                    return
                }
                link.transferSize = link.eofMark.isEmpty ? size : 0
                if loadsFromSocket {
                    loadFromSocket()
                    return
                }
                guard openTransferFile() else { return }
                if link.eofMark.isEmpty {
                    Log.notice("MASTER <-> REPLICA sync: receiving \(size) bytes from master to disk")
                } else {
                    Log.notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
                }
                break
            }
        }
        if !link.eofMark.isEmpty {
            readStreamedPayload()
            return
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while link.transferRead < link.transferSize {
            let want = Int(min(Int64(buffer.count), link.transferSize - link.transferRead))
            guard receivePayloadChunk(&buffer, max: want) != nil else { return }
        }
        finishTransfer()
    }

    /// The temp file a payload is received into; false (logged, link reset) when it can't be made.
    mutating func openTransferFile() -> Bool {
        link.tempName = "temp-\(Clock.unixMillis() / 1000).\(getpid()).rdb"
        link.tempFD = open(link.tempName, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if link.tempFD < 0 {
            transferFailed("Opening the temp file needed for MASTER <-> REPLICA synchronization: \(String(cString: strerror(errno)))")
            return false
        }
        return true
    }

    /// A payload sent as one LZ4 frame (+FULLRESYNC ... tandem-lz4-rdb, disk or diskless): the
    /// plain bytes are the `$EOF:<mark>` line, the dump and the mark, handled as in the plain case.
    /// Nothing follows the frame until our first ACK, so every byte read belongs to it.
    mutating func readCompressedPayload() {
        guard let reader = link.payloadReader else { return }
        let input = reader.pointee.input
        while link.state == .transfer && link.payloadReader != nil {
            let n = linkRead(link.fd, into: input.baseAddress!, count: input.count)
            if n == -1 { return }
            if n <= 0 {
                transferFailed("I/O error trying to sync with MASTER: connection lost")
                return
            }
            // A disk sync's master sends keep-alive newlines until the frame starts (an LZ4
            // frame's first byte is never '\n').
            var start = 0
            if link.payloadFrameBytes == 0 {
                let bytes = UnsafeRawBufferPointer(start: input.baseAddress!, count: n)
                while start < n && bytes[start] == 10 { start += 1 }
                if start == n { continue }
            }
            link.payloadFrameBytes += Int64(n - start)
            var plain: [UInt8] = []
            do {
                try reader.pointee.read(input.baseAddress! + start, n - start) { p, count in
                    plain.append(contentsOf: UnsafeRawBufferPointer(start: p, count: count))
                }
            } catch {
                transferFailed("Damaged LZ4 payload from MASTER (\(error.message))")
                return
            }
            link.lz4BytesIn += Int64(n)
            link.lz4BytesOut += Int64(plain.count)
            if !takePlainPayload(plain) { return }
            // The end mark is in: wait for the frame's own end (its last bytes may come in a
            // later read) so the stream's first frame starts clean.
            if link.tail == link.eofMark && reader.pointee.atFrameEnd {
                freePayloadReader()
                finishTransfer()
                return
            }
        }
    }

    /// Decompressed payload bytes: the header line first, then into the temp file up to the end
    /// mark (`link.tail` then equals it). False when the transfer failed.
    mutating func takePlainPayload(_ bytes: [UInt8]) -> Bool {
        var i = 0
        while link.tempFD < 0 && i < bytes.count {
            let b = bytes[i]
            i += 1
            if b != 10 {
                link.headerLine.append(b)
                if link.headerLine.count <= 4096 { continue }
            }
            let line = String(decoding: link.headerLine.filter { $0 != 13 }, as: UTF8.self)
            link.headerLine = []
            if line.isEmpty { continue }
            guard line.hasPrefix("$EOF:") && line.utf8.count == 45 else {
                transferFailed("Bad protocol from MASTER, the first byte is not '$' (we received '\(line.prefix(64))')")
                return false
            }
            link.eofMark = Array(line.utf8.dropFirst(5))
            link.transferSize = 0
            guard openTransferFile() else { return false }
            Log.notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk (LZ4)")
        }
        if i >= bytes.count { return true }
        let n = bytes.count - i
        let written = bytes.withUnsafeBytes { FileDescriptor.writeAll(link.tempFD, UnsafeRawBufferPointer(rebasing: $0[i...])) }
        if !written {
            transferFailed("Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization")
            return false
        }
        link.transferRead += Int64(n)
        link.tail.append(contentsOf: bytes[max(i, bytes.count - 40)...])
        if link.tail.count > 40 { link.tail.removeFirst(link.tail.count - 40) }
        if link.tail == link.eofMark {
            link.transferSize = link.transferRead - 40
            if ftruncate(link.tempFD, off_t(link.transferSize)) != 0 {
                transferFailed("Error truncating the RDB file received from the master for SYNC: \(String(cString: strerror(errno)))")
                return false
            }
        }
        return true
    }

    /// A diskless payload: everything up to the 40-byte end mark goes to the temp file.
    mutating func readStreamedPayload() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while let n = receivePayloadChunk(&buffer, max: buffer.count) {
            link.tail.append(contentsOf: buffer[max(0, n - 40)..<n])
            if link.tail.count > 40 { link.tail.removeFirst(link.tail.count - 40) }
            if link.tail == link.eofMark {
                // The mark is not part of the dump.
                link.transferSize = link.transferRead - 40
                if ftruncate(link.tempFD, off_t(link.transferSize)) != 0 {
                    transferFailed("Error truncating the RDB file received from the master for SYNC: \(String(cString: strerror(errno)))")
                    return
                }
                finishTransfer()
                return
            }
        }
    }

    /// Reads up to `max` payload bytes from the master into the temp file. Returns the count, or
    /// nil when the socket has nothing more for now or the transfer failed (then it is logged
    /// and the link reset).
    mutating func receivePayloadChunk(_ buffer: inout [UInt8], max: Int) -> Int? {
        let n = buffer.withUnsafeMutableBytes { linkRead(link.fd, into: $0.baseAddress!, count: max) }
        if n == -1 { return nil }
        if n <= 0 {
            transferFailed("I/O error trying to sync with MASTER: connection lost")
            return nil
        }
        let written = buffer.withUnsafeBytes { FileDescriptor.writeAll(link.tempFD, UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        if !written {
            transferFailed("Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization")
            return nil
        }
        link.transferRead += Int64(n)
        return n
    }

    mutating func transferFailed(_ why: String) {
        Log.warning(why)
        freePayloadReader()
        dropMasterLink()
        reconnectAfterFailedTransfer()
    }

    /// A transfer or load that failed tries again at once rather than at the next cron tick, as
    /// Redis's cancelReplicationHandshake(reconnect) does (from beforeSleep, out of the handler).
    mutating func reconnectAfterFailedTransfer() {
        // The AOF stays off after a failed load, as Redis: a rewrite now would replace the last
        // good files with a partial dataset. A later full sync or a promotion restarts it.
        link.state = .connect
        link.reconnectNow = true
        link.reconnectAfterFailure = true
    }

    /// The whole snapshot is on disk: replace the dataset with it, then follow the stream.
    mutating func finishTransfer() {
        fsync(link.tempFD)
        close(link.tempFD)
        link.tempFD = -1
        let fd = link.fd
        loop.remove(fd)
        link.fd = -1
        if rename(link.tempName, settings.dbfilename) != 0 {
            unlink(link.tempName)
            Log.warning("Failed trying to rename the temp DB into \(settings.dbfilename) in MASTER <-> REPLICA synchronization")
            closeLinkSocket(fd)
            link.state = .connect
            return
        }
        prepareForNewHistory()
        Log.notice("MASTER <-> REPLICA sync: Flushing old data")
        for i in 0..<dbCount { dbs[i].removeAll(lazily: settings.replicaLazyFlush) }
        trackingInvalidateAll()
        Log.notice("MASTER <-> REPLICA sync: Loading DB in memory")
        let file = open(settings.dbfilename, O_RDONLY | O_CLOEXEC)
        let result = loadSnapshot(fd: file, size: link.transferSize, discardExpired: false, serveClients: true)
        if file >= 0 { close(file) }
        switch result {
        case .failure(let error):
            Log.warning("Failed trying to load the MASTER synchronization DB from disk: \(error)")
            closeLinkSocket(fd)
            reconnectAfterFailedTransfer()
            return
        case .success(let summary):
            adoptMasterHistory(summary)
        }
        if deletesSyncFiles {
            Log.notice("Removing the RDB file obtained from the master. This replica has persistence disabled")
            unlink(settings.dbfilename)
        }
        Log.notice("MASTER <-> REPLICA sync: Finished with success")
        becomeConnected(fd)
    }

    /// Before the dataset is replaced: our replicas must follow the new history (a snapshot of
    /// the old one is useless), and the old history can no longer be continued.
    mutating func prepareForNewHistory() {
        killSnapshotChild()
        // The AOF restarts from the new dataset (a rewrite) once it is loaded, as Redis's
        // restartAOFAfterSYNC.
        if aof.status != .off { stopAppendOnly() }
        disconnectReplicas()
        link.hasCachedMaster = false
    }

    /// After a full sync's snapshot is loaded: the master's history is ours now.
    mutating func adoptMasterHistory(_ summary: RDBLoadSummary) {
        link.masterDB = summary.replStreamDB.map { $0 >= 0 && $0 < dbCount ? $0 : 0 } ?? 0
        repl.replID = link.fullSyncReplID
        repl.offset = link.fullSyncOffset
        clearReplicationID2()
        resetBacklog()
        restartAppendOnlyAfterSync()
    }

    /// After a full sync's load, or a promotion: the AOF stopped for the sync starts again, from
    /// a rewrite of the dataset now in memory.
    mutating func restartAppendOnlyAfterSync() {
        if settings.appendonly && aof.status == .off && !startAppendOnly() {
            Log.warning("Failed to enable AOF! It will be retried when the AOF is next enabled.")
        }
    }

    // MARK: - Diskless load

    /// repl-diskless-load: swapdb always parses the payload from the socket; on-empty-db only
    /// when there is nothing to lose.
    var loadsFromSocket: Bool {
        switch settings.replDisklessLoad {
        case "swapdb": return true
        case "on-empty-db": return (0..<dbCount).allSatisfy { dbs[$0].count == 0 }
        default: return false
        }
    }

    /// Parses the snapshot straight from the master's socket. With swapdb it fills a fresh set
    /// of databases and keeps the old data until the load succeeds; otherwise (the dataset is
    /// empty) it loads in place. The socket is read in blocking mode with repl-timeout as the
    /// limit; clients get -LOADING meanwhile, as with a disk load.
    mutating func loadFromSocket() {
        let fd = link.fd
        loop.remove(fd)
        link.fd = -1
        Log.notice(link.eofMark.isEmpty ? "MASTER <-> REPLICA sync: receiving \(link.transferSize) bytes from master to parser"
                   : "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to parser")
        prepareForNewHistory()
        let intoFreshSet = settings.replDisklessLoad == "swapdb"
        let target = intoFreshSet ? UnsafeMutablePointer<Database>.allocate(capacity: dbCount) : dbs
        if intoFreshSet {
            let seed = Self.randomSeed()
            for i in 0..<dbCount { (target + i).initialize(to: Database(id: i, seed: seed)) }
        }
        Log.notice("MASTER <-> REPLICA sync: Loading DB in memory")
        // Through the link's TLS session when it has one: it stays in `link.tls` (the socket
        // is out of the loop, so nothing else reads it) until becomeConnected hands it on.
        let session = link.tls
        var input = RDBInput(fd: fd, limit: link.eofMark.isEmpty ? link.transferSize : -1,
                             readingWith: session.map { conn in { Self.tlsRead(conn, into: $0, count: $1, logging: "TLS error loading from MASTER: ") } })
        input.timeoutMillis = Int32(clamping: max(1, settings.replTimeout) * 1000)
        // Async loading: the old data is an earlier point of the same history (the master's
        // replication id is ours), so clients keep reading it until the new set is complete.
        let async = intoFreshSet && link.fullSyncReplID == repl.replID
        if async { Log.notice("MASTER <-> REPLICA sync: Loading the new dataset in the background (async loading)") }
        var result = loadSnapshot(from: &input, into: target, size: link.transferSize, discardExpired: false, serveClients: true,
                                  async: async)
        if case .success = result, !link.eofMark.isEmpty, !readEndMark(fd, &input) {
            for i in 0..<dbCount { target[i].removeAll() }
            result = .failure(RDBError("the payload did not end with the EOF mark", offset: input.offset))
        }
        if intoFreshSet {
            if case .success = result {
                Log.notice("MASTER <-> REPLICA sync: Discarding previously loaded data")
                for i in 0..<dbCount { swap(&dbs[i], &target[i]) }
                trackingInvalidateAll()
            }
            for i in 0..<dbCount { target[i].removeAll(lazily: settings.replicaLazyFlush) }
            target.deinitialize(count: dbCount)
            target.deallocate()
        }
        switch result {
        case .failure(let error):
            // Redis's rdbReportError wording for diskless loading: a short read is a lost
            // connection (resume and sync again), anything else a corrupt payload.
            let shortRead = error.message.hasPrefix("Unexpected EOF") || error.message.hasPrefix("Timeout reading")
            Log.warning("Internal error in RDB reading offset \(error.offset), function at rdb.c:0 -> \(error.message). "
                        + (shortRead ? "Failure loading rdb format from socket, assuming connection error, resuming operation."
                                     : "Failure loading rdb format"))
            Log.warning("Failed trying to load the MASTER synchronization DB from socket: \(error)")
            if intoFreshSet { Log.notice("MASTER <-> REPLICA sync: the previous dataset is kept") }
            closeLinkSocket(fd)
            reconnectAfterFailedTransfer()
            return
        case .success(let summary):
            adoptMasterHistory(summary)
        }
        Log.notice("MASTER <-> REPLICA sync: Finished with success")
        becomeConnected(fd)
    }

    /// After a diskless payload's RDB: the 40-byte mark, partly read ahead by the loader.
    func readEndMark(_ fd: Int32, _ input: inout RDBInput) -> Bool {
        var got = input.takeBuffered()
        var byte: UInt8 = 0
        while got.count < 40 {
            // Read before polling: a TLS session may already hold the bytes.
            let n = linkRead(fd, into: &byte, count: 1)
            if n == 1 {
                got.append(byte)
                continue
            }
            if n != -1 { return false }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, Int32(clamping: max(1, settings.replTimeout) * 1000)) == 0 { return false }
        }
        return got == link.eofMark
    }

    /// The socket is now the master client: its commands run without replies.
    mutating func becomeConnected(_ fd: Int32) {
        let m = Client.create(fd: fd, id: nextClientID, address: "\(link.host):\(link.port)",
                              localAddress: Socket.localAddress(fd), isLoopback: true, authenticated: true,
                              now: Clock.unixMillis())
        nextClientID += 1
        m.pointee.isMaster = true
        m.pointee.tlsConnection = link.tls
        link.tls = nil
        m.pointee.db = link.masterDB
        link.pendingAck.removeAll()
        link.pendingAckSent = 0
        freeLZ4Reader()
        if link.lz4Negotiated {
            Log.notice("MASTER <-> REPLICA sync: the master sends the stream as LZ4 frames (tandem-lz4)")
            let r = UnsafeMutablePointer<LZ4FrameReader>.allocate(capacity: 1)
            r.initialize(to: LZ4FrameReader())
            link.lz4Reader = r
        }
        m.pointee.flags.insert(.replyOff)
        registerClient(m)
        try? loop.add(fd, events: EventLoop.readable, token: UInt64(UInt32(bitPattern: fd)))
        link.masterClient = m
        link.masterClosingMillis = 0
        link.state = .connected
        link.lastIOMillis = Clock.unixMillis()
        link.downSinceMillis = 0
        link.hasCachedMaster = true
        sendAck(fd)
        // Commands may already be buffered in the socket.
        readFromClient(m)
    }

    /// REPLCONF ACK with our offset. The socket only carries ACKs this way, so it nearly always
    /// takes one whole; when it does not, the rest is kept and goes out before any newer ACK
    /// (which waits for the next tick): a torn command would break the master's parser, and a
    /// TLS record abandoned half way the session.
    mutating func sendAck(_ fd: Int32) {
        if !link.pendingAck.isEmpty && !flushPendingAck(fd) { return }
        link.ackedOffset = repl.offset
        let off = String(repl.offset)
        link.pendingAck = Array("*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$\(off.utf8.count)\r\n\(off)\r\n".utf8)
        link.pendingAckSent = 0
        _ = flushPendingAck(fd)
    }

    /// Writes what is left of the pending ACK; true once all of it went out. An error is left
    /// to the read side, which sees the connection close.
    mutating func flushPendingAck(_ fd: Int32) -> Bool {
        while link.pendingAckSent < link.pendingAck.count {
            let n = link.pendingAck.withUnsafeBytes {
                linkWrite(fd, from: $0.baseAddress! + link.pendingAckSent, count: $0.count - link.pendingAckSent)
            }
            if n <= 0 { return false }
            link.pendingAckSent += n
        }
        link.pendingAck.removeAll(keepingCapacity: true)
        link.pendingAckSent = 0
        return true
    }

    /// After applying what the master sent: once a burst is applied (the socket drained, the
    /// query buffer empty) and it moved us 16 KB past our last ACK, acknowledge at once rather
    /// than at the next second. The master then releases that part of its replication buffer
    /// (it keeps bytes until replicas acknowledge them, decision 14) and WAIT answers sooner.
    mutating func acknowledgeBurst(_ c: ClientRef, drained: Bool) {
        guard drained, c.pointee.queryStart == c.pointee.queryEnd, repl.offset - link.ackedOffset >= 16 * 1024 else { return }
        sendAck(c.pointee.fd)
    }

    /// The master client is going away: keep replid and offset for a partial resync.
    mutating func masterLinkLost(_ c: ClientRef) {
        guard c.pointee.isMaster, link.masterClient == c else { return }
        link.masterClient = nil
        link.masterDB = c.pointee.db
        freeLZ4Reader()
        Log.notice("Connection with master lost.")
        Log.notice("Caching the disconnected master state.")
        if link.state == .connected {
            link.state = .connect
            link.downSinceMillis = link.masterClosingMillis != 0 ? link.masterClosingMillis : Clock.unixMillis()
            link.masterClosingMillis = 0
            // Reconnect at once rather than at the next cron tick: the backlog may be recycled
            // meanwhile (Redis 7 does the same).
            link.nextConnectMillis = 0
            link.reconnectNow = true
        }
    }

    mutating func freePayloadReader() {
        guard let r = link.payloadReader else { return }
        r.deinitialize(count: 1)
        r.deallocate()
        link.payloadReader = nil
    }

    mutating func freeLZ4Reader() {
        guard let r = link.lz4Reader else { return }
        link.lz4BytesIn += r.pointee.bytesIn
        link.lz4BytesOut += r.pointee.bytesOut
        r.deinitialize(count: 1)
        r.deallocate()
        link.lz4Reader = nil
    }

    /// Reads LZ4 frames from the master and puts the plain stream in the master client's query
    /// buffer (then parsed as usual). Returns the bytes read (0 at EOF, -1 would block, -2 error
    /// or a damaged stream).
    mutating func readCompressedFromMaster(_ c: ClientRef, _ reader: UnsafeMutablePointer<LZ4FrameReader>) -> Int {
        let input = reader.pointee.input
        let n = c.pointee.tlsConnection.map { Self.tlsRead($0, into: input.baseAddress!, count: input.count) }
            ?? Socket.read(c.pointee.fd, into: input.baseAddress!, count: input.count)
        if n <= 0 { return n }
        do {
            try reader.pointee.read(input.baseAddress!, n) { p, count in
                c.pointee.reserveQuery(count)
                memcpy(c.pointee.query + c.pointee.queryEnd, p, count)
                c.pointee.queryEnd += count
            }
        } catch {
            Log.warning("Damaged LZ4 stream from MASTER (\(error.message)); dropping the link")
            return -2
        }
        return n
    }

    /// From beforeSleep: the reconnection a lost link asked for.
    mutating func reconnectIfLinkLost() {
        guard link.reconnectNow else { return }
        link.reconnectNow = false
        let afterFailure = link.reconnectAfterFailure
        link.reconnectAfterFailure = false
        if link.state == .connect {
            Log.notice("Reconnecting to MASTER \(link.host):\(link.port)" + (afterFailure ? " after failure" : ""))
            link.nextConnectMillis = Clock.unixMillis() + 1000
            connectToMaster()
        }
    }

    /// INFO replication's replica fields (the role's head; ReplicationMaster adds the rest).
    func replicaLinkFields() -> [(String, String)] {
        let now = Clock.unixMillis()
        let up = link.state == .connected
        var f: [(String, String)] = [
            ("role", "slave"), ("master_host", link.host), ("master_port", "\(link.port)"),
            ("master_link_status", up ? "up" : "down"),
            ("master_last_io_seconds_ago", up ? "\((now - link.lastIOMillis) / 1000)" : "-1"),
            ("master_sync_in_progress", link.state == .transfer ? "1" : "0"),
            // Read: applied plus what waits in the master client's buffer (CLIENT PAUSE holds
            // the master's writes too, as in Redis 7.0).
            ("slave_read_repl_offset", "\(repl.offset + Int64(link.masterClient.map { $0.pointee.queryEnd - $0.pointee.queryStart } ?? 0))"),
            ("slave_repl_offset", "\(repl.offset)"),
        ]
        if link.state == .transfer {
            f += [("master_sync_total_bytes", "\(link.eofMark.isEmpty ? link.transferSize : -1)"),
                  ("master_sync_read_bytes", "\(link.transferRead)"),
                  ("master_sync_left_bytes", "\(link.eofMark.isEmpty ? max(0, link.transferSize - link.transferRead) : -1)"),
                  ("master_sync_perc", String(format2: link.eofMark.isEmpty && link.transferSize > 0 ? Double(link.transferRead) * 100 / Double(link.transferSize) : 0)),
                  ("master_sync_last_io_seconds_ago", "\((now - link.lastIOMillis) / 1000)")]
        }
        if !up { f.append(("master_link_down_since_seconds", "\(link.downSinceMillis > 0 ? (now - link.downSinceMillis) / 1000 : -1)")) }
        f += [
            ("slave_priority", "\(settings.replicaPriority)"), ("slave_read_only", settings.replicaReadOnly ? "1" : "0"),
            ("replica_announced", settings.replicaAnnounced ? "1" : "0"),
        ]
        return f
    }
}
