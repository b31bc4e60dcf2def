/*
 * ConfigDropInTests.swift — an existing Redis 7.0 deployment's configuration works unchanged:
 *  - Debian's stock /etc/redis/redis.conf and Redis 7.0's own redis.conf (the suite's copy in
 *    ../shared/redis-tests) start Tandem, only daemonize/port/dir/logfile/pidfile overridden;
 *  - CONFIG GET * lists the names redis-server 7.0 lists (aliases included), with the same
 *    defaults, plus Tandem's own replication directives;
 *  - dir and dbfilename are protected configs, MODULE is gated and loads nothing, rename-command
 *    renames and disables, modules/ACL users/sentinel lines and features Tandem lacks (cluster,
 *    TLS) are refused with a reason — each the same way on redis-server where Redis refuses too.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ConfigDropInTests {
    static let debianConf = "/etc/redis/redis.conf"
    /// Redis 7.0.15's redis.conf, from the copy of its test suite beside the checkout (as `make
    /// compat` finds it), or from REDIS_TESTS_DIR.
    static var redis70Conf: String {
        if let dir = ProcessInfo.processInfo.environment["REDIS_TESTS_DIR"], !dir.isEmpty { return dir + "/redis.conf" }
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().appendingPathComponent("../../../../shared/redis-tests/redis.conf").standardized.path
    }

    /// Besides the harness's port, dir, logfile and daemonize: the pid file goes to the test's directory.
    static let overrides = ["--pidfile", "server.pid"]

    @Test func debiansStockRedisConfStartsTandem() throws {
        let text = try String(contentsOfFile: Self.debianConf, encoding: .utf8)
        let server = try ServerProcess.start(.tandem, extraArgs: Self.overrides, configFile: text)
        defer { server.stop() }
        let c = try server.connect()
        #expect(String(decoding: try c.call("PING"), as: UTF8.self) == "+PONG\r\n")
        #expect(String(decoding: try c.call("CONFIG", "GET", "proc-title-template"), as: UTF8.self).contains("{listen-addr}"))
    }

    @Test func redis70sOwnRedisConfStartsTandem() throws {
        guard let text = try? String(contentsOfFile: Self.redis70Conf, encoding: .utf8) else {
            Issue.record("Redis 7.0's redis.conf not found at \(Self.redis70Conf)")
            return
        }
        let server = try ServerProcess.start(.tandem, extraArgs: Self.overrides, configFile: text)
        defer { server.stop() }
        #expect(String(decoding: try server.connect().call("PING"), as: UTF8.self) == "+PONG\r\n")
    }

    static func configMap(_ c: RawClient) throws -> [String: String] {
        guard case .array(let items) = try c.callValue("CONFIG", "GET", "*") else { return [:] }
        var m: [String: String] = [:]
        var i = 0
        while i + 1 < items.count {
            if case .bulk(let k) = items[i], case .bulk(let v) = items[i + 1] {
                m[String(decoding: k, as: UTF8.self)] = String(decoding: v, as: UTF8.self)
            }
            i += 2
        }
        return m
    }

    @Test func configGetListsRedisNamesAndDefaults() throws {
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let r = try Self.configMap(redis.connect()), t = try Self.configMap(tandem.connect())
        let own: Set = ["repl-compression", "repl-sender-workers", "repl-sender-workers-min-replicas"]
        #expect(Set(r.keys).subtracting(t.keys).sorted() == [], "missing in Tandem")
        #expect(Set(t.keys).subtracting(r.keys).subtracting(own).sorted() == [], "Tandem lists names redis-server does not")
        // Defaults: the same, but for what names the process or its place.
        let differ: Set = ["dir", "logfile", "pidfile", "port"]
        for (k, v) in r where !differ.contains(k) {
            #expect(t[k] == v, "\(k): redis-server '\(v)', Tandem '\(t[k] ?? "-")'")
        }
        // Debugging aids are found by exact name only, on both.
        for c in [try redis.connect(), try tandem.connect()] {
            #expect(String(decoding: try c.call("CONFIG", "GET", "key-load-delay"), as: UTF8.self).contains("key-load-delay"))
        }
    }

    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func protectedConfigsModulesAndRenamedCommands(_ flavour: ServerFlavour) throws {
        let conf = "rename-command flushall \"\"\nrename-command config cfg\n"
        let server = try ServerProcess.start(flavour, configFile: conf)
        defer { server.stop() }
        let c = try server.connect()
        func text(_ args: String...) throws -> String { String(decoding: try c.call(args), as: UTF8.self) }
        #expect(try text("FLUSHALL").hasPrefix("-ERR unknown command 'FLUSHALL'"), "\(flavour)")
        #expect(try text("CONFIG", "GET", "port").hasPrefix("-ERR unknown command 'CONFIG'"), "\(flavour)")
        #expect(try text("CFG", "GET", "port").contains(String(server.port)), "\(flavour)")
        #expect(try text("CFG", "SET", "dir", server.dir)
            == "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n")
        #expect(try text("CFG", "SET", "dbfilename", "x.rdb")
            == "-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config\r\n")
        #expect(try text("MODULE", "LIST") == "*0\r\n", "\(flavour)")
        #expect(try text("MODULE", "LOAD", "/nonexistent/module.so").hasPrefix("-ERR MODULE command not allowed."), "\(flavour)")
        #expect(try text("CFG", "SET", "oom-score-adj-values", "0 1 2 3").hasPrefix("-ERR CONFIG SET failed"), "\(flavour)")
        #expect(try text("CFG", "SET", "maxmemory-clients", "10%") == "+OK\r\n")
        #expect(try text("CFG", "GET", "maxmemory-clients") == "*2\r\n$17\r\nmaxmemory-clients\r\n$3\r\n10%\r\n")

        let open = try ServerProcess.start(flavour, extraArgs: ["--enable-protected-configs", "yes", "--enable-module-command", "yes"])
        defer { open.stop() }
        let o = try open.connect()
        #expect(String(decoding: try o.call("CONFIG", "SET", "dbfilename", "other.rdb"), as: UTF8.self) == "+OK\r\n")
        #expect(String(decoding: try o.call("MODULE", "LIST"), as: UTF8.self) == "*0\r\n")
        #expect(String(decoding: try o.call("MODULE", "LOAD", "/nonexistent/module.so"), as: UTF8.self)
            == "-ERR Error loading the extension. Please check the server logs.\r\n")
        #expect(String(decoding: try o.call("MODULE", "UNLOAD", "nomodule"), as: UTF8.self)
            == "-ERR Error unloading module: no such module with that name\r\n")
    }

    /// What Tandem cannot do (yet, or in that combination) stops start-up with the reason
    /// instead of running without it.
    @Test(arguments: [
        ("cluster-enabled yes\nreplicaof 127.0.0.1 6379", "replicaof directive not allowed in cluster mode"),
        ("loadmodule /usr/lib/redis/modules/x.so", "Tandem does not support Redis modules"),
        ("user alice on badrule", "Error in user declaration 'alice': Syntax error"),
        ("sentinel monitor m 127.0.0.1 6379 1", "sentinel directive while not in sentinel mode"),
        ("activedefrag yes", "Active defragmentation cannot be enabled"),
    ])
    func missingFeaturesAreRefusedAtStartUp(_ line: String, _ reason: String) throws {
        do {
            let server = try ServerProcess.start(.tandem, configFile: line + "\n")
            server.stop()
            Issue.record("'\(line)' was accepted")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
            #expect("\(error)".contains("FATAL CONFIG FILE ERROR"), "\(error)")
        }
    }

    static func oomScore(_ pid: pid_t) -> String {
        Harness.readFile("/proc/\(pid)/oom_score_adj").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// oom-score-adj writes the OOM killer's score per role, as redis-server does.
    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func oomScoreFollowsTheRole(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, extraArgs: ["--oom-score-adj", "absolute", "--oom-score-adj-values", "10 20 30"])
        defer { server.stop() }
        let c = try server.connect()
        // redis-server sets it after it starts listening (after loading): wait for it.
        #expect(Harness.waitUntil(milliseconds: 3000) { Self.oomScore(server.pid) == "10" }, "\(flavour): \(Self.oomScore(server.pid))")
        _ = try c.call("CONFIG", "SET", "oom-score-adj-values", "15 25 35")
        #expect(Self.oomScore(server.pid) == "15", "\(flavour)")
        _ = try c.call("REPLICAOF", "127.0.0.1", "1")
        #expect(Harness.waitUntil(milliseconds: 3000) { Self.oomScore(server.pid) == "25" }, "\(flavour)")
        _ = try c.call("REPLICAOF", "NO", "ONE")
        _ = try c.call("CONFIG", "SET", "oom-score-adj", "no")
        #expect(Harness.waitUntil(milliseconds: 3000) { Self.oomScore(server.pid) == "0" }, "\(flavour)")
    }

    /// shutdown-on-sigterm nosave: SIGTERM ends the server without the final save its save points ask for.
    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func shutdownOnSigtermNosave(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, extraArgs: ["--save", "3600 1", "--shutdown-on-sigterm", "nosave"])
        defer { server.stop() }
        _ = try server.connect().call("SET", "k", "v")
        kill(server.pid, SIGTERM)
        #expect(Harness.waitUntil(milliseconds: 5000) { kill(server.pid, 0) != 0 || server.log.contains("bye bye") }, "\(flavour)")
        Harness.sleep(milliseconds: 200)
        #expect(!FileManager.default.fileExists(atPath: server.dir + "/dump.rdb"), "\(flavour) saved on SIGTERM:\n\(server.log)")
    }

    static func processTitle(_ pid: pid_t) -> [String] {
        let raw = Harness.readFile("/proc/\(pid)/cmdline")
        return raw.split(whereSeparator: { $0 == "\0" }).first.map { $0.split(separator: " ").map(String.init) } ?? []
    }

    /// set-proc-title / proc-title-template: `ps` shows the expanded template, as redis-server's.
    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func processTitleFollowsTheTemplate(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, extraArgs: ["--set-proc-title", "yes"])
        defer { server.stop() }
        let c = try server.connect()
        var title = Self.processTitle(server.pid)
        #expect(title.count == 2 && title[1] == "127.0.0.1:\(server.port)", "\(flavour): \(title)")
        let set = String(decoding: try c.call("CONFIG", "SET", "proc-title-template",
                                              "TEST {title} {listen-addr} {port} {tls-port} {config-file}"), as: UTF8.self)
        #expect(set == "+OK\r\n")
        title = Self.processTitle(server.pid)
        // No config file: {config-file} is "-".
        #expect(title.count == 6, "\(flavour): \(title)")
        if title.count == 6 {
            #expect(title[0] == "TEST" && title[2] == "127.0.0.1:\(server.port)" && title[3] == String(server.port)
                    && title[4] == "0" && title[5] == "-", "\(flavour): \(title)")
        }
        let bad = String(decoding: try c.call("CONFIG", "SET", "proc-title-template", "{invalid-var}"), as: UTF8.self)
        #expect(bad.contains("template format is invalid"), "\(flavour): \(bad)")
    }

    /// rdb-del-sync-files with persistence off: the dump a disk sync wrote on the master and the
    /// one the replica received are deleted once used, as redis-server does.
    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func rdbFilesUsedOnlyForSyncAreDeleted(_ flavour: ServerFlavour) throws {
        let master = try ServerProcess.start(flavour, extraArgs: ["--repl-diskless-sync", "no", "--rdb-del-sync-files", "yes"])
        defer { master.stop() }
        _ = try master.connect().call("SET", "k", "v")
        let replica = try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master, ["--rdb-del-sync-files", "yes"]))
        defer { replica.stop() }
        #expect(ChainAndFailoverTests.waitForLink(try replica.connect()))
        #expect(Harness.waitUntil(milliseconds: 5000) {
            master.log.contains("Removing the RDB file used to feed replicas in a persistence-less instance")
                && !FileManager.default.fileExists(atPath: master.dir + "/dump.rdb")
        }, "\(flavour):\n\(master.log)")
        #expect(replica.log.contains("Removing the RDB file obtained from the master. This replica has persistence disabled"),
                "\(flavour):\n\(replica.log)")
        #expect(!FileManager.default.fileExists(atPath: replica.dir + "/dump.rdb"))
    }

    /// bind-source-addr: the replication link leaves from the given address.
    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func theReplicationLinkLeavesFromBindSourceAddr(_ flavour: ServerFlavour) throws {
        let master = try ServerProcess.start(flavour)
        defer { master.stop() }
        let replica = try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master, ["--bind-source-addr", "127.0.0.2"]))
        defer { replica.stop() }
        #expect(ChainAndFailoverTests.waitForLink(try replica.connect()))
        #expect(try InfoReply.fetch(master.connect(), "replication")["slave0"]?.hasPrefix("ip=127.0.0.2,") == true, "\(flavour)")
    }
}
