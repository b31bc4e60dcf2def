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
        if let error = q.error { return error }
        if q.slot < 0 { return nil }
        let write = spec.pointee.flags.contains(.write) || (exec && c.pointee.multiQueuedWrite)
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
            return redirection("ASK", q.slot, Int(cluster.migratingTo[q.slot]))
        }
        if q.importing && (c.pointee.flags.contains(.asking) || spec.pointee.flags.contains(.asking)) {
            if q.multipleKeys && q.missingKeys > 0 { return "TRYAGAIN Multiple keys request during rehashing of slot" }
            return nil
        }
        if (c.pointee.flags.contains(.readonlyCluster) || q.shardChannels) && !write && cluster.me.isReplica
            && cluster.me.master == q.owner
        {
            return nil
        }
        if q.owner != cluster.myself { return redirection("MOVED", q.slot, q.owner) }
        return nil
    }

    /// "MOVED 3999 127.0.0.1:6381" (or ASK).
    func redirection(_ kind: String, _ slot: Int, _ node: Int) -> String {
        "\(kind) \(slot) \(preferredEndpoint(node) ?? ""):\(cluster.nodes[node]!.port)"
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
}
