/*
 * EncodedTypesInteropTests.swift — bitmaps, bit fields, HyperLogLogs and geo sets between
 * Tandem and redis-server (issue 18): their bytes travel by replication (the full sync's RDB
 * and the command stream: GEOADD sent as ZADD, PFCOUNT's cache write, BITFIELD GETs not sent),
 * by RDB files and by DUMP/RESTORE, each way, and must arrive the same and count the same.
 */

import Foundation
import Testing

@Suite struct EncodedTypesInteropTests {
    /// Writes of every kind; `round` varies the keys and elements.
    static func workload(_ c: RawClient, round: Int) throws {
        let r = String(round)
        for i in 0..<200 { _ = try c.call("SETBIT", "bits:" + r, String(i * 37 % 5000), String(i % 2)) }
        _ = try c.call("BITFIELD", "bf:" + r, "SET", "i16", "#3", "-1234", "INCRBY", "u7", "100", "99", "OVERFLOW", "SAT",
                       "INCRBY", "i8", "0", "1000")
        _ = try c.call("BITFIELD", "bf:" + r, "GET", "u8", "0")
        _ = try c.call("BITOP", "XOR", "bitop:" + r, "bits:" + r, "bf:" + r)
        _ = try c.callValue(["PFADD", "hll:sparse:" + r] + (0..<50).map { "s\(round)-\($0)" })
        for chunk in 0..<10 {
            _ = try c.callValue(["PFADD", "hll:dense:" + r] + (0..<500).map { "d\(round)-\(chunk)-\($0)" })
        }
        _ = try c.call("PFCOUNT", "hll:sparse:" + r)
        _ = try c.call("PFCOUNT", "hll:dense:" + r)
        _ = try c.call("PFMERGE", "hll:merged:" + r, "hll:sparse:" + r, "hll:dense:" + r)
        _ = try c.call("PFADD", "hll:untouched:" + r, "x")
        _ = try c.call("GEOADD", "geo:" + r, "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania",
                       "2.3522", "48.8566", "Paris")
        _ = try c.call("GEOADD", "geo:" + r, "CH", "13.4", "38.1", "Palermo")
        _ = try c.call("GEORADIUS", "geo:" + r, "15", "37", "300", "km", "STOREDIST", "geo:dist:" + r)
        _ = try c.call("GEOSEARCHSTORE", "geo:box:" + r, "geo:" + r, "FROMMEMBER", "Paris", "BYBOX", "3000", "3000", "km")
    }

    /// What must read the same on both sides beyond the keyspace dump: counts and searches.
    static func reads(_ c: RawClient, round: Int) throws -> [[UInt8]] {
        let r = String(round)
        return [
            try c.call("PFCOUNT", "hll:sparse:" + r), try c.call("PFCOUNT", "hll:dense:" + r),
            try c.call("PFCOUNT", "hll:merged:" + r, "hll:untouched:" + r), try c.call("BITCOUNT", "bits:" + r),
            try c.call("BITPOS", "bitop:" + r, "1"), try c.call("BITFIELD_RO", "bf:" + r, "GET", "i16", "#3"),
            try c.call("GEOSEARCH", "geo:" + r, "FROMLONLAT", "14", "38", "BYRADIUS", "2000", "km", "ASC", "WITHDIST",
                       "WITHCOORD"),
        ]
    }

    /// A full sync of the first round's keys, then the second round as the stream.
    @Test(arguments: [(ServerFlavour.tandem, ServerFlavour.redis), (.redis, .tandem), (.tandem, .tandem)])
    func replication(_ masterFlavour: ServerFlavour, _ replicaFlavour: ServerFlavour) throws {
        let master = try ServerProcess.start(masterFlavour)
        defer { master.stop() }
        let m = try master.connect()
        try Self.workload(m, round: 0)
        let replica = try ServerProcess.start(replicaFlavour, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        let r = try replica.connect()
        #expect(ChainAndFailoverTests.waitForLink(r), "\(replica.log)")
        try Self.workload(m, round: 1)
        try RedisReplicaTests.expectConverged(master: m, replica: r, "\(masterFlavour) → \(replicaFlavour)")
        for round in 0...1 { #expect(try Self.reads(r, round: round) == Self.reads(m, round: round), "round \(round)") }
    }

    /// DUMP/RESTORE and the RDB file, from one server to the other.
    @Test(arguments: [(ServerFlavour.tandem, ServerFlavour.redis), (.redis, .tandem)])
    func dumpRestoreAndRDB(_ from: ServerFlavour, _ to: ServerFlavour) throws {
        let source = try ServerProcess.start(from)
        defer { source.stop() }
        let s = try source.connect()
        try Self.workload(s, round: 0)
        let expected = try KeyspaceDump.take(s, encodings: false)
        // DUMP each key, RESTORE it on the other side.
        let target = try ServerProcess.start(to)
        defer { target.stop() }
        let t = try target.connect()
        for entry in expected.entries {
            guard case .bulk(let payload) = try s.callValue(bytes: [Array("DUMP".utf8), entry.key]) else {
                Issue.record("DUMP \(entry.name) returned no payload")
                continue
            }
            #expect(try t.callValue(bytes: [Array("RESTORE".utf8), entry.key, Array("0".utf8), payload]) == .simple("OK"),
                    "RESTORE \(entry.name)")
        }
        KeyspaceDump.expectSame(try KeyspaceDump.take(t, encodings: false), expected, "after DUMP/RESTORE")
        #expect(try Self.reads(t, round: 0) == Self.reads(s, round: 0), "reads after DUMP/RESTORE")
        // The source's RDB file loads into the other server.
        #expect(try s.callValue("SAVE") == .simple("OK"))
        let file = try #require(Harness.readBytes(source.dir + "/dump.rdb"))
        let loaded = try RDBInteropTests.start(to, dumpFile: file)
        defer { loaded.stop() }
        let l = try loaded.connect()
        KeyspaceDump.expectSame(try KeyspaceDump.take(l, encodings: false), try KeyspaceDump.take(s, encodings: false),
                                "after loading the RDB")
        #expect(try Self.reads(l, round: 0) == Self.reads(s, round: 0), "reads after loading the RDB")
    }
}
