/*
 * ClusterBus: the cluster bus's sockets on the primary's event loop — Redis's cluster links.
 *
 * A node listens on cluster-port (port + 10000 by default) and keeps two TCP connections per
 * peer: the one it opened (`outLink`, where it sends its PINGs and broadcasts) and the one the
 * peer opened (`inLink`, bound to the peer once a message names it). Each link reads into its
 * own buffer until a whole message is there (the header's total length; a bad signature or a
 * length under the header's size closes the link, as Redis) and queues what it sends in an
 * output buffer written when the socket takes it, so a slow peer never blocks the loop.
 * cluster-link-sendbuf-limit caps that buffer: a link over it is closed (and counted in
 * total_cluster_links_buffer_limit_exceeded) and reconnects.
 *
 * With tls-cluster yes (and a tls-port) every link is TLS, as Redis's: an accepted link demands
 * the peer's certificate (whatever tls-auth-clients says), ours presents tls-client-cert-file
 * (or tls-cert-file). The handshake advances one step per event without blocking the loop;
 * nothing is sent or read until it is done. Reads drain the session until it would block, so
 * no decrypted bytes are left behind where epoll cannot see them.
 *
 * Tokens: `clusterBit` plus the link's index, or plus `listenerFlag` and the descriptor.
 */
import CTLS
import Glibc
import Platform

struct ClusterLink {
    var fd: Int32
    /// Table index of the node at the other end, -1 for an inbound link not yet bound.
    var node: Int
    var inbound: Bool
    var connecting: Bool
    var createdMillis: Int64
    var input: [UInt8] = []
    var output: [UInt8] = []
    var sent = 0
    var wantsWrite = false
    /// The TLS session (tls-cluster yes), and whether its handshake is still going on.
    var tls: UnsafeMutableRawPointer? = nil
    var handshaking = false

    /// Connected (and past its TLS handshake): messages go out now.
    var isOpen: Bool { !connecting && !handshaking }
}

extension Server {
    static let clusterBit: UInt64 = 1 << 44
    static let clusterListenerFlag: UInt64 = 1 << 32

    /// Bus links (and MIGRATE) use TLS: tls-cluster yes on a node with a TLS port.
    var tlsCluster: Bool { tlsPort != 0 && settings.storedValue("tls-cluster") == "yes" }

    // MARK: - Listening

    /// The bus port: cluster-port, or the client port (the TLS one with tls-cluster) + 10000.
    var clusterBusPort: Int {
        let configured = Int(settings.storedValue("cluster-port")) ?? 0
        return configured != 0 ? configured : (tlsCluster ? tlsPort : settings.port) + 10000
    }

    /// Opens the bus listeners on the bind addresses (start-up; a failure stops it, as Redis).
    mutating func listenClusterBus() {
        for address in settings.bind {
            let optional = address.hasPrefix("-")
            let host = optional ? String(address.dropFirst()) : address
            do {
                let fd = try Socket.listenTCP(host: host, port: clusterBusPort, backlog: Int32(settings.tcpBacklog))
                try loop.add(fd, events: EventLoop.readable, token: Self.clusterBit | Self.clusterListenerFlag | UInt64(UInt32(fd)))
                cluster.busListeners.append(fd)
            } catch {
                if optional || error.errno == EAFNOSUPPORT { continue }
                Log.warning("Could not bind to \(host):\(clusterBusPort) for the cluster bus: \(error.message)")
                exit(1)
            }
        }
    }

    /// An event for the cluster bus (a listener or a link).
    mutating func clusterBusEvent(_ token: UInt64, _ events: UInt32) {
        if token & Self.clusterListenerFlag != 0 {
            acceptClusterLinks(Int32(truncatingIfNeeded: token & 0xFFFF_FFFF))
            return
        }
        let id = Int(token & 0xFFFF_FFFF)
        guard id < cluster.links.count, let l = cluster.links[id] else { return }
        if l.connecting {
            finishClusterConnect(id)
            return
        }
        if l.handshaking {
            continueClusterHandshake(id)
            return
        }
        if events & EventLoop.writable != 0 { flushClusterLink(id) }
        if events & (EventLoop.readable | EventLoop.error) != 0, cluster.links[id] != nil { readClusterLink(id) }
    }

    mutating func acceptClusterLinks(_ listener: Int32) {
        for _ in 0..<1000 {
            guard let accepted = Socket.accept(listener) else { return }
            Socket.setNoDelay(accepted.fd)
            var link = ClusterLink(fd: accepted.fd, node: -1, inbound: true, connecting: false, createdMillis: Clock.unixMillis())
            if tlsCluster {
                guard let ctx = tls.serverContext, let conn = tandem_tls_accept_new(ctx, accepted.fd, 1) else {
                    Log.warning("Error accepting cluster node connection: TLS is not configured")
                    Socket.close(accepted.fd)
                    continue
                }
                link.tls = conn
                link.handshaking = true
            }
            _ = addClusterLink(link)
            Log.verbose("Accepting cluster node connection from \(accepted.peer)")
        }
    }

    // MARK: - Links

    mutating func addClusterLink(_ link: ClusterLink) -> Int {
        var id = cluster.links.firstIndex { $0 == nil } ?? -1
        if id < 0 {
            cluster.links.append(nil)
            id = cluster.links.count - 1
        }
        cluster.links[id] = link
        let events = link.connecting ? EventLoop.writable : EventLoop.readable
        do {
            try loop.add(link.fd, events: events, token: Self.clusterBit | UInt64(id))
        } catch {
            Socket.close(link.fd)
            cluster.links[id] = nil
            return -1
        }
        return id
    }

    /// Closes a link and detaches it from its node.
    mutating func freeClusterLink(_ id: Int) {
        guard let l = cluster.links[id] else { return }
        loop.remove(l.fd)
        if let conn = l.tls { tandem_tls_free(conn) }
        Socket.close(l.fd)
        cluster.links[id] = nil
        if l.node >= 0, cluster.nodes[l.node] != nil {
            if cluster.nodes[l.node]!.outLink == id { cluster.nodes[l.node]!.outLink = -1 }
            if cluster.nodes[l.node]!.inLink == id { cluster.nodes[l.node]!.inLink = -1 }
        }
    }

    /// Opens our link to node `i` (non-blocking); the first PING (or MEET) goes when it connects.
    mutating func connectClusterNode(_ i: Int, now: Int64) {
        let n = cluster.nodes[i]!
        guard let fd = try? Socket.startConnectTCP(host: n.ip, port: n.busPort) else {
            // Counts as a ping without answer, so the node can be marked failing.
            if cluster.nodes[i]!.pingSentMillis == 0 { cluster.nodes[i]!.pingSentMillis = now }
            return
        }
        let id = addClusterLink(ClusterLink(fd: fd, node: i, inbound: false, connecting: true, createdMillis: now))
        if id >= 0 { cluster.nodes[i]!.outLink = id }
    }

    mutating func finishClusterConnect(_ id: Int) {
        let l = cluster.links[id]!
        if Socket.connectError(l.fd) != 0 {
            if l.node >= 0, cluster.nodes[l.node]?.pingSentMillis == 0 { cluster.nodes[l.node]!.pingSentMillis = Clock.unixMillis() }
            freeClusterLink(id)
            return
        }
        Socket.setNoDelay(l.fd)
        cluster.links[id]!.connecting = false
        loop.modify(l.fd, events: EventLoop.readable, token: Self.clusterBit | UInt64(id))
        if tlsCluster {
            guard let ctx = tls.clientContext, let conn = tandem_tls_connect_new(ctx, l.fd) else {
                Log.warning("Unable to connect to the cluster bus over TLS: TLS is not configured")
                freeClusterLink(id)
                return
            }
            cluster.links[id]!.tls = conn
            cluster.links[id]!.handshaking = true
            continueClusterHandshake(id)
            return
        }
        sendFirstClusterMessage(id)
    }

    /// One step of a link's TLS handshake; once done, an outbound link sends its first message
    /// and an inbound one reads what already came.
    mutating func continueClusterHandshake(_ id: Int) {
        let l = cluster.links[id]!
        let (r, error) = Self.tlsHandshakeStep(l.tls!)
        let token = Self.clusterBit | UInt64(id)
        switch r {
        case 1:
            cluster.links[id]!.handshaking = false
            loop.modify(l.fd, events: EventLoop.readable, token: token)
            cluster.links[id]!.wantsWrite = false
            if l.inbound {
                readClusterLink(id)
            } else {
                sendFirstClusterMessage(id)
                if cluster.links[id] != nil { flushClusterLink(id) }
            }
        case TANDEM_TLS_WANT_WRITE:
            loop.modify(l.fd, events: EventLoop.readable | EventLoop.writable, token: token)
        case TANDEM_TLS_WANT_READ:
            loop.modify(l.fd, events: EventLoop.readable, token: token)
        default:
            Log.verbose("Cluster bus TLS handshake failed: \(error)")
            if !l.inbound, l.node >= 0, cluster.nodes[l.node]?.pingSentMillis == 0 {
                cluster.nodes[l.node]!.pingSentMillis = Clock.unixMillis()
            }
            freeClusterLink(id)
        }
    }

    /// The first message on our link: MEET for a node met with CLUSTER MEET, else PING.
    mutating func sendFirstClusterMessage(_ id: Int) {
        let l = cluster.links[id]!
        // The first message: MEET for a node met with CLUSTER MEET, else PING.
        let node = l.node
        guard node >= 0, cluster.nodes[node] != nil else { return }
        let meet = cluster.nodes[node]!.flags.contains(.meet)
        let keepPingSent = cluster.nodes[node]!.pingSentMillis
        sendPing(toLink: id, meet ? .meet : .ping)
        // An old unanswered ping still counts (Redis keeps the original time).
        if keepPingSent != 0 { cluster.nodes[node]!.pingSentMillis = keepPingSent }
        cluster.nodes[node]!.flags.remove(.meet)
    }

    // MARK: - Reading

    mutating func readClusterLink(_ id: Int) {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let fd = cluster.links[id]!.fd
            let session = cluster.links[id]!.tls
            let n = chunk.withUnsafeMutableBytes { buffer in
                if let session { return Self.tlsRead(session, into: buffer.baseAddress!, count: buffer.count) }
                return Socket.read(fd, into: buffer.baseAddress!, count: buffer.count)
            }
            if n == -1 { return }
            if n <= 0 {
                freeClusterLink(id)
                return
            }
            cluster.links[id]!.input += chunk[0..<n]
            while cluster.links[id] != nil, cluster.links[id]!.input.count >= 8 {
                let input = cluster.links[id]!.input
                let total = Int(UInt32(input[4]) << 24 | UInt32(input[5]) << 16 | UInt32(input[6]) << 8 | UInt32(input[7]))
                guard input[0] == 0x52, input[1] == 0x43, input[2] == 0x6d, input[3] == 0x62, total >= ClusterMessage.headerSize else {
                    Log.verbose("Closing the cluster bus link: bad message signature or length")
                    freeClusterLink(id)
                    return
                }
                guard input.count >= total else { break }
                let message = input.withUnsafeBytes { ClusterMessage.decode(UnsafeRawBufferPointer(rebasing: $0[0..<total])) }
                cluster.links[id]!.input.removeFirst(total)
                if let message {
                    processClusterMessage(message, link: id)
                } else {
                    Log.warning("Received invalid cluster bus message (type \(input[12]) \(input[13]), \(total) bytes)")
                }
            }
            if cluster.links[id] == nil { return }
        }
    }

    // MARK: - Writing

    /// Queues a message on a link and writes what the socket takes.
    mutating func sendClusterMessage(_ bytes: [UInt8], link id: Int, type: ClusterMessageType) {
        guard cluster.links[id] != nil else { return }
        cluster.links[id]!.output += bytes
        cluster.messagesSent[Int(type.rawValue)] += 1
        let limit = Int(settings.storedValue("cluster-link-sendbuf-limit")) ?? 0
        if limit > 0 && cluster.links[id]!.output.count - cluster.links[id]!.sent > limit {
            Log.warning("Freeing cluster link: its send buffer is over cluster-link-sendbuf-limit")
            cluster.linksBufferLimitExceeded += 1
            freeClusterLink(id)
            return
        }
        if !cluster.links[id]!.connecting && !cluster.links[id]!.handshaking { flushClusterLink(id) }
    }

    mutating func flushClusterLink(_ id: Int) {
        guard var l = cluster.links[id], !l.handshaking else { return }
        while l.sent < l.output.count {
            let n = l.output.withUnsafeBytes { buffer in
                if let session = l.tls { return Self.tlsWrite(session, from: buffer.baseAddress! + l.sent, count: buffer.count - l.sent) }
                return Socket.write(l.fd, from: buffer.baseAddress! + l.sent, count: buffer.count - l.sent)
            }
            if n == -1 { break }
            if n <= 0 {
                freeClusterLink(id)
                return
            }
            l.sent += n
        }
        if l.sent == l.output.count {
            l.output.removeAll(keepingCapacity: l.output.count <= 64 * 1024)
            l.sent = 0
        }
        let wants = l.sent < l.output.count
        if wants != l.wantsWrite {
            l.wantsWrite = wants
            loop.modify(l.fd, events: EventLoop.readable | (wants ? EventLoop.writable : 0), token: Self.clusterBit | UInt64(id))
        }
        cluster.links[id] = l
    }

    /// Whether we hold an outbound bus link to node `i` (CLUSTER NODES' link state).
    func clusterLinkConnected(_ i: Int) -> Bool {
        let l = cluster.nodes[i]!.outLink
        return l >= 0 && cluster.links[l]?.isOpen == true
    }

    /// DEBUG CLUSTERLINK KILL TO|FROM|ALL <node-id>: drops our link to the node, its link to
    /// us, or both (they reconnect), as Redis's test helper.
    mutating func debugKillClusterLink(_ c: ClientRef) {
        guard cluster.enabled else {
            addError(c, "-ERR Debug option only available for cluster mode enabled setup!\r\n")
            return
        }
        let direction = c.pointee.arg(3)
        let name = c.pointee.arg(4).string
        guard let n = cluster.index(ofName: name) else {
            addErrorString(c, "ERR Unknown node \(name)")
            return
        }
        let to = direction.equalsLowercase("to") || direction.equalsLowercase("all")
        let from = direction.equalsLowercase("from") || direction.equalsLowercase("all")
        guard to || from else {
            addError(c, "-ERR Unknown direction\r\n")
            return
        }
        if to && cluster.nodes[n]!.outLink >= 0 { freeClusterLink(cluster.nodes[n]!.outLink) }
        if from && cluster.nodes[n]!.inLink >= 0 { freeClusterLink(cluster.nodes[n]!.inLink) }
        addOK(c)
    }
}
