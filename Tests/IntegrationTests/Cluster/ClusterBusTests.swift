/*
 * ClusterBusTests.swift — clusters over the cluster bus (issue 19): Tandem and redis-server
 * nodes meet and gossip into one cluster that agrees on every slot (the signature
 * `redis-cli --cluster` waits for), clients follow -MOVED across both kinds of node, PUBLISH
 * crosses the bus; `redis-cli --cluster create` builds three masters with a replica each, and a
 * master killed with SIGKILL is replaced by its replica through an election, in Tandem-only
 * and mixed clusters (a Tandem replica elected by redis-server masters and the reverse), with
 * every acknowledged write still readable and the old master back as a replica. Garbage on
 * the bus port never harms a node. Node timeouts are short (1 s) to keep failovers quick.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

final class ClusterNodeProcess {
    let server: ServerProcess
    let busPort: UInt16
    let client: RawClient

    init(_ flavour: ServerFlavour, dir: String? = nil, busPort: UInt16? = nil, extraArgs: [String] = []) throws {
        let bus = try busPort ?? Harness.freePort()
        server = try ServerProcess.start(flavour, extraArgs: ["--cluster-enabled", "yes", "--cluster-port", String(bus),
                                                              "--cluster-node-timeout", "1000"] + extraArgs, dir: dir)
        self.busPort = bus
        client = try server.connect()
    }

    var port: UInt16 { server.port }
    func call(_ args: String...) throws -> String { String(decoding: try client.call(args), as: UTF8.self) }

    /// A bulk reply's text ("" for anything else).
    func text(_ args: String...) -> String {
        guard let reply = try? client.call(args), reply.first == UInt8(ascii: "$"),
              let end = reply.firstIndex(of: 10) else { return "" }
        return String(decoding: reply[(end + 1)...].dropLast(2), as: UTF8.self)
    }

    var myID: String { text("CLUSTER", "MYID") }

    /// The slot-owning lines of CLUSTER NODES as `<id>:<slots>`, sorted (redis-cli's signature).
    var slotSignature: String {
        text("CLUSTER", "NODES").split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            guard f.count > 8 else { return nil }
            return "\(f[0]):\(f[8...].joined(separator: ","))"
        }.sorted().joined(separator: "|")
    }

    var state: String {
        text("CLUSTER", "INFO").components(separatedBy: "\r\n").first { $0.hasPrefix("cluster_state:") } ?? ""
    }
}

/// A cluster client writing its keys round after round on its own thread until stopped: it
/// follows -MOVED, answers -ASK with ASKING at the named node, retries -TRYAGAIN, and records
/// the last value each key was acknowledged with.
final class ClusterWriter: @unchecked Sendable {
    let ports: [UInt16]
    let keys: [String]
    private let lock = NSLock()
    private var stopping = false
    private var done = false
    private var acked: [String: String] = [:]
    private(set) var failures: [String] = []
    private(set) var rounds = 0

    init(ports: [UInt16], keys: [String]) {
        self.ports = ports
        self.keys = keys
    }

    var acknowledged: [String: String] { lock.withLock { acked } }
    var finished: Bool { lock.withLock { done } }
    func stop() { lock.withLock { stopping = true } }

    func run() {
        var clients: [UInt16: RawClient] = [:]
        func client(_ port: UInt16) throws -> RawClient {
            if let c = clients[port] { return c }
            let c = try RawClient(port: port)
            clients[port] = c
            return c
        }
        var round = 0
        while !lock.withLock({ stopping }) {
            round += 1
            for key in keys {
                let value = "r\(round)"
                var port = ports[0]
                var asking = false
                var ok = false
                for _ in 0..<50 {
                    guard let c = try? client(port) else { break }
                    if asking { _ = try? c.call("ASKING") }
                    guard let reply = try? c.call("SET", key, value) else { break }
                    let text = String(decoding: reply, as: UTF8.self)
                    if text == "+OK\r\n" {
                        ok = true
                        break
                    }
                    let parts = text.dropFirst().split(separator: " ")
                    if (text.hasPrefix("-MOVED ") || text.hasPrefix("-ASK ")), parts.count == 3,
                       let p = UInt16(parts[2].split(separator: ":").last!.trimmingCharacters(in: .whitespacesAndNewlines)) {
                        port = p
                        asking = text.hasPrefix("-ASK ")
                    } else if text.hasPrefix("-TRYAGAIN") {
                        usleep(5_000)
                    } else {
                        lock.withLock { failures.append("\(key): \(text)") }
                        break
                    }
                }
                if ok { lock.withLock { acked[key] = value } }
            }
            lock.withLock { rounds = round }
        }
        lock.withLock { done = true }
    }
}

@Suite(.serialized) struct ClusterBusTests {
    static func agree(_ nodes: [ClusterNodeProcess], knowing count: Int, milliseconds: Int = 20_000) -> Bool {
        Harness.waitUntil(milliseconds: milliseconds) {
            let signatures = Set(nodes.map(\.slotSignature))
            return signatures.count == 1 && nodes.allSatisfy {
                $0.state == "cluster_state:ok"
                    && ((try? $0.call("CLUSTER", "INFO")) ?? "").contains("cluster_known_nodes:\(count)\r\n")
            }
        }
    }

    /// Sends a command to `node`, following -MOVED redirections (as `redis-cli -c`).
    static func callFollowing(_ nodes: [ClusterNodeProcess], from first: Int, _ args: [String]) throws -> String {
        var node = nodes[first]
        for _ in 0..<3 {
            let reply = String(decoding: try node.client.call(args), as: UTF8.self)
            guard reply.hasPrefix("-MOVED ") else { return reply }
            let target = reply.split(separator: " ")[2].split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard let next = nodes.first(where: { String($0.port) == target }) else { return reply }
            node = next
        }
        return "too many redirections"
    }

    /// Three masters meet (one MEET each to the first); every node learns every other and all
    /// agree on the slots; keys written anywhere are read anywhere; PUBLISH reaches another node.
    @Test(arguments: ["ttt", "ttr", "rrt"])
    func mastersMeetAndAgree(_ flavours: String) throws {
        let nodes = try flavours.map { try ClusterNodeProcess($0 == "t" ? .tandem : .redis) }
        defer { for n in nodes { n.server.stop() } }
        let ranges = [("0", "5460"), ("5461", "10922"), ("10923", "16383")]
        for (n, r) in zip(nodes, ranges) { #expect(try n.call("CLUSTER", "ADDSLOTSRANGE", r.0, r.1) == "+OK\r\n") }
        for n in nodes.dropFirst() {
            #expect(try nodes[0].call("CLUSTER", "MEET", "127.0.0.1", String(n.port), String(n.busPort)) == "+OK\r\n")
        }
        #expect(Self.agree(nodes, knowing: 3), "\(nodes.map(\.slotSignature))\n\(nodes[0].server.log)")
        for i in 0..<60 { #expect(try Self.callFollowing(nodes, from: i % 3, ["SET", "key\(i)", "v\(i)"]) == "+OK\r\n") }
        for i in 0..<60 {
            #expect(try Self.callFollowing(nodes, from: (i + 1) % 3, ["GET", "key\(i)"]) == "$\("v\(i)".count)\r\nv\(i)\r\n")
        }
        let moved = try nodes[0].call("GET", "foo")  // slot 12182, served by the third node
        #expect(moved == "-MOVED 12182 127.0.0.1:\(nodes[2].port)\r\n")
        // PUBLISH crosses the bus.
        let subscriber = try nodes[2].server.connect()
        try subscriber.send(["SUBSCRIBE", "news"])
        _ = try subscriber.readReply()
        _ = try nodes[0].call("PUBLISH", "news", "hello")
        #expect(String(decoding: try subscriber.readReply(), as: UTF8.self) == "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")
    }

    /// Three masters met as above, keys in every slot range, then `redis-cli --cluster reshard`
    /// moves 150 slots (the debug build's nodes.conf rewrites make more slow) (with their keys, by MIGRATE ... KEYS and RESTORE-ASKING) from the first node
    /// to the second and from the third to the first: every key is still readable, all agree.
    @Test(arguments: ["ttt", "trt"])
    func reshardKeepsEveryKey(_ flavours: String) throws {
        let nodes = try flavours.map { try ClusterNodeProcess($0 == "t" ? .tandem : .redis) }
        defer { for n in nodes { n.server.stop() } }
        for (n, r) in zip(nodes, [("0", "5460"), ("5461", "10922"), ("10923", "16383")]) {
            _ = try n.call("CLUSTER", "ADDSLOTSRANGE", r.0, r.1)
        }
        for n in nodes.dropFirst() { _ = try nodes[0].call("CLUSTER", "MEET", "127.0.0.1", String(n.port), String(n.busPort)) }
        #expect(Self.agree(nodes, knowing: 3))
        for i in 0..<400 { _ = try Self.callFollowing(nodes, from: 0, ["SET", "r\(i)", "v\(i)"]) }
        let cwd = try Harness.makeTempDir("tandem-cluster-reshard")
        defer { Harness.removeDir(cwd) }
        for (from, to) in [(0, 1), (2, 0)] {
            let r = try Harness.run("/usr/bin/redis-cli", ["--cluster", "reshard", "127.0.0.1:\(nodes[0].port)",
                                                           "--cluster-from", nodes[from].myID, "--cluster-to", nodes[to].myID,
                                                           "--cluster-slots", "150", "--cluster-yes"], cwd: cwd, timeoutSeconds: 120)
            #expect(r.status.code == 0, "\(r.output.suffix(2000))")
            #expect(Self.agree(nodes, knowing: 3), "\(nodes.map(\.slotSignature))")
        }
        for i in 0..<400 {
            #expect(try Self.callFollowing(nodes, from: i % 3, ["GET", "r\(i)"]) == "$\("v\(i)".count)\r\nv\(i)\r\n")
        }
        let sizes = try nodes.map { try $0.call("DBSIZE") }
        let total = sizes.compactMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ":\r\n"))) }.reduce(0, +)
        #expect(total == 400, "\(sizes)")
    }

    /// `redis-cli --cluster reshard` while a client keeps writing keys of the slots being moved
    /// (following -MOVED, -ASK with ASKING, and -TRYAGAIN as a cluster client does): every
    /// acknowledged write is readable afterwards with its last acknowledged value.
    @Test(arguments: ["ttt", "trt"])
    func reshardUnderWriteLoad(_ flavours: String) throws {
        let nodes = try flavours.map { try ClusterNodeProcess($0 == "t" ? .tandem : .redis) }
        defer { for n in nodes { n.server.stop() } }
        for (n, r) in zip(nodes, [("0", "5460"), ("5461", "10922"), ("10923", "16383")]) {
            _ = try n.call("CLUSTER", "ADDSLOTSRANGE", r.0, r.1)
        }
        for n in nodes.dropFirst() { _ = try nodes[0].call("CLUSTER", "MEET", "127.0.0.1", String(n.port), String(n.busPort)) }
        #expect(Self.agree(nodes, knowing: 3), "\(nodes.map { $0.text("CLUSTER", "NODES") })\n\(nodes[0].server.log.suffix(3000))")
        // Keys in the slots the reshards below move (the first 100 of nodes 0 and 2).
        let keys = (0..<200_000).lazy.map { "w\($0)" }.filter {
            let slot = Self.keySlot($0)
            return slot < 100 || (10923..<11023).contains(slot)
        }.prefix(300).map { $0 }
        let writer = ClusterWriter(ports: nodes.map(\.port), keys: Array(keys))
        let thread = Thread { writer.run() }
        thread.start()
        let cwd = try Harness.makeTempDir("tandem-cluster-reshard-load")
        defer { Harness.removeDir(cwd) }
        for (from, to) in [(0, 1), (2, 0)] {
            let r = try Harness.run("/usr/bin/redis-cli", ["--cluster", "reshard", "127.0.0.1:\(nodes[0].port)",
                                                           "--cluster-from", nodes[from].myID, "--cluster-to", nodes[to].myID,
                                                           "--cluster-slots", "100", "--cluster-yes"], cwd: cwd, timeoutSeconds: 120)
            #expect(r.status.code == 0, "\(r.output.suffix(2000))")
        }
        writer.stop()
        while !writer.finished { usleep(10_000) }
        #expect(Self.agree(nodes, knowing: 3), "\(nodes.map(\.slotSignature))")
        let acked = writer.acknowledged
        #expect(writer.rounds >= 2 && writer.failures.isEmpty, "rounds \(writer.rounds), failures \(writer.failures.prefix(5))")
        for (key, value) in acked {
            #expect(try Self.callFollowing(nodes, from: 1, ["GET", key]) == "$\(value.count)\r\n\(value)\r\n", "\(key)")
        }
    }

    /// CRC16/XMODEM of the key (or its hash tag) mod 16384, as cluster clients compute it.
    static func keySlot(_ key: String) -> Int {
        var bytes = Array(key.utf8)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
           let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            bytes = Array(bytes[(open + 1)..<close])
        }
        var crc: UInt16 = 0
        for b in bytes {
            crc ^= UInt16(b) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return Int(crc) & 16383
    }

    /// `redis-cli --cluster create` with a replica per master, writes acknowledged by WAIT, then
    /// a master killed: its replica is elected, nothing acknowledged is lost, and the old master
    /// comes back as the new master's replica. "trtrtr" mixes the kinds so that a redis-server
    /// replica replaces a Tandem master and, next, a Tandem replica a redis-server master.
    @Test(arguments: ["tttttt", "trtrtr"])
    func createKillAndFailover(_ flavours: String) throws {
        var nodes = try flavours.map { try ClusterNodeProcess($0 == "t" ? .tandem : .redis) }
        var killed: [ClusterNodeProcess] = []
        defer {
            for n in nodes { n.server.stop() }
            for n in killed { n.server.stop() }  // (after the nodes restarted in their directories)
        }
        let cwd = try Harness.makeTempDir("tandem-cluster-cli")
        defer { Harness.removeDir(cwd) }
        let create = try Harness.run("/usr/bin/redis-cli", ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" }
                                     + ["--cluster-replicas", "1", "--cluster-yes"], cwd: cwd, timeoutSeconds: 60)
        #expect(create.output.contains("[OK] All 16384 slots covered."), "\(create.output)")
        #expect(Self.agree(nodes, knowing: 6), "\(nodes.map(\.slotSignature))")
        // Replicas in sync before the writes (WAIT then counts them).
        #expect(Harness.waitUntil(milliseconds: 20_000) {
            nodes[3...].allSatisfy { ((try? $0.call("INFO", "replication")) ?? "").contains("master_link_status:up") }
        })
        for i in 0..<150 { #expect(try Self.callFollowing(nodes, from: 0, ["SET", "k\(i)", "v\(i)"]) == "+OK\r\n") }
        for n in nodes[0..<3] { #expect(try n.call("WAIT", "1", "5000") == ":1\r\n") }
        // Kill the masters one after the other (the second kill only in the mixed cluster).
        for victim in flavours == "trtrtr" ? [0, 1] : [0] {
            let victimID = nodes[victim].myID
            let dir = nodes[victim].server.dir
            kill(nodes[victim].server.pid, SIGKILL)
            let survivors = nodes.indices.filter { $0 != victim }.map { nodes[$0] }
            #expect(Harness.waitUntil(milliseconds: 20_000) {
                survivors.allSatisfy { n in
                    n.state == "cluster_state:ok" && !n.slotSignature.contains(victimID)
                }
            }, "\(survivors.map(\.slotSignature))")
            for i in 0..<150 {
                #expect(try Self.callFollowing(survivors, from: 2, ["GET", "k\(i)"]) == "$\("v\(i)".count)\r\nv\(i)\r\n")
            }
            // Back with its nodes.conf: a replica now.
            if flavours[flavours.index(flavours.startIndex, offsetBy: victim)] == "t" {
                let back = try ClusterNodeProcess(.tandem, dir: dir, busPort: nodes[victim].busPort)
                // (The old object stays alive: releasing a ServerProcess kills what runs in its directory.)
                killed.append(nodes[victim])
                nodes[victim] = back
                #expect(Harness.waitUntil(milliseconds: 20_000) {
                    ((try? back.call("INFO", "replication")) ?? "").contains("master_link_status:up")
                }, "\(back.server.log)")
                #expect(back.myID == victimID)
            }
        }
    }

    /// CLUSTER FAILOVER on a replica (its master pauses writes and hands over at its offset) and
    /// CLUSTER FAILOVER TAKEOVER on another: each replica becomes the master of its shard, the
    /// old master its replica, and every acknowledged key is still there.
    @Test(arguments: ["tttttt", "trtrtr"])
    func manualFailover(_ flavours: String) throws {
        let nodes = try flavours.map { try ClusterNodeProcess($0 == "t" ? .tandem : .redis) }
        defer { for n in nodes { n.server.stop() } }
        let cwd = try Harness.makeTempDir("tandem-cluster-manual")
        defer { Harness.removeDir(cwd) }
        _ = try Harness.run("/usr/bin/redis-cli", ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" }
                            + ["--cluster-replicas", "1", "--cluster-yes"], cwd: cwd, timeoutSeconds: 60)
        #expect(Self.agree(nodes, knowing: 6))
        #expect(Harness.waitUntil(milliseconds: 20_000) {
            nodes[3...].allSatisfy { ((try? $0.call("INFO", "replication")) ?? "").contains("master_link_status:up") }
        })
        for i in 0..<100 { _ = try Self.callFollowing(nodes, from: 0, ["SET", "m\(i)", "v\(i)"]) }
        for n in nodes[0..<3] { _ = try n.call("WAIT", "1", "5000") }
        for (master, how) in [(0, [String]()), (1, ["TAKEOVER"])] {
            let masterID = nodes[master].myID
            guard let replica = nodes.first(where: { $0.text("CLUSTER", "NODES").contains("myself,slave \(masterID)") }) else {
                Issue.record("no replica of node \(master)")
                continue
            }
            #expect(try replica.client.call(["CLUSTER", "FAILOVER"] + how) == Array("+OK\r\n".utf8))
            #expect(Harness.waitUntil(milliseconds: 15_000) {
                ((try? replica.call("ROLE")) ?? "").contains("master")
                    && nodes[master].text("CLUSTER", "NODES").contains("myself,slave \(replica.myID)")
            }, "\(replica.server.log.suffix(3000))")
            #expect(Self.agree(nodes, knowing: 6))
        }
        for i in 0..<100 {
            #expect(try Self.callFollowing(nodes, from: 2, ["GET", "m\(i)"]) == "$\("v\(i)".count)\r\nv\(i)\r\n")
        }
    }

    /// `redis-cli --cluster add-node` brings a fourth master (then slots by reshard) and a
    /// replica of it (--cluster-slave); `del-node` removes the replica and, once its slots are
    /// moved back, the master: the others forget them and agree again. "ttrtt" puts a
    /// redis-server node among the original three.
    @Test(arguments: ["ttttt", "trttt"])
    func addAndRemoveNodes(_ flavours: String) throws {
        let nodes = try flavours.map { try ClusterNodeProcess($0 == "t" ? .tandem : .redis) }
        defer { for n in nodes { n.server.stop() } }
        let cwd = try Harness.makeTempDir("tandem-cluster-add")
        defer { Harness.removeDir(cwd) }
        func cli(_ args: [String]) throws -> String {
            let r = try Harness.run("/usr/bin/redis-cli", ["--cluster"] + args, cwd: cwd, timeoutSeconds: 120)
            #expect(r.status.code == 0, "\(args): \(r.output.suffix(2000))")
            return r.output
        }
        let address = nodes.map { "127.0.0.1:\($0.port)" }
        _ = try cli(["create"] + address[0..<3] + ["--cluster-replicas", "0", "--cluster-yes"])
        #expect(Self.agree(Array(nodes[0..<3]), knowing: 3))
        for i in 0..<100 { _ = try Self.callFollowing(Array(nodes[0..<3]), from: 0, ["SET", "a\(i)", "v\(i)"]) }
        _ = try cli(["add-node", address[3], address[0]])
        #expect(Self.agree(Array(nodes[0..<4]), knowing: 4), "\(nodes.map(\.slotSignature))")
        _ = try cli(["add-node", address[4], address[0], "--cluster-slave", "--cluster-master-id", nodes[3].myID])
        #expect(Self.agree(Array(nodes[0..<5]), knowing: 5))
        _ = try cli(["reshard", address[0], "--cluster-from", nodes[0].myID, "--cluster-to", nodes[3].myID,
                     "--cluster-slots", "50", "--cluster-yes"])
        #expect(Harness.waitUntil(milliseconds: 20_000) {
            ((try? nodes[4].call("INFO", "replication")) ?? "").contains("master_link_status:up")
        })
        #expect(Self.agree(Array(nodes[0..<5]), knowing: 5))
        // Back: the replica goes, the slots go home, the master goes.
        _ = try cli(["del-node", address[0], nodes[4].myID])
        _ = try cli(["reshard", address[0], "--cluster-from", nodes[3].myID, "--cluster-to", nodes[0].myID,
                     "--cluster-slots", "50", "--cluster-yes"])
        _ = try cli(["del-node", address[0], nodes[3].myID])
        #expect(Self.agree(Array(nodes[0..<3]), knowing: 3), "\(nodes[0..<3].map(\.slotSignature))")
        for i in 0..<100 {
            #expect(try Self.callFollowing(Array(nodes[0..<3]), from: 1, ["GET", "a\(i)"]) == "$\("v\(i)".count)\r\nv\(i)\r\n")
        }
        let check = try cli(["check", address[0]])
        #expect(check.contains("[OK] All 16384 slots covered."), "\(check)")
    }

    /// A replica killed and started again from its nodes.conf replicates its master again
    /// (replication starts from the cron once the master's address is known, as Redis's).
    @Test func restartedReplicaReplicatesAgain() throws {
        var nodes = try (0..<6).map { _ in try ClusterNodeProcess(.tandem) }
        var killed: [ClusterNodeProcess] = []
        defer {
            for n in nodes { n.server.stop() }
            for n in killed { n.server.stop() }
        }
        let cwd = try Harness.makeTempDir("tandem-cluster-restart")
        defer { Harness.removeDir(cwd) }
        _ = try Harness.run("/usr/bin/redis-cli", ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" }
                            + ["--cluster-replicas", "1", "--cluster-yes"], cwd: cwd, timeoutSeconds: 60)
        #expect(Self.agree(nodes, knowing: 6))
        guard let r = nodes.indices.first(where: { ((try? nodes[$0].call("ROLE")) ?? "").contains("slave") }) else {
            Issue.record("no replica")
            return
        }
        let dir = nodes[r].server.dir
        kill(nodes[r].server.pid, SIGKILL)
        let back = try ClusterNodeProcess(.tandem, dir: dir, busPort: nodes[r].busPort)
        killed.append(nodes[r])
        nodes[r] = back
        #expect(Harness.waitUntil(milliseconds: 20_000) {
            ((try? back.call("INFO", "replication")) ?? "").contains("master_link_status:up")
        }, "\(back.server.log.suffix(2000))")
    }

    /// A replica as the cluster sees it: a READONLY client's shebang script that may write is
    /// redirected with -MOVED (a no-writes one runs); cluster-replica-no-failover shows as its
    /// nofailover flag on the other nodes; during a full sync (key-load-delay stretches the load)
    /// it reports offset 0, so its master leaves it out of CLUSTER SLOTS until it is back.
    @Test func replicaSeenByTheCluster() throws {
        let nodes = try (0..<6).map { _ in try ClusterNodeProcess(.tandem) }
        defer { for n in nodes { n.server.stop() } }
        let cwd = try Harness.makeTempDir("tandem-cluster-replica")
        defer { Harness.removeDir(cwd) }
        _ = try Harness.run("/usr/bin/redis-cli", ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" }
                            + ["--cluster-replicas", "1", "--cluster-yes"], cwd: cwd, timeoutSeconds: 60)
        #expect(Self.agree(nodes, knowing: 6))
        guard let replica = nodes.first(where: { ((try? $0.call("ROLE")) ?? "").contains("slave") }),
              let masterPort = (try? replica.call("ROLE"))?.split(separator: "\r\n").dropFirst(5).first.flatMap({ UInt16($0.dropFirst()) }),
              let master = nodes.first(where: { $0.port == masterPort }) else {
            Issue.record("no replica")
            return
        }
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            ((try? replica.call("INFO", "replication")) ?? "").contains("master_link_status:up")
        })
        // A key of the master's slots.
        guard let key = (0..<1000).map({ "k\($0)" }).first(where: { (try? master.call("EXISTS", $0)) == ":0\r\n" }) else {
            Issue.record("no key")
            return
        }
        _ = try replica.call("READONLY")
        let write = try replica.call("EVAL", "#!lua\nreturn redis.call('del', KEYS[1])", "1", key)
        #expect(write.hasPrefix("-MOVED "), "\(write)")
        #expect(try replica.call("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", key) == "$-1\r\n")
        #expect(try replica.call("EVAL", "return redis.call('get', KEYS[1])", "1", key) == "$-1\r\n")
        // nofailover travels.
        _ = try replica.call("CONFIG", "SET", "cluster-replica-no-failover", "yes")
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            nodes.allSatisfy { $0.text("CLUSTER", "NODES").contains("\(replica.myID) 127.0.0.1:\(replica.port)@\(replica.busPort) slave,nofailover")
                || $0.text("CLUSTER", "NODES").contains("\(replica.myID) 127.0.0.1:\(replica.port)@\(replica.busPort) myself,slave,nofailover") }
        }, "\(master.text("CLUSTER", "NODES"))")
        // Hidden from CLUSTER SLOTS while it loads a full sync.
        let port = ":\(replica.port)\r\n"
        _ = try master.call("SET", "{\(key)}", "x")  // (an offset of 0 is "loading" too)
        #expect(Harness.waitUntil(milliseconds: 10_000) { ((try? master.call("CLUSTER", "SLOTS")) ?? "").contains(port) })
        _ = try master.call("CONFIG", "SET", "repl-backlog-size", "16384")
        _ = try replica.call("CONFIG", "SET", "key-load-delay", "50000")
        _ = try replica.call("CONFIG", "SET", "loading-process-events-interval-bytes", "1024")
        _ = try master.call("MULTI")
        _ = try master.call("CLIENT", "KILL", "TYPE", "replica")
        let value = String(repeating: "A", count: 1024)
        for j in 0..<100 { _ = try master.call("SET", "{\(key)}\(j)", value) }
        _ = try master.call("EXEC")
        #expect(Harness.waitUntil(milliseconds: 10_000) { !((try? master.call("CLUSTER", "SLOTS")) ?? port).contains(port) })
        _ = try? replica.call("CONFIG", "SET", "key-load-delay", "0")
        #expect(Harness.waitUntil(milliseconds: 20_000) { ((try? master.call("CLUSTER", "SLOTS")) ?? "").contains(port) })
    }

    /// Replica migration: three masters and four replicas (one master has two). The only
    /// replica of another master dies; after the orphan delay a replica of the two-replica
    /// master re-attaches to the orphan (cluster-migration-barrier 1 leaves its old master one).
    /// "trtrtrt" mixes the kinds, so the migrating replica may be either.
    @Test(arguments: ["ttttttt", "trtrtrt"])
    func orphanedMasterGetsAMigratedReplica(_ flavours: String) throws {
        let nodes = try flavours.map { try ClusterNodeProcess($0 == "t" ? .tandem : .redis) }
        defer { for n in nodes { n.server.stop() } }
        let cwd = try Harness.makeTempDir("tandem-cluster-migration")
        defer { Harness.removeDir(cwd) }
        _ = try Harness.run("/usr/bin/redis-cli", ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" }
                            + ["--cluster-replicas", "1", "--cluster-yes"], cwd: cwd, timeoutSeconds: 60)
        #expect(Self.agree(nodes, knowing: 7))
        let ids = nodes.map(\.myID)
        // Each node's master, as it says itself.
        func masterOf(_ n: ClusterNodeProcess) -> String? {
            for line in n.text("CLUSTER", "NODES").split(separator: "\n") where line.contains("myself,slave") {
                return String(line.split(separator: " ")[3])
            }
            return nil
        }
        let masters = ids.indices.filter { masterOf(nodes[$0]) == nil }
        let replicasOf = Dictionary(grouping: ids.indices.filter { masterOf(nodes[$0]) != nil }) { masterOf(nodes[$0])! }
        guard masters.count == 3, let orphan = masters.first(where: { replicasOf[ids[$0]]?.count == 1 }),
              let lone = replicasOf[ids[orphan]]?.first else {
            Issue.record("unexpected layout: \(nodes[0].text("CLUSTER", "NODES"))")
            return
        }
        nodes[lone].server.stop()
        let alive = nodes.indices.filter { $0 != lone }
        #expect(Harness.waitUntil(milliseconds: 30_000) {
            alive.contains { $0 != orphan && masterOf(nodes[$0]) == ids[orphan] }
                && ((try? nodes[orphan].call("ROLE")) ?? "").contains("127.0.0.1")
        }, "\(nodes[orphan].text("CLUSTER", "NODES"))\nkinds: \(zip(flavours, nodes).map { "\($0.0):\($0.1.port)" })")
        // Nobody else was left without a replica.
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            masters.allSatisfy { m in alive.contains { masterOf(nodes[$0]) == ids[m] } }
        })
    }

    /// Garbage, bad signatures, absurd lengths, wrong versions and truncated messages on the
    /// bus port: the node closes or ignores them and goes on serving.
    @Test func garbageOnTheBusIsHarmless() throws {
        let node = try ClusterNodeProcess(.tandem)
        defer { node.server.stop() }
        _ = try node.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        var header = [UInt8](repeating: 0, count: 2256)
        header.replaceSubrange(0..<4, with: Array("RCmb".utf8))
        func withLength(_ n: UInt32, version: UInt16 = 1, type: UInt16 = 0, count: UInt16 = 0) -> [UInt8] {
            var h = header
            h[4] = UInt8(n >> 24); h[5] = UInt8((n >> 16) & 0xFF); h[6] = UInt8((n >> 8) & 0xFF); h[7] = UInt8(n & 0xFF)
            h[8] = UInt8(version >> 8); h[9] = UInt8(version & 0xFF)
            h[12] = UInt8(type >> 8); h[13] = UInt8(type & 0xFF)
            h[14] = UInt8(count >> 8); h[15] = UInt8(count & 0xFF)
            return h
        }
        var rng = SystemRandomNumberGenerator()
        let payloads: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\n\r\n".utf8),
            (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) },
            withLength(10),                              // shorter than a header
            withLength(2256, version: 9),                // unknown version: ignored
            withLength(2256, type: 0, count: 5),         // gossip count beyond the message
            withLength(2256 + 8, type: 4),               // PUBLISH with no lengths
            withLength(2256, type: 3),                   // FAIL without its name
            withLength(2256, type: 77),                  // unknown type
            Array(withLength(100_000).prefix(3000)),     // truncated, then the link closes
        ]
        for p in payloads {
            let fd = try RawClient.connectLoopback(port: node.busPort)
            _ = p.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            usleep(50_000)
            close(fd)
        }
        #expect(try node.call("PING") == "+PONG\r\n")
        #expect(try node.call("CLUSTER", "INFO").contains("cluster_known_nodes:1\r\n"))
        #expect(Harness.waitUntil(milliseconds: 5_000) { node.state == "cluster_state:ok" })
    }
}
