/*
 * ClusterNodeTests.swift — cluster mode on one node (issue 19, first part): `cluster-enabled yes`
 * with nodes.conf, the CLUSTER subcommands that need no cluster bus, key slots and the per-slot
 * key index, and routing (-CROSSSLOT, -CLUSTERDOWN, SELECT and REPLICAOF refused), each compared
 * with redis-server in cluster mode reply for reply. Node ids and ports differ between the two
 * servers, so replies are compared with each server's own id and ports masked.
 */

import Foundation
import Testing

@Suite struct ClusterNodeTests {
    /// A cluster-mode server with an explicit bus port (the default, port + 10000, may not exist
    /// for the high ports tests get).
    static func start(_ flavour: ServerFlavour, dir: String? = nil) throws -> ServerProcess {
        try ServerProcess.start(flavour, extraArgs: ["--cluster-enabled", "yes", "--cluster-port", String(try Harness.freePort())],
                                dir: dir)
    }

    /// A reply with the server's id and ports replaced by fixed words.
    static func masked(_ reply: [UInt8], id: String, ports: [String]) -> String {
        var text = String(decoding: reply, as: UTF8.self).replacingOccurrences(of: id, with: "<id>")
        for (i, p) in ports.enumerated() { text = text.replacingOccurrences(of: p, with: "<port\(i)>") }
        return text
    }

    static let allSlotsSteps: [[String]] = [
        ["CLUSTER", "INFO"], ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "LINKS"],
        ["GET", "foo"],
        ["CLUSTER", "ADDSLOTSRANGE", "0", "5000"], ["CLUSTER", "ADDSLOTS", "6000", "6001", "7000"],
        ["CLUSTER", "ADDSLOTS", "6000"], ["CLUSTER", "ADDSLOTS", "8000", "8000"], ["CLUSTER", "ADDSLOTS", "16384"],
        ["CLUSTER", "ADDSLOTS", "x"], ["CLUSTER", "ADDSLOTSRANGE", "9", "3"], ["CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"],
        ["CLUSTER", "DELSLOTS", "9000"], ["CLUSTER", "DELSLOTSRANGE", "7000", "7000"],
        ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "INFO"],
        ["CLUSTER", "ADDSLOTSRANGE", "5001", "5999", "6002", "16383"],
        ["CLUSTER", "KEYSLOT", "123456789"], ["CLUSTER", "KEYSLOT", "{user1000}.following"], ["CLUSTER", "KEYSLOT", "foo{}{bar}"],
        ["CLUSTER", "KEYSLOT", "foo{{bar}}zap"], ["CLUSTER", "KEYSLOT", "foo{bar}{zap}"], ["CLUSTER", "KEYSLOT", "{}"],
        ["CLUSTER", "KEYSLOT", "{"], ["CLUSTER", "KEYSLOT", "a{b"], ["CLUSTER", "KEYSLOT", "}{a}"], ["CLUSTER", "KEYSLOT", ""],
        ["CLUSTER", "BUMPEPOCH"], ["CLUSTER", "BUMPEPOCH"], ["CLUSTER", "SET-CONFIG-EPOCH", "5"],
        ["CLUSTER", "SET-CONFIG-EPOCH", "-1"], ["CLUSTER", "SET-CONFIG-EPOCH", "x"],
        ["CLUSTER", "SETSLOT", "1", "foo"], ["CLUSTER", "SETSLOT", "1", "migrating", "abc"], ["CLUSTER", "SETSLOT", "x", "stable"],
        ["CLUSTER", "SETSLOT", "1", "importing", "<myid>"], ["CLUSTER", "SETSLOT", "1", "stable"], ["CLUSTER", "SETSLOT", "1", "node", "nobody"],
        ["CLUSTER", "MEET", "1.2.3.4", "notaport"], ["CLUSTER", "MEET", "localhost", "7000"], ["CLUSTER", "MEET", "1.2.3.4", "70000"],
        ["CLUSTER", "MEET", "1.2.3.4", "7000", "x"], ["CLUSTER", "MEET", "1", "2", "3", "4"],
        ["CLUSTER", "FORGET", "<myid>"], ["CLUSTER", "FORGET", "nobody"], ["CLUSTER", "REPLICATE", "<myid>"],
        ["CLUSTER", "REPLICAS", "<myid>"], ["CLUSTER", "SLAVES", "nobody"], ["CLUSTER", "COUNT-FAILURE-REPORTS", "<myid>"],
        ["CLUSTER", "FAILOVER"], ["CLUSTER", "FAILOVER", "x"], ["CLUSTER", "RESET", "x"], ["CLUSTER", "FOO"], ["CLUSTER"],
        ["CLUSTER", "COUNTKEYSINSLOT", "16384"], ["CLUSTER", "COUNTKEYSINSLOT", "x"], ["CLUSTER", "GETKEYSINSLOT", "1", "-1"],
        ["CLUSTER", "HELP"], ["COMMAND", "INFO", "cluster|addslots", "asking", "restore-asking", "cluster|nodes"],
    ]

    static let dataSteps: [[String]] = [
        ["SET", "foo", "bar"], ["SET", "{foo}x", "y"], ["MSET", "a", "1", "b", "2"], ["MSET", "{a}1", "1", "{a}2", "2"],
        ["MGET", "a", "a"], ["CLUSTER", "COUNTKEYSINSLOT", "12182"], ["CLUSTER", "GETKEYSINSLOT", "12182", "10"],
        ["CLUSTER", "GETKEYSINSLOT", "12182", "1"], ["CLUSTER", "GETKEYSINSLOT", "12182", "0"], ["DEL", "foo"],
        ["CLUSTER", "COUNTKEYSINSLOT", "12182"], ["RENAME", "{foo}x", "{foo}y"], ["CLUSTER", "GETKEYSINSLOT", "12182", "10"],
        ["APPEND", "{foo}y", String(repeating: "z", count: 200)], ["CLUSTER", "GETKEYSINSLOT", "12182", "10"],
        ["RENAME", "{foo}y", "other"], ["MULTI"], ["SET", "k1", "1"], ["SET", "k2", "2"], ["EXEC"],
        ["MULTI"], ["SET", "{t}1", "1"], ["GET", "{t}2"], ["EXEC"], ["SELECT", "1"], ["SELECT", "0"], ["SELECT", "x"],
        ["REPLICAOF", "no", "one"], ["ASKING"], ["READONLY"], ["READWRITE"], ["CLUSTER", "FLUSHSLOTS"], ["CLUSTER", "RESET"],
        ["CLUSTER", "SETSLOT", "12182", "node", "<myid>"], ["CLUSTER", "DELSLOTS", "12182"], ["GET", "{foo}y"],
        ["CLUSTER", "INFO"], ["INFO", "cluster"], ["FLUSHALL"], ["CLUSTER", "RESET", "soft"], ["CLUSTER", "INFO"],
        ["CLUSTER", "NODES"], ["CLUSTER", "RESET", "hard"], ["CLUSTER", "INFO"],
    ]

    /// The same steps on a Tandem node and a redis-server node, both in cluster mode.
    @Test func singleNodeRepliesAsRedis() throws {
        let tandem = try Self.start(.tandem), redis = try Self.start(.redis)
        defer { tandem.stop(); redis.stop() }
        let t = try tandem.connect(), r = try redis.connect()
        func ids() throws -> (String, String) {
            (String(decoding: try t.call("CLUSTER", "MYID").dropFirst(5).dropLast(2), as: UTF8.self),
             String(decoding: try r.call("CLUSTER", "MYID").dropFirst(5).dropLast(2), as: UTF8.self))
        }
        func ports(_ s: ServerProcess, _ c: RawClient) throws -> [String] {
            let bus = String(decoding: try c.call("CONFIG", "GET", "cluster-port"), as: UTF8.self)
                .split(separator: "\r\n").last.map(String.init) ?? ""
            return [bus, String(s.port)]
        }
        let tPorts = try ports(tandem, t), rPorts = try ports(redis, r)
        func run(_ steps: [[String]]) throws {
            // (Fetched again only after a hard reset: inside MULTI, MYID would be queued.)
            var (tid, rid) = try ids()
            for step in steps {
                defer { if step.contains("hard") { (tid, rid) = (try? ids()) ?? (tid, rid) } }
                let tr = try t.call(step.map { $0 == "<myid>" ? tid : $0 })
                let rr = try r.call(step.map { $0 == "<myid>" ? rid : $0 })
                #expect(Self.masked(tr, id: tid, ports: tPorts) == Self.masked(rr, id: rid, ports: rPorts), "\(step)")
            }
        }
        try run(Self.allSlotsSteps)
        // A master reports ok 2 s after its first look at the state, as Redis.
        #expect(Harness.waitUntil(milliseconds: 5_000) {
            String(decoding: (try? t.call("CLUSTER", "INFO")) ?? [], as: UTF8.self).contains("cluster_state:ok")
        })
        #expect(Harness.waitUntil(milliseconds: 5_000) {
            String(decoding: (try? r.call("CLUSTER", "INFO")) ?? [], as: UTF8.self).contains("cluster_state:ok")
        })
        try run(Self.dataSteps)
        _ = try t.call("HELLO", "3")
        _ = try r.call("HELLO", "3")
        try run([["CLUSTER", "ADDSLOTSRANGE", "0", "100"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "INFO"]])
    }

    /// Outside cluster mode every cluster command says so, as Redis.
    /// A shard channel's subscribers are told "sunsubscribe" when the node stops serving its
    /// slot (here CLUSTER DELSLOTS), the others stay subscribed — both servers alike.
    @Test(arguments: ServerFlavour.allCases)
    func shardSubscribersLeaveWithTheirSlot(_ flavour: ServerFlavour) throws {
        let server = try Self.start(flavour)
        defer { server.stop() }
        let admin = try server.connect()
        _ = try admin.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        #expect(Harness.waitUntil(milliseconds: 5_000) {
            String(decoding: (try? admin.call("CLUSTER", "INFO")) ?? [], as: UTF8.self).contains("cluster_state:ok")
        })
        let sub = try server.connect()
        try sub.send(["SSUBSCRIBE", "ch3"])   // slot 1247 (hash of "ch3")
        _ = try sub.readReply()
        try sub.send(["SSUBSCRIBE", "ch7"])
        _ = try sub.readReply()
        let slot = String(decoding: try admin.call("CLUSTER", "KEYSLOT", "ch3").dropFirst().dropLast(2), as: UTF8.self)
        #expect(try admin.call("CLUSTER", "DELSLOTS", slot) == Array("+OK\r\n".utf8))
        #expect(String(decoding: try sub.readReply(), as: UTF8.self) == "*3\r\n$12\r\nsunsubscribe\r\n$3\r\nch3\r\n:1\r\n")
        _ = try admin.call("SPUBLISH", "ch7", "hi")
        #expect(String(decoding: try sub.readReply(), as: UTF8.self) == "*3\r\n$8\r\nsmessage\r\n$3\r\nch7\r\n$2\r\nhi\r\n")
    }

    @Test func clusterCommandsOutsideClusterMode() throws {
        try Differential.run("cluster disabled", [
            ["CLUSTER", "INFO"], ["CLUSTER", "HELP"], ["CLUSTER", "KEYSLOT", "a"], ["ASKING"], ["READONLY"], ["READWRITE"],
            ["CLUSTER", "FOO"], ["CLUSTER"], ["CLUSTER", "GETKEYSINSLOT", "1"], ["INFO", "cluster"], ["SELECT", "1"],
            ["RESTORE-ASKING", "k", "0", "garbage"],
            // Hostname validation, as Redis's.
            ["CONFIG", "SET", "cluster-announce-hostname", String(repeating: "x", count: 256)],
            ["CONFIG", "SET", "cluster-announce-hostname", "?.com"],
            ["CONFIG", "SET", "cluster-announce-hostname", "abcXYZ-0.9"], ["CONFIG", "GET", "cluster-announce-hostname"],
        ])
    }

    /// nodes.conf: a restarted node is the same node (id, slots, epochs), finds its keys, and
    /// reports ok again; a second node on the same file is refused.
    @Test func nodesConfSurvivesRestart() throws {
        let dir = try Harness.makeTempDir("tandem-cluster-restart")
        defer { Harness.removeDir(dir) }
        let node = try Self.start(.tandem, dir: dir)
        let c = try node.connect()
        let id = try c.call("CLUSTER", "MYID")
        _ = try c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        _ = try c.call("CLUSTER", "BUMPEPOCH")
        #expect(Harness.waitUntil(milliseconds: 5_000) { (try? c.call("SET", "foo", "bar")) == Array("+OK\r\n".utf8) })
        _ = try c.call("SAVE")
        let conf = Harness.readFile(dir + "/nodes.conf")
        #expect(conf.contains("myself,master - 0 0 1 connected 0-16383\nvars currentEpoch 1 lastVoteEpoch 0\n"), "\(conf)")
        // The file is locked while the node runs.
        let second = try Harness.makeTempDir("tandem-cluster-second")
        defer { Harness.removeDir(second) }
        let refused = try ServerProcess.startExpectingExit(.tandem, extraArgs: [
            "--cluster-enabled", "yes", "--cluster-port", String(try Harness.freePort()), "--cluster-config-file", dir + "/nodes.conf",
        ], dir: second)
        #expect(refused?.output.contains("is already used by a different Redis Cluster node") == true, "\(refused?.output ?? "")")
        node.stop(keepDir: true)
        // (A new object: releasing a ServerProcess kills what runs in its directory.)
        let restarted = try Self.start(.tandem, dir: dir)
        defer { restarted.stop(keepDir: true) }
        let r = try restarted.connect()
        #expect(try r.call("CLUSTER", "MYID") == id)
        #expect(restarted.log.contains("Node configuration loaded, I'm"), "\(restarted.log)")
        #expect(Harness.waitUntil(milliseconds: 5_000) { (try? r.call("GET", "foo")) == Array("$3\r\nbar\r\n".utf8) })
        #expect(try r.call("CLUSTER", "COUNTKEYSINSLOT", "12182") == Array(":1\r\n".utf8))
        #expect(String(decoding: try r.call("CLUSTER", "INFO"), as: UTF8.self).contains("cluster_my_epoch:1"))
    }

    /// A node started with keys in slots it does not serve takes them, as Redis; replicaof in
    /// cluster mode stops start-up with Redis's message.
    @Test func startUpChecks() throws {
        let dir = try Harness.makeTempDir("tandem-cluster-claim")
        defer { Harness.removeDir(dir) }
        let plain = try ServerProcess.start(.tandem, extraArgs: ["--save", "900 1"], dir: dir)
        let p = try plain.connect()
        _ = try p.call("SET", "foo", "bar")
        _ = try p.call("SAVE")
        plain.stop(keepDir: true)
        let node = try Self.start(.tandem, dir: dir)
        defer { node.stop(keepDir: true) }
        let c = try node.connect()
        #expect(Harness.waitUntil(milliseconds: 5_000) { node.log.contains("I have keys for unassigned slot 12182. Taking responsibility for it.") },
                "\(node.log)")
        #expect(String(decoding: try c.call("CLUSTER", "NODES"), as: UTF8.self).contains("connected 12182\n"))
        let other = try Harness.makeTempDir("tandem-cluster-replicaof")
        defer { Harness.removeDir(other) }
        let exit = try ServerProcess.startExpectingExit(.tandem, extraArgs: ["--cluster-enabled", "yes", "--replicaof", "127.0.0.1", "1"],
                                                        dir: other)
        #expect(exit?.output.contains("replicaof directive not allowed in cluster mode") == true, "\(exit?.output ?? "")")
    }
}
