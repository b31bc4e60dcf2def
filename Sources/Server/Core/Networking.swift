/*
 * Networking: accepting connections, reading queries, writing replies, closing clients —
 * Redis's networking.c.
 *
 * Reads: one read() per readable event into the client's query buffer, then every complete
 * command in it runs (pipelining). Writes: replies accumulate in the client's ReplyBuffer;
 * clients with output are queued in `pendingWrites` and flushed in beforeSleep with one
 * write() each. Only when the socket will not take everything is EPOLLOUT registered.
 *
 * Back-pressure: a client whose unsent output passes `outputPauseBytes` stops having its
 * input executed and read until the output drains, so a pipelining client that does not
 * read its replies cannot make the server buffer without bound.
 *
 * A client is never freed while one of its commands runs: killing it only marks it
 * (`closeASAP`) and beforeSleep frees it.
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

extension Server {
    static let outputPauseBytes = 64 * 1024 * 1024

    // MARK: - Accept

    mutating func acceptClients(_ listener: Int32) {
        // Up to 1000 per wake, as Redis's MAX_ACCEPTS_PER_CALL.
        for _ in 0..<1000 {
            guard let (fd, peer, isUnix, loopback) = Socket.accept(listener) else { return }
            stats.connectionsReceived += 1
            if clientCount >= settings.maxclients {
                let msg = "-ERR max number of clients reached\r\n"
                _ = msg.withCString { Glibc.write(fd, $0, strlen($0)) }
                Socket.close(fd)
                stats.rejectedConnections += 1
                continue
            }
            let overTLS = tls.listeners.contains(listener)
            let denied = refusedByProtectedMode(loopback: loopback)
            if denied && !overTLS {
                _ = Self.protectedModeMessage.withCString { Glibc.write(fd, $0, strlen($0)) }
                Socket.close(fd)
                stats.rejectedConnections += 1
                continue
            }
            if !isUnix {
                Socket.setNoDelay(fd)
                if settings.tcpKeepalive > 0 { Socket.setKeepAlive(fd, interval: settings.tcpKeepalive) }
            }
            let c = Client.create(
                fd: fd, id: nextClientID, address: isUnix ? "\(settings.unixSocket):0" : peer,
                localAddress: isUnix ? "\(settings.unixSocket):0" : Socket.localAddress(fd), isLoopback: loopback,
                authenticated: false, now: Clock.unixMillis())
            setDefaultAuth(c)
            if overTLS && !attachTLS(c) {
                Client.destroy(c)
                Socket.close(fd)
                continue
            }
            if denied {
                // Over TLS the refusal can be read only once the handshake is done: it waits
                // in the reply, and the connection closes after it, as Redis does.
                c.pointee.reply.append(Self.protectedModeMessage)
                c.pointee.flags.insert(.closeAfterReply)
                stats.rejectedConnections += 1
            }
            if isUnix { c.pointee.flags.insert(.unixSocket) }
            c.pointee.parser.maxBulkLength = settings.protoMaxBulkLen
            nextClientID += 1
            do {
                try loop.add(fd, events: EventLoop.readable, token: UInt64(UInt32(bitPattern: fd)))
            } catch {
                Client.destroy(c)
                Socket.close(fd)
                continue
            }
            registerClient(c)
            Log.verbose("Accepted \(peer)")
        }
    }

    /// Redis 7's rule: with protected mode on and no password for the default user, only
    /// loopback and Unix-socket clients are served, whatever `bind` says.
    func refusedByProtectedMode(loopback: Bool) -> Bool {
        settings.protectedMode && acl.defaultUser.flags.contains(.nopass) && !loopback
    }

    static let protectedModeMessage =
        "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

    mutating func registerClient(_ c: ClientRef) {
        let fd = Int(c.pointee.fd)
        if fd >= clientsCapacity {
            var n = clientsCapacity * 2
            while n <= fd { n *= 2 }
            let grown = UnsafeMutablePointer<ClientRef?>.allocate(capacity: n)
            grown.initialize(repeating: nil, count: n)
            grown.update(from: clientsByFD, count: clientsCapacity)
            clientsByFD.deallocate()
            clientsByFD = grown
            clientsCapacity = n
        }
        clientsByFD[fd] = c
        clientsByID[c.pointee.id] = c
        c.pointee.reply.hardLimit = currentHardLimit(c)
        clientCount += 1
    }

    // MARK: - Events

    mutating func handleClientEvent(fd: Int32, events: UInt32) {
        guard Int(fd) < clientsCapacity, let c = clientsByFD[Int(fd)] else { return }
        if c.pointee.flags.contains(.closeASAP) { return }
        // The client whose script is running (BusyScripts.swift): its buffers are in use.
        if c.pointee.flags.contains(.executing) { return }
        if c.pointee.tlsHandshaking {
            if !continueTLSHandshake(c) { return }
            // Input may have come with the handshake's last flight: read it now.
            if !c.pointee.flags.contains(.outputFull) { readFromClient(c) }
            return
        }
        if events & EventLoop.writable != 0 {
            writeToClient(c)
            if c.pointee.flags.contains(.closeASAP) { return }
        }
        if events & (EventLoop.readable | EventLoop.error) != 0 && !c.pointee.flags.contains(.outputFull) {
            readFromClient(c)
        }
    }

    // MARK: - Reading

    mutating func readFromClient(_ c: ClientRef) {
        let needed = c.pointee.parser.bytesNeeded
        let buffered = c.pointee.queryEnd - c.pointee.queryStart
        var want = Client.readChunk
        var exact = false
        if needed > 0 && c.pointee.parser.bigBulkStart > 0 {
            // A big argument: read exactly the rest of it into a buffer of its size, as Redis
            // does (even its last two bytes, so the buffer never doubles for them).
            want = max(1, needed - buffered)
            exact = true
        } else if needed > 0 && needed - buffered > want {
            want = needed - buffered
        }
        c.pointee.reserveQuery(want, exact: exact)
        // A tandem-lz4 master link reads compressed bytes and decompresses them into the query
        // buffer itself (advancing queryEnd); every other connection reads straight into it.
        let reader = c.pointee.isMaster ? link.lz4Reader : nil
        let n: Int
        if let reader {
            n = readCompressedFromMaster(c, reader)
        } else if let conn = c.pointee.tlsConnection {
            n = Self.tlsRead(conn, into: c.pointee.query + c.pointee.queryEnd, count: c.pointee.queryCapacity - c.pointee.queryEnd,
                             logging: "Reading from client: ")
        } else {
            n = Socket.read(c.pointee.fd, into: c.pointee.query + c.pointee.queryEnd,
                            count: c.pointee.queryCapacity - c.pointee.queryEnd)
        }
        if n == -1 { return }
        if n <= 0 {
            if n == 0 {
                Log.verbose("Client closed connection \(clientDescription(c))")
            } else if c.pointee.tlsConnection == nil {
                Log.verbose("Reading from client: \(String(cString: strerror(errno)))")
            }
            markClosing(c)
            return
        }
        stats.readsProcessed += 1
        if reader == nil { c.pointee.queryEnd += n }
        c.pointee.lastInteractionMillis = turnWallMillis  // (seconds matter: Server.turnMillis)
        if c.pointee.isMaster {
            link.lastIOMillis = c.pointee.lastInteractionMillis
            repl.netInputBytes += Int64(n)
        } else {
            stats.netInputBytes += Int64(n)
        }
        let live = c.pointee.queryEnd - c.pointee.queryStart
        if live > c.pointee.queryPeak { c.pointee.queryPeak = live }
        if live > settings.clientQueryBufferLimit {
            Log.warning("Closing client that reached max query buffer length: \(clientDescription(c)) (qbuf initial bytes: \"...\")")
            markClosing(c)
            return
        }
        processInputBuffer(c)
        updateClientMemory(c)
        if c.pointee.isMaster { acknowledgeBurst(c, drained: reader != nil || n < want) }
        if c.pointee.tlsConnection != nil { noteTLSPending(c) }
    }

    /// Runs every complete command in the query buffer. See the contract of RequestParser.
    mutating func processInputBuffer(_ c: ClientRef) {
        // The master's stream waits while a script is busy, then runs in order.
        if c.pointee.isMaster && scriptTimedOut { return }
        while c.pointee.queryStart < c.pointee.queryEnd {
            if c.pointee.flags.rawValue & (ClientFlags.closeAfterReply.rawValue | ClientFlags.closeASAP.rawValue
                | ClientFlags.blocked.rawValue) != 0
            {
                break
            }
            if c.pointee.reply.pending > Self.outputPauseBytes {
                pauseInputForOutput(c)
                break
            }
            let start = c.pointee.query + c.pointee.queryStart
            let outcome = c.pointee.parser.parse(start, c.pointee.queryEnd - c.pointee.queryStart)
            if outcome == .incomplete { break }
            if outcome == .protocolError {
                let msg = c.pointee.parser.errorMessage
                Log.verbose("Protocol error (\(msg)) from client: \(clientDescription(c))")
                addErrorString(c, "ERR " + msg)
                c.pointee.flags.insert(.closeAfterReply)
                c.pointee.queryStart = c.pointee.queryEnd
                break
            }
            if outcome == .complete {
                c.pointee.loadArguments()
                if !processCommand(c) {
                    // Held (CLIENT PAUSE): keep the parsed command for the next attempt.
                    c.pointee.parser.hold()
                    break
                }
            }
            // A replica's history continues with the master's bytes, exactly as received.
            if c.pointee.isMaster { appendToStream(ByteView(start, c.pointee.parser.consumed)) }
            c.pointee.queryStart += c.pointee.parser.consumed
            c.pointee.parser.reset()
        }
        if c.pointee.queryStart == c.pointee.queryEnd {
            c.pointee.queryStart = 0
            c.pointee.queryEnd = 0
        }
        // A big argument on its way: its whole buffer now, as Redis sizes it when it parses the
        // header (the client's memory shows it at once).
        if c.pointee.parser.bigBulkStart > 0 {
            let missing = c.pointee.parser.bytesNeeded - (c.pointee.queryEnd - c.pointee.queryStart)
            if missing > 0 { c.pointee.reserveQuery(missing, exact: true) }
        }
        if c.pointee.reply.pending > 0 { queueWrite(c) }
    }

    // MARK: - Writing

    @inline(__always)
    mutating func queueWrite(_ c: ClientRef) {
        checkOutputLimits(c)
        updateClientMemory(c)
        if c.pointee.flags.contains(.pendingWrite) || c.pointee.flags.contains(.writeRegistered) { return }
        c.pointee.flags.insert(.pendingWrite)
        if pendingCount == pendingCapacity {
            let grown = UnsafeMutablePointer<ClientRef>.allocate(capacity: pendingCapacity * 2)
            grown.moveInitialize(from: pendingWrites, count: pendingCount)
            pendingWrites.deallocate()
            pendingWrites = grown
            pendingCapacity *= 2
        }
        pendingWrites[pendingCount] = c
        pendingCount += 1
    }

    mutating func flushPendingWrites() {
        var i = 0
        while i < pendingCount {
            let c = pendingWrites[i]
            i += 1
            c.pointee.flags.remove(.pendingWrite)
            if c.pointee.flags.contains(.closeASAP) { continue }
            writeToClient(c)
        }
        pendingCount = 0
    }

    /// Writes as much pending output as the socket takes; registers EPOLLOUT for the rest.
    /// Replicas have their own path (writeToReplica): a snapshot to send, a worker to hand to.
    mutating func writeToClient(_ c: ClientRef) {
        if c.pointee.isReplica {
            writeToReplica(c)
            return
        }
        let (written, ok) = drainReply(c)
        stats.netOutputBytes += Int64(written)
        // A reply bigger than 16 KB grew the buffer: give it back once sent (Redis keeps such
        // replies in a list beside its fixed buffer).
        if c.pointee.reply.count == 0 && c.pointee.reply.capacity > ReplyBuffer.initialCapacity && replyBufferResizing {
            c.pointee.reply.resize(to: c.pointee.reply.restingCapacity)
        }
        if ok { finishWrite(c) }
    }

    /// Writes pending output until the socket is full. Returns the bytes written, and false
    /// when a write failed (the client is then being closed).
    mutating func drainReply(_ c: ClientRef) -> (written: Int, ok: Bool) {
        var total = 0
        while c.pointee.reply.pending > 0 {
            let from = c.pointee.reply.base + c.pointee.reply.sent
            let n = c.pointee.tlsConnection.map { Self.tlsWrite($0, from: from, count: c.pointee.reply.pending) }
                ?? Socket.write(c.pointee.fd, from: from, count: c.pointee.reply.pending)
            if n == -1 { break }
            if n < 0 {
                Log.verbose("Error writing to client: \(String(cString: strerror(errno)))")
                markClosing(c)
                return (total, false)
            }
            // Under maxmemory a drained buffer keeps at most Redis's 16 KB, as Redis frees its
            // reply list once written: capacity kept for later replies would count as used
            // memory and make keys go to pay for it (each eviction's invalidation messages
            // growing the buffers again: a feedback loop). Without a limit, up to 1 MB stays
            // for the next big reply. A replica the primary feeds itself (TLS) keeps 16 KB too:
            // Redis's replicas hold only references into the shared replication buffer, so a big
            // write must not leave its size behind in their output memory.
            let small = settings.maxmemory > 0 || c.pointee.isReplica
            c.pointee.reply.didSend(n, keepUpTo: small ? ReplyBuffer.initialCapacity : 1024 * 1024)
            total += n
        }
        return (total, true)
    }

    /// After a write: wait for EPOLLOUT while output remains; otherwise close a client that
    /// asked for it, or resume reading one whose input waited for its output.
    mutating func finishWrite(_ c: ClientRef) {
        stats.writesProcessed += 1
        if c.pointee.reply.pending > 0 {
            registerForWrite(c)
            return
        }
        if c.pointee.flags.contains(.closeAfterReply) {
            markClosing(c)
            return
        }
        if c.pointee.flags.contains(.writeRegistered) {
            c.pointee.flags.remove(.writeRegistered)
            let resume = c.pointee.flags.contains(.outputFull)
            c.pointee.flags.remove(.outputFull)
            updateInterest(c)
            if resume {
                processInputBuffer(c)
                if c.pointee.tlsConnection != nil { noteTLSPending(c) }
            }
        }
    }

    func registerForWrite(_ c: ClientRef) {
        if !c.pointee.flags.contains(.writeRegistered) {
            c.pointee.flags.insert(.writeRegistered)
            updateInterest(c)
        }
    }

    mutating func pauseInputForOutput(_ c: ClientRef) {
        c.pointee.flags.insert(.outputFull)
        c.pointee.flags.insert(.writeRegistered)
        updateInterest(c)
    }

    func updateInterest(_ c: ClientRef) {
        var events: UInt32 = 0
        if !c.pointee.flags.contains(.outputFull) { events |= EventLoop.readable }
        if c.pointee.flags.contains(.writeRegistered) || c.pointee.flags.contains(.tlsWantsWrite) { events |= EventLoop.writable }
        loop.modify(c.pointee.fd, events: events, token: UInt64(UInt32(bitPattern: c.pointee.fd)))
    }

    // MARK: - Closing

    /// Marks a client to be freed in beforeSleep (never while its command runs).
    mutating func markClosing(_ c: ClientRef) {
        if c.pointee.flags.contains(.closeASAP) { return }
        c.pointee.flags.insert(.closeASAP)
        if c.pointee.isMaster && link.masterClient == c { link.masterClosingMillis = Clock.unixMillis() }
        forgetClientMemory(c)
        loop.remove(c.pointee.fd)
        closeCount += 1
    }

    mutating func freeClosingClients() {
        closeCount = 0
        for fd in 0..<clientsCapacity {
            guard let c = clientsByFD[fd], c.pointee.flags.contains(.closeASAP) else { continue }
            freeClient(c)
        }
    }

    mutating func freeClient(_ c: ClientRef) {
        let fd = c.pointee.fd
        forgetReplica(c)
        masterLinkLost(c)
        unwatchAll(c)
        unblockClient(c)
        if c.pointee.flags.contains(.pubsub) { unsubscribeAll(c) }
        disableTracking(c)
        forgetClientMemory(c)
        clientsByID[c.pointee.id] = nil
        clientsByFD[Int(fd)] = nil
        clientCount -= 1
        freeTLS(c)
        if c.pointee.flags.contains(.monitor) {
            monitors.removeAll { $0 == c }
            monitorCount = monitors.count
        }
        if c.pointee.flags.contains(.pendingWrite) {
            var j = 0
            for i in 0..<pendingCount where pendingWrites[i] != c {
                pendingWrites[j] = pendingWrites[i]
                j += 1
            }
            pendingCount = j
        }
        Socket.close(fd)
        Client.destroy(c)
    }

    /// Every live client, in connection order (CLIENT LIST).
    func allClients() -> [ClientRef] {
        var out: [ClientRef] = []
        for fd in 0..<clientsCapacity {
            if let c = clientsByFD[fd], !c.pointee.flags.contains(.closeASAP) { out.append(c) }
        }
        return out.sorted { $0.pointee.id < $1.pointee.id }
    }

    func clientDescription(_ c: ClientRef) -> String {
        "id=\(c.pointee.id) addr=\(c.pointee.address) laddr=\(c.pointee.localAddress) fd=\(c.pointee.fd) name=\(c.pointee.nameString)"
    }
}
