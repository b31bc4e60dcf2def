/*
 * ClusterRouting: which node serves a command's keys — Redis's getNodeByQuery, run by dispatch
 * after the ACL check in cluster mode.
 *
 * All the keys of a command (of every queued command, for EXEC; the channels of SSUBSCRIBE,
 * SUNSUBSCRIBE and SPUBLISH) must hash to one slot, else -CROSSSLOT. The slot's owner decides:
 * this node runs the command; another answers -MOVED <slot> <endpoint>:<port>. During a
 * migration the source answers -ASK for keys already moved (or -TRYAGAIN when a multi-key
 * command finds some here and some gone) and the target serves them to clients that sent
 * ASKING. A READONLY client of a replica reads its master's slots locally. While the cluster
 * is down, -CLUSTERDOWN, as cluster-allow-reads-when-down and
 * cluster-allow-pubsubshard-when-down say. The replies, and their place among the checks, are
 * Redis 7.0's; the master's stream and keyless commands are never redirected.
 */
import Keyspace
import Platform

/// What the keys of a request say about where it may run.
struct SlotQuery {
    var slot = -1
    var firstKey = ByteView("")
    var owner = -1
    var multipleKeys = false
    var migrating = false
    var importing = false
    var missingKeys = 0
    var existingKeys = 0
    var shardChannels = false
    var error: String? = nil
}

extension Server {
    /// nil when `c` may run the command here; otherwise the redirection or error to send.
    mutating func clusterRedirection(_ c: ClientRef, _ index: Int) -> String? {
        let spec = commands.specs + index
        let exec = spec.pointee.id == .exec
        if exec && !c.pointee.flags.contains(.multi) { return nil }
        var q = SlotQuery()
        if exec {
            var argv = UnsafeMutablePointer<ByteView>.allocate(capacity: 8)
            var capacity = 8
            defer { argv.deallocate() }
            c.pointee.multiQueue.forEach { offset in
                if q.error != nil { return }
                let argc = c.pointee.multiQueue.load(at: offset, into: &argv, capacity: &capacity)
                let queued = commandIndex(argc: argc) { argv[$0] }
                if queued >= 0 { collectKeys(&q, queued, argc: argc) { argv[$0] } }
            }
        } else {
            collectKeys(&q, index, argc: c.pointee.argc) { c.pointee.arg($0) }
        }
        c.pointee.clusterSlot = q.slot
        let write = spec.pointee.flags.contains(.write) || (exec && c.pointee.multiQueuedWrite)
            || scriptDeclaresWrites(c, spec.pointee.id)
        return routingDecision(q, index, clientFlags: c.pointee.flags, write: write, plaintext: seesPlaintextPorts(c))
    }

    /// Where a request whose keys are in `q` runs: nil here, else the redirection or error.
    func routingDecision(_ q: SlotQuery, _ index: Int, clientFlags: ClientFlags, write: Bool, plaintext: Bool) -> String? {
        let spec = commands.specs + index
        if let error = q.error { return error }
        if q.slot < 0 { return nil }
        if !cluster.stateOK {
            if q.shardChannels {
                if settings.storedValue("cluster-allow-pubsubshard-when-down") == "no" { return "CLUSTERDOWN The cluster is down" }
            } else if settings.storedValue("cluster-allow-reads-when-down") == "no" {
                return "CLUSTERDOWN The cluster is down"
            } else if write {
                return "CLUSTERDOWN The cluster is down and only accepts read commands"
            }
        }
        if spec.pointee.id == .migrate && (q.migrating || q.importing) { return nil }
        if q.migrating && q.missingKeys > 0 {
            if q.existingKeys > 0 { return "TRYAGAIN Multiple keys request during rehashing of slot" }
            return redirection("ASK", q.slot, Int(cluster.migratingTo[q.slot]), plaintext: plaintext)
        }
        if q.importing && (clientFlags.contains(.asking) || spec.pointee.flags.contains(.asking)) {
            if q.multipleKeys && q.missingKeys > 0 { return "TRYAGAIN Multiple keys request during rehashing of slot" }
            return nil
        }
        if (clientFlags.contains(.readonlyCluster) || q.shardChannels) && !write && cluster.me.isReplica
            && cluster.me.master == q.owner
        {
            return nil
        }
        if q.owner != cluster.myself { return redirection("MOVED", q.slot, q.owner, plaintext: plaintext) }
        return nil
    }

    /// "MOVED 3999 127.0.0.1:6381" (or ASK).
    func redirection(_ kind: String, _ slot: Int, _ node: Int, plaintext: Bool) -> String {
        "\(kind) \(slot) \(preferredEndpoint(node) ?? ""):\(clientPort(of: node, plaintext: plaintext))"
    }

    /// The command table index of a queued command (subcommands resolved), -1 if unknown.
    func commandIndex(argc: Int, _ arg: (Int) -> ByteView) -> Int {
        var index = commands.find(arg(0))
        if index >= 0 && commands.hasSubcommands[index] && argc >= 2 {
            let sub = commands.findSubcommand(parent: index, arg(1))
            if sub >= 0 { index = sub }
        }
        return index
    }

    /// Adds one command's keys (or shard channels) to the query.
    mutating func collectKeys(_ q: inout SlotQuery, _ index: Int, argc: Int, _ arg: (Int) -> ByteView) {
        switch commands.specs[index].id {
        case .ssubscribe, .sunsubscribe, .spublish:
            q.shardChannels = true
            let last = commands.specs[index].id == .spublish ? min(1, argc - 1) : argc - 1
            if last >= 1 { for i in 1...last where q.error == nil { addKey(&q, arg(i), channel: true) } }
        default:
            forEachKey(index, argc: argc, arg: arg) { position, _ in
                addKey(&q, arg(position), channel: false)
                return q.error == nil
            }
        }
    }

    func addKey(_ q: inout SlotQuery, _ key: ByteView, channel: Bool) {
        let slot = HashSlot.of(key)
        if q.slot < 0 {
            q.slot = slot
            q.firstKey = key
            q.owner = Int(cluster.owner[slot])
            if q.owner < 0 {
                q.error = "CLUSTERDOWN Hash slot not served"
                return
            }
            if q.owner == cluster.myself && cluster.migratingTo[slot] >= 0 {
                q.migrating = true
            } else if cluster.importingFrom[slot] >= 0 {
                q.importing = true
            }
        } else if !key.equals(q.firstKey) {
            if slot != q.slot {
                q.error = "CROSSSLOT Keys in request don't hash to the same slot"
                return
            }
            q.multipleKeys = true
        }
        if (q.migrating || q.importing) && !channel {
            // Present and not logically expired; nothing is touched or deleted.
            if let e = dbs[0].find(key), e.expireAt == 0 || e.expireAt > Clock.unixMillis() {
                q.existingKeys += 1
            } else {
                q.missingKeys += 1
            }
        }
    }

    /// Once a second: a client blocked on a key whose slot is no longer served here is
    /// unblocked with -MOVED (or -CLUSTERDOWN), as Redis's clusterRedirectBlockedClientIfNeeded.
    mutating func redirectBlockedClients() {
        guard blockedClients > 0 else { return }
        for c in allClients() where c.pointee.flags.contains(.blocked) && !c.pointee.block.isWait {
            guard let key = c.pointee.block.keys.first else { continue }
            var error: String? = nil
            if !cluster.stateOK {
                error = "CLUSTERDOWN The cluster is down"
            } else {
                let slot = key.key.withUnsafeBufferPointer { HashSlot.of(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count)) }
                let owner = Int(cluster.owner[slot])
                let readOnlyOnReplica = c.pointee.flags.contains(.readonlyCluster) && cluster.me.isReplica && cluster.me.master == owner
                    && c.pointee.block.commandIndex >= 0 && !commands.specs[c.pointee.block.commandIndex].flags.contains(.write)
                if owner < 0 {
                    error = "CLUSTERDOWN Hash slot not served"
                } else if owner != cluster.myself && cluster.importingFrom[slot] < 0 && !readOnlyOnReplica {
                    error = redirection("MOVED", slot, owner, plaintext: seesPlaintextPorts(c))
                }
            }
            guard let error else { continue }
            addErrorString(c, error)
            countUnblockedCall(c, failed: true)
            unblockClient(c)
            queueWrite(c)
            resumeAfterUnblock(c)
        }
    }

    /// A command a script calls (redis.call) in cluster mode, as Redis's
    /// scriptVerifyClusterState: its keys must be served here (the caller's READONLY and ASKING
    /// count), and unless the script allows cross-slot keys (old-style EVAL does) they must stay
    /// in the slot of the script's declared keys or of its first key access.
    mutating func scriptClusterRefusal(_ lc: ClientRef, _ index: Int, caller: ClientRef?) -> String? {
        guard let caller, !caller.pointee.isMaster else { return nil }
        var q = SlotQuery()
        collectKeys(&q, index, argc: lc.pointee.argc) { lc.pointee.arg($0) }
        let write = commands.specs[index].flags.contains(.write)
        if let decision = routingDecision(q, index, clientFlags: caller.pointee.flags, write: write,
                                          plaintext: seesPlaintextPorts(caller)) {
            if decision.hasPrefix("CLUSTERDOWN The cluster is down and only") {
                return "ERR Script attempted to execute a write command while the cluster is down and readonly"
            }
            if decision == "CLUSTERDOWN The cluster is down" {
                return "ERR Script attempted to execute a command while the cluster is down"
            }
            return "ERR Script attempted to access a non local key in a cluster node"
        }
        let flags = scriptRun.pointee.flags
        if q.slot >= 0 && !flags.contains(.allowCrossSlotKeys) && !flags.contains(.compatibilityMode) {
            if caller.pointee.clusterSlot < 0 {
                caller.pointee.clusterSlot = q.slot
            } else if caller.pointee.clusterSlot != q.slot {
                return "ERR Script attempted to access keys that do not hash to the same slot"
            }
        }
        return nil
    }
}
