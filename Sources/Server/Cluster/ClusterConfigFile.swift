/*
 * ClusterConfigFile: nodes.conf (cluster-config-file), in Redis's format, so a node's file can
 * be read by either server and by operators' tools:
 *
 *     <id> <ip>:<port>@<cport>[,<hostname>] <flags> <master|-> <ping-sent> <pong-recv> <epoch> <link> <slots>...
 *     vars currentEpoch <n> lastVoteEpoch <n>
 *
 * The lines are CLUSTER NODES' (handshake nodes left out). The file is opened at start-up and
 * locked with flock for the life of the process, so two nodes cannot share one by mistake; it
 * is rewritten in place (one write, padded with newlines if it shrank, then truncated), with
 * an fsync where Redis does one (epochs and votes), and a failure to save stops the server, as
 * Redis's: a node that forgets a vote could vote twice.
 */
import Glibc
import Keyspace
import Platform

extension Server {
    // MARK: - Lines

    /// One node's CLUSTER NODES / nodes.conf line, without the newline (the formats are one;
    /// `plaintext` shows a plaintext client of a TLS cluster the plaintext ports).
    func clusterNodeLine(_ i: Int, ranges: [(Int, Int)]? = nil, plaintext: Bool = false) -> String {
        let n = cluster.nodes[i]!
        var line = "\(n.name) \(n.ip):\(clientPort(of: i, plaintext: plaintext))@\(n.busPort)"
        if !n.hostname.isEmpty { line += ",\(n.hostname)" }
        line += " \(n.flags.text) "
        line += n.isReplica && n.master >= 0 ? cluster.nodes[n.master]!.name : "-"
        let connected = i == cluster.myself || clusterLinkConnected(i)
        line += " \(n.pingSentMillis) \(n.pongReceivedMillis) \(cluster.shownConfigEpoch(i)) \(connected ? "connected" : "disconnected")"
        if n.isMaster {
            for (a, b) in ranges ?? cluster.slotRanges(of: i) { line += a == b ? " \(a)" : " \(a)-\(b)" }
        }
        if i == cluster.myself {
            for s in 0..<HashSlot.count {
                if cluster.migratingTo[s] >= 0, let t = cluster.nodes[Int(cluster.migratingTo[s])] {
                    line += " [\(s)->-\(t.name)]"
                } else if cluster.importingFrom[s] >= 0, let f = cluster.nodes[Int(cluster.importingFrom[s])] {
                    line += " [\(s)-<-\(f.name)]"
                }
            }
        }
        return line
    }

    /// CLUSTER NODES: every node's line, each ending in a newline.
    func clusterNodesText(includingHandshakes: Bool = true, plaintext: Bool = false) -> String {
        var text = ""
        let ranges = cluster.allSlotRanges()
        for i in cluster.nodes.indices where cluster.nodes[i] != nil {
            if !includingHandshakes && cluster.nodes[i]!.flags.contains(.handshake) { continue }
            text += clusterNodeLine(i, ranges: ranges[i] ?? [], plaintext: plaintext) + "\n"
        }
        return text
    }

    // MARK: - Loading

    /// Opens and locks cluster-config-file, then loads it, or starts a new identity when it is
    /// missing or empty. Exits (as Redis) when it is locked by another node or corrupt.
    mutating func openClusterConfig() {
        let path = settings.storedValue("cluster-config-file")
        cluster.configPath = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 {
            Log.warning("Can't open \(path) in order to acquire a lock: \(String(cString: strerror(errno)))")
            exit(1)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK {
                Log.warning("Sorry, the cluster configuration file \(path) is already used by a different Redis Cluster node. Please make sure that different nodes use different cluster configuration files.")
            } else {
                Log.warning("Impossible to lock \(path): \(String(cString: strerror(errno)))")
            }
            exit(1)
        }
        cluster.configFD = fd
        let text = readWholeFile(fd)
        let now = Clock.unixMillis()
        if text.allSatisfy({ $0 == "\n" || $0 == " " }) {
            cluster.myself = cluster.add(ClusterNode(name: ClusterNode.randomName(), flags: [.myself, .master], now: now))
            Log.notice("No cluster configuration found, I'm \(cluster.me.name)")
            saveClusterConfig(fsync: true)
            return
        }
        guard loadClusterConfig(text, now: now) else {
            Log.warning("Unrecoverable error: corrupted cluster config file.")
            exit(1)
        }
        Log.notice("Node configuration loaded, I'm \(cluster.me.name)")
    }

    func readWholeFile(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        _ = lseek(fd, 0, SEEK_SET)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses nodes.conf text into the (empty) table; false when it is corrupt.
    mutating func loadClusterConfig(_ text: String, now: Int64) -> Bool {
        var pendingMasters: [(Int, String)] = []
        var slotLines: [(Int, [Substring])] = []
        for rawLine in text.split(separator: "\n") {
            let fields = rawLine.split(separator: " ", omittingEmptySubsequences: true)
            if fields.isEmpty { continue }
            if fields[0] == "vars" {
                var k = 1
                while k + 1 < fields.count {
                    switch fields[k] {
                    case "currentEpoch": cluster.currentEpoch = UInt64(fields[k + 1]) ?? 0
                    case "lastVoteEpoch": cluster.lastVoteEpoch = UInt64(fields[k + 1]) ?? 0
                    default: Log.warning("Skipping unknown cluster config variable '\(fields[k])'")
                    }
                    k += 2
                }
                continue
            }
            guard fields.count >= 8, ClusterNode.isValidName(String(fields[0])),
                  let flags = ClusterNodeFlags(text: String(fields[2])) else { return false }
            var node = ClusterNode(name: String(fields[0]), flags: flags, now: now)
            // ip:port@cport[,hostname]; the ip may be empty or IPv6 (split at the last ':').
            var address = Substring(fields[1])
            if let comma = address.firstIndex(of: ",") {
                node.hostname = String(address[address.index(after: comma)...])
                address = address[..<comma]
            }
            var portPart = address
            if let at = address.lastIndex(of: "@") {
                node.busPort = Int(address[address.index(after: at)...]) ?? 0
                portPart = address[..<at]
            }
            guard let colon = portPart.lastIndex(of: ":") else { return false }
            node.ip = String(portPart[..<colon])
            node.port = Int(portPart[portPart.index(after: colon)...]) ?? 0
            if !address.contains("@") { node.busPort = node.port + 10000 }
            node.pingSentMillis = fields[4] == "0" ? 0 : now
            node.pongReceivedMillis = fields[5] == "0" ? 0 : now
            node.configEpoch = UInt64(fields[6]) ?? 0
            let i = cluster.add(node)
            if flags.contains(.myself) {
                if cluster.myself >= 0 { return false }
                cluster.myself = i
            }
            if fields[3] != "-" { pendingMasters.append((i, String(fields[3]))) }
            slotLines.append((i, Array(fields[8...])))
        }
        guard cluster.myself >= 0 else { return false }
        for (i, masterName) in pendingMasters {
            // A master named before its own line: known by now (Redis creates it on the fly).
            if let m = cluster.index(ofName: masterName) {
                cluster.attach(i, to: m)
            } else {
                var m = ClusterNode(name: masterName, flags: .master, now: now)
                m.flags = .master
                cluster.attach(i, to: cluster.add(m))
            }
        }
        for (i, tokens) in slotLines {
            for token in tokens {
                if token.hasPrefix("[") {
                    // [slot->-id] migrating, [slot-<-id] importing.
                    let body = token.dropFirst().dropLast()
                    guard let dash = body.firstIndex(of: "-"), let slot = Int(body[..<dash]),
                          (0..<HashSlot.count).contains(slot) else { return false }
                    let rest = body[body.index(after: dash)...]
                    guard rest.count > 2 else { return false }
                    let direction = rest.first!
                    let id = String(rest.dropFirst(2))
                    let peer = cluster.index(ofName: id) ?? cluster.add(ClusterNode(name: id, flags: .master, now: now))
                    if direction == ">" { cluster.migratingTo[slot] = Int16(peer) } else { cluster.importingFrom[slot] = Int16(peer) }
                    continue
                }
                let bounds = token.split(separator: "-")
                guard let a = Int(bounds[0]), let b = Int(bounds.count > 1 ? bounds[1] : bounds[0]),
                      a >= 0, b < HashSlot.count, a <= b else { return false }
                for s in a...b { cluster.assign(s, to: i) }
            }
        }
        return true
    }

    // MARK: - Saving

    /// The file's text: the nodes (no handshakes) and the vars line.
    func clusterConfigText() -> String {
        clusterNodesText(includingHandshakes: false)
            + "vars currentEpoch \(cluster.currentEpoch) lastVoteEpoch \(cluster.lastVoteEpoch)\n"
    }

    /// Rewrites nodes.conf in place; a failure stops the server, as Redis's does.
    mutating func saveClusterConfig(fsync wantsSync: Bool) {
        cluster.todoSave = false
        var bytes = Array(clusterConfigText().utf8)
        let length = bytes.count
        let fd = cluster.configFD
        var st = stat()
        if fstat(fd, &st) == 0 && Int(st.st_size) > bytes.count {
            bytes += [UInt8](repeating: 10, count: Int(st.st_size) - bytes.count)
        }
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        if written != bytes.count {
            Log.warning("Fatal: can't update cluster config file.")
            exit(1)
        }
        if length < bytes.count { _ = ftruncate(fd, off_t(length)) }
        if wantsSync { _ = fsync(fd) }
    }
}
