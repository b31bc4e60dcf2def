/*
 * ClusterGossip: what a node does with the bus's messages and what it sends — Redis 7.0's
 * clusterProcessPacket and clusterSendPing, so Tandem and redis-server nodes agree.
 *
 * Joining: CLUSTER MEET adds a node in handshake under a random name; our link to it sends
 * MEET, and its PONG carries its real name, which replaces the random one. The MEET's receiver
 * adds us the same way (a MEET is the only message from an unknown node that adds it; a PING
 * only gets a PONG). Every PING, PONG and MEET carries the sender's view of itself (epochs, its
 * or its master's slots, its master, flags, hostname) and gossip about a few other nodes, so
 * the cluster learns every member and every slot owner from any one node.
 *
 * Slots: a master claiming slots with a greater configEpoch than their owner's takes them
 * (clusterUpdateSlotsConfigWith); a stale claim is answered with an UPDATE describing the
 * owner. Two masters with one configEpoch resolve it: the one with the smaller name takes a
 * new epoch. Failure detection: a node silent for cluster-node-timeout is PFAIL here; the
 * masters' gossip about it (failure reports) turns it FAIL once a majority of them agree, and a
 * FAIL message makes every node agree at once.
 */
import Glibc
import Keyspace
import Platform

extension Server {
    // MARK: - Sending

    /// What a replica reports as its replication offset (Redis's replicationGetSlaveOffset):
    /// 0 from a full sync's start until its data is loaded, so masters leave it out of CLUSTER
    /// SLOTS while it has nothing to serve.
    var replicaOffsetForCluster: Int64 {
        if link.state == .transfer || (link.masterClient == nil && !link.hasCachedMaster) { return 0 }
        return repl.offset
    }

    /// A message header describing this node (its master's slots and epoch when it is a
    /// replica), as Redis's clusterBuildMessageHdr.
    func clusterMessage(_ type: ClusterMessageType) -> ClusterMessage {
        var m = ClusterMessage()
        m.type = type.rawValue
        let me = cluster.me
        let master = me.isReplica && me.master >= 0 ? me.master : cluster.myself
        for s in 0..<HashSlot.count where Int(cluster.owner[s]) == master { m.slots[s >> 3] |= 1 << UInt8(s & 7) }
        if master != cluster.myself { m.master = cluster.nodes[master]!.name }
        m.ip = settings.storedValue("cluster-announce-ip")
        m.sender = me.name
        m.port = UInt16(truncatingIfNeeded: me.port)
        m.plaintextPort = UInt16(truncatingIfNeeded: me.plaintextPort)
        m.busPort = UInt16(truncatingIfNeeded: me.busPort)
        m.flags = me.flags.rawValue
        m.state = cluster.stateOK ? 0 : 1
        m.currentEpoch = cluster.currentEpoch
        m.configEpoch = cluster.nodes[master]!.configEpoch
        m.offset = UInt64(max(0, me.isReplica ? replicaOffsetForCluster : repl.offset))
        // A master pausing for its replica's manual failover says so in every message.
        if cluster.manual.end != 0 && me.isMaster { m.messageFlags |= ClusterMessageFlag.paused }
        return m
    }

    /// PING, PONG or MEET on a link, with gossip about some other nodes (every PFAIL one
    /// included) and our hostname.
    mutating func sendPing(toLink id: Int, _ type: ClusterMessageType) {
        guard let l = cluster.links[id] else { return }
        var m = clusterMessage(type)
        let known = cluster.nodes.indices.filter { cluster.nodes[$0] != nil }
        let fresh = known.count - 2
        var wanted = min(max(3, known.count / 10), fresh)
        var chosen = Set<Int>()
        var draws = wanted * 3
        while fresh > 0 && draws > 0 && wanted > 0 {
            draws -= 1
            let i = known[Int.random(in: 0..<known.count)]
            let n = cluster.nodes[i]!
            if i == cluster.myself || n.flags.contains(.possiblyFailing) || n.flags.contains(.handshake)
                || n.flags.contains(.noAddress) || (n.outLink < 0 && n.slotCount == 0) || chosen.contains(i)
            {
                continue
            }
            chosen.insert(i)
            m.gossip.append(gossipEntry(i))
            wanted -= 1
        }
        var pfail = cluster.possiblyFailingCount
        for i in known where pfail > 0 {
            let n = cluster.nodes[i]!
            guard n.flags.contains(.possiblyFailing), !n.flags.contains(.handshake), !n.flags.contains(.noAddress) else { continue }
            m.gossip.append(gossipEntry(i))
            pfail -= 1
        }
        m.hostname = cluster.me.hostname
        if type == .ping && !l.inbound && l.node >= 0 { cluster.nodes[l.node]?.pingSentMillis = Clock.unixMillis() }
        sendClusterMessage(m.encoded(), link: id, type: type)
    }

    func gossipEntry(_ i: Int) -> ClusterGossipEntry {
        let n = cluster.nodes[i]!
        return ClusterGossipEntry(
            name: n.name, pingSentSeconds: UInt32(truncatingIfNeeded: n.pingSentMillis / 1000),
            pongReceivedSeconds: UInt32(truncatingIfNeeded: n.pongReceivedMillis / 1000), ip: n.ip,
            port: UInt16(truncatingIfNeeded: n.port), busPort: UInt16(truncatingIfNeeded: n.busPort), flags: n.flags.rawValue,
            plaintextPort: UInt16(truncatingIfNeeded: n.plaintextPort))
    }

    /// A message to every node we hold a link to (not in handshake).
    mutating func broadcastClusterMessage(_ m: ClusterMessage) {
        let bytes = m.encoded()
        guard let type = ClusterMessageType(rawValue: m.type) else { return }
        for i in cluster.nodes.indices where i != cluster.myself {
            guard let n = cluster.nodes[i], n.outLink >= 0, !n.flags.contains(.handshake) else { continue }
            sendClusterMessage(bytes, link: n.outLink, type: type)
        }
    }

    /// PUBLISH to every node; SPUBLISH to the other nodes of our shard (master and replicas).
    mutating func clusterPublish(channel: ByteView, message: ByteView, shard: Bool) {
        var m = clusterMessage(shard ? .publishShard : .publish)
        m.channel = channel.array
        m.payload = message.array
        guard shard else {
            broadcastClusterMessage(m)
            return
        }
        let bytes = m.encoded()
        let master = cluster.me.isReplica ? cluster.me.master : cluster.myself
        guard master >= 0 else { return }
        for i in [master] + cluster.replicas(of: master) where i != cluster.myself {
            guard let n = cluster.nodes[i], n.outLink >= 0 else { continue }
            sendClusterMessage(bytes, link: n.outLink, type: .publishShard)
        }
    }

    /// PONG to every node (a promotion or a slot change others must learn now).
    mutating func broadcastPong() {
        for i in cluster.nodes.indices where i != cluster.myself {
            guard let n = cluster.nodes[i], n.outLink >= 0, !n.flags.contains(.handshake) else { continue }
            sendPing(toLink: n.outLink, .pong)
        }
    }

    // MARK: - Receiving

    mutating func processClusterMessage(_ m: ClusterMessage, link id: Int) {
        let now = Clock.unixMillis()
        if m.type < 11 { cluster.messagesReceived[Int(m.type)] += 1 }
        if Int(m.type) == cluster.dropPacketFilter {
            Log.warning("Dropping packet that matches debug drop filter")
            return
        }
        guard let type = ClusterMessageType(rawValue: m.type) else {
            Log.warning("Received unknown packet type: \(m.type)")
            return
        }
        var sender = cluster.index(ofName: m.sender)
        if let s = sender, cluster.nodes[s]!.flags.contains(.handshake) { sender = nil }
        if let s = sender, let l = cluster.links[id], l.inbound && l.node < 0 { bindInboundLink(id, to: s) }
        if let s = sender {
            cluster.nodes[s]!.dataReceivedMillis = now
            if m.currentEpoch > cluster.currentEpoch { cluster.currentEpoch = m.currentEpoch }
            if m.configEpoch > cluster.nodes[s]!.configEpoch && m.master.isEmpty {
                cluster.nodes[s]!.configEpoch = m.configEpoch
                cluster.todoSave = true
            }
            cluster.nodes[s]!.replicationOffset = Int64(truncatingIfNeeded: m.offset)
            noteMasterPausedOffset(m, sender: s)
        }
        switch type {
        case .ping, .meet:
            if (type == .meet || cluster.me.ip.isEmpty) && settings.storedValue("cluster-announce-ip").isEmpty {
                learnMyAddress(from: id)
            }
            if sender == nil && type == .meet { addMetNode(m, link: id, now: now) }
            sendPing(toLink: id, .pong)
            processPingPong(m, type, sender: sender, link: id, now: now)
        case .pong:
            processPingPong(m, type, sender: sender, link: id, now: now)
        case .fail:
            guard sender != nil, let failing = cluster.index(ofName: m.about), failing != cluster.myself,
                  !cluster.nodes[failing]!.isFailing else { return }
            Log.notice("FAIL message received from \(m.sender) about \(m.about)")
            cluster.nodes[failing]!.flags.insert(.failing)
            cluster.nodes[failing]!.flags.remove(.possiblyFailing)
            cluster.nodes[failing]!.failTimeMillis = now
            clusterChanged()
        case .publish, .publishShard:
            guard sender != nil else { return }
            let channel = m.channel, payload = m.payload
            channel.withUnsafeBufferPointer { c in
                payload.withUnsafeBufferPointer { p in
                    let cv = ByteView(c.baseAddress ?? UnsafePointer(bitPattern: 1)!, c.count)
                    let pv = ByteView(p.baseAddress ?? UnsafePointer(bitPattern: 1)!, p.count)
                    if type == .publish {
                        publish(channel: cv, message: pv)
                    } else if let subs = shardChannelSubscribers[c.count == 0 ? [] : Array(c)] {
                        deliver(to: subs, "smessage", channel: cv, message: pv)
                    }
                }
            }
        case .update:
            guard sender != nil, let n = cluster.index(ofName: m.about), cluster.nodes[n]!.configEpoch < m.updateEpoch else { return }
            if cluster.nodes[n]!.isReplica { setNodeAsMaster(n) }
            cluster.nodes[n]!.configEpoch = m.updateEpoch
            updateSlotsConfig(with: n, epoch: m.updateEpoch, slots: m.updateSlots)
            clusterChanged()
        case .failoverAuthRequest:
            considerFailoverAuthRequest(m, sender: sender, now: now)
        case .failoverAuthAck:
            countFailoverAuthAck(m, sender: sender)
        case .mfstart:
            manualFailoverRequested(by: sender, link: id)
        case .module:
            break  // no modules
        }
    }

    mutating func bindInboundLink(_ id: Int, to node: Int) {
        let old = cluster.nodes[node]!.inLink
        if old >= 0 && old != id { freeClusterLink(old) }
        cluster.links[id]!.node = node
        cluster.nodes[node]!.inLink = id
    }

    /// Our IP as the peer sees us (getsockname of the link), until cluster-announce-ip says.
    mutating func learnMyAddress(from id: Int) {
        guard let l = cluster.links[id] else { return }
        let ip = Self.hostPart(Socket.localAddress(l.fd))
        if !ip.isEmpty && ip != cluster.me.ip {
            cluster.me.ip = ip
            Log.warning("IP address for this node updated to \(ip)")
            clusterChanged()
        }
    }

    /// A MEET from a node we do not know: it joins, in handshake, under a random name until
    /// our own link to it learns the real one.
    mutating func addMetNode(_ m: ClusterMessage, link id: Int, now: Int64) {
        var node = ClusterNode(name: ClusterNode.randomName(), flags: [.handshake], now: now)
        node.ip = m.ip.isEmpty ? peerIP(id) : m.ip
        node.port = Int(m.port)
        node.plaintextPort = Int(m.plaintextPort)
        node.busPort = Int(m.busPort)
        _ = cluster.add(node)
        clusterChanged()
    }

    func peerIP(_ id: Int) -> String {
        guard let l = cluster.links[id], let address = Socket.connectedPeerAddress(l.fd) else { return "" }
        return Self.hostPart(address)
    }

    /// "10.0.0.1:6379" → "10.0.0.1", "[::1]:6379" → "::1".
    static func hostPart(_ address: String) -> String {
        var ip = address
        if let colon = ip.lastIndex(of: ":") { ip = String(ip[..<colon]) }
        if ip.hasPrefix("[") && ip.hasSuffix("]") { ip = String(ip.dropFirst().dropLast()) }
        return ip
    }

    mutating func processPingPong(_ m: ClusterMessage, _ type: ClusterMessageType, sender: Int?, link id: Int, now: Int64) {
        // (Our PONG may have failed and freed the link already.)
        guard let l = cluster.links[id] else { return }
        if !l.inbound && l.node >= 0 {
            let node = l.node
            if cluster.nodes[node]!.flags.contains(.handshake) {
                // (The rest of this first message is not used: `sender` was looked up before the
                // rename, as in Redis; the next one fills in role, slots and gossip.)
                if !finishHandshake(node, m, sender: sender, link: id) { return }
            } else
            if cluster.nodes[node]!.name != m.sender {
                // The address now answers with another id: drop what we knew of it.
                Log.verbose("PONG contains mismatching sender ID. About node \(cluster.nodes[node]!.name) added \(now - cluster.nodes[node]!.createdMillis) ms ago, having flags \(cluster.nodes[node]!.flags.rawValue)")
                cluster.nodes[node]!.flags.insert(.noAddress)
                cluster.nodes[node]!.ip = ""
                cluster.nodes[node]!.port = 0
                cluster.nodes[node]!.busPort = 0
                freeClusterLink(id)
                clusterChanged()
                return
            }
        }
        if !l.inbound && type == .pong, l.node >= 0, cluster.nodes[l.node] != nil {
            let n = l.node
            cluster.nodes[n]!.pongReceivedMillis = now
            cluster.nodes[n]!.pingSentMillis = 0
            if cluster.nodes[n]!.flags.contains(.possiblyFailing) {
                cluster.nodes[n]!.flags.remove(.possiblyFailing)
                clusterChanged()
            } else if cluster.nodes[n]!.isFailing {
                clearFailureIfNeeded(n, now: now)
            }
        }
        guard let s = sender else { return }
        if type == .ping && cluster.nodes[s]!.outLink != id { updateAddressIfNeeded(s, m, link: id) }
        if cluster.nodes[s]!.flags.contains(.noFailover) != (m.flags & ClusterNodeFlags.noFailover.rawValue != 0) {
            cluster.nodes[s]!.flags.formSymmetricDifference(.noFailover)
        }
        updateRole(s, m)
        // Slots: a master's claims; a stale one is answered with an UPDATE.
        let masterOfSender = cluster.nodes[s]!.isReplica ? cluster.nodes[s]!.master : s
        if masterOfSender >= 0 && slotsDiffer(masterOfSender, m) {
            if cluster.nodes[s]!.isMaster { updateSlotsConfig(with: s, epoch: m.configEpoch, slots: m.slots) }
            sendUpdateIfStale(s, m)
        }
        if cluster.nodes[s]!.isMaster && cluster.me.isMaster && m.configEpoch == cluster.me.configEpoch { handleEpochCollision(s) }
        processGossip(m, sender: s, now: now)
        let hostname = m.hostname ?? ""
        if cluster.nodes[s]!.hostname != hostname {
            cluster.nodes[s]!.hostname = hostname
            clusterChanged()
        }
    }

    /// The first answer from a node we met: it gets its real name (true), or, if we knew it
    /// under that name already, the handshake entry goes (false).
    mutating func finishHandshake(_ node: Int, _ m: ClusterMessage, sender: Int?, link id: Int) -> Bool {
        if let known = sender {
            Log.verbose("Handshake: we already know node \(m.sender), updating the address if needed.")
            updateAddressIfNeeded(known, m, link: id)
            freeClusterLink(id)
            cluster.remove(node)
            clusterChanged()
            return false
        }
        Log.verbose("Renaming node \(cluster.nodes[node]!.name) into \(m.sender)")
        cluster.nodes[node]!.name = m.sender
        cluster.nodes[node]!.flags.remove(.handshake)
        cluster.nodes[node]!.flags.insert(m.flags & ClusterNodeFlags.replica.rawValue != 0 ? .replica : .master)
        clusterChanged()
        return true
    }

    /// A node's address as its messages say (announced IP, or the socket's peer).
    mutating func updateAddressIfNeeded(_ i: Int, _ m: ClusterMessage, link id: Int) {
        let ip = m.ip.isEmpty ? peerIP(id) : m.ip
        if ip.isEmpty { return }  // the peer is gone already: nothing to learn
        let n = cluster.nodes[i]!
        if n.ip == ip && n.port == Int(m.port) && n.busPort == Int(m.busPort) && n.plaintextPort == Int(m.plaintextPort) { return }
        cluster.nodes[i]!.ip = ip
        cluster.nodes[i]!.port = Int(m.port)
        cluster.nodes[i]!.busPort = Int(m.busPort)
        cluster.nodes[i]!.plaintextPort = Int(m.plaintextPort)
        if n.outLink >= 0 { freeClusterLink(n.outLink) }
        cluster.nodes[i]!.flags.remove(.noAddress)
        Log.warning("Address updated for node \(n.name), now \(ip):\(m.port)")
        // Our master moved: replicate from where it is now.
        if cluster.me.isReplica && cluster.me.master == i { startReplication(host: ip, port: Int(m.port)) }
        clusterChanged()
    }

    /// Master or replica, as the sender says (a master that became a replica loses its slots).
    mutating func updateRole(_ s: Int, _ m: ClusterMessage) {
        if m.master.isEmpty {
            if cluster.nodes[s]!.isReplica { setNodeAsMaster(s) }
            return
        }
        if cluster.nodes[s]!.isMaster {
            for slot in 0..<HashSlot.count where Int(cluster.owner[slot]) == s { cluster.unassign(slot) }
            cluster.nodes[s]!.flags.remove([.master, .migrateTo])
            cluster.nodes[s]!.flags.insert(.replica)
            clusterChanged()
        }
        if let master = cluster.index(ofName: m.master), cluster.nodes[s]!.master != master {
            cluster.attach(s, to: master)
            clusterChanged()
        }
    }

    /// A replica promoted (by election, TAKEOVER, or as others tell): a master that had a
    /// master is one its siblings' replicas may migrate to, as Redis's clusterSetNodeAsMaster.
    mutating func setNodeAsMaster(_ i: Int) {
        let wasReplica = cluster.nodes[i]!.isReplica && cluster.nodes[i]!.master >= 0
        cluster.nodes[i]!.flags.remove(.replica)
        cluster.nodes[i]!.flags.insert(.master)
        if wasReplica && i != cluster.myself { cluster.nodes[i]!.flags.insert(.migrateTo) }
        cluster.nodes[i]!.master = -1
        clusterChanged()
    }

    func slotsDiffer(_ owner: Int, _ m: ClusterMessage) -> Bool {
        for s in 0..<HashSlot.count where (Int(cluster.owner[s]) == owner) != m.hasSlot(s) { return true }
        return false
    }

    /// Redis's clusterUpdateSlotsConfigWith: the claimed slots whose owner has an older
    /// configEpoch (or none) become `sender`'s. When that leaves our master (or us) without
    /// slots we follow the sender — always with cluster-allow-replica-migration, otherwise only
    /// when the sender took exactly our slots (a failover, not a rebalance spreading them).
    mutating func updateSlotsConfig(with sender: Int, epoch: UInt64, slots: [UInt8]) {
        if sender == cluster.myself { return }
        let me = cluster.myself
        let myMaster = cluster.me.isReplica ? cluster.me.master : me
        var dirty: [Int] = []
        var changed = false
        var senderSlots = 0, takenFromUs = 0
        for s in 0..<HashSlot.count where slots[s >> 3] & (1 << UInt8(s & 7)) != 0 {
            senderSlots += 1
            let owner = Int(cluster.owner[s])
            if owner == sender || cluster.importingFrom[s] >= 0 { continue }
            if owner < 0 || cluster.nodes[owner]!.configEpoch < epoch {
                if owner == me && dbs[0].slotKeys.count(inSlot: s) > 0 && sender != me { dirty.append(s) }
                if owner >= 0 && owner == myMaster { takenFromUs += 1 }
                cluster.assign(s, to: sender)
                changed = true
            }
        }
        guard changed else { return }
        // Saved, not fsynced: what others told us, they tell again (epochs and votes are fsynced).
        clusterChanged()
        if myMaster >= 0 && takenFromUs > 0 && cluster.nodes[myMaster]!.slotCount == 0
            && (settings.storedValue("cluster-allow-replica-migration") == "yes" || senderSlots == takenFromUs)
        {
            Log.warning("Configuration change detected. Reconfiguring myself as a replica of \(cluster.nodes[sender]!.name)")
            becomeReplica(of: sender)
        } else if cluster.me.isReplica, myMaster >= 0, cluster.nodes[myMaster]!.isReplica,
                  case let grand = cluster.nodes[myMaster]!.master, grand >= 0, grand != me
        {
            // Our master became a replica itself: follow its master, not a chain.
            Log.warning("I'm a sub-replica! Reconfiguring myself as a replica of grandmaster \(cluster.nodes[grand]!.name)")
            becomeReplica(of: grand)
        } else {
            for s in dirty {
                Log.warning("Deleting keys in dirty slot \(s) on node \(cluster.me.name)")
                for e in dbs[0].slotKeys.entries(inSlot: s, limit: Int.max) { _ = dbs[0].delete(e.key) }
            }
        }
    }

    /// Tells a node that claims slots with a stale epoch who owns them now (one UPDATE).
    mutating func sendUpdateIfStale(_ s: Int, _ m: ClusterMessage) {
        guard cluster.nodes[s]!.outLink >= 0 else { return }
        for slot in 0..<HashSlot.count where m.hasSlot(slot) {
            let owner = Int(cluster.owner[slot])
            guard owner >= 0, owner != s, cluster.nodes[owner]!.configEpoch > m.configEpoch else { continue }
            var u = clusterMessage(.update)
            u.updateEpoch = cluster.nodes[owner]!.configEpoch
            u.about = cluster.nodes[owner]!.name
            u.updateSlots = [UInt8](repeating: 0, count: ClusterMessage.slotBytes)
            for x in 0..<HashSlot.count where Int(cluster.owner[x]) == owner { u.updateSlots[x >> 3] |= 1 << UInt8(x & 7) }
            Log.verbose("Node \(cluster.nodes[s]!.name) has old slots configuration, sending an UPDATE message about \(u.about)")
            sendClusterMessage(u.encoded(), link: cluster.nodes[s]!.outLink, type: .update)
            return
        }
    }

    /// Two masters with one configEpoch: the smaller name takes a new epoch.
    mutating func handleEpochCollision(_ s: Int) {
        guard cluster.nodes[s]!.name > cluster.me.name else { return }
        cluster.currentEpoch += 1
        cluster.me.configEpoch = cluster.currentEpoch
        clusterChanged(fsync: true)
        Log.verbose("WARNING: configEpoch collision with node \(cluster.nodes[s]!.name). configEpoch set to \(cluster.me.configEpoch)")
    }

    // MARK: - Gossip and failure detection

    mutating func processGossip(_ m: ClusterMessage, sender: Int, now: Int64) {
        let senderIsMaster = cluster.nodes[sender]!.isMaster
        for g in m.gossip {
            if let i = cluster.index(ofName: g.name) {
                if senderIsMaster && i != cluster.myself {
                    if g.flags & (ClusterNodeFlags.possiblyFailing.rawValue | ClusterNodeFlags.failing.rawValue) != 0 {
                        addFailureReport(i, from: sender, now: now)
                        markFailingIfNeeded(i, now: now)
                    } else {
                        cluster.nodes[i]!.failReports.removeAll { $0.reporter == sender }
                    }
                }
                let n = cluster.nodes[i]!
                if g.flags & (ClusterNodeFlags.possiblyFailing.rawValue | ClusterNodeFlags.failing.rawValue) == 0
                    && n.pingSentMillis == 0 && n.failReports.isEmpty
                {
                    let pong = Int64(g.pongReceivedSeconds) * 1000
                    if pong <= now + 500 && pong > n.pongReceivedMillis { cluster.nodes[i]!.pongReceivedMillis = pong }
                }
                if (n.flags.contains(.possiblyFailing) || n.isFailing) && g.flags & ClusterNodeFlags.noAddress.rawValue == 0
                    && g.flags & (ClusterNodeFlags.possiblyFailing.rawValue | ClusterNodeFlags.failing.rawValue) == 0
                    && (n.ip != g.ip || n.port != Int(g.port) || n.busPort != Int(g.busPort))
                {
                    if n.outLink >= 0 { freeClusterLink(n.outLink) }
                    cluster.nodes[i]!.ip = g.ip
                    cluster.nodes[i]!.port = Int(g.port)
                    cluster.nodes[i]!.busPort = Int(g.busPort)
                    cluster.nodes[i]!.plaintextPort = Int(g.plaintextPort)
                    cluster.nodes[i]!.flags.remove(.noAddress)
                }
            } else if g.flags & ClusterNodeFlags.noAddress.rawValue == 0 && !isForgotten(g.name, now: now) {
                var node = ClusterNode(name: g.name, flags: ClusterNodeFlags(rawValue: g.flags).subtracting([.myself]), now: now)
                node.ip = g.ip
                node.port = Int(g.port)
                node.busPort = Int(g.busPort)
                node.plaintextPort = Int(g.plaintextPort)
                _ = cluster.add(node)
                clusterChanged()
            }
        }
    }

    func isForgotten(_ name: String, now: Int64) -> Bool {
        (cluster.forgotten[name] ?? 0) > now
    }

    mutating func addFailureReport(_ i: Int, from reporter: Int, now: Int64) {
        if let k = cluster.nodes[i]!.failReports.firstIndex(where: { $0.reporter == reporter }) {
            cluster.nodes[i]!.failReports[k].millis = now
        } else {
            cluster.nodes[i]!.failReports.append((reporter, now))
        }
    }

    /// PFAIL → FAIL once a majority of the slot-serving masters agree (reports live for twice
    /// the node timeout); the FAIL is broadcast so every node agrees at once.
    mutating func markFailingIfNeeded(_ i: Int, now: Int64) {
        let n = cluster.nodes[i]!
        guard n.flags.contains(.possiblyFailing), !n.isFailing else { return }
        let timeout = clusterNodeTimeout
        cluster.nodes[i]!.failReports.removeAll { now - $0.millis > timeout * 2 }
        let needed = cluster.size / 2 + 1
        let failures = cluster.nodes[i]!.failReports.count + (cluster.me.isMaster ? 1 : 0)
        guard failures >= needed else { return }
        Log.notice("Marking node \(n.name) as failing (quorum reached).")
        cluster.nodes[i]!.flags.remove(.possiblyFailing)
        cluster.nodes[i]!.flags.insert(.failing)
        cluster.nodes[i]!.failTimeMillis = now
        var fail = clusterMessage(.fail)
        fail.about = n.name
        broadcastClusterMessage(fail)
        clusterChanged(fsync: true)
    }

    /// A FAIL flag goes when the node answers: at once for a replica or a slotless master, for
    /// a master with slots only when nobody promoted a replica meanwhile (2 × node timeout).
    mutating func clearFailureIfNeeded(_ i: Int, now: Int64) {
        let n = cluster.nodes[i]!
        let timeout = clusterNodeTimeout
        if n.isReplica || n.slotCount == 0 {
            Log.notice("Clear FAIL state for node \(n.name): \(n.isReplica ? "replica" : "master without slots") is reachable again.")
        } else if now - n.failTimeMillis > timeout * 2 {
            Log.notice("Clear FAIL state for node \(n.name): is reachable again and nobody is serving its slots after some time.")
        } else {
            return
        }
        cluster.nodes[i]!.flags.remove(.failing)
        clusterChanged()
    }
}
