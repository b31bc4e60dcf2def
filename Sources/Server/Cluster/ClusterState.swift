/*
 * ClusterState: cluster mode's view of the cluster — Redis's clusterState.
 *
 * The node table holds every node this one knows, itself included (`myself`); a removed node
 * leaves a nil hole, so indices held elsewhere (a replica's master, the slot owners) stay
 * valid until they are cleared. `owner[slot]` is the table index of the master serving each
 * of the 16,384 slots (-1: unassigned), and `migratingTo` / `importingFrom` the open
 * migrations (only this node's, as in Redis). The epochs are the ones Redis Cluster keeps:
 * `currentEpoch` cluster-wide, each master's `configEpoch`, and the epoch of our last vote.
 *
 * Changes mark the state to be saved (`todoSave`) and re-evaluated (`todoUpdateState`); the
 * event loop does both before sleeping, as Redis's clusterBeforeSleep, so a burst of changes
 * costs one write of nodes.conf.
 */
import Keyspace
import Platform

struct ClusterState {
    var enabled = false
    var nodes: [ClusterNode?] = []
    var myself = -1
    var owner = [Int16](repeating: -1, count: HashSlot.count)
    var migratingTo = [Int16](repeating: -1, count: HashSlot.count)
    var importingFrom = [Int16](repeating: -1, count: HashSlot.count)
    var currentEpoch: UInt64 = 0
    var lastVoteEpoch: UInt64 = 0
    /// cluster_state: ok or fail, and cluster_size as last evaluated (Redis starts it at 1).
    var stateOK = false
    var reportedSize = 1
    /// The first evaluation of the state, for the 2 s a master waits before it reports ok.
    var firstStateCheckMillis: Int64 = 0
    var todoSave = false
    var todoSaveFsync = false
    var todoUpdateState = false
    /// Node ids CLUSTER FORGET removed, and until when gossip may not bring them back.
    var forgotten: [String: Int64] = [:]
    /// cluster_stats_messages_<type>_sent / _received, by bus message type (0 ... 10).
    var messagesSent = [Int64](repeating: 0, count: 11)
    var messagesReceived = [Int64](repeating: 0, count: 11)
    var linksBufferLimitExceeded: Int64 = 0
    /// DEBUG DROP-CLUSTER-PACKET-FILTER: received messages of this type are dropped (-1: none).
    var dropPacketFilter = -1
    /// The cluster bus: its listening sockets and the links to and from other nodes.
    var busListeners: [Int32] = []
    var links: [ClusterLink?] = []
    /// How many PFAIL nodes the last cron saw (gossip carries them all).
    var possiblyFailingCount = 0
    var cronTicks = 0
    var lastCronMillis: Int64 = 0
    /// This replica's election, when its master failed (ClusterFailover.swift).
    var election = ClusterElection()
    var manual = ManualFailover()
    var lastCantFailoverReason = ""
    var lastCantFailoverLogMillis: Int64 = 0
    /// nodes.conf, locked for the life of the process.
    var configFD: Int32 = -1
    var configPath = ""

    // MARK: - The node table

    var me: ClusterNode {
        get { nodes[myself]! }
        set { nodes[myself] = newValue }
    }

    func index(ofName name: String) -> Int? {
        nodes.firstIndex { $0?.name == name }
    }

    /// Adds a node and returns its index (reusing a hole).
    mutating func add(_ node: ClusterNode) -> Int {
        if let hole = nodes.firstIndex(where: { $0 == nil }) {
            nodes[hole] = node
            return hole
        }
        nodes.append(node)
        return nodes.count - 1
    }

    /// Removes a node: its slots become unassigned, its replicas lose their master, open
    /// migrations with it close.
    mutating func remove(_ i: Int) {
        for s in 0..<HashSlot.count {
            if owner[s] == Int16(i) { owner[s] = -1 }
            if migratingTo[s] == Int16(i) { migratingTo[s] = -1 }
            if importingFrom[s] == Int16(i) { importingFrom[s] = -1 }
        }
        for j in nodes.indices where nodes[j]?.master == i { nodes[j]!.master = -1 }
        nodes[i] = nil
    }

    var knownNodes: Int { nodes.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// Masters serving at least one slot (cluster_size).
    var size: Int { nodes.reduce(0) { $0 + (($1?.isMaster ?? false) && $1!.slotCount > 0 ? 1 : 0) } }

    /// The configEpoch CLUSTER NODES and the bus show for a node: a replica shows its master's.
    func shownConfigEpoch(_ i: Int) -> UInt64 {
        let n = nodes[i]!
        if n.isReplica, n.master >= 0, let m = nodes[n.master] { return m.configEpoch }
        return n.configEpoch
    }

    func replicas(of i: Int) -> [Int] {
        nodes.indices.filter { nodes[$0]?.isReplica == true && nodes[$0]!.master == i }
    }

    /// Makes node `replica` follow `master`. A master that has had a replica is one replica
    /// migration may refill when it is left without (Redis's CLUSTER_NODE_MIGRATE_TO).
    mutating func attach(_ replica: Int, to master: Int) {
        nodes[replica]!.master = master
        nodes[master]?.flags.insert(.migrateTo)
    }

    /// Each node's replicas that are neither FAIL nor PFAIL, by table index (one pass).
    func workingReplicaCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: nodes.count)
        for n in nodes {
            if let n, n.isReplica, n.master >= 0, n.master < counts.count, !n.isFailing, !n.flags.contains(.possiblyFailing) {
                counts[n.master] += 1
            }
        }
        return counts
    }

    // MARK: - Slots

    mutating func assign(_ slot: Int, to i: Int) {
        let old = Int(owner[slot])
        if old == i { return }
        if old >= 0 { nodes[old]?.slotCount -= 1 }
        owner[slot] = Int16(i)
        nodes[i]!.slotCount += 1
    }

    mutating func unassign(_ slot: Int) {
        let old = Int(owner[slot])
        guard old >= 0 else { return }
        nodes[old]?.slotCount -= 1
        owner[slot] = -1
    }

    /// Every node's slot runs, in one pass over the slots (CLUSTER NODES, nodes.conf).
    func allSlotRanges() -> [Int: [(Int, Int)]] {
        var ranges: [Int: [(Int, Int)]] = [:]
        var start = 0
        for s in 1...HashSlot.count {
            if s < HashSlot.count && owner[s] == owner[start] { continue }
            if owner[start] >= 0 { ranges[Int(owner[start]), default: []].append((start, s - 1)) }
            start = s
        }
        return ranges
    }

    /// The slots of node `i` as CLUSTER NODES writes them: "0-5460 5462".
    func slotRanges(of i: Int) -> [(Int, Int)] { allSlotRanges()[i] ?? [] }

    // MARK: - Epochs

    /// The greatest configEpoch known (Redis's clusterGetMaxEpoch, at least currentEpoch).
    var maxEpoch: UInt64 {
        nodes.reduce(currentEpoch) { max($0, $1?.configEpoch ?? 0) }
    }

    /// Redis's clusterBumpConfigEpochWithoutConsensus: a new epoch for myself when mine is 0 or
    /// not the greatest. Returns whether it moved.
    mutating func bumpEpochWithoutConsensus() -> Bool {
        let maxEpoch = self.maxEpoch
        if me.configEpoch == 0 || me.configEpoch != maxEpoch {
            currentEpoch += 1
            me.configEpoch = currentEpoch
            todoSave = true
            Log.notice("New configEpoch set to \(me.configEpoch)")
            return true
        }
        return false
    }
}
