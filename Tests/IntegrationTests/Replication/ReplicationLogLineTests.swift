/*
 * ReplicationLogLineTests.swift — replication events that operators (and Redis's own test suite)
 * find in the log by their words, checked on Tandem and on redis-server alike:
 *  - a client that sent SYNC/PSYNC and then a command that replies is disconnected, so the reply
 *    never mixes into the replication stream ("Replica generated a reply to command ...");
 *    keyspace commands are refused first ("Replica can't interact with the keyspace") and the
 *    error is logged as critical;
 *  - a replica that gets a command it must refuse from its master logs it as critical and counts
 *    it in unexpected_error_replies (DEBUG REPLICATE feeds one);
 *  - a diskless transfer reports how many replicas are still up, and is stopped when the last
 *    one went away.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ReplicationLogLineTests {
    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func aReplicaThatMakesTheMasterReplyIsDisconnected(_ flavour: ServerFlavour) throws {
        let master = try ServerProcess.start(flavour, extraArgs: ["--repl-diskless-sync", "no"])
        defer { master.stop() }
        let m = try master.connect()
        // SYNC, then a command with a reply.
        let rogue = try master.connect()
        try rogue.send(["SYNC"])
        try rogue.send(["PING"])
        #expect(rogue.waitForClose(milliseconds: 10_000), "\(flavour): still connected")
        #expect(Harness.waitUntil(milliseconds: 5000) {
            master.log.contains("Replica generated a reply to command 'ping', disconnecting it: ")
        }, "\(flavour):\n\(master.log)")
        // PSYNC, then a keyspace command.
        let psync = try master.connect()
        let full = String(decoding: try psync.call("PSYNC", "replicationid", "-1"), as: UTF8.self)
        #expect(full.hasPrefix("+FULLRESYNC "), "\(full)")
        try psync.send(["GET", "foo"])
        #expect(psync.waitForClose(milliseconds: 10_000), "\(flavour): still connected")
        #expect(Harness.waitUntil(milliseconds: 5000) {
            let log = master.log
            return log.contains("Replica generated a reply to command 'get', disconnecting it: ")
                && log.contains("== CRITICAL == This master is sending an error to its replica: ")
                && log.contains("Replica can't interact with the keyspace")
        }, "\(flavour):\n\(master.log)")
        #expect(String(decoding: try m.call("PING"), as: UTF8.self) == "+PONG\r\n")
        #expect(try InfoReply.fetch(m, "stats")["unexpected_error_replies"] == "1")
    }

    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func aRefusedCommandFromTheMasterIsCritical(_ flavour: ServerFlavour) throws {
        let master = try ServerProcess.start(flavour)
        defer { master.stop() }
        let replica = try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master))
        defer { replica.stop() }
        let m = try master.connect(), r = try replica.connect()
        #expect(ChainAndFailoverTests.waitForLink(r))
        #expect(String(decoding: try m.call("DEBUG", "REPLICATE", "fake-command-1"), as: UTF8.self) == "+OK\r\n")
        _ = try m.call("SET", "foo", "bar")
        #expect(String(decoding: try m.call("WAIT", "1", "5000"), as: UTF8.self) == ":1\r\n")
        let log = replica.log
        #expect(log.components(separatedBy: "== CRITICAL == This replica is sending an error to its master: ").count == 2,
                "\(flavour):\n\(log)")
        #expect(log.components(separatedBy: "fake-command-1").count == 2, "\(flavour):\n\(log)")
        #expect(try InfoReply.fetch(r, "stats")["unexpected_error_replies"] == "1")
        #expect(String(decoding: try r.call("GET", "foo"), as: UTF8.self) == "$3\r\nbar\r\n")
    }

    @Test(arguments: [ServerFlavour.redis, ServerFlavour.tandem])
    func aDisklessTransferReportsItsReplicas(_ flavour: ServerFlavour) throws {
        let master = try ServerProcess.start(flavour, extraArgs: ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
        defer { master.stop() }
        let m = try master.connect()
        _ = try m.call("DEBUG", "POPULATE", "20000", "key", "1000")
        _ = try m.call("CONFIG", "SET", "rdbcompression", "no")
        // A replica that syncs: one replica still up at the end.
        do {
            let replica = try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master))
            defer { replica.stop() }
            #expect(ChainAndFailoverTests.waitForLink(try replica.connect()))
            #expect(Harness.waitUntil(milliseconds: 5000) {
                master.log.contains("Diskless rdb transfer, done reading from pipe, 1 replicas still up")
            }, "\(flavour):\n\(master.log)")
        }
        // A replica killed while a slowed snapshot is being streamed to it: the child is stopped.
        _ = try m.call("CONFIG", "SET", "rdb-key-save-delay", "200")
        let replica = try ServerProcess.start(flavour, extraArgs: ChainAndFailoverTests.replicaArgs(of: master))
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            (try? InfoReply.fetch(m, "persistence"))?["rdb_bgsave_in_progress"] == "1"
        })
        Harness.sleep(milliseconds: 300)
        kill(replica.pid, SIGKILL)
        replica.stop()
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            master.log.contains("Diskless rdb transfer, last replica dropped, killing fork child")
        }, "\(flavour):\n\(master.log)")
        #expect(Harness.waitUntil(milliseconds: 10_000) {
            (try? InfoReply.fetch(m, "persistence"))?["rdb_bgsave_in_progress"] == "0"
        }, "the child outlived its last replica")
        _ = try m.call("CONFIG", "SET", "rdb-key-save-delay", "0")
    }
}
