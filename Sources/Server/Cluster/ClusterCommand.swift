/*
 * ClusterCommand: CLUSTER's subcommands, ASKING, READONLY and READWRITE — Redis 7.0's replies
 * and error strings, since redis-cli --cluster and cluster clients parse them.
 *
 * Outside cluster mode every subcommand (HELP too) answers "This instance has cluster support
 * disabled", as Redis's. The reply builders for NODES, SLOTS and SHARDS are in
 * ClusterReplies.swift; slot ownership changes go through ClusterState and mark nodes.conf to be
 * saved before the loop sleeps.
 */
import Glibc
import Keyspace
import Platform
import RESP

enum ClusterSubcommand: UInt8 {
    case addslots, addslotsrange, bumpepoch, countFailureReports, countkeysinslot, delslots, delslotsrange
    case failover, flushslots, forget, getkeysinslot, help, info, keyslot, links, meet, myid, nodes
    case replicas, replicate, reset, saveconfig, setConfigEpoch, setslot, shards, slaves, slots
}

enum ClusterCommands {
    static let adminFlags: CommandFlags = [.admin, .stale, .noAsyncLoading]

    static let specs: [CommandSpec] = [
        .init("cluster", .container, -2, [.container], "cluster", "3.0.0", "A container for cluster commands"),
        .init("cluster|addslots", .cluster(.addslots), -3, adminFlags, "cluster", "3.0.0", "Assign new hash slots to receiving node"),
        .init("cluster|addslotsrange", .cluster(.addslotsrange), -4, adminFlags, "cluster", "7.0.0",
              "Assign new hash slots to receiving node"),
        .init("cluster|bumpepoch", .cluster(.bumpepoch), 2, adminFlags, "cluster", "3.0.0", "Advance the cluster config epoch"),
        .init("cluster|count-failure-reports", .cluster(.countFailureReports), 3, [.admin, .stale], "cluster", "3.0.0",
              "Return the number of failure reports active for a given node"),
        .init("cluster|countkeysinslot", .cluster(.countkeysinslot), 3, [.stale], "cluster", "3.0.0",
              "Return the number of local keys in the specified hash slot"),
        .init("cluster|delslots", .cluster(.delslots), -3, adminFlags, "cluster", "3.0.0", "Set hash slots as unbound in receiving node"),
        .init("cluster|delslotsrange", .cluster(.delslotsrange), -4, adminFlags, "cluster", "7.0.0",
              "Set hash slots as unbound in receiving node"),
        .init("cluster|failover", .cluster(.failover), -2, adminFlags, "cluster", "3.0.0",
              "Forces a replica to perform a manual failover of its master."),
        .init("cluster|flushslots", .cluster(.flushslots), 2, adminFlags, "cluster", "3.0.0", "Delete a node's own slots information"),
        .init("cluster|forget", .cluster(.forget), 3, adminFlags, "cluster", "3.0.0", "Remove a node from the nodes table"),
        .init("cluster|getkeysinslot", .cluster(.getkeysinslot), 4, [.stale], "cluster", "3.0.0",
              "Return local key names in the specified hash slot"),
        .init("cluster|help", .cluster(.help), 2, [.loading, .stale], "cluster", "5.0.0",
              "Show helpful text about the different subcommands"),
        .init("cluster|info", .cluster(.info), 2, [.stale], "cluster", "3.0.0", "Provides info about Redis Cluster node state"),
        .init("cluster|keyslot", .cluster(.keyslot), 3, [.stale], "cluster", "3.0.0", "Returns the hash slot of the specified key"),
        .init("cluster|links", .cluster(.links), 2, [.stale], "cluster", "7.0.0",
              "Returns a list of all TCP links to and from peer nodes in cluster"),
        .init("cluster|meet", .cluster(.meet), -4, adminFlags, "cluster", "3.0.0", "Force a node cluster to handshake with another node"),
        .init("cluster|myid", .cluster(.myid), 2, [.stale], "cluster", "3.0.0", "Return the node id"),
        .init("cluster|nodes", .cluster(.nodes), 2, [.stale], "cluster", "3.0.0", "Get Cluster config for the node"),
        .init("cluster|replicas", .cluster(.replicas), 3, [.admin, .stale], "cluster", "5.0.0",
              "List replica nodes of the specified master node"),
        .init("cluster|replicate", .cluster(.replicate), 3, adminFlags, "cluster", "3.0.0",
              "Reconfigure a node as a replica of the specified master node"),
        .init("cluster|reset", .cluster(.reset), -2, [.admin, .noscript, .stale], "cluster", "3.0.0", "Reset a Redis Cluster node"),
        .init("cluster|saveconfig", .cluster(.saveconfig), 2, adminFlags, "cluster", "3.0.0",
              "Forces the node to save cluster state on disk"),
        .init("cluster|set-config-epoch", .cluster(.setConfigEpoch), 3, adminFlags, "cluster", "3.0.0",
              "Set the configuration epoch in a new node"),
        .init("cluster|setslot", .cluster(.setslot), -4, adminFlags, "cluster", "3.0.0", "Bind a hash slot to a specific node"),
        .init("cluster|shards", .cluster(.shards), 2, [.stale], "cluster", "7.0.0", "Get array of cluster slots to node mappings"),
        .init("cluster|slaves", .cluster(.slaves), 3, [.admin, .stale], "cluster", "3.0.0",
              "List replica nodes of the specified master node"),
        .init("cluster|slots", .cluster(.slots), 2, [.stale], "cluster", "3.0.0", "Get array of Cluster slot to node mappings"),
        .init("asking", .asking, 1, [.fast], "cluster", "3.0.0", "Sent by cluster clients after an -ASK redirect"),
    ]
}

extension Server {
    static let clusterDisabled: StaticString = "-ERR This instance has cluster support disabled\r\n"
    static let badSlot: StaticString = "-ERR Invalid or out of range slot\r\n"

    mutating func clusterCommand(_ c: ClientRef, _ sub: ClusterSubcommand) {
        guard cluster.enabled else {
            addError(c, Self.clusterDisabled)
            return
        }
        switch sub {
        case .help: addHelp(c, HelpText.cluster)
        case .myid: c.pointee.reply.appendBulk(cluster.me.name)
        case .info: c.pointee.reply.appendVerbatim(clusterInfoText(), resp3: c.pointee.resp3)
        case .nodes: c.pointee.reply.appendVerbatim(clusterNodesText(plaintext: seesPlaintextPorts(c)), resp3: c.pointee.resp3)
        case .slots: clusterSlotsReply(c)
        case .shards: clusterShardsReply(c)
        case .links: clusterLinksReply(c)
        case .keyslot: c.pointee.reply.appendInteger(Int64(HashSlot.of(c.pointee.arg(2))))
        case .countkeysinslot: countKeysInSlotCommand(c)
        case .getkeysinslot: getKeysInSlotCommand(c)
        case .addslots, .delslots: addOrDeleteSlotsCommand(c, add: sub == .addslots, ranges: false)
        case .addslotsrange, .delslotsrange: addOrDeleteSlotsCommand(c, add: sub == .addslotsrange, ranges: true)
        case .flushslots: flushSlotsCommand(c)
        case .setslot: setSlotCommand(c)
        case .bumpepoch: bumpEpochCommand(c)
        case .setConfigEpoch: setConfigEpochCommand(c)
        case .saveconfig:
            saveClusterConfig(fsync: true)
            addOK(c)
        case .reset: clusterResetCommand(c)
        case .forget: forgetCommand(c)
        case .countFailureReports:
            guard nodeArgument(c, 2) != nil else { return }
            c.pointee.reply.appendInteger(0)
        case .replicas, .slaves: replicasCommand(c)
        case .replicate: replicateCommand(c)
        case .failover: clusterFailoverCommand(c)
        case .meet: meetCommand(c)
        }
    }

    /// ASKING / READONLY / READWRITE.
    mutating func clusterClientFlagCommand(_ c: ClientRef, _ id: CommandID) {
        guard cluster.enabled else {
            addError(c, Self.clusterDisabled)
            return
        }
        switch id {
        case .asking: c.pointee.flags.insert(.asking)
        case .readonly: c.pointee.flags.insert(.readonlyCluster)
        default: c.pointee.flags.remove(.readonlyCluster)
        }
        addOK(c)
    }

    // MARK: - Arguments

    /// A slot argument (0 ... 16383), or nil after replying "Invalid or out of range slot".
    mutating func slotArgument(_ c: ClientRef, _ i: Int) -> Int? {
        guard let v = c.pointee.arg(i).int64, v >= 0, v < HashSlot.count else {
            addError(c, Self.badSlot)
            return nil
        }
        return Int(v)
    }

    /// A node id argument naming a known node, or nil after "Unknown node <id>".
    mutating func nodeArgument(_ c: ClientRef, _ i: Int) -> Int? {
        let name = c.pointee.arg(i).string
        guard let n = cluster.index(ofName: name) else {
            addErrorString(c, "ERR Unknown node \(name)")
            return nil
        }
        return n
    }

    // MARK: - Keys per slot

    mutating func countKeysInSlotCommand(_ c: ClientRef) {
        guard let v = c.pointee.arg(2).int64 else {
            addError(c, "-ERR value is not an integer or out of range\r\n")
            return
        }
        guard v >= 0, v < HashSlot.count else {
            addError(c, "-ERR Invalid slot\r\n")
            return
        }
        c.pointee.reply.appendInteger(Int64(dbs[0].slotKeys.count(inSlot: Int(v))))
    }

    mutating func getKeysInSlotCommand(_ c: ClientRef) {
        guard let slot = c.pointee.arg(2).int64, let count = c.pointee.arg(3).int64 else {
            addError(c, "-ERR value is not an integer or out of range\r\n")
            return
        }
        guard slot >= 0, slot < HashSlot.count, count >= 0 else {
            addError(c, "-ERR Invalid slot or number of keys\r\n")
            return
        }
        let entries = dbs[0].slotKeys.entries(inSlot: Int(slot), limit: Int(min(count, Int64(Int32.max))))
        c.pointee.reply.appendArrayHeader(entries.count)
        for e in entries { c.pointee.reply.appendBulk(e.key) }
    }

    // MARK: - Slot assignment

    /// ADDSLOTS / DELSLOTS and their RANGE forms: every argument checked first, then all or
    /// nothing, with Redis's errors.
    mutating func addOrDeleteSlotsCommand(_ c: ClientRef, add: Bool, ranges: Bool) {
        let argc = c.pointee.argc
        if ranges && argc % 2 == 1 {
            addErrorString(c, "ERR wrong number of arguments for 'cluster|\(add ? "addslotsrange" : "delslotsrange")' command")
            return
        }
        var slots: [Int] = []
        var i = 2
        while i < argc {
            guard let a = slotArgument(c, i) else { return }
            if ranges {
                guard let b = slotArgument(c, i + 1) else { return }
                if a > b {
                    addErrorString(c, "ERR start slot number \(a) is greater than end slot number \(b)")
                    return
                }
                slots += Array(a...b)
                i += 2
            } else {
                slots.append(a)
                i += 1
            }
        }
        var seen = Set<Int>()
        for s in slots {
            if add && cluster.owner[s] >= 0 {
                addErrorString(c, "ERR Slot \(s) is already busy")
                return
            }
            if !add && cluster.owner[s] < 0 {
                addErrorString(c, "ERR Slot \(s) is already unassigned")
                return
            }
            if !seen.insert(s).inserted {
                addErrorString(c, "ERR Slot \(s) specified multiple times")
                return
            }
        }
        for s in slots {
            cluster.importingFrom[s] = -1
            if add { cluster.assign(s, to: cluster.myself) } else { cluster.unassign(s) }
        }
        clusterChanged()
        addOK(c)
    }

    mutating func flushSlotsCommand(_ c: ClientRef) {
        if dbs[0].count != 0 {
            addError(c, "-ERR DB must be empty to perform CLUSTER FLUSHSLOTS.\r\n")
            return
        }
        for s in 0..<HashSlot.count where Int(cluster.owner[s]) == cluster.myself { cluster.unassign(s) }
        clusterChanged()
        addOK(c)
    }

    /// CLUSTER SETSLOT <slot> IMPORTING|MIGRATING <id> | STABLE | NODE <id>.
    mutating func setSlotCommand(_ c: ClientRef) {
        if cluster.me.isReplica {
            addError(c, "-ERR Please use SETSLOT only with masters.\r\n")
            return
        }
        guard let slot = slotArgument(c, 2) else { return }
        let action = c.pointee.arg(3)
        let argc = c.pointee.argc
        let mine = Int(cluster.owner[slot]) == cluster.myself
        var bumped = false
        if action.equalsLowercase("migrating") && argc == 5 {
            if !mine {
                addErrorString(c, "ERR I'm not the owner of hash slot \(slot)")
                return
            }
            guard let target = knownMasterArgument(c, 4) else { return }
            cluster.migratingTo[slot] = Int16(target)
        } else if action.equalsLowercase("importing") && argc == 5 {
            if mine {
                addErrorString(c, "ERR I'm already the owner of hash slot \(slot)")
                return
            }
            guard let source = knownMasterArgument(c, 4) else { return }
            cluster.importingFrom[slot] = Int16(source)
        } else if action.equalsLowercase("stable") && argc == 4 {
            cluster.migratingTo[slot] = -1
            cluster.importingFrom[slot] = -1
        } else if action.equalsLowercase("node") && argc == 5 {
            guard let target = nodeArgument(c, 4) else { return }
            if cluster.nodes[target]!.isReplica {
                addError(c, "-ERR Target node is not a master\r\n")
                return
            }
            let keys = dbs[0].slotKeys.count(inSlot: slot)
            if mine && target != cluster.myself && keys != 0 {
                addErrorString(c, "ERR Can't assign hashslot \(slot) to a different node while I still hold keys for this hash slot.")
                return
            }
            // A migration whose keys are all gone is over (whoever owned the slot meanwhile).
            if keys == 0 { cluster.migratingTo[slot] = -1 }
            cluster.assign(slot, to: target)
            // A master that gave away its last slot follows the node that took it, as Redis.
            if mine && target != cluster.myself && cluster.me.slotCount == 0
                && settings.storedValue("cluster-allow-replica-migration") == "yes"
            {
                Log.warning("Configuration change detected. Reconfiguring myself as a replica of \(cluster.nodes[target]!.name)")
                becomeReplica(of: target)
            }
            if target == cluster.myself && cluster.importingFrom[slot] >= 0 {
                if cluster.bumpEpochWithoutConsensus() {
                    Log.warning("configEpoch updated after importing slot \(slot)")
                    bumped = true
                }
                cluster.importingFrom[slot] = -1
                // The other nodes learn the new owner at once, as Redis.
                broadcastPong()
            }
        } else {
            addError(c, "-ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP\r\n")
            return
        }
        // On disk before the reply only when an epoch moved (Redis's fsync rule).
        clusterChanged(fsync: bumped)
        addOK(c)
    }

    /// SETSLOT's node argument: known ("I don't know about node") and a master.
    mutating func knownMasterArgument(_ c: ClientRef, _ i: Int) -> Int? {
        let name = c.pointee.arg(i).string
        guard let n = cluster.index(ofName: name) else {
            addErrorString(c, "ERR I don't know about node \(name)")
            return nil
        }
        if cluster.nodes[n]!.isReplica {
            addError(c, "-ERR Target node is not a master\r\n")
            return nil
        }
        return n
    }

    // MARK: - Epochs

    mutating func bumpEpochCommand(_ c: ClientRef) {
        let bumped = cluster.bumpEpochWithoutConsensus()
        if bumped { clusterChanged(fsync: true) }
        c.pointee.reply.appendStatus("\(bumped ? "BUMPED" : "STILL") \(cluster.me.configEpoch)")
    }

    mutating func setConfigEpochCommand(_ c: ClientRef) {
        guard let epoch = c.pointee.arg(2).int64 else {
            addError(c, "-ERR value is not an integer or out of range\r\n")
            return
        }
        if epoch < 0 {
            addErrorString(c, "ERR Invalid config epoch specified: \(epoch)")
        } else if cluster.knownNodes > 1 {
            addError(c, "-ERR The user can assign a config epoch only when the node does not know any other node.\r\n")
        } else if cluster.me.configEpoch != 0 {
            addError(c, "-ERR Node config epoch is already non-zero\r\n")
        } else {
            cluster.me.configEpoch = UInt64(epoch)
            Log.warning("configEpoch set to \(epoch) via CLUSTER SET-CONFIG-EPOCH")
            if cluster.currentEpoch < UInt64(epoch) { cluster.currentEpoch = UInt64(epoch) }
            clusterChanged(fsync: true)
            addOK(c)
        }
    }

    // MARK: - Membership

    /// CLUSTER RESET [HARD|SOFT]: forget every other node and every slot; HARD also zeroes the
    /// epochs and takes a new id.
    mutating func clusterResetCommand(_ c: ClientRef) {
        var hard = false
        if c.pointee.argc == 3 {
            let how = c.pointee.arg(2)
            if how.equalsLowercase("hard") {
                hard = true
            } else if !how.equalsLowercase("soft") {
                addError(c, "-ERR syntax error\r\n")
                return
            }
        } else if c.pointee.argc > 3 {
            addErrorString(c, "ERR unknown subcommand or wrong number of arguments for '\(c.pointee.arg(1).string)'. Try CLUSTER HELP.")
            return
        }
        if cluster.me.isMaster && dbs[0].count != 0 {
            addError(c, "-ERR CLUSTER RESET can't be called with master nodes containing keys\r\n")
            return
        }
        resetCluster(hard: hard)
        addOK(c)
    }

    mutating func resetCluster(hard: Bool) {
        // A replica turns into an empty master, as Redis's clusterReset.
        if cluster.me.isReplica {
            setNodeAsMaster(cluster.myself)
            promoteToMaster()
            if watchCount > 0 { touchWatchersOfExistingKeys(-1) }
            trackingInvalidateAll()
            for i in 0..<dbCount { dbs[i].removeAll() }
        }
        resetManualFailover()
        for s in 0..<HashSlot.count {
            cluster.unassign(s)
            cluster.migratingTo[s] = -1
            cluster.importingFrom[s] = -1
        }
        for i in cluster.nodes.indices where i != cluster.myself && cluster.nodes[i] != nil { forgetClusterNode(i) }
        if hard {
            cluster.currentEpoch = 0
            cluster.lastVoteEpoch = 0
            cluster.me.configEpoch = 0
            Log.warning("configEpoch set to 0 via CLUSTER RESET HARD")
            cluster.me.name = ClusterNode.randomName()
            Log.notice("Node hard reset, now I'm \(cluster.me.name)")
        }
        clusterChanged(fsync: true)
    }

    mutating func forgetCommand(_ c: ClientRef) {
        guard let n = nodeArgument(c, 2) else { return }
        if n == cluster.myself {
            addError(c, "-ERR I tried hard but I can't forget myself...\r\n")
            return
        }
        if cluster.me.isReplica && cluster.me.master == n {
            addError(c, "-ERR Can't forget my master!\r\n")
            return
        }
        cluster.forgotten[cluster.nodes[n]!.name] = Clock.unixMillis() + 60_000
        forgetClusterNode(n)
        clusterChanged(fsync: true)
        addOK(c)
    }

    /// Drops a node from the table, and its links.
    mutating func forgetClusterNode(_ i: Int) {
        if let n = cluster.nodes[i] {
            if n.outLink >= 0 { freeClusterLink(n.outLink) }
            if n.inLink >= 0 { freeClusterLink(n.inLink) }
        }
        cluster.remove(i)
    }

    mutating func replicasCommand(_ c: ClientRef) {
        guard let n = nodeArgument(c, 2) else { return }
        if cluster.nodes[n]!.isReplica {
            addError(c, "-ERR The specified node is not a master\r\n")
            return
        }
        let replicas = cluster.replicas(of: n)
        c.pointee.reply.appendArrayHeader(replicas.count)
        for r in replicas { c.pointee.reply.appendBulk(clusterNodeLine(r, plaintext: seesPlaintextPorts(c))) }
    }

    mutating func replicateCommand(_ c: ClientRef) {
        guard let n = nodeArgument(c, 2) else { return }
        if n == cluster.myself {
            addError(c, "-ERR Can't replicate myself\r\n")
        } else if cluster.nodes[n]!.isReplica {
            addError(c, "-ERR I can only replicate a master, not a replica.\r\n")
        } else if cluster.me.isMaster && (cluster.me.slotCount != 0 || dbs[0].count != 0) {
            addError(c, "-ERR To set a master the node must be empty and without assigned slots.\r\n")
        } else {
            becomeReplica(of: n)
            addOK(c)
        }
    }

    /// CLUSTER MEET ip port [bus-port]: the arguments checked as Redis does, then a handshake
    /// with that address (ClusterCron.swift); +OK even if the node never answers, as Redis.
    mutating func meetCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc > 5 {
            addErrorString(c, "ERR unknown subcommand or wrong number of arguments for '\(c.pointee.arg(1).string)'. Try CLUSTER HELP.")
            return
        }
        guard let port = c.pointee.arg(3).int64 else {
            addErrorString(c, "ERR Invalid TCP base port specified: \(c.pointee.arg(3).string)")
            return
        }
        var busPort = port + 10000
        if argc == 5 {
            guard let b = c.pointee.arg(4).int64 else {
                addErrorString(c, "ERR Invalid TCP bus port specified: \(c.pointee.arg(4).string)")
                return
            }
            busPort = b
        }
        let ip = c.pointee.arg(2).string
        guard Socket.isNumericAddress(ip), (1...65535).contains(port), (1...65535).contains(busPort) else {
            addErrorString(c, "ERR Invalid node address specified: \(ip):\(c.pointee.arg(3).string)")
            return
        }
        startHandshake(ip: normalizedAddress(ip), port: Int(port), busPort: Int(busPort))
        addOK(c)
    }

    /// An address literal as inet_ntop writes it (IPv6 compressed, as Redis stores it).
    func normalizedAddress(_ ip: String) -> String {
        var v6 = in6_addr()
        guard ip.contains(":"), inet_pton(AF_INET6, ip, &v6) == 1 else { return ip }
        var text = [CChar](repeating: 0, count: 64)
        guard inet_ntop(AF_INET6, &v6, &text, 64) != nil else { return ip }
        return String(cString: text)
    }

    // MARK: - After a change

    /// A change to the cluster configuration: nodes.conf is saved and the state re-evaluated
    /// before the loop sleeps.
    mutating func clusterChanged(fsync: Bool = false) {
        cluster.todoSave = true
        cluster.todoSaveFsync = cluster.todoSaveFsync || fsync
        cluster.todoUpdateState = true
    }
}
