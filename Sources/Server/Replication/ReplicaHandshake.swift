/*
 * ReplicaHandshake: how a replica connects to its master without ever blocking the event loop
 * (Redis's connectWithMaster / syncWithMaster state machine).
 *
 *     connect ──(cron: non-blocking connect)──> connecting ──(writable)──> handshake
 *        ^                                                                     │
 *        └──── any error, or repl-timeout without an answer ───────────────────┤
 *                                                                              v
 *                        transfer (+FULLRESYNC: the snapshot) or connected (+CONTINUE)
 *
 * Once the socket is connected the replica sends the handshake at once, as Redis 7 does: PING,
 * AUTH (masterauth / masteruser), REPLCONF listening-port, REPLCONF ip-address (with
 * replica-announce-ip), REPLCONF capa eof psync2 [tandem-lz4]; once those are answered,
 * PSYNC <replid> <offset+1> or PSYNC ? -1 (a master refuses PSYNC with replies still pending).
 * It reads one reply line per command from the event loop, byte by byte (the
 * replies are short, and nothing after the PSYNC reply line may be consumed here: it is the
 * snapshot or the stream). A reply that says the master will not serve us (a PING error other
 * than -NOAUTH/-NOPERM, a failed AUTH, a PSYNC error such as -NOMASTERLINK) closes the socket;
 * the cron tries again a second later.
 */
import CTandem
import CTLS
import Glibc
import Platform
import Replication

/// What the replica waits for during the handshake, in the order the commands were sent.
enum HandshakeReply: Equatable { case ping, auth, port, ip, capa, psync }

extension Server {
    // MARK: - Connecting

    /// From the cron, in state `connect`: starts a non-blocking connection to the master.
    mutating func connectToMaster() {
        Log.notice("Connecting to MASTER \(link.host):\(link.port)")
        let fd: Int32
        do {
            fd = try Socket.startConnectTCP(host: link.host, port: link.port, source: settings.storedValue("bind-source-addr"))
        } catch {
            Log.warning("Error condition on socket for SYNC: \(error.message)")
            return
        }
        link.fd = fd
        link.state = .connecting
        link.handshakeDeadlineMillis = Clock.unixMillis() + Int64(max(1, settings.replTimeout)) * 1000
        link.headerLine = []
        try? loop.add(fd, events: EventLoop.writable, token: Self.linkBit | UInt64(UInt32(bitPattern: fd)))
        Log.notice("MASTER <-> REPLICA sync started")
    }

    /// An event on the link's socket, whatever the state.
    mutating func linkEvent(_ events: UInt32) {
        switch link.state {
        case .connecting: link.tlsHandshaking ? continueLinkTLSHandshake() : connectionEstablished()
        case .handshake:
            readHandshakeReplies()
            // OpenSSL may hold the payload's first bytes already: epoll will not say so.
            if link.state == .transfer && link.tls != nil { readSyncPayload() }
        case .transfer: readSyncPayload()
        default: break
        }
    }

    /// From the cron: a master that takes longer than repl-timeout to connect or answer.
    mutating func checkHandshakeTimeout(_ now: Int64) {
        guard link.state == .connecting || link.state == .handshake, now > link.handshakeDeadlineMillis else { return }
        Log.warning("Timeout connecting to the MASTER...")
        abandonHandshake()
    }

    mutating func abandonHandshake() {
        if link.fd >= 0 {
            loop.remove(link.fd)
            closeLinkSocket(link.fd)
            link.fd = -1
        }
        link.state = .connect
    }

    // MARK: - The handshake

    mutating func connectionEstablished() {
        let error = Socket.connectError(link.fd)
        if error != 0 {
            Log.warning("Error condition on socket for SYNC: \(String(cString: strerror(error)))")
            abandonHandshake()
            return
        }
        Log.notice("Non blocking connect for SYNC fired the event.")
        Socket.setNoDelay(link.fd)
        if settings.storedValue("tls-replication") == "yes" {
            guard let ctx = tls.clientContext, let conn = tandem_tls_connect_new(ctx, link.fd) else {
                Log.warning("Error condition on socket for SYNC: TLS is not configured")
                abandonHandshake()
                return
            }
            link.tls = conn
            link.tlsHandshaking = true
            continueLinkTLSHandshake()
            return
        }
        sendReplicationHandshake()
    }

    /// The TLS handshake with the master, one step per event; then the replication handshake.
    mutating func continueLinkTLSHandshake() {
        guard let conn = link.tls else { return }
        let token = Self.linkBit | UInt64(UInt32(bitPattern: link.fd))
        let r = Self.tlsHandshakeStep(conn)
        switch r.0 {
        case 1:
            link.tlsHandshaking = false
            sendReplicationHandshake()
        case TANDEM_TLS_WANT_READ: loop.modify(link.fd, events: EventLoop.readable, token: token)
        case TANDEM_TLS_WANT_WRITE: loop.modify(link.fd, events: EventLoop.writable, token: token)
        default:
            Log.warning("Error condition on socket for SYNC: \(r.1)")
            abandonHandshake()
        }
    }

    /// PING, AUTH, REPLCONF: the replication handshake, on a connected (and secured) socket.
    mutating func sendReplicationHandshake() {
        var commands: [[String]] = [["PING"]]
        link.expectedReplies = [.ping]
        if !settings.masterauth.isEmpty {
            commands.append(settings.masteruser.isEmpty ? ["AUTH", settings.masterauth]
                            : ["AUTH", settings.masteruser, settings.masterauth])
            link.expectedReplies.append(.auth)
        }
        // As Redis: the announced port, else the TLS port when replicating over TLS, else the port.
        let port = settings.replicaAnnouncePort > 0 ? settings.replicaAnnouncePort
            : settings.storedValue("tls-replication") == "yes" && tlsPort != 0 ? tlsPort : settings.port
        commands.append(["REPLCONF", "listening-port", String(port)])
        link.expectedReplies.append(.port)
        if !settings.replicaAnnounceIP.isEmpty {
            commands.append(["REPLCONF", "ip-address", settings.replicaAnnounceIP])
            link.expectedReplies.append(.ip)
        }
        // tandem-lz4 is Tandem's own (decision 2 in docs/operations.md): other masters ignore it.
        // tandem-lz4-rdb (the snapshot payload compressed too) only when the payload goes to a
        // temp file: the socket parser (repl-diskless-load) reads plain RDB.
        commands.append(["REPLCONF", "capa", "eof", "capa", "psync2"]
                        + (settings.replCompression == "lz4" ? ["capa", "tandem-lz4"] : [])
                        + (settings.replCompression == "lz4" && settings.replDisklessLoad == "disabled"
                           ? ["capa", "tandem-lz4-rdb"] : []))
        link.expectedReplies.append(.capa)
        guard sendHandshakeCommands(commands) else { return }
        link.state = .handshake
        loop.modify(link.fd, events: EventLoop.readable, token: Self.linkBit | UInt64(UInt32(bitPattern: link.fd)))
    }

    /// PSYNC goes last, once every other reply is in: a master refuses PSYNC while it still has
    /// replies to send on the connection.
    mutating func sendPsync() {
        if link.hasCachedMaster {
            Log.notice("Trying a partial resynchronization (request \(repl.replID):\(repl.offset + 1)).")
            // FAILOVER asks the target to take over first (Failover.swift).
            let handover = failover.state == .inProgress ? ["FAILOVER"] : []
            _ = sendHandshakeCommands([["PSYNC", repl.replID, String(repl.offset + 1)] + handover])
        } else {
            Log.notice("Partial resynchronization not possible (no cached master)")
            _ = sendHandshakeCommands([["PSYNC", "?", "-1"]])
        }
        link.expectedReplies.append(.psync)
    }

    /// Writes commands to the master; a few hundred bytes into a fresh socket, which the kernel
    /// takes at once. False (and the handshake abandoned) otherwise.
    mutating func sendHandshakeCommands(_ commands: [[String]]) -> Bool {
        var out = ""
        for args in commands {
            out += "*\(args.count)\r\n"
            for a in args { out += "$\(a.utf8.count)\r\n\(a)\r\n" }
        }
        let bytes = Array(out.utf8)
        let sent = bytes.withUnsafeBytes { linkWrite(link.fd, from: $0.baseAddress!, count: $0.count) }
        if sent != bytes.count {
            Log.warning("Error writing the handshake to MASTER")
            abandonHandshake()
            return false
        }
        return true
    }

    /// Reads reply lines as they come; acts on each in order.
    mutating func readHandshakeReplies() {
        var byte: UInt8 = 0
        while link.state == .handshake {
            let n = linkRead(link.fd, into: &byte, count: 1)
            if n == -1 { return }
            if n <= 0 {
                Log.warning("Master closed the connection during the handshake")
                abandonHandshake()
                return
            }
            if byte != 10 {
                link.headerLine.append(byte)
                if link.headerLine.count > 4096 {
                    Log.warning("Master sent an over-long line during the handshake")
                    abandonHandshake()
                }
                continue
            }
            if link.headerLine.last == 13 { link.headerLine.removeLast() }
            if link.headerLine.isEmpty { continue }  // newline keep-alive
            let line = String(decoding: link.headerLine, as: UTF8.self)
            link.headerLine = []
            handshakeReply(line)
        }
    }

    mutating func handshakeReply(_ line: String) {
        guard !link.expectedReplies.isEmpty else { return }
        let step = link.expectedReplies.removeFirst()
        switch step {
        case .ping:
            if line.hasPrefix("-") && !line.hasPrefix("-NOAUTH") && !line.hasPrefix("-NOPERM") {
                Log.warning("Error reply to PING from master: '\(line)'")
                abandonHandshake()
            } else {
                Log.notice("Master replied to PING, replication can continue...")
            }
        case .auth:
            if line.hasPrefix("-") {
                Log.warning("Unable to AUTH to MASTER: \(line)")
                abandonHandshake()
            }
        case .port, .ip, .capa:
            // Older masters may not know an option; Redis goes on regardless.
            if line.hasPrefix("-") { Log.notice("(Non critical) Master does not understand REPLCONF: \(line)") }
            if step == .capa { sendPsync() }
        case .psync:
            psyncReplied(line)
        }
    }

    /// +FULLRESYNC: the snapshot follows on this socket; +CONTINUE: the stream does.
    mutating func psyncReplied(_ reply: String) {
        let fd = link.fd
        if reply.hasPrefix("+FULLRESYNC") {
            let parts = reply.split(separator: " ")
            guard parts.count == 3 || (parts.count == 4 && (parts[3] == "tandem-lz4" || parts[3] == "tandem-lz4-rdb")),
                  let offset = Int64(parts[2]) else {
                Log.warning("Master replied with wrong +FULLRESYNC syntax.")
                abandonHandshake()
                return
            }
            link.lz4Negotiated = parts.count == 4
            freePayloadReader()
            if parts.count == 4 && parts[3] == "tandem-lz4-rdb" {
                let reader = UnsafeMutablePointer<LZ4FrameReader>.allocate(capacity: 1)
                reader.initialize(to: LZ4FrameReader(inputCapacity: 64 * 1024))
                link.payloadReader = reader
                link.payloadFrameBytes = 0
            }
            link.fullSyncReplID = String(parts[1])
            link.fullSyncOffset = offset
            Log.notice("Full resync from master: \(link.fullSyncReplID):\(offset)")
            link.state = .transfer
            link.transferSize = -1
            link.transferRead = 0
            link.headerLine = []
            link.eofMark = []
            link.tail = []
            link.lastIOMillis = Clock.unixMillis()
            failoverPsyncAnswered(accepted: true)
            readSyncPayload()
        } else if reply.hasPrefix("+CONTINUE") {
            let parts = reply.split(separator: " ")
            link.lz4Negotiated = parts.count == 3 && parts[2] == "tandem-lz4"
            if parts.count >= 2, parts[1].utf8.count == 40, String(parts[1]) != repl.replID {
                // Our master continues us under a new id (it was promoted): the history we
                // hold becomes the secondary one, and our replicas must learn the new id.
                Log.warning("Master replication ID changed to \(parts[1])")
                shiftReplicationID(to: String(parts[1]))
                disconnectReplicas()
            }
            if repl.backlog == nil { createBacklog() }
            failoverPsyncAnswered(accepted: true)
            Log.notice("Successful partial resynchronization with master.")
            Log.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
            loop.remove(fd)
            link.fd = -1
            becomeConnected(fd)
        } else {
            Log.warning("Unexpected reply to PSYNC from master: \(reply)")
            abandonHandshake()
            failoverPsyncAnswered(accepted: false)
        }
    }
}
