/*
 * ClusterCron: the cluster's timers, every 100 ms as Redis's clusterCron — links opened to
 * every known node, handshakes that never finish dropped, pings (one random node of five each
 * second, and anyone not heard for half the node timeout), links that stay silent recycled,
 * and nodes that do not answer within cluster-node-timeout marked PFAIL. Also the node
 * membership changes commands make: MEET, and becoming a replica (REPLICATE, or losing every
 * slot to another master).
 */
import Keyspace
import Platform

extension Server {
    mutating func clusterCron(_ now: Int64) {
        guard now - cluster.lastCronMillis >= 100 else { return }
        cluster.lastCronMillis = now
        cluster.cronTicks += 1
        let timeout = clusterNodeTimeout
        let handshakeTimeout = max(timeout, 1000)
        cluster.forgotten = cluster.forgotten.filter { $0.value > now }
        updateMyFlags()
        var pfail = 0
        for i in cluster.nodes.indices where i != cluster.myself {
            guard let n = cluster.nodes[i], !n.flags.contains(.noAddress) else { continue }
            if n.flags.contains(.possiblyFailing) { pfail += 1 }
            if n.flags.contains(.handshake) && now - n.createdMillis > handshakeTimeout {
                if n.outLink >= 0 { freeClusterLink(n.outLink) }
                cluster.remove(i)
                continue
            }
            if n.outLink < 0 { connectClusterNode(i, now: now) }
        }
        cluster.possiblyFailingCount = pfail
        if cluster.cronTicks % 10 == 0 { pingOldestOfFive(now) }
        var changed = false
        for i in cluster.nodes.indices where i != cluster.myself {
            guard let n = cluster.nodes[i], !n.flags.contains(.noAddress), !n.flags.contains(.handshake) else { continue }
            if n.outLink >= 0, let l = cluster.links[n.outLink], !l.connecting, now - l.createdMillis > timeout,
               n.pingSentMillis != 0, now - n.pingSentMillis > timeout / 2, now - n.dataReceivedMillis > timeout / 2
            {
                freeClusterLink(n.outLink)  // reconnects next time
            }
            let link = cluster.nodes[i]!.outLink
            if link >= 0, cluster.links[link]?.isOpen == true, n.pingSentMillis == 0, now - n.pongReceivedMillis > timeout / 2 {
                sendPing(toLink: link, .ping)
                continue
            }
            let pingSent = cluster.nodes[i]!.pingSentMillis
            guard pingSent != 0 else { continue }
            let delay = min(now - pingSent, now - n.dataReceivedMillis)
            if delay > timeout && !n.flags.contains(.possiblyFailing) && !n.isFailing {
                Log.verbose("*** NODE \(n.name) possibly failing")
                cluster.nodes[i]!.flags.insert(.possiblyFailing)
                changed = true
            }
        }
        if changed || !cluster.stateOK { cluster.todoUpdateState = true }
        manualFailoverCron(now)
        if cluster.cronTicks % 10 == 0 { redirectBlockedClients() }
        if cluster.me.isReplica {
            startReplicationIfIdle()
            handleReplicaFailover(now)
            handleReplicaMigration(now)
        }
    }

    /// cluster-replica-no-failover shows as our nofailover flag (it travels in our messages).
    mutating func updateMyFlags() {
        let noFailover = settings.storedValue("cluster-replica-no-failover") == "yes"
        if cluster.me.flags.contains(.noFailover) != noFailover {
            cluster.me.flags.formSymmetricDifference(.noFailover)
            clusterChanged()
        }
    }

    /// A replica loaded from nodes.conf replicates nothing yet: once its master's address is
    /// known, replication starts (its own data offered as the cached master, as Redis's cron).
    mutating func startReplicationIfIdle() {
        guard settings.replicaOf == nil, cluster.me.master >= 0, let m = cluster.nodes[cluster.me.master],
              !m.flags.contains(.noAddress), !m.ip.isEmpty, m.port != 0 else { return }
        startReplication(host: m.ip, port: m.port)
    }

    /// Redis's replica migration (clusterHandleSlaveMigration): when a master that used to have
    /// replicas (MIGRATE_TO) serves slots with none working, and our master keeps more than
    /// cluster-migration-barrier working replicas and has as many as any master, the replica
    /// with the smallest name among those best-served masters' replicas re-attaches to the
    /// orphan — once the orphan has been without replicas for five seconds (time for a failover
    /// in its shard to show).
    mutating func handleReplicaMigration(_ now: Int64) {
        let myMaster = cluster.me.master
        let workingReplicas = cluster.workingReplicaCounts()
        var mostReplicas = 0, mine = 0, orphans = 0
        for i in cluster.nodes.indices {
            guard let n = cluster.nodes[i], n.isMaster, !n.isFailing else { continue }
            let working = workingReplicas[i]
            if working == 0 && n.slotCount > 0 && n.flags.contains(.migrateTo) { orphans += 1 }
            mostReplicas = max(mostReplicas, working)
            if i == myMaster { mine = working }
        }
        guard orphans > 0, mostReplicas >= 2, mine == mostReplicas, cluster.stateOK, myMaster >= 0,
              settings.storedValue("cluster-allow-replica-migration") == "yes",
              mine > Int(settings.storedValue("cluster-migration-barrier")) ?? 1 else { return }
        var target = -1
        var candidate = cluster.myself
        for i in cluster.nodes.indices {
            guard let n = cluster.nodes[i] else { continue }
            let working = n.isMaster ? workingReplicas[i] : 0
            if n.isMaster && !n.isFailing && n.flags.contains(.migrateTo) && working == 0 {
                if target < 0 && n.slotCount > 0 { target = i }
                if n.orphanedSinceMillis == 0 { cluster.nodes[i]!.orphanedSinceMillis = now }
            } else {
                cluster.nodes[i]!.orphanedSinceMillis = 0
            }
            if n.isMaster && working == mostReplicas {
                for r in cluster.replicas(of: i) where cluster.nodes[r]!.name < cluster.nodes[candidate]!.name {
                    candidate = r
                }
            }
        }
        guard target >= 0, candidate == cluster.myself,
              now - cluster.nodes[target]!.orphanedSinceMillis > 5000 else { return }
        Log.notice("Migrating to orphaned master \(cluster.nodes[target]!.name)")
        becomeReplica(of: target)
    }

    /// Once a second: of five random linked nodes with no ping in flight, the one heard from
    /// least recently gets a PING.
    mutating func pingOldestOfFive(_ now: Int64) {
        let candidates = cluster.nodes.indices.filter { i in
            guard i != cluster.myself, let n = cluster.nodes[i], n.outLink >= 0, n.pingSentMillis == 0,
                  !n.flags.contains(.handshake), cluster.links[n.outLink]?.isOpen == true else { return false }
            return true
        }
        guard !candidates.isEmpty else { return }
        var best = -1
        for _ in 0..<5 {
            let i = candidates[Int.random(in: 0..<candidates.count)]
            if best < 0 || cluster.nodes[i]!.pongReceivedMillis < cluster.nodes[best]!.pongReceivedMillis { best = i }
        }
        sendPing(toLink: cluster.nodes[best]!.outLink, .ping)
    }

    // MARK: - Membership

    /// CLUSTER MEET: a node in handshake at that address (unless one is already); the cron
    /// connects and sends MEET.
    mutating func startHandshake(ip: String, port: Int, busPort: Int) {
        let now = Clock.unixMillis()
        for n in cluster.nodes {
            guard let n, n.flags.contains(.handshake) else { continue }
            if n.ip == ip && n.port == port && n.busPort == busPort { return }
        }
        var node = ClusterNode(name: ClusterNode.randomName(), flags: [.handshake, .meet], now: now)
        node.ip = ip
        node.port = port
        node.busPort = busPort
        _ = cluster.add(node)
    }

    /// Makes this node a replica of master `i`: its slots are the master's now, and replication
    /// starts from the master's client port.
    mutating func becomeReplica(of i: Int) {
        resetManualFailover()
        for s in 0..<HashSlot.count where Int(cluster.owner[s]) == cluster.myself { cluster.unassign(s) }
        for s in 0..<HashSlot.count {
            cluster.migratingTo[s] = -1
            cluster.importingFrom[s] = -1
        }
        cluster.me.flags.remove([.master, .migrateTo])
        cluster.me.flags.insert(.replica)
        cluster.attach(cluster.myself, to: i)
        let m = cluster.nodes[i]!
        startReplication(host: m.ip, port: m.port)
        clusterChanged(fsync: true)
    }
}
