/*
 * ClusterLifecycle: cluster mode from start-up to each turn of the loop.
 *
 * At start-up (cluster-enabled yes) nodes.conf is opened, locked and loaded (or a new identity
 * made), the cluster bus listens, database 0 starts indexing its keys by slot, and after the data is loaded the slots
 * that hold keys but have no owner are claimed, as Redis's verifyClusterConfigWithData. Before
 * the loop sleeps, a changed configuration is saved and the cluster state re-evaluated
 * (Redis's clusterBeforeSleep); the cron re-evaluates it too while it is down.
 */
import Glibc
import Keyspace
import Platform

extension Server {
    /// The cluster part of start-up, before the data is loaded.
    public mutating func startCluster() {
        cluster.enabled = true
        openClusterConfig()
        refreshMyAddress()
        listenClusterBus()
        dbs[0].slotKeys.enable()
        cluster.todoUpdateState = true
    }

    /// Our own port and bus port as the configuration says (the file may hold older ones).
    mutating func refreshMyAddress() {
        let announcedPort = Int(settings.storedValue("cluster-announce-port")) ?? 0
        let announcedTLSPort = Int(settings.storedValue("cluster-announce-tls-port")) ?? 0
        let announcedBus = Int(settings.storedValue("cluster-announce-bus-port")) ?? 0
        let tlsPort = Int(settings.storedValue("tls-port")) ?? 0
        let plainPort = announcedPort != 0 ? announcedPort : settings.port
        // With tls-cluster the client port is the TLS one and the plain one travels as pport.
        if settings.storedValue("tls-cluster") == "yes" && tlsPort != 0 {
            cluster.me.port = announcedTLSPort != 0 ? announcedTLSPort : tlsPort
            cluster.me.plaintextPort = plainPort
        } else {
            cluster.me.port = plainPort
            cluster.me.plaintextPort = 0
        }
        cluster.me.busPort = announcedBus != 0 ? announcedBus : clusterBusPort
        cluster.me.hostname = settings.storedValue("cluster-announce-hostname")
        let announcedIP = settings.storedValue("cluster-announce-ip")
        if !announcedIP.isEmpty { cluster.me.ip = announcedIP }
        if cluster.me.isReplica == false { cluster.me.flags.insert(.master) }
        cluster.todoSave = true
    }

    /// After loading the data: keys in a slot nobody serves make it ours; keys in another
    /// node's slot open an import, as Redis does.
    public mutating func claimSlotsWithKeys() {
        guard cluster.me.isMaster else { return }
        var changed = false
        for s in 0..<HashSlot.count where dbs[0].slotKeys.count(inSlot: s) > 0 && Int(cluster.owner[s]) != cluster.myself {
            if cluster.owner[s] < 0 {
                Log.warning("I have keys for unassigned slot \(s). Taking responsibility for it.")
                cluster.assign(s, to: cluster.myself)
            } else if cluster.importingFrom[s] < 0 {
                Log.warning("I have keys for slot \(s), but the slot is assigned to another node. Setting it to importing state.")
                cluster.importingFrom[s] = cluster.owner[s]
            }
            changed = true
        }
        if changed { clusterChanged(fsync: true) }
    }

    /// Keys outside database 0 cannot be served in cluster mode: Redis refuses to start.
    public func verifyOnlyDatabaseZeroHasKeys() {
        for i in 1..<dbCount where dbs[i].count > 0 {
            Log.warning("You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting.")
            exit(1)
        }
    }

    /// Before the loop sleeps: save and re-evaluate what changed in this turn.
    mutating func clusterBeforeSleep() {
        if cluster.todoUpdateState {
            cluster.todoUpdateState = false
            updateClusterState()
        }
        if cluster.todoSave {
            if dropUnservedShardChannels() { flushPendingWrites() }
            saveClusterConfig(fsync: cluster.todoSaveFsync)
        }
        cluster.todoSaveFsync = false
    }

    /// Redis's clusterUpdateState: ok when every slot is served by a node not failing
    /// (cluster-require-full-coverage) and a majority of the slot-serving masters is reachable;
    /// a master reports ok only 2 s after its first evaluation.
    mutating func updateClusterState() {
        let now = Clock.monotonicMillis()
        if cluster.firstStateCheckMillis == 0 { cluster.firstStateCheckMillis = now }
        if cluster.me.isMaster && !cluster.stateOK && now - cluster.firstStateCheckMillis < 2000 {
            cluster.todoUpdateState = true  // looked at again next turn (the cron wakes us)
            return
        }
        var ok = true
        if settings.storedValue("cluster-require-full-coverage") == "yes" {
            for s in 0..<HashSlot.count {
                let o = Int(cluster.owner[s])
                if o < 0 || cluster.nodes[o]!.isFailing {
                    ok = false
                    break
                }
            }
        }
        var size = 0, reachable = 0
        for n in cluster.nodes {
            guard let n, n.isMaster, n.slotCount > 0 else { continue }
            size += 1
            if !n.flags.contains(.failing) && !n.flags.contains(.possiblyFailing) { reachable += 1 }
        }
        cluster.reportedSize = size
        if reachable < size / 2 + 1 { ok = false }
        if ok != cluster.stateOK {
            cluster.stateOK = ok
            Log.warning("Cluster state changed: \(ok ? "ok" : "fail")")
        }
    }
}
