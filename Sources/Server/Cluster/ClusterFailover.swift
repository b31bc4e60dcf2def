/*
 * ClusterFailover: a replica takes over when its master fails — Redis 7.0's election
 * (clusterHandleSlaveFailover, clusterSendFailoverAuthIfNeeded), so Tandem replicas are
 * elected by redis-server masters and Tandem masters vote for redis-server replicas.
 *
 * Once its master is FAIL, a replica whose data is fresh enough (disconnected for less than
 * repl-ping-replica-period + node timeout × cluster-replica-validity-factor) waits 500 ms plus
 * up to 500 ms at random plus one second per sibling replica with a greater replication offset
 * (so the most up-to-date one usually asks first), then takes a new epoch and asks every
 * master for its vote (FAILOVER_AUTH_REQUEST, carrying its master's slots and configEpoch). A
 * master votes once per epoch, once per failed master every 2 × node timeout, and only when
 * no slot in the request has an owner with a newer configEpoch. With a majority of the
 * slot-serving masters the replica promotes itself: the failed master's slots, the election's
 * epoch as its configEpoch, a PONG to everyone. The others learn the slots from it; the old
 * master, when it returns, finds its slots gone and becomes a replica of the winner.
 */
import Keyspace
import Platform

/// A replica's election in progress.
struct ClusterElection {
    /// When the request may go (or went); 0: no election.
    var authTime: Int64 = 0
    var authCount = 0
    var authSent = false
    var authEpoch: UInt64 = 0
    var rank = 0
}

extension Server {
    var clusterNodeTimeout: Int64 { Int64(Int(settings.storedValue("cluster-node-timeout")) ?? 15000) }

    /// From the cluster cron: start, advance or win an election when our master failed.
    mutating func handleReplicaFailover(_ now: Int64) {
        let me = cluster.me
        guard me.isReplica, me.master >= 0, let master = cluster.nodes[me.master], master.isFailing, master.slotCount > 0
        else { return }
        if settings.storedValue("cluster-replica-no-failover") == "yes" { return }
        let timeout = clusterNodeTimeout
        // How old our data is: since the link went down (or was last heard from).
        var age = link.state == .connected ? now - link.lastIOMillis : now - link.downSinceMillis
        if age > timeout { age -= timeout }
        let factor = Int64(Int(settings.storedValue("cluster-replica-validity-factor")) ?? 10)
        if factor > 0 && age > Int64(settings.replPingReplicaPeriod) * 1000 + timeout * factor {
            logCantFailover("Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.", now)
            return
        }
        let authTimeout = max(timeout * 2, 2000)
        let retryTime = authTimeout * 2
        if now - cluster.election.authTime > retryTime {
            cluster.election = ClusterElection()
            cluster.election.rank = replicaRank()
            cluster.election.authTime = now + 500 + Int64.random(in: 0..<500) + Int64(cluster.election.rank) * 1000
            Log.warning("Start of election delayed for \(cluster.election.authTime - now) milliseconds (rank #\(cluster.election.rank), offset \(repl.offset)).")
            return
        }
        if !cluster.election.authSent {
            let rank = replicaRank()
            if rank > cluster.election.rank {
                cluster.election.authTime += Int64(rank - cluster.election.rank) * 1000
                cluster.election.rank = rank
            }
        }
        if now < cluster.election.authTime { return }
        if now - cluster.election.authTime > authTimeout {
            logCantFailover("Failover attempt expired.", now)
            return
        }
        if !cluster.election.authSent {
            cluster.currentEpoch += 1
            cluster.election.authEpoch = cluster.currentEpoch
            cluster.election.authSent = true
            Log.warning("Starting a failover election for epoch \(cluster.currentEpoch).")
            broadcastClusterMessage(clusterMessage(.failoverAuthRequest))
            clusterChanged(fsync: true)
            return
        }
        let needed = cluster.size / 2 + 1
        guard cluster.election.authCount >= needed else {
            logCantFailover("Waiting for votes, but majority still not reached.", now)
            return
        }
        Log.warning("Failover election won: I'm the new master.")
        if cluster.me.configEpoch < cluster.election.authEpoch {
            cluster.me.configEpoch = cluster.election.authEpoch
            Log.warning("configEpoch set to \(cluster.me.configEpoch) after successful failover")
        }
        replaceMyMaster()
    }

    /// Sibling replicas (of our master, not flagged nofailover) ahead of us in the stream.
    func replicaRank() -> Int {
        cluster.replicas(of: cluster.me.master).filter {
            $0 != cluster.myself && !cluster.nodes[$0]!.flags.contains(.noFailover)
                && cluster.nodes[$0]!.replicationOffset > repl.offset
        }.count
    }

    /// Redis logs why a failover cannot happen at most every 10 s (and the same reason once).
    mutating func logCantFailover(_ reason: String, _ now: Int64) {
        if reason == cluster.lastCantFailoverReason && now - cluster.lastCantFailoverLogMillis < 10_000 { return }
        cluster.lastCantFailoverReason = reason
        cluster.lastCantFailoverLogMillis = now
        Log.notice("Currently unable to failover: \(reason)")
    }

    /// The election is won (or TAKEOVER): become a master with the old master's slots and tell
    /// everyone.
    mutating func replaceMyMaster() {
        let old = cluster.me.master
        setNodeAsMaster(cluster.myself)
        promoteToMaster()
        for s in 0..<HashSlot.count where Int(cluster.owner[s]) == old {
            cluster.assign(s, to: cluster.myself)
        }
        cluster.election = ClusterElection()
        clusterChanged(fsync: true)
        updateClusterState()
        broadcastPong()
    }

    // MARK: - Voting

    /// A replica asks for our vote (we are a master with slots).
    mutating func considerFailoverAuthRequest(_ m: ClusterMessage, sender: Int?, now: Int64) {
        guard cluster.me.isMaster, cluster.me.slotCount > 0, let s = sender else { return }
        let requestEpoch = m.currentEpoch
        if requestEpoch < cluster.currentEpoch { return }
        if cluster.lastVoteEpoch == cluster.currentEpoch { return }
        let node = cluster.nodes[s]!
        guard node.isReplica, node.master >= 0, let master = cluster.nodes[node.master] else { return }
        let forced = m.messageFlags & ClusterMessageFlag.forceAck != 0
        if !master.isFailing && !forced { return }
        let timeout = clusterNodeTimeout
        if now - cluster.nodes[node.master]!.votedTimeMillis < timeout * 2 { return }
        for slot in 0..<HashSlot.count where m.hasSlot(slot) {
            let owner = Int(cluster.owner[slot])
            if owner >= 0 && cluster.nodes[owner]!.configEpoch > m.configEpoch { return }
        }
        cluster.lastVoteEpoch = cluster.currentEpoch
        cluster.nodes[node.master]!.votedTimeMillis = now
        saveClusterConfig(fsync: true)  // a vote is on disk before it is cast
        if node.outLink >= 0 {
            sendClusterMessage(clusterMessage(.failoverAuthAck).encoded(), link: node.outLink, type: .failoverAuthAck)
        }
        Log.warning("Failover auth granted to \(node.name) for epoch \(cluster.currentEpoch)")
    }

    /// A master's vote for our election.
    mutating func countFailoverAuthAck(_ m: ClusterMessage, sender: Int?) {
        guard let s = sender, cluster.nodes[s]!.isMaster, cluster.nodes[s]!.slotCount > 0,
              m.currentEpoch >= cluster.election.authEpoch, cluster.election.authSent else { return }
        cluster.election.authCount += 1
    }
}
