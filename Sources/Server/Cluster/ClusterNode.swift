/*
 * ClusterNode: what this node knows of one member of the cluster (itself included) — Redis's
 * clusterNode, with the same flag bits, since they travel on the cluster bus and are written to
 * nodes.conf.
 *
 * Nodes live in ClusterState's table and refer to each other by table index (a replica's
 * `master`), so the per-slot owner array is 16,384 small integers and routing a command costs an
 * array read, not a string comparison.
 */
import Platform

/// Redis's CLUSTER_NODE_* bits (the bus carries them as they are).
struct ClusterNodeFlags: OptionSet {
    let rawValue: UInt16
    static let master = ClusterNodeFlags(rawValue: 1)
    static let replica = ClusterNodeFlags(rawValue: 2)
    static let possiblyFailing = ClusterNodeFlags(rawValue: 4)
    static let failing = ClusterNodeFlags(rawValue: 8)
    static let myself = ClusterNodeFlags(rawValue: 16)
    static let handshake = ClusterNodeFlags(rawValue: 32)
    static let noAddress = ClusterNodeFlags(rawValue: 64)
    static let meet = ClusterNodeFlags(rawValue: 128)
    static let migrateTo = ClusterNodeFlags(rawValue: 256)
    static let noFailover = ClusterNodeFlags(rawValue: 512)

    /// The words of CLUSTER NODES and nodes.conf, in Redis's order.
    static let words: [(ClusterNodeFlags, String)] = [
        (.myself, "myself"), (.master, "master"), (.replica, "slave"), (.possiblyFailing, "fail?"),
        (.failing, "fail"), (.handshake, "handshake"), (.noAddress, "noaddr"), (.noFailover, "nofailover"),
    ]

    var text: String {
        let names = Self.words.filter { contains($0.0) }.map(\.1)
        return names.isEmpty ? "noflags" : names.joined(separator: ",")
    }

    /// Parses a flags field of nodes.conf; nil for a word Redis does not know.
    init?(text: String) {
        self = []
        for word in text.split(separator: ",") {
            if word == "noflags" { continue }
            // Redis also accepts the transient words on load (and drops them).
            if word == "meet" || word == "migrate_to" { continue }
            guard let f = Self.words.first(where: { $0.1 == word }) else { return nil }
            insert(f.0)
        }
    }

    init(rawValue: UInt16) { self.rawValue = rawValue }
}

struct ClusterNode {
    /// 40 lowercase hex characters.
    var name: String
    var flags: ClusterNodeFlags
    var ip = ""
    /// Client port, plaintext port when the client port is TLS (0 otherwise), cluster bus port.
    var port = 0
    var plaintextPort = 0
    var busPort = 0
    var hostname = ""
    /// Table index of this replica's master, -1 for a master (or an unknown one).
    var master = -1
    var configEpoch: UInt64 = 0
    /// Hash slots this master serves (as far as this node knows).
    var slotCount = 0
    var pingSentMillis: Int64 = 0
    var pongReceivedMillis: Int64 = 0
    var replicationOffset: Int64 = 0
    var createdMillis: Int64
    /// The last time anything arrived from the node, and when it was marked failing.
    var dataReceivedMillis: Int64 = 0
    var failTimeMillis: Int64 = 0
    /// When we last voted for a replica of this master.
    var votedTimeMillis: Int64 = 0
    /// Since when this master (one that had replicas) has none working; 0: it has.
    var orphanedSinceMillis: Int64 = 0
    /// Our link to the node and the node's link to us (indices in ClusterState.links, -1: none).
    var outLink = -1
    var inLink = -1
    /// Masters that reported the node failing (table index, when).
    var failReports: [(reporter: Int, millis: Int64)] = []

    init(name: String, flags: ClusterNodeFlags, now: Int64) {
        self.name = name
        self.flags = flags
        self.createdMillis = now
    }

    var isMaster: Bool { flags.contains(.master) }
    var isReplica: Bool { flags.contains(.replica) }
    var isFailing: Bool { flags.contains(.failing) }

    /// A fresh node name: 40 random hex characters, as Redis's getRandomHexChars.
    static func randomName() -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<40).map { _ in hex[Int(rng.next() & 15)] }, as: UTF8.self)
    }

    /// A node id as clients may write it: exactly 40 characters of [a-z0-9].
    static func isValidName(_ s: String) -> Bool {
        s.utf8.count == 40 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) }
    }
}
