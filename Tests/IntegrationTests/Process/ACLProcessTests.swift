/*
 * ACLProcessTests.swift — ACL users across processes and files (issue 17): a replication user
 * limited to what a replica needs (both directions with redis-server), a wrong masteruser refused,
 * users from `user` lines and from an aclfile, ACL SAVE / LOAD round trips (all or nothing),
 * CONFIG REWRITE of users surviving a restart, and secrets kept out of the log, SLOWLOG and MONITOR.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ACLProcessTests {
    static let replicationUser = ["--user", "repl", "on", ">replpw", "+psync", "+replconf", "+ping"]

    /// A replica authenticates as a user that may only PING, REPLCONF and PSYNC, and follows the
    /// master; with a wrong password it stays down and logs why.
    @Test(arguments: [(ServerFlavour.tandem, ServerFlavour.tandem), (.tandem, .redis), (.redis, .tandem)])
    func restrictedReplicationUser(_ masterFlavour: ServerFlavour, _ replicaFlavour: ServerFlavour) throws {
        let master = try ServerProcess.start(masterFlavour, extraArgs: ["--requirepass", "s3cret"] + Self.replicationUser)
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("AUTH", "s3cret")
        _ = try m.call("SET", "before", "1")
        let wrong = try ServerProcess.start(
            replicaFlavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master, ["--masteruser", "repl", "--masterauth", "nope"]))
        defer { wrong.stop() }
        let w = try wrong.connect()
        #expect(Harness.waitUntil(milliseconds: 5000) { wrong.log.contains("Unable to AUTH to MASTER") }, "\(wrong.log)")
        #expect(ChainAndFailoverTests.info(w)?["master_link_status"] == "down")

        let replica = try ServerProcess.start(
            replicaFlavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master, ["--masteruser", "repl", "--masterauth", "replpw"]))
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(ChainAndFailoverTests.waitForLink(r), "\(replica.log)")
        _ = try m.call("SET", "after", "2")
        _ = try m.call("RPUSH", "list", "a", "b")
        #expect(Harness.waitUntil(milliseconds: 5000) { (try? r.call("LLEN", "list")) == Array(":2\r\n".utf8) })
        #expect(try r.call("GET", "before") == Array("$1\r\n1\r\n".utf8))
        // The replication user can do nothing else.
        let other = try master.connect()
        #expect(try other.call("AUTH", "repl", "replpw") == Array("+OK\r\n".utf8))
        #expect(String(decoding: try other.call("GET", "before"), as: UTF8.self).hasPrefix("-NOPERM"))
    }

    /// Users from an aclfile; ACL SAVE writes them back, ACL LOAD reads them all or nothing, and
    /// closes the connections of the users it replaces.
    @Test func aclFileSaveAndLoad() throws {
        let dir = try Harness.makeTempDir("tandem-aclfile")
        try "user alice on allcommands allkeys &* >alice\nuser bob on -@all +@set +acl ~set* &* >bob\nuser default on nopass ~* &* +@all\n"
            .write(toFile: dir + "/users.acl", atomically: true, encoding: .utf8)
        let server = try ServerProcess.start(.tandem, extraArgs: ["--aclfile", "users.acl"], dir: dir)
        defer { server.stop() }
        let c = try server.connect()
        #expect(try c.callValue("ACL", "USERS") == .array(["alice", "bob", "default"].map { .bulk(Array($0.utf8)) }))
        #expect(try c.call("AUTH", "bob", "bob") == Array("+OK\r\n".utf8))
        #expect(try c.call("SADD", "set1", "a") == Array(":1\r\n".utf8))
        #expect(String(decoding: try c.call("SET", "k", "v"), as: UTF8.self).hasPrefix("-NOPERM"))
        #expect(try c.call("ACL", "SETUSER", "eve", "+get", "allkeys", ">eve", "on") == Array("+OK\r\n".utf8))
        #expect(try c.call("ACL", "SAVE") == Array("+OK\r\n".utf8))
        let saved = Harness.readFile(dir + "/users.acl")
        #expect(saved.contains("user eve on #"), "\(saved)")
        #expect(!saved.contains(">eve"), "passwords are saved hashed: \(saved)")
        // LOAD replaces bob: his connection is closed after the reply.
        #expect(try c.call("ACL", "LOAD") == Array("+OK\r\n".utf8))
        #expect(c.waitForClose())
        let d = try server.connect()
        #expect(try d.call("AUTH", "eve", "eve") == Array("+OK\r\n".utf8))
        #expect(String(decoding: try d.call("SET", "k", "v"), as: UTF8.self).hasPrefix("-NOPERM"))
        // A broken file changes nothing.
        try (saved + "user alice on nopass ~* -@all\nuser x on +nosuchcommand\nnotauser\n")
            .write(toFile: dir + "/users.acl", atomically: true, encoding: .utf8)
        let e = try server.connect()
        let error = String(decoding: try e.call("ACL", "LOAD"), as: UTF8.self)
        #expect(error.contains("Duplicate user 'alice' found"), "\(error)")
        #expect(error.contains("Error in applying operation '+nosuchcommand'"), "\(error)")
        #expect(error.contains("should start with user keyword"), "\(error)")
        #expect(error.contains("no change to the previously active ACL rules was performed"), "\(error)")
        #expect(try e.call("AUTH", "eve", "eve") == Array("+OK\r\n".utf8))
    }

    /// `user` lines and an aclfile together, duplicate users, unknown commands: start-up refuses.
    @Test func startUpRefusals() throws {
        let dir = try Harness.makeTempDir("tandem-acl-refusals")
        try "".write(toFile: dir + "/users.acl", atomically: true, encoding: .utf8)
        let both = try ServerProcess.startExpectingExit(.tandem, extraArgs: ["--aclfile", "users.acl", "--user", "a", "on"], dir: dir)
        #expect(both?.output.contains("at the same setting an ACL file path is invalid") == true, "\(both?.output ?? "")")
        let dup = try ServerProcess.startExpectingExit(.tandem, extraArgs: ["--user", "foo", "--user", "foo"], dir: dir)
        #expect(dup?.output.contains("Duplicate user found") == true, "\(dup?.output ?? "")")
        let unknown = try ServerProcess.startExpectingExit(.tandem, extraArgs: ["--user", "alice", "on", "+nosuch"], dir: dir)
        #expect(unknown?.output.contains("Error loading ACL rule '+nosuch' for the user named 'alice'") == true, "\(unknown?.output ?? "")")
        try "user alice on >pw\nuser alice off\n".write(toFile: dir + "/users.acl", atomically: true, encoding: .utf8)
        let badFile = try ServerProcess.startExpectingExit(.tandem, extraArgs: ["--aclfile", "users.acl"], dir: dir)
        #expect(badFile?.output.contains("Aborting Redis startup because of ACL errors") == true, "\(badFile?.output ?? "")")
    }

    /// Users from `user` lines go back into the file with CONFIG REWRITE and survive a restart.
    @Test func configRewriteKeepsUsers() throws {
        let server = try ServerProcess.start(.tandem, configFile: "user default on nopass ~* +@all -flushdb\nuser old on nopass\n")
        let dir = server.dir
        let c = try server.connect()
        #expect(String(decoding: try c.call("FLUSHDB"), as: UTF8.self).hasPrefix("-NOPERM"))
        _ = try c.call("ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@read", "+@write")
        _ = try c.call("ACL", "DELUSER", "old")
        #expect(try c.call("CONFIG", "REWRITE") == Array("+OK\r\n".utf8))
        let conf = Harness.readFile(dir + "/server.conf")
        #expect(!conf.contains("user old"), "\(conf)")
        #expect(!conf.contains("apppw"), "\(conf)")
        server.stop(keepDir: true)
        let again = try ServerProcess.start(.tandem, configFile: conf, dir: dir)
        defer { again.stop() }
        let d = try again.connect()
        #expect(String(decoding: try d.call("FLUSHDB"), as: UTF8.self).hasPrefix("-NOPERM"))
        #expect(try d.call("AUTH", "app", "apppw") == Array("+OK\r\n".utf8))
        #expect(try d.call("SET", "app:1", "x") == Array("+OK\r\n".utf8))
        #expect(String(decoding: try d.call("SET", "other", "x"), as: UTF8.self).hasPrefix("-NOPERM"))
    }

    /// Passwords never reach the log, SLOWLOG or MONITOR in clear.
    @Test func secretsStayOutOfLogs() throws {
        let server = try ServerProcess.start(.tandem, extraArgs: ["--loglevel", "verbose", "--slowlog-log-slower-than", "0"])
        defer { server.stop() }
        let mon = try server.connect()
        _ = try mon.call("MONITOR")
        let c = try server.connect()
        _ = try c.call("ACL", "SETUSER", "u", "on", ">hunter2-secret", "+@all")
        _ = try c.call("AUTH", "u", "hunter2-wrong")
        _ = try c.call("AUTH", "u", "hunter2-secret")
        _ = try c.call("HELLO", "2", "AUTH", "u", "hunter2-secret")
        let slowlog = String(decoding: try c.call("SLOWLOG", "GET", "10"), as: UTF8.self)
        #expect(!slowlog.contains("hunter2"), "\(slowlog)")
        #expect(slowlog.contains("(redacted)"))
        var monitored = ""
        for _ in 0..<4 { monitored += String(decoding: (try? mon.readReply()) ?? [], as: UTF8.self) }
        #expect(!monitored.contains("hunter2"), "\(monitored)")
        let log = String(decoding: try c.call("ACL", "LOG"), as: UTF8.self)
        #expect(!log.contains("hunter2"), "\(log)")
        #expect(!server.log.contains("hunter2"), "\(server.log)")
    }
}
