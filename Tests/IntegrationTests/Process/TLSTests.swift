/*
 * TLSTests.swift — TLS client connections (issue 17): the TLS port beside the plain one with
 * redis-cli --tls, and what must be refused without harm — a plain client on the TLS port, a
 * client with no certificate or an untrusted one, garbage, a handshake left half way (others
 * are served meanwhile) — plus CONFIG SET of the TLS directives (tls-auth-clients, a bad
 * certificate kept out, an encrypted key with its password, tls-port on and off), replication
 * over TLS both ways with redis-server (repl-diskless-load straight from the TLS session too),
 * and MIGRATE over TLS with tls-cluster yes. Certificates
 * are made once per run with the openssl tool. redis-server runs the same checks where they
 * apply, as the reference.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct TLSTests {
    /// A CA, server and client certificates it signed, a self-signed "rogue" client, and the
    /// server key encrypted with the password 1234.
    static let certs: String = {
        let dir = (try? Harness.makeTempDir("tandem-tls-certs")) ?? "/tmp"
        func openssl(_ args: String...) {
            _ = try? Harness.run("/usr/bin/openssl", args, cwd: dir, timeoutSeconds: 60)
        }
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/O=Tandem Test/CN=Certificate Authority")
        for name in ["server", "client"] {
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr",
                    "-subj", "/O=Tandem Test/CN=\(name)")
            openssl("x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "\(name).crt", "-days", "2")
        }
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.crt", "-days", "2",
                "-subj", "/O=Rogue/CN=rogue")
        openssl("rsa", "-in", "server.key", "-out", "server-encrypted.key", "-aes256", "-passout", "pass:1234")
        return dir
    }()

    static func serverArgs(tlsPort: UInt16) -> [String] {
        let d = certs
        return ["--tls-port", String(tlsPort), "--tls-cert-file", d + "/server.crt", "--tls-key-file", d + "/server.key",
                "--tls-ca-cert-file", d + "/ca.crt", "--loglevel", "verbose"]
    }

    /// redis-cli over TLS with the given client certificate ("" for none); its output.
    static func cli(_ port: UInt16, cert: String? = "client", _ args: String...) -> String {
        let d = certs
        var a = ["-h", "127.0.0.1", "-p", String(port), "--tls", "--cacert", d + "/ca.crt"]
        if let cert { a += ["--cert", d + "/\(cert).crt", "--key", d + "/\(cert).key"] }
        // Its own directory: Harness.run keeps the output in files there, and tests run in parallel.
        guard let cwd = try? Harness.makeTempDir("tandem-tls-cli") else { return "" }
        defer { Harness.removeDir(cwd) }
        guard let r = try? Harness.run("/usr/bin/redis-cli", a + args, cwd: cwd, timeoutSeconds: 10) else { return "" }
        return (r.stdout + r.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func start(_ flavour: ServerFlavour) throws -> (ServerProcess, UInt16) {
        let tlsPort = try Harness.freePort()
        return (try ServerProcess.start(flavour, extraArgs: serverArgs(tlsPort: tlsPort)), tlsPort)
    }

    @Test(arguments: ServerFlavour.allCases)
    func tlsPortBesideThePlainPort(_ flavour: ServerFlavour) throws {
        let (server, tlsPort) = try Self.start(flavour)
        defer { server.stop() }
        #expect(Self.cli(tlsPort, "SET", "k", "over-tls") == "OK")
        #expect(Self.cli(tlsPort, "GET", "k") == "over-tls")
        let plain = try server.connect()
        #expect(try plain.call("GET", "k") == Array("$8\r\nover-tls\r\n".utf8))
        // A big value both ways (several TLS records, partial writes).
        let big = String(repeating: "x", count: 3_000_000)
        #expect(try plain.call("SET", "big", big) == Array("+OK\r\n".utf8))
        #expect(Self.cli(tlsPort, "STRLEN", "big") == "3000000")
        // A pipelined batch over TLS: everything answered, in order.
        let pipe = String(repeating: "INCR counter\\n", count: 200)
        let d = Self.certs
        let cwd = try Harness.makeTempDir("tandem-tls-pipe")
        defer { Harness.removeDir(cwd) }
        let piped = try Harness.run("/bin/sh", ["-c", "printf '\(pipe)' | /usr/bin/redis-cli -h 127.0.0.1 -p \(tlsPort) --tls --cacert \(d)/ca.crt --cert \(d)/client.crt --key \(d)/client.key"],
                                    cwd: cwd, timeoutSeconds: 20)
        #expect(piped.stdout.split(separator: "\n").last == "200", "\(piped.stdout.suffix(200))")
    }

    /// What the TLS port refuses, each without harm to the server or to other clients.
    @Test(arguments: ServerFlavour.allCases)
    func refusedConnections(_ flavour: ServerFlavour) throws {
        let (server, tlsPort) = try Self.start(flavour)
        defer { server.stop() }
        // A plain-text client on the TLS port: closed.
        let plain = try RawClient(port: tlsPort, timeoutSeconds: 2)
        try plain.send(["PING"])
        #expect(plain.waitForClose(milliseconds: 3000), "\(flavour): a plain client was served on the TLS port")
        // No client certificate, or one the CA did not sign (tls-auth-clients yes): refused.
        #expect(!Self.cli(tlsPort, cert: nil, "PING").contains("PONG"))
        #expect(!Self.cli(tlsPort, cert: "rogue", "PING").contains("PONG"))
        // Garbage where a ClientHello should be.
        let garbage = try RawClient(port: tlsPort, timeoutSeconds: 2)
        try garbage.sendRaw(Array(repeating: 0x16, count: 3) + Array("\u{03}\u{01}\u{ff}\u{ff}garbage".utf8) + Array(repeating: 0xAB, count: 4000))
        #expect(garbage.waitForClose(milliseconds: 3000), "\(flavour): garbage left the connection open")
        // A handshake left half way holds only its own socket.
        let half = try RawClient(port: tlsPort, timeoutSeconds: 2)
        try half.sendRaw([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        let start = Date()
        #expect(Self.cli(tlsPort, "PING") == "PONG")
        #expect(Date().timeIntervalSince(start) < 5)
        let c = try server.connect()
        #expect(try c.call("PING") == Array("+PONG\r\n".utf8))
        if flavour == .tandem {
            #expect(Harness.waitUntil(milliseconds: 3000) { server.log.contains("Error accepting a client connection") }, "\(server.log)")
        }
    }

    @Test(arguments: ServerFlavour.allCases)
    func configSetOfTLSDirectives(_ flavour: ServerFlavour) throws {
        let (server, tlsPort) = try Self.start(flavour)
        defer { server.stop() }
        let c = try server.connect()
        let d = Self.certs
        #expect(try c.call("CONFIG", "SET", "tls-auth-clients", "no") == Array("+OK\r\n".utf8))
        #expect(Self.cli(tlsPort, cert: nil, "PING") == "PONG")
        #expect(try c.call("CONFIG", "SET", "tls-auth-clients", "optional") == Array("+OK\r\n".utf8))
        #expect(Self.cli(tlsPort, cert: nil, "PING") == "PONG")
        #expect(!Self.cli(tlsPort, cert: "rogue", "PING").contains("PONG"))
        #expect(try c.call("CONFIG", "SET", "tls-auth-clients", "yes") == Array("+OK\r\n".utf8))
        #expect(!Self.cli(tlsPort, cert: nil, "PING").contains("PONG"))
        // A certificate that cannot be loaded is refused and the old one stays.
        let bad = String(decoding: try c.call("CONFIG", "SET", "tls-cert-file", d + "/nonexistent.crt"), as: UTF8.self)
        #expect(bad.contains("Unable to update TLS configuration"), "\(bad)")
        #expect(Self.cli(tlsPort, "PING") == "PONG")
        // An encrypted key needs its password.
        let locked = String(decoding: try c.call("CONFIG", "SET", "tls-key-file", d + "/server-encrypted.key"), as: UTF8.self)
        #expect(locked.contains("Unable to update TLS configuration"), "\(locked)")
        #expect(try c.call("CONFIG", "SET", "tls-key-file-pass", "1234") == Array("+OK\r\n".utf8))
        #expect(try c.call("CONFIG", "SET", "tls-key-file", d + "/server-encrypted.key") == Array("+OK\r\n".utf8))
        #expect(Self.cli(tlsPort, "PING") == "PONG")
        // Protocols: TLS 1.3 only still serves redis-cli.
        #expect(try c.call("CONFIG", "SET", "tls-protocols", "TLSv1.3") == Array("+OK\r\n".utf8))
        #expect(Self.cli(tlsPort, "PING") == "PONG")
        #expect(String(decoding: try c.call("CONFIG", "SET", "tls-protocols", "SSLv2"), as: UTF8.self).hasPrefix("-ERR"))
        // tls-port off and on again.
        #expect(try c.call("CONFIG", "SET", "tls-port", "0") == Array("+OK\r\n".utf8))
        #expect(!Self.cli(tlsPort, "PING").contains("PONG"))
        #expect(try c.call("CONFIG", "SET", "tls-port", String(tlsPort)) == Array("+OK\r\n".utf8))
        #expect(Self.cli(tlsPort, "PING") == "PONG")
    }

    /// Replication over TLS, each way with redis-server and between Tandem nodes (LZ4 inside
    /// TLS): a full sync of a populated master, the stream, a partial resync after the link is cut.
    @Test(arguments: [(ServerFlavour.tandem, ServerFlavour.tandem), (.tandem, .redis), (.redis, .tandem)])
    func replicationOverTLS(_ masterFlavour: ServerFlavour, _ replicaFlavour: ServerFlavour) throws {
        let d = Self.certs
        let clientCert = ["--tls-client-cert-file", d + "/client.crt", "--tls-client-key-file", d + "/client.key"]
        let (master, tlsPort) = try Self.start(masterFlavour)
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "5000", "key", "200")
        _ = try m.call("RPUSH", "list", "a", "b")
        let replicaTLSPort = try Harness.freePort()
        let replica = try ServerProcess.start(replicaFlavour, extraArgs: Self.serverArgs(tlsPort: replicaTLSPort) + clientCert
            + ["--tls-replication", "yes", "--replicaof", "127.0.0.1", String(tlsPort)])
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(ChainAndFailoverTests.waitForLink(r), "\(replica.log)")
        // The replica announces its TLS port (what sentinels and INFO show), as Redis.
        let slave0 = try InfoReply.fetch(m, "replication").fields["slave0"] ?? ""
        #expect(slave0.contains("port=\(replicaTLSPort),"), "\(slave0)")
        for i in 0..<100 { _ = try m.call("INCR", "counter\(i % 7)") }
        try RedisReplicaTests.expectConverged(master: m, replica: r, "over TLS")
        _ = try m.call("CLIENT", "KILL", "TYPE", "replica")
        _ = try m.call("SET", "after-cut", "1")
        #expect(Harness.waitUntil(milliseconds: 10_000) { (try? r.call("GET", "after-cut")) == Array("$1\r\n1\r\n".utf8) })
        try RedisReplicaTests.expectConverged(master: m, replica: r, "over TLS after a cut")
        let info = try InfoReply.fetch(m, "stats").fields
        #expect(info["sync_partial_ok"] == "1", "\(info)")
    }

    /// A diskless full sync to a replica on the TLS port and a plain one at once: the child
    /// writes the plain one's socket and a pipe the primary relays into the TLS session (a
    /// dataset of several MB, so the relay pauses and resumes on its high-water mark).
    @Test(arguments: [(ServerFlavour.tandem, ServerFlavour.tandem), (.tandem, .redis), (.redis, .tandem)])
    func disklessSyncOverTLS(_ masterFlavour: ServerFlavour, _ replicaFlavour: ServerFlavour) throws {
        let d = Self.certs
        let clientCert = ["--tls-client-cert-file", d + "/client.crt", "--tls-client-key-file", d + "/client.key"]
        let tlsPort = try Harness.freePort()
        let master = try ServerProcess.start(masterFlavour, extraArgs: Self.serverArgs(tlsPort: tlsPort)
            + ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1"])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "60000", "key", "100")
        let tlsReplica = try ServerProcess.start(replicaFlavour, extraArgs: Self.serverArgs(tlsPort: try Harness.freePort())
            + clientCert + ["--tls-replication", "yes", "--replicaof", "127.0.0.1", String(tlsPort)])
        defer { tlsReplica.stop() }
        let plainReplica = try ServerProcess.start(replicaFlavour, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { plainReplica.stop() }
        let t = try tlsReplica.connect(), p = try plainReplica.connect()
        #expect(ChainAndFailoverTests.waitForLink(t), "\(tlsReplica.log)")
        #expect(ChainAndFailoverTests.waitForLink(p), "\(plainReplica.log)")
        #expect(master.log.contains("target: replicas sockets"), "\(master.log)")
        for i in 0..<100 { _ = try m.call("INCR", "counter\(i % 7)") }
        try RedisReplicaTests.expectConverged(master: m, replica: t, "diskless over TLS")
        try RedisReplicaTests.expectConverged(master: m, replica: p, "diskless beside a TLS replica")
        #expect(try t.call("DBSIZE") == Array(":60007\r\n".utf8))
    }

    /// A TLS replica that stalls during a diskless sync (its link throttled to nothing) is dropped
    /// after repl-timeout, and the relay goes on for the other TLS replica, which syncs.
    @Test(arguments: ServerFlavour.allCases)
    func stalledTLSReplicaDuringDisklessSync(_ masterFlavour: ServerFlavour) throws {
        let d = Self.certs
        let clientCert = ["--tls-client-cert-file", d + "/client.crt", "--tls-client-key-file", d + "/client.key"]
        let tlsPort = try Harness.freePort()
        let master = try ServerProcess.start(masterFlavour, extraArgs: Self.serverArgs(tlsPort: tlsPort)
            + ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1", "--repl-timeout", "3"])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "100000", "key", "200")
        let throttle = try ThrottledRelay(to: tlsPort, bytesPerSecond: 0)
        defer { throttle.stop() }
        var replicas: [ServerProcess] = []
        defer { for r in replicas { r.stop() } }
        for port in [throttle.port, tlsPort] {
            replicas.append(try ServerProcess.start(.redis, extraArgs: Self.serverArgs(tlsPort: try Harness.freePort())
                + clientCert + ["--tls-replication", "yes", "--repl-timeout", "3"]))
            _ = try replicas.last!.connect().call("REPLICAOF", "127.0.0.1", String(port))
            if port == throttle.port {
                // The handshake goes through; then (before the fork, a second later) the link
                // nearly stops: the socket buffers take a few MB and the transfer stalls.
                #expect(Harness.waitUntil(milliseconds: 5_000) { master.log.contains("asks for synchronization") })
                throttle.setRate(bytesPerSecond: 1)
            }
        }
        let fast = try replicas[1].connect()
        #expect(Harness.waitUntil(milliseconds: 30_000) {
            (try? InfoReply.fetch(fast, "replication").fields["master_link_status"]) == "up"
        }, "\(master.log)")
        #expect(try fast.call("DBSIZE") == Array(":100000\r\n".utf8))
        #expect(try m.call("PING") == Array("+PONG\r\n".utf8))
    }

    /// repl-diskless-load over a TLS link: the replica parses the payload straight from its TLS
    /// session (no temp file), from a disk-mode master (a length-prefixed payload) and a
    /// diskless one (EOF-marked); swapdb keeps its own data until the new set has loaded.
    @Test(arguments: [(ServerFlavour.tandem, false), (.tandem, true), (.redis, false), (.redis, true)])
    func disklessLoadOverTLS(_ masterFlavour: ServerFlavour, _ disklessSync: Bool) throws {
        let d = Self.certs
        let clientCert = ["--tls-client-cert-file", d + "/client.crt", "--tls-client-key-file", d + "/client.key"]
        let tlsPort = try Harness.freePort()
        let master = try ServerProcess.start(masterFlavour, extraArgs: Self.serverArgs(tlsPort: tlsPort)
            + ["--repl-diskless-sync", disklessSync ? "yes" : "no", "--repl-diskless-sync-delay", "0"])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "30000", "key", "100")
        _ = try m.call("HSET", "hash", "f", "v")
        let replica = try ServerProcess.start(.tandem, extraArgs: Self.serverArgs(tlsPort: try Harness.freePort())
            + clientCert + ["--tls-replication", "yes", "--repl-diskless-load", "swapdb"])
        defer { replica.stop() }
        let r = try replica.connect()
        _ = try r.call("SET", "replica-only", "1")
        _ = try r.call("REPLICAOF", "127.0.0.1", String(tlsPort))
        #expect(ChainAndFailoverTests.waitForLink(r), "\(replica.log)")
        #expect(replica.log.contains("to parser"), "\(replica.log)")
        #expect(!replica.log.contains("to disk"), "\(replica.log)")
        #expect(try r.call("EXISTS", "replica-only") == Array(":0\r\n".utf8))
        #expect(try r.call("DBSIZE") == Array(":30001\r\n".utf8))
        for i in 0..<50 { _ = try m.call("INCR", "counter\(i % 5)") }
        try RedisReplicaTests.expectConverged(master: m, replica: r, "diskless load over TLS")
    }

    /// MIGRATE with tls-cluster yes connects to the target over TLS (its client certificate,
    /// the target's checked against the CA), as Redis; a plain target port then fails with
    /// -IOERR and the key stays.
    @Test(arguments: [(ServerFlavour.tandem, ServerFlavour.tandem), (.tandem, .redis), (.redis, .tandem)])
    func migrateOverTLS(_ sourceFlavour: ServerFlavour, _ targetFlavour: ServerFlavour) throws {
        let d = Self.certs
        let clientCert = ["--tls-client-cert-file", d + "/client.crt", "--tls-client-key-file", d + "/client.key"]
        let (target, targetTLSPort) = try Self.start(targetFlavour)
        defer { target.stop() }
        let source = try ServerProcess.start(sourceFlavour, extraArgs: Self.serverArgs(tlsPort: try Harness.freePort())
            + clientCert + ["--tls-cluster", "yes"])
        defer { source.stop() }
        let s = try source.connect(), t = try target.connect()
        _ = try t.call("CONFIG", "SET", "requirepass", "secret")
        _ = try t.call("AUTH", "secret")
        _ = try s.call("SET", "k1", "v1")
        _ = try s.call("RPUSH", "k2", "a", "b", "c")
        _ = try s.call("SET", "k3", "v3")
        let port = String(targetTLSPort)
        #expect(try s.call("MIGRATE", "127.0.0.1", port, "k1", "0", "5000", "AUTH", "secret") == Array("+OK\r\n".utf8))
        #expect(try s.call("MIGRATE", "127.0.0.1", port, "", "3", "5000", "COPY", "AUTH", "secret", "KEYS", "k2", "k3")
                == Array("+OK\r\n".utf8))
        #expect(try s.call("EXISTS", "k1", "k2", "k3") == Array(":2\r\n".utf8))
        #expect(try t.call("GET", "k1") == Array("$2\r\nv1\r\n".utf8))
        _ = try t.call("SELECT", "3")
        #expect(try t.call("LRANGE", "k2", "0", "-1") == Array("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n".utf8))
        // The plain port speaks no TLS: the handshake fails, the key stays where it was.
        let reply = String(decoding: try s.call("MIGRATE", "127.0.0.1", String(target.port), "k3", "0", "1000",
                                                  "AUTH", "secret"), as: UTF8.self)
        #expect(reply.hasPrefix("-IOERR"), "\(reply)")
        #expect(try s.call("GET", "k3") == Array("$2\r\nv3\r\n".utf8))
        #expect(try s.call("PING") == Array("+PONG\r\n".utf8))
    }

    /// A cluster whose bus is TLS (tls-cluster yes): three masters meet over TLS links and agree,
    /// keys follow -MOVED; a plaintext client is shown the plaintext ports (MOVED, SLOTS, NODES)
    /// and a TLS client the TLS ones, SHARDS shows both; PUBLISH crosses the TLS bus. "trt" puts
    /// a redis-server node in the middle (its bus speaks only TLS then).
    @Test(arguments: ["ttt", "trt"])
    func clusterBusOverTLS(_ flavours: String) throws {
        let d = Self.certs
        let tlsPorts = try flavours.map { _ in try Harness.freePort() }
        let nodes = try zip(flavours, tlsPorts).map { flavour, tlsPort in
            try ClusterNodeProcess(flavour == "t" ? .tandem : .redis, extraArgs: Self.serverArgs(tlsPort: tlsPort)
                + ["--tls-cluster", "yes", "--tls-client-cert-file", d + "/client.crt", "--tls-client-key-file", d + "/client.key"])
        }
        defer { for n in nodes { n.server.stop() } }
        for (n, r) in zip(nodes, [("0", "5460"), ("5461", "10922"), ("10923", "16383")]) {
            _ = try n.call("CLUSTER", "ADDSLOTSRANGE", r.0, r.1)
        }
        for (n, tlsPort) in zip(nodes, tlsPorts).dropFirst() {
            #expect(try nodes[0].call("CLUSTER", "MEET", "127.0.0.1", String(tlsPort), String(n.busPort)) == "+OK\r\n")
        }
        #expect(ClusterBusTests.agree(nodes, knowing: 3), "\(nodes.map(\.slotSignature))\n\(nodes[0].server.log.suffix(3000))")
        // Plaintext clients see plaintext ports; TLS clients the TLS ones.
        #expect(try nodes[0].call("GET", "foo") == "-MOVED 12182 127.0.0.1:\(nodes[2].port)\r\n")
        #expect(Self.cli(tlsPorts[0], "GET", "foo") == "MOVED 12182 127.0.0.1:\(tlsPorts[2])")
        #expect(nodes[0].text("CLUSTER", "NODES").contains("127.0.0.1:\(nodes[1].port)@\(nodes[1].busPort)"))
        #expect(Self.cli(tlsPorts[0], "CLUSTER", "NODES").contains("127.0.0.1:\(tlsPorts[1])@\(nodes[1].busPort)"))
        let slots = try nodes[0].call("CLUSTER", "SLOTS")
        #expect(slots.contains(":\(nodes[2].port)\r\n") && !slots.contains(":\(tlsPorts[2])\r\n"), "\(slots)")
        let shards = try nodes[0].call("CLUSTER", "SHARDS")
        #expect(shards.contains("$8\r\ntls-port\r\n:\(tlsPorts[1])\r\n") && shards.contains("$4\r\nport\r\n:\(nodes[1].port)\r\n"), "\(shards)")
        for i in 0..<30 { #expect(try ClusterBusTests.callFollowing(nodes, from: i % 3, ["SET", "t\(i)", "v\(i)"]) == "+OK\r\n") }
        for i in 0..<30 { #expect(try ClusterBusTests.callFollowing(nodes, from: 2, ["GET", "t\(i)"]) == "$\("v\(i)".count)\r\nv\(i)\r\n") }
        let subscriber = try nodes[2].server.connect()
        try subscriber.send(["SUBSCRIBE", "news"])
        _ = try subscriber.readReply()
        _ = try nodes[0].call("PUBLISH", "news", "over-tls")
        #expect(String(decoding: try subscriber.readReply(), as: UTF8.self) == "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$8\r\nover-tls\r\n")
    }

    /// Start-up refuses a TLS port without a usable certificate, as redis-server.
    @Test func startUpNeedsACertificate() throws {
        let dir = try Harness.makeTempDir("tandem-tls-start")
        let exit = try ServerProcess.startExpectingExit(.tandem, extraArgs: ["--tls-port", "0"] + ["--tls-port", String(try Harness.freePort())], dir: dir)
        #expect(exit?.output.contains("Failed to configure TLS") == true, "\(exit?.output ?? "")")
    }
}
