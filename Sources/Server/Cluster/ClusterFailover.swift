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
 *
 * CLUSTER FAILOVER on a replica does the same by hand: by default it asks its master to pause
 * writes (MFSTART); the master then sends its replication offset in PINGs flagged PAUSED, and
 * once the replica has applied that much it runs the election at once, with FORCEACK so masters
 * vote although its master is up — no acknowledged write is lost. FORCE skips the master, and
 * TAKEOVER skips the vote (a new epoch without consensus). Either gives up after 5 seconds.
 */
import Keyspace
import Platform

/// CLUSTER FAILOVER in progress (Redis's mf_* fields), on the replica or on its master.
struct ManualFailover {
    /// When it gives up; 0: none in progress.
    var end: Int64 = 0
    /// Replica: the election may start.
    var canStart = false
    /// Replica: the paused master's offset, -1 until it told us.
    var masterOffset: Int64 = -1
    /// Master: the replica that asked.
    var replica = -1
}

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
        let manual = cluster.manual.end != 0 && cluster.manual.canStart
        guard me.isReplica, me.master >= 0, let master = cluster.nodes[me.master], master.isFailing || manual,
              master.slotCount > 0 else { return }
        if settings.storedValue("cluster-replica-no-failover") == "yes" && !manual { return }
        let timeout = clusterNodeTimeout
        // How old our data is: since the link went down (or was last heard from).
        var age = link.state == .connected ? now - link.lastIOMillis : now - link.downSinceMillis
        if age > timeout { age -= timeout }
        let factor = Int64(Int(settings.storedValue("cluster-replica-validity-factor")) ?? 10)
        if !manual && factor > 0 && age > Int64(settings.replPingReplicaPeriod) * 1000 + timeout * factor {
            logCantFailover("Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.", now)
            return
        }
        let authTimeout = max(timeout * 2, 2000)
        let retryTime = authTimeout * 2
        if manual && !cluster.election.authSent && cluster.election.authTime > now {
            cluster.election.authTime = now  // a manual failover starts at once
        }
        if now - cluster.election.authTime > retryTime {
            cluster.election = ClusterElection()
            if manual {
                cluster.election.authTime = now
                return
            }
            cluster.election.rank = replicaRank()
            cluster.election.authTime = now + 500 + Int64.random(in: 0..<500) + Int64(cluster.election.rank) * 1000
            Log.warning("Start of election delayed for \(cluster.election.authTime - now) milliseconds (rank #\(cluster.election.rank), offset \(repl.offset)).")
            return
        }
        if !cluster.election.authSent && !manual {
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
            var request = clusterMessage(.failoverAuthRequest)
            if cluster.manual.end != 0 { request.messageFlags |= ClusterMessageFlag.forceAck }
            broadcastClusterMessage(request)
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
        resetManualFailover()
        clusterChanged(fsync: true)
        updateClusterState()
        broadcastPong()
    }

    // MARK: - Manual failover

    /// CLUSTER FAILOVER [FORCE|TAKEOVER], on a replica.
    mutating func clusterFailoverCommand(_ c: ClientRef) {
        var force = false, takeover = false
        if c.pointee.argc == 3 {
            let how = c.pointee.arg(2)
            if how.equalsLowercase("force") {
                force = true
            } else if how.equalsLowercase("takeover") {
                takeover = true
            } else {
                addError(c, "-ERR syntax error\r\n")
                return
            }
        } else if c.pointee.argc > 3 {
            addErrorString(c, "ERR unknown subcommand or wrong number of arguments for '\(c.pointee.arg(1).string)'. Try CLUSTER HELP.")
            return
        }
        if cluster.me.isMaster {
            addError(c, "-ERR You should send CLUSTER FAILOVER to a replica\r\n")
            return
        }
        guard cluster.me.master >= 0, let master = cluster.nodes[cluster.me.master] else {
            addError(c, "-ERR I'm a replica but my master is unknown to me\r\n")
            return
        }
        if !force && !takeover && (master.isFailing || !clusterLinkConnected(cluster.me.master)) {
            addError(c, "-ERR Master is down or failed, please use CLUSTER FAILOVER FORCE\r\n")
            return
        }
        resetManualFailover()
        cluster.manual.end = Clock.unixMillis() + 5000
        if takeover {
            Log.warning("Taking over the master (user request).")
            _ = cluster.bumpEpochWithoutConsensus()
            replaceMyMaster()
        } else if force {
            Log.warning("Forced failover user request accepted.")
            cluster.manual.canStart = true
        } else {
            Log.warning("Manual failover user request accepted.")
            sendClusterMessage(clusterMessage(.mfstart).encoded(), link: master.outLink, type: .mfstart)
        }
        addOK(c)
    }

    /// MFSTART from one of our replicas: pause writes, and tell it our offset (PAUSED pings).
    mutating func manualFailoverRequested(by sender: Int?, link id: Int) {
        guard let s = sender, cluster.me.isMaster, cluster.nodes[s]!.isReplica, cluster.nodes[s]!.master == cluster.myself
        else { return }
        let now = Clock.unixMillis()
        resetManualFailover()
        cluster.manual.end = now + 5000
        cluster.manual.replica = s
        pauseMode = max(pauseMode, 1)
        pauseEndMillis = max(pauseEndMillis, now + 10_000)
        Log.warning("Manual failover requested by replica \(cluster.nodes[s]!.name).")
        sendPing(toLink: id, .ping)
    }

    /// A message from our master while we wait for its paused offset.
    mutating func noteMasterPausedOffset(_ m: ClusterMessage, sender: Int?) {
        guard let s = sender, cluster.manual.end != 0, cluster.manual.masterOffset < 0, cluster.me.isReplica,
              cluster.me.master == s, m.messageFlags & ClusterMessageFlag.paused != 0 else { return }
        cluster.manual.masterOffset = Int64(truncatingIfNeeded: m.offset)
        Log.warning("Received replication offset for paused master manual failover: \(cluster.manual.masterOffset)")
    }

    /// From the cron: give up after 5 s; on the replica, start once the paused offset is applied;
    /// on the master, keep pinging the replica.
    mutating func manualFailoverCron(_ now: Int64) {
        guard cluster.manual.end != 0 else { return }
        if now > cluster.manual.end {
            Log.warning("Manual failover timed out.")
            resetManualFailover()
            return
        }
        if cluster.me.isReplica {
            if !cluster.manual.canStart && cluster.manual.masterOffset >= 0 && repl.offset == cluster.manual.masterOffset {
                cluster.manual.canStart = true
                Log.warning("All master replication stream processed, manual failover can start.")
            }
        } else if cluster.manual.replica >= 0, let r = cluster.nodes[cluster.manual.replica], r.outLink >= 0 {
            sendPing(toLink: r.outLink, .ping)
        }
    }

    /// Ends a manual failover; a master lets writes go again.
    mutating func resetManualFailover() {
        if cluster.manual.end != 0 && cluster.manual.replica >= 0 && pauseMode == 1 { unpauseClients() }
        cluster.manual = ManualFailover()
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
