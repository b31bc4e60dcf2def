/*
 * ClusterReplies: CLUSTER INFO, SLOTS and SHARDS as Redis 7.0 writes them — field names and
 * order, the endpoint chosen by cluster-preferred-endpoint-type, RESP2 and RESP3 shapes.
 * (NODES shares its lines with nodes.conf: ClusterConfigFile.swift.)
 */
import Keyspace
import Platform
import RESP

extension Server {
    static let busMessageNames = ["ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart",
                                  "module", "publishshard"]

    func clusterInfoText() -> String {
        var assigned = 0, ok = 0, pfail = 0, fail = 0
        for s in 0..<HashSlot.count where cluster.owner[s] >= 0 {
            assigned += 1
            let flags = cluster.nodes[Int(cluster.owner[s])]!.flags
            if flags.contains(.failing) {
                fail += 1
            } else if flags.contains(.possiblyFailing) {
                pfail += 1
            } else {
                ok += 1
            }
        }
        var lines = [
            "cluster_state:\(cluster.stateOK ? "ok" : "fail")",
            "cluster_slots_assigned:\(assigned)", "cluster_slots_ok:\(ok)", "cluster_slots_pfail:\(pfail)",
            "cluster_slots_fail:\(fail)", "cluster_known_nodes:\(cluster.knownNodes)", "cluster_size:\(cluster.reportedSize)",
            "cluster_current_epoch:\(cluster.currentEpoch)", "cluster_my_epoch:\(cluster.shownConfigEpoch(cluster.myself))",
        ]
        for (i, name) in Self.busMessageNames.enumerated() where cluster.messagesSent[i] > 0 {
            lines.append("cluster_stats_messages_\(name)_sent:\(cluster.messagesSent[i])")
        }
        lines.append("cluster_stats_messages_sent:\(cluster.messagesSent.reduce(0, +))")
        for (i, name) in Self.busMessageNames.enumerated() where cluster.messagesReceived[i] > 0 {
            lines.append("cluster_stats_messages_\(name)_received:\(cluster.messagesReceived[i])")
        }
        lines.append("cluster_stats_messages_received:\(cluster.messagesReceived.reduce(0, +))")
        lines.append("total_cluster_links_buffer_limit_exceeded:\(cluster.linksBufferLimitExceeded)")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The address a client is sent to for node `i` (MOVED, ASK, SLOTS): its IP, hostname ("?"
    /// without one) or nothing, as cluster-preferred-endpoint-type says. nil: unknown endpoint.
    func preferredEndpoint(_ i: Int) -> String? {
        let n = cluster.nodes[i]!
        switch settings.storedValue("cluster-preferred-endpoint-type") {
        case "hostname": return n.hostname.isEmpty ? "?" : n.hostname
        case "unknown-endpoint": return nil
        default: return n.ip
        }
    }

    /// With tls-cluster the nodes' client ports are TLS ports; a plaintext client is shown each
    /// node's plaintext port (pport) where it has one, as Redis.
    func seesPlaintextPorts(_ c: ClientRef) -> Bool { c.pointee.tlsConnection == nil && tlsCluster }

    func clientPort(of i: Int, plaintext: Bool) -> Int {
        let n = cluster.nodes[i]!
        return plaintext && n.plaintextPort != 0 ? n.plaintextPort : n.port
    }

    /// CLUSTER SLOTS: one entry per run of slots served by one master, its replicas after it
    /// (those not failing and past their first sync).
    mutating func clusterSlotsReply(_ c: ClientRef) {
        let runs = cluster.allSlotRanges().flatMap { node, ranges in ranges.map { ($0.0, $0.1, node) } }.sorted { $0.0 < $1.0 }
        c.pointee.reply.appendArrayHeader(runs.count)
        for (a, b, m) in runs {
            let replicas = cluster.replicas(of: m).filter {
                !cluster.nodes[$0]!.isFailing && replicationOffset(of: $0) != 0
            }
            c.pointee.reply.appendArrayHeader(3 + replicas.count)
            c.pointee.reply.appendInteger(Int64(a))
            c.pointee.reply.appendInteger(Int64(b))
            for n in [m] + replicas { appendSlotsNode(c, n) }
        }
    }

    /// A node's replication offset as the cluster knows it (ours as our messages say it).
    func replicationOffset(of i: Int) -> Int64 {
        guard i == cluster.myself else { return cluster.nodes[i]!.replicationOffset }
        return cluster.me.isReplica ? replicaOffsetForCluster : repl.offset
    }

    func appendSlotsNode(_ c: ClientRef, _ i: Int) {
        let n = cluster.nodes[i]!
        let endpointType = settings.storedValue("cluster-preferred-endpoint-type")
        c.pointee.reply.appendArrayHeader(4)
        if let e = preferredEndpoint(i) { c.pointee.reply.appendBulk(e) } else { c.pointee.reply.appendNull(resp3: c.pointee.resp3) }
        c.pointee.reply.appendInteger(Int64(clientPort(of: i, plaintext: seesPlaintextPorts(c))))
        c.pointee.reply.appendBulk(n.name)
        var extra: [(String, String)] = []
        if endpointType != "ip" { extra.append(("ip", n.ip)) }
        if endpointType != "hostname" && !n.hostname.isEmpty { extra.append(("hostname", n.hostname)) }
        c.pointee.reply.appendMapHeader(extra.count, resp3: c.pointee.resp3)
        for (k, v) in extra {
            c.pointee.reply.appendBulk(k)
            c.pointee.reply.appendBulk(v)
        }
    }

    /// CLUSTER SHARDS: one map per master (slotless ones too) with its slot ranges and nodes.
    mutating func clusterShardsReply(_ c: ClientRef) {
        let masters = cluster.nodes.indices.filter { cluster.nodes[$0]?.isMaster == true }
        c.pointee.reply.appendArrayHeader(masters.count)
        for m in masters {
            c.pointee.reply.appendMapHeader(2, resp3: c.pointee.resp3)
            c.pointee.reply.appendBulk("slots")
            let ranges = cluster.slotRanges(of: m)
            c.pointee.reply.appendArrayHeader(ranges.count * 2)
            for (a, b) in ranges {
                c.pointee.reply.appendInteger(Int64(a))
                c.pointee.reply.appendInteger(Int64(b))
            }
            c.pointee.reply.appendBulk("nodes")
            let members = [m] + cluster.replicas(of: m)
            c.pointee.reply.appendArrayHeader(members.count)
            for n in members { appendShardNode(c, n) }
        }
    }

    func appendShardNode(_ c: ClientRef, _ i: Int) {
        let n = cluster.nodes[i]!
        let offset = replicationOffset(of: i)
        // (text, nil) for a bulk string, (nil, n) for an integer.
        var fields: [(String, String?, Int64)] = [("id", n.name, 0)]
        // A TLS cluster's nodes show both: the plaintext port (when they have one) and the TLS one.
        let port = tlsCluster ? n.plaintextPort : n.port
        if port != 0 { fields.append(("port", nil, Int64(port))) }
        if tlsCluster { fields.append(("tls-port", nil, Int64(n.port))) }
        fields.append(("ip", n.ip, 0))
        fields.append(("endpoint", preferredEndpoint(i) ?? "", 0))
        if !n.hostname.isEmpty { fields.append(("hostname", n.hostname, 0)) }
        fields.append(("role", n.isReplica ? "replica" : "master", 0))
        fields.append(("replication-offset", nil, offset))
        fields.append(("health", n.isFailing ? "fail" : (n.isReplica && offset == 0 ? "loading" : "online"), 0))
        c.pointee.reply.appendMapHeader(fields.count, resp3: c.pointee.resp3)
        for (key, text, number) in fields {
            c.pointee.reply.appendBulk(key)
            if let text { c.pointee.reply.appendBulk(text) } else { c.pointee.reply.appendInteger(number) }
        }
    }

    /// CLUSTER LINKS: each node's outbound link, then its inbound one.
    mutating func clusterLinksReply(_ c: ClientRef) {
        var links: [(Int, ClusterLink)] = []
        for i in cluster.nodes.indices where i != cluster.myself {
            guard let n = cluster.nodes[i] else { continue }
            for id in [n.outLink, n.inLink] where id >= 0 {
                if let l = cluster.links[id] { links.append((i, l)) }
            }
        }
        c.pointee.reply.appendArrayHeader(links.count)
        for (i, l) in links {
            c.pointee.reply.appendMapHeader(6, resp3: c.pointee.resp3)
            c.pointee.reply.appendBulk("direction")
            c.pointee.reply.appendBulk(l.inbound ? "from" : "to")
            c.pointee.reply.appendBulk("node")
            c.pointee.reply.appendBulk(cluster.nodes[i]!.name)
            c.pointee.reply.appendBulk("create-time")
            c.pointee.reply.appendInteger(l.createdMillis)
            c.pointee.reply.appendBulk("events")
            c.pointee.reply.appendBulk("r" + (l.wantsWrite ? "w" : ""))
            c.pointee.reply.appendBulk("send-buffer-allocated")
            c.pointee.reply.appendInteger(Int64(l.output.capacity))
            c.pointee.reply.appendBulk("send-buffer-used")
            c.pointee.reply.appendInteger(Int64(l.output.count - l.sent))
        }
    }
}
